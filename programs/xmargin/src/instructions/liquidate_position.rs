use anchor_lang::prelude::*;
use xmargin_risk::health::{HealthCache, MarginMode};
use xmargin_risk::liquidation::{equity_bonus, max_position_liquidation};
use xmargin_risk::price::OraclePrice;
use xmargin_risk::{Fixed, HealthType, Rounding};

use crate::derivatives::{
    base_of, close_if_empty, existing_position, fill_position, longs, per_contract, prepare_position,
};
use crate::errors::XmarginError;
use crate::events::PositionLiquidated;
use crate::health::{
    build_liquidatee_cache_from, market_oracle_price, risk_error, split_health_accounts, to_quote_native,
    HealthContext, PriceRules,
};
use crate::liquidation::{
    check_liquidator, check_liquidator_init, quote_decimals_if_unpaused, update_liqee_flags,
};
use crate::oracle::read_pyth;
use crate::state::{account_flags, market_status, Bank, Group, MarginAccount, Market, GROUP_SEED};
use crate::token::{self, TOKEN_PROGRAM_ID};

mod option;

/// Remaining accounts: the liquidatee's health accounts (its quote-token
/// position opened in its first free slot if it has none and a slot is
/// free), then the liquidator's (its
/// position in this market opened first if it has none). See `crate::health`.
#[derive(Accounts)]
pub struct LiquidatePosition<'info> {
    pub group: AccountLoader<'info, Group>,
    #[account(mut, has_one = group @ XmarginError::WrongGroup, has_one = oracle @ XmarginError::WrongOracle)]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: equals the market's oracle (has_one); identity checked on read.
    pub oracle: UncheckedAccount<'info>,
    #[account(mut, has_one = group @ XmarginError::WrongGroup)]
    pub liqee: AccountLoader<'info, MarginAccount>,
    #[account(mut, has_one = group @ XmarginError::WrongGroup)]
    pub liqor: AccountLoader<'info, MarginAccount>,
    /// The liquidator account's owner or delegate.
    pub liqor_authority: Signer<'info>,
    /// The quote-token bank: the insurance fee is paid from the liquidatee's balance in it.
    #[account(mut, has_one = group @ XmarginError::WrongGroup, has_one = vault @ XmarginError::WrongVault)]
    pub quote_bank: AccountLoader<'info, Bank>,
    /// CHECK: equals `quote_bank.vault` (has_one).
    #[account(mut)]
    pub vault: UncheckedAccount<'info>,
    /// CHECK: address-checked against the group's insurance vault in the handler.
    #[account(mut)]
    pub insurance_vault: UncheckedAccount<'info>,
    /// CHECK: address-checked.
    #[account(address = TOKEN_PROGRAM_ID)]
    pub token_program: UncheckedAccount<'info>,
}

/// A sized step: contracts moved, the liquidator's price per contract and
/// the insurance fee in quote native; options: LiquidationEnd health after
/// the step with the fee paid in full (exact), the model value and the
/// insurance fee per contract.
struct Step {
    contracts: i64,
    price: u64,
    insurance_fee: u64,
    bonus: Fixed,
    liq_end_before: Fixed,
    liq_end_after: Option<Fixed>,
    option: Option<(u64, u64)>,
}

