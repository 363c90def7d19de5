//! create_account, set_delegate, close_account.
use anchor_lang::error::ErrorCode as AnchorErrorCode;
use xmargin::errors::XmarginError;
use xmargin::state::{MarginAccount, MAX_TOKEN_POSITIONS};
use xmargin_test_support::fixtures::{
    close_account_ix, create_account_ix, set_delegate_ix, setup_account, setup_group,
};
use xmargin_test_support::{Address, Env, Signer};

#[test]
fn create_account_writes_owner_group_and_bump() {
    let mut env = Env::new();
    let admin = env.new_wallet(1);
    let group = setup_group(&mut env, &admin).group;
    let alice = env.new_wallet(2);
    let out = env.send_ok(&[create_account_ix(&env, &group, &alice.pubkey(), 3)], &[&alice]);
    println!("create_account CU = {}", out.compute_units);
    let (key, bump) = xmargin::pda::margin_account_address(&group, &alice.pubkey(), 3);
    let acc: MarginAccount = env.zero_copy(&key);
    assert_eq!((acc.group, acc.owner, acc.delegate), (group, alice.pubkey(), Address::default()));
    assert_eq!((acc.account_num, acc.bump, acc.flags), (3, bump, 0));
    assert_eq!(acc.tokens.len(), MAX_TOKEN_POSITIONS);
    assert!(acc.is_empty());
    assert_eq!(env.account(&key).unwrap().data.len(), 8 + MarginAccount::SIZE);

    // Isolation by account number: a second account of the same owner.
    setup_account(&mut env, &group, &alice, 4);
}

#[test]
fn create_account_needs_the_owner_signature_and_a_group() {
    let mut env = Env::new();
    let admin = env.new_wallet(1);
    let group = setup_group(&mut env, &admin).group;
    let alice = env.new_wallet(2);
    let mut ix = create_account_ix(&env, &group, &alice.pubkey(), 0);
    ix.accounts[1].is_signer = false;
    let key = ix.accounts[3].pubkey;
    env.send_err(&[ix], &[], AnchorErrorCode::AccountNotSigner, &[key]);

    // A group that does not exist: the address is a system-owned empty account.
    let ix = create_account_ix(&env, &Address::new_unique(), &alice.pubkey(), 0);
    let key = ix.accounts[3].pubkey;
    env.send_err(&[ix], &[&alice], AnchorErrorCode::AccountOwnedByWrongProgram, &[key]);
}

#[test]
fn set_delegate_by_owner_only() {
    let mut env = Env::new();
    let admin = env.new_wallet(1);
    let group = setup_group(&mut env, &admin).group;
    let alice = env.new_wallet(2);
    let bob = env.new_wallet(3);
    let account = setup_account(&mut env, &group, &alice, 0);

    env.send_ok(&[set_delegate_ix(&account, &alice.pubkey(), &bob.pubkey())], &[&alice]);
    assert_eq!(env.zero_copy::<MarginAccount>(&account).delegate, bob.pubkey());

    // The delegate cannot re-delegate; neither can a stranger.
    env.send_err(
        &[set_delegate_ix(&account, &bob.pubkey(), &bob.pubkey())],
        &[&bob],
        XmarginError::UnauthorizedOwner,
        &[account],
    );
    // The owner as its own delegate is refused.
    env.send_err(
        &[set_delegate_ix(&account, &alice.pubkey(), &alice.pubkey())],
        &[&alice],
        XmarginError::DelegateIsOwner,
        &[account],
    );

    env.send_ok(&[set_delegate_ix(&account, &alice.pubkey(), &Address::default())], &[&alice]);
    assert_eq!(env.zero_copy::<MarginAccount>(&account).delegate, Address::default());
}

#[test]
fn close_empty_account_returns_rent_to_the_receiver() {
    let mut env = Env::new();
    let admin = env.new_wallet(1);
    let group = setup_group(&mut env, &admin).group;
    let alice = env.new_wallet(2);
    let account = setup_account(&mut env, &group, &alice, 0);
    let rent = env.account(&account).unwrap().lamports;
    let receiver = Address::new_unique();

    // Only the owner closes.
    let bob = env.new_wallet(3);
    env.send_err(
        &[close_account_ix(&account, &bob.pubkey(), &receiver)],
        &[&bob],
        XmarginError::UnauthorizedOwner,
        &[account, receiver],
    );

    let out = env.send_ok(&[close_account_ix(&account, &alice.pubkey(), &receiver)], &[&alice]);
    println!("close_account CU = {}", out.compute_units);
    assert!(env.account(&account).is_none_or(|a| a.lamports == 0));
    assert_eq!(env.account(&receiver).unwrap().lamports, rent);
}
