//! `Fixed`: a signed binary fixed-point number with 48 fractional bits
//! (`I80F48` semantics: 80 integer bits including sign, 48 fraction bits,
//! stored in an `i128`).
//!
//! # Why binary and why 48 bits
//! On BPF an `i128` division is a slow software loop, while a multiply is a
//! handful of 64-bit multiplies. With a binary point, `a · b` is a widening
//! multiply followed by a shift, so the per-position health loop contains no
//! division at all. 48 fraction bits resolve `2^-48 ≈ 3.6e-15`, enough for a
//! price per native unit of a 9-decimal token (SOL at $150 is `0.15` micro-USDC
//! per lamport, relative resolution `2.4e-14`); 80 integer bits hold
//! `±6.0e23` quote native units (`6e17` USDC).
//!
//! # Rounding
//! Every operation that can lose precision takes an explicit [`Rounding`]:
//! the product or quotient is computed *exactly* (256-bit intermediate when
//! needed) and then rounded once, toward −∞ ([`Rounding::Floor`]) or +∞
//! ([`Rounding::Ceil`]). The protocol rule is "round against the user":
//! amounts paid or credited to a user and asset values use `Floor`, amounts a
//! user owes and liability magnitudes use `Ceil`. Signed health
//! contributions always use `Floor` (a floored negative number is *more*
//! negative), see [`Rounding::ASSET`] / [`Rounding::LIABILITY`].
//!
//! # Storage
//! Zero-copy accounts cannot hold `i128` fields (alignment 16 on the host,
//! 8 on BPF), so the program stores `[u8; 16]` ([`Fixed::to_le_bytes`]) or
//! `[u64; 2]` ([`Fixed::to_limbs`]).

pub(crate) mod wide;

use crate::error::{RiskError, RiskResult};
use core::cmp::Ordering;
use core::fmt;
use core::str::FromStr;
use wide::{div_rem, mul_u128, U256};

/// Number of fractional bits.
pub const FRAC_BITS: u32 = 48;
const FRAC_MASK: u128 = (1u128 << FRAC_BITS) - 1;
/// Largest magnitude a `Fixed` may have (results of checked ops are
/// symmetric: `i128::MIN` is never produced).
const MAX_MAG: u128 = i128::MAX as u128;

/// Rounding direction of a lossy fixed-point operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rounding {
    /// Toward −∞.
    Floor,
    /// Toward +∞.
    Ceil,
}

impl Rounding {
    /// Rounding for values credited to the user (asset values, amounts paid
    /// out, signed health contributions): toward −∞.
    pub const ASSET: Rounding = Rounding::Floor;
    /// Rounding for magnitudes the user owes (liability values, amounts to
    /// repay, margin requirements): toward +∞.
    pub const LIABILITY: Rounding = Rounding::Ceil;

    /// The opposite direction.
    pub const fn reverse(self) -> Rounding {
        match self {
            Rounding::Floor => Rounding::Ceil,
            Rounding::Ceil => Rounding::Floor,
        }
    }
}

/// Signed binary fixed-point number, 48 fractional bits (see module docs).
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(transparent)]
pub struct Fixed(i128);

/// `big · small` (fixed-point bits, `small ≥ 0`), rounded as asked: the
/// product needs at most 192 bits, built from two 64×64-bit products.
#[inline]
fn mul_by_u64(big: i128, small: u64, rounding: Rounding) -> RiskResult<Fixed> {
    let neg = big < 0;
    let a = big.unsigned_abs();
    let (h0, l0) = wide::mul_u64_wide(a as u64, small);
    let (h1, l1) = wide::mul_u64_wide((a >> 64) as u64, small);
    // a·small = h1·2^128 + (l1 + h0)·2^64 + l0
    let (mid, carry) = l1.overflowing_add(h0);
    let top = h1 + u64::from(carry); // < 2^64: the product is < 2^192
                                     // Shifted right by 48: top·2^80 + mid·2^16 + (l0 >> 48); must stay below 2^127.
    if top >> (127 - 80) != 0 {
        return Err(RiskError::Overflow);
    }
    let mag = (u128::from(top) << 80) | (u128::from(mid) << (64 - FRAC_BITS)) | u128::from(l0 >> FRAC_BITS);
    finish(neg, mag, l0 & FRAC_MASK as u64 != 0, rounding)
}

/// A checked result within `±MAX` (never `i128::MIN`, whose negation overflows).
#[inline]
fn symmetric(v: Option<i128>) -> RiskResult<Fixed> {
    match v {
        Some(v) if v != i128::MIN => Ok(Fixed(v)),
        _ => Err(RiskError::Overflow),
    }
}

