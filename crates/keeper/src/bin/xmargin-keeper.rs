//! `xmargin-keeper`: the long-running liquidation bot against a cluster's JSON-RPC.
//! Settings: `crates/keeper/src/config.rs` (flags > `XMARGIN_KEEPER_*` >
//! TOML file > defaults; every key in `crates/keeper/keeper.toml`). Logs
//! with `tracing` (RUST_LOG, default `info`; text or JSON lines), metrics on
//! `metrics_addr`. SIGTERM or Ctrl-C stops it: no new transaction is sent,
//! an in-flight one gets `stop_grace_secs` to land, and it exits 0.
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use solana_keypair::read_keypair_file;
use xmargin_keeper::config::{LogFormat, Settings, USAGE};
use xmargin_keeper::config_env::load;
use xmargin_keeper::metrics::Metrics;
use xmargin_keeper::rpc::RpcChain;
use xmargin_keeper::rpc_send::SendPolicy;
use xmargin_keeper::runner::{Ended, Runner};
use xmargin_keeper::stop::Stop;
use xmargin_keeper::subscribe::{websocket_url, PubsubSource};
use xmargin_keeper::watched::WatchedChain;
use xmargin_keeper::{Chain, KeeperConfig};

fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let settings = match load(&args, std::env::vars()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("xmargin-keeper: {e}");
            return ExitCode::FAILURE;
        }
    };
    init_logs(settings.log_format);
    match run(&settings) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn pubkey(what: &str, s: &str) -> Result<Pubkey, String> {
    Pubkey::from_str(s).map_err(|e| format!("{what} {s}: {e}"))
}

fn keeper_config(s: &Settings, authority: Pubkey) -> Result<KeeperConfig, String> {
    let group = pubkey("group", &s.group)?;
    let liqor_account = match &s.liqor_account {
        Some(a) => pubkey("liqor account", a)?,
        None => xmargin::pda::margin_account_address(&group, &authority, 0).0,
    };
    Ok(KeeperConfig {
        min_profit: s.min_profit,
        dry_run: s.dry_run,
        compute_unit_limit: s.compute_unit_limit,
        priority_fee_micro_lamports: s.priority_fee_micro_lamports,
        funding_interval_secs: s.funding_interval_secs,
        sample_interval_secs: s.sample_interval_secs,
        min_settle_pnl: s.min_settle_pnl,
        risk_array_refresh_percent: s.risk_array_refresh_percent,
        ..KeeperConfig::new(group, liqor_account, authority)
    })
}

/// The RPC chain: lookup table, send policy, stop and metrics.
fn rpc_chain(s: &Settings, metrics: &Arc<Metrics>, stop: &Stop) -> Result<RpcChain, String> {
    let signer = read_keypair_file(&s.keypair).map_err(|e| format!("keypair {}: {e}", s.keypair))?;
    let mut chain = RpcChain::new(&s.rpc_url, signer, Duration::from_secs(30));
    chain.set_send_policy(SendPolicy { fee: s.fee, limit: s.limit, schedule: s.schedule });
    chain.set_stop(stop.clone());
    chain.set_metrics(Arc::clone(metrics));
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
    Ok(chain)
}

/// The chain the loop uses: with account subscriptions unless switched off.
fn chain(s: &Settings, rpc: RpcChain, metrics: &Arc<Metrics>) -> Result<Box<dyn Chain + Send>, String> {
    if !s.subscribe {
        tracing::info!("no subscriptions: a full scan every cycle");
        return Ok(Box::new(rpc));
    }
    let ws_url = match &s.ws_url {
        Some(u) => u.clone(),
        None => websocket_url(&s.rpc_url).map_err(|e| e.to_string())?,
    };
    tracing::info!(%ws_url, rescan_secs = s.rescan_interval_secs, "account subscriptions");
    let rescan = Duration::from_secs(s.rescan_interval_secs);
    let source = PubsubSource::new(ws_url, rpc.program_id(), rpc.commitment());
    Ok(Box::new(WatchedChain::new(rpc, Box::new(source), rescan).with_metrics(Arc::clone(metrics))))
}

fn run(s: &Settings) -> Result<(), String> {
    let stop = Stop::new();
    stop.on_signals().map_err(|e| format!("cannot handle SIGTERM/SIGINT: {e}"))?;
    let metrics = Arc::new(Metrics::new(s.max_cycle_age()));
    if let Some(addr) = &s.metrics_addr {
        let (bound, _) = xmargin_keeper::http::serve(addr, Arc::clone(&metrics))
            .map_err(|e| format!("metrics_addr {addr}: {e}"))?;
        tracing::info!(%bound, "metrics on /metrics, liveness on /health and /livez");
    }
    let rpc = rpc_chain(s, &metrics, &stop)?;
    let config = keeper_config(s, rpc.signer())?;
    tracing::info!(rpc = %s.rpc_url, group = %config.group, liqor = %config.liqor_account,
        authority = %config.liqor_authority, dry_run = s.dry_run, min_profit = s.min_profit,
        fee = ?s.fee, limit = ?s.limit, "keeper starting");
    let mut chain = chain(s, rpc, &metrics)?;
    let runner = Runner {
        config,
        metrics,
        stop: stop.clone(),
        poll_interval: Duration::from_secs(s.poll_interval_secs),
        cycles: s.cycles,
    };
    // The loop runs on its own thread so a stop is honoured even while an
    // RPC call blocks: after the grace the process exits regardless.
    let worker = std::thread::Builder::new()
        .name("keeper".into())
        .spawn(move || runner.run(chain.as_mut()))
        .map_err(|e| format!("cannot start the keeper thread: {e}"))?;
    wait(worker, &stop, s.schedule.stop_grace)
}

/// Waits for the loop; once a stop is requested, at most `grace` more.
fn wait(worker: std::thread::JoinHandle<Ended>, stop: &Stop, grace: Duration) -> Result<(), String> {
    while !worker.is_finished() && !stop.requested() {
        std::thread::sleep(Duration::from_millis(50));
    }
    if stop.requested() {
        tracing::info!(
            grace_secs = grace.as_secs(),
            "stop requested (SIGTERM or Ctrl-C): no new transactions"
        );
        let until = Instant::now() + grace;
        while !worker.is_finished() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(50));
        }
        if !worker.is_finished() {
            tracing::warn!(
                "stopped: abandoned the in-flight cycle after the grace time (a transaction may still land)"
            );
            return Ok(());
        }
    }
    match worker.join() {
        Ok(Ended::Stopped) => {
            tracing::info!("stopped: the in-flight work finished");
            Ok(())
        }
        Ok(Ended::Done { cycles, errors }) if errors == cycles => Err(format!("all {cycles} cycles failed")),
        Ok(Ended::Done { .. }) => Ok(()),
        Err(_) => Err("the keeper thread panicked".into()),
    }
}
