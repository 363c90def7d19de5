//! resolve_bankruptcy: insurance covering all, socialised loss, and refusals,
//! checking every balance and the vault invariant.
use xmargin::errors::XmarginError;
use xmargin::state::{Bank, MarginAccount};
use xmargin_risk::{Fixed, Rounding};
use xmargin_test_support::margin::{liquidate_token_ix, native_balance, resolve_bankruptcy_ix};
use xmargin_test_support::world::{User, World};
use xmargin_test_support::Signer;

const USDC: u16 = 0;
const SOL: u16 = 1;
const LAMPORTS: u64 = 1_000_000_000;
const MICRO: u64 = 1_000_000;

/// Alice borrows 1,150 USDC on 10 SOL; SOL crashes to $50; Bob liquidates all
/// her SOL. With the 10 % bonus (5 % + 5 %) at $50 the rate is 1.1 / 0.05 =
/// 22 lamports per µUSDC, so 10 SOL pays for 454,545,454 µUSDC of debt and
/// 1,150 − 454.545454 = 695.454546 USDC is left with nothing behind it.
fn bankrupt() -> (World, User, User, u64) {
    let mut w = World::new();
    let alice = w.user(10, [0, 10 * LAMPORTS, 0]);
    let bob = w.user(11, [50_000 * MICRO, 0, 0]);
    w.deposit(&bob, USDC, 50_000 * MICRO).expect_ok();
    w.deposit(&alice, SOL, 10 * LAMPORTS).expect_ok();
    w.withdraw(&alice, USDC, 1_150 * MICRO).expect_ok();
    w.set_price(SOL, 5_000_000_000, 10_000_000);
    let ix = liquidate_token_ix(
        &w.env,
        &w.group.group,
        &alice.account,
        &bob.account,
        &bob.wallet.pubkey(),
        SOL,
        USDC,
        u64::MAX,
    );
    w.env.send_ok(&[ix], &[&bob.wallet]);
    w.assert_all_vaults();
    let acc: MarginAccount = w.env.zero_copy(&alice.account);
    assert!(acc.token_position(SOL).is_none(), "all collateral was taken, no dust left");
    assert_ne!(acc.flags & xmargin::state::account_flags::BANKRUPT, 0, "marked bankrupt");
    let owed = native_balance(&w.env, &w.group.group, &alice.account, USDC).checked_neg().unwrap();
    let owed = owed.to_u64(Rounding::Ceil).unwrap();
    assert!((695_454_545..=695_454_547).contains(&owed), "debt left {owed}");
    (w, alice, bob, owed)
}

#[test]
fn insurance_fund_covers_all() {
    let (mut w, alice, bob, owed) = bankrupt();
    let insurance = w.group.insurance_vault;
    w.env.mint_to(&w.group.quote_mint, &insurance, 10_000 * MICRO);
    let vault_before = w.env.token_balance(&w.banks[0].vault);
    let bob_before = native_balance(&w.env, &w.group.group, &bob.account, USDC);
    let index_before = w.env.zero_copy::<Bank>(&w.banks[0].bank).deposit_index.get();

    let out = w.env.send_ok(&[resolve_bankruptcy_ix(&w.env, &w.group.group, &alice.account, USDC)], &[]);
    println!("resolve_bankruptcy CU = {}", out.compute_units);
    assert_eq!(w.env.token_balance(&insurance), 10_000 * MICRO - owed);
    assert_eq!(w.env.token_balance(&w.banks[0].vault), vault_before + owed);
    assert!(w.env.zero_copy::<MarginAccount>(&alice.account).is_empty(), "the account is left clean");
    assert_eq!(
        native_balance(&w.env, &w.group.group, &bob.account, USDC),
        bob_before,
        "depositors lose nothing"
    );
    assert_eq!(w.env.zero_copy::<Bank>(&w.banks[0].bank).deposit_index.get(), index_before);
    w.assert_all_vaults();
    // Nothing left to resolve.
    let ix = resolve_bankruptcy_ix(&w.env, &w.group.group, &alice.account, USDC);
    w.env.send_err(&[ix], &[], XmarginError::NotBankrupt, &[alice.account, insurance]);
}

#[test]
fn shortfall_is_socialised_across_depositors() {
    let (mut w, alice, bob, owed) = bankrupt();
    let insurance = w.group.insurance_vault;
    w.env.mint_to(&w.group.quote_mint, &insurance, 100 * MICRO);
    let bob_before = native_balance(&w.env, &w.group.group, &bob.account, USDC);

    w.env.send_ok(&[resolve_bankruptcy_ix(&w.env, &w.group.group, &alice.account, USDC)], &[]);
    assert_eq!(w.env.token_balance(&insurance), 0, "the fund pays all it has");
    assert!(w.env.zero_copy::<MarginAccount>(&alice.account).is_empty());
    // Bob is the only USDC depositor: he absorbs owed − 100 USDC (≈ 595.45 USDC),
    // rounded against him by at most a micro-unit.
    let loss = bob_before.checked_sub(native_balance(&w.env, &w.group.group, &bob.account, USDC)).unwrap();
    let expected = Fixed::from_u64(owed - 100 * MICRO);
    assert!(
        loss >= expected && loss <= expected.checked_add(Fixed::ONE).unwrap(),
        "loss {loss} vs {expected}"
    );
    w.assert_all_vaults();
}

#[test]
fn refusals() {
    let (mut w, alice, bob, _) = bankrupt();
    let insurance = w.group.insurance_vault;
    // Bob holds assets: not bankrupt.
    let ix = resolve_bankruptcy_ix(&w.env, &w.group.group, &bob.account, USDC);
    w.env.send_err(&[ix], &[], XmarginError::NotBankrupt, &[bob.account, insurance]);
    // Alice owes nothing in SOL.
    let ix = resolve_bankruptcy_ix(&w.env, &w.group.group, &alice.account, SOL);
    w.env.send_err(&[ix], &[], XmarginError::NotBankrupt, &[alice.account, insurance]);
    // Another token account posing as the insurance vault.
    let mut ix = resolve_bankruptcy_ix(&w.env, &w.group.group, &alice.account, USDC);
    ix.accounts[4].pubkey = bob.tokens[0];
    w.env.send_err(&[ix], &[], XmarginError::WrongInsuranceVault, &[alice.account, bob.tokens[0]]);
    // The liab bank's vault must be its own.
    let mut ix = resolve_bankruptcy_ix(&w.env, &w.group.group, &alice.account, USDC);
    ix.accounts[3].pubkey = w.banks[1].vault;
    w.env.send_err(&[ix], &[], XmarginError::WrongVault, &[alice.account, insurance]);
    // A bankrupt account cannot be liquidated further: nothing to take.
    let ix = liquidate_token_ix(
        &w.env,
        &w.group.group,
        &alice.account,
        &bob.account,
        &bob.wallet.pubkey(),
        SOL,
        USDC,
        1,
    );
    let out = w.env.send(&[ix], &[&bob.wallet]);
    assert!(out.result.is_err());
}
