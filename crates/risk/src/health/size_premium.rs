//! The size premium on derivative margin (Drift's rule): a large position's
//! requirement rate grows with the square root of its size.
//!
//! ```text
//! rate_T(c) = min(1, max(r_T, 0.8·r_T + imf·√c))      c = |base| / contract_size
//! ```
//!
//! for each `r_T` of Init, Maint and LiquidationEnd, with `imf`
//! ([`crate::health::MarginRates::size_premium`]) per market, `0 ≤ imf ≤ 1`,
//! and `0` (the default) switching it off: then `rate_T = r_T` exactly.
//!
//! # Units
//! The size `c` is in **contracts** (underlying native units over the
//! market's contract size, [`crate::health::MarginRates::contract_size`]), so
//! `imf` does not depend on the token's decimals: the test SOL perpetual has
//! 0.01 SOL contracts, and `imf = 0.001` charges `+0.1` (ten points of
//! notional) at 10,000 contracts (100 SOL), `+0.2` at 40,000.
//!
//! # Worked example
//! `imf = 0.001`, Init `r = 10 %`, a position of 10,000 contracts:
//! `√10,000 = 100`, premium `0.001 · 100 = 0.1`, so the Init rate is
//! `max(10 %, 8 % + 10 %) = 18 %`. Maint 5 %: `max(5 %, 4 % + 10 %) = 14 %`.
//! At 100 contracts: `√100 = 10`, premium `0.01`, Init `max(10 %, 9 %) = 10 %`
//! (below the kink `imf·√c = 0.2·r`, i.e. `c = (0.2·r / imf)² = 400`, the
//! base rate applies).
//!
//! # Capped at 1
//! A requirement never exceeds the position's notional at the requirement
//! price: `rate_T ≤ 1`. (At the cap a long has nothing more it could lose,
//! and a margin above notional would only lock collateral.)
//!
//! # Rounding (all against the user: every step rounds up)
//! - `c = |base| / contract_size`, rounded up (exact for whole contracts);
//! - `√c` is taken on the `2^-24` grid ([`grid_sqrt`]): the smallest
//!   multiple of `2^-24 ≈ 6e-8` whose square is at least `c`, computed
//!   exactly with integers (`⌈√bits⌉ · 2^24`), so any implementation (the
//!   TypeScript estimate uses bigints) gets the same bits;
//! - `0.8·r` is `r ·ceil ⌈0.8⌉` ([`FOUR_FIFTHS_UP`], the binary `0.8`
//!   rounded up), `imf·√c` is `imf ·ceil √c`;
//! - the per-unit requirement is then `liab price ·ceil rate`, as without
//!   the premium.
//!
//! Each rounding is monotone, so the rate is non-decreasing in the size and
//! never below `r_T`. With `imf = 0` nothing is computed (no square root):
//! the rate is `r_T` bit for bit.
//!
//! # Liquidation
//! The requirement `R(x) = x · p · rate(x)` is convex in the size below the
//! cap (`x^{3/2}`) and linear at it; [`crate::liquidation`] sizes a step on
//! an upper bound of its slope ([`ReleaseBound`]) and iterates.

use crate::error::{RiskError, RiskResult};
use crate::fixed::{Fixed, Rounding, FRAC_BITS};

/// Fraction bits of [`grid_sqrt`]'s result: `√x` is a multiple of `2^-24`.
pub const SQRT_FRAC_BITS: u32 = FRAC_BITS / 2;

/// `0.8` rounded up to the binary grid (`⌈0.8 · 2^48⌉ · 2^-48`).
pub const FOUR_FIFTHS_UP: Fixed = Fixed::from_bits(((4i128 << FRAC_BITS) + 4) / 5);
/// `0.8` rounded down.
pub const FOUR_FIFTHS_DOWN: Fixed = Fixed::from_bits((4i128 << FRAC_BITS) / 5);
/// `0.4` rounded down (the liquidation slope bounds subtract `0.4·r`).
pub const TWO_FIFTHS_DOWN: Fixed = Fixed::from_bits((2i128 << FRAC_BITS) / 5);
/// `0.4` rounded up.
pub const TWO_FIFTHS_UP: Fixed = Fixed::from_bits(((2i128 << FRAC_BITS) + 4) / 5);
/// `1.5` (exact).
pub const THREE_HALVES: Fixed = Fixed::from_bits(3i128 << (FRAC_BITS - 1));

