//! Portfolio margin: every position on the same underlying (spot balances,
//! borrows, perpetuals, futures, options) nets into one book, revalued in
//! full under every scenario of the group's grid ([`RiskGrid`]: one-day
//! time decay, price × vol shocks, extended moves at reduced weight).
//!
//! For one underlying, health type T, scenario k with weight `w_k` and
//! price shock `s_k`, the book's P&L is `P_k = Σ_linear qty·S·s_k +
//! Σ_options qty·S·r_k` (`r_k` from the option's risk array,
//! [`crate::options::risk_array`]), and
//!
//! ```text
//! worst    = max(0, max_k −P_k·w_k)
//! scenario = ⌈c_T · worst⌉ + f_T · Σ_legs |qty|·S·δ       δ = 1 for spot, perps, futures,
//!                                                         |Δ| for a long option,
//!                                                         max(|Δ|, min_delta) for a short one
//! scenario = min(scenario, Σ_legs value)                  only if every leg is long
//! linear   = Σ_legs linear charge                         (what linear mode charges them)
//! charged  = min(scenario, linear)
//! ```
//!
//! - `c_T` (`shock_scale`) scales the worst *loss*, not the shocks, so one
//!   risk array per market serves all three health types (Derive: Maint =
//!   0.8 × Init). For linear legs the two are the same.
//! - Contingencies (`floor_rate`, Derive's naked-short and perp-notional
//!   charges) are on *delta-adjusted* notional: a hedged option is not
//!   charged as if it were its full notional, and a short option, however
//!   far out of the money, is never free (`min_delta`, the market's
//!   `short_option_min_delta`).
//! - A book of long positions only (deposits, long perps and futures, long
//!   options) cannot lose more than it is worth: its requirement is capped
//!   at its value at the oracle. In particular a long option never requires
//!   more than its premium, whatever `c_T` and the floors.
//! - `charged ≤ linear`: portfolio mode only recognises offsets, it never
//!   charges a book more than linear mode would (linear mode is the default,
//!   complete margin method), so opting in can never lower health.
//!
//! Portfolio health replaces the linear haircuts of netted positions:
//! netted tokens count at their unweighted biased value, derivatives at
//! their weighted PnL ([`crate::health::PnlLimits`]: netting changes how
//! risk is charged, not whether an unsettled profit is cash), and each
//! underlying subtracts its charged requirement. Tokens with no underlying
//! id (the quote token, collateral with no markets) keep their linear
//! weights. Hence, term by term, portfolio health ≥ linear health.
//!
//! `worst + contingency` is subadditive (a max of sums is at most the sum
//! of maxes), so a hedged book pays little more than the contingencies. The
//! caps (long-only value, linear) are not: two accounts can each be capped
//! where their union is not, which only ever means charging the union at its
//! scenario requirement.
//!
//! Cost per health type: an option position `1 + |grid|` multiplies (its
//! risk array, [`crate::options::risk_array::RiskArray::add_position_pnl`])
//! plus 4; a spot, perp or future leg 4; an underlying `|grid| + 8 + 2`.
//! The host computes an option's array from its terms when none is given
//! ([`option_risk_array`]); the program passes the stored arrays.

use crate::error::{RiskError, RiskResult};
use crate::fixed::Fixed;
use crate::health::{DerivativeInfo, DerivativeKind, HealthCache, HealthType, PerType};
use crate::options::risk_array::{compute_risk_array, OptionSpec, RiskArray, RiskGrid};
use alloc::vec;
use alloc::vec::Vec;

/// Most price shocks in a grid.
pub const MAX_PRICE_SHOCKS: usize = 16;
/// Most vol shocks in a grid.
pub const MAX_VOL_SHOCKS: usize = 8;

/// Scenario grid, loss scale and contingencies (set per group by the admin).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortfolioParams {
    /// Relative price moves, e.g. `[−0.15, −0.075, 0, 0.075, 0.15]` (each > −1).
    pub price_shocks: Vec<Fixed>,
    /// Absolute vol moves at the 30-day tenor, e.g. `[−0.1, 0, 0.1]`
    /// (scaled by `√(30 d / T)` per option; empty: vol flat).
    pub vol_shocks: Vec<Fixed>,
    /// Multiplier of the worst scenario loss per health type (e.g. Init
    /// 1.5, Maint 1.0, LiquidationEnd 1.25).
    pub shock_scale: PerType<Fixed>,
    /// Contingency per position as a fraction of its delta-adjusted
    /// |notional| (e.g. Init 0.02, Maint 0.01, LiquidationEnd 0.015).
    pub floor_rate: PerType<Fixed>,
}

