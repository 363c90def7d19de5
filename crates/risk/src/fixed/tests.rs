//! Worked examples and invariants for [`Fixed`].

use super::*;
use proptest::prelude::*;

/// One ulp, the tolerance of every single-rounding operation.
const ULP: i128 = 1;

fn fx(s: &str) -> Fixed {
    s.parse().unwrap()
}

#[test]
fn constants_and_conversions() {
    assert_eq!(Fixed::ONE.to_bits(), 1 << 48);
    assert_eq!(Fixed::from_i64(-3).to_bits(), -3 << 48);
    assert_eq!(Fixed::from_u64(u64::MAX).to_bits(), (u64::MAX as i128) << 48);
    let x = fx("-1234.5678");
    assert_eq!(Fixed::from_le_bytes(x.to_le_bytes()), x);
    assert_eq!(Fixed::from_limbs(x.to_limbs()), x);
    assert!(Fixed::checked_from_i128(1 << 80).is_err());
    assert_eq!(Fixed::checked_from_i128((1 << 79) - 1).unwrap().to_bits(), ((1 << 79) - 1) << 48);
}

#[test]
fn parse_and_display_are_exact_for_binary_fractions() {
    // 0.5 = 2^-1, 0.375 = 3/8: exact in binary.
    assert_eq!(fx("0.5").to_bits(), 1 << 47);
    assert_eq!(fx("-2.375").to_string(), "-2.375");
    assert_eq!(fx("150").to_string(), "150");
    assert_eq!(format!("{:.2}", fx("1.5")), "1.50");
    assert_eq!(format!("{:.0}", fx("7.75")), "7");
    assert_eq!(Fixed::DELTA.to_string().len(), 50); // "0." + 48 digits
    assert!("1.2.3".parse::<Fixed>().is_err());
    assert!("abc".parse::<Fixed>().is_err());
}

#[test]
fn mul_rounding_worked_example() {
    // 1/3 is not representable: ulp-level floor and ceil differ by one.
    let third_floor = Fixed::ONE.checked_div_floor(Fixed::from_i64(3)).unwrap();
    let third_ceil = Fixed::ONE.checked_div_ceil(Fixed::from_i64(3)).unwrap();
    assert_eq!(third_ceil.to_bits() - third_floor.to_bits(), ULP);
    // (2^48/3 floor) = 93824992236885 bits; ×3 = 2^48 − 1 → exact, so
    // floor·3 is one ulp below 1.
    assert_eq!(third_floor.checked_mul_int(3).unwrap().to_bits(), (1 << 48) - 1);
    // 10 SOL in lamports × 0.15 micro-USDC/lamport = 1.5e9 micro-USDC ± 1 ulp.
    let v = Fixed::from_u64(10_000_000_000).checked_mul_floor(fx("0.15")).unwrap();
    assert!((v.to_bits() - Fixed::from_u64(1_500_000_000).to_bits()).abs() <= 1 << 34);
    // Negative products: floor goes more negative.
    let a = Fixed::from_bits(-3);
    let half = fx("0.5");
    assert_eq!(a.checked_mul_floor(half).unwrap().to_bits(), -2);
    assert_eq!(a.checked_mul_ceil(half).unwrap().to_bits(), -1);
}

#[test]
fn mul_large_operands_use_wide_path() {
    // 2^70 · 2^8 = 2^78 fits; operands' bits are 2^118 and 2^56.
    let a = Fixed::from_bits(1 << 118);
    let b = Fixed::from_bits(1 << 56);
    assert_eq!(a.checked_mul_floor(b).unwrap().to_bits(), 1 << 126);
    assert_eq!(a.checked_mul_floor(a), Err(RiskError::Overflow));
    assert_eq!(Fixed::MAX.checked_mul_floor(Fixed::ONE).unwrap(), Fixed::MAX);
    assert_eq!(Fixed::MIN.checked_mul_ceil(Fixed::ONE).unwrap(), Fixed::MIN);
}

