//! SPL Token accounts read and created by hand.
//!
//! `anchor-spl` does not link on the SBF route this project builds with (it pulls
//! in writable statics), so mints and token accounts are checked here from their
//! raw layout — cheaper in compute units than a full unpack — and token CPIs go
//! through `spl-token-interface`. The offsets are cross-checked against
//! `spl_token_interface::state` by the unit tests below.
use anchor_lang::prelude::*;
use anchor_lang::solana_program::{program::invoke_signed, system_instruction};

use crate::errors::XmarginError;

pub use spl_token_interface::ID as TOKEN_PROGRAM_ID;

/// Byte size of an SPL Token mint.
pub const MINT_LEN: usize = 82;
/// Byte size of an SPL Token account.
pub const TOKEN_ACCOUNT_LEN: usize = 165;

const MINT_DECIMALS_OFFSET: usize = 44;
const MINT_INITIALIZED_OFFSET: usize = 45;
const ACCOUNT_MINT_OFFSET: usize = 0;
const ACCOUNT_OWNER_OFFSET: usize = 32;
const ACCOUNT_AMOUNT_OFFSET: usize = 64;
const ACCOUNT_STATE_OFFSET: usize = 108;
/// `AccountState::Initialized` (0 = uninitialized, 2 = frozen).
const ACCOUNT_STATE_INITIALIZED: u8 = 1;

/// Returns the decimals of an initialized SPL Token mint, or a named error.
pub fn mint_decimals(mint: &AccountInfo) -> Result<u8> {
    if mint.owner != &TOKEN_PROGRAM_ID {
        return Err(error!(XmarginError::UnsupportedTokenProgram)
            .with_account_name("mint")
            .with_pubkeys((*mint.owner, TOKEN_PROGRAM_ID)));
    }
    let data = mint.try_borrow_data()?;
    if data.len() != MINT_LEN || data[MINT_INITIALIZED_OFFSET] != 1 {
        return err!(XmarginError::InvalidMint);
    }
    Ok(data[MINT_DECIMALS_OFFSET])
}

/// The fields of an SPL Token account the program relies on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenAccountView {
    pub mint: Pubkey,
    pub owner: Pubkey,
    pub amount: u64,
}

/// Reads an initialized (not frozen) SPL Token account owned by the token program.
pub fn token_account(account: &AccountInfo) -> Result<TokenAccountView> {
    if account.owner != &TOKEN_PROGRAM_ID {
        return Err(
            error!(XmarginError::UnsupportedTokenProgram).with_pubkeys((*account.owner, TOKEN_PROGRAM_ID))
        );
    }
    let data = account.try_borrow_data()?;
    if data.len() != TOKEN_ACCOUNT_LEN || data[ACCOUNT_STATE_OFFSET] != ACCOUNT_STATE_INITIALIZED {
        return err!(XmarginError::InvalidTokenAccount);
    }
    let key_at = |offset: usize| {
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(&data[offset..offset + 32]);
        Pubkey::new_from_array(bytes)
    };
    let mut amount = [0u8; 8];
    amount.copy_from_slice(&data[ACCOUNT_AMOUNT_OFFSET..ACCOUNT_AMOUNT_OFFSET + 8]);
    Ok(TokenAccountView {
        mint: key_at(ACCOUNT_MINT_OFFSET),
        owner: key_at(ACCOUNT_OWNER_OFFSET),
        amount: u64::from_le_bytes(amount),
    })
}

/// Creates an SPL Token account at a program PDA (`vault_seeds` include the bump)
/// whose authority is `authority`. Works even when someone pre-funded the address
/// with lamports (see [`create_pda_account`]).
pub fn create_pda_token_account<'info>(
    payer: &AccountInfo<'info>,
    vault: &AccountInfo<'info>,
    mint: &AccountInfo<'info>,
    authority: &Pubkey,
    vault_seeds: &[&[u8]],
    system_program: &AccountInfo<'info>,
) -> Result<()> {
    create_pda_account(payer, vault, TOKEN_ACCOUNT_LEN, &TOKEN_PROGRAM_ID, vault_seeds, system_program)?;
    let init = spl_token_interface::instruction::initialize_account3(
        &TOKEN_PROGRAM_ID,
        vault.key,
        mint.key,
        authority,
    )?;
    invoke_signed(&init, &[vault.clone(), mint.clone()], &[])?;
    Ok(())
}

