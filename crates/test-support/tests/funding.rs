//! Perpetual funding (issue 12): `update_funding` over two periods worked by
//! hand, the lazy settlement of each position into its realised PnL with the
//! rounding kept by the protocol, the decay of the mark to the oracle when
//! nobody trades, and every refusal with nothing changed.
//!
//! Units: prices are quote native (µUSDC) per lamport, so SOL at $150 is
//! 0.15; a contract is 0.01 SOL = 10^7 lamports, so $155 is 1,550,000 µUSDC
//! per contract. The market: premium cap 10 % a day, one-hour TWAP window.
use xmargin::errors::XmarginError;
use xmargin::events::FundingUpdated;
use xmargin::state::pause;
use xmargin_client::market_instructions::{self as mixs, MarketKeys};
use xmargin_risk::perp::price_per_native;
use xmargin_risk::perp_funding::{
    blend_mark_premium, funding_delta_per_contract, hourly_funding_rate, mark_sample, trade_premium,
    update_twap,
};
use xmargin_risk::Fixed;
use xmargin_test_support::margin::{approx_f64, set_pause_ix};
use xmargin_test_support::market_checks::{event, sol_price, PnlLedger};
use xmargin_test_support::markets::{perp_desk, sol_future_args, sol_perp_args, SOL_CONTRACT};
use xmargin_test_support::world::{User, World};
use xmargin_test_support::Signer;

const USDC: u16 = 0;
const SOL: u16 = 1;
const PERP: u16 = 0;
const HOUR: i64 = 3_600;
const MICRO: u64 = 1_000_000;
/// $150.00 and $140.00 at expo −8.
const SOL_150: i64 = 15_000_000_000;
const SOL_140: i64 = 14_000_000_000;
const CONF: u64 = 10_000_000;

/// A SOL perpetual (market 0) and Alice and Bob with 1,000 USDC deposited each.
fn setup() -> (World, User, User) {
    perp_desk(PERP)
}

/// The oracle price of one contract as `update_funding` takes it: `⌊twap · 10^7⌋`.
fn contract_price(oracle_twap: Fixed) -> Fixed {
    oracle_twap.checked_mul_floor(Fixed::from_u64(SOL_CONTRACT)).unwrap()
}

fn near(x: Fixed, expected: f64, tolerance: f64) -> bool {
    (approx_f64(x) - expected).abs() <= tolerance
}

