//! A bad debt larger than a bank's deposits (issue 10, finding 3). Before the
//! fix `resolve_bankruptcy` set the deposit index to 0: every later deposit
//! divided by zero and the fees counted tokens the vault no longer held.
//! Now the index stops at its floor and the loss beyond the deposits is
//! charged to the collected fees, which always cover it.
use xmargin::instructions::{BankInterestArgs, UpdateBankArgs};
use xmargin::state::Bank;
use xmargin_risk::liquidation::MIN_DEPOSIT_INDEX;
use xmargin_risk::Fixed;
use xmargin_test_support::margin::approx_f64;
use xmargin_test_support::margin::{accrue_interest_ix, native_balance, update_bank_ix};
use xmargin_test_support::world::{User, World};
use xmargin_test_support::Signer;

const USDC: u16 = 0;
const SOL: u16 = 1;
const LAMPORTS: u64 = 1_000_000_000;
const MICRO: u64 = 1_000_000;
/// A tenth of a year: at the 1,000 % cap the borrow index goes 1 → 2.
const TENTH_OF_A_YEAR: i64 = 3_153_600;

fn sol_bank(w: &World) -> Bank {
    w.env.zero_copy(&w.banks[SOL as usize].bank)
}

/// The SOL bank charges 1,000 % at full use and keeps all of it as fees.
/// Lender deposits 100 SOL; Alice borrows all 100 on 30,000 USDC. A tenth of
/// a year later she owes 200 SOL: deposits 100, borrows 200, fees 100, vault
/// 0 (vault + borrows = deposits + fees). SOL goes to $1,000 and Bob takes
/// all her USDC for 30,000 / (1,000 · 1.1) = 27.2727 SOL of debt, leaving
/// 172.7273 SOL owed with nothing behind it.
fn wiped_out() -> (World, User, User) {
    let mut w = World::new();
    let admin = w.admin.insecure_clone();
    let interest = BankInterestArgs {
        zero_util_rate_bps: 0,
        optimal_util_bps: 8_000,
        optimal_rate_bps: 1_000,
        max_rate_bps: 100_000,
        protocol_fee_bps: 10_000,
        liquidation_fee_bps: 500,
    };
    let ix = update_bank_ix(
        &w.group.group,
        &admin.pubkey(),
        SOL,
        UpdateBankArgs { interest: Some(interest), ..Default::default() },
    );
    w.env.send_ok(&[ix], &[&admin]);
    let lender = w.user(20, [0, 101 * LAMPORTS, 0]);
    let alice = w.user(21, [30_000 * MICRO, 0, 0]);
    let bob = w.user(22, [200_000 * MICRO, 0, 0]);
    w.deposit(&lender, SOL, 100 * LAMPORTS).expect_ok();
    w.deposit(&alice, USDC, 30_000 * MICRO).expect_ok();
    w.deposit(&bob, USDC, 200_000 * MICRO).expect_ok();
    w.withdraw(&alice, SOL, 100 * LAMPORTS).expect_ok();
    w.env.warp(TENTH_OF_A_YEAR);
    w.refresh_prices();
    w.env.send_ok(&[accrue_interest_ix(&w.env, &w.group.group, SOL)], &[]);
    let bank = sol_bank(&w);
    assert!((approx_f64(bank.borrow_index.get()) - 2.0).abs() < 1e-6, "{}", bank.borrow_index.get());
    assert!((approx_f64(bank.collected_fees.get()) - 100e9).abs() < 1e3, "{}", bank.collected_fees.get());
    w.set_price(SOL, 100_000_000_000, 10_000_000);
    w.liquidate(&alice, &bob, USDC, SOL, u64::MAX).expect_ok();
    (w, alice, lender)
}

#[test]
fn the_bank_keeps_working_after_its_depositors_are_wiped_out() {
    let (mut w, alice, lender) = wiped_out();
    let owed = native_balance(&w.env, &w.group.group, &alice.account, SOL).checked_neg().unwrap();
    assert!((approx_f64(owed) - 172.727_272_7e9).abs() < 1e3, "{owed}");
    let fees_before = sol_bank(&w).collected_fees.get();

    w.resolve(&alice, SOL).expect_ok();
    let bank = sol_bank(&w);
    // The index stops at its floor 2^-14 instead of 0.
    assert_eq!(bank.deposit_index.get(), MIN_DEPOSIT_INDEX);
    // Depositors absorb 100 SOL less the floor's claim (100e9 shares · 2^-14 =
    // 6,103,516 lamports); the other 172.7273 − 99.9939 = 72.7334 SOL come out
    // of the 100 SOL of fees, leaving ≈ 27.2666 SOL, all backed.
    let charged = fees_before.checked_sub(bank.collected_fees.get()).unwrap();
    assert!((approx_f64(charged) - 72.733_375e9).abs() < 1e4, "charged {charged}");
    assert_eq!(bank.deficit.get(), Fixed::ZERO, "the fees covered it all");
    let lender_claim = native_balance(&w.env, &w.group.group, &lender.account, SOL);
    assert!((approx_f64(lender_claim) - 6_103_515.6).abs() < 2.0, "{lender_claim}");
    w.assert_all_vaults();

    // New deposits work (shares = amount / 2^-14) and come back out whole.
    let carol = w.user(23, [0, LAMPORTS, 0]);
    w.deposit(&carol, SOL, LAMPORTS).expect_ok();
    let carol_claim = native_balance(&w.env, &w.group.group, &carol.account, SOL);
    assert!(carol_claim <= Fixed::from_u64(LAMPORTS) && approx_f64(carol_claim) >= LAMPORTS as f64 - 1.0);
    w.withdraw(&carol, SOL, carol_claim.to_u64(xmargin_risk::Rounding::Floor).unwrap()).expect_ok();
    w.assert_all_vaults();
}
