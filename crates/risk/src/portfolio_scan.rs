//! A book's scenario P&L and its worst weighted loss ([`super`]), in
//! *scenario units*: 2^-16 quote native, the unit of a risk array's
//! per-contract changes ([`CHANGE_FRAC_BITS`]).
//!
//! For scenario `k` with price shock `s_k` and weight `w_k`:
//!
//! ```text
//! option leg  P_k = ⌊contracts · (c_k + bump)⌋        bump = 1 for a short (c_k: the array's change)
//! linear legs P_k = ⌊L' · s_k⌋                          L' = ⌊L⌋ if s_k ≥ 0 else ⌈L⌉ (L: net notional)
//! loss_k          = −Σ P_k
//! worst           = max(0, max_k ⌈loss_k · w_k⌉)        all to 2^-16, every rounding against the book
//! ```
//!
//! The arithmetic is integer. While every sum is provably below 2^61
//! (about 2^45 quote native: $35M of scenario P&L per book in µUSDC) the
//! option P&L is kept and scanned in 64-bit words ([`ScenarioPnl`]): an
//! option leg costs one 64-bit multiply and add per scenario, a scenario of
//! the scan an add and a compare, each distinct shock one 64×64-bit
//! product. Larger books take 128-bit words with the same results.

use super::PreparedGrid;
use crate::error::{RiskError, RiskResult};
use crate::fixed::{Fixed, Rounding, FRAC_BITS};
use crate::health::DerivativeInfo;
use crate::options::risk_array::{change_as_fixed, ArrayView, CHANGE_FRAC_BITS};
use alloc::vec::Vec;

#[path = "portfolio_runs.rs"]
mod runs;
pub(super) use runs::{narrow_notional, NarrowGrid};

/// A scenario P&L in scenario units.
pub(super) type Units = i128;

/// The shift from `Fixed` bits to scenario units.
pub(super) const TO_UNITS: u32 = FRAC_BITS - CHANGE_FRAC_BITS;

/// Sums below this bound are kept in 64-bit words: a sum of two such
/// bounds, negated, still fits.
const NARROW: u64 = 1 << 60;

/// How an option leg's `⌊contracts · (c_k + bump)⌋` is computed: a whole
/// number of contracts whose products with every change fit in 64 bits
/// (every on-chain position) multiplies integers, with `bound` =
/// `|contracts| · (max |c_k| + 1)`; anything else (fractional host
/// positions, products beyond 2^63) takes the general `Fixed` product.
/// Both give the same values.
#[derive(Clone, Copy)]
enum Count {
    Whole { contracts: i64, bound: u64 },
    General(Fixed),
}

impl Count {
    fn new(contracts: Fixed, changes: &[i64]) -> Count {
        let bits = contracts.to_bits();
        let whole = bits & ((1i128 << FRAC_BITS) - 1) == 0;
        let Ok(c) = i64::try_from(bits >> FRAC_BITS) else { return Count::General(contracts) };
        if !whole || c == i64::MIN {
            return Count::General(contracts);
        }
        let widest = changes.iter().fold(0u64, |m, ch| m.max(ch.unsigned_abs()));
        // The exact product in 64-bit halves (a checked 64-bit multiply costs
        // a 128-bit one on SBF).
        let bound = wide_mul(c.unsigned_abs(), widest.saturating_add(1));
        if bound < 1u128 << 63 {
            Count::Whole { contracts: c, bound: bound as u64 }
        } else {
            Count::General(contracts)
        }
    }

    /// The bound of a 64-bit leg (`None`: general).
    fn narrow_bound(self) -> Option<u64> {
        match self {
            Count::Whole { bound, .. } => Some(bound),
            Count::General(_) => None,
        }
    }

