//! Benchmark rows for portfolio mode (issue 13), against DERIVATIVES.md's
//! budgets (2,500 CU per derivative position in the health check, 200,000
//! per instruction with 16 token + 16 derivative positions):
//! - the largest accounts (16 + 16) with each perpetual on its own
//!   underlying netted with the account's deposit of that token (16 books);
//! - the cost per derivative position when the Init check needs the full
//!   netted books (linear Init < 0 ≤ portfolio Init), perpetuals and calls
//!   valued from their risk arrays;
//! - the largest accounts whose books all net, 8 of them with an option:
//!   switching, the view, a withdrawal, a trade where both sides need
//!   their full books and the liquidation of one of them, run in the
//!   default 32 KiB heap (no heap frame is requested: an allocation past it
//!   would fail the transaction; the clients request 256 KiB,
//!   `xmargin::heap`).
//!
//! Rows over their budget, or within it by too little to hold, are
//! reported (`target`), not enforced: per derivative position ≈ 4,600 CU
//! (the Init-only valuation ≈ 2,100 for a perpetual and 2,500 for an
//! option, its fold into the book, and half a book's scan), the views
//! (three health types and the event), a trade whose two sides both need
//! their option books and the liquidation of such an account (its
//! portfolio Maint check values every book) (docs/DESIGN.md "Compute",
//! issue 13).
use solana_signer::Signer;
use xmargin::derivatives::per_contract;
use xmargin::instructions::{margin_mode, AddOptionMarketArgs, HealthView, TradeArgs};
use xmargin_client::market_instructions::{self as mixs, MarketKeys};
use xmargin_risk::Rounding;

use super::markets::{BigGroup, Trader, DERIVATIVE_POSITION_CU, MARKETS};
use super::{Row, MAX_INSTRUCTION_CU};
use crate::margin::{bank_keys, compute_health_ix, withdraw_ix};
use crate::markets::health_accounts_full;
use crate::options::{sol_call_args, THIRTY_DAYS};
use crate::pyth::PythPrice;

const MICRO: u64 = 1_000_000;
/// The compute-budget program (`SetComputeUnitLimit` is instruction 2).
const COMPUTE_BUDGET_PROGRAM: &str = "ComputeBudget111111111111111111111111111111";
/// What a `SetComputeUnitLimit` instruction consumes.
const COMPUTE_BUDGET_IX_CU: u64 = 150;

fn row(instruction: &'static str, scenario: impl Into<String>, compute_units: u64, budget: u64) -> Row {
    Row { instruction, scenario: scenario.into(), compute_units, budget: Some(budget), enforced: true }
}

/// A compute limit above the default 200,000, so a row reports what it
/// takes when it is over.
fn limit_ix() -> crate::Instruction {
    crate::Instruction {
        program_id: COMPUTE_BUDGET_PROGRAM.parse().expect("program id"),
        accounts: vec![],
        data: [&[2u8][..], &1_400_000u32.to_le_bytes()].concat(),
    }
}

impl BigGroup {
    /// Switches `trader` to portfolio mode; returns the CU.
    pub fn set_portfolio_mode(&mut self, trader: &Trader) -> u64 {
        let g = self.group.group;
        let health = health_accounts_full(&self.env, &g, &trader.account, &[], &[]);
        let ix = xmargin_client::instructions::set_margin_mode(
            &g,
            &trader.account,
            &trader.wallet.pubkey(),
            margin_mode::PORTFOLIO,
            health,
        );
        self.env.send_ok(&[limit_ix(), ix], &[&trader.wallet]).compute_units - COMPUTE_BUDGET_IX_CU
    }

    /// `compute_health` with a compute limit above the default 200,000, so
    /// the row reports what it takes when it is over.
    fn view(&mut self, trader: &Trader) -> u64 {
        self.view_outcome(trader).compute_units - COMPUTE_BUDGET_IX_CU
    }

    /// The health `compute_health` returns (any compute it needs).
    fn health(&mut self, trader: &Trader) -> HealthView {
        let out = self.view_outcome(trader);
        anchor_lang::AnchorDeserialize::deserialize(&mut out.return_data.as_slice())
            .expect("HealthView return data")
    }

    /// [`BigGroup::withdraw`] under the raised limit.
    fn withdraw_measured(&mut self, trader: &Trader, token: u16, amount: u64) -> u64 {
        let g = self.group.group;
        let to = trader.tokens[usize::from(token)];
        let ix = withdraw_ix(&self.env, &g, &trader.account, token, &to, &trader.wallet.pubkey(), amount);
        self.env.send_ok(&[limit_ix(), ix], &[&trader.wallet]).compute_units - COMPUTE_BUDGET_IX_CU
    }

