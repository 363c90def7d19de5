//! Benchmark rows for option markets (issue 13): `update_risk_array` for one
//! market, the health check's cost per option position (each valued from
//! its market's risk array) and `liquidate_position` of an option with
//! 4 + 4 positions, against DERIVATIVES.md's budgets.
use solana_signer::Signer;
use xmargin::derivatives::per_contract;
use xmargin::instructions::TradeArgs;
use xmargin_client::market_instructions::{self as mixs, MarketKeys};
use xmargin_risk::Rounding;

use super::markets::{BigGroup, Trader, DERIVATIVE_POSITION_CU, LIQUIDATE_POSITION_CU};
use super::{Row, MAX_INSTRUCTION_CU};
use crate::margin::{bank_keys, compute_health_ix};
use crate::markets::health_accounts_full;
use crate::options::{sol_call_args, STRIKE_165, THIRTY_DAYS};
use crate::pyth::PythPrice;
use crate::world::World;

/// DERIVATIVES.md: `update_risk_array` for one option market.
pub const UPDATE_RISK_ARRAY_CU: u64 = 200_000;
/// Option markets of the per-position rows.
const MARKETS: u16 = 16;
const MICRO: u64 = 1_000_000;

fn row(instruction: &'static str, scenario: impl Into<String>, compute_units: u64, budget: u64) -> Row {
    Row { instruction, scenario: scenario.into(), compute_units, budget: Some(budget), enforced: true }
}

pub fn option_rows() -> Vec<Row> {
    let mut rows = Vec::new();
    let mut w = World::new();
    let now = w.env.unix_time();
    let cu = w.add_option_market(sol_call_args(0, STRIKE_165, now + THIRTY_DAYS)).expect_ok();
    rows.push(row(
        "add_option_market",
        "30-day SOL call on the SOL bank (market PDA, oracle read)",
        cu,
        MAX_INSTRUCTION_CU,
    ));
    let cu = w.update_risk_array(0).expect_ok();
    rows.push(row(
        "update_risk_array",
        "30-day SOL call: Black–Scholes with Greeks + 24 scenarios (5 price × 3 vol, decay, 8 extended)",
        cu,
        UPDATE_RISK_ARRAY_CU,
    ));
    let cu = w.set_volatility(0, 7_000).expect_ok();
    rows.push(row("set_volatility", "a raise (applies at once)", cu, MAX_INSTRUCTION_CU));
    rows.extend(per_option_position_rows());
    rows.extend(option_liquidation_rows());
    rows.extend(risk_grid_rows());
    rows
}

/// `update_risk_grid` (a tightening: the default grid with −10 % added, the
/// largest grid allowed, 27 scenarios; then a loosening, pending) and
/// `update_risk_array` on that grid: the bound `GRID_MAX_SCENARIOS` keeps it
/// within the 200,000 CU budget.
fn risk_grid_rows() -> Vec<Row> {
    use xmargin::instructions::UpdateRiskGridArgs;
    use xmargin::options::DEFAULT_RISK_GRID;
    let mut w = World::new();
    let now = w.env.unix_time();
    w.add_option_market(sol_call_args(0, STRIKE_165, now + THIRTY_DAYS)).expect_ok();
    let wider = UpdateRiskGridArgs {
        price_shocks_bps: vec![-1_500, -1_000, -750, 0, 750, 1_500],
        ..UpdateRiskGridArgs::from_params(&DEFAULT_RISK_GRID)
    };
    let cu = w.update_risk_grid(wider.clone()).expect_ok();
    let mut rows = vec![row(
        "update_risk_grid",
        "a tightening (6 × 3 price × vol shocks: in force at once)",
        cu,
        MAX_INSTRUCTION_CU,
    )];
    let cu = w.update_risk_array(0).expect_ok();
    rows.push(row(
        "update_risk_array",
        "30-day SOL call on the largest grid allowed: 27 scenarios (6 price × 3 vol, decay, 8 extended)",
        cu,
        UPDATE_RISK_ARRAY_CU,
    ));
    let cu = w.update_risk_grid(UpdateRiskGridArgs { max_age_secs: 900, ..wider }).expect_ok();
    rows.push(row(
        "update_risk_grid",
        "a loosening (a longer max age: pending for the group's delay)",
        cu,
        MAX_INSTRUCTION_CU,
    ));
    rows
}

