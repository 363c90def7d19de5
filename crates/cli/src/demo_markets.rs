//! The demo's second part: derivatives in the same margin accounts. A SOL
//! perpetual and a dated SOL future on the SOL bank; Dave hedges his SOL with
//! a short perpetual, funding is paid hour by hour, Erin signs a quote that
//! Frank fills, the future is sampled in its last 30 minutes and settles at
//! the samples' time-weighted mean, and the keeper liquidates Henry's
//! leveraged long when SOL drops. Every number printed is read back from
//! the chain; the comments give the hand calculation.
use std::collections::BTreeMap;

use anchor_lang::prelude::Pubkey;
use xmargin::quote::{quote_side, QuoteTerms};
use xmargin::state::MarginAccount;
use xmargin_keeper::svm::SvmChain;
use xmargin_keeper::{run_cycle, CycleSummary, KeeperConfig, Snapshot};
use xmargin_risk::{Fixed, Rounding};
use xmargin_test_support::margin::{health_view, native_balance};
use xmargin_test_support::markets::{health_accounts_full, sol_future_args, sol_perp_args};
use xmargin_test_support::world::{User, World};
use xmargin_test_support::Signer;

use crate::demo::{show_health, step, ui, usdc};
use crate::quote::SignedQuote;
use crate::show::{approx, print_markets, print_positions};

pub(crate) const PERP: u16 = 0;
const FUT: u16 = 1;
const USDC: u16 = 0;
const SOL: u16 = 1;
const LAMPORTS: u64 = 1_000_000_000;
const MICRO: u64 = 1_000_000;
const HOUR: i64 = 3_600;

/// SOL at `dollars` ± $0.10, published now.
fn sol_at(w: &mut World, dollars: i64) {
    w.set_price(SOL, dollars * 100_000_000, 10_000_000);
}

/// Moves the clock to `t` and republishes every price there.
fn at(w: &mut World, t: i64) {
    w.env.set_unix_time(t);
    w.refresh_prices();
}

/// Dollars per SOL of a price in µUSDC per lamport.
fn per_sol(p: Fixed) -> f64 {
    approx(p) * 1_000.0
}

fn cash(w: &World, u: &User) -> i64 {
    native_balance(&w.env, &w.group.group, &u.account, USDC).to_i64(Rounding::Floor).unwrap_or_default()
}

fn contracts(w: &World, u: &User, market: u16) -> i64 {
    w.position(u, market).base_contracts
}

/// One keeper cycle, printed as the counters that moved; any failure stops the demo.
pub(crate) fn keeper(w: &mut World, bob: &User, config: &KeeperConfig) -> Result<CycleSummary, String> {
    let s = run_cycle(&mut SvmChain { env: &mut w.env, signer: &bob.wallet }, config)
        .map_err(|e| e.to_string())?;
    w.assert_all_vaults();
    let mut done = Vec::new();
    for (n, one, many) in [
        (s.funding_updates, "funding update", "funding updates"),
        (s.risk_array_updates, "risk-array update", "risk-array updates"),
        (s.price_samples, "price sample", "price samples"),
        (s.expiries_settled, "expired position settled", "expired positions settled"),
        (s.position_liquidations, "position liquidation", "position liquidations"),
        (s.liquidations_sent - s.position_liquidations, "token liquidation", "token liquidations"),
        (s.pnl_settlements, "PnL settlement", "PnL settlements"),
        (s.dust_settlements, "dust collection", "dust collections"),
    ] {
        if n > 0 {
            done.push(format!("{n} {}", if n > 1 { many } else { one }));
        }
    }
    let done = if done.is_empty() { "nothing due".to_string() } else { done.join(", ") };
    println!("  keeper: {} accounts, {} markets: {done}", s.accounts, s.markets);
    if s.failures > 0 {
        return Err(format!("the keeper had {} failure(s): {s:?}", s.failures));
    }
    Ok(s)
}

