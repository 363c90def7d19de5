//! Every bad input of the collateral instructions: the exact error, and no
//! account or balance changed.
use anchor_lang::error::ErrorCode as AnchorErrorCode;
use xmargin::errors::XmarginError;
use xmargin::instructions::UpdateBankArgs;
use xmargin::state::{pause, Bank};
use xmargin_test_support::fixtures::{close_account_ix, default_bank_args};
use xmargin_test_support::margin::{deposit_ix, set_pause_ix, update_bank_ix, withdraw_ix};
use xmargin_test_support::pyth::{feeds, PythPrice};
use xmargin_test_support::world::{User, World};
use xmargin_test_support::{Address, Signer};

const USDC: u16 = 0;
const SOL: u16 = 1;
const LAMPORTS: u64 = 1_000_000_000;
const MICRO: u64 = 1_000_000;

/// Alice: 10 SOL deposited. Bob: 10,000 USDC deposited (liquidity to borrow).
fn funded() -> (World, User, User) {
    let mut w = World::new();
    let alice = w.user(10, [0, 20 * LAMPORTS, 0]);
    let bob = w.user(11, [10_000 * MICRO, 0, 0]);
    w.deposit(&alice, SOL, 10 * LAMPORTS).expect_ok();
    w.deposit(&bob, USDC, 10_000 * MICRO).expect_ok();
    (w, alice, bob)
}

fn watched(w: &World, u: &User) -> Vec<Address> {
    let mut v = vec![u.account, u.tokens[0], u.tokens[1]];
    for b in &w.banks {
        v.push(b.bank);
        v.push(b.vault);
    }
    v
}

#[test]
fn zero_and_unpayable_amounts() {
    let (mut w, alice, _) = funded();
    let keys = watched(&w, &alice);
    let ix = deposit_ix(
        &w.env,
        &w.group.group,
        &alice.account,
        SOL,
        &alice.tokens[1],
        &alice.wallet.pubkey(),
        0,
        false,
    );
    w.env.send_err(&[ix], &[&alice.wallet], XmarginError::ZeroAmount, &keys);
    let ix =
        withdraw_ix(&w.env, &w.group.group, &alice.account, SOL, &alice.tokens[1], &alice.wallet.pubkey(), 0);
    w.env.send_err(&[ix], &[&alice.wallet], XmarginError::ZeroAmount, &keys);
    // More than any vault holds.
    let ix = withdraw_ix(
        &w.env,
        &w.group.group,
        &alice.account,
        USDC,
        &alice.tokens[0],
        &alice.wallet.pubkey(),
        u64::MAX,
    );
    w.env.send_err(&[ix], &[&alice.wallet], XmarginError::InsufficientVaultLiquidity, &keys);
    // Past any cap: the bank's total would overflow the (absent, u64::MAX) cap.
    let ix = deposit_ix(
        &w.env,
        &w.group.group,
        &alice.account,
        SOL,
        &alice.tokens[1],
        &alice.wallet.pubkey(),
        u64::MAX,
        false,
    );
    w.env.send_err(&[ix], &[&alice.wallet], XmarginError::DepositCapExceeded, &keys);
    // More than the wallet holds: the token program refuses (SPL Token InsufficientFunds = 1).
    let ix = deposit_ix(
        &w.env,
        &w.group.group,
        &alice.account,
        SOL,
        &alice.tokens[1],
        &alice.wallet.pubkey(),
        1_000 * LAMPORTS,
        false,
    );
    w.env.send_err(&[ix], &[&alice.wallet], 1u32, &keys);
}

