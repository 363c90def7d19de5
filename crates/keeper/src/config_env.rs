//! Settings from the environment, and the layering of flags, environment,
//! file and defaults ([`load`]).
//!
//! `XMARGIN_KEEPER_<KEY>` sets the file key `<key>` (lower case): e.g.
//! `XMARGIN_KEEPER_GROUP`, `XMARGIN_KEEPER_MAX_PRIORITY_FEE_MICRO_LAMPORTS=50000`,
//! `XMARGIN_KEEPER_DRY_RUN=true`; `XMARGIN_KEEPER_CONFIG` names the file.
//! A value is read as a TOML value when it is one of the key's type, else as
//! a string; an unknown key or a value of the wrong type is refused, naming
//! the variable.
use serde::Deserialize;

use crate::config::{config_path, settings, FileSettings, Settings};

pub const PREFIX: &str = "XMARGIN_KEEPER_";
/// The variable naming the config file (when `--config` is not given).
pub const CONFIG_VAR: &str = "XMARGIN_KEEPER_CONFIG";

/// `FileSettings` from a TOML table, or serde's words.
fn file_settings(table: toml::Table) -> Result<FileSettings, String> {
    FileSettings::deserialize(toml::Value::Table(table)).map_err(|e| e.to_string().trim().to_string())
}

/// `raw` as the value of `key`: TOML if that fits the key, else a string.
fn env_value(var: &str, key: &str, raw: &str) -> Result<toml::Value, String> {
    let fits = |v: &toml::Value| file_settings(toml::Table::from_iter([(key.to_string(), v.clone())]));
    let typed = toml::from_str::<toml::Table>(&format!("v = {raw}")).ok().and_then(|mut t| t.remove("v"));
    let typed_error = match &typed {
        Some(v) => match fits(v) {
            Ok(_) => return Ok(v.clone()),
            Err(e) => Some(e),
        },
        None => None,
    };
    let text = toml::Value::String(raw.to_string());
    match fits(&text) {
        Ok(_) => Ok(text),
        Err(e) => Err(format!("{var}={raw}: {}", typed_error.unwrap_or(e))),
    }
}

/// The `XMARGIN_KEEPER_*` variables among `vars` (but the config file's) as a table.
pub fn env_table(vars: impl IntoIterator<Item = (String, String)>) -> Result<toml::Table, String> {
    let mut table = toml::Table::new();
    for (var, raw) in vars {
        let Some(key) = var.strip_prefix(PREFIX) else { continue };
        if var == CONFIG_VAR {
            continue;
        }
        let key = key.to_ascii_lowercase();
        let value = env_value(&var, &key, &raw)?;
        table.insert(key, value);
    }
    Ok(table)
}

/// The file's settings (`path` and its text) with `env` over them.
pub fn layered(file: Option<(&str, &str)>, env: toml::Table) -> Result<FileSettings, String> {
    let mut table = match file {
        Some((path, text)) => toml::from_str::<toml::Table>(text).map_err(|e| format!("{path}: {e}"))?,
        None => toml::Table::new(),
    };
    if let Some((path, _)) = file {
        file_settings(table.clone()).map_err(|e| format!("{path}: {e}"))?;
    }
    table.extend(env);
    file_settings(table)
}