/// The issue's worked example, two funding periods. The market's mark depth
/// is 100 contracts: a trade of max(100, open interest) contracts or more
/// sets the mark premium outright, a smaller one moves it in proportion.
///
/// ```text
/// t0        Alice buys 100 contracts (1 SOL) from Bob at $155 while the oracle
///           reads $150: premium 5/150 = 1/30, all of it (100 ≥ depth).
/// t0 + 1 h  update_funding. The hour is folded at the mark in force,
///           oracle · (1 + 1/30) = 0.155:
///             mark_twap = 0.155, oracle_twap = 0.15
///             premium   = (0.155 − 0.15) / 0.15 = 1/30 (3.33 %/day, under the 10 % cap)
///             rate      = (1/30) / 24 = 1/720 = 0.0013889 per hour
///             Δcum      = rate · 0.15 · 10^7 · 3600/3600 = 1,500,000 / 720 = 2083.333 µUSDC/contract
///           and the premium in force returns to 0. Nothing moves into
///           positions yet. Alice then buys 25 more at $157: the trade settles
///           funding into both positions first:
///             Alice (long 100)  −100 · 2083.333 = −208,333.33 → ⌊⌋ = −208,334 (pays the ulp)
///             Bob   (short 100) +208,333.33                  → ⌊⌋ = +208,333
///             funding_dust = 0.67 + 0.33 = 1 µUSDC exactly (Σ credits + dust = 0)
///           and moves the premium toward 7/150 by 25 / max(100, 125 open) = 1/5:
///             premium in force = 7/750 = 0.9333 %
/// t0 + 3 h  SOL falls to $140; update_funding two hours later charges one hour:
///             mark_twap = 0.14 · (1 + 7/750) = 0.141307, oracle_twap = 0.14
///             premium   = 7/750 (the oracle's fall does not make a premium)
///             rate      = (7/750) / 24 = 0.00038889/h
///             Δcum      = 0.00038889 · 1,400,000 = 544.444
///           settle_pnl(Bob, Alice) settles funding first (Alice long 125):
///             Alice −125 · 544.444 = −68,055.56 → −68,056;  Bob +68,055;  dust = 2
///           then PnL at $140 (Alice paid 155,000,000 + 39,250,000 = 194,250,000):
///             Bob   194,250,000 − 175,000,000 + 208,333 + 68,055 = 19,526,388 (settles all)
///             Alice 175,000,000 − 194,250,000 − 208,334 − 68,056 = −19,526,390
///           19,526,388 µUSDC move from Alice's USDC to Bob's; Alice keeps −2 of
///           PnL: the two dust units the protocol holds.
/// ```
#[test]
fn funding_over_two_periods() {
    let (mut w, alice, bob) = setup();
    let mut ledger = PnlLedger::new(&w, PERP, &[&alice, &bob]);
    let cap = w.market(PERP).max_funding_premium.get();
    assert!(near(cap, 0.1, 1e-12));
    let p150 = sol_price(SOL_150);
    let m1 = price_per_native(1_550_000, SOL_CONTRACT).unwrap();
    let premium1 = trade_premium(m1, p150).unwrap();
    assert!(near(premium1, 1.0 / 30.0, 1e-12));

    w.trade(PERP, &alice, &bob, 100, 1_550_000).expect_ok();
    ledger.assert_conserved(&w);
    assert_eq!(w.market(PERP).mark_premium.get(), premium1, "100 contracts: the whole premium");

    // Period 1.
    w.env.warp(HOUR);
    w.refresh_prices();
    let out = w.update_funding(PERP);
    out.expect_ok();
    let m = w.market(PERP);
    let mark1 = mark_sample(p150, premium1).unwrap();
    assert!(near(mark1, 0.155, 1e-12));
    assert_eq!(m.mark_twap.get(), mark1, "the hour stood at the trade's premium");
    assert_eq!(m.oracle_twap.get(), p150);
    let rate1 = hourly_funding_rate(mark1, p150, cap).unwrap();
    assert_eq!(m.last_funding_rate.get(), rate1);
    assert!(near(rate1, 1.0 / 720.0, 1e-12), "rate {}", approx_f64(rate1));
    let delta1 = funding_delta_per_contract(rate1, contract_price(p150), 3_600).unwrap();
    assert_eq!(m.cum_funding.get(), delta1);
    assert!(near(delta1, 2_083.333_333, 1e-5), "Δcum {}", approx_f64(delta1));
    assert_eq!(event::<FundingUpdated>(&out).applied_secs, 3_600);
    assert_eq!(m.mark_premium.get(), Fixed::ZERO, "no trade since: the mark decays to the oracle");
    // Lazy: nothing settled into the positions yet.
    assert_eq!((w.position(&alice, PERP).realized_pnl, w.position(&bob, PERP).realized_pnl), (0, 0));
    assert_eq!(m.funding_dust.get(), Fixed::ZERO);
    ledger.assert_conserved(&w);

    // The next trade settles period 1 into both positions.
    w.trade(PERP, &alice, &bob, 25, 1_570_000).expect_ok();
    let (a, b) = (w.position(&alice, PERP), w.position(&bob, PERP));
    assert_eq!((a.realized_pnl, b.realized_pnl), (-208_334, 208_333));
    assert_eq!((a.base_contracts, a.quote_cost), (125, 194_250_000));
    assert_eq!((b.base_contracts, b.quote_cost), (-125, -194_250_000));
    assert_eq!((a.funding_snapshot.get(), b.funding_snapshot.get()), (delta1, delta1));
    assert_eq!(w.market(PERP).funding_dust.get(), Fixed::ONE, "the payer's ulp");
    let own = trade_premium(price_per_native(1_570_000, SOL_CONTRACT).unwrap(), p150).unwrap();
    let premium2 = blend_mark_premium(Fixed::ZERO, own, 25, 125).unwrap();
    assert_eq!(w.market(PERP).mark_premium.get(), premium2);
    assert!(near(premium2, 7.0 / 750.0, 1e-12), "a fifth of 7/150: {}", approx_f64(premium2));
    ledger.assert_conserved(&w);

    // Period 2: SOL at $140, two hours without a crank.
    w.env.warp(2 * HOUR);
    w.refresh_prices();
    w.set_price(SOL, SOL_140, CONF);
    let out = w.update_funding(PERP);
    out.expect_ok();
    let m = w.market(PERP);
    let p140 = sol_price(SOL_140);
    let m2 = mark_sample(p140, premium2).unwrap();
    assert!(near(m2, 0.141_306_667, 1e-8));
    assert_eq!((m.mark_twap.get(), m.oracle_twap.get()), (m2, p140));
    let rate2 = hourly_funding_rate(m2, p140, cap).unwrap();
    assert!(near(rate2, 7.0 / 750.0 / 24.0, 1e-12), "rate {}", approx_f64(rate2));
    assert_eq!(m.last_funding_rate.get(), rate2);
    let delta2 = funding_delta_per_contract(rate2, contract_price(p140), 3_600).unwrap();
    assert!(near(delta2, 544.444_444, 1e-5), "Δcum {}", approx_f64(delta2));
    assert_eq!(m.cum_funding.get(), delta1.checked_add(delta2).unwrap(), "one hour of two charged");
    assert_eq!(event::<FundingUpdated>(&out).applied_secs, 3_600);
    ledger.assert_conserved(&w);

    // settle_pnl settles period 2's funding, then the PnL at $140.
    let amount = ledger.settle(&mut w, &bob, &alice);
    assert_eq!(amount, 19_526_388);
    let (a, b) = (w.position(&alice, PERP), w.position(&bob, PERP));
    assert_eq!(a.realized_pnl, -208_334 - 68_056 + 19_526_388);
    assert_eq!(b.realized_pnl, 208_333 + 68_055 - 19_526_388);
    assert_eq!(w.market(PERP).funding_dust.get(), Fixed::from_u64(2));
    let cum = w.market(PERP).cum_funding.get();
    assert_eq!((a.funding_snapshot.get(), b.funding_snapshot.get()), (cum, cum));
    // Alice's PnL at $140 after paying: 175,000,000 − 194,250,000 + 19,249,998 = −2.
    assert_eq!(175_000_000 - a.quote_cost + a.realized_pnl, -2);
}