#[test]
fn div_worked_examples() {
    // 1199.2 / 149.90 = 8.0 exactly in decimal, not in binary: within 1 ulp.
    let q = fx("7").checked_div_floor(fx("2")).unwrap();
    assert_eq!(q, fx("3.5"));
    assert_eq!(Fixed::ONE.checked_div_floor(Fixed::ZERO), Err(RiskError::DivisionByZero));
    // Large numerator takes the shift-subtract path: (2^70) / 2^-10 = 2^80 overflows.
    let big = Fixed::from_bits(1 << 118);
    assert_eq!(big.checked_div_floor(Fixed::from_bits(1 << 38)), Err(RiskError::Overflow));
    // 2^70 / 4 = 2^68 via slow path.
    assert_eq!(big.checked_div_floor(Fixed::from_i64(4)).unwrap().to_bits(), 1 << 116);
    // −7 / 2 = −3.5 exactly; −1/3 floor is one ulp below ceil.
    assert_eq!(fx("-7").checked_div_ceil(fx("2")).unwrap(), fx("-3.5"));
    let f = Fixed::NEG_ONE.checked_div_floor(Fixed::from_i64(3)).unwrap();
    let c = Fixed::NEG_ONE.checked_div_ceil(Fixed::from_i64(3)).unwrap();
    assert_eq!(c.to_bits() - f.to_bits(), 1);
}

#[test]
fn mul_div_single_rounding() {
    // 0.8 · 1_000_000 / 4_000_000 = 0.2 (one rounding, floor ≤ ceil ≤ floor+1).
    let w = fx("0.8");
    let f =
        w.checked_mul_div(Fixed::from_i64(1_000_000), Fixed::from_i64(4_000_000), Rounding::Floor).unwrap();
    let c =
        w.checked_mul_div(Fixed::from_i64(1_000_000), Fixed::from_i64(4_000_000), Rounding::Ceil).unwrap();
    assert!(c.to_bits() - f.to_bits() <= 1);
    assert!((f.to_bits() - fx("0.2").to_bits()).abs() <= 1);
}

#[test]
fn integer_rounding() {
    assert_eq!(fx("2.5").to_u64(Rounding::Floor).unwrap(), 2);
    assert_eq!(fx("2.5").to_u64(Rounding::Ceil).unwrap(), 3);
    assert_eq!(fx("-2.5").to_i64(Rounding::Floor).unwrap(), -3);
    assert_eq!(fx("-2.5").to_i64(Rounding::Ceil).unwrap(), -2);
    assert!(fx("-1").to_u64(Rounding::Floor).is_err());
    assert_eq!(fx("4").to_u64(Rounding::Ceil).unwrap(), 4);
}

/// Bits small enough that products stay in range most of the time.
fn arb_bits() -> impl Strategy<Value = i128> {
    prop_oneof![-(1i128 << 90)..(1i128 << 90), -(1i128 << 60)..(1i128 << 60), -(1i128 << 126)..(1i128 << 126),]
}

/// Exact product as a rational `num / 2^48` compared through the wide helper.
fn exact_mul_bounds(a: i128, b: i128) -> Option<(i128, bool)> {
    // Returns floor(a·b / 2^48) and whether it was exact, via i128 when it fits.
    let p = a.checked_mul(b)?;
    Some((p >> 48, p & ((1 << 48) - 1) == 0))
}

