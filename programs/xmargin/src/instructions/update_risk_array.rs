use anchor_lang::prelude::*;
use xmargin_risk::options::risk_array::compute_risk_array;
use xmargin_risk::Rounding;

use crate::derivatives::{per_contract, refresh_stable_price};
use crate::errors::XmarginError;
use crate::events::RiskArrayUpdated;
use crate::health::{market_oracle_price, risk_error, HealthContext, PriceRules};
use crate::oracle::read_pyth;
use crate::state::{market_kind, market_status, Group, Market, StoredFixed, StoredRiskArray};

#[derive(Accounts)]
pub struct UpdateRiskArray<'info> {
    pub group: AccountLoader<'info, Group>,
    #[account(mut, has_one = group @ XmarginError::WrongGroup, has_one = oracle @ XmarginError::WrongOracle)]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: equals the market's oracle (has_one); identity checked on read.
    pub oracle: UncheckedAccount<'info>,
}

/// Permissionless: revalues an option market with full fixed-point
/// Black–Scholes and stores its risk array:
/// 1. an active option market before its expiry; due parameter and
///    volatility changes applied;
/// 2. the oracle price, under the market's freshness and confidence rules;
/// 3. model value, Greeks and the value change in every scenario of the
///    group's grid in force (`Group::risk_grid_at`, `crate::options`) at
///    the volatility in force;
/// 4. stored with its time, grid and spot (valid for the grid's
///    `max_age_secs` and while the oracle stays within its `max_drift_bps`);
/// 5. the market's stable price follows the oracle at its bounded speed (an
///    option market has no funding crank: this one keeps it live).
pub fn handle_update_risk_array(ctx: Context<UpdateRiskArray>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let (quote_decimals, grid) = {
        let group = ctx.accounts.group.load()?;
        (group.quote_decimals, group.risk_grid_at(now))
    };
    let mut market = ctx.accounts.market.load_mut()?;
    check_live_option(&market, now)?;
    market.apply_due_params(now);
    market.apply_due_volatility(now);

    let hctx =
        HealthContext { group: ctx.accounts.group.key(), quote_decimals, now, rules: PriceRules::VIEW, grid };
    let reading = read_pyth(&ctx.accounts.oracle, &market.feed_id)?;
    let spot = market_oracle_price(&hctx, &market, &reading)?.lo;

    let spec = market.option_spec();
    let vol = market.volatility.get();
    let array = compute_risk_array(&spec, spot, vol, now, &grid.grid()?).map_err(risk_error)?;
    market.risk_array = StoredRiskArray::from_array(&array);
    refresh_stable_price(&mut market, spot, now)?;

    emit!(RiskArrayUpdated {
        market: ctx.accounts.market.key(),
        market_index: market.market_index,
        computed_at: now,
        grid_id: array.grid_id,
        scenario_count: array.scenario_count,
        spot: StoredFixed::from(spot),
        volatility: StoredFixed::from(vol),
        value: StoredFixed::from(array.value),
        delta: StoredFixed::from(array.delta),
        value_per_contract: per_contract(&market, array.value, Rounding::Floor)?,
    });
    Ok(())
}

/// An option market, trading and not expired.
fn check_live_option(market: &Market, now: i64) -> Result<()> {
    if !market.is_option() {
        return Err(error!(XmarginError::NotOptionMarket).with_values((market.kind, market_kind::OPTION)));
    }
    if market.status != market_status::ACTIVE || market.is_expired(now) {
        return Err(error!(XmarginError::MarketExpired).with_values((now, market.expiry_ts)));
    }
    Ok(())
}
