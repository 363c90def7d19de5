//! liquidate_token: a step's exact amounts, convergence of partial steps, and refusals.
use xmargin::errors::XmarginError;
use xmargin::instructions::{BankInterestArgs, UpdateBankArgs};
use xmargin::state::{account_flags, MarginAccount};
use xmargin_risk::Fixed;
use xmargin_test_support::margin::{health_view, liquidate_token_ix, native_balance, update_bank_ix};
use xmargin_test_support::world::{User, World};
use xmargin_test_support::{Address, Signer};

const USDC: u16 = 0;
const SOL: u16 = 1;
const BTC: u16 = 2;
const LAMPORTS: u64 = 1_000_000_000;
const MICRO: u64 = 1_000_000;

/// Alice: 10 SOL collateral, 1,150 USDC borrowed. Bob: 50,000 USDC (lender and liquidator).
/// Liquidation fees: SOL 5 %, USDC 0 % → bonus 5 %. Then SOL falls from $150 to $125 (± $0.10).
fn underwater() -> (World, User, User) {
    let mut w = World::new();
    let admin = w.admin.insecure_clone();
    let interest = BankInterestArgs {
        zero_util_rate_bps: 0,
        optimal_util_bps: 8_000,
        optimal_rate_bps: 1_000,
        max_rate_bps: 10_000,
        protocol_fee_bps: 1_000,
        liquidation_fee_bps: 0,
    };
    let ix = update_bank_ix(
        &w.group.group,
        &admin.pubkey(),
        USDC,
        UpdateBankArgs { interest: Some(interest), ..Default::default() },
    );
    w.env.send_ok(&[ix], &[&admin]);
    let alice = w.user(10, [0, 10 * LAMPORTS, 0]);
    let bob = w.user(11, [50_000 * MICRO, 0, 0]);
    w.deposit(&bob, USDC, 50_000 * MICRO).expect_ok();
    w.deposit(&alice, SOL, 10 * LAMPORTS).expect_ok();
    w.withdraw(&alice, USDC, 1_150 * MICRO).expect_ok();
    w.set_price(SOL, 12_500_000_000, 10_000_000);
    (w, alice, bob)
}

fn liquidate(
    w: &mut World,
    liqee: &User,
    liqor: &User,
    asset: u16,
    liab: u16,
    max: u64,
) -> xmargin_test_support::TxOutcome {
    let ix = liquidate_token_ix(
        &w.env,
        &w.group.group,
        &liqee.account,
        &liqor.account,
        &liqor.wallet.pubkey(),
        asset,
        liab,
        max,
    );
    let out = w.env.send(&[ix], &[&liqor.wallet]);
    w.assert_all_vaults();
    out
}