#[test]
fn wrong_vault_mint_and_token_account_owner() {
    let (mut w, alice, bob) = funded();
    let keys = watched(&w, &alice);
    // The SOL bank with the USDC vault.
    let mut ix = deposit_ix(
        &w.env,
        &w.group.group,
        &alice.account,
        SOL,
        &alice.tokens[1],
        &alice.wallet.pubkey(),
        1,
        false,
    );
    ix.accounts[3].pubkey = w.banks[0].vault;
    w.env.send_err(&[ix], &[&alice.wallet], XmarginError::WrongVault, &keys);
    // A USDC token account into the SOL bank.
    let ix = deposit_ix(
        &w.env,
        &w.group.group,
        &alice.account,
        SOL,
        &alice.tokens[0],
        &alice.wallet.pubkey(),
        1,
        false,
    );
    w.env.send_err(&[ix], &[&alice.wallet], XmarginError::WrongMint, &keys);
    let ix =
        withdraw_ix(&w.env, &w.group.group, &alice.account, SOL, &alice.tokens[0], &alice.wallet.pubkey(), 1);
    w.env.send_err(&[ix], &[&alice.wallet], XmarginError::WrongMint, &keys);
    // Bob's SOL token account, signed by Alice.
    let bob_sol = w.env.funded_token_account(&w.banks[1].mint, &bob.wallet.pubkey(), LAMPORTS);
    let ix =
        deposit_ix(&w.env, &w.group.group, &alice.account, SOL, &bob_sol, &alice.wallet.pubkey(), 1, false);
    let mut keys_bob = keys.clone();
    keys_bob.push(bob_sol);
    w.env.send_err(&[ix], &[&alice.wallet], XmarginError::TokenAccountOwnerMismatch, &keys_bob);
    // Another group of the same admin (group_num 1): the account and bank belong to group 0.
    let admin = w.admin.insecure_clone();
    let mut args = xmargin_test_support::fixtures::default_group_args(&admin.pubkey());
    args.group_num = 1;
    let quote = w.group.quote_mint;
    let ix = xmargin_test_support::fixtures::create_group_ix(&w.env, &admin.pubkey(), &quote, args);
    let other_group = ix.accounts[2].pubkey;
    w.env.send_ok(&[ix], &[&admin]);
    let mut ix = deposit_ix(
        &w.env,
        &w.group.group,
        &alice.account,
        SOL,
        &alice.tokens[1],
        &alice.wallet.pubkey(),
        1,
        false,
    );
    ix.accounts[0].pubkey = other_group;
    w.env.send_err(&[ix], &[&alice.wallet], XmarginError::WrongGroup, &keys);
}

#[test]
fn oracle_problems_in_health_accounts() {
    let (mut w, alice, _) = funded();
    let keys = watched(&w, &alice);
    let borrow = |w: &World| {
        withdraw_ix(
            &w.env,
            &w.group.group,
            &alice.account,
            USDC,
            &alice.tokens[0],
            &alice.wallet.pubkey(),
            MICRO,
        )
    };
    // Health accounts: [SOL bank, USDC bank, SOL oracle, USDC oracle].
    // A substituted oracle account.
    let mut ix = borrow(&w);
    let n = ix.accounts.len();
    let fake = Address::new_unique();
    let now = w.env.unix_time();
    w.env.set_pyth_price(&fake, &PythPrice::new(feeds::SOL_USD, 1_000_000_000_000, 0, -8, now));
    ix.accounts[n - 2].pubkey = fake;
    w.env.send_err(&[ix], &[&alice.wallet], XmarginError::WrongOracle, &keys);
    // The right account carrying another feed.
    w.env.set_pyth_price(&w.banks[1].oracle, &PythPrice::new(feeds::BTC_USD, 15_000_000_000, 0, -8, now));
    w.env.send_err(&[borrow(&w)], &[&alice.wallet], XmarginError::OracleWrongFeed, &keys);
    // Too uncertain for the borrowed token itself: USDC ± $0.03 (> 2 %).
    w.set_price(SOL, 15_000_000_000, 10_000_000);
    w.set_price(USDC, 100_000_000, 3_000_000);
    w.env.send_err(&[borrow(&w)], &[&alice.wallet], XmarginError::OracleConfidenceTooWide, &keys);
    w.set_price(USDC, 100_000_000, 0);
    // Stale collateral is worth nothing: the borrow fails on health, not on the price.
    w.env.warp(120);
    w.set_price(USDC, 100_000_000, 0);
    let f = w.env.send_err(&[borrow(&w)], &[&alice.wallet], XmarginError::HealthTooLow, &keys);
    assert!(f.logs.iter().any(|l| l.contains("token 1 valued at 0")), "{f}");
    // A stale price of the borrowed token itself blocks the borrow.
    w.set_price(SOL, 15_000_000_000, 10_000_000);
    w.env.warp(120);
    w.set_price(SOL, 15_000_000_000, 10_000_000);
    w.env.send_err(&[borrow(&w)], &[&alice.wallet], XmarginError::OracleStale, &keys);
    // Deposit and repay never need a price; a withdrawal without liabilities neither.
    w.deposit(&alice, SOL, LAMPORTS).expect_ok();
    w.withdraw(&alice, SOL, LAMPORTS).expect_ok();
}

