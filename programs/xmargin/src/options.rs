//! Risk-array settings of option markets, the freshness rule and portfolio
//! mode's parameters.
//!
//! The group has no stored scenario grid yet (next: a bounded, admin-set one
//! with delayed loosening): every option market's array is computed on the
//! grid of these constants, and portfolio mode charges books on the same
//! grid with the scale and contingency constants below
//! ([`portfolio_params`]), the only place they are:
//!
//! - price shocks ±15 % in 7.5 % steps × vol shocks {−0.10, 0, +0.10} at the
//!   30-day tenor (`xmargin_risk::options::risk_array`: scaled by
//!   `√(30 d / T)`), one-day time decay first and eight extended moves
//!   (−66 % … +500 %) at reduced weight: 24 scenarios;
//! - an array is valid for [`RISK_ARRAY_MAX_AGE_SECS`] and while the oracle
//!   stays within [`RISK_ARRAY_MAX_DRIFT_BPS`] of the spot it was computed at,
//!   and only at the volatility in force (a volatility change makes it stale).
use anchor_lang::prelude::*;
use xmargin_risk::health::PerType;
use xmargin_risk::options::risk_array::{Freshness, RiskGrid};
use xmargin_risk::portfolio::PortfolioParams;
use xmargin_risk::{Fixed, RiskResult, Rounding, FRAC_BITS};

use crate::errors::XmarginError;
use crate::health::risk_error;
use crate::state::Market;

/// Relative price shocks of the grid, in basis points.
pub const GRID_PRICE_SHOCKS_BPS: [i64; 5] = [-1_500, -750, 0, 750, 1_500];
/// Absolute volatility shocks at the 30-day tenor, in basis points of volatility.
pub const GRID_VOL_SHOCKS_BPS: [i64; 3] = [-1_000, 0, 1_000];
/// Scenarios of the grid: 1 decay + 5 × 3 core + 8 extended.
pub const GRID_LEN: usize = 24;
/// `RiskGrid::id` of the grid (FNV-1a of its scenarios; tested equal), so
/// health checks an array's grid without building the grid.
pub const GRID_ID: u32 = 0xfa4e_bc16;
/// An array older than this is stale (seconds).
pub const RISK_ARRAY_MAX_AGE_SECS: u64 = 600;
/// An array is drifted once the oracle moved this much from its spot (bps).
pub const RISK_ARRAY_MAX_DRIFT_BPS: i64 = 200;
/// [`RISK_ARRAY_MAX_DRIFT_BPS`] as a fraction (rounded down; a constant, so
/// no health check divides).
pub const RISK_ARRAY_MAX_DRIFT: Fixed =
    Fixed::from_bits(RISK_ARRAY_MAX_DRIFT_BPS as i128 * (1i128 << FRAC_BITS) / BPS as i128);

const BPS: u64 = 10_000;

/// Portfolio mode (`xmargin_risk::portfolio`): the multiplier of a book's
/// worst weighted scenario loss, `[Init, LiquidationEnd, Maint]` in bps.
/// Maint charges the worst loss over the grid above as is; Init 1.25× and
/// LiquidationEnd 1.1× of it (Derive: Maint = 0.8 × Init).
///
/// The contingencies are on each leg's delta-adjusted |notional|
/// (`|qty| · S`, times |Δ| for an option), [`PORTFOLIO_FLOOR_BPS`]: Derive's
/// perp-notional charge (1–3 %) applied to every leg, so a hedged book is
/// never free; its naked-short charge (0.2–0.3 % of spot per short) is the
/// same floor on a short option's |Δ|-notional (the market's
/// `short_option_min_delta`, 0 today, would raise a far out-of-the-money
/// short's Δ). Together with the grid constants above these are the only
/// place portfolio parameters live; a stored, admin-set, bounded grid with
/// delayed loosening replaces them next (a grid change invalidates every
/// array through `GRID_ID`).
pub const PORTFOLIO_SHOCK_SCALE_BPS: [i64; 3] = [12_500, 11_000, 10_000];
/// Contingency per leg, fraction of its delta-adjusted |notional|,
/// `[Init, LiquidationEnd, Maint]` in bps (see [`PORTFOLIO_SHOCK_SCALE_BPS`]).
pub const PORTFOLIO_FLOOR_BPS: [i64; 3] = [100, 75, 50];

