use anchor_lang::prelude::*;
use xmargin_risk::perp_funding::{
    funding_delta_per_contract, hourly_funding_rate, FUNDING_PERIOD_SECS, MAX_FUNDING_STEP_SECS,
};
use xmargin_risk::Fixed;

use crate::derivatives::{record_mark, refresh_stable_price};
use crate::errors::XmarginError;
use crate::events::FundingUpdated;
use crate::health::{market_oracle_price, risk_error, HealthContext, PriceRules};
use crate::oracle::read_pyth;
use crate::state::{Group, Market};

#[derive(Accounts)]
pub struct UpdateFunding<'info> {
    pub group: AccountLoader<'info, Group>,
    #[account(mut, has_one = group @ XmarginError::WrongGroup, has_one = oracle @ XmarginError::WrongOracle)]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: equals the market's oracle (has_one); identity checked on read.
    pub oracle: UncheckedAccount<'info>,
}

/// Permissionless crank of a perpetual's funding, at most once per
/// `FUNDING_PERIOD_SECS` (an hour: a crank after every trade would otherwise
/// wipe each trade's premium and steer when periods start):
/// 1. folds the time since the last update into the time-weighted prices
///    (the mark at `oracle · (1 + premium in force)`, see `record_mark`),
///    then resets the premium to 0, so the mark decays to the oracle when
///    nobody trades;
/// 2. hourly rate = clamp((mark_twap − oracle_twap) / oracle_twap, ±cap) / 24;
/// 3. the cumulative index grows by rate · oracle_twap per contract for the
///    time since the last update, at most one hour (a longer gap is not
///    charged: nobody could have known the rate);
/// 4. the stable price follows the oracle at its bounded speed.
///
/// Positions settle against the index lazily (`crate::derivatives`).
pub fn handle_update_funding(ctx: Context<UpdateFunding>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let quote_decimals = ctx.accounts.group.load()?.quote_decimals;
    let mut market = ctx.accounts.market.load_mut()?;
    market.apply_due_params(now);
    if !market.is_perpetual() {
        return Err(error!(XmarginError::WrongMarketKind).with_values((market.kind, 0)));
    }
    let elapsed = now.saturating_sub(market.last_funding_ts);
    if elapsed < FUNDING_PERIOD_SECS {
        let due = market.last_funding_ts.saturating_add(FUNDING_PERIOD_SECS);
        return Err(error!(XmarginError::FundingNotDue).with_values((now, due)));
    }
    let hctx = HealthContext {
        group: ctx.accounts.group.key(),
        quote_decimals,
        now,
        rules: PriceRules::trade(market.market_index),
        grid: crate::options::group_grid(&ctx.accounts.group, now)?,
    };
    let oracle = market_oracle_price(&hctx, &market, &read_pyth(&ctx.accounts.oracle, &market.feed_id)?)?;
    record_mark(&mut market, None, oracle.lo, now)?;

    let rate = hourly_funding_rate(
        market.mark_twap.get(),
        market.oracle_twap.get(),
        market.max_funding_premium.get(),
    )
    .map_err(risk_error)?;
    let applied_secs = elapsed.unsigned_abs().min(MAX_FUNDING_STEP_SECS);
    let contract_price = market
        .oracle_twap
        .get()
        .checked_mul_floor(Fixed::from_u64(market.contract_size))
        .map_err(risk_error)?;
    let delta = funding_delta_per_contract(rate, contract_price, applied_secs).map_err(risk_error)?;
    let cum = market.cum_funding.get().checked_add(delta).map_err(risk_error)?;
    market.cum_funding.set(cum);
    market.last_funding_rate.set(rate);
    market.last_funding_ts = now;

    let stable = refresh_stable_price(&mut market, oracle.lo, now)?;

    emit!(FundingUpdated {
        market: ctx.accounts.market.key(),
        market_index: market.market_index,
        hourly_rate: rate.into(),
        cum_funding: cum.into(),
        mark_twap: market.mark_twap,
        oracle_twap: market.oracle_twap,
        applied_secs,
        stable_price: stable.into(),
    });
    Ok(())
}
