//! Size premium: the square root's rounding, worked rates, and the rate's
//! invariants.

use super::*;
use crate::health::{DerivativeInfo, DerivativeKind, HealthType, MarginRates};
use crate::price::BiasedPrices;
use crate::testutil::*;
use proptest::prelude::*;

const INIT: HealthType = HealthType::Init;
const MAINT: HealthType = HealthType::Maint;
const LE: HealthType = HealthType::LiquidationEnd;

/// Perp rates 10 / 5 / 7.5 % with `imf` per √contract and `contract_size`.
fn rates(imf: &str, contract_size: u64) -> MarginRates {
    MarginRates { size_premium: fx(imf), contract_size, ..perp_rates() }
}

fn bits_of_sqrt(n: u128) -> u128 {
    n.isqrt()
}

#[test]
fn grid_sqrt_worked_examples() {
    // Perfect squares are exact both ways: √10,000 = 100, √0.25 = 0.5.
    for rounding in [Rounding::Floor, Rounding::Ceil] {
        assert_eq!(grid_sqrt(fx("10000"), rounding).unwrap(), fx("100"));
        assert_eq!(grid_sqrt(fx("0.25"), rounding).unwrap(), fx("0.5"));
        assert_eq!(grid_sqrt(Fixed::ZERO, rounding).unwrap(), Fixed::ZERO);
        assert_eq!(grid_sqrt(Fixed::ONE, rounding).unwrap(), Fixed::ONE);
    }
    // √2 · 2^24 = 23,726,566.49…: the ceil is 23,726,567 / 2^24 =
    // 1.4142135977745056 (the true root 1.4142135623730951), the floor one
    // grid step (2^-24 = 5.96e-8) below.
    let up = grid_sqrt(fx("2"), Rounding::Ceil).unwrap();
    let down = grid_sqrt(fx("2"), Rounding::Floor).unwrap();
    assert_eq!(up.to_bits(), 23_726_567i128 << 24);
    assert_eq!(down.to_bits(), 23_726_566i128 << 24);
    assert_eq!(up.to_f64(), 1.414_213_597_774_505_6);
    // The smallest grid value whose square is ≥ 2, and the largest ≤ 2.
    assert!(up.checked_mul_floor(up).unwrap() >= fx("2"));
    assert!(down.checked_mul_ceil(down).unwrap() <= fx("2"));
    assert_eq!(grid_sqrt(fx("-1"), Rounding::Ceil), Err(RiskError::Domain));
    // The largest Fixed: bits 2^127 − 1, √ = 13,043,817,825,332,782,212.3… → ceil.
    let max = grid_sqrt(Fixed::MAX, Rounding::Ceil).unwrap();
    assert_eq!(max.to_bits() >> 24, i128::try_from(bits_of_sqrt(i128::MAX as u128)).unwrap() + 1);
}

#[test]
fn integer_square_roots_at_the_edges() {
    for n in
        [0u128, 1, 2, 3, 4, 15, 16, 17, u64::MAX as u128, 1 << 64, (1 << 64) + 1, u128::MAX >> 1, u128::MAX]
    {
        assert_eq!(u128::from(isqrt_u128(n)), n.isqrt(), "{n}");
    }
    for k in 1u128..200 {
        let sq = k * k;
        assert_eq!(u128::from(isqrt_u128(sq)), k);
        assert_eq!(u128::from(isqrt_u128(sq - 1)), k - 1);
        let big = (u128::from(u64::MAX) - k) * (u128::from(u64::MAX) - k);
        assert_eq!(u128::from(isqrt_u128(big)), u128::from(u64::MAX) - k);
        assert_eq!(u128::from(isqrt_u128(big - 1)), u128::from(u64::MAX) - k - 1);
    }
}

#[test]
fn constants_are_the_rounded_fractions() {
    assert_eq!(FOUR_FIFTHS_UP, Fixed::from_ratio(4, 5, Rounding::Ceil).unwrap());
    assert_eq!(FOUR_FIFTHS_DOWN, Fixed::from_ratio(4, 5, Rounding::Floor).unwrap());
    assert_eq!(TWO_FIFTHS_DOWN, Fixed::from_ratio(2, 5, Rounding::Floor).unwrap());
    assert_eq!(TWO_FIFTHS_UP, Fixed::from_ratio(2, 5, Rounding::Ceil).unwrap());
    assert_eq!(THREE_HALVES, fx("1.5"));
    // 0.8 · 2^48 = 225,179,981,368,524.8.
    assert_eq!(FOUR_FIFTHS_UP.to_bits(), 225_179_981_368_525);
}

