//! Derivative contributions: worked examples.

use super::*;
use crate::health::{HealthCache, MarginMode};
use crate::testutil::*;

/// Tolerance for option values (A&S normal CDF: ≤ 1.5e-7 · S per unit).
const OPT_EPS: f64 = 1e-3;

const YEAR: i64 = 31_536_000;

fn option(
    market: u16,
    base: &str,
    cost: &str,
    strike: &str,
    is_call: bool,
    prices: BiasedPrices,
) -> DerivativeInfo {
    DerivativeInfo::new(
        market,
        1,
        DerivativeKind::Option(OptionTerms {
            is_call,
            strike: fx(strike),
            seconds_to_expiry: YEAR,
            vol: fx("0.2"),
            rate: Fixed::ZERO,
        }),
        fx(base),
        fx(cost),
        Fixed::ZERO,
        prices,
        perp_rates(),
    )
    .unwrap()
}

#[test]
fn perp_long_worked_example() {
    // Long 10 @ 150 (cost 1500), mark 150: pnl 0.
    // req: Init 10·150·0.10 = 150, Maint 75, LiqEnd 112.5. With 200 USDC:
    // Init 50, Maint 125, LiqEnd 87.5.
    let c =
        HealthCache::new(vec![usdc(0, fx("200"))], vec![perp(1, 1, "10", "1500", "150")], MarginMode::Linear)
            .unwrap();
    let s = c.summary().unwrap();
    assert!(near(s.init, 50.0, 1e-9) && near(s.maint, 125.0, 1e-9) && near(s.liq_end, 87.5, 1e-9));
    // Mark 160: pnl +100, Maint req 80 → 200 + 100 − 80 = 220.
    let c =
        HealthCache::new(vec![usdc(0, fx("200"))], vec![perp(1, 1, "10", "1500", "160")], MarginMode::Linear)
            .unwrap();
    assert!(near(c.health(HealthType::Maint).unwrap(), 220.0, 1e-9));
}

#[test]
fn perp_short_with_bias_and_funding() {
    // Short 10 (received 1500 → cost −1500), price 150, conf 1, k = 1:
    // marked at the liability price 151: pnl = −1510 + 1500 = −10;
    // Maint req = 10·151·0.05 = 75.5; unsettled funding −3 → −10 − 3 − 75.5 = −88.5.
    let d = DerivativeInfo::new(
        1,
        1,
        DerivativeKind::Perpetual,
        fx("-10"),
        fx("-1500"),
        fx("-3"),
        biased("150", "1", "150"),
        perp_rates(),
    )
    .unwrap();
    assert!(near(d.pnl(HealthType::Maint).unwrap(), -13.0, 1e-9));
    assert!(near(d.requirement(HealthType::Maint).unwrap(), 75.5, 1e-9));
    assert!(near(d.contribution(HealthType::Maint).unwrap(), -88.5, 1e-9));
    // A long of the same size is marked at 149: pnl −10 too (symmetric bias).
    let l = DerivativeInfo { base: fx("10"), cost_basis: fx("1500"), unsettled_funding: Fixed::ZERO, ..d };
    assert!(near(l.pnl(HealthType::Maint).unwrap(), -10.0, 1e-9));
}

#[test]
fn future_matches_perp_without_funding() {
    let p = perp(1, 1, "-4", "-600", "150");
    let f = DerivativeInfo { kind: DerivativeKind::Future, ..p };
    for ht in HealthType::ALL {
        assert_eq!(p.contribution(ht).unwrap(), f.contribution(ht).unwrap());
    }
}

#[test]
fn long_call_worked_example() {
    // 10 ATM calls S = K = 100, σ 0.2, 1y: value 10·7.96557 = 79.6557; paid 80.
    // pnl ≈ −0.3443. Maint req = 10·100·0.05·Δ(0.539828) = 26.9914 (< value).
    let d = option(2, "10", "80", "100", true, BiasedPrices::flat(fx("100")));
    assert!(near(d.value(HealthType::Maint).unwrap(), 79.655_67, OPT_EPS));
    assert!(near(d.requirement(HealthType::Maint).unwrap(), 26.991_39, OPT_EPS));
    assert!(near(d.contribution(HealthType::Maint).unwrap(), -0.344_33 - 26.991_39, OPT_EPS));
    assert!(near(d.unit_greeks().delta, 0.539_828, 1e-6));
}

