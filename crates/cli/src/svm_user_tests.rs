//! The user and admin commands end to end on the embedded SVM, through the
//! command line (`svm_tests::run_as`): amounts in UI units from the
//! associated token account, `--output json` parsed, `show ACCOUNT` and its
//! limits checked against the program, `update-bank`, and `add-bank` with an
//! entry of migrations/config.json as it is.
use anchor_lang::prelude::Pubkey;
use serde_json::Value;
use xmargin::state::Bank;
use xmargin_risk::{Fixed, Rounding};
use xmargin_test_support::pyth::PythPrice;
use xmargin_test_support::world::{User, World};
use xmargin_test_support::Signer;

use crate::amount::associated_token_address;
use crate::bank_config::{feed_id, pyth_feed_account, shipped_entries};
use crate::svm_tests::run_as;

const MICRO: u64 = 1_000_000;
const LAMPORTS: u64 = 1_000_000_000;

/// Runs `line` with `--output json` and parses what it printed.
fn json(w: &mut World, who: &User, line: &str) -> Result<Value, String> {
    let doc = run_as(w, &who.wallet, &format!("{line} --output json"))?.expect("a JSON document");
    Ok(serde_json::from_str(&doc.to_string()).expect("printed JSON parses"))
}

/// Gives `user` an associated token account for token `index` holding
/// what their plain token account holds.
fn with_ata(w: &mut World, user: &User, index: usize) -> Pubkey {
    let ata = associated_token_address(&user.wallet.pubkey(), &w.banks[index].mint);
    let plain = w.env.account(&user.tokens[index]).expect("token account");
    w.env.set_account_data(&ata, &plain.owner, plain.data);
    ata
}

fn ui_number(v: &Value) -> f64 {
    v.as_str().expect("a UI amount string").parse().expect("a decimal")
}

/// Alice deposits 1.5 SOL from her associated token account, borrows in
/// USDC UI units, and `show ACCOUNT` reports her health, band, limits and
/// the SOL price that liquidates her; the limits are what the program allows.
#[test]
fn ui_amounts_json_and_show_account_on_the_embedded_svm() {
    let mut w = World::new();
    let g = w.group.group;
    let lender = w.user(20, [50_000 * MICRO, 0, 0]);
    w.deposit(&lender, 0, 50_000 * MICRO).expect_ok();
    let alice = w.user(21, [1_000 * MICRO, 10 * LAMPORTS, 0]);
    let sol_ata = with_ata(&mut w, &alice, 1);

    let doc = json(&mut w, &alice, &format!("deposit --group {g} --token-index 1 --amount 1.5")).unwrap();
    assert_eq!(doc["command"], "deposit");
    assert_eq!(
        (doc["amount_native"].as_u64(), doc["amount"].as_str()),
        (Some(1_500_000_000), Some("1.500000000"))
    );
    assert_eq!(doc["token_account"], sol_ata.to_string(), "the associated token account by default");
    assert!(doc["signature"].is_string() && doc["signatures"].as_array().unwrap().len() == 1);
    assert_eq!(w.env.token_balance(&sol_ata), 10 * LAMPORTS - 1_500_000_000);

    let e =
        run_as(&mut w, &alice.wallet, &format!("deposit --group {g} --token-index 1 --amount 0.0000000001"));
    let e = e.unwrap_err();
    assert!(e.contains("0.0000000001 has 10 decimals; the mint has 9"), "{e}");
    let e = run_as(&mut w, &alice.wallet, &format!("deposit --group {g} --token-index 1 --amount -1"))
        .unwrap_err();
    assert!(e.contains("'-1'") || e.contains("negative"), "{e}");
    let no_ata = format!("withdraw --group {g} --token-index 0 --amount 1");
    let e = run_as(&mut w, &alice.wallet, &no_ata).unwrap_err();
    assert!(e.contains("does not exist: create it or pass --token-account"), "{e}");

    let usdc = alice.tokens[0];
    json(
        &mut w,
        &alice,
        &format!("withdraw --group {g} --token-index 0 --amount 100 --token-account {usdc}"),
    )
    .unwrap();
    assert_eq!(w.env.token_balance(&usdc), 1_100 * MICRO);

    let shown = json(&mut w, &alice, &format!("show {}", alice.account)).unwrap();
    assert_eq!(shown["band"], "healthy");
    assert_eq!(shown["owner"], alice.wallet.pubkey().to_string());
    let init = ui_number(&shown["health"]["init"]);
    // 1.5 SOL at Init ($149.90 · 0.8 = $179.88) − 100 USDC · 1.0 = $79.88.
    assert!((init - 79.88).abs() < 0.01, "init {init}");
    let sol = &shown["tokens"][1];
    assert_eq!(sol["balance"], "1.500000000");
    let liq = sol["liquidation_price"]["price"].as_f64().unwrap();
    // Maint: 1.5 · (P − 0.10) · 0.9 = 100 → P = $74.17.
    assert!((liq - 74.1741).abs() < 0.001, "liquidation price {liq}");
    let max_borrow = shown["tokens"][0]["max_borrow"].as_str().unwrap().to_string();
    assert!((ui_number(&shown["tokens"][0]["max_borrow"]) - 79.88).abs() < 0.01);
    assert!(shown["tokens"][2]["max_withdraw"].is_string(), "tokens not held have limits too");

    // The program agrees: the whole max borrow goes through, then nothing more.
    let borrow = format!("withdraw --group {g} --token-index 0 --amount {max_borrow} --token-account {usdc}");
    run_as(&mut w, &alice.wallet, &borrow).unwrap();
    let shown = json(&mut w, &alice, &format!("show --account {}", alice.account)).unwrap();
    assert!(ui_number(&shown["tokens"][0]["max_borrow"]) < 0.000_01, "{}", shown["tokens"][0]);
    let more = format!("withdraw --group {g} --token-index 0 --amount 0.01 --token-account {usdc}");
    let refused = run_as(&mut w, &alice.wallet, &more).unwrap_err();
    assert!(refused.contains("HealthTooLow"), "{refused}");

    // 179.88 USDC owed. SOL at $140: Init 1.5 · 139.90 · 0.8 = 167.88 < 179.88
    // ≤ Maint 1.5 · 139.90 · 0.9 = 188.87; at $60: liquidatable. Text output runs too.
    w.set_price(1, 14_000_000_000, 10_000_000);
    let shown = json(&mut w, &alice, &format!("show {}", alice.account)).unwrap();
    assert_eq!(shown["band"], "margin call");
    w.set_price(1, 6_000_000_000, 10_000_000);
    let shown = json(&mut w, &alice, &format!("show {}", alice.account)).unwrap();
    assert_eq!(shown["band"], "liquidatable");
    run_as(&mut w, &alice.wallet, &format!("show {}", alice.account)).unwrap();
}

