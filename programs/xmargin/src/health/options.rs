//! Valuing option positions for health (linear mode) from their market's
//! risk array: no Black–Scholes in a health check, only multiplies and adds.
//!
//! - **Value**: the array's model value per underlying native unit, moved
//!   from the array's spot to each health type's price by its Δ and Γ
//!   (`xmargin_risk::health::option_margin::value_at`: a long at the
//!   tangent, a short at the capped expansion or at the value when the move
//!   favours it, one unit (2^-48) more); PnL is
//!   `base · value − quote_cost + realized_pnl`, its positive part weighted
//!   and capped as for every derivative.
//! - **Requirement**: a short pays Derive's shape on top of the mark
//!   (Init `max(init_base · S − OTM, init_floor · S)`, LiquidationEnd and
//!   Maint flat shares of spot: the market's short-option rates); a long
//!   `rate · S · |Δ|` at the market's rates, never more than its value.
//! - **Validity**: the array must be fresh (`crate::options`: age, drift,
//!   grid, volatility) and the oracle usable. Otherwise risk-increasing
//!   actions and views are refused with the named error
//!   (`RiskArrayStale`, `RiskArrayDrifted`, `RiskArrayOtherGrid`, or the
//!   oracle's), as for a stale oracle; deposits and repays never value it.
//!   Under the fallback rules (liquidations of other positions, the check
//!   that clears `BEING_LIQUIDATED`, keeper ranking) the position is valued
//!   at bounds that hold whatever the price: a long at 0, a short call at
//!   the highest price of the range and a short put at its strike (an option
//!   is never worth more), with the short requirement at the fallback price.
//! - A closed position (realised PnL only) reads neither price nor array,
//!   unless it is the instruction's own market (a trade opening it).
//! - A position of a **settled** market (expired, settlement price fixed) is
//!   worth what `settle_expired` pays it, `contracts · intrinsic −
//!   quote_cost`, as realised PnL (weighted and capped like any profit, no
//!   requirement) whether or not its own `settle_expired` ran: it reads no
//!   price and no array, so a stale array never blocks an account there.
use anchor_lang::prelude::*;
use xmargin_risk::health::option_margin::{long_unit_requirement, ArrayValue};
use xmargin_risk::health::{DerivativeInfo, HealthType, MarginRates, OptionTerms, PnlLimits};
use xmargin_risk::perp::base_native;
use xmargin_risk::price::BiasedPrices;
use xmargin_risk::Fixed;

use super::derivatives::{market_oracle_price, position_price, usable_price};
use super::{risk_error, HealthContext, UnpricedLiability};
use crate::errors::XmarginError;
use crate::expiry::settlement_value_per_contract;
use crate::options::{array_freshness, check_array_fresh, value_freshness};
use crate::oracle::PythReading;
use crate::state::{market_status, DerivativePosition, Market};
use xmargin_risk::options::intrinsic::expiry_pnl;
use xmargin_risk::options::risk_array::{Freshness, RiskArray, ARRAY_FORMAT, RISK_ARRAY_SCENARIOS};

/// What valuing one option position needs.
struct Inputs {
    terms: OptionTerms,
    base: Fixed,
    cost_basis: Fixed,
    prices: BiasedPrices,
    rates: MarginRates,
    limits: PnlLimits,
    array: ArrayValue,
    scenarios: Scenarios,
}

/// Where portfolio mode reads an option position's scenario P&L from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenarios {
    /// None: a settled market or a closed position (realised PnL only).
    Zero,
    /// The market's stored array (fresh on the group's grid: the one the
    /// value and Δ came from).
    Stored,
    /// Valued at its bounds or from an array on the previous grid: no
    /// scenario P&L to net (the account is valued linearly).
    Unavailable,
}

const NO_VALUE: ArrayValue = ArrayValue::flat(Fixed::ZERO);

