//! The random-operation suite (issue 10): seeded sequences of every
//! instruction on a four-bank market, every invariant checked after every step.
//! `short_runs` is part of `cargo test`; `long_run` is `scripts/fuzz`.
use std::time::Instant;

use xmargin_test_support::random_ops::{run, Config, Invariant};

/// Seeds and length of the CI run: a few seeds of a few hundred steps.
const SHORT_SEEDS: [u64; 5] = [1, 2, 3, 4, 5];
const SHORT_STEPS: usize = 500;
/// Defaults of the long run (`XMARGIN_FUZZ_STEPS`, `XMARGIN_FUZZ_SEED`).
const LONG_STEPS: usize = 100_000;
const LONG_SEED: u64 = 0x00C0_FFEE;

/// Invariants that still trip on known bugs of issue 10: counted and printed,
/// not fatal. Remove each line when its fix lands. `XMARGIN_FUZZ_WAIVE`
/// (comma-separated names, e.g. `PauseHonoured,LooseningDelayed`) waives more.
fn with_known_bugs(config: Config) -> Config {
    let extra = std::env::var("XMARGIN_FUZZ_WAIVE").unwrap_or_default();
    let extra = extra
        .split(',')
        .filter(|n| !n.trim().is_empty())
        .map(|n| Invariant::from_name(n).unwrap_or_else(|| panic!("XMARGIN_FUZZ_WAIVE: no invariant {n:?}")));
    KNOWN_BUGS.iter().copied().chain(extra).fold(config, |c, inv| c.waive(inv))
}

const KNOWN_BUGS: &[Invariant] = &[];

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[test]
fn short_runs() {
    for seed in SHORT_SEEDS {
        let config = with_known_bugs(Config::new(seed, SHORT_STEPS));
        match run(&config) {
            Ok(stats) => println!("seed {seed}: {stats}"),
            Err(failure) => panic!("{failure}"),
        }
    }
}

#[test]
#[ignore = "long run: scripts/fuzz"]
fn long_run() {
    let steps = env_or("XMARGIN_FUZZ_STEPS", LONG_STEPS);
    let seed = env_or("XMARGIN_FUZZ_SEED", LONG_SEED);
    let started = Instant::now();
    let mut config = with_known_bugs(Config::new(seed, steps));
    // `XMARGIN_FUZZ_SHRINK`: replays a shrink may use (0: report the first
    // violation as found, at once).
    config.shrink_budget = env_or("XMARGIN_FUZZ_SHRINK", config.shrink_budget);
    let result = run(&config);
    let secs = started.elapsed().as_secs_f64();
    match result {
        Ok(stats) => {
            println!("seed {seed}: {stats}");
            println!("{} steps in {secs:.1} s: {:.0} steps/s", stats.steps, stats.steps as f64 / secs);
        }
        Err(failure) => panic!("{failure}"),
    }
}

/// Found by the long run (seed 777, step 11,362, shrunk to 9 steps): after
/// SOL's liquidation fee rose to 7.45 % and USDC's to 5.96 %, a BTC-backed SOL
/// borrower below Maint could not be liquidated by any pair
/// (LiquidationNotImproving: the bonus outweighed the liability weight) nor
/// resolved (it still held BTC). The bonus now shrinks to half the largest
/// that improves health (`xmargin_risk::liquidation`), and the account is
/// reachable.
#[test]
fn an_oversized_bonus_no_longer_leaves_an_account_unreachable() {
    use xmargin_test_support::random_ops::ops::BankChange::{LiquidationFee, Weights};
    use xmargin_test_support::random_ops::{play, Op};
    let ops = [
        Op::UpdateBank { token: 1, change: Weights { delta_bps: 613 } },
        Op::Deposit { user: 2, token: 2, bps: 4447 },
        Op::UpdateBank { token: 1, change: LiquidationFee { fee_bps: 745 } },
        Op::Deposit { user: 2, token: 0, bps: 8 },
        Op::Borrow { user: 2, token: 1, bps: 9584 },
        Op::UpdateBank { token: 0, change: LiquidationFee { fee_bps: 596 } },
        Op::Price { token: 2, move_bps: -5169 },
        Op::Keeper,
        Op::Warp { secs: 7_177_624, stale_mask: 0 },
    ];
    let played = play(777, &ops, &[]);
    assert!(played.failure.is_none(), "{:?}", played.failure.map(|(step, v)| (step, v.detail)));
}

/// Found by the long run (seed 777, step 11,646; first reported at 11,647,
/// where the account was emptied). After a month in which nobody cranked
/// them, a solvent account's SOL and BTC debts were valued at their banks'
/// highest rates, as health bounds debts in banks not accrued; its equity
/// looked negative, so a liquidation paid the full bonus instead of one
/// capped at the equity, and the next left 1,925 USDC of bad debt from an
/// account that had been worth 222 USDC more than its debts. A liquidation
/// now values its liquidatee as the banks would book it if accrued now
/// (`xmargin::health::build_liquidatee_cache_from`). The shrinker stopped at
/// 1,589 steps; these six are the same case built by hand: a USDC and a BTC
/// debt on SOL, a month unaccrued, SOL down 24 % (solvent by about 70 USDC),
/// and a keeper pass that before the fix left it 140 USDC insolvent.
#[test]
fn a_bank_nobody_cranked_no_longer_makes_a_solvent_account_insolvent() {
    use xmargin_test_support::random_ops::{play, Op};
    let ops = [
        Op::Deposit { user: 0, token: 1, bps: 10_000 },
        Op::Borrow { user: 0, token: 0, bps: 6_000 },
        Op::Borrow { user: 0, token: 2, bps: 9_900 },
        Op::Warp { secs: 30 * 86_400, stale_mask: 0 },
        Op::Price { token: 1, move_bps: -2_400 },
        Op::Keeper,
    ];
    let played = play(777, &ops, &[]);
    assert!(played.failure.is_none(), "{:?}", played.failure.map(|(step, v)| (step, v.detail)));
    assert_eq!(played.stats.liquidations, 1, "the keeper liquidated the account");
}
