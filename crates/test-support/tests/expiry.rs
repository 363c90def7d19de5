//! Dated futures (issue 12): trading until expiry, `sample_price` in the last
//! 30 minutes, the settlement price from the samples (or the first fresh
//! oracle price after expiry when too few), `settle_expired` turning each
//! position into realised PnL, `settle_pnl` without a window afterwards, and
//! `close_market` once nobody holds a slot. Every refusal names its error and
//! changes nothing; PnL is conserved to the unit after every instruction.
//!
//! Units: µUSDC; a contract is 0.01 SOL, so $150 is 1,500,000 per contract
//! and 0.15 per lamport.
use xmargin::errors::XmarginError;
use xmargin::events::{MarketSettled, PositionSettled};
use xmargin::state::{market_status, pause};
use xmargin_client::market_instructions as mixs;
use xmargin_risk::settlement::{PriceSamples, SETTLEMENT_TIMEOUT_SECS};
use xmargin_risk::Fixed;
use xmargin_test_support::margin::{approx_f64, set_pause_ix};
use xmargin_test_support::market_checks::{event, sol_price, PnlLedger};
use xmargin_test_support::markets::{sol_future_args, sol_perp_args};
use xmargin_test_support::world::{User, World};
use xmargin_test_support::Signer;

const USDC: u16 = 0;
const SOL: u16 = 1;
const FUT: u16 = 0;
const MICRO: u64 = 1_000_000;
const CONF: u64 = 10_000_000;
/// The future expires two hours after listing; samples count from 30 min before.
const LIFE: i64 = 7_200;
const WINDOW: i64 = 1_800;

struct Setup {
    w: World,
    alice: User,
    bob: User,
    carol: User,
    expiry: i64,
    ledger: PnlLedger,
}

/// A SOL future (market 0) expiring in two hours, settling unrealised profit
/// at most `settle_fraction_bps` of notional a day; Alice buys 100 contracts
/// from Bob at $150 and Carol 30 at $151 (Bob short 130), each with 1,000 USDC.
fn setup_with(settle_fraction_bps: u32) -> Setup {
    let mut w = World::new();
    let expiry = w.env.unix_time() + LIFE;
    let mut args = sol_future_args(FUT, expiry);
    args.risk.settle_fraction_bps = settle_fraction_bps;
    w.add_market(args).expect_ok();
    let alice = w.user(10, [1_000 * MICRO, 0, 0]);
    let bob = w.user(11, [1_000 * MICRO, 0, 0]);
    let carol = w.user(12, [1_000 * MICRO, 0, 0]);
    for u in [&alice, &bob, &carol] {
        w.deposit(u, USDC, 1_000 * MICRO).expect_ok();
    }
    let ledger = PnlLedger::new(&w, FUT, &[&alice, &bob, &carol]);
    w.trade(FUT, &alice, &bob, 100, 1_500_000).expect_ok();
    w.trade(FUT, &carol, &bob, 30, 1_510_000).expect_ok();
    ledger.assert_conserved(&w);
    assert_eq!(w.market(FUT).open_interest, 130);
    Setup { w, alice, bob, carol, expiry, ledger }
}

fn setup() -> Setup {
    setup_with(sol_future_args(FUT, 0).risk.settle_fraction_bps)
}

/// Moves the clock to `t` and publishes SOL at `price` (expo −8), the rest refreshed.
fn at(w: &mut World, t: i64, price: i64) {
    let now = w.env.unix_time();
    w.env.warp(t - now);
    w.refresh_prices();
    w.set_price(SOL, price, CONF);
}

