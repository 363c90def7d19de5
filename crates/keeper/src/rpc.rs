//! [`Chain`] over a cluster's JSON-RPC API (the Solana Rust RPC client, blocking).
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
use solana_transaction::Transaction;
use xmargin_client::accounts::ScanFilter;

use crate::chain::{Chain, ChainError, Fetched, Sent};

/// `getMultipleAccounts` takes at most 100 keys per call.
const MAX_MULTIPLE_ACCOUNTS: usize = 100;
/// Offset of `unix_timestamp` in the Clock sysvar.
const CLOCK_UNIX_TIMESTAMP_OFFSET: usize = 32;
const CLOCK_SYSVAR: Pubkey = anchor_lang::prelude::pubkey!("SysvarC1ock11111111111111111111111111111111");

pub struct RpcChain {
    client: RpcClient,
    signer: Keypair,
}

fn rpc_error(what: &str, e: impl std::fmt::Display) -> ChainError {
    ChainError(format!("{what}: {e}"))
}

impl RpcChain {
    /// A chain at `url` (confirmed commitment) signing with `signer`.
    pub fn new(url: &str, signer: Keypair, timeout: Duration) -> RpcChain {
        let client = RpcClient::new_with_timeout_and_commitment(
            url.to_string(),
            timeout,
            CommitmentConfig::confirmed(),
        );
        RpcChain { client, signer }
    }

    pub fn signer(&self) -> Pubkey {
        self.signer.pubkey()
    }

    /// The cluster's current slot (confirmed).
    pub fn slot(&self) -> Result<u64, ChainError> {
        self.client.get_slot().map_err(|e| rpc_error("getSlot", e))
    }

    /// Sends `instructions` signed by the keeper's key (fee payer) and `others`.
    pub fn send_signed(
        &mut self,
        instructions: &[Instruction],
        others: &[&Keypair],
    ) -> Result<Sent, ChainError> {
        let blockhash = self.client.get_latest_blockhash().map_err(|e| rpc_error("getLatestBlockhash", e))?;
        let mut signers: Vec<&Keypair> = vec![&self.signer];
        signers.extend(others.iter().copied().filter(|k| k.pubkey() != self.signer.pubkey()));
        let tx = Transaction::new_signed_with_payer(
            instructions,
            Some(&self.signer.pubkey()),
            &signers,
            blockhash,
        );
        let signature =
            self.client.send_and_confirm_transaction(&tx).map_err(|e| rpc_error("sendTransaction", e))?;
        Ok(Sent { signature: signature.to_string(), compute_units: None })
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
}
