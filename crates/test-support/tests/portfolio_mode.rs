//! Portfolio mode on-chain (`set_margin_mode`, `xmargin::health::portfolio`):
//! a delta-hedged book and a covered call in linear vs portfolio mode with
//! their requirements, switching refused while unhealthy in the new mode
//! (nothing changed), the mode flag's lifecycle, and a borrow portfolio mode
//! allows where linear mode refuses.
//!
//! Prices: SOL $150 ± $0.10 (Init/Maint asset price 149.90, liability price
//! 150.10), USDC $1 with unit weights; the SOL bank's Init asset weight is
//! 0.8; the perpetual's Init rate 10 %. Portfolio constants
//! (`xmargin::options`): worst loss × 1.25 (Init; × 4/3 on a SOL book, whose
//! 20 % haircut is wider than 1.25 × the grid's 15 % move), contingency 1 %
//! (Init) of every leg's delta-adjusted notional at the oracle.
use xmargin::errors::XmarginError;
use xmargin::events::{MarginModeSet, PortfolioHealth};
use xmargin::instructions::margin_mode;
use xmargin::state::account_flags::PORTFOLIO_MODE;
use xmargin_client::instructions as cixs;
use xmargin_test_support::fixtures::{close_account_ix, setup_account};
use xmargin_test_support::margin::{approx_f64, compute_health_ix, health_view};
use xmargin_test_support::markets::{events, health_accounts_full, sol_perp_args};
use xmargin_test_support::options::{sol_call_args, STRIKE_165, THIRTY_DAYS};
use xmargin_test_support::outcome::TxOutcome;
use xmargin_test_support::world::{User, World};
use xmargin_test_support::{Address, Instruction, Signer};

const USDC: u16 = 0;
const SOL: u16 = 1;
const PERP: u16 = 0;
const CALL: u16 = 1;
/// 1.5 USDC per 0.01 SOL contract: $150.
const PERP_PRICE: u64 = 1_500_000;
/// Model value of the $165 call per 0.01 SOL contract at $150 (`options_trading`).
const CALL_MODEL: u64 = 49_053;
const ONE_SOL: u64 = 1_000_000_000;

fn set_mode_ix(w: &World, user: &User, signer: &Address, mode: u8) -> Instruction {
    let g = w.group.group;
    let health = health_accounts_full(&w.env, &g, &user.account, &[], &[]);
    cixs::set_margin_mode(&g, &user.account, signer, mode, health)
}

fn set_mode(w: &mut World, user: &User, mode: u8) -> TxOutcome {
    let ix = set_mode_ix(w, user, &user.wallet.pubkey(), mode);
    w.env.send(&[ix], &[&user.wallet])
}

/// `compute_health`'s `PortfolioHealth` event of `user` (None in linear mode).
fn portfolio_event(w: &mut World, user: &User) -> Option<PortfolioHealth> {
    let ix = compute_health_ix(&w.env, &w.group.group, &user.account);
    let out = w.env.send(&[ix], &[]);
    out.expect_ok();
    events::<PortfolioHealth>(&out.logs).pop()
}

/// A world with a SOL perpetual (0) and a 30-day $165 SOL call (1, its
/// array computed); Bob (seed 11) with 3,000 USDC deposited to take the
/// other side of every trade.
fn desk() -> (World, User) {
    let mut w = World::new();
    w.add_market(sol_perp_args(PERP)).expect_ok();
    let expiry = w.env.unix_time() + THIRTY_DAYS;
    w.add_option_market(sol_call_args(CALL, STRIKE_165, expiry)).expect_ok();
    w.update_risk_array(CALL).expect_ok();
    let bob = w.user(11, [3_000_000_000, 0, 0]);
    w.deposit(&bob, USDC, 3_000_000_000).expect_ok();
    (w, bob)
}

/// Alice: 10 SOL deposited, 10 SOL (1,000 contracts) sold short on the
/// perpetual at $150: delta-neutral.
fn hedged_book(w: &mut World, bob: &User) -> User {
    let alice = w.user(10, [0, 10 * ONE_SOL, 0]);
    w.deposit(&alice, SOL, 10 * ONE_SOL).expect_ok();
    w.trade(PERP, bob, &alice, 1_000, PERP_PRICE).expect_ok();
    alice
}

