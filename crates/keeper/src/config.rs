//! The keeper binary's settings, from (highest first) command-line flags,
//! `XMARGIN_KEEPER_*` environment variables ([`crate::config_env`]), a TOML
//! file (`--config FILE` or `XMARGIN_KEEPER_CONFIG`) and the defaults.
//! Every key, with its default, is in `crates/keeper/keeper.toml`, which a
//! test parses; unknown keys are refused wherever they come from.
//!
//! Without `lookup_table` the keeper sends legacy transactions, which hold
//! an account with up to about 13 token positions; it refuses (and counts as
//! a failure) any transaction over 1,232 bytes or 64 accounts rather than
//! have the cluster drop it. The table is the one `xmargin
//! create-lookup-table` made; its address is not derivable from the group
//! (it comes from its authority and a slot), so it is configured, not found.
//!
//! Fees: by default the priority fee is the 75th percentile of the recent
//! non-zero fees paid for the accounts a transaction writes, within
//! `min_priority_fee_micro_lamports..=max_priority_fee_micro_lamports`, and
//! the compute-unit limit is the simulated consumption + 10 % + 1,000
//! (at most 1,400,000). Giving `priority_fee_micro_lamports` or
//! `compute_unit_limit` without a mode fixes that value.
use std::time::Duration;

use serde::Deserialize;

use crate::broadcast::Schedule;
use crate::budget::{FeePolicy, LimitPolicy};

/// How the priority fee is chosen.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FeeMode {
    /// From `getRecentPrioritizationFees` (percentile, floor, cap).
    Recent,
    /// `priority_fee_micro_lamports`.
    Fixed,
}

/// How the compute-unit limit is chosen.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LimitMode {
    /// `simulateTransaction` plus the margins.
    Simulate,
    /// `compute_unit_limit`.
    Fixed,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Settings as read from a file or the environment: every field optional
/// (flags and defaults fill in).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    pub rpc_url: Option<String>,
    pub keypair: Option<String>,
    pub group: Option<String>,
    pub liqor_account: Option<String>,
    pub poll_interval_secs: Option<u64>,
    pub min_profit: Option<u64>,
    pub dry_run: Option<bool>,
    pub compute_unit_limit: Option<u32>,
    pub compute_unit_limit_mode: Option<LimitMode>,
    pub compute_unit_margin_percent: Option<u32>,
    pub compute_unit_margin: Option<u32>,
    pub priority_fee_micro_lamports: Option<u64>,
    pub priority_fee_mode: Option<FeeMode>,
    pub priority_fee_percentile: Option<u8>,
    pub min_priority_fee_micro_lamports: Option<u64>,
    pub max_priority_fee_micro_lamports: Option<u64>,
    pub rebroadcast_interval_ms: Option<u64>,
    pub stop_grace_secs: Option<u64>,
    pub funding_interval_secs: Option<u64>,
    pub sample_interval_secs: Option<u64>,
    pub min_settle_pnl: Option<u64>,
    pub risk_array_refresh_percent: Option<u8>,
    pub lookup_table: Option<String>,
    pub metrics_addr: Option<String>,
    pub liveness_intervals: Option<u32>,
    pub subscribe: Option<bool>,
    pub ws_url: Option<String>,
    pub rescan_interval_secs: Option<u64>,
    pub log_format: Option<LogFormat>,
}