/// Creates a rent-exempt account of `space` bytes owned by `owner` at a
/// program PDA (`seeds` include the bump). Works even when someone pre-funded
/// the address with lamports, which would make a plain `create_account` fail
/// (a cheap DoS): it then tops up, allocates and assigns instead.
pub fn create_pda_account<'info>(
    payer: &AccountInfo<'info>,
    account: &AccountInfo<'info>,
    space: usize,
    owner: &Pubkey,
    seeds: &[&[u8]],
    system_program: &AccountInfo<'info>,
) -> Result<()> {
    let rent_lamports = Rent::get()?.minimum_balance(space);
    let signer: &[&[&[u8]]] = &[seeds];
    let current = account.lamports();
    if current == 0 {
        invoke_signed(
            &system_instruction::create_account(payer.key, account.key, rent_lamports, space as u64, owner),
            &[payer.clone(), account.clone(), system_program.clone()],
            signer,
        )?;
        return Ok(());
    }
    let top_up = rent_lamports.saturating_sub(current);
    if top_up > 0 {
        invoke_signed(
            &system_instruction::transfer(payer.key, account.key, top_up),
            &[payer.clone(), account.clone(), system_program.clone()],
            &[],
        )?;
    }
    invoke_signed(
        &system_instruction::allocate(account.key, space as u64),
        &[account.clone(), system_program.clone()],
        signer,
    )?;
    invoke_signed(
        &system_instruction::assign(account.key, owner),
        &[account.clone(), system_program.clone()],
        signer,
    )?;
    Ok(())
}

/// SPL Token transfer of `amount` from `from` to `to`, signed by `authority`
/// (with `signer_seeds` when the authority is a program PDA).
pub fn transfer<'info>(
    from: &AccountInfo<'info>,
    to: &AccountInfo<'info>,
    authority: &AccountInfo<'info>,
    amount: u64,
    signer_seeds: &[&[&[u8]]],
) -> Result<()> {
    let ix = spl_token_interface::instruction::transfer(
        &TOKEN_PROGRAM_ID,
        from.key,
        to.key,
        authority.key,
        &[],
        amount,
    )?;
    invoke_signed(&ix, &[from.clone(), to.clone(), authority.clone()], signer_seeds)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::solana_program::program_pack::Pack;
    use spl_token_interface::state::{Account, AccountState, Mint};

    #[test]
    fn layout_offsets_match_spl_token() {
        assert_eq!(Mint::LEN, MINT_LEN);
        assert_eq!(Account::LEN, TOKEN_ACCOUNT_LEN);

        let mut mint = vec![0u8; Mint::LEN];
        Mint { decimals: 9, is_initialized: true, supply: 5, ..Mint::default() }.pack_into_slice(&mut mint);
        assert_eq!(mint[MINT_DECIMALS_OFFSET], 9);
        assert_eq!(mint[MINT_INITIALIZED_OFFSET], 1);

        let (m, o) = (Pubkey::new_unique(), Pubkey::new_unique());
        let mut acc = vec![0u8; Account::LEN];
        Account { mint: m, owner: o, amount: 77, state: AccountState::Initialized, ..Account::default() }
            .pack_into_slice(&mut acc);
        assert_eq!(&acc[ACCOUNT_MINT_OFFSET..32], m.as_ref());
        assert_eq!(&acc[ACCOUNT_OWNER_OFFSET..64], o.as_ref());
        assert_eq!(u64::from_le_bytes(acc[64..72].try_into().unwrap()), 77);
        assert_eq!(acc[ACCOUNT_STATE_OFFSET], ACCOUNT_STATE_INITIALIZED);
    }
}
