//! Keeper cycles over derivative markets on the embedded SVM: a perpetual
//! position liquidated after a price move, funding cranked hourly (and the
//! funding paid settled into tokens), a dated future sampled in its last
//! 30 minutes, settled at expiry and its PnL paid — each by `run_cycle`.
use xmargin::state::{market_status, MarginAccount};
use xmargin_keeper::svm::SvmChain;
use xmargin_keeper::{rank_accounts, run_cycle, CycleSummary, KeeperConfig, Liquidation, Snapshot};
use xmargin_risk::{Fixed, Rounding};
use xmargin_test_support::margin::{health_view, native_balance};
use xmargin_test_support::markets::{sol_future_args, sol_perp_args};
use xmargin_test_support::world::{User, World};
use xmargin_test_support::Signer;

const USDC: u16 = 0;
const SOL: u16 = 1;
const MICRO: u64 = 1_000_000;
/// $1.50 per contract of 0.01 SOL: SOL at $150.
const PER_CONTRACT_150: u64 = 1_500_000;

fn keeper_config(w: &World, keeper: &User) -> KeeperConfig {
    KeeperConfig {
        compute_unit_limit: 400_000,
        ..KeeperConfig::new(w.group.group, keeper.account, keeper.wallet.pubkey())
    }
}

fn cycle(w: &mut World, keeper: &User, config: &KeeperConfig) -> CycleSummary {
    let s = run_cycle(&mut SvmChain { env: &mut w.env, signer: &keeper.wallet }, config).expect("cycle");
    w.assert_all_vaults();
    s
}

fn usdc(w: &World, u: &User) -> i64 {
    native_balance(&w.env, &w.group.group, &u.account, USDC).to_i64(Rounding::Floor).unwrap()
}

/// SOL at `dollars` ± $0.10, published now.
fn sol_at(w: &mut World, dollars: i64) {
    w.set_price(SOL, dollars * 100_000_000, 10_000_000);
}

/// A 10x long: 1,000 USDC behind 6,500 contracts (65 SOL, $9,750) bought at
/// $150. At $140 its Maint health is 1,000 − 65 · 10.1 − 65 · 140.1 · 5 %
/// ≈ −111.8: the keeper liquidates part of the position, from its own
/// account, and the account ends at LiquidationEnd ≈ 0.
#[test]
fn a_cycle_liquidates_a_perp_position_after_a_price_move() {
    let mut w = World::new();
    w.add_market(sol_perp_args(0)).expect_ok();
    let keeper = w.user(1, [100_000 * MICRO, 0, 0]);
    let alice = w.user(10, [1_000 * MICRO, 0, 0]);
    let bob = w.user(11, [20_000 * MICRO, 0, 0]);
    w.deposit(&keeper, USDC, 100_000 * MICRO).expect_ok();
    w.deposit(&alice, USDC, 1_000 * MICRO).expect_ok();
    w.deposit(&bob, USDC, 20_000 * MICRO).expect_ok();
    w.trade(0, &alice, &bob, 6_500, PER_CONTRACT_150).expect_ok();
    let config = keeper_config(&w, &keeper);
    let quiet = cycle(&mut w, &keeper, &config);
    assert_eq!((quiet.liquidatable, quiet.liquidations_sent, quiet.failures), (0, 0, 0));

    sol_at(&mut w, 140);
    // The keeper values every account exactly as compute_health does.
    let snap =
        Snapshot::load(&mut SvmChain { env: &mut w.env, signer: &keeper.wallet }, &w.group.group).unwrap();
    let ranked = rank_accounts(&snap);
    for h in &ranked {
        assert_eq!(h.maint, health_view(&mut w.env, &w.group.group, &h.address).maint, "{}", h.address);
    }
    assert_eq!(ranked[0].address, alice.account);
    assert_eq!(ranked[0].liquidation, Some(Liquidation::Position { market: 0 }));
    let before = health_view(&mut w.env, &w.group.group, &alice.account);
    assert!((-112_000_000..-111_000_000).contains(&before.maint), "{before:?}");

    let s = cycle(&mut w, &keeper, &config);
    assert_eq!(
        (s.liquidatable, s.liquidations_sent, s.position_liquidations, s.failures),
        (1, 1, 1, 0),
        "{s:?}"
    );
    let left = w.position(&alice, 0).base_contracts;
    let took = w.position(&keeper, 0).base_contracts;
    assert!(left > 0 && took > 0 && left + took == 6_500, "alice keeps {left}, the keeper took {took}");
    let after = health_view(&mut w.env, &w.group.group, &alice.account);
    assert!(after.liquidation_end >= 0 && after.liquidation_end < 5 * MICRO as i64, "{after:?}");
    assert!(after.maint > 0);
    // The step is sized to LiquidationEnd 0 and no further: nothing more to do.
    let next = cycle(&mut w, &keeper, &config);
    assert_eq!((next.liquidatable, next.liquidations_sent, next.failures), (0, 0, 0), "{next:?}");
}