/// Applies the sign and rounding to a truncated magnitude.
#[inline]
fn finish(neg: bool, mag: u128, inexact: bool, rounding: Rounding) -> RiskResult<Fixed> {
    let bump = inexact && (neg == (rounding == Rounding::Floor));
    let mag = if bump { mag.saturating_add(1) } else { mag };
    if mag > MAX_MAG {
        return Err(RiskError::Overflow);
    }
    let v = mag as i128;
    Ok(Fixed(if neg { -v } else { v }))
}

impl Fixed {
    /// 0.
    pub const ZERO: Fixed = Fixed(0);
    /// 1.
    pub const ONE: Fixed = Fixed(1 << FRAC_BITS);
    /// 0.5.
    pub const HALF: Fixed = Fixed(1 << (FRAC_BITS - 1));
    /// −1.
    pub const NEG_ONE: Fixed = Fixed(-(1 << FRAC_BITS));
    /// The smallest positive value, `2^-48` (one ulp).
    pub const DELTA: Fixed = Fixed(1);
    /// Largest representable value (≈ 6.04e23).
    pub const MAX: Fixed = Fixed(i128::MAX);
    /// Most negative value produced by checked operations (`−MAX`).
    pub const MIN: Fixed = Fixed(-i128::MAX);

    /// Builds a value from its raw bits (`value · 2^48`).
    pub const fn from_bits(bits: i128) -> Fixed {
        Fixed(bits)
    }

    /// Raw bits (`value · 2^48`).
    pub const fn to_bits(self) -> i128 {
        self.0
    }

    /// Exact conversion from an `i64` (always fits: 63 + 48 < 127 bits).
    pub const fn from_i64(v: i64) -> Fixed {
        Fixed((v as i128) << FRAC_BITS)
    }

    /// Exact conversion from a `u64` (always fits).
    pub const fn from_u64(v: u64) -> Fixed {
        Fixed((v as i128) << FRAC_BITS)
    }

    /// Checked conversion from an `i128` integer.
    pub fn checked_from_i128(v: i128) -> RiskResult<Fixed> {
        if v.unsigned_abs() > (MAX_MAG >> FRAC_BITS) {
            return Err(RiskError::Overflow);
        }
        Ok(Fixed(v << FRAC_BITS))
    }

    /// `num / den` rounded as asked (one exact division); handy for
    /// configuration constants such as `Fixed::from_ratio(8, 10, Floor)`.
    pub fn from_ratio(num: i64, den: u64, rounding: Rounding) -> RiskResult<Fixed> {
        Fixed::from_i64(num).checked_div(Fixed::from_u64(den), rounding)
    }

    /// Little-endian bytes of the raw bits (for zero-copy storage).
    pub const fn to_le_bytes(self) -> [u8; 16] {
        self.0.to_le_bytes()
    }

    /// Inverse of [`Fixed::to_le_bytes`].
    pub const fn from_le_bytes(b: [u8; 16]) -> Fixed {
        Fixed(i128::from_le_bytes(b))
    }

    /// Raw bits as two little-endian `u64` limbs `[low, high]`.
    pub const fn to_limbs(self) -> [u64; 2] {
        [self.0 as u64, ((self.0 as u128) >> 64) as u64]
    }

    /// Inverse of [`Fixed::to_limbs`].
    pub const fn from_limbs(l: [u64; 2]) -> Fixed {
        Fixed(((l[1] as u128) << 64 | l[0] as u128) as i128)
    }

    /// `true` if strictly below zero.
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// `true` if strictly above zero.
    pub const fn is_positive(self) -> bool {
        self.0 > 0
    }

    /// `true` if zero.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Checked addition.
    #[inline]
    pub fn checked_add(self, o: Fixed) -> RiskResult<Fixed> {
        symmetric(self.0.checked_add(o.0))
    }

    /// Checked subtraction.
    #[inline]
    pub fn checked_sub(self, o: Fixed) -> RiskResult<Fixed> {
        symmetric(self.0.checked_sub(o.0))
    }

    /// Checked negation.
    #[inline]
    pub fn checked_neg(self) -> RiskResult<Fixed> {
        self.0.checked_neg().map(Fixed).ok_or(RiskError::Overflow)
    }

    /// Checked absolute value.
    #[inline]
    pub fn checked_abs(self) -> RiskResult<Fixed> {
        self.0.checked_abs().map(Fixed).ok_or(RiskError::Overflow)
    }

    /// Saturating addition (used only where a bound is wanted, e.g. ranking).
    pub fn saturating_add(self, o: Fixed) -> Fixed {
        Fixed(self.0.saturating_add(o.0))
    }

