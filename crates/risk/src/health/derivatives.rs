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
//!          = |base| · price_T · rate_T · |Δ|      (long option, ≤ its value)
//!          = |base| · short_unit_T                (short option: Derive's shape,
//!                                                 [`super::option_margin`])
//! wpnl_T   = pnl_T                               if pnl_T ≤ 0  (losses 1:1)
//!          = pnl_T ·floor w_T                    if pnl_T > 0, T ≠ Init
//!          = min(pnl_T ·floor w_Init, cap)       if pnl_T > 0, T = Init
//! contrib_T = wpnl_T − req_T
//! ```
//!
//! `mark_T` is the conservative biased price for the position's direction
//! ([`crate::price::BiasedPrices::for_exposure`]): longs at the asset price,
//! shorts at the liability price. The requirement uses the liability price.
//! `rate_T` is the market's rate, grown for large positions by the optional
//! size premium: `min(1, max(r_T, 0.8·r_T + imf·√contracts))`
//! ([`super::size_premium`]; `imf = 0` leaves `r_T` bit for bit).
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

use super::option_margin::{fair_value_at, value_at, ArrayValue};
pub use super::rates::{MarginRates, PnlLimits};
use super::size_premium::{self, ReleaseBound};
use crate::error::{RiskError, RiskResult};
use crate::fixed::{Fixed, Rounding};
use crate::health::{HealthType, PerType};
use crate::options::black_scholes::{bs_price_greeks, BsInput, Greeks};
use crate::price::BiasedPrices;

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
    /// Per-unit requirement per health type (quote native per base unit) at
    /// the base rates (the requirement without a size premium).
    req_unit: PerType<Fixed>,
    /// Factor of the requirement after the rate: 1 for perps/futures, the
    /// effective |Δ| for options.
    req_delta: Fixed,
    /// Per-unit requirement per health type at the current size: `req_unit`
    /// with the rates grown by the size premium (equal without one).
    /// Refreshed whenever `base` changes (`refresh_size`).
    req_sized: PerType<Fixed>,
    /// Per-unit Greeks at the Maint price (Δ = 1 for perps/futures).
    greeks: Greeks,
    /// Positive-PnL weights and Init cap (validated by the builder).
    pnl_limits: PnlLimits,
    /// Options valued from a risk array ([`DerivativeInfo::new_option_from_array`]):
    /// the model value and Δ, used instead of Black–Scholes.
    array: Option<ArrayValue>,
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
        let position = (base, cost_basis, unsettled_funding);
        Self::build(market_index, underlying, kind, position, prices, rates, None)
    }

    /// [`DerivativeInfo::new`], or with `array` an option valued from its
    /// market's risk array ([`DerivativeInfo::new_option_from_array`]).
    pub(super) fn build(
        market_index: u16,
        underlying: u16,
        kind: DerivativeKind,
        (base, cost_basis, unsettled_funding): (Fixed, Fixed, Fixed),
        prices: BiasedPrices,
        rates: MarginRates,
        array: Option<ArrayValue>,
    ) -> RiskResult<DerivativeInfo> {
        rates.validate()?;
        // The short-option requirement is not a rate on notional: no size premium on options.
        if matches!(kind, DerivativeKind::Option(_)) && !rates.size_premium.is_zero() {
            return Err(RiskError::InvalidParameter);
        }
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
            req_delta: Fixed::ONE,
            req_sized: PerType::splat(Fixed::ZERO),
            greeks: Greeks::LINEAR,
            pnl_limits: PnlLimits::NONE,
            array,
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
        } else {
            d.refresh_size()?;
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
                self.req_delta = Fixed::ONE;
                for ht in HealthType::ALL {
                    self.req_unit.set(ht, self.unit_requirement(ht, self.rates.rate(ht))?);
                }
            }
            DerivativeKind::Option(t) => {
                let short = self.base.is_negative();
                // The array's Greeks, or Black–Scholes at the Maint price;
                // each type's value is the expansion around them (`expansion`).
                let g = match self.array {
                    Some(a) => a.greeks(),
                    None => bs_price_greeks(&BsInput {
                        spot: self.prices.for_exposure(HealthType::Maint, rising),
                        strike: t.strike,
                        vol: t.vol,
                        seconds_to_expiry: t.seconds_to_expiry,
                        rate: t.rate,
                        is_call: t.is_call,
                    })?,
                };
                self.greeks = g;
                let (expansion, owed) = self.expansion();
                let mut eff_delta = g.delta.checked_abs()?;
                if short {
                    eff_delta = eff_delta.max(self.rates.short_option_min_delta);
                }
                self.req_delta = eff_delta;
                // Maint and LiquidationEnd share a price: one expansion for both.
                let at = |price: Fixed| value_at(&expansion, (t.is_call, t.strike), price, (short, owed));
                let spot_price = self.prices.for_exposure(HealthType::Maint, rising);
                let spot_value = at(spot_price)?;
                let init_price = self.prices.for_exposure(HealthType::Init, rising);
                let init_value = if init_price == spot_price { spot_value } else { at(init_price)? };
                self.opt_value = PerType { init: init_value, liq_end: spot_value, maint: spot_value };
                for ht in HealthType::ALL {
                    let req = if short {
                        self.rates.short_option.unit_requirement(ht, t.is_call, t.strike, &self.prices)?
                    } else {
                        self.unit_requirement(ht, self.rates.rate(ht))?
                    };
                    self.req_unit.set(ht, req);
                }
            }
        }
        self.refresh_size()
    }

    /// Signed position value for `ht` (quote native, rounded down).
    pub fn value(&self, ht: HealthType) -> RiskResult<Fixed> {
        self.base.checked_mul_floor(self.unit_value(ht))
    }

    /// What one base unit is worth for `ht`: an option's unit value, a
    /// linear position's biased price.
    fn unit_value(&self, ht: HealthType) -> Fixed {
        match self.kind {
            DerivativeKind::Option(_) => self.opt_value.get(ht),
            _ => self.prices.for_exposure(ht, self.base.is_positive()),
        }
    }

    /// An option's value per unit at the oracle price, unbiased: a central
    /// estimate ([`super::option_margin::fair_value_at`]: the expansion with
    /// its Γ term, within the sound bounds health uses; a short owes what it
    /// owes in health). What a liquidation trades it at and what oracle
    /// equity counts. `None` for perpetuals and futures.
    pub fn option_oracle_unit_value(&self) -> RiskResult<Option<Fixed>> {
        self.option_at_oracle(fair_value_at, self.base.is_negative())
    }

    /// A long's value per unit at the oracle by the tangent
    /// ([`super::option_margin::value_at`]): at least what any health type
    /// counts it at (its prices are on the far side of the oracle), so what a
    /// book of longs caps its requirement at. `None` for perpetuals and futures.
    pub fn option_long_value_at_oracle(&self) -> RiskResult<Option<Fixed>> {
        self.option_at_oracle(value_at, false)
    }

    /// `f` (a valuation of [`super::option_margin`]) at the oracle, around
    /// the array's spot or Black–Scholes at the Maint price.
    fn option_at_oracle(&self, f: super::option_margin::Valuation, short: bool) -> RiskResult<Option<Fixed>> {
        let DerivativeKind::Option(t) = self.kind else { return Ok(None) };
        let (expansion, owed) = self.expansion();
        f(&expansion, (t.is_call, t.strike), self.prices.oracle, (short, owed)).map(Some)
    }

    /// An option's expansion (value, Δ, Γ at its centre) and what a short
    /// owes beyond the value: the array's (at its spot; one unit), or the
    /// Black–Scholes Greeks at the Maint price (`self.greeks`, set by
    /// `recompute_units`).
    fn expansion(&self) -> (ArrayValue, Fixed) {
        match self.array {
            Some(a) => (a, Fixed::DELTA),
            None => {
                let g = &self.greeks;
                let spot = self.prices.for_exposure(HealthType::Maint, self.gains_on_rise());
                (ArrayValue { spot, value: g.value, delta: g.delta, gamma: g.gamma }, Fixed::ZERO)
            }
        }
    }

    /// PnL for `ht` after the base moves by `delta_base` at `price` (the cost
    /// basis by `delta ·ceil price`, as `HealthCache::adjust_derivative`
    /// with that cash): bit for bit [`Self::pnl`] of the moved position, for
    /// perpetuals and futures, without copying it (liquidation sizing
    /// evaluates many sizes).
    pub fn pnl_after(&self, ht: HealthType, delta_base: Fixed, price: Fixed) -> RiskResult<Fixed> {
        if let DerivativeKind::Option(_) = self.kind {
            return Err(RiskError::InvalidParameter);
        }
        let base = self.base.checked_add(delta_base)?;
        let cost = self.cost_basis.checked_add(delta_base.checked_mul_ceil(price)?)?;
        let value = base.checked_mul_floor(self.prices.for_exposure(ht, base.is_positive()))?;
        value.checked_sub(cost)?.checked_add(self.unsettled_funding)
    }

    /// Unrealised PnL for `ht`: value − cost basis + unsettled funding.
    pub fn pnl(&self, ht: HealthType) -> RiskResult<Fixed> {
        self.value(ht)?.checked_sub(self.cost_basis)?.checked_add(self.unsettled_funding)
    }

    /// Requirement per base unit at `rate`: `liab price ·ceil rate`
    /// (options: `·ceil` the effective |Δ| too).
    fn unit_requirement(&self, ht: HealthType, rate: Fixed) -> RiskResult<Fixed> {
        self.prices.liab(ht).checked_mul_ceil(rate)?.checked_mul_ceil(self.req_delta)
    }

    /// Requirement rate in force for `ht` at the current size: the base rate,
    /// or with a size premium `min(1, max(r, 0.8·r + imf·√contracts))`
    /// ([`MarginRates::rate_for_base`]).
    pub fn rate_in_force(&self, ht: HealthType) -> RiskResult<Fixed> {
        self.rates.rate_for_base(ht, self.base)
    }

    /// Per-unit requirements at the current size (after `base` changed):
    /// the base rates' units, or with a size premium the units at
    /// [`MarginRates::rate_for_base`] (one division and at most one square
    /// root for the three health types).
    pub(crate) fn refresh_size(&mut self) -> RiskResult<()> {
        if self.rates.size_premium.is_zero() || self.base.is_zero() {
            self.req_sized = self.req_unit;
            return Ok(());
        }
        let whole = self.rates.whole_contracts(self.base);
        let contracts = match whole {
            Some(c) => Fixed::from_u64(c),
            None => self.rates.contracts(self.base, Rounding::Ceil)?,
        };
        let (mut root, mut whole_root) = (None, None);
        for ht in HealthType::ALL {
            let r = self.rates.rate(ht);
            let imf = self.rates.size_premium;
            let rate = match whole {
                Some(c) => size_premium::rate_for_whole_contracts_sharing(r, imf, c, &mut whole_root)?,
                None => size_premium::rate_in_force_sharing(r, imf, contracts, &mut root)?,
            };
            let unit = if rate == r { self.req_unit.get(ht) } else { self.unit_requirement(ht, rate)? };
            self.req_sized.set(ht, unit);
        }
        Ok(())
    }

    /// The requirement for `ht` and the rate in force at `m` whole contracts
    /// on this position's pricing side: bit for bit [`Self::requirement`] of
    /// the position resized to `m` contracts (perpetuals and futures), without
    /// resizing it (liquidation sizing evaluates many sizes).
    pub fn requirement_at_whole_contracts(&self, ht: HealthType, m: u64) -> RiskResult<(Fixed, Fixed)> {
        let r = self.rates.rate(ht);
        let rate = size_premium::rate_for_whole_contracts(r, self.rates.size_premium, m)?;
        let unit = if rate == r { self.req_unit.get(ht) } else { self.unit_requirement(ht, rate)? };
        let cs = i64::try_from(self.rates.contract_size).map_err(|_| RiskError::Overflow)?;
        Ok((Fixed::from_u64(m).checked_mul_int(cs)?.checked_mul_ceil(unit)?, rate))
    }

    /// Margin requirement for `ht` (quote native, rounded up, ≥ 0):
    /// `|base| ·ceil (liab price ·ceil rate)`, the rate grown by the size
    /// premium if the market has one (the unit kept per size: no square root
    /// here).
    pub fn requirement(&self, ht: HealthType) -> RiskResult<Fixed> {
        let size = self.base.checked_abs()?;
        let req = size.checked_mul_ceil(self.req_sized.get(ht))?;
        if let (DerivativeKind::Option(_), true) = (self.kind, self.base.is_positive()) {
            return Ok(req.min(self.value(ht)?.positive_part()));
        }
        Ok(req)
    }

    /// For liquidation sizing with a size premium (perps and futures): how
    /// much requirement closing part of the position can release at most
    /// ([`ReleaseBound`]). With `R(x) = x · p · rate(x)` (`p` the liab price,
    /// rates exact) and `ρ = 0.8·r + imf·√(x / contract_size)` uncapped:
    /// - `ρ(size) ≤ r`: `R` is linear below the size, slope `p · r`;
    /// - `ρ(size) ≥ 1`: linear with slope `p` down to where the cap starts
    ///   (`√c = (1 − 0.8·r) / imf`), the limit;
    /// - otherwise `R′(x) = p · (1.5·ρ(x) − 0.4·r)` on the premium part, `p·r`
    ///   below it and `p` at the cap, all at most
    ///   `p · min(1.5·ρ(size) − 0.4·r, 1.5 − 0.4·r)`.
    ///
    /// Every bound is rounded up (and the cap's start up, so the linear part
    /// is never overstated). `excess` is the requirement minus a lower bound
    /// of its exact value at the current size (the same formula with every
    /// step rounded down): the requirement at a smaller size is never below
    /// its exact value, so the release is at most `q · slope + excess`.
    /// `local_slope` is a lower bound of `R′` just above the current size
    /// (`p·r`, `p · (1.5·ρ − 0.4·r)` or `p` at the cap, rounded down),
    /// `chord` the requirement per unit now (a guess for a step beyond the
    /// target) and `requirement` the requirement itself (for perps and
    /// futures, equal to [`DerivativeInfo::requirement`]).
    pub fn release_bound(&self, ht: HealthType) -> RiskResult<ReleaseBound> {
        let size = self.base.checked_abs()?;
        let r = self.rates.rate(ht);
        let liab = self.prices.liab(ht);
        let imf = self.rates.size_premium;
        // Contracts both ways and their square roots, from one division and
        // (for whole contracts) one integer square root.
        let c_down = if imf.is_zero() { Fixed::ZERO } else { self.rates.contracts(size, Rounding::Floor)? };
        let whole = c_down
            .checked_mul_int(i64::try_from(self.rates.contract_size).map_err(|_| RiskError::Overflow)?)?;
        let (root_down, root_up) = if whole == size {
            size_premium::grid_sqrt_pair(c_down)?
        } else {
            let c_up = c_down.checked_add(Fixed::DELTA)?;
            (
                size_premium::grid_sqrt(c_down, Rounding::Floor)?,
                size_premium::grid_sqrt(c_up, Rounding::Ceil)?,
            )
        };
        let rho_up = size_premium::uncapped_rate_at_root(r, imf, root_up, Rounding::Ceil)?;
        let rho_down = size_premium::uncapped_rate_at_root(r, imf, root_down, Rounding::Floor)?;
        // The requirement as `requirement` computes it (`rate_for_base`).
        let rate = if imf.is_zero() || size.is_zero() { r } else { size_premium::floor_and_cap(r, rho_up) };
        let unit = self.unit_requirement(ht, rate)?;
        let requirement = size.checked_mul_ceil(unit)?;
        let unit_down = |rate: Fixed| -> RiskResult<Fixed> {
            liab.checked_mul_floor(rate)?.checked_mul_floor(self.req_delta)
        };
        let rate_down = size_premium::floor_and_cap(r, rho_down);
        let excess = requirement.checked_sub(size.checked_mul_floor(unit_down(rate_down)?)?)?.positive_part();
        // R′ just above the current size, from below: `p·r` unless surely in
        // the premium part (`p · (1.5·ρ − 0.4·r)`) or at the cap (`p`).
        let two_fifths_up = r.checked_mul_ceil(size_premium::TWO_FIFTHS_UP)?;
        let local_rate = if rho_down >= Fixed::ONE {
            Fixed::ONE
        } else if rho_down > r {
            rho_down
                .checked_mul_floor(size_premium::THREE_HALVES)?
                .checked_sub(two_fifths_up)?
                .min(Fixed::ONE)
        } else {
            r
        };
        let local_slope = unit_down(local_rate)?;
        let bound = |slope: Fixed, limit: Fixed| ReleaseBound {
            slope,
            local_slope,
            chord: unit,
            limit,
            excess,
            requirement,
        };
        if rho_up <= r {
            return Ok(bound(self.unit_requirement(ht, r)?, size));
        }
        let two_fifths_down = r.checked_mul_floor(size_premium::TWO_FIFTHS_DOWN)?;
        if rho_down >= Fixed::ONE && imf.is_positive() {
            // The cap starts at √c = (1 − 0.8·r) / imf (rounded up, so the
            // segment above it is surely capped; beyond Fixed: no such segment).
            let cap_start = || -> RiskResult<Fixed> {
                let gap = Fixed::ONE.checked_sub(r.checked_mul_floor(size_premium::FOUR_FIFTHS_DOWN)?)?;
                let root = gap.checked_div_ceil(imf)?;
                root.checked_mul_ceil(root)?.checked_mul_ceil(Fixed::from_u64(self.rates.contract_size))
            };
            if let Ok(start) = cap_start() {
                if start < size {
                    return Ok(bound(self.unit_requirement(ht, Fixed::ONE)?, size.checked_sub(start)?));
                }
            }
        }
        let tangent = rho_up.checked_mul_ceil(size_premium::THREE_HALVES)?.checked_sub(two_fifths_down)?;
        let ceiling = size_premium::THREE_HALVES.checked_sub(two_fifths_down)?;
        Ok(bound(self.unit_requirement(ht, tangent.min(ceiling))?, size))
    }

    /// PnL as health counts it: losses in full, profits weighted and (Init)
    /// capped ([`PnlLimits::weigh`]).
    pub fn weighted_pnl(&self, ht: HealthType) -> RiskResult<Fixed> {
        self.pnl_limits.weigh(self.pnl(ht)?, ht)
    }

    /// [`DerivativeInfo::weighted_pnl`] for each of `types` (0 for the
    /// others), the PnL computed once for consecutive types that value a
    /// unit alike (Maint and LiquidationEnd share their prices).
    pub fn weighted_pnls(&self, types: &[HealthType]) -> RiskResult<PerType<Fixed>> {
        let mut out = PerType::splat(Fixed::ZERO);
        let mut last: Option<(Fixed, Fixed)> = None;
        for ht in types {
            let unit = self.unit_value(*ht);
            let pnl = match last {
                Some((u, pnl)) if u == unit => pnl,
                _ => self.pnl(*ht)?,
            };
            last = Some((unit, pnl));
            out.set(*ht, self.pnl_limits.weigh(pnl, *ht)?);
        }
        Ok(out)
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

#[cfg(test)]
#[path = "derivatives_tests.rs"]
mod tests;
