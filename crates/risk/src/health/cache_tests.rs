//! Token health: worked examples and invariants.

use super::*;
use crate::health::{DerivativeInfo, DerivativeKind};
use crate::price::{OraclePrice, PriceBias};
use crate::testutil::*;
use crate::weights::WeightScaling;
use proptest::prelude::*;

/// Rounding slack of a health value built from a few floored products
/// (quote native units; far below one micro-USDC).
const HEALTH_EPS: f64 = 1e-6;

/// 10 SOL (10e9 lamports) at $150 (0.15 micro-USDC per lamport), conf $0.10,
/// k = 1, stable = spot, plus `usdc_native` of USDC.
fn sol_account(usdc_native: i64) -> HealthCache {
    let o = OraclePrice::from_pyth(15_000_000_000, 10_000_000, -8, 9, 6).unwrap();
    let prices = BiasedPrices::new(&o, o.lo, PriceBias { conf_multiplier: Fixed::ONE }).unwrap();
    let w = TokenWeights { init_liab: fx("1.2"), ..sol_weights() };
    let sol = TokenInfo::new(1, Fixed::from_i64(10_000_000_000), prices, &w).unwrap();
    HealthCache::new(vec![usdc(0, Fixed::from_i64(usdc_native)), sol], vec![], MarginMode::Linear).unwrap()
}

#[test]
fn brief_worked_example() {
    // Asset price 0.15 − 0.0001 = 0.1499 micro-USDC/lamport.
    // Init  = 10e9 · 0.1499 · 0.80 = 1,199,200,000 micro-USDC (1199.2 USDC)
    // Maint = 10e9 · 0.1499 · 0.90 = 1,349,100,000
    // LiqEnd= 10e9 · 0.1499 · 0.85 = 1,274,150,000
    let c = sol_account(0);
    let s = c.summary().unwrap();
    assert!(near(s.init, 1_199_200_000.0, 1e-3), "{}", s.init);
    assert!(near(s.maint, 1_349_100_000.0, 1e-3));
    assert!(near(s.liq_end, 1_274_150_000.0, 1e-3));
    assert_eq!(s.band(), HealthBand::Healthy);
    // Max USDC borrow at init liab weight 1.0 = 1199.2 USDC (whole micro-USDC, rounded down).
    let b = c.max_borrow(0).unwrap();
    assert!(b == Fixed::from_i64(1_199_199_999) || b == Fixed::from_i64(1_199_200_000), "{b}");
    let mut after = c.clone();
    after.adjust_token_balance(0, b.checked_neg().unwrap()).unwrap();
    let h = after.health(HealthType::Init).unwrap();
    assert!(!h.is_negative() && h < Fixed::from_i64(1), "{h}");
}

#[test]
fn max_withdraw_collateral_closed_form() {
    // Borrow 600 USDC: Init = 1199.2 − 600 = 599.2 USDC.
    // SOL withdrawable = 599.2e6 / (0.1499·0.8) = 4,996,664,442.96 → 4,996,664,442 lamports.
    let c = sol_account(-600_000_000);
    let w = c.max_withdraw(1, false).unwrap();
    assert_eq!(w, Fixed::from_i64(4_996_664_442));
    let mut after = c.clone();
    after.adjust_token_balance(1, w.checked_neg().unwrap()).unwrap();
    let h = after.health(HealthType::Init).unwrap();
    // One lamport is worth 0.11992 micro-USDC of Init health.
    assert!(!h.is_negative() && h.to_f64() < 0.12, "{h}");
    // With borrowing allowed the SOL deposit is not the cap: all 10 SOL can't go
    // (Init health would be −600 USDC), so the answer is the same.
    assert_eq!(c.max_withdraw(1, true).unwrap(), w);
    // USDC (already a liability): borrow 599.2 more.
    let more = c.max_withdraw(0, true).unwrap();
    assert!(near(more, 599_199_999.0, 1.0));
    assert_eq!(c.max_withdraw(0, false).unwrap(), Fixed::ZERO);
}

