//! Transcendental functions on [`Fixed`] using only multiplies, shifts,
//! table look-ups and (for the reciprocal) one native `u64` division.
//!
//! | function        | method                                                        | muls | divs |
//! |-----------------|---------------------------------------------------------------|------|------|
//! | [`ln`]          | `x = m·2^e`, `m·64/(64+j) = 1+u` (`u < 1/64`), 8-term series  | 10   | 0    |
//! | [`exp`]         | `x = (32k+j)·ln2/32 + r`, `|r| ≤ 0.011`, degree-6 Taylor      | 9    | 0    |
//! | [`rsqrt`]       | `x = m·4^q`, table seed on `[1,4)`, 4 Newton steps            | 12   | 0    |
//! | [`sqrt`]        | `m·rsqrt(m)·2^q` (mantissa form keeps full precision)          | 13   | 0    |
//! | [`recip`]       | 32-bit seed by one `u64` division, 1 Newton step              | 2    | 1×u64|
//! | [`norm_cdf`]    | Abramowitz–Stegun 26.2.17 (abs. error < 7.5e-8)               | 20   | 1×u64|
//!
//! A `u64` division is a single BPF instruction; no `u128` division is used.
//! Accuracy (tested against f64): `ln`, `exp` relative error < 1e-12 over
//! their useful range; `rsqrt`/`sqrt` < 1e-12; `norm_cdf` absolute < 1e-7.

use super::tables::*;
use crate::error::{RiskError, RiskResult};
use crate::fixed::{Fixed, Rounding, FRAC_BITS};

/// `x ≤ EXP_MIN` returns 0 (e^−34 ≈ 1.7e−15, below half an ulp 1.8e−15).
const EXP_MIN: i128 = -34 << FRAC_BITS;
/// `x ≥ EXP_MAX` overflows (e^54 ≈ 2.8e23 < 6.04e23 = Fixed::MAX).
const EXP_MAX: i128 = 54 << FRAC_BITS;
/// `|x| ≥ NCDF_CUTOFF`: N(x) is 0 or 1 to within 2^-48.
const NCDF_CUTOFF: i128 = 9 << FRAC_BITS;

#[inline]
fn mul(a: Fixed, b: Fixed) -> RiskResult<Fixed> {
    a.checked_mul(b, Rounding::Floor)
}

/// Position of the highest set bit of a positive value.
#[inline]
fn top_bit(bits: u128) -> i32 {
    127 - bits.leading_zeros() as i32
}

/// Normalises a positive `x` to `(m, e)` with `x = m · 2^e`, `m ∈ [1, 2)`.
#[inline]
fn normalize(x: Fixed) -> RiskResult<(Fixed, i32)> {
    if !x.is_positive() {
        return Err(RiskError::Domain);
    }
    let bits = x.to_bits() as u128;
    let e = top_bit(bits) - FRAC_BITS as i32;
    let m = if e >= 0 { bits >> e } else { bits << (-e) };
    Ok((Fixed::from_bits(m as i128), e))
}

/// Natural logarithm, `x > 0`.
pub fn ln(x: Fixed) -> RiskResult<Fixed> {
    let (m, e) = normalize(x)?;
    // j = top 6 fraction bits of m ∈ [1,2)
    let j = ((m.to_bits() >> (FRAC_BITS - 6)) & 63) as usize;
    let recip = LN_RECIP.get(j).copied().ok_or(RiskError::Domain)?;
    let offset = LN_OFFSET.get(j).copied().ok_or(RiskError::Domain)?;
    let u = mul(m, Fixed::from_bits(recip))?.checked_sub(Fixed::ONE)?;
    // ln(1+u) = u·(1 − u·(1/2 − u·(1/3 − … u/8)))
    let mut p = Fixed::from_bits(INV_N[8]);
    for c in INV_N[1..8].iter().rev() {
        p = Fixed::from_bits(*c).checked_sub(mul(u, p)?)?;
    }
    let series = mul(u, p)?;
    Fixed::from_bits(LN2)
        .checked_mul_int(i64::from(e))?
        .checked_add(Fixed::from_bits(offset))?
        .checked_add(series)
}

