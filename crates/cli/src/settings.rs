//! Connection settings the Solana CLI way: `-u/--url` (a URL or a moniker),
//! `-k/--keypair`, `--commitment`, each taken from the flag, else from the
//! Solana CLI config file (`~/.config/solana/cli/config.yml`, or `-C FILE`),
//! else a default. The config file is flat YAML (`key: value`, values
//! quoted or not), read by [`parse_config`] without a YAML library.
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Where the Solana CLI keeps its config, under `$HOME`.
pub const DEFAULT_CONFIG: &str = ".config/solana/cli/config.yml";
pub const DEFAULT_URL: &str = "http://127.0.0.1:8899";
pub const DEFAULT_KEYPAIR: &str = "~/.config/solana/id.json";

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Commitment {
    Processed,
    #[default]
    Confirmed,
    Finalized,
}

impl Commitment {
    /// The RPC client's form.
    pub fn config(self) -> solana_commitment_config::CommitmentConfig {
        use solana_commitment_config::CommitmentConfig;
        match self {
            Commitment::Processed => CommitmentConfig::processed(),
            Commitment::Confirmed => CommitmentConfig::confirmed(),
            Commitment::Finalized => CommitmentConfig::finalized(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SettingsError {
    /// `-C FILE` names a file that cannot be read.
    Unreadable { path: String, reason: String },
    /// A line of the config file is not `key: value`.
    Line { path: String, line: usize, text: String },
    /// The config file's `commitment` is not one of the three.
    Commitment { path: String, value: String },
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SettingsError::Unreadable { path, reason } => write!(f, "config file {path}: {reason}"),
            SettingsError::Line { path, line, text } => {
                write!(f, "config file {path} line {line}: `{text}` is not `key: value`")
            }
            SettingsError::Commitment { path, value } => {
                write!(f, "config file {path}: commitment `{value}` is not processed, confirmed or finalized")
            }
        }
    }
}

/// What the flags said (`None`: not given).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    pub config: Option<String>,
    pub url: Option<String>,
    pub keypair: Option<String>,
    pub commitment: Option<Commitment>,
}

/// The settings in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub url: String,
    /// The config file's `websocket_url` (empty: derived from `url` by the client).
    pub websocket_url: String,
    /// `~` expanded.
    pub keypair: PathBuf,
    pub commitment: Commitment,
    /// The config file read, if any.
    pub config_file: Option<PathBuf>,
}

/// A URL for a moniker (`localhost`/`l`, `devnet`/`d`, `testnet`/`t`,
/// `mainnet-beta`/`m`); anything else is taken as a URL.
pub fn url_for(moniker_or_url: &str) -> String {
    match moniker_or_url {
        "localhost" | "l" => DEFAULT_URL.into(),
        "devnet" | "d" => "https://api.devnet.solana.com".into(),
        "testnet" | "t" => "https://api.testnet.solana.com".into(),
        "mainnet-beta" | "m" => "https://api.mainnet-beta.solana.com".into(),
        url => url.into(),
    }
}

/// `~` and `~/…` under `home`.
pub fn expand_tilde(path: &str, home: &Path) -> PathBuf {
    match path.strip_prefix('~') {
        Some("") => home.to_path_buf(),
        Some(rest) if rest.starts_with('/') => home.join(&rest[1..]),
        _ => PathBuf::from(path),
    }
}

fn unquote(v: &str) -> &str {
    let v = v.trim();
    for q in ['"', '\''] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return &v[1..v.len() - 1];
        }
    }
    v
}

/// The `key: value` pairs of a flat YAML file (`---`, blank lines and `#`
/// comments skipped; nested keys such as `address_labels:` kept with an
/// empty value, their indented entries skipped).
pub fn parse_config(path: &str, text: &str) -> Result<BTreeMap<String, String>, SettingsError> {
    let mut out = BTreeMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_end();
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed == "---" || line.starts_with([' ', '\t'])
        {
            continue;
        }
        let (key, value) = line.split_once(':').ok_or_else(|| SettingsError::Line {
            path: path.into(),
            line: i + 1,
            text: line.into(),
        })?;
        out.insert(key.trim().to_string(), unquote(value).to_string());
    }
    Ok(out)
}

fn read_config(
    explicit: Option<&str>,
    home: &Path,
) -> Result<(Option<PathBuf>, BTreeMap<String, String>), SettingsError> {
    let path = match explicit {
        Some(p) => expand_tilde(p, home),
        None => home.join(DEFAULT_CONFIG),
    };
    let shown = path.display().to_string();
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok((Some(path), parse_config(&shown, &text)?)),
        // The default file is optional; a file named by -C is not.
        Err(_) if explicit.is_none() => Ok((None, BTreeMap::new())),
        Err(e) => Err(SettingsError::Unreadable { path: shown, reason: e.to_string() }),
    }
}

fn commitment_named(path: &Path, value: &str) -> Result<Commitment, SettingsError> {
    match value {
        "processed" | "recent" => Ok(Commitment::Processed),
        "confirmed" | "single" | "singleGossip" => Ok(Commitment::Confirmed),
        "finalized" | "max" | "root" => Ok(Commitment::Finalized),
        other => Err(SettingsError::Commitment { path: path.display().to_string(), value: other.into() }),
    }
}