    /// `max(self, 0)`.
    pub fn positive_part(self) -> Fixed {
        if self.0 > 0 {
            self
        } else {
            Fixed::ZERO
        }
    }

    /// Exact product rounded once as asked.
    ///
    /// Cost: one `u128` multiply when `|a|·|b| < 2^128` (all typical health
    /// math: native balance × price per native unit), otherwise four
    /// `u64×u64` limb products. Never divides.
    #[inline]
    pub fn checked_mul(self, o: Fixed, rounding: Rounding) -> RiskResult<Fixed> {
        #[cfg(test)]
        crate::options::op_count::bump();
        // Multiplying by exactly one (a unit weight, a confidence multiplier of 1)
        // is common on the health path and exact. (Only `Fixed(i128::MIN)`, which
        // no checked operation produces, would have failed the general path.)
        if o.0 == Self::ONE.0 {
            return Ok(self);
        }
        if self.0 == Self::ONE.0 {
            return Ok(o);
        }
        // Fast path (prices, weights, rates): both operands non-negative and
        // below 2^64 bits (< 65536). The product's magnitude is < 2^80, so it
        // cannot overflow, and everything stays in native 64-bit operations.
        if (self.0 as u128 | o.0 as u128) >> 64 == 0 {
            let (hi, lo) = wide::mul_u64_wide(self.0 as u64, o.0 as u64);
            let truncated = (i128::from(hi) << (64 - FRAC_BITS)) | i128::from(lo >> FRAC_BITS);
            let inexact = lo & FRAC_MASK as u64 != 0;
            return Ok(Fixed(truncated + i128::from(inexact && rounding == Rounding::Ceil)));
        }
        // Mixed path (balance × unit value, shares × index): one operand is
        // non-negative and below 2^64 bits. Two native 64×64 products.
        if (o.0 as u128) >> 64 == 0 || (self.0 as u128) >> 64 == 0 {
            let (big, small) =
                if (o.0 as u128) >> 64 == 0 { (self.0, o.0 as u64) } else { (o.0, self.0 as u64) };
            return mul_by_u64(big, small, rounding);
        }
        let neg = (self.0 < 0) != (o.0 < 0);
        let p = mul_u128(self.0.unsigned_abs(), o.0.unsigned_abs());
        if p.hi >> FRAC_BITS != 0 {
            return Err(RiskError::Overflow);
        }
        let mag = (p.hi << (128 - FRAC_BITS)) | (p.lo >> FRAC_BITS);
        finish(neg, mag, p.lo & FRAC_MASK != 0, rounding)
    }

    /// Product rounded toward −∞.
    #[inline]
    pub fn checked_mul_floor(self, o: Fixed) -> RiskResult<Fixed> {
        self.checked_mul(o, Rounding::Floor)
    }

    /// Product rounded toward +∞.
    #[inline]
    pub fn checked_mul_ceil(self, o: Fixed) -> RiskResult<Fixed> {
        self.checked_mul(o, Rounding::Ceil)
    }

    /// The product rounded down and up from one multiplication: the two
    /// differ by one ulp exactly when the product has bits below 2^-48,
    /// which the low 48 bits of the operands' magnitudes decide (one
    /// native 64-bit multiply). Errors as either rounding would.
    #[inline]
    pub fn checked_mul_floor_ceil(self, o: Fixed) -> RiskResult<(Fixed, Fixed)> {
        let down = self.checked_mul_floor(o)?;
        let low = (self.0.unsigned_abs() as u64).wrapping_mul(o.0.unsigned_abs() as u64);
        if low & FRAC_MASK as u64 == 0 {
            return Ok((down, down));
        }
        Ok((down, down.checked_add(Fixed::DELTA)?))
    }

    /// Exact product with an integer (no rounding needed). One 64×64-bit
    /// product when the bits fit in 64 (a checked 128-bit multiply is a
    /// library call on SBF).
    #[inline]
    pub fn checked_mul_int(self, k: i64) -> RiskResult<Fixed> {
        let a = self.0.unsigned_abs();
        if a >> 64 != 0 {
            return symmetric(self.0.checked_mul(k as i128));
        }
        let (hi, lo) = wide::mul_u64_wide(a as u64, k.unsigned_abs());
        let p = (u128::from(hi) << 64) | u128::from(lo);
        if p > i128::MAX as u128 {
            return Err(RiskError::Overflow);
        }
        let v = p as i128;
        Ok(Fixed(if (self.0 < 0) != (k < 0) { -v } else { v }))
    }

