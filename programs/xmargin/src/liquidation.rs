//! Steps shared by the liquidation instructions (`liquidate_token`,
//! `resolve_bankruptcy`, `liquidate_position`), so
//! each handler reads as a short list of them.
//!
//! # Rules every liquidation follows
//! - The group's `LIQUIDATIONS` pause flag stops them all.
//! - An account never liquidates itself; the liquidator account acts through
//!   its owner or delegate and must keep Init health ≥ 0 (its own token
//!   prices strict, like any risk-increasing action).
//! - The liquidatee is valued with [`PriceRules::liquidation`]: the pair
//!   being liquidated must be priced, other assets with a bad price count
//!   zero and other liabilities their conservative fallback, so one stale
//!   dust position never shields the account.
//! - Its balances are what the banks would book if accrued now
//!   ([`build_liquidatee_cache_from`]), not health's upper bound on debts in
//!   banks not accrued: the bonus depends on the equity, and an overstated
//!   debt could make a solvent account pay the full bonus.
//! - A portfolio-mode liquidatee is liquidated in linear mode once it is
//!   liquidatable in portfolio mode, and leaves portfolio mode
//!   ([`build_liquidatee_cache_from`]).
//! - Afterwards the liquidatee's `BEING_LIQUIDATED` follows its
//!   LiquidationEnd health and `BANKRUPT` its balances
//!   (`MarginAccount::refresh_flags`).
use anchor_lang::prelude::*;
use xmargin_risk::health::HealthCache;
use xmargin_risk::Fixed;

use crate::errors::XmarginError;
use crate::health::{build_liquidatee_cache_from, init_health, to_quote_native, HealthContext, PriceRules};
use crate::state::{account_flags, pause, Group, MarginAccount};

/// The group's quote decimals, refusing while liquidations are paused.
pub fn quote_decimals_if_unpaused(group: &AccountLoader<Group>) -> Result<u8> {
    let group = group.load()?;
    if group.is_paused(pause::LIQUIDATIONS) {
        return Err(error!(XmarginError::GroupPaused).with_values((group.pause_flags, pause::LIQUIDATIONS)));
    }
    Ok(group.quote_decimals)
}

/// Refuses a liquidator that is the liquidatee, or whose signer is neither
/// its owner nor its delegate.
pub fn check_liquidator(
    liqee: &Pubkey,
    liqor_key: &Pubkey,
    liqor: &MarginAccount,
    signer: &Pubkey,
) -> Result<()> {
    if liqee == liqor_key {
        return err!(XmarginError::SelfLiquidation);
    }
    if !liqor.is_owner_or_delegate(signer) {
        return Err(error!(XmarginError::UnauthorizedOwner).with_pubkeys((*signer, liqor.owner)));
    }
    Ok(())
}

/// Splits the remaining accounts into the liquidatee's health accounts
/// (`crate::health::accounts`) and the liquidator's.
pub fn split_health_accounts<'info>(
    remaining: &'info [AccountInfo<'info>],
    liqee: &MarginAccount,
) -> Result<(&'info [AccountInfo<'info>], &'info [AccountInfo<'info>])> {
    let n = crate::health::split_health_accounts(liqee, remaining, false)?.len();
    Ok(remaining.split_at(n))
}

/// The liquidatee's health cache under the liquidation price rules of the
/// `asset`/`liab` pair, refusing an account with nothing to seize.
pub fn liqee_health_cache<'info>(
    hctx: &HealthContext,
    liqee: &MarginAccount,
    health_accounts: &'info [AccountInfo<'info>],
) -> Result<HealthCache> {
    if liqee.is_bankrupt() {
        return err!(XmarginError::AccountBankrupt);
    }
    let health = crate::health::split_health_accounts(liqee, health_accounts, true)?;
    build_liquidatee_cache_from(hctx, liqee, &health)
}

/// The liquidator's Init health after the step, refusing it below zero when
/// the liquidator owes anything; `liab` is the token it took over (strict).
/// A liquidator shown at Init ≥ 0 is no longer being liquidated itself.
pub fn check_liquidator_health<'info>(
    hctx: &HealthContext,
    liab: u16,
    liqor: &mut MarginAccount,
    health_accounts: &'info [AccountInfo<'info>],
) -> Result<Fixed> {
    let ctx = HealthContext { rules: PriceRules::risk_check(liab), ..*hctx };
    check_liquidator_init(&ctx, liqor, health_accounts)
}

/// [`check_liquidator_health`] under the caller's price rules (a position
/// liquidation: the market strict).
pub fn check_liquidator_init<'info>(
    ctx: &HealthContext,
    liqor: &mut MarginAccount,
    health_accounts: &'info [AccountInfo<'info>],
) -> Result<Fixed> {
    let init = init_health(ctx, liqor, health_accounts)?;
    if liqor.has_liabilities() && init.is_negative() {
        return Err(error!(XmarginError::LiquidatorHealthTooLow).with_values((to_quote_native(init), 0)));
    }
    liqor.flags &= !account_flags::BEING_LIQUIDATED;
    liqor.refresh_flags();
    Ok(init)
}

/// Sets the liquidatee's flags after a step: `BEING_LIQUIDATED` while its
/// LiquidationEnd health is below zero, `BANKRUPT` from its balances; a
/// portfolio-mode account, liquidated in linear mode
/// (`crate::health::build_liquidatee_cache_from`), leaves portfolio mode
/// (its owner may opt in again once Init health in portfolio mode is ≥ 0).
pub fn update_liqee_flags(liqee: &mut MarginAccount, liq_end_after: Fixed) {
    if liqee.is_portfolio_mode() {
        msg!("liquidated in linear mode: the account leaves portfolio mode");
        liqee.flags &= !account_flags::PORTFOLIO_MODE;
    }
    if liq_end_after.is_negative() {
        liqee.flags |= account_flags::BEING_LIQUIDATED;
    } else {
        liqee.flags &= !account_flags::BEING_LIQUIDATED;
    }
    liqee.refresh_flags();
}
