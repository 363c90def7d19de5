//! Risk-array settings of option markets, the freshness rule and portfolio
//! mode's parameters: the group's stored grid ([`RiskGridParams`] in the
//! `Group`, set by `update_risk_grid`) and its rules.
//!
//! - A new group starts on the grid of the constants below (so arrays
//!   computed before the grid was stored keep their id, [`GRID_ID`]):
//!   price shocks ±15 % in 7.5 % steps × vol shocks {−0.10, 0, +0.10} at the
//!   30-day tenor (`xmargin_risk::options::risk_array`: scaled by
//!   `√(30 d / T)`), one-day time decay first and eight extended moves
//!   (−66 % … +500 %, fixed by the engine) at reduced weight: 24 scenarios;
//!   an array is valid for [`RISK_ARRAY_MAX_AGE_SECS`] and while the oracle
//!   stays within [`RISK_ARRAY_MAX_DRIFT_BPS`] of the spot it was computed
//!   at, and only at the volatility in force (a volatility change makes it
//!   stale); portfolio mode scales a book's worst loss by
//!   [`PORTFOLIO_SHOCK_SCALE_BPS`] and adds [`PORTFOLIO_FLOOR_BPS`].
//! - The admin changes them within the bounds below
//!   ([`RiskGridParams::validate`]). A change that only tightens (a grid
//!   holding every scenario of the old one, higher scales and floors, a
//!   shorter max age, a smaller drift: [`RiskGridParams::tightest`]) applies
//!   at once; the rest waits the group's `loosen_delay_secs`, then is read
//!   in force by every instruction ([`Group::risk_grid_at`]).
//! - A new grid has a new id: every array is then `RiskArrayOtherGrid` until
//!   the permissionless `update_risk_array` recomputes it on the new grid.
//! - Health reads the stored numbers only (the grid's id and length are
//!   stored with it): it never builds the grid's scenarios for freshness;
//!   portfolio mode builds them once per cache, as before.
use anchor_lang::prelude::*;
use xmargin_risk::health::PerType;
use xmargin_risk::options::risk_array::{Freshness, RiskGrid, RISK_ARRAY_SCENARIOS};
use xmargin_risk::portfolio::PortfolioParams;
use xmargin_risk::{Fixed, Rounding, FRAC_BITS};

use crate::errors::XmarginError;
use crate::health::risk_error;
use crate::state::{Group, Market, RiskGridParams, MAX_GRID_PRICE_SHOCKS, MAX_GRID_VOL_SHOCKS};

/// Default relative price shocks of the grid, in basis points.
pub const GRID_PRICE_SHOCKS_BPS: [i64; 5] = [-1_500, -750, 0, 750, 1_500];
/// Default absolute volatility shocks at the 30-day tenor, in basis points of volatility.
pub const GRID_VOL_SHOCKS_BPS: [i64; 3] = [-1_000, 0, 1_000];
/// Scenarios of the default grid: 1 decay + 5 × 3 core + 8 extended.
pub const GRID_LEN: usize = 24;
/// `RiskGrid::id` of the default grid (FNV-1a of its scenarios; tested equal).
pub const GRID_ID: u32 = 0xfa4e_bc16;
/// Default: an array older than this is stale (seconds).
pub const RISK_ARRAY_MAX_AGE_SECS: u64 = 600;
/// Default: an array is drifted once the oracle moved this much from its spot (bps).
pub const RISK_ARRAY_MAX_DRIFT_BPS: i64 = 200;
/// [`RISK_ARRAY_MAX_DRIFT_BPS`] as a fraction (rounded down).
pub const RISK_ARRAY_MAX_DRIFT: Fixed =
    Fixed::from_bits(RISK_ARRAY_MAX_DRIFT_BPS as i128 * (1i128 << FRAC_BITS) / BPS as i128);

const BPS: u64 = 10_000;

