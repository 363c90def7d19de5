use anchor_lang::prelude::*;
use xmargin_risk::health::HealthCache;
use xmargin_risk::liquidation::{liquidation_bonus, max_token_liquidation, TokenLiquidation};
use xmargin_risk::{Fixed, HealthType, RiskError, Rounding};

use crate::errors::XmarginError;
use crate::events::TokenLiquidated;
use crate::health::{risk_error, to_quote_native, HealthContext, PriceRules};
use crate::liquidation::{
    check_liquidator, check_liquidator_health, liqee_health_cache, quote_decimals_if_unpaused,
    split_health_accounts, update_liqee_flags,
};
use crate::state::{account_flags, Bank, Group, MarginAccount};

/// Remaining accounts: the liquidatee's health accounts, then the
/// liquidator's (for its positions after the asset and liability positions
/// are opened, asset first, in its first free slots). See `crate::health`.
#[derive(Accounts)]
pub struct LiquidateToken<'info> {
    pub group: AccountLoader<'info, Group>,
    #[account(mut, has_one = group @ XmarginError::WrongGroup)]
    pub liqee: AccountLoader<'info, MarginAccount>,
    #[account(mut, has_one = group @ XmarginError::WrongGroup)]
    pub liqor: AccountLoader<'info, MarginAccount>,
    /// The liquidator account's owner or delegate.
    pub liqor_authority: Signer<'info>,
    /// Bank of the collateral the liquidator receives.
    #[account(mut, has_one = group @ XmarginError::WrongGroup)]
    pub asset_bank: AccountLoader<'info, Bank>,
    /// Bank of the debt the liquidator takes over.
    #[account(mut, has_one = group @ XmarginError::WrongGroup)]
    pub liab_bank: AccountLoader<'info, Bank>,
}

/// The pair being liquidated, after accruing both banks.
#[derive(Clone, Copy)]
struct Pair {
    asset: u16,
    liab: u16,
    bonus: Fixed,
}

/// A sized step in whole native units, with the liquidatee's cache and its
/// balances before the step (to adjust the cache instead of rebuilding it).
struct Step {
    cache: HealthCache,
    sized: TokenLiquidation,
    maint_before: Fixed,
    liab_amount: u64,
    asset_amount: u64,
    asset_held: Fixed,
    liab_held: Fixed,
}

/// Permissionless: the liquidator takes over up to `max_liab_transfer` native
/// of the liquidatee's debt in `liab_bank` and receives the liquidatee's
/// collateral in `asset_bank` at oracle prices plus both banks' liquidation
/// fees (the bonus, at most the account's equity over its debts while it is solvent: see
/// `xmargin_risk::liquidation`). The step is sized in closed form so the
/// liquidatee's LiquidationEnd health reaches 0 and no further; the
/// liquidator must keep Init health ≥ 0. Balances move between the two margin
/// accounts: no tokens leave the vaults.
pub fn handle_liquidate_token<'info>(
    ctx: Context<'info, LiquidateToken<'info>>,
    max_liab_transfer: u64,
) -> Result<()> {
    check_arguments(&ctx, max_liab_transfer)?;
    let quote_decimals = quote_decimals_if_unpaused(&ctx.accounts.group)?;
    let now = Clock::get()?.unix_timestamp;
    let pair = accrue_pair(&ctx, now)?;
    let hctx = HealthContext {
        group: ctx.accounts.group.key(),
        quote_decimals,
        now,
        rules: PriceRules::liquidation(pair.asset, pair.liab),
        grid: crate::options::group_grid(&ctx.accounts.group, now)?,
    };
    let (liqee_accounts, liqor_accounts) =
        split_health_accounts(ctx.remaining_accounts, &*ctx.accounts.liqee.load()?)?;
    let mut step = size_step(&ctx, &hctx, pair, liqee_accounts, max_liab_transfer)?;
    move_balances(&ctx, pair, &mut step, now)?;
    let liqor_init = {
        let mut liqor = ctx.accounts.liqor.load_mut()?;
        let init = check_liquidator_health(&hctx, pair.liab, &mut liqor, liqor_accounts)?;
        liqor.close_token_position_if_empty(pair.liab);
        init
    };
    let liq_end_after = step.cache.health(HealthType::LiquidationEnd).map_err(risk_error)?;
    {
        let mut liqee = ctx.accounts.liqee.load_mut()?;
        liqee.close_token_position_if_empty(pair.asset);
        liqee.close_token_position_if_empty(pair.liab);
        update_liqee_flags(&mut liqee, liq_end_after);
    }
    emit!(TokenLiquidated {
        liqee: ctx.accounts.liqee.key(),
        liqor: ctx.accounts.liqor.key(),
        asset_token_index: pair.asset,
        liab_token_index: pair.liab,
        liab_transferred: step.liab_amount,
        asset_transferred: step.asset_amount,
        rate: step.sized.rate.into(),
        bonus: pair.bonus.into(),
        liqee_maint_before: to_quote_native(step.maint_before),
        liqee_liq_end_before: to_quote_native(step.sized.health_before),
        liqee_liq_end_after: to_quote_native(liq_end_after),
        liqor_init_after: to_quote_native(liqor_init),
    });
    Ok(())
}

