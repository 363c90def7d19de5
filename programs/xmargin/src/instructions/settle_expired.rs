use anchor_lang::prelude::*;
use xmargin_risk::options::intrinsic::expiry_pnl;
use xmargin_risk::settlement::{settlement_rule, SettlementRule, SettlementSource, SETTLEMENT_TIMEOUT_SECS};
use xmargin_risk::Fixed;

use super::sample_price::samples_of;
use crate::derivatives::{close_if_empty, existing_position};
use crate::errors::XmarginError;
use crate::events::{MarketSettled, PositionSettled};
pub use crate::expiry::{settlement_price_per_contract, settlement_value_per_contract};
use crate::health::{market_oracle_price, risk_error, HealthContext, PriceRules};
use crate::oracle::read_pyth;
use crate::state::{market_kind, market_status, Group, MarginAccount, Market};

#[derive(Accounts)]
pub struct SettleExpired<'info> {
    pub group: AccountLoader<'info, Group>,
    #[account(mut, has_one = group @ XmarginError::WrongGroup, has_one = oracle @ XmarginError::WrongOracle)]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: equals the market's oracle (has_one); read only to fix a fallback settlement price.
    pub oracle: UncheckedAccount<'info>,
    #[account(mut, has_one = group @ XmarginError::WrongGroup)]
    pub account: AccountLoader<'info, MarginAccount>,
}

/// Permissionless, after a dated future's or an option's expiry:
/// 1. the first call fixes the settlement price: the time-weighted mean of
///    the samples if there are at least `min_samples` covering 15 minutes,
///    else a fresh, certain oracle price published within its max age after
///    expiry, else (an hour after expiry) the mean of fewer samples, the
///    stable price if it moved in the sampling window, or a revived oracle;
/// 2. the account's position becomes realised PnL,
///    `contracts · value per contract − quote_cost`
///    ([`settlement_value_per_contract`]: a future's settlement price per
///    contract rounded once to the nearest whole quote native unit; an
///    option's intrinsic value at that price, `max(S − K, 0)` for a call,
///    `max(K − S, 0)` for a put: cash-settled, exercised automatically in the
///    money); its base and open interest leave the market; the PnL then
///    settles through `settle_pnl` without a window;
/// 3. a position already settled (only realised PnL left) is refused,
///    `PositionAlreadySettled`, nothing changed; unless this call fixed the
///    price (a position closed before expiry still lets anyone holding a
///    slot settle the market, so its realised PnL and the market can close).
///
/// Every account's value is an integer and the values of all positions sum
/// to zero (longs = shorts), so nothing is left over: flooring each side's
/// `base · price` instead would leave the short side a fraction of a unit
/// of loss per account that no winner can take, so its slot, and the
/// market, could never close.
pub fn handle_settle_expired(ctx: Context<SettleExpired>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let quote_decimals = ctx.accounts.group.load()?.quote_decimals;
    let mut market = ctx.accounts.market.load_mut()?;
    check_expired(&market, now)?;
    let fixing = market.status == market_status::ACTIVE;
    if fixing {
        fix_settlement_price(&ctx, &mut market, quote_decimals, now)?;
    }
    let mut account = ctx.accounts.account.load_mut()?;
    let slot = existing_position(&mut account, &mut market)?;
    let position = &account.derivatives[slot];
    if position.base_contracts == 0 && position.quote_cost == 0 {
        if fixing {
            // This call fixed the price; the position (closed before expiry) has nothing to turn.
            return Ok(());
        }
        return Err(error!(XmarginError::PositionAlreadySettled)
            .with_values((market.market_index, position.realized_pnl)));
    }
    let keys = (ctx.accounts.market.key(), ctx.accounts.account.key());
    settle_expired_position(&mut account, slot, &mut market, keys)?;
    close_if_empty(&mut account, &mut market)
}

