//! Instruction builders. Keys in, `Instruction` out; instructions that check
//! health take the health accounts ([`crate::health::health_metas`]).
use anchor_lang::prelude::{AccountMeta, Pubkey};
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::{system_program, InstructionData, ToAccountMetas};
use xmargin::instructions::{AddBankArgs, CreateGroupArgs, UpdateBankArgs};
use xmargin::pda;
use xmargin::token::TOKEN_PROGRAM_ID;

fn ix(accounts: impl ToAccountMetas, data: impl InstructionData, extra: Vec<AccountMeta>) -> Instruction {
    let mut metas = accounts.to_account_metas(None);
    metas.extend(extra);
    Instruction { program_id: xmargin::ID, accounts: metas, data: data.data() }
}

/// The bank-side keys of a token instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BankKeys {
    pub bank: Pubkey,
    pub vault: Pubkey,
    pub oracle: Pubkey,
}

impl BankKeys {
    /// Keys of bank `token_index` of `group`, with its oracle account.
    pub fn new(group: &Pubkey, token_index: u16, oracle: Pubkey) -> Self {
        let bank = pda::bank_address(group, token_index).0;
        BankKeys { bank, vault: pda::bank_vault_address(&bank).0, oracle }
    }
}

pub fn create_group(
    payer: &Pubkey,
    creator: &Pubkey,
    quote_mint: &Pubkey,
    args: CreateGroupArgs,
) -> Instruction {
    let group = pda::group_address(creator, args.group_num).0;
    let accounts = xmargin::accounts::CreateGroup {
        payer: *payer,
        creator: *creator,
        group,
        quote_mint: *quote_mint,
        insurance_vault: pda::insurance_vault_address(&group).0,
        token_program: TOKEN_PROGRAM_ID,
        system_program: system_program::ID,
    };
    ix(accounts, xmargin::instruction::CreateGroup { args }, vec![])
}

pub fn add_bank(
    group: &Pubkey,
    admin: &Pubkey,
    payer: &Pubkey,
    mint: &Pubkey,
    oracle: &Pubkey,
    args: AddBankArgs,
) -> Instruction {
    let keys = BankKeys::new(group, args.token_index, *oracle);
    let accounts = xmargin::accounts::AddBank {
        group: *group,
        admin: *admin,
        payer: *payer,
        mint: *mint,
        bank: keys.bank,
        vault: keys.vault,
        oracle: *oracle,
        token_program: TOKEN_PROGRAM_ID,
        system_program: system_program::ID,
        mint_marker: pda::bank_mint_marker_address(group, mint).0,
    };
    ix(accounts, xmargin::instruction::AddBank { args }, vec![])
}

/// `withdraw_fees`: the admin takes `amount` of a bank's collected fees to `destination`.
pub fn withdraw_fees(
    group: &Pubkey,
    admin: &Pubkey,
    bank: &BankKeys,
    destination: &Pubkey,
    amount: u64,
) -> Instruction {
    let accounts = xmargin::accounts::WithdrawFees {
        group: *group,
        admin: *admin,
        bank: bank.bank,
        vault: bank.vault,
        destination: *destination,
        token_program: TOKEN_PROGRAM_ID,
    };
    ix(accounts, xmargin::instruction::WithdrawFees { amount }, vec![])
}

pub fn update_bank(group: &Pubkey, admin: &Pubkey, token_index: u16, args: UpdateBankArgs) -> Instruction {
    let bank = pda::bank_address(group, token_index).0;
    ix(
        xmargin::accounts::UpdateBank { group: *group, admin: *admin, bank },
        xmargin::instruction::UpdateBank { args },
        vec![],
    )
}

pub fn set_pause(group: &Pubkey, admin: &Pubkey, flags: u8) -> Instruction {
    ix(
        xmargin::accounts::SetPause { group: *group, admin: *admin },
        xmargin::instruction::SetPause { flags },
        vec![],
    )
}

pub fn create_account(group: &Pubkey, owner: &Pubkey, payer: &Pubkey, account_num: u32) -> Instruction {
    let account = pda::margin_account_address(group, owner, account_num).0;
    let accounts = xmargin::accounts::CreateAccount {
        group: *group,
        owner: *owner,
        payer: *payer,
        account,
        system_program: system_program::ID,
    };
    ix(accounts, xmargin::instruction::CreateAccount { account_num }, vec![])
}

pub fn close_account(account: &Pubkey, owner: &Pubkey, rent_receiver: &Pubkey) -> Instruction {
    let accounts =
        xmargin::accounts::CloseAccount { account: *account, owner: *owner, rent_receiver: *rent_receiver };
    ix(accounts, xmargin::instruction::CloseAccount {}, vec![])
}

pub fn set_delegate(account: &Pubkey, owner: &Pubkey, delegate: &Pubkey) -> Instruction {
    let accounts = xmargin::accounts::SetDelegate { account: *account, owner: *owner };
    ix(accounts, xmargin::instruction::SetDelegate { delegate: *delegate }, vec![])
}

/// `set_margin_mode`: `mode` 0 linear, 1 portfolio
/// (`xmargin::instructions::margin_mode`); `health` the account's health
/// accounts (its health is checked in the new mode).
pub fn set_margin_mode(
    group: &Pubkey,
    account: &Pubkey,
    authority: &Pubkey,
    mode: u8,
    health: Vec<AccountMeta>,
) -> Instruction {
    let accounts =
        xmargin::accounts::SetMarginMode { group: *group, account: *account, authority: *authority };
    ix(accounts, xmargin::instruction::SetMarginMode { mode }, health)
}

