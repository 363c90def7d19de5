//! What a liquidation pays and which prices it needs (issue 10, findings 5
//! and 6): the bonus never turns a solvent account into bad debt, and a stale
//! or uncertain price elsewhere in the account never blocks liquidating a
//! freshly priced pair.
use xmargin::errors::XmarginError;
use xmargin::state::account_flags::BANKRUPT;
use xmargin::state::MarginAccount;
use xmargin_risk::{Fixed, Rounding};
use xmargin_test_support::margin::{accrue_interest_ix, native_balance};
use xmargin_test_support::world::{User, World};

const USDC: u16 = 0;
const SOL: u16 = 1;
const BTC: u16 = 2;
const LAMPORTS: u64 = 1_000_000_000;
const MICRO: u64 = 1_000_000;
/// World's oracles accept prices up to 60 s old.
const STALE_SECS: i64 = 120;

fn balance(w: &World, user: &User, token: u16) -> Fixed {
    native_balance(&w.env, &w.group.group, &user.account, token)
}

/// Alice: 10 SOL, borrows `debt` USDC at $150; Bob lends 50,000 USDC.
fn borrower(debt_usdc: u64, btc_sats: u64) -> (World, User, User) {
    let mut w = World::new();
    let alice = w.user(10, [0, 10 * LAMPORTS, btc_sats]);
    let bob = w.user(11, [50_000 * MICRO, 0, 0]);
    w.deposit(&bob, USDC, 50_000 * MICRO).expect_ok();
    w.deposit(&alice, SOL, 10 * LAMPORTS).expect_ok();
    if btc_sats > 0 {
        w.deposit(&alice, BTC, btc_sats).expect_ok();
    }
    w.withdraw(&alice, USDC, debt_usdc * MICRO).expect_ok();
    (w, alice, bob)
}

/// Finding 5. 10 SOL at $120 = 1,200 USDC against 1,150 USDC of debt:
/// solvent by 50, but Maint = 10 · 119.90 · 0.9 − 1,150 = −70.9. Before the
/// fix the 10 % bonus bought all the SOL for 1,090.91 USDC and left 59.09 USDC
/// of bad debt. Now the bonus is capped at the 50 USDC of equity: Bob repays
/// all 1,150 USDC for all 10 SOL (a 4.35 % bonus) and Alice owes nothing.
#[test]
fn a_solvent_account_is_left_debt_free() {
    let (mut w, alice, bob) = borrower(1_150, 0);
    w.set_price(SOL, 12_000_000_000, 10_000_000);
    let bob_usdc = balance(&w, &bob, USDC);
    let out = w.liquidate(&alice, &bob, SOL, USDC, u64::MAX);
    println!("liquidate_token (equity-capped bonus) CU = {}", out.expect_ok());
    let acc: MarginAccount = w.env.zero_copy(&alice.account);
    assert!(acc.is_empty(), "no debt and no collateral left: {:?}", acc.tokens[0]);
    assert_eq!(acc.flags, 0, "neither bankrupt nor being liquidated");
    assert_eq!(balance(&w, &bob, SOL), Fixed::from_u64(10 * LAMPORTS));
    let paid = bob_usdc.checked_sub(balance(&w, &bob, USDC)).unwrap();
    assert!(paid >= Fixed::from_u64(1_150 * MICRO) && paid <= Fixed::from_u64(1_150 * MICRO + 2), "{paid}");
    // Bob's bonus: 10 SOL · $120 − 1,150 = 50 USDC, all of Alice's equity.
}

/// An insolvent account still pays the full bonus (it is what gets it
/// liquidated at all): at $100 all 10 SOL buy 1,000 / 1.1 = 909.090909 USDC.
#[test]
fn an_insolvent_account_pays_the_full_bonus() {
    let (mut w, alice, bob) = borrower(1_150, 0);
    w.set_price(SOL, 10_000_000_000, 10_000_000);
    w.liquidate(&alice, &bob, SOL, USDC, u64::MAX).expect_ok();
    let owed = balance(&w, &alice, USDC).checked_neg().unwrap().to_u64(Rounding::Ceil).unwrap();
    assert!((240_909_090..=240_909_092).contains(&owed), "1,150 − 909.090909 = 240.909091 USDC: {owed}");
    assert_eq!(w.flags(&alice) & BANKRUPT, BANKRUPT);
}

