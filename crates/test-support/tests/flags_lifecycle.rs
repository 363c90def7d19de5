//! The lifecycle of the account flags: how `BANKRUPT` and `BEING_LIQUIDATED`
//! are set, and every instruction that clears them (issue 10, findings 1, 2
//! and the dust part of 9). Before the fix, `BANKRUPT` shielded an account
//! holding assets from liquidation forever, and `BEING_LIQUIDATED` survived a
//! full recovery.
use xmargin::errors::XmarginError;
use xmargin::state::account_flags::{BANKRUPT, BEING_LIQUIDATED};
use xmargin::state::MarginAccount;
use xmargin_risk::Rounding;
use xmargin_test_support::margin::{health_view, native_balance};
use xmargin_test_support::world::{User, World};

const USDC: u16 = 0;
const SOL: u16 = 1;
const LAMPORTS: u64 = 1_000_000_000;
const MICRO: u64 = 1_000_000;

/// Alice borrows 1,150 USDC on 10 SOL (and keeps 1,000 SOL in her wallet);
/// SOL crashes to $50; Bob liquidates all her SOL at the 10 % bonus: 10 SOL
/// pays for 454.545454 USDC, 695.454546 USDC is left owed with nothing behind
/// it, and the account is marked BANKRUPT.
fn bankrupt() -> (World, User, User) {
    let mut w = World::new();
    let alice = w.user(10, [0, 1_010 * LAMPORTS, 0]);
    let bob = w.user(11, [50_000 * MICRO, 0, 0]);
    w.deposit(&bob, USDC, 50_000 * MICRO).expect_ok();
    w.deposit(&alice, SOL, 10 * LAMPORTS).expect_ok();
    w.withdraw(&alice, USDC, 1_150 * MICRO).expect_ok();
    w.set_price(SOL, 5_000_000_000, 10_000_000);
    w.liquidate(&alice, &bob, SOL, USDC, u64::MAX).expect_ok();
    assert_eq!(w.flags(&alice) & BANKRUPT, BANKRUPT, "set by the liquidation that took the last asset");
    (w, alice, bob)
}

fn owed(w: &World, user: &User, token: u16) -> u64 {
    let balance = native_balance(&w.env, &w.group.group, &user.account, token);
    balance.checked_neg().unwrap().to_u64(Rounding::Ceil).unwrap()
}

/// The repro: the bankrupt owner deposits 1,000 SOL and borrows 39,000
/// USDC (Init passes at $50); SOL falls to $30 and Maint is −12,785 USDC. The
/// deposit clears BANKRUPT and the account is liquidated like any other.
#[test]
fn a_deposit_clears_bankrupt_and_the_account_stays_liquidatable() {
    let (mut w, alice, bob) = bankrupt();
    w.deposit(&alice, SOL, 1_000 * LAMPORTS).expect_ok();
    assert_eq!(w.flags(&alice) & BANKRUPT, 0, "an account holding assets is never bankrupt");
    w.withdraw(&alice, USDC, 39_000 * MICRO).expect_ok();
    w.set_price(SOL, 3_000_000_000, 10_000_000);
    let view = health_view(&mut w.env, &w.group.group, &alice.account);
    // 1,000 · 29.90 · 0.9 − 39,695.454546 = −12,785.45 USDC
    assert!((-12_785_455_000..=-12_785_454_000).contains(&view.maint), "{view:?}");
    // Insolvent (30,000 of SOL against 39,695 owed): all 1,000 SOL go at the
    // full bonus for 1,000e9 / (1.1 / 0.03) = 27,272.73 USDC; 12,422.73 stay
    // owed with nothing behind them, BANKRUPT again, and resolution clears it.
    w.liquidate(&alice, &bob, SOL, USDC, u64::MAX).expect_ok();
    assert_eq!(w.flags(&alice) & BANKRUPT, BANKRUPT);
    let left = owed(&w, &alice, USDC);
    assert!((12_422_726_000..=12_422_728_000).contains(&left), "{left}");
    w.resolve(&alice, USDC).expect_ok();
    assert_eq!(w.flags(&alice), 0);
    assert!(w.env.zero_copy::<MarginAccount>(&alice.account).is_empty());
}

