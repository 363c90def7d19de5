//! Tests of [`super`]: flags over the file, the policies, bad input by name,
//! and the example `keeper.toml`.
use super::*;

fn args(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

#[test]
fn flags_override_the_file_and_defaults_fill_in() {
    let file: FileSettings = toml::from_str(
        "rpc_url = \"http://node:8899\"\ngroup = \"G1\"\nmin_profit = 5\ndry_run = true\nsample_interval_secs = 30\n",
    )
    .unwrap();
    let s =
        settings(&args("--config k.toml --min-profit 7 --once --funding-interval-secs 1800"), file).unwrap();
    assert_eq!(s.rpc_url, "http://node:8899");
    assert_eq!(s.group, "G1");
    assert_eq!(s.min_profit, 7, "the flag wins");
    assert!(s.dry_run);
    assert_eq!(s.cycles, Some(1));
    assert_eq!(s.poll_interval_secs, 5);
    assert_eq!(s.compute_unit_limit, 400_000);
    assert_eq!((s.funding_interval_secs, s.sample_interval_secs, s.min_settle_pnl), (1_800, 30, 0));
    assert_eq!(s.risk_array_refresh_percent, 50, "half the program's age and drift bounds");
    let s = settings(&args("--group G --risk-array-refresh-percent 80"), FileSettings::default()).unwrap();
    assert_eq!(s.risk_array_refresh_percent, 80);
    assert_eq!(config_path(&args("--config k.toml --once")), Some("k.toml"));
    assert_eq!(s.lookup_table, None, "legacy transactions unless a table is given");
    let file: FileSettings = toml::from_str("group = \"G\"\nlookup_table = \"T1\"").unwrap();
    assert_eq!(settings(&args(""), file.clone()).unwrap().lookup_table.as_deref(), Some("T1"));
    assert_eq!(settings(&args("--lookup-table T2"), file).unwrap().lookup_table.as_deref(), Some("T2"));
}

#[test]
fn the_default_policies_are_recent_fees_and_simulation() {
    let s = settings(&args("--group G"), FileSettings::default()).unwrap();
    assert_eq!(s.fee, FeePolicy::Recent { percentile: 75, floor: 1_000, max: 1_000_000 });
    assert_eq!(s.limit, LimitPolicy::Simulated { percent: 20, extra: 20_000 });
    assert_eq!(s.schedule.rebroadcast, Duration::from_secs(2));
    assert_eq!(s.schedule.stop_grace, Duration::from_secs(10));
    assert_eq!((s.metrics_addr.as_deref(), s.subscribe, s.rescan_interval_secs), (None, true, 300));
    assert_eq!(s.max_cycle_age(), Duration::from_secs(50), "10 poll intervals of 5 s");
    assert_eq!(s.log_format, LogFormat::Text);

    // A fixed value without a mode fixes it; a mode overrides that.
    let s =
        settings(&args("--group G --priority-fee 5000 --compute-unit-limit 300000"), FileSettings::default())
            .unwrap();
    assert_eq!((s.fee, s.limit), (FeePolicy::Fixed(5_000), LimitPolicy::Fixed(300_000)));
    let s = settings(
        &args("--group G --priority-fee 5000 --priority-fee-mode recent --max-priority-fee 9000 --priority-fee-percentile 90"),
        FileSettings::default(),
    )
    .unwrap();
    assert_eq!(s.fee, FeePolicy::Recent { percentile: 90, floor: 1_000, max: 9_000 });
    let s = settings(
        &args("--group G --compute-unit-limit-mode fixed --log-format json"),
        FileSettings::default(),
    )
    .unwrap();
    assert_eq!((s.limit, s.log_format), (LimitPolicy::Fixed(400_000), LogFormat::Json));
    let s = settings(
        &args("--group G --no-subscribe --metrics-addr 127.0.0.1:9464 --ws-url ws://x:1"),
        FileSettings::default(),
    )
    .unwrap();
    assert_eq!(
        (s.subscribe, s.metrics_addr.as_deref(), s.ws_url.as_deref()),
        (false, Some("127.0.0.1:9464"), Some("ws://x:1"))
    );
}

#[test]
fn the_fee_cap_holds_in_either_mode() {
    let refused = |a: &str| settings(&args(a), FileSettings::default()).unwrap_err();
    let e = refused("--group G --priority-fee 50000 --max-priority-fee 20000");
    assert!(
        e.contains("priority_fee_micro_lamports 50000 is above max_priority_fee_micro_lamports 20000"),
        "{e}"
    );
    let e = refused("--group G --priority-fee 50000 --priority-fee-mode fixed --max-priority-fee 20000");
    assert!(e.contains("above max_priority_fee_micro_lamports"), "{e}");
    let ok =
        settings(&args("--group G --priority-fee 20000 --max-priority-fee 20000"), FileSettings::default());
    assert_eq!(ok.unwrap().fee, FeePolicy::Fixed(20_000));
    // A cap under the default floor (1,000) lowers the floor rather than refusing the settings.
    let s = settings(&args("--group G --max-priority-fee 500"), FileSettings::default()).unwrap();
    assert_eq!(s.fee, FeePolicy::Recent { percentile: 75, floor: 500, max: 500 });
}

#[test]
fn bad_input_is_refused_with_a_reason() {
    let refused = |a: &str| settings(&args(a), FileSettings::default()).unwrap_err();
    assert!(refused("--min-profit x --group G").contains("not a number"));
    assert!(refused("--once").contains("no group"));
    assert!(refused("--group G --bogus").contains("unknown argument"));
    assert!(refused("--group").contains("needs a value"));
    assert!(toml::from_str::<FileSettings>("grup = \"typo\"").is_err(), "unknown keys are refused");
    assert!(refused("--group G --compute-unit-limit 99999999999").contains("too large"));
    assert!(refused("--group G --compute-unit-limit 1400001").contains("1400001 is not within"));
    assert!(refused("--group G --priority-fee-percentile 0").contains("percentile 0"));
    let e = refused("--group G --min-priority-fee 10 --max-priority-fee 5");
    assert!(
        e.contains("min_priority_fee_micro_lamports 10 is above max_priority_fee_micro_lamports 5"),
        "{e}"
    );
    assert!(refused("--group G --priority-fee-mode cheap").contains("unknown variant `cheap`"));
    assert!(refused("--group G --rebroadcast-interval-ms 0")
        .contains("rebroadcast_interval_ms must be at least 1"));
    assert!(refused("--group G --liveness-intervals 0").contains("liveness_intervals"));
    for bad in ["0", "101"] {
        let e = refused(&format!("--group G --risk-array-refresh-percent {bad}"));
        assert!(e.contains(&format!("risk_array_refresh_percent {bad} is not within 1..=100")), "{e}");
    }
    assert!(refused("--group G --risk-array-refresh-percent 300").contains("too large"));
}

/// The keys `FileSettings` takes, from serde's unknown-field message.
fn known_keys() -> Vec<String> {
    let e = toml::from_str::<FileSettings>("not_a_key = 1").unwrap_err().to_string();
    let list = e.split("expected one of").nth(1).expect("serde lists the fields");
    list.split('`').skip(1).step_by(2).map(String::from).collect()
}

#[test]
fn the_example_file_parses_shows_every_key_and_states_the_defaults() {
    let text = include_str!("../keeper.toml");
    let file: FileSettings = toml::from_str(text).expect("keeper.toml parses");
    let keys = known_keys();
    assert!(keys.len() >= 28, "{keys:?}");
    for key in &keys {
        let shown = text.lines().any(|l| l.trim_start_matches(['#', ' ']).starts_with(&format!("{key} =")));
        assert!(shown, "keeper.toml does not show {key}");
    }
    let group = file.group.clone().unwrap();
    let from_example = settings(&[], file).unwrap();
    let defaults = settings(&args(&format!("--group {}", group.replace(' ', "_"))), FileSettings::default());
    let mut defaults = defaults.unwrap();
    defaults.group = group;
    assert_eq!(from_example, defaults, "the example's values are the defaults");
}
