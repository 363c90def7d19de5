//! `trade`, worked examples a reviewer can check by hand: open, reduce and
//! flip a SOL perpetual position between two accounts; the rounding of a
//! partial close; the Init cap on positive PnL; a risk-reducing trade while
//! Init < 0; `BEING_LIQUIDATED` cleared by a trade. The market's accounting
//! identity (`assert_market_conservation`) is checked after every instruction.
//!
//! The market (`sol_perp_args`): contracts of 0.01 SOL; Init 10 %, LiqEnd
//! 7.5 %, Maint 5 % of notional; positive PnL counts 50 % (Init), 75 %
//! (LiqEnd), 90 % (Maint), at most 100 USDC per position in Init. SOL is
//! $150.00 ± 0.10 and the stable price $150, so a long is valued at 149.90
//! and a short at 150.10 (Init: also against the stable price), and every
//! requirement is on |base| · 150.10. A price of 150.00 USDC/SOL is
//! 1,500,000 quote native per contract.
//!
//! Fixed point (48 fractional bits): 0.1499 and 0.1501 (USDC native per
//! lamport) and rates such as 10 % are not binary fractions. Prices and
//! rates are stored rounded down, every product is rounded against the
//! account, and `compute_health` floors: a health whose decimal value is a
//! whole number of native units reads either that number or one unit below
//! it (984.89 USDC → 984_889_999), never further off.
use xmargin::events::Traded;
use xmargin::instructions::HealthView;
use xmargin::state::account_flags::BEING_LIQUIDATED;
use xmargin::state::DerivativePosition;
use xmargin_test_support::margin::health_view;
use xmargin_test_support::markets::{assert_market_conservation, events, sol_perp_args};
use xmargin_test_support::world::{User, World};
use xmargin_test_support::Signer;

const USDC: u16 = 0;
const SOL: u16 = 1;
const PERP: u16 = 0;
const MICRO: u64 = 1_000_000;
/// 150.00 USDC per SOL, per 0.01-SOL contract.
const P150: u64 = 1_500_000;

/// A SOL perpetual and two users who deposited `usdc` each.
fn desk(usdc: u64) -> (World, User, User) {
    let mut w = World::new();
    w.add_market(sol_perp_args(PERP)).expect_ok();
    let alice = w.user(10, [usdc, 0, 0]);
    let bob = w.user(11, [usdc, 0, 0]);
    w.deposit(&alice, USDC, usdc).expect_ok();
    w.deposit(&bob, USDC, usdc).expect_ok();
    (w, alice, bob)
}

/// (base contracts, quote cost, realised PnL).
fn pos(w: &World, u: &User) -> (i64, i64, i64) {
    let p: DerivativePosition = w.position(u, PERP);
    (p.base_contracts, p.quote_cost, p.realized_pnl)
}

fn view(w: &mut World, u: &User) -> HealthView {
    let g = w.group.group;
    health_view(&mut w.env, &g, &u.account)
}

/// `(init, maint, liquidation_end)` of a view.
fn healths(v: &HealthView) -> (i64, i64, i64) {
    (v.init, v.maint, v.liquidation_end)
}

/// Trades, asserts success and the market's accounting; returns the event.
#[track_caller]
fn trade(w: &mut World, buyer: &User, seller: &User, size: u64, price: u64, all: &[&User]) -> Traded {
    let out = w.trade(PERP, buyer, seller, size, price);
    out.expect_ok();
    assert_market_conservation(w, PERP, all);
    let mut traded = events::<Traded>(&out.logs);
    assert_eq!(traded.len(), 1, "one Traded event");
    traded.remove(0)
}