    /// Exact quotient rounded once as asked.
    ///
    /// Cost: one native `u128` division when `|self| < 2^32` (i.e. bits
    /// `< 2^80`), otherwise a 128-step shift-subtract loop. Keep divisions out
    /// of per-position loops.
    pub fn checked_div(self, o: Fixed, rounding: Rounding) -> RiskResult<Fixed> {
        if o.0 == 0 {
            return Err(RiskError::DivisionByZero);
        }
        let neg = (self.0 < 0) != (o.0 < 0);
        let a = self.0.unsigned_abs();
        let n = U256 { hi: a >> (128 - FRAC_BITS), lo: a << FRAC_BITS };
        let (q, r) = div_rem(n, o.0.unsigned_abs()).ok_or(RiskError::Overflow)?;
        finish(neg, q, r != 0, rounding)
    }

    /// Quotient rounded toward −∞.
    #[inline]
    pub fn checked_div_floor(self, o: Fixed) -> RiskResult<Fixed> {
        self.checked_div(o, Rounding::Floor)
    }

    /// Quotient rounded toward +∞.
    #[inline]
    pub fn checked_div_ceil(self, o: Fixed) -> RiskResult<Fixed> {
        self.checked_div(o, Rounding::Ceil)
    }

    /// Exact quotient by a positive integer, rounded once as asked. Native
    /// `u64` divisions: four (base-`2^32` long division) when `d < 2^32`,
    /// at most sixteen when `d < 2^56` (no `u128` division loop).
    pub fn checked_div_int(self, d: u64, rounding: Rounding) -> RiskResult<Fixed> {
        if d == 0 {
            return Err(RiskError::DivisionByZero);
        }
        if d >> 32 == 0 {
            let a = self.0.unsigned_abs();
            let (mut q, mut rem) = (0u128, 0u64);
            for shift in [96u32, 64, 32, 0] {
                // rem < d < 2^32, so the running dividend fits 64 bits.
                let x = (rem << 32) | ((a >> shift) as u64 & 0xffff_ffff);
                q = (q << 32) | u128::from(x / d);
                rem = x % d;
            }
            return finish(self.0 < 0, q, rem != 0, rounding);
        }
        let n = U256 { hi: 0, lo: self.0.unsigned_abs() };
        let (q, r) = div_rem(n, u128::from(d)).ok_or(RiskError::Overflow)?;
        finish(self.0 < 0, q, r != 0, rounding)
    }

    /// `self · m / d` with a single rounding of the exact result (256-bit
    /// intermediate). Used for ratios such as `weight · threshold / total`.
    pub fn checked_mul_div(self, m: Fixed, d: Fixed, rounding: Rounding) -> RiskResult<Fixed> {
        if d.0 == 0 {
            return Err(RiskError::DivisionByZero);
        }
        let neg = ((self.0 < 0) != (m.0 < 0)) != (d.0 < 0);
        let p = mul_u128(self.0.unsigned_abs(), m.0.unsigned_abs());
        let (q, r) = div_rem(p, d.0.unsigned_abs()).ok_or(RiskError::Overflow)?;
        finish(neg, q, r != 0, rounding)
    }

    /// Largest integer ≤ self.
    pub fn floor(self) -> Fixed {
        Fixed(self.0 & !(FRAC_MASK as i128))
    }

    /// Smallest integer ≥ self.
    pub fn checked_ceil(self) -> RiskResult<Fixed> {
        if self.0 & FRAC_MASK as i128 == 0 {
            return Ok(self);
        }
        self.floor().checked_add(Fixed::ONE)
    }

    /// Rounds to an integer in the given direction.
    pub fn checked_round_to_int(self, rounding: Rounding) -> RiskResult<Fixed> {
        match rounding {
            Rounding::Floor => Ok(self.floor()),
            Rounding::Ceil => self.checked_ceil(),
        }
    }

    /// Integer part after rounding, as `i128`.
    pub fn to_i128(self, rounding: Rounding) -> RiskResult<i128> {
        Ok(self.checked_round_to_int(rounding)?.0 >> FRAC_BITS)
    }

    /// Integer part after rounding, as `u64` (errors if negative or too big).
    /// Use this to turn a native token amount into a transfer amount.
    pub fn to_u64(self, rounding: Rounding) -> RiskResult<u64> {
        u64::try_from(self.rounded_int(rounding)).map_err(|_| RiskError::Overflow)
    }

    /// Integer part after rounding, as `i64`.
    pub fn to_i64(self, rounding: Rounding) -> RiskResult<i64> {
        i64::try_from(self.rounded_int(rounding)).map_err(|_| RiskError::Overflow)
    }