/// Funding is cranked once an hour has passed since the last update, and the
/// funding it moves (realised PnL) is settled into tokens in the same cycle.
#[test]
fn a_cycle_cranks_funding_hourly_and_settles_what_it_moved() {
    let mut w = World::new();
    let listed = w.env.unix_time();
    w.add_market(sol_perp_args(0)).expect_ok();
    let keeper = w.user(1, [100_000 * MICRO, 0, 0]);
    let alice = w.user(10, [5_000 * MICRO, 0, 0]);
    let bob = w.user(11, [5_000 * MICRO, 0, 0]);
    w.deposit(&keeper, USDC, 100_000 * MICRO).expect_ok();
    w.deposit(&alice, USDC, 5_000 * MICRO).expect_ok();
    w.deposit(&bob, USDC, 5_000 * MICRO).expect_ok();
    let config = keeper_config(&w, &keeper);

    // 50 minutes in, alice buys 1,000 contracts at $151.50, 1 % over the oracle:
    // the mark rises above the oracle and longs pay.
    w.env.warp(3_000);
    w.refresh_prices();
    w.trade(0, &alice, &bob, 1_000, 1_515_000).expect_ok();
    let early = cycle(&mut w, &keeper, &config);
    assert_eq!(early.funding_updates, 0, "not an hour yet");

    w.env.warp(600);
    w.refresh_prices();
    let (alice_before, bob_before) = (usdc(&w, &alice), usdc(&w, &bob));
    let s = cycle(&mut w, &keeper, &config);
    assert_eq!((s.funding_updates, s.failures), (1, 0), "{s:?}");
    let m = w.market(0);
    assert_eq!(m.last_funding_ts, listed + 3_600);
    assert!(m.last_funding_rate.get().is_positive() && m.cum_funding.get().is_positive());
    // Funding realised PnL on both sides: bob (short, receiving funding and
    // up 1.5 cents a contract on the trade) is settled against alice.
    assert_eq!(s.pnl_settlements, 1, "{s:?}");
    let (alice_paid, bob_got) = (alice_before - usdc(&w, &alice), usdc(&w, &bob) - bob_before);
    assert_eq!(alice_paid, bob_got, "PnL moves between the two, to the unit");
    let funding = Fixed::from_i64(1_000).checked_mul_floor(m.cum_funding.get()).unwrap();
    let trade_gain = 1_000 * (1_515_000 - 1_500_000); // short at $151.50, settled at the oracle's $150
    let expected = funding.checked_add(Fixed::from_i64(trade_gain)).unwrap().to_i64(Rounding::Floor).unwrap();
    assert!((expected - 1..=expected + 1).contains(&bob_got), "bob got {bob_got}, expected ≈ {expected}");

    // Not again within the hour; again after it.
    let same = cycle(&mut w, &keeper, &config);
    assert_eq!((same.funding_updates, same.pnl_settlements), (0, 0), "{same:?}");
    w.env.warp(3_600);
    w.refresh_prices();
    let next = cycle(&mut w, &keeper, &config);
    assert_eq!((next.funding_updates, next.failures), (1, 0), "{next:?}");
    assert_eq!(w.market(0).last_funding_ts, listed + 7_200);
}

/// A dated future: the keeper samples the oracle every 5 minutes of the last
/// 30 (SOL climbing $150 → $155), settles both positions at expiry at the
/// time-weighted mean of the samples, and pays the PnL in the same cycle.
#[test]
fn a_cycle_samples_settles_and_pays_an_expired_future() {
    let mut w = World::new();
    let expiry = w.env.unix_time() + 7_200;
    w.add_market(sol_future_args(0, expiry)).expect_ok();
    let keeper = w.user(1, [100_000 * MICRO, 0, 0]);
    let erin = w.user(10, [5_000 * MICRO, 0, 0]);
    let grace = w.user(11, [5_000 * MICRO, 0, 0]);
    w.deposit(&keeper, USDC, 100_000 * MICRO).expect_ok();
    w.deposit(&erin, USDC, 5_000 * MICRO).expect_ok();
    w.deposit(&grace, USDC, 5_000 * MICRO).expect_ok();
    // Erin buys 5 SOL of the future from Grace at $150.
    w.trade(0, &erin, &grace, 500, PER_CONTRACT_150).expect_ok();
    let config = KeeperConfig { sample_interval_secs: 300, ..keeper_config(&w, &keeper) };

    w.env.warp(7_200 - 1_801);
    w.refresh_prices();
    assert_eq!(cycle(&mut w, &keeper, &config).price_samples, 0, "before the window");
    // Samples at expiry − 30, −25, …, −5 minutes at $150 … $155.
    for (i, dollars) in (150..=155).enumerate() {
        w.env.set_unix_time(expiry - 1_800 + 300 * i as i64);
        w.refresh_prices();
        sol_at(&mut w, dollars);
        let s = cycle(&mut w, &keeper, &config);
        assert_eq!((s.price_samples, s.failures), (1, 0), "sample {i}: {s:?}");
        let again = cycle(&mut w, &keeper, &config);
        assert_eq!(again.price_samples, 0, "spaced by the interval");
    }
    assert_eq!(w.market(0).sample_count, 6);

    w.env.set_unix_time(expiry);
    w.refresh_prices();
    sol_at(&mut w, 160); // the last print is not the settlement price
    let (erin_before, grace_before) = (usdc(&w, &erin), usdc(&w, &grace));
    let s = cycle(&mut w, &keeper, &config);
    assert_eq!((s.expiries_settled, s.pnl_settlements, s.failures), (2, 1, 0), "{s:?}");
    let m = w.market(0);
    assert_eq!(m.status, market_status::SETTLED);
    // The first sample opens the window (weight 0); the next five weigh 300 s
    // each: mean of $151 … $155 = $153 (per lamport: 0.153 µUSDC).
    let per_lamport = m.settlement_price.get();
    let expected = Fixed::from_ratio(153, 1_000, Rounding::Floor).unwrap();
    assert!(
        per_lamport.checked_sub(expected).unwrap().checked_abs().unwrap()
            < Fixed::from_ratio(1, 1_000_000_000, Rounding::Ceil).unwrap()
    );
    // Erin's 5 SOL long gained 5 · $3 = $15, paid by Grace; both positions closed.
    let gain = usdc(&w, &erin) - erin_before;
    assert!((14_999_999..=15_000_000).contains(&gain), "erin gained {gain}");
    assert_eq!(grace_before - usdc(&w, &grace), gain);
    for u in [&erin, &grace] {
        assert!(w.env.zero_copy::<MarginAccount>(&u.account).derivative_position(0).is_none());
    }
    assert_eq!((m.open_interest, m.position_count), (0, 0));
    let after = cycle(&mut w, &keeper, &config);
    assert_eq!((after.expiries_settled, after.pnl_settlements, after.failures), (0, 0, 0));
}

