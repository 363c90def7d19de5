//! create_group: the account it writes, and every way it refuses bad input.
use anchor_lang::error::ErrorCode as AnchorErrorCode;
use xmargin::errors::XmarginError;
use xmargin::state::{Group, MAX_LOOSEN_DELAY_SECS};
use xmargin_test_support::fixtures::{create_group_ix, default_group_args, setup_group};
use xmargin_test_support::{Address, Env, Signer};

const TOKEN_PROGRAM: &str = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";

#[test]
fn create_group_writes_group_and_insurance_vault() {
    let mut env = Env::new();
    let creator = env.new_wallet(1);
    let admin = env.new_wallet(2);
    let quote_mint = env.create_mint(6);
    let mut args = default_group_args(&admin.pubkey());
    args.group_num = 7;
    args.loosen_delay_secs = 86_400;
    let out = env.send_ok(&[create_group_ix(&env, &creator.pubkey(), &quote_mint, args)], &[&creator]);
    println!("create_group CU = {}", out.compute_units);

    let (group_key, group_bump) = xmargin::pda::group_address(&creator.pubkey(), 7);
    let (vault_key, vault_bump) = xmargin::pda::insurance_vault_address(&group_key);
    let group: Group = env.zero_copy(&group_key);
    assert_eq!(group.admin, admin.pubkey());
    assert_eq!(group.creator, creator.pubkey());
    assert_eq!(group.quote_mint, quote_mint);
    assert_eq!(group.insurance_vault, vault_key);
    assert_eq!(group.group_num, 7);
    assert_eq!(group.loosen_delay_secs, 86_400);
    assert_eq!((group.bump, group.insurance_vault_bump), (group_bump, vault_bump));
    assert_eq!(group.quote_decimals, 6);
    assert_eq!((group.pause_flags, group.bank_count, group.market_count), (0, 0, 0));
    assert!(group.reserved.iter().all(|b| *b == 0));

    // The insurance vault is a quote-mint token account whose authority is the group PDA.
    let vault_addr = vault_key;
    let vault = env.account(&vault_addr).expect("vault created");
    assert_eq!(vault.owner, TOKEN_PROGRAM.parse::<Address>().unwrap());
    assert_eq!(&vault.data[0..32], quote_mint.as_ref());
    assert_eq!(&vault.data[32..64], group_key.as_ref());
    assert_eq!(env.token_balance(&vault_addr), 0);
    assert!(out.logs.iter().any(|l| l.starts_with("Program data: ")), "GroupCreated event emitted");
}

#[test]
fn creator_must_sign() {
    let mut env = Env::new();
    let creator = env.new_wallet(1);
    let quote_mint = env.create_mint(6);
    let args = default_group_args(&creator.pubkey());
    let mut ix = create_group_ix(&env, &creator.pubkey(), &quote_mint, args);
    ix.accounts[1].is_signer = false; // creator listed but not signing
    let group = ix.accounts[2].pubkey;
    env.send_err(&[ix], &[], AnchorErrorCode::AccountNotSigner, &[group]);
    assert!(env.account(&group).is_none(), "no group was created");
}

#[test]
fn quote_mint_must_be_an_spl_token_mint() {
    let mut env = Env::new();
    let creator = env.new_wallet(1);
    let args = default_group_args(&creator.pubkey());

    // A system-owned account is not a mint of the token program.
    let not_a_mint = env.new_wallet(3).pubkey();
    let ix = create_group_ix(&env, &creator.pubkey(), &not_a_mint, args);
    let group = ix.accounts[2].pubkey;
    env.send_err(&[ix], &[&creator], XmarginError::UnsupportedTokenProgram, &[group]);

    // A token account is owned by the token program but is not a mint.
    let mint = env.create_mint(6);
    let token_account = env.create_token_account(&mint, &creator.pubkey());
    let ix = create_group_ix(&env, &creator.pubkey(), &token_account, args);
    env.send_err(&[ix], &[&creator], XmarginError::InvalidMint, &[group, token_account]);
}

#[test]
fn loosen_delay_is_bounded() {
    let mut env = Env::new();
    let creator = env.new_wallet(1);
    let quote_mint = env.create_mint(6);
    let mut args = default_group_args(&creator.pubkey());
    args.loosen_delay_secs = MAX_LOOSEN_DELAY_SECS + 1;
    let ix = create_group_ix(&env, &creator.pubkey(), &quote_mint, args);
    let group = ix.accounts[2].pubkey;
    let failure = env.send_err(&[ix], &[&creator], XmarginError::LoosenDelayTooLong, &[group]);
    let logs = failure.logs.join("\n");
    assert!(
        logs.contains(&format!("Left: {}", MAX_LOOSEN_DELAY_SECS + 1))
            && logs.contains(&format!("Right: {MAX_LOOSEN_DELAY_SECS}")),
        "{logs}"
    );

    args.loosen_delay_secs = MAX_LOOSEN_DELAY_SECS; // the bound itself is allowed
    env.send_ok(&[create_group_ix(&env, &creator.pubkey(), &quote_mint, args)], &[&creator]);
}

#[test]
fn insurance_vault_must_be_the_group_pda() {
    let mut env = Env::new();
    let creator = env.new_wallet(1);
    let quote_mint = env.create_mint(6);
    let args = default_group_args(&creator.pubkey());
    let mut ix = create_group_ix(&env, &creator.pubkey(), &quote_mint, args);
    let impostor = env.new_wallet(4).pubkey();
    ix.accounts[4].pubkey = impostor;
    let group = ix.accounts[2].pubkey;
    env.send_err(&[ix], &[&creator], AnchorErrorCode::ConstraintSeeds, &[group, impostor]);
}

#[test]
fn token_program_is_address_checked() {
    let mut env = Env::new();
    let creator = env.new_wallet(1);
    let quote_mint = env.create_mint(6);
    let mut ix = create_group_ix(&env, &creator.pubkey(), &quote_mint, default_group_args(&creator.pubkey()));
    ix.accounts[5].pubkey = env.program_id; // some other executable
    let group = ix.accounts[2].pubkey;
    env.send_err(&[ix], &[&creator], AnchorErrorCode::ConstraintAddress, &[group]);
}

#[test]
fn same_group_twice_fails_and_other_group_num_works() {
    let mut env = Env::new();
    let admin = env.new_wallet(1);
    let fixture = setup_group(&mut env, &admin);
    let ix = create_group_ix(&env, &admin.pubkey(), &fixture.quote_mint, default_group_args(&admin.pubkey()));
    let out = env.send(&[ix], &[&admin]);
    assert!(out.result.is_err(), "re-creating an existing group must fail");
    assert!(out.logs.iter().any(|l| l.contains("already in use")), "{:?}", out.logs);

    let mut args = default_group_args(&admin.pubkey());
    args.group_num = 1;
    env.send_ok(&[create_group_ix(&env, &admin.pubkey(), &fixture.quote_mint, args)], &[&admin]);
}

#[test]
fn prefunded_insurance_vault_address_does_not_block_creation() {
    let mut env = Env::new();
    let creator = env.new_wallet(1);
    let quote_mint = env.create_mint(6);
    let args = default_group_args(&creator.pubkey());
    let ix = create_group_ix(&env, &creator.pubkey(), &quote_mint, args);
    let vault = ix.accounts[4].pubkey;
    // An attacker sends lamports to the vault PDA before the group exists.
    env.set_account_data(&vault, &"11111111111111111111111111111111".parse().unwrap(), vec![]);
    env.send_ok(&[ix], &[&creator]);
    assert_eq!(env.token_balance(&vault), 0);
}
