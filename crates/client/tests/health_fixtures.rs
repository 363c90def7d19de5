//! Shared health fixtures: Init / Maint / LiquidationEnd health computed by the
//! program's own valuation (`xmargin_client::health::health_cache_with_markets`:
//! `value_token` and `value_derivative`) on in-memory banks, markets, Pyth
//! readings, token and derivative positions, under the view rules or (a
//! fixture's `rules`) the fallback rules of a liquidation, stored in
//! `tests/fixtures/health.json` for the TypeScript estimate
//! (`app/src/health.ts`, `tests/health.test.ts`) to reproduce bit for bit.
//! Each valued account also records, per token it holds or trades
//! derivatives on (`limits`), the engine's `max_withdraw` (borrowing
//! allowed), `max_borrow` and `liquidation_price` under the fixture's rules,
//! which `app/src/limits.ts` and `app/src/liquidationPrice.ts` must reproduce
//! (`tests/liquidationPrice.test.ts`).
//!
//! `XMARGIN_WRITE_FIXTURES=1` (re)writes the file from [`cases`] and
//! [`refused`]. Either way the test then reads the file and recomputes every
//! expected value (and every refusal) from the file's own inputs, so the
//! committed fixtures cannot drift from the Rust engine. 64/128-bit values are
//! decimal strings (raw I80F48 bits for fixed-point fields); field names are
//! the accounts' in lowerCamelCase, as Anchor's TypeScript coder decodes them.
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::str::FromStr;

use anchor_lang::prelude::Pubkey;
use serde_json::{json, Map, Value};
use xmargin::health::{risk_error, HealthContext, PriceRules, UnpricedLiability};
use xmargin::oracle::PythReading;
use xmargin::state::{
    market_kind, market_status, Bank, BankRiskParams, BankSafetyParams, DerivativePosition, MarginAccount,
    Market, MarketRiskParams, StoredFixed, TokenPosition,
};
use xmargin_client::health::{health_cache_with_markets, BankEntry, MarketEntry};
use xmargin_risk::interest::{borrow_shares_for, deposit_shares_for};
use xmargin_risk::perp::{apply_fill, PerpPosition};
use xmargin_risk::{Fixed, HealthBand, HealthCache, HealthSummary, RiskResult, Rounding};

#[path = "health_fixtures/options.rs"]
mod options;

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/health.json");
const NOW: i64 = 1_750_000_000;
const QUOTE_DECIMALS: u8 = 6;

/// One token position of an account: its bank, the bank's reading, signed shares.
type Position = (Bank, PythReading, Fixed);
/// One derivative position: its market, the market's (underlying's) reading, the stored position.
type Derivative = (Market, PythReading, DerivativePosition);

// ---- JSON <-> engine types ---------------------------------------------------

/// `v[key]` parsed: a decimal string (64/128-bit values) or a JSON number (small ones).
fn get<T: FromStr>(v: &Value, key: &str) -> T
where
    T::Err: Debug,
{
    let s = match &v[key] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => panic!("{key}: expected a number, found {other}"),
    };
    s.parse().unwrap_or_else(|e| panic!("{key} = {s}: {e:?}"))
}

