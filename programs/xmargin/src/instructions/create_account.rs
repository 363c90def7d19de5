use anchor_lang::prelude::*;

use crate::events::AccountCreated;
use crate::state::{Group, MarginAccount, ACCOUNT_SEED};

#[derive(Accounts)]
#[instruction(account_num: u32)]
pub struct CreateAccount<'info> {
    pub group: AccountLoader<'info, Group>,
    pub owner: Signer<'info>,
    #[account(mut)]
    pub payer: Signer<'info>,
    #[account(
        init,
        payer = payer,
        space = 8 + MarginAccount::SIZE,
        seeds = [ACCOUNT_SEED, group.key().as_ref(), owner.key().as_ref(), &account_num.to_le_bytes()],
        bump
    )]
    pub account: AccountLoader<'info, MarginAccount>,
    pub system_program: Program<'info, System>,
}

pub fn handle_create_account(ctx: Context<CreateAccount>, account_num: u32) -> Result<()> {
    let mut account = ctx.accounts.account.load_init()?;
    account.group = ctx.accounts.group.key();
    account.owner = ctx.accounts.owner.key();
    account.account_num = account_num;
    account.bump = ctx.bumps.account;
    emit!(AccountCreated {
        group: account.group,
        account: ctx.accounts.account.key(),
        owner: account.owner,
        account_num,
    });
    Ok(())
}