/// Permissionless: the liquidator takes over part of the liquidatee's
/// position in one perpetual or future at the oracle price less the
/// liquidation fee (a long is bought below the oracle, a short sold above),
/// or in one option at the model value of its fresh risk array moved to the
/// oracle price, less or plus
/// the fee (`option`: on the value for a long, on spot for a short),
/// and the liquidatee pays the insurance fee on the notional into the
/// insurance fund. Both fees together are the bonus, capped at the account's
/// equity over its debts while it is solvent (as for tokens). The step is
/// sized in closed form so LiquidationEnd health reaches 0, rounded up to a
/// whole contract and capped at `max_contracts` and the position; the
/// liquidator must keep Init health ≥ 0.
pub fn handle_liquidate_position<'info>(
    ctx: Context<'info, LiquidatePosition<'info>>,
    max_contracts: u64,
) -> Result<()> {
    let a = &ctx.accounts;
    check_liquidator(&a.liqee.key(), &a.liqor.key(), &*a.liqor.load()?, &a.liqor_authority.key())?;
    if max_contracts == 0 {
        return err!(XmarginError::ZeroAmount);
    }
    let quote_decimals = quote_decimals_if_unpaused(&a.group)?;
    let (quote_mint, insurance_vault) = {
        let g = a.group.load()?;
        (g.quote_mint, g.insurance_vault)
    };
    if a.insurance_vault.key() != insurance_vault {
        return Err(error!(XmarginError::WrongInsuranceVault)
            .with_pubkeys((a.insurance_vault.key(), insurance_vault)));
    }
    let now = Clock::get()?.unix_timestamp;
    let mut liqee = a.liqee.load_mut()?;
    let mut liqor = a.liqor.load_mut()?;
    let (hctx, oracle, slots, quote_index) =
        prepare(&ctx, &mut liqee, &mut liqor, quote_mint, quote_decimals, now)?;
    let liqee_health = split_health_accounts(&liqee, ctx.remaining_accounts, false)?;
    let liqor_accounts = &ctx.remaining_accounts[liqee_health.len()..];
    let mut cache = build_liquidatee_cache_from(&hctx, &liqee, &liqee_health)?;
    let step = size_for_market(
        &*a.market.load()?,
        &cache,
        oracle,
        &liqee,
        (max_contracts, slots.0, quote_index),
        now,
    )?;

    // Move the position and charge the insurance fee.
    let mut market = a.market.load_mut()?;
    let index = market.market_index;
    let long_before =
        longs(liqee.derivatives[slots.0].base_contracts, liqor.derivatives[slots.1].base_contracts);
    fill_position(&mut liqee.derivatives[slots.0], -step.contracts, step.price)?;
    fill_position(&mut liqor.derivatives[slots.1], step.contracts, step.price)?;
    let long_after =
        longs(liqee.derivatives[slots.0].base_contracts, liqor.derivatives[slots.1].base_contracts);
    crate::derivatives::update_open_interest(&mut market, long_before, long_after, u64::MAX)?;
    let fee_paid = match quote_index {
        Some(q) => charge_insurance_fee(&ctx, &mut liqee, q, step.insurance_fee)?,
        None => 0,
    };
    let liq_end_after = liq_end_after(&mut cache, &market, &step, (quote_index, fee_paid))?;
    close_if_empty(&mut liqee, &mut market)?;
    drop(market);

    if let Some(q) = quote_index {
        liqee.close_token_position_if_empty(q);
    }
    update_liqee_flags(&mut liqee, liq_end_after);
    let liqor_init = check_liquidator_init(&hctx_for_liqor(&hctx, index), &mut liqor, liqor_accounts)?;
    close_if_empty(&mut liqor, &mut *a.market.load_mut()?)?;
    emit!(PositionLiquidated {
        market: a.market.key(),
        market_index: index,
        liqee: a.liqee.key(),
        liqor: a.liqor.key(),
        contracts: step.contracts,
        price: step.price,
        bonus: step.bonus.into(),
        insurance_fee: fee_paid,
        liqee_liq_end_before: to_quote_native(step.liq_end_before),
        liqee_liq_end_after: to_quote_native(liq_end_after),
        liqor_init_after: to_quote_native(liqor_init),
    });
    option::emit_option_details(a.market.key(), a.liqee.key(), &step);
    Ok(())
}

type Prepared = (HealthContext, Option<OraclePrice>, (usize, usize), Option<u16>);