/// Complete settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub rpc_url: String,
    pub keypair: String,
    pub group: String,
    pub liqor_account: Option<String>,
    pub poll_interval_secs: u64,
    pub min_profit: u64,
    pub dry_run: bool,
    /// The fixed limit and fee (also the fallback of a simulation without units).
    pub compute_unit_limit: u32,
    pub priority_fee_micro_lamports: u64,
    pub fee: FeePolicy,
    pub limit: LimitPolicy,
    /// Rebroadcast interval and the grace an in-flight send gets on a stop.
    pub schedule: Schedule,
    pub funding_interval_secs: u64,
    pub sample_interval_secs: u64,
    pub min_settle_pnl: u64,
    /// Option markets: refresh a risk array at this % of the program's age or drift bound (1..=100).
    pub risk_array_refresh_percent: u8,
    /// The group's address lookup table (v0 transactions); `None`: legacy.
    pub lookup_table: Option<String>,
    /// `/metrics` and `/health` on this address; `None`: no endpoint.
    pub metrics_addr: Option<String>,
    /// Live while the last cycle ended within this many poll intervals.
    pub liveness_intervals: u32,
    /// Keep the accounts current through `programSubscribe` between full scans.
    pub subscribe: bool,
    /// The websocket URL; `None`: derived from `rpc_url`.
    pub ws_url: Option<String>,
    pub rescan_interval_secs: u64,
    pub log_format: LogFormat,
    /// Stop after this many cycles (`--once` = 1); `None` runs until stopped.
    pub cycles: Option<u64>,
}

impl Settings {
    /// How long a cycle may be in the past while the keeper counts as live.
    pub fn max_cycle_age(&self) -> Duration {
        Duration::from_secs(self.poll_interval_secs.saturating_mul(u64::from(self.liveness_intervals)).max(1))
    }
}

pub const USAGE: &str = "\
usage: xmargin-keeper [--config FILE] [--rpc-url URL] [--keypair FILE] [--group ADDRESS]
                      [--liqor-account ADDRESS] [--poll-interval-secs N] [--min-profit N] [--dry-run]
                      [--compute-unit-limit N] [--compute-unit-limit-mode simulate|fixed]
                      [--compute-unit-margin-percent N] [--compute-unit-margin N]
                      [--priority-fee N] [--priority-fee-mode recent|fixed] [--priority-fee-percentile N]
                      [--min-priority-fee N] [--max-priority-fee N]
                      [--rebroadcast-interval-ms N] [--stop-grace-secs N]
                      [--funding-interval-secs N] [--sample-interval-secs N] [--min-settle-pnl N]
                      [--risk-array-refresh-percent 1..100]
                      [--lookup-table ADDRESS] [--metrics-addr HOST:PORT] [--liveness-intervals N]
                      [--no-subscribe] [--ws-url URL] [--rescan-interval-secs N]
                      [--log-format text|json] [--once | --cycles N]
Precedence: flags, then XMARGIN_KEEPER_<KEY> environment variables (e.g. XMARGIN_KEEPER_GROUP,
XMARGIN_KEEPER_CONFIG for the file), then the config file, then defaults; --group is required.";

fn number<T: std::str::FromStr>(flag: &str, v: &str) -> Result<T, String> {
    v.parse::<T>().map_err(|_| format!("{flag}: not a number (or too large): {v}"))
}

fn mode<T: for<'de> Deserialize<'de>>(flag: &str, v: &str) -> Result<T, String> {
    T::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(v))
        .map_err(|e| format!("{flag}: {e}"))
}