/// Worked example. At $125 ± $0.10 SOL's asset price is 124.90, 0.12490 µUSDC per lamport;
/// LiquidationEnd weights 0.85 (SOL asset) and 1 (USDC liability):
///   H_LE = 10e9 · 0.12490 · 0.85 − 1150e6 = 1,061.65 − 1,150 USDC = −88.35 USDC.
/// Exchange rate with the 5 % bonus, at the unbiased oracle price 0.125 µUSDC/lamport:
///   r = 1 · 1.05 / 0.125 = 8.4 lamports per µUSDC.
/// Each µUSDC taken over improves H_LE by s = 1 − 8.4 · 0.12490 · 0.85 = 0.108214, so
///   x = 88.35e6 / 0.108214 = 816,437,799 µUSDC (rounded down), y = x · 8.4 = 6,858,077,511 lamports.
/// Afterwards H_LE = 3.141922489 SOL · 124.90 · 0.85 − 333.562201 USDC ≈ 0 (+0.04 µUSDC).
#[test]
fn one_step_reaches_liquidation_end_zero_with_the_bonus() {
    let (mut w, alice, bob) = underwater();
    let before = health_view(&mut w.env, &w.group.group, &alice.account);
    assert_eq!(before.band, 2, "liquidatable: {before:?}");
    assert!((-88_350_001..=-88_350_000).contains(&before.liquidation_end), "{before:?}");

    let out = liquidate(&mut w, &alice, &bob, SOL, USDC, u64::MAX);
    println!("liquidate_token CU = {}", out.expect_ok());
    let x = 1_150 * MICRO as i64
        + native_balance(&w.env, &w.group.group, &alice.account, USDC)
            .to_i64(xmargin_risk::Rounding::Floor)
            .unwrap();
    let y = 10 * LAMPORTS as i64
        - native_balance(&w.env, &w.group.group, &alice.account, SOL)
            .to_i64(xmargin_risk::Rounding::Ceil)
            .unwrap();
    assert!((816_437_798..=816_437_800).contains(&x), "debt taken over {x}");
    assert!((6_858_077_500..=6_858_077_520).contains(&y), "collateral paid {y}");
    // The liquidator's side mirrors it: its USDC deposit is x lower, it holds y lamports of SOL.
    assert_eq!(native_balance(&w.env, &w.group.group, &bob.account, SOL), Fixed::from_i64(y));
    let bob_usdc = native_balance(&w.env, &w.group.group, &bob.account, USDC);
    assert!(
        bob_usdc <= Fixed::from_i64(50_000_000_000 - x)
            && bob_usdc >= Fixed::from_i64(50_000_000_000 - x - 1)
    );

    let after = health_view(&mut w.env, &w.group.group, &alice.account);
    assert!((-1..=1).contains(&after.liquidation_end), "LiquidationEnd ends at 0: {after:?}");
    assert!(after.maint > 0, "{after:?}");
    assert_eq!(w.env.zero_copy::<MarginAccount>(&alice.account).flags & account_flags::BEING_LIQUIDATED, 0);
    // Nothing more to take: the next call is refused by name.
    liquidate(&mut w, &alice, &bob, SOL, USDC, u64::MAX).expect_error(XmarginError::NotLiquidatable);
}

#[test]
fn partial_steps_converge_and_stop() {
    let (mut w, alice, bob) = underwater();
    let mut steps = 0;
    loop {
        let out = liquidate(&mut w, &alice, &bob, SOL, USDC, 200 * MICRO);
        if out.result.is_err() {
            out.expect_error(XmarginError::NotLiquidatable);
            break;
        }
        steps += 1;
        let view = health_view(&mut w.env, &w.group.group, &alice.account);
        let flag = w.env.zero_copy::<MarginAccount>(&alice.account).flags & account_flags::BEING_LIQUIDATED;
        // In progress while LiquidationEnd < 0, even though Maint turns positive on the way.
        assert_eq!(flag != 0, view.liquidation_end < -1, "step {steps}: {view:?}");
        assert!(steps <= 5, "did not converge");
    }
    // 816.44 USDC in steps of at most 200: five steps (4 × 200 + 16.44).
    assert_eq!(steps, 5);
    // The same end point as one big step (333.562201 USDC of debt left), within the
    // few µUSDC that five round-downs of the debt taken over leave with the liquidatee.
    let debt = native_balance(&w.env, &w.group.group, &alice.account, USDC).checked_neg().unwrap();
    assert!(debt >= Fixed::from_u64(333_562_200) && debt <= Fixed::from_u64(333_562_210), "debt left {debt}");
}

