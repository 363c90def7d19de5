//! Keeper cycles over portfolio-mode accounts on the embedded SVM: an
//! account is judged on its portfolio health (the keeper's ranking equals
//! `compute_health`'s, portfolio numbers included) and, once liquidatable,
//! liquidated in linear mode with the program's rule
//! (`HealthCache::for_liquidation`): the first step clears `PORTFOLIO_MODE`.
//! A hedged book that linear mode would liquidate is left alone. An account
//! short options that a price move makes liquidatable loses part of its
//! options to the keeper (`liquidate_position` on the option market, its
//! array refreshed by the same cycle first).
//!
//! Prices: SOL $150 ± $0.10, the SOL perpetual's Maint rate 5 %, SOL's Maint
//! asset weight 0.9; portfolio Maint: worst loss × 1 plus 0.5 % of every
//! leg's delta-adjusted notional.
use xmargin::instructions::margin_mode;
use xmargin::state::account_flags::PORTFOLIO_MODE;
use xmargin_client::instructions as cixs;
use xmargin_keeper::svm::SvmChain;
use xmargin_keeper::{rank_accounts, run_cycle, CycleSummary, KeeperConfig, Liquidation, Snapshot};
use xmargin_test_support::margin::health_view;
use xmargin_test_support::markets::{health_accounts_full, sol_perp_args};
use xmargin_test_support::options::option_desk;
use xmargin_test_support::world::{User, World};
use xmargin_test_support::Signer;

const USDC: u16 = 0;
const SOL: u16 = 1;
const PERP: u16 = 0;
const MICRO: u64 = 1_000_000;
const ONE_SOL: u64 = 1_000_000_000;
/// $1.50 per contract of 0.01 SOL: SOL at $150.
const PERP_PRICE: u64 = 1_500_000;

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

/// A world with the SOL perpetual; the keeper (100,000 USDC) and Bob
/// (20,000 USDC, the other side of every trade).
fn desk() -> (World, User, User) {
    let mut w = World::new();
    w.add_market(sol_perp_args(PERP)).expect_ok();
    let keeper = w.user(1, [100_000 * MICRO, 0, 0]);
    let bob = w.user(11, [20_000 * MICRO, 0, 0]);
    w.deposit(&keeper, USDC, 100_000 * MICRO).expect_ok();
    w.deposit(&bob, USDC, 20_000 * MICRO).expect_ok();
    (w, keeper, bob)
}

/// `seed`'s account: 10 SOL deposited, `short` contracts of 0.01 SOL sold to
/// Bob at $150, then in portfolio mode with `borrowed` USDC withdrawn.
fn portfolio_book(w: &mut World, bob: &User, seed: u8, short: u64, borrowed: u64) -> User {
    let user = w.user(seed, [0, 10 * ONE_SOL, 0]);
    w.deposit(&user, SOL, 10 * ONE_SOL).expect_ok();
    w.trade(PERP, bob, &user, short, PERP_PRICE).expect_ok();
    let token = w.env.create_token_account(&w.banks[0].mint, &user.wallet.pubkey());
    let user = User { tokens: [token, user.tokens[1], user.tokens[2]], ..user };
    let g = w.group.group;
    let health = health_accounts_full(&w.env, &g, &user.account, &[], &[]);
    let ix = cixs::set_margin_mode(&g, &user.account, &user.wallet.pubkey(), margin_mode::PORTFOLIO, health);
    w.env.send(&[ix], &[&user.wallet]).expect_ok();
    w.withdraw(&user, USDC, borrowed).expect_ok();
    assert_ne!(w.flags(&user) & PORTFOLIO_MODE, 0);
    user
}

/// The keeper's ranking values every account as `compute_health` does, in
/// its margin mode.
fn assert_ranked_as_program(w: &mut World, keeper: &User) -> Vec<xmargin_keeper::AccountHealth> {
    let snap =
        Snapshot::load(&mut SvmChain { env: &mut w.env, signer: &keeper.wallet }, &w.group.group).unwrap();
    let ranked = rank_accounts(&snap);
    for h in &ranked {
        let view = health_view(&mut w.env, &w.group.group, &h.address);
        assert_eq!((h.maint, h.liquidation_end), (view.maint, view.liquidation_end), "{}", h.address);
    }
    ranked
}

