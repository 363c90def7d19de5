//! What the commands share: the [`Cluster`] they run against (JSON-RPC:
//! the keeper's [`RpcChain`] at `--commitment` under `--program-id`; the
//! embedded SVM in the tests) and [`Ctx`]: the signer, the program target
//! (`--program-id`, `crate::program_id`), the compute budget
//! (`crate::compute_budget`) and the output (`--output`, `crate::output`).
//! With `--lookup-table T` every transaction is a v0 message through the
//! table, without it a legacy one. Either way a transaction over 1,232
//! bytes or 64 accounts is refused before it is sent, it is rebroadcast
//! until it lands or its blockhash expires (`xmargin_keeper::broadcast`),
//! and a program error is printed by name (`xmargin_client::errors`).
use std::collections::BTreeMap;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_keypair::{read_keypair_file, Keypair, Signer};
use xmargin::state::{Group, MarginAccount};
use xmargin_client::accounts::decode;
use xmargin_client::health::{BankEntry, MarketEntry};
use xmargin_keeper::rpc::{RpcChain, RpcOptions};
use xmargin_keeper::Chain;

use crate::compute_budget::BudgetFlags;
use crate::output::Output;
use crate::program_id::ProgramTarget;
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

impl Cluster for RpcChain {
    fn slot(&mut self) -> Result<u64, String> {
        RpcChain::slot(self).map_err(|e| e.0)
    }

    fn send_signed(&mut self, ixs: &[Instruction], others: &[&Keypair]) -> Result<String, String> {
        RpcChain::send_signed(self, ixs, others).map(|sent| sent.signature).map_err(|e| e.0)
    }

    fn lookup_table_slot(&mut self) -> Result<u64, String> {
        self.finalized_slot().map_err(|e| e.0)
    }

    fn set_lookup_table(&mut self, table: &Pubkey) -> Result<(), String> {
        RpcChain::set_lookup_table(self, *table).map(|_| ()).map_err(|e| e.0)
    }
}

pub struct Ctx<C: Cluster = RpcChain> {
    pub chain: C,
    /// The signer and fee payer (`--keypair`).
    pub signer: Keypair,
    pub me: Pubkey,
    /// The program addressed (`--program-id`).
    pub program: ProgramTarget,
    /// `--compute-unit-limit`, `--with-compute-unit-price`.
    pub budget: BudgetFlags,
    pub out: Output,
}

/// Reads a keypair file (`~/` expanded).
pub fn read_keypair(path: &str) -> Result<Keypair, String> {
    let expanded = crate::settings::expand_tilde(path, &crate::settings::home_dir());
    read_keypair_file(&expanded).map_err(|e| format!("keypair {}: {e}", expanded.display()))
}

/// A context on the cluster of `settings`, without a lookup table yet.
pub fn connect(
    settings: &Settings,
    program: ProgramTarget,
    budget: BudgetFlags,
    out: Output,
) -> Result<Ctx, String> {
    let signer = read_keypair(&settings.keypair.display().to_string())?;
    let options = RpcOptions {
        commitment: settings.commitment.config(),
        program_id: program.id,
        ..RpcOptions::default()
    };
    let mut chain = RpcChain::with_options(&settings.url, signer.insecure_clone(), options);
    chain.set_send_policy(budget.policy());
    Ok(Ctx::new(chain, signer, program, out).with_budget(budget))
}

impl<C: Cluster> Ctx<C> {
    pub fn new(chain: C, signer: Keypair, program: ProgramTarget, out: Output) -> Self {
        let me = signer.pubkey();
        Ctx { chain, signer, me, program, budget: BudgetFlags::default(), out }
    }

    pub fn with_budget(mut self, budget: BudgetFlags) -> Self {
        self.budget = budget;
        self
    }

    pub fn send(&mut self, label: &str, ix: Instruction) -> Result<(), String> {
        self.send_all(label, &[ix], &[])
    }

    /// Sends `ixs` in one transaction after its compute budget
    /// (`crate::compute_budget`), signed by `--keypair` and `others`.
    pub fn send_all(&mut self, label: &str, ixs: &[Instruction], others: &[&Keypair]) -> Result<(), String> {
        let ixs: Vec<Instruction> = ixs.iter().map(|ix| self.program.retarget(ix.clone())).collect();
        let budget = self.chain.budget(&ixs, self.budget.fixed()).map_err(|e| format!("{label}: {e}"))?;
        let mut tx = self.budget.instructions(budget);
        tx.extend(ixs);
        let signature = self.chain.send_signed(&tx, others).map_err(|e| format!("{label}: {e}"))?;
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