/// The module's worked example: imf = 0.001, 10,000 contracts.
#[test]
fn rate_worked_example() {
    let r = rates("0.001", 1);
    let c = fx("10000");
    // √10,000 = 100, premium 0.1: Init max(10 %, 8 % + 10 %) = 18 %,
    // Maint max(5 %, 4 % + 10 %) = 14 %, LiqEnd max(7.5 %, 6 % + 10 %) = 16 %.
    // (0.1, 0.001 … are not binary: the stored imf is 0.001 to 2^-49, which
    // √c = 100 multiplies, and each part rounds up.)
    for (ht, want) in [(INIT, 0.18), (MAINT, 0.14), (LE, 0.16)] {
        let got = r.rate_for_contracts(ht, c).unwrap();
        assert!((got.to_f64() - want).abs() < 1e-12, "{ht:?} {got}");
    }
    // Exactly: ⌈0.1 ·ceil ⌈0.8⌉⌉ + ⌈imf · 100⌉, imf being 0.001 parsed (nearest).
    let want = fx("0.1")
        .checked_mul_ceil(FOUR_FIFTHS_UP)
        .unwrap()
        .checked_add(fx("0.001").checked_mul_ceil(fx("100")).unwrap())
        .unwrap();
    assert_eq!(r.rate_for_contracts(INIT, c).unwrap(), want);
    // 100 contracts: √ = 10, premium 0.01: max(10 %, 9 %) = the base rate, bit for bit.
    assert_eq!(r.rate_for_contracts(INIT, fx("100")).unwrap(), fx("0.1"));
    // The kink for Init is at imf·√c = 0.2·r = 0.02, c = 400: at 401 the premium binds.
    assert!(r.rate_for_contracts(INIT, fx("401")).unwrap() > fx("0.1"));
    // In base units: 0.01 SOL contracts, 100 SOL = 10^11 lamports = 10,000 contracts.
    let sol = rates("0.001", 10_000_000);
    assert_eq!(sol.rate_for_base(INIT, fx("100000000000")).unwrap(), want);
    assert_eq!(sol.rate_for_base(INIT, fx("-100000000000")).unwrap(), want);
    // A part contract counts as a whole one started: 10^11 + 1 lamports is 10,001 contracts (up).
    assert_eq!(
        sol.rate_for_base(INIT, fx("100000000001")).unwrap(),
        sol.rate_for_contracts(INIT, fx("10000").checked_add(Fixed::from_bits(1)).unwrap()).unwrap()
    );
}

#[test]
fn the_kink_shortcut() {
    // imf 0.001, r 10 %. 255 < 4^4: √255 < 16 and 8 % + 0.001 · 16 = 9.6 %
    // ≤ 10 %: the base rate without a square root. 256 = 4^4 is only known
    // to be < 4^5 (√ < 32: 8 % + 3.2 % > 10 %), so the root is computed
    // (√256 = 16: 9.6 %, still the base rate).
    let (r, imf) = (fx("0.1"), fx("0.001"));
    assert!(premium_below_kink(r, imf, fx("255")).unwrap());
    assert!(!premium_below_kink(r, imf, fx("256")).unwrap());
    assert_eq!(rates("0.001", 1).rate_for_contracts(INIT, fx("256")).unwrap(), r, "√256 = 16: 9.6 %");
    assert!(!premium_below_kink(r, imf, fx("0.5")).unwrap(), "below one contract: computed");
    assert!(!premium_below_kink(r, fx("2"), fx("4")).unwrap(), "out of bounds: computed");
}

#[test]
fn rate_is_capped_at_one() {
    // imf = 0.01 and 10^6 contracts: √ = 1,000, 0.08 + 10 → capped at 1.
    let r = rates("0.01", 1);
    assert_eq!(r.rate_for_contracts(INIT, fx("1000000")).unwrap(), Fixed::ONE);
    // A premium of 1 per √contract: 1 contract already reaches the cap.
    assert_eq!(rates("1", 1).rate_for_contracts(MAINT, Fixed::ONE).unwrap(), Fixed::ONE);
}

#[test]
fn validation_bounds_the_premium() {
    assert!(rates("0", 0).validate().is_ok(), "no premium needs no contract size");
    assert!(rates("1", 1).validate().is_ok());
    assert_eq!(rates("1.000001", 1).validate(), Err(RiskError::InvalidParameter));
    assert_eq!(rates("-0.001", 1).validate(), Err(RiskError::InvalidParameter));
    assert_eq!(rates("0.001", 0).validate(), Err(RiskError::InvalidParameter));
}

