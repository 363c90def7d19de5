//! Position liquidation sizing: weighted positive PnL (the concave step
//! across the PnL kink) and the size premium (tangent steps, exact on whole
//! contracts), worked examples and the no-overshoot invariant.

use super::*;
use crate::health::{DerivativeInfo, MarginMode, MarginRates, PerType, PnlLimits};
use crate::price::{BiasedPrices, OraclePrice, PriceBias};
use crate::testutil::*;
use proptest::prelude::*;

/// Slack on "health after ≤ 0" from floored contributions (quote native).
const OVERSHOOT_EPS: f64 = 1e-9;

/// Long 10 perp at 140 with every positive-PnL weight 0.5 and the given cost
/// and collateral (market 7).
fn weighted_long(cost: &str, collateral: &str) -> HealthCache {
    let limits = PnlLimits { weights: PerType::splat(fx("0.5")), init_cap: None };
    let d = perp(7, 1, "10", cost, "140").with_pnl_limits(limits).unwrap();
    HealthCache::new(vec![usdc(0, fx(collateral))], vec![d], MarginMode::Linear).unwrap()
}

/// LiqEnd health after a liquidator takes `q` of the position in market 7 at
/// `price`: the liquidatee moves toward zero, its proceeds rounded against it
/// (a long's down, a short's cost up).
fn health_after_step(c: &HealthCache, q: Fixed, price: Fixed, short: bool) -> Fixed {
    let (db, dc) = if short {
        (q, q.checked_mul_ceil(price).unwrap())
    } else {
        (q.checked_neg().unwrap(), q.checked_mul_floor(price).unwrap().checked_neg().unwrap())
    };
    let mut after = c.clone();
    after.adjust_derivative(7, db, dc).unwrap();
    after.health(HealthType::LiquidationEnd).unwrap()
}

/// Closes `q` of the long at `price` (proceeds rounded down) and returns LiqEnd health.
fn health_after_close(c: &HealthCache, q: Fixed, price: Fixed) -> Fixed {
    health_after_step(c, q, price, false)
}

#[test]
fn weighted_profit_is_not_over_liquidated() {
    // Long 10 bought at 100 (cost 1000), price 140: pnl +400, counted 0.5 → 200.
    // USDC −131: Maint 200 − 70 − 131 = −1; LiqEnd 200 − 105 − 131 = −36.
    // Bonus 2 %: P = 137.2, u = −2.8, req_unit 10.5. The profit stays positive
    // (kink at 400/2.8 = 142.9 units), so each unit gains 0.5·(−2.8) + 10.5 = 9.1:
    // q = 36/9.1 = 3.956044. (The raw slope 7.7 would give 4.675 and leave +6.55.)
    let c = weighted_long("1000", "-131");
    assert!(near(c.health(HealthType::Maint).unwrap(), -1.0, 1e-9));
    assert!(near(c.health(HealthType::LiquidationEnd).unwrap(), -36.0, 1e-9));
    let step = max_position_liquidation(&c, 7, fx("0.02"), false).unwrap();
    assert!(near(step.base_transferred, 36.0 / 9.1, 1e-9));
    let h = health_after_close(&c, step.base_transferred, step.price);
    assert!(h.to_f64().abs() < 1e-9, "{h}");
    let raw = Fixed::from_f64(36.0 / 7.7);
    assert!(near(health_after_close(&c, raw, step.price), 36.0 / 7.7 * 9.1 - 36.0, 1e-6));
}

#[test]
fn weighted_profit_crossing_zero_uses_both_slopes() {
    // Long 10 bought at 139 (cost 1390), price 140: pnl +10 → 5. USDC 50:
    // Maint 5 − 70 + 50 = −15; LiqEnd 5 − 105 + 50 = −50.
    // Segment 1 (profit, slope 9.1) up to the kink q_k = 10/2.8 = 25/7, where
    // health is −50 + 32.5 = −17.5; segment 2 (loss, slope 7.7): 17.5/7.7 = 25/11.
    // q = 25/7 + 25/11 = 450/77 = 5.844156.
    // Check: pnl 10 − 2.8·450/77 = −6.364 (1:1), req (10 − 5.844)·10.5 = 43.636,
    // 50 − 6.364 − 43.636 = 0.
    let c = weighted_long("1390", "50");
    assert!(near(c.health(HealthType::LiquidationEnd).unwrap(), -50.0, 1e-9));
    let step = max_position_liquidation(&c, 7, fx("0.02"), false).unwrap();
    assert!(near(step.base_transferred, 450.0 / 77.0, 1e-9));
    let h = health_after_close(&c, step.base_transferred, step.price);
    assert!(h.to_f64() <= OVERSHOOT_EPS && h.to_f64() > -1e-9, "{h}");
}