/// [`hedged_book`] in portfolio mode with 1,400 USDC borrowed (withdrawn to
/// a new token account): portfolio Init 68.00.
fn hedged_and_borrowed(w: &mut World, bob: &User) -> User {
    let alice = hedged_book(w, bob);
    let token = w.env.create_token_account(&w.banks[0].mint, &alice.wallet.pubkey());
    let alice = User { tokens: [token, alice.tokens[1], alice.tokens[2]], ..alice };
    set_mode(w, &alice, margin_mode::PORTFOLIO).expect_ok();
    w.withdraw(&alice, USDC, 1_400_000_000).expect_ok();
    alice
}

/// Linear: the SOL counts 10 · 149.90 · 0.8 = 1,199.20, the short's PnL at
/// 150.10 is −1.00 and it requires 10 % · 150.10 · 10 = 150.10: Init
/// 1,048.10, its legs charged 299.80 + 150.10 = 449.90. Portfolio: the SOL
/// at 1,499.00 unweighted; the book's P&L is 0 in every scenario (10 SOL
/// long, 10 short), so it pays its contingency alone, 1 % of 1,500 + 1,500
/// = 30.00: Init 1,499.00 − 1.00 − 30.00 = 1,468.00. Ratio 30.00 / 449.90
/// = 6.7 %.
#[test]
fn a_delta_hedged_book_pays_its_contingency_alone() {
    let (mut w, bob) = desk();
    let alice = hedged_book(&mut w, &bob);
    let g = w.group.group;
    let linear = health_view(&mut w.env, &g, &alice.account);
    assert_near(linear.init, 1_048_100_000, "linear Init");
    assert!(portfolio_event(&mut w, &alice).is_none(), "no portfolio event in linear mode");

    let out = set_mode(&mut w, &alice, margin_mode::PORTFOLIO);
    out.expect_ok();
    let ev = events::<MarginModeSet>(&out.logs).pop().expect("MarginModeSet");
    assert_eq!(ev.mode, margin_mode::PORTFOLIO);
    assert_near(ev.init_health, 1_468_000_000, "portfolio Init in the event");
    let portfolio = health_view(&mut w.env, &g, &alice.account);
    assert_near(portfolio.init, 1_468_000_000, "portfolio Init");
    let book = portfolio_event(&mut w, &alice).expect("PortfolioHealth").underlyings;
    assert_eq!(book.len(), 1, "{book:?}");
    let sol = book[0];
    assert_eq!(sol.underlying, SOL);
    assert_eq!((sol.init_requirement, sol.init_contingency, sol.worst_loss), (30_000_000, 30_000_000, 0));
    assert_near(sol.init_linear, 449_900_000, "linear charges of the legs");
    // Maint: contingency 0.5 % of 3,000.
    assert_eq!(sol.maint_requirement, 15_000_000, "{sol:?}");
    println!(
        "delta-hedged 10 SOL: linear requirement {:.2}, portfolio {:.2} ({:.1} %); Init {:.2} -> {:.2}",
        sol.init_linear as f64 / 1e6,
        sol.init_requirement as f64 / 1e6,
        100.0 * sol.init_requirement as f64 / sol.init_linear as f64,
        linear.init as f64 / 1e6,
        portfolio.init as f64 / 1e6
    );
}

