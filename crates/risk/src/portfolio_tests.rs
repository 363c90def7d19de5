//! Portfolio margin: hedged books need far less than the sum of their legs.

use super::*;
use crate::health::{DerivativeInfo, MarginMode, OptionTerms, PerType, PnlLimits};
use crate::price::BiasedPrices;
use crate::testutil::*;
use proptest::prelude::*;

pub(crate) fn params() -> PortfolioParams {
    PortfolioParams {
        price_shocks: ["-0.15", "-0.075", "0", "0.075", "0.15"].map(fx).to_vec(),
        vol_shocks: ["-0.1", "0", "0.1"].map(fx).to_vec(),
        // Init 1.5×, Maint 1×, LiqEnd 1.25× the grid; floors 2 % / 1 % / 1.5 %.
        shock_scale: PerType { init: fx("1.5"), maint: fx("1"), liq_end: fx("1.25") },
        floor_rate: PerType { init: fx("0.02"), maint: fx("0.01"), liq_end: fx("0.015") },
    }
}

/// Health lost to risk charges: (value of positions) − health.
fn charge(c: &HealthCache, ht: HealthType, gross_value: f64) -> f64 {
    gross_value - c.health(ht).unwrap().to_f64()
}

fn call(market: u16, base: &str, cost: &str) -> DerivativeInfo {
    DerivativeInfo::new(
        market,
        1,
        DerivativeKind::Option(OptionTerms {
            is_call: true,
            strike: fx("150"),
            seconds_to_expiry: 30 * 86_400,
            vol: fx("0.6"),
            rate: Fixed::ZERO,
        }),
        fx(base),
        fx(cost),
        Fixed::ZERO,
        BiasedPrices::flat(fx("150")),
        perp_rates(),
    )
    .unwrap()
}

#[test]
fn spot_perp_basis_trade() {
    // Long 10 SOL spot @150 + short 10 SOL perp (cost −1500). Gross value 1500.
    // Linear Maint: spot 1500·0.9 = 1350, perp pnl 0 − req 10·150·0.05 = 75
    //   → health 1275, charge 225.
    // Portfolio Maint: Δ = 10 − 10 = 0 → worst shock loss 0;
    //   floor 1 %·(1500 + 1500) = 30 → health 1470, charge 30 (7.5× less).
    // Init: linear 1500·0.8 − 150 = 1050 (charge 450) vs portfolio floor 2 %·3000 = 60.
    let spot = token(1, fx("10"), fx("150"), &sol_weights()).with_underlying(1);
    let mut c =
        HealthCache::new(vec![spot], vec![perp(1, 1, "-10", "-1500", "150")], MarginMode::Linear).unwrap();
    assert!((charge(&c, HealthType::Maint, 1500.0) - 225.0).abs() < 1e-9);
    assert!((charge(&c, HealthType::Init, 1500.0) - 450.0).abs() < 1e-9);
    c.set_mode(MarginMode::Portfolio(params())).unwrap();
    assert!((charge(&c, HealthType::Maint, 1500.0) - 30.0).abs() < 1e-9);
    assert!((charge(&c, HealthType::Init, 1500.0) - 60.0).abs() < 1e-9);
    assert!((charge(&c, HealthType::LiquidationEnd, 1500.0) - 45.0).abs() < 1e-9);
}

#[test]
fn naked_perp_pays_the_worst_shock() {
    // Long 10 perp @150 alone: Δ = 10; worst Maint shock −15 % → loss 10·22.5 = 225;
    // floor 1 %·1500 = 15 → requirement 240. Init: 1.5× shocks → 337.5 + 30 = 367.5.
    let c = HealthCache::new(vec![], vec![perp(1, 1, "10", "1500", "150")], MarginMode::Portfolio(params()))
        .unwrap();
    assert!(near(portfolio_requirement(&c, &params(), HealthType::Maint).unwrap(), 240.0, 1e-9));
    assert!(near(portfolio_requirement(&c, &params(), HealthType::Init).unwrap(), 367.5, 1e-9));
}

#[test]
fn positive_pnl_keeps_its_weight_in_portfolio_mode() {
    // Long 10 perp bought at 140, mark 150: pnl +100. Requirement as above
    // (Maint 240, Init 367.5). Weights 0.5 / 0.75 / 0.625, Init cap 20:
    // Maint 75 − 240 = −165; Init min(50, 20) − 367.5 = −347.5.
    let limits = PnlLimits {
        weights: PerType { init: fx("0.5"), maint: fx("0.75"), liq_end: fx("0.625") },
        init_cap: Some(fx("20")),
    };
    let d = perp(1, 1, "10", "1400", "150").with_pnl_limits(limits).unwrap();
    let c = HealthCache::new(vec![], vec![d], MarginMode::Portfolio(params())).unwrap();
    assert!(near(c.health(HealthType::Maint).unwrap(), -165.0, 1e-9));
    assert!(near(c.health(HealthType::Init).unwrap(), -347.5, 1e-9));
}