/// `⌈√((i + 17) · 2^58)⌉` for `i` in `0..48`: square roots above every
/// normalised `m ∈ [2^62, 2^64)` by its top six bits (3 % at most above).
const SQRT_SEED: [u64; 48] = [
    2213575478, 2277750375, 2340166052, 2400959709, 2460251593, 2518147787, 2574742444, 2630119585,
    2684354560, 2737515257, 2789663091, 2840853839, 2891138342, 2940563090, 2989170732, 3037000500,
    3084088588, 3130468462, 3176171149, 3221225472, 3265658268, 3309494568, 3352757771, 3395469783,
    3437651149, 3479321170, 3520498001, 3561198752, 3601439564, 3641235684, 3680601538, 3719550787,
    3758096384, 3796250625, 3834025194, 3871431204, 3908479236, 3945179377, 3981541246, 4017574028,
    4053286499, 4088687053, 4123783723, 4158584203, 4193095867, 4227325789, 4261280758, 4294967296,
];

/// `⌊√n⌋` for a `u64`: Newton's iteration from a table seed above the root
/// (within 3 %: it decreases monotonically to the floor in three or four
/// native `u64` divisions).
#[inline]
fn isqrt_u64(n: u64) -> u64 {
    if n < 2 {
        return n;
    }
    // m = n · 4^s in [2^62, 2^64); √n = √m / 2^s < SQRT_SEED[top six bits of m] / 2^s.
    let shift = n.leading_zeros() & !1;
    let m = n << shift;
    // Top six bits in 16..64 (m ≥ 2^62): always in the table; 2^32 would do.
    let seed = SQRT_SEED.get((m >> 58) as usize - 16).copied().unwrap_or(1 << 32);
    let mut x = (seed >> (shift / 2)) + 1;
    loop {
        let y = (x + n / x) >> 1;
        if y >= x {
            return x;
        }
        x = y;
    }
}

/// `⌈√n⌉`-style rounding of an integer square root `r = ⌊√n⌋`: `r` if exact,
/// else `r + 1` (a `u64` square below `2^64`, no `u128` multiply).
#[inline]
fn round_root(n: u128, r: u64, rounding: Rounding) -> u128 {
    let exact = if n >> 64 == 0 { r * r == n as u64 } else { u128::from(r) * u128::from(r) == n };
    match rounding {
        Rounding::Ceil if !exact => u128::from(r) + 1,
        _ => u128::from(r),
    }
}

/// `⌊√n⌋` for a `u128`. Below `2^64` it is [`isqrt_u64`]; above, Newton's
/// iteration from just above the root of the top 64 bits (the seed is within
/// `2^-31` relative, so two or three steps reach the floor).
pub fn isqrt_u128(n: u128) -> u64 {
    if n >> 64 == 0 {
        return isqrt_u64(n as u64);
    }
    // An even shift leaving 63 or 64 bits: n >> shift < 2^64.
    let shift = (128 - n.leading_zeros() - 63) & !1;
    let top = (n >> shift) as u64;
    // n < (top + 1) · 4^(shift/2), so the seed is above √n.
    let mut x = (u128::from(isqrt_u64(top)) + 1) << (shift / 2);
    loop {
        let y = (x + n / x) >> 1;
        if y >= x {
            return x as u64;
        }
        x = y;
    }
}

/// `√x` on the `2^-24` grid, `x ≥ 0`: with [`Rounding::Ceil`] the smallest,
/// with [`Rounding::Floor`] the largest multiple of `2^-24` whose square is
/// at least (at most) `x`. Exact integer arithmetic: `x`'s raw bits are
/// `x · 2^48`, so `√x · 2^48 = √bits · 2^24` and the result's raw bits are
/// `⌈√bits⌉ · 2^24` (or `⌊√bits⌋ · 2^24`).
///
/// `√10,000 = 100` exactly; `√2` (ceil) is `23,726,566 / 2^24 =
/// 1.41421362757...` (the true root is `1.41421356237...`).
pub fn grid_sqrt(x: Fixed, rounding: Rounding) -> RiskResult<Fixed> {
    if x.is_negative() {
        return Err(RiskError::Domain);
    }
    let n = x.to_bits() as u128;
    let r = round_root(n, isqrt_u128(n), rounding);
    // r ≤ 2^64, so r · 2^24 ≤ 2^88: no overflow.
    Ok(Fixed::from_bits((r as i128) << SQRT_FRAC_BITS))
}

/// [`grid_sqrt`] both ways from one integer square root: `(floor, ceil)`.
pub fn grid_sqrt_pair(x: Fixed) -> RiskResult<(Fixed, Fixed)> {
    if x.is_negative() {
        return Err(RiskError::Domain);
    }
    let n = x.to_bits() as u128;
    let r = isqrt_u128(n);
    let (down, up) = (u128::from(r), round_root(n, r, Rounding::Ceil));
    Ok((Fixed::from_bits((down as i128) << SQRT_FRAC_BITS), Fixed::from_bits((up as i128) << SQRT_FRAC_BITS)))
}

