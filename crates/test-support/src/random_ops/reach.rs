//! Invariant (e): an account below maintenance is never out of reach. With
//! every price fresh and liquidations not paused, some `liquidate_token` pair
//! or a `resolve_bankruptcy` must be accepted; with a stale or uncertain asset
//! price elsewhere, still so through a pair whose prices are good (issue 10,
//! finding 6), as long as every debt can be priced. Decided by simulating each
//! candidate on the current state (nothing is committed), after accruing
//! every bank in the same transaction so the valuation is the one a keeper
//! would see.
use solana_address::Address;
use xmargin::state::{account_flags, pause};

use super::checks::{Invariant, Violation};
use super::exec::Class;
use super::market::{Market, TOKENS};
use crate::margin::accrue_interest_ix;
use crate::Instruction;

/// One way to act on a liquidatable account.
pub struct Candidate {
    pub label: String,
    pub class: Class,
    pub ixs: Vec<Instruction>,
}

/// Token index of the quote (insurance-fund) token.
const QUOTE: usize = 0;

/// Estimated Maint health above this share of the debt's value: surely not
/// liquidatable, not worth an exact (simulated) check.
const CLEARLY_HEALTHY_SHARE: f64 = 0.05;

/// Debt, and near or below maintenance by the float estimate, or flagged: a
/// keeper would look at it.
pub fn looks_liquidatable(m: &Market, liqee: &Address) -> bool {
    let acc = m.margin(liqee);
    if !acc.has_liabilities() {
        return false;
    }
    let flagged = acc.has_flag(account_flags::BANKRUPT) || acc.has_flag(account_flags::BEING_LIQUIDATED);
    flagged || m.approx_health(liqee, true) < CLEARLY_HEALTHY_SHARE * m.debt_value(liqee)
}

/// Every liquidation pair (asset held × liability owed, no limit), then every
/// bankruptcy resolution (with the liquidator for debts in other tokens than the quote token).
pub fn candidates(m: &Market, liqee: &Address) -> Vec<Candidate> {
    let acc = m.margin(liqee);
    let sides = |positive: bool| -> Vec<usize> {
        acc.active_tokens()
            .filter(|p| if positive { p.shares.get().is_positive() } else { p.shares.get().is_negative() })
            .map(|p| usize::from(p.token_index))
            .collect()
    };
    let (assets, liabs) = (sides(true), sides(false));
    let mut out = Vec::new();
    for &a in &assets {
        for &l in &liabs {
            out.push(Candidate {
                label: format!("liquidate t{a}/t{l}"),
                class: Class::Liquidation { liqee: *liqee },
                ixs: vec![m.liquidate_ix(liqee, a, l, u64::MAX)],
            });
        }
    }
    for &l in &liabs {
        for with_liquidator in [false, true].into_iter().filter(|w| !*w || l != 0) {
            out.push(Candidate {
                label: format!("resolve t{l}{}", if with_liquidator { " with liquidator" } else { "" }),
                class: Class::Bankruptcy { liqee: *liqee, with_liquidator },
                ixs: m.resolve_ixs(liqee, l, with_liquidator),
            });
        }
    }
    out
}

/// Which form of invariant (e) applies to an account now, if any.
fn applicable(m: &Market, liqee: &Address) -> Option<Invariant> {
    let acc = m.margin(liqee);
    if !acc.has_liabilities() || m.group_state().is_paused(pause::LIQUIDATIONS) {
        return None;
    }
    if (0..TOKENS).all(|t| m.price_usable(t)) {
        return Some(Invariant::LiquidationReachable);
    }
    // Some price is bad: liquidation must still reach the account through a
    // pair with good prices, as long as every debt (the liquidatee's and the
    // liquidator's) can be priced and some asset can; with no asset left,
    // resolution pays in quote tokens at the quote price, so that one must be good.
    let usable = |p: &&xmargin::state::TokenPosition| m.price_usable(usize::from(p.token_index));
    let debts_priced = |a: &xmargin::state::MarginAccount| {
        a.active_tokens().filter(|p| p.shares.get().is_negative()).all(|p| usable(&p))
    };
    let assets: Vec<_> = acc.active_tokens().filter(|p| p.shares.get().is_positive()).collect();
    let some_asset_priced = if assets.is_empty() { m.price_usable(QUOTE) } else { assets.iter().any(usable) };
    (debts_priced(&acc) && debts_priced(&m.margin(&m.liquidator.account)) && some_asset_priced)
        .then_some(Invariant::LiquidationReachableDespiteStaleAsset)
}

/// A violation of invariant (e) when `liqee` is below maintenance (by
/// `compute_health` after accruing every bank) and no candidate would be
/// accepted; `None` when it is reachable or the invariant does not apply.
pub fn unreachable(m: &mut Market, liqee: &Address) -> Option<Violation> {
    let invariant = applicable(m, liqee)?;
    if !looks_liquidatable(m, liqee) {
        return None;
    }
    if !liquidator_can_act(m) {
        return None;
    }
    let maint = m.health_view(liqee, true)?.maint;
    if maint >= 0 {
        return None;
    }
    let mut refusals = Vec::new();
    for c in candidates(m, liqee) {
        let mut ixs = accrue_all(m);
        ixs.extend(c.ixs);
        match m.simulate(&ixs) {
            Ok(_) => return None,
            Err(f) => {
                let why = f.anchor_error_name().unwrap_or_else(|| format!("{:?}", f.err));
                refusals.push(format!("{}: {why}", c.label));
            }
        }
    }
    let flags = m.margin(liqee).flags;
    let stale: Vec<usize> = (0..TOKENS).filter(|t| !m.price_usable(*t)).collect();
    let detail = format!(
        "{liqee}: Maint {maint} (flags {flags:#04b}, unusable prices {stale:?}) and every candidate refused: {}",
        refusals.join("; ")
    );
    Some(Violation { invariant, detail })
}

/// Whether the liquidator is at Init ≥ 0 (or owes nothing) before any step,
/// valued as its own check values it: assets with a bad price at zero.
/// Otherwise every step it tries is refused with LiquidatorHealthTooLow: a
/// property of this liquidator, not of the account (another could act).
/// Seed 777 reaches it twice: with the quote token's price uncertain a
/// liquidator holding mostly quote tokens and owing anything is below zero
/// however large its deposit (46.8 M USDC against 13.2 M USDC of SOL debt,
/// step 15,833); and the run's one liquidator never repays the debts it
/// takes over, so a SOL rally and 108 days at up to 320 % a year left it
/// owing 56.9 M USDC of SOL on 47.3 M USDC (step 20,295).
fn liquidator_can_act(m: &mut Market) -> bool {
    let liqor = m.liquidator.account;
    !m.margin(&liqor).has_liabilities() || m.health_view(&liqor, true).is_some_and(|h| h.init >= 0)
}

fn accrue_all(m: &Market) -> Vec<Instruction> {
    (0..TOKENS).map(|t| accrue_interest_ix(&m.env, &m.group.group, t as u16)).collect()
}