/// Default portfolio-mode multiplier of a book's worst weighted scenario
/// loss (`xmargin_risk::portfolio`), `[Init, LiquidationEnd, Maint]` in bps.
/// Maint charges the worst loss over the grid as is; Init 1.25× and
/// LiquidationEnd 1.1× of it (Derive: Maint = 0.8 × Init).
///
/// The contingencies are on each leg's delta-adjusted |notional|
/// (`|qty| · S`, times |Δ| for an option), [`PORTFOLIO_FLOOR_BPS`]: Derive's
/// perp-notional charge (1–3 %) applied to every leg, so a hedged book is
/// never free; its naked-short charge (0.2–0.3 % of spot per short) is the
/// same floor on a short option's |Δ|-notional (the market's
/// `short_option_min_delta`, 0 today, would raise a far out-of-the-money
/// short's Δ).
pub const PORTFOLIO_SHOCK_SCALE_BPS: [i64; 3] = [12_500, 11_000, 10_000];
/// Default contingency per leg, fraction of its delta-adjusted |notional|,
/// `[Init, LiquidationEnd, Maint]` in bps (see [`PORTFOLIO_SHOCK_SCALE_BPS`]).
pub const PORTFOLIO_FLOOR_BPS: [i64; 3] = [100, 75, 50];

/// Most scenarios of a stored grid (decay + price × vol + 8 extended): each
/// costs `update_risk_array` about 6,200 CU of Black–Scholes, so it stays
/// under the 200,000 CU default budget (measured on a 30-day call: 174,582
/// CU at 24 scenarios, 193,088 at 27, over 200,000 at 29; at 27 at most
/// 198,957 over calls and puts of 1 to 365 days, strikes 0.13× to 67× spot,
/// σ 10 % to 190 %; the keeper and the CLI set the limit from a simulation
/// anyway). Below the 40 an array holds.
pub const GRID_MAX_SCENARIOS: usize = 27;
const _: () = assert!(GRID_MAX_SCENARIOS <= RISK_ARRAY_SCENARIOS);

/// Bounds of `update_risk_grid`: each price shock within ±50 %.
pub const GRID_MAX_PRICE_SHOCK_BPS: i16 = 5_000;
/// The price shocks reach at least −5 % and +5 % (a grid must move the
/// price both ways).
pub const GRID_MIN_WIDEST_PRICE_SHOCK_BPS: i16 = 500;
/// Each vol shock within ±50 volatility points (at the 30-day tenor).
pub const GRID_MAX_VOL_SHOCK_BPS: i16 = 5_000;
/// Loss scales: `1× ≤ Maint ≤ LiquidationEnd ≤ Init ≤ 5×`.
pub const GRID_MIN_SHOCK_SCALE_BPS: u16 = 10_000;
pub const GRID_MAX_SHOCK_SCALE_BPS: u16 = 50_000;
/// Contingencies: `0.1 % ≤ Maint ≤ LiquidationEnd ≤ Init ≤ 10 %` (no book is free).
pub const GRID_MIN_FLOOR_BPS: u16 = 10;
pub const GRID_MAX_FLOOR_BPS: u16 = 1_000;
/// Array max age: 1 minute to 1 hour.
pub const GRID_MIN_MAX_AGE_SECS: u32 = 60;
pub const GRID_MAX_MAX_AGE_SECS: u32 = 3_600;
/// Array max drift: 0.5 % to 10 %.
pub const GRID_MIN_MAX_DRIFT_BPS: u16 = 50;
pub const GRID_MAX_MAX_DRIFT_BPS: u16 = 1_000;

/// The parameters of a new group: the constants above.
pub const DEFAULT_RISK_GRID: RiskGridParams = RiskGridParams {
    grid_id: GRID_ID,
    max_age_secs: RISK_ARRAY_MAX_AGE_SECS as u32,
    price_shocks_bps: [-1_500, -750, 0, 750, 1_500, 0, 0, 0, 0, 0],
    vol_shocks_bps: [-1_000, 0, 1_000, 0],
    shock_scale_bps: [12_500, 11_000, 10_000],
    floor_bps: [100, 75, 50],
    max_drift_bps: RISK_ARRAY_MAX_DRIFT_BPS as u16,
    price_shock_count: 5,
    vol_shock_count: 3,
    grid_len: GRID_LEN as u8,
    reserved: [0; 3],
};

