//! Portfolio-mode fixtures (issue 13): accounts with `PORTFOLIO_MODE`
//! valued by the program's own path (`xmargin::health::portfolio`: netted
//! books, stored risk arrays, the group's grid), in the file's `portfolio`
//! list, for the TypeScript estimate (`app/src/portfolioHealth.ts`,
//! `tests/portfolioHealth.test.ts`) to reproduce to the last unit. Each
//! records its `portfolioParams` (the group's grid and rates, bps as
//! stored), `expected` health and `books` (every underlying's requirement
//! per health type, its Init scenario / linear / contingency / worst loss and
//! worst scenario; `null` when the account is valued linearly because an
//! option is at its bounds), or the program's `expectedError`.
//! `portfolioGrid` records the default grid's scenarios and id so the
//! TypeScript grid builder is checked too.
use serde_json::{json, Value};
use xmargin::health::PriceRules;
use xmargin::options::DEFAULT_RISK_GRID;
use xmargin::state::{market_kind, Market, RiskGridParams};
use xmargin_risk::health::{DerivativeKind, PerType};
use xmargin_risk::portfolio::UnderlyingRequirement;
use xmargin_risk::{Fixed, HealthCache, HealthSummary};

use super::options::{fresh, model, sol_option, sol_spot, traded};
use super::{
    bor, dep, derivative_fixture, filled, majors, market, pyth, quotes, settled, usd, Derivative,
    BTC_CONTRACT, ETH_CONTRACT, SOL_CONTRACT,
};

/// The group's grid as JSON (what `update_risk_grid` stores, bps).
pub fn params_json(g: &RiskGridParams) -> Value {
    json!({
        "gridId": g.grid_id,
        "gridLen": g.grid_len,
        "maxAgeSecs": g.max_age_secs,
        "maxDriftBps": g.max_drift_bps,
        "priceShocksBps": g.price_shocks(),
        "volShocksBps": g.vol_shocks(),
        "shockScaleBps": g.shock_scale_bps,
        "floorBps": g.floor_bps,
    })
}

/// Reads [`params_json`] back.
pub fn grid_from(v: &Value) -> RiskGridParams {
    let list =
        |k: &str| -> Vec<i64> { v[k].as_array().expect(k).iter().map(|x| x.as_i64().unwrap()).collect() };
    let three = |k: &str| -> [u16; 3] {
        let l = list(k);
        [l[0] as u16, l[1] as u16, l[2] as u16]
    };
    let mut g = RiskGridParams { price_shocks_bps: [0; 10], vol_shocks_bps: [0; 4], ..DEFAULT_RISK_GRID };
    let (p, vs) = (list("priceShocksBps"), list("volShocksBps"));
    p.iter().enumerate().for_each(|(i, b)| g.price_shocks_bps[i] = *b as i16);
    vs.iter().enumerate().for_each(|(i, b)| g.vol_shocks_bps[i] = *b as i16);
    (g.price_shock_count, g.vol_shock_count) = (p.len() as u8, vs.len() as u8);
    (g.shock_scale_bps, g.floor_bps) = (three("shockScaleBps"), three("floorBps"));
    g.grid_id = v["gridId"].as_u64().unwrap() as u32;
    g.grid_len = v["gridLen"].as_u64().unwrap() as u8;
    g.max_age_secs = v["maxAgeSecs"].as_u64().unwrap() as u32;
    g.max_drift_bps = v["maxDriftBps"].as_u64().unwrap() as u16;
    g
}

/// The built grid: every scenario (raw bits) and its id.
pub fn grid_json(g: &RiskGridParams) -> Value {
    let grid = g.grid().expect("grid");
    let scenarios: Vec<Value> = grid
        .scenarios()
        .iter()
        .map(|s| {
            json!({
                "priceShock": s.price_shock.to_bits().to_string(),
                "volShock": s.vol_shock.to_bits().to_string(),
                "weight": s.weight.to_bits().to_string(),
            })
        })
        .collect();
    json!({ "params": params_json(g), "gridId": grid.id(), "scenarios": scenarios })
}

fn raw(f: Fixed) -> Value {
    f.to_bits().to_string().into()
}

fn per_type(p: &PerType<Fixed>) -> Value {
    json!({ "init": raw(p.init), "maint": raw(p.maint), "liqEnd": raw(p.liq_end) })
}

