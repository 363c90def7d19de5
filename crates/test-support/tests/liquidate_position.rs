//! liquidate_position: a worked example a reviewer can check by hand, partial
//! steps and the `BEING_LIQUIDATED` flag, a short position, every refusal
//! with nothing changed, and the bankruptcy path of a loss left after the
//! position is gone.
//!
//! # The book (every test)
//! SOL-PERP (`sol_perp_args`): contracts of 0.01 SOL; Init 10 %,
//! LiquidationEnd 7.5 %, Maint 5 % of notional; liquidation fee 1 %,
//! insurance fee 0.5 %. SOL at $150 ± $0.10 (confidence multiplier 1, so a
//! long is valued at 149.90 and a requirement taken at 150.10; in Init the
//! stable price, 150, where it is more conservative).
//!
//! Alice deposits 1,000 USDC and buys 6,500 contracts (65 SOL) from Bob at
//! $150, 1,500,000 µUSDC per contract. Her Init health is
//! `1,000 + 65 · (149.90 − 150) − 65 · 150.10 · 10 % = 1,000 − 6.5 − 975.65
//! = 17.85 USDC`: near the limit (1,000 / 15.11 = 66.18 SOL is the most she could buy).
//! Bob deposits 10,000 USDC; Carol, the keeper, 2,000 USDC.
//!
//! # Worked example: SOL falls to $140 ± 0.10
//! ```text
//! Maint   = 1,000 + 65 · (139.90 − 150) − 65 · 140.10 · 5 %   = 1,000 − 656.5 − 455.325  = −111.825 USDC
//! LiqEnd  = 1,000 + 65 · (139.90 − 150) − 65 · 140.10 · 7.5 % = 1,000 − 656.5 − 682.9875 = −339.4875 USDC
//! ```
//! Equity at the oracle, 1,000 − 65 · 10 = 350 USDC over 650 USDC of losses,
//! is 53.8 %: the bonus is not capped, 1 % + 0.5 % = 1.5 %. Sizing (risk
//! crate `max_position_liquidation`): each SOL closed at 140 · (1 − 1.5 %) =
//! 137.90 changes the PnL by 137.90 − 139.90 = −2.00 and releases
//! 140.10 · 7.5 % = 10.5075 of requirement, a net 8.5075 USDC, so
//! `q = 339.4875 / 8.5075 = 39.9045 SOL = 3,990.45 contracts`, rounded up to
//! **3,991 contracts** (39.91 SOL). Carol pays the oracle less the liquidation
//! fee, `0.01 · 140 · 0.99 = 1.386 USDC` per contract: **1,385,999 µUSDC**
//! (0.14 µUSDC per lamport and 0.99 are not exact in binary fixed point; their
//! product lands a hair below 1.386 and the liquidator's price is floored).
//! Alice pays the insurance fee, `39.91 · 140 · 0.5 % = 27.937 USDC`, from
//! her USDC into the group's insurance vault. After the step:
//! ```text
//! USDC     1,000 − 27.937                          = 972.063
//! realised 3,991 · (1.385999 − 1.5)                = −454.977991
//! left     25.09 SOL at cost 3,763.5
//! LiqEnd = 972.063 − 454.977991 + 25.09 · (139.90 − 150) − 25.09 · 140.10 · 7.5 %
//!        = 972.063 − 454.977991 − 253.409 − 263.633175 = +0.042834 USDC
//! ```
//! ≥ 0, and less than one contract's worth (0.01 · 8.5075 = 0.085075) above.
use xmargin::errors::XmarginError;
use xmargin::events::PositionLiquidated;
use xmargin::instructions::{AddMarketArgs, MarketFundingArgs, UpdateMarketArgs};
use xmargin::state::account_flags::{BANKRUPT, BEING_LIQUIDATED};
use xmargin::state::{pause, MarginAccount};
use xmargin_risk::Rounding;
use xmargin_test_support::margin::{health_view, native_balance, set_pause_ix};
use xmargin_test_support::markets::{events, sol_perp_args};
use xmargin_test_support::world::{User, World};
use xmargin_test_support::{Address, Signer};

