//! [`Chain`] over a cluster's JSON-RPC API (the Solana Rust RPC client, blocking).
//!
//! Transactions are v0 messages with the group's address lookup table when
//! one is set ([`RpcChain::set_lookup_table`], the keeper's and the CLI's
//! `--lookup-table`), legacy ones otherwise; either is checked against the
//! packet size and the account-lock limit before it is sent, and a program
//! error comes back by name.
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_account_decoder_client_types::UiAccountEncoding;
use solana_commitment_config::CommitmentConfig;
use solana_keypair::Keypair;
use solana_rpc_client::rpc_client::RpcClient;
use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig};
use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};
use solana_signer::Signer;
use xmargin_client::accounts::ScanFilter;
use xmargin_client::errors::{describe_transaction_error, name_custom_errors};
use xmargin_client::lookup_table::{decode_lookup_table, AddressLookupTableAccount, LookupTableState};
use xmargin_client::transaction;

use crate::chain::{Chain, ChainError, Fetched, Sent};

/// `getMultipleAccounts` takes at most 100 keys per call.
const MAX_MULTIPLE_ACCOUNTS: usize = 100;
/// Offset of `unix_timestamp` in the Clock sysvar.
const CLOCK_UNIX_TIMESTAMP_OFFSET: usize = 32;
const CLOCK_SYSVAR: Pubkey = anchor_lang::prelude::pubkey!("SysvarC1ock11111111111111111111111111111111");

pub struct RpcChain {
    client: RpcClient,
    signer: Keypair,
    /// The lookup table's address, and its addresses as last read.
    lookup_table: Option<(Pubkey, Option<AddressLookupTableAccount>)>,
}

fn rpc_error(what: &str, e: impl std::fmt::Display) -> ChainError {
    ChainError(format!("{what}: {}", name_custom_errors(&e.to_string())))
}

/// A failed send: the program's error by name first, then the RPC's words.
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

impl RpcChain {
    /// A chain at `url` (confirmed commitment) signing with `signer`.
    pub fn new(url: &str, signer: Keypair, timeout: Duration) -> RpcChain {
        let client = RpcClient::new_with_timeout_and_commitment(
            url.to_string(),
            timeout,
            CommitmentConfig::confirmed(),
        );
        RpcChain { client, signer, lookup_table: None }
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

    /// The cluster's current slot (confirmed).
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
        let blockhash = self.client.get_latest_blockhash().map_err(|e| rpc_error("getLatestBlockhash", e))?;
        let others: Vec<&dyn Signer> = others.iter().map(|k| *k as &dyn Signer).collect();
        let tx = transaction::build(&self.signer, &others, instructions, self.lookup_table(), blockhash)
            .map_err(|e| ChainError(e.to_string()))?;
        let wire = transaction::measure(&tx.message);
        let signature = self.client.send_and_confirm_transaction(&tx).map_err(|e| send_error(&e))?;
        Ok(Sent { signature: signature.to_string(), compute_units: None, wire: Some(wire) })
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
        let mut filters = vec![RpcFilterType::DataSize(filter.data_size)];
        filters.extend(
            filter
                .memcmp
                .iter()
                .map(|(offset, bytes)| RpcFilterType::Memcmp(Memcmp::new_raw_bytes(*offset, bytes.clone()))),
        );
        let config = RpcProgramAccountsConfig {
            filters: Some(filters),
            account_config: RpcAccountInfoConfig {
                encoding: Some(UiAccountEncoding::Base64),
                commitment: Some(CommitmentConfig::confirmed()),
                ..RpcAccountInfoConfig::default()
            },
            ..RpcProgramAccountsConfig::default()
        };
        let accounts = self
            .client
            .get_program_ui_accounts_with_config(&xmargin::ID, config)
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
            let got =
                self.client.get_multiple_accounts(chunk).map_err(|e| rpc_error("getMultipleAccounts", e))?;
            out.extend(got.into_iter().map(|a| a.map(|a| Fetched { owner: a.owner, data: a.data })));
        }
        Ok(out)
    }

    fn send(&mut self, instructions: &[Instruction]) -> Result<Sent, ChainError> {
        self.send_signed(instructions, &[])
    }

    fn refresh_lookup_table(&mut self) -> Result<(), ChainError> {
        if let Some((table, _)) = self.lookup_table {
            let state = self.read_lookup_table(&table)?;
            self.lookup_table = Some((table, Some(state.table)));
        }
        Ok(())
    }
}