#[test]
fn health_accounts_missing_extra_reordered_or_duplicated() {
    let (mut w, alice, _) = funded();
    let keys = watched(&w, &alice);
    let base = withdraw_ix(
        &w.env,
        &w.group.group,
        &alice.account,
        USDC,
        &alice.tokens[0],
        &alice.wallet.pubkey(),
        MICRO,
    );
    let fixed = base.accounts.len() - 4;
    let mut cases = Vec::new();
    let mut missing = base.clone();
    missing.accounts.pop();
    cases.push((missing, XmarginError::HealthAccountMismatch));
    let mut extra = base.clone();
    extra.accounts.push(extra.accounts[fixed + 3].clone());
    cases.push((extra, XmarginError::HealthAccountMismatch));
    let mut banks_swapped = base.clone();
    banks_swapped.accounts.swap(fixed, fixed + 1);
    cases.push((banks_swapped, XmarginError::HealthAccountMismatch));
    let mut oracles_swapped = base.clone();
    oracles_swapped.accounts.swap(fixed + 2, fixed + 3);
    cases.push((oracles_swapped, XmarginError::WrongOracle));
    let mut duplicated = base.clone();
    duplicated.accounts[fixed + 1] = duplicated.accounts[fixed].clone();
    cases.push((duplicated, XmarginError::HealthAccountMismatch));
    for (ix, expected) in cases {
        w.env.send_err(&[ix], &[&alice.wallet], expected, &keys);
    }
    // A bank account passed as an oracle, and vice versa.
    let mut as_oracle = base.clone();
    as_oracle.accounts[fixed + 2] = as_oracle.accounts[fixed].clone();
    w.env.send_err(&[as_oracle], &[&alice.wallet], XmarginError::WrongOracle, &keys);
    let mut as_bank = base;
    as_bank.accounts[fixed] = as_bank.accounts[fixed + 2].clone();
    w.env.send_err(&[as_bank], &[&alice.wallet], AnchorErrorCode::AccountOwnedByWrongProgram, &keys);
}

#[test]
fn caps_and_limits() {
    let (mut w, alice, bob) = funded();
    let admin = w.admin.insecure_clone();
    // Tightening applies at once: SOL deposit cap 10.5 SOL, USDC borrow limit 100 USDC.
    let mut sol = default_bank_args(SOL, feeds::SOL_USD).risk;
    sol.deposit_cap = 10 * LAMPORTS + LAMPORTS / 2;
    let ix = update_bank_ix(
        &w.group.group,
        &admin.pubkey(),
        SOL,
        UpdateBankArgs { risk: Some(sol), ..Default::default() },
    );
    w.env.send_ok(&[ix], &[&admin]);
    let mut usdc = w.env.zero_copy::<Bank>(&w.banks[0].bank).risk;
    usdc.borrow_limit = 100 * MICRO;
    let usdc_args = xmargin::instructions::BankRiskArgs {
        init_asset_weight_bps: 10_000,
        liq_end_asset_weight_bps: 10_000,
        maint_asset_weight_bps: 10_000,
        maint_liab_weight_bps: 10_000,
        liq_end_liab_weight_bps: 10_000,
        init_liab_weight_bps: 10_000,
        deposit_cap: u64::MAX,
        borrow_limit: usdc.borrow_limit,
        deposit_weight_scale_start: 0,
        borrow_weight_scale_start: 0,
    };
    let ix = update_bank_ix(
        &w.group.group,
        &admin.pubkey(),
        USDC,
        UpdateBankArgs { risk: Some(usdc_args), ..Default::default() },
    );
    w.env.send_ok(&[ix], &[&admin]);

    w.deposit(&alice, SOL, LAMPORTS / 2).expect_ok();
    let keys = watched(&w, &alice);
    let ix = deposit_ix(
        &w.env,
        &w.group.group,
        &alice.account,
        SOL,
        &alice.tokens[1],
        &alice.wallet.pubkey(),
        1,
        false,
    );
    w.env.send_err(&[ix], &[&alice.wallet], XmarginError::DepositCapExceeded, &keys);
    w.withdraw(&alice, USDC, 100 * MICRO).expect_ok();
    let keys = watched(&w, &alice);
    let ix = withdraw_ix(
        &w.env,
        &w.group.group,
        &alice.account,
        USDC,
        &alice.tokens[0],
        &alice.wallet.pubkey(),
        1,
    );
    w.env.send_err(&[ix], &[&alice.wallet], XmarginError::BorrowLimitExceeded, &keys);

    // Loosening waits for the group's delay (1 h in the fixture).
    let mut looser = sol;
    looser.deposit_cap = 100 * LAMPORTS;
    let ix = update_bank_ix(
        &w.group.group,
        &admin.pubkey(),
        SOL,
        UpdateBankArgs { risk: Some(looser), ..Default::default() },
    );
    w.env.send_ok(&[ix], &[&admin]);
    w.deposit(&alice, SOL, 1).expect_error(XmarginError::DepositCapExceeded);
    w.env.warp(3_600);
    w.refresh_prices();
    w.deposit(&alice, SOL, LAMPORTS).expect_ok();

    // Only the admin updates.
    let ix = update_bank_ix(&w.group.group, &alice.wallet.pubkey(), SOL, UpdateBankArgs::default());
    w.env.send_err(&[ix], &[&alice.wallet], XmarginError::UnauthorizedAdmin, &[w.banks[1].bank]);
    w.assert_vaults(&[&alice, &bob]);
}