const USDC: u16 = 0;
const SOL: u16 = 1;
const PERP: u16 = 0;
const MICRO: u64 = 1_000_000;
/// 6,500 contracts of 0.01 SOL: 65 SOL.
const SIZE: u64 = 6_500;
/// $150 per SOL, per contract of 0.01 SOL.
const ENTRY: u64 = 1_500_000;

struct Book {
    w: World,
    alice: User,
    bob: User,
    carol: User,
}

/// The book of the module docs, Alice long (`long`) or short 65 SOL against Bob.
fn book(long: bool) -> Book {
    book_in(sol_perp_args(PERP), long)
}

fn book_in(market: AddMarketArgs, long: bool) -> Book {
    let mut w = World::new();
    w.add_market(market).expect_ok();
    let alice = w.user(10, [1_000 * MICRO, 0, 0]);
    let bob = w.user(11, [10_000 * MICRO, 0, 0]);
    let carol = w.user(12, [2_000 * MICRO, 0, 0]);
    w.deposit(&alice, USDC, 1_000 * MICRO).expect_ok();
    w.deposit(&bob, USDC, 10_000 * MICRO).expect_ok();
    w.deposit(&carol, USDC, 2_000 * MICRO).expect_ok();
    if long {
        w.trade(PERP, &alice, &bob, SIZE, ENTRY).expect_ok();
    } else {
        w.trade(PERP, &bob, &alice, SIZE, ENTRY).expect_ok();
    }
    let view = health_view(&mut w.env, &w.group.group, &alice.account);
    assert_eq!(view.init, 17_849_999, "17.85 USDC, floored: {view:?}");
    Book { w, alice, bob, carol }
}

/// SOL at `dollars` ± $0.10.
fn sol_at(w: &mut World, dollars: i64) {
    w.set_price(SOL, dollars * 100_000_000, 10_000_000);
}

fn view(w: &mut World, user: &User) -> xmargin::instructions::HealthView {
    health_view(&mut w.env, &w.group.group, &user.account)
}

fn usdc(w: &World, user: &User) -> i64 {
    native_balance(&w.env, &w.group.group, &user.account, USDC).to_i64(Rounding::Floor).unwrap()
}

/// Everything a liquidation may write: every account, the market, the
/// banks, the USDC vault and the insurance vault.
fn watched(w: &World) -> Vec<Address> {
    let mut v = w.accounts.clone();
    v.push(w.market_keys(PERP).market);
    v.extend(w.banks.iter().map(|k| k.bank));
    v.extend([w.banks[0].vault, w.group.insurance_vault]);
    v
}

