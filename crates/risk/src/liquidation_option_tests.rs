//! Option liquidation sizing: worked examples (a short call, a long call, a
//! fee capped at half the release, closing everything) and the properties:
//! never over-liquidates, never lowers health, lands on the smallest whole
//! count reaching LiquidationEnd 0 or closes the position.

use super::*;
use crate::health::option_margin::ArrayValue;
use crate::health::{DerivativeInfo, HealthType, MarginMode, MarginRates, OptionTerms, PnlLimits};
use crate::price::BiasedPrices;
use crate::testutil::*;
use proptest::prelude::*;

const MARKET: u16 = 3;
/// Quote native per quote token in these examples (µUSDC), so the prices per
/// contract are whole numbers with room for rounding.
const M: i64 = 1_000_000;

fn fees(liq: &str, ins: &str) -> OptionFees {
    OptionFees { liquidation: fx(liq), insurance: fx(ins) }
}

/// An option of `contracts` contracts of `cs` units (negative: short), model
/// value `value` and Δ per unit, spot `spot` (flat), cost basis `cost`.
fn option(contracts: i64, cs: u64, value: Fixed, delta: &str, spot: Fixed, cost: Fixed) -> DerivativeInfo {
    let base = Fixed::from_i64(contracts).checked_mul_int(cs as i64).unwrap();
    let array = ArrayValue { spot, value, delta: fx(delta), gamma: Fixed::ZERO };
    option_at(base, cs, array, BiasedPrices::flat(spot), cost)
}

/// A 30-day call struck at its array's spot, `base` units in contracts of
/// `cs`, valued from `array` at `prices`, cost basis `cost`.
fn option_at(base: Fixed, cs: u64, array: ArrayValue, prices: BiasedPrices, cost: Fixed) -> DerivativeInfo {
    let terms = OptionTerms {
        is_call: true,
        strike: array.spot,
        seconds_to_expiry: 30 * 86_400,
        vol: fx("0.6"),
        rate: Fixed::ZERO,
    };
    let rates = MarginRates { contract_size: cs, ..perp_rates() };
    DerivativeInfo::new_option_from_array(MARKET, 1, terms, base, cost, prices, rates, array).unwrap()
}

fn book(quote: i64, d: DerivativeInfo) -> HealthCache {
    HealthCache::new(vec![usdc(0, Fixed::from_i64(quote))], vec![d], MarginMode::Linear).unwrap()
}

/// The cache after the step as the program applies it: the fill at the
/// liquidator's price, the insurance fee out of the quote balance.
fn apply(cache: &HealthCache, k: u64, step: &OptionLiquidation) -> HealthCache {
    let d = cache.derivative(MARKET).unwrap();
    let cs = d.rates.contract_size as i64;
    let delta = if d.base.is_positive() { -(k as i64) } else { k as i64 };
    let mut after = cache.clone();
    after
        .adjust_derivative(
            MARKET,
            Fixed::from_i64(delta * cs),
            Fixed::from_i64(delta).checked_mul_floor(Fixed::from_u64(step.price)).unwrap(),
        )
        .unwrap();
    let fee = Fixed::from_u64(k * step.insurance_per_contract);
    after.adjust_token_balance(0, fee.checked_neg().unwrap()).unwrap();
    after
}

fn liq_end(c: &HealthCache) -> Fixed {
    c.health(HealthType::LiquidationEnd).unwrap()
}

