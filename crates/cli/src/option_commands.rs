//! Option-market commands over JSON-RPC: `add-option-series` (a whole
//! series from one entry, `crate::option_series`), `set-volatility` (admin)
//! and the permissionless `update-risk-array`; and the option details
//! `show` prints (model value per contract, the array's age and status).
use anchor_lang::prelude::Pubkey;
use serde_json::{json, Value};
use xmargin::options::array_freshness;
use xmargin::state::{market_status, Market};
use xmargin_client::health::MarketEntry;
use xmargin_client::instructions::BankKeys;
use xmargin_client::market_instructions::{self as mixs, MarketKeys};
use xmargin_keeper::Snapshot;
use xmargin_risk::options::risk_array::Freshness;
use xmargin_risk::{Fixed, Rounding};

use crate::amount::ui;
use crate::markets::Command;
use crate::option_series::{Decimals, OptionSeriesConfig, SeriesOverrides};
use crate::rpc::{Cluster, Ctx};

pub fn execute<C: Cluster>(ctx: &mut Ctx<C>, group: &Pubkey, command: Command) -> Result<(), String> {
    match command {
        Command::AddOptionSeries { config, overrides, risk_arrays, dry_run } => {
            let what = if dry_run { Listing::DryRun } else { Listing::Send { risk_arrays } };
            add_series(ctx, group, &config, &overrides, what)
        }
        Command::SetVolatility { market_index, volatility_bps } => {
            set_volatility(ctx, group, market_index, volatility_bps)
        }
        Command::UpdateRiskArray { market_index } => update_risk_arrays(ctx, group, market_index),
        other => Err(format!("not an option command: {other:?}")),
    }
}

/// What `add-option-series` does with its plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Listing {
    /// Print the plan, send nothing.
    DryRun,
    /// List each market, then (`risk_arrays`) compute its first array.
    Send { risk_arrays: bool },
}

/// Lists every market of the series (and, unless told not to, computes its
/// first risk array, so it can trade at once). The JSON document's
/// `markets` holds what landed, also when a later listing fails (a dry run:
/// what would be listed).
fn add_series<C: Cluster>(
    ctx: &mut Ctx<C>,
    group: &Pubkey,
    path: &str,
    overrides: &SeriesOverrides,
    listing: Listing,
) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let series: OptionSeriesConfig = serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
    let g = ctx.group(group)?;
    let banks = ctx.banks(group)?;
    let index = series.underlying_token_index;
    let b = *banks.get(&index).ok_or_else(|| format!("no bank {index} in {group}"))?;
    let decimals = Decimals { underlying: b.bank.mint_decimals, quote: g.quote_decimals };
    let plan = series.plan(overrides, g.market_count, decimals).map_err(|e| format!("{path}: {e}"))?;
    let underlying = BankKeys { bank: b.address, vault: b.bank.vault, oracle: b.bank.oracle };
    let me = ctx.me;
    let mut listed: Vec<Value> = Vec::new();
    for m in &plan {
        let i = m.args.market_index;
        let address = ctx.program.market(group, i);
        let label = format!("add-option-market {i} {} {address}", m.name);
        match listing {
            Listing::DryRun => ctx.out.note("dry_run", true, format!("would send {label}")),
            Listing::Send { .. } => {
                ctx.send(&label, mixs::add_option_market(group, &me, &me, &underlying, m.args))?;
            }
        }
        listed.push(json!({
            "market_index": i,
            "address": address.to_string(),
            "name": m.name,
            "kind": if m.args.is_call == 1 { "call" } else { "put" },
            "strike": m.strike,
            "expiry_ts": m.expiry_ts,
        }));
        ctx.out.field("markets", listed.clone());
        if listing == (Listing::Send { risk_arrays: true }) {
            let keys = MarketKeys { market: address, oracle: b.bank.oracle };
            ctx.send(&format!("update-risk-array {i}"), mixs::update_risk_array(group, &keys))?;
        }
    }
    Ok(())
}

/// The option market `index` of `group`, or why not.
fn option_market<C: Cluster>(ctx: &mut Ctx<C>, group: &Pubkey, index: u16) -> Result<MarketEntry, String> {
    let e =
        ctx.markets(group)?.get(&index).copied().ok_or_else(|| format!("no market {index} in {group}"))?;
    if !e.market.is_option() {
        return Err(format!("market {index} ({}) is not an option market", e.market.name_str()));
    }
    Ok(e)
}

/// A stored fraction as whole bps (stored from whole bps, rounded down).
fn bps(v: Fixed) -> u32 {
    xmargin::instructions::to_bps(v)
}

fn set_volatility<C: Cluster>(
    ctx: &mut Ctx<C>,
    group: &Pubkey,
    index: u16,
    volatility_bps: u32,
) -> Result<(), String> {
    let before = option_market(ctx, group, index)?;
    let now = ctx.chain.unix_time().map_err(|e| e.to_string())?;
    let was = bps(before.market.volatility_at(now));
    let market = ctx.program.market(group, index);
    let me = ctx.me;
    ctx.send(
        &format!("set-volatility {index}: {was} → {volatility_bps} bps"),
        mixs::set_volatility(group, &me, &market, volatility_bps),
    )?;
    let after = option_market(ctx, group, index)?.market;
    let in_force = bps(after.volatility_at(now));
    let pending_ts = after.option.pending_volatility_ts;
    ctx.out.field("market_index", index);
    ctx.out.field("previous_bps", was);
    let text = if pending_ts != 0 {
        let pending = bps(after.option.pending_volatility.get());
        ctx.out.field("pending_bps", pending);
        ctx.out.field("pending_from", pending_ts);
        format!("volatility {in_force} bps in force; {pending} bps from {pending_ts} (a lowering waits the group's delay)")
    } else {
        format!("volatility {in_force} bps in force: run update-risk-array (the array is stale until then)")
    };
    ctx.out.note("volatility_bps", in_force, text);
    Ok(())
}