/// Market live and priced (options: when valued), funding settled on both positions, the
/// liquidator's slot and the liquidatee's quote slot opened (the health
/// accounts list them), the quote bank accrued.
fn prepare(
    ctx: &Context<LiquidatePosition>,
    liqee: &mut MarginAccount,
    liqor: &mut MarginAccount,
    quote_mint: Pubkey,
    quote_decimals: u8,
    now: i64,
) -> Result<Prepared> {
    let mut market = ctx.accounts.market.load_mut()?;
    market.apply_due_params(now);
    // An expired future or option settles at its settlement price (settle_expired), never by liquidation.
    if market.status != market_status::ACTIVE || market.is_expired(now) {
        return Err(error!(XmarginError::MarketExpired).with_values((now, market.expiry_ts)));
    }
    let hctx = HealthContext {
        group: ctx.accounts.group.key(),
        quote_decimals,
        now,
        rules: PriceRules::position_liquidation(market.market_index),
        grid: crate::options::group_grid(&ctx.accounts.group, now)?,
    };
    // A perpetual or future is priced at the oracle; an option at its risk
    // array, read (strictly, oracle included) when the liquidatee is valued.
    let oracle = if market.is_option() {
        None
    } else {
        Some(market_oracle_price(&hctx, &market, &read_pyth(&ctx.accounts.oracle, &market.feed_id)?)?)
    };
    let liqee_slot = existing_position(liqee, &mut market)?;
    let liqor_slot = prepare_position(liqor, &mut market)?;
    let mut bank = ctx.accounts.quote_bank.load_mut()?;
    if bank.mint != quote_mint {
        return Err(error!(XmarginError::WrongQuoteBank).with_pubkeys((bank.mint, quote_mint)));
    }
    bank.accrue(now)?;
    // No free token slot for the quote token: the step goes ahead without the
    // insurance fee rather than leave the account unliquidatable.
    let quote_index = liqee.token_position_mut_or_open(bank.token_index).map(|_| bank.token_index);
    Ok((hctx, oracle, (liqee_slot, liqor_slot), quote_index))
}

/// Sizes the step: an option at the model value of its risk array moved to
/// the oracle (`option`), a perpetual or future at the oracle (`size_step`).
fn size_for_market(
    market: &Market,
    cache: &HealthCache,
    oracle: Option<OraclePrice>,
    liqee: &MarginAccount,
    (max_contracts, slot, quote_index): (u64, usize, Option<u16>),
    now: i64,
) -> Result<Step> {
    if market.is_option() {
        return option::size_option_step(market, cache, liqee, (max_contracts, slot, quote_index), now);
    }
    // `prepare` prices every market but options at its oracle.
    let oracle = oracle.ok_or(error!(XmarginError::WrongMarketKind))?;
    size_step(market, cache, &oracle, liqee, max_contracts, slot, now)
}

/// Sizes the step from the liquidatee's cache (module docs of
/// `xmargin_risk::liquidation`): the bonus is both fees, capped by equity;
/// the liquidation fee is paid first out of it, the insurance fee from what is left.
fn size_step(
    market: &Market,
    cache: &HealthCache,
    oracle: &OraclePrice,
    liqee: &MarginAccount,
    max_contracts: u64,
    slot: usize,
    now: i64,
) -> Result<Step> {
    let liq_fee = market.safety_params(now).liquidation_fee.get();
    let fees = liq_fee.checked_add(market.insurance_fee.get()).map_err(risk_error)?;
    let bonus = equity_bonus(cache, fees).map_err(risk_error)?;
    let being = liqee.has_flag(account_flags::BEING_LIQUIDATED);
    let sized =
        max_position_liquidation(cache, market.market_index, bonus, being).map_err(liquidation_error)?;
    let held = liqee.derivatives[slot].base_contracts;
    let size = Fixed::from_u64(market.contract_size);
    let whole = sized
        .base_transferred
        .checked_div(size, Rounding::Ceil)
        .and_then(|c| c.to_i64(Rounding::Ceil))
        .map_err(risk_error)?;
    let contracts = whole.max(1).min(held.abs()).min(i64::try_from(max_contracts).unwrap_or(i64::MAX));
    let liq_part = liq_fee.min(bonus);
    let ins_part = bonus.checked_sub(liq_part).map_err(risk_error)?;
    let price = if held > 0 {
        per_contract(
            market,
            oracle
                .lo
                .checked_mul_floor(Fixed::ONE.checked_sub(liq_part).map_err(risk_error)?)
                .map_err(risk_error)?,
            Rounding::Floor,
        )?
    } else {
        per_contract(
            market,
            oracle
                .hi
                .checked_mul_ceil(Fixed::ONE.checked_add(liq_part).map_err(risk_error)?)
                .map_err(risk_error)?,
            Rounding::Ceil,
        )?
    };
    let notional = Fixed::from_i64(contracts)
        .checked_mul_ceil(size)
        .and_then(|b| b.checked_mul_ceil(oracle.hi))
        .map_err(risk_error)?;
    let insurance_fee =
        notional.checked_mul_ceil(ins_part).and_then(|f| f.to_i64(Rounding::Ceil)).map_err(risk_error)?;
    Ok(Step {
        contracts: if held > 0 { contracts } else { -contracts },
        price,
        insurance_fee: insurance_fee.max(0).unsigned_abs(),
        bonus,
        liq_end_before: sized.health_before,
        liq_end_after: None,
        option: None,
    })
}

