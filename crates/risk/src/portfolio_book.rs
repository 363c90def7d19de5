//! The netted book of one underlying ([`super`]): built in one pass over the
//! positions for the health types asked, its worst scenario loss found once
//! (the scenario P&L does not depend on the health type), then charged per
//! type.

use super::scan::{self, contracts, OptionLeg, ScenarioPnl, Worst};
use super::{PortfolioParams, PreparedGrid, UnderlyingRequirement};
use crate::error::{RiskError, RiskResult};
use crate::fixed::Fixed;
use crate::health::{DerivativeInfo, DerivativeKind, HealthCache, HealthType, PerType, TokenInfo};
use crate::options::risk_array::{ArrayView, RiskArray, RiskGrid};
use alloc::vec::Vec;

/// The netted book of one underlying: its legs' sums and, once it holds
/// an option, the options' P&L per scenario.
pub(super) struct Book {
    pub(super) legs: Legs,
    /// Σ option P&L per scenario (empty while the book has no option: it
    /// is then evaluated at [`PreparedGrid`]'s two extreme scenarios).
    pub(super) option_pnl: ScenarioPnl,
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
        Book { legs: Legs::new(underlying), option_pnl: ScenarioPnl::default() }
    }

    /// An option position of `base` underlying units: its scenario P&L and
    /// its terms.
    pub(super) fn add_option(
        &mut self,
        base: Fixed,
        o: &OptionLegInput,
        scenarios: usize,
        charge: PerType<Fixed>,
    ) -> RiskResult<()> {
        self.option_pnl.add(&o.array, o.contracts, scenarios)?;
        self.legs.add_option_terms(base, o, charge)
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

    /// [`Book::requirement`]'s charged amount alone.
    pub(super) fn charged(&self, worst: &Worst, p: &PortfolioParams, ht: HealthType) -> RiskResult<Fixed> {
        self.legs.charged(worst, p, ht)
    }
}

/// What an option position brings to its book besides its base: its
/// array (read in place on-chain), its contract count and the short
/// option's least |Δ| for the contingency.
#[derive(Clone, Copy, Debug)]
pub struct OptionLegInput<'a> {
    /// The risk array the position is valued from (checked on the grid).
    pub array: ArrayView<'a>,
    /// Signed contracts (`base / contract_size`; whole on-chain).
    pub contracts: Fixed,
    /// `MarginRates::short_option_min_delta`.
    pub min_delta: Fixed,
    /// A long's per-unit value at the oracle by the tangent
    /// (`DerivativeInfo::option_long_value_at_oracle`): what a book of longs
    /// caps its requirement at. Every health type counts a long at most
    /// this (its price is at or below the oracle's for a call, at or above
    /// for a put), so the cap never undercharges. 0 for a short or closed
    /// position (unused: only a long adds value to the cap).
    pub oracle_value: Fixed,
}

impl<'a> OptionLegInput<'a> {
    /// The option leg of a valued position `d` with array `a`.
    pub(super) fn of(d: &DerivativeInfo, a: &'a RiskArray) -> RiskResult<OptionLegInput<'a>> {
        Ok(OptionLegInput {
            array: a.view(),
            contracts: contracts(d)?,
            min_delta: d.rates.short_option_min_delta,
            oracle_value: if d.base.is_positive() {
                d.option_long_value_at_oracle()?.ok_or(RiskError::InvalidParameter)?
            } else {
                Fixed::ZERO
            },
        })
    }
}

/// A spot leg's haircut for `ht`: `1 − asset weight` of a deposit,
/// `liability weight − 1` of a borrow.
pub(super) fn token_haircut(t: &TokenInfo, ht: HealthType) -> RiskResult<Fixed> {
    let w = t.weights();
    if t.balance.is_negative() {
        w.liab(ht).checked_sub(Fixed::ONE)
    } else {
        Fixed::ONE.checked_sub(w.asset(ht))
    }
}

/// The loss scale a spot leg's `haircut` needs for `ht` (0 where the
/// grid's scaled largest move covers it): see [`Legs::haircut_scale`].
pub(super) fn haircut_scale(haircut: Fixed, g: &PreparedGrid, ht: HealthType) -> RiskResult<Fixed> {
    if haircut > g.haircut_covered.get(ht) {
        // `haircut · ⌈1 / widest⌉`, rounded up (a token riskier than the grid).
        haircut.checked_mul_ceil(g.inverse_widest)
    } else {
        Ok(Fixed::ZERO)
    }
}

/// The haircut scale per health type of a spot leg of `t` ([`haircut_scale`]).
pub(super) fn token_haircut_scale(
    t: &TokenInfo,
    g: &PreparedGrid,
    types: &[HealthType],
) -> RiskResult<PerType<Fixed>> {
    per_type(types, |ht| haircut_scale(token_haircut(t, ht)?, g, ht))
}

/// `qty · price` rounded down and up: one exact product when `qty` is whole
/// (every on-chain balance of whole native units and every position).
fn mul_both(qty: Fixed, price: Fixed) -> RiskResult<(Fixed, Fixed)> {
    let bits = qty.to_bits();
    if bits & ((1i128 << crate::fixed::FRAC_BITS) - 1) == 0 {
        // One 64×64-bit product when the price's bits fit in 64 bits.
        if let Some(p) = scan::mul_shift(price.to_bits(), bits >> crate::fixed::FRAC_BITS, 0, false) {
            let p = Fixed::from_bits(p).checked_abs().map(|_| Fixed::from_bits(p))?;
            return Ok((p, p));
        }
    }
    qty.checked_mul_floor_ceil(price)
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
        let h = &mut self.haircut_scale;
        *h = PerType {
            init: h.init.max(scale.init),
            maint: h.maint.max(scale.maint),
            liq_end: h.liq_end.max(scale.liq_end),
        };
    }

