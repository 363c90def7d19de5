//! liquidate_position on option markets: a short call liquidated at the
//! model value of a fresh risk array plus the fee (numbers by hand below),
//! a long call at the model value less a fee on its value, every refusal
//! with its exact error and nothing changed, and the quote value conserved.
//!
//! # The book
//! SOL-CALL (`sol_call_args`): a 30-day European call struck at $165 on
//! 0.01 SOL contracts, σ 60 %; short options at Derive's rates (Init
//! `max(15 % − OTM %, 13 %)`, LiquidationEnd 11 %, Maint 9 % of spot); fees
//! 1 % (liquidator) + 0.5 % (insurance). SOL at $150 ± $0.10: the array
//! (computed at $150) gives the call 4.905403 USDC per SOL, Δ 0.319866,
//! Γ 0.013857 per dollar. Bob deposits 100 USDC and sells Alice 500
//! contracts (5 SOL) at 49,053 µUSDC each (24.5265 USDC). A short is valued
//! at the liability price, $150.10: `4.905403 + 0.319866 · 0.10 +
//! ½ · 0.013857 · 0.10² = 4.937459` per SOL (`option_margin::value_at`), so
//! his Init is `100 + 24.5265 − 5 · 4.937459 − 5 · 13 % · 150.10 = 2.274205`
//! USDC. Carol, the keeper, has 2,000 USDC.
//!
//! # Worked example: SOL rises to $170 ± 0.10, the array is recomputed
//! The array at $170: 14.152347 USDC per SOL, Δ 0.602397, Γ 0.013191.
//! Bob's short at the liability price 170.10 is `14.152347 + 0.0602397 +
//! 0.0000660 = 14.212653` per SOL; it pays 11 % of 170.10 in
//! LiquidationEnd and 9 % in Maint:
//! ```text
//! PnL     = 24.526500 − 5 · 14.212653             = −46.536764
//! Maint   = 100 − 46.536764 − 5 · 9 % · 170.10    = −23.081764   liquidatable
//! LiqEnd  = 100 − 46.536764 − 5 · 11 % · 170.10   = −40.091764
//! ```
//! His equity, 53.46 USDC over 46.54 of losses, does not cap the fees. The
//! contracts change hands at the model value at the oracle, $170 (the
//! array's spot: 141,523.47 µUSDC per contract), plus the fee. A short pays
//! it on spot: 1.5 % · 0.01 · 170 = 25,500 µUSDC per contract (1 %: 17,000 to
//! the liquidator, 0.5 %: 8,500 to the fund). Carol takes the contracts over
//! at `⌈141,523.47 + 17,000⌉` = **158,524** µUSDC each (rounded against Bob).
//! Each contract releases `0.01 · 11 % · 170.10 = 187,110` µUSDC of
//! requirement and costs Bob `167,024 − 142,126.53 = 24,897.47` (all-in price
//! less the value his health counted): a net 162,212.53, so
//! `40,091,764 / 162,212.53 = 247.2`, **248 contracts** (the smallest whole
//! count reaching 0). Bob pays `248 · 8,500 = 2.108` USDC of insurance fee:
//! ```text
//! after 248: −40,091,764 + 248 · 162,212.53 = +136,943 µUSDC   (after 247: −25,269)
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
    assert_eq!(view(&mut w, &bob).init, 2_274_204, "2.274205 USDC less the rounding of the short's value");
    let keys = watched(&w);
    let ix = w.liquidate_position_ix(CALL, &bob, &carol, u64::MAX);
    w.env.send_err(&[ix], &[&carol.wallet], XmarginError::NotLiquidatable, &keys);

    sol_at(&mut w, 170);
    assert!((model_per_contract(&w, CALL) - 141_523.468).abs() < 0.001);
    let before = view(&mut w, &bob);
    assert_eq!((before.maint, before.liquidation_end), (-23_081_763, -40_091_763), "{before:?}");
    let insurance = w.env.token_balance(&w.group.insurance_vault);
    let vault = w.env.token_balance(&w.banks[0].vault);
    let cash = cash_sum(&w, &[&alice, &bob, &carol]);

    let out = w.liquidate_position(CALL, &bob, &carol, u64::MAX);
    println!("liquidate_position (option, 1 + 1 positions): {} CU", out.expect_ok());
    let e = &events::<PositionLiquidated>(&out.logs)[0];
    let o = &events::<OptionPositionLiquidated>(&out.logs)[0];
    assert_eq!((e.contracts, e.price, e.insurance_fee), (-248, 158_524, 2_108_000));
    assert_eq!((e.liqee_liq_end_before, e.liqee_liq_end_after), (-40_091_763, 136_943));
    assert_eq!(
        (o.model_value_per_contract, o.price, o.liquidation_fee_per_contract, o.insurance_fee_per_contract),
        (141_524, 158_524, 17_000, 8_500)
    );
    assert_eq!(w.position(&bob, CALL).base_contracts, -(SIZE as i64) + 248);
    let c = w.position(&carol, CALL);
    assert_eq!((c.base_contracts, c.quote_cost), (-248, -248 * 158_524), "Carol sold at 158,524");
    let after = view(&mut w, &bob);
    assert_eq!(after.liquidation_end, 136_943, "{after:?}");
    assert!(after.liquidation_end < 162_213, "less than one contract's worth above 0");
    assert_eq!(w.flags(&bob) & BEING_LIQUIDATED, 0);
    assert!(view(&mut w, &carol).init >= 0);

    // Quote value conserved: the fee left Bob's balance and the USDC vault for
    // the fund, and the fill moved cash between Bob and Carol only.
    assert_eq!(usdc(&w, &bob), 100_000_000 - 2_108_000);
    assert_eq!(w.env.token_balance(&w.group.insurance_vault) - insurance, 2_108_000);
    assert_eq!(vault - w.env.token_balance(&w.banks[0].vault), 2_108_000);
    assert_eq!(cash_sum(&w, &[&alice, &bob, &carol]), cash);
    assert_market_conservation(&w, CALL, &[&alice, &bob, &carol]);
    assert_eq!(w.market(CALL).open_interest, SIZE, "Carol's short replaces Bob's");

    let keys = watched(&w);
    let ix = w.liquidate_position_ix(CALL, &bob, &carol, u64::MAX);
    w.env.send_err(&[ix], &[&carol.wallet], XmarginError::NotLiquidatable, &keys);
}

