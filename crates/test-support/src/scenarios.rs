//! Scenarios shared by the tests and the CU benchmark.
use solana_signer::Signer;
use xmargin_risk::Rounding;

use crate::margin::{liquidate_token_ix, native_balance};
use crate::world::{User, World};

const LAMPORTS: u64 = 1_000_000_000;
const MICRO: u64 = 1_000_000;

/// An account bankrupt in SOL (a token other than the quote token).
pub struct SolDebtBankruptcy {
    pub w: World,
    /// Bankrupt: no assets, ≈ 2.98 SOL of debt.
    pub alice: User,
    /// The only SOL depositor (100 SOL).
    pub lender: User,
    /// 5,000 USDC deposited: a liquidator for the insurance fund.
    pub carol: User,
    /// Alice's SOL debt, native, rounded up.
    pub owed: u64,
}

/// Alice borrows 5 SOL ($750) on 1,000 USDC; SOL triples to $450; Bob takes all
/// her USDC for SOL debt at the 10 % bonus (1,000 / (1.1 · 450) ≈ 2.0202 SOL),
/// leaving ≈ 2.98 SOL of debt with nothing behind it.
pub fn sol_debt_bankruptcy() -> SolDebtBankruptcy {
    let mut w = World::new();
    let lender = w.user(20, [0, 100 * LAMPORTS, 0]);
    w.deposit(&lender, 1, 100 * LAMPORTS).expect_ok();
    let alice = w.user(21, [1_000 * MICRO, 0, 0]);
    w.deposit(&alice, 0, 1_000 * MICRO).expect_ok();
    w.withdraw(&alice, 1, 5 * LAMPORTS).expect_ok();
    let bob = w.user(22, [20_000 * MICRO, 0, 0]);
    w.deposit(&bob, 0, 20_000 * MICRO).expect_ok();
    let carol = w.user(23, [5_000 * MICRO, 0, 0]);
    w.deposit(&carol, 0, 5_000 * MICRO).expect_ok();
    w.set_price(1, 45_000_000_000, 10_000_000);
    let g = w.group.group;
    let ix =
        liquidate_token_ix(&w.env, &g, &alice.account, &bob.account, &bob.wallet.pubkey(), 0, 1, u64::MAX);
    w.env.send_ok(&[ix], &[&bob.wallet]);
    let owed = native_balance(&w.env, &g, &alice.account, 1).checked_neg().expect("a debt");
    let owed = owed.to_u64(Rounding::Ceil).expect("fits");
    SolDebtBankruptcy { w, alice, lender, carol, owed }
}