#[test]
fn short_otm_option_is_never_free() {
    // Short 10 calls at K = 200 (Δ ≈ 0.0006): the short-option rates apply
    // whatever Δ (`option_margin`): Maint req = 10·100·9 % = 90, Init
    // 10·100·max(15 % − 100 %, 13 %) = 130.
    let d = option(2, "-10", "-0.01", "200", true, BiasedPrices::flat(fx("100")));
    assert!(near(d.requirement(HealthType::Maint).unwrap(), 90.0, 1e-9));
    assert!(near(d.requirement(HealthType::Init).unwrap(), 130.0, 1e-9));
    // A long of the same option needs at most its (tiny) value.
    let l = option(2, "10", "0.01", "200", true, BiasedPrices::flat(fx("100")));
    assert!(l.requirement(HealthType::Maint).unwrap() <= l.value(HealthType::Maint).unwrap());
}

#[test]
fn option_init_uses_conservative_price() {
    // Long call with stable 95 below spot 100: Init values at ≈ 95 (first order:
    // V(100) − Δ·5 = 7.9656 − 2.6991 = 5.2664 per unit, below BS(95) = 5.5559).
    let d = option(2, "1", "0", "100", true, biased("100", "0", "95"));
    let init = d.value(HealthType::Init).unwrap().to_f64();
    let maint = d.value(HealthType::Maint).unwrap().to_f64();
    assert!((init - 5.2664).abs() < OPT_EPS && init < 5.5559 && maint > init);
    // Short put with stable 95: liability side uses the lower price too (put gains value).
    let p = option(3, "-1", "0", "100", false, biased("100", "0", "95"));
    assert!(p.value(HealthType::Init).unwrap() < p.value(HealthType::Maint).unwrap());
}

#[test]
fn sign_flip_reprices_option() {
    let mut c = HealthCache::new(
        vec![usdc(0, fx("1000"))],
        vec![option(2, "10", "80", "100", true, biased("100", "1", "100"))],
        MarginMode::Linear,
    )
    .unwrap();
    // Sell 20: now short 10; valued at the liability price (101) and min-delta rule.
    c.adjust_derivative(2, fx("-20"), fx("-160")).unwrap();
    let d = c.derivative(2).unwrap();
    let fresh = option(2, "-10", "-80", "100", true, biased("100", "1", "100"));
    assert_eq!(d.value(HealthType::Maint).unwrap(), fresh.value(HealthType::Maint).unwrap());
    assert_eq!(d.requirement(HealthType::Init).unwrap(), fresh.requirement(HealthType::Init).unwrap());
}

#[test]
fn rates_validation() {
    let bad = MarginRates { maint: fx("0.2"), ..perp_rates() };
    assert_eq!(bad.validate(), Err(RiskError::InvalidParameter));
}

/// Weights 0.5 / 0.875 / 0.75 (Init / Maint / LiqEnd), Init cap 30.
fn limits() -> PnlLimits {
    PnlLimits {
        weights: PerType { init: fx("0.5"), maint: fx("0.875"), liq_end: fx("0.75") },
        init_cap: Some(fx("30")),
    }
}

#[test]
fn positive_pnl_is_weighted_and_capped() {
    // Long 10 bought at 150 (cost 1500), mark 160: pnl +100.
    // Init:  min(100·0.5 = 50, cap 30) = 30;  req 10·160·0.1   = 160 → −130.
    // Maint: 100·0.875 = 87.5;                req 10·160·0.05  =  80 →  +7.5.
    // LiqEnd: 100·0.75 = 75;                  req 10·160·0.075 = 120 →  −45.
    let d = perp(1, 1, "10", "1500", "160").with_pnl_limits(limits()).unwrap();
    assert_eq!(d.weighted_pnl(HealthType::Init).unwrap(), fx("30"));
    assert_eq!(d.weighted_pnl(HealthType::Maint).unwrap(), fx("87.5"));
    assert_eq!(d.weighted_pnl(HealthType::LiquidationEnd).unwrap(), fx("75"));
    assert!(near(d.contribution(HealthType::Init).unwrap(), -130.0, 1e-9));
    assert!(near(d.contribution(HealthType::Maint).unwrap(), 7.5, 1e-9));
    assert!(near(d.contribution(HealthType::LiquidationEnd).unwrap(), -45.0, 1e-9));
    // Without limits (the default) Maint counts all 100: 100 − 80 = 20.
    assert!(near(perp(1, 1, "10", "1500", "160").contribution(HealthType::Maint).unwrap(), 20.0, 1e-9));
    // A short that gained the same (sold 10 at 170, mark 160) is weighted the same way.
    let s = perp(1, 1, "-10", "-1700", "160").with_pnl_limits(limits()).unwrap();
    assert_eq!(s.weighted_pnl(HealthType::Init).unwrap(), fx("30"));
    assert_eq!(s.weighted_pnl(HealthType::Maint).unwrap(), fx("87.5"));
}

