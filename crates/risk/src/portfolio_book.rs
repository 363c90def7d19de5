//! The netted book of one underlying ([`super`]): built in one pass over the
//! positions for the health types asked, its worst scenario loss found once
//! (the scenario P&L does not depend on the health type), then charged per
//! type.

use super::{PortfolioParams, PreparedGrid, UnderlyingRequirement};
use crate::error::{RiskError, RiskResult};
use crate::fixed::Fixed;
use crate::fixed::{Rounding, FRAC_BITS};
use crate::health::{DerivativeInfo, DerivativeKind, HealthCache, HealthType, PerType, TokenInfo};
use crate::options::risk_array::{change_as_fixed, RiskArray, RiskGrid, CHANGE_FRAC_BITS};
use alloc::vec::Vec;

/// `a · b` for `|b| < 2^64` bits of either sign (a price shock, a weight,
/// a risk-array change), rounded once as asked: the same exact product and
/// rounding as [`Fixed::checked_mul`] (bit for bit, errors included), in
/// two 64×64-bit products instead of the general path's four (which a
/// negative operand takes there).
#[inline]
pub(crate) fn mul_small(a: Fixed, b: i128, rounding: Rounding) -> RiskResult<Fixed> {
    if b.unsigned_abs() >> 64 != 0 {
        return a.checked_mul(Fixed::from_bits(b), rounding);
    }
    mul_bits(a.to_bits(), b, rounding == Rounding::Floor).map(Fixed::from_bits).ok_or(RiskError::Overflow)
}

/// [`mul_small`] on the bits, `|b| < 2^64` (the scenario loops' inner
/// step, kept free of `Result`s).
#[inline(always)]
fn mul_bits(a: i128, b: i128, floor: bool) -> Option<i128> {
    let neg = (a < 0) != (b < 0);
    let x = a.unsigned_abs();
    let y = b.unsigned_abs() as u64;
    let (h0, l0) = crate::fixed::wide::mul_u64_wide(x as u64, y);
    let top_limb = (x >> 64) as u64;
    let (h1, l1) = if top_limb == 0 { (0, 0) } else { crate::fixed::wide::mul_u64_wide(top_limb, y) };
    let (mid, carry) = l1.overflowing_add(h0);
    let top = h1 + u64::from(carry);
    // Shifted right by 48: top·2^80 + mid·2^16 + (l0 >> 48); below 2^127.
    if top >> (127 - 80) != 0 {
        return None;
    }
    let mag = (u128::from(top) << 80) | (u128::from(mid) << (64 - FRAC_BITS)) | u128::from(l0 >> FRAC_BITS);
    let inexact = l0 & ((1u64 << FRAC_BITS) - 1) != 0;
    let mag = if inexact && (neg == floor) { mag + 1 } else { mag };
    if mag > i128::MAX as u128 {
        return None;
    }
    let v = mag as i128;
    Some(if neg { -v } else { v })
}

/// `a · b` on the bits rounded as asked, as [`mul_small`] (any `b`).
#[inline(always)]
fn mul_any(a: i128, b: i128, floor: bool) -> Option<i128> {
    if b.unsigned_abs() >> 64 == 0 {
        return mul_bits(a, b, floor);
    }
    let rounding = if floor { Rounding::Floor } else { Rounding::Ceil };
    Fixed::from_bits(a).checked_mul(Fixed::from_bits(b), rounding).ok().map(Fixed::to_bits)
}

/// How an option leg's scenario P&L `⌊contracts · (c_k + bump)·2^-16⌋`
/// ([`RiskArray::add_position_pnl`]) is computed: a whole number of
/// contracts whose products with every change fit in 64 bits (every
/// on-chain position: contracts are whole) multiplies integers, the exact
/// product shifted into `Fixed` bits; anything else (fractional host
/// positions, products beyond 2^63) takes the general `Fixed` product.
/// Both give the same bits.
#[derive(Clone, Copy)]
enum Count {
    Whole(i64),
    General(Fixed),
}