#[test]
fn borrow_beyond_deposit() {
    // 100 USDC deposited + 10 SOL; USDC withdraw with borrow = 100 + 1199.2.
    let c = sol_account(100_000_000);
    let w = c.max_withdraw(0, true).unwrap();
    assert!(near(w, 1_299_199_999.0, 1.0), "{w}");
    assert_eq!(c.max_withdraw(0, false).unwrap(), Fixed::from_i64(100_000_000));
    let b = c.max_borrow(0).unwrap();
    assert!(near(b, 1_199_199_999.0, 1.0));
}

#[test]
fn stable_price_lowers_init_only() {
    // Stable $140 → init asset price 0.14: Init = 10e9 · 0.14 · 0.8 = 1,120,000,000.
    let sol =
        TokenInfo::new(1, Fixed::from_i64(10_000_000_000), biased("0.15", "0.0001", "0.14"), &sol_weights())
            .unwrap();
    let c = HealthCache::new(vec![sol], vec![], MarginMode::Linear).unwrap();
    assert!(near(c.health(HealthType::Init).unwrap(), 1_120_000_000.0, 1e-3));
    assert!(near(c.health(HealthType::Maint).unwrap(), 1_349_100_000.0, 1e-3));
}

#[test]
fn liability_uses_liab_price_and_weight() {
    // Borrow 2 SOL (2e9 lamports), price 0.15, conf 0.0001 → liab price 0.1501.
    // Maint = −2e9 · 0.1501 · 1.1 = −330,220,000; with 400 USDC: +69,780,000.
    let sol =
        TokenInfo::new(1, Fixed::from_i64(-2_000_000_000), biased("0.15", "0.0001", "0.15"), &sol_weights())
            .unwrap();
    let c = HealthCache::new(vec![usdc(0, Fixed::from_i64(400_000_000)), sol], vec![], MarginMode::Linear)
        .unwrap();
    assert!(near(c.health(HealthType::Maint).unwrap(), 69_780_000.0, 1e-3));
    // Init: −2e9 · 0.1501 · 1.2 = −360,240,000 → 39,760,000
    assert!(near(c.health(HealthType::Init).unwrap(), 39_760_000.0, 1e-3));
}

#[test]
fn bands_follow_price() {
    // 1 unit of X at price p (weights 0.8/0.9), owing 85 USDC:
    // p = 110: Init 88 − 85 = 3 ≥ 0 → Healthy
    // p = 100: Init 80 − 85 < 0 ≤ Maint 90 − 85 → MarginCall
    // p = 90:  Maint 81 − 85 < 0 → Liquidatable
    for (p, band) in
        [("110", HealthBand::Healthy), ("100", HealthBand::MarginCall), ("90", HealthBand::Liquidatable)]
    {
        let c = HealthCache::new(
            vec![usdc(0, fx("-85")), token(1, Fixed::ONE, fx(p), &sol_weights())],
            vec![],
            MarginMode::Linear,
        )
        .unwrap();
        assert_eq!(c.band().unwrap(), band, "price {p}");
        assert_eq!(c.is_liquidatable().unwrap(), band == HealthBand::Liquidatable);
        assert_eq!(keeper_maint_health(&c), c.health(HealthType::Maint).unwrap());
    }
}

#[test]
fn scaled_weights_feed_the_cache() {
    // Bank deposits worth 4,000,000 > threshold 1,000,000: init weight 0.8 → 0.2.
    // 100 units at price 1 → Init = 20 (−1 ulp).
    let w = sol_weights()
        .scaled(
            &WeightScaling { deposit_scale_start: fx("1000000"), borrow_scale_start: Fixed::ZERO },
            fx("4000000"),
            Fixed::ZERO,
        )
        .unwrap();
    let c = HealthCache::new(vec![token(1, fx("100"), Fixed::ONE, &w)], vec![], MarginMode::Linear).unwrap();
    assert!(near(c.health(HealthType::Init).unwrap(), 20.0, HEALTH_EPS));
    assert!(near(c.health(HealthType::Maint).unwrap(), 90.0, HEALTH_EPS));
}

