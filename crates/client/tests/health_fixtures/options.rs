//! Option fixtures (issue 13, linear mode): accounts holding European
//! options valued from their market's stored risk array
//! (`xmargin::health::options`), in the file's `options` list, for the
//! TypeScript estimate (`app/src/optionHealth.ts`, `tests/optionHealth.test.ts`).
//! Each records `expected` health or the program's `expectedError`; no
//! limits (the TypeScript liquidation price does not reprice options).
//! `riskArrayRules` records the program's array bounds so the TypeScript
//! constants are checked against them.
use serde_json::{json, Value};
use xmargin::health::PriceRules;
use xmargin::options::{default_grid, DEFAULT_RISK_GRID};
use xmargin::state::{market_kind, Market, StoredFixed, StoredRiskArray};
use xmargin_risk::health::option_margin::ShortOptionRates;
use xmargin_risk::options::risk_array::compute_risk_array;
use xmargin_risk::price::OraclePrice;
use xmargin_risk::{Fixed, Rounding};

use super::{
    bits, bor, dep, derivative_fixture, filled, get, majors, market, pyth, quotes, settled, usd, Derivative,
    NOW, SOL_CONTRACT,
};

const THIRTY_DAYS: i64 = 30 * 86_400;

/// Stored fixed-point option fields of a market and their JSON names.
fn option_fixed(m: &mut Market) -> [(&'static str, &mut StoredFixed); 7] {
    [
        ("strike", &mut m.strike),
        ("volatility", &mut m.volatility),
        ("pendingVolatility", &mut m.option.pending_volatility),
        ("shortInitBase", &mut m.option.short_init_base),
        ("shortInitFloor", &mut m.option.short_init_floor),
        ("shortLiqEnd", &mut m.option.short_liq_end),
        ("shortMaint", &mut m.option.short_maint),
    ]
}

fn array_fixed(a: &mut StoredRiskArray) -> [(&'static str, &mut StoredFixed); 5] {
    [
        ("spot", &mut a.spot),
        ("volatility", &mut a.volatility),
        ("value", &mut a.value),
        ("delta", &mut a.delta),
        ("gamma", &mut a.gamma),
    ]
}

/// The option fields health reads (`market.option` in the fixture), `None` for other kinds.
pub fn option_json(mut m: Market) -> Option<Value> {
    if m.kind != market_kind::OPTION {
        return None;
    }
    let mut a = m.risk_array;
    let mut array = json!({
        "computedAt": a.computed_at.to_string(),
        "gridId": a.grid_id,
        "scenarioCount": a.scenario_count,
        "format": a.format,
    });
    array_fixed(&mut a).into_iter().for_each(|(k, f)| array[k] = bits(f));
    // The scenario changes `c_k` (one contract's, 2^-16 quote native; i64 LE in the stored form): portfolio mode reads them.
    let changes: Vec<Value> =
        a.changes.as_chunks::<8>().0.iter().map(|c| i64::from_le_bytes(*c).to_string().into()).collect();
    array["changes"] = changes.into();
    let mut o = json!({
        "isCall": m.option_is_call != 0,
        "strikePerContract": m.option.strike_per_contract.to_string(),
        "pendingVolatilityTs": m.option.pending_volatility_ts.to_string(),
        "riskArray": array,
    });
    option_fixed(&mut m).into_iter().for_each(|(k, f)| o[k] = bits(f));
    Some(o)
}

/// Reads [`option_json`]'s fields back into `m`.
pub fn option_from(m: &mut Market, o: &Value) {
    m.option_is_call = u8::from(o["isCall"].as_bool().expect("isCall"));
    m.option.pending_volatility_ts = get(o, "pendingVolatilityTs");
    m.option.strike_per_contract = get(o, "strikePerContract");
    option_fixed(m).into_iter().for_each(|(k, f)| *f = Fixed::from_bits(get(o, k)).into());
    let j = &o["riskArray"];
    let a = &mut m.risk_array;
    (a.computed_at, a.grid_id, a.scenario_count, a.format) =
        (get(j, "computedAt"), get(j, "gridId"), get(j, "scenarioCount"), get(j, "format"));
    array_fixed(a).into_iter().for_each(|(k, f)| *f = Fixed::from_bits(get(j, k)).into());
    let changes = j["changes"].as_array().expect("changes");
    for (chunk, c) in a.changes.as_chunks_mut::<8>().0.iter_mut().zip(changes) {
        let r: i64 = c.as_str().expect("change").parse().unwrap();
        chunk.copy_from_slice(&r.to_le_bytes());
    }
}

/// The array bounds of the fixtures' group (a new group's stored grid,
/// `Group::risk_grid`), for the TypeScript constants.
pub fn rules_json() -> Value {
    let g = DEFAULT_RISK_GRID;
    json!({
        "gridId": g.grid_id,
        "gridLen": g.grid_len,
        "maxAgeSecs": g.max_age_secs,
        "maxDriftBps": g.max_drift_bps,
    })
}

/// SOL's fixture reading as the program prices it (the spot a fresh array is computed at).
pub(super) fn sol_spot() -> Fixed {
    let r = quotes()[1];
    OraclePrice::from_pyth(r.price, r.conf, r.exponent, 9, 6).unwrap().lo
}

/// A 30-day SOL option (market `index`, 0.01 SOL contracts) struck at
/// `strike_cents` per SOL, σ `vol_bps`, Derive's short rates and the test
/// perpetual's long rates, its array computed `age` seconds ago at `spot`.
pub(super) fn sol_option(
    index: u16,
    is_call: bool,
    strike_cents: i64,
    vol_bps: i64,
    age: i64,
    spot: Fixed,
) -> Market {
    let sol = majors()[1];
    let mut m = market(index, &sol, market_kind::OPTION, SOL_CONTRACT, usd(14_800, 9));
    (m.option_is_call, m.expiry_ts) = (u8::from(is_call), NOW + THIRTY_DAYS);
    m.strike = usd(strike_cents, 9).into();
    // µUSDC per 0.01 SOL contract, as `add_option_market` lists it.
    m.option.strike_per_contract = strike_cents as u64 * 100;
    m.volatility = Fixed::from_ratio(vol_bps, 10_000, Rounding::Floor).unwrap().into();
    let r = ShortOptionRates::derive();
    (m.option.short_init_base, m.option.short_init_floor) = (r.init_base.into(), r.init_floor.into());
    (m.option.short_liq_end, m.option.short_maint) = (r.liq_end.into(), r.maint.into());
    let spec = m.option_spec();
    let array = compute_risk_array(&spec, spot, m.volatility.get(), NOW - age, &default_grid().unwrap());
    m.risk_array = StoredRiskArray::from_array(&array.unwrap());
    m
}

/// A fresh option of [`sol_option`] at the fixture's SOL price.
pub(super) fn fresh(index: u16, is_call: bool, strike_cents: i64) -> Market {
    sol_option(index, is_call, strike_cents, 6_000, 30, sol_spot())
}

/// The model value per contract (quote native, floor): the price a trade at the model fills at.
pub(super) fn model(m: &Market) -> u64 {
    let per_contract = m.risk_array.value.get().checked_mul_int(SOL_CONTRACT as i64).unwrap();
    per_contract.to_u64(Rounding::Floor).unwrap()
}

pub(super) fn traded(m: Market, contracts: i64, price: u64) -> Derivative {
    (m, quotes()[1], filled(&m, &[(contracts, price)], Fixed::ZERO))
}

/// Accounts with option positions the program values.
pub fn cases() -> Vec<Value> {
    let [usdc, sol, ..] = majors();
    let [usdc_px, sol_px, ..] = quotes();
    let usdc_dep = |n: u64| (usdc, usdc_px, dep(&usdc, n));
    let (call_165, put_135, put_140, call_170) =
        (fresh(0, true, 16_500), fresh(1, false, 13_500), fresh(2, false, 14_000), fresh(3, true, 17_000));
    let stale_array = sol_option(0, true, 16_500, 6_000, 3_600, sol_spot());
    // Arrays computed when SOL was 1.5 % lower (fresh: the drift bound is 2 %).
    let lower =
        sol_spot().checked_mul_floor(Fixed::from_ratio(985, 1_000, Rounding::Floor).unwrap()).unwrap();
    let (moved_call, moved_put, moved_short_call) = (
        sol_option(6, true, 15_000, 6_000, 30, lower),
        sol_option(7, false, 14_500, 6_000, 30, lower),
        sol_option(8, true, 15_500, 6_000, 30, lower),
    );
    let stale_put = sol_option(1, false, 13_500, 6_000, 3_600, sol_spot());
    let mut pending_later = fresh(0, true, 16_500);
    pending_later.option.pending_volatility = Fixed::from_ratio(1, 2, Rounding::Floor).unwrap().into();
    pending_later.option.pending_volatility_ts = NOW + 1;
    let stale_sol = pyth(15_012_345_678, 10_000_000, -8, 61);
    let fallback = Some(PriceRules::CONSERVATIVE);
    let mut settled_itm = settled(fresh(4, true, 14_000), usd(15_150, 9));
    settled_itm.risk_array = StoredRiskArray::default();
    let mut settled_otm = settled(fresh(5, true, 16_500), usd(15_150, 9));
    settled_otm.risk_array = StoredRiskArray::default();
    vec![
        derivative_fixture(
            "option_long_call",
            "1,000 USDC; 100 30-day $165 SOL calls (1 SOL) bought at the model value: value from the array, \
             requirement 10 % · S · |Δ| at most the value",
            &[usdc_dep(1_000_000_000)],
            &[traded(call_165, 100, model(&call_165))],
            None,
        ),
        derivative_fixture(
            "option_short_put",
            "1,000 USDC; 200 30-day $135 SOL puts sold at the model value: owed at value + 1 ulp, Init \
             max(15 % · S − OTM, 13 % · S), LiquidationEnd 11 %, Maint 9 % of S",
            &[usdc_dep(1_000_000_000)],
            &[traded(put_135, -200, model(&put_135))],
            None,
        ),
        derivative_fixture(
            "option_covered_call",
            "10 SOL deposit, 50 USDC borrowed; 1,000 30-day $165 calls (10 SOL) sold at the model value",
            &[(sol, sol_px, dep(&sol, 10_000_000_000)), (usdc, usdc_px, bor(&usdc, 50_000_000))],
            &[traded(call_165, -1_000, model(&call_165))],
            None,
        ),
        derivative_fixture(
            "option_mixed_book",
            "2,000 USDC; long 300 $140 puts bought 20 % under the model (profit weighted, Init capped), short 50 \
             $170 calls sold 10 % over it, long 100 $165 calls: four markets, one SOL reading",
            &[usdc_dep(2_000_000_000)],
            &[
                traded(put_140, 300, model(&put_140) * 8 / 10),
                traded(call_170, -50, model(&call_170) * 11 / 10),
                traded(call_165, 100, model(&call_165)),
            ],
            None,
        ),
        derivative_fixture(
            "option_oracle_moved_since_the_array",
            "2,000 USDC; arrays computed at 1.5 % below today's SOL: long 100 $150 calls at V + Δ·(its price − \
             the array's spot); short 50 $155 calls, moved against, adding ½Γ·(move)² (capped at V + move); \
             short 100 $145 puts, moved in their favour, at V",
            &[usdc_dep(2_000_000_000)],
            &[
                traded(moved_call, 100, model(&moved_call)),
                traded(moved_put, -100, model(&moved_put)),
                traded(moved_short_call, -50, model(&moved_short_call)),
            ],
            None,
        ),
        derivative_fixture(
            "option_closed_with_stale_array",
            "10 USDC; a closed $165 call (+12.5 USDC realised) whose array is an hour old: not read",
            &[usdc_dep(10_000_000)],
            &[(stale_array, sol_px, filled(&stale_array, &[(100, 40_000), (-100, 165_000)], Fixed::ZERO))],
            None,
        ),
        derivative_fixture(
            "option_pending_lowering_not_due",
            "1,000 USDC; 100 $165 calls short with a volatility lowering due 1 s after now: the array at the \
             volatility in force is fresh",
            &[usdc_dep(1_000_000_000)],
            &[traded(pending_later, -100, model(&pending_later))],
            None,
        ),
        derivative_fixture(
            "option_settled_market",
            "100 USDC; 100 $140 calls bought at $10.50 (per SOL), expired and settled at $151.50 before \
             settle_expired ran on the account, and 50 $165 calls sold in a market settled worthless: realised \
             PnL only, no price or array read (arrays cleared, the SOL oracle 61 s old)",
            &[usdc_dep(100_000_000)],
            &[
                (settled_itm, stale_sol, filled(&settled_itm, &[(100, 105_000)], Fixed::ZERO)),
                (settled_otm, stale_sol, filled(&settled_otm, &[(-50, 20_000)], Fixed::ZERO)),
            ],
            None,
        ),
        derivative_fixture(
            "option_fallback_stale_array",
            "liquidation rules, arrays an hour old: the long call at 0, the short put at its strike",
            &[usdc_dep(3_000_000_000)],
            &[traded(stale_array, 100, 50_000), traded(stale_put, -100, 20_000)],
            fallback,
        ),
        derivative_fixture(
            "option_fallback_stale_oracle",
            "liquidation rules, SOL oracle 61 s old: a short call at the highest price of the range (the \
             higher of last price and stable), its requirement at the fallback price",
            &[usdc_dep(3_000_000_000)],
            &[(call_165, stale_sol, filled(&call_165, &[(-100, 50_000)], Fixed::ZERO))],
            fallback,
        ),
    ]
}

/// Accounts with option positions the program refuses to value (next to 1,000 USDC).
pub fn refused() -> Vec<Value> {
    let [usdc, ..] = majors();
    let usdc_dep = (usdc, quotes()[0], dep(&usdc, 1_000_000_000));
    let call = fresh(0, true, 16_500);
    let short = |m: Market| traded(m, -100, 50_000);
    let stale = sol_option(0, true, 16_500, 6_000, i64::from(DEFAULT_RISK_GRID.max_age_secs) + 1, sol_spot());
    let spot_3_pct_lower = sol_spot().checked_mul_floor(Fixed::from_ratio(97, 100, Rounding::Floor).unwrap());
    let drifted = sol_option(0, true, 16_500, 6_000, 30, spot_3_pct_lower.unwrap());
    let mut unlisted = call;
    unlisted.risk_array = StoredRiskArray::default();
    let mut lowered = call;
    lowered.option.pending_volatility = Fixed::from_ratio(1, 2, Rounding::Floor).unwrap().into();
    lowered.option.pending_volatility_ts = NOW;
    let mut bad_rates = call;
    bad_rates.option.short_maint = bad_rates.option.short_init_base;
    let mut premium = call;
    premium.risk.size_premium = Fixed::from_ratio(1, 1_000, Rounding::Floor).unwrap().into();
    let stale_oracle = (call, pyth(15_012_345_678, 10_000_000, -8, 61), short(call).2);
    let view = None;
    let liquidating = Some(PriceRules::position_liquidation(0));
    [
        ("option_array_stale", "a short call, its array 601 s old", short(stale), view, "RiskArrayStale"),
        (
            "option_array_drifted",
            "array computed 3 % under the oracle",
            short(drifted),
            view,
            "RiskArrayDrifted",
        ),
        ("option_no_array", "never computed: another grid", short(unlisted), view, "RiskArrayOtherGrid"),
        (
            "option_lowered_volatility",
            "a lowering due now: array stale",
            short(lowered),
            view,
            "RiskArrayStale",
        ),
        ("option_stale_oracle", "the SOL oracle 61 s old", stale_oracle, view, "OracleStale"),
        (
            "option_short_rates_out_of_order",
            "maint 15 % above liq-end",
            short(bad_rates),
            view,
            "InvalidWeights",
        ),
        ("option_with_size_premium", "a size premium on an option", short(premium), view, "InvalidWeights"),
        (
            "option_liquidated_stale_array",
            "liquidating it (strict)",
            short(stale),
            liquidating,
            "RiskArrayStale",
        ),
    ]
    .into_iter()
    .map(|(name, covers, d, rules, error)| {
        let mut f = derivative_fixture(name, covers, &[usdc_dep], &[d], rules);
        f["expectedError"] = error.into();
        f
    })
    .collect()
}
