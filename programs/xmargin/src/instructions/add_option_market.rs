use anchor_lang::prelude::*;
use xmargin_risk::{Fixed, Rounding};

use super::add_market::{check_market_index, list_on_bank, seed_prices};
use super::bank_params::MAX_LIQUIDATION_FEE_BPS;
use super::market_params::{bps, min_samples_valid, MarketRiskArgs, MIN_TWAP_WINDOW_SECS};
use super::option_params::{ShortOptionArgs, VolatilityArgs, MAX_OPTION_TENOR_SECS, MAX_STRIKE_RATIO};
use crate::derivatives::per_contract;
use crate::errors::XmarginError;
use crate::events::OptionMarketAdded;
use crate::health::{market_oracle_price, risk_error, HealthContext, PriceRules};
use crate::oracle::read_pyth;
use crate::state::{market_kind, market_status, Bank, Group, Market, MARKET_SEED};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddOptionMarketArgs {
    /// Must equal the group's current market count (PDA seed).
    pub market_index: u16,
    /// UTF-8, zero padded (e.g. `SOL-165-C`).
    pub name: [u8; 16],
    /// 1: call, 0: put.
    pub is_call: u8,
    /// Strike, quote native per contract (within 1/10 … 10 times the oracle).
    pub strike: u64,
    /// Expiry (unix seconds): after the 30-minute settlement window, within 366 days.
    pub expiry_ts: i64,
    /// Underlying native units per contract (> 0).
    pub contract_size: u64,
    /// Smallest trade in contracts (> 0).
    pub min_size: u64,
    /// Long options: requirement `rate · spot · |Δ|` (never above their
    /// value); PnL weights and cap, trade band (around the model value),
    /// settle fraction, open-interest cap. No size premium (0).
    pub risk: MarketRiskArgs,
    /// Short options: Derive's shape (`ShortOptionArgs::default()`).
    pub short: ShortOptionArgs,
    pub volatility: VolatilityArgs,
    pub liquidation_fee_bps: u32,
    pub insurance_fee_bps: u32,
    /// Samples needed for a time-weighted settlement price (1..=1,800, as futures).
    pub min_samples: u32,
}

#[derive(Accounts)]
#[instruction(args: AddOptionMarketArgs)]
pub struct AddOptionMarket<'info> {
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

/// Lists a European call or put on a listed bank's underlying, cash-settled
/// in the quote token:
/// 1. the index is the group's next, the kind, expiry, sizes and the
///    settlement's sample count (as futures) are valid;
/// 2. risk, short-option and volatility parameters within bounds;
/// 3. the underlying bank's oracle and rules, prices seeded from a live oracle;
/// 4. the strike within 1/10 … 10 times that price.
///
/// Its risk array is empty until the first `update_risk_array`: until then
/// the market trades nothing and no health check can value it.
pub fn handle_add_option_market(ctx: Context<AddOptionMarket>, args: AddOptionMarketArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let group_key = ctx.accounts.group.key();
    let quote_decimals = check_market_index(&ctx.accounts.group, args.market_index)?;
    check_option_terms(&args, now)?;
    let risk = args.risk.to_params(args.liquidation_fee_bps, args.insurance_fee_bps)?;

    let mut market = ctx.accounts.market.load_init()?;
    list_on_bank(&mut market, &*ctx.accounts.underlying_bank.load()?);
    let fees = u64::from(args.liquidation_fee_bps) + u64::from(args.insurance_fee_bps);
    args.short.write_to(&mut market.option, fees)?;
    market.volatility = args.volatility.write_to(&mut market.option)?;
    market.safety.liquidation_fee = bps(args.liquidation_fee_bps)?;
    market.insurance_fee = bps(args.insurance_fee_bps)?;
    // No funding; the mark is still folded on trades (one hour, depth 1).
    market.twap_window_secs = MIN_TWAP_WINDOW_SECS;
    market.mark_depth = 1;
    market.group = group_key;
    market.name = args.name;
    market.risk = risk;
    market.market_index = args.market_index;
    market.kind = market_kind::OPTION;
    market.status = market_status::ACTIVE;
    market.option_is_call = args.is_call;
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
    set_strike(&mut market, args.strike, price.lo)?;
    drop(market);
    ctx.accounts.group.load_mut()?.market_count += 1;

    emit!(OptionMarketAdded {
        group: group_key,
        market: ctx.accounts.market.key(),
        underlying_bank: ctx.accounts.underlying_bank.key(),
        oracle: ctx.accounts.oracle.key(),
        market_index: args.market_index,
        args,
    });
    Ok(())
}

/// Kind, expiry, sizes, fees, sampling and no size premium.
fn check_option_terms(args: &AddOptionMarketArgs, now: i64) -> Result<()> {
    if args.is_call > 1 {
        return Err(error!(XmarginError::InvalidOptionKind).with_values((args.is_call, 1)));
    }
    let earliest = now.saturating_add(xmargin_risk::settlement::SETTLEMENT_WINDOW_SECS as i64);
    if args.expiry_ts <= earliest || args.expiry_ts > now.saturating_add(MAX_OPTION_TENOR_SECS) {
        return Err(error!(XmarginError::InvalidOptionExpiry).with_values((args.expiry_ts, now)));
    }
    let ok = args.contract_size > 0
        && args.min_size > 0
        && min_samples_valid(args.min_samples)
        && args.risk.size_premium_ppm == 0
        && args.liquidation_fee_bps <= MAX_LIQUIDATION_FEE_BPS
        && args.insurance_fee_bps <= MAX_LIQUIDATION_FEE_BPS;
    if !ok {
        msg!(
            "contract size {} min size {} samples {} size premium {} (options: 0) fees {} {}",
            args.contract_size,
            args.min_size,
            args.min_samples,
            args.risk.size_premium_ppm,
            args.liquidation_fee_bps,
            args.insurance_fee_bps
        );
        return err!(XmarginError::InvalidMarketConfig);
    }
    Ok(())
}

/// The strike per contract and per underlying native unit (rounded down,
/// positive), within `[oracle / 10, 10 · oracle]` per contract.
fn set_strike(market: &mut Market, strike: u64, oracle: Fixed) -> Result<()> {
    let spot = per_contract(market, oracle, Rounding::Ceil)?;
    let per_native = i64::try_from(strike)
        .map_err(|_| error!(XmarginError::MathOverflow))
        .and_then(|s| Fixed::from_ratio(s, market.contract_size, Rounding::Floor).map_err(risk_error))?;
    let within = u128::from(strike) * u128::from(MAX_STRIKE_RATIO) >= u128::from(spot)
        && u128::from(strike) <= u128::from(spot) * u128::from(MAX_STRIKE_RATIO);
    if !within || !per_native.is_positive() {
        return Err(error!(XmarginError::InvalidOptionStrike).with_values((strike, spot)));
    }
    market.strike.set(per_native);
    market.option.strike_per_contract = strike;
    Ok(())
}