#[test]
fn small_loss_turning_into_weighted_profit() {
    // Oracle 140, confidence 4: a long is marked at 136, requirements use 144.
    // Long 10 bought for 1362: pnl 1360 − 1362 = −2 (counts 1:1); LiqEnd req
    // 10·144·0.075 = 108; Maint req 72. USDC 70: Maint −4, LiqEnd −40.
    // Bonus 2 %: P = 137.2 > mark, u = +1.2, req_unit 10.8. Segment 1 (loss,
    // slope 12) to the kink 2/1.2 = 5/3, health −40 + 20 = −20; segment 2
    // (profit at 0.5, slope 11.4): 20/11.4 = 1.754386. q = 5/3 + 100/57 = 65/19.
    // Check: pnl −2 + 1.2·65/19 = 2.105 → 1.0526; req (10 − 3.4211)·10.8 = 71.0526;
    // 70 + 1.0526 − 71.0526 = 0.
    let limits = PnlLimits { weights: PerType::splat(fx("0.5")), init_cap: None };
    let d = DerivativeInfo::new(
        7,
        1,
        DerivativeKind::Perpetual,
        fx("10"),
        fx("1362"),
        Fixed::ZERO,
        biased("140", "4", "140"),
        perp_rates(),
    )
    .unwrap()
    .with_pnl_limits(limits)
    .unwrap();
    let c = HealthCache::new(vec![usdc(0, fx("70"))], vec![d], MarginMode::Linear).unwrap();
    assert!(near(c.health(HealthType::Maint).unwrap(), -4.0, 1e-9));
    assert!(near(c.health(HealthType::LiquidationEnd).unwrap(), -40.0, 1e-9));
    let step = max_position_liquidation(&c, 7, fx("0.02"), false).unwrap();
    assert!(near(step.base_transferred, 65.0 / 19.0, 1e-9));
    let h = health_after_close(&c, step.base_transferred, step.price);
    assert!(h.to_f64() <= OVERSHOOT_EPS && h.to_f64() > -1e-9, "{h}");
}

proptest! {
    /// With any positive-PnL weight a position step never leaves LiqEnd
    /// health above 0 (beyond rounding) nor below where it started.
    #[test]
    fn weighted_position_step_never_overshoots(
        base in 1i64..1_000, entry in 1i64..1_000, p in 1i64..1_000, conf in 0i64..50,
        coll in -100_000i64..100_000, w_pct in 0i64..=100, bonus_bp in 0i64..1000, short in any::<bool>(),
    ) {
        let w = Fixed::from_ratio(w_pct, 100, Rounding::Floor).unwrap();
        let limits = PnlLimits { weights: PerType::splat(w), init_cap: None };
        let b = if short { -base } else { base };
        let prices = biased(&p.to_string(), &format!("{}", conf as f64 / 100.0), &p.to_string());
        let d = DerivativeInfo::new(7, 1, DerivativeKind::Perpetual, Fixed::from_i64(b),
            Fixed::from_i64(b * entry), Fixed::ZERO, prices, perp_rates()).unwrap()
            .with_pnl_limits(limits).unwrap();
        let c = HealthCache::new(vec![usdc(0, Fixed::from_i64(coll))], vec![d], MarginMode::Linear).unwrap();
        let bonus = Fixed::from_ratio(bonus_bp, 10_000, Rounding::Floor).unwrap();
        match max_position_liquidation(&c, 7, bonus, false) {
            Ok(step) => {
                let h = health_after_step(&c, step.base_transferred, step.price, short);
                prop_assert!(h.to_f64() <= OVERSHOOT_EPS, "overshoot {}", h);
                prop_assert!(h.to_f64() >= step.health_before.to_f64() - 1e-9, "{} < {}", h, step.health_before);
            }
            Err(e) => prop_assert!(matches!(e, RiskError::NotLiquidatable | RiskError::LiquidationNotImproving)),
        }
    }
}

