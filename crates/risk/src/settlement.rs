//! Settlement: the expiry price of dated markets and the per-window limit on
//! turning unrealised PnL into quote tokens.
//!
//! # Expiry price: a time-weighted mean of samples
//! A settlement price must not be one manipulable print. Permissionless
//! cranks record oracle samples during the last [`SETTLEMENT_WINDOW_SECS`]
//! before expiry; each sample stands for the time since the previous one
//! (the first: since the window opened), at most [`MAX_SAMPLE_WEIGHT_SECS`]:
//!
//! ```text
//! start   = max(window_start, expiry − 1800)
//! accept  iff start ≤ now ≤ expiry  and  now > last_ts (after the first)
//! dt_i    = min(now_i − (last_ts or start), 300)
//! price   = ⌊Σ price_i · dt_i / Σ dt_i⌋      if count ≥ min_count and Σ dt_i > 0
//! ```
//!
//! The cap is why a caller cannot pick its moment: while keepers sample,
//! one sample taken after a quiet spell (or the first, late in the window)
//! weighs five minutes at most, not the whole gap.
//!
//! Refused samples return `Ok(false)` (a crank racing another is not an
//! error). The mean is floored: a settlement price has no protocol side,
//! and one ulp (2^-48) moves nothing.
//!
//! # Fallbacks ([`settlement_rule`])
//! The mean counts only with at least `min_count` samples that together
//! cover [`MIN_SAMPLE_COVERAGE_SECS`] (a count alone could be met by five
//! samples in the last five seconds, all timed by one caller). Otherwise
//! the price is the oracle's, published in `[expiry, expiry + max_age]`
//! (fresh and certain): the first caller chooses among at most `max_age`
//! seconds of prices, not any later one. If nobody could fix it so (the
//! oracle was down, or nobody called in time), after
//! [`SETTLEMENT_TIMEOUT_SECS`] the market settles on what it holds: the mean
//! of any samples; else its stable price, if that moved within the sampling
//! window (a stable price last moved days before expiry is not a price at
//! expiry); else the first fresh oracle reading once the oracle lives again.
//!
//! # PnL settlement limit
//! Unrealised profit becomes tokens only through settlement against a loser,
//! and at most a fraction of the position's notional per window (Mango's
//! default: 0.2 · |base| · stable price per 24 h), so a briefly pumped mark
//! cannot be cashed out at once. The limit applies to **unrealised** PnL:
//! realised PnL (closed at a traded price) is always settleable. For a
//! winner with realised `r` and unrealised `u`:
//!
//! ```text
//! limit       = ⌊fraction · |base| · stable⌋                 per window
//! settleable  = min((r + u)⁺, r⁺ + window_left)              (≥ 0)
//! amount      = min(winner⁺, loser⁻, winner_left, loser_left)
//! charged     = amount − min(amount, r⁺)                     (window used)
//! ```
//!
//! Losers are never limited: pass `loser_left = u64::MAX`. Settling moves
//! `amount` from the winner's PnL to its token balance and the other way for
//! the loser (`realized_pnl ∓= amount` in [`crate::perp::PerpPosition`]).
//! Every rounding here is a floor, against the winner.

use crate::error::{RiskError, RiskResult};
use crate::fixed::{Fixed, Rounding};

/// Length of the sampling window before expiry, in seconds (Derive settles
/// on a 30-minute TWAP).
pub const SETTLEMENT_WINDOW_SECS: u64 = 1_800;

/// Longest time one sample stands for, in seconds (module docs).
pub const MAX_SAMPLE_WEIGHT_SECS: u64 = 300;

/// Least time the samples must cover for their mean to be the settlement
/// price (half the window): a count alone could be met by five samples in
/// the last five seconds, all timed by one caller.
pub const MIN_SAMPLE_COVERAGE_SECS: u64 = 900;

/// After expiry + this many seconds with no price fixed, a dated market
/// settles on what it holds (module docs, "Fallbacks").
pub const SETTLEMENT_TIMEOUT_SECS: i64 = 3_600;

/// Where a settlement price comes from (module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SettlementSource {
    /// The time-weighted mean of at least `min_count` samples covering
    /// [`MIN_SAMPLE_COVERAGE_SECS`].
    Samples,
    /// The oracle, published within `max_age` after expiry.
    OracleAfterExpiry,
    /// After the timeout: the mean of fewer samples, the stable price if it
    /// was refreshed in the sampling window, else the live oracle.
    Timeout,
}

/// How the settlement price is fixed at `now` (module docs, "Fallbacks").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SettlementRule {
    /// From stored state: no oracle reading needed.
    Stored(SettlementSource, Fixed),
    /// From a fresh, certain oracle reading published at or after
    /// `earliest_publish` and at most `latest_publish` (`i64::MAX`: any).
    Oracle {
        /// What the reading counts as.
        source: SettlementSource,
        /// Earliest accepted publish time (expiry).
        earliest_publish: i64,
        /// Latest accepted publish time.
        latest_publish: i64,
    },
}