#[test]
fn errors() {
    let t = usdc(0, Fixed::ONE);
    assert_eq!(HealthCache::new(vec![t, t], vec![], MarginMode::Linear), Err(RiskError::DuplicateIndex));
    let mut c = HealthCache::new(vec![t], vec![], MarginMode::Linear).unwrap();
    assert_eq!(c.adjust_token_balance(9, Fixed::ONE), Err(RiskError::TokenNotFound));
    assert_eq!(c.max_withdraw(9, true), Err(RiskError::TokenNotFound));
    assert_eq!(c.adjust_derivative(3, Fixed::ONE, Fixed::ONE), Err(RiskError::DerivativeNotFound));
    let bad = TokenWeights { init_asset: fx("0.95"), ..sol_weights() };
    assert_eq!(
        TokenInfo::new(1, Fixed::ONE, BiasedPrices::flat(Fixed::ONE), &bad),
        Err(RiskError::InvalidParameter)
    );
}

fn price_strategy() -> impl Strategy<Value = i64> {
    1i64..1_000_000
}

proptest! {
    /// Raising a liability's price never raises any health type.
    #[test]
    fn health_falls_when_liability_price_rises(
        coll in 0i64..10_000_000, debt in 1i64..10_000_000, p in price_strategy(), bump in 1i64..1_000_000,
    ) {
        let price = Fixed::from_ratio(p, 1000, Rounding::Floor).unwrap();
        let higher = price.checked_add(Fixed::from_ratio(bump, 1000, Rounding::Floor).unwrap()).unwrap();
        let build = |pr: Fixed| HealthCache::new(
            vec![usdc(0, Fixed::from_i64(coll)), token(1, Fixed::from_i64(-debt), pr, &sol_weights())],
            vec![], MarginMode::Linear).unwrap();
        let (a, b) = (build(price), build(higher));
        for ht in HealthType::ALL {
            prop_assert!(b.health(ht).unwrap() <= a.health(ht).unwrap());
        }
    }

    /// Adding collateral never lowers any health type.
    #[test]
    fn health_rises_with_collateral(
        bal in -10_000_000i64..10_000_000, add in 0i64..10_000_000, p in price_strategy(), debt in 0i64..10_000_000,
    ) {
        let price = Fixed::from_ratio(p, 1000, Rounding::Floor).unwrap();
        let mut c = HealthCache::new(
            vec![usdc(0, Fixed::from_i64(-debt)), token(1, Fixed::from_i64(bal), price, &sol_weights())],
            vec![], MarginMode::Linear).unwrap();
        let before = c.summary().unwrap();
        c.adjust_token_balance(1, Fixed::from_i64(add)).unwrap();
        let after = c.summary().unwrap();
        prop_assert!(after.init >= before.init && after.maint >= before.maint && after.liq_end >= before.liq_end);
    }

    /// Withdrawing the closed-form maximum leaves Init health ≥ 0; one more
    /// native unit would make it negative (unless the cap was the deposit).
    #[test]
    fn max_withdraw_is_tight(
        coll in 1i64..10_000_000_000, debt in 0i64..5_000_000_000, p in price_strategy(), borrow in any::<bool>(),
    ) {
        let price = Fixed::from_ratio(p, 1000, Rounding::Floor).unwrap();
        let c = HealthCache::new(
            vec![usdc(0, Fixed::from_i64(-debt)), token(1, Fixed::from_i64(coll), price, &sol_weights())],
            vec![], MarginMode::Linear).unwrap();
        let w = c.max_withdraw(1, borrow).unwrap();
        let mut after = c.clone();
        after.adjust_token_balance(1, w.checked_neg().unwrap()).unwrap();
        let h0 = c.health(HealthType::Init).unwrap();
        if h0.is_positive() {
            prop_assert!(!after.health(HealthType::Init).unwrap().is_negative());
            let capped = !borrow && w == Fixed::from_i64(coll);
            if !capped {
                after.adjust_token_balance(1, Fixed::from_i64(-2)).unwrap();
                prop_assert!(after.health(HealthType::Init).unwrap().is_negative());
            }
        } else {
            prop_assert_eq!(w, Fixed::ZERO);
        }
    }
}

