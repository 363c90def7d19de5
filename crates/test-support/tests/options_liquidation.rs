//! liquidate_position on option markets: a short call liquidated at the
//! model value of a fresh risk array plus the fee (numbers by hand below),
//! a long call at the model value less a fee on its value, every refusal
//! with its exact error and nothing changed, and the quote value conserved.
//!
//! # The book
//! SOL-CALL (`sol_call_args`): a 30-day European call struck at $165 on
//! 0.01 SOL contracts, σ 60 %; short options at Derive's rates (Init
//! `max(15 % − OTM %, 13 %)`, LiquidationEnd 11 %, Maint 9 % of spot); fees
//! 1 % (liquidator) + 0.5 % (insurance). SOL at $150 ± $0.10: the call is
//! worth 0.049053 USDC per contract. Bob deposits 100 USDC and sells Alice
//! 500 contracts (5 SOL) at that price, 49,053 µUSDC each: his Init is
//! `100 − 5 · 13 % · 150.10 = 2.435` USDC (less a few units of rounding).
//! Carol, the keeper, has 2,000 USDC.
//!
//! # Worked example: SOL rises to $170 ± 0.10, the array is recomputed
//! The call is now worth 14.1523 USDC per SOL: the array's model value is
//! 141,523.47 µUSDC per contract. Bob owes it on 500 contracts against the
//! 24.5265 USDC he received; his short pays 11 % of the LiquidationEnd price
//! (170.10) and 9 % in Maint:
//! ```text
//! PnL     = 24.526500 − 500 · 0.14152347          = −46.235234
//! Maint   = 100 − 46.235234 − 5 · 9 % · 170.10    = −22.780234   liquidatable
//! LiqEnd  = 100 − 46.235234 − 5 · 11 % · 170.10   = −39.790234
//! ```
//! His equity at the model value, 53.76 USDC over 46.24 of losses, does not
//! cap the fees. A short pays them on spot: 1.5 % · 0.01 · 170 = 25,500 µUSDC
//! per contract (1 %: 17,000 to the liquidator, 0.5 %: 8,500 to the fund).
//! Carol takes the contracts over at `⌈141,523.47 + 17,000⌉` = **158,524**
//! µUSDC each (rounded against Bob). Each contract releases
//! `0.01 · 11 % · 170.10 = 187,110` µUSDC of requirement and costs Bob
//! `167,024 − 141,523.47 = 25,500.53` in price and fee: a net 161,609.47, so
//! `39,790,234 / 161,609.47 = 246.2`, **247 contracts** (the smallest whole
//! count reaching 0). Bob pays `247 · 8,500 = 2.0995` USDC of insurance fee:
//! ```text
//! after 247: −39,790,234 + 247 · 161,609.47 = +127,304 µUSDC   (after 246: −34,305)
//! ```
use xmargin::errors::XmarginError;
use xmargin::events::{OptionPositionLiquidated, PositionLiquidated};
use xmargin::options::RISK_ARRAY_MAX_AGE_SECS;
use xmargin::state::account_flags::BEING_LIQUIDATED;
use xmargin_risk::Rounding;
use xmargin_test_support::margin::{approx_f64, health_view, native_balance};
use xmargin_test_support::markets::{assert_market_conservation, events};
use xmargin_test_support::options::{sol_call_args, sol_put_args, STRIKE_165, THIRTY_DAYS};
use xmargin_test_support::world::{User, World};
use xmargin_test_support::Address;

const USDC: u16 = 0;
const SOL: u16 = 1;
const CALL: u16 = 0;
const PUT: u16 = 1;
/// A $120 call: in the money at $150.
const ITM: u16 = 2;
const MICRO: u64 = 1_000_000;
/// Model value of the $165 call per contract at $150 (`options_listing`).
const MODEL_150: u64 = 49_053;
/// 500 contracts: 5 SOL.
const SIZE: u64 = 500;

struct Book {
    w: World,
    alice: User,
    bob: User,
    carol: User,
}