    /// `⌊contracts · (ch + bump)⌋` in scenario units.
    #[inline(always)]
    fn pnl(self, ch: i64, bump: i64) -> Option<Units> {
        match self {
            // `wrapping_*`: within the bound `new` checked, and without the
            // release profile's overflow checks (a checked 64-bit multiply
            // costs a 128-bit one on SBF).
            Count::Whole { contracts, .. } => {
                Some(Units::from(contracts.wrapping_mul(ch.wrapping_add(bump))))
            }
            Count::General(c) => {
                let change = change_as_fixed(ch.checked_add(bump)?);
                c.checked_mul_floor(change).ok().map(|p| p.to_bits() >> TO_UNITS)
            }
        }
    }
}

/// A position's signed contract count, `base / contract_size`: exact
/// on-chain (positions are whole contracts), rounded down on the host.
pub(super) fn contracts(d: &DerivativeInfo) -> RiskResult<Fixed> {
    match d.rates.contract_size {
        0 => Err(RiskError::InvalidParameter),
        1 => Ok(d.base),
        cs => d.base.checked_div_int(cs, Rounding::Floor),
    }
}

/// `a · b` exactly as (high, low) words (no overflow checks: the release
/// profile's would cost a 128-bit multiply per 64-bit one on SBF; 32-bit
/// halves cannot overflow).
#[inline(always)]
fn wide_mul_words(a: u64, b: u64) -> (u64, u64) {
    const M32: u64 = u32::MAX as u64;
    let (a1, a0) = (a >> 32, a & M32);
    let (b1, b0) = (b >> 32, b & M32);
    let (p00, p01, p10, p11) =
        (a0.wrapping_mul(b0), a0.wrapping_mul(b1), a1.wrapping_mul(b0), a1.wrapping_mul(b1));
    let mid = (p00 >> 32).wrapping_add(p01 & M32).wrapping_add(p10 & M32);
    let lo = (p00 & M32) | (mid << 32);
    let hi = p11.wrapping_add(p01 >> 32).wrapping_add(p10 >> 32).wrapping_add(mid >> 32);
    (hi, lo)
}

/// [`wide_mul_words`] as one `u128`.
#[inline(always)]
fn wide_mul(a: u64, b: u64) -> u128 {
    let (hi, lo) = wide_mul_words(a, b);
    (u128::from(hi) << 64) | u128::from(lo)
}

/// `a · b / 2^shift` rounded down (`up`: up) for `|a|, |b| < 2^64`;
/// `None` beyond that or beyond `i128`.
#[inline(always)]
pub(super) fn mul_shift(a: i128, b: i128, shift: u32, up: bool) -> Option<i128> {
    let (Ok(x), Ok(y)) = (u64::try_from(a.unsigned_abs()), u64::try_from(b.unsigned_abs())) else {
        return None;
    };
    let p = i128::try_from(wide_mul(x, y)).ok()?;
    let p = if (a < 0) != (b < 0) { -p } else { p };
    let round = if up { (1i128 << shift) - 1 } else { 0 };
    Some((p + round) >> shift)
}

/// `a · b / 2^shift` rounded down (`up`: up), all in 64-bit words: for
/// `0 < shift < 64` and a result the caller knows is below 2^62 in
/// magnitude (the 64-bit scan's bound), so no 128-bit value is formed.
#[inline(always)]
fn mul_shift64(a: i64, b: i64, shift: u32, up: bool) -> i64 {
    let (hi, lo) = wide_mul_words(a.unsigned_abs(), b.unsigned_abs());
    let q = (hi << (64 - shift)) | (lo >> shift);
    let inexact = lo & ((1u64 << shift) - 1) != 0;
    // Round the magnitude away from zero when the signed result rounds
    // that way: a negative product floored, a positive one ceiled.
    let negative = (a < 0) != (b < 0);
    let q = if inexact && (negative != up) { q.wrapping_add(1) } else { q };
    if negative {
        (q as i64).wrapping_neg()
    } else {
        q as i64
    }
}

