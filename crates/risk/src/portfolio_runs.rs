//! The grid as the 64-bit scan reads it ([`super`]): runs of consecutive
//! scenarios sharing a price move and a weight of 1, the extremes a book
//! without options is evaluated at, and the largest net notional the
//! 64-bit words hold.

use super::{mul_shift64, ONE_BITS};
use crate::fixed::{Fixed, FRAC_BITS};
use alloc::vec::Vec;

/// The largest notional (whole quote native units) whose linear P&L on
/// `shocks` (`Fixed` bits) stays below [`super::NARROW`] in every scenario.
/// A power of two (no division), at most `2^92 / widest` and 2^62.
pub(in crate::portfolio) fn narrow_notional(shocks: impl Iterator<Item = Fixed>) -> u128 {
    notional_below(shocks.map(|s| s.to_bits().unsigned_abs()).max().unwrap_or(0))
}

/// [`narrow_notional`] of the widest |shock| (`Fixed` bits).
fn notional_below(widest: u128) -> u128 {
    let widest = widest.max(1);
    if widest >= 1 << 62 {
        return 0; // shocks beyond 64-bit words: every book takes the 128-bit scan
    }
    // widest < 2^bits, so 2^(92 − bits) ≤ 2^92 / widest.
    let bits = 128 - widest.leading_zeros();
    1u128 << (92 - bits).min(62)
}

/// The grid as the 64-bit scan reads it: cut into runs of consecutive
/// scenarios sharing a price shock (`Fixed` bits) and a weight of 1 (the
/// core grid repeats each price shock once per vol shock; a scenario of
/// weight < 1 is a run of its own). In 64-bit words: a grid whose shocks do
/// not fit takes the 128-bit scan only ([`narrow_notional`] is then 0), and
/// weights are at most 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(in crate::portfolio) struct NarrowGrid {
    pub(super) runs: Vec<Run>,
    /// Every |shock| below 2^62 bits and every weight in `[0, 1]`: the
    /// runs are exact.
    fits: bool,
}

/// Consecutive scenarios `start..start + len` of one shock and weight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Run {
    pub(super) shock: i64,
    pub(super) weight: i64,
    pub(super) start: u8,
    pub(super) len: u8,
}

impl NarrowGrid {
    pub(in crate::portfolio) fn new(scenarios: &[crate::options::risk_array::Scenario]) -> NarrowGrid {
        let mut g = NarrowGrid { runs: Vec::with_capacity(scenarios.len()), fits: true };
        for (k, sc) in scenarios.iter().enumerate() {
            // Beyond 64 bits: never read (the 128-bit scan runs instead).
            let shock = i64::try_from(sc.price_shock.to_bits()).unwrap_or(0);
            let weight = i64::try_from(sc.weight.to_bits()).unwrap_or(i64::MAX);
            // (A weight beyond 64 bits reads as i64::MAX, outside [0, 1].)
            g.fits &= sc.price_shock.to_bits().unsigned_abs() < 1 << 62 && (0..=ONE_BITS).contains(&weight);
            match g.runs.last_mut() {
                Some(r) if r.shock == shock && r.weight == ONE_BITS && weight == ONE_BITS => r.len += 1,
                // At most RISK_ARRAY_SCENARIOS (40) scenarios.
                _ => g.runs.push(Run { shock, weight, start: k as u8, len: 1 }),
            }
        }
        g
    }

    /// The scenario indices of the lowest and the highest `s_k · w_k`
    /// (`Fixed` products rounded down; the first of equal ones, as a scan
    /// in order picks: a run's scenarios are equal) and [`narrow_notional`],
    /// from the runs in 64-bit words; `None` unless the runs are exact.
    pub(in crate::portfolio) fn extremes(&self) -> Option<([usize; 2], u128)> {
        if !self.fits {
            return None;
        }
        let (mut lo, mut hi) = ((0usize, 0i64), (0usize, 0i64));
        let mut widest = 0u64;
        for r in &self.runs {
            widest = widest.max(r.shock.unsigned_abs());
            // |s·w| ≤ |s| < 2^62 (w ≤ 1): within `mul_shift64`'s bound.
            let sw =
                if r.weight == ONE_BITS { r.shock } else { mul_shift64(r.shock, r.weight, FRAC_BITS, false) };
            if sw < lo.1 {
                lo = (usize::from(r.start), sw);
            }
            if sw > hi.1 {
                hi = (usize::from(r.start), sw);
            }
        }
        Some(([lo.0, hi.0], notional_below(u128::from(widest))))
    }
}
