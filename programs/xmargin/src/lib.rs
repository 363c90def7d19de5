//! xmargin: a cross-margin clearing program.
//!
//! One margin account holds collateral in many tokens and positions in many
//! instruments; the whole account secures every position. Health math lives in
//! the Solana-free `xmargin-risk` crate so the program, keeper, CLI and tests
//! share one implementation. See `docs/` and the README for the design.
use anchor_lang::prelude::*;

#[cfg(target_arch = "bpf")]
use solana_compiler_builtins as _;

pub mod errors;
pub mod events;
pub mod instructions;
pub mod oracle;
pub mod pda;
pub mod state;
pub mod token;

use instructions::*;

declare_id!("xmn1AeerV5q4mR3N3SpcSR6vPcBAV8ZQnNKZ5j84dwk");

#[program]
pub mod xmargin {
    use super::*;

    /// Creates a group: the admin, the quote mint and the insurance-fund vault
    /// that every bank, market and margin account of the group shares.
    pub fn create_group(ctx: Context<CreateGroup>, args: CreateGroupArgs) -> Result<()> {
        handle_create_group(ctx, args)
    }

    /// Lists a collateral token: its bank, shared vault, Pyth oracle, weights,
    /// caps and interest curve. Admin only.
    pub fn add_bank(ctx: Context<AddBank>, args: AddBankArgs) -> Result<()> {
        handle_add_bank(ctx, args)
    }

    /// Opens margin account number `account_num` of the signing owner.
    pub fn create_account(ctx: Context<CreateAccount>, account_num: u32) -> Result<()> {
        handle_create_account(ctx, account_num)
    }

    /// Closes an empty margin account and returns its rent.
    pub fn close_account(ctx: Context<CloseAccount>) -> Result<()> {
        handle_close_account(ctx)
    }

    /// Sets (or with the default key, removes) the account's delegate.
    pub fn set_delegate(ctx: Context<SetDelegate>, delegate: Pubkey) -> Result<()> {
        handle_set_delegate(ctx, delegate)
    }
}
