//! The CLI's [`Cluster`] over JSON-RPC: reads and confirmations at the
//! `--commitment` in force, `getProgramAccounts` under the `--program-id`,
//! transactions v0 through the lookup table when one is set (legacy
//! otherwise), measured before sending (1,232 bytes, 64 accounts), a
//! program error named (`xmargin_client::errors`).
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_account_decoder_client_types::UiAccountEncoding;
use solana_commitment_config::CommitmentConfig;
use solana_keypair::{Keypair, Signer};
use solana_rpc_client::rpc_client::RpcClient;
use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig};
use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};
use xmargin_client::accounts::ScanFilter;
use xmargin_client::errors::{describe_transaction_error, name_custom_errors};
use xmargin_client::lookup_table::{decode_lookup_table, AddressLookupTableAccount};
use xmargin_client::transaction;
use xmargin_keeper::chain::{Chain, ChainError, Fetched, Sent};

use crate::rpc::Cluster;
use crate::settings::Commitment;

const MAX_MULTIPLE_ACCOUNTS: usize = 100;
const CLOCK_SYSVAR: Pubkey = anchor_lang::prelude::pubkey!("SysvarC1ock11111111111111111111111111111111");
const CLOCK_UNIX_TIMESTAMP_OFFSET: usize = 32;

pub struct RpcCluster {
    client: RpcClient,
    signer: Keypair,
    program_id: Pubkey,
    commitment: CommitmentConfig,
    lookup_table: Option<AddressLookupTableAccount>,
}

fn rpc_error(what: &str, e: impl std::fmt::Display) -> ChainError {
    ChainError(format!("{what}: {}", name_custom_errors(&e.to_string())))
}

fn send_error(e: &solana_rpc_client_api::client_error::Error) -> ChainError {
    match e.get_transaction_error() {
        Some(tx) => ChainError(format!(
            "sendTransaction: {} ({})",
            describe_transaction_error(&tx),
            name_custom_errors(&e.to_string())
        )),
        None => rpc_error("sendTransaction", e),
    }
}

pub fn commitment_config(c: Commitment) -> CommitmentConfig {
    match c {
        Commitment::Processed => CommitmentConfig::processed(),
        Commitment::Confirmed => CommitmentConfig::confirmed(),
        Commitment::Finalized => CommitmentConfig::finalized(),
    }
}

impl RpcCluster {
    pub fn new(url: &str, signer: Keypair, commitment: Commitment, program_id: Pubkey) -> RpcCluster {
        let commitment = commitment_config(commitment);
        let client =
            RpcClient::new_with_timeout_and_commitment(url.to_string(), Duration::from_secs(30), commitment);
        RpcCluster { client, signer, program_id, commitment, lookup_table: None }
    }

    fn scan_config(&self, filter: &ScanFilter) -> RpcProgramAccountsConfig {
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
                commitment: Some(self.commitment),
                ..RpcAccountInfoConfig::default()
            },
            ..RpcProgramAccountsConfig::default()
        }
    }
}

impl Chain for RpcCluster {
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
        let accounts = self
            .client
            .get_program_ui_accounts_with_config(&self.program_id, self.scan_config(filter))
            .map_err(|e| rpc_error("getProgramAccounts", e))?;
        accounts
            .into_iter()
            .map(|(key, ui)| {
                let data =
                    ui.data.decode().ok_or_else(|| ChainError(format!("undecodable account {key}")))?;
                Ok((key, data))
            })
            .collect()
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
        let signature = Cluster::send_signed(self, instructions, &[]).map_err(ChainError)?;
        Ok(Sent { signature, compute_units: None, wire: None })
    }
}

impl Cluster for RpcCluster {
    fn slot(&mut self) -> Result<u64, String> {
        self.client.get_slot().map_err(|e| rpc_error("getSlot", e).0)
    }

    fn send_signed(&mut self, ixs: &[Instruction], others: &[&Keypair]) -> Result<String, String> {
        let blockhash =
            self.client.get_latest_blockhash().map_err(|e| rpc_error("getLatestBlockhash", e).0)?;
        let others: Vec<&dyn Signer> = others.iter().map(|k| *k as &dyn Signer).collect();
        let tx = transaction::build(&self.signer, &others, ixs, self.lookup_table.as_ref(), blockhash)
            .map_err(|e| e.to_string())?;
        let signature = self.client.send_and_confirm_transaction(&tx).map_err(|e| send_error(&e).0)?;
        Ok(signature.to_string())
    }

    fn lookup_table_slot(&mut self) -> Result<u64, String> {
        self.client
            .get_slot_with_commitment(CommitmentConfig::finalized())
            .map_err(|e| rpc_error("getSlot(finalized)", e).0)
    }

    fn set_lookup_table(&mut self, table: &Pubkey) -> Result<(), String> {
        let acc =
            self.client.get_account(table).map_err(|e| rpc_error("getAccountInfo(lookup table)", e).0)?;
        let state = decode_lookup_table(table, &acc.owner, &acc.data).map_err(|e| e.to_string())?;
        self.lookup_table = Some(state.table);
        Ok(())
    }
}