/// Repaying the whole debt clears the flag; a new borrow is an ordinary
/// borrow, liquidatable when it goes bad.
#[test]
fn repaying_everything_clears_bankrupt() {
    let (mut w, alice, bob) = bankrupt();
    let debt = owed(&w, &alice, USDC);
    w.repay(&alice, USDC, debt).expect_ok();
    assert_eq!(w.flags(&alice), 0, "nothing owed: no flag");
    assert!(w.env.zero_copy::<MarginAccount>(&alice.account).is_empty());
    w.deposit(&alice, SOL, 10 * LAMPORTS).expect_ok();
    w.withdraw(&alice, USDC, 390 * MICRO).expect_ok(); // Init: 10 · 49.90 · 0.8 = 399.2
    w.set_price(SOL, 4_000_000_000, 10_000_000);
    w.liquidate(&alice, &bob, SOL, USDC, u64::MAX).expect_ok();
}

/// A partial repay leaves the account bankrupt (debt, nothing to seize), and
/// resolution then clears the flag.
#[test]
fn resolving_clears_bankrupt() {
    let (mut w, alice, _bob) = bankrupt();
    w.repay(&alice, USDC, 100 * MICRO).expect_ok();
    assert_eq!(w.flags(&alice) & BANKRUPT, BANKRUPT, "still debt and no asset");
    w.resolve(&alice, USDC).expect_ok();
    assert_eq!(w.flags(&alice), 0);
    assert!(w.env.zero_copy::<MarginAccount>(&alice.account).is_empty());
}

/// A 1-lamport deposit after the flag is set made the bad debt unresolvable
/// (resolve: NotBankrupt; liquidate: AccountBankrupt). Now the deposit clears
/// the flag, a liquidation sweeps the dust (worth less than one µUSDC: no debt
/// can be taken over for it), the flag comes back, and resolution works.
#[test]
fn dust_deposited_after_bankruptcy_is_swept_then_resolved() {
    let (mut w, alice, bob) = bankrupt();
    let debt = owed(&w, &alice, USDC);
    w.deposit(&alice, SOL, 1).expect_ok();
    assert_eq!(w.flags(&alice) & BANKRUPT, 0);
    w.resolve(&alice, USDC).expect_error(XmarginError::NotBankrupt);
    let bob_sol = native_balance(&w.env, &w.group.group, &bob.account, SOL);
    w.liquidate(&alice, &bob, SOL, USDC, u64::MAX).expect_ok();
    assert_eq!(
        native_balance(&w.env, &w.group.group, &bob.account, SOL),
        bob_sol.checked_add(xmargin_risk::Fixed::ONE).unwrap(),
        "the liquidator got the lamport"
    );
    assert_eq!(owed(&w, &alice, USDC), debt, "for no debt: it is worth 0.05 µUSDC");
    assert_eq!(w.flags(&alice) & BANKRUPT, BANKRUPT);
    // With nothing to seize, a liquidation is refused by name…
    w.liquidate(&alice, &bob, SOL, USDC, u64::MAX).expect_error(XmarginError::AccountBankrupt);
    // …and the debt resolves.
    w.resolve(&alice, USDC).expect_ok();
    assert!(w.env.zero_copy::<MarginAccount>(&alice.account).is_empty());
}

/// Alice: 10 SOL, 1,150 USDC borrowed; Bob lends. SOL falls to $125 ± 0.10:
/// Maint 10 · 124.90 · 0.9 − 1,150 = −25.9 USDC, LiquidationEnd −88.35 USDC.
/// A partial step of 200 USDC leaves LiquidationEnd < 0: BEING_LIQUIDATED.
/// Its bonus is the equity over the debt, 100 / 1,150 = 8.70 % (under the
/// configured 10 %): 200 · 1.087 / 125 = 1.739 SOL.
fn partially_liquidated() -> (World, User, User) {
    let mut w = World::new();
    let alice = w.user(10, [0, 10 * LAMPORTS, 0]);
    let bob = w.user(11, [50_000 * MICRO, 0, 0]);
    w.deposit(&bob, USDC, 50_000 * MICRO).expect_ok();
    w.deposit(&alice, SOL, 10 * LAMPORTS).expect_ok();
    w.withdraw(&alice, USDC, 1_150 * MICRO).expect_ok();
    w.set_price(SOL, 12_500_000_000, 10_000_000);
    w.liquidate(&alice, &bob, SOL, USDC, 200 * MICRO).expect_ok();
    assert_eq!(w.flags(&alice) & BEING_LIQUIDATED, BEING_LIQUIDATED, "set by a step that stops short");
    (w, alice, bob)
}

