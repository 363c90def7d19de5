use anchor_lang::prelude::*;

use crate::errors::XmarginError;
use crate::events::AccountClosed;
use crate::state::MarginAccount;

#[derive(Accounts)]
pub struct CloseAccount<'info> {
    #[account(mut, has_one = owner @ XmarginError::UnauthorizedOwner, close = rent_receiver)]
    pub account: AccountLoader<'info, MarginAccount>,
    pub owner: Signer<'info>,
    /// CHECK: any account may receive the rent.
    #[account(mut)]
    pub rent_receiver: UncheckedAccount<'info>,
}

pub fn handle_close_account(ctx: Context<CloseAccount>) -> Result<()> {
    let account = ctx.accounts.account.load()?;
    if !account.is_empty() {
        return err!(XmarginError::AccountNotEmpty);
    }
    emit!(AccountClosed { group: account.group, account: ctx.accounts.account.key(), owner: account.owner });
    Ok(())
}