fn pay_in_accounts(
    group: &Pubkey,
    account: &Pubkey,
    bank: &BankKeys,
    token_account: &Pubkey,
    authority: &Pubkey,
) -> xmargin::accounts::Deposit {
    xmargin::accounts::Deposit {
        group: *group,
        account: *account,
        bank: bank.bank,
        vault: bank.vault,
        token_account: *token_account,
        authority: *authority,
        token_program: TOKEN_PROGRAM_ID,
    }
}

/// Deposit `amount` from `token_account` (owned by `authority`: owner or delegate).
pub fn deposit(
    group: &Pubkey,
    account: &Pubkey,
    bank: &BankKeys,
    token_account: &Pubkey,
    authority: &Pubkey,
    amount: u64,
) -> Instruction {
    let accounts = pay_in_accounts(group, account, bank, token_account, authority);
    ix(accounts, xmargin::instruction::Deposit { amount }, vec![])
}

/// Repay up to `amount` of debt from `token_account`.
pub fn repay(
    group: &Pubkey,
    account: &Pubkey,
    bank: &BankKeys,
    token_account: &Pubkey,
    authority: &Pubkey,
    amount: u64,
) -> Instruction {
    let accounts = pay_in_accounts(group, account, bank, token_account, authority);
    ix(accounts, xmargin::instruction::Repay { amount }, vec![])
}

/// Withdraw (or borrow) `amount` to `token_account`; `health` from
/// [`crate::health::health_metas`] with this bank's token opened.
pub fn withdraw(
    group: &Pubkey,
    account: &Pubkey,
    bank: &BankKeys,
    token_account: &Pubkey,
    authority: &Pubkey,
    amount: u64,
    health: Vec<AccountMeta>,
) -> Instruction {
    let accounts = xmargin::accounts::Withdraw {
        group: *group,
        account: *account,
        bank: bank.bank,
        vault: bank.vault,
        token_account: *token_account,
        authority: *authority,
        token_program: TOKEN_PROGRAM_ID,
    };
    ix(accounts, xmargin::instruction::Withdraw { amount }, health)
}

pub fn accrue_interest(group: &Pubkey, bank: &BankKeys) -> Instruction {
    let accounts = xmargin::accounts::AccrueInterest { group: *group, bank: bank.bank, oracle: bank.oracle };
    ix(accounts, xmargin::instruction::AccrueInterest {}, vec![])
}

pub fn compute_health(group: &Pubkey, account: &Pubkey, health: Vec<AccountMeta>) -> Instruction {
    let accounts = xmargin::accounts::ComputeHealth { group: *group, account: *account };
    ix(accounts, xmargin::instruction::ComputeHealth {}, health)
}

/// `liqee_health` for the liquidatee's positions; `liqor_health` for the
/// liquidator's with the asset then the liability token opened.
#[allow(clippy::too_many_arguments)]
pub fn liquidate_token(
    group: &Pubkey,
    liqee: &Pubkey,
    liqor: &Pubkey,
    liqor_authority: &Pubkey,
    asset_bank: &Pubkey,
    liab_bank: &Pubkey,
    max_liab_transfer: u64,
    liqee_health: Vec<AccountMeta>,
    liqor_health: Vec<AccountMeta>,
) -> Instruction {
    let accounts = xmargin::accounts::LiquidateToken {
        group: *group,
        liqee: *liqee,
        liqor: *liqor,
        liqor_authority: *liqor_authority,
        asset_bank: *asset_bank,
        liab_bank: *liab_bank,
    };
    let mut extra = liqee_health;
    extra.extend(liqor_health);
    ix(accounts, xmargin::instruction::LiquidateToken { max_liab_transfer }, extra)
}

/// `resolve_bankruptcy` without a liquidator: quote-token debt (the fund pays
/// it), or any debt once the insurance fund is empty (socialised).
pub fn resolve_bankruptcy(group: &Pubkey, account: &Pubkey, liab_bank: &BankKeys) -> Instruction {
    let accounts = xmargin::accounts::ResolveBankruptcy {
        group: *group,
        liqee: *account,
        liab_bank: liab_bank.bank,
        vault: liab_bank.vault,
        insurance_vault: pda::insurance_vault_address(group).0,
        token_program: TOKEN_PROGRAM_ID,
        liqor: None,
        liqor_authority: None,
        quote_bank: None,
        quote_vault: None,
        liab_oracle: None,
        quote_oracle: None,
    };
    ix(accounts, xmargin::instruction::ResolveBankruptcy {}, vec![])
}

/// `resolve_bankruptcy` of a debt in another token than the quote token while
/// the insurance fund holds tokens: `liqor` takes over what the fund pays for.
/// `liqor_health`: the liquidator's health accounts with the quote then the
/// liability token opened.
pub fn resolve_bankruptcy_with_liquidator(
    group: &Pubkey,
    account: &Pubkey,
    liab_bank: &BankKeys,
    quote_bank: &BankKeys,
    liqor: &Pubkey,
    liqor_authority: &Pubkey,
    liqor_health: Vec<AccountMeta>,
) -> Instruction {
    let accounts = xmargin::accounts::ResolveBankruptcy {
        group: *group,
        liqee: *account,
        liab_bank: liab_bank.bank,
        vault: liab_bank.vault,
        insurance_vault: pda::insurance_vault_address(group).0,
        token_program: TOKEN_PROGRAM_ID,
        liqor: Some(*liqor),
        liqor_authority: Some(*liqor_authority),
        quote_bank: Some(quote_bank.bank),
        quote_vault: Some(quote_bank.vault),
        liab_oracle: Some(liab_bank.oracle),
        quote_oracle: Some(quote_bank.oracle),
    };
    ix(accounts, xmargin::instruction::ResolveBankruptcy {}, liqor_health)
}