proptest! {
    #[test]
    fn mul_floor_le_exact_le_ceil(a in arb_bits(), b in arb_bits()) {
        let (fa, fb) = (Fixed::from_bits(a), Fixed::from_bits(b));
        if let (Ok(f), Ok(c)) = (fa.checked_mul_floor(fb), fa.checked_mul_ceil(fb)) {
            let d = c.to_bits() - f.to_bits();
            prop_assert!(d == 0 || d == ULP);
            if let Some((fl, exact)) = exact_mul_bounds(a, b) {
                prop_assert_eq!(f.to_bits(), fl);
                prop_assert_eq!(d == 0, exact);
            }
        }
    }

    #[test]
    fn to_i64_and_u64_round_as_to_i128(
        a in prop_oneof![
            any::<i128>(),
            -(1i128 << 112)..(1i128 << 112),
            -(1i128 << 100)..(1i128 << 100),
            // Whole values (exact either way), up to beyond 64 bits.
            (-(1i128 << 66)..(1i128 << 66)).prop_map(|k| k << 48),
        ]
    ) {
        let x = Fixed::from_bits(a);
        for r in [Rounding::Floor, Rounding::Ceil] {
            let wide = x.to_i128(r);
            prop_assert_eq!(x.to_i64(r).ok(), wide.ok().and_then(|v| i64::try_from(v).ok()));
            prop_assert_eq!(x.to_u64(r).ok(), wide.ok().and_then(|v| u64::try_from(v).ok()));
        }
    }

    #[test]
    fn mul_floor_ceil_is_the_two_products(a in arb_bits(), b in arb_bits()) {
        let (fa, fb) = (Fixed::from_bits(a), Fixed::from_bits(b));
        let both = fa.checked_mul_floor_ceil(fb);
        match (fa.checked_mul_floor(fb), fa.checked_mul_ceil(fb)) {
            (Ok(f), Ok(c)) => prop_assert_eq!(both, Ok((f, c))),
            _ => prop_assert!(both.is_err()),
        }
    }

    #[test]
    fn div_floor_le_exact_le_ceil(a in arb_bits(), b in arb_bits()) {
        prop_assume!(b != 0);
        let (fa, fb) = (Fixed::from_bits(a), Fixed::from_bits(b));
        if let (Ok(f), Ok(c)) = (fa.checked_div_floor(fb), fa.checked_div_ceil(fb)) {
            let d = c.to_bits() - f.to_bits();
            prop_assert!(d == 0 || d == ULP);
            // floor·b ≤ a ≤ ceil·b, checked on exact integers when they fit:
            // q = a·2^48 / b  ⇒  q·b ≤ a·2^48 (for b > 0).
            if let (Some(lo), Some(hi), Some(n)) =
                (f.to_bits().checked_mul(b), c.to_bits().checked_mul(b), a.checked_mul(1 << 48))
            {
                if b > 0 {
                    prop_assert!(lo <= n && n <= hi);
                } else {
                    prop_assert!(lo >= n && n >= hi);
                }
            }
        }
    }

    #[test]
    fn mul_div_matches_mul_then_div_when_exact(a in -(1i128<<60)..(1i128<<60), k in 1i64..1_000_000) {
        // a · k / k == a exactly.
        let fa = Fixed::from_bits(a);
        let kk = Fixed::from_i64(k);
        prop_assert_eq!(fa.checked_mul_div(kk, kk, Rounding::Floor).unwrap(), fa);
    }

    #[test]
    fn bytes_roundtrip(a in any::<i128>()) {
        let x = Fixed::from_bits(a);
        prop_assert_eq!(Fixed::from_le_bytes(x.to_le_bytes()), x);
        prop_assert_eq!(Fixed::from_limbs(x.to_limbs()), x);
    }
}

/// The 64-bit fast path of `checked_mul` agrees with the general 256-bit path.
fn slow_mul(a: Fixed, b: Fixed, rounding: Rounding) -> Fixed {
    let p = mul_u128(a.0.unsigned_abs(), b.0.unsigned_abs());
    let mag = (p.hi << (128 - FRAC_BITS)) | (p.lo >> FRAC_BITS);
    finish(false, mag, p.lo & FRAC_MASK != 0, rounding).unwrap()
}

