//! The xmargin keeper: every cycle it scans the group's banks, oracles and
//! margin accounts, values each account with the program's own code
//! (`xmargin_client::health`), ranks them by Maint health, liquidates the
//! liquidatable ones (best asset for the largest debt) and resolves
//! bankruptcies. It talks to the chain through the [`Chain`] trait: an RPC
//! node in production ([`rpc::RpcChain`], the `xmargin-keeper` binary), the embedded SVM ([`svm::SvmChain`]) in tests and the demo.
pub mod chain;
#[cfg(feature = "rpc")]
pub mod config;
pub mod rank;
#[cfg(feature = "rpc")]
pub mod rpc;
#[cfg(feature = "svm")]
pub mod svm;

pub use chain::{Chain, ChainError, Sent};
pub use rank::{rank_accounts, AccountHealth, BankTemplates, Market};

use anchor_lang::prelude::{AccountMeta, Pubkey};
use anchor_lang::solana_program::instruction::Instruction;
use xmargin::state::MarginAccount;
use xmargin_client::health::health_metas;
use xmargin_client::instructions::{self as ixs, BankKeys};

/// What the keeper is told to do.
#[derive(Clone, Debug)]
pub struct KeeperConfig {
    pub group: Pubkey,
    /// The keeper's own margin account (the liquidator), and its signer.
    pub liqor_account: Pubkey,
    pub liqor_authority: Pubkey,
    /// Skip liquidations whose bonus is worth less than this (quote native).
    pub min_profit: u64,
    /// Log what would be sent; send nothing.
    pub dry_run: bool,
    /// Compute-unit limit and priority fee (micro-lamports per CU) per transaction.
    pub compute_unit_limit: u32,
    pub priority_fee_micro_lamports: u64,
}

/// One cycle's outcome, also logged as one summary line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CycleSummary {
    pub accounts: usize,
    pub liquidatable: usize,
    pub bankrupt: usize,
    pub liquidations_sent: usize,
    pub bankruptcies_sent: usize,
    pub failures: usize,
    pub skipped_unprofitable: usize,
    pub skipped_stale: usize,
}

const COMPUTE_BUDGET_PROGRAM: Pubkey =
    anchor_lang::prelude::pubkey!("ComputeBudget111111111111111111111111111111");

/// `SetComputeUnitLimit` and `SetComputeUnitPrice` (compute-budget program, by layout).
pub fn compute_budget_ixs(limit: u32, micro_lamports: u64) -> Vec<Instruction> {
    let mut limit_data = vec![2u8];
    limit_data.extend_from_slice(&limit.to_le_bytes());
    let mut price_data = vec![3u8];
    price_data.extend_from_slice(&micro_lamports.to_le_bytes());
    vec![
        Instruction { program_id: COMPUTE_BUDGET_PROGRAM, accounts: vec![], data: limit_data },
        Instruction { program_id: COMPUTE_BUDGET_PROGRAM, accounts: vec![], data: price_data },
    ]
}

/// One keeper cycle over `chain`.
pub fn run_cycle(chain: &mut dyn Chain, config: &KeeperConfig) -> Result<CycleSummary, ChainError> {
    let market = Market::load(chain, &config.group)?;
    let ranked = rank_accounts(&market);
    let mut summary = CycleSummary {
        accounts: market.accounts.len(),
        skipped_stale: market.accounts.len() - ranked.len(),
        ..Default::default()
    };
    let budget = compute_budget_ixs(config.compute_unit_limit, config.priority_fee_micro_lamports);
    let liqor: Option<MarginAccount> = market.account(&config.liqor_account).copied();

    for h in ranked.iter().filter(|h| h.liquidatable || h.bankrupt) {
        if h.address == config.liqor_account {
            continue;
        }
        let Some(account) = market.account(&h.address) else { continue };
        let ix = if h.bankrupt {
            summary.bankrupt += 1;
            let Some(liab) = h.largest_liability else { continue };
            let keys = |t: u16| {
                let b = &market.banks[&t];
                BankKeys { bank: b.address, vault: b.bank.vault, oracle: b.bank.oracle }
            };
            match (market.quote_token, liqor.as_ref()) {
                // A debt in another token: the keeper's account takes over what the
                // insurance fund pays for (the program ignores it when the fund is empty).
                (Some(quote), Some(liqor)) if quote != liab => ixs::resolve_bankruptcy_with_liquidator(
                    &config.group,
                    &h.address,
                    &keys(liab),
                    &keys(quote),
                    &config.liqor_account,
                    &config.liqor_authority,
                    health_metas(liqor, &[quote, liab], &market.banks).unwrap_or_default(),
                ),
                _ => ixs::resolve_bankruptcy(&config.group, &h.address, &keys(liab)),
            }
        } else {
            summary.liquidatable += 1;
            let (Some(asset), Some(liab)) = (h.largest_asset, h.largest_liability) else { continue };
            if h.bonus_value < config.min_profit {
                summary.skipped_unprofitable += 1;
                continue;
            }
            let Some(liqor) = liqor.as_ref() else {
                tracing::warn!(liqor = %config.liqor_account, "liquidator account not found; cannot liquidate");
                continue;
            };
            let metas = |acc: &MarginAccount, opening: &[u16]| -> Vec<AccountMeta> {
                health_metas(acc, opening, &market.banks).unwrap_or_default()
            };
            ixs::liquidate_token(
                &config.group,
                &h.address,
                &config.liqor_account,
                &config.liqor_authority,
                &market.banks[&asset].address,
                &market.banks[&liab].address,
                u64::MAX,
                metas(account, &[]),
                metas(liqor, &[asset, liab]),
            )
        };
        let kind = if h.bankrupt { "resolve_bankruptcy" } else { "liquidate_token" };
        if config.dry_run {
            tracing::info!(account = %h.address, maint = h.maint, kind, "dry run: would send");
            continue;
        }
        let mut tx = budget.clone();
        tx.push(ix);
        match chain.send(&tx) {
            Ok(sent) => {
                if h.bankrupt {
                    summary.bankruptcies_sent += 1;
                } else {
                    summary.liquidations_sent += 1;
                }
                tracing::info!(account = %h.address, maint = h.maint, kind, cu = sent.compute_units, "sent");
            }
            Err(e) => {
                summary.failures += 1;
                tracing::warn!(account = %h.address, kind, error = %e, "failed");
            }
        }
    }
    tracing::info!(
        accounts = summary.accounts,
        liquidatable = summary.liquidatable,
        bankrupt = summary.bankrupt,
        liquidations = summary.liquidations_sent,
        bankruptcies = summary.bankruptcies_sent,
        failures = summary.failures,
        stale = summary.skipped_stale,
        "cycle"
    );
    Ok(summary)
}
