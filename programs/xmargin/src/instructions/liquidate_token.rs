use anchor_lang::prelude::*;
use xmargin_risk::liquidation::{liquidation_bonus, max_token_liquidation};
use xmargin_risk::{Fixed, HealthType, RiskError, Rounding};

use crate::errors::XmarginError;
use crate::events::TokenLiquidated;
use crate::health::{build_health_cache, init_health, risk_error, to_quote_native, HealthContext};
use crate::state::{account_flags, pause, Bank, Group, MarginAccount};

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

/// Permissionless: the liquidator takes over up to `max_liab_transfer` native
/// of the liquidatee's debt in `liab_bank` and receives the liquidatee's
/// collateral in `asset_bank` at oracle prices plus both banks' liquidation
/// fees. The step is sized in closed form so the liquidatee's LiquidationEnd
/// health reaches 0 and no further; the liquidator must keep Init health ≥ 0.
/// Balances move between the two margin accounts: no tokens leave the vaults.
pub fn handle_liquidate_token<'info>(
    ctx: Context<'info, LiquidateToken<'info>>,
    max_liab_transfer: u64,
) -> Result<()> {
    if ctx.accounts.liqee.key() == ctx.accounts.liqor.key() {
        return err!(XmarginError::SelfLiquidation);
    }
    if ctx.accounts.asset_bank.key() == ctx.accounts.liab_bank.key() {
        return err!(XmarginError::SameAssetAndLiability);
    }
    if max_liab_transfer == 0 {
        return err!(XmarginError::ZeroAmount);
    }
    let group_key = ctx.accounts.group.key();
    let quote_decimals = {
        let group = ctx.accounts.group.load()?;
        if group.is_paused(pause::LIQUIDATIONS) {
            return err!(XmarginError::GroupPaused);
        }
        group.quote_decimals
    };
    let now = Clock::get()?.unix_timestamp;
    let authority = ctx.accounts.liqor_authority.key();

    let (asset_index, liab_index, bonus) = {
        let mut asset_bank = ctx.accounts.asset_bank.load_mut()?;
        let mut liab_bank = ctx.accounts.liab_bank.load_mut()?;
        asset_bank.accrue(now)?;
        liab_bank.accrue(now)?;
        let bonus = liquidation_bonus(asset_bank.liquidation_fee.get(), liab_bank.liquidation_fee.get())
            .map_err(risk_error)?;
        (asset_bank.token_index, liab_bank.token_index, bonus)
    };

    // Size the step on the liquidatee's health (every price must be fresh).
    let strict =
        HealthContext { group: group_key, quote_decimals, now, strict_token: None, strict_all: true };
    let (liqee_accounts, liqor_accounts) = {
        let liqee = ctx.accounts.liqee.load()?;
        let n = 2 * liqee.active_tokens().count();
        if ctx.remaining_accounts.len() < n {
            return Err(
                error!(XmarginError::HealthAccountMismatch).with_values((ctx.remaining_accounts.len(), n))
            );
        }
        ctx.remaining_accounts.split_at(n)
    };
    // The liquidatee's health cache is built once, then adjusted to the new balances.
    let (mut cache, step, maint_before, asset_held, liab_held) = {
        let liqee = ctx.accounts.liqee.load()?;
        if liqee.has_flag(account_flags::BANKRUPT) {
            return err!(XmarginError::AccountBankrupt);
        }
        let cache = build_health_cache(&strict, &liqee, liqee_accounts)?;
        let maint = cache.health(HealthType::Maint).map_err(risk_error)?;
        let being_liquidated = liqee.has_flag(account_flags::BEING_LIQUIDATED);
        let step = max_token_liquidation(
            &cache,
            asset_index,
            liab_index,
            bonus,
            Fixed::from_u64(max_liab_transfer),
            being_liquidated,
        )
        .map_err(|e| match e {
            RiskError::NotLiquidatable => {
                error!(XmarginError::NotLiquidatable).with_values((to_quote_native(maint), 0))
            }
            RiskError::LiquidationNotImproving | RiskError::TokenNotFound => {
                error!(XmarginError::LiquidationNotImproving)
            }
            other => risk_error(other),
        })?;
        let held = cache.token(asset_index).map_err(risk_error)?.balance;
        let owed = cache.token(liab_index).map_err(risk_error)?.balance;
        (cache, step, maint, held, owed)
    };
    // Whole native units: the debt taken over rounds down, and so does the
    // collateral paid for it (from the rounded-down debt).
    let liab_amount = step.liab_repaid.to_u64(Rounding::Floor).map_err(risk_error)?;
    let asset_amount = Fixed::from_u64(liab_amount)
        .checked_mul_floor(step.rate)
        .and_then(|y| y.min(step.asset_received.max(Fixed::ZERO)).to_u64(Rounding::Floor))
        .map_err(risk_error)?;
    // When one more native unit of debt would buy more than the collateral
    // left, take all of it: no unliquidatable dust (worth < 1 native unit of
    // the liability) stays behind to keep the account from bankruptcy.
    let next_unit_cost =
        Fixed::from_u64(liab_amount.saturating_add(1)).checked_mul_ceil(step.rate).map_err(risk_error)?;
    let asset_amount = if next_unit_cost > asset_held {
        asset_held.to_u64(Rounding::Floor).map_err(risk_error)?
    } else {
        asset_amount
    };
    if liab_amount == 0 {
        return Err(
            error!(XmarginError::NotLiquidatable).with_values((to_quote_native(step.health_before), 0))
        );
    }

    // Move the balances: liquidatee repays debt and gives collateral; the
    // liquidator takes the debt (from its deposit or as a borrow) and the collateral.
    {
        let mut liqee = ctx.accounts.liqee.load_mut()?;
        let mut liqor = ctx.accounts.liqor.load_mut()?;
        if !liqor.is_owner_or_delegate(&authority) {
            return err!(XmarginError::UnauthorizedOwner);
        }
        let mut asset_bank = ctx.accounts.asset_bank.load_mut()?;
        let mut liab_bank = ctx.accounts.liab_bank.load_mut()?;
        let no_slot = || error!(XmarginError::TooManyPositions);
        liab_bank.deposit_into(
            &mut liqee.token_position_mut_or_open(liab_index).ok_or_else(no_slot)?.shares,
            liab_amount,
        )?;
        let taken = asset_bank.withdraw_from(
            &mut liqee.token_position_mut_or_open(asset_index).ok_or_else(no_slot)?.shares,
            asset_amount,
        )?;
        if taken.borrowed > 0 {
            return err!(XmarginError::MathOverflow); // sizing caps y at the collateral held
        }
        asset_bank.deposit_into(
            &mut liqor.token_position_mut_or_open(asset_index).ok_or_else(no_slot)?.shares,
            asset_amount,
        )?;
        let liqor_liab = liqor.token_position_mut_or_open(liab_index).ok_or_else(no_slot)?;
        let paid = liab_bank.withdraw_from(&mut liqor_liab.shares, liab_amount)?;
        let liqee_liab_after = liab_bank
            .native_balance(liqee.token_position(liab_index).map(|p| p.shares.get()).unwrap_or_default())?;
        let liqee_asset_after = asset_bank
            .native_balance(liqee.token_position(asset_index).map(|p| p.shares.get()).unwrap_or_default())?;
        cache
            .adjust_token_balance(liab_index, liqee_liab_after.checked_sub(liab_held).map_err(risk_error)?)
            .map_err(risk_error)?;
        cache
            .adjust_token_balance(asset_index, liqee_asset_after.checked_sub(asset_held).map_err(risk_error)?)
            .map_err(risk_error)?;
        if paid.borrowed > 0 {
            liab_bank.check_borrow_limit(now)?;
        }
    }

    // The liquidator must stay healthy; the liquidatee's flag follows LiquidationEnd.
    let liqor_init = {
        let liqor = ctx.accounts.liqor.load()?;
        let lenient = HealthContext { strict_all: false, strict_token: Some(liab_index), ..strict };
        let init = init_health(&lenient, &liqor, liqor_accounts)?;
        if liqor.has_liabilities() && init.is_negative() {
            return Err(error!(XmarginError::LiquidatorHealthTooLow).with_values((to_quote_native(init), 0)));
        }
        init
    };
    let liq_end_after = {
        let mut liqee = ctx.accounts.liqee.load_mut()?;
        let after = cache.health(HealthType::LiquidationEnd).map_err(risk_error)?;
        if after.is_negative() {
            liqee.flags |= account_flags::BEING_LIQUIDATED;
        } else {
            liqee.flags &= !account_flags::BEING_LIQUIDATED;
        }
        // Debt with nothing left to seize: only resolve_bankruptcy applies from now on.
        let has_assets = liqee.active_tokens().any(|p| p.shares.get().is_positive());
        if liqee.has_liabilities() && !has_assets {
            liqee.flags |= account_flags::BANKRUPT;
        }
        liqee.close_token_position_if_empty(asset_index);
        liqee.close_token_position_if_empty(liab_index);
        after
    };
    ctx.accounts.liqor.load_mut()?.close_token_position_if_empty(liab_index);

    emit!(TokenLiquidated {
        liqee: ctx.accounts.liqee.key(),
        liqor: ctx.accounts.liqor.key(),
        asset_token_index: asset_index,
        liab_token_index: liab_index,
        liab_transferred: liab_amount,
        asset_transferred: asset_amount,
        rate: step.rate.into(),
        bonus: bonus.into(),
        liqee_maint_before: to_quote_native(maint_before),
        liqee_liq_end_before: to_quote_native(step.health_before),
        liqee_liq_end_after: to_quote_native(liq_end_after),
        liqor_init_after: to_quote_native(liqor_init),
    });
    Ok(())
}