/// Applies one flag (taking its value from `it`) to `f`; `Ok(false)` if unknown.
fn flag(
    f: &mut FileSettings,
    cycles: &mut Option<u64>,
    name: &str,
    it: &mut dyn Iterator<Item = &String>,
) -> Result<bool, String> {
    let mut value = || it.next().cloned().ok_or_else(|| format!("{name} needs a value"));
    match name {
        "--config" => drop(value()?), // read by the caller
        "--rpc-url" => f.rpc_url = Some(value()?),
        "--keypair" => f.keypair = Some(value()?),
        "--group" => f.group = Some(value()?),
        "--liqor-account" => f.liqor_account = Some(value()?),
        "--poll-interval-secs" => f.poll_interval_secs = Some(number(name, &value()?)?),
        "--min-profit" => f.min_profit = Some(number(name, &value()?)?),
        "--dry-run" => f.dry_run = Some(true),
        "--compute-unit-limit" => f.compute_unit_limit = Some(number(name, &value()?)?),
        "--compute-unit-limit-mode" => f.compute_unit_limit_mode = Some(mode(name, &value()?)?),
        "--compute-unit-margin-percent" => f.compute_unit_margin_percent = Some(number(name, &value()?)?),
        "--compute-unit-margin" => f.compute_unit_margin = Some(number(name, &value()?)?),
        "--priority-fee" => f.priority_fee_micro_lamports = Some(number(name, &value()?)?),
        "--priority-fee-mode" => f.priority_fee_mode = Some(mode(name, &value()?)?),
        "--priority-fee-percentile" => f.priority_fee_percentile = Some(number(name, &value()?)?),
        "--min-priority-fee" => f.min_priority_fee_micro_lamports = Some(number(name, &value()?)?),
        "--max-priority-fee" => f.max_priority_fee_micro_lamports = Some(number(name, &value()?)?),
        "--rebroadcast-interval-ms" => f.rebroadcast_interval_ms = Some(number(name, &value()?)?),
        "--stop-grace-secs" => f.stop_grace_secs = Some(number(name, &value()?)?),
        "--funding-interval-secs" => f.funding_interval_secs = Some(number(name, &value()?)?),
        "--sample-interval-secs" => f.sample_interval_secs = Some(number(name, &value()?)?),
        "--min-settle-pnl" => f.min_settle_pnl = Some(number(name, &value()?)?),
        "--risk-array-refresh-percent" => f.risk_array_refresh_percent = Some(number(name, &value()?)?),
        "--lookup-table" => f.lookup_table = Some(value()?),
        "--metrics-addr" => f.metrics_addr = Some(value()?),
        "--liveness-intervals" => f.liveness_intervals = Some(number(name, &value()?)?),
        "--no-subscribe" => f.subscribe = Some(false),
        "--ws-url" => f.ws_url = Some(value()?),
        "--rescan-interval-secs" => f.rescan_interval_secs = Some(number(name, &value()?)?),
        "--log-format" => f.log_format = Some(mode(name, &value()?)?),
        "--once" => *cycles = Some(1),
        "--cycles" => *cycles = Some(number(name, &value()?)?),
        _ => return Ok(false),
    }
    Ok(true)
}

/// The fee policy: a fixed fee given without a mode means fixed.
fn fee_policy(f: &FileSettings) -> Result<FeePolicy, String> {
    let fixed = f.priority_fee_micro_lamports;
    let mode = f.priority_fee_mode.unwrap_or(if fixed.is_some() { FeeMode::Fixed } else { FeeMode::Recent });
    let cap = f.max_priority_fee_micro_lamports;
    let policy = match mode {
        FeeMode::Fixed => {
            // The cap holds whatever the mode: a fixed fee above it is refused, not paid.
            let fee = fixed.unwrap_or(DEFAULT_FIXED_FEE);
            if let Some(max) = cap.filter(|max| fee > *max) {
                return Err(format!(
                    "priority_fee_micro_lamports {fee} is above max_priority_fee_micro_lamports {max}"
                ));
            }
            FeePolicy::Fixed(fee)
        }
        FeeMode::Recent => {
            let max = cap.unwrap_or(DEFAULT_MAX_FEE);
            FeePolicy::Recent {
                percentile: f.priority_fee_percentile.unwrap_or(75),
                // A cap below the default floor lowers the floor (only an explicit floor above it is an error).
                floor: f.min_priority_fee_micro_lamports.unwrap_or(DEFAULT_FIXED_FEE.min(max)),
                max,
            }
        }
    };
    policy.validated().map_err(|e| e.to_string())
}

/// The limit policy: a fixed limit given without a mode means fixed.
fn limit_policy(f: &FileSettings) -> Result<LimitPolicy, String> {
    let fixed = f.compute_unit_limit;
    let mode = f.compute_unit_limit_mode.unwrap_or(if fixed.is_some() {
        LimitMode::Fixed
    } else {
        LimitMode::Simulate
    });
    let policy = match mode {
        LimitMode::Fixed => LimitPolicy::Fixed(fixed.unwrap_or(DEFAULT_FIXED_LIMIT)),
        LimitMode::Simulate => LimitPolicy::Simulated {
            percent: f.compute_unit_margin_percent.unwrap_or(20),
            extra: f.compute_unit_margin.unwrap_or(20_000),
        },
    };
    policy.validated().map_err(|e| e.to_string())
}