/// The oracle moved after the array was computed (within its 2 % drift):
/// the contracts change hands at the model value moved to the oracle, not
/// at the array's. The array at $170 (14.152347 per SOL, Δ 0.602397,
/// Γ 0.013191), SOL then $171 ± 0.10 with no recompute: Bob's short is worth
/// `14.152347 + 0.602397 · 1 + ½ · 0.013191 · 1² = 14.761339` per SOL at the
/// oracle, 147,613.39 µUSDC per contract → **147,614** rounded against him
/// (at the array's value alone he would have bought back at 141,524: 6,090
/// per contract under the option's worth, paid by the liquidator). Carol's
/// price `⌈147,613.39 + 1 % · 171 · 0.01 · 10^6⌉` = **164,714**.
#[test]
fn an_option_liquidates_at_its_value_moved_to_the_oracle() {
    let Book { mut w, alice, bob, carol } = book();
    sol_at(&mut w, 170);
    w.set_price(SOL, 17_100_000_000, 10_000_000);
    let a = w.market(CALL).risk_array;
    let (v, delta, gamma) = (approx_f64(a.value.get()), approx_f64(a.delta.get()), approx_f64(a.gamma.get()));
    // Per contract (0.01 SOL = 10^7 lamports), the move 10^-3 µUSDC per lamport.
    let moved = (v + delta * 1e-3 + 0.5 * gamma * 1e-6) * 1e7;
    assert!((moved - 147_613.39).abs() < 0.01, "{moved}");
    let out = w.liquidate_position(CALL, &bob, &carol, u64::MAX);
    out.expect_ok();
    let o = &events::<OptionPositionLiquidated>(&out.logs)[0];
    assert_eq!(
        (o.model_value_per_contract, o.price, o.liquidation_fee_per_contract),
        (147_614, 164_714, 17_100)
    );
    let e = &events::<PositionLiquidated>(&out.logs)[0];
    assert_eq!(e.price, 164_714);
    assert!(e.liqee_liq_end_after >= 0, "{}", e.liqee_liq_end_after);
    assert_market_conservation(&w, CALL, &[&alice, &bob, &carol]);
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
    assert_eq!(w.position(&carol, CALL).base_contracts, -248);
    assert_eq!(view(&mut w, &bob).liquidation_end, 136_943);
    assert_eq!(w.flags(&bob) & BEING_LIQUIDATED, 0);
    assert_eq!(usdc(&w, &bob), 100_000_000 - 2_108_000);
}

