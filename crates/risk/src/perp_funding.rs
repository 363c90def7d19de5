//! Time-weighted marks and hourly perpetual funding, settled in whole quote
//! native units per contract position.
//!
//! ```text
//! w          = min(dt, window) / window
//! twap'      = twap + (sample − twap) · w                  (twap = 0: never set → sample)
//! premium    = (mark_twap − oracle_twap) / oracle_twap
//! rate/hour  = clamp(premium, −cap, +cap) / 24             (cap: max daily premium)
//! Δcum       = rate/hour · oracle_price_per_contract · min(dt, 3600) / 3600
//! exact      = −contracts · (cum_now − snapshot)           (quote native credited)
//! credit     = ⌊exact⌋,   dust = exact − credit ∈ [0, 1)
//! ```
//!
//! # Mark
//! The mark sampled into `mark_twap` is `oracle · (1 + mark_premium)`, where
//! the premium in force moves toward each trade's `price / oracle − 1` by
//! `min(1, contracts / depth)` and returns to 0 at every funding update
//! (at most one per [`FUNDING_PERIOD_SECS`]). The program passes
//! `depth = max(mark_depth, open interest)`. Weighting by size is the
//! defence against steering: with the last trade's price as the mark, one
//! minimum-size print at the edge of the price band right after each update
//! would hold funding at its cap for a whole hour. Now moving the mark by a
//! fraction `f` of a premium takes `f · depth` contracts, that is a trade
//! the size of the market's open interest, margined at Init on both sides.
//! (A wash round trip of that size between two accounts of one holder still
//! costs only that transient margin; a trading fee would price it and is
//! not built.)
//!
//! A positive rate (mark above oracle) makes longs pay shorts. The
//! cumulative index is in quote native **per contract**, so settlement is an
//! exact integer × `Fixed` product and one floor. ([`crate::funding`] is the
//! per-native-unit, per-period form with a floored rate, kept for
//! [`crate::health::DerivativeInfo::unsettled_funding`]; the premium here is
//! daily, the rounding symmetric and the settlement split into integer and
//! dust, so it is not reused.)
//!
//! # Rounding
//! - TWAP: one floor of the exact `(sample − twap) · w` (< 1 ulp per update).
//!   A mark has no protocol side; the bias is 2^-48 quote native.
//! - Rate and `Δcum`: rounded toward zero, so neither side is favoured and a
//!   rounding never flips the direction of payment. Zero-sum does not depend
//!   on these roundings: every position reads the same index.
//! - Settlement: the credit is floored, so a payer pays the fractional ulp
//!   and a receiver forgoes it; the `dust` is kept by the protocol. For any
//!   set of positions whose contracts sum to zero, `Σ credit + Σ dust = 0`
//!   exactly, so `Σ credit ≤ 0`: funding never creates tokens.
//!
//! # One hour per step
//! [`funding_delta_per_contract`] accrues at most [`MAX_FUNDING_STEP_SECS`]
//! per call (Mango caps one update at 3,600 s): a crank that was down for a
//! day does not charge a day of funding at one stale rate. The cap is the
//! caller's contract (it should advance its timestamp by the full `dt`
//! anyway, forgoing the excess); the function enforces it with `min`.

use crate::error::{RiskError, RiskResult};
use crate::fixed::{Fixed, Rounding};

/// Longest interval one funding update accrues, in seconds.
pub const MAX_FUNDING_STEP_SECS: u64 = 3_600;
/// Least time between two funding updates, in seconds (the program refuses
/// earlier ones): each update resets the mark premium, so a crank after
/// every trade could otherwise erase real premiums.
pub const FUNDING_PERIOD_SECS: i64 = 3_600;
/// The premium is paid over a day: hourly rate = daily premium / 24.
pub const FUNDING_HOURS_PER_DAY: u64 = 24;

/// Rounding of a signed quantity toward zero, given its sign.
fn toward_zero(negative: bool) -> Rounding {
    if negative {
        Rounding::Ceil
    } else {
        Rounding::Floor
    }
}

/// Time-weighted update of a mark (module docs). `twap == 0` means never
/// set: the first sample is taken as is. A `dt` of a whole window or more
/// replaces the average by the sample.
pub fn update_twap(twap: Fixed, sample: Fixed, dt_secs: u64, window_secs: u64) -> RiskResult<Fixed> {
    if window_secs == 0 {
        return Err(RiskError::InvalidParameter);
    }
    if sample.is_negative() || twap.is_negative() {
        return Err(RiskError::InvalidPrice);
    }
    if twap.is_zero() {
        return Ok(sample);
    }
    let w_num = Fixed::from_u64(dt_secs.min(window_secs));
    let step =
        sample.checked_sub(twap)?.checked_mul_div(w_num, Fixed::from_u64(window_secs), Rounding::Floor)?;
    twap.checked_add(step)
}