/// Alice and Bob deposit 1,000 USDC each.
///
/// 1. **Open.** Alice buys 100 contracts (1 SOL) from Bob at 150.00: Alice
///    (base 100, cost 150,000,000, realised 0), Bob (−100, −150,000,000, 0);
///    open interest 100. Alice's Init: value 1 · 149.90 − cost 150 = −0.10
///    (a loss counts in full), requirement 10 % · 1 · 150.10 = 15.01, so
///    1,000 − 0.10 − 15.01 = **984.89**; Maint 1,000 − 0.10 − 7.505 = 992.395;
///    LiqEnd 1,000 − 0.10 − 11.2575 = 988.6425. Bob's short is valued at
///    150.10: the same −0.10 and the same figures.
/// 2. **Reduce.** Alice sells 40 to Bob at 152.00 (1,520,000): she removes
///    40/100 of her cost (60,000,000) and realises 40 · 1,520,000 − 60,000,000
///    = **800,000** = 40 · (1.52 − 1.50) USDC; Bob realises −800,000. Alice
///    (60, 90,000,000, 800,000), Bob (−60, −90,000,000, −800,000); open
///    interest 60. Alice's Init: PnL 0.6 · 149.90 − (90 − 0.8) = +0.74 at 50 %
///    = 0.37, requirement 0.6 · 15.01 = 9.006: **991.364**. Bob: PnL
///    −0.6 · 150.10 + 89.2 = −0.86: 1,000 − 0.86 − 9.006 = **990.134**.
/// 3. **Flip.** Alice sells 100 more at 151.23 (1,512,300): the first 60
///    close her long, all its cost: realised 60 · 1,512,300 − 90,000,000 =
///    **738,000** (1,538,000 in all); the other 40 open a short at cost
///    −40 · 1,512,300 = −60,492,000. Alice (−40, −60,492,000, 1,538,000),
///    Bob (40, 60,492,000, −1,538,000); open interest 40. Alice's Init: PnL
///    −0.4 · 150.10 + 60.492 + 1.538 = +1.99 at 50 % = 0.995, requirement
///    0.4 · 15.01 = 6.004: **994.991**. Bob: 0.4 · 149.90 − 62.03 = −2.07:
///    1,000 − 2.07 − 6.004 = **991.926**.
///
/// Across both accounts Σ(realised − cost) stays 0 after every fill.
#[test]
fn open_reduce_flip_worked_example() {
    let (mut w, alice, bob) = desk(1_000 * MICRO);
    let all = [&alice, &bob];
    assert_market_conservation(&w, PERP, &all);

    let t = trade(&mut w, &alice, &bob, 100, P150, &all);
    assert_eq!(pos(&w, &alice), (100, 150_000_000, 0));
    assert_eq!(pos(&w, &bob), (-100, -150_000_000, 0));
    assert_eq!(w.market(PERP).open_interest, 100);
    assert_eq!((t.buyer, t.seller, t.size, t.price), (alice.account, bob.account, 100, P150));
    assert_eq!((t.buyer_realized, t.seller_realized), (0, 0));
    assert_eq!((t.buyer_base_after, t.seller_base_after, t.open_interest), (100, -100, 100));
    assert_eq!((t.buyer_init_health_after, t.seller_init_health_after), (984_889_999, 984_889_999));
    assert_eq!(t.quote_nonce, None);
    assert_eq!(w.market(PERP).position_count, 2);
    for u in all {
        assert_eq!(healths(&view(&mut w, u)), (984_889_999, 992_394_999, 988_642_499));
    }

    let t = trade(&mut w, &bob, &alice, 40, 1_520_000, &all);
    assert_eq!((t.buyer_realized, t.seller_realized), (-800_000, 800_000));
    assert_eq!(pos(&w, &alice), (60, 90_000_000, 800_000));
    assert_eq!(pos(&w, &bob), (-60, -90_000_000, -800_000));
    assert_eq!(w.market(PERP).open_interest, 60);
    assert_eq!(view(&mut w, &alice).init, 991_363_999);
    assert_eq!(view(&mut w, &bob).init, 990_133_999);
    assert_eq!((t.seller_init_health_after, t.buyer_init_health_after), (991_363_999, 990_133_999));

    let t = trade(&mut w, &bob, &alice, 100, 1_512_300, &all);
    assert_eq!((t.buyer_realized, t.seller_realized), (-738_000, 738_000));
    assert_eq!(pos(&w, &alice), (-40, -60_492_000, 1_538_000));
    assert_eq!(pos(&w, &bob), (40, 60_492_000, -1_538_000));
    assert_eq!((t.seller_base_after, t.buyer_base_after, t.open_interest), (-40, 40, 40));
    assert_eq!(w.market(PERP).open_interest, 40);
    assert_eq!(view(&mut w, &alice).init, 994_990_999);
    assert_eq!(view(&mut w, &bob).init, 991_925_999);
    // Token balances untouched: PnL moves into them only through settle_pnl.
    w.assert_vaults(&all);
}

