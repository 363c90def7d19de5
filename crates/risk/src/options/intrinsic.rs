//! Expiry of European options: the intrinsic value a cash-settled option
//! pays, exercised automatically in the money.
//!
//! Everything is in whole quote native units **per contract**, the unit of
//! every instruction price:
//!
//! ```text
//! S = settlement price per contract   (the market's settlement price per
//!                                      underlying native unit × contract
//!                                      size, rounded once to the nearest unit)
//! K = strike per contract             (as listed)
//! call: I = max(S − K, 0)             put: I = max(K − S, 0)
//! a position of c contracts (long > 0) realises   c · I − quote_cost
//! ```
//!
//! # Why one integer per contract (rounding)
//! `I` is an exact integer, so every account's value `c · I` is one too, and
//! because the contracts of a market sum to zero (longs = shorts), the values
//! of all its positions sum to exactly zero: what the longs receive is what
//! the shorts pay, to the unit. Rounding each side against its holder
//! instead (a long's `c · I` down, a short's up, on an unrounded `S`) would
//! make the shorts owe up to a unit per account more than the longs are
//! owed: a loss no winner can take, so the short's slot, and the market,
//! could never close. `S` itself has no protocol side (it is a market price:
//! the same rule as a dated future's settlement, rounded to the nearest unit,
//! which also undoes the binary rounding of a decimal oracle price), so the
//! payout moves by at most half a unit per contract either way, for both
//! sides alike.
use crate::error::{RiskError, RiskResult};

/// Intrinsic value per contract (quote native, ≥ 0) of a call (`is_call`)
/// or put struck at `strike_per_contract`, at a settlement price of
/// `settlement_per_contract` (module docs). Errors on a negative settlement
/// price.
pub fn intrinsic_per_contract(
    is_call: bool,
    settlement_per_contract: i64,
    strike_per_contract: u64,
) -> RiskResult<u64> {
    let s = u64::try_from(settlement_per_contract).map_err(|_| RiskError::InvalidPrice)?;
    let (high, low) = if is_call { (s, strike_per_contract) } else { (strike_per_contract, s) };
    Ok(high.saturating_sub(low))
}

/// PnL realised when a position of `contracts` (long > 0) that cost
/// `quote_cost` expires worth `value_per_contract` each:
/// `contracts · value − quote_cost`, exact, or `Overflow`.
pub fn expiry_pnl(contracts: i64, value_per_contract: i64, quote_cost: i64) -> RiskResult<i64> {
    let value =
        i128::from(contracts).checked_mul(i128::from(value_per_contract)).ok_or(RiskError::Overflow)?;
    let pnl = value.checked_sub(i128::from(quote_cost)).ok_or(RiskError::Overflow)?;
    i64::try_from(pnl).map_err(|_| RiskError::Overflow)
}

#[cfg(test)]
#[path = "intrinsic_tests.rs"]
mod tests;
