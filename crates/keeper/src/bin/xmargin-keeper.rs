//! `xmargin-keeper`: the long-running liquidation bot against a cluster's JSON-RPC.
//! Settings: `crates/keeper/src/config.rs` (TOML file + flags). Logs with
//! `tracing` (RUST_LOG, default `info`): one summary line per cycle and the
//! running totals, so a log scraper gets its metrics from the same lines.
use std::process::ExitCode;
use std::str::FromStr;
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use solana_keypair::{read_keypair_file, Signer};
use xmargin_keeper::config::{config_path, settings, FileSettings, Settings};
use xmargin_keeper::rpc::RpcChain;
use xmargin_keeper::{run_cycle, CycleSummary, KeeperConfig};

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn load(args: &[String]) -> Result<Settings, String> {
    let file = match config_path(args) {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
            toml::from_str::<FileSettings>(&text).map_err(|e| format!("{path}: {e}"))?
        }
        None => FileSettings::default(),
    };
    settings(args, file)
}

fn pubkey(what: &str, s: &str) -> Result<Pubkey, String> {
    Pubkey::from_str(s).map_err(|e| format!("{what} {s}: {e}"))
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{}", xmargin_keeper::config::USAGE);
        return Ok(());
    }
    let s = load(&args)?;
    let signer = read_keypair_file(&s.keypair).map_err(|e| format!("keypair {}: {e}", s.keypair))?;
    let group = pubkey("group", &s.group)?;
    let authority = signer.pubkey();
    let liqor_account = match &s.liqor_account {
        Some(a) => pubkey("liqor account", a)?,
        None => xmargin::pda::margin_account_address(&group, &authority, 0).0,
    };
    let config = KeeperConfig {
        min_profit: s.min_profit,
        dry_run: s.dry_run,
        compute_unit_limit: s.compute_unit_limit,
        priority_fee_micro_lamports: s.priority_fee_micro_lamports,
        funding_interval_secs: s.funding_interval_secs,
        sample_interval_secs: s.sample_interval_secs,
        min_settle_pnl: s.min_settle_pnl,
        ..KeeperConfig::new(group, liqor_account, authority)
    };
    tracing::info!(rpc = %s.rpc_url, %group, liqor = %liqor_account, authority = %authority,
        dry_run = s.dry_run, min_profit = s.min_profit, "keeper starting");
    let mut chain = RpcChain::new(&s.rpc_url, signer, Duration::from_secs(30));
    match &s.lookup_table {
        Some(t) => {
            let state = chain.set_lookup_table(pubkey("lookup table", t)?).map_err(|e| e.to_string())?;
            tracing::info!(table = %t, addresses = state.table.addresses.len(), "v0 transactions with the lookup table");
        }
        None => tracing::warn!(
            "no --lookup-table: legacy transactions, too large past about 13 token positions \
             (xmargin create-lookup-table makes the group's table)"
        ),
    }
    let mut totals = CycleSummary::default();
    let mut cycle: u64 = 0;
    let mut errors: u64 = 0;
    loop {
        cycle += 1;
        let started = Instant::now();
        match run_cycle(&mut chain, &config) {
            Ok(sum) => totals.add(&sum),
            Err(e) => {
                errors += 1;
                tracing::warn!(cycle, error = %e, "cycle failed; retrying next interval");
            }
        }
        tracing::info!(
            cycle,
            ms = started.elapsed().as_millis() as u64,
            accounts = totals.accounts,
            liquidations = totals.liquidations_sent,
            positions = totals.position_liquidations,
            bankruptcies = totals.bankruptcies_sent,
            funding = totals.funding_updates,
            samples = totals.price_samples,
            expiries = totals.expiries_settled,
            settlements = totals.pnl_settlements,
            dust = totals.dust_settlements,
            failures = totals.failures,
            cycle_errors = errors,
            "totals"
        );
        if s.cycles.is_some_and(|n| cycle >= n) {
            return if errors == cycle { Err(format!("all {cycle} cycles failed")) } else { Ok(()) };
        }
        std::thread::sleep(Duration::from_secs(s.poll_interval_secs));
    }
}