/// Long 100 perp (contract size 1) bought at 100, price 100, with a size
/// premium of 0.005 per √contract, and `collateral` USDC (market 7).
fn premium_long(collateral: &str) -> HealthCache {
    let rates = MarginRates { size_premium: fx("0.005"), contract_size: 1, ..perp_rates() };
    let d = DerivativeInfo::new(
        7,
        1,
        DerivativeKind::Perpetual,
        fx("100"),
        fx("10000"),
        Fixed::ZERO,
        BiasedPrices::flat(fx("100")),
        rates,
    )
    .unwrap();
    HealthCache::new(vec![usdc(0, fx(collateral))], vec![d], MarginMode::Linear).unwrap()
}

#[test]
fn size_premium_liquidation_worked_example() {
    // √100 = 10, premium 0.05: LiqEnd rate max(7.5 %, 6 % + 5 %) = 11 %,
    // requirement 100 · 100 · 11 % = 1,100; Maint max(5 %, 4 % + 5 %) = 9 %,
    // 900. USDC 712: Maint −188 (liquidatable), LiqEnd −388.
    // Bonus 2 %: P = 98, each unit closed loses 2 of PnL.
    // Exact answer: keep x = 64 (√64 = 8, rate 6 % + 4 % = 10 %, requirement
    // 640) and close 36 (PnL −72): 712 − 72 − 640 = 0.
    // The average requirement per unit (11) would give 388 / (11 − 2) = 43.1
    // and overshoot: 56.9 left, rate 9.77 %, 712 − 86.2 − 555.9 = +69.9.
    // Step 1 uses the tangent: R′ = p · (1.5 · 11 % − 0.4 · 7.5 %) = 13.5 per
    // unit, 388 / (13.5 − 2) = 33.739 (lands at −22.73: 66.261 left, √ =
    // 8.1401, rate 10.070 %, requirement 667.25, PnL −67.48); step 2 on the
    // tangent there (1.5 · 10.070 % − 3 % → 12.105 − 2 per unit): +2.2492 =
    // 35.988. (Each step also tries a guess beyond, on the average release,
    // and comes back from it on the tangent there: the steps stop once the
    // two are within one contract, here 1 unit.)
    let c = premium_long("712");
    assert!(near(c.health(HealthType::Maint).unwrap(), -188.0, 1e-9));
    assert!(near(c.health(HealthType::LiquidationEnd).unwrap(), -388.0, 1e-9));
    let d = *c.derivative(7).unwrap();
    let bound = d.release_bound(HealthType::LiquidationEnd).unwrap();
    assert!(near(bound.slope, 13.5, 1e-9) && bound.limit == fx("100"), "{bound:?}");
    assert!(bound.excess.to_f64() < 1e-6, "{bound:?}");
    let first = concave_step(fx("-388"), Fixed::ZERO, fx("-2"), bound.slope, Fixed::ONE).unwrap();
    assert!(near(first, 388.0 / 11.5, 1e-9));
    let h1 = health_after_close(&c, first, fx("98"));
    assert!(near(h1, -22.728, 0.001), "{h1}");
    let average = concave_step(fx("-388"), Fixed::ZERO, fx("-2"), fx("11"), Fixed::ONE).unwrap();
    assert!(near(health_after_close(&c, average, fx("98")), 69.9, 0.1), "the average slope overshoots");
    // Whole contracts (as on-chain): Newton from below on exact points.
    // LiqEnd after 36 is 0 up to the roundings (+3.8e-11), after 35 it is
    // −10.0234 (one contract releases about 12 of requirement and loses 2):
    // 36 is the smallest count reaching 0.
    let step = max_position_liquidation(&c, 7, fx("0.02"), false).unwrap();
    assert_eq!(step.base_transferred, fx("36"));
    assert!(!health_after_close(&c, fx("36"), step.price).is_negative());
    assert!(near(health_after_close(&c, fx("35"), step.price), -10.0234, 1e-4));
    // The general steps (any size, in fractions of a contract): below 36 by
    // far less than the one contract they stop within.
    let (price, pnl_unit) = (fx("98"), fx("-2"));
    let q = super::premium::premium_steps(&d, fx("-388"), price, pnl_unit, Fixed::ONE).unwrap();
    assert!(q <= fx("36") && near(q, 36.0, 1e-3), "{q}");
    let h = health_after_close(&c, q, price);
    assert!(h.to_f64() <= 0.0 && h.to_f64() > -0.01, "{h}");
}

