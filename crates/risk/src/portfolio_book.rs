//! The netted book of one underlying ([`super`]): built in one pass over the
//! positions for the health types asked, its worst scenario loss found once
//! (the scenario P&L does not depend on the health type), then charged per
//! type.

use super::{PortfolioParams, PreparedGrid, UnderlyingRequirement};
use crate::error::{RiskError, RiskResult};
use crate::fixed::Fixed;
use crate::health::{DerivativeInfo, DerivativeKind, HealthCache, HealthType, PerType, TokenInfo};
use crate::options::risk_array::RiskArray;
use alloc::vec;
use alloc::vec::Vec;

/// The netted book of one underlying.
pub(super) struct Book {
    underlying: u16,
    /// Σ qty·S of spot, perps and futures (signed).
    linear_notional: Fixed,
    /// Σ option P&L per scenario (empty while the book has no option: it
    /// is then evaluated at [`PreparedGrid`]'s two extreme scenarios).
    option_pnl: Vec<Fixed>,
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
    /// ([`Book::requirement`]).
    haircut_scale: PerType<Fixed>,
}

/// The worst weighted scenario loss of a book (≥ 0) and its index.
pub(super) struct Worst {
    loss: Fixed,
    scenario: Option<usize>,
}

/// `f(ht)` for each health type in `types`, 0 for the others.
fn per_type(types: &[HealthType], f: impl Fn(HealthType) -> RiskResult<Fixed>) -> RiskResult<PerType<Fixed>> {
    let mut v = PerType::splat(Fixed::ZERO);
    for ht in types {
        v.set(*ht, f(*ht)?);
    }
    Ok(v)
}

impl Book {
    fn new(underlying: u16) -> Book {
        Book {
            underlying,
            linear_notional: Fixed::ZERO,
            option_pnl: Vec::new(),
            exposure: Fixed::ZERO,
            linear: PerType::splat(Fixed::ZERO),
            long_value: Some(Fixed::ZERO),
            haircut_scale: PerType::splat(Fixed::ZERO),
        }
    }

    fn add_haircut(&mut self, t: &TokenInfo, g: &PreparedGrid) -> RiskResult<()> {
        for ht in HealthType::ALL {
            let w = t.weights();
            let cut = if t.balance.is_negative() {
                w.liab(ht).checked_sub(Fixed::ONE)?
            } else {
                Fixed::ONE.checked_sub(w.asset(ht))?
            };
            if cut > g.haircut_covered.get(ht) {
                let scale = cut.checked_mul_ceil(g.inv_widest)?;
                self.haircut_scale.set(ht, self.haircut_scale.get(ht).max(scale));
            }
        }
        Ok(())
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

    fn add_linear(&mut self, qty: Fixed, spot: Fixed, charge: PerType<Fixed>) -> RiskResult<()> {
        self.linear_notional = self.linear_notional.checked_add(qty.checked_mul_floor(spot)?)?;
        self.exposure = self.exposure.checked_add(qty.checked_abs()?.checked_mul_ceil(spot)?)?;
        self.add_charges(charge)?;
        self.add_leg(qty, spot)
    }

    fn add_option(
        &mut self,
        d: &DerivativeInfo,
        a: &RiskArray,
        scenarios: usize,
        charge: PerType<Fixed>,
    ) -> RiskResult<()> {
        if self.option_pnl.is_empty() {
            self.option_pnl = vec![Fixed::ZERO; scenarios];
        }
        a.add_position_pnl(d.base, &mut self.option_pnl)?;
        let mut delta = a.delta.checked_abs()?;
        if d.base.is_negative() {
            delta = delta.max(d.rates.short_option_min_delta);
        }
        let notional = d.base.checked_abs()?.checked_mul_ceil(a.spot)?;
        self.exposure = self.exposure.checked_add(notional.checked_mul_ceil(delta)?)?;
        self.add_charges(charge)?;
        self.add_leg(d.base, a.value)
    }

    /// The worst weighted loss over the grid: every scenario if the book
    /// holds an option, else the two where a linear book loses most.
    pub(super) fn worst(&self, g: &PreparedGrid) -> RiskResult<Worst> {
        let mut worst = Worst { loss: Fixed::ZERO, scenario: None };
        let scenarios = g.grid.scenarios();
        let mut consider = |k: usize| -> RiskResult<()> {
            let Some(sc) = scenarios.get(k) else { return Ok(()) };
            let opt = self.option_pnl.get(k).copied().unwrap_or(Fixed::ZERO);
            let pnl = self.linear_notional.checked_mul_floor(sc.price_shock)?.checked_add(opt)?;
            let loss = pnl.checked_neg()?;
            let weighted = if sc.weight == Fixed::ONE || !loss.is_positive() {
                loss
            } else {
                loss.checked_mul_ceil(sc.weight)?
            };
            if weighted > worst.loss {
                worst = Worst { loss: weighted, scenario: Some(k) };
            }
            Ok(())
        };
        if self.option_pnl.is_empty() {
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

/// Every book of a cache, with linear charges for `types`.
pub(super) fn build_books(
    cache: &HealthCache,
    g: &PreparedGrid,
    arrays: &[(u16, RiskArray)],
    types: &[HealthType],
) -> RiskResult<Vec<Book>> {
    let grid = &g.grid;
    let mut books: Vec<Book> = Vec::with_capacity(cache.derivatives().len() + 1);
    fn book(books: &mut Vec<Book>, u: u16) -> RiskResult<&mut Book> {
        let i = match books.iter().position(|b| b.underlying == u) {
            Some(i) => i,
            None => {
                books.push(Book::new(u));
                books.len() - 1
            }
        };
        books.get_mut(i).ok_or(RiskError::CapacityExceeded)
    }
    for t in cache.tokens() {
        if let Some(u) = t.underlying {
            let charge = per_type(types, |ht| t.unweighted_value(ht)?.checked_sub(t.contribution(ht)?))?;
            let b = book(&mut books, u)?;
            b.add_linear(t.balance, t.prices.oracle, charge)?;
            b.add_haircut(t, g)?;
        }
    }
    for d in cache.derivatives() {
        let charge = per_type(types, |ht| d.requirement(ht))?;
        let b = book(&mut books, d.underlying)?;
        match d.kind {
            DerivativeKind::Option(_) => {
                let computed;
                let a = match arrays.iter().find(|(m, _)| *m == d.market_index) {
                    Some((_, a)) => a,
                    None => {
                        computed = super::option_risk_array(d, grid)?.ok_or(RiskError::Domain)?;
                        &computed
                    }
                };
                if a.grid_id != grid.id() || usize::from(a.scenario_count) != grid.len() {
                    return Err(RiskError::InvalidParameter);
                }
                b.add_option(d, a, grid.len(), charge)?;
            }
            _ => b.add_linear(d.base, d.prices.oracle, charge)?,
        }
    }
    Ok(books)
}