fn check_arguments(ctx: &Context<LiquidateToken>, max_liab_transfer: u64) -> Result<()> {
    let a = &ctx.accounts;
    check_liquidator(&a.liqee.key(), &a.liqor.key(), &*a.liqor.load()?, &a.liqor_authority.key())?;
    if a.asset_bank.key() == a.liab_bank.key() {
        return err!(XmarginError::SameAssetAndLiability);
    }
    if max_liab_transfer == 0 {
        return err!(XmarginError::ZeroAmount);
    }
    Ok(())
}

/// Accrues both banks to `now` and reads the pair's bonus.
fn accrue_pair(ctx: &Context<LiquidateToken>, now: i64) -> Result<Pair> {
    let mut asset_bank = ctx.accounts.asset_bank.load_mut()?;
    let mut liab_bank = ctx.accounts.liab_bank.load_mut()?;
    asset_bank.accrue(now)?;
    liab_bank.accrue(now)?;
    let bonus = liquidation_bonus(asset_bank.liquidation_fee.get(), liab_bank.liquidation_fee.get())
        .map_err(risk_error)?;
    Ok(Pair { asset: asset_bank.token_index, liab: liab_bank.token_index, bonus })
}

/// Sizes the step on the liquidatee's health in whole native units: the debt
/// taken over rounds down, and so does the collateral paid for it.
fn size_step<'info>(
    ctx: &Context<'info, LiquidateToken<'info>>,
    hctx: &HealthContext,
    pair: Pair,
    liqee_accounts: &'info [AccountInfo<'info>],
    max_liab_transfer: u64,
) -> Result<Step> {
    let liqee = ctx.accounts.liqee.load()?;
    let cache = liqee_health_cache(hctx, &liqee, liqee_accounts)?;
    let maint_before = cache.health(HealthType::Maint).map_err(risk_error)?;
    let sized = max_token_liquidation(
        &cache,
        pair.asset,
        pair.liab,
        pair.bonus,
        Fixed::from_u64(max_liab_transfer),
        liqee.has_flag(account_flags::BEING_LIQUIDATED),
    )
    .map_err(|e| match e {
        RiskError::NotLiquidatable => {
            error!(XmarginError::NotLiquidatable).with_values((to_quote_native(maint_before), 0))
        }
        RiskError::LiquidationNotImproving | RiskError::TokenNotFound => {
            error!(XmarginError::LiquidationNotImproving)
        }
        other => risk_error(other),
    })?;
    let asset_held = cache.token(pair.asset).map_err(risk_error)?.balance;
    let liab_held = cache.token(pair.liab).map_err(risk_error)?.balance;
    let (liab_amount, asset_amount) = whole_units(&sized, asset_held, liab_held, max_liab_transfer)?;
    // Nothing to move is refused, except collateral worth less than one
    // native unit: the step then burns it (a withdrawal of 0 from a deposit
    // worth 0 takes the shares), so it cannot keep the account from resolution.
    let sub_unit_dust = asset_held < Fixed::ONE;
    if liab_amount == 0 && asset_amount == 0 && !sub_unit_dust {
        return Err(
            error!(XmarginError::NotLiquidatable).with_values((to_quote_native(sized.health_before), 0))
        );
    }
    Ok(Step { cache, sized, maint_before, liab_amount, asset_amount, asset_held, liab_held })
}