/// Inlined into its three callers: its result (≈ 500 bytes) is then built
/// in place instead of copied out (≈ 120 CU per option position, measured).
#[inline(always)]
fn inputs(
    ctx: &HealthContext,
    market: &Market,
    reading: &PythReading,
    position: &DerivativePosition,
) -> Result<Inputs> {
    let base = base_native(position.base_contracts, market.contract_size).map_err(risk_error)?;
    let cost_basis = Fixed::from_i64(position.quote_cost)
        .checked_sub(Fixed::from_i64(position.realized_pnl))
        .map_err(risk_error)?;
    let risk = market.risk_params(ctx.now);
    let mut rates = risk.margin_rates(market.contract_size);
    rates.short_option = market.short_option_rates();
    let terms = market.option_terms(ctx.now);
    if market.status == market_status::SETTLED {
        // Expired and settled: its intrinsic value is fixed cash, realised PnL
        // only (as after `settle_expired`), no price, no array: the contracts'
        // value leaves the cost basis, `pnl = contracts · I − quote_cost + realized`.
        let cost_basis = cost_basis.checked_sub(settled_value(market, position)?).map_err(risk_error)?;
        let (prices, limits) = (BiasedPrices::flat(market.settlement_price.get()), risk.pnl_limits());
        let scenarios = Scenarios::Zero;
        return Ok(Inputs {
            terms,
            base: Fixed::ZERO,
            cost_basis,
            prices,
            rates,
            limits,
            array: NO_VALUE,
            scenarios,
        });
    }
    let strict = ctx.rules.strict_market == Some(market.market_index);
    let (prices, array, scenarios) = if position.base_contracts == 0 && !strict {
        // Only realised PnL is left: value and requirement are 0.
        (BiasedPrices::flat(market.stable_price.get()), NO_VALUE, Scenarios::Zero)
    } else {
        priced(ctx, market, reading, position.base_contracts, terms, strict)?
    };
    Ok(Inputs { terms, base, cost_basis, prices, rates, limits: risk.pnl_limits(), array, scenarios })
}

/// What the contracts of a settled option market pay at expiry,
/// `contracts · intrinsic value per contract` (whole units, as
/// `settle_expired` books them).
fn settled_value(market: &Market, position: &DerivativePosition) -> Result<Fixed> {
    let value = settlement_value_per_contract(market)?;
    expiry_pnl(position.base_contracts, value, 0).map(Fixed::from_i64).map_err(risk_error)
}

/// Prices and the array's value, or the named error, or (fallback rules)
/// the bounds of the module docs; and whether the array's scenarios may be
/// netted ([`Scenarios`]).
#[inline(never)]
fn priced(
    ctx: &HealthContext,
    market: &Market,
    reading: &PythReading,
    contracts: i64,
    terms: OptionTerms,
    strict: bool,
) -> Result<(BiasedPrices, ArrayValue, Scenarios)> {
    let bias = market.bias(ctx.now);
    let stable = market.stable_price.get();
    let refuse = strict || ctx.rules.unpriced_liability == UnpricedLiability::Refuse;
    if let Some(price) = usable_price(ctx, market, reading) {
        if let Some(fresh) = value_usable(ctx, market, price.lo, refuse)? {
            let prices = BiasedPrices::new(&price, stable, bias).map_err(risk_error)?;
            // Netted only from a fresh array whose scenarios are in this
            // version's units (an older format values the position alone).
            let current = market.risk_array.header().scenarios_current();
            let scenarios = if fresh && current { Scenarios::Stored } else { Scenarios::Unavailable };
            return Ok((prices, market.risk_array.array_value(), scenarios));
        }
        if refuse {
            check_array_fresh(market, ctx.now, price.lo, &ctx.grid)?;
        }
    } else if refuse {
        return Err(market_oracle_price(ctx, market, reading)
            .err()
            .unwrap_or_else(|| error!(XmarginError::OracleNonPositivePrice)));
    }
    msg!(
        "option market {} valued at its bounds: its oracle or risk array is not usable",
        market.market_index
    );
    let short = contracts < 0;
    let gains_on_rise = (contracts > 0) == terms.is_call;
    let price = position_price(ctx, market, reading, gains_on_rise)?;
    let prices = BiasedPrices::new(&price, stable, bias).map_err(risk_error)?;
    let bound = match (short, terms.is_call) {
        (false, _) => Fixed::ZERO,
        (true, true) => prices.liab(HealthType::Init).max(prices.liab(HealthType::Maint)),
        (true, false) => terms.strike,
    };
    Ok((prices, ArrayValue::flat(bound), Scenarios::Unavailable))
}