#[test]
fn pause_blocks_deposits_and_withdrawals_but_not_repay() {
    let (mut w, alice, bob) = funded();
    let admin = w.admin.insecure_clone();
    w.withdraw(&alice, USDC, 100 * MICRO).expect_ok();
    let ix = set_pause_ix(&w.group.group, &admin.pubkey(), pause::DEPOSITS | pause::WITHDRAWALS);
    w.env.send_ok(&[ix], &[&admin]);
    let keys = watched(&w, &alice);
    let ix = deposit_ix(
        &w.env,
        &w.group.group,
        &alice.account,
        SOL,
        &alice.tokens[1],
        &alice.wallet.pubkey(),
        1,
        false,
    );
    w.env.send_err(&[ix], &[&alice.wallet], XmarginError::GroupPaused, &keys);
    let ix =
        withdraw_ix(&w.env, &w.group.group, &alice.account, SOL, &alice.tokens[1], &alice.wallet.pubkey(), 1);
    w.env.send_err(&[ix], &[&alice.wallet], XmarginError::GroupPaused, &keys);
    w.repay(&alice, USDC, 50 * MICRO).expect_ok();
    // Unknown flag bits and non-admins are refused.
    let ix = set_pause_ix(&w.group.group, &admin.pubkey(), 0x80);
    w.env.send_err(&[ix], &[&admin], XmarginError::InvalidPauseFlags, &[w.group.group]);
    let ix = set_pause_ix(&w.group.group, &alice.wallet.pubkey(), 0);
    w.env.send_err(&[ix], &[&alice.wallet], XmarginError::UnauthorizedAdmin, &[w.group.group]);
    w.assert_vaults(&[&alice, &bob]);
}

#[test]
fn uninitialized_token_account_is_refused() {
    let (mut w, alice, _) = funded();
    // Owned by the token program, the right size, but never initialized.
    let blank = Address::new_unique();
    let token_program: Address = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA".parse().unwrap();
    w.env.set_account_data(&blank, &token_program, vec![0u8; 165]);
    let keys = watched(&w, &alice);
    let ix = withdraw_ix(&w.env, &w.group.group, &alice.account, SOL, &blank, &alice.wallet.pubkey(), 1);
    w.env.send_err(&[ix], &[&alice.wallet], XmarginError::InvalidTokenAccount, &keys);
}

#[test]
fn closing_a_non_empty_account_is_refused() {
    let (mut w, alice, _) = funded();
    let ix = close_account_ix(&alice.account, &alice.wallet.pubkey(), &alice.wallet.pubkey());
    w.env.send_err(&[ix], &[&alice.wallet], XmarginError::AccountNotEmpty, &[alice.account]);
}