#[test]
fn worked_example_one_step_to_liquidation_end_zero() {
    let Book { mut w, alice, bob, carol } = book(true);
    sol_at(&mut w, 140);
    let before = view(&mut w, &alice);
    assert_eq!((before.maint, before.liquidation_end), (-111_825_001, -339_487_501), "{before:?}");
    let insurance = w.env.token_balance(&w.group.insurance_vault);
    let vault = w.env.token_balance(&w.banks[0].vault);
    let bob_before = w.position(&bob, PERP);

    let out = w.liquidate_position(PERP, &alice, &carol, u64::MAX);
    println!("liquidate_position: {} CU", out.expect_ok());
    let event = &events::<PositionLiquidated>(&out.logs)[0];

    let a = w.position(&alice, PERP);
    let c = w.position(&carol, PERP);
    assert_eq!(c.base_contracts, 3_991, "closed form, rounded up to a whole contract");
    assert_eq!(a.base_contracts, 6_500 - 3_991);
    assert_eq!(c.quote_cost, 3_991 * 1_385_999, "Carol paid 1,385,999 µUSDC per contract");
    assert_eq!(a.quote_cost, 2_509 * 1_500_000, "Alice's cost basis shrinks proportionally");
    assert_eq!(a.realized_pnl, 3_991 * (1_385_999 - 1_500_000), "−454.977991 USDC realised");
    assert_eq!(w.position(&bob, PERP), bob_before, "the counterparty is not involved");
    assert_eq!(w.market(PERP).open_interest, SIZE, "Carol's long replaces Alice's");
    // The insurance fee: 39.91 SOL · $140 · 0.5 % = 27.937 USDC, out of the USDC vault into the fund.
    assert_eq!(w.env.token_balance(&w.group.insurance_vault) - insurance, 27_937_000);
    assert_eq!(vault - w.env.token_balance(&w.banks[0].vault), 27_937_000);
    assert_eq!(usdc(&w, &alice), 972_063_000);

    let after = view(&mut w, &alice);
    assert_eq!(after.liquidation_end, 42_833, "+0.042834 USDC, floored: {after:?}");
    // The program's LiquidationEnd after the step (from the two contributions
    // that moved) is the one the view recomputes from every position.
    assert_eq!((event.liqee_liq_end_before, event.liqee_liq_end_after), (before.liquidation_end, 42_833));
    assert!(after.liquidation_end >= 0 && after.liquidation_end < 85_075, "below one contract's worth");
    assert_eq!(after.maint, 87_920_558, "{after:?}");
    assert_eq!(w.flags(&alice) & BEING_LIQUIDATED, 0, "the step reached LiquidationEnd 0");
    let carol_view = view(&mut w, &carol);
    assert!(carol_view.init >= 0, "the liquidator keeps Init ≥ 0: {carol_view:?}");

    // Nothing more to take.
    let keys = watched(&w);
    let ix = w.liquidate_position_ix(PERP, &alice, &carol, u64::MAX);
    w.env.send_err(&[ix], &[&carol.wallet], XmarginError::NotLiquidatable, &keys);
}

/// Steps capped by `max_contracts`: 1,000, then 2,000, then the rest.
/// ```text
/// step 1: 10 SOL, realised 1,000 · (1.385999 − 1.5) = −114.001, fee 10 · 140 · 0.5 % = 7
///         LiqEnd = 993 − 114.001 + 55 · (−10.10) − 55 · 10.5075 = −254.4135   → BEING_LIQUIDATED
/// step 2: 20 SOL, realised −228.002 (−342.003 in all), fee 14
///         LiqEnd = 979 − 342.003 − 35 · 10.10 − 35 · 10.5075 = −84.2655
///         Maint  = 979 − 342.003 − 353.5 − 35 · 140.10 · 5 % = +38.322
/// ```
/// After step 2 Maint is positive: only the flag keeps the account
/// liquidatable, until LiquidationEnd reaches 0. Step 3 needs
/// `84.2655 / 8.5075 = 9.9048 SOL`: 991 contracts, 3,991 in all, and the same
/// end point as the single step; the flag clears.
#[test]
fn capped_steps_set_being_liquidated_until_the_last_one() {
    let Book { mut w, alice, carol, .. } = book(true);
    sol_at(&mut w, 140);
    let out = w.liquidate_position(PERP, &alice, &carol, 1_000);
    out.expect_ok();
    assert_eq!(w.position(&carol, PERP).base_contracts, 1_000);
    assert_eq!(usdc(&w, &alice), 993_000_000);
    let v = view(&mut w, &alice);
    assert_eq!(v.liquidation_end, -254_413_501, "{v:?}");
    assert_eq!(
        events::<PositionLiquidated>(&out.logs)[0].liqee_liq_end_after,
        v.liquidation_end,
        "event = view"
    );
    assert_eq!(w.flags(&alice) & BEING_LIQUIDATED, BEING_LIQUIDATED, "capped short of LiquidationEnd 0");

    w.liquidate_position(PERP, &alice, &carol, 2_000).expect_ok();
    let v = view(&mut w, &alice);
    assert_eq!((v.maint, v.liquidation_end), (38_321_999, -84_265_501), "{v:?}");
    assert_eq!(w.flags(&alice) & BEING_LIQUIDATED, BEING_LIQUIDATED);

    w.liquidate_position(PERP, &alice, &carol, u64::MAX).expect_ok();
    assert_eq!(w.position(&carol, PERP).base_contracts, 3_991, "as in one step");
    assert_eq!(usdc(&w, &alice), 972_063_000, "fees 7 + 14 + 6.937 USDC");
    let v = view(&mut w, &alice);
    assert_eq!(v.liquidation_end, 42_833, "{v:?}");
    assert_eq!(w.flags(&alice) & BEING_LIQUIDATED, 0, "the finishing step clears it");
    let keys = watched(&w);
    let ix = w.liquidate_position_ix(PERP, &alice, &carol, u64::MAX);
    w.env.send_err(&[ix], &[&carol.wallet], XmarginError::NotLiquidatable, &keys);
}

