//! The demo's third act (issue 13): SOL options and portfolio margin in one
//! account. The group lists a one-week SOL series (a $165 call, $140 and
//! $120 puts) from the CLI's `add-option-series` plan with their first
//! risk arrays, raises the puts' volatility and the keeper recomputes
//! theirs. Iris holds SOL, a short SOL perpetual, a covered call and a put
//! spread (Judy, a market maker, takes the other side of each block
//! trade); the engine values the
//! same positions in linear and in portfolio mode side by side, the chain
//! agrees, and Iris opts in and borrows what portfolio mode frees. SOL then
//! crashes: below portfolio maintenance on its aggregate risk, she is
//! liquidated in linear mode (the first step clears `PORTFOLIO_MODE`): the
//! keeper takes every leg, her options at their arrays' model value, her
//! perpetual and her SOL. At expiry the keeper samples
//! the oracle, `settle_expired` pays each position its intrinsic value, the
//! payouts sum to zero and the keeper settles the PnL.
//! Every number printed comes from the chain or the engine; the act checks
//! its claims ([`Outcome::check`]) and fails the demo when one does not hold.
use std::collections::BTreeMap;

use anchor_lang::prelude::Pubkey;
use xmargin::events::PositionSettled;
use xmargin::instructions::margin_mode;
use xmargin::state::account_flags::PORTFOLIO_MODE;
use xmargin::state::{Bank, Group, MarginAccount};
use xmargin_client::instructions as ixs;
use xmargin_client::market_instructions as mixs;
use xmargin_keeper::KeeperConfig;
use xmargin_test_support::margin::{bank_keys, native_balance};
use xmargin_test_support::markets::{events, health_accounts_full};
use xmargin_test_support::world::{User, World};
use xmargin_test_support::Signer;

use crate::demo::step;
use crate::demo_markets::keeper;
use crate::option_commands::model_value_per_contract;
use crate::option_series::{strike_label, Decimals, OptionKind, OptionSeriesConfig, SeriesOverrides};
use crate::show::approx;
use view::{band_name, chain_health, floor, money, print_event, print_table, value};
pub use view::{Outcome, Settlement};

#[path = "demo_options_view.rs"]
pub mod view;

const SERIES: &str = include_str!("../configs/sol-options.json");
const NAMES: [&str; 3] = ["USDC", "SOL", "BTC"];
const USDC: u16 = 0;
const SOL: u16 = 1;
const LAMPORTS: u64 = 1_000_000_000;
const MICRO: u64 = 1_000_000;
const DAY: i64 = 86_400;
/// SOL prices as Pyth mantissas (expo −8) and the confidence used throughout.
const DOLLAR: i64 = 100_000_000;
const CONF: u64 = 10_000_000;
/// The week's series: call strike, put strikes (µUSDC per 0.01 SOL contract).
const CALL_STRIKE: u64 = 1_650_000;
const PUT_STRIKES: [u64; 2] = [1_400_000, 1_200_000];
/// Put volatility after the raise (a skew: the lower strike higher), bps.
const PUT_VOLS: [u32; 2] = [6_600, 7_200];
/// Iris's book, in 0.01 SOL contracts: 10 SOL, 5 of them hedged on the
/// perpetual, 10 calls sold against them, 10 puts bought and sold.
const SOL_HELD: u64 = 10 * LAMPORTS;
const PERP_SHORT: u64 = 500;
const OPTIONS: u64 = 1_000;
/// Share of her portfolio Init health Iris borrows (percent).
const BORROW_PERCENT: i64 = 95;
/// The crash: SOL falls from $150 by this share (percent).
const CRASH_PERCENT: i64 = 37;
/// Where SOL trades in the expiry window, $ (it recovers a little).
const EXPIRY_PRICES: [i64; 6] = [98, 99, 100, 101, 102, 103];

