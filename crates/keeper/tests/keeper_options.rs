//! Keeper cycles over option markets on the embedded SVM: `update_risk_array`
//! cranked for a new series (no array yet), then at half the program's age
//! bound, after half its drift bound and after a volatility change, never for
//! an expired series; the account holding the option stays valuable (its
//! withdrawals pass) while a keeper runs; each crank counted in the metrics.
//! An option series expires on the future's schedule: sampled by the keeper
//! in its last 30 minutes, settled at expiry on the samples' mean and its
//! PnL paid, never paired for `settle_pnl` before it is settled. A grid
//! change (`update_risk_grid`) is followed: arrays recomputed on the new grid.
use std::time::Duration;

use xmargin::instructions::UpdateRiskGridArgs;
use xmargin::options::{DEFAULT_RISK_GRID, RISK_ARRAY_MAX_AGE_SECS, RISK_ARRAY_MAX_DRIFT_BPS};
use xmargin::state::{market_status, MarginAccount};
use xmargin_keeper::metrics::{scraped, Metrics};
use xmargin_keeper::svm::SvmChain;
use xmargin_keeper::{run_cycle, CycleSummary, KeeperConfig};
use xmargin_risk::Rounding;
use xmargin_test_support::margin::{health_view, native_balance};
use xmargin_test_support::options::{option_desk, sol_call_args, sol_put_args};
use xmargin_test_support::world::{User, World};
use xmargin_test_support::Signer;

const USDC: u16 = 0;
const SOL: u16 = 1;
const CALL: u16 = 0;
const PUT: u16 = 1;
const MICRO: u64 = 1_000_000;
/// Model value of the 30-day $165 call per 0.01 SOL contract at $150 (µUSDC).
const CALL_MODEL: u64 = 49_053;
/// $135 put strike per 0.01 SOL contract.
const STRIKE_135: u64 = 1_350_000;

fn cycle(w: &mut World, keeper: &User, config: &KeeperConfig) -> CycleSummary {
    let s = run_cycle(&mut SvmChain { env: &mut w.env, signer: &keeper.wallet }, config).expect("cycle");
    assert_eq!(s.failures, 0, "{s:?}");
    s
}

/// SOL at `price` (Pyth mantissa, expo −8) ± $0.10, published now.
fn sol_at(w: &mut World, price: i64) {
    w.set_price(SOL, price, 10_000_000);
}

#[test]
fn a_keeper_keeps_option_risk_arrays_fresh() {
    let (mut w, alice, bob) = option_desk(CALL);
    let expiry = w.market(CALL).expiry_ts;
    // A put of the same series, listed without an array: nothing can value it yet.
    w.add_option_market(sol_put_args(PUT, STRIKE_135, expiry)).expect_ok();
    let keeper = w.user(1, [10_000 * MICRO, 0, 0]);
    w.deposit(&keeper, USDC, 10_000 * MICRO).expect_ok();
    w.trade(CALL, &alice, &bob, 100, CALL_MODEL).expect_ok();
    let config = KeeperConfig::new(w.group.group, keeper.account, keeper.wallet.pubkey());
    let metrics = Metrics::new(Duration::from_secs(60));
    let run = |w: &mut World| {
        let s = cycle(w, &keeper, &config);
        metrics.record_cycle(&s, Duration::ZERO, 0);
        s.risk_array_updates
    };

    assert_eq!(run(&mut w), 1, "the new put gets its first array, the fresh call nothing");
    assert_eq!(w.market(PUT).risk_array.computed_at, w.env.unix_time());
    assert_eq!(run(&mut w), 0, "nothing due twice");

    // Half the age bound: 299 s is not due, 300 s is (both series).
    let half_age = RISK_ARRAY_MAX_AGE_SECS as i64 / 2;
    w.env.warp(half_age - 1);
    w.refresh_prices();
    assert_eq!(run(&mut w), 0);
    w.env.warp(1);
    w.refresh_prices();
    assert_eq!(run(&mut w), 2);
    assert_eq!(w.market(CALL).risk_array.computed_at, w.env.unix_time());

    // Half the drift bound (1 % of $150 = $1.50): $151.49 is not due, $151.50 is.
    let drift_half = 15_000_000_000 * RISK_ARRAY_MAX_DRIFT_BPS / 2 / 10_000;
    sol_at(&mut w, 15_000_000_000 + drift_half - 1_000_000);
    assert_eq!(run(&mut w), 0);
    sol_at(&mut w, 15_000_000_000 + drift_half);
    assert_eq!(run(&mut w), 2);

    // A raised volatility makes the call's array stale at once: refreshed in the next cycle.
    w.set_volatility(CALL, 7_000).expect_ok();
    assert_eq!(run(&mut w), 1);
    assert_eq!(w.market(CALL).risk_array.volatility, w.market(CALL).volatility);

    // With a keeper running, Bob's short stays valued well past the array's 10-minute life.
    for _ in 0..4 {
        w.env.warp(half_age);
        w.refresh_prices();
        sol_at(&mut w, 15_150_000_000);
        assert_eq!(run(&mut w), 2);
    }
    assert!(health_view(&mut w.env, &w.group.group, &bob.account).init > 0);
    w.withdraw(&bob, USDC, MICRO).expect_ok();

    // Expired series: the program refuses update_risk_array, so the keeper sends none.
    w.env.set_unix_time(expiry);
    w.refresh_prices();
    assert_eq!(run(&mut w), 0);

    let page = metrics.render();
    assert_eq!(scraped(&page, "xmargin_keeper_risk_array_updates_total"), Some(14.0), "{page}");
}

