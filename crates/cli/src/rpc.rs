//! What the commands share: the [`Cluster`] they run against (JSON-RPC,
//! `crate::rpc_cluster`; the embedded SVM in the tests) and [`Ctx`]: the
//! signer, the program target (`--program-id`, `crate::program_id`) and the
//! output (`--output`, `crate::output`). With `--lookup-table T` every
//! transaction is a v0 message through the table, without it a legacy one.
//! Either way a transaction over 1,232 bytes or 64 accounts is refused
//! before it is sent, and a program error is printed by name
//! (`xmargin_client::errors`).
use std::collections::BTreeMap;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_keypair::{read_keypair_file, Keypair, Signer};
use xmargin::state::{Group, MarginAccount};
use xmargin_client::accounts::decode;
use xmargin_client::health::{BankEntry, MarketEntry};
use xmargin_keeper::Chain;

use crate::output::Output;
use crate::program_id::ProgramTarget;
use crate::rpc_cluster::RpcCluster;
use crate::settings::Settings;

/// What the commands need from a cluster beyond the keeper's [`Chain`]: the
/// slot, and transactions with more signers. JSON-RPC here; the embedded
/// SVM in the CLI's tests.
pub trait Cluster: Chain {
    fn slot(&mut self) -> Result<u64, String>;
    /// Sends `ixs` signed by the cluster's key (fee payer) and `others`
    /// (v0 with the lookup table when set); returns the signature.
    fn send_signed(&mut self, ixs: &[Instruction], others: &[&Keypair]) -> Result<String, String>;
    /// A slot a new lookup table may derive from (in the recent `SlotHashes`).
    fn lookup_table_slot(&mut self) -> Result<u64, String>;
    /// Sends v0 transactions through the lookup table at `table` from now on.
    fn set_lookup_table(&mut self, table: &Pubkey) -> Result<(), String>;
}

pub struct Ctx<C: Cluster = RpcCluster> {
    pub chain: C,
    /// The signer and fee payer (`--keypair`).
    pub signer: Keypair,
    pub me: Pubkey,
    /// The program addressed (`--program-id`).
    pub program: ProgramTarget,
    pub out: Output,
}

/// Reads a keypair file (`~/` expanded).
pub fn read_keypair(path: &str) -> Result<Keypair, String> {
    let expanded = crate::settings::expand_tilde(path, &crate::settings::home_dir());
    read_keypair_file(&expanded).map_err(|e| format!("keypair {}: {e}", expanded.display()))
}

/// A context on the cluster of `settings`, without a lookup table yet.
pub fn connect(settings: &Settings, program: ProgramTarget, out: Output) -> Result<Ctx, String> {
    let signer = read_keypair(&settings.keypair.display().to_string())?;
    let chain = RpcCluster::new(&settings.url, signer.insecure_clone(), settings.commitment, program.id);
    Ok(Ctx::new(chain, signer, program, out))
}

impl<C: Cluster> Ctx<C> {
    pub fn new(chain: C, signer: Keypair, program: ProgramTarget, out: Output) -> Self {
        let me = signer.pubkey();
        Ctx { chain, signer, me, program, out }
    }

    pub fn send(&mut self, label: &str, ix: Instruction) -> Result<(), String> {
        self.send_all(label, &[ix], &[])
    }

    /// Sends `ixs` in one transaction, signed by `--keypair` and `others`.
    pub fn send_all(&mut self, label: &str, ixs: &[Instruction], others: &[&Keypair]) -> Result<(), String> {
        let ixs: Vec<Instruction> = ixs.iter().map(|ix| self.program.retarget(ix.clone())).collect();
        let signature = self.chain.send_signed(&ixs, others).map_err(|e| format!("{label}: {e}"))?;
        self.out.sent(label, &signature);
        Ok(())
    }

    pub fn group(&mut self, group: &Pubkey) -> Result<Group, String> {
        let got = self.chain.accounts(&[*group]).map_err(|e| e.to_string())?.pop().flatten();
        decode::<Group>(&got.ok_or_else(|| format!("group {group} not found"))?.data)
            .map_err(|e| e.to_string())
    }

    pub fn account(&mut self, key: &Pubkey) -> Result<MarginAccount, String> {
        let got = self.chain.accounts(&[*key]).map_err(|e| e.to_string())?.pop().flatten();
        decode::<MarginAccount>(&got.ok_or_else(|| format!("margin account {key} not found"))?.data)
            .map_err(|e| e.to_string())
    }

    pub fn banks(&mut self, group: &Pubkey) -> Result<BTreeMap<u16, BankEntry>, String> {
        let filter = xmargin_client::accounts::scan_filter::<xmargin::state::Bank>(group);
        let mut banks = BTreeMap::new();
        for (address, data) in self.chain.program_accounts(&filter).map_err(|e| e.to_string())? {
            let bank: xmargin::state::Bank = decode(&data).map_err(|e| e.to_string())?;
            banks.insert(bank.token_index, BankEntry { address, bank });
        }
        Ok(banks)
    }

    pub fn markets(&mut self, group: &Pubkey) -> Result<BTreeMap<u16, MarketEntry>, String> {
        let filter = xmargin_client::accounts::scan_filter::<xmargin::state::Market>(group);
        let mut markets = BTreeMap::new();
        for (address, data) in self.chain.program_accounts(&filter).map_err(|e| e.to_string())? {
            let market: xmargin::state::Market = decode(&data).map_err(|e| e.to_string())?;
            markets.insert(market.market_index, MarketEntry { address, market });
        }
        Ok(markets)
    }
}
