//! Option positions in linear mode: trading at the model value, the
//! requirement of shorts (Derive's shape) and longs (never above their
//! value) in `compute_health`, a stale or drifted risk array refusing
//! risk-increasing actions and never deposits or repays, and every refused
//! trade with its exact error and nothing changed.
use xmargin::derivatives::per_contract;
use xmargin::errors::XmarginError;
use xmargin::options::RISK_ARRAY_MAX_AGE_SECS;
use xmargin_client::market_instructions as mixs;
use xmargin_test_support::margin::{approx_f64, bank_keys, health_view, withdraw_ix};
use xmargin_test_support::markets::assert_market_conservation;
use xmargin_test_support::options::{option_desk, sol_call_args, sol_put_args, STRIKE_165, THIRTY_DAYS};
use xmargin_test_support::world::{User, World};
use xmargin_test_support::{Address, Signer};

const USDC: u16 = 0;
const SOL: u16 = 1;
const CALL: u16 = 0;
/// Model value of the $165 call per 0.01 SOL contract at $150 (µUSDC, `options_listing`).
const MODEL: u64 = 49_053;

fn market_address(w: &World, index: u16) -> Address {
    xmargin::pda::market_address(&w.group.group, index).0
}

/// The accounts a refused instruction on `users` must leave untouched.
fn watched(w: &World, users: &[&User]) -> Vec<Address> {
    let mut keys: Vec<Address> = users.iter().map(|u| u.account).collect();
    keys.extend([
        market_address(w, CALL),
        w.banks[0].bank,
        w.banks[0].vault,
        w.banks[1].bank,
        w.banks[1].vault,
    ]);
    keys
}

#[track_caller]
fn refused_trade(
    w: &mut World,
    m: u16,
    buyer: &User,
    seller: &User,
    size: u64,
    price: u64,
    code: XmarginError,
) {
    let keys = watched(w, &[buyer, seller]);
    let ix = w.trade_ix(m, buyer, seller, size, price);
    w.env.send_err(&[ix], &[&buyer.wallet, &seller.wallet], code, &keys);
}

#[track_caller]
fn refused_withdraw(w: &mut World, user: &User, token: u16, amount: u64, code: XmarginError) {
    let keys = watched(w, &[user]);
    let g = w.group.group;
    let ix = withdraw_ix(
        &w.env,
        &g,
        &user.account,
        token,
        &user.tokens[token as usize],
        &user.wallet.pubkey(),
        amount,
    );
    w.env.send_err(&[ix], &[&user.wallet], code, &keys);
}

/// Alice buys 100 calls (1 SOL) from Bob at the model value. Bob's short
/// pays 13 % of the Init price (the call is 10 % out of the money: Derive's
/// floor) and 9 % in Maint; Alice's long `10 % · S · Δ`, below its value.
#[test]
fn a_short_call_pays_derives_floor_and_a_long_at_most_its_value() {
    let (mut w, alice, bob) = option_desk(CALL);
    w.trade(CALL, &alice, &bob, 100, MODEL).expect_ok();
    assert_market_conservation(&w, CALL, &[&alice, &bob]);
    assert_eq!((w.position(&alice, CALL).base_contracts, w.position(&bob, CALL).base_contracts), (100, -100));
    let g = w.group.group;

    // The array was computed at the oracle, $150; each side values the call at
    // its own price of the ±$0.10 band, the model value moved by Δ (and a
    // short by ½Γ·move² more): `move` per SOL in USDC.
    let a = w.market(CALL).risk_array;
    let (delta, gamma) = (approx_f64(a.delta.get()), approx_f64(a.gamma.get()) / 1e3);
    assert!((0.31..0.33).contains(&delta), "{delta}");
    let owed_move = (delta * 0.10 + 0.5 * gamma * 0.01) * 1e6;
    // Bob: 1,000 USDC; the call owed at the liability price 150.10 (oracle +
    // confidence) against the 4.9053 USDC received: a PnL of −Δ·0.10 − ½Γ·0.01
    // ≈ −0.0321 USDC (and a few units of rounding). Init 13 % · 150.10 =
    // 19.513 USDC; Maint 9 % = 13.509; LiquidationEnd 11 % = 16.511.
    let b = health_view(&mut w.env, &g, &bob.account);
    let near = |got: i64, want: f64| (got as f64 - want).abs() < 200.0;
    assert!(near(b.init, 1e9 - 19_513_000.0 - owed_move), "{b:?} vs {owed_move}");
    assert!(near(b.maint, 1e9 - 13_509_000.0 - owed_move), "{b:?}");
    assert!(near(b.liquidation_end, 1e9 - 16_511_000.0 - owed_move), "{b:?}");
    // Alice: the call at the asset price 149.90, Δ·0.10 under the model
    // value she paid: a loss, counted in full in every type. Requirement
    // 10 % · 150.10 · Δ per SOL (Δ ≈ 0.32): ≈ 4.80 USDC < the value.
    let req = 150.10 * 0.10 * delta * 1e6;
    let loss = delta * 0.10 * 1e6;
    let a = health_view(&mut w.env, &g, &alice.account);
    // Less loss by the price's rounding: 49,053 paid per contract worth
    // 49,054.03 at the array's spot, 100 · 1.03 = 103 units, give or take one.
    assert!((101.0..=105.0).contains(&(a.init as f64 - (1e9 - req - loss))), "{a:?} vs {req}");
    // Maint: 5 % · 150.10 · Δ.
    assert!((101.0..=105.0).contains(&(a.maint as f64 - (1e9 - req / 2.0 - loss))), "{a:?}");
}

