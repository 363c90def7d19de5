//! The keeper binary's settings: a TOML file, overridden by command-line flags.
//!
//! ```toml
//! rpc_url = "http://127.0.0.1:8899"
//! keypair = "~/.config/solana/id.json"   # signs, and owns the liquidator account
//! group = "<group address>"
//! liqor_account = "<margin account>"       # default: the keypair's account number 0
//! poll_interval_secs = 5
//! min_profit = 0                           # quote native units of bonus per liquidation
//! dry_run = false
//! compute_unit_limit = 400000
//! priority_fee_micro_lamports = 1000
//! funding_interval_secs = 3600             # crank a perpetual's funding this often
//! sample_interval_secs = 60                # futures: least time between settlement samples
//! min_settle_pnl = 0                       # quote native: smallest settle_pnl worth sending
//! lookup_table = "<address>"               # the group's address lookup table: v0 transactions
//! ```
//!
//! Without `lookup_table` the keeper sends legacy transactions, which hold
//! an account with up to about 13 token positions; it refuses (and counts as
//! a failure) any transaction over 1,232 bytes or 64 accounts rather than
//! have the cluster drop it. The table is the one `xmargin
//! create-lookup-table` made; its address is not derivable from the group
//! (it comes from its authority and a slot), so it is configured, not found.
use serde::Deserialize;

/// Settings as read from a file: every field optional (flags and defaults fill in).
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
    pub priority_fee_micro_lamports: Option<u64>,
    pub funding_interval_secs: Option<u64>,
    pub sample_interval_secs: Option<u64>,
    pub min_settle_pnl: Option<u64>,
    pub lookup_table: Option<String>,
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
    pub compute_unit_limit: u32,
    pub priority_fee_micro_lamports: u64,
    pub funding_interval_secs: u64,
    pub sample_interval_secs: u64,
    pub min_settle_pnl: u64,
    /// The group's address lookup table (v0 transactions); `None`: legacy.
    pub lookup_table: Option<String>,
    /// Stop after this many cycles (`--once` = 1); `None` runs until killed.
    pub cycles: Option<u64>,
}

pub const USAGE: &str = "\
usage: xmargin-keeper [--config FILE] [--rpc-url URL] [--keypair FILE] [--group ADDRESS]
                      [--liqor-account ADDRESS] [--poll-interval-secs N] [--min-profit N]
                      [--dry-run] [--compute-unit-limit N] [--priority-fee N]
                      [--funding-interval-secs N] [--sample-interval-secs N] [--min-settle-pnl N]
                      [--lookup-table ADDRESS] [--once | --cycles N]
Flags override the config file; --group is required (flag or file).";