/// Whether the array's value and Δ may value the position: a fresh array;
/// under the fallback rules (`refuse` false: a liquidation) also one left on
/// the previous grid by a grid change whose age, drift and volatility pass
/// (`crate::options::value_freshness`: value and Δ do not depend on the
/// grid), so a grid change never sends options to their bounds.
/// `Some(true)`: fresh; `Some(false)`: the previous grid's, value only.
fn value_usable(ctx: &HealthContext, market: &Market, oracle: Fixed, refuse: bool) -> Result<Option<bool>> {
    Ok(match array_freshness(market, ctx.now, oracle, &ctx.grid)? {
        Freshness::Fresh => Some(true),
        Freshness::OtherGrid if !refuse => {
            (value_freshness(market, ctx.now, oracle, &ctx.grid)? == Freshness::Fresh).then_some(false)
        }
        _ => None,
    })
}

/// The market's oracle is usable and its array would be fresh for
/// portfolio netting but for an upgrade of the grid or of the program:
/// computed on the previous grid, or stored in an older format (what
/// [`super::portfolio::Arrays::refuse_previous_grid`] refuses to liquidate
/// on, until anyone cranks `update_risk_array`).
pub fn on_previous_grid(ctx: &HealthContext, market: &Market, reading: &PythReading) -> Result<bool> {
    let Some(price) = usable_price(ctx, market, reading) else { return Ok(false) };
    Ok(match array_freshness(market, ctx.now, price.lo, &ctx.grid)? {
        Freshness::OtherGrid => value_freshness(market, ctx.now, price.lo, &ctx.grid)? == Freshness::Fresh,
        Freshness::Fresh => !market.risk_array.header().scenarios_current(),
        _ => false,
    })
}

/// Portfolio mode: the risk array the position's scenario P&L is read
/// from. The market's stored array when it is usable (the oracle and the
/// array pass the rules above: the same array `value_option` took the value
/// and Δ from); an all-zero array on the group's grid for a closed
/// position or one in a settled market (no scenario P&L) unless it is the instruction's own
/// market (a trade opening it takes the stored one); `None` when the position was valued
/// at its bounds (fallback rules only), which the caller must not net.
pub fn portfolio_array(
    ctx: &HealthContext,
    market: &Market,
    reading: &PythReading,
    position: &DerivativePosition,
) -> Result<Option<RiskArray>> {
    // A settled market's position is realised PnL (`settled_value`), whether or
    // not its own `settle_expired` ran: no scenario P&L, and no stale array or
    // oracle after expiry may knock the account out of portfolio mode.
    let settled = market.status == market_status::SETTLED;
    if settled || (position.base_contracts == 0 && ctx.rules.strict_market != Some(market.market_index)) {
        return Ok(Some(RiskArray {
            computed_at: ctx.now,
            grid_id: ctx.grid.grid_id,
            scenario_count: u16::from(ctx.grid.grid_len),
            format: ARRAY_FORMAT,
            spot: market.stable_price.get(),
            vol: Fixed::ZERO,
            value: Fixed::ZERO,
            delta: Fixed::ZERO,
            gamma: Fixed::ZERO,
            vega: Fixed::ZERO,
            theta: Fixed::ZERO,
            changes: [0; RISK_ARRAY_SCENARIOS],
        }));
    }
    let Some(price) = usable_price(ctx, market, reading) else { return Ok(None) };
    if array_freshness(market, ctx.now, price.lo, &ctx.grid)? != Freshness::Fresh
        || !market.risk_array.header().scenarios_current()
    {
        return Ok(None);
    }
    market.risk_array.to_array().map(Some).map_err(risk_error)
}

