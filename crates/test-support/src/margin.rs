//! Instruction builders for the collateral side (deposit, withdraw, repay,
//! accrue, compute_health), the health-accounts list every risk check needs,
//! and the vault invariant every test asserts.
use anchor_lang::prelude::Pubkey;
use solana_address::Address;
use solana_instruction::{AccountMeta, Instruction};
use xmargin::state::{Bank, MarginAccount, MAX_TOKEN_POSITIONS};
use xmargin_risk::Fixed;

use crate::convert::anchor_instruction;
use crate::env::Env;

/// The health accounts of `account` (see `xmargin::health`): banks then
/// oracles of its active token positions in slot order, with `opening`'s
/// token placed in the first free slot if it is not active yet.
pub fn health_accounts(
    env: &Env,
    group: &Address,
    account: &Address,
    opening: Option<u16>,
) -> Vec<AccountMeta> {
    health_accounts_opening(env, group, account, opening.as_slice())
}

/// [`health_accounts`] with several tokens opened in order (liquidation opens
/// the asset, then the liability, on the liquidator's side).
pub fn health_accounts_opening(
    env: &Env,
    group: &Address,
    account: &Address,
    opening: &[u16],
) -> Vec<AccountMeta> {
    let acc: MarginAccount = env.zero_copy(account);
    let mut slots: Vec<Option<u16>> =
        acc.tokens.iter().map(|p| (p.in_use != 0).then_some(p.token_index)).collect();
    for t in opening {
        if !slots.contains(&Some(*t)) {
            if let Some(free) = slots.iter_mut().find(|s| s.is_none()) {
                *free = Some(*t);
            }
        }
    }
    assert_eq!(slots.len(), MAX_TOKEN_POSITIONS);
    let banks: Vec<Address> =
        slots.iter().flatten().map(|t| xmargin::pda::bank_address(group, *t).0).collect();
    let oracles: Vec<Address> = banks.iter().map(|b| env.zero_copy::<Bank>(b).oracle).collect();
    banks.iter().chain(oracles.iter()).map(|k| AccountMeta::new_readonly(*k, false)).collect()
}

/// A deposit (or, with `repay`, a repay) of `amount` from `token_account`.
#[allow(clippy::too_many_arguments)]
pub fn deposit_ix(
    env: &Env,
    group: &Address,
    account: &Address,
    token_index: u16,
    token_account: &Address,
    authority: &Address,
    amount: u64,
    repay: bool,
) -> Instruction {
    let (bank, _) = xmargin::pda::bank_address(group, token_index);
    let vault = env.zero_copy::<Bank>(&bank).vault;
    let accounts = xmargin::accounts::Deposit {
        group: *group,
        account: *account,
        bank,
        vault,
        token_account: *token_account,
        authority: *authority,
        token_program: xmargin::token::TOKEN_PROGRAM_ID,
    };
    if repay {
        anchor_instruction(&xmargin::ID, accounts, xmargin::instruction::Repay { amount })
    } else {
        anchor_instruction(&xmargin::ID, accounts, xmargin::instruction::Deposit { amount })
    }
}

/// A withdraw of `amount` to `token_account`, with the health accounts appended.
pub fn withdraw_ix(
    env: &Env,
    group: &Address,
    account: &Address,
    token_index: u16,
    token_account: &Address,
    authority: &Address,
    amount: u64,
) -> Instruction {
    let (bank, _) = xmargin::pda::bank_address(group, token_index);
    let vault = env.zero_copy::<Bank>(&bank).vault;
    let mut ix = anchor_instruction(
        &xmargin::ID,
        xmargin::accounts::Withdraw {
            group: *group,
            account: *account,
            bank,
            vault,
            token_account: *token_account,
            authority: *authority,
            token_program: xmargin::token::TOKEN_PROGRAM_ID,
        },
        xmargin::instruction::Withdraw { amount },
    );
    ix.accounts.extend(health_accounts(env, group, account, Some(token_index)));
    ix
}

pub fn accrue_interest_ix(env: &Env, group: &Address, token_index: u16) -> Instruction {
    let (bank, _) = xmargin::pda::bank_address(group, token_index);
    let oracle = env.zero_copy::<Bank>(&bank).oracle;
    anchor_instruction(
        &xmargin::ID,
        xmargin::accounts::AccrueInterest { group: *group, bank, oracle },
        xmargin::instruction::AccrueInterest {},
    )
}

pub fn compute_health_ix(env: &Env, group: &Address, account: &Address) -> Instruction {
    let mut ix = anchor_instruction(
        &xmargin::ID,
        xmargin::accounts::ComputeHealth { group: *group, account: *account },
        xmargin::instruction::ComputeHealth {},
    );
    ix.accounts.extend(health_accounts(env, group, account, None));
    ix
}

/// Runs `compute_health` and decodes its return data.
pub fn health_view(env: &mut Env, group: &Address, account: &Address) -> xmargin::instructions::HealthView {
    let ix = compute_health_ix(env, group, account);
    let out = env.send_ok(&[ix], &[]);
    anchor_lang::AnchorDeserialize::deserialize(&mut out.return_data.as_slice())
        .expect("HealthView return data")
}