/// Exponential. Returns 0 below −34 and [`RiskError::Overflow`] above 54.
pub fn exp(x: Fixed) -> RiskResult<Fixed> {
    let xb = x.to_bits();
    if xb <= EXP_MIN {
        return Ok(Fixed::ZERO);
    }
    if xb >= EXP_MAX {
        return Err(RiskError::Overflow);
    }
    // n = round(x · 32/ln2); r = x − n · ln2/32
    let n = mul(x, Fixed::from_bits(INV_LN2_32))?.checked_add(Fixed::HALF)?.floor().to_bits() >> FRAC_BITS;
    let n64 = i64::try_from(n).map_err(|_| RiskError::Overflow)?;
    // n·ln2/32 with 64 extra bits of precision, rounded to nearest ulp
    let prod = u128::from(n64.unsigned_abs()).checked_mul(LN2_DIV_32_X64).ok_or(RiskError::Overflow)?;
    let nl = ((prod >> 63) + 1) >> 1;
    let nl = Fixed::from_bits(if n64 < 0 { -(nl as i128) } else { nl as i128 });
    let r = x.checked_sub(nl)?;
    let k = n >> 5; // floor division by 32
    let j = (n & 31) as usize;
    // e^r, |r| ≤ ln2/64: Horner on 1/n! up to degree 6
    let mut p = Fixed::from_bits(INV_FACT[6]);
    for c in INV_FACT[..6].iter().rev() {
        p = mul(p, r)?.checked_add(Fixed::from_bits(*c))?;
    }
    let frac = EXP2_FRAC.get(j).copied().ok_or(RiskError::Domain)?;
    let v = mul(p, Fixed::from_bits(frac))?.to_bits();
    if k >= 0 {
        let sh = u32::try_from(k).map_err(|_| RiskError::Overflow)?;
        if v.leading_zeros() <= sh {
            return Err(RiskError::Overflow);
        }
        Ok(Fixed::from_bits(v << sh))
    } else {
        let sh = u32::try_from(-k).map_err(|_| RiskError::Overflow)?;
        Ok(Fixed::from_bits(if sh >= 127 { 0 } else { v >> sh }))
    }
}

/// Mantissa form of `1/√x`: returns `(m, y, q)` with `x = m·4^q`,
/// `m ∈ [1, 4)` and `y ≈ 1/√m` (4 Newton steps from a table seed, 12 muls).
fn rsqrt_parts(x: Fixed) -> RiskResult<(Fixed, Fixed, i32)> {
    let (m1, e) = normalize(x)?;
    // q = floor(e/2); m = m1·2^(e − 2q) ∈ [1, 4)
    let q = e >> 1;
    let m = if e & 1 == 1 { m1.checked_mul_int(2)? } else { m1 };
    let j = ((m.to_bits() - Fixed::ONE.to_bits()) >> (FRAC_BITS - 2)) as usize;
    let mut y = Fixed::from_bits(RSQRT_SEED.get(j).copied().ok_or(RiskError::Domain)?);
    let three = Fixed::from_i64(3);
    for _ in 0..4 {
        // y ← y · (3 − m·y²) / 2
        let t = three.checked_sub(mul(m, mul(y, y)?)?)?;
        y = Fixed::from_bits(mul(y, t)?.to_bits() >> 1);
    }
    Ok((m, y, q))
}

/// `v · 2^k` for a non-negative `v` (right shifts truncate).
fn shift(v: Fixed, k: i32) -> RiskResult<Fixed> {
    let b = v.to_bits();
    if k >= 0 {
        let sh = k as u32;
        if b.leading_zeros() <= sh {
            return Err(RiskError::Overflow);
        }
        Ok(Fixed::from_bits(b << sh))
    } else {
        Ok(Fixed::from_bits(b >> k.unsigned_abs().min(127)))
    }
}

/// `1/√x`, `x > 0` (12 multiplies).
pub fn rsqrt(x: Fixed) -> RiskResult<Fixed> {
    let (_, y, q) = rsqrt_parts(x)?;
    shift(y, -q)
}

/// `√x`, `x ≥ 0` (13 multiplies; relative error < 1e-12, not correctly
/// rounded).
pub fn sqrt(x: Fixed) -> RiskResult<Fixed> {
    if x.is_zero() {
        return Ok(Fixed::ZERO);
    }
    let (m, y, q) = rsqrt_parts(x)?;
    shift(mul(m, y)?, q)
}