/// 100 short calls of one unit: spot 150 USDC (150·M native per unit), model
/// value 10 USDC, sold at 4 (cost −400), 1,650 USDC of quote.
/// ```text
/// PnL      = 400 − 100 · 10                    = −600
/// LiqEnd   = 1,650 − 600 − 100 · 11 % · 150     = −600        Maint = 1,650 − 600 − 1,350 = −300
/// fee/unit = 1.5 % · 150 = 2.25 (half the release, 8.25, does not bind)
/// slope    = 16.50 − 2.25 = 14.25 per contract;  600 / 14.25 = 42.1 → 43 contracts
/// after 43 = −600 + 43 · 14.25 = +12.75;  after 42 = −1.50
/// ```
/// Prices per contract: the liquidator sells at `⌈10 + 1 % · 150⌉` = 11.50
/// USDC (11,500,001 µUSDC: the short owes one ulp more than the model value
/// and the rounding goes against it), the insurance part 0.75 USDC.
#[test]
fn a_short_call_worked_example() {
    let spot = Fixed::from_i64(150 * M);
    let d = option(-100, 1, Fixed::from_i64(10 * M), "0.5", spot, Fixed::from_i64(-400 * M));
    let c = book(1_650 * M, d);
    assert!(near(liq_end(&c), -600.0 * M as f64, 1.0));
    assert!(near(c.health(HealthType::Maint).unwrap(), -300.0 * M as f64, 1.0));
    let step = max_option_liquidation(&c, MARKET, fees("0.01", "0.005"), (Some(0), u64::MAX), false).unwrap();
    assert_eq!(step.contracts, 43);
    assert_eq!(step.evaluations, 2, "the closed form and its neighbour");
    assert_eq!(step.model_per_contract, 10_000_001, "owed value, rounded up");
    assert_eq!(step.price, 11_500_001);
    assert_eq!(step.insurance_per_contract, 750_000);
    let after = apply(&c, 43, &step);
    assert_eq!(liq_end(&after), step.health_after);
    assert!(near(step.health_after, 12.75 * M as f64, 100.0), "{}", step.health_after);
    assert!(near(liq_end(&apply(&c, 42, &step)), -1.5 * M as f64, 100.0));
    // The liquidator's cap: 10 contracts, one evaluation (health after 10 < 0).
    let capped = max_option_liquidation(&c, MARKET, fees("0.01", "0.005"), (Some(0), 10), false).unwrap();
    assert_eq!((capped.contracts, capped.evaluations), (10, 1));
    assert_eq!(capped.health_after, liq_end(&apply(&c, 10, &capped)));
    // A cap above the answer changes nothing.
    let loose = max_option_liquidation(&c, MARKET, fees("0.01", "0.005"), (Some(0), 50), false).unwrap();
    assert_eq!(loose, step);
}

/// The oracle moved since the array was computed: the same 100 long calls
/// (array: value 10, Δ 0.5, Γ 0 at 150), SOL now 153 ± 1 (asset 152,
/// liability 154), bought at 30, 2,200 USDC of quote. Health counts the
/// calls at the asset price, the contracts change hands at the oracle:
/// ```text
/// value/unit (LiqEnd, at 152) = 10 + 0.5 · 2 = 11;   at the oracle 153: 10 + 0.5 · 3 = 11.5
/// requirement/unit = 7.5 % · 154 · 0.5 = 5.775 (below the value)
/// LiqEnd   = 2,200 + 1,100 − 3,000 − 577.5 = −277.5
/// fee/unit = 1.5 % · 11.5 = 0.1725 (liquidator 0.115, insurance 0.0575)
/// slope    = (11.5 − 0.1725 − 11) + 5.775 = 6.1025;  277.5 / 6.1025 = 45.5 → 46 contracts
/// after 46 = −277.5 + 46 · 6.1025 = +3.215;  after 45 = −2.8875
/// ```
/// At the array's value alone the liquidatee would have sold at 10 − 0.10:
/// 1.485 USDC per contract less than the option is worth at the oracle.
#[test]
fn a_long_call_after_the_oracle_moved_trades_at_the_oracle() {
    let array = ArrayValue {
        spot: Fixed::from_i64(150 * M),
        value: Fixed::from_i64(10 * M),
        delta: fx("0.5"),
        gamma: Fixed::ZERO,
    };
    let prices = biased("153000000", "1000000", "153000000");
    let d = option_at(fx("100"), 1, array, prices, Fixed::from_i64(3_000 * M));
    assert_eq!(d.option_oracle_unit_value().unwrap(), Some(Fixed::from_i64(11_500_000)));
    let c = book(2_200 * M, d);
    assert!(near(liq_end(&c), -277.5 * M as f64, 1.0), "{}", liq_end(&c));
    let step = max_option_liquidation(&c, MARKET, fees("0.01", "0.005"), (Some(0), u64::MAX), false).unwrap();
    assert_eq!(step.contracts, 46);
    assert_eq!(step.model_per_contract, 11_500_000);
    assert!(step.price.abs_diff(11_385_000) <= 1, "{}", step.price);
    assert!(step.insurance_per_contract.abs_diff(57_500) <= 1, "{}", step.insurance_per_contract);
    assert!(near(step.health_after, 3.215 * M as f64, 100.0), "{}", step.health_after);
    assert_eq!(liq_end(&apply(&c, 46, &step)), step.health_after);
    assert!(near(liq_end(&apply(&c, 45, &step)), -2.8875 * M as f64, 100.0));
    // Oracle equity counts the calls at the oracle too: 100 · 11.5 − 3,000 + 2,200.
    assert!(near(crate::liquidation::oracle_equity(&c).unwrap(), 350.0 * M as f64, 1.0));
}