/// The issue's worked example: a settlement on the samples' time-weighted mean.
///
/// ```text
/// window [E − 1800, E]; each sample stands for the seconds since the previous
/// one (the first: since the window opened), at most 300 s:
///   E − 1500  $150.00   300 s
///   E − 1200  $150.00   300 s
///   E −  900  $153.00   300 s
///   E −  600  $153.00   300 s
///   E −  300  $151.50   300 s
///   E         $151.50   300 s
/// mean = (600·150 + 600·153 + 600·151.5) / 1800 = $151.50 = 1,515,000 per contract
/// settle_expired (rounding the mean to a whole µUSDC per contract):
///   Alice  100 · 1,515,000 − 150,000,000 = +1,500,000
///   Carol   30 · 1,515,000 −  45,300,000 =   +150,000
///   Bob   −130 · 1,515,000 + 195,300,000 = −1,650,000     (Σ = 0: no dust)
/// open interest 130 → 30 → 0; settle_pnl moves 1,500,000 and 150,000 from
/// Bob to Alice and Carol; every slot frees and the market closes.
/// ```
#[test]
fn future_settles_on_the_samples_mean() {
    let Setup { mut w, alice, bob, carol, expiry, mut ledger } = setup();
    let keys = w.market_keys(FUT);
    let g = w.group.group;
    let watched = [keys.market, alice.account, bob.account, carol.account];
    let sample_ix = mixs::sample_price(&g, &keys);

    // Before the window: no sample; before expiry: no settlement, no close.
    at(&mut w, expiry - WINDOW - 1, 15_000_000_000);
    w.env.send_err(std::slice::from_ref(&sample_ix), &[], XmarginError::SampleOutsideWindow, &watched);
    let settle_ix = mixs::settle_expired(&g, &keys, &alice.account);
    w.env.send_err(&[settle_ix], &[], XmarginError::MarketNotSettled, &watched);
    let admin = w.admin.insecure_clone();
    let close_ix = mixs::close_market(&g, &admin.pubkey(), &keys.market, &admin.pubkey());
    w.env.send_err(std::slice::from_ref(&close_ix), &[&admin], XmarginError::MarketNotSettled, &watched);
    // Trading still works.
    w.trade(FUT, &alice, &bob, 10, 1_500_000).expect_ok();
    w.trade(FUT, &bob, &alice, 10, 1_500_000).expect_ok();
    ledger.assert_conserved(&w);

    let samples = [
        (1_500, 15_000_000_000),
        (1_200, 15_000_000_000),
        (900, 15_300_000_000),
        (600, 15_300_000_000),
        (300, 15_150_000_000),
    ];
    let mut expected = PriceSamples::default();
    for (before_expiry, price) in samples.into_iter().chain([(0, 15_150_000_000)]) {
        at(&mut w, expiry - before_expiry, price);
        w.sample_price(FUT).expect_ok();
        assert!(expected.record(sol_price(price), expiry - before_expiry, expiry - WINDOW, expiry).unwrap());
        if before_expiry == 1_200 {
            // At most one sample per second.
            w.env.send_err(
                std::slice::from_ref(&sample_ix),
                &[],
                XmarginError::SampleOutsideWindow,
                &watched,
            );
        }
    }
    let m = w.market(FUT);
    assert_eq!((m.sample_count, m.sample_secs, m.sample_sum.get()), (6, 1_800, expected.sum_price_secs));

    // From expiry on: no trade, no sample.
    let trade_ix = w.trade_ix(FUT, &alice, &bob, 1, 1_515_000);
    w.env.send_err(&[trade_ix], &[&alice.wallet, &bob.wallet], XmarginError::MarketExpired, &watched);
    at(&mut w, expiry + 1, 15_150_000_000);
    w.env.send_err(&[sample_ix], &[], XmarginError::SampleOutsideWindow, &watched);
    let trade_ix = w.trade_ix(FUT, &alice, &bob, 1, 1_515_000);
    w.env.send_err(&[trade_ix], &[&alice.wallet, &bob.wallet], XmarginError::MarketExpired, &watched);

    // The first settle_expired fixes the price on the samples.
    let out = w.settle_expired(FUT, &alice);
    out.expect_ok();
    let settled: MarketSettled = event(&out);
    assert!(!settled.fallback && !settled.timed_out);
    assert_eq!(settled.sample_count, 6);
    let m = w.market(FUT);
    assert_eq!(m.status, market_status::SETTLED);
    assert_eq!(m.settlement_price.get(), expected.settlement_price(5).unwrap());
    assert!((approx_f64(m.settlement_price.get()) - 0.1515).abs() < 1e-12);
    assert_eq!(event::<PositionSettled>(&out).realized, 1_500_000);
    let a = w.position(&alice, FUT);
    assert_eq!((a.base_contracts, a.quote_cost, a.realized_pnl), (0, 0, 1_500_000));
    assert_eq!(m.open_interest, 30);
    ledger.assert_conserved(&w);

    w.settle_expired(FUT, &carol).expect_ok();
    assert_eq!(w.position(&carol, FUT).realized_pnl, 150_000);
    assert_eq!(w.market(FUT).open_interest, 0);
    w.settle_expired(FUT, &bob).expect_ok();
    assert_eq!(w.position(&bob, FUT).realized_pnl, -1_650_000);
    assert_eq!(w.market(FUT).funding_dust.get(), Fixed::ZERO, "integer per-contract value: no dust");
    ledger.assert_conserved(&w);
    assert_eq!(w.market(FUT).position_count, 3);
    w.env.send_err(std::slice::from_ref(&close_ix), &[&admin], XmarginError::MarketNotEmpty, &watched);

    // settle_pnl after settlement: no window (1,500,000 > 0.2 · 1 SOL · $150 would not bind
    // anyway; a settled market has no limit at all) and the slots free.
    assert_eq!(ledger.settle(&mut w, &alice, &bob), 1_500_000);
    assert_eq!(ledger.settle(&mut w, &carol, &bob), 150_000);
    for u in [&alice, &bob, &carol] {
        assert_eq!(w.position(u, FUT).in_use, 0);
    }
    assert_eq!(w.market(FUT).position_count, 0);

    // Only the admin closes; the rent goes where the admin says.
    let mallory = w.env.new_wallet(66);
    let bad = mixs::close_market(&g, &mallory.pubkey(), &keys.market, &mallory.pubkey());
    w.env.send_err(&[bad], &[&mallory], XmarginError::UnauthorizedAdmin, &watched);
    let rent = w.env.account(&keys.market).unwrap().lamports;
    let before = w.env.account(&admin.pubkey()).unwrap().lamports;
    w.env.send_ok(&[close_ix], &[&admin]);
    assert!(w.env.account(&keys.market).is_none_or(|a| a.lamports == 0));
    assert_eq!(w.env.account(&admin.pubkey()).unwrap().lamports, before + rent);
}

