//! Benchmark rows for the money-safety paths of issue 10: the equity-capped
//! liquidation, a deposit that clears `BEING_LIQUIDATED`, debts projected in
//! banks not accrued, and `withdraw_fees`.
use solana_signer::Signer;
use xmargin_client::instructions::withdraw_fees;

use super::{Row, LIQUIDATE_TOKEN_CU, MAX_INSTRUCTION_CU};
use crate::margin::{accrue_interest_ix, bank_keys};
use crate::world::{User, World};

const LAMPORTS: u64 = 1_000_000_000;
const MICRO: u64 = 1_000_000;

fn row(instruction: &'static str, scenario: &str, compute_units: u64, budget: u64) -> Row {
    Row { instruction, scenario: scenario.into(), compute_units, budget: Some(budget), enforced: true }
}

/// Alice: 10 SOL against `debt` USDC; Bob lends 50,000 USDC.
fn borrower(w: &mut World, debt: u64) -> (User, User) {
    let alice = w.user(10, [0, 10 * LAMPORTS, 100_000]);
    let bob = w.user(11, [50_000 * MICRO, 0, 0]);
    w.deposit(&bob, 0, 50_000 * MICRO).expect_ok();
    w.deposit(&alice, 1, 10 * LAMPORTS).expect_ok();
    w.withdraw(&alice, 0, debt * MICRO).expect_ok();
    (alice, bob)
}

pub fn safety_rows() -> Vec<Row> {
    let mut rows = Vec::new();
    // 10 SOL at $120 against 1,150 USDC: all the SOL for all the debt at a 4.35 % bonus.
    let mut w = World::new();
    let (alice, bob) = borrower(&mut w, 1_150);
    w.set_price(1, 12_000_000_000, 10_000_000);
    let cu = w.liquidate(&alice, &bob, 1, 0, u64::MAX).expect_ok();
    rows.push(row(
        "liquidate_token",
        "a solvent account left debt-free (bonus capped at equity over debts)",
        cu,
        LIQUIDATE_TOKEN_CU,
    ));

    // A partial step, then a repay with the health accounts clears the flag.
    let mut w = World::new();
    let (alice, bob) = borrower(&mut w, 1_150);
    w.set_price(1, 12_500_000_000, 10_000_000);
    w.liquidate(&alice, &bob, 1, 0, 200 * MICRO).expect_ok();
    let cu = w.pay_in_with_health(&alice, 0, 600 * MICRO, true).expect_ok();
    rows.push(row(
        "repay",
        "being liquidated, with health accounts: clears the flag (2 positions)",
        cu,
        MAX_INSTRUCTION_CU,
    ));

    rows.push(row(
        "withdraw",
        "borrow with a BTC debt in a bank accrued an hour ago (3 positions)",
        stale_debt_withdraw_cu(false),
        MAX_INSTRUCTION_CU,
    ));
    rows.push(row(
        "withdraw",
        "the same with the BTC bank accrued (no projection)",
        stale_debt_withdraw_cu(true),
        MAX_INSTRUCTION_CU,
    ));
    rows.push(row(
        "withdraw_fees",
        "a year of SOL protocol fees to the treasury",
        withdraw_fees_cu(),
        MAX_INSTRUCTION_CU,
    ));
    rows
}

/// Alice owes USDC and BTC on SOL; an hour later she borrows more USDC. Her
/// BTC debt is projected unless the BTC bank was accrued first.
fn stale_debt_withdraw_cu(accrue_btc: bool) -> u64 {
    let mut w = World::new();
    let (alice, _bob) = borrower(&mut w, 100);
    let carol = w.user(12, [0, 0, 100_000_000]);
    w.deposit(&carol, 2, 100_000_000).expect_ok();
    w.withdraw(&alice, 2, 10_000).expect_ok();
    w.env.warp(3_600);
    w.refresh_prices();
    if accrue_btc {
        w.env.send_ok(&[accrue_interest_ix(&w.env, &w.group.group, 2)], &[]);
    }
    w.withdraw(&alice, 0, MICRO).expect_ok()
}

fn withdraw_fees_cu() -> u64 {
    let mut w = World::new();
    let lender = w.user(11, [0, 100 * LAMPORTS, 0]);
    let alice = w.user(10, [20_000 * MICRO, 0, 0]);
    w.deposit(&lender, 1, 100 * LAMPORTS).expect_ok();
    w.deposit(&alice, 0, 20_000 * MICRO).expect_ok();
    w.withdraw(&alice, 1, 50 * LAMPORTS).expect_ok();
    w.env.warp(31_536_000);
    w.refresh_prices();
    w.env.send_ok(&[accrue_interest_ix(&w.env, &w.group.group, 1)], &[]);
    let treasury = w.user(30, [0, 0, 0]);
    let admin = w.admin.insecure_clone();
    let keys = bank_keys(&w.env, &w.group.group, 1);
    let ix = withdraw_fees(&w.group.group, &admin.pubkey(), &keys, &treasury.tokens[1], LAMPORTS / 10);
    w.env.send_ok(&[ix], &[&admin]).compute_units
}
