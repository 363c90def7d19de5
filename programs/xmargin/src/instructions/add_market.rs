use anchor_lang::prelude::*;

use super::bank_params::MAX_LIQUIDATION_FEE_BPS;
use super::market_params::{bps, min_samples_valid, MarketFundingArgs, MarketRiskArgs};
use crate::errors::XmarginError;
use crate::events::MarketAdded;
use crate::health::{market_oracle_price, HealthContext, PriceRules};
use crate::oracle::read_pyth;
use crate::state::{market_kind, market_status, Bank, Group, Market, StoredFixed, MARKET_SEED};

/// Most markets one group may list.
pub const MAX_MARKETS: u16 = 1_024;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddMarketArgs {
    /// Must equal the group's current market count (PDA seed).
    pub market_index: u16,
    /// `market_kind::PERPETUAL` or `market_kind::FUTURE` (options: `add_option_market`).
    pub kind: u8,
    /// UTF-8, zero padded.
    pub name: [u8; 16],
    /// Underlying native units per contract (> 0).
    pub contract_size: u64,
    /// Smallest trade in contracts (> 0).
    pub min_size: u64,
    /// Dated futures: expiry (unix seconds, at least one settlement window
    /// ahead); perpetuals: 0.
    pub expiry_ts: i64,
    pub risk: MarketRiskArgs,
    pub funding: MarketFundingArgs,
    /// Share of a liquidated position's notional paid to the liquidator.
    pub liquidation_fee_bps: u32,
    /// Share of a liquidated position's notional paid to the insurance fund.
    pub insurance_fee_bps: u32,
    /// Futures: samples needed for a time-weighted settlement price (1..=1,800).
    pub min_samples: u32,
}

#[derive(Accounts)]
#[instruction(args: AddMarketArgs)]
pub struct AddMarket<'info> {
    #[account(mut, has_one = admin @ XmarginError::UnauthorizedAdmin)]
    pub group: AccountLoader<'info, Group>,
    pub admin: Signer<'info>,
    #[account(mut)]
    pub payer: Signer<'info>,
    /// The bank of the underlying: the market uses its oracle and decimals.
    #[account(has_one = group @ XmarginError::WrongGroup, has_one = oracle @ XmarginError::WrongOracle)]
    pub underlying_bank: AccountLoader<'info, Bank>,
    /// CHECK: equals the bank's oracle (has_one); identity and freshness checked in the handler.
    pub oracle: UncheckedAccount<'info>,
    #[account(
        init,
        payer = payer,
        space = 8 + Market::SIZE,
        seeds = [MARKET_SEED, group.key().as_ref(), &args.market_index.to_le_bytes()],
        bump
    )]
    pub market: AccountLoader<'info, Market>,
    pub system_program: Program<'info, System>,
}

/// Lists a perpetual or dated future on a listed bank's underlying. The
/// oracle must be live: it seeds the stable price and both time-weighted prices.
pub fn handle_add_market(ctx: Context<AddMarket>, args: AddMarketArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let group_key = ctx.accounts.group.key();
    let quote_decimals = check_market_index(&ctx.accounts.group, args.market_index)?;
    check_terms(&args, now)?;
    let risk = args.risk.to_params(args.liquidation_fee_bps, args.insurance_fee_bps)?;

    let mut market = ctx.accounts.market.load_init()?;
    list_on_bank(&mut market, &*ctx.accounts.underlying_bank.load()?);
    market.safety.liquidation_fee = bps(args.liquidation_fee_bps)?;
    market.insurance_fee = bps(args.insurance_fee_bps)?;
    args.funding.apply(&mut market)?;
    market.group = group_key;
    market.name = args.name;
    market.risk = risk;
    market.market_index = args.market_index;
    market.kind = args.kind;
    market.status = market_status::ACTIVE;
    market.contract_size = args.contract_size;
    market.min_size = args.min_size;
    market.expiry_ts = args.expiry_ts;
    market.min_samples = args.min_samples;
    market.bump = ctx.bumps.market;

    let hctx = HealthContext {
        group: group_key,
        quote_decimals,
        now,
        rules: PriceRules::VIEW,
        grid: crate::options::group_grid(&ctx.accounts.group, now)?,
    };
    let reading = read_pyth(&ctx.accounts.oracle, &market.feed_id)?;
    let price = market_oracle_price(&hctx, &market, &reading)?;
    seed_prices(&mut market, price.lo, now);
    drop(market);
    ctx.accounts.group.load_mut()?.market_count += 1;

    emit!(MarketAdded {
        group: group_key,
        market: ctx.accounts.market.key(),
        underlying_bank: ctx.accounts.underlying_bank.key(),
        oracle: ctx.accounts.oracle.key(),
        market_index: args.market_index,
        args,
    });
    Ok(())
}

/// The underlying bank's oracle, feed, token, decimals and oracle rules.
pub(crate) fn list_on_bank(market: &mut Market, bank: &Bank) {
    market.oracle = bank.oracle;
    market.feed_id = bank.feed_id;
    market.underlying_token_index = bank.token_index;
    market.underlying_decimals = bank.mint_decimals;
    market.safety = bank.safety_params();
    market.safety.activation_ts = 0;
}

/// The stable price and both time-weighted prices start at the oracle `price`.
pub(crate) fn seed_prices(market: &mut Market, price: xmargin_risk::Fixed, now: i64) {
    market.stable_price.set(price);
    market.stable_price_ts = now;
    market.mark_twap.set(price);
    market.oracle_twap.set(price);
    market.mark_premium = StoredFixed::ZERO;
    market.twap_ts = now;
    market.last_funding_ts = now;
}

/// The index must be the group's next one; returns the quote decimals.
pub(crate) fn check_market_index(group: &AccountLoader<Group>, market_index: u16) -> Result<u8> {
    let group = group.load()?;
    if group.market_count >= MAX_MARKETS {
        return err!(XmarginError::TooManyMarkets);
    }
    if market_index != group.market_count {
        return Err(error!(XmarginError::WrongMarketIndex).with_values((market_index, group.market_count)));
    }
    Ok(group.quote_decimals)
}

/// Kind, sizes, expiry, fees and sampling within bounds.
fn check_terms(args: &AddMarketArgs, now: i64) -> Result<()> {
    let expiry_ok = match args.kind {
        market_kind::PERPETUAL => args.expiry_ts == 0,
        market_kind::FUTURE => {
            args.expiry_ts > now.saturating_add(xmargin_risk::settlement::SETTLEMENT_WINDOW_SECS as i64)
                && min_samples_valid(args.min_samples)
        }
        _ => false,
    };
    let ok = expiry_ok
        && args.contract_size > 0
        && args.min_size > 0
        && args.liquidation_fee_bps <= MAX_LIQUIDATION_FEE_BPS
        && args.insurance_fee_bps <= MAX_LIQUIDATION_FEE_BPS;
    if !ok {
        msg!(
            "kind {} expiry {} (now {}) samples {} contract size {} min size {} fees {} {}",
            args.kind,
            args.expiry_ts,
            now,
            args.min_samples,
            args.contract_size,
            args.min_size,
            args.liquidation_fee_bps,
            args.insurance_fee_bps
        );
        return err!(XmarginError::InvalidMarketConfig);
    }
    Ok(())
}