/// Withdrawals (the Init-only health check) and `compute_health` (all three
/// health types) of a USDC depositor short one contract in each of k
/// in-the-money SOL calls (short: the costlier side, Derive's Init rule).
/// The slope is the cost of one option position in the health check. Each
/// is valued at its Init price by the expansion around its array's spot
/// (the confidence band moves it). An out-of-the-money short costs one
/// more fixed-point product (≈ 90 CU: Derive's Init reduction needs both
/// `S·init_base` and `S·init_floor`; in the money one product is the max).
fn per_option_position_rows() -> Vec<Row> {
    let mut w = World::new();
    let now = w.env.unix_time();
    let mut prices = Vec::new();
    for m in 0..MARKETS {
        // Strikes $100 … $137.50: in the money, so every contract has a price.
        let strike = 1_000_000 + 25_000 * u64::from(m);
        w.add_option_market(sol_call_args(m, strike, now + THIRTY_DAYS)).expect_ok();
        w.update_risk_array(m).expect_ok();
        let market = w.market(m);
        prices.push(
            per_contract(&market, market.risk_array.value.get(), Rounding::Floor).expect("model price"),
        );
    }
    let maker = w.user(100, [100_000 * MICRO, 0, 0]);
    w.deposit(&maker, 0, 100_000 * MICRO).expect_ok();
    let mut rows = Vec::new();
    let (mut withdraws, mut views) = (Vec::new(), Vec::new());
    for (i, k) in [1u16, 4, 8, 16].into_iter().enumerate() {
        let t = w.user(101 + i as u8, [10_000 * MICRO, 0, 0]);
        w.deposit(&t, 0, 10_000 * MICRO).expect_ok();
        for m in 0..k {
            w.trade(m, &maker, &t, 1, prices[usize::from(m)]).expect_ok();
        }
        let cu = w.withdraw(&t, 0, MICRO).expect_ok();
        rows.push(row(
            "withdraw",
            format!("1 token + {k} short option positions in the health check"),
            cu,
            MAX_INSTRUCTION_CU,
        ));
        withdraws.push((k, cu));
        let g = w.group.group;
        let cu = w.env.send_ok(&[compute_health_ix(&w.env, &g, &t.account)], &[]).compute_units;
        views.push((k, cu));
    }
    for (instruction, check, points, enforced) in [
        ("withdraw", "Init-only health check", &withdraws, true),
        ("compute_health", "all three health types (view, reported)", &views, false),
    ] {
        let (first, last) = (points[0], points[points.len() - 1]);
        let slope = (last.1 - first.1) / u64::from(last.0 - first.0);
        rows.push(Row {
            enforced,
            ..row(
                instruction,
                format!("per extra option position (risk array), {check} ({}→{} positions)", first.0, last.0),
                slope,
                DERIVATIVE_POSITION_CU,
            )
        });
    }
    rows
}

/// Option markets of the liquidation rows: calls on token 1 ($2, contracts
/// of one token) struck at $1.80, after the big group's 16 perpetuals.
const OPTION_MARKETS: [u16; 4] = [16, 17, 18, 19];