/// The general path for any signs, as reference for the mixed path.
fn slow_mul_signed(a: Fixed, b: Fixed, rounding: Rounding) -> RiskResult<Fixed> {
    let neg = (a.0 < 0) != (b.0 < 0);
    let p = mul_u128(a.0.unsigned_abs(), b.0.unsigned_abs());
    if p.hi >> FRAC_BITS != 0 {
        return Err(RiskError::Overflow);
    }
    let mag = (p.hi << (128 - FRAC_BITS)) | (p.lo >> FRAC_BITS);
    finish(neg, mag, p.lo & FRAC_MASK != 0, rounding)
}

proptest! {
    #[test]
    fn mixed_mul_path_matches_general_path(a in any::<i128>().prop_filter("MIN", |v| *v != i128::MIN), b in 0u64..=u64::MAX) {
        let (x, y) = (Fixed::from_bits(a), Fixed::from_bits(i128::from(b)));
        for r in [Rounding::Floor, Rounding::Ceil] {
            prop_assert_eq!(x.checked_mul(y, r), slow_mul_signed(x, y, r));
            prop_assert_eq!(y.checked_mul(x, r), slow_mul_signed(x, y, r));
        }
    }

    #[test]
    fn mixed_mul_path_matches_in_range(a in -(1i128 << 110)..(1i128 << 110), b in 0u64..=u64::MAX) {
        let (x, y) = (Fixed::from_bits(a), Fixed::from_bits(i128::from(b)));
        for r in [Rounding::Floor, Rounding::Ceil] {
            prop_assert_eq!(x.checked_mul(y, r), slow_mul_signed(x, y, r));
        }
    }

    /// Either sign on both sides, one magnitude below 2^64 (a put's Δ times
    /// a fall in price): the magnitude path equals the general one.
    #[test]
    fn signed_small_mul_path_matches_general_path(
        a in any::<i128>().prop_filter("MIN", |v| *v != i128::MIN),
        b in 0u64..=u64::MAX,
        neg_b: bool,
        small_a: bool,
    ) {
        let a = if small_a { a % (1i128 << 64) } else { a };
        let b = if neg_b { -i128::from(b) } else { i128::from(b) };
        let (x, y) = (Fixed::from_bits(a), Fixed::from_bits(b));
        for r in [Rounding::Floor, Rounding::Ceil] {
            prop_assert_eq!(x.checked_mul(y, r), slow_mul_signed(x, y, r));
            prop_assert_eq!(y.checked_mul(x, r), slow_mul_signed(x, y, r));
        }
    }

    #[test]
    fn fast_mul_path_matches_general_path(a in 0u64..=u64::MAX, b in 0u64..=u64::MAX) {
        let (x, y) = (Fixed::from_bits(i128::from(a)), Fixed::from_bits(i128::from(b)));
        for r in [Rounding::Floor, Rounding::Ceil] {
            prop_assert_eq!(x.checked_mul(y, r).unwrap(), slow_mul(x, y, r));
        }
    }
}

#[test]
fn fast_mul_path_edges() {
    for (a, b) in
        [(0u64, 0u64), (1, 1), (u64::MAX, u64::MAX), (u64::MAX, 1), (1 << 48, 1 << 48), (3, (1 << 48) - 1)]
    {
        let (x, y) = (Fixed::from_bits(i128::from(a)), Fixed::from_bits(i128::from(b)));
        for r in [Rounding::Floor, Rounding::Ceil] {
            assert_eq!(x.checked_mul(y, r).unwrap(), slow_mul(x, y, r), "{a} · {b}");
        }
    }
    // 0.8 · 0.1499 (both inexact in binary): floor and ceil one ulp apart.
    let w = Fixed::from_ratio(8, 10, Rounding::Floor).unwrap();
    let p = Fixed::from_ratio(1499, 10_000, Rounding::Floor).unwrap();
    assert_eq!(w.checked_mul_ceil(p).unwrap().to_bits() - w.checked_mul_floor(p).unwrap().to_bits(), 1);
}

