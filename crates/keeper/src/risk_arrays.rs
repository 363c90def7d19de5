//! When an option market's risk array needs `update_risk_array`.
//!
//! The program refuses to value an option (and so any risk-increasing action
//! of an account holding it) once its array is older than the group's
//! `max_age_secs`, once the oracle moved the group's `max_drift_bps` from
//! the array's spot, after a volatility change, before the first array or
//! once the group's grid changed (`xmargin::options`: the group's stored
//! `RiskGridParams` in force, `Group::risk_grid_at`). The keeper refreshes
//! well before that: at `refresh_percent` % of the age bound or of the drift
//! bound (50 % by default: every 5 minutes or after a 1 % move on the
//! default grid),
//! for every active, unexpired option market whose oracle is usable (the
//! crank reads it under the market's rules).
use xmargin::state::{market_status, Market, RiskGridParams};
use xmargin_risk::{Fixed, Rounding};

/// Why an array is due.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefreshReason {
    /// Never computed, or computed on another grid.
    Missing,
    /// Computed at another volatility than the one in force.
    Volatility,
    /// Older than the share of the maximum age.
    Age,
    /// The oracle moved more than the share of the maximum drift.
    Drift,
}

impl RefreshReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RefreshReason::Missing => "missing",
            RefreshReason::Volatility => "volatility",
            RefreshReason::Age => "age",
            RefreshReason::Drift => "drift",
        }
    }
}

/// Seconds after which an array is refreshed: `refresh_percent` % of the
/// group's maximum age (at least 1 s).
pub fn refresh_age_secs(grid: &RiskGridParams, refresh_percent: u8) -> i64 {
    let secs = u64::from(grid.max_age_secs).saturating_mul(u64::from(refresh_percent)) / 100;
    i64::try_from(secs.max(1)).unwrap_or(i64::MAX)
}

/// The oracle move, as a fraction of the array's spot, after which an array
/// is refreshed: `refresh_percent` % of the group's maximum drift (rounded
/// down, so the keeper acts no later than asked).
pub fn refresh_drift(grid: &RiskGridParams, refresh_percent: u8) -> Fixed {
    let bps_times_percent = i64::from(grid.max_drift_bps).saturating_mul(i64::from(refresh_percent));
    Fixed::from_ratio(bps_times_percent, 1_000_000, Rounding::Floor).unwrap_or(Fixed::ZERO)
}

/// Whether `market` (any kind) needs `update_risk_array` at `now` with its
/// oracle at `oracle` (quote native per underlying native unit, the price
/// the program compares against: the oracle's lower bound) under the
/// group's `grid` in force; `None` for other kinds, settled or expired
/// markets (the program refuses those).
pub fn refresh_due(
    market: &Market,
    now: i64,
    oracle: Fixed,
    refresh_percent: u8,
    grid: &RiskGridParams,
) -> Option<RefreshReason> {
    if !market.is_option() || market.status != market_status::ACTIVE || market.is_expired(now) {
        return None;
    }
    let a = &market.risk_array;
    // Another grid, or an array stored before the per-contract format
    // (its scenarios are not netted until recomputed).
    if a.grid_id != grid.grid_id
        || a.scenario_count != u16::from(grid.grid_len)
        || !a.header().scenarios_current()
    {
        return Some(RefreshReason::Missing);
    }
    if a.volatility.get() != market.volatility_at(now) {
        return Some(RefreshReason::Volatility);
    }
    if now.saturating_sub(a.computed_at) >= refresh_age_secs(grid, refresh_percent) {
        return Some(RefreshReason::Age);
    }
    let spot = a.spot.get();
    let moved = oracle.checked_sub(spot).and_then(|m| m.checked_abs()).unwrap_or(Fixed::MAX);
    let bound = spot.checked_mul_floor(refresh_drift(grid, refresh_percent)).unwrap_or(Fixed::ZERO);
    (moved >= bound).then_some(RefreshReason::Drift)
}

#[cfg(test)]
mod tests {
    use super::*;
    use xmargin::options::{DEFAULT_RISK_GRID as D, GRID_ID, GRID_LEN, RISK_ARRAY_MAX_AGE_SECS};
    use xmargin::state::{market_kind, StoredFixed};

    const NOW: i64 = 1_750_000_000;

    fn fixed(num: i64, den: u64) -> Fixed {
        Fixed::from_ratio(num, den, Rounding::Floor).unwrap()
    }

    /// A 30-day option whose array was computed `age` seconds ago at 0.15 (SOL $150), σ 60 %.
    fn option(age: i64) -> Market {
        let mut m: Market = bytemuck::Zeroable::zeroed();
        m.kind = market_kind::OPTION;
        m.expiry_ts = NOW + 30 * 86_400;
        m.volatility = StoredFixed::from(fixed(6, 10));
        m.risk_array.grid_id = GRID_ID;
        m.risk_array.scenario_count = GRID_LEN as u16;
        m.risk_array.format = xmargin_risk::options::risk_array::ARRAY_FORMAT;
        m.risk_array.computed_at = NOW - age;
        m.risk_array.spot = fixed(15, 100).into();
        m.risk_array.volatility = m.volatility;
        m
    }

