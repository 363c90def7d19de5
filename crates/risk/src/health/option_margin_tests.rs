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

/// The oracle moved since the array was computed (module docs' worked
/// example): value 4.5, Δ 0.42, Γ 0.02 at 150. At a flat 153 a long counts
/// `4.5 + 0.42·3 = 5.76`, a short owes `5.76 + ½·0.02·3² = 5.85` and one
/// unit. With a confidence band (oracle 153 ± 1, stable 151) each type takes
/// its own price: a long call at the asset prices (spot 152, Init
/// min(152, 151) = 151), a short call at the liability prices (spot 154, Init 154).
#[test]
fn array_value_follows_the_oracle_from_the_array_spot() {
    let array = ArrayValue { spot: fx("150"), value: fx("4.5"), delta: fx("0.42"), gamma: fx("0.02") };
    let build = |base: &str, prices: BiasedPrices| {
        let t = terms(true, "165");
        DerivativeInfo::new_option_from_array(2, 1, t, fx(base), fx("0"), prices, perp_rates(), array)
            .unwrap()
    };
    let (long, short) = (build("1", flat("153")), build("-1", flat("153")));
    // Values to 1e-9 (0.42 and 0.02 are not exact in binary; the roundings
    // are pinned bit for bit below).
    let long_is = |d: &DerivativeInfo, ht: HealthType, want: f64| {
        let v = d.value(ht).unwrap().to_f64();
        assert!((v - want).abs() < 1e-9, "{ht:?}: {v} vs {want}");
    };
    let short_is = |d: &DerivativeInfo, ht: HealthType, want: f64| {
        let v = -d.value(ht).unwrap().to_f64();
        assert!((v - want).abs() < 1e-9, "{ht:?}: {v} vs {want}");
    };
    // Bit for bit: a long's Δ term rounded down; a short's `ds·(Δ + ½Γ·ds)`
    // with ½Γ·ds rounded up (ds > 0) and the product up, plus one unit.
    let ds = fx("3");
    let long_unit = array.value.checked_add(array.delta.checked_mul_floor(ds).unwrap()).unwrap();
    let g_ds = array.gamma.checked_mul_ceil(ds).unwrap();
    let half_up = Fixed::from_bits((g_ds.to_bits() + 1) >> 1);
    let slope = array.delta.checked_add(half_up).unwrap();
    let short_unit = array
        .value
        .checked_add(slope.checked_mul_ceil(ds).unwrap())
        .and_then(|v| v.checked_add(Fixed::DELTA))
        .unwrap();
    assert_eq!(array.unit_value(&terms(true, "165"), fx("153"), false).unwrap(), long_unit);
    assert_eq!(array.unit_value(&terms(true, "165"), fx("153"), true).unwrap(), short_unit);
    assert!(long_unit < short_unit);
    for ht in HealthType::ALL {
        long_is(&long, ht, 5.76);
        short_is(&short, ht, 5.85);
    }
    let band = biased("153", "1", "151");
    let (long, short) = (build("1", band), build("-1", band));
    // Long: 4.5 + 0.42·2 = 5.34 (spot asset 152); Init 4.5 + 0.42·1 = 4.92 (151).
    long_is(&long, HealthType::Maint, 5.34);
    long_is(&long, HealthType::LiquidationEnd, 5.34);
    long_is(&long, HealthType::Init, 4.92);
    // Short at 154 in every type: 4.5 + 0.42·4 + ½·0.02·16 = 6.34, and one unit.
    for ht in HealthType::ALL {
        short_is(&short, ht, 6.34);
    }
    // Below the array's spot a long loses Δ per unit of the move: at 140, 4.5 − 4.2 = 0.3;
    // never below zero (at 135: 4.5 − 6.3 < 0 → 0).
    long_is(&build("1", flat("140")), HealthType::Maint, 0.3);
    assert_eq!(build("1", flat("135")).value(HealthType::Maint).unwrap(), Fixed::ZERO);
    // Puts: Δ < 0, a long put gains as the price falls.
    let put = ArrayValue { delta: fx("-0.58"), ..array };
    let t = terms(false, "155");
    let long_put =
        DerivativeInfo::new_option_from_array(2, 1, t, fx("1"), fx("0"), flat("147"), perp_rates(), put)
            .unwrap();
    // 4.5 + (−0.58)·(−3) = 6.24.
    long_is(&long_put, HealthType::Maint, 6.24);
}

