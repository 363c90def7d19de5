//! Short-option requirement (Derive's shape) and array-valued options.

use super::*;
use crate::testutil::{biased, fx, perp_rates};

fn flat(price: &str) -> BiasedPrices {
    BiasedPrices::flat(fx(price))
}

/// Spot 150, Derive defaults: Init `max(22.5 − OTM, 19.5)`, LiqEnd 16.5, Maint 13.5.
#[test]
fn derive_rates_at_150() {
    let r = ShortOptionRates::derive();
    let p = flat("150");
    let init = |call: bool, k: &str| r.unit_requirement(HealthType::Init, call, fx(k), &p).unwrap().to_f64();
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
    // In or at the money: the full 15 %.
    for k in ["105", "120", "150"] {
        assert!(close(init(true, k), 22.5), "call {k}");
    }
    for k in ["150", "180", "250"] {
        assert!(close(init(false, k), 22.5), "put {k}");
    }
    // 5 % out of the money: 22.5 − 7.5 = 15 → the 19.5 floor; 1 % OTM: 21.
    assert!(close(init(true, "157.5"), 19.5));
    assert!(close(init(true, "151.5"), 21.0));
    assert!(close(init(false, "148.5"), 21.0));
    assert!(close(init(false, "105"), 19.5));
    let maint = r.unit_requirement(HealthType::Maint, true, fx("200"), &p).unwrap().to_f64();
    let liq_end = r.unit_requirement(HealthType::LiquidationEnd, false, fx("100"), &p).unwrap().to_f64();
    assert!(close(maint, 13.5) && close(liq_end, 16.5), "{maint} {liq_end}");
}

/// The price range widens against the short: `S_hi` in the products, the
/// smallest OTM amount over `[S_lo, S_hi]`.
#[test]
fn conservative_within_the_price_range() {
    let r = ShortOptionRates::derive();
    let p = biased("150", "1", "150"); // Init prices 149 … 151
    let call = r.unit_requirement(HealthType::Init, true, fx("155"), &p).unwrap();
    // 15 % · 151 − (155 − 151) = 22.65 − 4 = 18.65 < 13 % · 151 = 19.63.
    assert!((call.to_f64() - 19.63).abs() < 1e-9, "{call}");
    let put = r.unit_requirement(HealthType::Init, false, fx("148"), &p).unwrap();
    // 15 % · 151 − (149 − 148) = 21.65.
    assert!((put.to_f64() - 21.65).abs() < 1e-9, "{put}");
    for k in ["100", "140", "148", "150", "152", "160", "200"] {
        for call in [true, false] {
            let got = r.unit_requirement(HealthType::Init, call, fx(k), &p).unwrap();
            for s in ["149", "150", "151"] {
                let at = r.unit_requirement(HealthType::Init, call, fx(k), &flat(s)).unwrap();
                assert!(got >= at, "K {k} call {call} at {s}");
            }
        }
    }
}

#[test]
fn validation_and_bps() {
    assert!(ShortOptionRates::derive().validate().is_ok());
    assert!(ShortOptionRates::ZERO.validate().is_ok());
    for bad in
        [[1_500, 1_600, 1_100, 900], [1_500, 1_300, 1_400, 900], [1_500, 1_300, 1_100, 1_200], [10_001; 4]]
    {
        assert_eq!(
            ShortOptionRates::from_bps(bad).unwrap().validate(),
            Err(RiskError::InvalidParameter),
            "{bad:?}"
        );
    }
    let d = ShortOptionRates::derive();
    assert_eq!(d.init_base, Fixed::from_ratio(1_500, 10_000, Rounding::Floor).unwrap());
    assert_eq!(d.maint, Fixed::from_ratio(900, 10_000, Rounding::Floor).unwrap());
}

fn terms(call: bool, strike: &str) -> OptionTerms {
    OptionTerms {
        is_call: call,
        strike: fx(strike),
        seconds_to_expiry: 30 * 86_400,
        vol: fx("0.6"),
        rate: Fixed::ZERO,
    }
}

/// An array-valued position: a long at the model value, a short one unit
/// more, the short requirement of the module docs, a long never above its value.
#[test]
fn array_valued_positions() {
    let array = ArrayValue { value: fx("4.5"), delta: fx("0.42") };
    let rates = perp_rates();
    let build = |base: &str| {
        DerivativeInfo::new_option_from_array(
            2,
            1,
            terms(true, "165"),
            fx(base),
            fx("0"),
            flat("150"),
            rates,
            array,
        )
        .unwrap()
    };
    let long = build("10");
    let short = build("-10");
    for ht in HealthType::ALL {
        assert_eq!(long.value(ht).unwrap(), fx("45"));
        let owed = fx("-4.5").checked_sub(Fixed::DELTA).unwrap().checked_mul_floor(fx("10")).unwrap();
        assert_eq!(short.value(ht).unwrap(), owed);
        // Long: rate · 150 · 0.42 · 10 (Init 63 > 45: capped at the value).
        let want = rates.rate(ht).checked_mul_ceil(fx("150")).unwrap().checked_mul_ceil(fx("0.42")).unwrap();
        let want = want.checked_mul_ceil(fx("10")).unwrap().min(fx("45"));
        assert_eq!(long.requirement(ht).unwrap(), want, "{ht:?}");
        let unit = rates.short_option.unit_requirement(ht, true, fx("165"), &flat("150")).unwrap();
        assert_eq!(short.requirement(ht).unwrap(), unit.checked_mul_ceil(fx("10")).unwrap(), "{ht:?}");
    }
    // Init: 15 % · 150 − 15 = 7.5 < 19.5 floor → 195 for 10.
    assert!((short.requirement(HealthType::Init).unwrap().to_f64() - 195.0).abs() < 1e-9);
    // A side change keeps the array (no Black–Scholes): the template's value.
    let flipped = long.with_position(fx("-1"), fx("0"), Fixed::ZERO).unwrap();
    assert_eq!(flipped.value(HealthType::Init).unwrap(), fx("-4.5").checked_sub(Fixed::DELTA).unwrap());
    assert_eq!(flipped.unit_greeks().delta, fx("0.42"));
    // No size premium on options.
    let premium = MarginRates { size_premium: fx("0.001"), contract_size: 1, ..rates };
    let refused = DerivativeInfo::new_option_from_array(
        2,
        1,
        terms(true, "165"),
        fx("1"),
        fx("0"),
        flat("150"),
        premium,
        array,
    );
    assert_eq!(refused, Err(RiskError::InvalidParameter));
}
