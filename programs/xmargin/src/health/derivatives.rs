//! Valuing derivative positions (perpetuals, dated futures) for health;
//! options in [`super::options`].
//!
//! A position of `c` contracts of size `s` is `base = c·s` underlying native
//! units with cost basis `quote_cost − realized_pnl` and the funding owed
//! since its snapshot (settled lazily; read here as the integer it would
//! settle to, rounded toward −∞). The risk engine's `DerivativeInfo` applies
//! the market's requirement rates on notional at the conservative price side
//! (grown by the market's size premium for large positions:
//! `xmargin_risk::health::size_premium`) and counts positive PnL at the
//! market's weights, capped per position in Init
//! (`xmargin_risk::health::derivatives`).
//!
//! Prices follow the token rules (`PriceRules`): a stale or uncertain oracle
//! refuses risk-increasing actions and views, and the market being
//! liquidated must be priced; elsewhere in a liquidation (and in the check
//! that clears `BEING_LIQUIDATED`) the position is valued at its fallback:
//! a long at the lower, a short at the higher of the last reading and the
//! stable price. A settled future is worth its settlement price with no
//! requirement; a closed position (realised PnL only) reads no price.
use anchor_lang::prelude::*;
use xmargin_risk::health::size_premium::rate_for_whole_contracts;
use xmargin_risk::health::{DerivativeInfo, DerivativeKind, HealthType, MarginRates};
use xmargin_risk::perp::base_native;
use xmargin_risk::perp_funding::settle_funding;
use xmargin_risk::price::{pyth_conf_within, BiasedPrices, OraclePrice};
use xmargin_risk::Fixed;

use super::{risk_error, HealthContext, UnpricedLiability};
use crate::errors::XmarginError;
use crate::oracle::PythReading;
use crate::state::{market_kind, market_status, DerivativePosition, Market, MarketRiskParams};

/// Funding the position would settle now (quote native, floor).
pub fn pending_funding(market: &Market, position: &DerivativePosition) -> Result<i64> {
    // Settled up to the index (every position an instruction touched): nothing owed.
    if !market.is_perpetual()
        || position.base_contracts == 0
        || position.funding_snapshot == market.cum_funding
    {
        return Ok(0);
    }
    settle_funding(position.base_contracts, market.cum_funding.get(), position.funding_snapshot.get())
        .map(|s| s.credit)
        .map_err(risk_error)
}

/// The market's oracle price after its freshness and confidence rules, or
/// the named error.
pub fn market_oracle_price(
    ctx: &HealthContext,
    market: &Market,
    reading: &PythReading,
) -> Result<OraclePrice> {
    let safety = market.safety_params(ctx.now);
    reading.check_fresh(ctx.now, safety.max_oracle_age_secs)?;
    reading.to_oracle_price(market.underlying_decimals, ctx.quote_decimals, safety.max_conf_ratio.get())
}

/// The oracle price if it passes the market's freshness and confidence rules.
pub(super) fn usable_price(
    ctx: &HealthContext,
    market: &Market,
    reading: &PythReading,
) -> Option<OraclePrice> {
    let safety = market.safety_params(ctx.now);
    let fresh = ctx.now.saturating_sub(reading.publish_time) <= i64::from(safety.max_oracle_age_secs);
    if fresh
        && reading.price > 0
        && pyth_conf_within(reading.price, reading.conf, safety.max_conf_ratio.get())
    {
        return OraclePrice::from_pyth(
            reading.price,
            reading.conf,
            reading.exponent,
            market.underlying_decimals,
            ctx.quote_decimals,
        )
        .ok();
    }
    None
}

