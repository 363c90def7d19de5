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
//! On-chain an option is valued from its market's risk array: model value,
//! Δ and Γ at the spot `S_a` the array was computed at, kept valid by its
//! age and the oracle's drift ([`crate::options::risk_array`]: at most
//! `max_drift` from `S_a`, 2 % by default). The oracle has moved since, so
//! each health type values the option at its own conservative price `S_T`
//! (the direction's asset or liability price) by the expansion around
//! `S_a` ([`value_at`]):
//!
//! ```text
//! long                 V + Δ·ds                                          rounded down
//! short, adverse move  min(max(V + Δ·ds + ½Γ·ds², intrinsic), V + |ds|)  rounded up, plus one unit (2^-48)
//! short, favourable    V                                                  plus one unit
//! ```
//!
//! with `ds = S_T − S_a` ([`value_at`]; the short's expansion computed as
//! `V + ds·(Δ + ½Γ·ds)`: two products). A long's tangent line is below the
//! (convex) option value, so it never counts more than the option is
//! worth. A short moved against (a call on a rise, a put on a fall) pays
//! the convexity on top, never less than the intrinsic value and never more
//! than `V + |ds|` (|Δ| ≤ 1); moved in its favour it stays at `V`, which the
//! option's monotonicity makes an upper bound (an expansion there would
//! turn back up past its vertex near expiry). Every branch is monotone in
//! the price. Γ is taken at `S_a`, so an adverse short's value can fall
//! short of Black–Scholes at `S_T` when the move is several standard
//! deviations; it never exceeds it by more than `|ds|`
//! (`expansion_error_table` bounds both over strikes, volatilities, tenors
//! from an hour to a year and moves up to 5 %). Valuing at `V` alone was off
//! by up to `|ds|` in either direction (a deep in-the-money option), in
//! health and in a liquidation's price alike.
//!
//! Portfolio mode's scenario P&L stays in the array's frame (its changes
//! are from `V` at `S_a`); the expansion moves the option's PnL, which
//! portfolio health counts as linear health does.
//! Worked example (`option_margin_tests.rs`): value 4.5, Δ 0.42, Γ 0.02 at
//! 150, oracle now 153: a long counts `4.5 + 0.42·3 = 5.76`, a short owes
//! `5.76 + ½·0.02·9 = 5.85` (and one unit).

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
                if otm.is_zero() || self.init_base <= self.init_floor {
                    // Nothing to reduce, or the floor binds whatever the
                    // reduction: `hi ≥ 0` and rounding up are monotone, so
                    // one product is the max of the two (in or at the money).
                    return hi.checked_mul_ceil(self.init_base.max(self.init_floor));
                }
                let reduced = hi.checked_mul_ceil(self.init_base)?.checked_sub(otm)?;
                Ok(reduced.max(hi.checked_mul_ceil(self.init_floor)?))
            }
            HealthType::LiquidationEnd => hi.checked_mul_ceil(self.liq_end),
            HealthType::Maint => hi.checked_mul_ceil(self.maint),
        }
    }
}

/// An option's model value and Greeks per unit of underlying, read from its
/// market's risk array at the spot it was computed at (module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArrayValue {
    /// The oracle price the array was computed at (the expansion's centre).
    pub spot: Fixed,
    /// Model value at `spot` (quote native per underlying native unit, ≥ 0).
    pub value: Fixed,
    /// ∂V/∂S at `spot`.
    pub delta: Fixed,
    /// ∂²V/∂S² at `spot` (≥ 0: the convexity a short pays for).
    pub gamma: Fixed,
}

impl ArrayValue {
    /// A value that does not move with the price (bounds, a closed or
    /// settled position): Δ and Γ zero.
    pub const fn flat(value: Fixed) -> ArrayValue {
        ArrayValue { spot: Fixed::ZERO, value, delta: Fixed::ZERO, gamma: Fixed::ZERO }
    }

    /// Per-unit value at `price` of an option on `terms` ([`value_at`]
    /// around the array's spot),
    /// a short owing one unit more (the stored value was rounded down).
    #[inline]
    pub fn unit_value(&self, terms: &OptionTerms, price: Fixed, short: bool) -> RiskResult<Fixed> {
        value_at(self, (terms.is_call, terms.strike), price, (short, Fixed::DELTA))
    }

    /// Greeks as far as the array gives them (vega and θ left at 0).
    pub fn greeks(&self) -> Greeks {
        Greeks {
            value: self.value,
            delta: self.delta,
            gamma: self.gamma,
            vega: Fixed::ZERO,
            theta: Fixed::ZERO,
        }
    }
}

/// A per-unit option valuation of this module: expansion, `(is_call,
/// strike)`, price, `(short, owed)` → value ([`value_at`], [`fair_value_at`]).
pub type Valuation = fn(&ArrayValue, (bool, Fixed), Fixed, (bool, Fixed)) -> RiskResult<Fixed>;

