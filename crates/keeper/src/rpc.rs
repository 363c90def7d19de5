//! [`Chain`] over a cluster's JSON-RPC API (the Solana Rust RPC client, blocking).
//!
//! Reads, simulations and confirmations are at the chain's commitment and
//! scans under its program id ([`RpcOptions`]: confirmed and the built-in
//! id by default; the CLI's `--commitment` and `--program-id`).
//! Transactions are v0 messages with the group's address lookup table when
//! one is set ([`RpcChain::set_lookup_table`], the keeper's and the CLI's
//! `--lookup-table`), legacy ones otherwise; either is checked against the
//! packet size and the account-lock limit before it is sent, and a program
//! error comes back by name. A transaction is sent, then rebroadcast until
//! it is confirmed, fails, or its blockhash expires ([`crate::broadcast`]);
//! with a [`SendPolicy`] ([`RpcChain::set_send_policy`], the keeper binary)
//! its compute budget comes from simulation and recent fees
//! ([`crate::budget`]).
use std::sync::Arc;
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_account_decoder_client_types::UiAccountEncoding;
use solana_commitment_config::CommitmentConfig;
use solana_keypair::Keypair;
use solana_rpc_client::rpc_client::RpcClient;
use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig};
use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};
use solana_rpc_client_api::request::RpcRequest;
use solana_rpc_client_api::response::{OptionalContext, RpcKeyedAccount};
use solana_signer::Signer;
use solana_transaction::versioned::VersionedTransaction;
use xmargin_client::accounts::ScanFilter;
use xmargin_client::errors::name_custom_errors;
use xmargin_client::lookup_table::{decode_lookup_table, AddressLookupTableAccount, LookupTableState};
use xmargin_client::transaction;

use crate::broadcast::{broadcast, Outcome};
use crate::budget::Budget;
use crate::chain::{Chain, ChainError, Fetched, ProgramAccounts, Sent};
use crate::metrics::{Metric, Metrics};
use crate::rpc_send::{choose_fee, choose_limit, simulate_units, RpcBroadcast, SendPolicy, DEFAULT_SCHEDULE};
use crate::stop::Stop;

/// `getMultipleAccounts` takes at most 100 keys per call.
const MAX_MULTIPLE_ACCOUNTS: usize = 100;
/// Offset of `unix_timestamp` in the Clock sysvar.
const CLOCK_UNIX_TIMESTAMP_OFFSET: usize = 32;
const CLOCK_SYSVAR: Pubkey = anchor_lang::prelude::pubkey!("SysvarC1ock11111111111111111111111111111111");

/// Where an [`RpcChain`] reads and what it waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RpcOptions {
    pub timeout: Duration,
    /// Reads, simulations, confirmations and expiry (the block height) at this commitment.
    pub commitment: CommitmentConfig,
    /// The xmargin program scanned and subscribed to.
    pub program_id: Pubkey,
}

impl Default for RpcOptions {
    /// 30 s, confirmed, the built-in program id.
    fn default() -> Self {
        RpcOptions {
            timeout: Duration::from_secs(30),
            commitment: CommitmentConfig::confirmed(),
            program_id: xmargin::ID,
        }
    }
}

pub struct RpcChain {
    client: RpcClient,
    signer: Keypair,
    commitment: CommitmentConfig,
    program_id: Pubkey,
    /// The lookup table's address, and its addresses as last read.
    lookup_table: Option<(Pubkey, Option<AddressLookupTableAccount>)>,
    /// How the keeper's transactions are budgeted and rebroadcast; `None`:
    /// the caller's own budget, the default schedule.
    policy: Option<SendPolicy>,
    stop: Stop,
    metrics: Option<Arc<Metrics>>,
    /// Units the last budgeted transaction consumed in simulation.
    simulated_units: Option<u64>,
}