/// A 10x long through a 13 % crash: the keeper takes the whole position (it
/// cannot restore health), the realised loss (more than the collateral) is
/// settled against the winners once the stable price has followed the
/// oracle, and the quote debt left is paid by the insurance fund.
#[test]
fn a_position_loss_beyond_the_collateral_goes_to_the_insurance_fund() {
    let mut w = World::new();
    w.add_market(sol_perp_args(0)).expect_ok();
    let keeper = w.user(1, [100_000 * MICRO, 0, 0]);
    let alice = w.user(10, [1_000 * MICRO, 0, 0]);
    let bob = w.user(11, [20_000 * MICRO, 0, 0]);
    w.deposit(&keeper, USDC, 100_000 * MICRO).expect_ok();
    w.deposit(&alice, USDC, 1_000 * MICRO).expect_ok();
    w.deposit(&bob, USDC, 20_000 * MICRO).expect_ok();
    w.trade(0, &alice, &bob, 6_500, PER_CONTRACT_150).expect_ok();
    let insurance = w.group.insurance_vault;
    w.env.mint_to(&w.group.quote_mint, &insurance, 2_000 * MICRO);
    let config = keeper_config(&w, &keeper);

    // $130: alice lost 65 × $20 = $1,300 of her 1,000 USDC.
    sol_at(&mut w, 130);
    let s = cycle(&mut w, &keeper, &config);
    assert_eq!((s.position_liquidations, s.failures), (1, 0), "{s:?}");
    assert_eq!(w.position(&alice, 0).base_contracts, 0, "the whole position goes");
    assert_eq!(w.position(&keeper, 0).base_contracts, 6_500);
    let loss = w.position(&alice, 0).realized_pnl;
    assert!(loss < -(usdc(&w, &alice)), "the loss exceeds her USDC: {loss}");
    assert_eq!(s.pnl_settlements, 0, "the oracle is 13 % from the stable price: settlement waits");

    // An hour later the stable price has followed (at most 20 % an hour): the loss settles.
    w.env.warp(3_600);
    w.refresh_prices();
    sol_at(&mut w, 130);
    let s = cycle(&mut w, &keeper, &config);
    assert_eq!((s.funding_updates, s.failures), (1, 0), "{s:?}");
    assert!(s.pnl_settlements >= 1, "{s:?}");
    let debt = -usdc(&w, &alice);
    assert!(debt > 0, "alice owes the rest in USDC: {debt}");
    let acc: MarginAccount = w.env.zero_copy(&alice.account);
    assert!(acc.is_bankrupt());

    let held = w.env.token_balance(&insurance);
    let s = cycle(&mut w, &keeper, &config);
    assert_eq!((s.bankrupt, s.bankruptcies_sent, s.failures), (1, 1, 0), "{s:?}");
    assert_eq!(held - w.env.token_balance(&insurance), debt as u64, "the fund paid her debt");
    // The payer's side of funding rounding (a unit or two no winner can take)
    // goes to the protocol (settle_dust) as a new debt the next cycle resolves.
    let left = usdc(&w, &alice);
    assert!((-(s.dust_settlements as i64)..=0).contains(&left), "{left} {s:?}");
    if left < 0 {
        let s = cycle(&mut w, &keeper, &config);
        assert_eq!((s.bankruptcies_sent, s.failures), (1, 0), "{s:?}");
        assert_eq!(usdc(&w, &alice), 0);
    }
}