fn requirement_json(r: &UnderlyingRequirement) -> Value {
    json!({
        "requirement": raw(r.requirement),
        "scenario": raw(r.scenario),
        "linear": raw(r.linear),
        "worstLoss": raw(r.worst_loss),
        "worstScenario": r.worst_scenario,
        "contingency": raw(r.contingency),
    })
}

/// Health and, in portfolio mode, every book (`null`: valued linearly).
pub fn expected_json(s: &HealthSummary, c: &HealthCache) -> Value {
    let mut v = super::expected_json(s);
    let report = c.portfolio_report().expect("report");
    v["books"] = match report {
        None => Value::Null,
        Some(r) => r
            .books
            .iter()
            .map(|b| json!({ "underlying": b.init.underlying, "requirement": per_type(&b.requirement), "init": requirement_json(&b.init) }))
            .collect::<Vec<_>>()
            .into(),
    };
    v
}

/// An account without options in portfolio mode: per token, the engine's
/// `liquidation_price` on its portfolio health (`None` with an option: the
/// engine reprices options by Black–Scholes there, which the TypeScript
/// port does not; no max withdraw or borrow: not ported for portfolio mode).
pub fn limits_json(c: &HealthCache, tokens: &[u16]) -> Option<Value> {
    let options = c.derivatives().iter().any(|d| matches!(d.kind, DerivativeKind::Option(_)));
    if options || c.portfolio_report().ok()?.is_none() {
        return None;
    }
    let limits: Vec<Value> = tokens
        .iter()
        .map(|t| json!({ "tokenIndex": t, "liquidationPrice": super::limit_json(c.liquidation_price(*t)) }))
        .collect();
    Some(limits.into())
}

fn portfolio(mut f: Value) -> Value {
    f["marginMode"] = "portfolio".into();
    f["portfolioParams"] = params_json(&DEFAULT_RISK_GRID);
    f
}

