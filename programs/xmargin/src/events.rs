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
