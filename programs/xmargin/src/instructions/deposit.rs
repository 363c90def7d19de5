use anchor_lang::prelude::*;

use crate::errors::XmarginError;
use crate::events::Deposited;
use crate::health::{build_health_cache, risk_error, HealthContext, PriceRules};
use crate::state::{account_flags, pause, Bank, Group, MarginAccount};
use crate::token::{self, TOKEN_PROGRAM_ID};

/// Accounts shared by deposit and repay: tokens move from the signer's token
/// account into the bank's vault for the margin account.
#[derive(Accounts)]
pub struct Deposit<'info> {
    pub group: AccountLoader<'info, Group>,
    #[account(mut, has_one = group @ XmarginError::WrongGroup)]
    pub account: AccountLoader<'info, MarginAccount>,
    #[account(mut, has_one = group @ XmarginError::WrongGroup, has_one = vault @ XmarginError::WrongVault)]
    pub bank: AccountLoader<'info, Bank>,
    /// CHECK: equals `bank.vault` (has_one); the token program checks the rest.
    #[account(mut)]
    pub vault: UncheckedAccount<'info>,
    /// CHECK: an SPL Token account of the bank's mint; read and checked in the handler.
    #[account(mut)]
    pub token_account: UncheckedAccount<'info>,
    /// The account's owner or delegate, and the authority of `token_account`.
    pub authority: Signer<'info>,
    /// CHECK: address-checked.
    #[account(address = TOKEN_PROGRAM_ID)]
    pub token_program: UncheckedAccount<'info>,
}

/// Whether a deposit may create a new deposit (deposit) or only reduce debt (repay).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum DepositKind {
    Deposit,
    Repay,
}

pub fn handle_deposit<'info>(ctx: Context<'info, Deposit<'info>>, amount: u64) -> Result<()> {
    pay_in(ctx, amount, DepositKind::Deposit)
}

/// Deposit and repay: no oracle and no health check (paying in can only
/// raise health), so neither is ever blocked by a stale price. Optional
/// remaining accounts: the health accounts (after the change), read only when
/// the account is being liquidated, to show it back at LiquidationEnd ≥ 0 and
/// clear the flag (see `recover_from_liquidation`).
pub fn pay_in<'info>(ctx: Context<'info, Deposit<'info>>, amount: u64, kind: DepositKind) -> Result<()> {
    if amount == 0 {
        return err!(XmarginError::ZeroAmount);
    }
    if kind == DepositKind::Deposit && ctx.accounts.group.load()?.is_paused(pause::DEPOSITS) {
        return err!(XmarginError::GroupPaused);
    }
    let now = Clock::get()?.unix_timestamp;
    let authority = ctx.accounts.authority.key();
    let mut account = ctx.accounts.account.load_mut()?;
    if !account.is_owner_or_delegate(&authority) {
        return err!(XmarginError::UnauthorizedOwner);
    }
    let mut bank = ctx.accounts.bank.load_mut()?;
    let source = token::token_account(&ctx.accounts.token_account)?;
    if source.mint != bank.mint {
        return Err(error!(XmarginError::WrongMint).with_pubkeys((source.mint, bank.mint)));
    }
    if source.owner != authority {
        return Err(error!(XmarginError::TokenAccountOwnerMismatch).with_pubkeys((source.owner, authority)));
    }
    bank.accrue(now)?;

    let token_index = bank.token_index;
    let amount = match kind {
        DepositKind::Deposit => amount,
        DepositKind::Repay => {
            let shares = account.token_position(token_index).map(|p| p.shares.get()).unwrap_or_default();
            if !shares.is_negative() {
                return err!(XmarginError::NoDebtToRepay);
            }
            amount.min(bank.native_debt(shares)?)
        }
    };
    let position =
        account.token_position_mut_or_open(token_index).ok_or(error!(XmarginError::TooManyPositions))?;
    let split = bank.deposit_into(&mut position.shares, amount)?;
    let shares_after = position.shares.get();
    if split.deposited > 0 {
        let (deposits, _) = bank.native_totals().map_err(crate::health::risk_error)?;
        let cap = bank.risk_params(now).deposit_cap;
        if deposits > xmargin_risk::Fixed::from_u64(cap) {
            return Err(error!(XmarginError::DepositCapExceeded)
                .with_values((crate::health::to_quote_native(deposits), cap)));
        }
    }
    let (deposit_index, borrow_index) = (bank.deposit_index, bank.borrow_index);
    drop(bank);
    let (quote_decimals, grid) = {
        let group = ctx.accounts.group.load()?;
        (group.quote_decimals, group.risk_grid_at(now))
    };
    let hctx = HealthContext {
        group: ctx.accounts.group.key(),
        quote_decimals,
        now,
        rules: PriceRules::CONSERVATIVE,
        grid,
    };
    recover_from_liquidation(&hctx, &mut account, ctx.remaining_accounts)?;
    account.close_token_position_if_empty(token_index);
    account.refresh_flags();
    drop(account);

    token::transfer(&ctx.accounts.token_account, &ctx.accounts.vault, &ctx.accounts.authority, amount, &[])?;
    emit!(Deposited {
        account: ctx.accounts.account.key(),
        bank: ctx.accounts.bank.key(),
        authority,
        token_index,
        amount,
        repaid: split.repaid,
        deposited: split.deposited,
        shares_after: shares_after.into(),
        deposit_index,
        borrow_index,
    });
    Ok(())
}

/// Clears `BEING_LIQUIDATED` when the health accounts are given and show the
/// account at LiquidationEnd ≥ 0 (valued conservatively: never refused for a
/// stale price, so paying in is never blocked by one). Without them, or when
/// not flagged, nothing is read.
fn recover_from_liquidation<'info>(
    hctx: &HealthContext,
    account: &mut MarginAccount,
    health_accounts: &'info [AccountInfo<'info>],
) -> Result<()> {
    if !account.has_flag(account_flags::BEING_LIQUIDATED) || health_accounts.is_empty() {
        return Ok(());
    }
    let cache = build_health_cache(hctx, account, health_accounts)?;
    if !cache.health(xmargin_risk::HealthType::LiquidationEnd).map_err(risk_error)?.is_negative() {
        account.flags &= !account_flags::BEING_LIQUIDATED;
    }
    Ok(())
}