/// The one rounding of a fill, a partial close's share of the cost, goes
/// against the closer, and the cash-flow identity stays exact.
///
/// Alice buys 2 contracts at 1,500,000 and 1 at 1,500,001 from Bob: cost
/// 4,500,001. She sells 1 back at 1,500,000: the cost removed is
/// ⌈4,500,001 / 3⌉ = 1,500,001, so she realises **−1** (exactly −1/3,
/// rounded down) and keeps (2, 3,000,000). Bob's short (−3, −4,500,001)
/// removes ⌈−4,500,001 / 3⌉ = −1,500,000 and realises **0** (exactly +1/3,
/// rounded down), keeping (−2, −3,000,001). Σ(realised − cost) = (−1 −
/// 3,000,000) + (0 + 3,000,001) = 0. Closing the rest at 1,500,000 removes
/// the remaining costs exactly: the round trips realise Σ sells − Σ buys,
/// −1 for Alice and +1 for Bob, and both positions stay open for settlement
/// with no base.
#[test]
fn partial_close_rounds_against_the_closer() {
    let (mut w, alice, bob) = desk(1_000 * MICRO);
    let all = [&alice, &bob];
    trade(&mut w, &alice, &bob, 2, P150, &all);
    trade(&mut w, &alice, &bob, 1, P150 + 1, &all);
    assert_eq!(pos(&w, &alice), (3, 4_500_001, 0));
    let t = trade(&mut w, &bob, &alice, 1, P150, &all);
    assert_eq!((t.seller_realized, t.buyer_realized), (-1, 0));
    assert_eq!(pos(&w, &alice), (2, 3_000_000, -1));
    assert_eq!(pos(&w, &bob), (-2, -3_000_001, 0));
    trade(&mut w, &bob, &alice, 2, P150, &all);
    assert_eq!(pos(&w, &alice), (0, 0, -1));
    assert_eq!(pos(&w, &bob), (0, 0, 1));
    let m = w.market(PERP);
    assert_eq!((m.open_interest, m.position_count), (0, 2), "closed with PnL to settle: slots kept");
}

/// The 2022 Mango exploit in miniature: two accounts trade 100 SOL at
/// 150.00 and back at 157.00 (inside the 5 % band), leaving Alice 700 USDC
/// of realised, unsettled profit and Bob 700 of loss. The profit is not cash:
/// it counts 50 % and at most 100 USDC in Init, 75 % in LiqEnd, 90 % in
/// Maint. Alice (10,000 deposited): Init 10,000 + min(350, 100) = **10,100**,
/// LiqEnd 10,000 + 525 = 10,525, Maint 10,000 + 630 = 10,630 (one unit
/// below: 0.9 is stored rounded down). Bob: 9,300 in all three. Once
/// `settle_pnl` moves the 700 into Alice's USDC, it counts in full.
#[test]
fn realised_profit_counts_weighted_and_capped() {
    let (mut w, alice, bob) = desk(10_000 * MICRO);
    let all = [&alice, &bob];
    trade(&mut w, &alice, &bob, 10_000, P150, &all);
    let t = trade(&mut w, &bob, &alice, 10_000, 1_570_000, &all);
    assert_eq!((t.seller_realized, t.buyer_realized), (700_000_000, -700_000_000));
    assert_eq!(pos(&w, &alice), (0, 0, 700_000_000));
    assert_eq!(healths(&view(&mut w, &alice)), (10_100_000_000, 10_629_999_999, 10_525_000_000));
    assert_eq!(healths(&view(&mut w, &bob)), (9_300_000_000, 9_300_000_000, 9_300_000_000));
    assert_eq!(w.market(PERP).open_interest, 0);
    // Settled into the quote bank, the profit is cash and counts in full:
    // Alice 10,700 USDC, Bob 9,300, both slots freed.
    w.settle_pnl(PERP, &alice, &bob).expect_ok();
    assert_market_conservation(&w, PERP, &all);
    assert_eq!((pos(&w, &alice), pos(&w, &bob)), ((0, 0, 0), (0, 0, 0)));
    assert_eq!(w.market(PERP).position_count, 0);
    assert_eq!(healths(&view(&mut w, &alice)), (10_700_000_000, 10_700_000_000, 10_700_000_000));
    assert_eq!(view(&mut w, &bob).init, 9_300_000_000);
    w.assert_vaults(&all);
}