/// `b` basis points as a [`Fixed`], rounded toward −∞ (as
/// `Fixed::from_ratio(b, 10_000, Floor)`, in `i64`: `|b| ≤ 2^15`).
fn bps_i16(b: i16) -> Fixed {
    Fixed::from_bits(i128::from((i64::from(b) << FRAC_BITS).div_euclid(BPS as i64)))
}

/// [`bps_i16`] of a `u16` (`b · 2^48 < 2^64`).
fn bps_u16(b: u16) -> Fixed {
    Fixed::from_bits(i128::from((u64::from(b) << FRAC_BITS) / BPS))
}

/// The three per-type values `[Init, LiquidationEnd, Maint]` as fractions.
fn per_type(v: [u16; 3]) -> PerType<Fixed> {
    PerType { init: bps_u16(v[0]), liq_end: bps_u16(v[1]), maint: bps_u16(v[2]) }
}

impl RiskGridParams {
    /// The scenario grid risk arrays are computed on (eight divisions and a
    /// hash: `update_risk_array` and `update_risk_grid` only).
    pub fn grid(&self) -> Result<RiskGrid> {
        let prices: Vec<Fixed> = self.price_shocks().iter().map(|b| bps_i16(*b)).collect();
        let vols: Vec<Fixed> = self.vol_shocks().iter().map(|b| bps_i16(*b)).collect();
        RiskGrid::new(&prices, &vols).map_err(risk_error)
    }

    /// Portfolio mode's parameters: this grid (arrays computed on it have id
    /// `grid_id`), its loss scales and contingencies.
    pub fn portfolio_params(&self) -> PortfolioParams {
        PortfolioParams {
            price_shocks: self.price_shocks().iter().map(|b| bps_i16(*b)).collect(),
            vol_shocks: self.vol_shocks().iter().map(|b| bps_i16(*b)).collect(),
            shock_scale: per_type(self.shock_scale_bps),
            floor_rate: per_type(self.floor_bps),
        }
    }

    /// The largest |price shock| (bps).
    fn widest_price_shock(&self) -> u16 {
        self.price_shocks().iter().map(|s| s.unsigned_abs()).max().unwrap_or(0)
    }

    /// `max_drift_bps` as a fraction, rounded down (one `u64` division).
    pub fn max_drift(&self) -> Fixed {
        bps_u16(self.max_drift_bps)
    }

    /// Field-wise the more conservative of `self` (in force) and `target`,
    /// what a change may apply at once: the target's grid if it holds every
    /// price and every vol shock of this one (then every scenario, and a
    /// widest move, hence extended-move weights, at least as large: no book
    /// loses less), else this grid (replacing a shock by a larger one is a
    /// loosening too, as a book can lose most between shocks); the higher
    /// scales and floors, the shorter max age, the smaller drift.
    pub fn tightest(&self, target: &RiskGridParams) -> RiskGridParams {
        // The widest move must stay as it is: a spot leg's loss scale is at
        // least its haircut over the widest move, so widening it lowers
        // that floor (a loosening for a book whose worst loss does not grow
        // with the widest move, e.g. spot with a protective put).
        let covers = self.price_shocks().iter().all(|s| target.price_shocks().contains(s))
            && self.vol_shocks().iter().all(|v| target.vol_shocks().contains(v))
            && self.widest_price_shock() == target.widest_price_shock();
        let grid = if covers { target } else { self };
        let max3 = |a: [u16; 3], b: [u16; 3]| [a[0].max(b[0]), a[1].max(b[1]), a[2].max(b[2])];
        RiskGridParams {
            shock_scale_bps: max3(self.shock_scale_bps, target.shock_scale_bps),
            floor_bps: max3(self.floor_bps, target.floor_bps),
            max_age_secs: self.max_age_secs.min(target.max_age_secs),
            max_drift_bps: self.max_drift_bps.min(target.max_drift_bps),
            ..*grid
        }
    }