/// The book of the module docs, plus a $135 put (market 1) nobody holds
/// and a $120 call (market 2).
fn book() -> Book {
    let mut w = World::new();
    let expiry = w.env.unix_time() + THIRTY_DAYS;
    w.add_option_market(sol_call_args(CALL, STRIKE_165, expiry)).expect_ok();
    w.add_option_market(sol_put_args(PUT, 1_350_000, expiry)).expect_ok();
    w.add_option_market(sol_call_args(ITM, 1_200_000, expiry)).expect_ok();
    for m in [CALL, PUT, ITM] {
        w.update_risk_array(m).expect_ok();
    }
    let alice = w.user(10, [1_000 * MICRO, 0, 0]);
    let bob = w.user(11, [100 * MICRO, 0, 0]);
    let carol = w.user(12, [2_000 * MICRO, 0, 0]);
    w.deposit(&alice, USDC, 1_000 * MICRO).expect_ok();
    w.deposit(&bob, USDC, 100 * MICRO).expect_ok();
    w.deposit(&carol, USDC, 2_000 * MICRO).expect_ok();
    w.trade(CALL, &alice, &bob, SIZE, MODEL_150).expect_ok();
    Book { w, alice, bob, carol }
}

/// SOL at `dollars` ± $0.10, the option arrays recomputed there.
fn sol_at(w: &mut World, dollars: i64) {
    w.set_price(SOL, dollars * 100_000_000, 10_000_000);
    for m in [CALL, PUT, ITM] {
        w.update_risk_array(m).expect_ok();
    }
}

fn view(w: &mut World, user: &User) -> xmargin::instructions::HealthView {
    health_view(&mut w.env, &w.group.group, &user.account)
}

fn usdc(w: &World, user: &User) -> i64 {
    native_balance(&w.env, &w.group.group, &user.account, USDC).to_i64(Rounding::Floor).unwrap()
}

/// The array's model value per contract (µUSDC, unrounded).
fn model_per_contract(w: &World, market: u16) -> f64 {
    let m = w.market(market);
    approx_f64(m.risk_array.value.get()) * m.contract_size as f64
}

/// Everything a liquidation may write.
fn watched(w: &World) -> Vec<Address> {
    let mut v = w.accounts.clone();
    v.extend([CALL, PUT, ITM].map(|m| w.market_keys(m).market));
    v.extend(w.banks.iter().map(|k| k.bank));
    v.extend([w.banks[0].vault, w.group.insurance_vault]);
    v
}

/// `Σ (realized_pnl − quote_cost)` over the holders of the call: every fill
/// moves it by `−delta · price` on each side, so a liquidation leaves it.
fn cash_sum(w: &World, users: &[&User]) -> i64 {
    users.iter().map(|u| w.position(u, CALL)).map(|p| p.realized_pnl - p.quote_cost).sum()
}