impl Count {
    /// The count of `contracts` for `changes` (a short's each one more).
    fn new(contracts: Fixed, changes: &[i64]) -> Count {
        let bits = contracts.to_bits();
        let whole = bits & ((1i128 << FRAC_BITS) - 1) == 0;
        let Ok(c) = i64::try_from(bits >> FRAC_BITS) else { return Count::General(contracts) };
        if !whole || c == i64::MIN {
            return Count::General(contracts);
        }
        let widest = changes.iter().fold(0u64, |m, ch| m.max(ch.unsigned_abs()));
        // |c · (ch + bump)| ≤ |c| · (widest + 1) < 2^63.
        let fits = c.unsigned_abs().checked_mul(widest.saturating_add(1)).is_some_and(|p| p < 1u64 << 63);
        if fits {
            Count::Whole(c)
        } else {
            Count::General(contracts)
        }
    }

    /// `⌊contracts · (ch + bump)·2^-16⌋` as `Fixed` bits.
    #[inline(always)]
    fn pnl_bits(self, ch: i64, bump: i64) -> Option<i128> {
        match self {
            // Within the bound checked in `new`: no overflow.
            Count::Whole(c) => Some(i128::from(c * (ch + bump)) << (FRAC_BITS - CHANGE_FRAC_BITS)),
            Count::General(c) => {
                let change = change_as_fixed(ch.checked_add(bump)?);
                c.checked_mul_floor(change).ok().map(Fixed::to_bits)
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

/// [`RiskArray::add_position_pnl`] for the health path: the same sums, bit
/// for bit, whole contracts multiplied in 64-bit integers ([`Count`]).
fn add_position_pnl(a: &RiskArray, contracts: Fixed, acc: &mut [Fixed]) -> RiskResult<()> {
    let count = usize::from(a.scenario_count);
    let changes = a.changes.get(..count).ok_or(RiskError::CapacityExceeded)?;
    if acc.len() < count {
        return Err(RiskError::CapacityExceeded);
    }
    if contracts.is_zero() {
        return Ok(());
    }
    let bump = i64::from(contracts.is_negative());
    let n = Count::new(contracts, changes);
    for (acc, ch) in acc.iter_mut().zip(changes) {
        let p = n.pnl_bits(*ch, bump).and_then(|p| acc.to_bits().checked_add(p));
        match p {
            Some(p) if p != i128::MIN => *acc = Fixed::from_bits(p),
            _ => return Err(RiskError::Overflow),
        }
    }
    Ok(())
}

/// The netted book of one underlying: its legs' sums and, once it holds
/// an option, the options' P&L per scenario.
pub(super) struct Book {
    pub(super) legs: Legs,
    /// Σ option P&L per scenario (empty while the book has no option: it
    /// is then evaluated at [`PreparedGrid`]'s two extreme scenarios).
    pub(super) option_pnl: Vec<Fixed>,
}

/// A book's sums over its legs (copied to evaluate it with one leg more:
/// [`super::stream`]).
#[derive(Clone, Copy)]
pub(super) struct Legs {
    pub(super) underlying: u16,
    /// Σ qty·S of spot, perps and futures (signed).
    linear_notional: Fixed,
    /// Σ delta-adjusted |notional|.
    exposure: Fixed,
    /// Σ linear charges per health type (the types asked for; others 0).
    linear: PerType<Fixed>,
    /// Σ values while every leg is long; `None` once a leg is short.
    long_value: Option<Fixed>,
    /// The largest linear haircut of the book's spot legs per health type
    /// (`1 − asset weight` of a deposit, `liability weight − 1` of a
    /// borrow) over the grid's largest move, rounded up: the worst loss is
    /// scaled by at least this, so that move charges at least the haircut
    /// ([`Legs::requirement`]).
    haircut_scale: PerType<Fixed>,
}

/// An option leg's scenario P&L, added to a book's while scanning it
/// ([`Legs::worst`]), as [`add_position_pnl`] adds it.
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
    pub(super) fn new(a: &'a RiskArray, contracts: Fixed) -> RiskResult<OptionLeg<'a>> {
        let count = usize::from(a.scenario_count);
        let changes = a.changes.get(..count).ok_or(RiskError::CapacityExceeded)?;
        let bump = i64::from(contracts.is_negative());
        let count = Count::new(contracts, changes);
        Ok(OptionLeg { count, bump, zero: contracts.is_zero(), changes })
    }

    fn pnl(&self, k: usize) -> RiskResult<Fixed> {
        match self.changes.get(k) {
            Some(_) if self.zero => Ok(Fixed::ZERO),
            Some(ch) => self.count.pnl_bits(*ch, self.bump).map(Fixed::from_bits).ok_or(RiskError::Overflow),
            None => Ok(Fixed::ZERO),
        }
    }
}

/// The worst weighted scenario loss of a book (≥ 0) and its index.
pub(super) struct Worst {
    loss: Fixed,
    scenario: Option<usize>,
}

/// `f(ht)` for each health type in `types`, 0 for the others.
pub(super) fn per_type(
    types: &[HealthType],
    f: impl Fn(HealthType) -> RiskResult<Fixed>,
) -> RiskResult<PerType<Fixed>> {
    let mut v = PerType::splat(Fixed::ZERO);
    for ht in types {
        v.set(*ht, f(*ht)?);
    }
    Ok(v)
}

impl Book {
    pub(super) fn new(underlying: u16) -> Book {
        Book { legs: Legs::new(underlying), option_pnl: Vec::new() }
    }

    pub(super) fn add_option(
        &mut self,
        d: &DerivativeInfo,
        a: &RiskArray,
        scenarios: usize,
        charge: PerType<Fixed>,
    ) -> RiskResult<()> {
        if self.option_pnl.is_empty() {
            self.option_pnl.resize(scenarios, Fixed::ZERO);
        }
        add_position_pnl(a, contracts(d)?, &mut self.option_pnl)?;
        self.legs.add_option_terms(d, a, charge)
    }

    /// The worst weighted loss over the grid.
    pub(super) fn worst(&self, g: &PreparedGrid) -> RiskResult<Worst> {
        self.legs.worst(g, &self.option_pnl, None)
    }

    /// The book's requirement for `ht` given its worst loss.
    pub(super) fn requirement(
        &self,
        worst: &Worst,
        p: &PortfolioParams,
        ht: HealthType,
    ) -> RiskResult<UnderlyingRequirement> {
        self.legs.requirement(worst, p, ht)
    }
}

/// The haircut scale per health type of a spot leg of `t` (0 where the
/// grid's scaled largest move covers its haircut): see [`Legs::haircut_scale`].
pub(super) fn token_haircut_scale(
    t: &TokenInfo,
    g: &PreparedGrid,
    types: &[HealthType],
) -> RiskResult<PerType<Fixed>> {
    per_type(types, |ht| {
        let w = t.weights();
        let cut = if t.balance.is_negative() {
            w.liab(ht).checked_sub(Fixed::ONE)?
        } else {
            Fixed::ONE.checked_sub(w.asset(ht))?
        };
        if cut > g.haircut_covered.get(ht) {
            cut.checked_mul_ceil(g.inv_widest)
        } else {
            Ok(Fixed::ZERO)
        }
    })
}

impl Legs {
    fn new(underlying: u16) -> Legs {
        Legs {
            underlying,
            linear_notional: Fixed::ZERO,
            exposure: Fixed::ZERO,
            linear: PerType::splat(Fixed::ZERO),
            long_value: Some(Fixed::ZERO),
            haircut_scale: PerType::splat(Fixed::ZERO),
        }
    }

    /// Folds in a spot leg's haircut scale ([`token_haircut_scale`]).
    pub(super) fn add_haircut_scale(&mut self, scale: PerType<Fixed>) {
        for ht in HealthType::ALL {
            self.haircut_scale.set(ht, self.haircut_scale.get(ht).max(scale.get(ht)));
        }
    }

    fn add_charges(&mut self, charge: PerType<Fixed>) -> RiskResult<()> {
        for ht in HealthType::ALL {
            self.linear.set(ht, self.linear.get(ht).checked_add(charge.get(ht))?);
        }
        Ok(())
    }

    fn add_leg(&mut self, qty: Fixed, unit_value: Fixed) -> RiskResult<()> {
        if qty.is_negative() {
            self.long_value = None;
        } else if let Some(v) = self.long_value {
            self.long_value = Some(v.checked_add(qty.checked_mul_ceil(unit_value)?)?);
        }
        Ok(())
    }

    pub(super) fn add_linear(&mut self, qty: Fixed, spot: Fixed, charge: PerType<Fixed>) -> RiskResult<()> {
        self.linear_notional = self.linear_notional.checked_add(qty.checked_mul_floor(spot)?)?;
        self.exposure = self.exposure.checked_add(qty.checked_abs()?.checked_mul_ceil(spot)?)?;
        self.add_charges(charge)?;
        self.add_leg(qty, spot)
    }

    /// An option leg's exposure, charge and value (its scenario P&L is the
    /// book's, [`Book::add_option`], or an [`OptionLeg`]).
    pub(super) fn add_option_terms(
        &mut self,
        d: &DerivativeInfo,
        a: &RiskArray,
        charge: PerType<Fixed>,
    ) -> RiskResult<()> {
        let mut delta = a.delta.checked_abs()?;
        if d.base.is_negative() {
            delta = delta.max(d.rates.short_option_min_delta);
        }
        let notional = d.base.checked_abs()?.checked_mul_ceil(a.spot)?;
        self.exposure = self.exposure.checked_add(notional.checked_mul_ceil(delta)?)?;
        self.add_charges(charge)?;
        self.add_leg(d.base, a.value)
    }

    /// The worst weighted loss over the grid, the options' P&L being
    /// `option_pnl` plus `extra`'s: every scenario if the book holds an
    /// option, else the two where a linear book loses most.
    pub(super) fn worst(
        &self,
        g: &PreparedGrid,
        option_pnl: &[Fixed],
        extra: Option<OptionLeg>,
    ) -> RiskResult<Worst> {
        let mut worst = Worst { loss: Fixed::ZERO, scenario: None };
        let scenarios = g.grid.scenarios();
        let linear = self.linear_notional.to_bits();
        // The linear legs' P&L `⌊L·s⌋` of the last shock: the core grid
        // repeats each price shock once per vol shock, in a row.
        let mut last: Option<(i128, i128)> = None;
        let mut consider = |k: usize| -> RiskResult<()> {
            let Some(sc) = scenarios.get(k) else { return Ok(()) };
            let mut opt = option_pnl.get(k).map_or(0, |f| f.to_bits());
            if let Some(leg) = &extra {
                opt = opt.checked_add(leg.pnl(k)?.to_bits()).ok_or(RiskError::Overflow)?;
            }
            let shock = sc.price_shock.to_bits();
            let lin = match last {
                _ if linear == 0 || shock == 0 => 0,
                Some((s, p)) if s == shock => p,
                _ => mul_any(linear, shock, true).ok_or(RiskError::Overflow)?,
            };
            last = Some((shock, lin));
            let pnl = lin.checked_add(opt).filter(|p| *p != i128::MIN).ok_or(RiskError::Overflow)?;
            let loss = -pnl;
            let weight = sc.weight.to_bits();
            let weighted = if weight == Fixed::ONE.to_bits() || loss <= 0 {
                loss
            } else if weight < Fixed::ONE.to_bits() && loss <= worst.loss.to_bits() {
                // ⌈loss·w⌉ ≤ loss for w ≤ 1: cannot beat the worst so far.
                return Ok(());
            } else {
                mul_any(loss, weight, false).ok_or(RiskError::Overflow)?
            };
            if weighted > worst.loss.to_bits() {
                worst = Worst { loss: Fixed::from_bits(weighted), scenario: Some(k) };
            }
            Ok(())
        };
        if option_pnl.is_empty() && extra.is_none() {
            let [lo, hi] = g.linear_extremes;
            consider(lo.min(hi))?;
            consider(lo.max(hi))?;
        } else {
            (0..scenarios.len()).try_for_each(&mut consider)?;
        }
        Ok(worst)
    }

    /// The worst loss's multiplier for `ht`: the grid's `shock_scale`, or
    /// `haircut / largest move` if larger, so a spot leg left unhedged is
    /// charged at least its bank's haircut (a token riskier than the grid
    /// assumes keeps its margin; a hedged book, whose loss is small in
    /// every scenario, keeps its netting).
    fn loss_scale(&self, p: &PortfolioParams, ht: HealthType) -> Fixed {
        p.shock_scale.get(ht).max(self.haircut_scale.get(ht))
    }

    /// The book's requirement for `ht` given its worst loss.
    pub(super) fn requirement(
        &self,
        worst: &Worst,
        p: &PortfolioParams,
        ht: HealthType,
    ) -> RiskResult<UnderlyingRequirement> {
        let contingency = self.exposure.checked_mul_ceil(p.floor_rate.get(ht))?;
        let scale = self.loss_scale(p, ht);
        let mut scenario = worst.loss.checked_mul_ceil(scale)?.checked_add(contingency)?;
        if let Some(v) = self.long_value {
            scenario = scenario.min(v);
        }
        let linear = self.linear.get(ht);
        Ok(UnderlyingRequirement {
            underlying: self.underlying,
            requirement: scenario.min(linear),
            scenario,
            linear,
            worst_loss: worst.loss,
            worst_scenario: worst.scenario,
            contingency,
        })
    }
}

/// Every book of a cache, with linear charges for `types`, handed to `f`
/// one at a time in order of first appearance (netted tokens, then
/// derivatives). Built one after the other in one P&L buffer: on-chain the
/// heap never frees, and all books at once of an account of 16 + 16
/// positions with options would not fit beside its cache.
pub(super) fn for_each_book(
    cache: &HealthCache,
    g: &PreparedGrid,
    arrays: &[(u16, RiskArray)],
    types: &[HealthType],
    mut f: impl FnMut(&Book) -> RiskResult<()>,
) -> RiskResult<()> {
    let (tokens, derivatives) = (cache.tokens(), cache.derivatives());
    let mut ids: Vec<u16> = Vec::with_capacity(tokens.len() + derivatives.len());
    for u in tokens.iter().filter_map(|t| t.underlying).chain(derivatives.iter().map(|d| d.underlying)) {
        if !ids.contains(&u) {
            ids.push(u);
        }
    }
    let mut buffer = Vec::new();
    for u in ids {
        let mut b = Book { legs: Legs::new(u), option_pnl: core::mem::take(&mut buffer) };
        b.option_pnl.clear();
        for t in tokens.iter().filter(|t| t.underlying == Some(u)) {
            let charge = per_type(types, |ht| t.unweighted_value(ht)?.checked_sub(t.contribution(ht)?))?;
            b.legs.add_linear(t.balance, t.prices.oracle, charge)?;
            b.legs.add_haircut_scale(token_haircut_scale(t, g, &HealthType::ALL)?);
        }
        for d in derivatives.iter().filter(|d| d.underlying == u) {
            add_derivative(&mut b, d, g, arrays, types)?;
        }
        f(&b)?;
        buffer = b.option_pnl;
    }
    Ok(())
}

/// Folds a derivative position into its book (an option with its array
/// from `arrays`, else computed now).
fn add_derivative(
    b: &mut Book,
    d: &DerivativeInfo,
    g: &PreparedGrid,
    arrays: &[(u16, RiskArray)],
    types: &[HealthType],
) -> RiskResult<()> {
    let grid = &g.grid;
    let charge = per_type(types, |ht| d.requirement(ht))?;
    let given = arrays.iter().find(|(m, _)| *m == d.market_index).map(|(_, a)| a);
    let mut computed = None;
    match leg_array(d, given, grid, &mut computed)? {
        Some(a) => b.add_option(d, a, grid.len(), charge),
        None => b.legs.add_linear(d.base, d.prices.oracle, charge),
    }
}

/// The risk array an option position is valued from: `given` (the stored
/// one), else computed now from its terms into `computed` (host path);
/// refused unless it is on `grid`. `None` for a perpetual or a future.
pub(super) fn leg_array<'a>(
    d: &DerivativeInfo,
    given: Option<&'a RiskArray>,
    grid: &RiskGrid,
    computed: &'a mut Option<RiskArray>,
) -> RiskResult<Option<&'a RiskArray>> {
    if !matches!(d.kind, DerivativeKind::Option(_)) {
        return Ok(None);
    }
    let a = match given {
        Some(a) => a,
        None => &*computed.insert(super::option_risk_array(d, grid)?.ok_or(RiskError::Domain)?),
    };
    if a.grid_id != grid.id() || usize::from(a.scenario_count) != grid.len() {
        return Err(RiskError::InvalidParameter);
    }
    Ok(Some(a))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The scan as first written (every product through `Fixed`, every
    /// scenario weighed): the reference [`Legs::worst`] must equal.
    fn reference(legs: &Legs, g: &PreparedGrid, pnl: &[Fixed]) -> (Fixed, Option<usize>) {
        let mut worst = (Fixed::ZERO, None);
        let scenarios = g.grid.scenarios();
        let all: Vec<usize> = if pnl.is_empty() {
            let [lo, hi] = g.linear_extremes;
            vec![lo.min(hi), lo.max(hi)]
        } else {
            (0..scenarios.len()).collect()
        };
        for k in all {
            let sc = &scenarios[k];
            let opt = pnl.get(k).copied().unwrap_or(Fixed::ZERO);
            let p = legs.linear_notional.checked_mul_floor(sc.price_shock).unwrap().checked_add(opt).unwrap();
            let loss = p.checked_neg().unwrap();
            let w = if sc.weight == Fixed::ONE || !loss.is_positive() {
                loss
            } else {
                loss.checked_mul_ceil(sc.weight).unwrap()
            };
            if w > worst.0 {
                worst = (w, Some(k));
            }
        }
        worst
    }

    /// An array with the given per-contract changes (2^-16 quote native).
    fn array_with(changes: &[i64]) -> RiskArray {
        let mut c = [0i64; crate::options::risk_array::RISK_ARRAY_SCENARIOS];
        c[..changes.len()].copy_from_slice(changes);
        RiskArray {
            computed_at: 0,
            grid_id: 0,
            scenario_count: changes.len() as u16,
            format: crate::options::risk_array::ARRAY_FORMAT,
            spot: Fixed::ONE,
            vol: Fixed::ZERO,
            value: Fixed::ZERO,
            delta: Fixed::ZERO,
            gamma: Fixed::ZERO,
            vega: Fixed::ZERO,
            theta: Fixed::ZERO,
            changes: c,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// The health path's integer products (whole contracts, within
        /// 2^63) and its general path are the reference's sums bit for bit,
        /// for whole and fractional counts, small and huge.
        #[test]
        fn option_pnl_is_the_reference(
            contracts in prop_oneof![-(1i128 << 40)..(1i128 << 40), -(1i128 << 100)..(1i128 << 100)],
            whole in any::<bool>(),
            changes in prop::collection::vec(prop_oneof![-(1i64 << 20)..(1i64 << 20), any::<i64>().prop_map(|c| c / 2)], 1..30),
        ) {
            let bits = if whole { (contracts >> 48) << 48 } else { contracts };
            let n = Fixed::from_bits(bits);
            let a = array_with(&changes);
            let mut want = vec![Fixed::ZERO; changes.len()];
            let want = a.add_position_pnl(n, &mut want).map(|_| want);
            let mut got = vec![Fixed::ZERO; changes.len()];
            let got = add_position_pnl(&a, n, &mut got).map(|_| got);
            prop_assert_eq!(&got, &want);
            if let Ok(want) = want {
                let leg = OptionLeg::new(&a, n).unwrap();
                for (k, w) in want.iter().enumerate() {
                    prop_assert_eq!(leg.pnl(k).unwrap(), *w);
                }
            }
        }

        /// The scan's shortcuts (a shock's product reused, a weighed loss
        /// skipped when it cannot win, 2×64-bit products) change nothing.
        #[test]
        fn the_scan_is_the_reference(
            linear in -(1i128 << 100)..(1i128 << 100),
            pnl in prop::collection::vec(-(1i128 << 100)..(1i128 << 100), 0..2),
            scale in 0u32..80,
        ) {
            let g = PreparedGrid::new(&super::super::tests::params()).unwrap();
            let mut legs = Legs::new(1);
            legs.linear_notional = Fixed::from_bits(linear >> scale);
            let n = g.grid.len();
            let pnl: Vec<Fixed> = if pnl.is_empty() {
                Vec::new()
            } else {
                (0..n).map(|k| Fixed::from_bits((pnl[0] >> scale) / (k as i128 + 1) + pnl.get(1).copied().unwrap_or(0) % (1 << 60))).collect()
            };
            let w = legs.worst(&g, &pnl, None).unwrap();
            prop_assert_eq!((w.loss, w.scenario), reference(&legs, &g, &pnl));
        }
    }
}