    #[test]
    fn the_thresholds_are_shares_of_the_programs_bounds() {
        assert_eq!(refresh_age_secs(&D, 50), 300);
        assert_eq!(refresh_age_secs(&D, 100), RISK_ARRAY_MAX_AGE_SECS as i64);
        assert_eq!(refresh_age_secs(&D, 0), 1, "never every cycle by accident");
        assert_eq!(refresh_drift(&D, 50), fixed(1, 100), "half of 2 %");
        assert_eq!(refresh_drift(&D, 100), xmargin::options::RISK_ARRAY_MAX_DRIFT);
    }

    #[test]
    fn what_is_due_when() {
        let spot = fixed(15, 100);
        assert_eq!(refresh_due(&option(0), NOW, spot, 50, &D), None);
        assert_eq!(refresh_due(&option(299), NOW, spot, 50, &D), None);
        assert_eq!(refresh_due(&option(300), NOW, spot, 50, &D), Some(RefreshReason::Age));
        assert_eq!(refresh_due(&option(300), NOW, spot, 80, &D), None, "80 %: after 480 s");
        // 1 % of 0.15 is 0.0015: 0.1515 is due, a hair less is not.
        let up = fixed(1_515, 10_000);
        assert_eq!(refresh_due(&option(0), NOW, up, 50, &D), Some(RefreshReason::Drift));
        let just_under = up.checked_sub(Fixed::from_bits(1 << 20)).unwrap();
        assert_eq!(refresh_due(&option(0), NOW, just_under, 50, &D), None);
        assert_eq!(refresh_due(&option(0), NOW, fixed(1_485, 10_000), 50, &D), Some(RefreshReason::Drift));

        let mut never = option(0);
        never.risk_array = Default::default();
        assert_eq!(refresh_due(&never, NOW, spot, 50, &D), Some(RefreshReason::Missing));
        // Stored before the per-contract format: recomputed at once.
        let mut old_format = option(0);
        old_format.risk_array.format = 0;
        assert_eq!(refresh_due(&old_format, NOW, spot, 50, &D), Some(RefreshReason::Missing));
        let mut raised = option(0);
        raised.volatility = fixed(7, 10).into();
        assert_eq!(refresh_due(&raised, NOW, spot, 50, &D), Some(RefreshReason::Volatility));
        let mut lowering = option(0);
        lowering.option.pending_volatility = fixed(5, 10).into();
        lowering.option.pending_volatility_ts = NOW;
        assert_eq!(refresh_due(&lowering, NOW, spot, 50, &D), Some(RefreshReason::Volatility), "once due");
        assert_eq!(refresh_due(&lowering, NOW - 1, spot, 50, &D), None, "before");
    }

    /// The group's grid in force decides: another grid (a new id) makes
    /// every array missing; a shorter max age or drift refreshes sooner.
    #[test]
    fn the_groups_stored_grid_decides() {
        let spot = fixed(15, 100);
        let other = RiskGridParams { grid_id: GRID_ID ^ 1, ..D };
        assert_eq!(refresh_due(&option(0), NOW, spot, 50, &other), Some(RefreshReason::Missing));
        let longer = RiskGridParams { grid_len: D.grid_len + 3, ..D };
        assert_eq!(refresh_due(&option(0), NOW, spot, 50, &longer), Some(RefreshReason::Missing));
        let strict = RiskGridParams { max_age_secs: 200, max_drift_bps: 100, ..D };
        assert_eq!(refresh_age_secs(&strict, 50), 100);
        assert_eq!(refresh_due(&option(100), NOW, spot, 50, &strict), Some(RefreshReason::Age));
        assert_eq!(refresh_due(&option(99), NOW, spot, 50, &strict), None);
        assert_eq!(
            refresh_due(&option(0), NOW, fixed(15_075, 100_000), 50, &strict),
            Some(RefreshReason::Drift)
        );
    }

    #[test]
    fn expired_settled_and_other_markets_are_left_alone() {
        let spot = fixed(15, 100);
        let expiry = option(0).expiry_ts;
        assert_eq!(refresh_due(&option(600), expiry - 1, spot, 50, &D), Some(RefreshReason::Age));
        assert_eq!(refresh_due(&option(600), expiry, spot, 50, &D), None);
        let mut settled = option(600);
        settled.status = market_status::SETTLED;
        assert_eq!(refresh_due(&settled, NOW, spot, 50, &D), None);
        let mut perp = option(600);
        perp.kind = market_kind::PERPETUAL;
        assert_eq!(refresh_due(&perp, NOW, spot, 50, &D), None);
    }
}
