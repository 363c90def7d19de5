//! `--program-id` cannot silently miss a PDA: every client builder that
//! derives a PDA itself (found in the client's source, so a new one fails
//! here until it is classified) is either run through the CLI command that
//! uses it with another program id, with no built-in-id PDA left in what
//! would be sent, or shown not to be called by the CLI at all.
use std::collections::BTreeSet;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use clap::Parser;
use xmargin::state::{
    ACCOUNT_SEED, BANK_MINT_SEED, BANK_SEED, BANK_VAULT_SEED, GROUP_SEED, INSURANCE_VAULT_SEED, MARKET_SEED,
};
use xmargin_client::accounts::ScanFilter;
use xmargin_keeper::chain::{Chain, ChainError, Fetched, Sent};
use xmargin_keeper::svm::SvmChain;
use xmargin_test_support::world::World;
use xmargin_test_support::{Keypair, Signer};

use crate::cli::Cli;
use crate::output::Output;
use crate::program_id::ProgramTarget;
use crate::rpc::{Cluster, Ctx};

/// Reads from the world's VM; records what would be sent instead of
/// sending, and what was read (on a real cluster under `--program-id`
/// those are the target's addresses already).
struct Recording<'a> {
    inner: SvmChain<'a>,
    sent: Vec<Instruction>,
    read: BTreeSet<Pubkey>,
}

impl Chain for Recording<'_> {
    fn unix_time(&mut self) -> Result<i64, ChainError> {
        self.inner.unix_time()
    }
    fn program_accounts(&mut self, filter: &ScanFilter) -> Result<Vec<(Pubkey, Vec<u8>)>, ChainError> {
        let got = self.inner.program_accounts(filter)?;
        self.read.extend(got.iter().map(|(k, _)| *k));
        Ok(got)
    }
    fn accounts(&mut self, keys: &[Pubkey]) -> Result<Vec<Option<Fetched>>, ChainError> {
        self.read.extend(keys);
        self.inner.accounts(keys)
    }
    fn send(&mut self, ixs: &[Instruction]) -> Result<Sent, ChainError> {
        self.sent.extend_from_slice(ixs);
        Ok(Sent { signature: "recorded".into(), compute_units: None, wire: None })
    }
}

impl Cluster for Recording<'_> {
    fn slot(&mut self) -> Result<u64, String> {
        Ok(self.inner.env.clock().slot)
    }
    fn send_signed(&mut self, ixs: &[Instruction], _: &[&Keypair]) -> Result<String, String> {
        self.sent.extend_from_slice(ixs);
        Ok("recorded".into())
    }
    fn lookup_table_slot(&mut self) -> Result<u64, String> {
        Ok(self.inner.env.lookup_table_slot())
    }
    fn set_lookup_table(&mut self, _: &Pubkey) -> Result<(), String> {
        Ok(())
    }
}

/// The instructions `xmargin <line> --program-id OTHER` would send, as
/// `who`, and the addresses the command read.
fn sent_under(
    w: &mut World,
    who: &Keypair,
    other: &Pubkey,
    line: &str,
) -> (Vec<Instruction>, BTreeSet<Pubkey>) {
    let line = format!("{line} --program-id {other}");
    let cli = Cli::try_parse_from(std::iter::once("xmargin").chain(line.split_whitespace())).unwrap();
    let out = Output::new(cli.global.output, &cli.command.name());
    let chain =
        Recording { inner: SvmChain { env: &mut w.env, signer: who }, sent: vec![], read: BTreeSet::new() };
    let mut ctx = Ctx::new(chain, who.insecure_clone(), ProgramTarget::new(*other), out);
    crate::commands::execute(&mut ctx, cli.command, None).unwrap_or_else(|e| panic!("{line}: {e}"));
    (ctx.chain.sent, ctx.chain.read)
}

/// Every built-in-id PDA of the world's group a builder could derive: the
/// group's insurance vault, banks 0..8 with their vaults and mint markers,
/// markets 0..8, accounts 0..8 of `owners`, groups 0..8 of `owners` (but
/// the world's own group, which the commands are given as the target's).
fn builtin_pdas(w: &World, owners: &[Pubkey], mints: &[Pubkey]) -> BTreeSet<Pubkey> {
    let pda = |seeds: &[&[u8]]| Pubkey::find_program_address(seeds, &xmargin::ID).0;
    let g = w.group.group;
    let mut out = BTreeSet::from([pda(&[INSURANCE_VAULT_SEED, g.as_ref()])]);
    for i in 0u16..8 {
        let bank = pda(&[BANK_SEED, g.as_ref(), &i.to_le_bytes()]);
        out.extend([bank, pda(&[BANK_VAULT_SEED, bank.as_ref()])]);
        out.insert(pda(&[MARKET_SEED, g.as_ref(), &i.to_le_bytes()]));
    }
    for mint in mints {
        out.insert(pda(&[BANK_MINT_SEED, g.as_ref(), mint.as_ref()]));
    }
    for owner in owners {
        for n in 0u32..8 {
            out.insert(pda(&[ACCOUNT_SEED, g.as_ref(), owner.as_ref(), &n.to_le_bytes()]));
            let group = pda(&[GROUP_SEED, owner.as_ref(), &n.to_le_bytes()]);
            out.extend([group, pda(&[INSURANCE_VAULT_SEED, group.as_ref()])]);
        }
    }
    // The group the command is given (`--group`) is the target's by definition.
    out.remove(&g);
    out
}