/// The rule that fixes a dated market's settlement price at `now`:
/// 1. samples: at least `min_count`, covering [`MIN_SAMPLE_COVERAGE_SECS`];
/// 2. until the timeout: the oracle published in `[expiry, expiry + max_age]`;
/// 3. after it: the mean of any samples; else the stable price if it moved
///    (`stable_price_ts`) within the sampling window before expiry or
///    later; else any fresh oracle price after expiry (the first reading of
///    a revived oracle: nothing better exists).
pub fn settlement_rule(
    samples: &PriceSamples,
    min_count: u32,
    stable: (Fixed, i64),
    expiry: i64,
    max_age_secs: u32,
    now: i64,
) -> SettlementRule {
    if samples.total_secs >= MIN_SAMPLE_COVERAGE_SECS {
        if let Some(p) = samples.settlement_price(min_count) {
            return SettlementRule::Stored(SettlementSource::Samples, p);
        }
    }
    if now <= expiry.saturating_add(SETTLEMENT_TIMEOUT_SECS) {
        return SettlementRule::Oracle {
            source: SettlementSource::OracleAfterExpiry,
            earliest_publish: expiry,
            latest_publish: expiry.saturating_add(i64::from(max_age_secs)),
        };
    }
    if let Some(p) = samples.settlement_price(1) {
        return SettlementRule::Stored(SettlementSource::Timeout, p);
    }
    let (stable_price, stable_ts) = stable;
    let window = i64::try_from(SETTLEMENT_WINDOW_SECS).unwrap_or(i64::MAX);
    if stable_price.is_positive() && stable_ts >= expiry.saturating_sub(window) {
        return SettlementRule::Stored(SettlementSource::Timeout, stable_price);
    }
    SettlementRule::Oracle {
        source: SettlementSource::Timeout,
        earliest_publish: expiry,
        latest_publish: i64::MAX,
    }
}

/// Oracle samples recorded before expiry (module docs). `Default` is empty.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PriceSamples {
    /// `Σ price_i · dt_i` (quote native per native unit × seconds).
    pub sum_price_secs: Fixed,
    /// `Σ dt_i`.
    pub total_secs: u64,
    /// Samples accepted.
    pub count: u32,
    /// Timestamp of the last accepted sample (meaningless while `count == 0`).
    pub last_ts: i64,
}

impl PriceSamples {
    /// Records `price` at `now` if it falls in the window and is newer than
    /// the last sample; returns whether it was accepted. Errors only on a
    /// non-positive price or overflow (then nothing is recorded).
    pub fn record(&mut self, price: Fixed, now: i64, window_start: i64, expiry: i64) -> RiskResult<bool> {
        if !price.is_positive() {
            return Err(RiskError::InvalidPrice);
        }
        let window = i64::try_from(SETTLEMENT_WINDOW_SECS).map_err(|_| RiskError::Overflow)?;
        let start = window_start.max(expiry.checked_sub(window).ok_or(RiskError::Overflow)?);
        if now < start || now > expiry || (self.count > 0 && now <= self.last_ts) {
            return Ok(false);
        }
        let from = if self.count == 0 { start } else { self.last_ts.max(start) };
        let dt = now.checked_sub(from).ok_or(RiskError::Overflow)?.min(MAX_SAMPLE_WEIGHT_SECS as i64);
        let sum = self.sum_price_secs.checked_add(price.checked_mul_int(dt)?)?;
        let dt = u64::try_from(dt).map_err(|_| RiskError::Overflow)?;
        let total = self.total_secs.checked_add(dt).ok_or(RiskError::Overflow)?;
        let count = self.count.checked_add(1).ok_or(RiskError::Overflow)?;
        *self = PriceSamples { sum_price_secs: sum, total_secs: total, count, last_ts: now };
        Ok(true)
    }

    /// Time-weighted mean of the samples, rounded down; `None` with fewer
    /// than `min_count` samples or no time covered.
    pub fn settlement_price(&self, min_count: u32) -> Option<Fixed> {
        if self.count < min_count || self.total_secs == 0 {
            return None;
        }
        self.sum_price_secs.checked_div(Fixed::from_u64(self.total_secs), Rounding::Floor).ok()
    }
}

/// Unrealised PnL settleable per window: `⌊fraction · |base| · stable⌋`
/// quote native (two floors, against the winner). `base_native_abs` is the
/// position's |base| in underlying native units, `stable_price` the stable
/// price per native unit.
pub fn settle_limit(base_native_abs: Fixed, stable_price: Fixed, fraction: Fixed) -> RiskResult<u64> {
    if base_native_abs.is_negative() || fraction.is_negative() {
        return Err(RiskError::InvalidParameter);
    }
    if stable_price.is_negative() {
        return Err(RiskError::InvalidPrice);
    }
    base_native_abs.checked_mul_floor(stable_price)?.checked_mul_floor(fraction)?.to_u64(Rounding::Floor)
}

/// What a winner may settle now: all of its realised profit plus up to
/// `window_left` of unrealised, never more than its total PnL (module docs).
/// Always `≥ 0`; saturates at `i64::MAX`.
pub fn settleable(realized: i64, unrealized: i64, window_left: u64) -> i64 {
    let total = (i128::from(realized) + i128::from(unrealized)).max(0);
    let allowed = i128::from(realized.max(0)) + i128::from(window_left);
    i64::try_from(total.min(allowed)).unwrap_or(i64::MAX)
}

/// Amount settled between a winner and a loser: the smaller of the winner's
/// profit, the loser's loss and both remaining allowances (`0` unless
/// `winner_pnl > 0 > loser_pnl`). Pass `settleable(..)` as `winner_left`
/// and `u64::MAX` as `loser_left` (losers are never limited).
pub fn settle_amount(winner_pnl: i64, loser_pnl: i64, winner_left: u64, loser_left: u64) -> u64 {
    let profit = u64::try_from(winner_pnl).unwrap_or(0);
    let loss = if loser_pnl < 0 { loser_pnl.unsigned_abs() } else { 0 };
    profit.min(loss).min(winner_left).min(loser_left)
}

/// Part of a winner's settled `amount` charged to its unrealised window:
/// realised profit is settled first and is free.
pub fn window_charge(realized: i64, amount: u64) -> u64 {
    amount.saturating_sub(u64::try_from(realized).unwrap_or(0))
}

#[cfg(test)]
#[path = "settlement_tests.rs"]
mod tests;