    /// Within the bounds above, each refusal a named error with its values:
    /// 1..=10 price and 1..=4 vol shocks, at most [`GRID_MAX_SCENARIOS`]
    /// scenarios; shocks strictly increasing, within range, the widest price
    /// shock at least 5 %; scales and floors ordered Init ≥ LiquidationEnd ≥
    /// Maint within their ranges; max age and drift within theirs.
    pub fn validate(&self) -> Result<()> {
        let (np, nv) = (usize::from(self.price_shock_count), usize::from(self.vol_shock_count));
        if !(1..=MAX_GRID_PRICE_SHOCKS).contains(&np) || !(1..=MAX_GRID_VOL_SHOCKS).contains(&nv) {
            msg!("1..={} price shocks and 1..={} vol shocks", MAX_GRID_PRICE_SHOCKS, MAX_GRID_VOL_SHOCKS);
            return Err(error!(XmarginError::RiskGridShockCount).with_values((np, nv)));
        }
        let scenarios = 1 + np * nv + xmargin_risk::options::risk_array::EXTENDED_MOVES_PCT.len();
        if scenarios > GRID_MAX_SCENARIOS {
            return Err(error!(XmarginError::RiskGridTooLarge).with_values((scenarios, GRID_MAX_SCENARIOS)));
        }
        check_shocks(self.price_shocks(), GRID_MAX_PRICE_SHOCK_BPS)?;
        check_shocks(self.vol_shocks(), GRID_MAX_VOL_SHOCK_BPS)?;
        // Both directions: a grid with no core fall (or rise) would charge
        // longs (or shorts) only through the weighted extended moves.
        let shocks = self.price_shocks();
        let (lowest, highest) = (shocks.first().copied().unwrap_or(0), shocks.last().copied().unwrap_or(0));
        if lowest > -GRID_MIN_WIDEST_PRICE_SHOCK_BPS || highest < GRID_MIN_WIDEST_PRICE_SHOCK_BPS {
            msg!("the price shocks must reach -{0} and +{0} bps", GRID_MIN_WIDEST_PRICE_SHOCK_BPS);
            return Err(error!(XmarginError::RiskGridRangeTooNarrow).with_values((lowest, highest)));
        }
        check_per_type(self.shock_scale_bps, GRID_MIN_SHOCK_SCALE_BPS, GRID_MAX_SHOCK_SCALE_BPS)
            .map_err(|v| error!(XmarginError::RiskGridScaleOutOfBounds).with_values(v))?;
        check_per_type(self.floor_bps, GRID_MIN_FLOOR_BPS, GRID_MAX_FLOOR_BPS)
            .map_err(|v| error!(XmarginError::RiskGridFloorOutOfBounds).with_values(v))?;
        if let Some(bound) = outside(self.max_age_secs, GRID_MIN_MAX_AGE_SECS, GRID_MAX_MAX_AGE_SECS) {
            return Err(
                error!(XmarginError::RiskArrayMaxAgeOutOfBounds).with_values((self.max_age_secs, bound))
            );
        }
        if let Some(bound) = outside(self.max_drift_bps, GRID_MIN_MAX_DRIFT_BPS, GRID_MAX_MAX_DRIFT_BPS) {
            return Err(
                error!(XmarginError::RiskArrayMaxDriftOutOfBounds).with_values((self.max_drift_bps, bound))
            );
        }
        Ok(())
    }
}

/// The bound `v` crosses, if outside `lo ..= hi`.
fn outside<T: PartialOrd + Copy>(v: T, lo: T, hi: T) -> Option<T> {
    if v < lo {
        Some(lo)
    } else if v > hi {
        Some(hi)
    } else {
        None
    }
}

/// Strictly increasing, each within `±max`.
fn check_shocks(shocks: &[i16], max: i16) -> Result<()> {
    for (i, s) in shocks.iter().enumerate() {
        if let Some(bound) = outside(*s, -max, max) {
            return Err(error!(XmarginError::RiskGridShockOutOfRange).with_values((*s, bound)));
        }
        if i > 0 && *s <= shocks[i - 1] {
            return Err(error!(XmarginError::RiskGridShocksNotIncreasing).with_values((*s, shocks[i - 1])));
        }
    }
    Ok(())
}