/// `update_risk_array` of `index`, or of every active, unexpired option market.
fn update_risk_arrays<C: Cluster>(
    ctx: &mut Ctx<C>,
    group: &Pubkey,
    index: Option<u16>,
) -> Result<(), String> {
    let now = ctx.chain.unix_time().map_err(|e| e.to_string())?;
    let targets: Vec<MarketEntry> = match index {
        Some(i) => vec![option_market(ctx, group, i)?],
        None => ctx
            .markets(group)?
            .into_values()
            .filter(|e| e.market.is_option())
            .filter(|e| e.market.status == market_status::ACTIVE && !e.market.is_expired(now))
            .collect(),
    };
    if targets.is_empty() {
        ctx.out.note("nothing_due", true, format!("update-risk-array: no live option market in {group}"));
    }
    let quote_decimals = ctx.group(group)?.quote_decimals;
    let mut updated: Vec<Value> = Vec::new();
    for e in targets {
        let i = e.market.market_index;
        let keys = MarketKeys { market: ctx.program.market(group, i), oracle: e.market.oracle };
        ctx.send(
            &format!("update-risk-array {i} {}", e.market.name_str()),
            mixs::update_risk_array(group, &keys),
        )?;
        let m = option_market(ctx, group, i)?.market;
        let value = ui(model_value_per_contract(&m), quote_decimals);
        ctx.out.note("value", value.clone(), format!("  market {i}: model value {value} per contract"));
        updated.push(json!({ "market_index": i, "value_per_contract": value, "computed_at": m.risk_array.computed_at }));
        ctx.out.field("markets", updated.clone());
    }
    Ok(())
}

/// The array's model value of one contract, quote native (floor).
pub fn model_value_per_contract(m: &Market) -> i128 {
    let size = i64::try_from(m.contract_size).unwrap_or(i64::MAX);
    let value = m.risk_array.value.get().checked_mul_int(size);
    value.and_then(|v| v.to_i128(Rounding::Floor)).unwrap_or(0)
}

/// What `show` prints of an option market.
#[derive(Clone, Debug)]
pub struct OptionInfo {
    pub is_call: bool,
    pub strike_per_contract: u64,
    pub expiry_ts: i64,
    /// Quote native per contract.
    pub model_value: i128,
    /// Seconds since the array was computed (`None`: never).
    pub array_age_secs: Option<i64>,
    /// `fresh`, `stale`, `drifted`, `other grid`, `never computed` or `no oracle price`.
    pub array_status: &'static str,
}

pub fn option_info(snap: &Snapshot, m: &Market) -> OptionInfo {
    let never = m.risk_array.computed_at == 0;
    let oracle = snap.market_templates.get(&m.market_index).and_then(|t| t.oracle);
    let array_status = match (never, oracle.map(|o| array_freshness(m, snap.now, o.lo, &snap.grid))) {
        (true, _) => "never computed",
        (false, None) => "no oracle price",
        (false, Some(Ok(Freshness::Fresh))) => "fresh",
        (false, Some(Ok(Freshness::Stale))) => "stale",
        (false, Some(Ok(Freshness::Drifted))) => "drifted",
        (false, Some(_)) => "other grid",
    };
    OptionInfo {
        is_call: m.option_is_call != 0,
        strike_per_contract: m.option.strike_per_contract,
        expiry_ts: m.expiry_ts,
        model_value: model_value_per_contract(m),
        array_age_secs: (!never).then(|| snap.now.saturating_sub(m.risk_array.computed_at)),
        array_status,
    }
}

pub fn option_json(o: &OptionInfo, quote_decimals: u8) -> Value {
    json!({
        "kind": if o.is_call { "call" } else { "put" },
        "strike_per_contract": ui(i128::from(o.strike_per_contract), quote_decimals),
        "expiry_ts": o.expiry_ts,
        "model_value_per_contract": ui(o.model_value, quote_decimals),
        "risk_array_age_secs": o.array_age_secs,
        "risk_array": o.array_status,
    })
}

/// The group view's option markets: terms, model value per contract, the array's age and status.
pub fn print_option_markets(snap: &Snapshot) {
    let options: Vec<&Market> = snap.markets.values().map(|e| &e.market).filter(|m| m.is_option()).collect();
    if options.is_empty() {
        return;
    }
    println!(
        "\n{:>4}  {:<16}  {:>4}  {:>12}  {:>8}  {:>14}  {:>10}  risk array",
        "mkt", "name", "kind", "strike/ctr", "vol bps", "model/ctr", "array age"
    );
    for m in options {
        let o = option_info(snap, m);
        let age = o.array_age_secs.map_or("-".to_string(), |a| format!("{a} s"));
        println!(
            "{:>4}  {:<16}  {:>4}  {:>12}  {:>8}  {:>14}  {age:>10}  {}",
            m.market_index,
            m.name_str(),
            if o.is_call { "call" } else { "put" },
            ui(i128::from(o.strike_per_contract), snap.quote_decimals),
            bps(m.volatility_at(snap.now)),
            ui(o.model_value, snap.quote_decimals),
            o.array_status
        );
    }
}