    /// Field by field (no lookup by type: the stream's hot path).
    fn add_charges(&mut self, charge: PerType<Fixed>) -> RiskResult<()> {
        let l = &self.linear;
        self.linear = PerType {
            init: l.init.checked_add(charge.init)?,
            maint: l.maint.checked_add(charge.maint)?,
            liq_end: l.liq_end.checked_add(charge.liq_end)?,
        };
        Ok(())
    }

    /// A leg of `qty` worth `value_up` (rounded up) while every leg is long.
    fn add_leg(&mut self, qty: Fixed, value_up: Fixed) -> RiskResult<()> {
        if qty.is_negative() {
            self.long_value = None;
        } else if let Some(v) = self.long_value {
            self.long_value = Some(v.checked_add(value_up)?);
        }
        Ok(())
    }

    /// A spot, perpetual or future leg of `qty` at `spot`: `qty·spot` down in
    /// the net notional, `|qty·spot|` up in the exposure and the value.
    pub(super) fn add_linear(&mut self, qty: Fixed, spot: Fixed, charge: PerType<Fixed>) -> RiskResult<()> {
        let (down, up) = mul_both(qty, spot)?;
        self.linear_notional = self.linear_notional.checked_add(down)?;
        // |qty·spot| rounded up: up for a long, −down for a short.
        let magnitude = if qty.is_negative() { down.checked_neg()? } else { up };
        self.exposure = self.exposure.checked_add(magnitude)?;
        self.add_charges(charge)?;
        self.add_leg(qty, up)
    }

    /// An option leg's exposure, charge and value (its scenario P&L is the
    /// book's, [`Book::add_option`], or an [`OptionLeg`]).
    pub(super) fn add_option_terms(
        &mut self,
        base: Fixed,
        o: &OptionLegInput,
        charge: PerType<Fixed>,
    ) -> RiskResult<()> {
        let a = &o.array;
        let mut delta = a.delta.checked_abs()?;
        if base.is_negative() {
            delta = delta.max(o.min_delta);
        }
        let notional = mul_both(base.checked_abs()?, a.spot)?.1;
        self.exposure = self.exposure.checked_add(notional.checked_mul_ceil(delta)?)?;
        self.add_charges(charge)?;
        if base.is_negative() {
            self.add_leg(base, Fixed::ZERO)
        } else {
            self.add_leg(base, mul_both(base, o.oracle_value)?.1)
        }
    }

    /// The worst weighted loss over the grid, the options' P&L being
    /// `option_pnl` plus `extra`'s ([`scan::worst`]).
    pub(super) fn worst(
        &self,
        g: &PreparedGrid,
        option_pnl: &ScenarioPnl,
        extra: Option<OptionLeg>,
    ) -> RiskResult<Worst> {
        scan::worst(g, self.linear_notional, option_pnl, extra)
    }

    /// The worst loss's multiplier for `ht`: the grid's `shock_scale`, or
    /// `haircut / largest move` if larger, so a spot leg left unhedged is
    /// charged at least its bank's haircut (a token riskier than the grid
    /// assumes keeps its margin; a hedged book, whose loss is small in
    /// every scenario, keeps its netting).
    fn loss_scale(&self, p: &PortfolioParams, ht: HealthType) -> Fixed {
        p.shock_scale.get(ht).max(self.haircut_scale.get(ht))
    }

