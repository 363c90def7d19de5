//! Derivative positions in the health cache: perpetuals, dated futures and
//! European options.
//!
//! A position holds `base` (signed quantity of the underlying in its native
//! units; long > 0), `cost_basis` (quote native paid to open it: a long of 10
//! SOL bought at 150 has cost basis 1500 USDC; a short has a negative cost
//! basis) and `unsettled_funding` (quote native credited to the account,
//! negative when it owes funding; see [`crate::funding`]).
//!
//! For health type T:
//!
//! ```text
//! value_T  = base · mark_T                       (perp / future)
//!          = base · option_value_T               (option)
//! pnl_T    = value_T − cost_basis + unsettled_funding
//! req_T    = |base| · price_T · rate_T           (perp / future)
//!          = |base| · price_T · rate_T · δ        (option, δ = |Δ|, ≥ min_delta if short)
//! wpnl_T   = pnl_T                               if pnl_T ≤ 0  (losses 1:1)
//!          = pnl_T ·floor w_T                    if pnl_T > 0, T ≠ Init
//!          = min(pnl_T ·floor w_Init, cap)       if pnl_T > 0, T = Init
//! contrib_T = wpnl_T − req_T
//! ```
//!
//! `mark_T` is the conservative biased price for the position's direction
//! ([`crate::price::BiasedPrices::for_exposure`]): longs at the asset price,
//! shorts at the liability price. The requirement uses the liability price.
//! A long option's requirement never exceeds its value (it cannot lose more).
//!
//! # Positive PnL is not cash
//! Unsettled profit becomes quote tokens only through PnL settlement, which
//! is limited per window; until then it is a claim on the losing side. So a
//! profit counts at a weight `w_T ≤ 1` ([`PnlLimits`], ordered
//! `w_Init ≤ w_LiqEnd ≤ w_Maint`) and, in Init only, at most `cap` quote
//! native per position. This is the defence against borrowing against a
//! pumped mark (the 2022 Mango exploit). Negative PnL always counts in full.
//! [`PnlLimits::NONE`] (all weights 1, no cap) is the default of
//! [`DerivativeInfo::new`]; [`DerivativeInfo::with_pnl_limits`] sets others.
//! `wpnl_T` is concave and non-decreasing in `pnl_T` with slope 1 below
//! zero and `w_T ≤ 1` (or 0 above the cap) above it, which
//! [`crate::liquidation::max_position_liquidation`] relies on.

use crate::error::{RiskError, RiskResult};
use crate::fixed::{Fixed, Rounding};
use crate::health::{HealthType, PerType};
use crate::options::black_scholes::{bs_price_greeks, BsInput, Greeks};
use crate::price::BiasedPrices;

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
}

impl MarginRates {
    /// Rate for a health type.
    pub fn rate(&self, ht: HealthType) -> Fixed {
        match ht {
            HealthType::Init => self.init,
            HealthType::Maint => self.maint,
            HealthType::LiquidationEnd => self.liq_end,
        }
    }

    /// `0 ≤ maint ≤ liq_end ≤ init ≤ 1`, `0 ≤ min_delta ≤ 1`.
    pub fn validate(&self) -> RiskResult<()> {
        let ok = !self.maint.is_negative()
            && self.maint <= self.liq_end
            && self.liq_end <= self.init
            && self.init <= Fixed::ONE
            && !self.short_option_min_delta.is_negative()
            && self.short_option_min_delta <= Fixed::ONE;
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

/// Contract terms of a European option (per unit of underlying).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OptionTerms {
    /// Call (`true`) or put.
    pub is_call: bool,
    /// Strike, quote native per underlying native unit (same unit as prices).
    pub strike: Fixed,
    /// Seconds until expiry (≤ 0: expired, valued at intrinsic).
    pub seconds_to_expiry: i64,
    /// Annualised volatility used for valuation (the market's vol parameter).
    pub vol: Fixed,
    /// Annualised risk-free rate (often 0).
    pub rate: Fixed,
}

/// Instrument kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DerivativeKind {
    /// Perpetual future (accrues funding).
    Perpetual,
    /// Dated future (no funding; settles at expiry).
    Future,
    /// European option.
    Option(OptionTerms),
}