/// A short moved in its favour since the array: 100 short calls (array:
/// value 10, Δ 0.5, Γ 0.01 per USDC at 150), SOL now at a flat 147. Health
/// keeps the short at its sound bound `V` = 10; the contracts change hands
/// at the central estimate at the oracle, `10 − 0.5·3 + ½·0.01·3² = 8.545`
/// (not at the stale 10: the liquidatee would overpay 1.455 per contract,
/// nearly the whole 1.47 fee again), plus the liquidation fee 1 % · 147 = 1.47.
#[test]
fn a_short_after_a_favourable_move_trades_at_the_central_value() {
    let spot = Fixed::from_i64(150 * M);
    // Γ per µUSDC of price: 0.01 per USDC is 10^-8 per µUSDC.
    let gamma = Fixed::from_ratio(1, 100_000_000, crate::Rounding::Ceil).unwrap();
    let array = ArrayValue { spot, value: Fixed::from_i64(10 * M), delta: fx("0.5"), gamma };
    let prices = BiasedPrices::flat(Fixed::from_i64(147 * M));
    let d = option_at(fx("-100"), 1, array, prices, Fixed::from_i64(-400 * M));
    let owed = d.value(HealthType::LiquidationEnd).unwrap().checked_neg().unwrap();
    // Health keeps the short at V and one ulp per unit: 100 · (10 + 2^-48).
    assert_eq!(owed, Fixed::from_i64(1_000 * M).checked_add(Fixed::from_bits(100)).unwrap());
    let fair = d.option_oracle_unit_value().unwrap().unwrap();
    assert!(near(fair, 8_545_000.0, 1.0), "{fair}");
    let c = book(1_650 * M, d);
    let step = max_option_liquidation(&c, MARKET, fees("0.01", "0.005"), (Some(0), u64::MAX), false).unwrap();
    assert!(step.model_per_contract.abs_diff(8_545_001) <= 1, "{}", step.model_per_contract);
    assert!(step.price.abs_diff(10_015_001) <= 1, "{}", step.price);
    assert_eq!(liq_end(&apply(&c, step.contracts, &step)), step.health_after);
    // LiqEnd before: 1,650 + 400 − 100 · 10 − 100 · 11 % · 147 = −567. Each
    // contract releases 16.17 and costs 10.75 (8.545 + 1.5 % · 147) − 10 =
    // 0.75 of PnL: 15.42 net, 567 / 15.42 = 36.8 → 37, +3.54 after.
    assert_eq!(step.contracts, 37);
    assert!(near(step.health_after, 3.54 * M as f64, 0.01 * M as f64), "{}", step.health_after);
    // Oracle equity counts the calls at the central value too: 1,650 + 400 − 100 · 8.545.
    assert!(near(crate::liquidation::oracle_equity(&c).unwrap(), 1_195.5 * M as f64, 1.0));
}

