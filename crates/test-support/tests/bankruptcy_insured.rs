//! resolve_bankruptcy of a debt in another token than the quote token: a
//! liquidator takes it over for insurance-fund USDC at oracle price plus the
//! liability bank's 5 % liquidation fee; what the fund cannot pay for is
//! socialised across the bank's depositors. Every balance, the vaults, and
//! the refusals.
use xmargin::errors::XmarginError;
use xmargin::state::{Bank, MarginAccount};
use xmargin_risk::{Fixed, Rounding};
use xmargin_test_support::margin::{
    native_balance, resolve_bankruptcy_ix, resolve_bankruptcy_with_liquidator_ix,
};
use xmargin_test_support::scenarios::{sol_debt_bankruptcy, SolDebtBankruptcy};
use xmargin_test_support::Signer;

const USDC: u16 = 0;
const SOL: u16 = 1;
const MICRO: u64 = 1_000_000;

/// The shared scenario (`scenarios::sol_debt_bankruptcy`), checked.
fn bankrupt_in_sol() -> SolDebtBankruptcy {
    let b = sol_debt_bankruptcy();
    let acc: MarginAccount = b.w.env.zero_copy(&b.alice.account);
    assert!(acc.token_position(USDC).is_none(), "all collateral taken");
    assert!((2_970_000_000..3_000_000_000).contains(&b.owed), "SOL debt left {}", b.owed);
    b.w.assert_all_vaults();
    b
}

/// Quote native per lamport the fund pays: $450 · 1.05 = 472.5 per SOL = 0.4725 µUSDC per lamport.
fn expected_paid(took: u64) -> u64 {
    (u128::from(took) * 4_725 / 10_000) as u64
}

#[test]
fn the_fund_pays_a_liquidator_to_take_the_whole_debt() {
    let SolDebtBankruptcy { mut w, alice, lender, carol, owed } = bankrupt_in_sol();
    let insurance = w.group.insurance_vault;
    w.env.mint_to(&w.group.quote_mint, &insurance, 10_000 * MICRO);
    let sol_index = w.env.zero_copy::<Bank>(&w.banks[1].bank).deposit_index.get();
    let lender_sol = native_balance(&w.env, &w.group.group, &lender.account, SOL);
    let carol_usdc = native_balance(&w.env, &w.group.group, &carol.account, USDC);
    let usdc_vault = w.env.token_balance(&w.banks[0].vault);

    let ix = resolve_bankruptcy_with_liquidator_ix(
        &w.env,
        &w.group.group,
        &alice.account,
        SOL,
        &carol.account,
        &carol.wallet.pubkey(),
    );
    let out = w.env.send_ok(&[ix], &[&carol.wallet]);
    println!("resolve_bankruptcy with a liquidator: {} CU", out.compute_units);

    assert!(w.env.zero_copy::<MarginAccount>(&alice.account).is_empty(), "the account is left clean");
    // Carol owes the whole debt now, and was paid 0.4725 µUSDC per lamport from the fund.
    let carol_sol = native_balance(&w.env, &w.group.group, &carol.account, SOL).checked_neg().unwrap();
    assert!(
        carol_sol >= Fixed::from_u64(owed) && carol_sol <= Fixed::from_u64(owed + 1),
        "{carol_sol} vs {owed}"
    );
    let paid = 10_000 * MICRO - w.env.token_balance(&insurance);
    let expected = expected_paid(owed);
    assert!(paid <= expected && paid + 1 >= expected, "paid {paid}, expected ≈ {expected}");
    let carol_gain =
        native_balance(&w.env, &w.group.group, &carol.account, USDC).checked_sub(carol_usdc).unwrap();
    assert!(carol_gain <= Fixed::from_u64(paid) && carol_gain >= Fixed::from_u64(paid - 1));
    assert_eq!(
        w.env.token_balance(&w.banks[0].vault),
        usdc_vault + paid,
        "fund tokens went to the USDC vault"
    );
    // SOL depositors lose nothing.
    assert_eq!(w.env.zero_copy::<Bank>(&w.banks[1].bank).deposit_index.get(), sol_index);
    assert_eq!(native_balance(&w.env, &w.group.group, &lender.account, SOL), lender_sol);
    w.assert_all_vaults();
}