    /// [`BigGroup::trade`] (perpetual `m` at its oracle) under the raised limit.
    fn trade_measured(&mut self, m: u16, buyer: &Trader, seller: &Trader, size: u64) -> u64 {
        let g = self.group.group;
        let ix = mixs::trade(
            &g,
            &self.market_keys(m),
            &buyer.account,
            &buyer.wallet.pubkey(),
            &seller.account,
            &seller.wallet.pubkey(),
            TradeArgs { size, price: MICRO * (2 + u64::from(m)) },
            health_accounts_full(&self.env, &g, &buyer.account, &[], &[m]),
            health_accounts_full(&self.env, &g, &seller.account, &[], &[m]),
        );
        let signers = [&buyer.wallet, &seller.wallet];
        self.env.send_ok(&[limit_ix(), ix], &signers).compute_units - COMPUTE_BUDGET_IX_CU
    }

    fn view_outcome(&mut self, trader: &Trader) -> crate::outcome::TxOutcome {
        let g = self.group.group;
        let ix = compute_health_ix(&self.env, &g, &trader.account);
        // The limit instruction itself costs 150 CU: not the view's.
        self.env.send_ok(&[limit_ix(), ix], &[])
    }
}

/// Every portfolio-mode row (module docs).
pub fn portfolio_rows(big: &mut BigGroup, maker: &Trader) -> Vec<Row> {
    let mut rows = perp_book_rows(big, maker);
    list_calls(big);
    // The calls' counterparty: the perpetuals' maker has no slot left.
    let writer = big.trader(&[(0, 10_000_000 * MICRO)]);
    let makers = Makers { perps: maker, calls: &writer };
    rows.extend(netted_per_position_rows(big, &makers));
    rows.extend(netted_largest_rows(big, &makers));
    rows
}

/// A row reported against its budget, not enforced (module docs).
fn target(r: Row) -> Row {
    Row { enforced: false, ..r }
}

/// The 16 + 16 accounts with perpetual books: switching, the view, a
/// withdrawal and a trade between two of them.
fn perp_book_rows(big: &mut BigGroup, maker: &Trader) -> Vec<Row> {
    let (a, b) = (big.full_trader(maker), big.full_trader(maker));
    let switch = big.set_portfolio_mode(&a);
    big.set_portfolio_mode(&b);
    let view = big.view(&a);
    let withdraw = big.withdraw(&a, 0, MICRO);
    let trade = big.trade(0, &b, &a, 1);
    let scenario = "portfolio mode, 16 token + 16 derivative positions (15 books of a token and a perpetual, 1 perpetual alone)";
    vec![
        row("set_margin_mode", format!("to {scenario}"), switch, MAX_INSTRUCTION_CU),
        row("compute_health", scenario, view, MAX_INSTRUCTION_CU),
        row("withdraw", format!("{scenario} in the health check"), withdraw, MAX_INSTRUCTION_CU),
        row("trade", format!("both sides in {scenario}"), trade, MAX_INSTRUCTION_CU),
    ]
}

/// Call markets of the netted-book rows: one on each of tokens 1..=8, listed
/// after the big group's 16 perpetuals (market `MARKETS + u − 1` on token u).
const CALLS: u16 = 8;
/// Contracts per leg (one token each).
const LEG: u64 = 100;

fn call_market(token: u16) -> u16 {
    MARKETS + token - 1
}

fn call_keys(big: &BigGroup, token: u16) -> MarketKeys {
    let market = xmargin::pda::market_address(&big.group.group, call_market(token)).0;
    MarketKeys { market, oracle: big.oracles[usize::from(token)].0 }
}

/// Lists a 30-day call struck 10 % in the money on each of tokens 1..=8
/// and computes its risk array.
fn list_calls(big: &mut BigGroup) {
    let admin = big.admin();
    let g = big.group.group;
    let expiry = big.env.unix_time() + THIRTY_DAYS;
    for u in 1..=CALLS {
        let strike = 900_000 * (1 + u64::from(u));
        let args =
            AddOptionMarketArgs { contract_size: 1_000_000, ..sol_call_args(call_market(u), strike, expiry) };
        let ix =
            mixs::add_option_market(&g, &admin.pubkey(), &admin.pubkey(), &bank_keys(&big.env, &g, u), args);
        big.env.send_ok(&[ix], &[&admin]);
        let ix = mixs::update_risk_array(&g, &call_keys(big, u));
        big.env.send_ok(&[ix], &[]);
    }
}