/// The act's option markets and the names to print.
struct Series {
    call: u16,
    puts: [u16; 2],
    expiry: i64,
    names: BTreeMap<u16, String>,
}

impl Series {
    fn all(&self) -> [u16; 3] {
        [self.call, self.puts[0], self.puts[1]]
    }

    fn name(&self, i: u16) -> &str {
        self.names.get(&i).map_or("?", String::as_str)
    }
}

fn sol_at(w: &mut World, dollars: i64) {
    w.set_price(SOL, dollars * DOLLAR, CONF);
}

fn at(w: &mut World, t: i64) {
    w.env.set_unix_time(t);
    w.refresh_prices();
}

/// `update_risk_array` of every option market of the act, by anyone.
fn crank_arrays(w: &mut World, s: &Series) -> Result<(), String> {
    for i in s.all() {
        let ix = mixs::update_risk_array(&w.group.group, &w.market_keys(i));
        let out = w.env.send(&[ix], &[]);
        step(&format!("update_risk_array {}", s.name(i)), &out)?;
    }
    Ok(())
}

/// Lists the week's series from the shipped `add-option-series` entry,
/// its strikes, kinds and expiry replaced as the command's flags do.
fn list_series(w: &mut World) -> Result<Series, String> {
    let series: OptionSeriesConfig = serde_json::from_str(SERIES).map_err(|e| e.to_string())?;
    let g = w.group.group;
    let group: Group = w.env.zero_copy(&g);
    let bank: Bank = w.env.zero_copy(&xmargin::pda::bank_address(&g, series.underlying_token_index).0);
    let d = Decimals { underlying: bank.mint_decimals, quote: group.quote_decimals };
    let expiry = w.env.unix_time() + 7 * DAY;
    let calls = SeriesOverrides {
        strikes: Some(vec![CALL_STRIKE]),
        expiries: Some(vec![expiry]),
        kinds: Some(vec![OptionKind::Call]),
    };
    let mut plan = series.plan(&calls, group.market_count, d)?;
    let puts =
        SeriesOverrides { strikes: Some(PUT_STRIKES.to_vec()), kinds: Some(vec![OptionKind::Put]), ..calls };
    plan.extend(series.plan(&puts, group.market_count + 1, d)?);
    let admin = w.admin.insecure_clone();
    let underlying = bank_keys(&w.env, &g, series.underlying_token_index);
    let mut names = BTreeMap::new();
    for m in &plan {
        let ix = mixs::add_option_market(&g, &admin.pubkey(), &admin.pubkey(), &underlying, m.args);
        let strike = strike_label(m.strike, m.args.contract_size, d)?;
        let what = format!(
            "add_option_market {} ({} at ${strike})",
            m.name,
            if m.args.is_call == 1 { "call" } else { "put" }
        );
        step(&what, &w.env.send(&[ix], &[&admin]))?;
        // As the command does: each market's first risk array right after it.
        let keys = w.market_keys(m.args.market_index);
        let first = w.env.send(&[mixs::update_risk_array(&g, &keys)], &[]);
        step(&format!("update_risk_array {} (its first)", m.name), &first)?;
        names.insert(m.args.market_index, m.name.clone());
    }
    let index = |k: usize| plan[k].args.market_index;
    Ok(Series { call: index(0), puts: [index(1), index(2)], expiry, names })
}

fn print_markets(w: &World, s: &Series) {
    println!("  {:<16} {:>8} {:>11} {:>10} {:>8}", "market", "vol", "value/SOL", "delta", "array");
    for i in s.all() {
        let m = w.market(i);
        println!(
            "  {:<16} {:>6.1} % {:>11} {:>10.3} {:>8}",
            s.name(i),
            approx(m.volatility.get()) * 100.0,
            money(
                model_value_per_contract(&m)
                    .checked_mul(100)
                    .and_then(|v| i64::try_from(v).ok())
                    .unwrap_or(i64::MAX)
            ),
            approx(m.risk_array.delta.get()),
            if m.risk_array.computed_at == w.env.unix_time() { "fresh" } else { "old" }
        );
    }
}

