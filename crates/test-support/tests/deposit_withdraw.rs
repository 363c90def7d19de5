//! Deposit, withdraw, borrow and repay across USDC, SOL and BTC, with worked
//! numbers, the vault invariant after every step, and every refusal.
use xmargin::errors::XmarginError;
use xmargin::state::MarginAccount;
use xmargin_risk::Fixed;
use xmargin_test_support::margin::{health_view, native_balance};
use xmargin_test_support::world::World;
use xmargin_test_support::Signer;

const USDC: u16 = 0;
const SOL: u16 = 1;
const BTC: u16 = 2;
const LAMPORTS: u64 = 1_000_000_000;
const MICRO: u64 = 1_000_000;

fn fx(s: &str) -> Fixed {
    s.parse().unwrap()
}

#[test]
fn deposit_moves_tokens_and_mints_shares() {
    let mut w = World::new();
    let alice = w.user(10, [0, 20 * LAMPORTS, 0]);
    let out = w.deposit(&alice, SOL, 10 * LAMPORTS);
    println!("deposit CU = {}", out.expect_ok());
    assert_eq!(w.env.token_balance(&alice.tokens[1]), 10 * LAMPORTS);
    assert_eq!(w.env.token_balance(&w.banks[1].vault), 10 * LAMPORTS);
    // Index 1: shares = native.
    assert_eq!(native_balance(&w.env, &w.group.group, &alice.account, SOL), Fixed::from_u64(10 * LAMPORTS));
    let acc: MarginAccount = w.env.zero_copy(&alice.account);
    assert_eq!(acc.tokens[0].token_index, SOL);
    assert_eq!(acc.tokens[0].in_use, 1);
    w.assert_vaults(&[&alice]);
}

/// The worked example. Alice deposits 10 SOL at $150 ± $0.10 (k = 1):
/// asset price 149.90, Init weight 0.8 → Init health 10 · 149.90 · 0.8 = 1199.20 USDC;
/// Maint (weight 0.9) 1349.10; LiquidationEnd (0.85) 1274.15. USDC liabilities weigh 1,
/// so she can borrow up to 1199.20 USDC.
#[test]
fn borrow_against_sol_up_to_init_health() {
    let mut w = World::new();
    let alice = w.user(10, [0, 10 * LAMPORTS, 0]);
    let bob = w.user(11, [10_000 * MICRO, 0, 0]);
    w.deposit(&alice, SOL, 10 * LAMPORTS).expect_ok();
    w.deposit(&bob, USDC, 10_000 * MICRO).expect_ok();

    let view = health_view(&mut w.env, &w.group.group, &alice.account);
    // 0.8, 0.85, 0.9 and 0.1499 µUSDC/lamport are stored rounded down: a few µUSDC below exact.
    assert!((1_199_199_990..=1_199_200_000).contains(&view.init), "{view:?}");
    assert!((1_349_099_990..=1_349_100_000).contains(&view.maint), "{view:?}");
    assert!((1_274_149_990..=1_274_150_000).contains(&view.liquidation_end), "{view:?}");
    assert_eq!(view.band, 0);

    // 1199.21 USDC is over the limit: refused, nothing moves.
    let watched = [alice.account, alice.tokens[0], w.banks[0].vault, w.banks[0].bank];
    let before = w.env.snapshot(&watched);
    let out = w.withdraw(&alice, USDC, 1_199_210_000);
    out.expect_error(XmarginError::HealthTooLow);
    assert_eq!(before, w.env.snapshot(&watched));

    // 1199.19 USDC fits.
    let out = w.withdraw(&alice, USDC, 1_199_190_000);
    println!("withdraw (borrow) CU = {}", out.expect_ok());
    assert_eq!(w.env.token_balance(&alice.tokens[0]), 1_199_190_000);
    assert_eq!(native_balance(&w.env, &w.group.group, &alice.account, USDC), Fixed::from_i64(-1_199_190_000));
    let view = health_view(&mut w.env, &w.group.group, &alice.account);
    assert!((0..=10_000).contains(&view.init), "{view:?}");
    w.assert_vaults(&[&alice, &bob]);

    // Repay half, then more than the rest: only the debt is taken.
    w.repay(&alice, USDC, 600 * MICRO).expect_ok();
    assert_eq!(native_balance(&w.env, &w.group.group, &alice.account, USDC), Fixed::from_i64(-599_190_000));
    w.env.mint_to(&w.banks[0].mint, &alice.tokens[0], 1_000 * MICRO);
    let held = w.env.token_balance(&alice.tokens[0]);
    w.repay(&alice, USDC, 1_000 * MICRO).expect_ok();
    assert_eq!(w.env.token_balance(&alice.tokens[0]), held - 599_190_000);
    let acc: MarginAccount = w.env.zero_copy(&alice.account);
    assert!(acc.token_position(USDC).is_none(), "the repaid position is freed");
    w.repay(&alice, USDC, 1).expect_error(XmarginError::NoDebtToRepay);
    w.assert_vaults(&[&alice, &bob]);

    // No liabilities left: she withdraws all her SOL.
    w.withdraw(&alice, SOL, 10 * LAMPORTS).expect_ok();
    assert!(w.env.zero_copy::<MarginAccount>(&alice.account).is_empty());
    w.assert_vaults(&[&alice, &bob]);
}