/// The counterparties: one for the perpetuals, one for the calls (an
/// account holds at most 16 derivative positions).
struct Makers<'a> {
    perps: &'a Trader,
    calls: &'a Trader,
}

/// `seller` sells `size` calls on `token` to `buyer` at the model value.
fn sell_call(big: &mut BigGroup, token: u16, buyer: &Trader, seller: &Trader, size: u64) {
    let g = big.group.group;
    let keys = call_keys(big, token);
    let market: xmargin::state::Market = big.env.zero_copy(&keys.market);
    let price = per_contract(&market, market.risk_array.value.get(), Rounding::Ceil).expect("model price");
    let m = call_market(token);
    let ix = mixs::trade(
        &g,
        &keys,
        &buyer.account,
        &buyer.wallet.pubkey(),
        &seller.account,
        &seller.wallet.pubkey(),
        TradeArgs { size, price },
        health_accounts_full(&big.env, &g, &buyer.account, &[], &[m]),
        health_accounts_full(&big.env, &g, &seller.account, &[], &[m]),
    );
    big.env.send_ok(&[ix], &[&buyer.wallet, &seller.wallet]);
}

/// `trader` switches to portfolio mode, then withdraws (borrowing if need
/// be) half-way between its linear and its portfolio Init health: linear
/// Init is then < 0 and portfolio Init ≥ 0, so the check builds the full
/// netted cache. Returns the withdrawal's CU.
fn withdraw_between_modes(big: &mut BigGroup, trader: &Trader) -> u64 {
    let linear = big.health(trader).init;
    big.set_portfolio_mode(trader);
    let portfolio = big.health(trader).init;
    assert!(portfolio > linear + 10, "portfolio Init {portfolio} not above linear {linear}");
    let amount = u64::try_from(linear + (portfolio - linear) / 2).expect("positive health");
    let cu = big.withdraw_measured(trader, 0, amount);
    let after = big.health(trader).init;
    assert!(after >= 0 && after < portfolio - linear, "{linear} {portfolio} {after}");
    cu
}

/// Per extra derivative position in portfolio mode when the check needs the
/// full netted cache: k positions in k/2 books, each a long perpetual and
/// a short in-the-money call on one of tokens 1..=8 (the call nets the
/// perpetual: both legs' linear charges, 10 % + the short-call floor, fall
/// to the covered position's worst scenario), on a USDC deposit, withdrawn
/// to between linear Init (< 0 after) and portfolio Init (≥ 0 after).
fn netted_per_position_rows(big: &mut BigGroup, maker: &Makers) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut points = Vec::new();
    for k in [2u16, 4, 8, 16] {
        let t = big.trader(&[(0, 10_000 * MICRO)]);
        for u in 1..=k / 2 {
            big.trade(u - 1, &t, maker.perps, LEG);
            sell_call(big, u, maker.calls, &t, LEG);
        }
        let cu = withdraw_between_modes(big, &t);
        rows.push(row(
            "withdraw",
            format!(
                "portfolio mode, linear Init < 0 ≤ portfolio Init: 1 token + {k} derivative positions \
                 ({} book{} of a long perpetual and a short call) in the health check",
                k / 2,
                if k == 2 { "" } else { "s" }
            ),
            cu,
            MAX_INSTRUCTION_CU,
        ));
        points.push((k, cu));
    }
    let (first, last) = (points[0], points[points.len() - 1]);
    let slope = (last.1 - first.1) / u64::from(last.0 - first.0);
    rows.push(target(row(
        "withdraw",
        format!(
            "per extra derivative position, portfolio mode, full netted cache (linear Init < 0 ≤ \
             portfolio Init; perpetuals and calls from risk arrays) ({}→{} positions)",
            first.0, last.0
        ),
        slope,
        DERIVATIVE_POSITION_CU,
    )));
    rows
}

/// A 16 + 16 account whose books all net: deposits of USDC and 100 of each
/// of tokens 1..=15; short 100 calls on each of tokens 1..=8 (covered
/// calls) and short 100 perpetuals on each of tokens 9..=16 (delta-hedged
/// but the last): 16 books, 8 of them with an option.
fn netted_full_trader(big: &mut BigGroup, maker: &Makers) -> Trader {
    let deposits: Vec<(u16, u64)> =
        (0..16).map(|t| (t, if t == 0 { 1_000 * MICRO } else { LEG * MICRO })).collect();
    let t = big.trader(&deposits);
    for u in 1..=CALLS {
        sell_call(big, u, maker.calls, &t, LEG);
    }
    for m in CALLS..MARKETS {
        big.trade(m, maker.perps, &t, LEG);
    }
    t
}