/// `1/x` for `x > 0` without a `u128` division: a 32-bit seed from one
/// `u64` division, refined by one Newton step `y(2 − x·y)` (relative error
/// ~2^-60 before the final rounding). Values whose reciprocal is below
/// one ulp return 0.
pub fn recip(x: Fixed) -> RiskResult<Fixed> {
    if !x.is_positive() {
        return Err(RiskError::Domain);
    }
    let bits = x.to_bits() as u128;
    let n = top_bit(bits) + 1; // bit length
    let top = (if n > 32 { bits >> (n - 32) } else { bits << (32 - n) }) as u64; // [2^31, 2^32)
    let q = (1u64 << 63) / top; // (2^31, 2^32]
                                // 1/x bits = 2^96 / bits ≈ q · 2^(65 − n)
    let sh = 65 - n;
    let y0 = if sh >= 0 {
        let s = sh as u32;
        if u128::from(q).leading_zeros() <= s {
            return Err(RiskError::Overflow);
        }
        u128::from(q) << s
    } else {
        u128::from(q) >> ((-sh) as u32).min(127)
    };
    let y0 = Fixed::from_bits(y0 as i128);
    if y0.is_zero() {
        return Ok(Fixed::ZERO);
    }
    let two = Fixed::from_i64(2);
    mul(y0, two.checked_sub(mul(x, y0)?)?)
}

/// Standard normal density `φ(x) = e^(−x²/2)/√(2π)`.
pub fn norm_pdf(x: Fixed) -> RiskResult<Fixed> {
    if x.to_bits().unsigned_abs() >= NCDF_CUTOFF as u128 {
        return Ok(Fixed::ZERO);
    }
    let half_x2 = Fixed::from_bits(mul(x, x)?.to_bits() >> 1);
    mul(exp(half_x2.checked_neg()?)?, Fixed::from_bits(INV_SQRT_2PI))
}

/// Standard normal CDF and density at `x`: `(N(x), φ(x))`.
pub fn norm_cdf_pdf(x: Fixed) -> RiskResult<(Fixed, Fixed)> {
    let pdf = norm_pdf(x)?;
    Ok((norm_cdf_given_pdf(x, pdf)?, pdf))
}

/// `N(x)` when `φ(x)` is already known (Black–Scholes derives `φ(d2)` from
/// `φ(d1)` without an `exp`). 10 multiplies and one `u64` division.
pub fn norm_cdf_given_pdf(x: Fixed, pdf: Fixed) -> RiskResult<Fixed> {
    let neg = x.is_negative();
    let ax = x.checked_abs()?;
    if ax.to_bits() >= NCDF_CUTOFF {
        return Ok(if neg { Fixed::ZERO } else { Fixed::ONE });
    }
    let t = recip(Fixed::ONE.checked_add(mul(ax, Fixed::from_bits(NCDF_P))?)?)?;
    // b1 t + b2 t² + … + b5 t⁵ = t·(b1 + t·(b2 + t·(b3 + t·(b4 + t·b5))))
    let mut p = Fixed::from_bits(NCDF_B[4]);
    for c in NCDF_B[..4].iter().rev() {
        p = mul(p, t)?.checked_add(Fixed::from_bits(*c))?;
    }
    let tail = mul(pdf, mul(p, t)?)?.max(Fixed::ZERO).min(Fixed::ONE);
    if neg {
        Ok(tail)
    } else {
        Fixed::ONE.checked_sub(tail)
    }
}

/// Standard normal CDF `N(x)` (absolute error < 1e-7).
pub fn norm_cdf(x: Fixed) -> RiskResult<Fixed> {
    Ok(norm_cdf_pdf(x)?.0)
}

/// Whole seconds to years (365-day year), without a division:
/// `secs · (2^80 / 31,536,000) >> 32`. Negative input → 0.
pub fn years_from_secs(secs: i64) -> RiskResult<Fixed> {
    if secs <= 0 {
        return Ok(Fixed::ZERO);
    }
    let s = u128::from(secs.unsigned_abs());
    let bits = s.checked_mul(YEARS_PER_SEC_2_80).ok_or(RiskError::Overflow)? >> 32;
    Ok(Fixed::from_bits(bits as i128))
}

/// Seconds per (365-day) year.
pub const SECS_PER_YEAR: u64 = SECONDS_PER_YEAR;

#[cfg(test)]
#[path = "math_tests.rs"]
pub(crate) mod tests;