/// After the first capped step, Alice sells to Bob at $140 (1,400,000 per
/// contract). A sale that leaves her Init below 0 (allowed: it raises it)
/// keeps the flag; selling the rest leaves Init
/// `993 − 114.001 − 5,500 · 0.1 = 328.999 USDC ≥ 0` and clears it.
#[test]
fn a_trade_leaving_init_non_negative_clears_being_liquidated() {
    let Book { mut w, alice, bob, carol } = book(true);
    sol_at(&mut w, 140);
    w.liquidate_position(PERP, &alice, &carol, 1_000).expect_ok();
    assert_eq!(w.flags(&alice) & BEING_LIQUIDATED, BEING_LIQUIDATED);
    w.trade(PERP, &bob, &alice, 500, 1_400_000).expect_ok();
    let v = view(&mut w, &alice);
    assert!(v.init < 0, "{v:?}");
    assert_eq!(w.flags(&alice) & BEING_LIQUIDATED, BEING_LIQUIDATED, "Init still below 0");
    w.trade(PERP, &bob, &alice, 5_000, 1_400_000).expect_ok();
    assert_eq!(w.position(&alice, PERP).base_contracts, 0);
    assert_eq!(view(&mut w, &alice).init, 328_999_000);
    assert_eq!(w.flags(&alice) & BEING_LIQUIDATED, 0);
}

/// A deposit without health accounts cannot show the recovery; the next
/// withdrawal's Init check (Init ≥ 0 implies LiquidationEnd ≥ 0) clears the flag.
#[test]
fn a_withdrawal_passing_init_clears_being_liquidated() {
    let Book { mut w, alice, carol, .. } = book(true);
    sol_at(&mut w, 140);
    w.liquidate_position(PERP, &alice, &carol, 1_000).expect_ok();
    w.env.mint_to(&w.banks[0].mint.clone(), &alice.tokens[0], 2_000 * MICRO);
    w.deposit(&alice, USDC, 2_000 * MICRO).expect_ok();
    assert_eq!(w.flags(&alice) & BEING_LIQUIDATED, BEING_LIQUIDATED, "not shown healthy yet");
    w.withdraw(&alice, USDC, MICRO).expect_ok();
    assert_eq!(w.flags(&alice) & BEING_LIQUIDATED, 0);
    // Maint ≥ 0 and no flag: nothing to liquidate.
    let keys = watched(&w);
    let ix = w.liquidate_position_ix(PERP, &alice, &carol, u64::MAX);
    w.env.send_err(&[ix], &[&carol.wallet], XmarginError::NotLiquidatable, &keys);
}