#[test]
fn refusals() {
    let (mut w, alice, bob) = underwater();
    let watched = |w: &World| {
        let mut v: Vec<Address> = w.accounts.clone();
        v.extend(w.banks.iter().map(|b| b.bank));
        v
    };
    let keys = watched(&w);
    // Self-liquidation.
    let ix = liquidate_token_ix(
        &w.env,
        &w.group.group,
        &alice.account,
        &alice.account,
        &alice.wallet.pubkey(),
        SOL,
        USDC,
        1,
    );
    w.env.send_err(&[ix], &[&alice.wallet], XmarginError::SelfLiquidation, &keys);
    // Same bank on both sides.
    let ix = liquidate_token_ix(
        &w.env,
        &w.group.group,
        &alice.account,
        &bob.account,
        &bob.wallet.pubkey(),
        USDC,
        USDC,
        1,
    );
    w.env.send_err(&[ix], &[&bob.wallet], XmarginError::SameAssetAndLiability, &keys);
    // A pair the liquidatee does not hold (no BTC collateral).
    let ix = liquidate_token_ix(
        &w.env,
        &w.group.group,
        &alice.account,
        &bob.account,
        &bob.wallet.pubkey(),
        BTC,
        USDC,
        1,
    );
    w.env.send_err(&[ix], &[&bob.wallet], XmarginError::LiquidationNotImproving, &keys);
    // Someone else signing for Bob's account.
    let eve = w.env.new_wallet(40);
    let ix =
        liquidate_token_ix(&w.env, &w.group.group, &alice.account, &bob.account, &eve.pubkey(), SOL, USDC, 1);
    w.env.send_err(&[ix], &[&eve], XmarginError::UnauthorizedOwner, &keys);
    // A substituted oracle in the liquidatee's health accounts.
    let mut ix = liquidate_token_ix(
        &w.env,
        &w.group.group,
        &alice.account,
        &bob.account,
        &bob.wallet.pubkey(),
        SOL,
        USDC,
        1,
    );
    ix.accounts[6 + 2].pubkey = w.banks[2].oracle; // [SOL bank, USDC bank, SOL oracle, USDC oracle, ...]
    w.env.send_err(&[ix], &[&bob.wallet], XmarginError::WrongOracle, &keys);
    // A stale price blocks liquidation (never liquidate on a price that may be wrong).
    w.env.warp(61);
    w.set_price(USDC, 100_000_000, 0);
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
    w.env.send_err(&[ix], &[&bob.wallet], XmarginError::OracleStale, &keys);
    w.refresh_prices();

    // A liquidator with nothing but the seized collateral ends below Init: refused.
    let carol = w.user(12, [0, 0, 0]);
    let keys = watched(&w);
    let ix = liquidate_token_ix(
        &w.env,
        &w.group.group,
        &alice.account,
        &carol.account,
        &carol.wallet.pubkey(),
        SOL,
        USDC,
        100 * MICRO,
    );
    w.env.send_err(&[ix], &[&carol.wallet], XmarginError::LiquidatorHealthTooLow, &keys);

    // A healthy account cannot be liquidated.
    w.set_price(SOL, 15_000_000_000, 10_000_000);
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
    w.env.send_err(&[ix], &[&bob.wallet], XmarginError::NotLiquidatable, &keys);
}

/// A bank at its deposit cap (issue 10, item 9): the seized collateral moves
/// between two accounts and the bank's total deposits stay the same, so the
/// cap does not apply and the liquidation goes through.
#[test]
fn a_bank_at_its_deposit_cap_still_liquidates() {
    let (mut w, alice, bob) = underwater();
    let admin = w.admin.insecure_clone();
    let mut sol =
        xmargin_test_support::fixtures::default_bank_args(SOL, xmargin_test_support::pyth::feeds::SOL_USD)
            .risk;
    sol.deposit_cap = 10 * LAMPORTS; // exactly what Alice deposited
    let ix = update_bank_ix(
        &w.group.group,
        &admin.pubkey(),
        SOL,
        UpdateBankArgs { risk: Some(sol), ..Default::default() },
    );
    w.env.send_ok(&[ix], &[&admin]);
    let total =
        |w: &World| w.env.zero_copy::<xmargin::state::Bank>(&w.banks[1].bank).native_totals().unwrap().0;
    let before = total(&w);
    liquidate(&mut w, &alice, &bob, SOL, USDC, u64::MAX).expect_ok();
    let after = total(&w);
    assert!(
        after <= before && after >= before.checked_sub(Fixed::from_u64(2)).unwrap(),
        "{before} → {after}"
    );
}