/// The manipulation the size weighting stops. Right after a funding update
/// Alice and Bob (two accounts of one holder, say) print 1 contract near the
/// top of the 5 % band, $157 (premium 7/150 = 4.667 %). With the last trade's
/// price as the mark, the whole next hour would stand at +4.667 % and pay
/// that premium's rate. Weighted by size (1 of 100 contracts) the premium in
/// force is 4.667 % / 100 = 0.0467 %; printing back moves it 1 % of the
/// remaining way (0.0929 %), and the hour's rate is 0.0929 %/24: a fiftieth.
/// Moving it all the way takes a 100-contract trade, margined at Init on
/// both sides.
#[test]
fn a_min_size_print_at_the_band_edge_does_not_steer_funding() {
    let (mut w, alice, bob) = setup();
    let cap = w.market(PERP).max_funding_premium.get();
    let p150 = sol_price(SOL_150);
    w.env.warp(HOUR);
    w.refresh_prices();
    w.update_funding(PERP).expect_ok();
    assert_eq!(w.market(PERP).last_funding_rate.get(), Fixed::ZERO);

    w.trade(PERP, &alice, &bob, 1, 1_570_000).expect_ok();
    let edge = trade_premium(price_per_native(1_570_000, SOL_CONTRACT).unwrap(), p150).unwrap();
    assert!(near(edge, 7.0 / 150.0, 1e-12));
    let premium = w.market(PERP).mark_premium.get();
    assert_eq!(premium, blend_mark_premium(Fixed::ZERO, edge, 1, 100).unwrap());
    assert!(near(premium, 7.0 / 15_000.0, 1e-12), "1/100 of 4.667 %: {}", approx_f64(premium));
    w.trade(PERP, &bob, &alice, 1, 1_570_000).expect_ok(); // and back: flat again
    let second = w.market(PERP).mark_premium.get();
    assert_eq!(second, blend_mark_premium(premium, edge, 1, 100).unwrap());
    assert!(near(second, 0.000_928_667, 1e-9), "1 % of the rest further: {}", approx_f64(second));

    w.env.warp(HOUR);
    w.refresh_prices();
    w.update_funding(PERP).expect_ok();
    let rate = w.market(PERP).last_funding_rate.get();
    assert_eq!(rate, hourly_funding_rate(mark_sample(p150, second).unwrap(), p150, cap).unwrap());
    assert!(near(rate, 0.000_928_667 / 24.0, 1e-10), "rate {}", approx_f64(rate));
    let unweighted = hourly_funding_rate(mark_sample(p150, edge).unwrap(), p150, cap).unwrap();
    assert!(
        rate.checked_mul_int(50).unwrap() < unweighted,
        "{} vs {}",
        approx_f64(rate),
        approx_f64(unweighted)
    );
}