/// A long in-the-money call pays its fee on its value, not on spot.
/// Dave deposits 100 USDC and buys 700 $120 calls (7 SOL) from Alice at
/// 310,542 µUSDC (the model value at $150, 310,541.96, rounded up). The
/// array at $150: 31.054196 per SOL, Δ 0.916705; a long counts it at the
/// asset price 149.90, `31.054196 − 0.0916705 = 30.962526`, a loss of
/// 0.641722 USDC against the 217.3794 paid; Init `100 − 0.641722 − 7 · 10 %
/// · 150.10 · 0.916705 (96.317...)` leaves 3.040106 USDC. SOL falls to $138:
/// ```text
/// array   20.597059 per SOL, Δ 0.815543; at the asset price 137.90: 20.515505
/// PnL     = 7 · 20.515505 − 217.3794                   = −73.770867 USDC
/// req     = 7 · 7.5 % · 138.10 · 0.815543 (below the value) = 59.128872
/// LiqEnd  = 100 − 73.770867 − 59.128872                 = −32.899739
/// traded at the oracle, $138 (the array's spot): 205,970.59 per contract
/// fee     = 1.5 % · 205,970.59 = 3,089.56 per contract (on spot it would be 20,715)
/// Carol pays ⌊205,970.59 − 2,059.71⌋ = 203,910; Dave nets ⌊205,970.59 − 3,089.56⌋ = 202,881
/// slope   = 59,128,872 / 700 − (205,155.05 − 202,881) = 84,469.82 − 2,274.05 = 82,195.77
/// 32,899,739 / 82,195.77 = 400.3 → 401 contracts; after: +60,764 (after 400: −21,432)
/// ```
#[test]
fn a_long_call_pays_its_fee_on_its_value() {
    let Book { mut w, alice, bob, carol } = book();
    let dave = w.user(13, [100 * MICRO, 0, 0]);
    w.deposit(&dave, USDC, 100 * MICRO).expect_ok();
    w.trade(ITM, &dave, &alice, 700, 310_542).expect_ok();
    assert_eq!(view(&mut w, &dave).init, 3_040_106);
    sol_at(&mut w, 138);
    assert_eq!(view(&mut w, &dave).liquidation_end, -32_899_739);
    let out = w.liquidate_position(ITM, &dave, &carol, u64::MAX);
    println!("liquidate_position (long option, 1 + 1 positions): {} CU", out.expect_ok());
    let e = &events::<PositionLiquidated>(&out.logs)[0];
    let o = &events::<OptionPositionLiquidated>(&out.logs)[0];
    assert_eq!((e.contracts, e.price, e.insurance_fee), (401, 203_910, 401 * 1_029));
    assert_eq!((o.model_value_per_contract, o.liquidation_fee_per_contract), (205_970, 2_060));
    assert_eq!(e.liqee_liq_end_after, 60_764);
    assert!(o.liquidation_fee_per_contract + o.insurance_fee_per_contract < o.model_value_per_contract);
    assert_eq!(usdc(&w, &dave), 100_000_000 - 401 * 1_029);
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
    // Healthy (Maint +32.29 USDC at $150).
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

    // Erin has 10 USDC: 248 short calls need 13 % · 170.10 · 2.48 = 54.8 USDC of Init.
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
    assert_eq!(w.position(&carol, CALL).base_contracts, -248);
}