/// Alice holds 1 SOL and sells 100 calls (1 SOL) struck at $165. Linear
/// mode charges the SOL its 20 % haircut (29.98) and the short call
/// Derive's floor, 13 % · 150.10 = 19.51: 49.49. Portfolio mode: the call
/// caps the book's upside and the SOL covers the call, so the worst
/// scenario is a fall (the SOL loses, the short call gains its value back)
/// and the requirement is 4/3 × that loss plus 1 % of 150 + 150 · Δ: the
/// SOL bank's 20 % Init haircut is wider than 1.25 × the grid's 15 % move,
/// so the loss is scaled by 20 % / 15 % (an unhedged SOL pays its haircut).
#[test]
fn a_covered_call_is_charged_its_worst_scenario() {
    let (mut w, bob) = desk();
    let alice = w.user(10, [0, ONE_SOL, 0]);
    w.deposit(&alice, SOL, ONE_SOL).expect_ok();
    w.trade(CALL, &bob, &alice, 100, CALL_MODEL).expect_ok();
    let g = w.group.group;
    let linear = health_view(&mut w.env, &g, &alice.account);
    set_mode(&mut w, &alice, margin_mode::PORTFOLIO).expect_ok();
    let portfolio = health_view(&mut w.env, &g, &alice.account);
    let sol = portfolio_event(&mut w, &alice).expect("PortfolioHealth").underlyings[0];
    let delta = approx_f64(w.market(CALL).risk_array.delta.get());
    println!(
        "covered call (1 SOL + short 1 SOL $165 call, Δ {delta:.3}): linear requirement {:.4}, \
         portfolio {:.4} (worst loss {:.4} in scenario {}, contingency {:.4}); Init {:.4} -> {:.4}",
        sol.init_linear as f64 / 1e6,
        sol.init_requirement as f64 / 1e6,
        sol.worst_loss as f64 / 1e6,
        sol.worst_scenario,
        sol.init_contingency as f64 / 1e6,
        linear.init as f64 / 1e6,
        portfolio.init as f64 / 1e6,
    );
    // Linear legs: 1 · 149.90 · 0.2 + 13 % · 150.10 (each rounded up).
    assert!((49_490_000..=49_500_000).contains(&sol.init_linear), "{sol:?}");
    // Contingency: 1 % of (150 + 150 · Δ), rounded up.
    let contingency = 0.01 * (150.0 + 150.0 * delta) * 1e6;
    assert!((sol.init_contingency as f64 - contingency).abs() <= 2.0, "{sol:?} vs {contingency}");
    // Requirement = ⌈4/3 · worst⌉ + contingency, below linear; the worst
    // scenario is a core fall of 15 % (indices 1–3: −15 % × vol down/flat/up).
    let scenario = 4.0 / 3.0 * sol.worst_loss as f64 + sol.init_contingency as f64;
    assert!((sol.init_requirement as f64 - scenario).abs() <= 3.0, "{sol:?}");
    assert!((1..=3).contains(&sol.worst_scenario), "{sol:?}");
    assert!(sol.init_requirement < sol.init_linear * 6 / 10, "{sol:?}");
    // Health rises by what the requirement fell, plus the SOL counted unweighted (its haircut is in linear).
    let gained = portfolio.init - linear.init;
    assert!((gained - (sol.init_linear - sol.init_requirement)).abs() <= 3, "{gained} {sol:?}");
}

/// Bob longs 10 SOL of the perpetual on 160 USDC; SOL falls to $138: Init
/// < 0 in linear mode, and in portfolio mode too (portfolio never charges
/// more than linear, but a naked long is charged ≈ linear). Switching is
/// refused with the Init health in the new mode, the account unchanged.
#[test]
fn switching_while_unhealthy_in_the_new_mode_is_refused() {
    let (mut w, bob) = desk();
    let carol = w.user(12, [160_000_000, 0, 0]);
    w.deposit(&carol, USDC, 160_000_000).expect_ok();
    w.trade(PERP, &carol, &bob, 1_000, PERP_PRICE).expect_ok();
    w.set_price(SOL, 13_800_000_000, 10_000_000);
    let g = w.group.group;
    let linear = health_view(&mut w.env, &g, &carol.account);
    assert!(linear.init < 0, "{linear:?}");
    let ix = set_mode_ix(&w, &carol, &carol.wallet.pubkey(), margin_mode::PORTFOLIO);
    let f = w.env.send_err(&[ix], &[&carol.wallet], XmarginError::MarginModeUnhealthy, &[carol.account]);
    // Portfolio Init (logged as Left): below 0, at or above linear's.
    let left = f.logs.iter().find_map(|l| l.split("Left: ").nth(1)).expect("Left value").trim().to_string();
    let init: i64 = left.parse().expect("an integer");
    assert!(init < 0 && init >= linear.init, "portfolio Init {init} vs linear {linear:?}");
    assert!(f.logs.iter().any(|l| l.contains("Right: 1")), "{f}");
    assert_eq!(w.flags(&carol) & PORTFOLIO_MODE, 0);
}