/// A perpetual of `base` units at a flat price with `imf` (contract size 1).
fn perp_with(base: &str, cost: &str, price: &str, imf: &str) -> DerivativeInfo {
    DerivativeInfo::new(
        7,
        1,
        DerivativeKind::Perpetual,
        fx(base),
        fx(cost),
        Fixed::ZERO,
        BiasedPrices::flat(fx(price)),
        rates(imf, 1),
    )
    .unwrap()
}

#[test]
fn requirement_worked_example() {
    // Long 10,000 contracts at 1.5 (notional 15,000), imf 0.001: Init 18 % →
    // 2,700; Maint 14 % → 2,100; without the premium 1,500 and 750.
    let d = perp_with("10000", "15000", "1.5", "0.001");
    assert!(near(d.requirement(INIT).unwrap(), 2_700.0, 1e-8));
    assert!(near(d.requirement(MAINT).unwrap(), 2_100.0, 1e-8));
    assert!(near(d.rate_in_force(INIT).unwrap(), 0.18, 1e-12));
    let flat = perp_with("10000", "15000", "1.5", "0");
    assert!(near(flat.requirement(INIT).unwrap(), 1_500.0, 1e-9));
    // Bit for bit: |base| ·ceil (price ·ceil rate).
    let rate = d.rate_in_force(INIT).unwrap();
    let want = fx("10000").checked_mul_ceil(fx("1.5").checked_mul_ceil(rate).unwrap()).unwrap();
    assert_eq!(d.requirement(INIT).unwrap(), want);
    // A template keeps the premium per position: 2,500 contracts are charged
    // √2,500 = 50 → 5 %: Init max(10 %, 13 %) = 13 %.
    let small = d.with_position(fx("-2500"), fx("-3750"), Fixed::ZERO).unwrap();
    assert!(near(small.requirement(INIT).unwrap(), 2_500.0 * 1.5 * 0.13, 1e-8));
}

/// The whole-contracts path at its edges: the worked Init rates of the
/// module docs, the kink (400 contracts), the cap, the 2^16 switch,
/// and rates at 0 and 1.
#[test]
fn whole_contracts_rate_at_its_edges() {
    let r = fx("0.1");
    assert_eq!(
        rate_for_whole_contracts(r, fx("0.001"), 10_000).unwrap(),
        rate_in_force(r, fx("0.001"), fx("10000")).unwrap()
    );
    assert!(near(rate_for_whole_contracts(r, fx("0.001"), 10_000).unwrap(), 0.18, 1e-12));
    assert_eq!(rate_for_whole_contracts(r, fx("0.001"), 399).unwrap(), r, "below the kink: the base rate");
    // At the kink exactly, 8 % + 2 % rounded up is a hair above 10 % (against the user).
    assert!(rate_for_whole_contracts(r, fx("0.001"), 400).unwrap() > r);
    assert_eq!(rate_for_whole_contracts(r, fx("1"), 1).unwrap(), Fixed::ONE, "capped at 1");
    assert_eq!(rate_for_whole_contracts(r, Fixed::ZERO, 1 << 40).unwrap(), r, "off: the base rate");
    for c in [0, 1, 2, 255, 256, 65_535, 65_536, 65_537, 1 << 32] {
        for (r, imf) in [
            (r, fx("0.001")),
            (Fixed::ZERO, fx("0.000001")),
            (Fixed::ONE, fx("1")),
            (fx("0.05"), Fixed::DELTA),
        ] {
            assert_eq!(
                rate_for_whole_contracts(r, imf, c).unwrap(),
                rate_in_force(r, imf, Fixed::from_u64(c)).unwrap(),
                "r {r} imf {imf} c {c}"
            );
        }
    }
}

#[test]
fn zero_premium_is_bit_for_bit_the_base_rate() {
    for base in ["1", "123.456", "-98765.4321", "100000000"] {
        let a = perp_with(base, "0", "150.123", "0");
        let b = perp(7, 1, base, "0", "150.123");
        for ht in HealthType::ALL {
            assert_eq!(a.requirement(ht).unwrap(), b.requirement(ht).unwrap());
            assert_eq!(a.rate_in_force(ht).unwrap(), b.rates.rate(ht));
        }
    }
}

