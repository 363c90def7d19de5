//! Sending over JSON-RPC: the compute budget chosen by policy
//! ([`crate::budget`]: `simulateTransaction`, `getRecentPrioritizationFees`)
//! and the rebroadcast loop ([`crate::broadcast`]) over `sendTransaction`,
//! `getSignatureStatuses` and `getBlockHeight`.
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::rpc_client::RpcClient;
use solana_rpc_client_api::client_error::Error as ClientError;
use solana_rpc_client_api::config::{RpcSendTransactionConfig, RpcSimulateTransactionConfig};
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction::TransactionError;
use xmargin_client::errors::{describe_transaction_error, name_custom_errors};
use xmargin_client::transaction::compute_budget_ixs;

use crate::broadcast::{Broadcast, Schedule, SendError, Status};
use crate::budget::{
    choose_priority_fee, simulated_limit, writable_accounts, FeePolicy, LimitPolicy, MAX_COMPUTE_UNIT_LIMIT,
};
use crate::chain::ChainError;

/// How the RPC chain budgets and sends the keeper's transactions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SendPolicy {
    pub fee: FeePolicy,
    pub limit: LimitPolicy,
    pub schedule: Schedule,
}

/// The default schedule: rebroadcast every 2 s, 10 s to finish on a stop.
pub const DEFAULT_SCHEDULE: Schedule = Schedule {
    rebroadcast: Duration::from_secs(2),
    poll: Duration::from_millis(500),
    stop_grace: Duration::from_secs(10),
};

fn named(what: &str, e: &ClientError) -> String {
    match e.get_transaction_error() {
        Some(tx) => {
            format!("{what}: {} ({})", describe_transaction_error(&tx), name_custom_errors(&e.to_string()))
        }
        None => format!("{what}: {}", name_custom_errors(&e.to_string())),
    }
}

/// Units `instructions` consume in simulation (limit at the maximum, no
/// fee), or the program's error by name.
pub fn simulate_units(
    client: &RpcClient,
    commitment: CommitmentConfig,
    build: &dyn Fn(&[Instruction]) -> Result<VersionedTransaction, ChainError>,
    instructions: &[Instruction],
) -> Result<Option<u64>, ChainError> {
    let mut ixs = compute_budget_ixs(MAX_COMPUTE_UNIT_LIMIT, 0);
    ixs.extend_from_slice(instructions);
    let tx = build(&ixs)?;
    let config = RpcSimulateTransactionConfig {
        sig_verify: false,
        replace_recent_blockhash: true,
        commitment: Some(commitment),
        ..RpcSimulateTransactionConfig::default()
    };
    let result = client
        .simulate_transaction_with_config(&tx, config)
        .map_err(|e| ChainError(named("simulateTransaction", &e)))?
        .value;
    if let Some(err) = result.err {
        let err: TransactionError = err.into();
        let logs = result.logs.unwrap_or_default().join("\n");
        return Err(ChainError(format!(
            "simulation failed: {}\n{}",
            describe_transaction_error(&err),
            name_custom_errors(&logs)
        )));
    }
    Ok(result.units_consumed)
}

/// The compute-unit limit by `policy` (simulating when it says so).
pub fn choose_limit(
    policy: LimitPolicy,
    simulate: impl FnOnce() -> Result<Option<u64>, ChainError>,
    fallback: u32,
) -> Result<(u32, Option<u64>), ChainError> {
    match policy {
        LimitPolicy::Fixed(limit) => Ok((limit, None)),
        LimitPolicy::Simulated { percent, extra } => match simulate()? {
            Some(units) => Ok((simulated_limit(units, percent, extra), Some(units))),
            None => {
                tracing::warn!(fallback, "simulation reported no units consumed: the configured limit");
                Ok((fallback, None))
            }
        },
    }
}

/// The priority fee by `policy` (asking for the written accounts' recent fees).
pub fn choose_fee(
    client: &RpcClient,
    policy: FeePolicy,
    instructions: &[Instruction],
    payer: &Pubkey,
) -> Result<u64, ChainError> {
    match policy {
        FeePolicy::Fixed(fee) => Ok(fee),
        FeePolicy::Recent { percentile, floor, max } => {
            let accounts = writable_accounts(instructions, payer);
            let recent = client
                .get_recent_prioritization_fees(&accounts)
                .map_err(|e| ChainError(named("getRecentPrioritizationFees", &e)))?;
            let fees: Vec<u64> = recent.iter().map(|f| f.prioritization_fee).collect();
            Ok(choose_priority_fee(&fees, percentile, floor, max))
        }
    }
}

/// One signed transaction on its way, through a blocking RPC client.
pub struct RpcBroadcast<'a> {
    pub client: &'a RpcClient,
    pub tx: &'a VersionedTransaction,
    /// Landed means at this commitment; expiry is judged on the block height at it too, so
    /// once that height passes the last valid one, the status at it is final.
    pub commitment: CommitmentConfig,
    /// The blockhash's last valid block height (`getLatestBlockhash`).
    pub last_valid_block_height: u64,
    pub started: Instant,
}

impl Broadcast for RpcBroadcast<'_> {
    fn send(&mut self, first: bool) -> Result<(), SendError> {
        let config = RpcSendTransactionConfig {
            skip_preflight: !first,
            preflight_commitment: Some(self.commitment.commitment),
            max_retries: Some(0),
            ..RpcSendTransactionConfig::default()
        };
        match self.client.send_transaction_with_config(self.tx, config) {
            Ok(_) => Ok(()),
            Err(e) => match e.get_transaction_error() {
                // The node has not seen the blockhash yet, or the transaction already landed.
                Some(TransactionError::BlockhashNotFound | TransactionError::AlreadyProcessed) | None => {
                    Err(SendError::Transport(named("sendTransaction", &e)))
                }
                Some(_) => Err(SendError::Rejected(named("sendTransaction (preflight)", &e))),
            },
        }
    }

    fn status(&mut self) -> Result<Status, String> {
        let statuses = self
            .client
            .get_signature_statuses(&self.tx.signatures[..1])
            .map_err(|e| named("getSignatureStatuses", &e))?
            .value;
        let Some(Some(status)) = statuses.into_iter().next() else {
            return Ok(Status::Pending);
        };
        if !status.satisfies_commitment(self.commitment) {
            return Ok(Status::Pending);
        }
        Ok(match &status.err {
            Some(err) => Status::Failed(describe_transaction_error(err)),
            None => Status::Confirmed,
        })
    }

    fn blockhash_valid(&mut self) -> Result<bool, String> {
        let height = self
            .client
            .get_block_height_with_commitment(self.commitment)
            .map_err(|e| named("getBlockHeight", &e))?;
        Ok(height <= self.last_valid_block_height)
    }

    fn now(&mut self) -> Duration {
        self.started.elapsed()
    }

    fn sleep(&mut self, d: Duration) {
        std::thread::sleep(d);
    }
}