proptest! {
    /// Division by an integer equals the fixed-point division by the same
    /// integer, in both directions and signs (small and large divisors).
    #[test]
    fn division_by_an_integer_matches_fixed_division(bits in -(i128::MAX)..i128::MAX, d in 1u64..u64::MAX, small in 1u64..1_000_000) {
        let x = Fixed::from_bits(bits);
        for d in [d, small] {
            for r in [Rounding::Floor, Rounding::Ceil] {
                prop_assert_eq!(x.checked_div_int(d, r), x.checked_div(Fixed::from_u64(d), r));
            }
        }
    }
}

#[test]
fn division_by_an_integer_worked_examples() {
    // 10^11 lamports in 10^7-lamport contracts: exactly 10,000.
    let base = Fixed::from_u64(100_000_000_000);
    assert_eq!(base.checked_div_int(10_000_000, Rounding::Ceil).unwrap(), Fixed::from_u64(10_000));
    // 7 / 2 = 3.5 exactly; 1 / 3 rounds: floor and ceil one ulp apart; −1 / 3 floors away from zero.
    assert_eq!(Fixed::from_u64(7).checked_div_int(2, Rounding::Floor).unwrap(), "3.5".parse().unwrap());
    let third_up = Fixed::ONE.checked_div_int(3, Rounding::Ceil).unwrap();
    let third_down = Fixed::ONE.checked_div_int(3, Rounding::Floor).unwrap();
    assert_eq!(third_up.to_bits() - third_down.to_bits(), 1);
    assert_eq!(Fixed::NEG_ONE.checked_div_int(3, Rounding::Floor).unwrap(), third_up.checked_neg().unwrap());
    assert_eq!(Fixed::ONE.checked_div_int(0, Rounding::Floor), Err(RiskError::DivisionByZero));
}

proptest! {
    /// `checked_mul_int`'s 64×64-bit path is the exact `i128` product,
    /// overflow included.
    #[test]
    fn mul_int_is_the_exact_product(
        a in prop_oneof![any::<i128>(), -(1i128 << 64)..(1i128 << 64), -(1i128 << 70)..(1i128 << 70)],
        k in any::<i64>(),
    ) {
        let want = a.checked_mul(i128::from(k)).filter(|v| *v != i128::MIN && a != i128::MIN).map(Fixed::from_bits);
        let got = if a == i128::MIN { None } else { Fixed::from_bits(a).checked_mul_int(k).ok() };
        prop_assert_eq!(got, want);
    }
}

/// `to_i64`/`to_u64` at their edges: one ulp beyond `u64::MAX`, half a unit
/// below `i64::MIN`, −½ (ceiling 0, floor −1), whole values either way.
#[test]
fn to_int_edges() {
    let f = Fixed::from_bits;
    let above = f(((u64::MAX as i128) << 48) | 1);
    assert_eq!(above.to_u64(Rounding::Floor).ok(), Some(u64::MAX));
    assert!(above.to_u64(Rounding::Ceil).is_err());
    let below = f((i128::from(i64::MIN) << 48) - (1 << 47));
    assert!(below.to_i64(Rounding::Floor).is_err());
    assert_eq!(below.to_i64(Rounding::Ceil).ok(), Some(i64::MIN));
    let minus_half = f(-(1 << 47));
    assert_eq!(minus_half.to_u64(Rounding::Ceil).ok(), Some(0));
    assert!(minus_half.to_u64(Rounding::Floor).is_err());
    assert_eq!(minus_half.to_i64(Rounding::Floor).ok(), Some(-1));
    for r in [Rounding::Floor, Rounding::Ceil] {
        assert_eq!(f(-4 << 48).to_i64(r).ok(), Some(-4));
        assert_eq!(f(4 << 48).to_u64(r).ok(), Some(4));
        assert!(Fixed::MAX.to_i64(r).is_err() && Fixed::MIN.to_i64(r).is_err());
    }
}
