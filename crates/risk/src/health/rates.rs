//! A market's requirement rates ([`MarginRates`], with the size premium's
//! contract arithmetic) and how positive PnL counts ([`PnlLimits`]): the
//! parameters [`super::DerivativeInfo`] values a position with.

use super::option_margin::ShortOptionRates;
use super::size_premium;
use crate::error::{RiskError, RiskResult};
use crate::fixed::{Fixed, Rounding};
use crate::health::{HealthType, PerType};

/// Margin-requirement rates of a market (fractions of notional).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarginRates {
    /// Init rate (largest).
    pub init: Fixed,
    /// Maint rate (smallest).
    pub maint: Fixed,
    /// LiquidationEnd rate (between).
    pub liq_end: Fixed,
    /// Options only: minimum |Δ| used for a *short* option's requirement, so
    /// a far out-of-the-money short is never free.
    pub short_option_min_delta: Fixed,
    /// Size premium `imf` per √contract, `0 ≤ imf ≤ 1`: each rate becomes
    /// `min(1, max(r, 0.8·r + imf·√contracts))` ([`super::size_premium`]).
    /// 0: off (the rates apply as they are, nothing extra is computed).
    pub size_premium: Fixed,
    /// Underlying native units per contract, the unit of the size premium's
    /// size (`> 0` when `size_premium > 0`; unused otherwise).
    pub contract_size: u64,
    /// Options only: the short-option requirement ([`super::option_margin`]).
    pub short_option: ShortOptionRates,
}

impl MarginRates {
    /// Rates without a size premium.
    pub const fn flat(
        init: Fixed,
        maint: Fixed,
        liq_end: Fixed,
        short_option_min_delta: Fixed,
    ) -> MarginRates {
        MarginRates {
            init,
            maint,
            liq_end,
            short_option_min_delta,
            size_premium: Fixed::ZERO,
            contract_size: 1,
            short_option: ShortOptionRates::ZERO,
        }
    }

    /// Base rate for a health type (the rate of a small position).
    pub fn rate(&self, ht: HealthType) -> Fixed {
        match ht {
            HealthType::Init => self.init,
            HealthType::Maint => self.maint,
            HealthType::LiquidationEnd => self.liq_end,
        }
    }

    /// Contracts in `|base|` underlying native units, rounded as asked
    /// (exact for whole contracts).
    pub fn contracts(&self, base: Fixed, rounding: Rounding) -> RiskResult<Fixed> {
        base.checked_abs()?.checked_div_int(self.contract_size, rounding)
    }

    /// Rate for `ht` of a position of `contracts` (≥ 0) contracts:
    /// `min(1, max(r, ⌈0.8·r⌉ + ⌈imf·√c⌉))` with the module's roundings
    /// ([`super::size_premium`]); exactly `r` when the premium is off.
    pub fn rate_for_contracts(&self, ht: HealthType, contracts: Fixed) -> RiskResult<Fixed> {
        let r = self.rate(ht);
        if self.size_premium.is_zero() {
            return Ok(r);
        }
        size_premium::rate_in_force(r, self.size_premium, contracts)
    }

    /// Rate for `ht` of a position of `base` underlying native units
    /// ([`MarginRates::rate_for_contracts`] of `|base| ÷ceil contract_size`).
    pub fn rate_for_base(&self, ht: HealthType, base: Fixed) -> RiskResult<Fixed> {
        if self.size_premium.is_zero() || base.is_zero() {
            return Ok(self.rate(ht));
        }
        if let Some(c) = self.whole_contracts(base) {
            return size_premium::rate_for_whole_contracts(self.rate(ht), self.size_premium, c);
        }
        self.rate_for_contracts(ht, self.contracts(base, Rounding::Ceil)?)
    }

    /// `|base|` in contracts when it is a whole number of them below
    /// [`size_premium::WHOLE_CONTRACTS_LIMIT`] (every position held
    /// on-chain is whole contracts): then `contracts(base, Ceil)` is that
    /// integer exactly, and the rate takes the native-arithmetic path.
    pub fn whole_contracts(&self, base: Fixed) -> Option<u64> {
        self.contract_count(base).filter(|&c| c < size_premium::WHOLE_CONTRACTS_LIMIT)
    }

    /// `|base|` in contracts when it is a whole number of them.
    pub fn contract_count(&self, base: Fixed) -> Option<u64> {
        let bits = base.to_bits().unsigned_abs();
        if bits & (Fixed::ONE.to_bits() as u128 - 1) != 0 || self.contract_size == 0 {
            return None;
        }
        let units = u64::try_from(bits >> crate::fixed::FRAC_BITS).ok()?;
        let c = units / self.contract_size;
        (c * self.contract_size == units).then_some(c)
    }

    /// `0 ≤ maint ≤ liq_end ≤ init ≤ 1`, `0 ≤ min_delta ≤ 1`,
    /// `0 ≤ size_premium ≤ 1` with a contract size when it is on.
    pub fn validate(&self) -> RiskResult<()> {
        let ok = !self.maint.is_negative()
            && self.maint <= self.liq_end
            && self.liq_end <= self.init
            && self.init <= Fixed::ONE
            && !self.short_option_min_delta.is_negative()
            && self.short_option_min_delta <= Fixed::ONE
            && !self.size_premium.is_negative()
            && self.size_premium <= Fixed::ONE
            && (self.size_premium.is_zero() || self.contract_size > 0)
            && self.short_option.validate().is_ok();
        if ok {
            Ok(())
        } else {
            Err(RiskError::InvalidParameter)
        }
    }
}

/// How much positive PnL counts in health (module docs, "Positive PnL is
/// not cash").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PnlLimits {
    /// Weight of positive PnL per health type, `0 ≤ init ≤ liq_end ≤ maint ≤ 1`.
    pub weights: PerType<Fixed>,
    /// Init only: most positive PnL (after the weight) a position may count,
    /// quote native, `≥ 0`. `None`: no cap.
    pub init_cap: Option<Fixed>,
}

impl PnlLimits {
    /// Positive PnL counts in full everywhere (all weights 1, no cap).
    pub const NONE: PnlLimits = PnlLimits { weights: PerType::splat(Fixed::ONE), init_cap: None };

    /// `0 ≤ init ≤ liq_end ≤ maint ≤ 1` and `cap ≥ 0`.
    pub fn validate(&self) -> RiskResult<()> {
        let w = &self.weights;
        let ok = !w.init.is_negative()
            && w.init <= w.liq_end
            && w.liq_end <= w.maint
            && w.maint <= Fixed::ONE
            && !self.init_cap.is_some_and(Fixed::is_negative);
        if ok {
            Ok(())
        } else {
            Err(RiskError::InvalidParameter)
        }
    }

    /// Health value of a PnL for `ht`: `pnl` if `≤ 0`, else
    /// `pnl ·floor w_T`, capped at `init_cap` for Init.
    pub fn weigh(&self, pnl: Fixed, ht: HealthType) -> RiskResult<Fixed> {
        if !pnl.is_positive() {
            return Ok(pnl);
        }
        let weighted = pnl.checked_mul_floor(self.weights.get(ht))?;
        Ok(match (ht, self.init_cap) {
            (HealthType::Init, Some(cap)) => weighted.min(cap),
            _ => weighted,
        })
    }
}