#[test]
fn what_the_fund_cannot_pay_for_is_socialised() {
    let SolDebtBankruptcy { mut w, alice, lender, carol, owed } = bankrupt_in_sol();
    let insurance = w.group.insurance_vault;
    w.env.mint_to(&w.group.quote_mint, &insurance, 100 * MICRO);
    let lender_sol = native_balance(&w.env, &w.group.group, &lender.account, SOL);
    let ix = resolve_bankruptcy_with_liquidator_ix(
        &w.env,
        &w.group.group,
        &alice.account,
        SOL,
        &carol.account,
        &carol.wallet.pubkey(),
    );
    w.env.send_ok(&[ix], &[&carol.wallet]);
    assert!(w.env.zero_copy::<MarginAccount>(&alice.account).is_empty());
    // 100 USDC buys 100 / 0.4725 = 211,640,211 lamports of debt; the rest (≈ 2.77 SOL) is socialised.
    let took = native_balance(&w.env, &w.group.group, &carol.account, SOL).checked_neg().unwrap();
    let took = took.to_u64(Rounding::Ceil).unwrap();
    assert!((211_640_211..=211_640_212).contains(&took), "took {took}");
    assert!(w.env.token_balance(&insurance) < 1_000, "the fund paid all but dust");
    let loss = lender_sol.checked_sub(native_balance(&w.env, &w.group.group, &lender.account, SOL)).unwrap();
    let expected = Fixed::from_u64(owed - 211_640_211);
    assert!(
        loss >= expected.checked_sub(Fixed::from_u64(2)).unwrap()
            && loss <= expected.checked_add(Fixed::ONE).unwrap(),
        "the lender (the only SOL depositor) absorbs the rest: {loss} vs {expected}"
    );
    w.assert_all_vaults();
}

#[test]
fn refusals() {
    let SolDebtBankruptcy { mut w, alice, carol, .. } = bankrupt_in_sol();
    let insurance = w.group.insurance_vault;
    w.env.mint_to(&w.group.quote_mint, &insurance, 10_000 * MICRO);
    let g = w.group.group;
    let watched = [alice.account, carol.account, insurance, w.banks[1].bank];
    // With money in the fund, a SOL debt needs a liquidator: no silent socialisation.
    let ix = resolve_bankruptcy_ix(&w.env, &g, &alice.account, SOL);
    w.env.send_err(&[ix], &[], XmarginError::InsuranceNeedsLiquidator, &watched);
    // The liquidatee cannot be its own liquidator.
    let ix = resolve_bankruptcy_with_liquidator_ix(
        &w.env,
        &g,
        &alice.account,
        SOL,
        &alice.account,
        &alice.wallet.pubkey(),
    );
    w.env.send_err(&[ix], &[&alice.wallet], XmarginError::SelfLiquidation, &watched);
    // Someone else signing for Carol's account.
    let mallory = w.env.new_wallet(99);
    let ix = resolve_bankruptcy_with_liquidator_ix(
        &w.env,
        &g,
        &alice.account,
        SOL,
        &carol.account,
        &mallory.pubkey(),
    );
    w.env.send_err(&[ix], &[&mallory], XmarginError::UnauthorizedOwner, &watched);
    // BTC's oracle in place of SOL's.
    let mut ix = resolve_bankruptcy_with_liquidator_ix(
        &w.env,
        &g,
        &alice.account,
        SOL,
        &carol.account,
        &carol.wallet.pubkey(),
    );
    ix.accounts[10].pubkey = w.banks[2].oracle;
    w.env.send_err(&[ix], &[&carol.wallet], XmarginError::WrongOracle, &watched);
    // The SOL bank posing as the quote bank.
    let mut ix = resolve_bankruptcy_with_liquidator_ix(
        &w.env,
        &g,
        &alice.account,
        SOL,
        &carol.account,
        &carol.wallet.pubkey(),
    );
    ix.accounts[8].pubkey = w.banks[1].bank;
    w.env.send_err(&[ix], &[&carol.wallet], XmarginError::WrongQuoteBank, &watched);
    // A stale SOL price.
    w.env.warp(120);
    w.set_price(USDC, 100_000_000, 0);
    let ix = resolve_bankruptcy_with_liquidator_ix(
        &w.env,
        &g,
        &alice.account,
        SOL,
        &carol.account,
        &carol.wallet.pubkey(),
    );
    w.env.send_err(&[ix], &[&carol.wallet], XmarginError::OracleStale, &watched);
}