/// The linear legs' `⌊L'·s⌋` (module docs): the net notional rounded to a
/// whole quote native unit toward the book's loss, times the exact shock.
pub(super) struct LinearPnl {
    /// `⌊L⌋` and `⌈L⌉` in whole quote native units.
    floor: i128,
    ceil: i128,
}

impl LinearPnl {
    pub(super) fn new(l: Fixed) -> LinearPnl {
        let bits = l.to_bits();
        let floor = bits >> FRAC_BITS;
        let inexact = bits & ((1i128 << FRAC_BITS) - 1) != 0;
        LinearPnl { floor, ceil: floor + i128::from(inexact) }
    }

    /// `⌊L'·s⌋` (scenario units) for a shock of `Fixed` bits `shock`.
    #[inline(always)]
    fn at(&self, shock: i128) -> Option<Units> {
        let units = if shock >= 0 { self.floor } else { self.ceil };
        if units == 0 || shock == 0 {
            return Some(0);
        }
        // units·2^48 · shock / 2^48 in `Fixed` bits: / 2^32 in scenario units.
        mul_shift(units, shock, TO_UNITS, false).or_else(|| {
            let u = Fixed::from_bits(units.checked_mul(1 << CHANGE_FRAC_BITS)?);
            u.checked_mul(Fixed::from_bits(shock), Rounding::Floor).ok().map(Fixed::to_bits)
        })
    }

    /// [`LinearPnl::at`] in 64-bit words (the 64-bit scan: `|L'| <
    /// narrow_notional`, shocks below 2^62 bits), `floor` and `ceil` given
    /// as 64-bit words.
    #[inline(always)]
    fn at_narrow((floor, ceil): (i64, i64), shock: i64) -> i64 {
        let units = if shock >= 0 { floor } else { ceil };
        if units == 0 || shock == 0 {
            return 0;
        }
        mul_shift64(units, shock, TO_UNITS, false)
    }

    /// Whether every `|⌊L'·s⌋|` of `g` is below [`NARROW`].
    fn is_narrow(&self, g: &PreparedGrid) -> bool {
        let widest = self.floor.unsigned_abs().max(self.ceil.unsigned_abs());
        widest < g.narrow_notional
    }
}

/// `⌈loss · w⌉` (scenario units, `loss > 0`) for a weight of `Fixed` bits `w ≤ 1`.
#[inline(always)]
fn weigh(loss: Units, w: i128) -> Option<Units> {
    if w == Fixed::ONE.to_bits() {
        return Some(loss);
    }
    mul_shift(loss, w, FRAC_BITS, true).or_else(|| {
        Fixed::from_bits(loss).checked_mul(Fixed::from_bits(w), Rounding::Ceil).ok().map(Fixed::to_bits)
    })
}

/// A book's option P&L per scenario (module docs): 64-bit words while the
/// legs' bounds sum below [`NARROW`], else 128-bit ones.
#[derive(Default)]
pub(super) struct ScenarioPnl {
    narrow: Vec<i64>,
    wide: Vec<i128>,
    /// Σ legs' bounds (valid while `wide` is empty).
    bound: u64,
}

impl ScenarioPnl {
    /// No option leg yet.
    pub(super) fn is_empty(&self) -> bool {
        self.narrow.is_empty() && self.wide.is_empty()
    }

    /// Empties it, keeping its storage (books are built one after another).
    pub(super) fn clear(&mut self) {
        self.narrow.clear();
        self.wide.clear();
        self.bound = 0;
    }