/// With fewer samples than the minimum (5), the price is the first fresh
/// oracle price published at or after expiry: refused while the oracle's
/// publish time is before expiry, then $155 → 1,550,000 per contract.
///
/// ```text
/// settle_expired(Alice): 100 · 1,550,000 − 150,000,000 = +5,000,000
/// settle_pnl(Carol, Bob) before their own settle_expired settles both
///   positions first, at the same per-contract price:
///   Carol  30 · 1,550,000 −  45,300,000 = +1,200,000
///   Bob  −130 · 1,550,000 + 195,300,000 = −6,200,000
///   then moves 1,200,000 at once although the market's 1 % window would
///   allow only ⌊0.01 · 0.3 SOL · 0.15⌋ = 449,999: a settled market has no
///   window. Carol's slot frees; settle_expired(Carol) finds no position.
/// settle_pnl(Alice, Bob): 5,000,000; every slot frees, nothing left over.
/// ```
#[test]
fn too_few_samples_fall_back_to_the_first_price_after_expiry() {
    let Setup { mut w, alice, bob, carol, expiry, mut ledger } = setup_with(100);
    for t in [expiry - 900, expiry - 10] {
        at(&mut w, t, 16_000_000_000);
        w.sample_price(FUT).expect_ok();
    }
    // Expired, the oracle fresh (15 s old) but published before expiry.
    let now = w.env.unix_time();
    w.env.warp(expiry + 5 - now);
    let keys = w.market_keys(FUT);
    let watched = [keys.market, alice.account];
    let ix = mixs::settle_expired(&w.group.group, &keys, &alice.account);
    w.env.send_err(&[ix], &[], XmarginError::MarketNotSettled, &watched);

    w.refresh_prices();
    w.set_price(SOL, 15_500_000_000, CONF);
    let out = w.settle_expired(FUT, &alice);
    out.expect_ok();
    let settled: MarketSettled = event(&out);
    assert!(settled.fallback && !settled.timed_out);
    assert_eq!(settled.sample_count, 2);
    assert_eq!(w.market(FUT).settlement_price.get(), sol_price(15_500_000_000));
    assert_eq!(w.position(&alice, FUT).realized_pnl, 5_000_000);
    ledger.assert_conserved(&w);
    // Fixed once: a later price does not move it, and no window applies.
    at(&mut w, expiry + 30, 20_000_000_000);
    assert_eq!(ledger.settle(&mut w, &carol, &bob), 1_200_000);
    assert_eq!(w.position(&carol, FUT).in_use, 0, "Carol's slot freed");
    let b = w.position(&bob, FUT);
    assert_eq!((b.base_contracts, b.quote_cost, b.realized_pnl), (0, 0, -5_000_000));
    assert_eq!(w.market(FUT).open_interest, 0);
    let carol_ix = mixs::settle_expired(&w.group.group, &keys, &carol.account);
    w.env.send_err(&[carol_ix], &[], XmarginError::NoPosition, &[keys.market, carol.account]);
    ledger.assert_conserved(&w);
    assert_eq!(ledger.settle(&mut w, &alice, &bob), 5_000_000);
    assert_eq!(w.market(FUT).position_count, 0);
}