/// One derivative position plus everything needed to value it.
///
/// Fields are public for reading. Change the position through
/// [`crate::health::HealthCache::adjust_derivative`] or
/// [`DerivativeInfo::with_position`], which keep the precomputed per-unit
/// values (option price, requirement) consistent; editing `kind`, `prices`
/// or `rates` in place would not — build a new `DerivativeInfo` instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DerivativeInfo {
    /// Market index (unique within a cache).
    pub market_index: u16,
    /// Underlying id shared with the spot bank and other markets on the same
    /// asset; positions with equal ids net in portfolio mode.
    pub underlying: u16,
    /// Instrument kind.
    pub kind: DerivativeKind,
    /// Signed quantity of underlying (native units), long > 0.
    pub base: Fixed,
    /// Quote native paid to open (negative for shorts).
    pub cost_basis: Fixed,
    /// Quote native credited by unsettled funding (negative = owed).
    pub unsettled_funding: Fixed,
    /// Biased prices of the underlying.
    pub prices: BiasedPrices,
    /// Margin rates.
    pub rates: MarginRates,
    /// Per-unit option value per health type (0 for perps/futures).
    opt_value: PerType<Fixed>,
    /// Per-unit requirement per health type (quote native per base unit).
    req_unit: PerType<Fixed>,
    /// Per-unit Greeks at the Maint price (Δ = 1 for perps/futures).
    greeks: Greeks,
    /// Positive-PnL weights and Init cap (validated by the builder).
    pnl_limits: PnlLimits,
}