/// The risk engine's view of one option position (all three health types).
/// Not inlined: it keeps its stack frame out of its callers' (SBF's 4 KiB frames).
#[inline(never)]
pub fn value_option(
    ctx: &HealthContext,
    market: &Market,
    reading: &PythReading,
    position: &DerivativePosition,
) -> Result<DerivativeInfo> {
    let v = inputs(ctx, market, reading, position)?;
    DerivativeInfo::new_option_from_array(
        market.market_index,
        market.underlying_token_index,
        v.terms,
        v.base,
        v.cost_basis,
        v.prices,
        v.rates,
        v.array,
    )
    .and_then(|d| d.with_pnl_limits(v.limits))
    .map_err(risk_error)
}

/// Init contribution of one option position, exactly
/// `value_option(..).contribution(Init)` (same units and roundings) without
/// building the three health types: the Init-only path.
#[inline(never)]
pub fn option_init_contribution(
    ctx: &HealthContext,
    market: &Market,
    reading: &PythReading,
    position: &DerivativePosition,
) -> Result<Fixed> {
    let v = inputs(ctx, market, reading, position)?;
    check_init_bounds(&v)?;
    let init = HealthType::Init;
    let contribution = || -> xmargin_risk::RiskResult<Fixed> {
        let short = v.base.is_negative();
        let uv = init_unit_value(&v)?;
        // `base` is whole native units: its products are exact (one 64-bit
        // product each), equal to `DerivativeInfo`'s rounded ones.
        let units = v.base.to_i64(xmargin_risk::Rounding::Floor)?;
        let value = uv.checked_mul_int(units)?;
        let pnl = value.checked_sub(v.cost_basis)?;
        let size = units.checked_abs().ok_or(xmargin_risk::RiskError::Overflow)?;
        let requirement = if short {
            let unit =
                v.rates.short_option.unit_requirement(init, v.terms.is_call, v.terms.strike, &v.prices)?;
            unit.checked_mul_int(size)?
        } else {
            let unit = long_unit_requirement(&v.prices, init, v.rates.init, v.array.delta)?;
            unit.checked_mul_int(size)?.min(value.positive_part())
        };
        v.limits.weigh(pnl, init)?.checked_sub(requirement)
    };
    contribution().map_err(risk_error)
}

/// The bounds the Init-only formulas rely on, as the perpetual path
/// checks its own (`super::derivatives::init_contribution`): the
/// parameters' ordering is validated when they are written
/// (`market_params.rs`) and again by the full valuation. Init rate, the
/// short Init rates and the Init PnL weight in `[0, 1]`, the cap not
/// negative, and no size premium (the engine refuses one on an option).
fn check_init_bounds(v: &Inputs) -> Result<()> {
    let unit_interval = |x: Fixed| !x.is_negative() && x <= Fixed::ONE;
    let short = &v.rates.short_option;
    let ok = unit_interval(v.rates.init)
        && unit_interval(short.init_base)
        && unit_interval(short.init_floor)
        && unit_interval(v.limits.weights.init)
        && !v.limits.init_cap.is_some_and(Fixed::is_negative)
        && v.rates.size_premium.is_zero();
    if ok {
        Ok(())
    } else {
        Err(risk_error(xmargin_risk::RiskError::InvalidParameter))
    }
}

/// The Init value per unit (`DerivativeInfo`'s for Init): the array's
/// expansion at the Init price of the position's direction.
fn init_unit_value(v: &Inputs) -> xmargin_risk::RiskResult<Fixed> {
    let rising = v.base.is_positive() == v.terms.is_call;
    v.array.unit_value(&v.terms, v.prices.for_exposure(HealthType::Init, rising), v.base.is_negative())
}