/// A block trade at the option's model value: the demo trades right after
/// the array is computed at the current oracle, where the band (around the
/// value moved to the oracle) is around the model value itself.
fn trade_option(w: &mut World, market: u16, buyer: &User, seller: &User, label: &str) -> Result<(), String> {
    let price = u64::try_from(model_value_per_contract(&w.market(market))).map_err(|e| e.to_string())?;
    let out = w.trade(market, buyer, seller, OPTIONS, price);
    let per_sol = price.checked_mul(100).and_then(|p| i64::try_from(p).ok()).ok_or("price overflow")?;
    step(&format!("{label} at {} a SOL", money(per_sol)), &out)
}

/// Iris's positions: (USDC, SOL) balances and contracts per market.
fn holdings(w: &World, u: &User) -> (i64, i64, BTreeMap<u16, i64>) {
    let bal = |t| floor(native_balance(&w.env, &w.group.group, &u.account, t));
    let acc: MarginAccount = w.env.zero_copy(&u.account);
    let pos = acc.active_derivatives().map(|p| (p.market_index, p.base_contracts)).collect();
    (bal(USDC), bal(SOL), pos)
}

fn market_name(w: &World, s: &Series, i: u16) -> String {
    s.names.get(&i).cloned().unwrap_or_else(|| w.market(i).name_str().to_string())
}

/// The changes of one liquidation cycle, as words.
fn changes(
    w: &World,
    s: &Series,
    before: &(i64, i64, BTreeMap<u16, i64>),
    after: &(i64, i64, BTreeMap<u16, i64>),
) -> Vec<String> {
    let mut out = Vec::new();
    if before.1 != after.1 {
        out.push(format!(
            "SOL {} → {}",
            crate::demo::ui(1, before.1.into()),
            crate::demo::ui(1, after.1.into())
        ));
    }
    for (i, b) in &before.2 {
        let a = after.2.get(i).copied().unwrap_or(0);
        if a != *b {
            out.push(format!("{} {b} → {a} contracts", market_name(w, s, *i)));
        }
    }
    if before.0 != after.0 {
        out.push(format!("USDC {} → {}", money(before.0), money(after.0)));
    }
    out
}

