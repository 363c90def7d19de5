//! Withdraw limits of a portfolio-mode account. Portfolio health is not
//! linear in one token's balance (a deposit nets with the derivatives on its
//! underlying: withdrawing a hedge raises the book's requirement), so the
//! closed form of linear mode does not apply. Instead:
//! - linear Init is a lower bound of portfolio Init, so the linear maximum
//!   (the closed form on a linear copy) is the floor;
//! - above it the amount doubles while portfolio Init stays ≥ 0, then is
//!   bisected between the last healthy amount and the first unhealthy one;
//! - each candidate moves the balance as the program's share arithmetic can
//!   ([`balance_after`]): the deposit down by the amount and [`SHARE_SLACK`]
//!   native units (shares burned rounding up) but not below 0, all of it
//!   once the amount reaches it, the rest borrowed with the slack (borrow
//!   shares created rounding up).
//!
//! The result is always an amount the search found healthy, at least the
//! linear maximum, and the largest when health falls as more is withdrawn
//! (the usual case; a book capped at its value, or a borrow that hedges a
//! long, can hold health flat or raise it, and the search may then stop
//! short). The token's weights are the cache's (a bank near its weight
//! scaling threshold is not re-scaled). About 2 × 64 portfolio valuations
//! of a copy of the cache (host: CLI, clients).

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
        let balance = self.token(token_index)?.balance;
        let held = balance.positive_part().floor();
        let cap = if allow_borrow { MAX_AMOUNT } else { held.to_u64(crate::Rounding::Floor)? };
        let healthy = |amount: u64| -> bool {
            let mut after = self.clone();
            let moved = balance_after(balance, amount)
                .and_then(|b| after.adjust_token_balance(token_index, b.checked_sub(balance)?));
            // An amount the engine cannot value (beyond its range) is refused.
            moved.is_ok() && after.health(HealthType::Init).is_ok_and(|h| !h.is_negative())
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
        while hi <= cap && hi > lo && healthy(hi) {
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

/// The balance after withdrawing `amount` native as the program's share
/// arithmetic can leave it (module docs): a deposit lowered by the amount
/// and [`SHARE_SLACK`] but not below 0; all of it (its whole units and its
/// fraction) once the amount reaches its whole units, the rest borrowed with
/// the slack; a debt grown by the amount and the slack; nothing withdrawn,
/// nothing moved.
fn balance_after(balance: Fixed, amount: u64) -> crate::RiskResult<Fixed> {
    if amount == 0 {
        return Ok(balance);
    }
    let amount = Fixed::from_u64(amount);
    let slack = Fixed::from_i64(SHARE_SLACK);
    if balance.is_positive() {
        let held = balance.floor();
        if amount < held {
            return Ok(balance.checked_sub(amount)?.checked_sub(slack)?.positive_part());
        }
        let borrowed = amount.checked_sub(held)?;
        if borrowed.is_zero() {
            return Ok(Fixed::ZERO);
        }
        return borrowed.checked_add(slack)?.checked_neg();
    }
    balance.checked_sub(amount)?.checked_sub(slack)
}

#[cfg(test)]
#[path = "limits_tests.rs"]
mod tests;