const DEFAULT_FIXED_FEE: u64 = 1_000;
const DEFAULT_MAX_FEE: u64 = 1_000_000;
const DEFAULT_FIXED_LIMIT: u32 = 400_000;

/// A share of the program's risk-array bounds: 1..=100 % (0 would crank every cycle, above 100 too late).
fn refresh_percent(v: Option<u8>) -> Result<u8, String> {
    let v = v.unwrap_or(crate::DEFAULT_RISK_ARRAY_REFRESH_PERCENT);
    if !(1..=100).contains(&v) {
        return Err(format!("risk_array_refresh_percent {v} is not within 1..=100"));
    }
    Ok(v)
}

fn positive(name: &str, v: u64) -> Result<u64, String> {
    if v == 0 {
        return Err(format!("{name} must be at least 1, not 0"));
    }
    Ok(v)
}

/// Parses flags and merges them over `file` (the config file with the
/// environment already over it: [`crate::config_env::layered`]).
pub fn settings(args: &[String], file: FileSettings) -> Result<Settings, String> {
    let mut f = file;
    let mut cycles = None;
    let mut it = args.iter();
    while let Some(name) = it.next() {
        if !flag(&mut f, &mut cycles, name, &mut it)? {
            return Err(format!("unknown argument {name}\n{USAGE}"));
        }
    }
    let home = std::env::var("HOME").unwrap_or_default();
    let expand = |p: String| p.strip_prefix("~/").map_or(p.clone(), |rest| format!("{home}/{rest}"));
    let schedule = Schedule::new(
        Duration::from_millis(positive(
            "rebroadcast_interval_ms",
            f.rebroadcast_interval_ms.unwrap_or(2_000),
        )?),
        Duration::from_secs(f.stop_grace_secs.unwrap_or(10)),
    );
    Ok(Settings {
        rpc_url: f.rpc_url.clone().unwrap_or_else(|| "http://127.0.0.1:8899".into()),
        keypair: expand(f.keypair.clone().unwrap_or_else(|| "~/.config/solana/id.json".into())),
        group: f.group.clone().ok_or_else(|| format!("no group given\n{USAGE}"))?,
        liqor_account: f.liqor_account.clone(),
        poll_interval_secs: f.poll_interval_secs.unwrap_or(5),
        min_profit: f.min_profit.unwrap_or(0),
        dry_run: f.dry_run.unwrap_or(false),
        compute_unit_limit: f.compute_unit_limit.unwrap_or(DEFAULT_FIXED_LIMIT),
        priority_fee_micro_lamports: f.priority_fee_micro_lamports.unwrap_or(DEFAULT_FIXED_FEE),
        fee: fee_policy(&f)?,
        limit: limit_policy(&f)?,
        schedule,
        funding_interval_secs: f.funding_interval_secs.unwrap_or(3_600),
        sample_interval_secs: f.sample_interval_secs.unwrap_or(60),
        min_settle_pnl: f.min_settle_pnl.unwrap_or(0),
        risk_array_refresh_percent: refresh_percent(f.risk_array_refresh_percent)?,
        lookup_table: f.lookup_table.clone(),
        metrics_addr: f.metrics_addr.clone(),
        liveness_intervals: u32::try_from(positive(
            "liveness_intervals",
            u64::from(f.liveness_intervals.unwrap_or(10)),
        )?)
        .unwrap_or(u32::MAX),
        subscribe: f.subscribe.unwrap_or(true),
        ws_url: f.ws_url.clone(),
        rescan_interval_secs: f.rescan_interval_secs.unwrap_or(300),
        log_format: f.log_format.unwrap_or_default(),
        cycles,
    })
}

/// The `--config` file named in `args`, if any.
pub fn config_path(args: &[String]) -> Option<&str> {
    args.iter().position(|a| a == "--config").and_then(|i| args.get(i + 1)).map(String::as_str)
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