fn changes(w: &World, who: &[(&str, &User)], before: &[i64]) -> String {
    let parts: Vec<String> = who
        .iter()
        .zip(before)
        .map(|((name, u), b)| {
            let d = cash(w, u) - b;
            format!("{name} {}{}", if d >= 0 { "+" } else { "" }, ui(0, i128::from(d)))
        })
        .collect();
    format!("{} USDC", parts.join(", "))
}

/// The funding an update applied, worked from the market's prices.
fn explain_funding(w: &World, cum_before: Fixed) {
    let m = w.market(PERP);
    let (mark, oracle) = (m.mark_twap.get(), m.oracle_twap.get());
    let premium = approx(mark) / approx(oracle) - 1.0;
    let rate = approx(m.last_funding_rate.get());
    let per_contract = approx(m.cum_funding.get()) - approx(cum_before);
    println!(
        "  mark TWAP ${:.4} vs oracle TWAP ${:.4}: premium {:.4} %, an hourly rate of {:.4} % / 24 = {:.5} %",
        per_sol(mark),
        per_sol(oracle),
        premium * 100.0,
        premium * 100.0,
        rate * 100.0
    );
    println!(
        "  per contract: {:.5} % × ${:.4} = {:.6} USDC; longs pay it, shorts receive it",
        rate * 100.0,
        per_sol(oracle) / 100.0,
        per_contract / 1e6
    );
}