/// The size-premium rate before the floor at `r` and the cap at 1:
/// `0.8·r + imf·√c`, every step rounded as asked (`Ceil`: the rate in force;
/// `Floor`: a lower bound of the exact value, for liquidation sizing).
pub fn uncapped_rate(r: Fixed, imf: Fixed, contracts: Fixed, rounding: Rounding) -> RiskResult<Fixed> {
    uncapped_rate_at_root(r, imf, grid_sqrt(contracts, rounding)?, rounding)
}

/// [`uncapped_rate`] from the rounded square root `root` of the size.
#[inline]
pub fn uncapped_rate_at_root(r: Fixed, imf: Fixed, root: Fixed, rounding: Rounding) -> RiskResult<Fixed> {
    let four_fifths = match rounding {
        Rounding::Ceil => FOUR_FIFTHS_UP,
        Rounding::Floor => FOUR_FIFTHS_DOWN,
    };
    r.checked_mul(four_fifths, rounding)?.checked_add(imf.checked_mul(root, rounding)?)
}

/// Whether the premium surely leaves the rate at `r` for `contracts` (≥ 1,
/// `0 ≤ imf ≤ 1`): from `c`'s bit length, `c < 4^k`, so `√c < 2^k`, and
/// `2^k` is on the square root's grid, so `⌈√c⌉ ≤ 2^k` and `⌈0.8·r⌉ +
/// ⌈imf·⌈√c⌉⌉ ≤ ⌈0.8·r⌉ + imf·2^k` (exact); when that is `≤ r` the rate is
/// `r`, bit for bit what the full formula gives. Spares the square root for
/// positions below the kink (e.g. imf 0.001, Init 10 %: up to 256 contracts,
/// `0.08 + 0.001 · 16 ≤ 0.1`).
pub fn premium_below_kink(r: Fixed, imf: Fixed, contracts: Fixed) -> RiskResult<bool> {
    below_kink(r, r.checked_mul_ceil(FOUR_FIFTHS_UP)?, imf, contracts)
}

/// [`premium_below_kink`] with `eighty = ⌈r · ⌈0.8⌉⌉` computed.
#[inline]
fn below_kink(r: Fixed, eighty: Fixed, imf: Fixed, contracts: Fixed) -> RiskResult<bool> {
    let bits = contracts.to_bits() as u128;
    if bits < Fixed::ONE.to_bits() as u128 || imf.is_negative() || imf > Fixed::ONE {
        return Ok(false);
    }
    // contracts < 2^(len − 48), so √contracts < 2^k with k = ⌈(len − 48) / 2⌉ ≤ 40.
    let len = 128 - bits.leading_zeros();
    let k = (len - FRAC_BITS).div_ceil(2);
    let bound = Fixed::from_bits(imf.to_bits() << k);
    Ok(eighty.checked_add(bound)? <= r)
}

/// The rate in force for `contracts` (≥ 0) at base rate `r` and premium
/// `imf`: `min(1, max(r, ⌈r·⌈0.8⌉⌉ + ⌈imf·⌈√c⌉⌉))`, `r` when `imf = 0`
/// (without a square root below the kink, [`premium_below_kink`]).
pub fn rate_in_force(r: Fixed, imf: Fixed, contracts: Fixed) -> RiskResult<Fixed> {
    rate_in_force_sharing(r, imf, contracts, &mut None)
}

/// [`rate_in_force`] keeping `⌈√contracts⌉` in `root` once computed, for
/// the three health types of one position (one square root for all).
pub fn rate_in_force_sharing(
    r: Fixed,
    imf: Fixed,
    contracts: Fixed,
    root: &mut Option<Fixed>,
) -> RiskResult<Fixed> {
    if imf.is_zero() || contracts.is_zero() {
        return Ok(r);
    }
    let eighty = r.checked_mul_ceil(FOUR_FIFTHS_UP)?;
    if below_kink(r, eighty, imf, contracts)? {
        return Ok(r);
    }
    let root = match *root {
        Some(v) => v,
        None => *root.insert(grid_sqrt(contracts, Rounding::Ceil)?),
    };
    Ok(floor_and_cap(r, eighty.checked_add(imf.checked_mul_ceil(root)?)?))
}

/// Sizes below this many whole contracts take the native-arithmetic path
/// ([`rate_for_whole_contracts`]): `c · 2^48` fits a `u64`.
pub const WHOLE_CONTRACTS_LIMIT: u64 = 1 << 16;