/// 100 long calls of one unit: model value 10, Δ 0.5, spot 150, bought at
/// 30 (cost 3,000), 2,200 USDC of quote.
/// ```text
/// requirement/unit = 7.5 % · 150 · 0.5 = 5.625 (below the value, 10)
/// LiqEnd   = 2,200 + 1,000 − 3,000 − 562.5 = −362.5     Maint = 200 − 375 = −175
/// fee/unit = 1.5 % · 10 = 0.15 (on the value, not on spot)
/// slope    = 5.625 − 0.15 = 5.475;  362.5 / 5.475 = 66.2 → 67 contracts
/// after 67 = −362.5 + 67 · 5.475 = +4.325;  after 66 = −1.15
/// ```
/// The liquidator buys at `⌊10 − 1 % · 10⌋` = 9.90 USDC (9,899,999 µUSDC:
/// 0.01 is not exact in binary and the fee is rounded up), insurance 0.05.
#[test]
fn a_long_call_worked_example() {
    let spot = Fixed::from_i64(150 * M);
    let d = option(100, 1, Fixed::from_i64(10 * M), "0.5", spot, Fixed::from_i64(3_000 * M));
    let c = book(2_200 * M, d);
    assert!(near(liq_end(&c), -362.5 * M as f64, 1.0));
    let step = max_option_liquidation(&c, MARKET, fees("0.01", "0.005"), (Some(0), u64::MAX), false).unwrap();
    assert_eq!(step.contracts, 67);
    assert_eq!(step.evaluations, 2);
    assert_eq!(step.model_per_contract, 10_000_000);
    assert_eq!(step.price, 9_899_999);
    assert_eq!(step.insurance_per_contract, 50_000);
    assert!(near(step.health_after, 4.325 * M as f64, 100.0), "{}", step.health_after);
    assert_eq!(liq_end(&apply(&c, 67, &step)), step.health_after);
    assert!(near(liq_end(&apply(&c, 66, &step)), -1.15 * M as f64, 100.0));
}

/// A deep in-the-money put (value 90, Δ −0.1): 1.5 % of its value (1.35) is
/// more than half the requirement it releases (7.5 % · 150 · 0.1 = 1.125):
/// the fee is capped at 0.5625 per unit, so each contract still gains
/// 0.5625, and a long never pays more than its value.
#[test]
fn a_fee_larger_than_half_the_release_is_capped() {
    let spot = Fixed::from_i64(150 * M);
    let d = option(100, 1, Fixed::from_i64(90 * M), "-0.1", spot, Fixed::from_i64(9_100 * M));
    // LiqEnd = q + 9,000 − 9,100 − 112.5: q = 150 → −62.5 (Maint −25).
    let c = book(150 * M, d);
    let step = max_option_liquidation(&c, MARKET, fees("0.01", "0.005"), (Some(0), u64::MAX), false).unwrap();
    // The liquidation fee alone (0.90) is capped too: both at half the release.
    // 90 − 0.5625 = 89.4375 per contract, floored (the half is rounded down, the fee up).
    assert_eq!((step.price, step.insurance_per_contract), (89_437_499, 0));
    // 62.5 / 0.5625 = 111.1: more than the position; all 100 go, health rises by 56.25.
    assert_eq!(step.contracts, 100);
    assert!(near(step.health_after, -6.25 * M as f64, 100.0), "{}", step.health_after);
}

