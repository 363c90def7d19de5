use anchor_lang::prelude::*;

use crate::errors::XmarginError;
use crate::events::Withdrawn;
use crate::health::{init_health, to_quote_native, HealthContext, PriceRules};
use crate::state::{account_flags, pause, Bank, Group, MarginAccount, GROUP_SEED};
use crate::token::{self, TOKEN_PROGRAM_ID};

/// Remaining accounts: the health accounts (see `crate::health`).
#[derive(Accounts)]
pub struct Withdraw<'info> {
    pub group: AccountLoader<'info, Group>,
    #[account(mut, has_one = group @ XmarginError::WrongGroup)]
    pub account: AccountLoader<'info, MarginAccount>,
    #[account(mut, has_one = group @ XmarginError::WrongGroup, has_one = vault @ XmarginError::WrongVault)]
    pub bank: AccountLoader<'info, Bank>,
    /// CHECK: equals `bank.vault` (has_one); the token program checks the rest.
    #[account(mut)]
    pub vault: UncheckedAccount<'info>,
    /// CHECK: destination SPL Token account of the bank's mint; read and checked in the handler.
    #[account(mut)]
    pub token_account: UncheckedAccount<'info>,
    /// The account's owner, or its delegate withdrawing to the owner.
    pub authority: Signer<'info>,
    /// CHECK: address-checked.
    #[account(address = TOKEN_PROGRAM_ID)]
    pub token_program: UncheckedAccount<'info>,
}

/// Withdraws `amount`; the part beyond the account's deposit is a borrow,
/// allowed only within the bank's borrow limit and if Init health stays ≥ 0.
pub fn handle_withdraw<'info>(ctx: Context<'info, Withdraw<'info>>, amount: u64) -> Result<()> {
    if amount == 0 {
        return err!(XmarginError::ZeroAmount);
    }
    let now = Clock::get()?.unix_timestamp;
    let (creator, group_num, group_bump, quote_decimals, grid) = {
        let group = ctx.accounts.group.load()?;
        if group.is_paused(pause::WITHDRAWALS) {
            return err!(XmarginError::GroupPaused);
        }
        (group.creator, group.group_num, group.bump, group.quote_decimals, group.risk_grid_at(now))
    };
    let authority = ctx.accounts.authority.key();
    let destination = token::token_account(&ctx.accounts.token_account)?;

    let mut account = ctx.accounts.account.load_mut()?;
    let is_owner = authority == account.owner;
    if !account.is_owner_or_delegate(&authority) {
        return err!(XmarginError::UnauthorizedOwner);
    }
    if !is_owner && destination.owner != account.owner {
        return Err(
            error!(XmarginError::DelegateWithdrawToOther).with_pubkeys((destination.owner, account.owner))
        );
    }
    let mut bank = ctx.accounts.bank.load_mut()?;
    if destination.mint != bank.mint {
        return Err(error!(XmarginError::WrongMint).with_pubkeys((destination.mint, bank.mint)));
    }
    bank.accrue(now)?;
    let token_index = bank.token_index;
    let position =
        account.token_position_mut_or_open(token_index).ok_or(error!(XmarginError::TooManyPositions))?;
    let split = bank.withdraw_from(&mut position.shares, amount)?;
    let shares_after = position.shares.get();
    if split.borrowed > 0 {
        bank.check_borrow_limit(now)?;
    }
    let vault_balance = token::token_account(&ctx.accounts.vault)?.amount;
    if vault_balance < amount {
        return Err(error!(XmarginError::InsufficientVaultLiquidity).with_values((amount, vault_balance)));
    }
    let (deposit_index, borrow_index) = (bank.deposit_index, bank.borrow_index);
    drop(bank);

    // Health after the change; skipped when nothing is owed (assets alone are never unhealthy).
    let mut init_health_after = None;
    if account.has_liabilities() {
        let hctx = HealthContext {
            group: ctx.accounts.group.key(),
            quote_decimals,
            now,
            rules: PriceRules::risk_check(token_index),
            grid,
        };
        let init = init_health(&hctx, &account, ctx.remaining_accounts)?;
        if init.is_negative() {
            return Err(error!(XmarginError::HealthTooLow).with_values((to_quote_native(init), 0)));
        }
        init_health_after = Some(to_quote_native(init));
    }
    // Init ≥ 0 (or nothing owed) implies LiquidationEnd ≥ 0: a liquidation in progress is over.
    account.flags &= !account_flags::BEING_LIQUIDATED;
    account.close_token_position_if_empty(token_index);
    account.refresh_flags();
    drop(account);

    let group_seeds: &[&[u8]] = &[GROUP_SEED, creator.as_ref(), &group_num.to_le_bytes(), &[group_bump]];
    token::transfer(
        &ctx.accounts.vault,
        &ctx.accounts.token_account,
        &ctx.accounts.group.to_account_info(),
        amount,
        &[group_seeds],
    )?;
    emit!(Withdrawn {
        account: ctx.accounts.account.key(),
        bank: ctx.accounts.bank.key(),
        authority,
        token_index,
        amount,
        from_deposit: split.from_deposit,
        borrowed: split.borrowed,
        shares_after: shares_after.into(),
        deposit_index,
        borrow_index,
        init_health_after,
    });
    Ok(())
}