/// A refresh share of 100 % waits for the program's own bounds: the array is
/// refreshed exactly when it would otherwise go stale (600 s).
#[test]
fn the_refresh_share_is_configurable() {
    let (mut w, _alice, _bob) = option_desk(CALL);
    let keeper = w.user(1, [1_000 * MICRO, 0, 0]);
    w.deposit(&keeper, USDC, 1_000 * MICRO).expect_ok();
    let config = KeeperConfig {
        risk_array_refresh_percent: 100,
        ..KeeperConfig::new(w.group.group, keeper.account, keeper.wallet.pubkey())
    };
    w.env.warp(RISK_ARRAY_MAX_AGE_SECS as i64 - 1);
    w.refresh_prices();
    assert_eq!(cycle(&mut w, &keeper, &config).risk_array_updates, 0);
    w.env.warp(1);
    w.refresh_prices();
    assert_eq!(cycle(&mut w, &keeper, &config).risk_array_updates, 1);
    let dry = KeeperConfig { dry_run: true, ..config };
    w.env.warp(RISK_ARRAY_MAX_AGE_SECS as i64);
    w.refresh_prices();
    assert_eq!(cycle(&mut w, &keeper, &dry).risk_array_updates, 0, "a dry run sends nothing");
}

/// The keeper reads the group's stored grid (`update_risk_grid`): a new
/// grid makes every array missing (recomputed on it in the next cycle), and
/// a shorter max age is refreshed at its share (50 % of 300 s).
#[test]
fn a_keeper_follows_the_groups_grid() {
    let (mut w, _alice, _bob) = option_desk(CALL);
    let keeper = w.user(1, [1_000 * MICRO, 0, 0]);
    w.deposit(&keeper, USDC, 1_000 * MICRO).expect_ok();
    let config = KeeperConfig::new(w.group.group, keeper.account, keeper.wallet.pubkey());
    assert_eq!(cycle(&mut w, &keeper, &config).risk_array_updates, 0);
    let args = UpdateRiskGridArgs {
        price_shocks_bps: vec![-1_500, -1_000, -750, 0, 750, 1_500],
        max_age_secs: 300,
        ..UpdateRiskGridArgs::from_params(&DEFAULT_RISK_GRID)
    };
    w.update_risk_grid(args).expect_ok();
    let grid = w.group_account().risk_grid;
    assert_eq!(cycle(&mut w, &keeper, &config).risk_array_updates, 1, "on the new grid");
    assert_eq!(w.market(CALL).risk_array.grid_id, grid.grid_id);
    assert_eq!(w.market(CALL).risk_array.scenario_count, u16::from(grid.grid_len));
    w.env.warp(149);
    w.refresh_prices();
    assert_eq!(cycle(&mut w, &keeper, &config).risk_array_updates, 0);
    w.env.warp(1);
    w.refresh_prices();
    assert_eq!(cycle(&mut w, &keeper, &config).risk_array_updates, 1, "half of the group's 300 s");
}

fn usdc(w: &World, u: &User) -> i64 {
    native_balance(&w.env, &w.group.group, &u.account, USDC).to_i64(Rounding::Floor).unwrap()
}

