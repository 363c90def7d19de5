//! Admin and user commands against a cluster's JSON-RPC (through the keeper's
//! `RpcChain`), with the client crate's builders and off-chain health.
//!
//! Every command takes `--rpc-url` (default http://127.0.0.1:8899) and
//! `--keypair` (default ~/.config/solana/id.json): the signer and fee payer;
//! and `--lookup-table T`, the group's address lookup table
//! (`create-lookup-table`, [`crate::lookup`]): with it every transaction is
//! a v0 message through the table, without it a legacy one. Either way a
//! transaction over 1,232 bytes or 64 accounts is refused before it is sent,
//! and a program error is printed by name (`xmargin_client::errors`).
use std::collections::BTreeMap;
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use serde::Deserialize;
use solana_keypair::{read_keypair_file, Keypair, Signer};
use xmargin::instructions::{AddBankArgs, BankInterestArgs, BankOracleArgs, BankRiskArgs, CreateGroupArgs};
use xmargin::state::{Group, MarginAccount};
use xmargin_client::accounts::decode;
use xmargin_client::health::{health_metas_with_markets, BankEntry, MarketEntry};
use xmargin_client::instructions::{self as ixs, BankKeys};
use xmargin_client::pda;
use xmargin_keeper::rpc::RpcChain;
use xmargin_keeper::Chain;

use crate::args::Args;

pub const USAGE: &str = "\
ADMIN:
    xmargin create-group   --quote-mint M [--group-num N] [--loosen-delay-secs S] [--admin A]
    xmargin add-bank       --group G --bank-config FILE.json   (one entry of migrations/config.json)
    xmargin set-pause      --group G --flags N   (1 deposits, 2 withdrawals, 4 liquidations, 8 trading)
USER:
    xmargin create-account --group G [--account-num N]
    xmargin deposit        --group G --token-index I --amount NATIVE --token-account T [--account-num N]
    xmargin repay          --group G --token-index I --amount NATIVE --token-account T [--account-num N]
    xmargin withdraw       --group G --token-index I --amount NATIVE --token-account T [--account-num N]
    xmargin set-delegate   --group G --delegate D [--account-num N]
    xmargin close-account  --group G [--account-num N]
ANYONE:
    xmargin accrue-interest --group G --token-index I
    xmargin show           --group G    (banks, markets, every account ranked by health, positions)";

pub const COMMON: &str =
    "Common: --rpc-url URL (http://127.0.0.1:8899), --keypair FILE (~/.config/solana/id.json),
        --lookup-table T (the group's table from create-lookup-table: v0 transactions; needed
        past about 13 positions, where a legacy transaction is over the 1,232-byte limit).";

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
        RpcChain::slot(self).map_err(|e| e.to_string())
    }

    fn send_signed(&mut self, ixs: &[Instruction], others: &[&Keypair]) -> Result<String, String> {
        RpcChain::send_signed(self, ixs, others).map(|s| s.signature).map_err(|e| e.to_string())
    }

    fn lookup_table_slot(&mut self) -> Result<u64, String> {
        self.finalized_slot().map_err(|e| e.to_string())
    }

    fn set_lookup_table(&mut self, table: &Pubkey) -> Result<(), String> {
        RpcChain::set_lookup_table(self, *table).map(|_| ()).map_err(|e| e.to_string())
    }
}

pub struct Ctx<C: Cluster = RpcChain> {
    pub chain: C,
    /// The signer and fee payer (`--keypair`).
    pub signer: Keypair,
    pub me: Pubkey,
}

/// Reads a keypair file (`~/` expanded).
pub fn read_keypair(path: &str) -> Result<Keypair, String> {
    let home = std::env::var("HOME").unwrap_or_default();
    let path = path.strip_prefix("~/").map_or(path.to_string(), |rest| format!("{home}/{rest}"));
    read_keypair_file(&path).map_err(|e| format!("keypair {path}: {e}"))
}

/// [`connect`] ignoring `--lookup-table` (legacy transactions).
fn connect_without_table(a: &Args) -> Result<Ctx, String> {
    let url = a.opt("--rpc-url").unwrap_or("http://127.0.0.1:8899").to_string();
    let signer = read_keypair(a.opt("--keypair").unwrap_or("~/.config/solana/id.json"))?;
    let me = signer.pubkey();
    Ok(Ctx { chain: RpcChain::new(&url, signer.insecure_clone(), Duration::from_secs(30)), signer, me })
}

pub fn connect(a: &Args) -> Result<Ctx, String> {
    let mut ctx = connect_without_table(a)?;
    if let Some(table) = a.opt("--lookup-table") {
        Cluster::set_lookup_table(&mut ctx.chain, &parse_pubkey("--lookup-table", table)?)?;
    }
    Ok(ctx)
}

impl<C: Cluster> Ctx<C> {
    pub fn send(&mut self, label: &str, ix: Instruction) -> Result<(), String> {
        self.send_all(label, &[ix], &[])
    }

