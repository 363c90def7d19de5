//! PnL settlement: in every market, `settle_pnl` pairs accounts that won
//! with accounts that lost, moving quote tokens between them.
//!
//! Each position is read as the program's `settle_pnl` reads it: funding
//! settled first, PnL at the settle price — in a settled future or option
//! the settlement value per contract (`xmargin::expiry`, no limit), else the
//! oracle (`oracle.lo`, fresh, certain and within the market's band of its
//! stable price, which `settle_pnl` first moves toward the oracle at its
//! bounded speed; otherwise the market is skipped). An option market is
//! skipped until it is settled (`settle_pnl` refuses it: its PnL is a model
//! value, not cash):
//!
//! ```text
//! realised  = realized_pnl + pending funding
//! total     = base · price (floor) − quote_cost + realised
//!           = contracts · value − quote_cost + realised     (settled market)
//! winner    can settle  total                               (settled market)
//!                       settleable(realised, total − realised, window left)
//! loser     owes        ⌊−total⌋
//! ```
//!
//! A pair is settled when one side *must* be: any position of a settled
//! market, a winner with realised profit, or a loser with a realised loss
//! (a closed position's loss, funding paid). Losers with realised losses are
//! served first (a bankrupt account's loss becomes a quote debt the
//! bankruptcy path can resolve), largest first, each against the largest
//! winners; then winners with realised profit against the largest losers.
//! A closed position's last units of loss that no winner is left to take
//! (the payer's side of funding rounding) go to the protocol through
//! `settle_dust`, up to the market's whole units of funding dust.
use std::collections::BTreeMap;

use anchor_lang::prelude::Pubkey;
use xmargin::expiry::settlement_value_per_contract;
use xmargin::health::pending_funding;
use xmargin::instructions::SETTLE_WINDOW_SECS;
use xmargin::state::{market_kind, market_status, DerivativePosition, Market};
use xmargin_client::instructions::BankKeys;
use xmargin_client::market_instructions::{self as mixs, MarketKeys};
use xmargin_risk::options::intrinsic::expiry_pnl;
use xmargin_risk::perp::base_native;
use xmargin_risk::price::update_stable_price;
use xmargin_risk::settlement::{settle_limit, settleable};
use xmargin_risk::{Fixed, Rounding};

use crate::snapshot::Snapshot;
use crate::Sender;

/// One `settle_pnl` the keeper plans.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settlement {
    pub market: u16,
    pub winner: Pubkey,
    pub loser: Pubkey,
    /// Expected amount (quote native); the program computes its own.
    pub amount: i64,
}

/// One `settle_dust` the keeper plans: the protocol's funding rounding taken
/// from a closed position's last units of loss no winner is left to take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dust {
    pub market: u16,
    pub account: Pubkey,
    pub amount: i64,
}

/// The keeper's settlements: pairs first, then dust.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub pairs: Vec<Settlement>,
    pub dust: Vec<Dust>,
}

/// One side of a market's book of PnL.
#[derive(Clone, Copy, Debug)]
struct Side {
    account: Pubkey,
    /// What it can settle (winner) or owes (loser), quote native, > 0.
    left: i64,
    /// Must be settled (module docs).
    due: bool,
    /// No base and no cost left: only realised PnL.
    closed: bool,
}

/// How a market settles PnL now.
#[derive(Clone, Copy, Debug)]
struct Terms {
    price: Fixed,
    /// A settled market: what one contract pays (quote native), no window.
    settled_value: Option<i64>,
    /// The stable price as `settle_pnl` moves it first (toward the oracle at its bounded speed).
    stable: Fixed,
}

/// The terms of `market` now, or `None` when `settle_pnl` would refuse.
fn terms(snap: &Snapshot, market: &Market) -> Option<Terms> {
    if market.status == market_status::SETTLED {
        let price = market.settlement_price.get();
        let value = settlement_value_per_contract(market).ok()?;
        return Some(Terms { price, settled_value: Some(value), stable: market.stable_price.get() });
    }
    if market.kind == market_kind::OPTION || market.is_expired(snap.now) {
        return None; // an option's PnL is a model value until settled; an expired market: settle_expired first
    }
    let oracle = snap.market_templates.get(&market.market_index)?.oracle?;
    let growth = market.safety_params(snap.now).stable_price_growth_per_sec.get();
    let dt = snap.now.saturating_sub(market.stable_price_ts).max(0).unsigned_abs();
    let stable = update_stable_price(market.stable_price.get(), oracle.lo, dt, growth).ok()?;
    let max_gap = stable.checked_mul_floor(market.risk_params(snap.now).price_band.get()).ok()?;
    let gap = oracle.lo.checked_sub(stable).and_then(|g| g.checked_abs()).ok()?;
    (gap <= max_gap).then_some(Terms { price: oracle.lo, settled_value: None, stable })
}