    /// Adds `contracts` of the option of array `a` (a grid of `scenarios`).
    pub(super) fn add(&mut self, a: &ArrayView, contracts: Fixed, scenarios: usize) -> RiskResult<()> {
        let count = usize::from(a.scenario_count);
        let changes = a.changes.get(..count).ok_or(RiskError::CapacityExceeded)?;
        if count > scenarios {
            return Err(RiskError::CapacityExceeded);
        }
        if self.is_empty() {
            self.narrow.resize(scenarios, 0);
        }
        if contracts.is_zero() {
            return Ok(());
        }
        let bump = i64::from(contracts.is_negative());
        if self.wide.is_empty() && self.add_narrow(contracts, changes, bump) {
            return Ok(());
        }
        let n = Count::new(contracts, changes);
        if self.wide.is_empty() {
            self.wide = self.narrow.iter().map(|p| i128::from(*p)).collect();
            self.narrow.clear();
        }
        for (acc, ch) in self.wide.iter_mut().zip(changes) {
            *acc = n.pnl(*ch, bump).and_then(|p| acc.checked_add(p)).ok_or(RiskError::Overflow)?;
        }
        Ok(())
    }

    /// Adds a whole number of contracts in 64-bit words if the legs'
    /// bounds stay below [`NARROW`] (`Count::new`'s bound, found in the same
    /// pass); `false`, nothing changed, otherwise.
    fn add_narrow(&mut self, contracts: Fixed, changes: &[i64], bump: i64) -> bool {
        let Count::Whole { contracts: c, .. } = Count::new(contracts, &[]) else { return false };
        let n = self.narrow.len().min(changes.len());
        let (Some(acc), Some(changes)) = (self.narrow.get_mut(..n), changes.get(..n)) else { return false };
        let mut widest = 0u64;
        for (a, ch) in acc.iter_mut().zip(changes) {
            // |x| without a branch: (x ^ s) − s for the sign mask s.
            let sign = ch >> 63;
            widest = widest.max((ch ^ sign).wrapping_sub(sign) as u64);
            *a = a.wrapping_add(c.wrapping_mul(ch.wrapping_add(bump)));
        }
        let bound = wide_mul(c.unsigned_abs(), widest.saturating_add(1));
        match u64::try_from(bound).ok().filter(|b| *b < 1 << 63).and_then(|b| b.checked_add(self.bound)) {
            Some(total) if total < NARROW => {
                self.bound = total;
                true
            }
            _ => {
                // Undone exactly (sums modulo 2^64), for the 128-bit path.
                for (acc, ch) in self.narrow.iter_mut().zip(changes) {
                    *acc = acc.wrapping_sub(c.wrapping_mul(ch.wrapping_add(bump)));
                }
                false
            }
        }
    }

    /// Scenario `k`'s P&L (0 past the end).
    #[inline(always)]
    fn get(&self, k: usize) -> Units {
        if self.wide.is_empty() {
            self.narrow.get(k).map_or(0, |p| i128::from(*p))
        } else {
            self.wide.get(k).copied().unwrap_or(0)
        }
    }
}

/// An option leg's scenario P&L, added to a book's while scanning it
/// ([`worst`]), as [`ScenarioPnl::add`] would add it.
#[derive(Clone, Copy)]
pub(super) struct OptionLeg<'a> {
    count: Count,
    bump: i64,
    zero: bool,
    changes: &'a [i64],
}