/// The oracle fallback takes only a price published within the oracle's max
/// age (60 s) after expiry, so the first caller cannot wait for a price it
/// likes: two minutes after expiry a fresh $170 reading is refused with
/// `MarketNotSettled`, nothing changed. An hour after expiry the market
/// settles on what it holds, the two samples' mean:
///
/// ```text
///   E − 900  $160   300 s (gap 900, capped)
///   E −  10  $152   300 s (gap 890, capped)
///   mean = (160 + 152) / 2 = $156 → 1,560,000 per contract
///   Alice 100 · 1,560,000 − 150,000,000 = +6,000,000
/// ```
#[test]
fn a_late_oracle_price_is_refused_and_the_timeout_settles_on_the_samples() {
    let Setup { mut w, alice, bob, carol, expiry, ledger } = setup();
    at(&mut w, expiry - 900, 16_000_000_000);
    w.sample_price(FUT).expect_ok();
    at(&mut w, expiry - 10, 15_200_000_000);
    w.sample_price(FUT).expect_ok();
    assert_eq!(w.market(FUT).sample_secs, 600, "each gap capped at 300 s");

    let keys = w.market_keys(FUT);
    let watched = [keys.market, alice.account];
    let ix = mixs::settle_expired(&w.group.group, &keys, &alice.account);
    at(&mut w, expiry + 120, 17_000_000_000);
    w.env.send_err(std::slice::from_ref(&ix), &[], XmarginError::MarketNotSettled, &watched);
    // Still refused at the last second before the timeout.
    at(&mut w, expiry + SETTLEMENT_TIMEOUT_SECS, 17_000_000_000);
    w.env.send_err(std::slice::from_ref(&ix), &[], XmarginError::MarketNotSettled, &watched);

    at(&mut w, expiry + SETTLEMENT_TIMEOUT_SECS + 1, 17_000_000_000);
    let out = w.settle_expired(FUT, &alice);
    out.expect_ok();
    let settled: MarketSettled = event(&out);
    assert!(settled.fallback && settled.timed_out);
    assert_eq!(
        w.market(FUT).settlement_price.get(),
        mean_of(&[(16_000_000_000, 300), (15_200_000_000, 300)])
    );
    assert_eq!(w.position(&alice, FUT).realized_pnl, 6_000_000);
    w.settle_expired(FUT, &carol).expect_ok();
    w.settle_expired(FUT, &bob).expect_ok();
    ledger.assert_conserved(&w);
}

