//! withdraw_fees (issue 10, item 10): the admin takes a bank's collected
//! protocol fees out of its vault, never more than the fees, and every bad
//! input is refused by name with nothing changed.
use xmargin::errors::XmarginError;
use xmargin::state::{pause, Bank};
use xmargin_client::instructions::withdraw_fees;
use xmargin_risk::Fixed;
use xmargin_test_support::margin::approx_f64;
use xmargin_test_support::margin::{accrue_interest_ix, bank_keys, set_pause_ix};
use xmargin_test_support::world::{User, World};
use xmargin_test_support::{Address, Instruction, Signer};

const USDC: u16 = 0;
const SOL: u16 = 1;
const LAMPORTS: u64 = 1_000_000_000;
const MICRO: u64 = 1_000_000;
const YEAR: i64 = 31_536_000;

/// Bob lends 100 SOL, Alice borrows 50 on 20,000 USDC: 50 % use, 6.25 % a year
/// on the default curve (0 → 10 % at 80 %), 10 % of it to the protocol. After a
/// year: interest 50 · 6.25 % = 3.125 SOL, fees 0.3125 SOL.
fn with_fees() -> (World, User) {
    let mut w = World::new();
    let bob = w.user(11, [0, 100 * LAMPORTS, 0]);
    let alice = w.user(10, [20_000 * MICRO, 0, 0]);
    w.deposit(&bob, SOL, 100 * LAMPORTS).expect_ok();
    w.deposit(&alice, USDC, 20_000 * MICRO).expect_ok();
    w.withdraw(&alice, SOL, 50 * LAMPORTS).expect_ok();
    w.env.warp(YEAR);
    w.refresh_prices();
    w.env.send_ok(&[accrue_interest_ix(&w.env, &w.group.group, SOL)], &[]);
    let fees = approx_f64(sol_bank(&w).collected_fees.get());
    assert!((fees - 0.3125e9).abs() < 1e3, "fees {fees}");
    let treasury = w.user(30, [0, 0, 0]);
    (w, treasury)
}

fn sol_bank(w: &World) -> Bank {
    w.env.zero_copy(&w.banks[SOL as usize].bank)
}

fn ix(w: &World, admin: &Address, destination: &Address, amount: u64) -> Instruction {
    withdraw_fees(&w.group.group, admin, &bank_keys(&w.env, &w.group.group, SOL), destination, amount)
}

#[test]
fn the_admin_takes_the_fees() {
    let (mut w, treasury) = with_fees();
    let admin = w.admin.insecure_clone();
    let fees = sol_bank(&w).collected_fees.get();
    let amount = fees.to_u64(xmargin_risk::Rounding::Floor).unwrap();
    let vault_before = w.env.token_balance(&w.banks[1].vault);
    let out = w.env.send_ok(&[ix(&w, &admin.pubkey(), &treasury.tokens[1], amount)], &[&admin]);
    println!("withdraw_fees CU = {}", out.compute_units);
    assert_eq!(w.env.token_balance(&treasury.tokens[1]), amount);
    assert_eq!(w.env.token_balance(&w.banks[1].vault), vault_before - amount);
    let left = sol_bank(&w).collected_fees.get();
    assert!(left < Fixed::ONE && !left.is_negative(), "only the fraction of a lamport stays: {left}");
    w.assert_all_vaults();
    // Nothing more to take.
    let watched = [w.banks[1].bank, w.banks[1].vault, treasury.tokens[1]];
    w.env.send_err(
        &[ix(&w, &admin.pubkey(), &treasury.tokens[1], 1)],
        &[&admin],
        XmarginError::FeesExceeded,
        &watched,
    );
}

#[test]
fn refusals() {
    let (mut w, treasury) = with_fees();
    let admin = w.admin.insecure_clone();
    let watched = [w.banks[1].bank, w.banks[1].vault, treasury.tokens[1], treasury.tokens[0]];
    let fees = sol_bank(&w).collected_fees.get().to_u64(xmargin_risk::Rounding::Floor).unwrap();
    // Not the admin.
    let mallory = w.env.new_wallet(66);
    let not_admin = ix(&w, &mallory.pubkey(), &treasury.tokens[1], 1);
    w.env.send_err(&[not_admin], &[&mallory], XmarginError::UnauthorizedAdmin, &watched);
    // Zero, more than the fees, a USDC account for SOL fees.
    w.env.send_err(
        &[ix(&w, &admin.pubkey(), &treasury.tokens[1], 0)],
        &[&admin],
        XmarginError::ZeroAmount,
        &watched,
    );
    let too_much = ix(&w, &admin.pubkey(), &treasury.tokens[1], fees + 1);
    w.env.send_err(&[too_much], &[&admin], XmarginError::FeesExceeded, &watched);
    let wrong_mint = ix(&w, &admin.pubkey(), &treasury.tokens[0], 1);
    w.env.send_err(&[wrong_mint], &[&admin], XmarginError::WrongMint, &watched);
    // Another bank's vault.
    let mut wrong_vault = ix(&w, &admin.pubkey(), &treasury.tokens[1], 1);
    wrong_vault.accounts[3].pubkey = w.banks[0].vault;
    w.env.send_err(&[wrong_vault], &[&admin], XmarginError::WrongVault, &watched);
    // Paused with withdrawals; unpaused, the same call goes through.
    w.env.send_ok(&[set_pause_ix(&w.group.group, &admin.pubkey(), pause::WITHDRAWALS)], &[&admin]);
    let paused = ix(&w, &admin.pubkey(), &treasury.tokens[1], 1);
    w.env.send_err(&[paused], &[&admin], XmarginError::GroupPaused, &watched);
    w.env.send_ok(&[set_pause_ix(&w.group.group, &admin.pubkey(), 0)], &[&admin]);
    w.env.send_ok(&[ix(&w, &admin.pubkey(), &treasury.tokens[1], 2)], &[&admin]);
}
