//! Instruction builders for the collateral side (deposit, withdraw, repay,
//! accrue, compute_health), the health-accounts list every risk check needs,
//! and the vault invariant every test asserts.
use std::collections::BTreeMap;

use anchor_lang::prelude::Pubkey;
use solana_address::Address;
use solana_instruction::{AccountMeta, Instruction};
use xmargin::state::{Bank, MarginAccount};
use xmargin_client::health::BankEntry;
use xmargin_client::instructions::{self as ixs, BankKeys};
use xmargin_risk::Fixed;

use crate::env::Env;

/// Every bank of `group` the VM holds (token indices 0.. until one is missing).
pub fn banks(env: &Env, group: &Address) -> BTreeMap<u16, BankEntry> {
    let mut out = BTreeMap::new();
    for t in 0u16.. {
        let address = xmargin::pda::bank_address(group, t).0;
        let Some(acc) = env.account(&address) else { break };
        let bank = xmargin_client::accounts::decode::<Bank>(&acc.data).expect("bank account");
        out.insert(t, BankEntry { address, bank });
    }
    out
}

/// Keys of bank `token_index` of `group`, read from the VM.
pub fn bank_keys(env: &Env, group: &Address, token_index: u16) -> BankKeys {
    let address = xmargin::pda::bank_address(group, token_index).0;
    let bank: Bank = env.zero_copy(&address);
    BankKeys { bank: address, vault: bank.vault, oracle: bank.oracle }
}

/// The health accounts of `account` (see `xmargin::health`), with `opening`'s
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
    crate::markets::health_accounts_full(env, group, account, opening, &[])
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
    let keys = bank_keys(env, group, token_index);
    if repay {
        ixs::repay(group, account, &keys, token_account, authority, amount)
    } else {
        ixs::deposit(group, account, &keys, token_account, authority, amount)
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
    let keys = bank_keys(env, group, token_index);
    let health = health_accounts(env, group, account, Some(token_index));
    ixs::withdraw(group, account, &keys, token_account, authority, amount, health)
}

pub fn accrue_interest_ix(env: &Env, group: &Address, token_index: u16) -> Instruction {
    ixs::accrue_interest(group, &bank_keys(env, group, token_index))
}

pub fn compute_health_ix(env: &Env, group: &Address, account: &Address) -> Instruction {
    ixs::compute_health(group, account, health_accounts(env, group, account, None))
}

/// Runs `compute_health` and decodes its return data.
pub fn health_view(env: &mut Env, group: &Address, account: &Address) -> xmargin::instructions::HealthView {
    let ix = compute_health_ix(env, group, account);
    let out = env.send_ok(&[ix], &[]);
    anchor_lang::AnchorDeserialize::deserialize(&mut out.return_data.as_slice())
        .expect("HealthView return data")
}

/// A fixed-point value as an `f64`, for readable tolerances in tests (the
/// risk engine's own `to_f64` is behind a feature the on-chain build must not
/// have, and enabling it for tests alone splits the workspace's builds).
#[allow(clippy::cast_precision_loss)]
pub fn approx_f64(x: Fixed) -> f64 {
    x.to_bits() as f64 / (1u64 << xmargin_risk::fixed::FRAC_BITS) as f64
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
    ixs::update_bank(group, admin, token_index, args)
}

pub fn set_pause_ix(group: &Address, admin: &Address, flags: u8) -> Instruction {
    ixs::set_pause(group, admin, flags)
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
    ixs::liquidate_token(
        group,
        liqee,
        liqor,
        authority,
        &xmargin::pda::bank_address(group, asset).0,
        &xmargin::pda::bank_address(group, liab).0,
        max,
        health_accounts(env, group, liqee, None),
        health_accounts_opening(env, group, liqor, &[asset, liab]),
    )
}

/// `resolve_bankruptcy` of `account`'s debt in bank `token_index`.
pub fn resolve_bankruptcy_ix(env: &Env, group: &Address, account: &Address, token_index: u16) -> Instruction {
    ixs::resolve_bankruptcy(group, account, &bank_keys(env, group, token_index))
}

/// `resolve_bankruptcy` of a non-quote debt with `liqor` taking over what the
/// insurance fund pays for (quote bank = token 0).
pub fn resolve_bankruptcy_with_liquidator_ix(
    env: &Env,
    group: &Address,
    account: &Address,
    token_index: u16,
    liqor: &Address,
    authority: &Address,
) -> Instruction {
    ixs::resolve_bankruptcy_with_liquidator(
        group,
        account,
        &bank_keys(env, group, token_index),
        &bank_keys(env, group, 0),
        liqor,
        authority,
        health_accounts_opening(env, group, liqor, &[0, token_index]),
    )
}