/// A far out-of-the-money short is never free (13 % of spot in Init), and
/// a deep out-of-the-money long never requires more than its (tiny) value.
#[test]
fn far_out_of_the_money_shorts_are_never_free() {
    let mut w = World::new();
    let now = w.env.unix_time();
    // A put struck at $20 (13 % of spot, 30 days): worth well under a unit per contract.
    w.add_option_market(sol_put_args(0, 200_000, now + THIRTY_DAYS)).expect_ok();
    w.update_risk_array(0).expect_ok();
    let alice = w.user(10, [1_000_000_000, 0, 0]);
    let bob = w.user(11, [1_000_000_000, 0, 0]);
    w.deposit(&alice, USDC, 1_000_000_000).expect_ok();
    w.deposit(&bob, USDC, 1_000_000_000).expect_ok();
    assert_eq!(
        w.market(0)
            .risk_array
            .value
            .get()
            .checked_mul_int(10_000_000)
            .unwrap()
            .to_i64(xmargin_risk::Rounding::Floor)
            .unwrap(),
        0
    );
    // Band ±5 % around a model value of 0 per contract: only price 0 is inside, and 0 is no price.
    refused_trade(&mut w, 0, &alice, &bob, 100, 1, XmarginError::PriceOutsideBand);
    refused_trade(&mut w, 0, &alice, &bob, 100, 0, XmarginError::ZeroAmount);
}

/// Stale (600 s), drifted (2 %) or revalued-at-another-volatility arrays
/// refuse withdrawals of both sides with the named error, nothing changed;
/// deposits and repays (with or without health accounts) go through; a
/// fresh array restores everything.
#[test]
fn a_stale_or_drifted_array_blocks_risk_but_not_deposits_or_repays() {
    let (mut w, alice, bob) = option_desk(CALL);
    // Carol lends SOL; Bob borrows 1 SOL while the array is fresh.
    let carol = w.user(12, [0, 10_000_000_000, 0]);
    w.deposit(&carol, SOL, 10_000_000_000).expect_ok();
    w.trade(CALL, &alice, &bob, 100, MODEL).expect_ok();
    w.withdraw(&bob, SOL, 1_000_000_000).expect_ok();
    w.withdraw(&alice, USDC, 2_000_000).expect_ok();
    w.withdraw(&bob, USDC, 2_000_000).expect_ok();

    // Ten minutes and a second later (oracle republished: only the array is old).
    w.env.warp(RISK_ARRAY_MAX_AGE_SECS as i64 + 1);
    w.refresh_prices();
    refused_withdraw(&mut w, &bob, USDC, 1_000_000, XmarginError::RiskArrayStale);
    refused_withdraw(&mut w, &alice, USDC, 1_000_000, XmarginError::RiskArrayStale);
    refused_trade(&mut w, CALL, &alice, &bob, 1, MODEL, XmarginError::RiskArrayStale);
    let g = w.group.group;
    let keys = watched(&w, &[&bob]);
    let before = w.env.snapshot(&keys);
    w.env.send_err(
        &[xmargin_test_support::margin::compute_health_ix(&w.env, &g, &bob.account)],
        &[],
        XmarginError::RiskArrayStale,
        &keys,
    );
    assert_eq!(before, w.env.snapshot(&keys));
    // Deposits and repays: plain and with the health accounts (valued at the bounds).
    w.deposit(&bob, USDC, 500_000).expect_ok();
    w.repay(&bob, SOL, 100_000_000).expect_ok();
    w.pay_in_with_health(&bob, SOL, 100_000_000, true).expect_ok();
    w.pay_in_with_health(&alice, USDC, 500_000, false).expect_ok();
    w.update_risk_array(CALL).expect_ok();
    w.withdraw(&bob, USDC, 1_000_000).expect_ok();

    // SOL +2 % (150 → 153): drifted; 1.99 % is not.
    w.set_price(SOL, 15_298_000_000, 10_000_000);
    w.withdraw(&alice, USDC, 1_000_000).expect_ok();
    w.set_price(SOL, 15_300_000_000, 10_000_000);
    refused_withdraw(&mut w, &alice, USDC, 1_000_000, XmarginError::RiskArrayDrifted);
    refused_withdraw(&mut w, &bob, USDC, 1_000_000, XmarginError::RiskArrayDrifted);
    w.repay(&bob, SOL, 100_000_000).expect_ok();
    w.pay_in_with_health(&bob, SOL, 100_000_000, true).expect_ok();
    w.update_risk_array(CALL).expect_ok();
    w.withdraw(&alice, USDC, 1_000_000).expect_ok();

    // A raised volatility is in force at once: the array computed at 60 % is stale until revalued.
    w.set_volatility(CALL, 7_000).expect_ok();
    refused_withdraw(&mut w, &bob, USDC, 1_000_000, XmarginError::RiskArrayStale);
    w.update_risk_array(CALL).expect_ok();
    w.withdraw(&bob, USDC, 1_000_000).expect_ok();
    assert_market_conservation(&w, CALL, &[&alice, &bob]);
}