/// Depth grows with the market: against 1,000 open contracts (Carol long,
/// Dave short, at the oracle), Alice and Bob's 100-contract round trip at
/// $157 (+7/150) in one transaction moves the premium by 100/1,100 of the
/// way on the way in and 100/1,000 of the rest on the way out:
/// 7/150 · (1/11 + 10/11 · 1/10) = 7/150 · 2/11 = 0.85 %, not 4.67 %; and
/// the hour's rate follows that.
#[test]
fn a_round_trip_moves_the_mark_in_proportion_to_open_interest() {
    let mut w = World::new();
    w.add_market(sol_perp_args(PERP)).expect_ok();
    let users: Vec<User> = (20..24).map(|seed| w.user(seed, [100_000 * MICRO, 0, 0])).collect();
    for u in &users {
        w.deposit(u, USDC, 100_000 * MICRO).expect_ok();
    }
    let (alice, bob, carol, dave) = (&users[0], &users[1], &users[2], &users[3]);
    let p150 = sol_price(SOL_150);
    w.trade(PERP, carol, dave, 1_000, 1_500_000).expect_ok();
    assert_eq!(w.market(PERP).open_interest, 1_000);
    let before = w.market(PERP).mark_premium.get();
    let round_trip =
        [w.trade_ix(PERP, alice, bob, 100, 1_570_000), w.trade_ix(PERP, bob, alice, 100, 1_570_000)];
    w.env.send_ok(&round_trip, &[&alice.wallet, &bob.wallet]);
    assert_eq!(w.market(PERP).open_interest, 1_000);
    let own = trade_premium(price_per_native(1_570_000, SOL_CONTRACT).unwrap(), p150).unwrap();
    let first = blend_mark_premium(before, own, 100, 1_100).unwrap();
    let second = blend_mark_premium(first, own, 100, 1_000).unwrap();
    let premium = w.market(PERP).mark_premium.get();
    assert_eq!(premium, second);
    assert!(near(premium, 7.0 / 150.0 * 2.0 / 11.0, 1e-9), "premium {}", approx_f64(premium));

    w.env.warp(HOUR);
    w.refresh_prices();
    w.update_funding(PERP).expect_ok();
    let cap = w.market(PERP).max_funding_premium.get();
    let rate = w.market(PERP).last_funding_rate.get();
    assert_eq!(rate, hourly_funding_rate(mark_sample(p150, premium).unwrap(), p150, cap).unwrap());
    assert!(near(rate, 7.0 / 150.0 * 2.0 / 11.0 / 24.0, 1e-9), "rate {}", approx_f64(rate));
}