/// Alice short 65 SOL at $150; SOL rises to $160 ± 0.10:
/// ```text
/// Maint  = 1,000 + 65 · (150 − 160.10) − 65 · 160.10 · 5 %   = 1,000 − 656.5 − 520.325  = −176.825
/// LiqEnd = 1,000 + 65 · (150 − 160.10) − 65 · 160.10 · 7.5 % = 1,000 − 656.5 − 780.4875 = −436.9875
/// ```
/// Each SOL bought back at 160 · 1.015 = 162.40 costs 162.40 − 160.10 = 2.30
/// of PnL and releases 160.10 · 7.5 % = 12.0075: net 9.7075, so
/// `q = 436.9875 / 9.7075 = 45.0154 SOL` → 4,502 contracts. Carol sells them
/// at `0.01 · 160 · 1.01 = 1.616 USDC` (1,616,000 µUSDC, rounded up); Alice
/// pays `45.02 · 160 · 0.5 % = 36.016 USDC` of insurance fee. After:
/// ```text
/// LiqEnd = 963.984 − 4,502 · 0.116 + 19.98 · (150 − 160.10) − 19.98 · 160.10 · 7.5 %
///        = 963.984 − 522.232 − 201.798 − 239.90985 = +0.04415
/// ```
#[test]
fn a_short_is_bought_back_above_the_oracle() {
    let Book { mut w, alice, bob, carol } = book(false);
    sol_at(&mut w, 160);
    let before = view(&mut w, &alice);
    assert_eq!((before.maint, before.liquidation_end), (-176_825_001, -436_987_501), "{before:?}");
    let insurance = w.env.token_balance(&w.group.insurance_vault);
    w.liquidate_position(PERP, &alice, &carol, u64::MAX).expect_ok();
    let (a, c) = (w.position(&alice, PERP), w.position(&carol, PERP));
    assert_eq!(c.base_contracts, -4_502);
    assert_eq!(a.base_contracts, -(6_500 - 4_502));
    assert_eq!(c.quote_cost, -4_502 * 1_616_000, "Carol sold at 1,616,000 µUSDC per contract");
    assert_eq!(a.realized_pnl, 4_502 * (1_500_000 - 1_616_000));
    assert_eq!(w.env.token_balance(&w.group.insurance_vault) - insurance, 36_016_000);
    assert_eq!(usdc(&w, &alice), 963_984_000);
    assert_eq!(w.position(&bob, PERP).base_contracts, 6_500);
    let after = view(&mut w, &alice);
    assert_eq!(after.liquidation_end, 44_149, "{after:?}");
    assert_eq!(w.flags(&alice) & BEING_LIQUIDATED, 0);
}