/// The band is around the model value, an option without an array cannot
/// trade, an expired series is refused, and option positions are not
/// PnL-settled yet.
#[test]
fn option_trade_refusals() {
    let (mut w, alice, bob) = option_desk(CALL);
    // 5 % band around the model value (≈ 49,053.x per contract): the bounds
    // rounded inward, as for the oracle band.
    let m = w.market(CALL);
    let (value, band) = (m.risk_array.value.get(), m.risk.price_band.get());
    let one = xmargin_risk::Fixed::ONE;
    let (ceil, floor) = (xmargin_risk::Rounding::Ceil, xmargin_risk::Rounding::Floor);
    let lo =
        per_contract(&m, value.checked_mul(one.checked_sub(band).unwrap(), ceil).unwrap(), ceil).unwrap();
    let hi =
        per_contract(&m, value.checked_mul(one.checked_add(band).unwrap(), floor).unwrap(), floor).unwrap();
    assert!((46_590..46_610).contains(&lo) && (51_495..51_515).contains(&hi), "{lo} {hi}");
    refused_trade(&mut w, CALL, &alice, &bob, 100, lo - 1, XmarginError::PriceOutsideBand);
    refused_trade(&mut w, CALL, &alice, &bob, 100, hi + 1, XmarginError::PriceOutsideBand);
    w.trade(CALL, &alice, &bob, 1, lo).expect_ok();
    w.trade(CALL, &alice, &bob, 1, hi).expect_ok();
    // The seller must keep Init ≥ 0: 1,000 USDC carries at most ~51 SOL of short calls.
    refused_trade(&mut w, CALL, &alice, &bob, 6_000, MODEL, XmarginError::TradeHealthTooLow);

    // A new series before its first update_risk_array.
    let now = w.env.unix_time();
    w.add_option_market(sol_call_args(1, 1_500_000, now + 1_801)).expect_ok();
    refused_trade(&mut w, 1, &alice, &bob, 1, 10_000, XmarginError::RiskArrayOtherGrid);
    w.update_risk_array(1).expect_ok();
    // Expired: no trade, no revaluation.
    w.env.warp(1_801);
    w.refresh_prices();
    refused_trade(&mut w, 1, &alice, &bob, 1, 10_000, XmarginError::MarketExpired);

    // No PnL settlement in option markets (yet); liquidation: options_liquidation.rs.
    w.update_risk_array(CALL).expect_ok();
    let keys = watched(&w, &[&alice, &bob]);
    let ix = mixs::settle_pnl(
        &w.group.group,
        &w.market_keys(CALL),
        &alice.account,
        &bob.account,
        &bank_keys(&w.env, &w.group.group, USDC).bank,
    );
    w.env.send_err(&[ix], &[], XmarginError::WrongMarketKind, &keys);
    assert_eq!(STRIKE_165, 1_650_000);
}