/// Carol (12 USDC) buys 60 contracts (0.6 SOL) from Bob at 150.00: Init
/// 12 − 0.06 − 9.006 = 2.934. SOL falls to $140 (the stable price stays at
/// 150 until a funding crank moves it): Init values her long at 139.90 and
/// requires 10 % of 0.6 · max(140.10, 150): 12 + (83.94 − 90) − 9 = **−3.06**,
/// Maint 12 − 6.06 − 0.6 · 140.10 · 5 % = 1.737 (margin call, not
/// liquidatable), LiqEnd 12 − 6.06 − 6.3045 = −0.3645. Buying 1 more lowers Init: refused. Selling 20 at 140.00
/// realises 20 · 1.40 − 30 = −2 USDC and leaves (40, 60, −2): Init
/// 12 + (55.96 − 62) − 40 · 0.01 · 150 · 10 % = **−0.04**, still negative
/// but higher: allowed. Then 1 more sold at 140.00 brings Init above 0.
#[test]
fn risk_reducing_trades_are_allowed_below_init_zero() {
    let (mut w, alice, bob) = desk(1_000 * MICRO);
    let carol = w.user(12, [12 * MICRO, 0, 0]);
    w.deposit(&carol, USDC, 12 * MICRO).expect_ok();
    let all = [&alice, &bob, &carol];
    trade(&mut w, &carol, &bob, 60, P150, &all);
    assert_eq!(view(&mut w, &carol).init, 2_933_999);
    w.set_price(SOL, 14_000_000_000, 10_000_000);
    assert_eq!(healths(&view(&mut w, &carol)), (-3_060_001, 1_736_999, -364_501));

    let keys = [carol.account, bob.account, w.market_keys(PERP).market];
    let ix = w.trade_ix(PERP, &carol, &bob, 1, 1_400_000);
    let f = w.env.send_err(
        &[ix],
        &[&carol.wallet, &bob.wallet],
        xmargin::errors::XmarginError::TradeHealthTooLow,
        &keys,
    );
    assert!(f.logs.iter().any(|l| l.contains("-3060001")), "health before in the error: {f}");

    let t = trade(&mut w, &bob, &carol, 20, 1_400_000, &all);
    assert_eq!(t.seller_realized, -2_000_000);
    assert_eq!(pos(&w, &carol), (40, 60_000_000, -2_000_000));
    assert_eq!(view(&mut w, &carol).init, -40_001);
    assert_eq!(t.seller_init_health_after, -40_001);
    trade(&mut w, &bob, &carol, 1, 1_400_000, &all);
    assert!(view(&mut w, &carol).init >= 0);
}