impl DerivativeInfo {
    /// Builds a position and precomputes its per-unit values (one
    /// Black–Scholes evaluation for an option, none otherwise).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        market_index: u16,
        underlying: u16,
        kind: DerivativeKind,
        base: Fixed,
        cost_basis: Fixed,
        unsettled_funding: Fixed,
        prices: BiasedPrices,
        rates: MarginRates,
    ) -> RiskResult<DerivativeInfo> {
        rates.validate()?;
        let mut d = DerivativeInfo {
            market_index,
            underlying,
            kind,
            base,
            cost_basis,
            unsettled_funding,
            prices,
            rates,
            opt_value: PerType::splat(Fixed::ZERO),
            req_unit: PerType::splat(Fixed::ZERO),
            greeks: Greeks::LINEAR,
            pnl_limits: PnlLimits::NONE,
        };
        d.recompute_units()?;
        Ok(d)
    }

    /// The same position with positive-PnL limits (validated). Set it on the
    /// per-market template: [`DerivativeInfo::with_position`] and
    /// [`crate::health::HealthCache::adjust_derivative`] keep it.
    pub fn with_pnl_limits(mut self, l: PnlLimits) -> RiskResult<Self> {
        l.validate()?;
        self.pnl_limits = l;
        Ok(self)
    }

    /// Positive-PnL limits in force ([`PnlLimits::NONE`] unless set).
    pub fn pnl_limits(&self) -> &PnlLimits {
        &self.pnl_limits
    }

    /// A copy of a per-market template with another position. Per-unit
    /// values are reused (an option re-prices only if its direction differs
    /// from the template's), so a keeper prices each market once, not once
    /// per account.
    pub fn with_position(
        &self,
        base: Fixed,
        cost_basis: Fixed,
        unsettled_funding: Fixed,
    ) -> RiskResult<DerivativeInfo> {
        let mut d = *self;
        d.base = base;
        d.cost_basis = cost_basis;
        d.unsettled_funding = unsettled_funding;
        if d.pricing_side() != self.pricing_side() {
            d.recompute_units()?;
        }
        Ok(d)
    }

    /// What the unit values depend on besides the market: the direction, and
    /// (options) whether the position is short, which adds the short-only
    /// margin rules. Unit values are recomputed whenever this changes.
    pub fn pricing_side(&self) -> (bool, bool) {
        (self.gains_on_rise(), self.base.is_negative())
    }

    /// True if the position gains when the underlying rises.
    pub fn gains_on_rise(&self) -> bool {
        match self.kind {
            DerivativeKind::Option(t) => (self.base.is_positive()) == t.is_call,
            _ => self.base.is_positive(),
        }
    }

    /// Per-unit Greeks at the Maint price (perps/futures: Δ = 1, others 0).
    pub fn unit_greeks(&self) -> Greeks {
        self.greeks
    }

    /// Recomputes per-unit tables; needed for options when `base` changes
    /// sign (the conservative price side flips).
    pub(crate) fn recompute_units(&mut self) -> RiskResult<()> {
        let rising = self.gains_on_rise();
        match self.kind {
            DerivativeKind::Perpetual | DerivativeKind::Future => {
                for ht in HealthType::ALL {
                    let p = self.prices.liab(ht);
                    self.req_unit.set(ht, p.checked_mul_ceil(self.rates.rate(ht))?);
                }
            }
            DerivativeKind::Option(t) => {
                let s_m = self.prices.for_exposure(HealthType::Maint, rising);
                let g = bs_price_greeks(&BsInput {
                    spot: s_m,
                    strike: t.strike,
                    vol: t.vol,
                    seconds_to_expiry: t.seconds_to_expiry,
                    rate: t.rate,
                    is_call: t.is_call,
                })?;
                self.greeks = g;
                let short = self.base.is_negative();
                let mut eff_delta = g.delta.checked_abs()?;
                if short {
                    eff_delta = eff_delta.max(self.rates.short_option_min_delta);
                }
                for ht in HealthType::ALL {
                    let s = self.prices.for_exposure(ht, rising);
                    // First-order move from the Maint price to this type's
                    // price; exact-conservative for longs (convexity), and
                    // shorts add the ½Γ·dS² term.
                    let ds = s.checked_sub(s_m)?;
                    let mut v = g.value.checked_add(g.delta.checked_mul(ds, rounding_for(!short))?)?;
                    if short && !ds.is_zero() {
                        let g_ds2 = g.gamma.checked_mul_ceil(ds.checked_mul_ceil(ds)?)?;
                        v = v.checked_add(g_ds2.checked_mul_ceil(Fixed::HALF)?)?;
                    }
                    self.opt_value.set(ht, v.positive_part());
                    let req = self
                        .prices
                        .liab(ht)
                        .checked_mul_ceil(self.rates.rate(ht))?
                        .checked_mul_ceil(eff_delta)?;
                    self.req_unit.set(ht, req);
                }
            }
        }
        Ok(())
    }

    /// Signed position value for `ht` (quote native, rounded down).
    pub fn value(&self, ht: HealthType) -> RiskResult<Fixed> {
        let unit = match self.kind {
            DerivativeKind::Option(_) => self.opt_value.get(ht),
            _ => self.prices.for_exposure(ht, self.base.is_positive()),
        };
        self.base.checked_mul_floor(unit)
    }

    /// Unrealised PnL for `ht`: value − cost basis + unsettled funding.
    pub fn pnl(&self, ht: HealthType) -> RiskResult<Fixed> {
        self.value(ht)?.checked_sub(self.cost_basis)?.checked_add(self.unsettled_funding)
    }

    /// Margin requirement for `ht` (quote native, rounded up, ≥ 0).
    pub fn requirement(&self, ht: HealthType) -> RiskResult<Fixed> {
        let req = self.base.checked_abs()?.checked_mul_ceil(self.req_unit.get(ht))?;
        if let (DerivativeKind::Option(_), true) = (self.kind, self.base.is_positive()) {
            return Ok(req.min(self.value(ht)?.positive_part()));
        }
        Ok(req)
    }

    /// PnL as health counts it: losses in full, profits weighted and (Init)
    /// capped ([`PnlLimits::weigh`]).
    pub fn weighted_pnl(&self, ht: HealthType) -> RiskResult<Fixed> {
        self.pnl_limits.weigh(self.pnl(ht)?, ht)
    }

    /// Health contribution for `ht`: `weighted_pnl − requirement`.
    pub fn contribution(&self, ht: HealthType) -> RiskResult<Fixed> {
        self.weighted_pnl(ht)?.checked_sub(self.requirement(ht)?)
    }

    /// `|base| · oracle` — the notional used for portfolio floors.
    pub fn notional(&self) -> RiskResult<Fixed> {
        self.base.checked_abs()?.checked_mul_ceil(self.prices.oracle)
    }
}

/// Rounding that makes a position value smaller for longs and larger for
/// shorts' liabilities: a long's per-unit value rounds down, a short's up.
fn rounding_for(long: bool) -> Rounding {
    if long {
        Rounding::Floor
    } else {
        Rounding::Ceil
    }
}

#[cfg(test)]
#[path = "derivatives_tests.rs"]
mod tests;
