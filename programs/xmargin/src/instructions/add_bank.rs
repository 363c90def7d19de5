use anchor_lang::prelude::*;
use xmargin_risk::Fixed;

use super::bank_params::{BankInterestArgs, BankOracleArgs, BankRiskArgs};
use crate::errors::XmarginError;
use crate::events::BankAdded;
use crate::oracle::read_pyth;
use crate::state::{Bank, Group, BANK_MINT_MARKER_LEN, BANK_MINT_SEED, BANK_SEED, BANK_VAULT_SEED};
use crate::token::{self, TOKEN_PROGRAM_ID};

/// Most banks one group may list (token indices are `u16`; accounts hold 16 positions).
pub const MAX_BANKS: u16 = 1_024;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddBankArgs {
    /// Must equal the group's current bank count (PDA seed).
    pub token_index: u16,
    /// Pyth feed id the oracle account must carry.
    pub feed_id: [u8; 32],
    pub risk: BankRiskArgs,
    pub oracle: BankOracleArgs,
    pub interest: BankInterestArgs,
}

#[derive(Accounts)]
#[instruction(args: AddBankArgs)]
pub struct AddBank<'info> {
    #[account(mut, has_one = admin @ XmarginError::UnauthorizedAdmin)]
    pub group: AccountLoader<'info, Group>,
    pub admin: Signer<'info>,
    #[account(mut)]
    pub payer: Signer<'info>,
    /// CHECK: checked to be an initialized SPL Token mint in the handler.
    pub mint: UncheckedAccount<'info>,
    #[account(
        init,
        payer = payer,
        space = 8 + Bank::SIZE,
        seeds = [BANK_SEED, group.key().as_ref(), &args.token_index.to_le_bytes()],
        bump
    )]
    pub bank: AccountLoader<'info, Bank>,
    /// CHECK: created in the handler as the bank's token account at this PDA.
    #[account(mut, seeds = [BANK_VAULT_SEED, bank.key().as_ref()], bump)]
    pub vault: UncheckedAccount<'info>,
    /// CHECK: identity checked by `read_pyth` (owner, type, verification, feed id) and freshness below.
    pub oracle: UncheckedAccount<'info>,
    /// CHECK: address-checked.
    #[account(address = TOKEN_PROGRAM_ID)]
    pub token_program: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
    /// CHECK: the group's marker for this mint (PDA); created here, refused if it exists.
    #[account(mut, seeds = [BANK_MINT_SEED, group.key().as_ref(), mint.key().as_ref()], bump)]
    pub mint_marker: UncheckedAccount<'info>,
}

pub fn handle_add_bank(ctx: Context<AddBank>, args: AddBankArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let (quote_decimals, group_key) = {
        let group = ctx.accounts.group.load()?;
        if args.token_index != group.bank_count {
            return Err(
                error!(XmarginError::WrongBankIndex).with_values((args.token_index, group.bank_count))
            );
        }
        if group.bank_count >= MAX_BANKS {
            return err!(XmarginError::TooManyBanks);
        }
        (group.quote_decimals, ctx.accounts.group.key())
    };
    let risk = args.risk.to_params()?;
    let mint_decimals = token::mint_decimals(&ctx.accounts.mint)?;
    create_mint_marker(&ctx, args.token_index)?;

    let bank_key = ctx.accounts.bank.key();
    let mut bank = ctx.accounts.bank.load_init()?;
    let mut safety = bank.safety_params();
    args.oracle.write_to(&mut safety)?;
    args.interest.apply(&mut bank, &mut safety)?;
    bank.set_safety_params(&safety);

    // The oracle must be live at listing: it seeds the stable price.
    let reading = read_pyth(&ctx.accounts.oracle, &args.feed_id)?;
    reading.check_fresh(now, bank.max_oracle_age_secs)?;
    let price = reading.to_oracle_price(mint_decimals, quote_decimals, bank.max_conf_ratio.get())?;

    bank.group = group_key;
    bank.mint = ctx.accounts.mint.key();
    bank.vault = ctx.accounts.vault.key();
    bank.oracle = ctx.accounts.oracle.key();
    bank.feed_id = args.feed_id;
    bank.risk = risk;
    bank.deposit_index.set(Fixed::ONE);
    bank.borrow_index.set(Fixed::ONE);
    bank.stable_price.set(price.lo);
    bank.stable_price_ts = now;
    bank.last_accrual_ts = now;
    bank.token_index = args.token_index;
    bank.mint_decimals = mint_decimals;
    bank.bump = ctx.bumps.bank;
    bank.vault_bump = ctx.bumps.vault;
    drop(bank);

    token::create_pda_token_account(
        &ctx.accounts.payer,
        &ctx.accounts.vault,
        &ctx.accounts.mint,
        &group_key,
        &[BANK_VAULT_SEED, bank_key.as_ref(), &[ctx.bumps.vault]],
        &ctx.accounts.system_program,
    )?;
    ctx.accounts.group.load_mut()?.bank_count += 1;

    emit!(BankAdded {
        group: group_key,
        bank: bank_key,
        mint: ctx.accounts.mint.key(),
        oracle: ctx.accounts.oracle.key(),
        token_index: args.token_index,
        risk: args.risk,
        oracle_config: args.oracle,
        interest: args.interest,
    });
    Ok(())
}

/// Creates the group's marker for the mint, refusing a mint the group already
/// lists (the marker exists, owned by this program). A pre-funded address is
/// no obstacle (`token::create_pda_account`).
fn create_mint_marker(ctx: &Context<AddBank>, token_index: u16) -> Result<()> {
    let marker = &ctx.accounts.mint_marker;
    if marker.owner == &crate::ID {
        let listed = marker.try_borrow_data()?.get(..2).map(|b| u16::from_le_bytes([b[0], b[1]]));
        return Err(
            error!(XmarginError::DuplicateMint).with_values((token_index, listed.unwrap_or_default()))
        );
    }
    let (group, mint) = (ctx.accounts.group.key(), ctx.accounts.mint.key());
    let seeds: &[&[u8]] = &[BANK_MINT_SEED, group.as_ref(), mint.as_ref(), &[ctx.bumps.mint_marker]];
    token::create_pda_account(
        &ctx.accounts.payer,
        marker,
        BANK_MINT_MARKER_LEN,
        &crate::ID,
        seeds,
        &ctx.accounts.system_program,
    )?;
    marker.try_borrow_mut_data()?.copy_from_slice(&token_index.to_le_bytes());
    Ok(())
}
