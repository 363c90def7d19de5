//! Instruction builders and set-ups shared by the tests, the benchmark and the demo.
use anchor_lang::prelude::Pubkey;
use solana_address::Address;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;
use xmargin::instructions::{AddBankArgs, BankInterestArgs, BankOracleArgs, BankRiskArgs, CreateGroupArgs};

use crate::env::Env;
use crate::pyth::PythPrice;

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
    xmargin_client::instructions::create_group(&env.payer.pubkey(), creator, quote_mint, args)
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

/// A collateral token to list: its mint decimals, Pyth feed and first price.
#[derive(Clone, Copy, Debug)]
pub struct BankSpec {
    pub decimals: u8,
    pub feed_hex: &'static str,
    /// Pyth mantissa and exponent: price = mantissa · 10^exponent.
    pub price: i64,
    pub conf: u64,
    pub exponent: i32,
}

/// The accounts of a listed bank.
#[derive(Clone, Copy, Debug)]
pub struct BankFixture {
    pub bank: Address,
    pub vault: Address,
    pub mint: Address,
    pub oracle: Address,
    pub token_index: u16,
}

/// Volatile-collateral parameters: asset weights 0.8 / 0.85 / 0.9 (init /
/// liq-end / maint), liability weights 1.2 / 1.15 / 1.1, no caps, k = 1,
/// max age 60 s, max conf 2 %, kinked curve 0 % → 10 % at 80 % → 100 %,
/// 10 % protocol fee, 5 % liquidation fee.
pub fn default_bank_args(token_index: u16, feed_hex: &str) -> AddBankArgs {
    AddBankArgs {
        token_index,
        feed_id: crate::pyth::feed_id(feed_hex),
        risk: BankRiskArgs {
            init_asset_weight_bps: 8_000,
            liq_end_asset_weight_bps: 8_500,
            maint_asset_weight_bps: 9_000,
            maint_liab_weight_bps: 11_000,
            liq_end_liab_weight_bps: 11_500,
            init_liab_weight_bps: 12_000,
            deposit_cap: u64::MAX,
            borrow_limit: u64::MAX,
            deposit_weight_scale_start: 0,
            borrow_weight_scale_start: 0,
        },
        oracle: BankOracleArgs {
            max_oracle_age_secs: 60,
            max_conf_ratio_bps: 200,
            conf_multiplier_centi: 100,
            stable_price_growth_bps_per_hour: 2_000,
        },
        interest: BankInterestArgs {
            zero_util_rate_bps: 0,
            optimal_util_bps: 8_000,
            optimal_rate_bps: 1_000,
            max_rate_bps: 10_000,
            protocol_fee_bps: 1_000,
            liquidation_fee_bps: 500,
        },
    }
}

/// `add_bank` for `mint` with its oracle account at `oracle`.
pub fn add_bank_ix(
    env: &Env,
    group: &Address,
    admin: &Address,
    mint: &Address,
    oracle: &Address,
    args: AddBankArgs,
) -> Instruction {
    xmargin_client::instructions::add_bank(group, admin, &env.payer.pubkey(), mint, oracle, args)
}

/// Creates the mint and a fresh oracle account, then lists the bank with `args`.
pub fn setup_bank(
    env: &mut Env,
    group: &GroupFixture,
    admin: &Keypair,
    spec: BankSpec,
    args: AddBankArgs,
) -> BankFixture {
    let mint = env.create_mint(spec.decimals);
    setup_bank_for_mint(env, group, admin, spec, args, mint)
}

/// Lists a bank for an existing `mint` (e.g. the group's quote mint) with a fresh oracle account.
pub fn setup_bank_for_mint(
    env: &mut Env,
    group: &GroupFixture,
    admin: &Keypair,
    spec: BankSpec,
    args: AddBankArgs,
    mint: Address,
) -> BankFixture {
    let oracle = Address::new_unique();
    let now = env.unix_time();
    env.set_pyth_price(&oracle, &PythPrice::new(spec.feed_hex, spec.price, spec.conf, spec.exponent, now));
    let ix = add_bank_ix(env, &group.group, &admin.pubkey(), &mint, &oracle, args);
    env.send_ok(&[ix], &[admin]);
    let (bank, _) = xmargin::pda::bank_address(&group.group, args.token_index);
    let (vault, _) = xmargin::pda::bank_vault_address(&bank);
    BankFixture { bank, vault, mint, oracle, token_index: args.token_index }
}

/// `create_account` for `owner` (the payer pays rent).
pub fn create_account_ix(env: &Env, group: &Address, owner: &Address, account_num: u32) -> Instruction {
    xmargin_client::instructions::create_account(group, owner, &env.payer.pubkey(), account_num)
}

/// Opens margin account `account_num` of `owner`; returns its address.
pub fn setup_account(env: &mut Env, group: &Address, owner: &Keypair, account_num: u32) -> Address {
    let ix = create_account_ix(env, group, &owner.pubkey(), account_num);
    env.send_ok(&[ix], &[owner]);
    xmargin::pda::margin_account_address(group, &owner.pubkey(), account_num).0
}

pub fn close_account_ix(account: &Address, owner: &Address, rent_receiver: &Address) -> Instruction {
    xmargin_client::instructions::close_account(account, owner, rent_receiver)
}

pub fn set_delegate_ix(account: &Address, owner: &Address, delegate: &Address) -> Instruction {
    xmargin_client::instructions::set_delegate(account, owner, delegate)
}