    /// The integer rounded to, in `i128` (cannot overflow: |result| ≤
    /// 2^79). Where [`Fixed::to_i128`] refuses (a ceiling beyond `Fixed`)
    /// the value is beyond 64 bits, which `to_u64`/`to_i64` refuse anyway.
    #[inline]
    fn rounded_int(self, rounding: Rounding) -> i128 {
        let fractional = self.0 & FRAC_MASK as i128 != 0;
        (self.0 >> FRAC_BITS) + i128::from(fractional && rounding == Rounding::Ceil)
    }

    /// Smaller of two values.
    pub fn min(self, o: Fixed) -> Fixed {
        Ord::min(self, o)
    }

    /// Larger of two values.
    pub fn max(self, o: Fixed) -> Fixed {
        Ord::max(self, o)
    }

    /// Lossy conversion for display and tests only (never on-chain).
    #[cfg(any(test, feature = "float"))]
    #[allow(clippy::float_arithmetic)]
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / (1u128 << FRAC_BITS) as f64
    }

    /// Lossy conversion (nearest) for tests and off-chain tools only.
    #[cfg(any(test, feature = "float"))]
    #[allow(clippy::float_arithmetic)]
    pub fn from_f64(v: f64) -> Fixed {
        let x = v * (1u128 << FRAC_BITS) as f64;
        // `as` truncates toward zero: ±0.5 first rounds half away from zero
        // (no `f64::round` in `core`).
        Fixed((if x >= 0.0 { x + 0.5 } else { x - 0.5 }) as i128)
    }
}

impl PartialOrd<Fixed> for i64 {
    fn partial_cmp(&self, o: &Fixed) -> Option<Ordering> {
        Some(Fixed::from_i64(*self).cmp(o))
    }
}

impl PartialEq<Fixed> for i64 {
    fn eq(&self, o: &Fixed) -> bool {
        Fixed::from_i64(*self) == *o
    }
}

/// Exact decimal rendering (every binary fraction has a finite decimal
/// expansion: at most 48 digits). `{:.N}` truncates to N digits.
impl fmt::Display for Fixed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mag = self.0.unsigned_abs();
        let int = mag >> FRAC_BITS;
        let mut frac = mag & FRAC_MASK;
        if self.0 < 0 {
            f.write_str("-")?;
        }
        write!(f, "{int}")?;
        let max_digits = f.precision().unwrap_or(48);
        if frac == 0 && f.precision().is_none_or(|p| p == 0) {
            return Ok(());
        }
        if max_digits > 0 {
            f.write_str(".")?;
        }
        let mut n = 0;
        while n < max_digits && (frac != 0 || f.precision().is_some()) {
            frac *= 10;
            let d = (frac >> FRAC_BITS) as u8;
            frac &= FRAC_MASK;
            write!(f, "{}", d)?;
            n += 1;
        }
        Ok(())
    }
}

impl fmt::Debug for Fixed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fixed({self})")
    }
}

/// Parses a decimal such as `-150.125`, rounding to the nearest ulp (ties
/// away from zero). At most 38 fractional digits. Meant for configuration,
/// the CLI and tests; on-chain code builds values from integers.
impl FromStr for Fixed {
    type Err = RiskError;

    fn from_str(s: &str) -> Result<Fixed, RiskError> {
        let (neg, body) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (ip, fp) = body.split_once('.').unwrap_or((body, ""));
        if ip.is_empty() && fp.is_empty() || fp.len() > 38 {
            return Err(RiskError::Domain);
        }
        let digits = |t: &str| -> RiskResult<u128> {
            t.bytes().try_fold(0u128, |acc, c| {
                if !c.is_ascii_digit() {
                    return Err(RiskError::Domain);
                }
                acc.checked_mul(10)
                    .and_then(|a| a.checked_add(u128::from(c - b'0')))
                    .ok_or(RiskError::Overflow)
            })
        };
        let int = digits(ip)?;
        let num = digits(fp)?;
        let den = 10u128.pow(fp.len() as u32);
        // frac bits = round(num · 2^48 / den)
        let p = mul_u128(num, 1u128 << FRAC_BITS);
        let (q, r) = div_rem(p, den).ok_or(RiskError::Overflow)?;
        let q = if r >= den - r { q + 1 } else { q };
        let mag = int
            .checked_mul(1 << FRAC_BITS)
            .and_then(|m| m.checked_add(q))
            .filter(|m| *m <= MAX_MAG)
            .ok_or(RiskError::Overflow)?;
        Ok(Fixed(if neg { -(mag as i128) } else { mag as i128 }))
    }
}

#[cfg(test)]
mod tests;