/// Finding 6. One satoshi of BTC whose price is 120 s old blocked liquidating
/// the whole account. Now it counts zero and the SOL/USDC pair, fresh, is
/// liquidated; only a pair that needs the stale price is refused.
#[test]
fn a_stale_dust_asset_does_not_block_liquidation() {
    let (mut w, alice, bob) = borrower(1_150, 1);
    w.env.warp(STALE_SECS);
    w.set_price(USDC, 100_000_000, 0);
    w.set_price(SOL, 10_000_000_000, 10_000_000); // $100: Maint = 899.1 − 1,150 < 0; BTC left stale
    let watched = [alice.account, bob.account, w.banks[BTC as usize].bank];
    let before = w.env.snapshot(&watched);
    w.liquidate(&alice, &bob, BTC, USDC, u64::MAX).expect_error(XmarginError::OracleStale);
    assert_eq!(w.env.snapshot(&watched), before, "refused: nothing changed");
    w.liquidate(&alice, &bob, SOL, USDC, u64::MAX).expect_ok();
    assert!(balance(&w, &alice, USDC) > Fixed::from_i64(-1_150 * MICRO as i64));
}

/// A stale liability elsewhere is valued at its conservative fallback (the
/// larger of the last price and the stable price) instead of blocking: the
/// USDC debt is liquidated; the BTC debt's own pair, and a new borrow, are
/// refused while its price is stale.
#[test]
fn a_stale_liability_is_valued_conservatively() {
    let (mut w, alice, bob) = borrower(1_000, 0);
    let carol = w.user(12, [0, 0, 100_000]);
    w.deposit(&carol, BTC, 100_000).expect_ok(); // 0.001 BTC to lend
    w.withdraw(&alice, BTC, 1_000).expect_ok(); // 0.00001 BTC = $1 owed
    w.env.warp(STALE_SECS);
    w.set_price(USDC, 100_000_000, 0);
    w.set_price(SOL, 10_000_000_000, 10_000_000);
    w.liquidate(&alice, &bob, SOL, BTC, u64::MAX).expect_error(XmarginError::OracleStale);
    w.withdraw(&alice, USDC, 1).expect_error(XmarginError::OracleStale);
    w.liquidate(&alice, &bob, SOL, USDC, u64::MAX).expect_ok();
    let btc_owed = balance(&w, &alice, BTC).checked_neg().unwrap();
    assert_eq!(btc_owed.to_u64(Rounding::Ceil).unwrap(), 1_000, "the stale debt itself is untouched");
}

/// Found by the long random run (seed 777, see `random_ops.rs`). Alice owes
/// 800 USDC and 0.003 BTC ($300) on 10 SOL; a month later, with nobody
/// cranking the BTC bank, SOL is at $111.50: $1,115 against about $1,100.1
/// of debts, solvent by about $15, but Maint ≈ 1,002.6 − 800.1 − 330 < 0.
/// Health grows a debt in a bank not accrued at its highest rate (100 %):
/// the BTC debt counted $324.66, the equity −$9.8, so Alice paid the full
/// 10 % bonus on the SOL/USDC pair and was left with 2.106 SOL ($234.87)
/// against the $300 of BTC: 65 USDC of bad debt from a solvent account,
/// and 621 M lamports less than had the keeper cranked the BTC bank first.
/// The liquidatee is now valued as the banks would book it if accrued now:
/// the bonus is capped at her equity over her debts (≈ 1.35 %), she keeps 2.727 SOL, still
/// worth more than her debts, and the step is the same cranked or not.
#[test]
fn a_bank_nobody_cranked_does_not_make_a_solvent_account_pay_the_full_bonus() {
    let month = |crank_btc: bool| {
        let (mut w, alice, bob) = borrower(800, 0);
        let carol = w.user(12, [0, 0, 100_000_000]);
        w.deposit(&carol, BTC, 100_000_000).expect_ok(); // 1 BTC to lend
        w.withdraw(&alice, BTC, 300_000).expect_ok(); // 0.003 BTC = $300 owed
        w.env.warp(30 * 86_400);
        w.refresh_prices();
        w.set_price(SOL, 11_150_000_000, 10_000_000);
        if crank_btc {
            w.env.send_ok(&[accrue_interest_ix(&w.env, &w.group.group, BTC)], &[]);
        }
        w.liquidate(&alice, &bob, SOL, USDC, u64::MAX).expect_ok();
        for token in [USDC, SOL, BTC] {
            w.env.send_ok(&[accrue_interest_ix(&w.env, &w.group.group, token)], &[]);
        }
        let balances = [USDC, SOL, BTC].map(|t| [balance(&w, &alice, t), balance(&w, &bob, t)]);
        (w, alice, balances)
    };
    let (w, alice, balances) = month(false);
    let usd = |token: u16, price: f64, decimals: i32| {
        xmargin_test_support::margin::approx_f64(balance(&w, &alice, token)) * price / 10f64.powi(decimals)
    };
    let net = usd(USDC, 1.0, 6) + usd(SOL, 111.5, 9) + usd(BTC, 100_000.0, 8);
    assert!(net > 3.0, "Alice is still worth more than her debts after the step: ${net:.2}");
    let sol_left = balance(&w, &alice, SOL);
    assert!(sol_left > Fixed::from_u64(2_700_000_000), "the bonus was capped at her equity: {sol_left}");
    assert_eq!(month(true).2, balances, "the same step whether or not the BTC bank was cranked");
}