/// An option position's Init pieces (exactly its `DerivativeInfo`'s, as
/// [`super::derivatives::InitParts`]) and what portfolio mode nets.
pub struct OptionInitParts {
    pub parts: super::derivatives::InitParts,
    pub scenarios: Scenarios,
    /// Signed contracts behind `parts.base` (0 once settled).
    pub contracts: i64,
    /// `MarginRates::short_option_min_delta`.
    pub min_delta: Fixed,
    /// A long's value per unit at the oracle, what a book of longs caps its
    /// requirement at (`OptionLegInput::oracle_value`); 0 otherwise (unused).
    pub oracle_value: Fixed,
}

/// [`OptionInitParts`] of an option position.
#[inline(never)]
pub fn option_init_parts(
    ctx: &HealthContext,
    market: &Market,
    reading: &PythReading,
    position: &DerivativePosition,
) -> Result<OptionInitParts> {
    let v = inputs(ctx, market, reading, position)?;
    let (weighted_pnl, requirement) = init_pieces(&v)?;
    let settled = market.status == market_status::SETTLED;
    Ok(OptionInitParts {
        parts: super::derivatives::InitParts {
            weighted_pnl,
            requirement,
            base: v.base,
            oracle: v.prices.oracle,
        },
        scenarios: v.scenarios,
        contracts: if settled { 0 } else { position.base_contracts },
        min_delta: v.rates.short_option_min_delta,
        oracle_value: if v.base.is_positive() {
            v.array.unit_value(&v.terms, v.prices.oracle, false).map_err(risk_error)?
        } else {
            Fixed::ZERO
        },
    })
}

/// The Init PnL weighted and capped and the Init requirement of a valued
/// option position (`DerivativeInfo::weighted_pnl` / `requirement`), as
/// [`option_init_contribution`] subtracts them (kept apart: the linear hot
/// path's code stays as measured).
fn init_pieces(v: &Inputs) -> Result<(Fixed, Fixed)> {
    check_init_bounds(v)?;
    let init = HealthType::Init;
    let pieces = || -> xmargin_risk::RiskResult<(Fixed, Fixed)> {
        let short = v.base.is_negative();
        // Whole native units: exact products, as in `option_init_contribution`.
        let units = v.base.to_i64(xmargin_risk::Rounding::Floor)?;
        let value = init_unit_value(v)?.checked_mul_int(units)?;
        let pnl = value.checked_sub(v.cost_basis)?;
        let size = units.checked_abs().ok_or(xmargin_risk::RiskError::Overflow)?;
        let requirement = if short {
            let unit =
                v.rates.short_option.unit_requirement(init, v.terms.is_call, v.terms.strike, &v.prices)?;
            unit.checked_mul_int(size)?
        } else {
            let unit = long_unit_requirement(&v.prices, init, v.rates.init, v.array.delta)?;
            unit.checked_mul_int(size)?.min(value.positive_part())
        };
        Ok((v.limits.weigh(pnl, init)?, requirement))
    };
    pieces().map_err(risk_error)
}

#[cfg(test)]
mod tests {
    //! The Init-only option path equals the full valuation; stale arrays are
    //! refused under the strict rules and valued at their bounds otherwise.
    use super::*;
    use crate::health::PriceRules;
    use crate::options::{default_grid, DEFAULT_RISK_GRID, RISK_ARRAY_MAX_AGE_SECS};
    use crate::state::{market_kind, market_status, StoredFixed, StoredRiskArray};
    use anchor_lang::prelude::Pubkey;
    use xmargin_risk::health::option_margin::ShortOptionRates;
    use xmargin_risk::options::risk_array::compute_risk_array;
    use xmargin_risk::Rounding;

    const NOW: i64 = 1_750_000_000;

    fn bps(b: i64) -> StoredFixed {
        Fixed::from_ratio(b, 10_000, Rounding::Floor).unwrap().into()
    }

