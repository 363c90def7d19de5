//! The option commands end to end on the embedded SVM (`--output json`):
//! add-option-series lists a whole series from the shipped entry (its
//! strikes and expiries replaced by flags) with each first risk array,
//! set-volatility raises at once and queues a lowering, update-risk-array
//! refreshes one market or every live one, and show prints an option
//! position's model value and its array's age.
use serde_json::Value;
use xmargin::state::market_kind;
use xmargin_test_support::world::{User, World};

use crate::option_commands::model_value_per_contract;
use crate::svm_tests::run_as;

const SERIES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/configs/sol-options.json");
const DAY: i64 = 86_400;

/// `xmargin <command> --group G <flags> --output json` as `who`: the document.
fn json(
    w: &mut World,
    who: &xmargin_test_support::Keypair,
    command: &str,
    flags: &str,
) -> Result<Value, String> {
    let line = format!("{command} --group {} {flags} --output json", w.group.group);
    run_as(w, who, &line).map(|d| d.expect("a JSON document"))
}

fn keypair_file(u: &User, name: &str) -> String {
    let path = std::env::temp_dir().join(format!("xmargin-cli-options-{}-{name}", std::process::id()));
    std::fs::write(&path, format!("{:?}", u.wallet.to_bytes().to_vec())).unwrap();
    path.display().to_string()
}

#[test]
fn the_option_commands_on_the_embedded_svm() {
    let mut w = World::new();
    let admin = w.admin.insecure_clone();
    let now = w.env.unix_time();
    let (near, far) = (now + 30 * DAY, now + 60 * DAY);
    let flags = format!("--series-config {SERIES} --strikes 1500000,1650000 --expiries {near},{far}");
    let planned = json(&mut w, &admin, "add-option-series", &format!("{flags} --dry-run")).unwrap();
    assert_eq!(planned["markets"].as_array().unwrap().len(), 8, "the plan");
    assert_eq!((planned["dry_run"].as_bool(), planned["signature"].as_str()), (Some(true), None));
    assert_eq!(w.env.zero_copy::<xmargin::state::Group>(&w.group.group).market_count, 0, "nothing sent");
    let listed = json(&mut w, &admin, "add-option-series", &flags).unwrap();
    assert_eq!(listed["markets"], planned["markets"], "as planned");
    let markets = listed["markets"].as_array().unwrap();
    assert_eq!(markets.len(), 8, "2 expiries × 2 strikes × call and put");
    assert_eq!(listed["signatures"].as_array().unwrap().len(), 16, "each listed, then its first array");
    assert_eq!(markets[0]["kind"], "call");
    assert_eq!(markets[1]["kind"], "put");
    assert_eq!(markets[2]["strike"], 1_650_000);
    assert_eq!(markets[4]["expiry_ts"], far);
    assert!(markets[0]["name"].as_str().unwrap().starts_with("SOL-150C-"), "{}", markets[0]);
    for i in 0..8u16 {
        let m = w.market(i);
        assert_eq!((m.kind, m.risk_array.computed_at), (market_kind::OPTION, now), "market {i}");
        assert_eq!(m.name_str(), markets[usize::from(i)]["name"]);
    }

    // A raise is in force at once (the array stale until recomputed); a lowering waits the group's delay.
    let raised = json(&mut w, &admin, "set-volatility", "--market-index 2 --volatility-bps 7000").unwrap();
    assert_eq!(
        (raised["previous_bps"].as_u64(), raised["volatility_bps"].as_u64()),
        (Some(6_000), Some(7_000))
    );
    let one = json(&mut w, &admin, "update-risk-array", "--market-index 2").unwrap();
    assert_eq!(one["markets"][0]["market_index"], 2);
    assert_eq!(w.market(2).risk_array.volatility, w.market(2).volatility);
    let lowered = json(&mut w, &admin, "set-volatility", "--market-index 2 --volatility-bps 6000").unwrap();
    assert_eq!(
        (lowered["volatility_bps"].as_u64(), lowered["pending_bps"].as_u64()),
        (Some(7_000), Some(6_000))
    );
    assert_eq!(lowered["pending_from"], now + 3_600);

    // Anyone refreshes every live option market.
    let erin = w.user(20, [10_000_000_000, 0, 0]);
    let frank = w.user(21, [10_000_000_000, 0, 0]);
    w.env.warp(300);
    w.refresh_prices();
    let all = json(&mut w, &erin.wallet, "update-risk-array", "").unwrap();
    assert_eq!(all["markets"].as_array().unwrap().len(), 8);
    assert!(all["markets"].as_array().unwrap().iter().all(|m| m["computed_at"] == now + 300));

    // Frank buys 100 of the $165 calls from Erin at the model value; show prints it.
    w.deposit(&erin, 0, 10_000_000_000).expect_ok();
    w.deposit(&frank, 0, 10_000_000_000).expect_ok();
    let price = model_value_per_contract(&w.market(2)) as u64;
    let (erin_kp, frank_kp) = (keypair_file(&erin, "erin.json"), keypair_file(&frank, "frank.json"));
    let trade = format!(
        "--market-index 2 --size 100 --price {price} --buyer-keypair {frank_kp} --seller-keypair {erin_kp}"
    );
    json(&mut w, &admin, "trade", &trade).unwrap();
    w.env.warp(42);
    w.refresh_prices();
    let shown =
        run_as(&mut w, &frank.wallet, &format!("show {} --output json", frank.account)).unwrap().unwrap();
    let option = &shown["derivatives"][0]["option"];
    assert_eq!(shown["derivatives"][0]["contracts"], 100);
    assert_eq!(option["kind"], "call");
    assert_eq!(option["strike_per_contract"], "1.650000");
    assert_eq!(option["model_value_per_contract"], crate::amount::ui(i128::from(price), 6));
    assert_eq!(
        (option["risk_array_age_secs"].as_i64(), option["risk_array"].as_str()),
        (Some(42), Some("fresh"))
    );

    let line = format!("show --group {} --output json", w.group.group);
    let group = run_as(&mut w, &erin.wallet, &line).unwrap().unwrap();
    let listed = &group["markets"][2]["option"];
    assert_eq!((listed["kind"].as_str(), listed["risk_array"].as_str()), (Some("call"), Some("fresh")));
    assert_eq!(listed["risk_array_age_secs"], 42);

    // The text views print the same (checked not to fail; shown with --nocapture).
    run_as(&mut w, &frank.wallet, &format!("show {}", frank.account)).unwrap();
    let line = format!("show --group {}", w.group.group);
    run_as(&mut w, &frank.wallet, &line).unwrap();

    // Refusals by name and reason.
    let e = json(&mut w, &admin, "update-risk-array", "--market-index 99").unwrap_err();
    assert!(e.contains("no market 99"), "{e}");
    let e =
        json(&mut w, &erin.wallet, "set-volatility", "--market-index 0 --volatility-bps 7000").unwrap_err();
    assert!(e.contains("UnauthorizedAdmin"), "{e}");
    let e = json(&mut w, &admin, "set-volatility", "--market-index 0 --volatility-bps 9000").unwrap_err();
    assert!(e.contains("VolatilityChangeTooLarge"), "{e}");
    w.env.set_unix_time(far);
    w.refresh_prices();
    let none = json(&mut w, &erin.wallet, "update-risk-array", "").unwrap();
    assert_eq!(none["nothing_due"], true, "every series expired");
    for f in [erin_kp, frank_kp] {
        let _ = std::fs::remove_file(f);
    }
}