/// An array-valued position: a long at the model value, a short one unit
/// more, the short requirement of the module docs, a long never above its value.
#[test]
fn array_valued_positions() {
    let array = ArrayValue { spot: fx("150"), value: fx("4.5"), delta: fx("0.42"), gamma: fx("0.02") };
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

mod expansion_props {
    //! The expansion around the array's spot against Black–Scholes at the
    //! price it values, over moves up to 5 %: a long never counts more than
    //! the option is worth (the tangent of a convex value); a short owes at
    //! most its worth plus the move and, moved against, at least its worth
    //! less 14 % of the move ([`super::expansion_error_table`]).
    use super::*;
    use crate::options::black_scholes::{bs_price_greeks, BsInput};
    use proptest::prelude::*;

    fn bs(spot: Fixed, strike: Fixed, vol: Fixed, seconds_to_expiry: i64, is_call: bool) -> Greeks {
        let input = BsInput { spot, strike, vol, seconds_to_expiry, rate: Fixed::ZERO, is_call };
        bs_price_greeks(&input).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn bounded_by_black_scholes_within_the_move(
            is_call: bool,
            strike_pct in 50i64..200,
            vol_pct in 10i64..200,
            minutes in 60i64..525_600,
            drift_bps in -500i64..=500,
        ) {
            prop_assume!(drift_bps != 0);
            let spot = fx("150");
            let strike = Fixed::from_ratio(150 * strike_pct, 100, Rounding::Floor).unwrap();
            let vol = Fixed::from_ratio(vol_pct, 100, Rounding::Floor).unwrap();
            let secs = minutes * 60;
            let g = bs(spot, strike, vol, secs, is_call);
            let array = ArrayValue { spot, value: g.value, delta: g.delta, gamma: g.gamma };
            let t = OptionTerms { is_call, strike, seconds_to_expiry: secs, vol, rate: Fixed::ZERO };
            let price = Fixed::from_ratio(150 * (10_000 + drift_bps), 10_000, Rounding::Floor).unwrap();
            let ds = (price.to_f64() - 150.0).abs();
            let worth = bs(price, strike, vol, secs, is_call).value.to_f64();
            let long = array.unit_value(&t, price, false).unwrap().to_f64();
            let short = array.unit_value(&t, price, true).unwrap().to_f64();
            // Black–Scholes in fixed point is within 1e-9 of spot of the exact value.
            prop_assert!(long <= worth + 150.0 * 1e-9, "long {long} > worth {worth}");
            prop_assert!(short <= worth + ds + 150.0 * 1e-9, "short {short} > worth {worth} + {ds}");
            prop_assert!(short >= worth - 0.14 * ds, "short {short} < worth {worth} − 14 % of {ds}");
            prop_assert!(long <= short);
        }
    }
}

/// The expansion's error over a table (calls and puts, strikes 50–200 % of
/// spot, volatility 10–200 %, an hour to a year, moves up to ±5 %: the 2 %
/// drift bound plus a confidence band or a lagging stable price), against
/// Black–Scholes at the moved price `S`, in units of the move `|ds|`:
/// - a long never counts more than its worth;
/// - a short never owes more than its worth plus `|ds|` (it stays at `V` on
///   a favourable move, is capped at `V + |ds|` on an adverse one);
/// - a short moved against owes at least its worth less 14 % of the move
///   (worst: Γ taken at the array's spot understates the convexity of a
///   short-dated option moved a few standard deviations toward its strike:
///   the measured worst is printed); favourable moves have no shortfall.
///
/// Valuing at the array's `V` alone is off by up to the whole move.
#[test]
fn expansion_error_table() {
    use crate::options::black_scholes::{bs_price_greeks, BsInput};
    let (mut shortfall, mut over, mut flat_gap) = (0.0f64, 0.0f64, 0.0f64);
    for is_call in [true, false] {
        for strike_pct in (50..=200).step_by(6) {
            for vol_pct in [10i64, 30, 60, 120, 200] {
                for hours in [1i64, 6, 24, 48, 168, 720, 8_760] {
                    for drift_bps in [-500i64, -200, -100, -25, 25, 100, 200, 500] {
                        let spot = fx("150");
                        let strike = Fixed::from_ratio(150 * strike_pct, 100, Rounding::Floor).unwrap();
                        let vol = Fixed::from_ratio(vol_pct, 100, Rounding::Floor).unwrap();
                        let seconds_to_expiry = hours * 3_600;
                        let t = OptionTerms { is_call, strike, seconds_to_expiry, vol, rate: Fixed::ZERO };
                        let input = |spot| BsInput {
                            spot,
                            strike,
                            vol,
                            seconds_to_expiry,
                            rate: Fixed::ZERO,
                            is_call,
                        };
                        let g = bs_price_greeks(&input(spot)).unwrap();
                        let array = ArrayValue { spot, value: g.value, delta: g.delta, gamma: g.gamma };
                        let price =
                            Fixed::from_ratio(150 * (10_000 + drift_bps), 10_000, Rounding::Floor).unwrap();
                        let ds = (price.to_f64() - 150.0).abs();
                        let worth = bs_price_greeks(&input(price)).unwrap().value.to_f64();
                        let long = array.unit_value(&t, price, false).unwrap().to_f64();
                        let short = array.unit_value(&t, price, true).unwrap().to_f64();
                        assert!(
                            long <= worth + 1e-9,
                            "long {long} above its worth {worth}: {t:?} at {price}"
                        );
                        assert!(long <= short);
                        assert!(
                            short - worth <= ds + 1e-9,
                            "short {short} over {worth} + {ds}: {t:?} at {price}"
                        );
                        let adverse = (drift_bps > 0) == is_call;
                        if !adverse {
                            assert!(short >= worth - 1e-9, "favourable: short {short} below {worth}");
                        }
                        shortfall = shortfall.max((worth - short) / ds);
                        over = over.max((short - worth) / ds);
                        flat_gap = flat_gap.max((worth - g.value.to_f64()).abs() / ds);
                    }
                }
            }
        }
    }
    println!("short shortfall ≤ {shortfall:.4}·|ds|, overcharge ≤ {over:.4}·|ds|, V alone off by {flat_gap:.4}·|ds|");
    assert!(shortfall < 0.14, "short shortfall {shortfall} of the move");
    assert!(flat_gap > 0.99, "without the expansion: {flat_gap}");
}

mod fair_value {
    //! The central value of liquidations and oracle equity: the reviewer's
    //! near-expiry case by hand, monotone in the price (large Γ included),
    //! flat values untouched, a short never below what it owes.
    use super::*;
    use crate::options::black_scholes::{bs_price_greeks, BsInput};
    use proptest::prelude::*;

    fn terms(is_call: bool, strike: &str) -> (bool, Fixed) {
        (is_call, fx(strike))
    }

    /// A 1-hour at-the-money call at 150, σ 80 %: V ≈ 0.51, Δ ≈ 0.5, Γ ≈ 0.31.
    /// After a 1.93 % fall the parabola has passed its vertex (ds* = −Δ/Γ ≈
    /// −1.6) and would climb back toward V; the estimate follows the line
    /// V + ½Δ·ds instead, ≈ 0.51 − 0.5·0.5·2.9 < 0 → 0 (Black–Scholes ≈ 0.005).
    #[test]
    fn past_the_vertex_it_keeps_falling() {
        let input = |spot| BsInput {
            spot,
            strike: fx("150"),
            vol: fx("0.8"),
            seconds_to_expiry: 3_600,
            rate: Fixed::ZERO,
            is_call: true,
        };
        let g = bs_price_greeks(&input(fx("150"))).unwrap();
        let e = ArrayValue { spot: fx("150"), value: g.value, delta: g.delta, gamma: g.gamma };
        assert!(g.gamma.to_f64() > 0.25 && (g.delta.to_f64() - 0.5).abs() < 0.02, "{g:?}");
        let price = fx("147.1");
        let long = fair_value_at(&e, terms(true, "150"), price, (false, Fixed::ZERO)).unwrap();
        let parabola = g.value.to_f64() - g.delta.to_f64() * 2.9 + 0.5 * g.gamma.to_f64() * 2.9 * 2.9;
        assert!(parabola > 0.3, "the parabola would say {parabola}");
        assert_eq!(long, Fixed::ZERO, "the line below the vertex is negative here");
        // A short owes at least its one unit.
        let short = fair_value_at(&e, terms(true, "150"), price, (true, Fixed::DELTA)).unwrap();
        assert_eq!(short, Fixed::DELTA);
        // The other way, 1.93 % up, the parabola overshoots (the documented
        // limit of a central estimate this close to expiry).
        let up = fair_value_at(&e, terms(true, "150"), fx("152.9"), (false, Fixed::ZERO)).unwrap().to_f64();
        let worth = bs_price_greeks(&input(fx("152.9"))).unwrap().value.to_f64();
        println!("1-hour ATM call +2.9: central {up:.3}, Black–Scholes {worth:.3}");
        assert!(up > worth && up - worth < 0.4, "{up} vs {worth}");
    }

    #[test]
    fn flat_values_and_no_move_stay() {
        let flat = ArrayValue::flat(fx("12"));
        for price in ["0.5", "150", "400"] {
            for short in [false, true] {
                let owed = if short { Fixed::DELTA } else { Fixed::ZERO };
                let want = fx("12").checked_add(owed).unwrap();
                assert_eq!(fair_value_at(&flat, terms(true, "100"), fx(price), (short, owed)).unwrap(), want);
            }
        }
        let e = ArrayValue { spot: fx("150"), value: fx("4.5"), delta: fx("-0.4"), gamma: fx("0.02") };
        assert_eq!(
            fair_value_at(&e, terms(false, "145"), fx("150"), (false, Fixed::ZERO)).unwrap(),
            fx("4.5")
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Monotone in the price for calls (non-decreasing) and puts
        /// (non-increasing), whatever Δ and Γ (Γ up to 5 per unit of price:
        /// minutes from expiry), between the intrinsic value and V + |ds|,
        /// a short never below a long.
        #[test]
        fn monotone_and_bounded(
            is_call: bool,
            value_c in 0i64..2_000,
            delta_pm in 0i64..=1_000,
            gamma_m in 0i64..5_000,
            a_bps in -1_000i64..=1_000,
            b_bps in -1_000i64..=1_000,
        ) {
            let delta = Fixed::from_ratio(if is_call { delta_pm } else { -delta_pm }, 1_000, Rounding::Floor).unwrap();
            let e = ArrayValue {
                spot: fx("150"),
                value: Fixed::from_ratio(value_c, 100, Rounding::Floor).unwrap(),
                delta,
                gamma: Fixed::from_ratio(gamma_m, 1_000, Rounding::Floor).unwrap(),
            };
            let t = terms(is_call, "150");
            let at = |bps: i64, short: bool| {
                let p = Fixed::from_ratio(150 * (10_000 + bps), 10_000, Rounding::Floor).unwrap();
                fair_value_at(&e, t, p, (short, Fixed::ZERO)).unwrap()
            };
            let (lo, hi) = (a_bps.min(b_bps), a_bps.max(b_bps));
            for short in [false, true] {
                let (v_lo, v_hi) = (at(lo, short), at(hi, short));
                if is_call {
                    prop_assert!(v_lo <= v_hi, "call {short}: {v_lo} at {lo} > {v_hi} at {hi}");
                } else {
                    prop_assert!(v_lo >= v_hi, "put {short}: {v_lo} at {lo} < {v_hi} at {hi}");
                }
            }
            prop_assert!(at(a_bps, false) <= at(a_bps, true));
            let ds = (150.0 * a_bps as f64 / 10_000.0).abs();
            prop_assert!(at(a_bps, true).to_f64() <= e.value.to_f64() + ds + 1e-9);
        }
    }
}