/// Every refusal names its error and changes nothing.
#[test]
fn refusals() {
    let Book { mut w, alice, bob, carol } = book(true);
    let dave = w.user(13, [100 * MICRO, 0, 0]);
    w.deposit(&dave, USDC, 100 * MICRO).expect_ok();
    // A second perpetual, in which Alice holds nothing.
    w.add_market(sol_perp_args(1)).expect_ok();
    let keys = watched(&w);
    let g = w.group.group;

    // Healthy (Init 17.85 USDC).
    let ix = w.liquidate_position_ix(PERP, &alice, &carol, u64::MAX);
    w.env.send_err(&[ix], &[&carol.wallet], XmarginError::NotLiquidatable, &keys);
    sol_at(&mut w, 140);
    let keys = watched(&w);

    let ix = w.liquidate_position_ix(PERP, &alice, &alice, u64::MAX);
    w.env.send_err(&[ix], &[&alice.wallet], XmarginError::SelfLiquidation, &keys);
    let ix = w.liquidate_position_ix(PERP, &alice, &carol, 0);
    w.env.send_err(&[ix], &[&carol.wallet], XmarginError::ZeroAmount, &keys);
    // Someone else signing for Carol's account.
    let mut ix = w.liquidate_position_ix(PERP, &alice, &carol, u64::MAX);
    ix.accounts[5].pubkey = dave.wallet.pubkey();
    w.env.send_err(&[ix], &[&dave.wallet], XmarginError::UnauthorizedOwner, &keys);
    // Accounts: [group, market, oracle, liqee, liqor, authority, quote bank, vault, insurance vault, …].
    let mut ix = w.liquidate_position_ix(PERP, &alice, &carol, u64::MAX);
    ix.accounts[8].pubkey = carol.tokens[0];
    w.env.send_err(&[ix], &[&carol.wallet], XmarginError::WrongInsuranceVault, &keys);
    let mut ix = w.liquidate_position_ix(PERP, &alice, &carol, u64::MAX);
    ix.accounts[6].pubkey = w.banks[1].bank;
    ix.accounts[7].pubkey = w.banks[1].vault;
    w.env.send_err(&[ix], &[&carol.wallet], XmarginError::WrongQuoteBank, &keys);
    let mut ix = w.liquidate_position_ix(PERP, &alice, &carol, u64::MAX);
    ix.accounts[2].pubkey = w.banks[2].oracle;
    w.env.send_err(&[ix], &[&carol.wallet], XmarginError::WrongOracle, &keys);
    // A market Alice holds nothing in.
    let ix = w.liquidate_position_ix(1, &alice, &carol, u64::MAX);
    w.env.send_err(&[ix], &[&carol.wallet], XmarginError::NoPosition, &keys);
    // Dave's 100 USDC cannot carry 39.91 SOL long (Init requirement 39.91 · 150 · 10 % = 598.65).
    let ix = w.liquidate_position_ix(PERP, &alice, &dave, u64::MAX);
    w.env.send_err(&[ix], &[&dave.wallet], XmarginError::LiquidatorHealthTooLow, &keys);

    // Liquidations paused.
    let admin = w.admin.insecure_clone();
    w.env.send_ok(&[set_pause_ix(&g, &admin.pubkey(), pause::LIQUIDATIONS)], &[&admin]);
    let ix = w.liquidate_position_ix(PERP, &alice, &carol, u64::MAX);
    w.env.send_err(&[ix], &[&carol.wallet], XmarginError::GroupPaused, &keys);
    w.env.send_ok(&[set_pause_ix(&g, &admin.pubkey(), 0)], &[&admin]);

    // The liquidated market's oracle is stale (USDC's is fresh): never liquidate on a price that may be wrong.
    w.env.warp(61);
    w.set_price(USDC, 100_000_000, 0);
    let keys = watched(&w);
    let ix = w.liquidate_position_ix(PERP, &alice, &carol, u64::MAX);
    w.env.send_err(&[ix], &[&carol.wallet], XmarginError::OracleStale, &keys);

    // Fresh again, the same liquidation goes through.
    sol_at(&mut w, 140);
    w.liquidate_position(PERP, &alice, &carol, u64::MAX).expect_ok();
    assert_eq!(w.position(&carol, PERP).base_contracts, 3_991);
    let _ = bob;
}

