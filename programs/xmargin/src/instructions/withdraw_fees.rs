use anchor_lang::prelude::*;
use xmargin_risk::{Fixed, Rounding};

use crate::errors::XmarginError;
use crate::events::FeesWithdrawn;
use crate::health::risk_error;
use crate::state::{pause, Bank, Group, GROUP_SEED};
use crate::token::{self, TOKEN_PROGRAM_ID};

#[derive(Accounts)]
pub struct WithdrawFees<'info> {
    #[account(has_one = admin @ XmarginError::UnauthorizedAdmin)]
    pub group: AccountLoader<'info, Group>,
    pub admin: Signer<'info>,
    #[account(mut, has_one = group @ XmarginError::WrongGroup, has_one = vault @ XmarginError::WrongVault)]
    pub bank: AccountLoader<'info, Bank>,
    /// CHECK: equals `bank.vault` (has_one); the token program checks the rest.
    #[account(mut)]
    pub vault: UncheckedAccount<'info>,
    /// CHECK: destination SPL Token account of the bank's mint; read and checked in the handler.
    #[account(mut)]
    pub destination: UncheckedAccount<'info>,
    /// CHECK: address-checked.
    #[account(address = TOKEN_PROGRAM_ID)]
    pub token_program: UncheckedAccount<'info>,
}

/// Admin: pays `amount` native of the bank's collected protocol fees out of
/// its vault. Never more than the fees less any recorded deficit (after
/// accruing to now, rounded down) nor than the vault holds: fees are part of the vault's claims, so the
/// vault invariant (vault ≥ deposits − borrows + fees) holds after it.
/// Paused with withdrawals.
pub fn handle_withdraw_fees(ctx: Context<WithdrawFees>, amount: u64) -> Result<()> {
    if amount == 0 {
        return err!(XmarginError::ZeroAmount);
    }
    let (creator, group_num, bump) = {
        let group = ctx.accounts.group.load()?;
        if group.is_paused(pause::WITHDRAWALS) {
            return Err(
                error!(XmarginError::GroupPaused).with_values((group.pause_flags, pause::WITHDRAWALS))
            );
        }
        (group.creator, group.group_num, group.bump)
    };
    let now = Clock::get()?.unix_timestamp;
    let mut bank = ctx.accounts.bank.load_mut()?;
    let destination = token::token_account(&ctx.accounts.destination)?;
    if destination.mint != bank.mint {
        return Err(error!(XmarginError::WrongMint).with_pubkeys((destination.mint, bank.mint)));
    }
    bank.accrue(now)?;
    // A recorded deficit (a loss neither depositors nor fees absorbed) is repaid
    // from later fees first.
    let fees = bank.collected_fees.get();
    let available = fees.checked_sub(bank.deficit.get()).map_err(risk_error)?.positive_part();
    let available = available.to_u64(Rounding::Floor).map_err(risk_error)?;
    if amount > available {
        return Err(error!(XmarginError::FeesExceeded).with_values((amount, available)));
    }
    let vault_balance = token::token_account(&ctx.accounts.vault)?.amount;
    if vault_balance < amount {
        return Err(error!(XmarginError::InsufficientVaultLiquidity).with_values((amount, vault_balance)));
    }
    let fees_left = fees.checked_sub(Fixed::from_u64(amount)).map_err(risk_error)?;
    bank.collected_fees.set(fees_left);
    let token_index = bank.token_index;
    drop(bank);

    let seeds: &[&[u8]] = &[GROUP_SEED, creator.as_ref(), &group_num.to_le_bytes(), &[bump]];
    token::transfer(
        &ctx.accounts.vault,
        &ctx.accounts.destination,
        &ctx.accounts.group.to_account_info(),
        amount,
        &[seeds],
    )?;
    emit!(FeesWithdrawn {
        bank: ctx.accounts.bank.key(),
        token_index,
        destination: ctx.accounts.destination.key(),
        amount,
        fees_left: fees_left.into(),
    });
    Ok(())
}