#[test]
fn capped_position_liquidates_on_the_cap_slope_first() {
    // imf 0.1 with 10,000 contracts: √ = 100, 6 % + 10 → capped at 100 %
    // (requirement = notional). The cap starts at √c = (1 − 0.06) / 0.1 = 9.4,
    // c = 88.36: above it each unit closed releases exactly its price (100).
    let rates = MarginRates { size_premium: fx("0.1"), contract_size: 1, ..perp_rates() };
    let d = DerivativeInfo::new(
        7,
        1,
        DerivativeKind::Perpetual,
        fx("10000"),
        fx("1000000"),
        Fixed::ZERO,
        BiasedPrices::flat(fx("100")),
        rates,
    )
    .unwrap();
    let c = HealthCache::new(vec![usdc(0, fx("999000"))], vec![d], MarginMode::Linear).unwrap();
    // LiqEnd: 999,000 − 1,000,000 = −1,000. Closing at 98 gains 98 per unit: 10.204 units.
    assert!(near(c.health(HealthType::LiquidationEnd).unwrap(), -1_000.0, 1e-6));
    let bound = c.derivative(7).unwrap().release_bound(HealthType::LiquidationEnd).unwrap();
    assert!(near(bound.slope, 100.0, 1e-9) && near(bound.limit, 10_000.0 - 88.36, 1e-6), "{bound:?}");
    // Whole contracts: the capped slope (98 a contract) to 10.204, so 11:
    // LiqEnd −1,000 + 10 · 98 = −20 after 10, +78 after 11.
    let step = max_position_liquidation(&c, 7, fx("0.02"), false).unwrap();
    assert_eq!(step.base_transferred, fx("11"));
    assert!(near(health_after_close(&c, fx("10"), step.price), -20.0, 1e-6));
    assert!(near(health_after_close(&c, fx("11"), step.price), 78.0, 1e-6));
    // The general steps: exactly 1,000 / 98 units.
    let d = *c.derivative(7).unwrap();
    let q = super::premium::premium_steps(&d, fx("-1000"), fx("98"), fx("-2"), Fixed::ONE).unwrap();
    assert!(near(q, 1_000.0 / 98.0, 1e-9), "{q}");
    let h = health_after_close(&c, q, fx("98"));
    assert!(h.to_f64() <= 0.0 && h.to_f64() > -1e-6, "{h}");
}

#[test]
fn zero_premium_sizes_as_before() {
    // The same account without a premium (already being liquidated: Maint
    // 712 − 500 ≥ 0) takes the single closed-form step: LiqEnd 712 − 750 =
    // −38 → 38 / (7.5 − 2) = 6.909.
    let rates = MarginRates { size_premium: Fixed::ZERO, contract_size: 1, ..perp_rates() };
    let d = DerivativeInfo::new(
        7,
        1,
        DerivativeKind::Perpetual,
        fx("100"),
        fx("10000"),
        Fixed::ZERO,
        BiasedPrices::flat(fx("100")),
        rates,
    )
    .unwrap();
    let c = HealthCache::new(vec![usdc(0, fx("712"))], vec![d], MarginMode::Linear).unwrap();
    let step = max_position_liquidation(&c, 7, fx("0.02"), true).unwrap();
    let plain = max_position_liquidation(&premium_long("712"), 7, fx("0.02"), true).unwrap();
    assert!(near(step.base_transferred, 38.0 / 5.5, 1e-9));
    assert!(plain.base_transferred > step.base_transferred);
}