/// Signed native balance of an account in a bank (deposits floor, debts ceil).
pub fn native_balance(env: &Env, group: &Address, account: &Address, token_index: u16) -> Fixed {
    let acc: MarginAccount = env.zero_copy(account);
    let bank: Bank = env.zero_copy(&xmargin::pda::bank_address(group, token_index).0);
    acc.token_position(token_index)
        .map(|p| bank.native_balance(p.shares.get()).unwrap())
        .unwrap_or(Fixed::ZERO)
}

/// The vault invariant (DESIGN.md, issue 4): for a bank,
/// `vault balance = Σ deposits − Σ borrows + protocol fees`, within rounding
/// that favours the vault (never below; at most `slack` native units above),
/// and the accounts' shares add up exactly to the bank's totals.
pub fn assert_vault_invariant(
    env: &Env,
    group: &Address,
    token_index: u16,
    accounts: &[Address],
    slack: u64,
) {
    let bank_key: Pubkey = xmargin::pda::bank_address(group, token_index).0;
    let bank: Bank = env.zero_copy(&bank_key);
    let (deposits, borrows) = bank.native_totals().unwrap();
    let owed = deposits.checked_sub(borrows).unwrap().checked_add(bank.collected_fees.get()).unwrap();
    let vault = Fixed::from_u64(env.token_balance(&bank.vault));
    assert!(
        vault >= owed,
        "bank {token_index}: vault {vault} < deposits {deposits} − borrows {borrows} + fees"
    );
    let excess = vault.checked_sub(owed).unwrap();
    assert!(
        excess <= Fixed::from_u64(slack),
        "bank {token_index}: vault exceeds claims by {excess} (> {slack})"
    );

    let (mut dep, mut bor) = (Fixed::ZERO, Fixed::ZERO);
    for a in accounts {
        let acc: MarginAccount = env.zero_copy(a);
        if let Some(p) = acc.token_position(token_index) {
            let s = p.shares.get();
            if s.is_negative() {
                bor = bor.checked_sub(s).unwrap();
            } else {
                dep = dep.checked_add(s).unwrap();
            }
        }
    }
    assert_eq!(dep, bank.deposit_shares.get(), "bank {token_index}: deposit shares of accounts ≠ bank total");
    assert_eq!(bor, bank.borrow_shares.get(), "bank {token_index}: borrow shares of accounts ≠ bank total");
}

pub fn update_bank_ix(
    group: &Address,
    admin: &Address,
    token_index: u16,
    args: xmargin::instructions::UpdateBankArgs,
) -> Instruction {
    let (bank, _) = xmargin::pda::bank_address(group, token_index);
    anchor_instruction(
        &xmargin::ID,
        xmargin::accounts::UpdateBank { group: *group, admin: *admin, bank },
        xmargin::instruction::UpdateBank { args },
    )
}

pub fn set_pause_ix(group: &Address, admin: &Address, flags: u8) -> Instruction {
    anchor_instruction(
        &xmargin::ID,
        xmargin::accounts::SetPause { group: *group, admin: *admin },
        xmargin::instruction::SetPause { flags },
    )
}

/// `liquidate_token`: `liqor` (signed by `authority`) takes up to `max` native of
/// `liqee`'s debt in `liab` for its collateral in `asset`.
#[allow(clippy::too_many_arguments)]
pub fn liquidate_token_ix(
    env: &Env,
    group: &Address,
    liqee: &Address,
    liqor: &Address,
    authority: &Address,
    asset: u16,
    liab: u16,
    max: u64,
) -> Instruction {
    let mut ix = anchor_instruction(
        &xmargin::ID,
        xmargin::accounts::LiquidateToken {
            group: *group,
            liqee: *liqee,
            liqor: *liqor,
            liqor_authority: *authority,
            asset_bank: xmargin::pda::bank_address(group, asset).0,
            liab_bank: xmargin::pda::bank_address(group, liab).0,
        },
        xmargin::instruction::LiquidateToken { max_liab_transfer: max },
    );
    ix.accounts.extend(health_accounts(env, group, liqee, None));
    ix.accounts.extend(health_accounts_opening(env, group, liqor, &[asset, liab]));
    ix
}

/// `resolve_bankruptcy` of `account`'s debt in bank `token_index`.
pub fn resolve_bankruptcy_ix(env: &Env, group: &Address, account: &Address, token_index: u16) -> Instruction {
    let (bank, _) = xmargin::pda::bank_address(group, token_index);
    let vault = env.zero_copy::<Bank>(&bank).vault;
    let insurance_vault = xmargin::pda::insurance_vault_address(group).0;
    anchor_instruction(
        &xmargin::ID,
        xmargin::accounts::ResolveBankruptcy {
            group: *group,
            liqee: *account,
            liab_bank: bank,
            vault,
            insurance_vault,
            token_program: xmargin::token::TOKEN_PROGRAM_ID,
        },
        xmargin::instruction::ResolveBankruptcy {},
    )
}