/// The bankruptcy path. On a SOL-PERP without funding (premium cap 0, so
/// every number stays exact), SOL gaps from $150 to $132.8125 ± 0.10 (0.1328125
/// µUSDC per lamport: exact in binary). Alice's equity at the oracle is
/// `1,000 − 65 · 17.1875 = −117.1875 USDC`: insolvent, she pays the full 1.5 %
/// and the closed form asks for more than she holds, so Carol takes all 6,500
/// contracts at `⌊0.01 · 132.8125 · 0.99⌋ = 1,314,843 µUSDC` each:
/// ```text
/// realised   6,500 · (1.314843 − 1.5)           = −1,203.5205 USDC
/// insurance  65 · 132.8125 · 0.5 %              =     43.164063 (rounded up)
/// USDC       1,000 − 43.164063                  =    956.835937
/// ```
/// Her position is gone, her loss is not, and she still holds USDC: not
/// bankrupt yet, still being liquidated. `settle_pnl` is refused while the
/// oracle is 11.5 % from the stable price (band 5 %); an hour later
/// `update_funding` moves the stable price to the oracle (at most 20 %/h) and
/// the winners settle: Bob's short gained `65 · (150 − 132.8125) = 1,117.1875`,
/// Carol's discount `65 · 132.8125 − 6,500 · 1.314843 = 86.333` — together
/// exactly Alice's loss. Her USDC becomes a borrow of
/// `956.835937 − 1,203.5205 = −246.684563`, nothing is left to seize:
/// BANKRUPT. `resolve_bankruptcy` pays it from the insurance fund and leaves
/// the account empty with no flag.
#[test]
fn a_loss_left_after_the_position_is_gone_goes_through_bankruptcy() {
    let no_funding = AddMarketArgs {
        funding: MarketFundingArgs { max_funding_premium_bps: 0, twap_window_secs: 3_600, mark_depth: 100 },
        ..sol_perp_args(PERP)
    };
    let Book { mut w, alice, bob, carol } = book_in(no_funding, true);
    w.set_price(SOL, 13_281_250_000, 10_000_000);
    let insurance = w.group.insurance_vault;
    let fund_before = w.env.token_balance(&insurance);
    w.liquidate_position(PERP, &alice, &carol, u64::MAX).expect_ok();
    let a = w.position(&alice, PERP);
    assert_eq!((a.base_contracts, a.quote_cost), (0, 0), "the whole position went");
    assert_eq!(a.realized_pnl, 6_500 * (1_314_843 - 1_500_000));
    assert_eq!(w.position(&carol, PERP).quote_cost, 6_500 * 1_314_843);
    assert_eq!(w.env.token_balance(&insurance) - fund_before, 43_164_063);
    assert_eq!(usdc(&w, &alice), 956_835_937);
    assert_eq!(w.flags(&alice), BEING_LIQUIDATED, "LiquidationEnd < 0, but USDC left: not bankrupt");
    let v = view(&mut w, &alice);
    assert_eq!(v.liquidation_end, 956_835_937 - 1_203_520_500, "{v:?}");
    // Nothing left to take over.
    let keys = watched(&w);
    let ix = w.liquidate_position_ix(PERP, &alice, &carol, u64::MAX);
    w.env.send_err(&[ix], &[&carol.wallet], XmarginError::LiquidationNotImproving, &keys);
    w.settle_pnl(PERP, &bob, &alice).expect_error(XmarginError::OracleFarFromStable);

    w.env.warp(3_600);
    w.refresh_prices();
    w.update_funding(PERP).expect_ok();
    assert_eq!(w.market(PERP).cum_funding.get(), xmargin_risk::Fixed::ZERO, "no funding");
    w.settle_pnl(PERP, &bob, &alice).expect_ok();
    assert_eq!(usdc(&w, &bob), 10_000_000_000 + 1_117_187_500);
    assert_eq!(usdc(&w, &alice), 956_835_937 - 1_117_187_500, "a USDC borrow");
    assert_eq!(w.flags(&alice), BEING_LIQUIDATED | BANKRUPT, "debt and nothing to seize");
    w.settle_pnl(PERP, &carol, &alice).expect_ok();
    assert_eq!(usdc(&w, &carol), 2_000_000_000 + 86_333_000);
    assert_eq!(usdc(&w, &alice), -246_684_563);
    assert!(w.env.zero_copy::<MarginAccount>(&alice.account).derivative_position(PERP).is_none());
    assert_eq!(w.flags(&alice) & BANKRUPT, BANKRUPT);

    w.env.mint_to(&w.group.quote_mint.clone(), &insurance, 1_000 * MICRO);
    let fund = w.env.token_balance(&insurance);
    w.resolve(&alice, USDC).expect_ok();
    assert_eq!(fund - w.env.token_balance(&insurance), 246_684_563, "the fund paid the debt");
    assert_eq!(w.flags(&alice), 0);
    assert!(w.env.zero_copy::<MarginAccount>(&alice.account).is_empty());
}