    /// A 30-day SOL option (0.01 SOL contracts) at $150 (0.15 per lamport), σ 60 %,
    /// rates as `sol_call_args`, its array computed `age` seconds ago at $150.
    fn market(is_call: bool, strike: &str, age: i64) -> Market {
        let mut m: Market = bytemuck::Zeroable::zeroed();
        m.kind = market_kind::OPTION;
        m.status = market_status::ACTIVE;
        m.option_is_call = u8::from(is_call);
        m.contract_size = 10_000_000;
        m.underlying_decimals = 9;
        m.expiry_ts = NOW + 30 * 86_400;
        m.strike = strike.parse::<Fixed>().unwrap().into();
        m.volatility = bps(6_000);
        m.risk.init_rate = bps(1_000);
        m.risk.liq_end_rate = bps(750);
        m.risk.maint_rate = bps(500);
        m.risk.pnl_init_weight = bps(5_000);
        m.risk.pnl_liq_end_weight = bps(7_500);
        m.risk.pnl_maint_weight = bps(9_000);
        m.risk.init_pnl_cap = 100_000_000;
        let r = ShortOptionRates::derive();
        (m.option.short_init_base, m.option.short_init_floor) = (r.init_base.into(), r.init_floor.into());
        (m.option.short_liq_end, m.option.short_maint) = (r.liq_end.into(), r.maint.into());
        m.safety.conf_multiplier = Fixed::ONE.into();
        m.safety.max_conf_ratio = bps(200);
        m.safety.max_oracle_age_secs = 60;
        m.stable_price = Fixed::from_ratio(15, 100, Rounding::Floor).unwrap().into();
        let spec = m.option_spec();
        let spot = Fixed::from_ratio(15, 100, Rounding::Floor).unwrap();
        let array =
            compute_risk_array(&spec, spot, m.volatility.get(), NOW - age, &default_grid().unwrap()).unwrap();
        m.risk_array = StoredRiskArray::from_array(&array);
        m
    }

    fn reading(price: i64, age: i64) -> PythReading {
        PythReading { price, conf: 10_000_000, exponent: -8, publish_time: NOW - age }
    }