/// `getProgramAccounts` (and `programSubscribe`) settings for `filter`:
/// base64 data at `commitment`.
pub fn program_accounts_config(
    filter: &ScanFilter,
    commitment: CommitmentConfig,
) -> RpcProgramAccountsConfig {
    let mut filters = vec![RpcFilterType::DataSize(filter.data_size)];
    filters.extend(
        filter
            .memcmp
            .iter()
            .map(|(offset, bytes)| RpcFilterType::Memcmp(Memcmp::new_raw_bytes(*offset, bytes.clone()))),
    );
    RpcProgramAccountsConfig {
        filters: Some(filters),
        account_config: RpcAccountInfoConfig {
            encoding: Some(UiAccountEncoding::Base64),
            commitment: Some(commitment),
            ..RpcAccountInfoConfig::default()
        },
        ..RpcProgramAccountsConfig::default()
    }
}

fn rpc_error(what: &str, e: impl std::fmt::Display) -> ChainError {
    ChainError(format!("{what}: {}", name_custom_errors(&e.to_string())))
}

impl RpcChain {
    /// A chain at `url` (confirmed commitment, the built-in program id) signing with `signer`.
    pub fn new(url: &str, signer: Keypair, timeout: Duration) -> RpcChain {
        RpcChain::with_options(url, signer, RpcOptions { timeout, ..RpcOptions::default() })
    }

    /// A chain at `url` signing with `signer`, reading as `options` say.
    pub fn with_options(url: &str, signer: Keypair, options: RpcOptions) -> RpcChain {
        let client =
            RpcClient::new_with_timeout_and_commitment(url.to_string(), options.timeout, options.commitment);
        RpcChain {
            client,
            signer,
            commitment: options.commitment,
            program_id: options.program_id,
            lookup_table: None,
            policy: None,
            stop: Stop::new(),
            metrics: None,
            simulated_units: None,
        }
    }

    /// Budgets (fee and limit) and rebroadcasts the keeper's transactions by `policy`.
    pub fn set_send_policy(&mut self, policy: SendPolicy) {
        self.policy = Some(policy);
    }

    /// Sends nothing new once `stop` is requested, and gives an in-flight
    /// transaction the policy's grace time.
    pub fn set_stop(&mut self, stop: Stop) {
        self.stop = stop;
    }

    /// Records fees, limits, rebroadcasts and expiries in `metrics`.
    pub fn set_metrics(&mut self, metrics: Arc<Metrics>) {
        self.metrics = Some(metrics);
    }

    fn count(&self, m: Metric, n: u64) {
        if let Some(metrics) = &self.metrics {
            metrics.add(m, n);
        }
    }

    fn gauge(&self, m: Metric, v: u64) {
        if let Some(metrics) = &self.metrics {
            metrics.set(m, v);
        }
    }

    pub fn commitment(&self) -> CommitmentConfig {
        self.commitment
    }

    pub fn program_id(&self) -> Pubkey {
        self.program_id
    }

    /// `instructions` unsigned (empty signatures: the simulation replaces the
    /// blockhash and skips signature checks, so other signers need not be here).
    fn unsent(&self, instructions: &[Instruction]) -> Result<VersionedTransaction, ChainError> {
        let message = transaction::message(
            &self.signer.pubkey(),
            instructions,
            self.lookup_table(),
            Default::default(),
        )
        .map_err(|e| ChainError(e.to_string()))?;
        transaction::check(&message).map_err(|e| ChainError(e.to_string()))?;
        let signatures = usize::from(message.header().num_required_signatures);
        Ok(VersionedTransaction { signatures: vec![Default::default(); signatures], message })
    }

    /// Sends v0 transactions with the lookup table at `table` from now on
    /// (read at once, and again at each [`Chain::refresh_lookup_table`]).
    pub fn set_lookup_table(&mut self, table: Pubkey) -> Result<LookupTableState, ChainError> {
        self.lookup_table = Some((table, None));
        let state = self.read_lookup_table(&table)?;
        self.lookup_table = Some((table, Some(state.table.clone())));
        Ok(state)
    }

    /// The lookup table in use, as last read.
    pub fn lookup_table(&self) -> Option<&AddressLookupTableAccount> {
        self.lookup_table.as_ref().and_then(|(_, t)| t.as_ref())
    }