/// A size premium raised on an open book applies at once, and the step is
/// sized on the requirement's slope (the tangent), not its average, so it
/// does not over-liquidate. SOL stays at $150 ± 0.10; the admin raises the
/// premium to 1,000 ppm (0.001 per √contract; 0.01 per √SOL with 0.01 SOL
/// contracts). Alice's 6,500 contracts: `√6,500 = 80.62`, `+8.0623 %`:
/// ```text
/// Maint   rate max(5 %,   4 % + 8.0623 %) = 12.0623 %: 1,000 − 6.5 − 65 · 150.10 · 12.0623 % = −183.354 USDC
/// LiqEnd  rate max(7.5 %, 6 % + 8.0623 %) = 14.0623 %: 1,000 − 6.5 − 1,371.984            = −378.484 USDC
/// ```
/// Bonus 1.5 % (equity 1,000, no debts): each SOL closed at 147.75 changes
/// the PnL by 147.75 − 149.90 = −2.15. Keeping `x` SOL the requirement is
/// `x · 150.10 · (6 % + 0.01 · √x)`, so LiquidationEnd reaches 0 at
/// `993.5 − 2.15 · (65 − x) = x · 150.10 · (0.06 + 0.01 · √x)`: `x = 49.131`,
/// 15.869 SOL closed, **1,587 contracts** rounded up. After: 49.13 SOL left,
/// `√4,913 = 70.09`, rate 6 % + 7.009 % = 13.009 %:
/// ```text
/// USDC      1,000 − 15.87 · 150 · 0.5 % (insurance)     = 988.0975
/// realised  1,587 · (1.484999 − 1.5)                   = −23.806587
/// left      49.13 · (149.90 − 150)                     = −4.913
/// LiqEnd  = 988.0975 − 23.806587 − 4.913 − 49.13 · 150.10 · 13.009 %
///         = 988.0975 − 28.719587 − 959.358003           = +0.019909 USDC
/// ```
/// (Carol pays `0.01 · 150 · 0.99` floored: 1,484,999 µUSDC a contract.) The
/// average rate (14.0623 %, 21.107 per SOL) would have taken 19.965 SOL and
/// left LiqEnd at +91.35 USDC. The first tangent step alone (slope
/// `150.10 · (1.5 · 14.0623 % − 0.4 · 7.5 %) = 27.158`) takes
/// `378.484 / (27.158 − 2.15) = 15.135` SOL; the next steps close the gap.
#[test]
fn a_raised_size_premium_liquidates_on_the_tangent() {
    let Book { mut w, alice, carol, .. } = book(true);
    let mut risk = sol_perp_args(PERP).risk;
    risk.size_premium_ppm = 1_000;
    w.update_market(PERP, UpdateMarketArgs { risk: Some(risk), ..Default::default() }).expect_ok();
    let before = view(&mut w, &alice);
    assert!((-183_354_179..=-183_354_177).contains(&before.maint), "{before:?}");
    assert!((-378_484_179..=-378_484_177).contains(&before.liquidation_end), "{before:?}");

    let cu = w.liquidate_position(PERP, &alice, &carol, u64::MAX).expect_ok();
    println!("liquidate_position with a size premium: {cu} CU");
    assert_eq!(w.position(&carol, PERP).base_contracts, 1_587);
    assert_eq!(w.position(&alice, PERP).base_contracts, 6_500 - 1_587);
    let after = view(&mut w, &alice);
    // One contract is worth 0.01 · (150.10 · (1.5 · 13.009 % − 0.45 %) − 2.15) ≈ 0.27 USDC of LiqEnd.
    assert!(after.liquidation_end >= 0 && after.liquidation_end < 270_000, "{after:?}");
    assert_eq!(after.liquidation_end, 19_909, "+0.019909 USDC: {after:?}");
    assert_eq!(w.flags(&alice) & BEING_LIQUIDATED, 0);
}
