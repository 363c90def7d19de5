//! `update_bank` loosens the oracle rules and the liquidation fee only after
//! the group's delay (issue 10, finding 8: before the fix they changed at
//! once); tightening applies at once. The pending change's lifecycle: set by
//! a loosening update, put in force by the first accrual after its time,
//! replaced by a newer update, dropped by one that only tightens.
use xmargin::instructions::{BankInterestArgs, BankOracleArgs, UpdateBankArgs};
use xmargin::state::Bank;
use xmargin_test_support::fixtures::default_bank_args;
use xmargin_test_support::margin::approx_f64;
use xmargin_test_support::margin::{accrue_interest_ix, update_bank_ix};
use xmargin_test_support::pyth::feeds;
use xmargin_test_support::world::World;
use xmargin_test_support::Signer;

const SOL: u16 = 1;
/// `World`'s group delays loosening by an hour.
const DELAY: i64 = 3_600;

/// One setting: how an update moves it, and how to read it from the bank.
struct Setting {
    name: &'static str,
    loosen: fn(&mut BankOracleArgs, &mut BankInterestArgs),
    tighten: fn(&mut BankOracleArgs, &mut BankInterestArgs),
    read: fn(&Bank) -> i128,
}

fn settings() -> Vec<Setting> {
    vec![
        Setting {
            name: "confidence multiplier (lower is looser)",
            loosen: |o, _| o.conf_multiplier_centi = 50,
            tighten: |o, _| o.conf_multiplier_centi = 200,
            read: |b| b.conf_multiplier.get().to_bits(),
        },
        Setting {
            name: "max confidence (higher is looser)",
            loosen: |o, _| o.max_conf_ratio_bps = 500,
            tighten: |o, _| o.max_conf_ratio_bps = 100,
            read: |b| b.max_conf_ratio.get().to_bits(),
        },
        Setting {
            name: "max oracle age (higher is looser)",
            loosen: |o, _| o.max_oracle_age_secs = 600,
            tighten: |o, _| o.max_oracle_age_secs = 30,
            read: |b| i128::from(b.max_oracle_age_secs),
        },
        Setting {
            name: "stable price growth (faster is looser)",
            loosen: |o, _| o.stable_price_growth_bps_per_hour = 5_000,
            tighten: |o, _| o.stable_price_growth_bps_per_hour = 500,
            read: |b| b.stable_price_growth_per_sec.get().to_bits(),
        },
        Setting {
            name: "liquidation fee (higher waits: it takes more from users)",
            loosen: |_, i| i.liquidation_fee_bps = 1_500,
            tighten: |_, i| i.liquidation_fee_bps = 100,
            read: |b| b.liquidation_fee.get().to_bits(),
        },
    ]
}

fn bank(w: &World) -> Bank {
    w.env.zero_copy(&w.banks[SOL as usize].bank)
}

fn update(w: &mut World, change: fn(&mut BankOracleArgs, &mut BankInterestArgs)) {
    let mut args = default_bank_args(SOL, feeds::SOL_USD);
    change(&mut args.oracle, &mut args.interest);
    let admin = w.admin.insecure_clone();
    let upd = UpdateBankArgs { oracle: Some(args.oracle), interest: Some(args.interest), risk: None };
    w.env.send_ok(&[update_bank_ix(&w.group.group, &admin.pubkey(), SOL, upd)], &[&admin]);
}

fn accrue(w: &mut World) {
    w.refresh_prices();
    w.env.send_ok(&[accrue_interest_ix(&w.env, &w.group.group, SOL)], &[]);
}

#[test]
fn loosening_waits_for_the_delay_and_tightening_does_not() {
    for s in settings() {
        let mut w = World::new();
        let listed = (s.read)(&bank(&w));
        update(&mut w, s.loosen);
        assert_eq!((s.read)(&bank(&w)), listed, "{}: not loosened at once", s.name);
        let pending = bank(&w).pending_safety;
        assert_eq!(pending.activation_ts, w.env.unix_time() + DELAY, "{}", s.name);
        w.env.warp(DELAY - 1);
        accrue(&mut w);
        assert_eq!((s.read)(&bank(&w)), listed, "{}: one second early", s.name);
        w.env.warp(1);
        accrue(&mut w);
        let loosened = (s.read)(&bank(&w));
        assert_ne!(loosened, listed, "{}: in force once due", s.name);
        assert_eq!(bank(&w).pending_safety.activation_ts, 0, "{}: nothing pending after", s.name);
        // Tightening back applies in the same instruction.
        update(&mut w, s.tighten);
        let tightened = (s.read)(&bank(&w));
        assert_ne!(tightened, loosened, "{}", s.name);
        assert_eq!(
            bank(&w).pending_safety.activation_ts,
            0,
            "{}: a pure tightening leaves nothing pending",
            s.name
        );
    }
}

/// A newer update replaces a pending loosening; one that only tightens (or
/// restores the values in force) drops it.
#[test]
fn a_newer_update_replaces_or_drops_the_pending_change() {
    let mut w = World::new();
    let fee = |b: &Bank| b.liquidation_fee.get().to_bits();
    let listed = fee(&bank(&w));
    update(&mut w, |_, i| i.liquidation_fee_bps = 1_500);
    w.env.warp(DELAY / 2);
    update(&mut w, |_, i| i.liquidation_fee_bps = 1_000);
    let pending = bank(&w).pending_safety;
    assert_eq!(pending.activation_ts, w.env.unix_time() + DELAY, "the delay restarts");
    assert!((approx_f64(pending.liquidation_fee.get()) - 0.1).abs() < 1e-12);
    update(&mut w, |_, _| {});
    assert_eq!(bank(&w).pending_safety.activation_ts, 0, "restoring the values in force drops it");
    w.env.warp(DELAY);
    accrue(&mut w);
    assert_eq!(fee(&bank(&w)), listed);
}