    /// Reads and decodes the table at `table`.
    pub fn read_lookup_table(&self, table: &Pubkey) -> Result<LookupTableState, ChainError> {
        let acc = self.client.get_account(table).map_err(|e| rpc_error("getAccountInfo(lookup table)", e))?;
        decode_lookup_table(table, &acc.owner, &acc.data).map_err(|e| ChainError(e.to_string()))
    }

    /// The slot a new lookup table may derive from: the finalized slot,
    /// which every validator has in its recent `SlotHashes`.
    pub fn finalized_slot(&self) -> Result<u64, ChainError> {
        self.client
            .get_slot_with_commitment(CommitmentConfig::finalized())
            .map_err(|e| rpc_error("getSlot(finalized)", e))
    }

    pub fn signer(&self) -> Pubkey {
        self.signer.pubkey()
    }

    /// The cluster's current slot (at the chain's commitment).
    pub fn slot(&self) -> Result<u64, ChainError> {
        self.client.get_slot().map_err(|e| rpc_error("getSlot", e))
    }

    /// Sends `instructions` signed by the keeper's key (fee payer) and
    /// `others`: v0 with the lookup table when set, after the wire checks.
    pub fn send_signed(
        &mut self,
        instructions: &[Instruction],
        others: &[&Keypair],
    ) -> Result<Sent, ChainError> {
        let (blockhash, last_valid_block_height) = self
            .client
            .get_latest_blockhash_with_commitment(self.commitment)
            .map_err(|e| rpc_error("getLatestBlockhash", e))?;
        let others: Vec<&dyn Signer> = others.iter().map(|k| *k as &dyn Signer).collect();
        let tx = transaction::build(&self.signer, &others, instructions, self.lookup_table(), blockhash)
            .map_err(|e| ChainError(e.to_string()))?;
        let wire = transaction::measure(&tx.message);
        let signature = tx.signatures[0].to_string();
        let schedule = self.policy.map_or(DEFAULT_SCHEDULE, |p| p.schedule);
        let mut rpc = RpcBroadcast {
            client: &self.client,
            tx: &tx,
            commitment: self.commitment,
            last_valid_block_height,
            started: Instant::now(),
        };
        let outcome = broadcast(&mut rpc, &schedule, &self.stop);
        self.report(&signature, &outcome, last_valid_block_height);
        match outcome {
            Outcome::Confirmed { .. } => {
                Ok(Sent { signature, compute_units: self.simulated_units.take(), wire: Some(wire) })
            }
            Outcome::Failed { error, .. } => {
                Err(ChainError(format!("transaction {signature} failed: {error}")))
            }
            Outcome::Expired { sends } => Err(ChainError(format!(
                "transaction {signature} expired: sent {sends} times, not landed by block height \
                 {last_valid_block_height} (its blockhash's last valid one)"
            ))),
            Outcome::Abandoned { sends } => Err(ChainError(format!(
                "transaction {signature} abandoned on stop after {sends} sends: it may still land"
            ))),
        }
    }

    /// Counts rebroadcasts and expiries; on a stop, says what became of the transaction.
    fn report(&self, signature: &str, outcome: &Outcome, last_valid_block_height: u64) {
        let sends = match outcome {
            Outcome::Confirmed { sends } | Outcome::Expired { sends } | Outcome::Abandoned { sends } => {
                *sends
            }
            Outcome::Failed { sends, .. } => *sends,
        };
        self.count(Metric::Rebroadcasts, u64::from(sends.saturating_sub(1)));
        match outcome {
            Outcome::Expired { .. } => {
                self.count(Metric::TransactionsExpired, 1);
                tracing::warn!(
                    signature,
                    sends,
                    last_valid_block_height,
                    "expired: the blockhash passed its last valid block height"
                );
            }
            Outcome::Abandoned { .. } => {
                tracing::warn!(
                    signature,
                    sends,
                    "stop: abandoned the in-flight transaction (it may still land)"
                );
            }
            Outcome::Confirmed { .. } | Outcome::Failed { .. } if self.stop.requested() => {
                tracing::info!(signature, sends, "stop: the in-flight transaction finished before stopping");
            }
            _ => {}
        }
    }
}

