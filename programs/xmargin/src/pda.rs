//! PDA derivations, for clients and tests (on-chain code verifies with stored bumps).
use anchor_lang::prelude::*;

use crate::state::{GROUP_SEED, INSURANCE_VAULT_SEED};

/// `[b"group", creator, group_num (u32 LE)]`
pub fn group_address(creator: &Pubkey, group_num: u32) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[GROUP_SEED, creator.as_ref(), &group_num.to_le_bytes()], &crate::ID)
}

/// `[b"insurance_vault", group]`
pub fn insurance_vault_address(group: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[INSURANCE_VAULT_SEED, group.as_ref()], &crate::ID)
}