/// The repro: after the partial step Alice repays 600 USDC (passing her
/// health accounts: LiquidationEnd is back above 0, the flag clears); SOL
/// falls to $48, where Maint is +6.13 USDC: margin call, not liquidation.
/// Before the fix the flag let a liquidator take SOL at a bonus here.
#[test]
fn repay_with_health_accounts_clears_being_liquidated() {
    let (mut w, alice, bob) = partially_liquidated();
    w.pay_in_with_health(&alice, USDC, 600 * MICRO, true).expect_ok();
    assert_eq!(w.flags(&alice) & BEING_LIQUIDATED, 0);
    w.set_price(SOL, 4_800_000_000, 10_000_000);
    let view = health_view(&mut w.env, &w.group.group, &alice.account);
    // 8.2609 SOL · 47.90 · 0.9 − 350 USDC = 6.1261 USDC
    assert!((6_125_000..=6_127_000).contains(&view.maint), "{view:?}");
    assert!(view.liquidation_end < 0, "in the band where only a flag made it liquidatable: {view:?}");
    let before = w.env.snapshot(&[alice.account, bob.account]);
    w.liquidate(&alice, &bob, SOL, USDC, u64::MAX).expect_error(XmarginError::NotLiquidatable);
    assert_eq!(w.env.snapshot(&[alice.account, bob.account]), before, "a refusal changes nothing");
}

/// A repay without health accounts cannot show the recovery (no prices are
/// read), so the flag stays; the next withdrawal's Init check clears it.
#[test]
fn a_withdrawal_passing_init_clears_being_liquidated() {
    let (mut w, alice, _bob) = partially_liquidated();
    w.repay(&alice, USDC, 600 * MICRO).expect_ok();
    assert_eq!(w.flags(&alice) & BEING_LIQUIDATED, BEING_LIQUIDATED, "not shown healthy yet");
    w.withdraw(&alice, SOL, 1).expect_ok();
    assert_eq!(w.flags(&alice) & BEING_LIQUIDATED, 0);
}

/// Health accounts showing LiquidationEnd still below 0 leave the flag; a
/// deposit that repays everything clears it without any price.
#[test]
fn being_liquidated_stays_until_recovered_and_clears_with_the_debt() {
    let (mut w, alice, _bob) = partially_liquidated();
    w.pay_in_with_health(&alice, USDC, MICRO, true).expect_ok();
    assert_eq!(w.flags(&alice) & BEING_LIQUIDATED, BEING_LIQUIDATED, "LiquidationEnd still < 0");
    let debt = owed(&w, &alice, USDC);
    w.deposit(&alice, USDC, debt).expect_ok();
    assert_eq!(w.flags(&alice), 0, "no liabilities: nothing to liquidate");
}

/// A deposit worth less than one native unit (1 lamport into a bank whose
/// index has grown above 1 mints shares worth 0.99… lamport) used to block
/// resolution for good: no debt could be taken over for it and the sweep
/// floored it to 0. The liquidation now burns such dust, and the debt resolves.
#[test]
fn sub_unit_dust_is_burned_and_the_debt_resolves() {
    let (mut w, alice, bob) = bankrupt();
    // Carol borrows SOL against USDC, so a day of interest lifts SOL's deposit index above 1.
    let carol = w.user(12, [10_000 * MICRO, 0, 0]);
    w.deposit(&carol, USDC, 10_000 * MICRO).expect_ok();
    w.withdraw(&carol, SOL, 5 * LAMPORTS).expect_ok();
    w.env.warp(86_400);
    w.refresh_prices();
    let g = w.group.group;
    w.env.send_ok(&[xmargin_test_support::margin::accrue_interest_ix(&w.env, &g, SOL)], &[]);
    w.deposit(&alice, SOL, 1).expect_ok();
    let dust = native_balance(&w.env, &g, &alice.account, SOL);
    assert!(dust.is_positive() && dust < xmargin_risk::Fixed::ONE, "worth under a lamport: {dust}");
    assert_eq!(w.flags(&alice) & BANKRUPT, 0, "it is an asset");
    w.liquidate(&alice, &bob, SOL, USDC, u64::MAX).expect_ok();
    assert!(w.env.zero_copy::<MarginAccount>(&alice.account).token_position(SOL).is_none(), "burned");
    assert_eq!(w.flags(&alice) & BANKRUPT, BANKRUPT);
    w.resolve(&alice, USDC).expect_ok();
    assert!(w.env.zero_copy::<MarginAccount>(&alice.account).is_empty());
}