#[test]
fn funding_and_liability_queries() {
    let mut c =
        HealthCache::new(vec![usdc(0, fx("100"))], vec![perp(1, 1, "0", "0", "150")], MarginMode::Linear)
            .unwrap();
    assert!(!c.has_liabilities().unwrap());
    // Unsettled funding of −7 reduces every health type by 7.
    let before = c.summary().unwrap();
    c.set_unsettled_funding(1, fx("-7")).unwrap();
    let after = c.summary().unwrap();
    assert_eq!(before.maint.checked_sub(after.maint).unwrap(), fx("7"));
    assert!(c.has_liabilities().unwrap());
    // Open a long 1 @150 through the cache: Maint requirement 7.5 appears.
    c.set_unsettled_funding(1, Fixed::ZERO).unwrap();
    c.adjust_derivative(1, fx("1"), fx("150")).unwrap();
    assert!(near(c.health(HealthType::Maint).unwrap(), 100.0 - 7.5, 1e-9));
}

proptest! {
    /// A short perp loses health when the underlying rises (liability price up).
    #[test]
    fn short_perp_health_falls_with_price(p in 1i64..1_000_000, bump in 1i64..100_000, size in 1i64..1000) {
        let price = Fixed::from_ratio(p, 100, Rounding::Floor).unwrap();
        let higher = price.checked_add(Fixed::from_ratio(bump, 100, Rounding::Floor).unwrap()).unwrap();
        let b = Fixed::from_i64(-size);
        let cost = b.checked_mul_floor(price).unwrap();
        let mk = |pr: Fixed| HealthCache::new(vec![usdc(0, fx("1000000"))], vec![
            DerivativeInfo::new(1, 1, crate::health::DerivativeKind::Perpetual, b, cost, Fixed::ZERO, BiasedPrices::flat(pr), perp_rates()).unwrap()
        ], MarginMode::Linear).unwrap();
        for ht in HealthType::ALL {
            prop_assert!(mk(higher).health(ht).unwrap() <= mk(price).health(ht).unwrap());
        }
    }
}

proptest! {
    /// The memo never serves a stale total: after any sequence of balance,
    /// position, funding and mode changes, each health type equals the sum
    /// computed afresh, whether or not it was asked for in between.
    #[test]
    fn memoized_health_follows_every_change(
        steps in proptest::collection::vec((0u8..4, -1_000i64..1_000, any::<bool>()), 1..12),
    ) {
        let d = DerivativeInfo::new(7, 1, DerivativeKind::Perpetual, fx("10"), fx("1400"), Fixed::ZERO,
            biased("140", "1", "140"), perp_rates()).unwrap();
        let mut c = HealthCache::new(sol_account(1_000).tokens().to_vec(), vec![d], MarginMode::Linear).unwrap();
        for (kind, amount, ask) in steps {
            if ask {
                for ht in HealthType::ALL {
                    c.health(ht).unwrap();
                }
            }
            let x = Fixed::from_i64(amount);
            match kind {
                0 => c.adjust_token_balance(0, x.checked_mul_int(1_000).unwrap()).unwrap(),
                1 => c.adjust_derivative(7, x.checked_div_int(100, Rounding::Floor).unwrap(), x).unwrap(),
                2 => c.set_unsettled_funding(7, x).unwrap(),
                _ => c.set_mode(MarginMode::Linear).unwrap(),
            }
            for ht in HealthType::ALL {
                prop_assert_eq!(c.health(ht).unwrap(), c.linear_health(ht).unwrap());
            }
        }
    }
}