/// Set by `set_margin_mode` (owner or delegate), refused when unchanged,
/// cleared by switching back; a closed and re-created account starts linear.
#[test]
fn the_mode_flag_lifecycle() {
    let (mut w, _bob) = desk();
    let dave = w.user(13, [0, 0, 0]);
    let g = w.group.group;
    assert_eq!(w.flags(&dave) & PORTFOLIO_MODE, 0, "linear by default");
    set_mode(&mut w, &dave, margin_mode::PORTFOLIO).expect_ok();
    assert_eq!(w.flags(&dave) & PORTFOLIO_MODE, PORTFOLIO_MODE);
    let ix = set_mode_ix(&w, &dave, &dave.wallet.pubkey(), margin_mode::PORTFOLIO);
    w.env.send_err(&[ix], &[&dave.wallet], XmarginError::MarginModeUnchanged, &[dave.account]);
    let ix = set_mode_ix(&w, &dave, &dave.wallet.pubkey(), 2);
    w.env.send_err(&[ix], &[&dave.wallet], XmarginError::InvalidMarginMode, &[dave.account]);
    // A stranger may not; the delegate may.
    let eve = w.env.new_wallet(14);
    let ix = set_mode_ix(&w, &dave, &eve.pubkey(), margin_mode::LINEAR);
    w.env.send_err(&[ix], &[&eve], XmarginError::UnauthorizedOwner, &[dave.account]);
    let ix = cixs::set_delegate(&dave.account, &dave.wallet.pubkey(), &eve.pubkey());
    w.env.send_ok(&[ix], &[&dave.wallet]);
    let ix = set_mode_ix(&w, &dave, &eve.pubkey(), margin_mode::LINEAR);
    w.env.send_ok(&[ix], &[&eve]);
    assert_eq!(w.flags(&dave) & PORTFOLIO_MODE, 0, "cleared by switching back");
    // Closed in portfolio mode, re-created at the same address: linear.
    set_mode(&mut w, &dave, margin_mode::PORTFOLIO).expect_ok();
    let ix = close_account_ix(&dave.account, &dave.wallet.pubkey(), &dave.wallet.pubkey());
    w.env.send_ok(&[ix], &[&dave.wallet]);
    assert!(w.env.account(&dave.account).is_none_or(|a| a.data.is_empty()));
    let again = setup_account(&mut w.env, &g, &dave.wallet, 0);
    assert_eq!(again, dave.account);
    assert_eq!(w.flags(&dave) & PORTFOLIO_MODE, 0, "a re-created account starts linear");
}

/// The hedged book borrows 1,100 USDC: linear Init 1,048.10 − 1,100 < 0 is
/// refused, portfolio Init 1,468.00 − 1,100 = 368.00 passes. Back in linear
/// mode it would be unhealthy, so switching back is refused (−51.90).
#[test]
fn portfolio_mode_allows_a_borrow_linear_mode_refuses() {
    let (mut w, bob) = desk();
    let alice = hedged_book(&mut w, &bob);
    let token = w.env.create_token_account(&w.banks[0].mint, &alice.wallet.pubkey());
    let alice = User { tokens: [token, alice.tokens[1], alice.tokens[2]], ..alice };
    let watched = [alice.account, w.banks[0].bank, w.banks[0].vault];
    let ix = withdraw(&w, &alice, 1_100_000_000);
    let f = w.env.send_err(&[ix], &[&alice.wallet], XmarginError::HealthTooLow, &watched);
    assert!(f.logs.iter().any(|l| l.contains("Left: -519000")), "{f}");
    set_mode(&mut w, &alice, margin_mode::PORTFOLIO).expect_ok();
    w.withdraw(&alice, USDC, 1_100_000_000).expect_ok();
    assert_eq!(w.env.token_balance(&alice.tokens[0]), 1_100_000_000);
    let g = w.group.group;
    let h = health_view(&mut w.env, &g, &alice.account);
    assert_near(h.init, 368_000_000, "portfolio Init after the borrow");
    let ix = set_mode_ix(&w, &alice, &alice.wallet.pubkey(), margin_mode::LINEAR);
    let f = w.env.send_err(&[ix], &[&alice.wallet], XmarginError::MarginModeUnhealthy, &[alice.account]);
    assert!(f.logs.iter().any(|l| l.contains("Left: -519000")), "{f}");
    assert_eq!(w.flags(&alice) & PORTFOLIO_MODE, PORTFOLIO_MODE);
}

