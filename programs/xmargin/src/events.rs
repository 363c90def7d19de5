//! Events for every state change a keeper, indexer or UI needs.
use anchor_lang::prelude::*;

#[event]
pub struct GroupCreated {
    pub group: Pubkey,
    pub admin: Pubkey,
    pub quote_mint: Pubkey,
    pub insurance_vault: Pubkey,
    pub group_num: u32,
    pub loosen_delay_secs: u32,
}

#[event]
pub struct BankAdded {
    pub group: Pubkey,
    pub bank: Pubkey,
    pub mint: Pubkey,
    pub oracle: Pubkey,
    pub token_index: u16,
    pub risk: crate::instructions::BankRiskArgs,
    pub oracle_config: crate::instructions::BankOracleArgs,
    pub interest: crate::instructions::BankInterestArgs,
}

#[event]
pub struct AccountCreated {
    pub group: Pubkey,
    pub account: Pubkey,
    pub owner: Pubkey,
    pub account_num: u32,
}

#[event]
pub struct AccountClosed {
    pub group: Pubkey,
    pub account: Pubkey,
    pub owner: Pubkey,
}

#[event]
pub struct DelegateSet {
    pub account: Pubkey,
    pub owner: Pubkey,
    /// `Pubkey::default()` when removed.
    pub delegate: Pubkey,
}