#[test]
fn negative_pnl_counts_in_full() {
    // Mark 140: pnl −100 in every type; Init −100 − 140 = −240, Maint −100 − 70 = −170,
    // LiqEnd −100 − 105 = −205, exactly as without limits.
    let d = perp(1, 1, "10", "1500", "140").with_pnl_limits(limits()).unwrap();
    let plain = perp(1, 1, "10", "1500", "140");
    for (ht, want) in
        [(HealthType::Init, -240.0), (HealthType::Maint, -170.0), (HealthType::LiquidationEnd, -205.0)]
    {
        assert_eq!(d.weighted_pnl(ht).unwrap(), fx("-100"));
        assert_eq!(d.contribution(ht).unwrap(), plain.contribution(ht).unwrap());
        assert!(near(d.contribution(ht).unwrap(), want, 1e-9));
    }
}

#[test]
fn limits_survive_position_changes() {
    let template = perp(1, 1, "0", "0", "160").with_pnl_limits(limits()).unwrap();
    let d = template.with_position(fx("10"), fx("1500"), Fixed::ZERO).unwrap();
    assert_eq!(d.pnl_limits(), &limits());
    assert_eq!(d.weighted_pnl(HealthType::Init).unwrap(), fx("30"));
    // adjust_derivative: buy 10 more at 150 → 20 long, cost 3000, pnl +200;
    // Maint 200·0.875 = 175, Init capped at 30.
    let mut c = HealthCache::new(vec![usdc(0, fx("100"))], vec![d], MarginMode::Linear).unwrap();
    c.adjust_derivative(1, fx("10"), fx("1500")).unwrap();
    let after = c.derivative(1).unwrap();
    assert_eq!(after.pnl_limits(), &limits());
    assert_eq!(after.weighted_pnl(HealthType::Maint).unwrap(), fx("175"));
    assert_eq!(after.weighted_pnl(HealthType::Init).unwrap(), fx("30"));
    // Health: 100 + 30 − 20·160·0.1 = −190 (Init).
    assert!(near(c.health(HealthType::Init).unwrap(), -190.0, 1e-9));
}

#[test]
fn pnl_limits_validation() {
    let bad_order = PnlLimits { weights: PerType { init: fx("0.9"), ..limits().weights }, ..limits() };
    let above_one = PnlLimits { weights: PerType::splat(fx("1.01")), init_cap: None };
    let negative = PnlLimits { weights: PerType::splat(fx("-0.1")), init_cap: None };
    let neg_cap = PnlLimits { init_cap: Some(fx("-1")), ..limits() };
    for l in [bad_order, above_one, negative, neg_cap] {
        assert_eq!(l.validate(), Err(RiskError::InvalidParameter));
        assert!(perp(1, 1, "1", "1", "1").with_pnl_limits(l).is_err());
    }
    assert_eq!(PnlLimits::NONE.validate(), Ok(()));
    assert_eq!(limits().validate(), Ok(()));
}

proptest::proptest! {
    /// Limits never add health: weighted PnL ≤ PnL, equal when PnL ≤ 0, and
    /// ordered Init ≤ LiqEnd ≤ Maint for a profit.
    #[test]
    fn limits_only_take_away(base in -1_000i64..1_000, cost in -1_000_000i64..1_000_000, price in 1i64..1_000) {
        let d = DerivativeInfo::new(1, 1, DerivativeKind::Perpetual, Fixed::from_i64(base),
            Fixed::from_i64(cost), Fixed::ZERO, BiasedPrices::flat(Fixed::from_i64(price)), perp_rates())
            .unwrap();
        let l = d.with_pnl_limits(limits()).unwrap();
        for ht in HealthType::ALL {
            let (raw, w) = (d.pnl(ht).unwrap(), l.weighted_pnl(ht).unwrap());
            proptest::prop_assert!(w <= raw && (raw.is_positive() || w == raw));
            proptest::prop_assert!(l.contribution(ht).unwrap() <= d.contribution(ht).unwrap());
        }
        let w = |ht| l.weighted_pnl(ht).unwrap();
        proptest::prop_assert!(w(HealthType::Init) <= w(HealthType::LiquidationEnd));
        proptest::prop_assert!(w(HealthType::LiquidationEnd) <= w(HealthType::Maint));
    }
}