pub fn run(w: &mut World, bob: &User) -> Result<(), String> {
    println!(
        "\n9. Derivatives in the same accounts: SOL is back at $150; the group lists a SOL perpetual and"
    );
    println!("   a SOL future expiring in 4 hours, both on the SOL bank's oracle");
    sol_at(w, 150);
    let t0 = w.env.unix_time();
    step("list SOL-PERP (perpetual, contracts of 0.01 SOL)", &w.add_market(sol_perp_args(PERP)))?;
    step("list SOL-FUT (dated future, expiry in 4 h)", &w.add_market(sol_future_args(FUT, t0 + 4 * HOUR)))?;
    println!(
        "  margin on notional: Init 10 %, LiquidationEnd 7.5 %, Maint 5 %; trades within 5 % of the oracle;"
    );
    println!("  a profit counts at 50 % in Init (at most 100 USDC) and 90 % in Maint; liquidation 1 % + 0.5 % insurance");
    let dave = w.user(20, [0, 10 * LAMPORTS, 0]);
    let erin = w.user(21, [100_000 * MICRO, 0, 0]);
    let frank = w.user(22, [2_000 * MICRO, 0, 0]);
    let grace = w.user(23, [2_000 * MICRO, 0, 0]);
    let henry = w.user(24, [250 * MICRO, 0, 0]);
    step("dave deposits 10 SOL", &w.deposit(&dave, SOL, 10 * LAMPORTS))?;
    step("erin (a market maker) deposits 100,000 USDC", &w.deposit(&erin, USDC, 100_000 * MICRO))?;
    step("frank and grace deposit 2,000 USDC each", &w.deposit(&frank, USDC, 2_000 * MICRO))?;
    w.deposit(&grace, USDC, 2_000 * MICRO).expect_ok();
    step("henry deposits 250 USDC", &w.deposit(&henry, USDC, 250 * MICRO))?;
    let config = KeeperConfig {
        sample_interval_secs: 300,
        ..KeeperConfig::new(w.group.group, bob.account, bob.wallet.pubkey())
    };

    println!("\n10. Block trades, signed by both sides (10 minutes in)");
    at(w, t0 + 600);
    let out = w.trade(PERP, &henry, &erin, 1_600, 1_500_000);
    step("henry buys 1,600 contracts (16 SOL, $2,400) from erin at $150.00", &out)?;
    println!("  on 250 USDC: Init 250 − 16 × $0.10 − 16 × $150.10 × 10 % = 8.24 USDC to spare (9.6x)");
    let out = w.trade(PERP, &erin, &dave, 1_000, 1_515_000);
    step("dave sells 1,000 contracts (10 SOL) to erin at $151.50", &out)?;
    println!("  dave's 10 SOL are hedged: as SOL moves his spot gains what his short loses");
    for dollars in [140, 150, 160] {
        sol_at(w, dollars);
        let v = health_view(&mut w.env, &w.group.group, &dave.account);
        println!(
            "  SOL at ${:<4}  dave's Maint health {} USDC (10 SOL alone would move $9 per $1)",
            dollars,
            usdc(v.maint)
        );
    }
    sol_at(w, 150);
    show_health(w, "henry", &henry);

    println!("\n11. An hour after listing the keeper cranks funding: dave's trade 1 % over the oracle");
    println!("    lifted the mark, so longs pay shorts; the funding realised is settled into USDC");
    at(w, t0 + HOUR);
    let cum = w.market(PERP).cum_funding.get();
    let who = [("dave", &dave), ("erin", &erin), ("henry", &henry)];
    let before: Vec<i64> = who.iter().map(|(_, u)| cash(w, u)).collect();
    keeper(w, bob, &config)?;
    explain_funding(w, cum);
    println!("  settled: {} (dave also cashes his trade's 1.5 cents a contract)", changes(w, &who, &before));

    println!("\n12. Erin quotes, Frank takes: a maker-signed quote filled by the taker alone");
    at(w, t0 + HOUR + 50 * 60);
    let market = w.market_keys(PERP);
    let terms = QuoteTerms {
        side: quote_side::MAKER_SELLS,
        size: 500,
        price: 1_515_000,
        expiry_slot: w.env.clock().slot + 150,
        nonce: 0,
    };
    let quote = SignedQuote::sign(&erin.wallet, w.group.group, market.market, erin.account, terms);
    println!(
        "  erin signs: sell 500 contracts at $151.50, until slot {}, nonce 0 — {} base58 characters",
        terms.expiry_slot,
        quote.encode().len()
    );
    let health = |u: &User| health_accounts_full(&w.env, &w.group.group, &u.account, &[], &[PERP]);
    let ixs = quote.take_instructions(
        market.oracle,
        &frank.account,
        &frank.wallet.pubkey(),
        health(&erin),
        health(&frank),
    );
    step("frank sends the Ed25519 signature check + take_quote", &w.env.send(&ixs, &[&frank.wallet]))?;
    w.assert_all_vaults();
    let replay = w.env.send(&ixs, &[&frank.wallet]);
    match &replay.result {
        Err(f) => println!("  the same quote again: refused ({})", f.anchor_error_name().unwrap_or_default()),
        Ok(()) => return Err("a quote filled twice".into()),
    }
    println!(
        "  positions (contracts): dave {}, erin {}, frank {}, henry {}",
        contracts(w, &dave, PERP),
        contracts(w, &erin, PERP),
        contracts(w, &frank, PERP),
        contracts(w, &henry, PERP)
    );

    println!("\n13. Two hours in: the keeper cranks the second hour of funding");
    at(w, t0 + 2 * HOUR);
    let cum = w.market(PERP).cum_funding.get();
    let who = [("dave", &dave), ("erin", &erin), ("frank", &frank), ("henry", &henry)];
    let before: Vec<i64> = who.iter().map(|(_, u)| cash(w, u)).collect();
    keeper(w, bob, &config)?;
    explain_funding(w, cum);
    println!("  settled: {}", changes(w, &who, &before));
    println!(
        "  funding over the two hours: {:.6} USDC per contract",
        approx(w.market(PERP).cum_funding.get()) / 1e6
    );

    println!("\n14. The dated future: erin buys 500 contracts (5 SOL) from grace at $150.00");
    step("erin buys 500 SOL-FUT from grace", &w.trade(FUT, &erin, &grace, 500, 1_500_000))?;

    println!("\n15. Its last 30 minutes: the keeper samples the oracle every 5 minutes as SOL climbs");
    let expiry = t0 + 4 * HOUR;
    for (i, dollars) in [150i64, 151, 152, 153, 154, 155].into_iter().enumerate() {
        at(w, expiry - 1_800 + 300 * i as i64);
        sol_at(w, dollars);
        print!("  T−{:>2} min  SOL ${}  ", 30 - 5 * i, dollars);
        keeper(w, bob, &config)?;
    }
    let m = w.market(FUT);
    println!("  {} samples over {} s", m.sample_count, m.sample_secs);

    println!("\n16. Expiry: the keeper fixes the settlement price, settles both positions and pays the PnL");
    at(w, expiry);
    sol_at(w, 155);
    let who = [("erin", &erin), ("grace", &grace)];
    let before: Vec<i64> = who.iter().map(|(_, u)| cash(w, u)).collect();
    keeper(w, bob, &config)?;
    let m = w.market(FUT);
    println!(
        "  settlement price ${:.2}: the first sample opens the window (weight 0), the next five weigh",
        per_sol(m.settlement_price.get())
    );
    println!("  300 s each: ($151 + $152 + $153 + $154 + $155) / 5 = $153 — not the last print ($155)");
    println!("  5 SOL × ($153 − $150) = 15 USDC: {}", changes(w, &who, &before));
    let open = [&erin, &grace]
        .iter()
        .filter(|u| w.env.zero_copy::<MarginAccount>(&u.account).derivative_position(FUT).is_some())
        .count();
    println!("  open interest {}, positions left {open}: the market can be closed", m.open_interest);

    println!("\n17. SOL drops to $140: dave's hedge holds; henry's 9.6x long is below maintenance");
    at(w, expiry + 60);
    sol_at(w, 140);
    show_health(w, "dave", &dave);
    show_health(w, "henry", &henry);
    println!("  henry: 16 SOL × ($139.90 − $150) lost, and 5 % of $2,241.60 required — more than his USDC");
    let held = contracts(w, &henry, PERP);
    let bob_before = w.position(bob, PERP);
    let insurance = w.env.token_balance(&w.group.insurance_vault);
    let s = keeper(w, bob, &config)?;
    if s.position_liquidations != 1 {
        return Err(format!("expected the keeper to liquidate henry's position: {s:?}"));
    }
    let bob_after = w.position(bob, PERP);
    let took = bob_after.base_contracts - bob_before.base_contracts;
    let paid = (bob_after.quote_cost - bob_before.quote_cost) as f64 / took.max(1) as f64 / 1e6;
    println!(
        "  the keeper (bob's account) took {took} of henry's {held} contracts at ${paid:.4} a contract (${:.2} a SOL:",
        paid * 100.0
    );
    println!(
        "  the $140 oracle less the 1 % fee); the insurance fund gained {} USDC (0.5 % of ${:.2} of notional)",
        ui(0, i128::from(w.env.token_balance(&w.group.insurance_vault) - insurance)),
        took as f64 * 1.4
    );
    show_health(w, "henry", &henry);
    println!(
        "  sized so henry's LiquidationEnd health is back at 0 and no further; the loss the step realised"
    );
    println!("  was settled against the winners in the same cycle ({} settlements)", s.pnl_settlements);

    println!("\n18. What `xmargin show` prints for these markets and positions");
    let snap = Snapshot::load(&mut SvmChain { env: &mut w.env, signer: &bob.wallet }, &w.group.group)
        .map_err(|e| e.to_string())?;
    print_markets(&snap);
    let names: BTreeMap<Pubkey, String> = [
        ("dave", &dave),
        ("erin", &erin),
        ("frank", &frank),
        ("grace", &grace),
        ("henry", &henry),
        ("bob", bob),
    ]
    .iter()
    .map(|(n, u)| (u.account, n.to_string()))
    .collect();
    print_positions(&snap, &names);
    w.assert_all_vaults();
    Ok(())
}