/// A trade of a portfolio-mode side is checked on its netted book: Alice
/// (hedged, 1,400 USDC borrowed: Init 1,499.00 − 1.00 − 1,400 − 30.00 =
/// 68.00) buying back her whole hedge would leave 10 SOL naked: charged
/// min(4/3 · 15 % · 1,500 + 1 % · 1,500, 299.80) = 299.80 (linear's: the
/// SOL's 20 % haircut), Init −200.80, lower than before: refused. (Linear
/// mode's rule would have let it pass: there the close raises Init from
/// −351.90 to −200.80.) Buying back 1 SOL of it keeps Init ≥ 0 (charged
/// 4/3 · 22.50 + 1 % · 2,850 = 58.50).
#[test]
fn a_portfolio_side_trades_on_its_netted_book() {
    let (mut w, bob) = desk();
    let alice = hedged_and_borrowed(&mut w, &bob);
    let g = w.group.group;
    assert_near(health_view(&mut w.env, &g, &alice.account).init, 68_000_000, "Init after the borrow");
    let market = xmargin::pda::market_address(&g, PERP).0;
    let watched = [alice.account, bob.account, market];
    let ix = w.trade_ix(PERP, &alice, &bob, 1_000, PERP_PRICE);
    let f = w.env.send_err(&[ix], &[&alice.wallet, &bob.wallet], XmarginError::TradeHealthTooLow, &watched);
    assert!(f.logs.iter().any(|l| l.contains("Left: 6799999") || l.contains("Left: 68000000")), "{f}");
    assert!(f.logs.iter().any(|l| l.contains("Right: -2008")), "{f}");
    w.trade(PERP, &alice, &bob, 100, PERP_PRICE).expect_ok();
    let h = health_view(&mut w.env, &g, &alice.account);
    assert!((0..68_000_000).contains(&h.init), "{h:?}");
}

/// A portfolio account liquidatable in its mode is liquidated in linear
/// mode and leaves portfolio mode: long 10 SOL on the perpetual, short 8 on
/// a future, 100 USDC; at $130 its portfolio Maint is below 0 (the net 2 SOL
/// long lost, the future's profit counts at 90 %). Steps are linear mode's
/// closed form to linear LiquidationEnd 0 (closing one leg of a netted book
/// can lower portfolio health, so no portfolio step might improve it): the
/// whole long first (it does not reach 0), then the future; the first step
/// clears the flag.
#[test]
fn a_portfolio_account_is_liquidated_in_linear_mode() {
    let (mut w, dave, carol) = long_perp_short_future(0);
    let g = w.group.group;
    let before = health_view(&mut w.env, &g, &dave.account);
    assert!(before.maint < 0 && before.liquidation_end < 0, "{before:?}");
    w.liquidate_position(PERP, &dave, &carol, u64::MAX).expect_ok();
    assert_eq!(w.flags(&dave) & PORTFOLIO_MODE, 0, "a liquidated account leaves portfolio mode");
    let after = health_view(&mut w.env, &g, &dave.account);
    let taken = 1_000 - w.position(&dave, PERP).base_contracts;
    println!(
        "portfolio liquidation: portfolio LiqEnd {} -> linear {} taking {taken} contracts",
        before.liquidation_end, after.liquidation_end
    );
    // Linear mode values the two legs apart: closing the whole long does not
    // reach 0 (the short future's requirement and loss remain) ...
    assert_eq!(taken, 1_000);
    assert!(after.liquidation_end < 0 && after.liquidation_end > before.liquidation_end * 2, "{after:?}");
    // ... and a step on the future raises it further: with both legs closed
    // (the $20 fall cost the long 200 USDC of its 100), the rest is a quote
    // debt for the bankruptcy path.
    w.liquidate_position(FUTURE, &dave, &carol, u64::MAX).expect_ok();
    let end = health_view(&mut w.env, &g, &dave.account);
    println!("then the future: linear LiqEnd {} -> {}", after.liquidation_end, end.liquidation_end);
    assert!(end.liquidation_end > after.liquidation_end, "{after:?} -> {end:?}");
}