/// The grid risk arrays are computed on (eight divisions: built by
/// `update_risk_array` only).
pub fn default_grid() -> Result<RiskGrid> {
    let bps = |b: &i64| Fixed::from_ratio(*b, BPS, Rounding::Floor);
    let prices: Vec<Fixed> =
        GRID_PRICE_SHOCKS_BPS.iter().map(bps).collect::<RiskResult<_>>().map_err(risk_error)?;
    let vols: Vec<Fixed> =
        GRID_VOL_SHOCKS_BPS.iter().map(bps).collect::<RiskResult<_>>().map_err(risk_error)?;
    RiskGrid::new(&prices, &vols).map_err(risk_error)
}

/// The portfolio-mode parameters: the grid of [`default_grid`] (arrays
/// computed on it have id [`GRID_ID`]) and the constants above.
pub fn portfolio_params() -> Result<PortfolioParams> {
    let per_type = |v: [i64; 3]| PerType { init: bps(v[0]), liq_end: bps(v[1]), maint: bps(v[2]) };
    Ok(PortfolioParams {
        price_shocks: GRID_PRICE_SHOCKS_BPS.iter().map(|b| bps(*b)).collect(),
        vol_shocks: GRID_VOL_SHOCKS_BPS.iter().map(|b| bps(*b)).collect(),
        shock_scale: per_type(PORTFOLIO_SHOCK_SCALE_BPS),
        floor_rate: per_type(PORTFOLIO_FLOOR_BPS),
    })
}

/// `b` basis points as a [`Fixed`], rounded toward −∞ (as
/// `Fixed::from_ratio(b, 10_000, Floor)`, without a division at run time
/// for the constants above).
const fn bps(b: i64) -> Fixed {
    Fixed::from_bits((b as i128 * (1i128 << FRAC_BITS)).div_euclid(BPS as i128))
}

/// `Ok` if `market`'s array may value positions at `now` with the oracle at
/// `oracle`; else the named error with its values.
pub fn check_array_fresh(market: &Market, now: i64, oracle: Fixed) -> Result<()> {
    match array_freshness(market, now, oracle)? {
        Freshness::Fresh => Ok(()),
        Freshness::OtherGrid => {
            Err(error!(XmarginError::RiskArrayOtherGrid).with_values((market.risk_array.grid_id, GRID_ID)))
        }
        Freshness::Stale => {
            let age = now.saturating_sub(market.risk_array.computed_at);
            Err(error!(XmarginError::RiskArrayStale).with_values((age, RISK_ARRAY_MAX_AGE_SECS)))
        }
        Freshness::Drifted => {
            let spot = market.risk_array.spot.get();
            let moved = oracle
                .checked_sub(spot)
                .and_then(|m| m.checked_abs())
                .and_then(|m| m.checked_mul_int(BPS as i64))
                .and_then(|m| m.checked_div_floor(spot))
                .and_then(|m| m.to_i64(Rounding::Floor))
                .unwrap_or(i64::MAX);
            Err(error!(XmarginError::RiskArrayDrifted).with_values((moved, RISK_ARRAY_MAX_DRIFT_BPS)))
        }
    }
}

/// The engine's freshness of `market`'s array, an array computed at another
/// volatility than the one in force counting as stale.
pub fn array_freshness(market: &Market, now: i64, oracle: Fixed) -> Result<Freshness> {
    let a = &market.risk_array;
    let f = a
        .header()
        .freshness(now, oracle, (GRID_ID, GRID_LEN), RISK_ARRAY_MAX_AGE_SECS, RISK_ARRAY_MAX_DRIFT)
        .map_err(risk_error)?;
    if f == Freshness::Fresh && a.volatility.get() != market.volatility_at(now) {
        return Ok(Freshness::Stale);
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_constants_match_the_grid() {
        let g = default_grid().unwrap();
        assert_eq!(g.len(), GRID_LEN);
        assert_eq!(g.id(), GRID_ID, "GRID_ID = {:#x}", g.id());
        let drift = Fixed::from_ratio(RISK_ARRAY_MAX_DRIFT_BPS, BPS, Rounding::Floor).unwrap();
        assert_eq!(RISK_ARRAY_MAX_DRIFT, drift);
        let p = portfolio_params().unwrap();
        p.validate().unwrap();
        for b in GRID_PRICE_SHOCKS_BPS.iter().chain(&GRID_VOL_SHOCKS_BPS).chain(&PORTFOLIO_FLOOR_BPS) {
            assert_eq!(bps(*b), Fixed::from_ratio(*b, BPS, Rounding::Floor).unwrap(), "{b}");
        }
        assert_eq!(p.grid().unwrap().id(), GRID_ID, "portfolio mode values arrays on their grid");
    }
}
