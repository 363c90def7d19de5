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
use xmargin::options::DEFAULT_RISK_GRID;
use xmargin::oracle::PythReading;
use xmargin::state::{
    market_kind, market_status, Bank, BankRiskParams, BankSafetyParams, DerivativePosition, MarginAccount,
    Market, MarketRiskParams, RiskGridParams, StoredFixed, TokenPosition,
};
use xmargin_client::health::{health_cache_with_markets, BankEntry, MarketEntry};
use xmargin_risk::interest::{borrow_shares_for, deposit_shares_for};
use xmargin_risk::perp::{apply_fill, PerpPosition};
use xmargin_risk::{Fixed, HealthBand, HealthCache, HealthSummary, RiskResult, Rounding};

#[path = "health_fixtures/derivatives.rs"]
mod derivatives;
#[path = "health_fixtures/options.rs"]
mod options;
#[path = "health_fixtures/portfolio.rs"]
mod portfolio;
#[path = "health_fixtures/tokens.rs"]
mod tokens;
use derivatives::*;
use tokens::*;

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
    /// The account is in portfolio mode (`marginMode: "portfolio"`).
    portfolio: bool,
    /// The group's grid and portfolio parameters (`portfolioParams`; absent: a new group's).
    grid: RiskGridParams,
}

/// Values an account holding `positions` and `derivatives` (in slot order)
/// exactly as the program and the keeper do; `Err` where the program would fail.
/// A market reads its underlying token's oracle, so a token position and a
/// market on the same underlying share one reading.
fn evaluate(i: &Inputs) -> anchor_lang::Result<HealthCache> {
    let group = Pubkey::default();
    let ctx =
        HealthContext { group, quote_decimals: i.quote_decimals, now: i.now, rules: i.rules, grid: i.grid };
    let mut account: MarginAccount = bytemuck::Zeroable::zeroed();
    if i.portfolio {
        account.flags |= xmargin::state::account_flags::PORTFOLIO_MODE;
    }
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

/// The tokens an account holds or trades derivatives on: positions first, then new underlyings, in
/// slot order.
fn limit_tokens(i: &Inputs) -> Vec<u16> {
    let mut tokens: Vec<u16> = Vec::new();
    let underlyings = i.derivatives.iter().map(|(m, _, _)| m.underlying_token_index);
    for t in i.positions.iter().map(|(b, _, _)| b.token_index).chain(underlyings) {
        if !tokens.contains(&t) {
            tokens.push(t);
        }
    }
    tokens
}

/// Per token of [`limit_tokens`]: the engine's `max_withdraw` (borrowing allowed), `max_borrow` and `liquidation_price`.
fn limits_json(cache: &HealthCache, i: &Inputs) -> Value {
    let limits: Vec<Value> = limit_tokens(i)
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
    let portfolio = f.get("marginMode").and_then(Value::as_str) == Some("portfolio");
    let grid = f.get("portfolioParams").map_or(DEFAULT_RISK_GRID, portfolio::grid_from);
    let inputs = Inputs {
        now: get(f, "now"),
        quote_decimals: get(f, "quoteDecimals"),
        rules,
        positions,
        derivatives,
        portfolio,
        grid,
    };
    match evaluate(&inputs).and_then(|c| Ok((c.summary().map_err(risk_error)?, c))) {
        // Portfolio mode: health and every book (no limits: not ported for portfolio mode).
        Ok((s, c)) if portfolio => {
            ("expected", portfolio::expected_json(&s, &c), portfolio::limits_json(&c, &limit_tokens(&inputs)))
        }
        Ok((s, c)) => ("expected", expected_json(&s), Some(limits_json(&c, &inputs))),
        Err(e) => ("expectedError", error_name(&e).into(), None),
    }
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
    let mut portfolio_list = portfolio::cases();
    portfolio_list.extend(portfolio::refused());
    for f in &mut portfolio_list {
        let (key, value, limits) = outcome(f);
        f[key] = value;
        if let Some(l) = limits {
            f["limits"] = l;
        }
    }
    let file = json!({
        "about": about,
        "fixtures": fixtures,
        "refused": refused,
        "options": option_list,
        "portfolio": portfolio_list,
        "portfolioGrid": portfolio::grid_json(&DEFAULT_RISK_GRID),
        "portfolioCustomGrid": portfolio::grid_json(&portfolio::custom_grid()),
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
    portfolio::check(&file, outcome);
    names
        .extend(file["portfolio"].as_array().expect("portfolio").iter().map(|f| f["name"].as_str().unwrap()));
    let all = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), all, "fixture names must be unique (portfolio included)");
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