/// Dated futures and options settle once expired; perpetuals never.
fn check_expired(market: &Market, now: i64) -> Result<()> {
    if market.is_perpetual() {
        return Err(error!(XmarginError::WrongMarketKind).with_values((market.kind, market_kind::FUTURE)));
    }
    if !market.is_expired(now) {
        return Err(error!(XmarginError::MarketNotSettled).with_values((now, market.expiry_ts)));
    }
    Ok(())
}

/// Turns the position in slot `slot` of a settled market into realised PnL
/// at the settlement value per contract; its base leaves the open
/// interest; emits `PositionSettled` (`keys`: the market's and the
/// account's addresses). Also used by `settle_pnl`, so PnL settles at the
/// same rounded value whether or not the account's `settle_expired` ran first.
pub fn settle_expired_position(
    account: &mut MarginAccount,
    slot: usize,
    market: &mut Market,
    (market_key, account_key): (Pubkey, Pubkey),
) -> Result<()> {
    let value = settlement_value_per_contract(market)?;
    let position = &mut account.derivatives[slot];
    let contracts = position.base_contracts;
    let realized = expiry_pnl(contracts, value, position.quote_cost).map_err(risk_error)?;
    position.realized_pnl =
        position.realized_pnl.checked_add(realized).ok_or(error!(XmarginError::MathOverflow))?;
    position.base_contracts = 0;
    position.quote_cost = 0;
    market.open_interest = market.open_interest.saturating_sub(contracts.max(0).unsigned_abs());
    emit!(PositionSettled {
        market: market_key,
        market_index: market.market_index,
        account: account_key,
        base_contracts: contracts,
        realized,
        open_interest: market.open_interest,
    });
    Ok(())
}

/// Fixes the settlement price and stops the market
/// (`xmargin_risk::settlement::settlement_rule`): the samples' mean if they
/// are enough; else the oracle published within its max age after expiry;
/// else, an hour after expiry, the mean of fewer samples, the stable price
/// if it moved in the sampling window, or a revived oracle.
fn fix_settlement_price(
    ctx: &Context<SettleExpired>,
    market: &mut Market,
    quote_decimals: u8,
    now: i64,
) -> Result<()> {
    let samples = samples_of(market);
    let rule = settlement_rule(
        &samples,
        market.min_samples,
        (market.stable_price.get(), market.stable_price_ts),
        market.expiry_ts,
        market.safety_params(now).max_oracle_age_secs,
        now,
    );
    let (source, price) = match rule {
        SettlementRule::Stored(source, price) => (source, price),
        SettlementRule::Oracle { source, earliest_publish, latest_publish } => (
            source,
            oracle_price_published_in(ctx, market, quote_decimals, now, (earliest_publish, latest_publish))?,
        ),
    };
    market.settlement_price.set(price);
    market.status = market_status::SETTLED;
    emit!(MarketSettled {
        market: ctx.accounts.market.key(),
        market_index: market.market_index,
        settlement_price: price.into(),
        fallback: source != SettlementSource::Samples,
        timed_out: source == SettlementSource::Timeout,
        sample_count: samples.count,
    });
    Ok(())
}

/// A fresh, certain oracle price published within `[earliest, latest]`.
fn oracle_price_published_in(
    ctx: &Context<SettleExpired>,
    market: &Market,
    quote_decimals: u8,
    now: i64,
    (earliest, latest): (i64, i64),
) -> Result<Fixed> {
    let reading = read_pyth(&ctx.accounts.oracle, &market.feed_id)?;
    if reading.publish_time < earliest || reading.publish_time > latest {
        msg!(
            "settlement needs a price published in [{}, {}] (or the timeout at {})",
            earliest,
            latest,
            market.expiry_ts.saturating_add(SETTLEMENT_TIMEOUT_SECS)
        );
        return Err(
            error!(XmarginError::MarketNotSettled).with_values((reading.publish_time, market.expiry_ts))
        );
    }
    let hctx = HealthContext {
        group: ctx.accounts.group.key(),
        quote_decimals,
        now,
        rules: PriceRules::trade(market.market_index),
        grid: crate::options::group_grid(&ctx.accounts.group, now)?,
    };
    Ok(market_oracle_price(&hctx, market, &reading)?.lo)
}