/// What is left of a position's window of unrealised profit.
fn window_left(market: &Market, p: &DerivativePosition, stable: Fixed, now: i64) -> Option<u64> {
    let settled =
        if now.saturating_sub(p.settle_window_start) >= SETTLE_WINDOW_SECS { 0 } else { p.settled_in_window };
    let base = base_native(p.base_contracts, market.contract_size).ok()?.checked_abs().ok()?;
    let limit = settle_limit(base, stable, market.risk_params(now).settle_fraction.get()).ok()?;
    Some(limit.saturating_sub(settled))
}

/// A position as a winner (`Ok`) or loser (`Err`) at `price`, or neither.
fn side_of(
    market: &Market,
    p: &DerivativePosition,
    t: &Terms,
    now: i64,
) -> Option<Result<(i64, bool), (i64, bool)>> {
    let unlimited = t.settled_value.is_some();
    let realized = p.realized_pnl.checked_add(pending_funding(market, p).ok()?)?;
    let total = match t.settled_value {
        // As `settle_expired` books it: exact, in whole units.
        Some(value) => Fixed::from_i64(expiry_pnl(p.base_contracts, value, p.quote_cost).ok()?)
            .checked_add(Fixed::from_i64(realized))
            .ok()?,
        None => base_native(p.base_contracts, market.contract_size)
            .ok()?
            .checked_mul(t.price, Rounding::Floor)
            .ok()?
            .checked_sub(Fixed::from_i64(p.quote_cost))
            .ok()?
            .checked_add(Fixed::from_i64(realized))
            .ok()?,
    };
    let floor = |v: Fixed| v.to_i64(Rounding::Floor).ok();
    if total.is_positive() {
        let can = if unlimited {
            floor(total)?
        } else {
            let unrealized = floor(total.checked_sub(Fixed::from_i64(realized)).ok()?)?;
            settleable(realized, unrealized, window_left(market, p, t.stable, now)?)
        };
        (can > 0).then_some(Ok((can, unlimited || realized > 0)))
    } else {
        let owes = floor(total.checked_neg().ok()?)?;
        (owes > 0).then_some(Err((owes, unlimited || realized < 0)))
    }
}

/// Pairs `losers` and `winners` (both sorted largest first) where one side is due.
fn pair(market: u16, winners: &mut [Side], losers: &mut [Side], min: i64, out: &mut Vec<Settlement>) {
    let settle = |w: &mut Side, l: &mut Side, out: &mut Vec<Settlement>| {
        let amount = w.left.min(l.left);
        if amount > 0 && amount >= min {
            out.push(Settlement { market, winner: w.account, loser: l.account, amount });
            w.left -= amount;
            l.left -= amount;
        }
    };
    let mut wi = 0;
    for l in losers.iter_mut().filter(|l| l.due) {
        while l.left > 0 && wi < winners.len() {
            settle(&mut winners[wi], l, out);
            if winners[wi].left > 0 && l.left > 0 {
                break; // below the minimum
            }
            if winners[wi].left == 0 {
                wi += 1;
            }
        }
    }
    let mut li = 0;
    for w in winners.iter_mut().filter(|w| w.due) {
        while w.left > 0 && li < losers.len() {
            settle(w, &mut losers[li], out);
            if losers[li].left > 0 && w.left > 0 {
                break;
            }
            if losers[li].left == 0 {
                li += 1;
            }
        }
    }
}