/// Accounts in portfolio mode the program values.
pub fn cases() -> Vec<Value> {
    let [usdc, sol, btc, eth, _, _] = majors();
    let [usdc_px, sol_px, _, eth_px, _] = quotes();
    let usdc_dep = |n: u64| (usdc, usdc_px, dep(&usdc, n));
    let sol_perp = market(10, &sol, market_kind::PERPETUAL, SOL_CONTRACT, usd(14_800, 9));
    let sol_fut = market(11, &sol, market_kind::FUTURE, SOL_CONTRACT, usd(14_800, 9));
    let btc_perp = market(12, &btc, market_kind::PERPETUAL, BTC_CONTRACT, usd(9_950_000, 8));
    let eth_perp = market(13, &eth, market_kind::PERPETUAL, ETH_CONTRACT, usd(295_000, 8));
    let (call_165, put_135, put_140, call_170) =
        (fresh(0, true, 16_500), fresh(1, false, 13_500), fresh(2, false, 14_000), fresh(3, true, 17_000));
    let stale_put = sol_option(1, false, 13_500, 6_000, 3_600, sol_spot());
    let fallback = Some(PriceRules::CONSERVATIVE);
    let flat = Fixed::ZERO;
    let perp_at = |m: &Market, contracts: i64, per_contract: u64| -> Derivative {
        let px = quotes()[match m.underlying_token_index {
            1 => 1,
            2 => 2,
            _ => 3,
        }];
        (*m, px, filled(m, &[(contracts, per_contract)], flat))
    };
    let sol_tok = |n: u64| (sol, sol_px, dep(&sol, n));
    // A settled $140 call (expired at $151.50): 100 long, realised PnL only.
    let mut settled_call = settled(fresh(4, true, 14_000), usd(15_150, 9));
    settled_call.risk_array = Default::default();
    let cases = vec![
        derivative_fixture(
            "portfolio_hedged_sol_short_perp",
            "10 SOL deposited, 10 SOL short on the perpetual at $150, 1,000 USDC borrowed: the book loses \
             nothing in any scenario, it pays its contingency alone",
            &[sol_tok(10_000_000_000), (usdc, usdc_px, bor(&usdc, 1_000_000_000))],
            &[perp_at(&sol_perp, -1_000, 1_500_000)],
            None,
        ),
        derivative_fixture(
            "portfolio_covered_call",
            "1 SOL and 100 USDC; one SOL of the 30-day $165 call sold at the model value: worst loss at −15 %, \
             scaled by SOL's haircut over the largest move",
            &[sol_tok(1_000_000_000), usdc_dep(100_000_000)],
            &[traded(call_165, -100, model(&call_165))],
            None,
        ),
        derivative_fixture(
            "portfolio_put_spread",
            "500 USDC; long 200 $140 puts, short 200 $135 puts (bear put spread): the loss is bounded by the \
             spread, the short leg's contingency at its |Δ|",
            &[usdc_dep(500_000_000)],
            &[traded(put_140, 200, model(&put_140)), traded(put_135, -200, model(&put_135))],
            None,
        ),
        derivative_fixture(
            "portfolio_several_underlyings",
            "SOL: 5 SOL deposited, 3 SOL short perp, 1 SOL long future, 50 $170 calls short; BTC: 0.02 BTC long \
             perp; ETH: 0.5 ETH deposited, 0.5 ETH short perp; 2,000 USDC: three books, one netted token each \
             with an open position, USDC linear",
            &[sol_tok(5_000_000_000), usdc_dep(2_000_000_000), (eth, eth_px, dep(&eth, 50_000_000))],
            &[
                perp_at(&sol_perp, -300, 1_501_000),
                perp_at(&sol_fut, 100, 1_499_000),
                traded(call_170, -50, model(&call_170)),
                perp_at(&btc_perp, 20, 99_900_000),
                perp_at(&eth_perp, -50, 30_010_000),
            ],
            None,
        ),
        derivative_fixture(
            "portfolio_long_only_capped",
            "50 USDC; long 300 $165 calls and 200 $140 puts (a strangle): a book of long legs never requires more \
             than it is worth",
            &[usdc_dep(50_000_000)],
            &[traded(call_165, 300, model(&call_165)), traded(put_140, 200, model(&put_140))],
            None,
        ),
        derivative_fixture(
            "portfolio_unhedged_sol_liquidatable",
            "10 SOL deposited, 1,450 USDC borrowed, 1 SOL long perp: the spot leg charged at least its haircut; \
             Maint below 0",
            &[sol_tok(10_000_000_000), (usdc, usdc_px, bor(&usdc, 1_450_000_000))],
            &[perp_at(&sol_perp, 100, 1_500_000)],
            None,
        ),
        derivative_fixture(
            "portfolio_token_without_position_stays_linear",
            "10 SOL deposited and a closed SOL perp (realised +4 USDC): no open position on SOL, so the SOL \
             deposit keeps its linear weight; a BTC perp nets alone",
            &[sol_tok(10_000_000_000), usdc_dep(100_000_000)],
            &[
                (sol_perp, sol_px, filled(&sol_perp, &[(100, 1_460_000), (-100, 1_500_000)], flat)),
                perp_at(&btc_perp, -10, 100_100_000),
            ],
            None,
        ),
        derivative_fixture(
            "portfolio_settled_option",
            "100 USDC; 100 $140 calls expired and settled at $151.50 (realised 11.50 per SOL, no price, no array) \
             next to a short SOL perp",
            &[usdc_dep(100_000_000)],
            &[
                (settled_call, sol_px, filled(&settled_call, &[(100, 1_000_000)], flat)),
                perp_at(&sol_perp, -50, 1_500_000),
            ],
            None,
        ),
        derivative_fixture(
            "portfolio_settled_short_option",
            "100 USDC; 100 $140 calls sold, expired and settled at $151.50, before its settle_expired (owes 11.50 \
             per SOL, no contracts left to net) next to a short SOL perp",
            &[usdc_dep(100_000_000)],
            &[
                (settled_call, sol_px, filled(&settled_call, &[(-100, 1_000_000)], flat)),
                perp_at(&sol_perp, -50, 1_500_000),
            ],
            None,
        ),
        derivative_fixture(
            "portfolio_option_at_bounds_is_linear",
            "liquidation rules, the $135 put's array an hour old: valued at its bounds, so the whole account is \
             valued in linear mode (books null)",
            &[usdc_dep(3_000_000_000), sol_tok(2_000_000_000)],
            &[traded(stale_put, -100, 20_000), perp_at(&sol_perp, -200, 1_500_000)],
            fallback,
        ),
    ];
    let mut cases: Vec<Value> = cases.into_iter().map(portfolio).collect();
    // The group's own grid: ±10 % / ±20 %, vol ∓5 points, scales 1.5 / 1.25 / 1.1, floors 2 / 1.5 / 1 %.
    let mut custom = derivative_fixture(
        "portfolio_group_grid",
        "the group's stored grid instead of the default: 10 SOL deposited, 6 SOL short perp, 400 USDC borrowed, \
         a BTC perp long; worst loss at −20 % scaled ×1.5 (Init) or SOL's haircut",
        &[sol_tok(10_000_000_000), (usdc, usdc_px, bor(&usdc, 400_000_000))],
        &[perp_at(&sol_perp, -600, 1_500_000), perp_at(&btc_perp, 5, 100_000_000)],
        None,
    );
    custom["marginMode"] = "portfolio".into();
    custom["portfolioParams"] = params_json(&custom_grid());
    cases.push(custom);
    cases
}