/// Cross-asset: SOL and BTC collateral secure a USDC and a SOL borrow together.
#[test]
fn multi_token_collateral_and_debts() {
    let mut w = World::new();
    let alice = w.user(10, [0, 10 * LAMPORTS, 10_000_000]);
    let lender = w.user(11, [100_000 * MICRO, 100 * LAMPORTS, 0]);
    w.deposit(&lender, USDC, 100_000 * MICRO).expect_ok();
    w.deposit(&lender, SOL, 100 * LAMPORTS).expect_ok();
    w.deposit(&alice, SOL, 10 * LAMPORTS).expect_ok();
    w.deposit(&alice, BTC, 10_000_000).expect_ok(); // 0.1 BTC

    // Init assets: SOL 10 · 149.90 · 0.8 = 1199.20; BTC 0.1 · 99,950 · 0.8 = 7996.00 → 9195.20.
    // Borrow 2 SOL: liability price 150.10, weight 1.2 → 2 · 150.10 · 1.2 = 360.24 (net of her
    // deposit: her SOL stays a deposit of 8 SOL → assets 8 · 149.90 · 0.8 = 959.20).
    // Borrowing SOL she holds just reduces her deposit: withdraw 12 SOL = 10 from deposit + 2 borrowed.
    w.withdraw(&alice, SOL, 12 * LAMPORTS).expect_ok();
    assert_eq!(
        native_balance(&w.env, &w.group.group, &alice.account, SOL),
        Fixed::from_i64(-2 * LAMPORTS as i64)
    );
    // Init = BTC 7996.00 − SOL debt 2 · 150.10 · 1.2 (= 360.24) = 7635.76 USDC.
    let view = health_view(&mut w.env, &w.group.group, &alice.account);
    assert!((7_635_759_000..=7_635_760_000).contains(&view.init), "{view:?}");
    // Then USDC up to what is left.
    w.withdraw(&alice, USDC, 7_635_000_000).expect_ok();
    w.withdraw(&alice, USDC, 1_000_000).expect_error(XmarginError::HealthTooLow);
    w.assert_vaults(&[&alice, &lender]);
}

