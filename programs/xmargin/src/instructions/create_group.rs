use anchor_lang::prelude::*;

use crate::errors::XmarginError;
use crate::events::GroupCreated;
use crate::state::{Group, GROUP_SEED, INSURANCE_VAULT_SEED, MAX_LOOSEN_DELAY_SECS};
use crate::token::{self, TOKEN_PROGRAM_ID};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreateGroupArgs {
    /// Distinguishes several groups of one creator (PDA seed).
    pub group_num: u32,
    /// Who administers the group (a multisig in production); may differ from the creator.
    pub admin: Pubkey,
    /// Seconds a risk-loosening parameter change waits before it applies.
    pub loosen_delay_secs: u32,
}

#[derive(Accounts)]
#[instruction(args: CreateGroupArgs)]
pub struct CreateGroup<'info> {
    #[account(mut)]
    pub payer: Signer<'info>,
    pub creator: Signer<'info>,
    #[account(
        init,
        payer = payer,
        space = 8 + Group::SIZE,
        seeds = [GROUP_SEED, creator.key().as_ref(), &args.group_num.to_le_bytes()],
        bump
    )]
    pub group: AccountLoader<'info, Group>,
    /// CHECK: checked to be an initialized SPL Token mint in the handler.
    pub quote_mint: UncheckedAccount<'info>,
    /// CHECK: created in the handler as a token account at this PDA.
    #[account(mut, seeds = [INSURANCE_VAULT_SEED, group.key().as_ref()], bump)]
    pub insurance_vault: UncheckedAccount<'info>,
    /// CHECK: address-checked.
    #[account(address = TOKEN_PROGRAM_ID)]
    pub token_program: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

pub fn handle_create_group(ctx: Context<CreateGroup>, args: CreateGroupArgs) -> Result<()> {
    if args.loosen_delay_secs > MAX_LOOSEN_DELAY_SECS {
        return Err(error!(XmarginError::LoosenDelayTooLong)
            .with_values((args.loosen_delay_secs, MAX_LOOSEN_DELAY_SECS)));
    }
    let quote_decimals = token::mint_decimals(&ctx.accounts.quote_mint)?;

    let group_key = ctx.accounts.group.key();
    let vault_bump = ctx.bumps.insurance_vault;
    token::create_pda_token_account(
        &ctx.accounts.payer,
        &ctx.accounts.insurance_vault,
        &ctx.accounts.quote_mint,
        &group_key,
        &[INSURANCE_VAULT_SEED, group_key.as_ref(), &[vault_bump]],
        &ctx.accounts.system_program,
    )?;

    let mut group = ctx.accounts.group.load_init()?;
    group.admin = args.admin;
    group.creator = ctx.accounts.creator.key();
    group.quote_mint = ctx.accounts.quote_mint.key();
    group.insurance_vault = ctx.accounts.insurance_vault.key();
    group.group_num = args.group_num;
    group.loosen_delay_secs = args.loosen_delay_secs;
    group.bump = ctx.bumps.group;
    group.insurance_vault_bump = vault_bump;
    group.quote_decimals = quote_decimals;
    group.risk_grid = crate::options::DEFAULT_RISK_GRID;

    emit!(GroupCreated {
        group: group_key,
        admin: group.admin,
        quote_mint: group.quote_mint,
        insurance_vault: group.insurance_vault,
        group_num: group.group_num,
        loosen_delay_secs: group.loosen_delay_secs,
    });
    Ok(())
}
