//! # xmargin risk engine
//!
//! Pure, deterministic fixed-point math shared by the on-chain program (SBF),
//! the keeper, the CLI and the tests: token valuation, health, liquidation,
//! interest, funding, option pricing and portfolio margin.
//!
//! Rules that hold for every module:
//! - no floats outside tests, no panics, no `unsafe`: every fallible
//!   operation returns [`RiskError`];
//! - every rounding goes against the user and toward the protocol
//!   ([`Rounding::ASSET`] / [`Rounding::LIABILITY`]);
//! - price bias (confidence, stable price) is decided in one place,
//!   [`price`].
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::float_arithmetic))]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)
)]

pub mod error;
pub mod fixed;

pub use error::{RiskError, RiskResult};
pub use fixed::{Fixed, Rounding, FRAC_BITS};
pub mod health;
pub mod options;
pub mod portfolio;
pub mod price;
pub mod weights;

pub use health::{HealthBand, HealthCache, HealthType};
pub mod funding;
pub mod interest;
pub mod liquidation;
#[cfg(test)]
pub(crate) mod testutil;