/// Alice: 10 SOL against 10 SOL short on the perpetual, 1,400 USDC
/// borrowed. Linear Maint 1,499 · 0.9 − 1,400 − 1 − 75 ≈ −127 (linear mode
/// would liquidate), portfolio Maint 1,499 − 1,400 − 1 − 15 ≈ +83: healthy,
/// never touched.
#[test]
fn a_healthy_portfolio_account_that_linear_mode_would_liquidate_is_left_alone() {
    let (mut w, keeper, bob) = desk();
    let alice = portfolio_book(&mut w, &bob, 10, 1_000, 1_400 * MICRO);
    let ranked = assert_ranked_as_program(&mut w, &keeper);
    let a = ranked.iter().find(|h| h.address == alice.account).expect("alice ranked");
    assert!((80 * MICRO as i64..86 * MICRO as i64).contains(&a.maint), "{a:?}");
    assert!(!a.liquidatable && a.liquidation.is_none(), "{a:?}");

    let config = keeper_config(&w, &keeper);
    let s = cycle(&mut w, &keeper, &config);
    assert_eq!((s.liquidatable, s.liquidations_sent, s.failures), (0, 0, 0), "{s:?}");
    assert_ne!(w.flags(&alice) & PORTFOLIO_MODE, 0, "still in portfolio mode");
    assert_eq!(w.position(&alice, PERP).base_contracts, -1_000);
}

/// Carol: 10 SOL against 5 SOL short, 1,300 USDC borrowed: net long 5 SOL,
/// portfolio Maint ≈ 1,499 − 1,300 − 0.5 − (112.5 + 11.25) ≈ 75. SOL falls
/// to $125: the book loses on aggregate (portfolio Maint < 0), the keeper
/// liquidates it in linear mode and the step clears `PORTFOLIO_MODE`.
#[test]
fn a_portfolio_account_liquidatable_on_aggregate_risk_is_liquidated() {
    let (mut w, keeper, bob) = desk();
    let carol = portfolio_book(&mut w, &bob, 12, 500, 1_300 * MICRO);
    let config = keeper_config(&w, &keeper);
    let quiet = cycle(&mut w, &keeper, &config);
    assert_eq!((quiet.liquidatable, quiet.liquidations_sent), (0, 0), "{quiet:?}");

    w.set_price(SOL, 125 * 100_000_000, 10_000_000);
    let ranked = assert_ranked_as_program(&mut w, &keeper);
    let c = ranked.iter().find(|h| h.address == carol.account).expect("carol ranked");
    assert!(c.maint < 0 && c.liquidatable, "{c:?}");
    assert_eq!(c.liquidation, Some(Liquidation::Position { market: PERP }));

    let s = cycle(&mut w, &keeper, &config);
    assert!(s.liquidatable >= 1 && s.liquidations_sent >= 1 && s.failures == 0, "{s:?}");
    assert_eq!(w.flags(&carol) & PORTFOLIO_MODE, 0, "liquidated in linear mode: out of portfolio mode");
    assert!(w.position(&carol, PERP).base_contracts > -500, "the short was taken over in part");
}

/// Bob sells 5,000 contracts (50 SOL) of the 30-day $165 call at its model
/// value against his 1,000 USDC (Maint 9 % of spot per SOL short: ≈ 675).
/// SOL jumps to $165: the calls are at the money (≈ $11 a SOL), Maint ≈
/// 1,000 − 560 − 740 < 0. The cycle refreshes the drifted array, then
/// liquidates part of the short calls from the keeper's account, to
/// LiquidationEnd 0 in whole contracts.
#[test]
fn a_short_option_position_is_liquidated_by_the_keeper() {
    let (mut w, alice, bob) = option_desk(0);
    let keeper = w.user(1, [100_000 * MICRO, 0, 0]);
    w.deposit(&keeper, USDC, 100_000 * MICRO).expect_ok();
    w.trade(0, &alice, &bob, 5_000, 49_053).expect_ok();
    let config = keeper_config(&w, &keeper);
    let quiet = cycle(&mut w, &keeper, &config);
    assert_eq!((quiet.liquidatable, quiet.liquidations_sent), (0, 0), "{quiet:?}");

    w.set_price(SOL, 165 * 100_000_000, 10_000_000);
    let s = cycle(&mut w, &keeper, &config);
    assert!(s.risk_array_updates >= 1, "the drifted array first: {s:?}");
    assert!(s.liquidatable >= 1 && s.position_liquidations >= 1 && s.failures == 0, "{s:?}");
    let left = w.position(&bob, 0).base_contracts;
    let taken = w.position(&keeper, 0).base_contracts;
    let after = health_view(&mut w.env, &w.group.group, &bob.account);
    assert!((-4_999..=0).contains(&left), "part of the short taken over: {left}");
    assert_eq!(taken, -5_000 - left, "the keeper holds what it took over");
    // Sized to LiquidationEnd 0 in whole contracts (one contract of 0.01 SOL is worth well under 1 USDC).
    assert!((0..1_000_000).contains(&after.liquidation_end), "{after:?}");
}