proptest! {
    /// With a size premium, on any size: premiums up to 0.1 per √contract on
    /// up to 100,000 contracts (rates from the base rate to the cap and
    /// beyond it), any PnL weight, bonus and side.
    ///
    /// Whole contracts (every on-chain position): the step is a whole number
    /// of contracts, the smallest after which LiqEnd health is ≥ 0 (one
    /// contract fewer leaves it < 0), or the whole position when closing it
    /// all does not reach 0; never below where it started.
    ///
    /// A size in fractions of a contract (the general steps): LiqEnd health
    /// after the step is ≤ 0 (never over-liquidated) and within one
    /// contract's gain of 0 (1e-6 of the shortfall and the requirement's
    /// rounding), or the whole position is closed, or the step is within a
    /// contract of closing it all and closing it all leaves health < 0.
    #[test]
    fn premium_position_step_lands_on_zero(
        base in 1i64..100_000, entry in 1i64..1_000, p in 1i64..1_000, conf in 0i64..50,
        coll in -1_000_000i64..10_000_000, w_pct in 0i64..=100, bonus_bp in 0i64..400, short in any::<bool>(),
        imf_ppm in 1i64..100_000, cs in 1u64..1_000, fractional in any::<bool>(),
    ) {
        let w = Fixed::from_ratio(w_pct, 100, Rounding::Floor).unwrap();
        let limits = PnlLimits { weights: PerType::splat(w), init_cap: None };
        let imf = Fixed::from_ratio(imf_ppm, 1_000_000, Rounding::Floor).unwrap();
        let rates = MarginRates { size_premium: imf, contract_size: cs, ..perp_rates() };
        // Prices per native unit: `p / cs` per unit, so a contract is worth `p`.
        let per = |v: i64| Fixed::from_i64(v).checked_div_int(cs, Rounding::Floor).unwrap();
        let o = OraclePrice { lo: per(p), hi: per(p), conf: per(conf).checked_div_int(100, Rounding::Floor).unwrap() };
        let prices = BiasedPrices::new(&o, per(p), PriceBias { conf_multiplier: Fixed::ONE }).unwrap();
        let whole = Fixed::from_i64(base).checked_mul_int(cs as i64).unwrap();
        let size = if fractional { whole.checked_add(Fixed::HALF).unwrap() } else { whole };
        let native = if short { size.checked_neg().unwrap() } else { size };
        let cost = Fixed::from_i64(if short { -base } else { base } * entry);
        let d = DerivativeInfo::new(7, 1, DerivativeKind::Perpetual, native, cost, Fixed::ZERO, prices, rates)
            .unwrap()
            .with_pnl_limits(limits)
            .unwrap();
        let c = HealthCache::new(vec![usdc(0, Fixed::from_i64(coll))], vec![d], MarginMode::Linear).unwrap();
        let bonus = Fixed::from_ratio(bonus_bp, 10_000, Rounding::Floor).unwrap();
        match max_position_liquidation(&c, 7, bonus, false) {
            Ok(step) => {
                let q = step.base_transferred;
                let h = health_after_step(&c, q, step.price, short);
                let before = step.health_before.to_f64();
                prop_assert!(h.to_f64() >= before - 1e-9, "{} < {}", h, step.health_before);
                let closed = q == size;
                if fractional {
                    prop_assert!(h.to_f64() <= OVERSHOOT_EPS, "overshoot {}", h);
                    // One contract is worth `p`: its gain is at most 1.5·p of
                    // requirement and p of PnL; √ on the 2^-24 grid: < 6e-8 of notional.
                    let notional = size.to_f64() * o.hi.to_f64();
                    let tol = 1e-6 * before.abs() + 1e-7 * notional + 2.5 * p as f64 + 1e-9;
                    // Within a contract of closing it all, when that does
                    // not reach 0 either, is as close as the steps go.
                    let one_contract = Fixed::from_u64(cs);
                    let short_of_all = size.checked_sub(q).unwrap() <= one_contract
                        && health_after_step(&c, size, step.price, short).is_negative();
                    prop_assert!(
                        closed || short_of_all || h.to_f64() >= -tol,
                        "stopped at {} from {} after {}", h, before, q
                    );
                } else {
                    let contracts = q.checked_div_int(cs, Rounding::Floor).unwrap();
                    prop_assert_eq!(contracts.floor(), contracts, "not whole contracts: {}", q);
                    prop_assert!(closed || !h.is_negative(), "stopped at {} from {} after {}", h, before, q);
                    if q.is_positive() && !h.is_negative() {
                        let fewer = q.checked_sub(Fixed::from_u64(cs)).unwrap();
                        let h_fewer = health_after_step(&c, fewer, step.price, short);
                        prop_assert!(h_fewer.is_negative(), "{} contracts fewer already reach {}", cs, h_fewer);
                    }
                }
            }
            Err(e) => prop_assert!(matches!(e, RiskError::NotLiquidatable | RiskError::LiquidationNotImproving)),
        }
    }
}