#[test]
fn delta_hedged_option_book() {
    // Long 10 calls (K 150, 30 d, σ 0.6; Δ ≈ 0.535, Γ ≈ 0.0154, vega ≈ 17.2 per unit)
    // hedged with a short perp of 10·Δ. Portfolio charge vs linear charge:
    let one = call(2, "1", "0");
    let g = one.unit_greeks();
    let hedge = g.delta.checked_mul_floor(fx("10")).unwrap();
    let value = g.value.checked_mul_floor(fx("10")).unwrap();
    let legs = vec![
        DerivativeInfo::new(2, 1, one.kind, fx("10"), value, Fixed::ZERO, one.prices, perp_rates()).unwrap(),
        DerivativeInfo::new(
            1,
            1,
            DerivativeKind::Perpetual,
            hedge.checked_neg().unwrap(),
            hedge.checked_mul_floor(fx("150")).unwrap().checked_neg().unwrap(),
            Fixed::ZERO,
            BiasedPrices::flat(fx("150")),
            perp_rates(),
        )
        .unwrap(),
    ];
    let lin = HealthCache::new(vec![], legs.clone(), MarginMode::Linear).unwrap();
    let port = HealthCache::new(vec![], legs, MarginMode::Portfolio(params())).unwrap();
    let lin_charge = -lin.health(HealthType::Maint).unwrap().to_f64();
    let port_charge = -port.health(HealthType::Maint).unwrap().to_f64();
    // Linear: option 10·150·0.05·0.535 ≈ 40.1 + perp 5.35·150·0.05 ≈ 40.1 → ≈ 80.3.
    // Portfolio: Δ ≈ 0, loss from Γ only at ±15 %: −½Γ·22.5² < 0 (long gamma gains),
    //   worst vol −0.1 → 10·17.2·0.1 ≈ 17.2; floors 1 %·(1500 + 802) ≈ 23 → ≈ 40.
    assert!((lin_charge - 80.3).abs() < 0.5, "linear {lin_charge}");
    assert!(port_charge < lin_charge * 0.6, "portfolio {port_charge} vs linear {lin_charge}");
    assert!(port_charge > 30.0);
}

#[test]
fn unnetted_tokens_keep_linear_weights() {
    // USDC (no underlying) counts 1:1 in both modes; a SOL deposit without
    // an underlying id keeps its 0.9 Maint weight.
    let sol = token(1, fx("10"), fx("150"), &sol_weights());
    let c = HealthCache::new(vec![usdc(0, fx("100")), sol], vec![], MarginMode::Portfolio(params())).unwrap();
    assert!(near(c.health(HealthType::Maint).unwrap(), 100.0 + 1350.0, 1e-9));
}

#[test]
fn params_validation() {
    let mut p = params();
    p.shock_scale = PerType { init: fx("1"), maint: fx("1.5"), liq_end: fx("1.2") };
    assert_eq!(p.validate(), Err(RiskError::InvalidParameter));
    let mut p = params();
    p.price_shocks.clear();
    assert!(HealthCache::new(vec![], vec![], MarginMode::Portfolio(p)).is_err());
}

proptest! {
    /// The requirement of a combined book never exceeds the sum of the
    /// requirements of each position held alone.
    #[test]
    fn portfolio_is_subadditive(
        spot in -50i64..50, perp_b in -50i64..50, fut_b in -50i64..50, opt_b in -50i64..50,
        ht_i in 0usize..3,
    ) {
        let ht = HealthType::ALL[ht_i];
        let p = params();
        let spot_t = token(1, Fixed::from_i64(spot), fx("150"), &sol_weights()).with_underlying(1);
        let lin = |m: u16, kind: DerivativeKind, b: i64| {
            DerivativeInfo::new(m, 1, kind, Fixed::from_i64(b), fx("150"), Fixed::ZERO, BiasedPrices::flat(fx("150")), perp_rates()).unwrap()
        };
        let perp_d = lin(1, DerivativeKind::Perpetual, perp_b);
        let fut_d = lin(3, DerivativeKind::Future, fut_b);
        let opt_d = DerivativeInfo::new(2, 1, call(2, "1", "0").kind, Fixed::from_i64(opt_b), Fixed::ZERO, Fixed::ZERO, BiasedPrices::flat(fx("150")), perp_rates()).unwrap();
        let mode = MarginMode::Portfolio(p.clone());
        let all = HealthCache::new(vec![spot_t], vec![perp_d, fut_d, opt_d], mode.clone()).unwrap();
        let combined = portfolio_requirement(&all, &p, ht).unwrap();
        let alone = [
            HealthCache::new(vec![spot_t], vec![], mode.clone()).unwrap(),
            HealthCache::new(vec![], vec![perp_d], mode.clone()).unwrap(),
            HealthCache::new(vec![], vec![fut_d], mode.clone()).unwrap(),
            HealthCache::new(vec![], vec![opt_d], mode.clone()).unwrap(),
        ];
        let mut sum = Fixed::ZERO;
        for c in &alone {
            sum = sum.checked_add(portfolio_requirement(c, &p, ht).unwrap()).unwrap();
        }
        // ulp slack: the per-position Greeks are rounded separately.
        prop_assert!(combined <= sum.checked_add(Fixed::from_bits(64)).unwrap(), "{} > {}", combined, sum);
    }
}