pub fn run(w: &mut World, bob: &User, perp: u16) -> Result<Outcome, String> {
    let mut outcome = Outcome::default();
    println!("\n19. Options: SOL back at $150; the group lists a one-week SOL series from the shipped");
    println!("    add-option-series entry (crates/cli/configs/sol-options.json, strikes and expiry by flag)");
    at(w, w.env.unix_time() + 600);
    sol_at(w, 150);
    let s = list_series(w)?;
    let admin = w.admin.insecure_clone();
    for (i, bps) in s.puts.iter().zip(PUT_VOLS) {
        let market = w.market_keys(*i).market;
        let ix = mixs::set_volatility(&w.group.group, &admin.pubkey(), &market, bps);
        step(
            &format!("set_volatility {} → {:.0} % (a raise: at once)", s.name(*i), f64::from(bps) / 100.0),
            &w.env.send(&[ix], &[&admin]),
        )?;
    }
    let config = KeeperConfig {
        sample_interval_secs: 300,
        ..KeeperConfig::new(w.group.group, bob.account, bob.wallet.pubkey())
    };
    println!("  the puts' arrays are stale at the new volatility: the keeper's next cycle recomputes them");
    println!(
        "  (Black–Scholes over the grid; the valuation code logs each market it reads with a stale array):"
    );
    let cycle = keeper(w, bob, &config)?;
    if cycle.risk_array_updates != 2 {
        return Err(format!("expected 2 risk-array updates: {cycle:?}"));
    }
    print_markets(w, &s);

    println!(
        "\n20. Iris's book: SOL, a short perpetual, a covered call and a put spread (Judy makes each price)"
    );
    let iris = w.user(30, [0, SOL_HELD, 0]);
    let judy = w.user(31, [200_000 * MICRO, 0, 0]);
    step("iris deposits 10 SOL", &w.deposit(&iris, SOL, SOL_HELD))?;
    step("judy (a market maker) deposits 200,000 USDC", &w.deposit(&judy, USDC, 200_000 * MICRO))?;
    step(
        "iris sells 5 SOL of the perpetual to judy at $150.00",
        &w.trade(perp, &judy, &iris, PERP_SHORT, 1_500_000),
    )?;
    trade_option(w, s.call, &judy, &iris, &format!("iris sells 10 SOL of {}", s.name(s.call)))?;
    trade_option(w, s.puts[0], &iris, &judy, &format!("iris buys 10 SOL of {}", s.name(s.puts[0])))?;
    trade_option(w, s.puts[1], &judy, &iris, &format!("iris sells 10 SOL of {}", s.name(s.puts[1])))?;

    println!("\n21. Her requirement, linear vs portfolio: the engine values the same positions both ways");
    let v = value(w, &bob.wallet, &iris.account)?;
    print_table(&v, &NAMES);
    let (linear, _) = chain_health(w, &iris)?;
    println!(
        "  chain (linear mode now): Init {}  Maint {}  → {}",
        money(linear.init),
        money(linear.maint),
        band_name(linear.band)
    );
    if (linear.init, linear.maint) != v.linear {
        return Err(format!("engine {:?} ≠ chain {linear:?}", v.linear));
    }
    let book = v.books.first().ok_or("no SOL book")?;
    outcome.linear_init_requirement = book.linear.0;
    outcome.portfolio_init_requirement = book.portfolio.0;
    outcome.chain_linear_init = linear.init;
    let g = w.group.group;
    let health = health_accounts_full(&w.env, &g, &iris.account, &[], &[]);
    let ix = ixs::set_margin_mode(&g, &iris.account, &iris.wallet.pubkey(), margin_mode::PORTFOLIO, health);
    step("iris opts in: set_margin_mode(portfolio)", &w.env.send(&[ix], &[&iris.wallet]))?;
    let (pf, ev) = chain_health(w, &iris)?;
    println!(
        "  chain (portfolio mode): Init {}  Maint {}  → {}",
        money(pf.init),
        money(pf.maint),
        band_name(pf.band)
    );
    if (pf.init, pf.maint) != v.portfolio {
        return Err(format!("engine {:?} ≠ chain {pf:?}", v.portfolio));
    }
    print_event(&ev.ok_or("no PortfolioHealth event")?, &NAMES);
    outcome.chain_portfolio_init = pf.init;
    // Whole USDC, rounded down.
    let whole = i64::try_from(MICRO).map_err(|e| e.to_string())?;
    let borrow =
        pf.init.checked_mul(BORROW_PERCENT).map(|b| b / 100 / whole * whole).ok_or("borrow overflow")?;
    println!(
        "  portfolio mode frees {} of Init; iris borrows {BORROW_PERCENT} % of her Init health: {} USDC",
        money(pf.init - linear.init),
        money(borrow)
    );
    println!(
        "  (linear mode would refuse it: its Init after the borrow would be {})",
        money(linear.init - borrow)
    );
    let token = w.env.create_token_account(&w.banks[0].mint, &iris.wallet.pubkey());
    let iris = User { tokens: [token, iris.tokens[1], iris.tokens[2]], ..iris };
    step(&format!("iris borrows {} USDC", money(borrow)), &w.withdraw(&iris, USDC, borrow.unsigned_abs()))?;
    let v = value(w, &bob.wallet, &iris.account)?;
    print_table(&v, &NAMES);

    crash(w, bob, &config, &s, &iris, &mut outcome)?;
    expire(w, bob, &config, &s, &[("iris", &iris), ("judy", &judy), ("bob", bob)], &mut outcome)?;
    outcome.check()?;
    Ok(outcome)
}