    /// The book's scenario requirement for `ht` given its worst loss (the
    /// loss scaled plus the contingency, at most a book of longs' value)
    /// and its contingency.
    fn scenario(&self, worst: &Worst, p: &PortfolioParams, ht: HealthType) -> RiskResult<(Fixed, Fixed)> {
        let contingency = self.exposure.checked_mul_ceil(p.floor_rate.get(ht))?;
        let scale = self.loss_scale(p, ht);
        let mut scenario = worst.loss.checked_mul_ceil(scale)?.checked_add(contingency)?;
        if let Some(v) = self.long_value {
            scenario = scenario.min(v);
        }
        Ok((scenario, contingency))
    }

    /// What the book is charged for `ht`: its scenario requirement, never
    /// more than linear mode's charges ([`Legs::requirement`]'s
    /// `requirement`, without building the rest).
    pub(super) fn charged(&self, worst: &Worst, p: &PortfolioParams, ht: HealthType) -> RiskResult<Fixed> {
        Ok(self.scenario(worst, p, ht)?.0.min(self.linear.get(ht)))
    }

    /// The book's requirement for `ht` given its worst loss.
    pub(super) fn requirement(
        &self,
        worst: &Worst,
        p: &PortfolioParams,
        ht: HealthType,
    ) -> RiskResult<UnderlyingRequirement> {
        let (scenario, contingency) = self.scenario(worst, p, ht)?;
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
///
/// With `before` given, adds to it the health before the books'
/// requirements for `types`: netted tokens at their unweighted value, other
/// tokens at their contribution, derivatives at their weighted PnL. Each of
/// these is a product or more, computed here once with the charges that
/// need it; callers that only want the requirements skip them.
pub(super) fn for_each_book(
    cache: &HealthCache,
    g: &PreparedGrid,
    arrays: &[(u16, RiskArray)],
    types: &[HealthType],
    mut before: Option<&mut PerType<Fixed>>,
    mut f: impl FnMut(&Book) -> RiskResult<()>,
) -> RiskResult<()> {
    let (tokens, derivatives) = (cache.tokens(), cache.derivatives());
    let counting = before.is_some();
    let mut add = |ht: HealthType, v: Fixed| -> RiskResult<()> {
        if let Some(b) = before.as_deref_mut() {
            b.set(ht, b.get(ht).checked_add(v)?);
        }
        Ok(())
    };
    let mut ids: Vec<u16> = Vec::with_capacity(tokens.len() + derivatives.len());
    for t in tokens {
        match t.underlying {
            Some(u) if !ids.contains(&u) => ids.push(u),
            Some(_) => {}
            None if counting => {
                for ht in types {
                    add(*ht, t.contribution(*ht)?)?;
                }
            }
            None => {}
        }
    }
    for u in derivatives.iter().map(|d| d.underlying) {
        if !ids.contains(&u) {
            ids.push(u);
        }
    }
    let mut buffer = ScenarioPnl::default();
    for u in ids {
        let mut b = Book { legs: Legs::new(u), option_pnl: core::mem::take(&mut buffer) };
        b.option_pnl.clear();
        for t in tokens.iter().filter(|t| t.underlying == Some(u)) {
            let mut charge = PerType::splat(Fixed::ZERO);
            // Maint and LiquidationEnd share their prices: one product for both.
            let mut last: Option<(Fixed, Fixed)> = None;
            for ht in types {
                let price = t.prices.for_exposure(*ht, !t.balance.is_negative());
                let unweighted = match last {
                    Some((p, v)) if p == price => v,
                    _ => t.unweighted_value(*ht)?,
                };
                last = Some((price, unweighted));
                charge.set(*ht, unweighted.checked_sub(t.contribution(*ht)?)?);
                add(*ht, unweighted)?;
            }
            b.legs.add_linear(t.balance, t.prices.oracle, charge)?;
            b.legs.add_haircut_scale(token_haircut_scale(t, g, &HealthType::ALL)?);
        }
        for d in derivatives.iter().filter(|d| d.underlying == u) {
            if counting {
                let pnl = d.weighted_pnls(types)?;
                for ht in types {
                    add(*ht, pnl.get(*ht))?;
                }
            }
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
        Some(a) => b.add_option(d.base, &OptionLegInput::of(d, a)?, grid.len(), charge),
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