/// Premium of a trade over the oracle, `price / oracle − 1` (signed
/// fraction), rounded toward zero.
pub fn trade_premium(price: Fixed, oracle: Fixed) -> RiskResult<Fixed> {
    if !oracle.is_positive() || price.is_negative() {
        return Err(RiskError::InvalidPrice);
    }
    let diff = price.checked_sub(oracle)?;
    diff.checked_div(oracle, toward_zero(diff.is_negative()))
}

/// The mark premium in force after a trade of `contracts` at `premium`:
/// `old + (premium − old) · min(1, contracts / depth)`, the step rounded
/// toward zero (module docs, "Mark"). A trade of `depth` contracts or more
/// sets the premium outright; a min-size print barely moves it.
pub fn blend_mark_premium(old: Fixed, premium: Fixed, contracts: u64, depth: u64) -> RiskResult<Fixed> {
    if depth == 0 {
        return Err(RiskError::InvalidParameter);
    }
    let step = premium.checked_sub(old)?;
    let weighted = step.checked_mul_div(
        Fixed::from_u64(contracts.min(depth)),
        Fixed::from_u64(depth),
        toward_zero(step.is_negative()),
    )?;
    old.checked_add(weighted)
}

/// The mark sampled over an interval: `oracle · (1 + premium)`, floored,
/// never negative.
pub fn mark_sample(oracle: Fixed, premium: Fixed) -> RiskResult<Fixed> {
    let factor = Fixed::ONE.checked_add(premium)?.max(Fixed::ZERO);
    oracle.checked_mul_floor(factor)
}

/// Funding rate per hour from the two TWAPs: the premium over the oracle,
/// clamped to `±max_daily_premium`, spread over 24 hours. Rounded toward
/// zero (module docs).
pub fn hourly_funding_rate(
    mark_twap: Fixed,
    oracle_twap: Fixed,
    max_daily_premium: Fixed,
) -> RiskResult<Fixed> {
    if !oracle_twap.is_positive() || mark_twap.is_negative() {
        return Err(RiskError::InvalidPrice);
    }
    if max_daily_premium.is_negative() {
        return Err(RiskError::InvalidParameter);
    }
    let diff = mark_twap.checked_sub(oracle_twap)?;
    let premium = diff.checked_div(oracle_twap, toward_zero(diff.is_negative()))?;
    let clamped = premium.max(max_daily_premium.checked_neg()?).min(max_daily_premium);
    clamped.checked_div(Fixed::from_u64(FUNDING_HOURS_PER_DAY), toward_zero(clamped.is_negative()))
}

/// Increase of the cumulative funding index (quote native per contract)
/// over `dt_secs`, capped at [`MAX_FUNDING_STEP_SECS`]; one rounding of the
/// exact `rate · price · dt / 3600`, toward zero.
pub fn funding_delta_per_contract(
    rate_per_hour: Fixed,
    oracle_price_per_contract: Fixed,
    dt_secs: u64,
) -> RiskResult<Fixed> {
    if !oracle_price_per_contract.is_positive() {
        return Err(RiskError::InvalidPrice);
    }
    let dt = dt_secs.min(MAX_FUNDING_STEP_SECS);
    let dt = i64::try_from(dt).map_err(|_| RiskError::Overflow)?;
    let price_secs = oracle_price_per_contract.checked_mul_int(dt)?;
    rate_per_hour.checked_mul_div(
        price_secs,
        Fixed::from_u64(MAX_FUNDING_STEP_SECS),
        toward_zero(rate_per_hour.is_negative()),
    )
}

/// Funding settled on a position (module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FundingSettlement {
    /// Quote native credited to the account (negative: paid), floored: the
    /// payer pays the fractional unit.
    pub credit: i64,
    /// `exact − credit`, in `[0, 1)` quote native, kept by the protocol.
    pub dust: Fixed,
}

/// Settles `contracts` (long > 0) against the cumulative index since its
/// `snapshot`: exact credit `−contracts · (cum_now − snapshot)` (an exact
/// integer × `Fixed` product), split into a floored integer and its dust.
pub fn settle_funding(contracts: i64, cum_now: Fixed, snapshot: Fixed) -> RiskResult<FundingSettlement> {
    let exact = cum_now.checked_sub(snapshot)?.checked_mul_int(contracts)?.checked_neg()?;
    let credit = exact.to_i64(Rounding::Floor)?;
    let dust = exact.checked_sub(Fixed::from_i64(credit))?;
    Ok(FundingSettlement { credit, dust })
}

#[cfg(test)]
#[path = "perp_funding_tests.rs"]
mod tests;