/// The band is around the model value moved to the oracle, not the array's
/// stale value. A $120 call (in the money, Δ 0.917) has its array at $150:
/// 310,541.96 µUSDC per contract. SOL then rises 1.9 % to $152.85 (± 0.10,
/// within the 2 % drift, no recompute): the call is worth about
/// `31.0542 + 0.9167 · 2.85 = 33.667` per SOL at the oracle, so the ±5 %
/// band is about [319,838, 353,502] per contract: the stale 310,542 is
/// refused (a seller would have been filled 8 % under the option's worth),
/// the moved value fills.
#[test]
fn the_option_band_follows_the_oracle_from_the_array() {
    let (mut w, alice, bob) = option_desk(CALL);
    let now = w.env.unix_time();
    const ITM: u16 = 1;
    w.add_option_market(sol_call_args(ITM, 1_200_000, now + THIRTY_DAYS)).expect_ok();
    w.update_risk_array(ITM).expect_ok();
    let a = w.market(ITM).risk_array;
    let stale = per_contract(&w.market(ITM), a.value.get(), xmargin_risk::Rounding::Ceil).unwrap();
    assert_eq!(stale, 310_542);
    w.set_price(SOL, 15_285_000_000, 10_000_000);
    // Per lamport: 2.85 USDC per SOL is 0.00285 µUSDC per lamport; a contract is 10^7 lamports.
    let moved = (approx_f64(a.value.get()) + approx_f64(a.delta.get()) * 0.00285) * 1e7;
    assert!((moved - 336_670.0).abs() < 100.0, "{moved}");
    let keys = watched(&w, &[&alice, &bob]);
    let ix = w.trade_ix(ITM, &alice, &bob, 10, stale);
    w.env.send_err(&[ix], &[&alice.wallet, &bob.wallet], XmarginError::PriceOutsideBand, &keys);
    w.trade(ITM, &alice, &bob, 10, moved.round() as u64).expect_ok();
    assert_market_conservation(&w, ITM, &[&alice, &bob]);
}

/// The band is around the central value at the oracle, which keeps falling
/// with the price (past the parabola's vertex too). A 7-day $165 call at
/// $150 (worth about 0.82 USDC per SOL); SOL then falls 1.5 % to $147.75
/// (± 0.10; no recompute): the central value is about 0.5 per SOL. A trade
/// at the array's stale value is refused, one at the central value fills,
/// one 6 % under it is refused.
#[test]
fn the_option_band_follows_the_central_value_after_a_fall() {
    use xmargin_risk::health::option_margin::fair_value_at;
    use xmargin_risk::Rounding;
    let (mut w, alice, bob) = option_desk(CALL);
    let now = w.env.unix_time();
    const WEEK: u16 = 1;
    w.add_option_market(sol_call_args(WEEK, STRIKE_165, now + 7 * 86_400)).expect_ok();
    w.update_risk_array(WEEK).expect_ok();
    let m = w.market(WEEK);
    let stale = per_contract(&m, m.risk_array.value.get(), Rounding::Floor).unwrap();
    assert!((7_000..9_500).contains(&stale), "{stale}");
    w.set_price(SOL, 14_775_000_000, 10_000_000);
    let now = w.env.unix_time();
    let terms = m.option_terms(now);
    // 147.75 USDC per SOL is 0.14775 µUSDC per lamport.
    let oracle = xmargin_risk::Fixed::from_ratio(14_775, 100_000, Rounding::Floor).unwrap();
    let fair = fair_value_at(
        &m.risk_array.array_value(),
        (terms.is_call, terms.strike),
        oracle,
        (false, xmargin_risk::Fixed::ZERO),
    )
    .unwrap();
    let fair = per_contract(&m, fair, Rounding::Floor).unwrap();
    assert!(fair * 105 / 100 < stale, "the stale value {stale} is outside the band around {fair}");
    let keys = watched(&w, &[&alice, &bob]);
    for refused in [stale, fair * 94 / 100] {
        let ix = w.trade_ix(WEEK, &alice, &bob, 10, refused);
        w.env.send_err(&[ix], &[&alice.wallet, &bob.wallet], XmarginError::PriceOutsideBand, &keys);
    }
    w.trade(WEEK, &alice, &bob, 10, fair).expect_ok();
    assert_market_conservation(&w, WEEK, &[&alice, &bob]);
}