#[test]
fn worked_example_a_short_call_to_liquidation_end_zero() {
    let Book { mut w, alice, bob, carol } = book();
    assert_eq!(view(&mut w, &bob).init, 2_434_484, "2.435 USDC less the rounding of the short's value");
    let keys = watched(&w);
    let ix = w.liquidate_position_ix(CALL, &bob, &carol, u64::MAX);
    w.env.send_err(&[ix], &[&carol.wallet], XmarginError::NotLiquidatable, &keys);

    sol_at(&mut w, 170);
    assert!((model_per_contract(&w, CALL) - 141_523.468).abs() < 0.001);
    let before = view(&mut w, &bob);
    assert_eq!((before.maint, before.liquidation_end), (-22_780_235, -39_790_235), "{before:?}");
    let insurance = w.env.token_balance(&w.group.insurance_vault);
    let vault = w.env.token_balance(&w.banks[0].vault);
    let cash = cash_sum(&w, &[&alice, &bob, &carol]);

    let out = w.liquidate_position(CALL, &bob, &carol, u64::MAX);
    println!("liquidate_position (option, 1 + 1 positions): {} CU", out.expect_ok());
    let e = &events::<PositionLiquidated>(&out.logs)[0];
    let o = &events::<OptionPositionLiquidated>(&out.logs)[0];
    assert_eq!((e.contracts, e.price, e.insurance_fee), (-247, 158_524, 2_099_500));
    assert_eq!((e.liqee_liq_end_before, e.liqee_liq_end_after), (-39_790_235, 127_304));
    assert_eq!(
        (o.model_value_per_contract, o.price, o.liquidation_fee_per_contract, o.insurance_fee_per_contract),
        (141_524, 158_524, 17_000, 8_500)
    );
    assert_eq!(w.position(&bob, CALL).base_contracts, -(SIZE as i64) + 247);
    let c = w.position(&carol, CALL);
    assert_eq!((c.base_contracts, c.quote_cost), (-247, -247 * 158_524), "Carol sold at 158,524");
    let after = view(&mut w, &bob);
    assert_eq!(after.liquidation_end, 127_304, "{after:?}");
    assert!(after.liquidation_end < 161_610, "less than one contract's worth above 0");
    assert_eq!(w.flags(&bob) & BEING_LIQUIDATED, 0);
    assert!(view(&mut w, &carol).init >= 0);

    // Quote value conserved: the fee left Bob's balance and the USDC vault for
    // the fund, and the fill moved cash between Bob and Carol only.
    assert_eq!(usdc(&w, &bob), 100_000_000 - 2_099_500);
    assert_eq!(w.env.token_balance(&w.group.insurance_vault) - insurance, 2_099_500);
    assert_eq!(vault - w.env.token_balance(&w.banks[0].vault), 2_099_500);
    assert_eq!(cash_sum(&w, &[&alice, &bob, &carol]), cash);
    assert_market_conservation(&w, CALL, &[&alice, &bob, &carol]);
    assert_eq!(w.market(CALL).open_interest, SIZE, "Carol's short replaces Bob's");

    let keys = watched(&w);
    let ix = w.liquidate_position_ix(CALL, &bob, &carol, u64::MAX);
    w.env.send_err(&[ix], &[&carol.wallet], XmarginError::NotLiquidatable, &keys);
}

/// Steps capped at 100 contracts keep `BEING_LIQUIDATED` until the last
/// one, which ends where the single step did (the prices per contract are
/// the same integers).
#[test]
fn capped_steps_end_where_one_step_does() {
    let Book { mut w, bob, carol, .. } = book();
    sol_at(&mut w, 170);
    w.liquidate_position(CALL, &bob, &carol, 100).expect_ok();
    assert_eq!(w.flags(&bob) & BEING_LIQUIDATED, BEING_LIQUIDATED);
    w.liquidate_position(CALL, &bob, &carol, 100).expect_ok();
    w.liquidate_position(CALL, &bob, &carol, u64::MAX).expect_ok();
    assert_eq!(w.position(&carol, CALL).base_contracts, -247);
    assert_eq!(view(&mut w, &bob).liquidation_end, 127_304);
    assert_eq!(w.flags(&bob) & BEING_LIQUIDATED, 0);
    assert_eq!(usdc(&w, &bob), 100_000_000 - 2_099_500);
}

/// A long in-the-money call pays its fee on its value, not on spot.
/// Dave deposits 100 USDC and buys 700 $120 calls (7 SOL) from Alice at
/// 310,542 µUSDC (the model value at $150, 310,541.96, rounded up); Init
/// `100 − 7 · 10 % · 150.10 · Δ 0.9167` leaves 3.68 USDC. SOL falls to $138:
/// ```text
/// model 205,970.59 per contract, Δ 0.8155
/// PnL     = 700 · (205,970.59 − 310,542)                 = −73.199987 USDC
/// req     = 7 · 7.5 % · 138.10 · 0.8155 (below the value) = 59.128872
/// LiqEnd  = 100 − 73.199987 − 59.128872                  = −32.328859
/// fee     = 1.5 % · 205,970.59 = 3,089.56 per contract (on spot it would be 20,715)
/// Carol pays ⌊205,970.59 − 2,059.71⌋ = 203,910; Dave nets ⌊205,970.59 − 3,089.56⌋ = 202,881
/// slope   = 59,128,872 / 700 − (205,970.59 − 202,881) = 84,469.82 − 3,089.59 = 81,380.23
/// 32,328,859 / 81,380.23 = 397.3 → 398 contracts; after: +60,471 (after 397: −20,909)
/// ```
#[test]
fn a_long_call_pays_its_fee_on_its_value() {
    let Book { mut w, alice, bob, carol } = book();
    let dave = w.user(13, [100 * MICRO, 0, 0]);
    w.deposit(&dave, USDC, 100 * MICRO).expect_ok();
    w.trade(ITM, &dave, &alice, 700, 310_542).expect_ok();
    assert_eq!(view(&mut w, &dave).init, 3_681_800);
    sol_at(&mut w, 138);
    assert_eq!(view(&mut w, &dave).liquidation_end, -32_328_859);
    let out = w.liquidate_position(ITM, &dave, &carol, u64::MAX);
    println!("liquidate_position (long option, 1 + 1 positions): {} CU", out.expect_ok());
    let e = &events::<PositionLiquidated>(&out.logs)[0];
    let o = &events::<OptionPositionLiquidated>(&out.logs)[0];
    assert_eq!((e.contracts, e.price, e.insurance_fee), (398, 203_910, 398 * 1_029));
    assert_eq!((o.model_value_per_contract, o.liquidation_fee_per_contract), (205_970, 2_060));
    assert_eq!(e.liqee_liq_end_after, 60_471);
    assert!(o.liquidation_fee_per_contract + o.insurance_fee_per_contract < o.model_value_per_contract);
    assert_eq!(usdc(&w, &dave), 100_000_000 - 398 * 1_029);
    assert_market_conservation(&w, ITM, &[&alice, &dave, &carol]);
    let _ = bob;
}

