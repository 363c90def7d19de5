//! The Init check of a trade values the traded position at the oracle after
//! the fill, even when the slot was empty before it.
//!
//! A position with no base (a slot just opened, or one left with realised
//! PnL only) reads no price: it is valued at a flat stable price. A check
//! that built the account's cache before the fill and then adjusted that
//! position kept the flat stable price for the new base: a long opened
//! after a drop counted the stale stable price as profit.
use xmargin::errors::XmarginError;
use xmargin_test_support::margin::health_view;
use xmargin_test_support::markets::sol_perp_args;
use xmargin_test_support::world::World;

const MICRO: u64 = 1_000_000;

/// SOL falls from $150 to $140 ± 0.10; the market's stable price is still
/// 150. Alice (100 USDC) buys 900 contracts (9 SOL) at $140 from Bob. At the
/// oracle her Init health after is
/// `100 + 9 · (139.90 − 140) − 9 · max(140.10, 150) · 10 % = 100 − 0.9 − 135 = −35.9`:
/// refused. Valued at the flat stable price it was
/// `100 + 9 · (150 − 140) · 50 % − 135 = +10`. 600 contracts pass:
/// `100 − 0.6 − 90 = 9.4 USDC`.
#[test]
fn a_position_opened_by_a_trade_is_valued_at_the_oracle() {
    let mut w = World::new();
    w.add_market(sol_perp_args(0)).expect_ok();
    let alice = w.user(10, [100 * MICRO, 0, 0]);
    let bob = w.user(11, [10_000 * MICRO, 0, 0]);
    w.deposit(&alice, 0, 100 * MICRO).expect_ok();
    w.deposit(&bob, 0, 10_000 * MICRO).expect_ok();
    w.set_price(1, 14_000_000_000, 10_000_000);
    let keys = [alice.account, bob.account, w.market_keys(0).market];
    let ix = w.trade_ix(0, &alice, &bob, 900, 1_400_000);
    w.env.send_err(&[ix], &[&alice.wallet, &bob.wallet], XmarginError::TradeHealthTooLow, &keys);
    w.trade(0, &alice, &bob, 600, 1_400_000).expect_ok();
    let view = health_view(&mut w.env, &w.group.group, &alice.account);
    assert_eq!(view.init, 9_399_999, "9.4 USDC, floored: {view:?}");
}

/// The size premium in a trade's Init check. SOL $150 ± 0.10 (stable
/// 149.90): a long counts at 149.90, its requirement at 150.10. Two SOL
/// perpetuals, market 0 without a premium and market 1 with 1,000 ppm
/// (imf = 0.001 per √contract, contracts of 0.01 SOL).
///
/// Alice (2,500 USDC) buys 10,000 contracts (100 SOL) at $150.00 on market 1:
/// PnL `100 · (149.90 − 150) = −10`; rate `max(10 %, 8 % + 0.001 · √10,000)
/// = 8 % + 10 % = 18 %`, requirement `100 · 150.10 · 18 % = 2,701.80`; Init
/// `2,500 − 10 − 2,701.80 = −211.80`: refused. Carol makes the same trade on
/// market 0 (10 %: requirement 1,501): `2,500 − 10 − 1,501 = +989`, accepted.
/// Alice's 2,500 contracts (25 SOL) on market 1 pass: `√2,500 = 50`, rate
/// `8 % + 5 % = 13 %`, requirement `25 · 150.10 · 13 % = 487.825`, PnL −2.5:
/// Init `2,500 − 2.5 − 487.825 = 2,009.675` USDC.
#[test]
fn a_size_premium_refuses_a_trade_that_passes_without_it() {
    let mut w = World::new();
    w.add_market(sol_perp_args(0)).expect_ok();
    let mut premium = sol_perp_args(1);
    premium.risk.size_premium_ppm = 1_000;
    w.add_market(premium).expect_ok();
    let alice = w.user(10, [2_500 * MICRO, 0, 0]);
    let carol = w.user(12, [2_500 * MICRO, 0, 0]);
    let bob = w.user(11, [10_000 * MICRO, 0, 0]);
    w.deposit(&alice, 0, 2_500 * MICRO).expect_ok();
    w.deposit(&carol, 0, 2_500 * MICRO).expect_ok();
    w.deposit(&bob, 0, 10_000 * MICRO).expect_ok();

    let keys = [alice.account, bob.account, w.market_keys(1).market];
    let ix = w.trade_ix(1, &alice, &bob, 10_000, 1_500_000);
    w.env.send_err(&[ix], &[&alice.wallet, &bob.wallet], XmarginError::TradeHealthTooLow, &keys);

    w.trade(0, &carol, &bob, 10_000, 1_500_000).expect_ok();
    let view = health_view(&mut w.env, &w.group.group, &carol.account);
    assert!((988_999_999..=989_000_000).contains(&view.init), "989 USDC: {view:?}");

    w.trade(1, &alice, &bob, 2_500, 1_500_000).expect_ok();
    let view = health_view(&mut w.env, &w.group.group, &alice.account);
    assert!((2_009_674_999..=2_009_675_000).contains(&view.init), "2,009.675 USDC: {view:?}");
}