/// The `pub fn` builders of a client source that derive a PDA themselves (`pda::`).
fn deriving_builders(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in src.split("pub fn ").skip(1) {
        let name: String = part.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        // The body runs until the next `pub fn` (or the tests).
        let body = part.split("#[cfg(test)]").next().unwrap_or(part);
        if body.contains("pda::") {
            out.push(name);
        }
    }
    out
}

/// The CLI's sources outside its tests.
fn cli_sources() -> String {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
    let mut all = String::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with("_tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        all.push_str(text.split("#[cfg(test)]\nmod tests").next().unwrap());
    }
    all
}

#[test]
fn every_builder_pda_is_retargeted_or_unused_by_the_cli() {
    let instructions = include_str!("../../client/src/instructions.rs");
    let markets = include_str!("../../client/src/market_instructions.rs");
    let mut deriving = deriving_builders(instructions);
    deriving.extend(deriving_builders(markets));
    // `new` is BankKeys::new / MarketKeys::new.
    let run_by_a_command =
        ["create_group", "add_bank", "update_bank", "create_account", "add_market", "add_option_market"];
    let not_in_the_cli =
        ["new", "resolve_bankruptcy", "resolve_bankruptcy_with_liquidator", "liquidate_position"];
    for name in &deriving {
        assert!(
            run_by_a_command.contains(&name.as_str()) || not_in_the_cli.contains(&name.as_str()),
            "the client builder `{name}` derives a PDA: cover its CLI command in this test, or list it as unused"
        );
    }
    let cli = cli_sources();
    for name in not_in_the_cli {
        let call = if name == "new" { "Keys::new(".to_string() } else { format!("ixs::{name}(") };
        assert!(!cli.contains(&call), "the CLI now calls `{call}`: cover it under --program-id");
    }

    let mut w = World::new();
    let admin = w.admin.insecure_clone();
    let other = Pubkey::new_unique();
    let g = w.group.group;
    let mints: Vec<Pubkey> = w.banks.iter().map(|b| b.mint).collect();
    let entry = crate::bank_config::shipped_entries().remove(0);
    let bank_file = std::env::temp_dir().join(format!("xmargin-program-id-{}.json", std::process::id()));
    let config: serde_json::Value =
        serde_json::from_str(include_str!("../../../migrations/config.json")).unwrap();
    std::fs::write(&bank_file, config["banks"][0].to_string()).unwrap();
    let new_mint = entry.mint().unwrap();
    let target = |seeds: &[&[u8]]| Pubkey::find_program_address(seeds, &other).0;
    let me = admin.pubkey();
    let other_group = target(&[GROUP_SEED, me.as_ref(), &3u32.to_le_bytes()]);
    let new_bank = target(&[BANK_SEED, g.as_ref(), &3u16.to_le_bytes()]);
    // Each command line, and the PDAs its builder derives, as the target's.
    let lines = [
        (
            "create_group",
            format!("create-group --quote-mint {} --group-num 3", mints[0]),
            vec![other_group, target(&[INSURANCE_VAULT_SEED, other_group.as_ref()])],
        ),
        (
            "add_bank",
            format!("add-bank --group {g} --bank-config {}", bank_file.display()),
            vec![
                new_bank,
                target(&[BANK_VAULT_SEED, new_bank.as_ref()]),
                target(&[BANK_MINT_SEED, g.as_ref(), new_mint.as_ref()]),
            ],
        ),
        (
            "update_bank",
            format!("update-bank --group {g} --token-index 1 --deposit-cap 5"),
            vec![target(&[BANK_SEED, g.as_ref(), &1u16.to_le_bytes()])],
        ),
        (
            "create_account",
            format!("create-account --group {g} --account-num 2"),
            vec![target(&[ACCOUNT_SEED, g.as_ref(), me.as_ref(), &2u32.to_le_bytes()])],
        ),
        (
            "add_market",
            format!(
                "add-market --group {g} --market-config {}/configs/sol-perp.json",
                env!("CARGO_MANIFEST_DIR")
            ),
            vec![target(&[MARKET_SEED, g.as_ref(), &0u16.to_le_bytes()])],
        ),
        (
            "add_option_market",
            format!(
                "add-option-series --group {g} --series-config {}/configs/sol-options.json --strikes 1650000 \
                 --expiries {} --kinds call --no-risk-arrays",
                env!("CARGO_MANIFEST_DIR"),
                w.env.unix_time() + 30 * 86_400
            ),
            vec![target(&[MARKET_SEED, g.as_ref(), &0u16.to_le_bytes()])],
        ),
    ];
    let mut all_mints = mints.clone();
    all_mints.push(new_mint);
    let builtin = builtin_pdas(&w, &[me], &all_mints);
    for (builder, line, derived) in &lines {
        let (sent, read) = sent_under(&mut w, &admin, &other, line);
        let ours: Vec<&Instruction> = sent.iter().filter(|ix| ix.program_id == other).collect();
        assert_eq!(ours.len(), 1, "{line}: one xmargin instruction, under the other id");
        assert!(sent.iter().all(|ix| ix.program_id != xmargin::ID), "{line}: no built-in program id");
        let keys: Vec<Pubkey> = ours[0].accounts.iter().map(|m| m.pubkey).collect();
        for pda in derived {
            assert!(keys.contains(pda), "{line} ({builder}): the target's PDA {pda} is missing");
        }
        for key in keys.iter().filter(|k| !read.contains(k)) {
            assert!(!builtin.contains(key), "{line} ({builder}): built-in PDA {key} left");
        }
    }
    let covered: Vec<&str> = lines.iter().map(|(b, _, _)| *b).collect();
    assert_eq!(covered, run_by_a_command, "each builder run by a command is run here");
    std::fs::remove_file(bank_file).ok();
}