/// Step 22: the crash, the arrays refreshed, the keeper liquidating Iris.
fn crash(
    w: &mut World,
    bob: &User,
    config: &KeeperConfig,
    s: &Series,
    iris: &User,
    outcome: &mut Outcome,
) -> Result<(), String> {
    let price = 150 * DOLLAR / 100 * (100 - CRASH_PERCENT);
    println!(
        "\n22. SOL crashes {CRASH_PERCENT} % to ${:.2}; the arrays are recomputed at the new spot (anyone may)",
        price as f64 / DOLLAR as f64
    );
    at(w, w.env.unix_time() + 120);
    w.set_price(SOL, price, CONF);
    crank_arrays(w, s)?;
    print_markets(w, s);
    let v = value(w, &bob.wallet, &iris.account)?;
    print_table(&v, &NAMES);
    let (h, ev) = chain_health(w, iris)?;
    println!(
        "  chain (portfolio mode): Init {}  Maint {}  → {}",
        money(h.init),
        money(h.maint),
        band_name(h.band)
    );
    if let Some(ev) = ev {
        print_event(&ev, &NAMES);
    }
    println!(
        "  below maintenance on her aggregate (portfolio) risk: liquidatable (linear mode: Maint {})",
        money(v.linear.1)
    );
    outcome.crash_band = h.band;
    outcome.crash_maint = h.maint;
    println!(
        "  the keeper liquidates her step by step (in linear mode: the first step clears PORTFOLIO_MODE)"
    );
    let mut n = 0;
    for _ in 0..12 {
        let before = holdings(w, iris);
        let cycle = keeper(w, bob, config)?;
        let done = changes(w, s, &before, &holdings(w, iris));
        if done.is_empty() {
            break;
        }
        n += 1;
        print_step(w, iris, n, &done, outcome)?;
        let others = cycle.liquidations_sent.saturating_sub(1);
        if others > 0 {
            println!(
                "          (and {others} liquidation(s) of other accounts the crash took below maintenance)"
            );
        }
    }
    if n == 0 {
        return Err("the keeper did not liquidate iris".into());
    }
    // The keeper takes every leg, options included (each at its array's model value moved to the oracle).
    outcome.keeper_steps = n;
    let (h, _) = chain_health(w, iris)?;
    outcome.positions_after = holdings(w, iris).2.values().filter(|c| **c != 0).count();
    let (usdc, _, _) = holdings(w, iris);
    let acc: MarginAccount = w.env.zero_copy(&iris.account);
    let unsettled =
        acc.active_derivatives().try_fold(0i64, |t, p| t.checked_add(p.realized_pnl)).ok_or("overflow")?;
    println!(
        "  iris after: no position left; USDC {} against {} of unsettled profit from the closed legs",
        money(usdc),
        money(unsettled)
    );
    println!(
        "  (Init {}  Maint {}  → {}: profit counts at its Maint weight until settle_pnl moves it,",
        money(h.init),
        money(h.maint),
        band_name(h.band)
    );
    println!("  which waits for the stable price to follow the crash)");
    Ok(())
}

/// One liquidation step of Iris as the chain reports it.
fn print_step(
    w: &mut World,
    iris: &User,
    n: usize,
    done: &[String],
    outcome: &mut Outcome,
) -> Result<(), String> {
    let acc: MarginAccount = w.env.zero_copy(&iris.account);
    let (h, _) = chain_health(w, iris)?;
    outcome.liquidation_steps += 1;
    if n == 1 {
        outcome.portfolio_after_liquidation = acc.has_flag(PORTFOLIO_MODE);
    }
    println!("  step {n}: {}", done.join(", "));
    println!(
        "          → Maint {}  liq-end {}  {}, {}",
        money(h.maint),
        money(h.liquidation_end),
        band_name(h.band),
        if acc.has_flag(PORTFOLIO_MODE) { "portfolio mode" } else { "linear mode" }
    );
    Ok(())
}

