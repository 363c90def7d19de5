//! `xmargin show`: a group's banks, its derivative markets, every account
//! ranked by health (as the keeper values it), and every derivative position.
use std::collections::BTreeMap;

use anchor_lang::prelude::Pubkey;
use serde_json::json;
use xmargin::health::pending_funding;
use xmargin::state::{market_kind, market_status, Market};
use xmargin_keeper::{rank_accounts, Snapshot};
use xmargin_risk::{Fixed, Rounding};

use crate::option_commands::{option_info, option_json, print_option_markets};
use crate::rpc::{Cluster, Ctx};

/// A fixed-point value as an `f64` (display only).
pub fn approx(v: Fixed) -> f64 {
    v.to_bits() as f64 / (1u64 << xmargin_risk::fixed::FRAC_BITS) as f64
}

fn floor(v: Fixed) -> i64 {
    v.to_i64(Rounding::Floor).unwrap_or(i64::MAX)
}

/// Quote native per contract of a price per underlying native unit (nearest).
pub fn per_contract(market: &Market, price: Fixed) -> i64 {
    price
        .checked_mul_int(market.contract_size as i64)
        .and_then(|v| v.checked_add(Fixed::HALF))
        .map_or(i64::MAX, floor)
}

pub fn kind_name(m: &Market) -> &'static str {
    match m.kind {
        market_kind::PERPETUAL => "perpetual",
        market_kind::FUTURE => "future",
        _ => "option",
    }
}

/// One line per market: kind, status, prices per contract (quote native),
/// open interest, funding.
pub fn print_markets(snap: &Snapshot) {
    println!(
        "{:>4}  {:<16}  {:<9}  {:<8}  {:>12}  {:>12}  {:>12}  {:>12}  {:>14}  {:>12}",
        "mkt",
        "name",
        "kind",
        "status",
        "expiry",
        "oracle/ctr",
        "stable/ctr",
        "open int.",
        "funding/h",
        "cum funding"
    );
    for (i, e) in &snap.markets {
        let m = &e.market;
        let status = match (m.status, m.is_expired(snap.now)) {
            (market_status::SETTLED, _) => "settled",
            (_, true) => "expired",
            _ => "active",
        };
        let oracle = snap
            .market_templates
            .get(i)
            .and_then(|t| t.oracle)
            .map_or("stale".to_string(), |o| per_contract(m, o.lo).to_string());
        let price = if m.status == market_status::SETTLED {
            format!("{} (settle)", per_contract(m, m.settlement_price.get()))
        } else {
            oracle
        };
        let expiry = if m.expiry_ts == 0 { "-".to_string() } else { m.expiry_ts.to_string() };
        println!(
            "{i:>4}  {:<16}  {:<9}  {status:<8}  {expiry:>12}  {price:>12}  {:>12}  {:>12}  {:>13.5}%  {:>12}",
            m.name_str(),
            kind_name(m),
            per_contract(m, m.stable_price.get()),
            m.open_interest,
            approx(m.last_funding_rate.get()) * 100.0,
            format!("{:.4}", approx(m.cum_funding.get())),
        );
    }
}

/// One line per derivative position: contracts, cost, realised PnL (what
/// fills, funding and settlements moved), funding not settled yet, and the
/// PnL not settled into tokens yet, at the oracle (quote native). Accounts
/// named in `names` are shown by name.
pub fn print_positions(snap: &Snapshot, names: &BTreeMap<Pubkey, String>) {
    println!(
        "{:<44}  {:>4}  {:>12}  {:>14}  {:>12}  {:>10}  {:>14}",
        "account", "mkt", "contracts", "quote cost", "realised", "funding", "unsettled PnL"
    );
    let mut rows = Vec::new();
    for (address, account) in &snap.accounts {
        let who = names.get(address).cloned().unwrap_or_else(|| address.to_string());
        for p in account.active_derivatives() {
            let Some(entry) = snap.markets.get(&p.market_index) else { continue };
            let m = &entry.market;
            let funding = pending_funding(m, p).unwrap_or(0);
            let price = match (m.status, m.is_option()) {
                (market_status::SETTLED, false) => Some(m.settlement_price.get()),
                // Options: the array's model value moved to the oracle, as
                // liquidation trades it (display; intrinsic once settled).
                (market_status::SETTLED, true) => Some(intrinsic(m)),
                (_, true) => (m.risk_array.computed_at != 0).then(|| {
                    let oracle = snap.market_templates.get(&p.market_index).and_then(|t| t.oracle);
                    let (array, terms) = (m.risk_array.array_value(), m.option_terms(snap.now));
                    oracle
                        .and_then(|o| array.unit_value(&terms, o.lo, p.base_contracts < 0).ok())
                        .unwrap_or(array.value)
                }),
                _ => snap.market_templates.get(&p.market_index).and_then(|t| t.oracle).map(|o| o.lo),
            };
            let pnl = price.map_or("-".to_string(), |price| {
                let value = Fixed::from_i64(p.base_contracts)
                    .checked_mul_int(m.contract_size as i64)
                    .and_then(|b| b.checked_mul_floor(price))
                    .map_or(0, floor);
                (value - p.quote_cost + p.realized_pnl + funding).to_string()
            });
            rows.push((
                (who.clone(), p.market_index),
                format!(
                    "{who:<44}  {:>4}  {:>12}  {:>14}  {:>12}  {funding:>10}  {pnl:>14}",
                    p.market_index, p.base_contracts, p.quote_cost, p.realized_pnl
                ),
            ));
        }
    }
    rows.sort();
    for (_, row) in rows {
        println!("{row}");
    }
}

