//! Benchmark rows for option markets (issue 13): `update_risk_array` for one
//! market, and the health check's cost per option position (each valued
//! from its market's risk array), against DERIVATIVES.md's budgets.
use xmargin::derivatives::per_contract;
use xmargin_risk::Rounding;

use super::markets::DERIVATIVE_POSITION_CU;
use super::{Row, MAX_INSTRUCTION_CU};
use crate::margin::compute_health_ix;
use crate::options::{sol_call_args, STRIKE_165, THIRTY_DAYS};
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
    rows
}

/// Withdrawals (the Init-only health check) and `compute_health` (all three
/// health types) of a USDC depositor short one contract in each of k
/// in-the-money SOL calls (short: the costlier side, Derive's Init rule).
/// The slope is the cost of one option position in the health check.
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