/// `lo ≤ Maint ≤ LiquidationEnd ≤ Init ≤ hi`, else (the value that breaks
/// it, the bound it crosses).
fn check_per_type(v: [u16; 3], lo: u16, hi: u16) -> core::result::Result<(), (u16, u16)> {
    let [init, liq_end, maint] = v;
    for (x, bound) in [(maint, lo), (liq_end, maint), (init, liq_end)] {
        if x < bound {
            return Err((x, bound));
        }
    }
    if init > hi {
        return Err((init, hi));
    }
    Ok(())
}

/// The grid risk arrays of a new group are computed on.
pub fn default_grid() -> Result<RiskGrid> {
    DEFAULT_RISK_GRID.grid()
}

/// The group's grid parameters in force at `now` (one load of the group).
pub fn group_grid(group: &AccountLoader<Group>, now: i64) -> Result<RiskGridParams> {
    Ok(group.load()?.risk_grid_at(now))
}

/// `Ok` if `market`'s array may value positions at `now` with the oracle at
/// `oracle` on the group's `grid`; else the named error with its values.
pub fn check_array_fresh(market: &Market, now: i64, oracle: Fixed, grid: &RiskGridParams) -> Result<()> {
    match array_freshness(market, now, oracle, grid)? {
        Freshness::Fresh => Ok(()),
        Freshness::OtherGrid => {
            Err(error!(XmarginError::RiskArrayOtherGrid)
                .with_values((market.risk_array.grid_id, grid.grid_id)))
        }
        Freshness::Stale => {
            let age = now.saturating_sub(market.risk_array.computed_at);
            Err(error!(XmarginError::RiskArrayStale).with_values((age, grid.max_age_secs)))
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
            Err(error!(XmarginError::RiskArrayDrifted).with_values((moved, grid.max_drift_bps)))
        }
    }
}

/// The freshness of `market`'s array **value and Δ** alone: its age, the
/// oracle's drift and the volatility in force, whatever grid it was computed
/// on (they do not depend on the grid; only its scenario P&L does). What a
/// liquidation values an option's linear contribution by when a grid change
/// left the array on the previous grid, rather than the option's bounds.
pub fn value_freshness(market: &Market, now: i64, oracle: Fixed, grid: &RiskGridParams) -> Result<Freshness> {
    let a = &market.risk_array;
    freshness_on(market, now, oracle, grid, (a.grid_id, usize::from(a.scenario_count)))
}

/// The engine's freshness of `market`'s array on the group's `grid`, an
/// array computed at another volatility than the one in force counting as
/// stale.
pub fn array_freshness(market: &Market, now: i64, oracle: Fixed, grid: &RiskGridParams) -> Result<Freshness> {
    freshness_on(market, now, oracle, grid, (grid.grid_id, usize::from(grid.grid_len)))
}

