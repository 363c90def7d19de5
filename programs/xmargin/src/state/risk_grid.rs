//! The group's scenario grid and portfolio-mode parameters, stored in the
//! [`Group`](super::Group) (its former reserved space): one set in force and
//! one pending loosening (`crate::options` has the rules and bounds).
use anchor_lang::prelude::*;

/// Most price shocks a stored grid holds.
pub const MAX_GRID_PRICE_SHOCKS: usize = 10;
/// Most vol shocks a stored grid holds.
pub const MAX_GRID_VOL_SHOCKS: usize = 4;

/// A scenario grid, the freshness rule of the arrays computed on it and
/// portfolio mode's loss scales and contingencies, all in basis points.
/// `grid_id` and `grid_len` are the built grid's (`RiskGrid::id`, `len`),
/// stored when it is set so health checks an array's grid without building
/// the grid.
#[zero_copy]
#[derive(Debug, PartialEq, Eq)]
pub struct RiskGridParams {
    /// `RiskGrid::id` of the grid of these shocks.
    pub grid_id: u32,
    /// An array older than this is stale (seconds).
    pub max_age_secs: u32,
    /// Relative price shocks, strictly increasing; the first
    /// `price_shock_count` are used, the rest are 0.
    pub price_shocks_bps: [i16; MAX_GRID_PRICE_SHOCKS],
    /// Absolute vol shocks at the 30-day tenor, strictly increasing; the
    /// first `vol_shock_count` are used.
    pub vol_shocks_bps: [i16; MAX_GRID_VOL_SHOCKS],
    /// Multiplier of a book's worst weighted loss, `[Init, LiquidationEnd, Maint]`.
    pub shock_scale_bps: [u16; 3],
    /// Contingency per leg, fraction of its delta-adjusted |notional|,
    /// `[Init, LiquidationEnd, Maint]`.
    pub floor_bps: [u16; 3],
    /// An array is drifted once the oracle moved this much from its spot.
    pub max_drift_bps: u16,
    pub price_shock_count: u8,
    pub vol_shock_count: u8,
    /// Scenarios of the grid (decay + price × vol + extended moves).
    pub grid_len: u8,
    pub reserved: [u8; 3],
}

const _: () = assert!(core::mem::size_of::<RiskGridParams>() == 4 + 4 + 20 + 8 + 6 + 6 + 2 + 3 + 3);
const _: () = assert!(core::mem::size_of::<RiskGridParams>() == 56);
const _: () = assert!(core::mem::align_of::<RiskGridParams>() == 4);

impl RiskGridParams {
    /// The price shocks in use.
    pub fn price_shocks(&self) -> &[i16] {
        let n = usize::from(self.price_shock_count).min(MAX_GRID_PRICE_SHOCKS);
        &self.price_shocks_bps[..n]
    }

    /// The vol shocks in use.
    pub fn vol_shocks(&self) -> &[i16] {
        let n = usize::from(self.vol_shock_count).min(MAX_GRID_VOL_SHOCKS);
        &self.vol_shocks_bps[..n]
    }
}