/// A trade that leaves Init ≥ 0 clears `BEING_LIQUIDATED`. Carol (12 USDC)
/// holds 60 contracts bought at 150.00; SOL falls to $130 (Maint −3.96) and
/// Dave liquidates one contract, which leaves her LiqEnd negative and the
/// flag set. SOL recovers to $150 (she is healthy, but only an instruction
/// that checks health clears the flag): her next trade does.
#[test]
fn a_trade_leaving_init_nonnegative_clears_being_liquidated() {
    let (mut w, alice, bob) = desk(1_000 * MICRO);
    let carol = w.user(12, [12 * MICRO, 0, 0]);
    let dave = w.user(13, [1_000 * MICRO, 0, 0]);
    w.deposit(&carol, USDC, 12 * MICRO).expect_ok();
    w.deposit(&dave, USDC, 1_000 * MICRO).expect_ok();
    let all = [&alice, &bob, &carol, &dave];
    trade(&mut w, &carol, &bob, 60, P150, &all);
    w.set_price(SOL, 13_000_000_000, 10_000_000);
    assert!(view(&mut w, &carol).maint < 0);
    w.liquidate_position(PERP, &carol, &dave, 1).expect_ok();
    assert_market_conservation(&w, PERP, &all);
    assert_eq!(w.flags(&carol) & BEING_LIQUIDATED, BEING_LIQUIDATED);
    w.set_price(SOL, 15_000_000_000, 10_000_000);
    assert!(view(&mut w, &carol).init >= 0);
    assert_eq!(w.flags(&carol) & BEING_LIQUIDATED, BEING_LIQUIDATED, "a view clears nothing");
    trade(&mut w, &bob, &carol, 1, P150, &all);
    assert_eq!(w.flags(&carol) & BEING_LIQUIDATED, 0);
}

/// A round trip at one price leaves nothing to settle: both slots are freed
/// and the market counts no positions.
#[test]
fn a_round_trip_at_one_price_frees_both_slots() {
    let (mut w, alice, bob) = desk(1_000 * MICRO);
    let all = [&alice, &bob];
    trade(&mut w, &alice, &bob, 5, P150, &all);
    assert_eq!(w.market(PERP).position_count, 2);
    trade(&mut w, &bob, &alice, 5, P150, &all);
    for u in all {
        let acc: xmargin::state::MarginAccount = w.env.zero_copy(&u.account);
        assert_eq!(acc.active_derivatives().count(), 0);
    }
    let m = w.market(PERP);
    assert_eq!((m.open_interest, m.position_count), (0, 0));
}

/// SOL collateral hedged with a short perpetual: the SOL oracle appears once
/// in Alice's health accounts (SOL bank, SOL oracle, market). Alice deposits
/// 10 SOL and sells 1,000 contracts (10 SOL) to Bob at 150.00. Init: the SOL
/// counts 10 · 149.90 · 0.8 = 1,199.2; the short is valued at −10 · 150.10
/// against a cost of −1,500: PnL −1; requirement 10 · 150.10 · 10 % = 150.1:
/// **1,048.1**. Maint: 10 · 149.90 · 0.9 − 1 − 75.05 = **1,273.05**.
#[test]
fn sol_collateral_hedged_with_a_short_perp() {
    let (mut w, _, bob) = desk(1_000 * MICRO);
    let alice = w.user(12, [0, 10_000_000_000, 0]);
    w.deposit(&alice, SOL, 10_000_000_000).expect_ok();
    let all = [&alice, &bob];
    let g = w.group.group;
    let metas = xmargin_test_support::markets::health_accounts_full(&w.env, &g, &alice.account, &[], &[PERP]);
    let sol = &w.banks[SOL as usize];
    let expected = [sol.bank, sol.oracle, w.market_keys(PERP).market];
    assert_eq!(metas.iter().map(|m| m.pubkey).collect::<Vec<_>>(), expected, "the SOL oracle once");
    trade(&mut w, &bob, &alice, 1_000, P150, &all);
    assert_eq!(pos(&w, &alice), (-1_000, -1_500_000_000, 0));
    let v = view(&mut w, &alice);
    assert_eq!((v.init, v.maint), (1_048_099_999, 1_273_049_999));
}