impl Chain for RpcChain {
    fn unix_time(&mut self) -> Result<i64, ChainError> {
        let clock =
            self.client.get_account(&CLOCK_SYSVAR).map_err(|e| rpc_error("getAccountInfo(clock)", e))?;
        let bytes = clock
            .data
            .get(CLOCK_UNIX_TIMESTAMP_OFFSET..CLOCK_UNIX_TIMESTAMP_OFFSET + 8)
            .ok_or_else(|| ChainError("clock sysvar too short".into()))?;
        Ok(i64::from_le_bytes(bytes.try_into().expect("8 bytes")))
    }

    fn program_accounts(&mut self, filter: &ScanFilter) -> Result<Vec<(Pubkey, Vec<u8>)>, ChainError> {
        Ok(self.program_accounts_at(filter)?.1)
    }

    fn program_accounts_at(&mut self, filter: &ScanFilter) -> Result<(u64, ProgramAccounts), ChainError> {
        let config = RpcProgramAccountsConfig {
            with_context: Some(true),
            ..program_accounts_config(filter, self.commitment)
        };
        let answer: OptionalContext<Vec<RpcKeyedAccount>> = self
            .client
            .send(RpcRequest::GetProgramAccounts, serde_json::json!([self.program_id.to_string(), config]))
            .map_err(|e| rpc_error("getProgramAccounts", e))?;
        let (slot, accounts) = match answer {
            OptionalContext::Context(r) => (r.context.slot, r.value),
            OptionalContext::NoContext(v) => (0, v),
        };
        let decoded = accounts
            .into_iter()
            .map(|keyed| {
                let key = keyed
                    .pubkey
                    .parse::<Pubkey>()
                    .map_err(|e| ChainError(format!("account {}: {e}", keyed.pubkey)))?;
                let data = keyed
                    .account
                    .data
                    .decode()
                    .ok_or_else(|| ChainError(format!("undecodable account {key}")))?;
                Ok((key, data))
            })
            .collect::<Result<Vec<_>, ChainError>>()?;
        Ok((slot, decoded))
    }

    fn accounts(&mut self, keys: &[Pubkey]) -> Result<Vec<Option<Fetched>>, ChainError> {
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(MAX_MULTIPLE_ACCOUNTS) {
            let got = self
                .client
                .get_multiple_accounts_with_commitment(chunk, self.commitment)
                .map_err(|e| rpc_error("getMultipleAccounts", e))?
                .value;
            out.extend(got.into_iter().map(|a| a.map(|a| Fetched { owner: a.owner, data: a.data })));
        }
        Ok(out)
    }

    fn send(&mut self, instructions: &[Instruction]) -> Result<Sent, ChainError> {
        self.send_signed(instructions, &[])
    }

    fn budget(&mut self, instructions: &[Instruction], fixed: Budget) -> Result<Budget, ChainError> {
        let Some(policy) = self.policy else {
            return Ok(fixed);
        };
        let simulate =
            || simulate_units(&self.client, self.commitment, &|ixs| self.unsent(ixs), instructions);
        let (compute_unit_limit, units) = choose_limit(policy.limit, simulate, fixed.compute_unit_limit)?;
        let micro_lamports = choose_fee(&self.client, policy.fee, instructions, &self.signer.pubkey())?;
        self.simulated_units = units;
        self.gauge(Metric::ComputeUnitLimit, u64::from(compute_unit_limit));
        self.gauge(Metric::PriorityFee, micro_lamports);
        tracing::debug!(compute_unit_limit, micro_lamports, simulated = units, "budget");
        Ok(Budget { compute_unit_limit, micro_lamports })
    }

    fn stopping(&self) -> bool {
        self.stop.requested()
    }

    fn refresh_lookup_table(&mut self) -> Result<(), ChainError> {
        if let Some((table, _)) = self.lookup_table {
            let state = self.read_lookup_table(&table)?;
            self.lookup_table = Some((table, Some(state.table)));
        }
        Ok(())
    }
}