/// The liquidatee's LiquidationEnd health after the fill and the fee: the
/// sizing's exact value when it has one and the fee was paid in full, else
/// the cache moved as the accounts were.
fn liq_end_after(
    cache: &mut HealthCache,
    market: &Market,
    step: &Step,
    (quote_index, fee_paid): (Option<u16>, u64),
) -> Result<Fixed> {
    if let (Some(h), true) = (step.liq_end_after, fee_paid == step.insurance_fee) {
        return Ok(h);
    }
    let base = base_of(market, -step.contracts)?;
    let cash = Fixed::from_i64(-step.contracts)
        .checked_mul_floor(Fixed::from_u64(step.price))
        .map_err(risk_error)?;
    let fee_token = quote_index.filter(|_| fee_paid > 0);
    // Linear health is a sum of contributions: only the two that move change
    // (the cache is linear here: a portfolio account is sized demoted).
    let moved = |cache: &HealthCache| -> xmargin_risk::RiskResult<Fixed> {
        let d = cache.derivative(market.market_index)?.contribution(HealthType::LiquidationEnd)?;
        let q = match fee_token {
            Some(q) => cache.token(q)?.contribution(HealthType::LiquidationEnd)?,
            None => Fixed::ZERO,
        };
        d.checked_add(q)
    };
    let linear = matches!(cache.mode(), MarginMode::Linear);
    let before = moved(cache).map_err(risk_error)?;
    cache.adjust_derivative(market.market_index, base, cash).map_err(risk_error)?;
    if let Some(q) = fee_token {
        let paid = Fixed::from_u64(fee_paid).checked_neg().map_err(risk_error)?;
        cache.adjust_token_balance(q, paid).map_err(risk_error)?;
    }
    if !linear {
        return cache.health(HealthType::LiquidationEnd).map_err(risk_error);
    }
    let after = moved(cache).map_err(risk_error)?;
    step.liq_end_before.checked_sub(before).and_then(|h| h.checked_add(after)).map_err(risk_error)
}

/// The sizing engine's refusals by name.
fn liquidation_error(e: xmargin_risk::RiskError) -> Error {
    match e {
        xmargin_risk::RiskError::NotLiquidatable => error!(XmarginError::NotLiquidatable),
        xmargin_risk::RiskError::LiquidationNotImproving => error!(XmarginError::LiquidationNotImproving),
        other => risk_error(other),
    }
}

/// Takes the insurance fee from the liquidatee's quote balance (a borrow
/// beyond its deposit) and moves it from the quote vault into the insurance
/// fund; never more than the vault holds, so a fully lent-out quote bank
/// does not block liquidations. Returns what was paid.
fn charge_insurance_fee(
    ctx: &Context<LiquidatePosition>,
    liqee: &mut MarginAccount,
    quote_index: u16,
    fee: u64,
) -> Result<u64> {
    let available = token::token_account(&ctx.accounts.vault)?.amount;
    let fee = fee.min(available);
    if fee == 0 {
        return Ok(0);
    }
    {
        let mut bank = ctx.accounts.quote_bank.load_mut()?;
        let position =
            liqee.token_position_mut_or_open(quote_index).ok_or(error!(XmarginError::TooManyPositions))?;
        bank.withdraw_from(&mut position.shares, fee)?;
    }
    let (creator, group_num, bump) = {
        let g = ctx.accounts.group.load()?;
        (g.creator, g.group_num, g.bump)
    };
    let seeds: &[&[u8]] = &[GROUP_SEED, creator.as_ref(), &group_num.to_le_bytes(), &[bump]];
    token::transfer(
        &ctx.accounts.vault,
        &ctx.accounts.insurance_vault,
        &ctx.accounts.group.to_account_info(),
        fee,
        &[seeds],
    )?;
    Ok(fee)
}

/// The liquidator's check: every price usable, the market strict.
fn hctx_for_liqor(hctx: &HealthContext, market: u16) -> HealthContext {
    HealthContext { rules: PriceRules::trade(market), ..*hctx }
}
