//! Risk-array settings of option markets and the freshness rule.
//!
//! The group has no stored scenario grid yet (portfolio mode, later in issue
//! 13, brings a bounded, admin-set one): until then every option market's
//! array is computed on the grid of these constants, the only place they are:
//!
//! - price shocks ±15 % in 7.5 % steps × vol shocks {−0.10, 0, +0.10} at the
//!   30-day tenor (`xmargin_risk::options::risk_array`: scaled by
//!   `√(30 d / T)`), one-day time decay first and eight extended moves
//!   (−66 % … +500 %) at reduced weight: 24 scenarios;
//! - an array is valid for [`RISK_ARRAY_MAX_AGE_SECS`] and while the oracle
//!   stays within [`RISK_ARRAY_MAX_DRIFT_BPS`] of the spot it was computed at,
//!   and only at the volatility in force (a volatility change makes it stale).
use anchor_lang::prelude::*;
use xmargin_risk::options::risk_array::{Freshness, RiskGrid};
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
    }
}