/// An in-the-money call on the future's schedule (keeper_markets.rs): the
/// keeper samples it every 5 minutes of its last 30 (SOL $150 → $155),
/// settles every position at expiry on the samples' mean ($153, not the
/// last print) and pays the PnL in the same cycle. Before expiry a round
/// trip's realised loss is never paired: an option's PnL is a model value
/// until settled (`settle_pnl` would refuse it).
#[test]
fn a_keeper_samples_settles_and_pays_an_expired_option() {
    const STRIKE_148: u64 = 1_480_000;
    let mut w = World::new();
    let expiry = w.env.unix_time() + 7_200;
    w.add_option_market(sol_call_args(CALL, STRIKE_148, expiry)).expect_ok();
    assert_eq!(w.market(CALL).min_samples, 5);
    w.update_risk_array(CALL).expect_ok();
    let keeper = w.user(1, [10_000 * MICRO, 0, 0]);
    w.deposit(&keeper, USDC, 10_000 * MICRO).expect_ok();
    let [alice, bob, carol] = [10, 11, 12].map(|seed| {
        let u = w.user(seed, [1_000 * MICRO, 0, 0]);
        w.deposit(&u, USDC, 1_000 * MICRO).expect_ok();
        u
    });
    // The model value per contract (rounded up, inside the 5 % band).
    let m = w.market(CALL);
    let size = i64::try_from(m.contract_size).unwrap();
    let model = m.risk_array.value.get().checked_mul_int(size).unwrap().to_i64(Rounding::Ceil).unwrap();
    let model = u64::try_from(model).unwrap();
    // Alice buys 100 calls from Bob; Carol buys 30 and sells them back 3 % lower: a realised loss.
    w.trade(CALL, &alice, &bob, 100, model).expect_ok();
    w.trade(CALL, &carol, &bob, 30, model).expect_ok();
    let resold = model * 97 / 100;
    w.trade(CALL, &bob, &carol, 30, resold).expect_ok();
    let carol_loss = 30 * i64::try_from(model - resold).unwrap();
    let config = KeeperConfig {
        sample_interval_secs: 300,
        ..KeeperConfig::new(w.group.group, keeper.account, keeper.wallet.pubkey())
    };

    w.env.warp(7_200 - 1_801);
    w.refresh_prices();
    let s = cycle(&mut w, &keeper, &config);
    assert_eq!((s.price_samples, s.pnl_settlements), (0, 0), "before the window; an option's loss unpaired");
    for (i, dollars) in (150..=155).enumerate() {
        w.env.set_unix_time(expiry - 1_800 + 300 * i as i64);
        w.refresh_prices();
        sol_at(&mut w, dollars * 100_000_000);
        let s = cycle(&mut w, &keeper, &config);
        assert_eq!((s.price_samples, s.expiries_settled, s.pnl_settlements), (1, 0, 0), "sample {i}: {s:?}");
        assert_eq!(cycle(&mut w, &keeper, &config).price_samples, 0, "spaced by the interval");
    }
    let m = w.market(CALL);
    assert_eq!((m.sample_count, m.sample_secs, m.status), (6, 1_500, market_status::ACTIVE));

    w.env.set_unix_time(expiry);
    w.refresh_prices();
    sol_at(&mut w, 16_000_000_000); // the last print is not the settlement price
    let before = [&alice, &bob, &carol].map(|u| usdc(&w, u));
    let s = cycle(&mut w, &keeper, &config);
    // Alice's and Bob's positions settled (Carol's is closed: only her realised
    // loss is left); Bob's and Carol's losses paid to Alice.
    assert_eq!((s.expiries_settled, s.pnl_settlements, s.risk_array_updates), (2, 2, 0), "{s:?}");
    let m = w.market(CALL);
    assert_eq!(m.status, market_status::SETTLED);
    // The first sample opens the window (weight 0), the next five weigh 300 s each:
    // $153 = 1,530,000 per contract, intrinsic 1,530,000 − 1,480,000 = 50,000.
    assert_eq!(xmargin::expiry::settlement_value_per_contract(&m).unwrap(), 50_000);
    let after = [&alice, &bob, &carol].map(|u| usdc(&w, u));
    let alice_gain = 100 * (50_000 - i64::try_from(model).unwrap());
    assert_eq!(after[0] - before[0], alice_gain, "Alice: 100 · (50,000 − {model})");
    assert_eq!(before[2] - after[2], carol_loss, "Carol's realised loss paid");
    assert_eq!(before[1] - after[1], alice_gain - carol_loss, "Bob pays the rest");
    for u in [&alice, &bob, &carol] {
        assert!(w.env.zero_copy::<MarginAccount>(&u.account).derivative_position(CALL).is_none());
    }
    assert_eq!((m.open_interest, m.position_count), (0, 0));
    let again = cycle(&mut w, &keeper, &config);
    assert_eq!((again.expiries_settled, again.pnl_settlements, again.price_samples), (0, 0, 0));
}
