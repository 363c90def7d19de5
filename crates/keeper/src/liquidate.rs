//! Liquidations and bankruptcies, most endangered account first:
//! - a liquidatable account with an open position in a live, priced market
//!   (an option's: its risk array fresh) loses part of its largest one
//!   (`liquidate_position`: the liquidatee's health accounts open the quote
//!   token, the liquidator's this market);
//! - otherwise its best asset pays for its largest debt (`liquidate_token`);
//! - a bankrupt account's token debts go through `resolve_bankruptcy` (a
//!   closed position's unsettled loss first becomes a quote debt through
//!   `settle_pnl`, [`crate::settle`]).
//!
//! Every health-accounts list carries the account's markets
//! (`health_metas_with_markets`).
use anchor_lang::prelude::{AccountMeta, Pubkey};
use anchor_lang::solana_program::instruction::Instruction;
use xmargin::state::MarginAccount;
use xmargin_client::health::health_metas_with_markets;
use xmargin_client::instructions::{self as ixs, BankKeys};
use xmargin_client::market_instructions::{self as mixs, MarketKeys};

use crate::rank::{rank_accounts, AccountHealth, Liquidation};
use crate::snapshot::Snapshot;
use crate::{Sender, Touched};

/// The health accounts of `account` with `tokens` and `markets` opened
/// (empty when a bank or market is unknown: the program then refuses).
pub fn metas(snap: &Snapshot, account: &MarginAccount, tokens: &[u16], markets: &[u16]) -> Vec<AccountMeta> {
    health_metas_with_markets(account, tokens, markets, &snap.banks, &snap.markets).unwrap_or_default()
}

fn bank_keys(snap: &Snapshot, token_index: u16) -> Option<BankKeys> {
    let b = snap.banks.get(&token_index)?;
    Some(BankKeys { bank: b.address, vault: b.bank.vault, oracle: b.bank.oracle })
}

/// The instruction the keeper sends for a liquidatable account, if any.
pub fn liquidation_ix(
    snap: &Snapshot,
    liqor_account: &Pubkey,
    liqor_authority: &Pubkey,
    liqor: &MarginAccount,
    h: &AccountHealth,
) -> Option<Instruction> {
    let account = snap.account(&h.address)?;
    match h.liquidation? {
        Liquidation::Position { market } => {
            let quote = snap.quote_token?;
            let entry = snap.markets.get(&market)?;
            let keys = MarketKeys { market: entry.address, oracle: entry.market.oracle };
            Some(mixs::liquidate_position(
                &snap.group,
                &keys,
                &h.address,
                liqor_account,
                liqor_authority,
                &bank_keys(snap, quote)?,
                u64::MAX,
                metas(snap, account, &[quote], &[]),
                metas(snap, liqor, &[], &[market]),
            ))
        }
        Liquidation::Token { asset, liab } => Some(ixs::liquidate_token(
            &snap.group,
            &h.address,
            liqor_account,
            liqor_authority,
            &snap.banks.get(&asset)?.address,
            &snap.banks.get(&liab)?.address,
            u64::MAX,
            metas(snap, account, &[], &[]),
            metas(snap, liqor, &[asset, liab], &[]),
        )),
    }
}

/// `resolve_bankruptcy` of a bankrupt account's first token debt; with the
/// keeper's account as liquidator for a debt in another token than the quote.
pub fn bankruptcy_ix(
    snap: &Snapshot,
    liqor_account: &Pubkey,
    liqor_authority: &Pubkey,
    liqor: Option<&MarginAccount>,
    h: &AccountHealth,
) -> Option<Instruction> {
    let liab = h.largest_liability?;
    Some(match (snap.quote_token, liqor) {
        // A debt in another token: the keeper's account takes over what the
        // insurance fund pays for (the program ignores it when the fund is empty).
        (Some(quote), Some(liqor)) if quote != liab => ixs::resolve_bankruptcy_with_liquidator(
            &snap.group,
            &h.address,
            &bank_keys(snap, liab)?,
            &bank_keys(snap, quote)?,
            liqor_account,
            liqor_authority,
            metas(snap, liqor, &[quote, liab], &[]),
        ),
        _ => ixs::resolve_bankruptcy(&snap.group, &h.address, &bank_keys(snap, liab)?),
    })
}

/// Ranks the snapshot and sends every liquidation and bankruptcy resolution.
pub fn run(sender: &mut Sender, snap: &Snapshot) -> Touched {
    let ranked = rank_accounts(snap);
    sender.summary.skipped_stale = snap.accounts.len() - ranked.len();
    let config = sender.config().clone();
    let mut liqor = snap.account(&config.liqor_account).copied();
    let mut touched = Touched::default();
    for h in ranked.iter().filter(|h| h.liquidatable || h.bankrupt) {
        if h.address == config.liqor_account {
            continue;
        }
        let (kind, ix) = if h.bankrupt {
            sender.summary.bankrupt += 1;
            let Some(ix) =
                bankruptcy_ix(snap, &config.liqor_account, &config.liqor_authority, liqor.as_ref(), h)
            else {
                continue; // only a closed position's loss: settled into a debt first
            };
            ("resolve_bankruptcy", ix)
        } else {
            sender.summary.liquidatable += 1;
            if h.liquidation.is_none() {
                continue;
            }
            if h.bonus_value < config.min_profit {
                sender.summary.skipped_unprofitable += 1;
                continue;
            }
            let Some(liqor) = liqor.as_ref() else {
                tracing::warn!(liqor = %config.liqor_account, "liquidator account not found; cannot liquidate");
                continue;
            };
            let Some(ix) = liquidation_ix(snap, &config.liqor_account, &config.liqor_authority, liqor, h)
            else {
                continue;
            };
            let kind = match h.liquidation {
                Some(Liquidation::Position { .. }) => "liquidate_position",
                _ => "liquidate_token",
            };
            (kind, ix)
        };
        tracing::debug!(account = %h.address, maint = h.maint, kind, "candidate");
        if sender.send(kind, &h.address, ix) {
            match kind {
                "resolve_bankruptcy" => sender.summary.bankruptcies_sent += 1,
                "liquidate_position" => {
                    sender.summary.liquidations_sent += 1;
                    sender.summary.position_liquidations += 1;
                }
                _ => sender.summary.liquidations_sent += 1,
            }
            touched.any = true;
            touched.accounts.extend([h.address, config.liqor_account]);
            // The liquidator's positions changed: its next health accounts follow them.
            if let Some(fresh) = refetch(sender, &config.liqor_account) {
                liqor = Some(fresh);
            }
        }
    }
    touched
}

fn refetch(sender: &mut Sender, key: &Pubkey) -> Option<MarginAccount> {
    let got = sender.chain().accounts(&[*key]).ok()?.pop().flatten()?;
    xmargin_client::accounts::decode::<MarginAccount>(&got.data).ok()
}