#[test]
fn delegate_deposits_and_withdraws_only_to_the_owner() {
    let mut w = World::new();
    let alice = w.user(10, [0, 10 * LAMPORTS, 0]);
    let dele = w.env.new_wallet(20);
    let ix = xmargin_test_support::fixtures::set_delegate_ix(
        &alice.account,
        &alice.wallet.pubkey(),
        &dele.pubkey(),
    );
    w.env.send_ok(&[ix], &[&alice.wallet]);
    w.deposit(&alice, SOL, 10 * LAMPORTS).expect_ok();

    // The delegate withdrawing to its own token account: refused.
    let dele_sol = w.env.create_token_account(&w.banks[1].mint, &dele.pubkey());
    let ix = xmargin_test_support::margin::withdraw_ix(
        &w.env,
        &w.group.group,
        &alice.account,
        SOL,
        &dele_sol,
        &dele.pubkey(),
        LAMPORTS,
    );
    let watched = [alice.account, dele_sol, w.banks[1].vault];
    w.env.send_err(&[ix], &[&dele], XmarginError::DelegateWithdrawToOther, &watched);

    // To the owner's token account: allowed.
    let ix = xmargin_test_support::margin::withdraw_ix(
        &w.env,
        &w.group.group,
        &alice.account,
        SOL,
        &alice.tokens[1],
        &dele.pubkey(),
        LAMPORTS,
    );
    w.env.send_ok(&[ix], &[&dele]);
    assert_eq!(w.env.token_balance(&alice.tokens[1]), LAMPORTS);

    // A stranger can neither deposit nor withdraw.
    let eve = w.env.new_wallet(30);
    let eve_sol = w.env.funded_token_account(&w.banks[1].mint, &eve.pubkey(), LAMPORTS);
    let ix = xmargin_test_support::margin::deposit_ix(
        &w.env,
        &w.group.group,
        &alice.account,
        SOL,
        &eve_sol,
        &eve.pubkey(),
        LAMPORTS,
        false,
    );
    w.env.send_err(&[ix], &[&eve], XmarginError::UnauthorizedOwner, &[alice.account, eve_sol]);
    let ix = xmargin_test_support::margin::withdraw_ix(
        &w.env,
        &w.group.group,
        &alice.account,
        SOL,
        &eve_sol,
        &eve.pubkey(),
        LAMPORTS,
    );
    w.env.send_err(&[ix], &[&eve], XmarginError::UnauthorizedOwner, &[alice.account, eve_sol]);
    w.assert_vaults(&[&alice]);
}

#[test]
fn interest_accrues_over_a_warped_year() {
    let mut w = World::new();
    let alice = w.user(10, [0, 10 * LAMPORTS, 0]);
    let bob = w.user(11, [1_000 * MICRO, 0, 0]);
    w.deposit(&bob, USDC, 1_000 * MICRO).expect_ok();
    w.deposit(&alice, SOL, 10 * LAMPORTS).expect_ok();
    w.withdraw(&alice, USDC, 800 * MICRO).expect_ok(); // utilization 80 % = the kink: 10 %/yr

    w.env.warp(31_536_000);
    w.refresh_prices();
    let ix = xmargin_test_support::margin::accrue_interest_ix(&w.env, &w.group.group, USDC);
    let out = w.env.send_ok(&[ix], &[]);
    println!("accrue_interest CU = {}", out.compute_units);
    // One year at 10 % (simple accrual per call): debt 800 → 880 USDC (rounded up).
    let debt = native_balance(&w.env, &w.group.group, &alice.account, USDC);
    assert!(debt <= fx("-880000000") && debt >= fx("-880000001"), "debt {debt}");
    // Depositors get the interest minus the 10 % protocol fee: 1000 + 72 = 1072 USDC. (The
    // 10 % rate is 0.1 rounded up in binary, so borrowers owe a hair more and depositors
    // receive a hair more than 72: within a micro-unit either way.)
    let deposit = native_balance(&w.env, &w.group.group, &bob.account, USDC);
    assert!(deposit <= fx("1072000001") && deposit >= fx("1071999999"), "deposit {deposit}");
    // What depositors gained never exceeds what borrowers owe on top of principal.
    let gained = deposit.checked_sub(fx("1000000000")).unwrap();
    let charged = debt.checked_neg().unwrap().checked_sub(fx("800000000")).unwrap();
    assert!(gained <= charged, "depositors gained {gained} > borrowers charged {charged}");
    w.assert_vaults(&[&alice, &bob]);
}