/// The settlements due now (module docs), market by market; a closed
/// position's loss left over once the winners are paid is taken out of the
/// market's whole units of funding dust (`settle_dust`).
pub fn plan(snap: &Snapshot, min_amount: u64) -> Plan {
    let terms: BTreeMap<u16, Terms> =
        snap.markets.iter().filter_map(|(i, e)| terms(snap, &e.market).map(|t| (*i, t))).collect();
    let mut books: BTreeMap<u16, (Vec<Side>, Vec<Side>)> = BTreeMap::new();
    for (address, account) in &snap.accounts {
        for p in account.active_derivatives() {
            let Some(t) = terms.get(&p.market_index) else { continue };
            let market = &snap.markets[&p.market_index].market;
            let book = books.entry(p.market_index).or_default();
            let closed = p.base_contracts == 0 && p.quote_cost == 0;
            match side_of(market, p, t, snap.now) {
                Some(Ok((left, due))) => book.0.push(Side { account: *address, left, due, closed }),
                Some(Err((left, due))) => book.1.push(Side { account: *address, left, due, closed }),
                None => {}
            }
        }
    }
    let min = i64::try_from(min_amount).unwrap_or(i64::MAX);
    let mut out = Plan::default();
    for (market, (mut winners, mut losers)) in books {
        winners.sort_by_key(|s| std::cmp::Reverse(s.left));
        losers.sort_by_key(|s| std::cmp::Reverse(s.left));
        pair(market, &mut winners, &mut losers, min, &mut out.pairs);
        let dust = snap.markets[&market].market.funding_dust.get().to_i64(Rounding::Floor).unwrap_or(0);
        let mut budget = dust.max(0);
        for l in losers.iter().filter(|l| l.closed && l.left > 0) {
            let amount = l.left.min(budget);
            if amount > 0 {
                out.dust.push(Dust { market, account: l.account, amount });
                budget -= amount;
            }
        }
    }
    out
}

/// Sends the planned settlements.
pub fn run(sender: &mut Sender, snap: &Snapshot) {
    let Some(quote) = snap.quote_token.and_then(|t| snap.banks.get(&t)) else { return };
    let quote_bank = BankKeys { bank: quote.address, vault: quote.bank.vault, oracle: quote.bank.oracle };
    let plan = plan(snap, sender.config().min_settle_pnl);
    for s in plan.pairs {
        let entry = &snap.markets[&s.market];
        let keys = MarketKeys { market: entry.address, oracle: entry.market.oracle };
        let ix = mixs::settle_pnl(&snap.group, &keys, &s.winner, &s.loser, &quote_bank.bank);
        if sender.send("settle_pnl", &s.loser, ix) {
            sender.summary.pnl_settlements += 1;
        }
    }
    for d in plan.dust {
        let market = snap.markets[&d.market].address;
        let ix = mixs::settle_dust(&snap.group, &market, &d.account, &quote_bank.bank);
        if sender.send("settle_dust", &d.account, ix) {
            sender.summary.dust_settlements += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side(n: u8, left: i64, due: bool) -> Side {
        Side { account: Pubkey::new_from_array([n; 32]), left, due, closed: false }
    }

    #[test]
    fn due_sides_pair_with_the_largest_counterparties() {
        // Winners 1 (60, realised), 2 (30), 3 (5); losers 4 (50, realised loss), 5 (40), 6 (8).
        let mut w = [side(1, 60, true), side(2, 30, false), side(3, 5, false)];
        let mut l = [side(4, 50, true), side(5, 40, false), side(6, 8, false)];
        let mut out = Vec::new();
        pair(0, &mut w, &mut l, 0, &mut out);
        let got: Vec<(u8, u8, i64)> =
            out.iter().map(|s| (s.winner.to_bytes()[0], s.loser.to_bytes()[0], s.amount)).collect();
        // Loser 4 is due: paid to winner 1; winner 1 is due: its last 10 from loser 5.
        assert_eq!(got, vec![(1, 4, 50), (1, 5, 10)]);
        // Nothing due: nothing settles; a minimum skips small pairs.
        let mut w = [side(1, 60, false)];
        let mut l = [side(4, 50, false)];
        let mut out = Vec::new();
        pair(0, &mut w, &mut l, 0, &mut out);
        assert!(out.is_empty());
        let mut w = [side(1, 6, true)];
        let mut l = [side(4, 50, false)];
        pair(0, &mut w, &mut l, 10, &mut out);
        assert!(out.is_empty());
    }
}