/// A trade's premium counts for the time it stands, and with nobody trading
/// the mark decays to the oracle. Alice buys 100 contracts at $155 half way
/// through the first hour: the first half folds at the oracle (no premium
/// since listing), the second at $155, so mark_twap = 0.15 + 0.005 · 1800/3600
/// = 0.1525, rate ≈ (1/60)/24 = 1/1440 and Δcum ≈ 1,500,000/1440 = 1,041.67.
/// The update resets the premium; the next hour has no trade: the whole
/// window folds at the oracle, rate 0, the index stays.
#[test]
fn mark_decays_to_the_oracle_without_trades() {
    let (mut w, alice, bob) = setup();
    let ledger = PnlLedger::new(&w, PERP, &[&alice, &bob]);
    let cap = w.market(PERP).max_funding_premium.get();
    let p150 = sol_price(SOL_150);
    w.env.warp(HOUR / 2);
    w.refresh_prices();
    w.trade(PERP, &alice, &bob, 100, 1_550_000).expect_ok();
    assert_eq!(w.market(PERP).mark_twap.get(), p150, "half an hour at the oracle");
    let m1 = mark_sample(p150, w.market(PERP).mark_premium.get()).unwrap();
    w.env.warp(HOUR / 2);
    w.refresh_prices();
    w.update_funding(PERP).expect_ok();
    let m = w.market(PERP);
    let half = update_twap(p150, m1, 1_800, 3_600).unwrap();
    assert_eq!(m.mark_twap.get(), half);
    assert!(near(half, 0.1525, 1e-12));
    let rate = hourly_funding_rate(half, p150, cap).unwrap();
    assert_eq!(m.last_funding_rate.get(), rate);
    assert!(near(rate, 1.0 / 1440.0, 1e-12));
    let delta = funding_delta_per_contract(rate, contract_price(p150), 3_600).unwrap();
    assert!(near(delta, 1_041.666_667, 1e-5));
    assert_eq!(m.cum_funding.get(), delta);
    assert_eq!(m.mark_premium.get(), Fixed::ZERO);
    ledger.assert_conserved(&w);

    w.env.warp(HOUR);
    w.refresh_prices();
    w.update_funding(PERP).expect_ok();
    let m = w.market(PERP);
    assert_eq!(m.mark_twap.get(), p150, "decayed to the oracle");
    assert_eq!(m.last_funding_rate.get(), Fixed::ZERO);
    assert_eq!(m.cum_funding.get(), delta, "nothing charged at rate 0");
    ledger.assert_conserved(&w);
}

/// Every refusal of `update_funding` names its error and changes nothing.
#[test]
fn update_funding_refusals() {
    let (mut w, alice, bob) = setup();
    let now = w.env.unix_time();
    w.add_market(sol_future_args(1, now + 2 * HOUR)).expect_ok();
    w.trade(PERP, &alice, &bob, 100, 1_550_000).expect_ok();
    let g = w.group.group;
    let keys = w.market_keys(PERP);
    let watched = [keys.market, keys.oracle];

    // Less than an hour since the last update (here: the listing), even by
    // a second: a crank after every trade cannot wipe its premium.
    let ix = mixs::update_funding(&g, &keys);
    w.env.send_err(std::slice::from_ref(&ix), &[], XmarginError::FundingNotDue, &watched);
    w.env.warp(HOUR - 1);
    w.refresh_prices();
    w.env.send_err(std::slice::from_ref(&ix), &[], XmarginError::FundingNotDue, &watched);
    w.env.warp(1);
    w.refresh_prices();
    w.env.send_ok(std::slice::from_ref(&ix), &[]);
    w.env.send_err(std::slice::from_ref(&ix), &[], XmarginError::FundingNotDue, &watched);

    // A dated future has no funding.
    w.env.warp(10);
    w.refresh_prices();
    let future = w.market_keys(1);
    let future_ix = mixs::update_funding(&g, &future);
    w.env.send_err(&[future_ix], &[], XmarginError::WrongMarketKind, &[future.market]);

    // Another oracle than the market's.
    let btc = MarketKeys { market: keys.market, oracle: w.banks[2].oracle };
    w.env.send_err(&[mixs::update_funding(&g, &btc)], &[], XmarginError::WrongOracle, &watched);

    // Due again, but the oracle is stale (an hour old, max age 60 s).
    w.env.warp(HOUR);
    w.env.send_err(std::slice::from_ref(&ix), &[], XmarginError::OracleStale, &watched);
    // Fresh again: accepted, even with the whole group paused (funding never is).
    w.refresh_prices();
    let admin = w.admin.insecure_clone();
    w.env.send_ok(&[set_pause_ix(&g, &admin.pubkey(), pause::ALL)], &[&admin]);
    w.env.send_ok(&[ix], &[]);
}
