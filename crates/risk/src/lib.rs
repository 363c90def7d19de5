//! # xmargin risk engine
//!
//! Pure, deterministic fixed-point math shared by the on-chain program (SBF),
//! the keeper, the CLI and the tests: token valuation, health, liquidation,
//! interest, funding, option pricing and portfolio margin.
//!
//! | module            | what                                                                 |
//! |-------------------|----------------------------------------------------------------------|
//! | [`fixed`]         | `Fixed` (I80F48 semantics), checked ops with explicit rounding      |
//! | [`price`]         | Pyth → native-unit prices; **all** price-bias rules                   |
//! | [`weights`]       | per-bank weights, Init size scaling                                  |
//! | [`health`]        | `HealthType`, bands, `HealthCache`, token and derivative positions  |
//! | [`portfolio`]     | per-underlying netting, full-revaluation scenario grid (≤ linear)    |
//! | [`liquidation`]   | closed-form liquidation sizing, bonus, bankruptcy                    |
//! | [`interest`]      | kinked rate curve, index accrual, share conversions                  |
//! | [`funding`]       | perp funding rate and cumulative index                               |
//! | [`perp`]          | integer position accounting of fills: cost, realised PnL, flips       |
//! | [`perp_funding`]  | time-weighted marks, hourly funding per contract, floored settlement  |
//! | [`settlement`]    | expiry price from time-weighted samples, PnL settlement limits        |
//! | [`options`]       | `ln`/`exp`/`sqrt`/normal CDF, Black–Scholes with Greeks, risk arrays, intrinsic value at expiry |
//!
//! Rules that hold for every module:
//! - no floats outside tests, no panics, no `unsafe`: every fallible
//!   operation returns [`RiskError`];
//! - every rounding goes against the user and toward the protocol
//!   ([`Rounding::ASSET`] / [`Rounding::LIABILITY`]);
//! - price bias (confidence, stable price) is decided in one place,
//!   [`price`];
//! - per-position health math only multiplies; divisions happen once per
//!   oracle, bank or call of a sizing helper.
//!
//! ```
//! use xmargin_risk::health::{HealthCache, MarginMode, TokenInfo};
//! use xmargin_risk::price::{BiasedPrices, OraclePrice, PriceBias};
//! use xmargin_risk::weights::TokenWeights;
//! use xmargin_risk::{Fixed, HealthType};
//!
//! // 10 SOL at $150.00, conf $0.10 (Pyth expo −8), SOL 9 decimals, USDC 6.
//! let oracle = OraclePrice::from_pyth(15_000_000_000, 10_000_000, -8, 9, 6)?;
//! let prices = BiasedPrices::new(&oracle, oracle.lo, PriceBias { conf_multiplier: Fixed::ONE })?;
//! let w = TokenWeights {
//!     init_asset: "0.8".parse()?, maint_asset: "0.9".parse()?, liq_end_asset: "0.85".parse()?,
//!     init_liab: "1.2".parse()?, maint_liab: "1.1".parse()?, liq_end_liab: "1.15".parse()?,
//! };
//! let sol = TokenInfo::new(1, Fixed::from_u64(10_000_000_000), prices, &w)?;
//! let usdc = TokenInfo::new(0, Fixed::ZERO, BiasedPrices::flat(Fixed::ONE), &TokenWeights::ONE)?;
//! let cache = HealthCache::new(vec![usdc, sol], vec![], MarginMode::Linear)?;
//! // 10 · 149.90 · 0.8 = 1199.2 USDC = 1,199,200,000 micro-USDC of Init health
//! let init = cache.health(HealthType::Init)?;
//! assert_eq!(init.to_i64(xmargin_risk::Rounding::Floor)?, 1_199_199_999);
//! // ... so up to 1199.199999 USDC can be borrowed.
//! assert_eq!(cache.max_borrow(0)?, Fixed::from_u64(1_199_199_999));
//! # Ok::<(), xmargin_risk::RiskError>(())
//! ```
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::float_arithmetic))]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)
)]

extern crate alloc;

pub mod error;
pub mod fixed;
pub mod funding;
pub mod health;
pub mod interest;
pub mod liquidation;
pub mod options;
pub mod perp;
pub mod perp_funding;
pub mod portfolio;
pub mod price;
pub mod settlement;
pub mod weights;

#[cfg(test)]
pub(crate) mod testutil;

pub use error::{RiskError, RiskResult};
pub use fixed::{Fixed, Rounding, FRAC_BITS};
pub use health::{HealthBand, HealthCache, HealthSummary, HealthType, PerType};