/// With no sample and the oracle dead since ten minutes before expiry, an
/// hour after expiry the market settles on its stable price, which last
/// moved (a round trip between Dave and Erin at $150) inside the sampling
/// window: Alice's long settles at cost, Carol's 30 at $151 lose $0.30.
#[test]
fn a_dead_oracle_settles_on_a_recent_stable_price_after_the_timeout() {
    let Setup { mut w, alice, bob, carol, expiry, ledger } = setup();
    let (dave, erin) = (w.user(13, [1_000 * MICRO, 0, 0]), w.user(14, [1_000 * MICRO, 0, 0]));
    for u in [&dave, &erin] {
        w.deposit(u, USDC, 1_000 * MICRO).expect_ok();
    }
    at(&mut w, expiry - 600, 15_000_000_000);
    w.trade(FUT, &dave, &erin, 1, 1_500_000).expect_ok();
    w.trade(FUT, &erin, &dave, 1, 1_500_000).expect_ok();
    let m = w.market(FUT);
    assert_eq!((m.stable_price_ts, m.stable_price.get()), (expiry - 600, sol_price(15_000_000_000)));
    assert_eq!(m.position_count, 3, "the round trip left no slot");
    let now = w.env.unix_time();
    w.env.warp(expiry + SETTLEMENT_TIMEOUT_SECS + 1 - now); // no refresh: the oracle is an hour old
    let out = w.settle_expired(FUT, &alice);
    out.expect_ok();
    let settled: MarketSettled = event(&out);
    assert!(settled.timed_out && settled.sample_count == 0);
    assert_eq!(w.market(FUT).settlement_price.get(), sol_price(15_000_000_000));
    assert_eq!(w.position(&alice, FUT).realized_pnl, 0);
    w.settle_expired(FUT, &carol).expect_ok();
    w.settle_expired(FUT, &bob).expect_ok();
    assert_eq!(w.position(&carol, FUT).realized_pnl, -300_000);
    assert_eq!(w.position(&bob, FUT).realized_pnl, 300_000);
    ledger.assert_conserved(&w);
}

/// A stable price that last moved at listing, two hours before expiry, is no
/// price at expiry: with no samples and the oracle dead, the timeout refuses
/// (`MarketNotSettled`, nothing changed) until the oracle lives again, then
/// settles on its first fresh reading, $140: Alice 100 · 1,400,000 −
/// 150,000,000 = −10,000,000.
#[test]
fn a_stale_stable_price_waits_for_the_oracle_to_revive() {
    let Setup { mut w, alice, bob, carol, expiry, ledger } = setup();
    assert!(w.market(FUT).stable_price_ts < expiry - WINDOW);
    let now = w.env.unix_time();
    w.env.warp(expiry + SETTLEMENT_TIMEOUT_SECS + 1 - now);
    let keys = w.market_keys(FUT);
    let ix = mixs::settle_expired(&w.group.group, &keys, &alice.account);
    w.env.send_err(&[ix], &[], XmarginError::MarketNotSettled, &[keys.market, alice.account]);
    w.env.warp(86_400);
    w.refresh_prices();
    w.set_price(SOL, 14_000_000_000, CONF);
    let out = w.settle_expired(FUT, &alice);
    out.expect_ok();
    let settled: MarketSettled = event(&out);
    assert!(settled.fallback && settled.timed_out);
    assert_eq!(w.market(FUT).settlement_price.get(), sol_price(14_000_000_000));
    assert_eq!(w.position(&alice, FUT).realized_pnl, -10_000_000);
    w.settle_expired(FUT, &carol).expect_ok();
    w.settle_expired(FUT, &bob).expect_ok();
    ledger.assert_conserved(&w);
}

/// The time-weighted mean the program computes from `(price expo −8, seconds)`.
fn mean_of(samples: &[(i64, i64)]) -> Fixed {
    let (mut sum, mut secs) = (Fixed::ZERO, 0i64);
    for &(price, dt) in samples {
        sum = sum.checked_add(sol_price(price).checked_mul_int(dt).unwrap()).unwrap();
        secs += dt;
    }
    sum.checked_div_floor(Fixed::from_i64(secs)).unwrap()
}