impl<'a> OptionLeg<'a> {
    /// The leg of `contracts` of the option of array `a` (0: no P&L, but
    /// the book is scanned over every scenario, as one holding the option).
    pub(super) fn new(a: &ArrayView<'a>, contracts: Fixed) -> RiskResult<OptionLeg<'a>> {
        let count = usize::from(a.scenario_count);
        let changes = a.changes.get(..count).ok_or(RiskError::CapacityExceeded)?;
        let bump = i64::from(contracts.is_negative());
        let count = Count::new(contracts, changes);
        Ok(OptionLeg { count, bump, zero: contracts.is_zero(), changes })
    }

    /// Its P&L in scenario `k` (scenario units).
    #[inline(always)]
    fn pnl(&self, k: usize) -> RiskResult<Units> {
        match self.changes.get(k) {
            Some(_) if self.zero => Ok(0),
            Some(ch) => self.count.pnl(*ch, self.bump).ok_or(RiskError::Overflow),
            None => Ok(0),
        }
    }

    fn narrow_bound(&self) -> Option<u64> {
        if self.zero {
            Some(0)
        } else {
            self.count.narrow_bound()
        }
    }

    /// Adds its P&L to `pnl` (64-bit words: its bound checked by the caller).
    fn add_narrow(&self, pnl: &mut [i64]) -> RiskResult<()> {
        match self.count {
            _ if self.zero => {}
            Count::Whole { contracts: c, .. } => {
                for (p, ch) in pnl.iter_mut().zip(self.changes) {
                    *p = p.wrapping_add(c.wrapping_mul(ch.wrapping_add(self.bump)));
                }
            }
            Count::General(_) => return Err(RiskError::Overflow),
        }
        Ok(())
    }
}

/// The worst weighted scenario loss of a book (≥ 0) and its index.
pub(super) struct Worst {
    pub(super) loss: Fixed,
    pub(super) scenario: Option<usize>,
}

/// The worst weighted loss of a book of net notional `linear` and option
/// P&L `options` plus `extra`'s, over every scenario if it holds an option,
/// else at the two where a linear book loses most.
pub(super) fn worst(
    g: &PreparedGrid,
    linear: Fixed,
    options: &ScenarioPnl,
    extra: Option<OptionLeg>,
) -> RiskResult<Worst> {
    let linear = LinearPnl::new(linear);
    let linear_only = options.is_empty() && extra.is_none();
    let extra_bound = match &extra {
        None => Some(0),
        Some(leg) => leg.narrow_bound(),
    };
    let narrow_options = options.wide.is_empty()
        && extra_bound.and_then(|b| b.checked_add(options.bound)).is_some_and(|b| b < NARROW);
    let (loss, scenario) = if narrow_options && linear.is_narrow(g) {
        scan_narrow(g, &linear, &options.narrow, extra, linear_only)?
    } else {
        scan_wide(g, &linear, options, extra, linear_only)?
    };
    // loss ≥ 0: back to `Fixed` bits, within `Fixed`'s range.
    if loss >= 1 << (127 - TO_UNITS) {
        return Err(RiskError::Overflow);
    }
    Ok(Worst { loss: Fixed::from_bits(loss << TO_UNITS), scenario })
}

/// The scenarios a book is scanned over (no allocation: on-chain the heap
/// never frees).
fn scenarios(g: &PreparedGrid, linear_only: bool) -> impl Iterator<Item = usize> {
    let [lo, hi] = g.linear_extremes;
    let pick = |i: usize| if linear_only { Some(i) } else { None };
    let all = if linear_only { 0 } else { g.grid().len() };
    pick(lo.min(hi)).into_iter().chain(pick(lo.max(hi))).chain(0..all)
}

/// Most scenarios a grid holds.
const MAX_SCENARIOS: usize = crate::options::risk_array::RISK_ARRAY_SCENARIOS;

/// [`worst`] in 64-bit words: every term below [`NARROW`] (checked by the
/// caller), so no sum or negation can overflow. Flat loops over a stack
/// array: the linear P&L of each distinct shock, then each scenario's
/// total and its weighted loss in one pass.
fn scan_narrow(
    g: &PreparedGrid,
    linear: &LinearPnl,
    options: &[i64],
    extra: Option<OptionLeg>,
    linear_only: bool,
) -> RiskResult<(Units, Option<usize>)> {
    let n = &g.narrow;
    if linear_only {
        let [lo, hi] = g.linear_extremes;
        let mut worst: (i64, Option<usize>) = (0, None);
        for k in [lo.min(hi), lo.max(hi)] {
            let Some(sc) = g.grid().scenarios().get(k) else { continue };
            let loss =
                (linear.at(sc.price_shock.to_bits()).ok_or(RiskError::Overflow)? as i64).wrapping_neg();
            if loss > worst.0 {
                let weighted =
                    weigh(Units::from(loss), sc.weight.to_bits()).ok_or(RiskError::Overflow)? as i64;
                if weighted > worst.0 {
                    worst = (weighted, Some(k));
                }
            }
        }
        return Ok((Units::from(worst.0), worst.1));
    }
    // Below NARROW (`LinearPnl::is_narrow`): 64-bit words.
    let units = (linear.floor as i64, linear.ceil as i64);
    let scenarios = g.grid().len();
    // Zeroed only when used (a stack array of 40 words).
    let mut with_extra;
    let options = match &extra {
        // The book's option P&L as it is (every scenario's).
        None if options.len() == scenarios => options,
        _ => {
            with_extra = [0i64; MAX_SCENARIOS];
            let pnl = with_extra.get_mut(..scenarios).ok_or(RiskError::CapacityExceeded)?;
            for (p, o) in pnl.iter_mut().zip(options) {
                *p = *o;
            }
            if let Some(leg) = &extra {
                leg.add_narrow(pnl)?;
            }
            pnl
        }
    };
    // Per run: its scenarios share the linear P&L and the weight, so the
    // run's worst is its least option P&L (the first of equal ones, as a
    // scan in order picks), one product for the linear P&L and at most one
    // for the weight. Weights are at most 1, so ⌈loss·w⌉ ≤ loss: a loss not
    // above the worst so far cannot beat it.
    let mut worst: (i64, Option<usize>) = (0, None);
    for r in &n.runs {
        let (start, len) = (usize::from(r.start), usize::from(r.len));
        let run = options.get(start..start + len).ok_or(RiskError::CapacityExceeded)?;
        let (mut least, mut at) = (i64::MAX, 0);
        for (i, o) in run.iter().enumerate() {
            if *o < least {
                (least, at) = (*o, i);
            }
        }
        let loss = LinearPnl::at_narrow(units, r.shock).wrapping_add(least).wrapping_neg();
        if loss <= worst.0 {
            continue;
        }
        // ⌈loss·w⌉ ≤ loss < 2^61 (w ≤ 1).
        let weighted = if r.weight == ONE_BITS { loss } else { mul_shift64(loss, r.weight, FRAC_BITS, true) };
        if weighted > worst.0 {
            worst = (weighted, Some(start + at));
        }
    }
    Ok((Units::from(worst.0), worst.1))
}

/// `Fixed::ONE`'s bits as a 64-bit word (a weight of 1).
pub(super) const ONE_BITS: i64 = 1 << FRAC_BITS;

/// [`worst`] in 128-bit words, every operation checked.
fn scan_wide(
    g: &PreparedGrid,
    linear: &LinearPnl,
    options: &ScenarioPnl,
    extra: Option<OptionLeg>,
    linear_only: bool,
) -> RiskResult<(Units, Option<usize>)> {
    let mut worst: (Units, Option<usize>) = (0, None);
    let mut last: Option<(i128, Units)> = None;
    for k in scenarios(g, linear_only) {
        let Some(sc) = g.grid().scenarios().get(k) else { continue };
        let shock = sc.price_shock.to_bits();
        let lin = match last {
            Some((s, p)) if s == shock => p,
            _ => linear.at(shock).ok_or(RiskError::Overflow)?,
        };
        last = Some((shock, lin));
        let mut pnl = lin.checked_add(options.get(k)).ok_or(RiskError::Overflow)?;
        if let Some(leg) = &extra {
            pnl = pnl.checked_add(leg.pnl(k)?).ok_or(RiskError::Overflow)?;
        }
        let loss = pnl.checked_neg().ok_or(RiskError::Overflow)?;
        if loss <= worst.0 {
            continue;
        }
        let weighted = weigh(loss, sc.weight.to_bits()).ok_or(RiskError::Overflow)?;
        if weighted > worst.0 {
            worst = (weighted, Some(k));
        }
    }
    Ok(worst)
}

#[cfg(test)]
#[path = "portfolio_scan_tests.rs"]
mod tests;