/// Parses flags and merges them over `file` (read by the caller from `--config`).
pub fn settings(args: &[String], file: FileSettings) -> Result<Settings, String> {
    let mut f = file;
    let mut cycles = None;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().cloned().ok_or_else(|| format!("{name} needs a value"));
        let number =
            |name: &str, v: String| v.parse::<u64>().map_err(|_| format!("{name}: not a number: {v}"));
        match flag.as_str() {
            "--config" => {
                value("--config")?; // read by the caller
            }
            "--rpc-url" => f.rpc_url = Some(value(flag)?),
            "--keypair" => f.keypair = Some(value(flag)?),
            "--group" => f.group = Some(value(flag)?),
            "--liqor-account" => f.liqor_account = Some(value(flag)?),
            "--poll-interval-secs" => f.poll_interval_secs = Some(number(flag, value(flag)?)?),
            "--min-profit" => f.min_profit = Some(number(flag, value(flag)?)?),
            "--dry-run" => f.dry_run = Some(true),
            "--compute-unit-limit" => {
                let n = number(flag, value(flag)?)?;
                f.compute_unit_limit = Some(u32::try_from(n).map_err(|_| format!("{flag}: too large: {n}"))?);
            }
            "--priority-fee" => f.priority_fee_micro_lamports = Some(number(flag, value(flag)?)?),
            "--funding-interval-secs" => f.funding_interval_secs = Some(number(flag, value(flag)?)?),
            "--sample-interval-secs" => f.sample_interval_secs = Some(number(flag, value(flag)?)?),
            "--min-settle-pnl" => f.min_settle_pnl = Some(number(flag, value(flag)?)?),
            "--lookup-table" => f.lookup_table = Some(value(flag)?),
            "--once" => cycles = Some(1),
            "--cycles" => cycles = Some(number(flag, value(flag)?)?),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    let home = std::env::var("HOME").unwrap_or_default();
    let expand = |p: String| p.strip_prefix("~/").map_or(p.clone(), |rest| format!("{home}/{rest}"));
    Ok(Settings {
        rpc_url: f.rpc_url.unwrap_or_else(|| "http://127.0.0.1:8899".into()),
        keypair: expand(f.keypair.unwrap_or_else(|| "~/.config/solana/id.json".into())),
        group: f.group.ok_or_else(|| format!("no group given\n{USAGE}"))?,
        liqor_account: f.liqor_account,
        poll_interval_secs: f.poll_interval_secs.unwrap_or(5),
        min_profit: f.min_profit.unwrap_or(0),
        dry_run: f.dry_run.unwrap_or(false),
        compute_unit_limit: f.compute_unit_limit.unwrap_or(400_000),
        priority_fee_micro_lamports: f.priority_fee_micro_lamports.unwrap_or(1_000),
        funding_interval_secs: f.funding_interval_secs.unwrap_or(3_600),
        sample_interval_secs: f.sample_interval_secs.unwrap_or(60),
        min_settle_pnl: f.min_settle_pnl.unwrap_or(0),
        lookup_table: f.lookup_table,
        cycles,
    })
}

/// The `--config` file named in `args`, if any.
pub fn config_path(args: &[String]) -> Option<&str> {
    args.iter().position(|a| a == "--config").and_then(|i| args.get(i + 1)).map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn flags_override_the_file_and_defaults_fill_in() {
        let file: FileSettings = toml::from_str(
            "rpc_url = \"http://node:8899\"\ngroup = \"G1\"\nmin_profit = 5\ndry_run = true\nsample_interval_secs = 30\n",
        )
        .unwrap();
        let s = settings(&args("--config k.toml --min-profit 7 --once --funding-interval-secs 1800"), file)
            .unwrap();
        assert_eq!(s.rpc_url, "http://node:8899");
        assert_eq!(s.group, "G1");
        assert_eq!(s.min_profit, 7, "the flag wins");
        assert!(s.dry_run);
        assert_eq!(s.cycles, Some(1));
        assert_eq!(s.poll_interval_secs, 5);
        assert_eq!(s.compute_unit_limit, 400_000);
        assert_eq!((s.funding_interval_secs, s.sample_interval_secs, s.min_settle_pnl), (1_800, 30, 0));
        assert_eq!(config_path(&args("--config k.toml --once")), Some("k.toml"));
        assert_eq!(s.lookup_table, None, "legacy transactions unless a table is given");
        let file: FileSettings = toml::from_str("group = \"G\"\nlookup_table = \"T1\"").unwrap();
        assert_eq!(settings(&args(""), file.clone()).unwrap().lookup_table.as_deref(), Some("T1"));
        assert_eq!(settings(&args("--lookup-table T2"), file).unwrap().lookup_table.as_deref(), Some("T2"));
    }

    #[test]
    fn bad_input_is_refused_with_a_reason() {
        assert!(settings(&args("--min-profit x --group G"), FileSettings::default())
            .unwrap_err()
            .contains("not a number"));
        assert!(settings(&args("--once"), FileSettings::default()).unwrap_err().contains("no group"));
        assert!(settings(&args("--group G --bogus"), FileSettings::default())
            .unwrap_err()
            .contains("unknown argument"));
        assert!(settings(&args("--group"), FileSettings::default()).unwrap_err().contains("needs a value"));
        assert!(toml::from_str::<FileSettings>("grup = \"typo\"").is_err(), "unknown keys are refused");
        let too_big = settings(&args("--group G --compute-unit-limit 99999999999"), FileSettings::default());
        assert!(too_big.unwrap_err().contains("too large"));
    }
}