/// The largest netted accounts: switching, the view, a withdrawal and a
/// trade where both sides need their full portfolio caches (each side
/// withdrawn to between its linear and its portfolio Init first; the trade
/// moves one contract of a hedged perpetual, so each side's linear Init
/// stays < 0 after the fill).
fn netted_largest_rows(big: &mut BigGroup, maker: &Makers) -> Vec<Row> {
    let (a, b) = (netted_full_trader(big, maker), netted_full_trader(big, maker));
    let linear = big.health(&a).init;
    let switch = big.set_portfolio_mode(&a);
    let view = big.view(&a);
    let portfolio = big.health(&a).init;
    assert!(portfolio > linear, "{linear} {portfolio}");
    let withdraw = withdraw_after_switch(big, &a, linear);
    withdraw_between_modes(big, &b);
    let trade = big.trade_measured(CALLS, &a, &b, 1);
    for t in [&a, &b] {
        let h = big.health(t).init;
        assert!(h >= 0, "portfolio Init after the trade {h}");
    }
    let liquidator = big.trader(&[(0, 1_000_000 * MICRO)]);
    let liquidation = liquidate_lone_perpetual(big, &a, &liquidator);
    let scenario = "portfolio mode, 16 token + 16 derivative positions (8 covered calls, 7 delta-hedged \
                    perpetuals, 1 perpetual alone)";
    // The view and the trade are not yet within 200,000 (module docs); they
    // run, in the default heap.
    vec![
        row("set_margin_mode", format!("to {scenario}"), switch, MAX_INSTRUCTION_CU),
        target(row("compute_health", scenario, view, MAX_INSTRUCTION_CU)),
        row(
            "withdraw",
            format!("{scenario}, linear Init < 0 ≤ portfolio Init: full netted cache"),
            withdraw,
            MAX_INSTRUCTION_CU,
        ),
        target(row(
            "trade",
            format!("both sides in {scenario}, each needing its full netted cache (32 KiB heap)"),
            trade,
            MAX_INSTRUCTION_CU,
        )),
        // Over 200,000: the portfolio Maint check that demotes the account
        // values every book (≈ 78,000) beside the cache (≈ 78,000) and the
        // linear sizing (≈ 39,000): reported.
        target(row(
            "liquidate_position",
            format!(
                "liquidatee in {scenario}, its lone perpetual after a spike (32 KiB heap); liquidator 1 + 0 → 1"
            ),
            liquidation,
            MAX_INSTRUCTION_CU,
        )),
    ]
}

/// The perpetual of the netted trader with no token beside it (market
/// `MARKETS − 1`, short): its underlying's price doubles until the account
/// is liquidatable, then `liqor` takes part of it (a liquidator of 16 + 16
/// would lock more accounts than a transaction may). The CU of that step,
/// in the default heap (no heap frame is requested).
fn liquidate_lone_perpetual(big: &mut BigGroup, liqee: &Trader, liqor: &Trader) -> u64 {
    let m = MARKETS - 1;
    let (oracle, spec) = big.oracles[usize::from(m + 1)];
    let mut price = spec.price;
    while big.health(liqee).band != 2 {
        price = price.checked_mul(2).filter(|p| *p < spec.price * 1_000).expect("liquidatable before ×1000");
        let now = big.env.unix_time();
        big.env.set_pyth_price(&oracle, &PythPrice::new(spec.feed_hex, price, spec.conf, spec.exponent, now));
    }
    let g = big.group.group;
    let ix = mixs::liquidate_position(
        &g,
        &big.market_keys(m),
        &liqee.account,
        &liqor.account,
        &liqor.wallet.pubkey(),
        &bank_keys(&big.env, &g, 0),
        LEG,
        health_accounts_full(&big.env, &g, &liqee.account, &[0], &[]),
        health_accounts_full(&big.env, &g, &liqor.account, &[], &[m]),
    );
    let o = big.env.send_ok(&[limit_ix(), ix], &[&liqor.wallet]);
    // The price back, for the rows after.
    let now = big.env.unix_time();
    big.env
        .set_pyth_price(&oracle, &PythPrice::new(spec.feed_hex, spec.price, spec.conf, spec.exponent, now));
    o.compute_units - COMPUTE_BUDGET_IX_CU
}

/// [`withdraw_between_modes`] for an account already in portfolio mode
/// whose linear Init was `linear`.
fn withdraw_after_switch(big: &mut BigGroup, trader: &Trader, linear: i64) -> u64 {
    let portfolio = big.health(trader).init;
    let amount = u64::try_from(linear + (portfolio - linear) / 2).expect("positive health");
    big.withdraw_measured(trader, 0, amount)
}