proptest::proptest! {
    /// `pnl_after` and `requirement_at_whole_contracts` give the bits of the
    /// position moved in the cache (`adjust_derivative`) for any move toward
    /// zero, either side, with funding, at any size premium.
    #[test]
    fn moved_position_matches_the_cache(
        contracts in 1u64..100_000, closed_part in 0u64..=100, cs in 1u64..1_000, entry in 1i64..1_000,
        p in 1i64..1_000, conf in 0i64..50, funding in -1_000i64..1_000, short in proptest::bool::ANY,
        imf_ppm in 0i64..100_000, price in 1i64..1_000,
    ) {
        let per = |v: i64| Fixed::from_i64(v).checked_div_int(cs, Rounding::Floor).unwrap();
        let rates = MarginRates {
            size_premium: Fixed::from_ratio(imf_ppm, 1_000_000, Rounding::Floor).unwrap(),
            contract_size: cs,
            ..perp_rates()
        };
        let signed = |v: Fixed| if short { v.checked_neg().unwrap() } else { v };
        let base = signed(Fixed::from_u64(contracts * cs));
        let conf = per(conf).checked_div_int(100, Rounding::Floor).unwrap();
        let o = crate::price::OraclePrice { lo: per(p), hi: per(p), conf };
        let bias = crate::price::PriceBias { conf_multiplier: Fixed::ONE };
        let prices = BiasedPrices::new(&o, per(p), bias).unwrap();
        let d = DerivativeInfo::new(7, 1, DerivativeKind::Perpetual, base, signed(Fixed::from_i64(contracts as i64 * entry)),
            Fixed::from_i64(funding), prices, rates).unwrap();
        let k = contracts * closed_part / 100;
        let delta = signed(Fixed::from_u64(k * cs)).checked_neg().unwrap();
        let fill = per(price);
        let mut cache = HealthCache::new(vec![], vec![d], MarginMode::Linear).unwrap();
        cache.adjust_derivative(7, delta, delta.checked_mul_ceil(fill).unwrap()).unwrap();
        let moved = cache.derivative(7).unwrap();
        for ht in HealthType::ALL {
            proptest::prop_assert_eq!(d.pnl_after(ht, delta, fill).unwrap(), moved.pnl(ht).unwrap());
            proptest::prop_assert_eq!(d.requirement_at_whole_contracts(ht, contracts - k).unwrap().0, moved.requirement(ht).unwrap());
        }
    }
}

/// `weighted_pnls` is `weighted_pnl` per type asked (0 for the others):
/// positive PnL weighted and capped, negative PnL, an option, a biased
/// price (Init's differs from Maint's and LiquidationEnd's shared one).
#[test]
fn weighted_pnls_are_weighted_pnl_per_type() {
    let biased = BiasedPrices::new(
        &crate::price::OraclePrice { lo: fx("100"), hi: fx("100"), conf: fx("1") },
        fx("98"),
        crate::price::PriceBias { conf_multiplier: fx("1") },
    )
    .unwrap();
    let cases = [
        perp(1, 1, "10", "1500", "160").with_pnl_limits(limits()).unwrap(),
        perp(1, 1, "-10", "-1700", "160").with_pnl_limits(limits()).unwrap(),
        perp(1, 1, "10", "1500", "140").with_pnl_limits(limits()).unwrap(),
        option(2, "10", "80", "100", true, BiasedPrices::flat(fx("100"))),
        option(2, "-10", "-80", "100", false, biased),
    ];
    for d in cases {
        let all = d.weighted_pnls(&HealthType::ALL).unwrap();
        for ht in HealthType::ALL {
            assert_eq!(all.get(ht), d.weighted_pnl(ht).unwrap(), "{ht:?}");
            let one = d.weighted_pnls(&[ht]).unwrap();
            for other in HealthType::ALL {
                let want = if other == ht { d.weighted_pnl(ht).unwrap() } else { Fixed::ZERO };
                assert_eq!(one.get(other), want);
            }
        }
    }
}
