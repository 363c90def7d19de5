//! Integer position accounting for perpetual and dated-future trades.
//!
//! A position is kept in whole contracts and quote native units, as the
//! program stores it:
//!
//! ```text
//! base         contracts, long > 0
//! quote_cost   quote native paid for the open base (> 0 long, < 0 short)
//! realized_pnl quote native realised by reductions, not yet settled to tokens
//! ```
//!
//! A fill of `delta` contracts (bought > 0, sold < 0) at `price` quote native
//! per contract first closes `c = min(|delta|, |base|)` contracts if it goes
//! against the position, then opens the rest:
//!
//! ```text
//! removed   = ⌈quote_cost · c / |base|⌉          (= quote_cost when c = |base|)
//! realized  = −sign(delta) · c · price − removed  (long: c·price − removed;
//!                                                  short: |removed| − c·price)
//! o         = delta − sign(delta) · c             signed contracts opened
//! base'     = base + delta
//! cost'     = quote_cost − removed + o · price
//! ```
//!
//! A flip closes the whole position (all its cost, exactly) and opens the
//! remainder at `price`.
//!
//! # Rounding and the cash-flow identity
//! Only the proportional cost `removed` is rounded, and always up (toward
//! +∞): for a long it removes a little more of what was paid, for a short a
//! little less of what was received, so the realised PnL is rounded down
//! (toward −∞) on both sides, by less than one quote native unit, and the
//! remaining entry price `quote_cost / base` moves by less than one unit.
//! Whatever the rounding, the identity
//!
//! ```text
//! Δ(realized_pnl − quote_cost) = −delta · price      (exact)
//! ```
//!
//! holds for every fill: the position's claim changes by exactly the quote
//! cash flow of the trade. Two counterparties trade `+delta` and `−delta` at
//! one price, so their changes sum to zero: accounting neither creates nor
//! destroys quote. A full close removes the cost exactly, so the realised
//! PnL of a round trip is `Σ sells − Σ buys`, to the unit.
//!
//! # Health
//! [`health_cost_basis`] (`quote_cost − realized_pnl`) is the cost basis a
//! [`crate::health::DerivativeInfo`] takes, so its
//! `pnl = value − cost_basis + unsettled_funding` counts the
//! realised-but-unsettled PnL too (a realised profit is not cash until
//! settled, and is weighted like any other profit). [`base_native`] and [`price_per_native`] convert contracts and
//! per-contract prices to the native units health works in.

use crate::error::{RiskError, RiskResult};
use crate::fixed::{Fixed, Rounding};

/// A position in one market, in contracts and quote native units (module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct PerpPosition {
    /// Contracts, long > 0.
    pub base: i64,
    /// Quote native paid for the open base: > 0 for longs, < 0 for shorts.
    pub quote_cost: i64,
    /// Quote native realised and not yet settled to tokens.
    pub realized_pnl: i64,
}

/// Result of [`apply_fill`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fill {
    /// The position after the fill.
    pub position: PerpPosition,
    /// PnL realised by this fill (already added to `position.realized_pnl`).
    pub realized: i64,
    /// Contracts closed (≥ 0).
    pub closed: i64,
    /// Contracts opened (≥ 0; after a flip, the new side's size).
    pub opened: i64,
}

fn to_i64(v: i128) -> RiskResult<i64> {
    i64::try_from(v).map_err(|_| RiskError::Overflow)
}

fn mul(a: i128, b: i128) -> RiskResult<i128> {
    a.checked_mul(b).ok_or(RiskError::Overflow)
}

fn add(a: i128, b: i128) -> RiskResult<i128> {
    a.checked_add(b).ok_or(RiskError::Overflow)
}

fn sub(a: i128, b: i128) -> RiskResult<i128> {
    a.checked_sub(b).ok_or(RiskError::Overflow)
}

/// `⌈a / b⌉` for `b > 0`, with one unsigned `u128` division (the only
/// 128-bit division libcall the crate uses on BPF is `__udivti3`).
fn div_ceil(a: i128, b: i128) -> RiskResult<i128> {
    if b <= 0 {
        return Err(RiskError::DivisionByZero);
    }
    let (ua, ub) = (a.unsigned_abs(), b.unsigned_abs());
    let q = ua / ub; // |a| / b truncated
    let q = i128::try_from(q).map_err(|_| RiskError::Overflow)?;
    if a < 0 {
        return Ok(-q); // truncating a negative quotient is its ceiling
    }
    let inexact = q.unsigned_abs().checked_mul(ub) != Some(ua);
    Ok(if inexact { add(q, 1)? } else { q })
}

/// Applies a fill of `delta` contracts (bought > 0, sold < 0) at `price`
/// quote native per contract (module docs). All arithmetic is in `i128`,
/// checked; the new position must fit `i64` fields.
pub fn apply_fill(p: PerpPosition, delta: i64, price: u64) -> RiskResult<Fill> {
    let (base, d, px) = (i128::from(p.base), i128::from(delta), i128::from(price));
    let against = base != 0 && d != 0 && (base > 0) != (d > 0);
    let closed = if against { d.abs().min(base.abs()) } else { 0 };
    let opened = sub(d.abs(), closed)?;
    let sign = d.signum();
    let mut cost = i128::from(p.quote_cost);
    let mut realized = 0;
    if closed > 0 {
        let removed = if closed == base.abs() { cost } else { div_ceil(mul(cost, closed)?, base.abs())? };
        realized = sub(mul(mul(sign, closed)?, px)?.checked_neg().ok_or(RiskError::Overflow)?, removed)?;
        cost = sub(cost, removed)?;
    }
    cost = add(cost, mul(mul(sign, opened)?, px)?)?;
    let position = PerpPosition {
        base: to_i64(add(base, d)?)?,
        quote_cost: to_i64(cost)?,
        realized_pnl: to_i64(add(i128::from(p.realized_pnl), realized)?)?,
    };
    Ok(Fill { position, realized: to_i64(realized)?, closed: to_i64(closed)?, opened: to_i64(opened)? })
}

/// `contracts · contract_size` underlying native units, exact.
pub fn base_native(contracts: i64, contract_size: u64) -> RiskResult<Fixed> {
    Fixed::checked_from_i128(mul(i128::from(contracts), i128::from(contract_size))?)
}

/// `price_per_contract / contract_size`: quote native per underlying native
/// unit (the unit of every health price), rounded down. Exact when the
/// contract size is a power of two or divides the price; otherwise the
/// error is below one ulp (2^-48) per native unit.
pub fn price_per_native(price_per_contract: u64, contract_size: u64) -> RiskResult<Fixed> {
    if contract_size == 0 {
        return Err(RiskError::InvalidParameter);
    }
    Fixed::from_u64(price_per_contract).checked_div(Fixed::from_u64(contract_size), Rounding::Floor)
}

/// Cost basis for health: `quote_cost − realized_pnl` (exact), so that
/// `pnl = value − cost_basis + unsettled_funding` includes the realised but
/// unsettled PnL (module docs).
pub fn health_cost_basis(p: &PerpPosition) -> RiskResult<Fixed> {
    Fixed::checked_from_i128(sub(i128::from(p.quote_cost), i128::from(p.realized_pnl))?)
}

#[cfg(test)]
#[path = "perp_tests.rs"]
mod tests;