/// `update-bank` changes the given fields only; a non-admin is refused by name.
#[test]
fn update_bank_changes_only_the_given_fields() {
    let mut w = World::new();
    let g = w.group.group;
    let admin = w.admin.insecure_clone();
    let before: Bank = w.env.zero_copy(&w.banks[1].bank);
    let line = format!("update-bank --group {g} --token-index 1 --init-asset-weight-bps 7000 --liquidation-fee-bps 300 --output json");
    let doc = run_as(&mut w, &admin, &line).unwrap().unwrap();
    assert_eq!(doc["command"], "update-bank");
    assert!(doc["signature"].is_string());
    let after: Bank = w.env.zero_copy(&w.banks[1].bank);
    let ratio = |n| Fixed::from_ratio(n, 10_000, Rounding::Floor).unwrap();
    assert_eq!(after.risk.init_asset_weight.get(), ratio(7_000), "a tightening applies at once");
    assert_eq!(after.liquidation_fee.get(), ratio(300));
    assert_eq!(after.risk.maint_asset_weight, before.risk.maint_asset_weight);
    assert_eq!(after.risk.deposit_cap, before.risk.deposit_cap);
    assert_eq!((after.optimal_rate, after.max_conf_ratio), (before.optimal_rate, before.max_conf_ratio));

    let mallory = w.user(30, [0, 0, 0]);
    let line = format!("update-bank --group {g} --token-index 1 --deposit-cap 1");
    let refused = run_as(&mut w, &mallory.wallet, &line).unwrap_err();
    assert!(refused.contains("UnauthorizedAdmin"), "{refused}");
    let e = run_as(&mut w, &admin, &format!("update-bank --group {g} --token-index 1")).unwrap_err();
    assert!(e.contains("no field given"), "{e}");
}

/// An entry of migrations/config.json as shipped (no `oracle`): the bank
/// reads the sponsored Pyth feed account of its feed id.
#[test]
fn add_bank_takes_a_shipped_config_entry() {
    let mut w = World::new();
    let g = w.group.group;
    let admin = w.admin.insecure_clone();
    let mut entry: Value = serde_json::from_str(include_str!("../../../migrations/config.json")).unwrap();
    let mut wbtc = entry["banks"][2].take();
    let mint = w.env.create_mint(8);
    wbtc["mint"] = mint.to_string().into(); // the mainnet mint does not exist here
    assert!(wbtc.get("oracle").is_none(), "as shipped");
    let feed = shipped_entries()[2].feed_id.clone();
    let oracle = pyth_feed_account(&feed_id(&feed).unwrap(), 0);
    let now = w.env.unix_time();
    w.env.set_pyth_price(&oracle, &PythPrice::new(&feed, 10_000_000_000_000, 5_000_000_000, -8, now));
    let path = std::env::temp_dir().join(format!("xmargin-cli-bank-{}.json", std::process::id()));
    std::fs::write(&path, wbtc.to_string()).unwrap();
    let line = format!("add-bank --group {g} --bank-config {} --output json", path.display());
    let doc = run_as(&mut w, &admin, &line).unwrap().unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(
        (doc["token_index"].as_u64(), doc["oracle"].as_str()),
        (Some(3), Some(oracle.to_string().as_str()))
    );
    let bank: Bank = w.env.zero_copy(&doc["bank"].as_str().unwrap().parse().unwrap());
    assert_eq!((bank.oracle, bank.mint, bank.mint_decimals), (oracle, mint, 8));
}