/// Fixed-point fields of `BankRiskParams` and their JSON names (one list for both directions).
fn risk_fixed(r: &mut BankRiskParams) -> [(&'static str, &mut StoredFixed); 6] {
    [
        ("initAssetWeight", &mut r.init_asset_weight),
        ("maintAssetWeight", &mut r.maint_asset_weight),
        ("liqEndAssetWeight", &mut r.liq_end_asset_weight),
        ("initLiabWeight", &mut r.init_liab_weight),
        ("maintLiabWeight", &mut r.maint_liab_weight),
        ("liqEndLiabWeight", &mut r.liq_end_liab_weight),
    ]
}

fn risk_u64(r: &mut BankRiskParams) -> [(&'static str, &mut u64); 4] {
    [
        ("depositCap", &mut r.deposit_cap),
        ("borrowLimit", &mut r.borrow_limit),
        ("depositWeightScaleStart", &mut r.deposit_weight_scale_start),
        ("borrowWeightScaleStart", &mut r.borrow_weight_scale_start),
    ]
}

/// Fixed-point `Bank` fields health reads (the other fields health reads are listed in [`position_json`]).
fn bank_fixed(b: &mut Bank) -> [(&'static str, &mut StoredFixed); 8] {
    [
        ("depositIndex", &mut b.deposit_index),
        ("borrowIndex", &mut b.borrow_index),
        ("depositShares", &mut b.deposit_shares),
        ("borrowShares", &mut b.borrow_shares),
        ("stablePrice", &mut b.stable_price),
        ("confMultiplier", &mut b.conf_multiplier),
        ("maxConfRatio", &mut b.max_conf_ratio),
        ("maxRate", &mut b.max_rate),
    ]
}

fn bits(f: &StoredFixed) -> Value {
    f.get().to_bits().to_string().into()
}

fn risk_json(mut r: BankRiskParams) -> Value {
    let mut m: Map<String, Value> =
        risk_fixed(&mut r).map(|(k, f)| (k.into(), bits(f))).into_iter().collect();
    m.extend(risk_u64(&mut r).map(|(k, v)| (k.into(), v.to_string().into())));
    m.into()
}

fn risk_from(v: &Value) -> BankRiskParams {
    let mut r = BankRiskParams::default();
    risk_fixed(&mut r).into_iter().for_each(|(k, f)| *f = Fixed::from_bits(get(v, k)).into());
    risk_u64(&mut r).into_iter().for_each(|(k, u)| *u = get(v, k));
    r
}

/// A position as JSON: the bank fields health reads (the rest are zero), the reading, the shares.
fn position_json(&(mut b, r, shares): &Position) -> Value {
    let mut bank = json!({
        "tokenIndex": b.token_index,
        "mintDecimals": b.mint_decimals,
        "maxOracleAgeSecs": b.max_oracle_age_secs,
        "risk": risk_json(b.risk),
        "pendingRisk": risk_json(b.pending_risk),
        "pendingActivationTs": b.pending_activation_ts.to_string(),
        "lastAccrualTs": b.last_accrual_ts.to_string(),
    });
    bank_fixed(&mut b).into_iter().for_each(|(k, f)| bank[k] = bits(f));
    json!({ "bank": bank, "reading": reading_json(&r), "shares": shares.to_bits().to_string() })
}

fn reading_json(r: &PythReading) -> Value {
    let (price, conf, time) = (r.price.to_string(), r.conf.to_string(), r.publish_time.to_string());
    json!({ "price": price, "conf": conf, "exponent": r.exponent, "publishTime": time })
}

fn reading_from(r: &Value) -> PythReading {
    PythReading {
        price: get(r, "price"),
        conf: get(r, "conf"),
        exponent: get(r, "exponent"),
        publish_time: get(r, "publishTime"),
    }
}

/// Fixed-point fields of `MarketRiskParams` and their JSON names.
fn market_risk_fixed(r: &mut MarketRiskParams) -> [(&'static str, &mut StoredFixed); 9] {
    [
        ("initRate", &mut r.init_rate),
        ("maintRate", &mut r.maint_rate),
        ("liqEndRate", &mut r.liq_end_rate),
        ("pnlInitWeight", &mut r.pnl_init_weight),
        ("pnlLiqEndWeight", &mut r.pnl_liq_end_weight),
        ("pnlMaintWeight", &mut r.pnl_maint_weight),
        ("priceBand", &mut r.price_band),
        ("settleFraction", &mut r.settle_fraction),
        ("sizePremium", &mut r.size_premium),
    ]
}

fn market_risk_json(mut r: MarketRiskParams) -> Value {
    let mut m: Map<String, Value> =
        market_risk_fixed(&mut r).map(|(k, f)| (k.into(), bits(f))).into_iter().collect();
    m.insert("initPnlCap".into(), r.init_pnl_cap.to_string().into());
    m.insert("openInterestCap".into(), r.open_interest_cap.to_string().into());
    m.into()
}

fn market_risk_from(v: &Value) -> MarketRiskParams {
    let mut r = MarketRiskParams::default();
    market_risk_fixed(&mut r).into_iter().for_each(|(k, f)| *f = Fixed::from_bits(get(v, k)).into());
    (r.init_pnl_cap, r.open_interest_cap) = (get(v, "initPnlCap"), get(v, "openInterestCap"));
    r
}

fn safety_fixed(s: &mut BankSafetyParams) -> [(&'static str, &mut StoredFixed); 4] {
    [
        ("confMultiplier", &mut s.conf_multiplier),
        ("maxConfRatio", &mut s.max_conf_ratio),
        ("stablePriceGrowthPerSec", &mut s.stable_price_growth_per_sec),
        ("liquidationFee", &mut s.liquidation_fee),
    ]
}

fn safety_json(mut s: BankSafetyParams) -> Value {
    let mut m: Map<String, Value> =
        safety_fixed(&mut s).map(|(k, f)| (k.into(), bits(f))).into_iter().collect();
    m.insert("maxOracleAgeSecs".into(), s.max_oracle_age_secs.into());
    m.insert("activationTs".into(), s.activation_ts.to_string().into());
    m.into()
}

fn safety_from(v: &Value) -> BankSafetyParams {
    let mut s = BankSafetyParams::default();
    safety_fixed(&mut s).into_iter().for_each(|(k, f)| *f = Fixed::from_bits(get(v, k)).into());
    (s.max_oracle_age_secs, s.activation_ts) = (get(v, "maxOracleAgeSecs"), get(v, "activationTs"));
    s
}

/// Fixed-point `Market` fields health reads.
fn market_fixed(m: &mut Market) -> [(&'static str, &mut StoredFixed); 3] {
    [
        ("stablePrice", &mut m.stable_price),
        ("cumFunding", &mut m.cum_funding),
        ("settlementPrice", &mut m.settlement_price),
    ]
}

/// A derivative position as JSON: the market fields health reads (the rest are zero),
/// the reading, the stored position (its market index is the market's).
fn derivative_json(&(mut m, r, p): &Derivative) -> Value {
    let mut market = json!({
        "marketIndex": m.market_index,
        "underlyingTokenIndex": m.underlying_token_index,
        "underlyingDecimals": m.underlying_decimals,
        "kind": m.kind,
        "status": m.status,
        "contractSize": m.contract_size.to_string(),
        "risk": market_risk_json(m.risk),
        "pendingRisk": market_risk_json(m.pending_risk),
        "pendingRiskActivationTs": m.pending_risk_activation_ts.to_string(),
        "safety": safety_json(m.safety),
        "pendingSafety": safety_json(m.pending_safety),
    });
    market_fixed(&mut m).into_iter().for_each(|(k, f)| market[k] = bits(f));
    if let Some(o) = options::option_json(m) {
        market["option"] = o;
    }
    let position = json!({
        "baseContracts": p.base_contracts.to_string(),
        "quoteCost": p.quote_cost.to_string(),
        "realizedPnl": p.realized_pnl.to_string(),
        "fundingSnapshot": bits(&p.funding_snapshot),
    });
    json!({ "market": market, "reading": reading_json(&r), "position": position })
}

fn derivative_from(v: &Value) -> Derivative {
    let (j, p) = (&v["market"], &v["position"]);
    let mut m: Market = bytemuck::Zeroable::zeroed();
    (m.market_index, m.underlying_token_index, m.underlying_decimals) =
        (get(j, "marketIndex"), get(j, "underlyingTokenIndex"), get(j, "underlyingDecimals"));
    (m.kind, m.status, m.contract_size) = (get(j, "kind"), get(j, "status"), get(j, "contractSize"));
    (m.risk, m.pending_risk) = (market_risk_from(&j["risk"]), market_risk_from(&j["pendingRisk"]));
    m.pending_risk_activation_ts = get(j, "pendingRiskActivationTs");
    (m.safety, m.pending_safety) = (safety_from(&j["safety"]), safety_from(&j["pendingSafety"]));
    market_fixed(&mut m).into_iter().for_each(|(k, f)| *f = Fixed::from_bits(get(j, k)).into());
    if let Some(o) = j.get("option") {
        options::option_from(&mut m, o);
    }
    let position = DerivativePosition {
        base_contracts: get(p, "baseContracts"),
        quote_cost: get(p, "quoteCost"),
        realized_pnl: get(p, "realizedPnl"),
        funding_snapshot: Fixed::from_bits(get(p, "fundingSnapshot")).into(),
        market_index: m.market_index,
        in_use: 1,
        ..DerivativePosition::default()
    };
    (m, reading_from(&v["reading"]), position)
}

/// The price rules of a fixture (`rules`, absent = the view rules of `compute_health`).
fn rules_json(r: &PriceRules) -> Value {
    let fallback = r.unpriced_liability == UnpricedLiability::Fallback;
    json!({
        "strictTokens": r.strict.iter().flatten().collect::<Vec<_>>(),
        "strictMarket": r.strict_market,
        "unpricedLiability": if fallback { "fallback" } else { "refuse" },
    })
}

fn rules_from(v: Option<&Value>) -> PriceRules {
    let Some(v) = v else { return PriceRules::VIEW };
    let tokens: Vec<u16> = v["strictTokens"]
        .as_array()
        .expect("strictTokens")
        .iter()
        .map(|t| t.as_u64().unwrap() as u16)
        .collect();
    assert!(tokens.len() <= 2, "at most two strict tokens");
    let unpriced = match v["unpricedLiability"].as_str() {
        Some("fallback") => UnpricedLiability::Fallback,
        Some("refuse") => UnpricedLiability::Refuse,
        other => panic!("unpricedLiability: {other:?}"),
    };
    PriceRules {
        strict: [tokens.first().copied(), tokens.get(1).copied()],
        strict_market: v["strictMarket"].as_u64().map(|m| m as u16),
        unpriced_liability: unpriced,
    }
}

fn position_from(v: &Value) -> Position {
    let (j, r) = (&v["bank"], &v["reading"]);
    let mut b: Bank = bytemuck::Zeroable::zeroed();
    (b.token_index, b.mint_decimals) = (get(j, "tokenIndex"), get(j, "mintDecimals"));
    (b.max_oracle_age_secs, b.pending_activation_ts, b.last_accrual_ts) =
        (get(j, "maxOracleAgeSecs"), get(j, "pendingActivationTs"), get(j, "lastAccrualTs"));
    (b.risk, b.pending_risk) = (risk_from(&j["risk"]), risk_from(&j["pendingRisk"]));
    bank_fixed(&mut b).into_iter().for_each(|(k, f)| *f = Fixed::from_bits(get(j, k)).into());
    (b, reading_from(r), Fixed::from_bits(get(v, "shares")))
}

fn expected_json(s: &HealthSummary) -> Value {
    let band = match s.band() {
        HealthBand::Healthy => "healthy",
        HealthBand::MarginCall => "marginCall",
        HealthBand::Liquidatable => "liquidatable",
    };
    json!({
        "init": s.init.to_bits().to_string(),
        "maint": s.maint.to_bits().to_string(),
        "liqEnd": s.liq_end.to_bits().to_string(),
        "band": band,
    })
}

fn error_name(e: &anchor_lang::error::Error) -> String {
    match e {
        anchor_lang::error::Error::AnchorError(a) => a.error_name.clone(),
        anchor_lang::error::Error::ProgramError(p) => format!("{:?}", p.program_error),
    }
}

/// An account's inputs: token positions and derivative positions (each in slot order).
struct Inputs {
    now: i64,
    quote_decimals: u8,
    rules: PriceRules,
    positions: Vec<Position>,
    derivatives: Vec<Derivative>,
}

/// Values an account holding `positions` and `derivatives` (in slot order)
/// exactly as the program and the keeper do; `Err` where the program would fail.
/// A market reads its underlying token's oracle, so a token position and a
/// market on the same underlying share one reading.
fn evaluate(i: &Inputs) -> anchor_lang::Result<HealthCache> {
    let group = Pubkey::default();
    let ctx = HealthContext { group, quote_decimals: i.quote_decimals, now: i.now, rules: i.rules };
    let mut account: MarginAccount = bytemuck::Zeroable::zeroed();
    let (mut banks, mut markets, mut readings) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    for (slot, &(bank, reading, shares)) in i.positions.iter().enumerate() {
        let token_index = bank.token_index;
        account.tokens[slot] =
            TokenPosition { shares: shares.into(), token_index, in_use: 1, reserved: [0; 5] };
        banks.insert(token_index, BankEntry { address: group, bank });
        readings.insert(token_index, reading);
    }
    for (slot, &(market, reading, position)) in i.derivatives.iter().enumerate() {
        account.derivatives[slot] = position;
        markets.insert(market.market_index, MarketEntry { address: group, market });
        let previous = readings.insert(market.underlying_token_index, reading);
        assert!(previous.is_none_or(|p| p == reading), "one reading per underlying (one oracle account)");
    }
    health_cache_with_markets(&ctx, &account, &banks, &markets, &readings)
}

/// A limit as JSON: raw bits, `null` (no liquidation price) or `{"error": name}` (`RiskError`).
fn limit_json(r: RiskResult<Option<Fixed>>) -> Value {
    match r {
        Ok(Some(v)) => v.to_bits().to_string().into(),
        Ok(None) => Value::Null,
        Err(e) => json!({ "error": format!("{e:?}") }),
    }
}

/// Per token the account holds or trades derivatives on (positions first, then new underlyings, in
/// slot order): the engine's `max_withdraw` (borrowing allowed), `max_borrow` and `liquidation_price`.
fn limits_json(cache: &HealthCache, i: &Inputs) -> Value {
    let mut tokens: Vec<u16> = Vec::new();
    let underlyings = i.derivatives.iter().map(|(m, _, _)| m.underlying_token_index);
    for t in i.positions.iter().map(|(b, _, _)| b.token_index).chain(underlyings) {
        if !tokens.contains(&t) {
            tokens.push(t);
        }
    }
    let limits: Vec<Value> = tokens
        .into_iter()
        .map(|t| {
            json!({
                "tokenIndex": t,
                "maxWithdraw": limit_json(cache.max_withdraw(t, true).map(Some)),
                "maxBorrow": limit_json(cache.max_borrow(t).map(Some)),
                "liquidationPrice": limit_json(cache.liquidation_price(t)),
            })
        })
        .collect();
    limits.into()
}

/// What the engine makes of a fixture's inputs, re-read from its JSON (checked to
/// round-trip unchanged): `("expected", health)` or `("expectedError", error name)`,
/// and for a valued account its per-token limits ([`limits_json`]).
fn outcome(f: &Value) -> (&'static str, Value, Option<Value>) {
    let positions: Vec<Position> =
        f["positions"].as_array().expect("positions").iter().map(position_from).collect();
    for (p, original) in positions.iter().zip(f["positions"].as_array().unwrap()) {
        assert_eq!(&position_json(p), original, "{}: inputs must round-trip", f["name"]);
    }
    let derivatives: Vec<Derivative> = match f.get("derivatives") {
        Some(d) => d.as_array().expect("derivatives").iter().map(derivative_from).collect(),
        None => Vec::new(),
    };
    for (d, original) in
        derivatives.iter().zip(f.get("derivatives").and_then(Value::as_array).into_iter().flatten())
    {
        assert_eq!(&derivative_json(d), original, "{}: derivative inputs must round-trip", f["name"]);
    }
    let rules = rules_from(f.get("rules"));
    if let Some(r) = f.get("rules") {
        assert_eq!(&rules_json(&rules), r, "{}: rules must round-trip", f["name"]);
    }
    let inputs =
        Inputs { now: get(f, "now"), quote_decimals: get(f, "quoteDecimals"), rules, positions, derivatives };
    match evaluate(&inputs).and_then(|c| Ok((c.summary().map_err(risk_error)?, c))) {
        Ok((s, c)) => ("expected", expected_json(&s), Some(limits_json(&c, &inputs))),
        Err(e) => ("expectedError", error_name(&e).into(), None),
    }
}

// ---- fixture inputs ----------------------------------------------------------

fn ratio(num: i64, den: u64) -> Fixed {
    Fixed::from_ratio(num, den, Rounding::Floor).unwrap()
}

fn bps(b: i64) -> StoredFixed {
    ratio(b, 10_000).into()
}

/// Weights in bps, in [`risk_fixed`] order (init, maint, liq-end asset; init, maint, liq-end
/// liability); no caps, no size scaling.
fn params(w: [i64; 6]) -> BankRiskParams {
    let mut r = BankRiskParams { deposit_cap: u64::MAX, borrow_limit: u64::MAX, ..Default::default() };
    risk_fixed(&mut r).into_iter().zip(w).for_each(|((_, f), b)| *f = bps(b));
    r
}

/// Quote native (µUSDC) per native unit for `cents` dollars per whole token.
fn usd(cents: i64, decimals: u32) -> Fixed {
    ratio(cents * 10_000, 10u64.pow(decimals))
}

const USDC_W: [i64; 6] = [9_500, 9_800, 9_700, 10_500, 10_200, 10_300];
const SOL_W: [i64; 6] = [8_000, 9_000, 8_500, 12_000, 11_000, 11_500];
const BTC_W: [i64; 6] = [7_500, 8_500, 8_000, 12_500, 11_500, 12_000];
const ALT_W: [i64; 6] = [6_000, 7_000, 6_500, 14_000, 13_000, 13_500];

/// A bank at indices 1, conf multiplier 1, max conf 2%, max age 60 s.
/// `b` last accrued `secs` before `NOW`, its curve capped at `max_rate_bps`.
fn accrued_ago(mut b: Bank, secs: i64, max_rate_bps: i64) -> Bank {
    (b.last_accrual_ts, b.max_rate) = (NOW - secs, bps(max_rate_bps));
    b
}

fn bank(token_index: u16, decimals: u8, w: [i64; 6], stable: Fixed) -> Bank {
    let mut b: Bank = bytemuck::Zeroable::zeroed();
    (b.token_index, b.mint_decimals, b.risk) = (token_index, decimals, params(w));
    (b.deposit_index, b.borrow_index, b.conf_multiplier) =
        (Fixed::ONE.into(), Fixed::ONE.into(), Fixed::ONE.into());
    (b.max_conf_ratio, b.max_oracle_age_secs, b.stable_price) = (bps(200), 60, stable.into());
    b
}

/// USDC, SOL, BTC, ETH, JUP, WIF (token indices 0–5; stable prices near spot).
fn majors() -> [Bank; 6] {
    [
        bank(0, 6, USDC_W, usd(100, 6)),
        bank(1, 9, SOL_W, usd(14_800, 9)),
        bank(2, 8, BTC_W, usd(9_950_000, 8)),
        bank(3, 8, ALT_W, usd(295_000, 8)),
        bank(4, 6, ALT_W, usd(80, 6)),
        bank(5, 6, ALT_W, usd(200, 6)),
    ]
}

/// Pyth reading published `age` seconds before [`NOW`].
fn pyth(price: i64, conf: u64, expo: i32, age: i64) -> PythReading {
    PythReading { price, conf, exponent: expo, publish_time: NOW - age }
}

/// Fresh readings of the first five majors.
fn quotes() -> [PythReading; 5] {
    [
        pyth(100_000_000, 20_000, -8, 3),               // $1.0000 ± 0.0002
        pyth(15_012_345_678, 10_000_000, -8, 5),        // $150.12345678 ± 0.10
        pyth(10_000_000_000_000, 5_000_000_000, -8, 2), // $100,000 ± 50
        pyth(300_012_345_678, 150_000_000, -8, 7),      // $3,000.12345678 ± 1.50
        pyth(85_123_456, 50_000, -8, 1),                // $0.85123456 ± 0.0005
    ]
}

/// Shares the program mints for a deposit of `native` units.
fn dep(b: &Bank, native: u64) -> Fixed {
    deposit_shares_for(Fixed::from_u64(native), b.deposit_index.get()).unwrap()
}

/// Shares (negative) the program books for a borrow of `native` units.
fn bor(b: &Bank, native: u64) -> Fixed {
    borrow_shares_for(Fixed::from_u64(native), b.borrow_index.get()).unwrap().checked_neg().unwrap()
}

fn with_indices(mut b: Bank, deposit: Fixed, borrow: Fixed) -> Bank {
    (b.deposit_index, b.borrow_index) = (deposit.into(), borrow.into());
    b
}

/// Bank totals (native units) and size-scaling starts (µUSDC).
fn scaled(mut b: Bank, totals: [u64; 2], starts: [u64; 2]) -> Bank {
    b.deposit_shares = Fixed::from_u64(totals[0]).into();
    b.borrow_shares = Fixed::from_u64(totals[1]).into();
    (b.risk.deposit_weight_scale_start, b.risk.borrow_weight_scale_start) = (starts[0], starts[1]);
    b
}

fn with_conf(mut b: Bank, multiplier: Fixed, stable: Fixed) -> Bank {
    (b.conf_multiplier, b.stable_price) = (multiplier.into(), stable.into());
    b
}

/// A pending loosening (weights `w`, no size scaling) due at `activation`.
fn pending(mut b: Bank, w: [i64; 6], activation: i64) -> Bank {
    (b.pending_risk, b.pending_activation_ts) = (params(w), activation);
    b
}

fn fixture(name: &str, covers: &str, positions: &[Position]) -> Value {
    json!({
        "name": name,
        "covers": covers,
        "now": NOW.to_string(),
        "quoteDecimals": QUOTE_DECIMALS,
        "positions": positions.iter().map(position_json).collect::<Vec<_>>(),
    })
}

/// Accounts the program values.
fn cases() -> Vec<Value> {
    let [usdc, sol, btc, eth, jup, wif] = majors();
    let [usdc_px, sol_px, btc_px, eth_px, jup_px] = quotes();
    let (i1, i2) = (ratio(10_123, 10_000), ratio(10_456, 10_000));
    let (sol_ix, eth_ix) = (with_indices(sol, i1, i2), with_indices(eth, i1, i2));
    let usdc_ix = with_indices(usdc, ratio(10_087, 10_000), i2);
    // 2M SOL deposited, 500k borrowed; scaling from $50M deposits / $20M borrows.
    let sol_whale =
        scaled(sol, [2_000_000 * 10u64.pow(9), 500_000 * 10u64.pow(9)], [50, 20].map(|m| m * 10u64.pow(12)));
    let sol_big = with_indices(sol_whale, i1, i2);
    let usdc_big = scaled(usdc, [200, 80].map(|m| m * 10u64.pow(12)), [100, 10].map(|m| m * 10u64.pow(12)));
    let btc_small = scaled(btc, [1_000_000_000, 100_000_000], [100 * 10u64.pow(12); 2]);
    let (sol_pending, btc_pending) = (
        |at| pending(sol_whale, [8_500, 9_300, 9_000, 11_500, 10_700, 11_000], at),
        |at| pending(btc, [7_800, 8_700, 8_200, 12_200, 11_200, 11_700], at),
    );
    let (wei, hundreds) = (bank(6, 18, ALT_W, usd(295_000, 18)), bank(7, 0, ALT_W, Fixed::ZERO));
    let (cents, tiny) = (bank(8, 6, ALT_W, usd(80, 6)), bank(9, 6, ALT_W, usd(100, 6)));
    // The `shrink` shortcut made visible: $1 tokens (exact price, no conf) whose totals put the exact
    // scaled weight just above an integer ulp q (deposits D = floor(w·T/q): the shortcut floors to
    // q − 1) or just below it (borrows M = floor(q·T/w): the shortcut ceils to q + 1).
    let start = Fixed::from_u64(10u64.pow(13)); // $10M
    let (mut usd_a, mut usd_l) = (bank(10, 6, USDC_W, Fixed::ONE), bank(11, 6, USDC_W, Fixed::ONE));
    let (wa, wl) = (usd_a.risk.init_asset_weight.get(), usd_l.risk.init_liab_weight.get());
    let qa = Fixed::from_bits(wa.to_bits() / 4 - 12_345);
    usd_a.deposit_shares = wa.checked_mul_div(start, qa, Rounding::Floor).unwrap().into();
    usd_a.risk.deposit_weight_scale_start = 10u64.pow(13);
    let ql = Fixed::from_bits(wl.to_bits() * 4 + 12_345);
    usd_l.borrow_shares = ql.checked_mul_div(start, wl, Rounding::Floor).unwrap().into();
    usd_l.risk.borrow_weight_scale_start = 10u64.pow(13);
    let one_usd = pyth(100_000_000, 0, -8, 1);
    let ten_sol = (sol, sol_px, dep(&sol, 10_000_000_000));
    // Conf multiplier k and stable price: above spot (SOL asset, BTC liability), below (ETH asset, JUP
    // liability); k = 60 takes the WIF asset price to 0; k = 0 ignores the confidence.
    let sol_k = with_conf(sol, ratio(3, 2), usd(16_000, 9));
    let eth_k = with_conf(eth, ratio(2, 1), usd(290_000, 8));
    let btc_k = with_conf(btc, ratio(3, 4), usd(10_150_000, 8));
    let jup_k = with_conf(jup, ratio(5, 4), usd(80, 6));
    let wif_k = with_conf(wif, ratio(60, 1), usd(200, 6));
    let usdc_k = with_conf(usdc, Fixed::ZERO, usd(100, 6));
    vec![
        fixture(
            "usdc_deposit",
            "1,000 USDC (6 decimals, $1.00 expo -8)",
            &[(usdc, usdc_px, dep(&usdc, 10u64.pow(9)))],
        ),
        fixture(
            "sol_btc_deposits_usdc_borrow",
            "10 SOL (9 decimals) + 0.5 BTC (8 decimals) deposits, 20,000 USDC borrowed",
            &[ten_sol, (btc, btc_px, dep(&btc, 50_000_000)), (usdc, usdc_px, bor(&usdc, 20_000_000_000))],
        ),
        fixture(
            "sol_borrow_against_btc",
            "1 BTC deposit, 200 SOL borrowed",
            &[(btc, btc_px, dep(&btc, 100_000_000)), (sol, sol_px, bor(&sol, 200_000_000_000))],
        ),
        fixture(
            "non_trivial_indices",
            "deposit index 1.0123 / 1.0087, borrow index 1.0456: fractional shares",
            &[
                (sol_ix, sol_px, dep(&sol_ix, 12_345_678_901)),
                (usdc_ix, usdc_px, bor(&usdc_ix, 500_123_456)),
                (eth_ix, eth_px, bor(&eth_ix, 1_234_567)),
            ],
        ),
        fixture(
            "size_scaling_deposit_and_borrow",
            "SOL and USDC banks past both scale starts (shrink shortcut active); BTC below its starts",
            &[
                (sol_big, sol_px, dep(&sol_big, 1_000_000_000_000)),
                (btc_small, btc_px, dep(&btc_small, 20_000_000)),
                (usdc_big, usdc_px, bor(&usdc_big, 50_000_000_000)),
            ],
        ),
        fixture(
            "size_scaling_shrink_rounding",
            "$40M deposits / borrows vs $10M starts, tuned so the shrink shortcut moves the weight 1 ulp",
            &[(usd_a, one_usd, dep(&usd_a, 10u64.pow(10))), (usd_l, one_usd, bor(&usd_l, 10u64.pow(9)))],
        ),
        fixture(
            "pending_loosening_before_activation",
            "loosening due 1 s after now: current (size-scaled) weights apply",
            &[
                (sol_pending(NOW + 1), sol_px, dep(&sol, 10u64.pow(11))),
                (btc_pending(NOW + 1), btc_px, bor(&btc, 5_000_000)),
            ],
        ),
        fixture(
            "pending_loosening_at_activation",
            "same account, now = activation ts: pending (looser, unscaled) weights apply",
            &[
                (sol_pending(NOW), sol_px, dep(&sol, 10u64.pow(11))),
                (btc_pending(NOW), btc_px, bor(&btc, 5_000_000)),
            ],
        ),
        fixture(
            "stale_and_uncertain_assets",
            "valued 0: BTC 61 s old, ETH conf 3%, JUP price 0, WIF < 0, token 9 conf 2% (= max, fails)",
            &[
                (sol, pyth(15_012_345_678, 10_000_000, -8, 60), dep(&sol, 10_000_000_000)), // 60 s: fresh
                (btc, pyth(10_000_000_000_000, 5_000_000_000, -8, 61), dep(&btc, 100_000_000)),
                (eth, pyth(300_000_000_000, 9_000_000_000, -8, 1), dep(&eth, 500_000_000)),
                (jup, pyth(0, 0, -8, 1), dep(&jup, 1_000_000_000)),
                (wif, pyth(-5, 0, -8, 1), dep(&wif, 1_000_000_000)),
                (tiny, pyth(100_000_000, 2_000_000, -8, 1), dep(&tiny, 1_000_000_000)),
                (usdc, pyth(100_000_000, 20_000, -8, -30), bor(&usdc, 900_000_000)), // future: age 0
            ],
        ),
        fixture(
            "wide_conf_and_stable_price",
            "conf multipliers 1.5/2/0.75/1.25/60/0, conf ≤ 1.9%, stable above and below spot, asset price 0",
            &[
                (sol_k, pyth(15_012_345_678, 270_000_000, -8, 5), dep(&sol, 25 * 10u64.pow(9))),
                (eth_k, pyth(300_012_345_678, 4_500_000_000, -8, 5), dep(&eth, 300_000_000)),
                (btc_k, pyth(10_000_000_000_000, 10u64.pow(11), -8, 5), bor(&btc, 10_000_000)),
                (jup_k, pyth(85_123_456, 1_617_346, -8, 5), bor(&jup, 1_000_000_000)),
                (wif_k, pyth(212_345_678, 4_000_000, -8, 5), dep(&wif, 500_000_000)),
                (usdc_k, usdc_px, dep(&usdc, 20_000_000_000)),
            ],
        ),
        fixture(
            "margin_call_band",
            "10 SOL against 1,200 USDC: Init < 0 <= Maint",
            &[ten_sol, (usdc, usdc_px, bor(&usdc, 1_200_000_000))],
        ),
        fixture(
            "negative_health",
            "2 SOL against 1,000 USDC: every health type negative",
            &[(sol, sol_px, dep(&sol, 2_000_000_000)), (usdc, usdc_px, bor(&usdc, 1_000_000_000))],
        ),
        fixture(
            "debts_in_banks_not_accrued",
            "USDC (max 100 %) accrued an hour ago, BTC (max 50 %) a day ago: their debts grow at the max rate; a day-old SOL deposit does not",
            &[
                (accrued_ago(sol, 86_400, 10_000), sol_px, dep(&sol, 10_000_000_000)),
                (accrued_ago(usdc, 3_600, 10_000), usdc_px, bor(&usdc, 900_000_000)),
                (accrued_ago(btc, 86_400, 5_000), btc_px, bor(&btc, 100_000)),
            ],
        ),
        fixture(
            "dust_balances",
            "1-ulp deposit and borrow shares, 1 native unit deposited and borrowed, 0 shares",
            &[
                (sol_ix, sol_px, Fixed::DELTA),
                (usdc_ix, usdc_px, Fixed::DELTA.checked_neg().unwrap()),
                (btc, btc_px, dep(&btc, 1)),
                (eth_ix, eth_px, bor(&eth_ix, 1)),
                (jup, jup_px, Fixed::ZERO),
            ],
        ),
        fixture(
            "exponent_paths",
            "500k ETH in wei (10^-20), 0 decimals expo +2 without stable price, expo -5, expo -40 (price 0)",
            &[
                (wei, eth_px, Fixed::checked_from_i128(500_000 * 10i128.pow(18)).unwrap()),
                (hundreds, pyth(5, 0, 2, 5), Fixed::from_u64(3)),
                (cents, pyth(85_123, 12, -5, 5), bor(&cents, 100_000_000)),
                (tiny, pyth(1, 0, -40, 5), dep(&tiny, 1_000_000)),
            ],
        ),
    ]
}

/// Accounts the program refuses to value (each next to a healthy SOL
/// deposit), with the program's error name.
fn refused() -> Vec<Value> {
    let [usdc, sol, btc, _, jup, _] = majors();
    let [_, sol_px, _, _, jup_px] = quotes();
    let mut bad = jup;
    bad.risk.maint_asset_weight = bps(10_100);
    let mut huge = with_indices(sol, ratio(2, 1), Fixed::ONE);
    huge.token_index = 7;
    let sol_dep = (sol, sol_px, dep(&sol, 10_000_000_000));
    let stale = (usdc, pyth(100_000_000, 0, -8, 61), bor(&usdc, 1_000_000));
    let wide = (btc, pyth(10_000_000_000_000, 300_000_000_000, -8, 1), bor(&btc, 1_000));
    let at_zero = (jup, pyth(0, 0, -8, 1), bor(&jup, 1_000_000));
    let overflow = (huge, sol_px, Fixed::MAX.checked_sub(Fixed::ONE).unwrap());
    [
        ("stale_liability", "USDC borrow 61 s old", stale, "OracleStale"),
        ("wide_conf_liability", "BTC borrow with conf 3%", wide, "OracleConfidenceTooWide"),
        ("non_positive_price_liability", "JUP borrow priced 0", at_zero, "OracleNonPositivePrice"),
        (
            "invalid_weights",
            "maint asset weight 1.01 > 1",
            (bad, jup_px, dep(&bad, 1_000_000)),
            "InvalidWeights",
        ),
        ("balance_overflow", "shares near the I80F48 max at deposit index 2", overflow, "MathOverflow"),
        ("duplicate_token", "the same token listed twice", sol_dep, "HealthAccountMismatch"),
    ]
    .into_iter()
    .map(|(name, covers, p, error)| {
        let mut f = fixture(name, covers, &[sol_dep, p]);
        f["expectedError"] = error.into();
        f
    })
    .collect()
}

// ---- derivative fixtures ------------------------------------------------------

/// Underlying native units per contract: 0.01 SOL, 0.001 BTC, 0.01 ETH.
const SOL_CONTRACT: u64 = 10_000_000;
const BTC_CONTRACT: u64 = 100_000;
const ETH_CONTRACT: u64 = 1_000_000;

/// Market risk: rates `[init, maint, liq_end]` and positive-PnL weights
/// `[init, liq_end, maint]` in bps, the Init PnL cap in quote native.
fn market_risk(rates: [i64; 3], weights: [i64; 3], init_pnl_cap: u64) -> MarketRiskParams {
    MarketRiskParams {
        init_rate: bps(rates[0]),
        maint_rate: bps(rates[1]),
        liq_end_rate: bps(rates[2]),
        pnl_init_weight: bps(weights[0]),
        pnl_liq_end_weight: bps(weights[1]),
        pnl_maint_weight: bps(weights[2]),
        price_band: bps(500),
        settle_fraction: bps(2_000),
        size_premium: StoredFixed::default(),
        init_pnl_cap,
        open_interest_cap: 1_000_000_000,
    }
}

/// A perpetual (or `kind`) on `underlying`'s oracle and decimals with the test SOL perpetual's terms
/// (crates/test-support/src/markets.rs): Init / Maint / LiquidationEnd 10 / 5 / 7.5 % of notional,
/// positive PnL at 50 / 75 / 90 % (Init / LiquidationEnd / Maint), at most 100 USDC in Init;
/// conf multiplier 1, max conf 2 %, max age 60 s.
fn market(market_index: u16, underlying: &Bank, kind: u8, contract_size: u64, stable: Fixed) -> Market {
    let mut m: Market = bytemuck::Zeroable::zeroed();
    (m.market_index, m.underlying_token_index, m.underlying_decimals) =
        (market_index, underlying.token_index, underlying.mint_decimals);
    (m.kind, m.status, m.contract_size) = (kind, market_status::ACTIVE, contract_size);
    m.risk = market_risk([1_000, 500, 750], [5_000, 7_500, 9_000], 100_000_000);
    m.safety = BankSafetyParams {
        conf_multiplier: Fixed::ONE.into(),
        max_conf_ratio: bps(200),
        liquidation_fee: bps(100),
        max_oracle_age_secs: 60,
        ..Default::default()
    };
    m.stable_price = stable.into();
    m
}

fn with_funding(mut m: Market, cum: Fixed) -> Market {
    m.cum_funding = cum.into();
    m
}

fn settled(mut m: Market, price: Fixed) -> Market {
    (m.status, m.settlement_price) = (market_status::SETTLED, price.into());
    m
}

/// The stored position after `fills` (contracts bought > 0 or sold < 0, quote native per contract)
/// from flat, through the program's fill accounting; funding snapshot `snapshot`.
fn filled(m: &Market, fills: &[(i64, u64)], snapshot: Fixed) -> DerivativePosition {
    let mut p = PerpPosition::default();
    for &(delta, price) in fills {
        p = apply_fill(p, delta, price).unwrap().position;
    }
    DerivativePosition {
        base_contracts: p.base,
        quote_cost: p.quote_cost,
        realized_pnl: p.realized_pnl,
        funding_snapshot: snapshot.into(),
        market_index: m.market_index,
        in_use: 1,
        ..DerivativePosition::default()
    }
}

fn derivative_fixture(
    name: &str,
    covers: &str,
    positions: &[Position],
    derivatives: &[Derivative],
    rules: Option<PriceRules>,
) -> Value {
    let mut f = fixture(name, covers, positions);
    f["derivatives"] = derivatives.iter().map(derivative_json).collect::<Vec<_>>().into();
    if let Some(r) = rules {
        f["rules"] = rules_json(&r);
    }
    f
}

/// Accounts with perpetual and dated-future positions the program values.
fn derivative_cases() -> Vec<Value> {
    let [usdc, sol, btc, eth, _, _] = majors();
    let [usdc_px, sol_px, btc_px, eth_px, _] = quotes();
    let usdc_dep = |n: u64| (usdc, usdc_px, dep(&usdc, n));
    let sol_perp = market(0, &sol, market_kind::PERPETUAL, SOL_CONTRACT, usd(14_800, 9));
    let btc_perp = market(1, &btc, market_kind::PERPETUAL, BTC_CONTRACT, usd(9_950_000, 8));
    let eth_perp = market(2, &eth, market_kind::PERPETUAL, ETH_CONTRACT, usd(295_000, 8));
    let sol_fut = market(3, &sol, market_kind::FUTURE, SOL_CONTRACT, usd(14_800, 9));
    let btc_fut = market(4, &btc, market_kind::FUTURE, BTC_CONTRACT, usd(9_950_000, 8));
    let flat = Fixed::ZERO;
    // Funding indices (quote native per contract) with fractional parts: SOL longs owe
    // 300 · 999.999999 = 299,999.9997 (settles to −300,000), ETH shorts get 40 · (7/3 + 100/7) = 664.76 (664).
    let (sol_cum, sol_snap) = (ratio(987_654_321, 1_000_000), ratio(-12_345_678, 1_000_000));
    let (eth_cum, eth_snap) = (ratio(7, 3), ratio(-100, 7));
    let sol_funded = with_funding(sol_perp, sol_cum);
    let eth_funded = with_funding(eth_perp, eth_cum);
    // A future never pays funding, whatever its index.
    let fut_funded = with_funding(sol_fut, sol_cum);
    // Pending loosening due now (Init / Maint / LiquidationEnd 8 / 4 / 6 %, PnL 60 / 80 / 95 %, cap 200
    // USDC); a conf multiplier of 2 in force and 3 pending from 1 s after now; stable above spot.
    let mut sol_loose = market(0, &sol, market_kind::PERPETUAL, SOL_CONTRACT, usd(16_000, 9));
    (sol_loose.pending_risk, sol_loose.pending_risk_activation_ts) =
        (market_risk([800, 400, 600], [6_000, 8_000, 9_500], 200_000_000), NOW);
    sol_loose.safety.conf_multiplier = ratio(2, 1).into();
    sol_loose.pending_safety =
        BankSafetyParams { conf_multiplier: ratio(3, 1).into(), activation_ts: NOW + 1, ..sol_loose.safety };
    let eth_below = market(2, &eth, market_kind::PERPETUAL, ETH_CONTRACT, usd(290_000, 8));
    // A size premium of 0.001 per √contract (1,000 ppm, as add_market stores it) on the SOL perp, and
    // 0.0005 pending (a loosening, due now) on the BTC perp.
    let mut sol_premium = sol_perp;
    sol_premium.risk.size_premium = Fixed::from_ratio(1_000, 1_000_000, Rounding::Floor).unwrap().into();
    let mut btc_premium = btc_perp;
    btc_premium.risk.size_premium = Fixed::from_ratio(1_000, 1_000_000, Rounding::Floor).unwrap().into();
    (btc_premium.pending_risk, btc_premium.pending_risk_activation_ts) = (
        MarketRiskParams {
            size_premium: Fixed::from_ratio(500, 1_000_000, Rounding::Floor).unwrap().into(),
            ..btc_premium.risk
        },
        NOW,
    );
    let stale_sol = pyth(15_012_345_678, 10_000_000, -8, 61);
    let wide_eth = pyth(300_012_345_678, 9_000_000_000, -8, 5); // conf 3 %
    vec![
        derivative_fixture(
            "perp_long_and_short",
            "1,000 USDC; SOL perp: bought 150 contracts (0.01 SOL) at $140, sold 50 at $148 (+$4 realised), \
             1 SOL long left; BTC perp: 0.05 BTC short from $99,000; requirement at the liability price",
            &[usdc_dep(1_000_000_000)],
            &[
                (sol_perp, sol_px, filled(&sol_perp, &[(150, 1_400_000), (-50, 1_480_000)], flat)),
                (btc_perp, btc_px, filled(&btc_perp, &[(-50, 99_000_000)], flat)),
            ],
            None,
        ),
        derivative_fixture(
            "perp_profit_beyond_init_cap",
            "100 USDC; 100 SOL long from $100 (+$5,012): Init counts 50 % capped at 100 USDC, Maint 90 %",
            &[usdc_dep(100_000_000)],
            &[(sol_perp, sol_px, filled(&sol_perp, &[(10_000, 1_000_000)], flat))],
            None,
        ),
        derivative_fixture(
            "perp_loss_liquidatable",
            "200 USDC; 50 SOL long from $160 (−$494 at full weight): every health type negative",
            &[usdc_dep(200_000_000)],
            &[(sol_perp, sol_px, filled(&sol_perp, &[(5_000, 1_600_000)], flat))],
            None,
        ),
        derivative_fixture(
            "perp_unsettled_funding",
            "500 USDC; SOL perp 3 SOL long owing 299,999.9997 µUSDC of funding (floored to −300,000), ETH perp \
             0.4 ETH short owed 664.76 (664), a SOL future whose funding index is ignored",
            &[usdc_dep(500_000_000)],
            &[
                (sol_funded, sol_px, filled(&sol_funded, &[(300, 1_500_000)], sol_snap)),
                (eth_funded, eth_px, filled(&eth_funded, &[(-40, 30_100_000)], eth_snap)),
                (fut_funded, sol_px, filled(&fut_funded, &[(100, 1_490_000)], sol_snap)),
            ],
            None,
        ),
        derivative_fixture(
            "settled_futures",
            "20 USDC; a SOL future settled at $155 with 1 SOL long from $150 still open (no requirement, profit \
             weighted; its oracle an hour stale and unread); a BTC future settled and closed with −3.21 USDC",
            &[usdc_dep(20_000_000)],
            &[
                (settled(sol_fut, usd(15_500, 9)), pyth(15_012_345_678, 10_000_000, -8, 3_600),
                    filled(&sol_fut, &[(100, 1_500_000)], flat)),
                (settled(btc_fut, usd(10_100_000, 8)), btc_px, DerivativePosition {
                    realized_pnl: -3_210_000, market_index: 4, in_use: 1, ..DerivativePosition::default() }),
            ],
            None,
        ),
        derivative_fixture(
            "market_params_pending_and_bias",
            "300 USDC; SOL perp short 2 SOL with a loosening due now (pending rates and weights apply), conf \
             multiplier 2 (3 pending later), stable $160 above spot; ETH perp 0.5 ETH long, stable below spot",
            &[usdc_dep(300_000_000)],
            &[
                (sol_loose, sol_px, filled(&sol_loose, &[(-200, 1_450_000)], flat)),
                (eth_below, eth_px, filled(&eth_below, &[(50, 29_000_000)], flat)),
            ],
            None,
        ),
        derivative_fixture(
            "perp_size_premium",
            "200,000 USDC; SOL perp with a size premium of 0.001 per √contract: 10,000 contracts (100 SOL) long \
             from $140: √10,000 = 100, Init 8 % + 10 % = 18 % (Maint 14 %, LiqEnd 16 %) of notional; BTC perp \
             (premium 0.0005 pending, due now) 2,500 contracts (2.5 BTC) short: √ = 50, Init 8 % + 2.5 % = 10.5 %, \
             Maint max(5 %, 6.5 %); a 3-contract SOL position would pay none (the premium binds above 400 contracts)",
            &[usdc_dep(200_000_000_000)],
            &[
                (sol_premium, sol_px, filled(&sol_premium, &[(10_000, 1_400_000)], flat)),
                (btc_premium, btc_px, filled(&btc_premium, &[(-2_500, 99_000_000)], flat)),
            ],
            None,
        ),
        derivative_fixture(
            "hedged_spot_and_short_perp",
            "10 SOL deposit hedged by a 10 SOL perp short at $150.10, 100 USDC borrowed: one SOL reading for both",
            &[(sol, sol_px, dep(&sol, 10_000_000_000)), (usdc, usdc_px, bor(&usdc, 100_000_000))],
            &[(sol_perp, sol_px, filled(&sol_perp, &[(-1_000, 1_501_000)], flat))],
            None,
        ),
        derivative_fixture(
            "closed_positions_realized_pnl",
            "10 USDC; SOL perp closed +$250 realised (Init 50 % capped at 100), BTC perp closed −$40 (in full)",
            &[usdc_dep(10_000_000)],
            &[
                (sol_perp, sol_px, filled(&sol_perp, &[(1_000, 1_250_000), (-1_000, 1_500_000)], flat)),
                (btc_perp, btc_px, filled(&btc_perp, &[(-10, 96_000_000), (10, 100_000_000)], flat)),
            ],
            None,
        ),
        derivative_fixture(
            "closed_position_stale_oracle",
            "a closed SOL perp (+$250 realised) reads no price: its 61 s old oracle is not refused",
            &[usdc_dep(10_000_000)],
            &[(sol_perp, stale_sol, filled(&sol_perp, &[(1_000, 1_250_000), (-1_000, 1_500_000)], flat))],
            None,
        ),
        derivative_fixture(
            "fallback_rules_stale_prices",
            "liquidation rules: a 61 s old SOL (long: the lower of last price and $148 stable), ETH conf 3 % \
             (short: the higher of last price and stable), a stale BTC deposit at 0, a stale USDC debt at its fallback",
            &[
                (btc, pyth(10_000_000_000_000, 5_000_000_000, -8, 61), dep(&btc, 10_000_000)),
                (usdc, pyth(100_000_000, 20_000, -8, 61), bor(&usdc, 400_000_000)),
            ],
            &[
                (sol_perp, stale_sol, filled(&sol_perp, &[(400, 1_450_000)], flat)),
                (eth_perp, wide_eth, filled(&eth_perp, &[(-30, 30_500_000)], flat)),
            ],
            Some(PriceRules::CONSERVATIVE),
        ),
        derivative_fixture(
            "fallback_rules_no_last_price",
            "liquidating the ETH perp (strict, fresh): the SOL perp short's oracle is negative, valued at its \
             $148 stable price",
            &[usdc_dep(50_000_000)],
            &[
                (sol_perp, pyth(-5, 0, -8, 1), filled(&sol_perp, &[(-100, 1_480_000)], flat)),
                (eth_perp, eth_px, filled(&eth_perp, &[(10, 30_000_000)], flat)),
            ],
            Some(PriceRules::position_liquidation(2)),
        ),
    ]
}

/// Accounts with derivative positions the program refuses to value (next to a USDC deposit).
fn derivative_refused() -> Vec<Value> {
    let [usdc, sol, _, _, _, _] = majors();
    let [usdc_px, sol_px, _, _, _] = quotes();
    let usdc_dep = (usdc, usdc_px, dep(&usdc, 1_000_000_000));
    let perp = market(0, &sol, market_kind::PERPETUAL, SOL_CONTRACT, usd(14_800, 9));
    let long = filled(&perp, &[(100, 1_400_000)], Fixed::ZERO);
    let mut bad_rates = perp;
    bad_rates.risk.maint_rate = bps(800); // above LiquidationEnd 7.5 %
    let mut bad_weights = perp;
    bad_weights.risk.pnl_maint_weight = bps(10_100);
    let mut bad_premium = perp;
    bad_premium.risk.size_premium = bps(10_001); // above 1 per √contract
    let mut no_stable = perp;
    no_stable.stable_price = StoredFixed::ZERO;
    let huge = filled(&perp, &[], Fixed::ZERO);
    let huge = DerivativePosition { base_contracts: i64::MAX, ..huge };
    let stale = pyth(15_012_345_678, 10_000_000, -8, 61);
    let view = None;
    [
        ("stale_market", "a SOL perp in profit, oracle 61 s old", (perp, stale, long), view, "OracleStale"),
        (
            "wide_conf_market",
            "a SOL perp, oracle conf 3 %",
            (perp, pyth(15_000_000_000, 450_000_000, -8, 1), long),
            view,
            "OracleConfidenceTooWide",
        ),
        (
            "zero_market_price",
            "a SOL perp priced 0",
            (perp, pyth(0, 0, -8, 1), long),
            view,
            "OracleNonPositivePrice",
        ),
        (
            "strict_market_in_liquidation",
            "liquidation rules, the liquidated market's oracle 61 s old",
            (perp, stale, long),
            Some(PriceRules::position_liquidation(0)),
            "OracleStale",
        ),
        (
            "fallback_without_a_price",
            "liquidation rules, oracle price 0 and no stable price",
            (no_stable, pyth(0, 0, -8, 1), long),
            Some(PriceRules::CONSERVATIVE),
            "OracleNonPositivePrice",
        ),
        (
            "invalid_market_rates",
            "maint rate 8 % above LiquidationEnd 7.5 %",
            (bad_rates, sol_px, long),
            view,
            "InvalidWeights",
        ),
        ("invalid_pnl_weights", "Maint PnL weight 1.01", (bad_weights, sol_px, long), view, "InvalidWeights"),
        (
            "invalid_size_premium",
            "size premium 1.0001 per √contract (add_market allows at most 1)",
            (bad_premium, sol_px, long),
            view,
            "InvalidWeights",
        ),
        (
            "derivative_base_overflow",
            "i64::MAX contracts of 0.01 SOL",
            (perp, sol_px, huge),
            view,
            "MathOverflow",
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

fn write_fixtures() {
    let mut fixtures = cases();
    fixtures.extend(derivative_cases());
    let mut refused = refused();
    refused.extend(derivative_refused());
    for f in fixtures.iter_mut().chain(&mut refused) {
        let (key, value, limits) = outcome(f);
        f[key] = value;
        if let Some(l) = limits {
            f["limits"] = l;
        }
    }
    let about = "Written by crates/client/tests/health_fixtures.rs (XMARGIN_WRITE_FIXTURES=1). Raw I80F48 \
                 bits and 64-bit integers as decimal strings; health in quote native units; limits per token: \
                 maxWithdraw and maxBorrow (raw, whole native units), liquidationPrice (raw, quote native per \
                 native unit; null: none), {\"error\": RiskError} where the engine fails.";
    // Options: health or the refusal only (no limits: the TypeScript liquidation price does not reprice them).
    let mut option_list = options::cases();
    option_list.extend(options::refused());
    for f in &mut option_list {
        let (key, value, _) = outcome(f);
        f[key] = value;
    }
    let file = json!({
        "about": about,
        "fixtures": fixtures,
        "refused": refused,
        "options": option_list,
        "riskArrayRules": options::rules_json(),
    });
    std::fs::create_dir_all(std::path::Path::new(PATH).parent().unwrap()).unwrap();
    std::fs::write(PATH, serde_json::to_string_pretty(&file).unwrap() + "\n").unwrap();
}

#[test]
fn health_fixtures_match_the_engine() {
    if std::env::var("XMARGIN_WRITE_FIXTURES").is_ok_and(|v| v == "1") {
        write_fixtures();
    }
    let text = std::fs::read_to_string(PATH)
        .unwrap_or_else(|e| panic!("{PATH}: {e} (generate with XMARGIN_WRITE_FIXTURES=1)"));
    let file: Value = serde_json::from_str(&text).unwrap();
    let (fixtures, refused) = (file["fixtures"].as_array().unwrap(), file["refused"].as_array().unwrap());
    let option_list = file["options"].as_array().expect("options");
    assert!(fixtures.len() >= 8, "only {} fixtures", fixtures.len());
    let with_derivatives = |list: &[Value]| list.iter().filter(|f| f.get("derivatives").is_some()).count();
    assert!(
        with_derivatives(fixtures) >= 8,
        "only {} fixtures with derivative positions",
        with_derivatives(fixtures)
    );
    assert!(
        with_derivatives(refused) >= 5,
        "only {} refused with derivative positions",
        with_derivatives(refused)
    );
    let mut names: Vec<&str> =
        fixtures.iter().chain(refused).chain(option_list).map(|f| f["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(
        names.len(),
        fixtures.len() + refused.len() + option_list.len(),
        "fixture names must be unique"
    );
    assert!(
        option_list.iter().filter(|f| f.get("expected").is_some()).count() >= 6,
        "valued option fixtures"
    );
    assert!(option_list.iter().filter(|f| f.get("expectedError").is_some()).count() >= 6, "refused options");
    assert_eq!(file["riskArrayRules"], options::rules_json(), "the program's array bounds");
    for f in option_list {
        let key = if f.get("expected").is_some() { "expected" } else { "expectedError" };
        let (got_key, got, _) = outcome(f);
        assert_eq!((got_key, got), (key, f[key].clone()), "{}", f["name"]);
    }
    for (list, key, other) in
        [(fixtures, "expected", "expectedError"), (refused, "expectedError", "expected")]
    {
        for f in list {
            assert_eq!(outcome(f), (key, f[key].clone(), f.get("limits").cloned()), "{}", f["name"]);
            assert!(f.get(other).is_none(), "{}", f["name"]);
        }
    }
}