/// Flag, else config file, else default; `home` for `~` and the default file.
pub fn resolve(flags: &Overrides, home: &Path) -> Result<Settings, SettingsError> {
    let (config_file, file) = read_config(flags.config.as_deref(), home)?;
    let from_file = |key: &str| file.get(key).filter(|v| !v.is_empty()).cloned();
    let url = flags.url.clone().or_else(|| from_file("json_rpc_url")).unwrap_or_else(|| DEFAULT_URL.into());
    let keypair = flags.keypair.clone().or_else(|| from_file("keypair_path"));
    let commitment = match (flags.commitment, from_file("commitment")) {
        (Some(c), _) => c,
        (None, Some(v)) => commitment_named(config_file.as_deref().unwrap_or(home), &v)?,
        (None, None) => Commitment::default(),
    };
    Ok(Settings {
        url: url_for(&url),
        websocket_url: from_file("websocket_url").unwrap_or_default(),
        keypair: expand_tilde(keypair.as_deref().unwrap_or(DEFAULT_KEYPAIR), home),
        commitment,
        config_file,
    })
}

/// `$HOME` (empty when unset: paths then stay relative).
pub fn home_dir() -> PathBuf {
    PathBuf::from(std::env::var("HOME").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_home(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("xmargin-cli-settings-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(d.join(".config/solana/cli")).unwrap();
        d
    }

    const SOLANA_CONFIG: &str = "---\n\
        json_rpc_url: \"https://api.devnet.solana.com\"\n\
        websocket_url: ''\n\
        keypair_path: ~/keys/me.json\n\
        address_labels:\n  \"11111111111111111111111111111111\": System Program\n\
        commitment: finalized\n";

    /// The default file under $HOME: its URL, keypair (with `~` expanded)
    /// and commitment; flags win over it.
    #[test]
    fn the_solana_cli_config_file_gives_the_defaults() {
        let home = temp_home("default");
        std::fs::write(home.join(DEFAULT_CONFIG), SOLANA_CONFIG).unwrap();
        let s = resolve(&Overrides::default(), &home).unwrap();
        assert_eq!(s.url, "https://api.devnet.solana.com");
        assert_eq!(s.keypair, home.join("keys/me.json"));
        assert_eq!(s.commitment, Commitment::Finalized);
        assert_eq!(s.websocket_url, "");
        assert_eq!(s.config_file, Some(home.join(DEFAULT_CONFIG)));

        let flags = Overrides {
            url: Some("mainnet-beta".into()),
            keypair: Some("~/other.json".into()),
            commitment: Some(Commitment::Processed),
            config: None,
        };
        let s = resolve(&flags, &home).unwrap();
        assert_eq!(s.url, "https://api.mainnet-beta.solana.com", "the moniker, from the flag");
        assert_eq!(s.keypair, home.join("other.json"));
        assert_eq!(s.commitment, Commitment::Processed);
        let _ = std::fs::remove_dir_all(&home);
    }

    /// `-C FILE` reads another file; a moniker there resolves too; without
    /// any file the defaults hold; a named file that is missing is an error.
    #[test]
    fn another_config_file_and_the_defaults() {
        let home = temp_home("explicit");
        let other = home.join("cli.yml");
        std::fs::write(&other, "json_rpc_url: l\nkeypair_path: '/abs/id.json'\ncommitment: \"confirmed\"\n")
            .unwrap();
        let flags = Overrides { config: Some(other.display().to_string()), ..Overrides::default() };
        let s = resolve(&flags, &home).unwrap();
        assert_eq!((s.url.as_str(), s.keypair.to_str()), (DEFAULT_URL, Some("/abs/id.json")));
        assert_eq!(s.commitment, Commitment::Confirmed);

        let empty = temp_home("empty");
        let s = resolve(&Overrides::default(), &empty).unwrap();
        assert_eq!((s.url.as_str(), s.commitment, s.config_file), (DEFAULT_URL, Commitment::Confirmed, None));
        assert_eq!(s.keypair, empty.join(".config/solana/id.json"));

        let missing = Overrides { config: Some("/nonexistent/x.yml".into()), ..Overrides::default() };
        let e = resolve(&missing, &home).unwrap_err();
        assert!(matches!(&e, SettingsError::Unreadable { path, .. } if path == "/nonexistent/x.yml"));
        std::fs::write(&other, "commitment: soon\n").unwrap();
        let e = resolve(&flags, &home).unwrap_err().to_string();
        assert!(e.contains("commitment `soon`"), "{e}");
        std::fs::write(&other, "json_rpc_url\n").unwrap();
        let e = resolve(&flags, &home).unwrap_err();
        assert!(matches!(e, SettingsError::Line { line: 1, .. }), "{e}");
        let _ = std::fs::remove_dir_all(&home);
        let _ = std::fs::remove_dir_all(&empty);
    }

    #[test]
    fn monikers_and_urls() {
        assert_eq!(url_for("localhost"), "http://127.0.0.1:8899");
        assert_eq!(url_for("d"), "https://api.devnet.solana.com");
        assert_eq!(url_for("testnet"), "https://api.testnet.solana.com");
        assert_eq!(url_for("m"), "https://api.mainnet-beta.solana.com");
        assert_eq!(url_for("http://10.0.0.1:8899"), "http://10.0.0.1:8899");
        assert_eq!(expand_tilde("~", Path::new("/h")), PathBuf::from("/h"));
        assert_eq!(expand_tilde("~x/y", Path::new("/h")), PathBuf::from("~x/y"));
    }
}
