//! The single error type of the risk engine.
//!
//! Every fallible operation in this crate returns `Result<_, RiskError>`; the
//! library never panics on untrusted input. The on-chain program maps each
//! variant to one of its named Anchor errors, so variants are coarse and stable.

use core::fmt;

/// Errors returned by the risk engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RiskError {
    /// A fixed-point or integer result does not fit its type.
    Overflow,
    /// Division by zero (or by a value that rounds to zero).
    DivisionByZero,
    /// An oracle price is zero or negative, or its exponent is out of range.
    InvalidPrice,
    /// A risk parameter is outside its allowed range (weights out of order,
    /// negative rates, optimal utilization not in (0, 1), ...).
    InvalidParameter,
    /// A token index was not found in the health cache.
    TokenNotFound,
    /// A derivative market index was not found in the health cache.
    DerivativeNotFound,
    /// The same token or market index was given twice to a health cache.
    DuplicateIndex,
    /// A liquidation was requested for an account that is not liquidatable
    /// (Maint health ≥ 0) or whose LiquidationEnd health is already ≥ 0.
    NotLiquidatable,
    /// The requested liquidation pair cannot improve LiquidationEnd health
    /// (the liability weight does not exceed the bonus-scaled asset weight),
    /// or the liability / asset side is empty.
    LiquidationNotImproving,
    /// A math function was called outside its domain (ln of a non-positive
    /// number, sqrt of a negative number, option with zero strike, ...).
    Domain,
    /// Too many entries for a fixed-capacity structure.
    CapacityExceeded,
}

impl fmt::Display for RiskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            RiskError::Overflow => "arithmetic overflow",
            RiskError::DivisionByZero => "division by zero",
            RiskError::InvalidPrice => "invalid oracle price",
            RiskError::InvalidParameter => "invalid risk parameter",
            RiskError::TokenNotFound => "token not in health cache",
            RiskError::DerivativeNotFound => "derivative market not in health cache",
            RiskError::DuplicateIndex => "duplicate index in health cache",
            RiskError::NotLiquidatable => "account is not liquidatable",
            RiskError::LiquidationNotImproving => "liquidation would not improve health",
            RiskError::Domain => "argument outside function domain",
            RiskError::CapacityExceeded => "capacity exceeded",
        };
        f.write_str(s)
    }
}

impl core::error::Error for RiskError {}

/// Shorthand used throughout the crate.
pub type RiskResult<T> = Result<T, RiskError>;
