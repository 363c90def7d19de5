use anchor_lang::prelude::*;
use xmargin_risk::settlement::{PriceSamples, SETTLEMENT_WINDOW_SECS};

use crate::errors::XmarginError;
use crate::events::PriceSampled;
use crate::health::{market_oracle_price, risk_error, HealthContext, PriceRules};
use crate::oracle::read_pyth;
use crate::state::{market_kind, market_status, Group, Market};

#[derive(Accounts)]
pub struct SamplePrice<'info> {
    pub group: AccountLoader<'info, Group>,
    #[account(mut, has_one = group @ XmarginError::WrongGroup, has_one = oracle @ XmarginError::WrongOracle)]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: equals the market's oracle (has_one); identity checked on read.
    pub oracle: UncheckedAccount<'info>,
}

/// Permissionless: records a fresh, certain oracle price into a dated
/// future's or an option's settlement samples during the 30 minutes before
/// expiry (perpetuals: `WrongMarketKind`). Each sample weighs the seconds
/// since the previous one (the first: since the window opened), so cranking
/// often cannot tilt the mean.
pub fn handle_sample_price(ctx: Context<SamplePrice>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let quote_decimals = ctx.accounts.group.load()?.quote_decimals;
    let mut market = ctx.accounts.market.load_mut()?;
    if market.is_perpetual() {
        return Err(error!(XmarginError::WrongMarketKind).with_values((market.kind, market_kind::FUTURE)));
    }
    if market.status != market_status::ACTIVE {
        return Err(error!(XmarginError::MarketExpired).with_values((now, market.expiry_ts)));
    }
    let hctx = HealthContext {
        group: ctx.accounts.group.key(),
        quote_decimals,
        now,
        rules: PriceRules::trade(market.market_index),
        grid: crate::options::group_grid(&ctx.accounts.group, now)?,
    };
    let price = market_oracle_price(&hctx, &market, &read_pyth(&ctx.accounts.oracle, &market.feed_id)?)?;
    let mut samples = samples_of(&market);
    let window_start = market.expiry_ts - SETTLEMENT_WINDOW_SECS as i64;
    if !samples.record(price.lo, now, window_start, market.expiry_ts).map_err(risk_error)? {
        return Err(error!(XmarginError::SampleOutsideWindow).with_values((now, window_start)));
    }
    store_samples(&mut market, &samples);
    crate::derivatives::refresh_stable_price(&mut market, price.lo, now)?;
    emit!(PriceSampled {
        market: ctx.accounts.market.key(),
        market_index: market.market_index,
        price: price.lo.into(),
        sample_count: samples.count,
        sample_secs: samples.total_secs,
    });
    Ok(())
}

pub fn samples_of(market: &Market) -> PriceSamples {
    PriceSamples {
        sum_price_secs: market.sample_sum.get(),
        total_secs: market.sample_secs,
        count: market.sample_count,
        last_ts: market.last_sample_ts,
    }
}

fn store_samples(market: &mut Market, s: &PriceSamples) {
    market.sample_sum.set(s.sum_price_secs);
    market.sample_secs = s.total_secs;
    market.sample_count = s.count;
    market.last_sample_ts = s.last_ts;
}