/// Sampling, expiry settlement and PnL settlement are never paused; trading is.
#[test]
fn expiry_runs_while_the_group_is_paused() {
    let Setup { mut w, alice, bob, carol, expiry, mut ledger } = setup();
    let admin = w.admin.insecure_clone();
    w.env.send_ok(&[set_pause_ix(&w.group.group, &admin.pubkey(), pause::ALL)], &[&admin]);
    at(&mut w, expiry - 60, 15_000_000_000);
    w.sample_price(FUT).expect_ok();
    let watched = [w.market_keys(FUT).market, alice.account, bob.account];
    let ix = w.trade_ix(FUT, &alice, &bob, 1, 1_500_000);
    w.env.send_err(&[ix], &[&alice.wallet, &bob.wallet], XmarginError::GroupPaused, &watched);
    at(&mut w, expiry, 15_200_000_000);
    for u in [&alice, &bob, &carol] {
        w.settle_expired(FUT, u).expect_ok();
    }
    // One sample (< 5): the fallback price $152 → 1,520,000 per contract.
    assert_eq!(ledger.settle(&mut w, &alice, &bob), 2_000_000);
    assert_eq!(ledger.settle(&mut w, &carol, &bob), 300_000);
    assert_eq!(w.market(FUT).position_count, 0);
}

/// Refusals of the expiry instructions on the wrong accounts.
#[test]
fn expiry_refusals() {
    let Setup { mut w, alice, bob, expiry, .. } = setup();
    w.add_market(sol_perp_args(1)).expect_ok();
    let dave = w.user(13, [0, 0, 0]);
    let g = w.group.group;
    let (fut, perp) = (w.market_keys(FUT), w.market_keys(1));
    let watched = [fut.market, perp.market, alice.account, dave.account];
    at(&mut w, expiry - 60, 15_000_000_000);
    // A perpetual neither samples nor expires.
    w.env.send_err(&[mixs::sample_price(&g, &perp)], &[], XmarginError::WrongMarketKind, &watched);
    let ix = mixs::settle_expired(&g, &perp, &alice.account);
    w.env.send_err(&[ix], &[], XmarginError::WrongMarketKind, &watched);
    // Another oracle than the market's.
    let btc = mixs::MarketKeys { market: fut.market, oracle: w.banks[2].oracle };
    w.env.send_err(&[mixs::sample_price(&g, &btc)], &[], XmarginError::WrongOracle, &watched);
    // A stale oracle.
    let now = w.env.unix_time();
    w.env.warp(61);
    w.env.send_err(&[mixs::sample_price(&g, &fut)], &[], XmarginError::OracleStale, &watched);
    // After expiry, an account without a position.
    at(&mut w, now + 120, 15_000_000_000);
    let ix = mixs::settle_expired(&g, &fut, &dave.account);
    w.env.send_err(&[ix], &[], XmarginError::NoPosition, &watched);
    w.settle_expired(FUT, &alice).expect_ok();
    w.settle_expired(FUT, &bob).expect_ok();
    // A perpetual never closes.
    let admin = w.admin.insecure_clone();
    let ix = mixs::close_market(&g, &admin.pubkey(), &perp.market, &admin.pubkey());
    w.env.send_err(&[ix], &[&admin], XmarginError::MarketNotSettled, &watched);
}

/// A future's PnL settles before expiry after SOL moved more than the band
/// (5 %) from the listing price: the market's stable price follows the
/// oracle (at most 20 %/h) even though a future has no funding crank.
#[test]
fn future_pnl_settles_before_expiry_after_a_move() {
    let Setup { mut w, alice, bob, expiry, mut ledger, .. } = setup();
    let t = w.env.unix_time();
    at(&mut w, t + 3_600, 16_000_000_000);
    assert!(t + 3_600 < expiry - WINDOW);
    // Alice: 1 SOL · $160 − $150 = 10,000,000 less the oracle's rounding;
    // the window (0.2 · 1 SOL · stable $160 = 32,000,000) does not bind.
    assert_eq!(ledger.settle(&mut w, &alice, &bob), 9_999_999);
    assert_eq!(w.market(FUT).stable_price.get(), sol_price(16_000_000_000));
}