/// The array's freshness against the grid `(id, len)`, with `grid`'s age and
/// drift bounds, at the volatility in force.
fn freshness_on(
    market: &Market,
    now: i64,
    oracle: Fixed,
    grid: &RiskGridParams,
    on: (u32, usize),
) -> Result<Freshness> {
    let a = &market.risk_array;
    let f = a
        .header()
        .freshness(now, oracle, on, u64::from(grid.max_age_secs), grid.max_drift())
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
    fn default_grid_matches_the_constants() {
        let d = DEFAULT_RISK_GRID;
        d.validate().unwrap();
        let g = default_grid().unwrap();
        assert_eq!(g.len(), GRID_LEN);
        assert_eq!(g.id(), GRID_ID, "GRID_ID = {:#x}", g.id());
        assert_eq!(d.max_drift(), RISK_ARRAY_MAX_DRIFT);
        let drift = Fixed::from_ratio(RISK_ARRAY_MAX_DRIFT_BPS, BPS, Rounding::Floor).unwrap();
        assert_eq!(RISK_ARRAY_MAX_DRIFT, drift);
        let p = d.portfolio_params();
        p.validate().unwrap();
        let want = |v: &[i64]| -> Vec<Fixed> {
            v.iter().map(|b| Fixed::from_ratio(*b, BPS, Rounding::Floor).unwrap()).collect()
        };
        assert_eq!(p.price_shocks, want(&GRID_PRICE_SHOCKS_BPS));
        assert_eq!(p.vol_shocks, want(&GRID_VOL_SHOCKS_BPS));
        let s = want(&PORTFOLIO_SHOCK_SCALE_BPS);
        assert_eq!([p.shock_scale.init, p.shock_scale.liq_end, p.shock_scale.maint], s[..]);
        let f = want(&PORTFOLIO_FLOOR_BPS);
        assert_eq!([p.floor_rate.init, p.floor_rate.liq_end, p.floor_rate.maint], f[..]);
        assert_eq!(p.grid().unwrap().id(), GRID_ID, "portfolio mode values arrays on their grid");
    }

    /// A group created before the grid was stored reads the defaults; a
    /// due pending grid is in force before anyone moves it.
    #[test]
    fn the_grid_in_force() {
        let mut g: Group = bytemuck::Zeroable::zeroed();
        assert_eq!(g.risk_grid_at(0), DEFAULT_RISK_GRID);
        let mut strict = DEFAULT_RISK_GRID;
        strict.max_age_secs = 300;
        g.risk_grid = strict;
        let mut loose = DEFAULT_RISK_GRID;
        loose.max_age_secs = 900;
        (g.pending_risk_grid, g.pending_risk_grid_ts) = (loose, 100);
        assert_eq!((g.risk_grid_at(99), g.risk_grid_at(100)), (strict, loose));
        g.apply_due_risk_grid(99);
        assert_eq!(g.pending_risk_grid_ts, 100);
        g.apply_due_risk_grid(100);
        assert_eq!((g.risk_grid, g.pending_risk_grid_ts, g.pending_risk_grid.grid_len), (loose, 0, 0));
    }

    #[test]
    fn bps_conversions_round_down_as_from_ratio() {
        for b in [i16::MIN, -10_001, -1_500, -1, 0, 1, 7, 750, 9_999, i16::MAX] {
            assert_eq!(bps_i16(b), Fixed::from_ratio(i64::from(b), BPS, Rounding::Floor).unwrap(), "{b}");
        }
        for b in [0u16, 1, 3, 50, 12_500, u16::MAX] {
            assert_eq!(bps_u16(b), Fixed::from_ratio(i64::from(b), BPS, Rounding::Floor).unwrap(), "{b}");
        }
    }

    #[test]
    fn tightest_takes_a_covering_grid_and_the_stricter_numbers() {
        let d = DEFAULT_RISK_GRID;
        let mut finer = d;
        finer.price_shocks_bps[..7].copy_from_slice(&[-1_500, -1_000, -750, 0, 750, 1_000, 1_500]);
        finer.price_shock_count = 7;
        finer.max_age_secs = 900; // looser
        finer.floor_bps = [200, 75, 50]; // tighter
        let t = d.tightest(&finer);
        assert_eq!(t.price_shocks(), finer.price_shocks());
        assert_eq!((t.max_age_secs, t.floor_bps), (600, [200, 75, 50]));
        // A wider widest move lowers a spot leg's haircut scale: a loosening.
        let mut wider = d;
        wider.price_shocks_bps[..7].copy_from_slice(&[-2_000, -1_500, -750, 0, 750, 1_500, 2_000]);
        wider.price_shock_count = 7;
        assert_eq!(d.tightest(&wider).price_shocks(), d.price_shocks(), "widening waits the delay");
        let mut moved = d;
        moved.price_shocks_bps[..5].copy_from_slice(&[-2_000, -1_000, 0, 1_000, 2_000]);
        assert_eq!(d.tightest(&moved), d, "replacing shocks is a loosening");
        assert_eq!(d.tightest(&d), d);
    }
}
