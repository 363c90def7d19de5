//! 256-bit unsigned helpers built from `u64` limbs.
//!
//! Only the slow paths of [`super::Fixed`] multiplication and division use
//! these: the product of two `i128` fixed-point magnitudes needs up to 254 bits
//! before the 48-bit shift, and `a << 48` needs up to 175 bits before a
//! division. On BPF a `u64 × u64` multiply is one instruction while a `u128`
//! multiply is a libcall, so the limb products below are written with `u64`
//! operands widened to `u128` (which the compiler lowers to a single
//! 64×64→128 multiply helper).

/// An unsigned 256-bit integer `hi · 2^128 + lo`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct U256 {
    pub hi: u128,
    pub lo: u128,
}

const LO64: u128 = u64::MAX as u128;

/// Full 128×128 → 256-bit product.
#[inline]
pub(crate) fn mul_u128(a: u128, b: u128) -> U256 {
    // Fast path: the product fits in 128 bits.
    if a.leading_zeros() + b.leading_zeros() >= 128 {
        return U256 { hi: 0, lo: a.wrapping_mul(b) };
    }
    let (a1, a0) = (a >> 64, a & LO64);
    let (b1, b0) = (b >> 64, b & LO64);
    let p00 = a0 * b0; // each partial product < 2^128: cannot overflow
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    // Middle column: (p00 >> 64) + lo64(p01) + lo64(p10) < 3 · 2^64.
    let mid = (p00 >> 64) + (p01 & LO64) + (p10 & LO64);
    let lo = (p00 & LO64) | (mid << 64);
    let hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    U256 { hi, lo }
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
        let q = n.lo / d;
        return Some((q, n.lo - q * d));
    }
    if n.hi >= d {
        return None; // quotient ≥ 2^128
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
