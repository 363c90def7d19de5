use anchor_lang::prelude::*;

use crate::errors::XmarginError;
use crate::events::DelegateSet;
use crate::state::MarginAccount;

#[derive(Accounts)]
pub struct SetDelegate<'info> {
    #[account(mut, has_one = owner @ XmarginError::UnauthorizedOwner)]
    pub account: AccountLoader<'info, MarginAccount>,
    pub owner: Signer<'info>,
}

/// `delegate = Pubkey::default()` removes the delegate.
pub fn handle_set_delegate(ctx: Context<SetDelegate>, delegate: Pubkey) -> Result<()> {
    let mut account = ctx.accounts.account.load_mut()?;
    if delegate == account.owner {
        return err!(XmarginError::DelegateIsOwner);
    }
    account.delegate = delegate;
    emit!(DelegateSet { account: ctx.accounts.account.key(), owner: account.owner, delegate });
    Ok(())
}