/// Usable price, or under fallback rules the conservative stand-in for a
/// position long (`true`) or short.
pub(super) fn position_price(
    ctx: &HealthContext,
    market: &Market,
    reading: &PythReading,
    long: bool,
) -> Result<OraclePrice> {
    if let Some(p) = usable_price(ctx, market, reading) {
        return Ok(p);
    }
    let strict = ctx.rules.strict_market == Some(market.market_index);
    if strict || ctx.rules.unpriced_liability == UnpricedLiability::Refuse {
        return Err(market_oracle_price(ctx, market, reading)
            .err()
            .unwrap_or_else(|| error!(XmarginError::OracleNonPositivePrice)));
    }
    msg!("market {} valued at its fallback price: its oracle is stale or uncertain", market.market_index);
    let stable = market.stable_price.get();
    let last = OraclePrice::from_pyth(
        reading.price,
        reading.conf,
        reading.exponent,
        market.underlying_decimals,
        ctx.quote_decimals,
    )
    .ok();
    let price = match (last, long) {
        (Some(p), true) => p.lo.min(stable),
        (Some(p), false) => p.hi.max(stable),
        (None, _) => stable,
    };
    if !price.is_positive() {
        return err!(XmarginError::OracleNonPositivePrice);
    }
    Ok(OraclePrice { lo: price, hi: price, conf: Fixed::ZERO })
}

/// What valuing one position needs: its amounts, prices and the risk
/// parameters in force (a settled future has no requirement).
struct Inputs<'m> {
    kind: DerivativeKind,
    base: Fixed,
    cost_basis: Fixed,
    funding: Fixed,
    prices: BiasedPrices,
    risk: &'m MarketRiskParams,
    settled: bool,
}

impl Inputs<'_> {
    /// The requirement rates for the risk engine (all zero once settled).
    fn margin_rates(&self, contract_size: u64) -> MarginRates {
        if self.settled {
            MarginRates::flat(Fixed::ZERO, Fixed::ZERO, Fixed::ZERO, Fixed::ZERO)
        } else {
            self.risk.margin_rates(contract_size)
        }
    }
}

fn inputs<'m>(
    ctx: &HealthContext,
    market: &'m Market,
    reading: &PythReading,
    position: &DerivativePosition,
) -> Result<Inputs<'m>> {
    let base = base_native(position.base_contracts, market.contract_size).map_err(risk_error)?;
    let funding = pending_funding(market, position)?;
    let cost_basis = Fixed::from_i64(position.quote_cost)
        .checked_sub(Fixed::from_i64(position.realized_pnl))
        .map_err(risk_error)?;
    let kind =
        if market.kind == market_kind::FUTURE { DerivativeKind::Future } else { DerivativeKind::Perpetual };
    let risk = market.risk_params(ctx.now);
    let settled = market.status == market_status::SETTLED;
    let prices = if settled {
        BiasedPrices::flat(market.settlement_price.get())
    } else if position.base_contracts == 0 && ctx.rules.strict_market != Some(market.market_index) {
        // Only realised PnL is left: it needs no price (value and requirement are 0).
        // Not for the instruction's own market: trade and liquidate_position
        // open the new base in this template (`HealthCache::adjust_derivative`),
        // which must carry the oracle's prices, not a flat stable price.
        BiasedPrices::flat(market.stable_price.get())
    } else {
        let price = position_price(ctx, market, reading, position.base_contracts > 0)?;
        BiasedPrices::new(&price, market.stable_price.get(), market.bias(ctx.now)).map_err(risk_error)?
    };
    Ok(Inputs { kind, base, cost_basis, funding: Fixed::from_i64(funding), prices, risk, settled })
}

/// The risk engine's view of one derivative position.
pub fn value_derivative(
    ctx: &HealthContext,
    market: &Market,
    reading: &PythReading,
    position: &DerivativePosition,
) -> Result<DerivativeInfo> {
    if market.is_option() {
        return super::options::value_option(ctx, market, reading, position);
    }
    let v = inputs(ctx, market, reading, position)?;
    DerivativeInfo::new(
        market.market_index,
        market.underlying_token_index,
        v.kind,
        v.base,
        v.cost_basis,
        v.funding,
        v.prices,
        v.margin_rates(market.contract_size),
    )
    .and_then(|d| d.with_pnl_limits(v.risk.pnl_limits()))
    .map_err(risk_error)
}

