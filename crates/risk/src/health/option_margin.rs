//! Linear-mode margin of European options: the short-option requirement
//! (Derive's standard-manager shape) and option values read from a risk
//! array instead of Black–Scholes.
//!
//! # Short options (per unit of underlying, on top of the mark)
//! The option's mark is in its PnL (a short owes it); the requirement adds a
//! share of spot, less how far the option is out of the money in Init:
//!
//! ```text
//! Init   = max(init_base · S − OTM, init_floor · S)     OTM = (K − S)⁺ call, (S − K)⁺ put
//! LiqEnd = liq_end · S
//! Maint  = maint · S
//! ```
//!
//! Derive's standard manager: `init_base` 15 %, `init_floor` 13 %, `maint`
//! 9 % ([`ShortOptionRates::derive`]; xmargin adds `liq_end` 11 % between).
//! `OTM % · S` is an amount (`K − S` or `S − K`), so no division is needed.
//! Conservative within the health type's price range `[S_lo, S_hi]`
//! (asset and liability prices): `S_hi` in every product, and the smallest
//! OTM amount over the range (`K − S_hi` for a call, `S_lo − K` for a put);
//! every product is rounded up. A short option is never free: at least
//! `maint · S`.
//!
//! # Long options
//! `rate_T · S_liab · |Δ|` at the market's linear rates, never more than the
//! position's value ([`super::DerivativeInfo::requirement`]): a long option
//! cannot lose more than it is worth.
//!
//! # Values from a risk array ([`ArrayValue`])
//! On-chain an option is valued from its market's risk array (model value
//! and Δ at the oracle when the array was computed, kept valid by its age
//! and the oracle's drift: [`crate::options::risk_array`]). A long counts
//! the model value, a short owes one unit (2^-48) more, so a rounding never
//! favours either side.

use crate::error::{RiskError, RiskResult};
use crate::fixed::{Fixed, Rounding};
use crate::health::{DerivativeInfo, DerivativeKind, HealthType, MarginRates, OptionTerms};
use crate::options::black_scholes::Greeks;
use crate::price::BiasedPrices;

/// Basis points of [`ShortOptionRates::derive`]: Init base, Init floor,
/// LiquidationEnd, Maint.
pub const DERIVE_SHORT_OPTION_BPS: [u32; 4] = [1_500, 1_300, 1_100, 900];

/// Short-option requirement rates, fractions of spot (module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShortOptionRates {
    /// Init rate before the out-of-the-money reduction.
    pub init_base: Fixed,
    /// Least Init rate.
    pub init_floor: Fixed,
    /// LiquidationEnd rate.
    pub liq_end: Fixed,
    /// Maint rate.
    pub maint: Fixed,
}

impl ShortOptionRates {
    /// No short-option requirement (perpetuals, futures, settled markets).
    pub const ZERO: ShortOptionRates = ShortOptionRates {
        init_base: Fixed::ZERO,
        init_floor: Fixed::ZERO,
        liq_end: Fixed::ZERO,
        maint: Fixed::ZERO,
    };

    /// From basis points `[init_base, init_floor, liq_end, maint]` (rounded down).
    pub fn from_bps(bps: [u32; 4]) -> RiskResult<ShortOptionRates> {
        let f = |b: u32| Fixed::from_ratio(i64::from(b), 10_000, Rounding::Floor);
        Ok(ShortOptionRates {
            init_base: f(bps[0])?,
            init_floor: f(bps[1])?,
            liq_end: f(bps[2])?,
            maint: f(bps[3])?,
        })
    }

    /// Derive's standard manager: Init `max(15 % − OTM %, 13 %)`, Maint 9 %
    /// (LiquidationEnd 11 %).
    pub fn derive() -> ShortOptionRates {
        // Constant basis points: cannot fail.
        Self::from_bps(DERIVE_SHORT_OPTION_BPS).unwrap_or(Self::ZERO)
    }

    /// `0 ≤ maint ≤ liq_end ≤ init_floor ≤ init_base ≤ 1`.
    pub fn validate(&self) -> RiskResult<()> {
        let ok = !self.maint.is_negative()
            && self.maint <= self.liq_end
            && self.liq_end <= self.init_floor
            && self.init_floor <= self.init_base
            && self.init_base <= Fixed::ONE;
        if ok {
            Ok(())
        } else {
            Err(RiskError::InvalidParameter)
        }
    }

    /// Requirement of one short unit for `ht` (quote native per underlying
    /// native unit, rounded up; module docs). At most 7 multiplies.
    pub fn unit_requirement(
        &self,
        ht: HealthType,
        is_call: bool,
        strike: Fixed,
        prices: &BiasedPrices,
    ) -> RiskResult<Fixed> {
        let hi = prices.liab(ht);
        match ht {
            HealthType::Init => {
                let otm = if is_call {
                    strike.checked_sub(hi)?.positive_part()
                } else {
                    prices.asset(ht).checked_sub(strike)?.positive_part()
                };
                let reduced = hi.checked_mul_ceil(self.init_base)?.checked_sub(otm)?;
                Ok(reduced.max(hi.checked_mul_ceil(self.init_floor)?))
            }
            HealthType::LiquidationEnd => hi.checked_mul_ceil(self.liq_end),
            HealthType::Maint => hi.checked_mul_ceil(self.maint),
        }
    }
}

/// An option's model value and Δ per unit of underlying, read from its
/// market's risk array (module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArrayValue {
    /// Model value (quote native per underlying native unit, ≥ 0).
    pub value: Fixed,
    /// ∂V/∂S.
    pub delta: Fixed,
}

impl ArrayValue {
    /// Value per unit a position counts: the model value for a long, one
    /// unit more for a short; never negative.
    pub fn unit_value(&self, short: bool) -> RiskResult<Fixed> {
        let v = if short { self.value.checked_add(Fixed::DELTA)? } else { self.value };
        Ok(v.positive_part())
    }

    /// Greeks as far as the array gives them (Γ, vega, θ left at 0).
    pub fn greeks(&self) -> Greeks {
        Greeks {
            value: self.value,
            delta: self.delta,
            gamma: Fixed::ZERO,
            vega: Fixed::ZERO,
            theta: Fixed::ZERO,
        }
    }
}

impl DerivativeInfo {
    /// An option position valued from its market's risk array (model value
    /// and Δ at the array's spot) instead of Black–Scholes: what the program
    /// does. No Black–Scholes evaluation, here or when the position changes side.
    #[allow(clippy::too_many_arguments)]
    pub fn new_option_from_array(
        market_index: u16,
        underlying: u16,
        terms: OptionTerms,
        base: Fixed,
        cost_basis: Fixed,
        prices: BiasedPrices,
        rates: MarginRates,
        array: ArrayValue,
    ) -> RiskResult<DerivativeInfo> {
        let kind = DerivativeKind::Option(terms);
        let position = (base, cost_basis, Fixed::ZERO);
        Self::build(market_index, underlying, kind, position, prices, rates, Some(array))
    }
}

/// Per-unit requirement of a long option for `ht` before the cap at its
/// value: `liab price ·ceil rate ·ceil |Δ|`.
pub fn long_unit_requirement(
    prices: &BiasedPrices,
    ht: HealthType,
    rate: Fixed,
    delta: Fixed,
) -> RiskResult<Fixed> {
    prices.liab(ht).checked_mul_ceil(rate)?.checked_mul_ceil(delta.checked_abs()?)
}

#[cfg(test)]
#[path = "option_margin_tests.rs"]
mod tests;