/// Per-unit value at `price` of an option (call or put, `strike`) whose
/// value, Δ and Γ `e` are known at `e.spot`, rounded against the holder
/// (module docs), with `ds = price − e.spot`:
///
/// ```text
/// long                 V + ⌊Δ·ds⌋                                       (the tangent: below the convex value)
/// short, adverse move  min(max(V + ⌈ds·(Δ + ½Γ·ds)⌉, intrinsic), V + |ds|) + owed
/// short, favourable    V + owed                                          (an option is monotone in the price)
/// ```
///
/// never below 0. A move is adverse to a short call when the price rises,
/// to a short put when it falls. There `½Γ·ds` is rounded toward `ds`'s
/// sign so that, with the product rounded up, the expansion is never below
/// its exact value, and `V + |ds|` (|Δ| ≤ 1) caps what the expansion could
/// overshoot. The long's and the favourable short's values are sound
/// bounds; the adverse short's expansion is an estimate (Γ at the array's
/// spot) that can fall short of the true value by a fraction of the move
/// (`expansion_error_table`: at most 13 %), which the short's requirement
/// (a share of spot) absorbs. Each branch is monotone in the price, so a short is worth
/// more at its liability-side price than at the oracle, and a long less.
/// `owed` is what a short owes beyond the model value (one unit for an
/// array's value, which was rounded down when computed).
#[inline(always)]
pub fn value_at(
    e: &ArrayValue,
    (is_call, strike): (bool, Fixed),
    price: Fixed,
    (short, owed): (bool, Fixed),
) -> RiskResult<Fixed> {
    let ds = price.checked_sub(e.spot)?;
    let mut v = e.value;
    if short {
        let up = ds.is_positive();
        if up == is_call && !ds.is_zero() {
            let expanded = expansion(e, ds, true)?;
            // Far moves in Γ's units (a short-dated option at the money) outrun
            // the expansion: never less than the intrinsic value, never more
            // than the model value plus the move.
            let intrinsic = if is_call { price.checked_sub(strike)? } else { strike.checked_sub(price)? };
            let cap = if up { v.checked_add(ds)? } else { v.checked_sub(ds)? }; // V + |ds|
            v = expanded.max(intrinsic).min(cap);
        }
        v = v.checked_add(owed)?;
    } else if !ds.is_zero() {
        v = v.checked_add(e.delta.checked_mul_floor(ds)?)?;
    }
    Ok(v.positive_part())
}

/// `V + ds·(Δ + ½Γ·ds)` rounded up for a short, down for a long (two
/// products, the halving a shift): `½Γ·ds` is rounded up when that raises
/// the product (a short on a rise, a long on a fall), else down.
#[inline(always)]
fn expansion(e: &ArrayValue, ds: Fixed, short: bool) -> RiskResult<Fixed> {
    let half_up = short == ds.is_positive();
    let g_ds = e.gamma.checked_mul(ds, if half_up { Rounding::Ceil } else { Rounding::Floor })?;
    let bits = g_ds.to_bits();
    let half = Fixed::from_bits((bits >> 1) + (bits & i128::from(half_up)));
    let outer = if short { Rounding::Ceil } else { Rounding::Floor };
    e.value.checked_add(e.delta.checked_add(half)?.checked_mul(ds, outer)?)
}

/// Per-unit value at `price` as a central estimate, for trading an option
/// (a liquidation) and for oracle equity rather than for margin:
/// `V + Δ·ds + ½Γ·ds²` (two products), kept where the option can be and
/// monotone in the price: at least its intrinsic value and 0; on a move that
/// raises it at most `V + |ds|` (|Δ| ≤ 1); on a move that lowers it at most
/// `V + ½Δ·ds` (a third product), the line that meets the parabola at its
/// vertex, so the estimate keeps falling past it instead of turning back up
/// (a short-dated option far from its strike). Rounded against the holder
/// (a short's terms up, a long's down); a short owes `owed` more. A flat
/// value (Δ = Γ = 0: bounds, closed or settled positions) stays as it is.
/// Near expiry the parabola is only an estimate (a 1-hour at-the-money call
/// after a 1.93 % rise: 3.275 per unit against Black–Scholes' 2.906, tested).
pub fn fair_value_at(
    e: &ArrayValue,
    (is_call, strike): (bool, Fixed),
    price: Fixed,
    (short, owed): (bool, Fixed),
) -> RiskResult<Fixed> {
    let ds = price.checked_sub(e.spot)?;
    let mut v = e.value;
    if !ds.is_zero() && !(e.delta.is_zero() && e.gamma.is_zero()) {
        let central = expansion(e, ds, short)?;
        let upper = if ds.is_positive() == is_call {
            v.checked_add(ds.checked_abs()?)?
        } else {
            // V + ½Δ·ds, rounded as the central value.
            let d_ds = e.delta.checked_mul(ds, if short { Rounding::Ceil } else { Rounding::Floor })?;
            let bits = d_ds.to_bits();
            v.checked_add(Fixed::from_bits((bits >> 1) + (bits & i128::from(short))))?
        };
        let intrinsic = if is_call { price.checked_sub(strike)? } else { strike.checked_sub(price)? };
        v = central.min(upper).max(intrinsic);
    }
    let v = v.positive_part();
    if short {
        v.checked_add(owed)
    } else {
        Ok(v)
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