/// Init contribution of one position, exactly
/// `value_derivative(..).contribution(Init)` (same units and roundings:
/// `xmargin_risk::health::derivatives`) without building the
/// `DerivativeInfo` and its units for all three health types: the
/// Init-only path of risk-increasing instructions. The parameters' ordering
/// and bounds are validated when they are written (`market_params.rs`) and
/// again by the full valuation; this path checks only the bounds its own
/// formula relies on (`0 ≤ init rate, size premium ≤ 1`).
pub fn init_contribution(
    ctx: &HealthContext,
    market: &Market,
    reading: &PythReading,
    position: &DerivativePosition,
) -> Result<Fixed> {
    if market.is_option() {
        return super::options::option_init_contribution(ctx, market, reading, position);
    }
    let v = inputs(ctx, market, reading, position)?;
    let (rate, imf) = if v.settled {
        (Fixed::ZERO, Fixed::ZERO)
    } else {
        (v.risk.init_rate.get(), v.risk.size_premium.get())
    };
    let unit_interval = |x: Fixed| !x.is_negative() && x <= Fixed::ONE;
    if !unit_interval(rate) || !unit_interval(imf) {
        return Err(risk_error(xmargin_risk::RiskError::InvalidParameter));
    }
    let init = HealthType::Init;
    let contribution = || -> xmargin_risk::RiskResult<Fixed> {
        let value = v.base.checked_mul_floor(v.prices.for_exposure(init, v.base.is_positive()))?;
        let pnl = value.checked_sub(v.cost_basis)?.checked_add(v.funding)?;
        // The size premium's size is the contract count itself (`|base| /
        // contract_size`, exact): no division, native integer arithmetic,
        // and no square root when off.
        let contracts = position.base_contracts.unsigned_abs();
        let rate = rate_for_whole_contracts(rate, imf, contracts)?;
        let req_unit = v.prices.liab(init).checked_mul_ceil(rate)?;
        let requirement = v.base.checked_abs()?.checked_mul_ceil(req_unit)?;
        // `PnlLimits::weigh` for Init: a profit at the Init weight, capped.
        let weighted = if pnl.is_positive() {
            pnl.checked_mul_floor(v.risk.pnl_init_weight.get())?.min(Fixed::from_u64(v.risk.init_pnl_cap))
        } else {
            pnl
        };
        weighted.checked_sub(requirement)
    };
    contribution().map_err(risk_error)
}

/// A perpetual's or future's Init pieces, exactly the `DerivativeInfo`'s
/// (`weighted_pnl(Init)`, `requirement(Init)`, its base and oracle price):
/// what [`init_contribution`] subtracts and what portfolio mode folds into
/// the position's book (`super::portfolio_init`).
pub struct InitParts {
    pub weighted_pnl: Fixed,
    pub requirement: Fixed,
    pub base: Fixed,
    pub oracle: Fixed,
}