#[test]
fn a_liquidator_without_the_health_for_the_debt_is_refused() {
    let SolDebtBankruptcy { mut w, alice, .. } = bankrupt_in_sol();
    let insurance = w.group.insurance_vault;
    w.env.mint_to(&w.group.quote_mint, &insurance, 10_000 * MICRO);
    // Dave has 10 USDC. Taking ≈ 2.98 SOL of debt (Init: (450 + 0.1) · 1.2 = 540.12 per SOL, ≈ 1,609 USDC)
    // for ≈ 1,408 USDC of fund tokens would leave him ≈ −191 USDC of Init health.
    let dave = w.user(30, [10 * MICRO, 0, 0]);
    w.deposit(&dave, USDC, 10 * MICRO).expect_ok();
    let watched = [alice.account, dave.account, insurance];
    let ix = resolve_bankruptcy_with_liquidator_ix(
        &w.env,
        &w.group.group,
        &alice.account,
        SOL,
        &dave.account,
        &dave.wallet.pubkey(),
    );
    w.env.send_err(&[ix], &[&dave.wallet], XmarginError::LiquidatorHealthTooLow, &watched);
}

/// A dust donation to the fund (issue 10, item 9: 1 µUSDC forced every
/// non-quote bankruptcy through the liquidator path) does not: below one
/// whole quote token the debt resolves without a liquidator, socialised, and
/// the fund keeps its dust. From one USDC up the liquidator is needed.
#[test]
fn a_dust_fund_needs_no_liquidator() {
    let SolDebtBankruptcy { mut w, alice, lender, owed, .. } = bankrupt_in_sol();
    let insurance = w.group.insurance_vault;
    w.env.mint_to(&w.group.quote_mint, &insurance, MICRO - 1);
    let lender_sol = native_balance(&w.env, &w.group.group, &lender.account, SOL);
    w.env.send_ok(&[resolve_bankruptcy_ix(&w.env, &w.group.group, &alice.account, SOL)], &[]);
    assert!(w.env.zero_copy::<MarginAccount>(&alice.account).is_empty());
    assert_eq!(w.env.token_balance(&insurance), MICRO - 1, "the fund keeps its dust");
    let loss = lender_sol.checked_sub(native_balance(&w.env, &w.group.group, &lender.account, SOL)).unwrap();
    assert!(loss >= Fixed::from_u64(owed) && loss <= Fixed::from_u64(owed + 1), "{loss} vs {owed}");
    w.assert_all_vaults();
}

#[test]
fn one_whole_quote_token_in_the_fund_needs_the_liquidator() {
    let SolDebtBankruptcy { mut w, alice, .. } = bankrupt_in_sol();
    let insurance = w.group.insurance_vault;
    w.env.mint_to(&w.group.quote_mint, &insurance, MICRO);
    let watched = [alice.account, insurance, w.banks[1].bank];
    let ix = resolve_bankruptcy_ix(&w.env, &w.group.group, &alice.account, SOL);
    w.env.send_err(&[ix], &[], XmarginError::InsuranceNeedsLiquidator, &watched);
}