/// An account healthy in portfolio mode is not liquidatable, whatever
/// linear mode would say: Alice's hedged book with 1,400 USDC borrowed has
/// portfolio Init 68.00 while linear Maint is −126.95; a liquidation is
/// refused with `NotLiquidatable`, nothing changed, the flag kept.
#[test]
fn a_portfolio_account_healthy_in_its_mode_is_not_liquidated() {
    let (mut w, bob) = desk();
    let alice = hedged_and_borrowed(&mut w, &bob);
    let carol = w.user(12, [5_000_000_000, 0, 0]);
    w.deposit(&carol, USDC, 5_000_000_000).expect_ok();
    // Linear Maint: 10 · 149.90 · 0.9 − 1.00 − 5 % · 1,501 − 1,400 = −126.95;
    // portfolio Maint: 1,499.00 − 1.00 − 0.5 % · 3,000 − 1,400 = 83.00.
    let portfolio = health_view(&mut w.env, &w.group.group.clone(), &alice.account);
    assert_near(portfolio.maint, 83_000_000, "portfolio Maint");
    let market = xmargin::pda::market_address(&w.group.group, PERP).0;
    let ix = w.liquidate_position_ix(PERP, &alice, &carol, u64::MAX);
    w.env.send_err(
        &[ix],
        &[&carol.wallet],
        XmarginError::NotLiquidatable,
        &[alice.account, carol.account, market],
    );
    assert_eq!(w.flags(&alice) & PORTFOLIO_MODE, PORTFOLIO_MODE);
}

/// The future of [`long_perp_short_future`].
const FUTURE: u16 = 2;

/// Dave (seed 13): 400 USDC, 10 SOL long on the perpetual, 8 SOL short on a
/// 30-day future and `calls` contracts of the call bought from Bob, in
/// portfolio mode with 300 USDC withdrawn; Carol (seed 12) a liquidator with
/// 5,000 USDC; then SOL at $130.
fn long_perp_short_future(calls: u64) -> (World, User, User) {
    let (mut w, bob) = desk();
    let expiry = w.env.unix_time() + THIRTY_DAYS;
    w.add_market(xmargin_test_support::markets::sol_future_args(FUTURE, expiry)).expect_ok();
    let dave = w.user(13, [400_000_000, 0, 0]);
    w.deposit(&dave, USDC, 400_000_000).expect_ok();
    w.trade(PERP, &dave, &bob, 1_000, PERP_PRICE).expect_ok();
    w.trade(FUTURE, &bob, &dave, 800, PERP_PRICE).expect_ok();
    if calls > 0 {
        w.trade(CALL, &dave, &bob, calls, CALL_MODEL).expect_ok();
    }
    set_mode(&mut w, &dave, margin_mode::PORTFOLIO).expect_ok();
    w.withdraw(&dave, USDC, 300_000_000).expect_ok();
    let carol = w.user(12, [5_000_000_000, 0, 0]);
    w.deposit(&carol, USDC, 5_000_000_000).expect_ok();
    w.set_price(SOL, 13_000_000_000, 10_000_000);
    (w, dave, carol)
}

/// Equal up to the unit rounding of fixed-point health (floor to quote native).
#[track_caller]
fn assert_near(got: i64, want: i64, what: &str) {
    assert!((got - want).abs() <= 2, "{what}: {got} vs {want}");
}

fn withdraw(w: &World, user: &User, amount: u64) -> Instruction {
    let g = w.group.group;
    xmargin_test_support::margin::withdraw_ix(
        &w.env,
        &g,
        &user.account,
        USDC,
        &user.tokens[0],
        &user.wallet.pubkey(),
        amount,
    )
}

