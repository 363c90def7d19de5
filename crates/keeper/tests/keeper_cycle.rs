//! One keeper cycle over 1,000 accounts on the embedded SVM liquidates exactly
//! the unhealthy ones; the next cycle finds nothing to do.
use std::time::Instant;

use xmargin::state::MarginAccount;
use xmargin_keeper::svm::SvmChain;
use xmargin_keeper::{run_cycle, KeeperConfig};
use xmargin_risk::Rounding;
use xmargin_test_support::margin::{health_view, native_balance};
use xmargin_test_support::world::World;
use xmargin_test_support::Signer;

const USDC: u16 = 0;
const SOL: u16 = 1;
const LAMPORTS: u64 = 1_000_000_000;
const MICRO: u64 = 1_000_000;
const ACCOUNTS: usize = 1_000;

#[test]
fn one_cycle_liquidates_exactly_the_unhealthy_accounts() {
    let mut w = World::new();
    let keeper = w.user(1, [10_000_000 * MICRO, 0, 0]);
    w.deposit(&keeper, USDC, 10_000_000 * MICRO).expect_ok();
    let setup = Instant::now();
    let mut users = Vec::new();
    for i in 0..ACCOUNTS {
        let u = w.user_seeded(i as u64 + 1_000, [0, 10 * LAMPORTS, 0]);
        w.deposit(&u, SOL, 10 * LAMPORTS).expect_ok();
        // Every 10th account borrows near its limit (1,150 of 1,199.20 USDC), the rest 500 USDC.
        let borrow = if i % 10 == 0 { 1_150 * MICRO } else { 500 * MICRO };
        w.withdraw(&u, USDC, borrow).expect_ok();
        users.push((u, i % 10 == 0));
    }
    println!("setup of {ACCOUNTS} accounts: {:?}", setup.elapsed());

    // SOL falls to $110: the near-limit accounts are insolvent (1,100 of collateral
    // against 1,150 of debt, Maint −160.9 USDC), the others have Maint +489.10.
    w.set_price(SOL, 11_000_000_000, 10_000_000);
    let config = KeeperConfig {
        compute_unit_limit: 200_000,
        ..KeeperConfig::new(w.group.group, keeper.account, keeper.wallet.pubkey())
    };
    let started = Instant::now();
    let summary = {
        let mut chain = SvmChain { env: &mut w.env, signer: &keeper.wallet };
        run_cycle(&mut chain, &config).expect("cycle")
    };
    println!("keeper cycle over {} accounts: {:?} — {summary:?}", summary.accounts, started.elapsed());
    assert_eq!(summary.accounts, ACCOUNTS + 1);
    assert_eq!(summary.liquidatable, ACCOUNTS / 10);
    assert_eq!(summary.liquidations_sent, ACCOUNTS / 10);
    assert_eq!((summary.failures, summary.bankrupt, summary.skipped_stale), (0, 0, 0));
    w.assert_all_vaults();
    // Insolvent, they pay the full 10 % bonus (5 % + 5 %): at $110 the rate is
    // 1.1 / 0.11 = 10 lamports per µUSDC, all 10 SOL go for 1,000 USDC, leaving
    // 150 USDC of debt and nothing behind it. The healthy accounts are untouched.
    for (u, was_unhealthy) in users.iter().take(50) {
        let acc: MarginAccount = w.env.zero_copy(&u.account);
        if *was_unhealthy {
            assert!(acc.token_position(SOL).is_none(), "all collateral taken");
            let debt = native_balance(&w.env, &w.group.group, &u.account, USDC);
            assert_eq!(debt.to_i64(Rounding::Floor).unwrap(), -150_000_000, "debt left");
        } else {
            let v = health_view(&mut w.env, &w.group.group, &u.account);
            assert!((489_099_990..=489_100_000).contains(&v.maint), "untouched: {v:?}");
        }
    }

    // Second cycle: those accounts are bankrupt; the insurance fund pays their debt.
    let insurance = w.group.insurance_vault;
    w.env.mint_to(&w.group.quote_mint, &insurance, 20_000 * MICRO);
    let second =
        run_cycle(&mut SvmChain { env: &mut w.env, signer: &keeper.wallet }, &config).expect("cycle");
    assert_eq!(
        (second.liquidatable, second.bankrupt, second.bankruptcies_sent),
        (0, ACCOUNTS / 10, ACCOUNTS / 10)
    );
    assert_eq!(second.failures, 0);
    assert_eq!(w.env.token_balance(&insurance), 20_000 * MICRO - (ACCOUNTS as u64 / 10) * 150_000_000);
    for (u, was_unhealthy) in &users {
        if *was_unhealthy {
            assert!(w.env.zero_copy::<MarginAccount>(&u.account).is_empty());
        }
    }
    w.assert_all_vaults();

    // Nothing left to do.
    let third = run_cycle(&mut SvmChain { env: &mut w.env, signer: &keeper.wallet }, &config).expect("cycle");
    assert_eq!((third.liquidatable, third.bankrupt, third.liquidations_sent, third.failures), (0, 0, 0, 0));
}

#[test]
fn dry_run_and_min_profit_send_nothing() {
    let mut w = World::new();
    let keeper = w.user(1, [100_000 * MICRO, 0, 0]);
    w.deposit(&keeper, USDC, 100_000 * MICRO).expect_ok();
    let alice = w.user(2, [0, 10 * LAMPORTS, 0]);
    w.deposit(&alice, SOL, 10 * LAMPORTS).expect_ok();
    w.withdraw(&alice, USDC, 1_150 * MICRO).expect_ok();
    w.set_price(SOL, 12_500_000_000, 10_000_000);
    let mut config = KeeperConfig {
        dry_run: true,
        compute_unit_limit: 200_000,
        priority_fee_micro_lamports: 0,
        ..KeeperConfig::new(w.group.group, keeper.account, keeper.wallet.pubkey())
    };
    let before = w.env.snapshot(&[alice.account, keeper.account]);
    let s = run_cycle(&mut SvmChain { env: &mut w.env, signer: &keeper.wallet }, &config).unwrap();
    assert_eq!((s.liquidatable, s.liquidations_sent), (1, 0));
    assert_eq!(before, w.env.snapshot(&[alice.account, keeper.account]), "dry run changes nothing");

    // The bonus on ~1,124 USDC of collateral is ~112 USDC: a 1,000 USDC minimum skips it.
    config.dry_run = false;
    config.min_profit = 1_000 * MICRO;
    let s = run_cycle(&mut SvmChain { env: &mut w.env, signer: &keeper.wallet }, &config).unwrap();
    assert_eq!((s.liquidatable, s.skipped_unprofitable, s.liquidations_sent), (1, 1, 0));
    config.min_profit = 10 * MICRO;
    let s = run_cycle(&mut SvmChain { env: &mut w.env, signer: &keeper.wallet }, &config).unwrap();
    assert_eq!(s.liquidations_sent, 1);
}
