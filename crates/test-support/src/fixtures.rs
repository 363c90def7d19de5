//! Instruction builders and set-ups shared by the tests, the benchmark and the demo.
use anchor_lang::prelude::Pubkey;
use solana_address::Address;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;
use xmargin::instructions::CreateGroupArgs;

use crate::convert::anchor_instruction;
use crate::env::Env;

/// The accounts of a created group.
#[derive(Clone, Copy, Debug)]
pub struct GroupFixture {
    pub group: Address,
    pub insurance_vault: Address,
    pub quote_mint: Address,
    pub group_num: u32,
}

/// `create_group` with the payer as fee payer.
pub fn create_group_ix(
    env: &Env,
    creator: &Address,
    quote_mint: &Address,
    args: CreateGroupArgs,
) -> Instruction {
    let creator = *creator;
    let (group, _) = xmargin::pda::group_address(&creator, args.group_num);
    let (insurance_vault, _) = xmargin::pda::insurance_vault_address(&group);
    anchor_instruction(
        &xmargin::ID,
        xmargin::accounts::CreateGroup {
            payer: env.payer.pubkey(),
            creator,
            group,
            quote_mint: *quote_mint,
            insurance_vault,
            token_program: xmargin::token::TOKEN_PROGRAM_ID,
            system_program: anchor_lang::system_program::ID,
        },
        xmargin::instruction::CreateGroup { args },
    )
}

pub fn default_group_args(admin: &Address) -> CreateGroupArgs {
    CreateGroupArgs { group_num: 0, admin: *admin, loosen_delay_secs: 3_600 }
}

/// Creates a 6-decimal quote mint and a group administered by `admin`.
pub fn setup_group(env: &mut Env, admin: &Keypair) -> GroupFixture {
    let quote_mint = env.create_mint(6);
    let args = default_group_args(&admin.pubkey());
    let ix = create_group_ix(env, &admin.pubkey(), &quote_mint, args);
    env.send_ok(&[ix], &[admin]);
    let (group, _) = xmargin::pda::group_address(&admin.pubkey(), args.group_num);
    let (vault, _) = xmargin::pda::insurance_vault_address(&group);
    GroupFixture { group, insurance_vault: vault, quote_mint, group_num: args.group_num }
}

/// Key of a program PDA for seeds, as a LiteSVM address.
pub fn pda(seeds: &[&[u8]]) -> (Address, u8) {
    Pubkey::find_program_address(seeds, &xmargin::ID)
}