/// Step 23: the expiry window sampled by the keeper, `settle_expired` of
/// every holder, the payouts (they sum to zero), then the keeper settles PnL.
fn expire(
    w: &mut World,
    bob: &User,
    config: &KeeperConfig,
    s: &Series,
    who: &[(&str, &User)],
    outcome: &mut Outcome,
) -> Result<(), String> {
    println!("\n23. Expiry, a week later: the week-old arrays are refreshed, then in the last 30 minutes");
    println!("    the keeper samples the oracle every 5 minutes (and keeps the arrays fresh)");
    for (i, dollars) in EXPIRY_PRICES.into_iter().enumerate() {
        let t = s.expiry - 1_800 + 300 * i64::try_from(i).unwrap_or(0);
        at(w, t);
        sol_at(w, dollars);
        if i == 0 {
            crank_arrays(w, s)?;
        }
        print!("  T−{:>2} min  SOL ${dollars:<4} ", (s.expiry - t) / 60);
        keeper(w, bob, config)?;
    }
    at(w, s.expiry);
    println!(
        "  at expiry settle_expired (anyone may send it) fixes each market's price and pays intrinsic value:"
    );
    let names: BTreeMap<Pubkey, &str> = who.iter().map(|(n, u)| (u.account, *n)).collect();
    for i in s.all() {
        let mut payouts = Vec::new();
        for (name, u) in who {
            let p = w.position(u, i);
            if p.base_contracts == 0 && p.quote_cost == 0 {
                continue;
            }
            let out = w.settle_expired(i, u);
            step(&format!("settle_expired {} for {name}", s.name(i)), &out)?;
            for e in events::<PositionSettled>(&out.logs) {
                let payout = e.realized.checked_add(p.quote_cost).ok_or("payout overflow")?;
                payouts.push((
                    names.get(&e.account).copied().unwrap_or("?").to_string(),
                    e.base_contracts,
                    payout,
                ));
            }
        }
        let m = w.market(i);
        let settle = approx(m.settlement_price.get()) * 1_000.0;
        let total = payouts.iter().try_fold(0i64, |t, p| t.checked_add(p.2)).ok_or("sum overflow")?;
        println!("  {}: settlement price ${settle:.2}", s.name(i));
        for (name, contracts, payout) in &payouts {
            println!("    {name:<6} {contracts:>+7} contracts  {:>12}", money(*payout));
        }
        println!("    {:<6} {:>7}            {:>12}  (Σ payouts: zero-sum)", "total", "", money(total));
        outcome.settlements.push(Settlement {
            market: s.name(i).to_string(),
            price: settle,
            total,
            payouts: payouts.into_iter().map(|(n, _, p)| (n, p)).collect(),
        });
    }
    println!("  the keeper moves the realised PnL into USDC balances:");
    keeper(w, bob, config)?;
    w.assert_all_vaults();
    for (name, u) in who {
        let (usdc, sol, _) = holdings(w, u);
        let acc: MarginAccount = w.env.zero_copy(&u.account);
        let unsettled: i64 = acc.active_derivatives().map(|p| p.realized_pnl).sum();
        let (h, _) = chain_health(w, u)?;
        if *name == "iris" {
            outcome.final_maint = h.maint;
        }
        println!(
            "  {name:<5} USDC {:>14}  SOL {:>12}  unsettled PnL {:>10}  Maint {:>12}  → {}",
            money(usdc),
            crate::demo::ui(1, sol.into()),
            money(unsettled),
            money(h.maint),
            band_name(h.band)
        );
    }
    Ok(())
}

#[cfg(test)]
#[path = "demo_options_tests.rs"]
mod tests;