/// The step in native units. A step that would leave less than one native
/// unit of the debt takes it all (rounded up, within the liquidator's
/// `max_liab_transfer`), so no dust debt outlives its collateral. When one
/// more native unit of debt would cost more than the collateral left, all of
/// it goes: no dust worth less than one native unit of the liability stays
/// behind to keep the account from bankruptcy (even when not a single unit of
/// debt can be taken over).
fn whole_units(
    sized: &TokenLiquidation,
    asset_held: Fixed,
    liab_held: Fixed,
    max: u64,
) -> Result<(u64, u64)> {
    let debt = liab_held.checked_neg().map_err(risk_error)?;
    let dust_left = debt.checked_sub(sized.liab_repaid).map_err(risk_error)? < Fixed::ONE;
    let liab_amount = if dust_left {
        debt.to_u64(Rounding::Ceil).map_err(risk_error)?.min(max)
    } else {
        sized.liab_repaid.to_u64(Rounding::Floor).map_err(risk_error)?
    };
    let asset_amount = Fixed::from_u64(liab_amount)
        .checked_mul_floor(sized.rate)
        .and_then(|y| y.min(sized.asset_received.max(Fixed::ZERO)).to_u64(Rounding::Floor))
        .map_err(risk_error)?;
    let next_unit_cost =
        Fixed::from_u64(liab_amount.saturating_add(1)).checked_mul_ceil(sized.rate).map_err(risk_error)?;
    if next_unit_cost > asset_held {
        return Ok((liab_amount, asset_held.to_u64(Rounding::Floor).map_err(risk_error)?));
    }
    Ok((liab_amount, asset_amount))
}

/// Moves the balances: the liquidatee repays debt and gives collateral; the
/// liquidator takes the debt (from its deposit or as a borrow) and the
/// collateral. The liquidatee's cache follows the new balances.
fn move_balances(ctx: &Context<LiquidateToken>, pair: Pair, step: &mut Step, now: i64) -> Result<()> {
    let mut liqee = ctx.accounts.liqee.load_mut()?;
    let mut liqor = ctx.accounts.liqor.load_mut()?;
    let mut asset_bank = ctx.accounts.asset_bank.load_mut()?;
    let mut liab_bank = ctx.accounts.liab_bank.load_mut()?;
    let no_slot = || error!(XmarginError::TooManyPositions);
    liab_bank.deposit_into(
        &mut liqee.token_position_mut_or_open(pair.liab).ok_or_else(no_slot)?.shares,
        step.liab_amount,
    )?;
    let taken = asset_bank.withdraw_from(
        &mut liqee.token_position_mut_or_open(pair.asset).ok_or_else(no_slot)?.shares,
        step.asset_amount,
    )?;
    if taken.borrowed > 0 {
        return err!(XmarginError::MathOverflow); // sizing caps the collateral at what is held
    }
    asset_bank.deposit_into(
        &mut liqor.token_position_mut_or_open(pair.asset).ok_or_else(no_slot)?.shares,
        step.asset_amount,
    )?;
    let liqor_liab = liqor.token_position_mut_or_open(pair.liab).ok_or_else(no_slot)?;
    let paid = liab_bank.withdraw_from(&mut liqor_liab.shares, step.liab_amount)?;
    if paid.borrowed > 0 {
        liab_bank.check_borrow_limit(now)?;
    }
    let balance_after = |bank: &Bank, token: u16| {
        bank.native_balance(liqee.token_position(token).map(|p| p.shares.get()).unwrap_or_default())
    };
    let liab_delta = balance_after(&liab_bank, pair.liab)?.checked_sub(step.liab_held).map_err(risk_error)?;
    let asset_delta =
        balance_after(&asset_bank, pair.asset)?.checked_sub(step.asset_held).map_err(risk_error)?;
    step.cache.adjust_token_balance(pair.liab, liab_delta).map_err(risk_error)?;
    step.cache.adjust_token_balance(pair.asset, asset_delta).map_err(risk_error)?;
    Ok(())
}