#[test]
fn refusals() {
    let spot = Fixed::from_i64(150 * M);
    let short = |quote: i64| {
        book(quote, option(-100, 1, Fixed::from_i64(10 * M), "0.5", spot, Fixed::from_i64(-400 * M)))
    };
    // Healthy: Maint = q − 600 − 1,350 ≥ 0.
    let f = fees("0.01", "0.005");
    assert_eq!(
        max_option_liquidation(&short(2_000 * M), MARKET, f, (Some(0), u64::MAX), false),
        Err(RiskError::NotLiquidatable)
    );
    // Maint ≥ 0 > LiquidationEnd: only while being liquidated.
    let between = short(1_990 * M);
    assert!(max_option_liquidation(&between, MARKET, f, (Some(0), u64::MAX), false).is_err());
    assert!(max_option_liquidation(&between, MARKET, f, (Some(0), u64::MAX), true).is_ok());
    // Not an option, no such market, fees of 100 %.
    let perp_book = HealthCache::new(
        vec![usdc(0, fx("10"))],
        vec![perp(MARKET, 1, "10", "1500", "140")],
        MarginMode::Linear,
    )
    .unwrap();
    assert_eq!(
        max_option_liquidation(&perp_book, MARKET, f, (Some(0), u64::MAX), false),
        Err(RiskError::LiquidationNotImproving)
    );
    assert_eq!(
        max_option_liquidation(&short(0), 9, f, (Some(0), u64::MAX), false),
        Err(RiskError::DerivativeNotFound)
    );
    assert_eq!(
        max_option_liquidation(&short(0), MARKET, fees("0.6", "0.4"), (Some(0), u64::MAX), false),
        Err(RiskError::InvalidParameter)
    );
}

/// Without a quote token to pay it from, no insurance fee is charged and
/// the step is sized on the liquidation fee alone: fewer contracts.
#[test]
fn no_quote_slot_no_insurance_fee() {
    let spot = Fixed::from_i64(150 * M);
    let d = option(-100, 1, Fixed::from_i64(10 * M), "0.5", spot, Fixed::from_i64(-400 * M));
    let c = book(1_650 * M, d);
    let step = max_option_liquidation(&c, MARKET, fees("0.01", "0.005"), (None, u64::MAX), false).unwrap();
    // Slope 16.50 − 1.50 = 15: 600 / 15 = 40 exactly, but each contract
    // costs the short one native unit of rounding (11,500,001): 40 leaves
    // −40 µUSDC, so 41 (the guess, priced with both fees, said 43).
    assert_eq!(step.contracts, 41);
    assert!(!step.health_after.is_negative());
}

/// Random books: the returned count `k` reaches LiquidationEnd ≥ 0 (or is the
/// whole position), `k − 1` does not, health never falls, `health_after`
/// is what the cache shows after the program's fill, and a long's prices
/// stay between 0 and its value. Prices per unit in thousandths of a quote
/// native unit; the entry and the quote balance as percentages of the
/// value and of the LiquidationEnd requirement, so that many books are liquidatable.
struct Case {
    long: bool,
    n: i64,
    cs: u64,
    value_milli: i64,
    delta_pct: i64,
    spot_milli: i64,
    entry_pct: i64,
    quote_pct: i64,
    w_pct: i64,
    fee_bp: i64,
    /// The liquidator's cap (`u64::MAX`: none).
    max: u64,
}

