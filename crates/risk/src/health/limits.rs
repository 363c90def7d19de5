//! Withdraw limits of a portfolio-mode account. Portfolio health is not
//! linear in one token's balance (a deposit nets with the derivatives on its
//! underlying: withdrawing a hedge raises the book's requirement), so the
//! closed form of linear mode does not apply. Instead:
//! - linear Init is a lower bound of portfolio Init, so the linear maximum
//!   (the closed form on a linear copy) can be withdrawn;
//! - above it the amount doubles while portfolio Init stays ≥ 0, then is
//!   bisected between the last healthy amount and the first unhealthy one
//!   (withdrawing more never raises health);
//! - each candidate lowers the balance by the amount plus [`SHARE_SLACK`]
//!   native units: the program burns deposit shares and creates borrow
//!   shares rounding up, so the balance it checks can be a unit or two below
//!   `balance − amount`.
//!
//! The result is always an amount the search found healthy. About 2 × 64
//! portfolio valuations of a copy of the cache (host: CLI, clients).

use super::{HealthCache, HealthType, MarginMode};
use crate::error::RiskResult;
use crate::fixed::Fixed;

/// Native units of slack for the program's share rounding.
const SHARE_SLACK: i64 = 2;

/// The largest amount tried: beyond any token supply in native units.
const MAX_AMOUNT: u64 = 1 << 62;

impl HealthCache {
    /// [`HealthCache::max_withdraw`] in portfolio mode (module docs).
    pub(super) fn portfolio_max_withdraw(&self, token_index: u16, allow_borrow: bool) -> RiskResult<Fixed> {
        let held = self.token(token_index)?.balance.positive_part().floor();
        let cap = if allow_borrow { MAX_AMOUNT } else { held.to_u64(crate::Rounding::Floor)? };
        let healthy = |amount: u64| -> bool {
            let mut after = self.clone();
            let lowered = Fixed::from_u64(amount)
                .checked_add(Fixed::from_i64(SHARE_SLACK))
                .and_then(|d| after.adjust_token_balance(token_index, d.checked_neg()?));
            // An amount the engine cannot value (beyond its range) is refused.
            lowered.is_ok() && after.health(HealthType::Init).is_ok_and(|h| !h.is_negative())
        };
        let mut linear = self.clone();
        linear.set_mode(MarginMode::Linear)?;
        let floor = linear.linear_max_withdraw(token_index, allow_borrow)?.to_u64(crate::Rounding::Floor)?;
        let mut lo = floor.min(cap);
        if !healthy(lo) {
            if lo == 0 || !healthy(0) {
                return Ok(Fixed::ZERO);
            }
            lo = 0;
        }
        let mut hi = lo.saturating_mul(2).max(1);
        while hi <= cap && healthy(hi) {
            lo = hi;
            hi = hi.saturating_mul(2);
        }
        let mut hi = hi.min(cap.saturating_add(1));
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if healthy(mid) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Ok(Fixed::from_u64(lo))
    }
}

#[cfg(test)]
#[path = "limits_tests.rs"]
mod tests;
