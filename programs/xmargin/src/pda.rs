//! PDA derivations, for clients and tests (on-chain code verifies with stored bumps).
use anchor_lang::prelude::*;

use crate::state::{
    ACCOUNT_SEED, BANK_MINT_SEED, BANK_SEED, BANK_VAULT_SEED, GROUP_SEED, INSURANCE_VAULT_SEED,
};

/// `[b"group", creator, group_num (u32 LE)]`
pub fn group_address(creator: &Pubkey, group_num: u32) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[GROUP_SEED, creator.as_ref(), &group_num.to_le_bytes()], &crate::ID)
}

/// `[b"insurance_vault", group]`
pub fn insurance_vault_address(group: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[INSURANCE_VAULT_SEED, group.as_ref()], &crate::ID)
}

/// `[b"bank", group, token_index (u16 LE)]`
pub fn bank_address(group: &Pubkey, token_index: u16) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[BANK_SEED, group.as_ref(), &token_index.to_le_bytes()], &crate::ID)
}

/// `[b"bank_vault", bank]`
pub fn bank_vault_address(bank: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[BANK_VAULT_SEED, bank.as_ref()], &crate::ID)
}

/// `[b"account", group, owner, account_num (u32 LE)]`
pub fn margin_account_address(group: &Pubkey, owner: &Pubkey, account_num: u32) -> (Pubkey, u8) {
    Pubkey::find_program_address(
        &[ACCOUNT_SEED, group.as_ref(), owner.as_ref(), &account_num.to_le_bytes()],
        &crate::ID,
    )
}

/// The group's marker for `mint` (created by `add_bank`: one bank per mint).
pub fn bank_mint_marker_address(group: &Pubkey, mint: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[BANK_MINT_SEED, group.as_ref(), mint.as_ref()], &crate::ID)
}

/// `[b"market", group, market_index (u16 LE)]`
pub fn market_address(group: &Pubkey, market_index: u16) -> (Pubkey, u8) {
    Pubkey::find_program_address(
        &[crate::state::MARKET_SEED, group.as_ref(), &market_index.to_le_bytes()],
        &crate::ID,
    )
}