    #[test]
    fn init_path_equals_the_derivative_info() {
        let fresh = [reading(15_000_000_000, 5), reading(15_200_000_000, 5)];
        let drifted = reading(15_400_000_000, 5); // +2.67 %
        let stale_oracle = reading(15_000_000_000, 61);
        let mut checked = 0;
        for (call, strike) in [(true, "0.165"), (false, "0.135"), (true, "0.12"), (false, "0.18")] {
            for age in [0, RISK_ARRAY_MAX_AGE_SECS as i64 + 1] {
                let m = market(call, strike, age);
                for rules in [PriceRules::VIEW, PriceRules::CONSERVATIVE, PriceRules::trade(0)] {
                    let ctx = HealthContext {
                        group: Pubkey::default(),
                        quote_decimals: 6,
                        now: NOW,
                        rules,
                        grid: DEFAULT_RISK_GRID,
                    };
                    for r in fresh.iter().chain([&drifted, &stale_oracle]) {
                        for (base, cost, realized) in
                            [(300i64, 150_000, 0i64), (-300, -45_000, 0), (-7, -700, 1_234), (0, 0, -5_000)]
                        {
                            let p = DerivativePosition {
                                base_contracts: base,
                                quote_cost: base * cost / base.abs().max(1),
                                realized_pnl: realized,
                                in_use: 1,
                                ..DerivativePosition::default()
                            };
                            let full = value_option(&ctx, &m, r, &p)
                                .and_then(|d| d.contribution(HealthType::Init).map_err(risk_error));
                            let fast = option_init_contribution(&ctx, &m, r, &p);
                            match (full, fast) {
                                (Ok(a), Ok(b)) => assert_eq!(a, b, "{p:?} {r:?}"),
                                (Err(a), Err(b)) => assert_eq!(a, b),
                                (a, b) => panic!("{a:?} vs {b:?} for {p:?}"),
                            }
                            // Its two terms apart (portfolio mode's legs), to the bit.
                            if let (Ok(d), Ok(o)) =
                                (value_option(&ctx, &m, r, &p), option_init_parts(&ctx, &m, r, &p))
                            {
                                let init = HealthType::Init;
                                assert_eq!(o.parts.weighted_pnl, d.weighted_pnl(init).unwrap());
                                assert_eq!(o.parts.requirement, d.requirement(init).unwrap());
                                assert_eq!((o.parts.base, o.parts.oracle), (d.base, d.prices.oracle));
                                let contracts = if d.base.is_zero() { 0 } else { p.base_contracts };
                                assert_eq!(o.contracts, contracts);
                            }
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert!(checked >= 300, "{checked}");
    }

    /// Stale, drifted, another grid, another volatility: refused under the
    /// strict rules with the named error; at the bounds under the fallback
    /// rules, except an array on another grid (its value and Δ still used).
    #[test]
    fn unusable_arrays() {
        let code = |e: Error| match e {
            Error::AnchorError(a) => a.error_code_number,
            other => panic!("{other:?}"),
        };
        let view = HealthContext {
            group: Pubkey::default(),
            quote_decimals: 6,
            now: NOW,
            rules: PriceRules::VIEW,
            grid: DEFAULT_RISK_GRID,
        };
        let lenient = HealthContext { rules: PriceRules::CONSERVATIVE, ..view };
        let short =
            DerivativePosition { base_contracts: -100, quote_cost: -50_000, in_use: 1, ..Default::default() };
        let long =
            DerivativePosition { base_contracts: 100, quote_cost: 50_000, in_use: 1, ..Default::default() };
        let at_150 = reading(15_000_000_000, 5);
        let stale = market(true, "0.165", RISK_ARRAY_MAX_AGE_SECS as i64 + 1);
        let mut other_grid = market(true, "0.165", 0);
        other_grid.risk_array.grid_id ^= 1;
        let mut other_vol = market(true, "0.165", 0);
        other_vol.volatility = bps(6_500);
        let cases: [(&Market, PythReading, XmarginError); 4] = [
            (&stale, at_150, XmarginError::RiskArrayStale),
            (&other_vol, at_150, XmarginError::RiskArrayStale),
            (&other_grid, at_150, XmarginError::RiskArrayOtherGrid),
            (&market(true, "0.165", 0), reading(15_300_000_000, 5), XmarginError::RiskArrayDrifted),
        ];
        for (m, r, want) in cases {
            for p in [&short, &long] {
                let got = option_init_contribution(&view, m, &r, p).unwrap_err();
                assert_eq!(code(got), u32::from(want));
            }
            if matches!(want, XmarginError::RiskArrayOtherGrid) {
                // Fallback: left on the previous grid by a grid change, the
                // array's value and Δ (grid-independent) still value it.
                let fresh = market(true, "0.165", 0);
                for p in [&short, &long] {
                    let got = option_init_contribution(&lenient, m, &r, p).unwrap();
                    assert_eq!(got, option_init_contribution(&view, &fresh, &r, p).unwrap());
                }
                continue;
            }
            // Fallback: a long counts nothing (its cost is lost), a short call owes the price.
            let l = option_init_contribution(&lenient, m, &r, &long).unwrap();
            assert_eq!(l, Fixed::from_i64(-50_000));
            let s = value_option(&lenient, m, &r, &short).unwrap();
            let spot_hi = s.prices.liab(HealthType::Init);
            let owed = Fixed::from_i64(-1_000_000_000)
                .checked_mul_floor(spot_hi.checked_add(Fixed::DELTA).unwrap())
                .unwrap();
            assert_eq!(s.value(HealthType::Init).unwrap(), owed);
        }
        // A drift of 1.99 % is still fresh.
        let m = market(true, "0.165", 0);
        assert!(option_init_contribution(&view, &m, &reading(15_298_000_000, 5), &short).is_ok());
    }
}
