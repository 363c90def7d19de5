//! Account health: one number per health type, positive = safe.
//!
//! ```text
//! health_T = Σ asset_value_i · w_asset_T(i) − Σ liability_value_j · w_liab_T(j)
//!          + Σ derivative weighted PnL_T − Σ derivative margin requirement_T
//! ```
//!
//! # Health types
//! - **Init** — the strictest. Uses Init weights (size-scaled, see
//!   [`crate::weights`]), the conservative of spot and stable prices
//!   ([`crate::price`]) and the Init margin rates. Every risk-increasing
//!   instruction (withdraw, borrow, trade, delegate action) must leave it
//!   ≥ 0, or not decrease it when it is already negative.
//! - **Maint** — the loosest. Spot prices with confidence bias, Maint
//!   weights. An account is liquidatable iff Maint health < 0.
//! - **LiquidationEnd** — in between. Liquidation may continue only while it
//!   is < 0, and a liquidation step is sized to bring it to 0 and no further
//!   ([`crate::liquidation`]).
//!
//! # Bands ([`HealthBand`])
//! Healthy (Init ≥ 0), MarginCall (Init < 0 ≤ Maint: only risk-reducing
//! actions), Liquidatable (Maint < 0).
//!
//! # The cache
//! [`HealthCache`] is built once per instruction from the account's positions
//! and the oracle/bank data. Building it does the expensive work (price
//! conversion, bias, weight scaling, option pricing); afterwards each
//! position's contribution to each health type is a single fixed-point
//! multiply by a precomputed *unit value* (price × weight, rounded against the
//! user), so [`HealthCache::health`] performs no division. Instructions that
//! move balances call [`HealthCache::adjust_token_balance`] /
//! [`HealthCache::adjust_derivative`] and re-read health without rebuilding.
//!
//! # Rounding
//! Every contribution is rounded toward −∞ (an asset counts less, a
//! liability more); unit values are rounded the same way (asset units down,
//! liability units and margin rates up).

mod cache;
mod derivatives;
mod limits;
pub mod liquidation_price;
pub mod option_margin;
mod rates;
pub mod size_premium;

pub use cache::{keeper_maint_health, HealthCache, HealthSummary, MarginMode, TokenInfo};
pub use derivatives::{DerivativeInfo, DerivativeKind, MarginRates, OptionTerms, PnlLimits};
pub use liquidation_price::LIQUIDATION_PRICE_MAX_RISE_BITS;

use crate::fixed::Fixed;

/// Which health to compute (see module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HealthType {
    /// Strictest; gate for risk-increasing actions.
    Init,
    /// Loosest; below zero the account is liquidatable.
    Maint,
    /// Target of liquidation: a step stops when it reaches zero.
    LiquidationEnd,
}

impl HealthType {
    /// All health types, Init first.
    pub const ALL: [HealthType; 3] = [HealthType::Init, HealthType::Maint, HealthType::LiquidationEnd];

    /// Array slot used by per-health-type tables.
    pub const fn idx(self) -> usize {
        match self {
            HealthType::Init => 0,
            HealthType::Maint => 1,
            HealthType::LiquidationEnd => 2,
        }
    }
}

/// One value per health type (a named triple instead of an indexed array,
/// so lookups cannot go out of bounds).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PerType<T> {
    /// Init value.
    pub init: T,
    /// Maint value.
    pub maint: T,
    /// LiquidationEnd value.
    pub liq_end: T,
}

impl<T: Copy> PerType<T> {
    /// The same value for every health type.
    pub const fn splat(v: T) -> PerType<T> {
        PerType { init: v, maint: v, liq_end: v }
    }

    /// Value for `ht`.
    #[inline]
    pub fn get(&self, ht: HealthType) -> T {
        match ht {
            HealthType::Init => self.init,
            HealthType::Maint => self.maint,
            HealthType::LiquidationEnd => self.liq_end,
        }
    }

    /// Sets the value for `ht`.
    #[inline]
    pub fn set(&mut self, ht: HealthType, v: T) {
        match ht {
            HealthType::Init => self.init = v,
            HealthType::Maint => self.maint = v,
            HealthType::LiquidationEnd => self.liq_end = v,
        }
    }
}

/// Risk band of an account (DESIGN.md "Bands").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HealthBand {
    /// Init ≥ 0: anything allowed within Init health.
    Healthy,
    /// Init < 0 ≤ Maint: only risk-reducing actions.
    MarginCall,
    /// Maint < 0: anyone may liquidate.
    Liquidatable,
}

impl HealthBand {
    /// Band from Init and Maint health.
    pub fn from_health(init: Fixed, maint: Fixed) -> HealthBand {
        if maint.is_negative() {
            HealthBand::Liquidatable
        } else if init.is_negative() {
            HealthBand::MarginCall
        } else {
            HealthBand::Healthy
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands() {
        let (p, z, n) = (Fixed::ONE, Fixed::ZERO, Fixed::NEG_ONE);
        assert_eq!(HealthBand::from_health(z, p), HealthBand::Healthy);
        assert_eq!(HealthBand::from_health(n, z), HealthBand::MarginCall);
        assert_eq!(HealthBand::from_health(n, n), HealthBand::Liquidatable);
        assert_eq!(HealthType::ALL.map(HealthType::idx), [0, 1, 2]);
    }
}