/// Funding owed since the last fill settles into both positions at the next
/// trade (the payer's share rounded down, the remainder the protocol's
/// dust), keeping the market's identity exact. Alice buys 100 at 151.50
/// (1 % over the oracle), so after an hour the mark TWAP is above the oracle
/// TWAP and longs pay.
#[test]
fn funding_settles_into_both_positions_at_the_next_trade() {
    let (mut w, alice, bob) = desk(1_000 * MICRO);
    let all = [&alice, &bob];
    trade(&mut w, &alice, &bob, 100, 1_515_000, &all);
    w.env.warp(3_600);
    w.refresh_prices();
    w.update_funding(PERP).expect_ok();
    assert_market_conservation(&w, PERP, &all);
    let m = w.market(PERP);
    assert!(m.cum_funding.get().is_positive(), "longs pay: {}", m.cum_funding.get());
    let pending = |w: &World, u: &User| {
        let p = w.position(u, PERP);
        let moved = w.market(PERP).cum_funding.get().checked_sub(p.funding_snapshot.get()).unwrap();
        moved.checked_mul_int(-p.base_contracts).unwrap()
    };
    let (owed_a, owed_b) = (pending(&w, &alice), pending(&w, &bob));
    assert!(owed_a.is_negative() && owed_b.is_positive());
    let (realized_a, realized_b) = (pos(&w, &alice).2, pos(&w, &bob).2);
    // Alice and Bob trade 1 contract at the oracle price: funding settles first.
    trade(&mut w, &alice, &bob, 1, P150, &all);
    let floor = |x: xmargin_risk::Fixed| x.to_i64(xmargin_risk::Rounding::Floor).unwrap();
    assert_eq!(pos(&w, &alice).2 - realized_a, floor(owed_a));
    assert_eq!(pos(&w, &bob).2 - realized_b, floor(owed_b));
    for u in all {
        assert_eq!(w.position(u, PERP).funding_snapshot, w.market(PERP).cum_funding);
    }
    let dust = w.market(PERP).funding_dust.get();
    let paid = floor(owed_a) + floor(owed_b);
    assert!(paid <= 0 && dust.is_positive() || paid == 0, "rounding to the protocol: {paid} {dust}");
}

/// Positions on two underlyings: a BTC perpetual (market 1, contracts of
/// 0.1 BTC) next to the SOL one. Alice's health accounts end with both
/// markets, then the two oracles no token position brought. With 10,000
/// USDC each, Alice buys 1 BTC contract at 10,000.00 (BTC $100,000 ± 50):
/// PnL 0.1 · 99,950 − 10,000 = −5, requirement 0.1 · 100,050 · 10 % =
/// 1,000.5; and 100 SOL contracts at 150.00 (−0.10 and 15.01 as above):
/// Init 10,000 − 1,005.5 − 15.11 = **8,979.39** (exactly 8,979,390,000:
/// BTC's prices are whole native units, and the 10 % rate, stored a hair
/// under 0.1, takes about 2·10⁻⁵ native off the BTC requirement, more than
/// the SOL figures lose to rounding).
#[test]
fn positions_on_two_oracles() {
    let (mut w, alice, bob) = desk(10_000 * MICRO);
    let g = w.group.group;
    let admin = w.admin.insecure_clone();
    let btc = xmargin_test_support::margin::bank_keys(&w.env, &g, 2);
    let args =
        xmargin::instructions::AddMarketArgs { name: *b"BTC-PERP\0\0\0\0\0\0\0\0", ..sol_perp_args(1) };
    let ix =
        xmargin_client::market_instructions::add_market(&g, &admin.pubkey(), &admin.pubkey(), &btc, args);
    w.env.send_ok(&[ix], &[&admin]);
    let all = [&alice, &bob];
    w.trade(1, &alice, &bob, 1, 10_000_000_000).expect_ok();
    assert_market_conservation(&w, 1, &all);
    trade(&mut w, &alice, &bob, 100, P150, &all);
    assert_market_conservation(&w, 1, &all);
    let metas = xmargin_test_support::markets::health_accounts_full(&w.env, &g, &alice.account, &[], &[]);
    let usdc = &w.banks[USDC as usize];
    let expected = [
        usdc.bank,
        usdc.oracle,
        w.market_keys(1).market,
        w.market_keys(PERP).market,
        w.banks[2].oracle,
        w.banks[SOL as usize].oracle,
    ];
    assert_eq!(metas.iter().map(|m| m.pubkey).collect::<Vec<_>>(), expected);
    assert_eq!(view(&mut w, &alice).init, 8_979_390_000);
    assert_eq!(view(&mut w, &bob).init, 8_979_390_000);
}