/// Every refusal with its exact error and every account unchanged: a
/// healthy account, a stale array, a drifted one, a liquidator that would
/// end below Init, a market the liquidatee holds nothing in.
#[test]
fn refusals_change_nothing() {
    let Book { mut w, alice, bob, carol } = book();
    let keys = watched(&w);
    // Healthy (Maint +32.45 USDC at $150).
    let ix = w.liquidate_position_ix(CALL, &bob, &carol, u64::MAX);
    w.env.send_err(&[ix], &[&carol.wallet], XmarginError::NotLiquidatable, &keys);

    // Ten minutes and a second later the array is stale (the oracle is republished).
    sol_at(&mut w, 170);
    w.env.warp(RISK_ARRAY_MAX_AGE_SECS as i64 + 1);
    w.refresh_prices();
    let keys = watched(&w);
    let ix = w.liquidate_position_ix(CALL, &bob, &carol, u64::MAX);
    let failure = w.env.send_err(&[ix], &[&carol.wallet], XmarginError::RiskArrayStale, &keys);
    assert!(failure.logs.iter().any(|l| l.contains("601")), "the age is logged");
    // Recomputed at $170, then SOL +2 % (173.40): drifted.
    sol_at(&mut w, 170);
    w.set_price(SOL, 17_340_000_000, 10_000_000);
    let keys = watched(&w);
    let ix = w.liquidate_position_ix(CALL, &bob, &carol, u64::MAX);
    w.env.send_err(&[ix], &[&carol.wallet], XmarginError::RiskArrayDrifted, &keys);
    sol_at(&mut w, 170);

    // Erin has 10 USDC: 247 short calls need 13 % · 170.10 · 2.47 = 54.6 USDC of Init.
    let erin = w.user(14, [10 * MICRO, 0, 0]);
    w.deposit(&erin, USDC, 10 * MICRO).expect_ok();
    let keys = watched(&w);
    let ix = w.liquidate_position_ix(CALL, &bob, &erin, u64::MAX);
    w.env.send_err(&[ix], &[&erin.wallet], XmarginError::LiquidatorHealthTooLow, &keys);

    // Bob holds no put.
    let ix = w.liquidate_position_ix(PUT, &bob, &carol, u64::MAX);
    w.env.send_err(&[ix], &[&carol.wallet], XmarginError::NoPosition, &keys);
    // Alice's long is healthy (in profit).
    let ix = w.liquidate_position_ix(CALL, &alice, &carol, u64::MAX);
    w.env.send_err(&[ix], &[&carol.wallet], XmarginError::NotLiquidatable, &keys);

    // With a fresh array the same liquidation goes through.
    w.liquidate_position(CALL, &bob, &carol, u64::MAX).expect_ok();
    assert_eq!(w.position(&carol, CALL).base_contracts, -247);
}