impl PortfolioParams {
    /// Grid sizes within the caps and the risk-array capacity, non-empty,
    /// shocks > −100 %, scales ≥ 0 ordered Init ≥ LiquidationEnd ≥ Maint,
    /// floors likewise.
    pub fn validate(&self) -> RiskResult<()> {
        let ordered =
            |a: &PerType<Fixed>| !a.maint.is_negative() && a.maint <= a.liq_end && a.liq_end <= a.init;
        let ok = !self.price_shocks.is_empty()
            && self.price_shocks.len() <= MAX_PRICE_SHOCKS
            && self.vol_shocks.len() <= MAX_VOL_SHOCKS
            && ordered(&self.shock_scale)
            && ordered(&self.floor_rate)
            && self.grid().is_ok();
        if ok {
            Ok(())
        } else {
            Err(RiskError::InvalidParameter)
        }
    }

    /// The scenario list risk arrays are computed on.
    pub fn grid(&self) -> RiskResult<RiskGrid> {
        RiskGrid::new(&self.price_shocks, &self.vol_shocks)
    }
}

/// One underlying's requirement and why (what `compute_health` reports in
/// portfolio mode). Amounts in quote native, rounded up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnderlyingRequirement {
    /// Underlying id.
    pub underlying: u16,
    /// Requirement charged: `min(scenario, linear)`.
    pub requirement: Fixed,
    /// Scenario requirement: scaled worst loss + contingency (capped at the
    /// book's value if every leg is long).
    pub scenario: Fixed,
    /// What linear mode charges the same legs.
    pub linear: Fixed,
    /// Weighted loss of the worst scenario before the health-type scale (≥ 0).
    pub worst_loss: Fixed,
    /// Index of the worst scenario in the grid (`None`: no scenario loses).
    pub worst_scenario: Option<usize>,
    /// Contingency part of `scenario`.
    pub contingency: Fixed,
}

/// The netted book of one underlying while it is being built.
struct Book {
    underlying: u16,
    /// Σ qty·S of spot, perps and futures (signed).
    linear_notional: Fixed,
    /// Σ option P&L per scenario.
    option_pnl: Vec<Fixed>,
    /// Σ delta-adjusted |notional|.
    exposure: Fixed,
    /// Σ linear charges.
    linear: Fixed,
    /// Σ values while every leg is long; `None` once a leg is short.
    long_value: Option<Fixed>,
}

impl Book {
    fn add_leg(&mut self, qty: Fixed, unit_value: Fixed) -> RiskResult<()> {
        if qty.is_negative() {
            self.long_value = None;
        } else if let Some(v) = self.long_value {
            self.long_value = Some(v.checked_add(qty.checked_mul_ceil(unit_value)?)?);
        }
        Ok(())
    }

    fn add_linear(&mut self, qty: Fixed, spot: Fixed, linear_charge: Fixed) -> RiskResult<()> {
        self.linear_notional = self.linear_notional.checked_add(qty.checked_mul_floor(spot)?)?;
        self.exposure = self.exposure.checked_add(qty.checked_abs()?.checked_mul_ceil(spot)?)?;
        self.linear = self.linear.checked_add(linear_charge)?;
        self.add_leg(qty, spot)
    }

    fn add_option(&mut self, d: &DerivativeInfo, a: &RiskArray, ht: HealthType) -> RiskResult<()> {
        a.add_position_pnl(d.base, &mut self.option_pnl)?;
        let mut delta = a.delta.checked_abs()?;
        if d.base.is_negative() {
            delta = delta.max(d.rates.short_option_min_delta);
        }
        let notional = d.base.checked_abs()?.checked_mul_ceil(a.spot)?;
        self.exposure = self.exposure.checked_add(notional.checked_mul_ceil(delta)?)?;
        self.linear = self.linear.checked_add(d.requirement(ht)?)?;
        self.add_leg(d.base, a.value)
    }

    fn finish(
        &self,
        grid: &RiskGrid,
        p: &PortfolioParams,
        ht: HealthType,
    ) -> RiskResult<UnderlyingRequirement> {
        let mut worst = Fixed::ZERO;
        let mut worst_scenario = None;
        for (k, (sc, opt)) in grid.scenarios().iter().zip(self.option_pnl.iter()).enumerate() {
            let pnl = self.linear_notional.checked_mul_floor(sc.price_shock)?.checked_add(*opt)?;
            let loss = pnl.checked_neg()?;
            let weighted = if sc.weight == Fixed::ONE || !loss.is_positive() {
                loss
            } else {
                loss.checked_mul_ceil(sc.weight)?
            };
            if weighted > worst {
                worst = weighted;
                worst_scenario = Some(k);
            }
        }
        let contingency = self.exposure.checked_mul_ceil(p.floor_rate.get(ht))?;
        let mut scenario = worst.checked_mul_ceil(p.shock_scale.get(ht))?.checked_add(contingency)?;
        if let Some(v) = self.long_value {
            scenario = scenario.min(v);
        }
        Ok(UnderlyingRequirement {
            underlying: self.underlying,
            requirement: scenario.min(self.linear),
            scenario,
            linear: self.linear,
            worst_loss: worst,
            worst_scenario,
            contingency,
        })
    }
}

