//! Portfolio margin: net every position on the same underlying into one
//! delta / gamma / vega exposure and charge the worst loss over a grid of
//! price and volatility shocks, plus a small floor per position.
//!
//! For an underlying with spot `S` (oracle), net Greeks `Δ, Γ, ν` (summed
//! over spot balances, perps, futures and options, each scaled by its signed
//! quantity) and a health type with scale `c_T`:
//!
//! ```text
//! dS = c_T · shock_i · S,  dσ = c_T · vol_shock_j
//! loss(i, j) = −(Δ·dS + ½·Γ·dS² + ν·dσ)                 (Taylor expansion)
//! requirement_T = max(0, max_ij loss(i, j)) + floor_T · Σ |notional_k|
//! ```
//!
//! The Taylor loss is a sum of a price part and a vol part, so the grid
//! maximum separates: `max_ij = max_i P(i) + max_j V(j)` and a grid of
//! `n` price and `m` vol shocks costs `4n + m` multiplies per underlying,
//! not `4nm`.
//!
//! Portfolio health replaces the linear haircuts of netted positions:
//! netted tokens count at their unweighted biased value, derivatives at
//! their PnL without linear margin, and each underlying subtracts its
//! requirement. Positive derivative PnL keeps its weight and Init cap
//! ([`crate::health::PnlLimits`]) here too: netting changes how risk is
//! charged, not whether an unsettled profit is cash. (The scenario losses
//! are charged in full, which over-charges a position whose profit counts
//! at a weight below 1: conservative.) Tokens with no underlying id (the quote token, collateral
//! with no markets) keep their linear weights. Since `max` is subadditive,
//! the requirement of a book is never more than the sum of the requirements
//! of its legs, and a delta-hedged book pays little more than the floors.

use crate::error::{RiskError, RiskResult};
use crate::fixed::{Fixed, Rounding};
use crate::health::{DerivativeKind, HealthCache, HealthType, PerType};
use alloc::vec::Vec;

/// Most price shocks in a grid.
pub const MAX_PRICE_SHOCKS: usize = 16;
/// Most vol shocks in a grid.
pub const MAX_VOL_SHOCKS: usize = 8;

/// Scenario grid and floors (set per group by the admin).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortfolioParams {
    /// Relative price moves, e.g. `[−0.15, −0.075, 0, 0.075, 0.15]`.
    pub price_shocks: Vec<Fixed>,
    /// Absolute vol moves, e.g. `[−0.1, 0, 0.1]`.
    pub vol_shocks: Vec<Fixed>,
    /// Shock multiplier per health type (e.g. Init 1.5, Maint 1.0,
    /// LiquidationEnd 1.25).
    pub shock_scale: PerType<Fixed>,
    /// Floor requirement per position as a fraction of its |notional|
    /// (e.g. Init 0.02, Maint 0.01, LiquidationEnd 0.015).
    pub floor_rate: PerType<Fixed>,
}

impl PortfolioParams {
    /// Grid sizes within the caps, non-empty, scales ≥ 0 ordered
    /// Init ≥ LiquidationEnd ≥ Maint, floors likewise.
    pub fn validate(&self) -> RiskResult<()> {
        let ordered =
            |a: &PerType<Fixed>| !a.maint.is_negative() && a.maint <= a.liq_end && a.liq_end <= a.init;
        let ok = !self.price_shocks.is_empty()
            && self.price_shocks.len() <= MAX_PRICE_SHOCKS
            && self.vol_shocks.len() <= MAX_VOL_SHOCKS
            && ordered(&self.shock_scale)
            && ordered(&self.floor_rate);
        if ok {
            Ok(())
        } else {
            Err(RiskError::InvalidParameter)
        }
    }
}

/// Net exposure of one underlying.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exposure {
    /// Underlying id.
    pub underlying: u16,
    /// Reference spot price (oracle), quote native per native unit.
    pub spot: Fixed,
    /// Σ quantity · Δ (native units of underlying).
    pub delta: Fixed,
    /// Σ quantity · Γ.
    pub gamma: Fixed,
    /// Σ quantity · vega (quote native per 1.00 vol).
    pub vega: Fixed,
    /// Σ |notional| (quote native) for the floor.
    pub gross_notional: Fixed,
}

impl Exposure {
    /// An empty exposure on `underlying` at `spot`.
    pub fn new(underlying: u16, spot: Fixed) -> Exposure {
        Exposure {
            underlying,
            spot,
            delta: Fixed::ZERO,
            gamma: Fixed::ZERO,
            vega: Fixed::ZERO,
            gross_notional: Fixed::ZERO,
        }
    }

    /// Adds `qty` units of an instrument with per-unit Greeks and notional.
    pub fn add(
        &mut self,
        qty: Fixed,
        delta: Fixed,
        gamma: Fixed,
        vega: Fixed,
        notional: Fixed,
    ) -> RiskResult<()> {
        self.delta = self.delta.checked_add(qty.checked_mul_floor(delta)?)?;
        if !gamma.is_zero() {
            self.gamma = self.gamma.checked_add(qty.checked_mul_floor(gamma)?)?;
        }
        if !vega.is_zero() {
            self.vega = self.vega.checked_add(qty.checked_mul_floor(vega)?)?;
        }
        self.gross_notional = self.gross_notional.checked_add(notional)?;
        Ok(())
    }
}