/// One perpetual (contract size 1) and USDC collateral, for the worked cases below.
#[allow(clippy::too_many_arguments)]
fn premium_case(
    base: i64,
    entry: i64,
    p: i64,
    conf: i64,
    coll: i64,
    w_pct: i64,
    short: bool,
    imf_ppm: i64,
) -> HealthCache {
    let w = Fixed::from_ratio(w_pct, 100, Rounding::Floor).unwrap();
    let limits = PnlLimits { weights: PerType::splat(w), init_cap: None };
    let imf = Fixed::from_ratio(imf_ppm, 1_000_000, Rounding::Floor).unwrap();
    let rates = MarginRates { size_premium: imf, contract_size: 1, ..perp_rates() };
    let o = OraclePrice {
        lo: Fixed::from_i64(p),
        hi: Fixed::from_i64(p),
        conf: Fixed::from_i64(conf).checked_div_int(100, Rounding::Floor).unwrap(),
    };
    let prices =
        BiasedPrices::new(&o, Fixed::from_i64(p), PriceBias { conf_multiplier: Fixed::ONE }).unwrap();
    let size = Fixed::from_i64(if short { -base } else { base });
    let cost = Fixed::from_i64(if short { -base } else { base } * entry);
    let d = DerivativeInfo::new(7, 1, DerivativeKind::Perpetual, size, cost, Fixed::ZERO, prices, rates)
        .unwrap()
        .with_pnl_limits(limits)
        .unwrap();
    HealthCache::new(vec![usdc(0, Fixed::from_i64(coll))], vec![d], MarginMode::Linear).unwrap()
}

/// Contracts worth one native unit: health gains 1.0101 per contract
/// (release 1.01 at the cap, PnL 0.01 · 1 %) from −67.29, so 67 contracts
/// (+0.39; 66 leave −0.62). Dividing by ⌈1.0101⌉ = 2 natively halved
/// every Newton step and the evaluations ran out at 66.
#[test]
fn premium_step_on_one_unit_contracts_is_exact() {
    let c = premium_case(38_472, 550, 1, 1, -172_418, 1, true, 4_886);
    let step = max_position_liquidation(&c, 7, Fixed::ZERO, false).unwrap();
    assert_eq!(step.base_transferred, Fixed::from_i64(67));
    assert!(!health_after_step(&c, step.base_transferred, step.price, true).is_negative());
    assert!(health_after_step(&c, Fixed::from_i64(66), step.price, true).is_negative());
}

/// 88,695 contracts long with a 70 M shortfall: the requirement's x^1.5
/// makes Newton from below cut the gap about 5× per step (70 M, 13 M,
/// 2.5 M, 446 k, 74 k, 9 k, 442, 33), so the root (88,460: −33 after
/// 88,459, +69 after 88,460) takes 10 exact points.
#[test]
fn premium_step_on_a_large_shortfall_is_exact() {
    let c = premium_case(88_695, 751, 790, 7, -482_516, 22, false, 3_157);
    let bonus = Fixed::from_ratio(168, 10_000, Rounding::Floor).unwrap();
    let step = max_position_liquidation(&c, 7, bonus, false).unwrap();
    assert_eq!(step.base_transferred, Fixed::from_i64(88_460));
    assert!(health_after_step(&c, Fixed::from_i64(88_459), step.price, false).is_negative());
}