fn check(k: Case) -> bool {
    let milli = |v: i64| Fixed::from_ratio(v, 1_000, Rounding::Floor).unwrap();
    let (spot, value) = (milli(k.spot_milli), milli(k.value_milli));
    let size = k.n * k.cs as i64;
    let sign = if k.long { "" } else { "-" };
    let delta = format!("{sign}{}", k.delta_pct as f64 / 100.0);
    let contracts = if k.long { k.n } else { -k.n };
    let entry =
        value.checked_mul_int(k.cs as i64 * k.entry_pct).unwrap().checked_div_floor(fx("100")).unwrap();
    let cost = entry.checked_mul_int(contracts).unwrap();
    let w = Fixed::from_ratio(k.w_pct, 100, Rounding::Floor).unwrap();
    let limits = PnlLimits { weights: crate::health::PerType::splat(w), init_cap: None };
    let d = option(contracts, k.cs, value, &delta, spot, cost).with_pnl_limits(limits).unwrap();
    let req = d.requirement(HealthType::LiquidationEnd).unwrap();
    let quote = req.checked_mul_int(k.quote_pct).unwrap().checked_div_floor(fx("100")).unwrap();
    let c = book(quote.to_i64(Rounding::Floor).unwrap(), d);
    let f = OptionFees {
        liquidation: Fixed::from_ratio(k.fee_bp, 10_000, Rounding::Floor).unwrap(),
        insurance: Fixed::from_ratio(k.fee_bp / 2, 10_000, Rounding::Floor).unwrap(),
    };
    let Ok(step) = max_option_liquidation(&c, MARKET, f, (Some(0), k.max), false) else { return false };
    let h0 = liq_end(&c);
    let n = (k.n as u64).min(k.max);
    let got = step.contracts;
    assert!(got >= 1 && got <= n, "{got} of {n}");
    let after = apply(&c, got, &step);
    assert_eq!(liq_end(&after), step.health_after);
    assert!(step.health_after >= h0, "health fell: {h0} → {}", step.health_after);
    if got < n {
        assert!(!step.health_after.is_negative(), "stopped below 0 at {got} of {n}");
    }
    if got > 1 {
        assert!(liq_end(&apply(&c, got - 1, &step)).is_negative(), "over-liquidated: {got} − 1 reaches 0");
    }
    if k.long {
        // The liquidatee is paid the price less the insurance fee: between 0 and the value.
        assert!(step.insurance_per_contract <= step.price && step.price <= step.model_per_contract);
    } else {
        assert!(step.price >= step.model_per_contract);
    }
    let _ = size;
    // The guess and its neighbour, then at most a bisection of the position.
    assert!(step.evaluations <= 2 + 64 - n.leading_zeros() as usize, "{} evaluations", step.evaluations);
    true
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3_000))]
    #[test]
    fn never_over_liquidates(
        long in any::<bool>(),
        n in 1i64..20_000,
        cs in prop::sample::select(vec![1u64, 1_000, 10_000_000]),
        spot_milli in 1_000i64..300_000,
        value_pct in 0i64..120,
        delta_pct in 0i64..=100,
        entry_pct in 0i64..300,
        quote_pct in 0i64..150,
        w_pct in 50i64..=100,
        fee_bp in 0i64..300,
        max in prop::sample::select(vec![1u64, 7, 100, 5_000, u64::MAX]),
    ) {
        let value_milli = spot_milli * value_pct / 100;
        check(Case { long, n, cs, value_milli, delta_pct, spot_milli, entry_pct, quote_pct, w_pct, fee_bp, max });
    }
}

/// The random books above are mostly liquidatable (the property is not vacuous).
#[test]
fn random_books_are_mostly_liquidated() {
    let mut liquidated = 0;
    for i in 0..400i64 {
        let case = Case {
            long: i % 2 == 0,
            n: 1 + i * 37 % 5_000,
            cs: [1, 1_000, 10_000_000][(i % 3) as usize],
            value_milli: 10_000 + i * 131 % 50_000,
            delta_pct: i * 7 % 101,
            spot_milli: 150_000,
            entry_pct: 100 + i % 150,
            quote_pct: i % 90,
            w_pct: 80,
            fee_bp: 150,
            max: u64::MAX,
        };
        liquidated += usize::from(check(case));
    }
    assert!(liquidated > 200, "{liquidated}");
}

/// The equity that caps the bonus counts an option at its model value, not
/// at the underlying's price: 10 long calls worth 10 each, bought for 50 in
/// all, are a profit of 50 (not 10 · 150 − 50).
#[test]
fn equity_counts_options_at_their_model_value() {
    let spot = Fixed::from_i64(150);
    let long = option(10, 1, Fixed::from_i64(10), "0.5", spot, Fixed::from_i64(50));
    let (assets, debts) = crate::liquidation::oracle_values(&book(100, long)).unwrap();
    assert_eq!((assets, debts), (Fixed::from_i64(150), Fixed::ZERO));
    // A short owes its value (one unit more per unit): a loss of 100 on 10 sold at 0.
    let short = option(-10, 1, Fixed::from_i64(10), "0.5", spot, Fixed::ZERO);
    let (_, debts) = crate::liquidation::oracle_values(&book(100, short)).unwrap();
    assert!(near(debts, 100.0, 1e-9) && debts > Fixed::from_i64(100), "{debts}");
}