/// Requirement of one exposure for `ht` (quote native, rounded up, ≥ 0).
/// Multiplies: `5·|price_shocks| + |vol_shocks| + 3` with options on the
/// underlying; `6 + 2` for a linear-only (no gamma, no vega) exposure.
pub fn exposure_requirement(e: &Exposure, p: &PortfolioParams, ht: HealthType) -> RiskResult<Fixed> {
    let c = p.shock_scale.get(ht);
    let neg_delta = e.delta.checked_neg()?;
    let neg_half_gamma = e.gamma.checked_mul_floor(Fixed::HALF)?.checked_neg()?;
    let mut worst_price = Fixed::ZERO; // the unshocked scenario is always in the grid
                                       // Without gamma the loss is linear in the shock: only the two extreme
                                       // shocks can be the worst, so skip the interior of the grid.
    let lo = p.price_shocks.iter().copied().min().unwrap_or(Fixed::ZERO);
    let hi = p.price_shocks.iter().copied().max().unwrap_or(Fixed::ZERO);
    let extremes = [lo, hi];
    let shocks: &[Fixed] = if neg_half_gamma.is_zero() { &extremes } else { &p.price_shocks };
    for shock in shocks {
        let ds = shock.checked_mul_ceil(c)?.checked_mul_ceil(e.spot)?;
        let mut loss = neg_delta.checked_mul(ds, Rounding::Ceil)?;
        if !neg_half_gamma.is_zero() {
            let ds2 = ds.checked_mul_ceil(ds)?;
            loss = loss.checked_add(neg_half_gamma.checked_mul(ds2, Rounding::Ceil)?)?;
        }
        worst_price = worst_price.max(loss);
    }
    let neg_vega = e.vega.checked_neg()?;
    let mut worst_vol = Fixed::ZERO;
    let vol_shocks: &[Fixed] = if neg_vega.is_zero() { &[] } else { &p.vol_shocks };
    for vs in vol_shocks {
        let dv = vs.checked_mul(c, Rounding::Ceil)?;
        worst_vol = worst_vol.max(neg_vega.checked_mul(dv, Rounding::Ceil)?);
    }
    let floor = e.gross_notional.checked_mul_ceil(p.floor_rate.get(ht))?;
    worst_price.checked_add(worst_vol)?.checked_add(floor)
}

/// Builds the per-underlying exposures of a cache (netted tokens and every
/// derivative). At most one entry per underlying id.
pub fn exposures(cache: &HealthCache) -> RiskResult<Vec<Exposure>> {
    let mut out: Vec<Exposure> = Vec::with_capacity(cache.derivatives().len() + 1);
    fn slot(out: &mut Vec<Exposure>, u: u16, spot: Fixed) -> RiskResult<&mut Exposure> {
        let i = match out.iter().position(|e| e.underlying == u) {
            Some(i) => i,
            None => {
                out.push(Exposure::new(u, spot));
                out.len() - 1
            }
        };
        out.get_mut(i).ok_or(RiskError::CapacityExceeded)
    }
    for t in cache.tokens() {
        if let Some(u) = t.underlying {
            let notional = t.balance.checked_abs()?.checked_mul_ceil(t.prices.oracle)?;
            slot(&mut out, u, t.prices.oracle)?.add(
                t.balance,
                Fixed::ONE,
                Fixed::ZERO,
                Fixed::ZERO,
                notional,
            )?;
        }
    }
    for d in cache.derivatives() {
        let g = d.unit_greeks();
        let (delta, gamma, vega) = match d.kind {
            DerivativeKind::Option(_) => (g.delta, g.gamma, g.vega),
            _ => (Fixed::ONE, Fixed::ZERO, Fixed::ZERO),
        };
        let notional = d.notional()?;
        slot(&mut out, d.underlying, d.prices.oracle)?.add(d.base, delta, gamma, vega, notional)?;
    }
    Ok(out)
}

/// Total portfolio requirement of a cache for `ht`.
pub fn portfolio_requirement(cache: &HealthCache, p: &PortfolioParams, ht: HealthType) -> RiskResult<Fixed> {
    let mut total = Fixed::ZERO;
    for e in exposures(cache)? {
        total = total.checked_add(exposure_requirement(&e, p, ht)?)?;
    }
    Ok(total)
}

/// Portfolio-mode health (see module docs).
pub fn portfolio_health(cache: &HealthCache, p: &PortfolioParams, ht: HealthType) -> RiskResult<Fixed> {
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
    h.checked_sub(portfolio_requirement(cache, p, ht)?)
}

#[cfg(test)]
#[path = "portfolio_tests.rs"]
mod tests;