proptest! {
    /// The rate is ≥ the base rate, ≤ 1, non-decreasing in the size, and
    /// exactly the base rate without a premium.
    #[test]
    fn rate_is_floored_capped_and_monotone(
        imf_ppm in 0i64..=1_000_000, c in 0u64..1_000_000_000_000, extra in 0u64..1_000_000,
        frac in 0i64..1_000_000, r_bp in 0i64..=10_000,
    ) {
        let imf = Fixed::from_ratio(imf_ppm, 1_000_000, Rounding::Floor).unwrap();
        let r = Fixed::from_ratio(r_bp, 10_000, Rounding::Floor).unwrap();
        let rates = MarginRates { init: r, maint: r, liq_end: r, size_premium: imf, contract_size: 1, ..perp_rates() };
        let part = Fixed::from_ratio(frac, 1_000_000, Rounding::Floor).unwrap();
        let small = Fixed::from_u64(c).checked_add(part).unwrap();
        let large = small.checked_add(Fixed::from_u64(extra)).unwrap();
        let a = rates.rate_for_contracts(INIT, small).unwrap();
        let b = rates.rate_for_contracts(INIT, large).unwrap();
        prop_assert!(a >= r && a <= Fixed::ONE.max(r));
        prop_assert!(a <= b, "{} > {}", a, b);
        let off = MarginRates { size_premium: Fixed::ZERO, ..rates };
        prop_assert_eq!(off.rate_for_contracts(INIT, large).unwrap(), r);
        // The shortcut below the kink gives the full formula's bits.
        for c in [small, large] {
            let full = if imf.is_zero() || c.is_zero() { r } else {
                floor_and_cap(r, uncapped_rate(r, imf, c, Rounding::Ceil).unwrap())
            };
            prop_assert_eq!(rates.rate_for_contracts(INIT, c).unwrap(), full);
            if premium_below_kink(r, imf, c).unwrap() {
                prop_assert_eq!(full, r);
            }
        }
        // Against f64: within 1e-9 above the exact value, never below it.
        let exact = (0.8 * r.to_f64() + imf.to_f64() * small.to_f64().sqrt()).max(r.to_f64()).min(1.0);
        prop_assert!(a.to_f64() >= exact - 1e-12 * (1.0 + exact) && a.to_f64() <= exact + 1e-7, "{} vs {}", a, exact);
    }

    /// The whole-contracts path of the Init check gives the general rate bit
    /// for bit: any rate and premium in [0, 1] on their full bit range
    /// (not only round ppm), sizes across the 2^16 switch to the general path.
    #[test]
    fn whole_contracts_rate_is_the_general_rate(
        r_bits in 0i128..=Fixed::ONE.to_bits(), imf_bits in 0i128..=Fixed::ONE.to_bits(),
        c in prop_oneof![0u64..70_000, 0u64..u64::from(u32::MAX)],
    ) {
        let (r, imf) = (Fixed::from_bits(r_bits), Fixed::from_bits(imf_bits));
        prop_assert_eq!(
            rate_for_whole_contracts(r, imf, c).unwrap(),
            rate_in_force(r, imf, Fixed::from_u64(c)).unwrap(),
            "r {} imf {} c {}", r, imf, c
        );
    }

    /// A base of whole contracts takes the native path with the same bits as
    /// the general one (`contracts(base, Ceil)` is then that integer); any
    /// other base (a part of a contract, a liquidation's trial size) the
    /// general one.
    #[test]
    fn rate_for_base_on_whole_contracts_is_the_general_rate(
        r_bp in 0i64..=10_000, imf_ppm in 0i64..=1_000_000, c in 0u64..100_000,
        cs in 1u64..100_000_000, part in 0u64..3, short in any::<bool>(),
    ) {
        let r = Fixed::from_ratio(r_bp, 10_000, Rounding::Floor).unwrap();
        let imf = Fixed::from_ratio(imf_ppm, 1_000_000, Rounding::Floor).unwrap();
        let rates = MarginRates { init: r, maint: r, liq_end: r, size_premium: imf, contract_size: cs, ..perp_rates() };
        // part 0: whole contracts; 1: one native unit more; 2: a 2^-48 more.
        let units = Fixed::from_u64(c * cs);
        let base = match part {
            0 => units,
            1 => units.checked_add(Fixed::ONE).unwrap(),
            _ => units.checked_add(Fixed::DELTA).unwrap(),
        };
        let base = if short { base.checked_neg().unwrap() } else { base };
        let whole = rates.whole_contracts(base);
        prop_assert_eq!(whole.is_some(), part == 0 && c < WHOLE_CONTRACTS_LIMIT && (c > 0 || part == 0));
        let general = if imf.is_zero() || base.is_zero() { r } else {
            rates.rate_for_contracts(INIT, rates.contracts(base, Rounding::Ceil).unwrap()).unwrap()
        };
        prop_assert_eq!(rates.rate_for_base(INIT, base).unwrap(), general);
    }

    /// The grid square root brackets the exact root: ceil² ≥ x ≥ floor², one
    /// grid step apart (or equal), matching the integer square root.
    #[test]
    fn grid_sqrt_brackets_the_root(bits in 0i128..i128::MAX) {
        let x = Fixed::from_bits(bits);
        let up = grid_sqrt(x, Rounding::Ceil).unwrap();
        let down = grid_sqrt(x, Rounding::Floor).unwrap();
        let n = bits as u128;
        prop_assert_eq!((down.to_bits() >> 24) as u128, n.isqrt());
        let step = up.to_bits() - down.to_bits();
        prop_assert!(step == 0 || step == 1 << 24);
        prop_assert_eq!(step == 0, n.isqrt() * n.isqrt() == n);
    }

    /// The liquidation bound's requirement is the requirement, bit for bit;
    /// its rounding excess is ≥ 0; the slope just above the size is at most
    /// the slope bound below it.
    #[test]
    fn release_bound_agrees_with_the_requirement(
        base in 1i64..10_000_000_000, frac in 0i64..1_000, short in any::<bool>(), p in 1i64..100_000,
        imf_ppm in 0i64..=1_000_000, cs in 1u64..10_000_000,
    ) {
        let b = Fixed::from_i64(base).checked_add(Fixed::from_ratio(frac, 1_000, Rounding::Floor).unwrap()).unwrap();
        let b = if short { b.checked_neg().unwrap() } else { b };
        let imf = Fixed::from_ratio(imf_ppm, 1_000_000, Rounding::Floor).unwrap();
        let rates = MarginRates { size_premium: imf, contract_size: cs, ..perp_rates() };
        let price = Fixed::from_ratio(p, 1_000, Rounding::Floor).unwrap();
        let d = DerivativeInfo::new(7, 1, DerivativeKind::Perpetual, b, Fixed::ZERO, Fixed::ZERO,
            BiasedPrices::flat(price), rates).unwrap();
        for ht in HealthType::ALL {
            let bound = d.release_bound(ht).unwrap();
            prop_assert_eq!(bound.requirement, d.requirement(ht).unwrap());
            prop_assert!(!bound.excess.is_negative());
            prop_assert!(bound.local_slope <= bound.slope, "{:?}", bound);
        }
    }

    /// The requirement kept per size stays right however the size changes: a
    /// fresh position, a template's `with_position` and the cache's
    /// `adjust_derivative` agree bit for bit.
    #[test]
    fn kept_units_follow_the_size(
        a in -1_000_000i64..1_000_000, b in -1_000_000i64..1_000_000, imf_ppm in 0i64..=100_000, cs in 1u64..1_000,
    ) {
        let imf = Fixed::from_ratio(imf_ppm, 1_000_000, Rounding::Floor).unwrap();
        let rates = MarginRates { size_premium: imf, contract_size: cs, ..perp_rates() };
        let make = |base: i64| DerivativeInfo::new(7, 1, DerivativeKind::Perpetual, Fixed::from_i64(base),
            Fixed::ZERO, Fixed::ZERO, BiasedPrices::flat(fx("1.5")), rates).unwrap();
        let fresh = make(b);
        let templated = make(a).with_position(Fixed::from_i64(b), Fixed::ZERO, Fixed::ZERO).unwrap();
        let mut cache = crate::health::HealthCache::new(vec![], vec![make(a)], crate::health::MarginMode::Linear).unwrap();
        cache.adjust_derivative(7, Fixed::from_i64(b - a), Fixed::ZERO).unwrap();
        let adjusted = cache.derivative(7).unwrap();
        for ht in HealthType::ALL {
            let want = fresh.requirement(ht).unwrap();
            prop_assert_eq!(templated.requirement(ht).unwrap(), want);
            prop_assert_eq!(adjusted.requirement(ht).unwrap(), want);
            let rate = rates.rate_for_base(ht, Fixed::from_i64(b)).unwrap();
            let unit = fx("1.5").checked_mul_ceil(rate).unwrap();
            prop_assert_eq!(Fixed::from_i64(b).checked_abs().unwrap().checked_mul_ceil(unit).unwrap(), want);
        }
    }

    /// Integer square roots of `u128`s on both paths (below and above 2^64).
    #[test]
    fn isqrt_matches_std(n in any::<u128>(), small in any::<u64>()) {
        prop_assert_eq!(u128::from(isqrt_u128(n)), n.isqrt());
        prop_assert_eq!(u128::from(isqrt_u128(u128::from(small))), u128::from(small).isqrt());
    }
}