/// The risk array of an option position computed now from its terms at the
/// oracle (host path: keeper, CLI, tests); `None` for perps and futures.
pub fn option_risk_array(d: &DerivativeInfo, grid: &RiskGrid) -> RiskResult<Option<RiskArray>> {
    let DerivativeKind::Option(t) = d.kind else { return Ok(None) };
    let spec =
        OptionSpec { is_call: t.is_call, strike: t.strike, expiry_ts: t.seconds_to_expiry, rate: t.rate };
    compute_risk_array(&spec, d.prices.oracle, t.vol, 0, grid).map(Some)
}

/// Per-underlying requirements of a cache for `ht`. `arrays` gives the risk
/// array of option markets by market index (the program's stored arrays,
/// checked fresh by the caller); an option without one gets an array
/// computed now ([`option_risk_array`]). An array from another grid is
/// refused with [`RiskError::InvalidParameter`].
pub fn underlying_requirements(
    cache: &HealthCache,
    p: &PortfolioParams,
    ht: HealthType,
    arrays: &[(u16, RiskArray)],
) -> RiskResult<Vec<UnderlyingRequirement>> {
    let grid = p.grid()?;
    let mut books: Vec<Book> = Vec::with_capacity(cache.derivatives().len() + 1);
    fn book(books: &mut Vec<Book>, u: u16, n: usize) -> RiskResult<&mut Book> {
        let i = match books.iter().position(|b| b.underlying == u) {
            Some(i) => i,
            None => {
                books.push(Book {
                    underlying: u,
                    linear_notional: Fixed::ZERO,
                    option_pnl: vec![Fixed::ZERO; n],
                    exposure: Fixed::ZERO,
                    linear: Fixed::ZERO,
                    long_value: Some(Fixed::ZERO),
                });
                books.len() - 1
            }
        };
        books.get_mut(i).ok_or(RiskError::CapacityExceeded)
    }
    for t in cache.tokens() {
        if let Some(u) = t.underlying {
            let charge = t.unweighted_value(ht)?.checked_sub(t.contribution(ht)?)?;
            book(&mut books, u, grid.len())?.add_linear(t.balance, t.prices.oracle, charge)?;
        }
    }
    for d in cache.derivatives() {
        let b = book(&mut books, d.underlying, grid.len())?;
        match d.kind {
            DerivativeKind::Option(_) => {
                let given = arrays.iter().find(|(m, _)| *m == d.market_index).map(|(_, a)| *a);
                let a = match given {
                    Some(a) => a,
                    None => option_risk_array(d, &grid)?.ok_or(RiskError::Domain)?,
                };
                if a.grid_id != grid.id() || usize::from(a.scenario_count) != grid.len() {
                    return Err(RiskError::InvalidParameter);
                }
                b.add_option(d, &a, ht)?;
            }
            _ => b.add_linear(d.base, d.prices.oracle, d.requirement(ht)?)?,
        }
    }
    books.iter().map(|b| b.finish(&grid, p, ht)).collect()
}

/// Total charged portfolio requirement of a cache for `ht` (option arrays
/// computed now).
pub fn portfolio_requirement(cache: &HealthCache, p: &PortfolioParams, ht: HealthType) -> RiskResult<Fixed> {
    sum_requirements(&underlying_requirements(cache, p, ht, &[])?)
}

fn sum_requirements(reqs: &[UnderlyingRequirement]) -> RiskResult<Fixed> {
    reqs.iter().try_fold(Fixed::ZERO, |s, r| s.checked_add(r.requirement))
}

/// Portfolio-mode health (see module docs), option arrays computed now.
pub fn portfolio_health(cache: &HealthCache, p: &PortfolioParams, ht: HealthType) -> RiskResult<Fixed> {
    portfolio_health_with_arrays(cache, p, ht, &[])
}

/// Portfolio-mode health with the given option risk arrays (by market index).
pub fn portfolio_health_with_arrays(
    cache: &HealthCache,
    p: &PortfolioParams,
    ht: HealthType,
    arrays: &[(u16, RiskArray)],
) -> RiskResult<Fixed> {
    let mut h = Fixed::ZERO;
    for t in cache.tokens() {
        let c = match t.underlying {
            Some(_) => t.unweighted_value(ht)?,
            None => t.contribution(ht)?,
        };
        h = h.checked_add(c)?;
    }
    for d in cache.derivatives() {
        h = h.checked_add(d.weighted_pnl(ht)?)?;
    }
    h.checked_sub(sum_requirements(&underlying_requirements(cache, p, ht, arrays)?)?)
}

#[cfg(test)]
#[path = "portfolio_tests.rs"]
mod tests;
