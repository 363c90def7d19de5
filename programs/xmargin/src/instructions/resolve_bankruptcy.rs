use anchor_lang::prelude::*;
use xmargin_risk::{Fixed, Rounding};

use crate::errors::XmarginError;
use crate::events::BankruptcyResolved;
use crate::health::risk_error;
use crate::state::{account_flags, Bank, Group, MarginAccount, GROUP_SEED};
use crate::token::{self, TOKEN_PROGRAM_ID};

#[derive(Accounts)]
pub struct ResolveBankruptcy<'info> {
    pub group: AccountLoader<'info, Group>,
    #[account(mut, has_one = group @ XmarginError::WrongGroup)]
    pub liqee: AccountLoader<'info, MarginAccount>,
    #[account(mut, has_one = group @ XmarginError::WrongGroup, has_one = vault @ XmarginError::WrongVault)]
    pub liab_bank: AccountLoader<'info, Bank>,
    /// CHECK: equals `liab_bank.vault` (has_one).
    #[account(mut)]
    pub vault: UncheckedAccount<'info>,
    /// CHECK: must be the group's insurance vault (checked in the handler).
    #[account(mut)]
    pub insurance_vault: UncheckedAccount<'info>,
    /// CHECK: address-checked.
    #[account(address = TOKEN_PROGRAM_ID)]
    pub token_program: UncheckedAccount<'info>,
}

/// Permissionless. For an account with debts and nothing left to seize (no
/// positive balance anywhere), clears its debt in `liab_bank`: the insurance
/// fund pays what it can when the debt is in the quote token (same mint, one
/// for one); the rest is socialised across the bank's depositors by lowering
/// the deposit index. Debts in other tokens are socialised in full for now.
pub fn handle_resolve_bankruptcy(ctx: Context<ResolveBankruptcy>) -> Result<()> {
    let (creator, group_num, group_bump, quote_mint, insurance_key) = {
        let g = ctx.accounts.group.load()?;
        (g.creator, g.group_num, g.bump, g.quote_mint, g.insurance_vault)
    };
    if ctx.accounts.insurance_vault.key() != insurance_key {
        return Err(error!(XmarginError::WrongInsuranceVault)
            .with_pubkeys((ctx.accounts.insurance_vault.key(), insurance_key)));
    }
    let now = Clock::get()?.unix_timestamp;
    let mut liqee = ctx.accounts.liqee.load_mut()?;
    let mut bank = ctx.accounts.liab_bank.load_mut()?;
    bank.accrue(now)?;
    let token_index = bank.token_index;

    // Bankrupt: no positive balance in any position (their values need no price)
    // and no derivative position, but a debt in this bank.
    if liqee.active_tokens().any(|p| p.shares.get().is_positive())
        || liqee.derivatives.iter().any(|d| d.in_use != 0)
    {
        return err!(XmarginError::NotBankrupt);
    }
    let shares = liqee.token_position(token_index).map(|p| p.shares.get()).unwrap_or_default();
    if !shares.is_negative() {
        return err!(XmarginError::NotBankrupt);
    }
    let owed = bank.native_balance(shares)?.checked_neg().map_err(risk_error)?;
    let owed_native = owed.to_u64(Rounding::Ceil).map_err(risk_error)?;

    let insurance_available =
        if bank.mint == quote_mint { token::token_account(&ctx.accounts.insurance_vault)?.amount } else { 0 };
    let res = xmargin_risk::liquidation::resolve_bankruptcy(
        Fixed::from_u64(owed_native),
        Fixed::ONE,
        Fixed::from_u64(insurance_available),
        bank.deposit_shares.get(),
        bank.deposit_index.get(),
    )
    .map_err(risk_error)?;
    let insurance_paid = res.insurance_paid.to_u64(Rounding::Ceil).map_err(risk_error)?;

    // Clear the whole debt: the covered part is repaid with insurance tokens,
    // the rest written off against the depositors.
    let position =
        liqee.token_position_mut_or_open(token_index).ok_or(error!(XmarginError::TooManyPositions))?;
    position.shares.set(Fixed::ZERO);
    let borrow_shares = bank.borrow_shares.get().checked_add(shares).map_err(risk_error)?.positive_part();
    bank.borrow_shares.set(borrow_shares);
    bank.deposit_index.set(res.new_deposit_index);
    liqee.close_token_position_if_empty(token_index);
    if !liqee.has_liabilities() {
        liqee.flags &= !(account_flags::BEING_LIQUIDATED | account_flags::BANKRUPT);
    }
    let (deposit_index, liqee_key, bank_key) =
        (bank.deposit_index, ctx.accounts.liqee.key(), ctx.accounts.liab_bank.key());
    drop(bank);
    drop(liqee);

    if insurance_paid > 0 {
        let seeds: &[&[u8]] = &[GROUP_SEED, creator.as_ref(), &group_num.to_le_bytes(), &[group_bump]];
        token::transfer(
            &ctx.accounts.insurance_vault,
            &ctx.accounts.vault,
            &ctx.accounts.group.to_account_info(),
            insurance_paid,
            &[seeds],
        )?;
    }
    emit!(BankruptcyResolved {
        account: liqee_key,
        bank: bank_key,
        token_index,
        owed: owed_native,
        insurance_paid,
        socialized: res.socialized.into(),
        unabsorbed: res.unabsorbed.into(),
        deposit_index,
    });
    Ok(())
}
