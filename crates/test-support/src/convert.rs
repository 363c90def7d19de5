//! Building LiteSVM instructions from the program crate's own Anchor types.
//! Anchor 1.2's `Pubkey` and LiteSVM's `Address` are the same type
//! (`solana-address` 2.x), so keys pass through unchanged.
use anchor_lang::prelude::Pubkey;
use solana_instruction::Instruction;

/// `accounts::X { .. }` + `instruction::X { .. }` → an instruction for `program_id`.
pub fn anchor_instruction(
    program_id: &Pubkey,
    accounts: impl anchor_lang::ToAccountMetas,
    data: impl anchor_lang::InstructionData,
) -> Instruction {
    Instruction { program_id: *program_id, accounts: accounts.to_account_metas(None), data: data.data() }
}
