//! 256-bit unsigned helpers built from `u64` limbs.
//!
//! [`super::Fixed`] multiplication and division use these: the product of two
//! `i128` fixed-point magnitudes needs up to 254 bits before the 48-bit shift,
//! and `a << 48` needs up to 175 bits before a division. On BPF a `u64 × u64`
//! multiply is one instruction while a `u128` multiply is a libcall, so limb
//! products are built from 32-bit halves with native `u64` multiplies
//! ([`mul_u64_wide`]).

/// An unsigned 256-bit integer `hi · 2^128 + lo`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct U256 {
    pub hi: u128,
    pub lo: u128,
}

/// `a · b` as `(hi, lo)` 64-bit halves, from four 32×32-bit products.
///
/// SBF has a 64-bit multiply but no high-half multiply, and a `u128` multiply
/// is a `__multi3` libcall; four native multiplies and a few adds are several
/// times cheaper (measured on the health check: the dominant cost).
#[inline(always)]
pub(crate) fn mul_u64_wide(a: u64, b: u64) -> (u64, u64) {
    const M32: u64 = u32::MAX as u64;
    let (a1, a0) = (a >> 32, a & M32);
    let (b1, b0) = (b >> 32, b & M32);
    let p00 = a0 * b0; // each < 2^64
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    let mid = (p00 >> 32) + (p01 & M32) + (p10 & M32); // < 3 · 2^32
    let lo = (p00 & M32) | (mid << 32);
    let hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
    (hi, lo)
}

#[inline(always)]
fn join(hi: u64, lo: u64) -> u128 {
    (u128::from(hi) << 64) | u128::from(lo)
}

/// Full 128×128 → 256-bit product, skipping zero 64-bit limbs (the common
/// case: prices and weights fit in 64 bits, balances in 128).
#[inline]
pub(crate) fn mul_u128(a: u128, b: u128) -> U256 {
    let (a1, a0) = ((a >> 64) as u64, a as u64);
    let (b1, b0) = ((b >> 64) as u64, b as u64);
    let (h00, l00) = mul_u64_wide(a0, b0);
    if a1 == 0 && b1 == 0 {
        return U256 { hi: 0, lo: join(h00, l00) };
    }
    // a · b = p00 + (p01 + p10) · 2^64 + p11 · 2^128, limb by limb.
    let (h01, l01) = if b1 == 0 { (0, 0) } else { mul_u64_wide(a0, b1) };
    let (h10, l10) = if a1 == 0 { (0, 0) } else { mul_u64_wide(a1, b0) };
    let (h11, l11) = if a1 == 0 || b1 == 0 { (0, 0) } else { mul_u64_wide(a1, b1) };
    // Column 1 (bits 64..128): h00 + l01 + l10, carries into column 2.
    let c1 = u128::from(h00) + u128::from(l01) + u128::from(l10);
    // Column 2 (bits 128..192): h01 + h10 + l11 + carry.
    let c2 = u128::from(h01) + u128::from(h10) + u128::from(l11) + (c1 >> 64);
    // Column 3 (bits 192..256): h11 + carry (cannot overflow: the product < 2^256).
    let c3 = u128::from(h11) + (c2 >> 64);
    U256 { hi: join(c3 as u64, c2 as u64), lo: join(c1 as u64, l00) }
}

/// `n / d` and `n % d` for a 256-bit numerator and a 128-bit divisor.
///
/// Returns `None` if `d == 0` or the quotient does not fit in 128 bits.
/// Fast path: a single native `u128` division when `n.hi == 0`; otherwise a
/// 128-step restoring shift-subtract loop (only reached for huge operands).
pub(crate) fn div_rem(n: U256, d: u128) -> Option<(u128, u128)> {
    if d == 0 {
        return None;
    }
    if n.hi == 0 {
        if d >> 56 == 0 {
            return Some(div_rem_small(n.lo, d as u64));
        }
        let q = n.lo / d;
        return Some((q, n.lo - q * d));
    }
    if n.hi >= d {
        return None; // quotient ≥ 2^128
    }
    if d >> 56 == 0 {
        // n.hi < d: the quotient's high half is zero and the running remainder
        // starts at n.hi, so the base-256 long division of n.lo finishes it.
        return Some(div_rem_small_from(n.hi as u64, n.lo, d as u64));
    }
    let mut r = n.hi; // invariant: r < d
    let mut q: u128 = 0;
    let mut i = 128;
    while i > 0 {
        i -= 1;
        let carry = r >> 127;
        r = (r << 1) | ((n.lo >> i) & 1);
        q <<= 1;
        if carry == 1 || r >= d {
            r = r.wrapping_sub(d);
            q |= 1;
        }
    }
    Some((q, r))
}

/// `n / d` and `n % d` for `d < 2^56` (divisors such as an index near 1 or a
/// power of ten): long division in base 256 with native `u64` divisions,
/// instead of the software `u128` division loop (`__udivti3`) SBF would run.
#[inline]
fn div_rem_small(n: u128, d: u64) -> (u128, u128) {
    if n >> 64 == 0 {
        let n = n as u64;
        return (u128::from(n / d), u128::from(n % d));
    }
    div_rem_small_from(0, n, d)
}