/// `liquidate_position` of a short option: a liquidatee with 4 token
/// positions (USDC, tokens 1–3) and 4 short calls on token 1 (markets
/// 16–19, 3,000 contracts in the first, 10 in the others); token 1 rises
/// from $2 to $2.30 (arrays recomputed; Maint < 0). Each liquidator takes
/// 100 contracts of market 16; the 4 + 4 one already holds 10 short calls
/// there and 3 perpetuals (as the perpetual rows' liquidator holds the
/// market it takes over).
fn option_liquidation_rows() -> Vec<Row> {
    let mut big = BigGroup::new();
    let admin = big.admin();
    let g = big.group.group;
    let expiry = big.env.unix_time() + THIRTY_DAYS;
    for m in OPTION_MARKETS {
        let args = xmargin::instructions::AddOptionMarketArgs {
            contract_size: 1_000_000,
            ..sol_call_args(m, 1_800_000, expiry)
        };
        let ix =
            mixs::add_option_market(&g, &admin.pubkey(), &admin.pubkey(), &bank_keys(&big.env, &g, 1), args);
        big.env.send_ok(&[ix], &[&admin]);
    }
    refresh_arrays(&mut big);
    let maker = big.trader(&[(0, 10_000_000 * MICRO)]);
    let four = [(0, 1_000 * MICRO), (1, 10 * MICRO), (2, 10 * MICRO), (3, 10 * MICRO)];
    let liqee = big.trader(&four);
    for (m, size) in OPTION_MARKETS.into_iter().zip([3_000, 10, 10, 10]) {
        option_trade(&mut big, m, &maker, &liqee, size);
    }
    let small = big.trader(&[(0, 10_000 * MICRO)]);
    let large4 = big.trader(&[(0, 10_000 * MICRO), (1, 10 * MICRO), (2, 10 * MICRO), (3, 10 * MICRO)]);
    big.open_positions(&maker, &large4, 3);
    option_trade(&mut big, OPTION_MARKETS[0], &maker, &large4, 10);
    let now = big.env.unix_time();
    let (oracle, spec) = big.oracles[1];
    big.env.set_pyth_price(&oracle, &PythPrice::new(spec.feed_hex, 230_000_000, 230_000, -8, now));
    refresh_arrays(&mut big);
    let mut rows = Vec::new();
    for (liqor, who) in [(&small, "liquidator 1 + 0 → 1"), (&large4, "liquidator 4 + 4")] {
        let cu = liquidate_option(&mut big, &liqee, liqor, 100);
        rows.push(row(
            "liquidate_position",
            format!("short option at the model value: liquidatee 4 token + 4 option positions, {who}"),
            cu,
            LIQUIDATE_POSITION_CU,
        ));
    }
    rows
}

fn option_keys(big: &BigGroup, m: u16) -> MarketKeys {
    MarketKeys { market: xmargin::pda::market_address(&big.group.group, m).0, oracle: big.oracles[1].0 }
}

fn refresh_arrays(big: &mut BigGroup) {
    for m in OPTION_MARKETS {
        let ix = mixs::update_risk_array(&big.group.group, &option_keys(big, m));
        big.env.send_ok(&[ix], &[]);
    }
}

/// `buyer` buys `size` contracts of option market `m` from `seller` at the model value.
fn option_trade(big: &mut BigGroup, m: u16, buyer: &Trader, seller: &Trader, size: u64) {
    let g = big.group.group;
    let keys = option_keys(big, m);
    let market: xmargin::state::Market = big.env.zero_copy(&keys.market);
    let price = per_contract(&market, market.risk_array.value.get(), Rounding::Ceil).expect("model price");
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

/// `liqor` takes up to `max` contracts of `liqee`'s position in option market 16.
fn liquidate_option(big: &mut BigGroup, liqee: &Trader, liqor: &Trader, max: u64) -> u64 {
    let g = big.group.group;
    let m = OPTION_MARKETS[0];
    let ix = mixs::liquidate_position(
        &g,
        &option_keys(big, m),
        &liqee.account,
        &liqor.account,
        &liqor.wallet.pubkey(),
        &bank_keys(&big.env, &g, 0),
        max,
        health_accounts_full(&big.env, &g, &liqee.account, &[0], &[]),
        health_accounts_full(&big.env, &g, &liqor.account, &[], &[m]),
    );
    big.env.send_ok(&[ix], &[&liqor.wallet]).compute_units
}