/// A settled option's intrinsic value per underlying native unit at its settlement price.
fn intrinsic(m: &Market) -> Fixed {
    let (settle, strike) = (m.settlement_price.get(), m.strike.get());
    let diff = if m.option_is_call != 0 { settle.checked_sub(strike) } else { strike.checked_sub(settle) };
    diff.map_or(Fixed::ZERO, |d| d.positive_part())
}

fn state_name(h: &xmargin_keeper::AccountHealth) -> &'static str {
    if h.bankrupt {
        "bankrupt"
    } else if h.liquidatable {
        "liquidatable"
    } else {
        "ok"
    }
}

/// The group as one JSON document (`--output json`): amounts in native units.
pub fn group_json(snap: &Snapshot) -> Result<serde_json::Value, String> {
    let mut banks = Vec::new();
    for (i, b) in &snap.banks {
        let (dep, bor) = b.bank.native_totals().map_err(|e| format!("{e:?}"))?;
        banks.push(json!({
            "token_index": i, "address": b.address.to_string(), "mint": b.bank.mint.to_string(),
            "oracle": b.bank.oracle.to_string(), "decimals": b.bank.mint_decimals,
            "deposits_native": floor(dep), "borrows_native": floor(bor),
        }));
    }
    let markets: Vec<_> = snap
        .markets
        .iter()
        .map(|(i, e)| {
            let option =
                e.market.is_option().then(|| option_json(&option_info(snap, &e.market), snap.quote_decimals));
            json!({ "market_index": i, "address": e.address.to_string(), "name": e.market.name_str(),
                    "kind": kind_name(&e.market), "open_interest": e.market.open_interest, "option": option })
        })
        .collect();
    let accounts: Vec<_> = rank_accounts(snap)
        .iter()
        .map(|h| {
            json!({ "address": h.address.to_string(), "maint": h.maint, "liquidation_end": h.liquidation_end,
                    "derivative_positions": h.derivative_positions, "state": state_name(h) })
        })
        .collect();
    Ok(json!({ "group": snap.group.to_string(), "clock": snap.now, "banks": banks, "markets": markets,
               "risk_grid": crate::risk_grid::grid_json(&snap.grid),
               "accounts_total": snap.accounts.len(), "accounts": accounts }))
}

pub fn show<C: Cluster>(ctx: &mut Ctx<C>, group: &Pubkey) -> Result<(), String> {
    let snap = Snapshot::load(&mut ctx.chain, group).map_err(|e| e.to_string())?;
    if ctx.out.is_json() {
        ctx.out.set_document(group_json(&snap)?);
        return Ok(());
    }
    println!("group {group}   clock {}", snap.now);
    crate::risk_grid::print_grid(&ctx.group(group)?, snap.now);
    println!("{:>4}  {:<44}  {:<44}  {:>20}  {:>20}", "bank", "mint", "oracle", "deposits", "borrows");
    for (i, b) in &snap.banks {
        let (dep, bor) = b.bank.native_totals().map_err(|e| format!("{e:?}"))?;
        println!(
            "{i:>4}  {:<44}  {:<44}  {:>20}  {:>20}",
            b.bank.mint,
            b.bank.oracle,
            floor(dep),
            floor(bor)
        );
    }
    if !snap.markets.is_empty() {
        println!("\n{} markets (prices in quote native units per contract):", snap.markets.len());
        print_markets(&snap);
        print_option_markets(&snap);
    }
    let ranked = rank_accounts(&snap);
    println!(
        "\n{} accounts, {} valued (ranked by Maint health, quote native units):",
        snap.accounts.len(),
        ranked.len()
    );
    println!("{:<44}  {:>16}  {:>16}  {:>9}  state", "account", "maint", "liq-end", "positions");
    for h in &ranked {
        let state = state_name(h);
        println!(
            "{:<44}  {:>16}  {:>16}  {:>9}  {state}",
            h.address, h.maint, h.liquidation_end, h.derivative_positions
        );
    }
    if snap.accounts.iter().any(|(_, a)| a.active_derivatives().next().is_some()) {
        println!("\nderivative positions:");
        print_positions(&snap, &BTreeMap::new());
    }
    Ok(())
}