/// `(rem · 2^128 + n) / d` and its remainder, for `rem < d < 2^56` (the
/// quotient then fits 128 bits): base-256 long division with `u64` divisions.
#[inline]
fn div_rem_small_from(rem: u64, n: u128, d: u64) -> (u128, u128) {
    let mut rem = rem; // invariant: rem < d < 2^56, so rem << 8 fits
    let mut q: u128 = 0;
    let mut shift = 128;
    while shift > 0 {
        shift -= 8;
        let x = (rem << 8) | ((n >> shift) as u64 & 0xff);
        q = (q << 8) | u128::from(x / d);
        rem = x % d;
    }
    (q, u128::from(rem))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn small_divisor_division_matches_native(n in any::<u128>(), d in 1u64..(1u64 << 56)) {
            let (q, r) = div_rem_small(n, d);
            prop_assert_eq!(q, n / u128::from(d));
            prop_assert_eq!(r, n % u128::from(d));
        }
    }

    proptest! {
        #[test]
        fn wide_division_by_a_small_divisor_matches_the_bit_loop(hi in any::<u128>(), lo in any::<u128>(), d in 1u64..(1u64 << 56)) {
            let n = U256 { hi: hi % u128::from(d), lo };
            let fast = div_rem(n, u128::from(d)).unwrap();
            // Reference: restoring division bit by bit.
            let (mut r, mut q) = (n.hi, 0u128);
            for i in (0..128).rev() {
                let carry = r >> 127;
                r = (r << 1) | ((n.lo >> i) & 1);
                q <<= 1;
                if carry == 1 || r >= u128::from(d) {
                    r = r.wrapping_sub(u128::from(d));
                    q |= 1;
                }
            }
            prop_assert_eq!(fast, (q, r));
        }
    }

    #[test]
    fn small_divisor_division_edges() {
        for (n, d) in
            [(0u128, 1u64), (u128::MAX, 1), (u128::MAX, (1 << 56) - 1), (1 << 100, 3), (12345, 12346)]
        {
            assert_eq!(div_rem_small(n, d), (n / u128::from(d), n % u128::from(d)), "{n} / {d}");
        }
    }

    /// Reference 256-bit product via 32-bit schoolbook multiplication.
    fn mul_ref(a: u128, b: u128) -> (u128, u128) {
        let al = [a as u32, (a >> 32) as u32, (a >> 64) as u32, (a >> 96) as u32];
        let bl = [b as u32, (b >> 32) as u32, (b >> 64) as u32, (b >> 96) as u32];
        let mut out = [0u64; 8];
        for i in 0..4 {
            let mut carry = 0u64;
            for j in 0..4 {
                let t = out[i + j] + (al[i] as u64) * (bl[j] as u64) + carry;
                out[i + j] = t & 0xffff_ffff;
                carry = t >> 32;
            }
            out[i + 4] += carry;
        }
        let w = |k: usize| out[k] as u128;
        let lo = w(0) | (w(1) << 32) | (w(2) << 64) | (w(3) << 96);
        let hi = w(4) | (w(5) << 32) | (w(6) << 64) | (w(7) << 96);
        (hi, lo)
    }

    #[test]
    fn mul_max_times_max() {
        // (2^128 − 1)^2 = 2^256 − 2^129 + 1 → hi = 2^128 − 2, lo = 1.
        let p = mul_u128(u128::MAX, u128::MAX);
        assert_eq!(p.hi, u128::MAX - 1);
        assert_eq!(p.lo, 1);
    }

    #[test]
    fn div_rem_small_and_large() {
        assert_eq!(div_rem(U256 { hi: 0, lo: 100 }, 7), Some((14, 2)));
        // (2^128 + 5) / 2 = 2^127 + 2, remainder 1.
        assert_eq!(div_rem(U256 { hi: 1, lo: 5 }, 2), Some((1 << 127 | 2, 1)));
        assert_eq!(div_rem(U256 { hi: 1, lo: 0 }, 1), None);
        assert_eq!(div_rem(U256 { hi: 0, lo: 1 }, 0), None);
    }

    proptest! {
        #[test]
        fn mul_matches_reference(a in any::<u128>(), b in any::<u128>()) {
            let p = mul_u128(a, b);
            prop_assert_eq!((p.hi, p.lo), mul_ref(a, b));
        }

        #[test]
        fn div_inverts_mul(a in any::<u128>(), d in 1u128.., r in any::<u128>()) {
            let r = r % d;
            let p = mul_u128(a, d);
            // n = a·d + r (add r with carry)
            let (lo, c) = p.lo.overflowing_add(r);
            let n = U256 { hi: p.hi + c as u128, lo };
            prop_assert_eq!(div_rem(n, d), Some((a, r)));
        }
    }
}