    /// Sends `ixs` in one transaction, signed by `--keypair` and `others`.
    pub fn send_all(&mut self, label: &str, ixs: &[Instruction], others: &[&Keypair]) -> Result<(), String> {
        let signature = self.chain.send_signed(ixs, others).map_err(|e| format!("{label}: {e}"))?;
        println!("{label}: {signature}");
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

/// A bank entry of `migrations/config.json` (the TypeScript deploy script's format).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BankConfig {
    mint: String,
    feed_id: String,
    oracle: String,
    risk: RiskConfig,
    oracle_config: OracleConfig,
    interest: InterestConfig,
    #[allow(dead_code)]
    symbol: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RiskConfig {
    init_asset_weight_bps: u32,
    liq_end_asset_weight_bps: u32,
    maint_asset_weight_bps: u32,
    maint_liab_weight_bps: u32,
    liq_end_liab_weight_bps: u32,
    init_liab_weight_bps: u32,
    deposit_cap: String,
    borrow_limit: String,
    deposit_weight_scale_start: String,
    borrow_weight_scale_start: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OracleConfig {
    max_oracle_age_secs: u32,
    max_conf_ratio_bps: u32,
    conf_multiplier_centi: u32,
    stable_price_growth_bps_per_hour: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InterestConfig {
    zero_util_rate_bps: u32,
    optimal_util_bps: u32,
    optimal_rate_bps: u32,
    max_rate_bps: u32,
    protocol_fee_bps: u32,
    liquidation_fee_bps: u32,
}

fn u64_field(name: &str, v: &str) -> Result<u64, String> {
    v.parse().map_err(|e| format!("{name} {v}: {e}"))
}

fn feed_id(hex: &str) -> Result<[u8; 32], String> {
    let hex = hex.trim_start_matches("0x");
    if hex.len() != 64 {
        return Err(format!("feed id {hex}: need 64 hex digits"));
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|e| format!("feed id {hex}: {e}"))?;
    }
    Ok(out)
}

fn add_bank_args(token_index: u16, c: &BankConfig) -> Result<AddBankArgs, String> {
    let r = &c.risk;
    Ok(AddBankArgs {
        token_index,
        feed_id: feed_id(&c.feed_id)?,
        risk: BankRiskArgs {
            init_asset_weight_bps: r.init_asset_weight_bps,
            maint_asset_weight_bps: r.maint_asset_weight_bps,
            liq_end_asset_weight_bps: r.liq_end_asset_weight_bps,
            init_liab_weight_bps: r.init_liab_weight_bps,
            maint_liab_weight_bps: r.maint_liab_weight_bps,
            liq_end_liab_weight_bps: r.liq_end_liab_weight_bps,
            deposit_cap: u64_field("depositCap", &r.deposit_cap)?,
            borrow_limit: u64_field("borrowLimit", &r.borrow_limit)?,
            deposit_weight_scale_start: u64_field("depositWeightScaleStart", &r.deposit_weight_scale_start)?,
            borrow_weight_scale_start: u64_field("borrowWeightScaleStart", &r.borrow_weight_scale_start)?,
        },
        oracle: BankOracleArgs {
            max_oracle_age_secs: c.oracle_config.max_oracle_age_secs,
            max_conf_ratio_bps: c.oracle_config.max_conf_ratio_bps,
            conf_multiplier_centi: c.oracle_config.conf_multiplier_centi,
            stable_price_growth_bps_per_hour: c.oracle_config.stable_price_growth_bps_per_hour,
        },
        interest: BankInterestArgs {
            zero_util_rate_bps: c.interest.zero_util_rate_bps,
            optimal_util_bps: c.interest.optimal_util_bps,
            optimal_rate_bps: c.interest.optimal_rate_bps,
            max_rate_bps: c.interest.max_rate_bps,
            protocol_fee_bps: c.interest.protocol_fee_bps,
            liquidation_fee_bps: c.interest.liquidation_fee_bps,
        },
    })
}

fn parse_pubkey(what: &str, s: &str) -> Result<Pubkey, String> {
    s.parse().map_err(|e| format!("{what} {s}: {e}"))
}

/// Runs `command`; `Ok(false)` if it is not one of these.
pub fn run(command: &str, raw: &[String]) -> Result<bool, String> {
    let a = Args::parse(raw)?;
    if let Some(parsed) = crate::lookup::parse(command, &a)? {
        // `create-lookup-table` must not read a table that does not exist yet.
        let mut ctx = match parsed {
            crate::lookup::Command::Create { .. } => connect_without_table(&a)?,
            crate::lookup::Command::Extend { .. } => connect(&a)?,
        };
        a.finish()?;
        crate::lookup::execute(&mut ctx, parsed)?;
        return Ok(true);
    }
    if let Some(parsed) = crate::markets::parse(command, &a)? {
        let mut ctx = connect(&a)?;
        a.finish()?;
        crate::markets::execute(&mut ctx, parsed)?;
        return Ok(true);
    }
    let known = [
        "create-group",
        "add-bank",
        "set-pause",
        "create-account",
        "deposit",
        "repay",
        "withdraw",
        "set-delegate",
        "close-account",
        "accrue-interest",
        "show",
    ];
    if !known.contains(&command) {
        return Ok(false);
    }
    let mut ctx = connect(&a)?;
    let me = ctx.me;
    if command == "create-group" {
        let quote_mint = a.pubkey("--quote-mint")?;
        let group_num = a.parsed::<u32>("--group-num")?.unwrap_or(0);
        let admin = a.opt("--admin").map(|s| parse_pubkey("--admin", s)).transpose()?.unwrap_or(me);
        let loosen_delay_secs = a.parsed::<u32>("--loosen-delay-secs")?.unwrap_or(86_400);
        a.finish()?;
        let group = pda::group_address(&me, group_num).0;
        ctx.send(
            &format!("create-group {group}"),
            ixs::create_group(&me, &me, &quote_mint, CreateGroupArgs { group_num, admin, loosen_delay_secs }),
        )?;
        return Ok(true);
    }
    let group = a.pubkey("--group")?;
    let account_num = a.parsed::<u32>("--account-num")?.unwrap_or(0);
    let account = pda::margin_account_address(&group, &me, account_num).0;
    match command {
        "add-bank" => {
            let path = a.req("--bank-config")?.to_string();
            a.finish()?;
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
            let config: BankConfig = serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
            let token_index = ctx.group(&group)?.bank_count;
            let args = add_bank_args(token_index, &config)?;
            let mint = parse_pubkey("mint", &config.mint)?;
            let oracle = parse_pubkey("oracle", &config.oracle)?;
            ctx.send(
                &format!("add-bank {token_index}"),
                ixs::add_bank(&group, &me, &me, &mint, &oracle, args),
            )?;
        }
        "set-pause" => {
            let flags = a.parsed_req::<u8>("--flags")?;
            a.finish()?;
            ctx.send("set-pause", ixs::set_pause(&group, &me, flags))?;
        }
        "create-account" => {
            a.finish()?;
            ctx.send(
                &format!("create-account {account}"),
                ixs::create_account(&group, &me, &me, account_num),
            )?;
        }
        "deposit" | "repay" | "withdraw" => {
            let token_index = a.parsed_req::<u16>("--token-index")?;
            let amount = a.parsed_req::<u64>("--amount")?;
            let token_account = a.pubkey("--token-account")?;
            a.finish()?;
            let banks = ctx.banks(&group)?;
            let bank = banks.get(&token_index).ok_or_else(|| format!("no bank {token_index} in {group}"))?;
            let keys = BankKeys { bank: bank.address, vault: bank.bank.vault, oracle: bank.bank.oracle };
            let ix = match command {
                "deposit" => ixs::deposit(&group, &account, &keys, &token_account, &me, amount),
                "repay" => ixs::repay(&group, &account, &keys, &token_account, &me, amount),
                _ => {
                    let data = ctx.account(&account)?;
                    let markets = ctx.markets(&group)?;
                    let metas = health_metas_with_markets(&data, &[token_index], &[], &banks, &markets)
                        .map_err(|e| e.to_string())?;
                    ixs::withdraw(&group, &account, &keys, &token_account, &me, amount, metas)
                }
            };
            ctx.send(&format!("{command} {amount} of token {token_index}"), ix)?;
        }
        "set-delegate" => {
            let delegate = a.pubkey("--delegate")?;
            a.finish()?;
            ctx.send("set-delegate", ixs::set_delegate(&account, &me, &delegate))?;
        }
        "close-account" => {
            a.finish()?;
            ctx.send("close-account", ixs::close_account(&account, &me, &me))?;
        }
        "accrue-interest" => {
            let token_index = a.parsed_req::<u16>("--token-index")?;
            a.finish()?;
            let banks = ctx.banks(&group)?;
            let bank = banks.get(&token_index).ok_or_else(|| format!("no bank {token_index} in {group}"))?;
            let keys = BankKeys { bank: bank.address, vault: bank.bank.vault, oracle: bank.bank.oracle };
            ctx.send("accrue-interest", ixs::accrue_interest(&group, &keys))?;
        }
        _ => {
            a.finish()?;
            crate::show::show(&mut ctx, &group)?;
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_bank_config_converts() {
        let config: serde_json::Value =
            serde_json::from_str(include_str!("../../../migrations/config.json")).unwrap();
        let mut sol = config["banks"][1].clone();
        sol["oracle"] = serde_json::Value::String(Pubkey::new_unique().to_string());
        let bank: BankConfig = serde_json::from_value(sol).unwrap();
        let args = add_bank_args(1, &bank).unwrap();
        assert_eq!(args.risk.init_asset_weight_bps, 8_000);
        assert_eq!(args.risk.deposit_cap, 500_000_000_000_000);
        assert_eq!(args.feed_id[0], 0xef);
        assert_eq!(args.interest.liquidation_fee_bps, 500);
        assert!(feed_id("abcd").unwrap_err().contains("64 hex digits"));
    }
}
