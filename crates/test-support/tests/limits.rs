//! Capacity limits: a group at its maximum number of banks (TooManyBanks) and
//! an account with every token slot in use (TooManyPositions), each an exact
//! error with nothing changed.
use xmargin::errors::XmarginError;
use xmargin::instructions::MAX_BANKS;
use xmargin::state::{Group, MAX_TOKEN_POSITIONS};
use xmargin_test_support::fixtures::{
    add_bank_ix, default_bank_args, setup_account, setup_bank, setup_group, BankSpec,
};
use xmargin_test_support::margin::deposit_ix;
use xmargin_test_support::{Address, Env, PythPrice, Signer};

fn feed(i: u16) -> &'static str {
    Box::leak(format!("{:064x}", 0xabc0_0000u64 + u64::from(i)).into_boxed_str())
}

fn spec(i: u16) -> BankSpec {
    BankSpec { decimals: 6, feed_hex: feed(i), price: 100_000_000, conf: 0, exponent: -8 }
}

#[test]
fn a_group_at_its_bank_limit_refuses_another_bank() {
    let mut env = Env::new();
    let admin = env.new_wallet(1);
    let group = setup_group(&mut env, &admin);
    // Fill the group to MAX_BANKS by writing its counter (listing 1,024 banks is not the point).
    let mut account = env.account(&group.group).unwrap();
    let offset = 8 + std::mem::offset_of!(Group, bank_count);
    account.data[offset..offset + 2].copy_from_slice(&MAX_BANKS.to_le_bytes());
    env.set_account_data(&group.group, &xmargin::ID, account.data);

    let mint = env.create_mint(6);
    let oracle = Address::new_unique();
    let now = env.unix_time();
    env.set_pyth_price(&oracle, &PythPrice::new(feed(0), 100_000_000, 0, -8, now));
    let ix = add_bank_ix(
        &env,
        &group.group,
        &admin.pubkey(),
        &mint,
        &oracle,
        default_bank_args(MAX_BANKS, feed(0)),
    );
    env.send_err(&[ix], &[&admin], XmarginError::TooManyBanks, &[group.group]);
}

#[test]
fn an_account_with_every_slot_used_refuses_a_new_token() {
    let mut env = Env::new();
    let admin = env.new_wallet(1);
    let group = setup_group(&mut env, &admin);
    let n = MAX_TOKEN_POSITIONS as u16 + 1;
    let mints: Vec<Address> = (0..n)
        .map(|i| setup_bank(&mut env, &group, &admin, spec(i), default_bank_args(i, feed(i))).mint)
        .collect();
    let user = env.new_wallet(2);
    let account = setup_account(&mut env, &group.group, &user, 0);
    let wallets: Vec<Address> =
        mints.iter().map(|m| env.funded_token_account(m, &user.pubkey(), 1_000_000)).collect();
    for i in 0..MAX_TOKEN_POSITIONS as u16 {
        let ix =
            deposit_ix(&env, &group.group, &account, i, &wallets[i as usize], &user.pubkey(), 1_000, false);
        env.send_ok(&[ix], &[&user]);
    }
    let last = n - 1;
    let ix =
        deposit_ix(&env, &group.group, &account, last, &wallets[last as usize], &user.pubkey(), 1_000, false);
    let bank = xmargin::pda::bank_address(&group.group, last).0;
    env.send_err(&[ix], &[&user], XmarginError::TooManyPositions, &[account, bank, wallets[last as usize]]);
    // A token already held still takes deposits.
    let ix = deposit_ix(&env, &group.group, &account, 3, &wallets[3], &user.pubkey(), 1_000, false);
    env.send_ok(&[ix], &[&user]);
}
