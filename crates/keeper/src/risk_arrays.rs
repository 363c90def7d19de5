//! When an option market's risk array needs `update_risk_array`.
//!
//! The program refuses to value an option (and so any risk-increasing action
//! of an account holding it) once its array is older than
//! `RISK_ARRAY_MAX_AGE_SECS`, once the oracle moved `RISK_ARRAY_MAX_DRIFT_BPS`
//! from the array's spot, after a volatility change, or before the first
//! array (`xmargin::options`, the only place those bounds are). The keeper
//! refreshes well before that: at `refresh_percent` % of the age bound or of
//! the drift bound (50 % by default: every 5 minutes or after a 1 % move),
//! for every active, unexpired option market whose oracle is usable (the
//! crank reads it under the market's rules).
use xmargin::options::{GRID_ID, GRID_LEN, RISK_ARRAY_MAX_AGE_SECS, RISK_ARRAY_MAX_DRIFT_BPS};
use xmargin::state::{market_status, Market};
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
/// program's maximum age (at least 1 s).
pub fn refresh_age_secs(refresh_percent: u8) -> i64 {
    let secs = RISK_ARRAY_MAX_AGE_SECS.saturating_mul(u64::from(refresh_percent)) / 100;
    i64::try_from(secs.max(1)).unwrap_or(i64::MAX)
}

/// The oracle move, as a fraction of the array's spot, after which an array
/// is refreshed: `refresh_percent` % of the program's maximum drift (rounded
/// down, so the keeper acts no later than asked).
pub fn refresh_drift(refresh_percent: u8) -> Fixed {
    let bps_times_percent = RISK_ARRAY_MAX_DRIFT_BPS.saturating_mul(i64::from(refresh_percent));
    Fixed::from_ratio(bps_times_percent, 1_000_000, Rounding::Floor).unwrap_or(Fixed::ZERO)
}

/// Whether `market` (any kind) needs `update_risk_array` at `now` with its
/// oracle at `oracle` (quote native per underlying native unit, the price
/// the program compares against: the oracle's lower bound); `None` for
/// other kinds, settled or expired markets (the program refuses those).
pub fn refresh_due(market: &Market, now: i64, oracle: Fixed, refresh_percent: u8) -> Option<RefreshReason> {
    if !market.is_option() || market.status != market_status::ACTIVE || market.is_expired(now) {
        return None;
    }
    let a = &market.risk_array;
    if a.grid_id != GRID_ID || usize::from(a.scenario_count) != GRID_LEN {
        return Some(RefreshReason::Missing);
    }
    if a.volatility.get() != market.volatility_at(now) {
        return Some(RefreshReason::Volatility);
    }
    if now.saturating_sub(a.computed_at) >= refresh_age_secs(refresh_percent) {
        return Some(RefreshReason::Age);
    }
    let spot = a.spot.get();
    let moved = oracle.checked_sub(spot).and_then(|m| m.checked_abs()).unwrap_or(Fixed::MAX);
    let bound = spot.checked_mul_floor(refresh_drift(refresh_percent)).unwrap_or(Fixed::ZERO);
    (moved >= bound).then_some(RefreshReason::Drift)
}

#[cfg(test)]
mod tests {
    use super::*;
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
        m.risk_array.computed_at = NOW - age;
        m.risk_array.spot = fixed(15, 100).into();
        m.risk_array.volatility = m.volatility;
        m
    }

    #[test]
    fn the_thresholds_are_shares_of_the_programs_bounds() {
        assert_eq!(refresh_age_secs(50), 300);
        assert_eq!(refresh_age_secs(100), RISK_ARRAY_MAX_AGE_SECS as i64);
        assert_eq!(refresh_age_secs(0), 1, "never every cycle by accident");
        assert_eq!(refresh_drift(50), fixed(1, 100), "half of 2 %");
        assert_eq!(refresh_drift(100), xmargin::options::RISK_ARRAY_MAX_DRIFT);
    }

    #[test]
    fn what_is_due_when() {
        let spot = fixed(15, 100);
        assert_eq!(refresh_due(&option(0), NOW, spot, 50), None);
        assert_eq!(refresh_due(&option(299), NOW, spot, 50), None);
        assert_eq!(refresh_due(&option(300), NOW, spot, 50), Some(RefreshReason::Age));
        assert_eq!(refresh_due(&option(300), NOW, spot, 80), None, "80 %: after 480 s");
        // 1 % of 0.15 is 0.0015: 0.1515 is due, a hair less is not.
        let up = fixed(1_515, 10_000);
        assert_eq!(refresh_due(&option(0), NOW, up, 50), Some(RefreshReason::Drift));
        let just_under = up.checked_sub(Fixed::from_bits(1 << 20)).unwrap();
        assert_eq!(refresh_due(&option(0), NOW, just_under, 50), None);
        assert_eq!(refresh_due(&option(0), NOW, fixed(1_485, 10_000), 50), Some(RefreshReason::Drift));

        let mut never = option(0);
        never.risk_array = Default::default();
        assert_eq!(refresh_due(&never, NOW, spot, 50), Some(RefreshReason::Missing));
        let mut raised = option(0);
        raised.volatility = fixed(7, 10).into();
        assert_eq!(refresh_due(&raised, NOW, spot, 50), Some(RefreshReason::Volatility));
        let mut lowering = option(0);
        lowering.option.pending_volatility = fixed(5, 10).into();
        lowering.option.pending_volatility_ts = NOW;
        assert_eq!(refresh_due(&lowering, NOW, spot, 50), Some(RefreshReason::Volatility), "once due");
        assert_eq!(refresh_due(&lowering, NOW - 1, spot, 50), None, "before");
    }

    #[test]
    fn expired_settled_and_other_markets_are_left_alone() {
        let spot = fixed(15, 100);
        let expiry = option(0).expiry_ts;
        assert_eq!(refresh_due(&option(600), expiry - 1, spot, 50), Some(RefreshReason::Age));
        assert_eq!(refresh_due(&option(600), expiry, spot, 50), None);
        let mut settled = option(600);
        settled.status = market_status::SETTLED;
        assert_eq!(refresh_due(&settled, NOW, spot, 50), None);
        let mut perp = option(600);
        perp.kind = market_kind::PERPETUAL;
        assert_eq!(refresh_due(&perp, NOW, spot, 50), None);
    }
}