/// A group grid other than the default (ids and length of its built grid).
pub fn custom_grid() -> RiskGridParams {
    let mut g = RiskGridParams {
        price_shocks_bps: [-2_000, -1_000, 1_000, 2_000, 0, 0, 0, 0, 0, 0],
        vol_shocks_bps: [-500, 500, 0, 0],
        price_shock_count: 4,
        vol_shock_count: 2,
        shock_scale_bps: [15_000, 12_500, 11_000],
        floor_bps: [200, 150, 100],
        max_drift_bps: 300,
        max_age_secs: 900,
        ..DEFAULT_RISK_GRID
    };
    let grid = g.grid().expect("grid");
    (g.grid_id, g.grid_len) = (grid.id(), grid.len() as u8);
    g
}

/// Portfolio-mode accounts the program refuses to value.
pub fn refused() -> Vec<Value> {
    let [usdc, ..] = majors();
    let usdc_dep = (usdc, quotes()[0], dep(&usdc, 1_000_000_000));
    let stale = sol_option(0, true, 16_500, 6_000, 3_600, sol_spot());
    let call = fresh(0, true, 16_500);
    let stale_sol = pyth(15_012_345_678, 10_000_000, -8, 61);
    let stale_oracle = (call, stale_sol, traded(call, -100, 50_000).2);
    [
        (
            "portfolio_array_stale",
            "view rules: a short call whose array is an hour old",
            traded(stale, -100, 50_000),
            "RiskArrayStale",
        ),
        ("portfolio_stale_oracle", "view rules: the SOL oracle 61 s old", stale_oracle, "OracleStale"),
    ]
    .into_iter()
    .map(|(name, covers, d, error)| {
        let mut f = portfolio(derivative_fixture(name, covers, &[usdc_dep], &[d], None));
        f["expectedError"] = error.into();
        f
    })
    .collect()
}

/// The file's portfolio list and grid match the engine: every fixture's
/// outcome recomputed from its own inputs.
pub fn check(file: &Value, outcome: fn(&Value) -> (&'static str, Value, Option<Value>)) {
    let list = file["portfolio"].as_array().expect("portfolio");
    assert!(list.iter().filter(|f| f.get("expected").is_some()).count() >= 8, "valued portfolio fixtures");
    assert!(
        list.iter().filter(|f| f.get("expectedError").is_some()).count() >= 2,
        "refused portfolio fixtures"
    );
    let books = |f: &Value| f["expected"]["books"].as_array().map_or(0, Vec::len);
    assert!(list.iter().any(|f| books(f) >= 3), "a fixture with three books");
    assert!(
        list.iter().any(|f| f.get("expected").is_some() && f["expected"]["books"].is_null()),
        "a linear fallback"
    );
    assert_eq!(file["portfolioGrid"], grid_json(&grid_from(&file["portfolioGrid"]["params"])), "grid");
    assert_eq!(file["portfolioCustomGrid"], grid_json(&custom_grid()), "the custom grid");
    for f in list {
        assert_eq!(f["marginMode"], "portfolio", "{}", f["name"]);
        let key = if f.get("expected").is_some() { "expected" } else { "expectedError" };
        let (got_key, got, limits) = outcome(f);
        assert_eq!((got_key, got), (key, f[key].clone()), "{}", f["name"]);
        assert_eq!(limits, f.get("limits").cloned(), "{}: liquidation prices", f["name"]);
    }
}
