//! Valuing derivative positions (perpetuals, dated futures) for health.
//!
//! A position of `c` contracts of size `s` is `base = c·s` underlying native
//! units with cost basis `quote_cost − realized_pnl` and the funding owed
//! since its snapshot (settled lazily; read here as the integer it would
//! settle to, rounded toward −∞). The risk engine's `DerivativeInfo` applies
//! the market's requirement rates on notional at the conservative price side
//! and counts positive PnL at the market's weights, capped per position in
//! Init (`xmargin_risk::health::derivatives`).
//!
//! Prices follow the token rules (`PriceRules`): a stale or uncertain oracle
//! refuses risk-increasing actions and views, and the market being
//! liquidated must be priced; elsewhere in a liquidation (and in the check
//! that clears `BEING_LIQUIDATED`) the position is valued at its fallback:
//! a long at the lower, a short at the higher of the last reading and the
//! stable price. A settled future is worth its settlement price with no
//! requirement; a closed position (realised PnL only) reads no price.
use anchor_lang::prelude::*;
use xmargin_risk::health::{DerivativeInfo, DerivativeKind, MarginRates};
use xmargin_risk::perp::base_native;
use xmargin_risk::perp_funding::settle_funding;
use xmargin_risk::price::{pyth_conf_within, BiasedPrices, OraclePrice};
use xmargin_risk::Fixed;

use super::{risk_error, HealthContext, UnpricedLiability};
use crate::errors::XmarginError;
use crate::oracle::PythReading;
use crate::state::{market_kind, market_status, DerivativePosition, Market};

/// Funding the position would settle now (quote native, floor).
pub fn pending_funding(market: &Market, position: &DerivativePosition) -> Result<i64> {
    if !market.is_perpetual() || position.base_contracts == 0 {
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

/// Usable price, or under fallback rules the conservative stand-in for a
/// position long (`true`) or short.
fn position_price(
    ctx: &HealthContext,
    market: &Market,
    reading: &PythReading,
    long: bool,
) -> Result<OraclePrice> {
    let safety = market.safety_params(ctx.now);
    let fresh = ctx.now.saturating_sub(reading.publish_time) <= i64::from(safety.max_oracle_age_secs);
    if fresh
        && reading.price > 0
        && pyth_conf_within(reading.price, reading.conf, safety.max_conf_ratio.get())
    {
        if let Ok(p) = OraclePrice::from_pyth(
            reading.price,
            reading.conf,
            reading.exponent,
            market.underlying_decimals,
            ctx.quote_decimals,
        ) {
            return Ok(p);
        }
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

/// The risk engine's view of one derivative position.
pub fn value_derivative(
    ctx: &HealthContext,
    market: &Market,
    reading: &PythReading,
    position: &DerivativePosition,
) -> Result<DerivativeInfo> {
    let base = base_native(position.base_contracts, market.contract_size).map_err(risk_error)?;
    let funding = pending_funding(market, position)?;
    let cost_basis = Fixed::from_i64(position.quote_cost)
        .checked_sub(Fixed::from_i64(position.realized_pnl))
        .map_err(risk_error)?;
    let kind =
        if market.kind == market_kind::FUTURE { DerivativeKind::Future } else { DerivativeKind::Perpetual };
    let risk = market.risk_params(ctx.now);
    let (prices, rates) = if market.status == market_status::SETTLED {
        let zero = MarginRates {
            init: Fixed::ZERO,
            maint: Fixed::ZERO,
            liq_end: Fixed::ZERO,
            short_option_min_delta: Fixed::ZERO,
        };
        (BiasedPrices::flat(market.settlement_price.get()), zero)
    } else if position.base_contracts == 0 {
        // Only realised PnL is left: it needs no price (value and requirement are 0).
        (BiasedPrices::flat(market.stable_price.get()), risk.margin_rates())
    } else {
        let price = position_price(ctx, market, reading, position.base_contracts > 0)?;
        let prices =
            BiasedPrices::new(&price, market.stable_price.get(), market.bias(ctx.now)).map_err(risk_error)?;
        (prices, risk.margin_rates())
    };
    DerivativeInfo::new(
        market.market_index,
        market.underlying_token_index,
        kind,
        base,
        cost_basis,
        Fixed::from_i64(funding),
        prices,
        rates,
    )
    .and_then(|d| d.with_pnl_limits(risk.pnl_limits()))
    .map_err(risk_error)
}