/// [`InitParts`] of a perpetual or future position: [`init_contribution`]'s
/// two terms, apart (its own copy of the formula, so the linear hot path
/// keeps its measured code; `tests` checks both against `DerivativeInfo`).
#[inline(never)]
pub fn linear_init_parts(
    ctx: &HealthContext,
    market: &Market,
    reading: &PythReading,
    position: &DerivativePosition,
) -> Result<InitParts> {
    let v = inputs(ctx, market, reading, position)?;
    let (rate, imf) = if v.settled {
        (Fixed::ZERO, Fixed::ZERO)
    } else {
        (v.risk.init_rate.get(), v.risk.size_premium.get())
    };
    let unit_interval = |x: Fixed| !x.is_negative() && x <= Fixed::ONE;
    if !unit_interval(rate) || !unit_interval(imf) {
        return Err(risk_error(xmargin_risk::RiskError::InvalidParameter));
    }
    let init = HealthType::Init;
    let parts = || -> xmargin_risk::RiskResult<InitParts> {
        let value = v.base.checked_mul_floor(v.prices.for_exposure(init, v.base.is_positive()))?;
        let pnl = value.checked_sub(v.cost_basis)?.checked_add(v.funding)?;
        // The size premium's size is the contract count itself (`|base| /
        // contract_size`, exact): no division, native integer arithmetic,
        // and no square root when off.
        let contracts = position.base_contracts.unsigned_abs();
        let rate = rate_for_whole_contracts(rate, imf, contracts)?;
        let req_unit = v.prices.liab(init).checked_mul_ceil(rate)?;
        let requirement = v.base.checked_abs()?.checked_mul_ceil(req_unit)?;
        // `PnlLimits::weigh` for Init: a profit at the Init weight, capped.
        let weighted_pnl = if pnl.is_positive() {
            pnl.checked_mul_floor(v.risk.pnl_init_weight.get())?.min(Fixed::from_u64(v.risk.init_pnl_cap))
        } else {
            pnl
        };
        Ok(InitParts { weighted_pnl, requirement, base: v.base, oracle: v.prices.oracle })
    };
    parts().map_err(risk_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::PriceRules;
    use crate::state::StoredFixed;
    use anchor_lang::prelude::Pubkey;
    use xmargin_risk::Rounding;

    fn bps(b: i64) -> StoredFixed {
        Fixed::from_ratio(b, 10_000, Rounding::Floor).unwrap().into()
    }

    /// A SOL perpetual as `sol_perp_args` lists it (0.01 SOL contracts, Init
    /// 10 %, LiqEnd 7.5 %, Maint 5 %, PnL weights 50/75/90 %, Init cap 100 USDC).
    fn market(kind: u8, status: u8) -> Market {
        let mut m: Market = bytemuck::Zeroable::zeroed();
        m.kind = kind;
        m.status = status;
        m.contract_size = 10_000_000;
        m.underlying_decimals = 9;
        m.risk.init_rate = bps(1_000);
        m.risk.liq_end_rate = bps(750);
        m.risk.maint_rate = bps(500);
        m.risk.pnl_init_weight = bps(5_000);
        m.risk.pnl_liq_end_weight = bps(7_500);
        m.risk.pnl_maint_weight = bps(9_000);
        m.risk.init_pnl_cap = 100_000_000;
        m.safety.conf_multiplier = Fixed::ONE.into();
        m.safety.max_conf_ratio = bps(200);
        m.safety.max_oracle_age_secs = 60;
        m.stable_price = Fixed::from_ratio(15, 100, Rounding::Floor).unwrap().into();
        m.settlement_price = Fixed::from_ratio(1_431, 10_000, Rounding::Floor).unwrap().into();
        m.cum_funding = Fixed::from_ratio(-123_457, 1_000, Rounding::Floor).unwrap().into();
        m
    }

    /// The Init-only path gives exactly the `DerivativeInfo`'s Init
    /// contribution: longs and shorts, profits under and over the cap,
    /// losses, funding pending or settled, closed positions, a settled
    /// future, and fallback prices under the liquidation rules.
    #[test]
    fn init_contribution_equals_the_derivative_info() {
        let now = 1_750_000_000;
        let fresh = |price: i64| PythReading { price, conf: 10_000_000, exponent: -8, publish_time: now - 5 };
        let stale =
            PythReading { price: 14_000_000_000, conf: 10_000_000, exponent: -8, publish_time: now - 61 };
        let readings = [fresh(15_000_000_000), fresh(12_345_678_901), fresh(19_999_000_000)];
        // With a size premium of 0.001 per √contract: 6,500 contracts pay
        // √6,500 · 0.001 = 8.06 % on top of 8 % (Init 16.06 %), 3 contracts none.
        let mut premium = market(market_kind::PERPETUAL, market_status::ACTIVE);
        premium.risk.size_premium = Fixed::from_ratio(1, 1_000, Rounding::Floor).unwrap().into();
        let markets = [
            market(market_kind::PERPETUAL, market_status::ACTIVE),
            market(market_kind::FUTURE, market_status::ACTIVE),
            market(market_kind::FUTURE, market_status::SETTLED),
            premium,
        ];
        let mut checked = 0;
        for rules in [PriceRules::VIEW, PriceRules::CONSERVATIVE] {
            let ctx = HealthContext {
                group: Pubkey::default(),
                quote_decimals: 6,
                now,
                rules,
                grid: crate::options::DEFAULT_RISK_GRID,
            };
            for m in &markets {
                for (base, entry) in
                    [(6_500i64, 1_500_000i64), (-6_500, 1_500_000), (3, 1_234_567), (-1, 2_000_001)]
                {
                    for realized in [0i64, -454_977_991, 86_333_000] {
                        for snapshot in [m.cum_funding, StoredFixed::default()] {
                            let p = DerivativePosition {
                                base_contracts: base,
                                quote_cost: base * entry,
                                realized_pnl: realized,
                                funding_snapshot: snapshot,
                                in_use: 1,
                                ..DerivativePosition::default()
                            };
                            let closed = DerivativePosition { base_contracts: 0, quote_cost: 0, ..p };
                            for position in [p, closed] {
                                let list =
                                    if rules == PriceRules::VIEW { &readings[..] } else { &[stale][..] };
                                for reading in list {
                                    let full = value_derivative(&ctx, m, reading, &position)
                                        .and_then(|d| d.contribution(HealthType::Init).map_err(risk_error));
                                    let fast = init_contribution(&ctx, m, reading, &position);
                                    match (full, fast) {
                                        (Ok(a), Ok(b)) => assert_eq!(a, b, "{position:?} {reading:?}"),
                                        (Err(_), Err(_)) => {}
                                        (a, b) => panic!("{a:?} vs {b:?} for {position:?}"),
                                    }
                                    // Its two terms apart (portfolio mode's legs), to the bit.
                                    let info = value_derivative(&ctx, m, reading, &position);
                                    let parts = linear_init_parts(&ctx, m, reading, &position);
                                    if let (Ok(d), Ok(p)) = (info, parts) {
                                        let init = HealthType::Init;
                                        assert_eq!(p.weighted_pnl, d.weighted_pnl(init).unwrap());
                                        assert_eq!(p.requirement, d.requirement(init).unwrap());
                                        assert_eq!((p.base, p.oracle), (d.base, d.prices.oracle));
                                    }
                                    checked += 1;
                                }
                            }
                        }
                    }
                }
            }
        }
        assert!(checked > 400, "{checked}");
        // The cap binds: 65 SOL bought at $100 and valued at 149.90 count
        // min(65 · 49.90 · 50 %, 100) = 100 USDC against 65 · 150.10 · 10 % = 975.65.
        let m = &markets[0];
        let ctx = HealthContext {
            group: Pubkey::default(),
            quote_decimals: 6,
            now,
            rules: PriceRules::VIEW,
            grid: crate::options::DEFAULT_RISK_GRID,
        };
        let p = DerivativePosition {
            base_contracts: 6_500,
            quote_cost: 6_500 * 1_000_000,
            in_use: 1,
            funding_snapshot: m.cum_funding,
            ..DerivativePosition::default()
        };
        let c = init_contribution(&ctx, m, &readings[0], &p).unwrap().to_i64(Rounding::Floor).unwrap();
        assert_eq!(c, 100_000_000 - 975_650_000 - 1, "{c}");
        // The same 6,500 contracts with a size premium of 0.001: Init rate
        // 8 % + 0.001 · √6,500 = 8 % + 8.0623 % = 16.0623 %, requirement
        // 9,756.50 · 16.0623 % = 1,567.114177 USDC: 100 − 1,567.114177.
        let c =
            init_contribution(&ctx, &markets[3], &readings[0], &p).unwrap().to_i64(Rounding::Floor).unwrap();
        assert!((-1_467_114_179..=-1_467_114_177).contains(&c), "{c}");
    }
}