/// A grid change does not get a portfolio account liquidated on an option
/// array left on the previous grid: Dave's long-perp / short-future book
/// (as above) also holds 10 contracts of the call; SOL falls to $130, the
/// call's array is recomputed there, then a tightening grid (−10 % added)
/// applies at once and leaves that array on the previous grid. Liquidating
/// Dave is refused with `RiskArrayOtherGrid` (nothing changed, still in
/// portfolio mode) until anyone recomputes the array; then it proceeds.
#[test]
fn a_grid_change_does_not_liquidate_a_portfolio_account_on_the_previous_grid() {
    let (mut w, dave, carol) = long_perp_short_future(10);
    w.update_risk_array(CALL).expect_ok();
    let g = w.group.group;
    let before = health_view(&mut w.env, &g, &dave.account);
    assert!(before.maint < 0, "{before:?}");

    let mut grid =
        xmargin::instructions::UpdateRiskGridArgs::from_params(&xmargin::options::DEFAULT_RISK_GRID);
    grid.price_shocks_bps = vec![-1_500, -1_000, -750, 0, 750, 1_500];
    w.update_risk_grid(grid).expect_ok();
    assert_ne!(w.group_account().risk_grid.grid_id, w.market(CALL).risk_array.grid_id);
    refused_until_the_call_is_cranked(&mut w, &dave, &carol);
    assert!(w.position(&dave, PERP).base_contracts < 1_000);
}

/// `dave`'s perpetual cannot be liquidated (`RiskArrayOtherGrid`, nothing
/// changed, still in portfolio mode) until the call's array is cranked;
/// then it is, in linear mode.
fn refused_until_the_call_is_cranked(w: &mut World, dave: &User, carol: &User) {
    let g = w.group.group;
    let markets: Vec<Address> =
        [PERP, CALL, FUTURE].iter().map(|m| xmargin::pda::market_address(&g, *m).0).collect();
    let ix = w.liquidate_position_ix(PERP, dave, carol, u64::MAX);
    let watched = [&[dave.account, carol.account][..], &markets].concat();
    w.env.send_err(&[ix], &[&carol.wallet], XmarginError::RiskArrayOtherGrid, &watched);
    assert_eq!(w.flags(dave) & PORTFOLIO_MODE, PORTFOLIO_MODE);

    w.update_risk_array(CALL).expect_ok();
    w.liquidate_position(PERP, dave, carol, u64::MAX).expect_ok();
    assert_eq!(w.flags(dave) & PORTFOLIO_MODE, 0, "liquidated in linear mode");
}

/// An array stored before the per-contract format (an upgrade of the
/// program): its value and Δ still value the option, but its scenarios are
/// not netted, and a portfolio account holding it is not liquidated on that
/// account of it (`RiskArrayOtherGrid`, nothing changed) until anyone cranks
/// `update_risk_array`; then it is, in linear mode.
#[test]
fn an_array_of_the_previous_format_is_not_netted_until_cranked() {
    let (mut w, dave, carol) = long_perp_short_future(10);
    w.update_risk_array(CALL).expect_ok();
    let g = w.group.group;
    let call = xmargin::pda::market_address(&g, CALL).0;
    let mut market = w.market(CALL);
    assert_eq!(market.risk_array.format, xmargin_risk::options::risk_array::ARRAY_FORMAT);
    market.risk_array.format = 0;
    let data =
        [<xmargin::state::Market as anchor_lang::Discriminator>::DISCRIMINATOR, bytemuck::bytes_of(&market)]
            .concat();
    w.env.set_account_data(&call, &xmargin::ID, data);
    // Valued (its value and Δ are the same in every format), not netted.
    let view = health_view(&mut w.env, &g, &dave.account);
    assert!(view.maint < 0, "{view:?}");
    refused_until_the_call_is_cranked(&mut w, &dave, &carol);
    assert_eq!(w.market(CALL).risk_array.format, xmargin_risk::options::risk_array::ARRAY_FORMAT);
}