/// Complete settings from `args`, the environment `vars` and the config
/// file they name (flags > environment > file > defaults).
pub fn load(args: &[String], vars: impl IntoIterator<Item = (String, String)>) -> Result<Settings, String> {
    let vars: Vec<(String, String)> = vars.into_iter().collect();
    let from_env = vars.iter().find(|(k, _)| k == CONFIG_VAR).map(|(_, v)| v.as_str());
    let path = config_path(args).or(from_env);
    let text = match path {
        Some(p) => Some(std::fs::read_to_string(p).map_err(|e| format!("cannot read {p}: {e}"))?),
        None => None,
    };
    let file = layered(path.zip(text.as_deref()), env_table(vars.iter().cloned())?)?;
    settings(args, file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budget::FeePolicy;

    fn vars(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn variables_are_typed_by_their_key() {
        let t = env_table(vars(&[
            ("XMARGIN_KEEPER_GROUP", "5Hq1bVXXe9Ydh8YTNSQH2yE3RuPZMcmAPAXcpH7cRFim"),
            ("XMARGIN_KEEPER_DRY_RUN", "true"),
            ("XMARGIN_KEEPER_MIN_PROFIT", "250"),
            ("XMARGIN_KEEPER_METRICS_ADDR", "0.0.0.0:9464"),
            ("XMARGIN_KEEPER_PRIORITY_FEE_MODE", "fixed"),
            ("XMARGIN_KEEPER_CONFIG", "ignored here"),
            ("HOME", "/root"),
        ]))
        .unwrap();
        let f = file_settings(t).unwrap();
        assert_eq!(f.dry_run, Some(true));
        assert_eq!(f.min_profit, Some(250));
        assert_eq!(f.metrics_addr.as_deref(), Some("0.0.0.0:9464"));
        assert_eq!(f.group.as_deref(), Some("5Hq1bVXXe9Ydh8YTNSQH2yE3RuPZMcmAPAXcpH7cRFim"));
        let f =
            file_settings(env_table(vars(&[("XMARGIN_KEEPER_RISK_ARRAY_REFRESH_PERCENT", "80")])).unwrap());
        assert_eq!(f.unwrap().risk_array_refresh_percent, Some(80));
        // A numeric-looking string stays a string where the key wants one.
        let f = file_settings(env_table(vars(&[("XMARGIN_KEEPER_GROUP", "123")])).unwrap()).unwrap();
        assert_eq!(f.group.as_deref(), Some("123"));
    }

    #[test]
    fn bad_variables_are_refused_by_name() {
        let e = env_table(vars(&[("XMARGIN_KEEPER_GRUOP", "x")])).unwrap_err();
        assert!(e.contains("XMARGIN_KEEPER_GRUOP=x") && e.contains("unknown field"), "{e}");
        let e = env_table(vars(&[("XMARGIN_KEEPER_MIN_PROFIT", "lots")])).unwrap_err();
        assert!(e.contains("XMARGIN_KEEPER_MIN_PROFIT=lots"), "{e}");
        let e = env_table(vars(&[("XMARGIN_KEEPER_DRY_RUN", "yes")])).unwrap_err();
        assert!(e.contains("XMARGIN_KEEPER_DRY_RUN"), "{e}");
        let e = env_table(vars(&[("XMARGIN_KEEPER_LOG_FORMAT", "xml")])).unwrap_err();
        assert!(e.contains("unknown variant"), "{e}");
    }

    #[test]
    fn flags_beat_the_environment_which_beats_the_file() {
        let file = "group = \"G-file\"\nmin_profit = 1\npoll_interval_secs = 9\nmax_priority_fee_micro_lamports = 7000\n";
        let env = env_table(vars(&[("XMARGIN_KEEPER_MIN_PROFIT", "2"), ("XMARGIN_KEEPER_GROUP", "G-env")]))
            .unwrap();
        let f = layered(Some(("k.toml", file)), env).unwrap();
        let s = settings(&["--min-profit".into(), "3".into()], f.clone()).unwrap();
        assert_eq!((s.min_profit, s.group.as_str(), s.poll_interval_secs), (3, "G-env", 9));
        assert_eq!(settings(&[], f).unwrap().min_profit, 2);
        assert!(matches!(
            settings(&[], layered(Some(("k", file)), toml::Table::new()).unwrap()).unwrap().fee,
            FeePolicy::Recent { max: 7_000, .. }
        ));
        let e = layered(Some(("k.toml", "grup = 1")), toml::Table::new()).unwrap_err();
        assert!(e.starts_with("k.toml: ") && e.contains("unknown field"), "{e}");
    }

    #[test]
    fn load_reads_the_file_the_environment_names() {
        let path = std::env::temp_dir().join(format!("keeper-env-test-{}.toml", std::process::id()));
        std::fs::write(&path, "group = \"G\"\nlog_format = \"json\"\n").unwrap();
        let p = path.to_str().unwrap();
        let s =
            load(&[], vars(&[("XMARGIN_KEEPER_CONFIG", p), ("XMARGIN_KEEPER_SUBSCRIBE", "false")])).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!((s.group.as_str(), s.subscribe), ("G", false));
        assert_eq!(s.log_format, crate::config::LogFormat::Json);
        let e = load(&[], vars(&[("XMARGIN_KEEPER_CONFIG", "/nonexistent/k.toml")])).unwrap_err();
        assert!(e.contains("cannot read /nonexistent/k.toml"), "{e}");
    }
}