/// [`rate_in_force`] for a whole number of contracts, bit for bit, in native
/// `u64` arithmetic: the health of every position held on-chain (sizes are
/// whole contracts) runs it, once per position on the Init path
/// (`programs/xmargin/src/health/derivatives.rs`).
///
/// Same formula and roundings: `⌈r · ⌈0.8⌉⌉` is `⌈r_bits · 0.8_bits / 2^48⌉`;
/// `⌈√c⌉` on the `2^-24` grid is `s · 2^-24` with `s = ⌈√(c · 2^48)⌉` (an
/// integer square root below `2^64`); `⌈imf · √c⌉` is `⌈imf_bits · s /
/// 2^24⌉`; then the floor at `r` and the cap at 1. No kink test: below the
/// kink the full formula gives `r` itself ([`premium_below_kink`]), and the
/// test costs more than it saves here. Sizes from
/// [`WHOLE_CONTRACTS_LIMIT`] and rates outside `[0, 1]` take the general path.
pub fn rate_for_whole_contracts(r: Fixed, imf: Fixed, contracts: u64) -> RiskResult<Fixed> {
    rate_for_whole_contracts_sharing(r, imf, contracts, &mut None)
}

/// [`rate_for_whole_contracts`] keeping the root's integer `s` in `root`
/// once computed (the three health types of one position share it).
pub fn rate_for_whole_contracts_sharing(
    r: Fixed,
    imf: Fixed,
    contracts: u64,
    root: &mut Option<u64>,
) -> RiskResult<Fixed> {
    const ONE: i128 = Fixed::ONE.to_bits();
    let (r_bits, imf_bits) = (r.to_bits(), imf.to_bits());
    if imf_bits == 0 || contracts == 0 {
        return Ok(r);
    }
    if !(0..=ONE).contains(&r_bits) || !(0..=ONE).contains(&imf_bits) || contracts >= WHOLE_CONTRACTS_LIMIT {
        return rate_in_force(r, imf, Fixed::from_u64(contracts));
    }
    let (r, imf) = (r_bits as u64, imf_bits as u64);
    let eighty = mul_shift_ceil(r, FOUR_FIFTHS_UP.to_bits() as u64, FRAC_BITS);
    let s = match *root {
        Some(s) => s,
        None => *root.insert(whole_root(contracts)),
    };
    let premium = mul_shift_ceil(imf, s, SQRT_FRAC_BITS);
    // eighty ≤ 2^48 and premium ≤ 2^(48 + 32 − 24): no overflow.
    Ok(Fixed::from_bits(i128::from((eighty + premium).clamp(r, ONE as u64))))
}

/// `⌈√(c · 2^48)⌉` for whole contracts `c < 2^16`: the integer of `⌈√c⌉`
/// on the `2^-24` grid.
#[inline]
fn whole_root(contracts: u64) -> u64 {
    let n = contracts << FRAC_BITS;
    let floor = isqrt_u64(n);
    if floor * floor == n {
        floor
    } else {
        floor + 1
    }
}

/// `⌈a · b / 2^shift⌉` for a product below `2^(64 + shift)` (here `a ≤ 2^48`
/// and `b < 2^33`, or both `≤ 2^48` with `shift = 48`).
#[inline(always)]
fn mul_shift_ceil(a: u64, b: u64, shift: u32) -> u64 {
    let (hi, lo) = crate::fixed::wide::mul_u64_wide(a, b);
    let truncated = (hi << (64 - shift)) | (lo >> shift);
    truncated + u64::from(lo & ((1u64 << shift) - 1) != 0)
}

/// `min(1, max(r, rate))`: the floor at the base rate and the cap at 1
/// (`r ≤ 1` is validated with the rates).
#[inline]
pub fn floor_and_cap(r: Fixed, rate: Fixed) -> Fixed {
    rate.max(r).min(Fixed::ONE)
}

/// What [`crate::liquidation::max_position_liquidation`] needs to size a
/// step on a position with a size premium: closing `q ≤ limit` base units
/// releases at most `q · slope + excess` of requirement
/// ([`crate::health::DerivativeInfo::release_bound`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReleaseBound {
    /// Quote native per base unit: an upper bound of the requirement's slope
    /// on the segment `[size − limit, size]`.
    pub slope: Fixed,
    /// A lower bound of the requirement's slope just above the current size
    /// (the release rate of the last unit closed when a step ends here).
    pub local_slope: Fixed,
    /// The requirement per unit at the current size (`liab price ·ceil
    /// rate`), about its average: the release per unit closed is at least
    /// about this much (`R` is convex below the cap and `R(x) ≤ p·x`), so a
    /// step sized on it lands at or beyond the target (a guess only; nothing
    /// relies on it).
    pub chord: Fixed,
    /// The requirement at the current size, exactly
    /// [`crate::health::DerivativeInfo::requirement`] (perps and futures).
    pub requirement: Fixed,
    /// Base units the bound holds for (the whole position, or the part above
    /// the cap while the position is capped).
    pub limit: Fixed,
    /// The requirement's rounding above its exact value at the current size
    /// (`requirement − lower bound`, ≥ 0): the step aims at `−excess`.
    pub excess: Fixed,
}

#[cfg(test)]
#[path = "size_premium_tests.rs"]
mod tests;
