//! A bank entry of `migrations/config.json` (the TypeScript deploy script's
//! format, `app/src/deploy.ts`), as `add-bank --bank-config FILE.json` reads
//! it: exactly one element of its `banks` array. `oracle` is optional as
//! there: without it the bank reads the sponsored Pyth feed account of its
//! `feedId` on `pythShard` (default 0).
use anchor_lang::prelude::{pubkey, Pubkey};
use serde::Deserialize;
use xmargin::instructions::{AddBankArgs, BankInterestArgs, BankOracleArgs, BankRiskArgs};

/// The Pyth push-oracle program: owner of the sponsored price feed accounts.
pub const PYTH_PUSH_ORACLE_ID: Pubkey = pubkey!("pythWSnswVUd12oZpeFP8e9CVaEqJg25g1Vtc2biRsT");

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BankConfig {
    #[serde(default)]
    pub symbol: Option<String>,
    pub mint: String,
    /// Pyth feed id, hex (with or without 0x).
    pub feed_id: String,
    /// The `PriceUpdateV2` account (default: the sponsored feed account).
    #[serde(default)]
    pub oracle: Option<String>,
    #[serde(default)]
    pub pyth_shard: Option<u16>,
    pub risk: RiskConfig,
    pub oracle_config: OracleConfig,
    pub interest: InterestConfig,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RiskConfig {
    pub init_asset_weight_bps: u32,
    pub liq_end_asset_weight_bps: u32,
    pub maint_asset_weight_bps: u32,
    pub maint_liab_weight_bps: u32,
    pub liq_end_liab_weight_bps: u32,
    pub init_liab_weight_bps: u32,
    pub deposit_cap: crate::market_config::U64,
    pub borrow_limit: crate::market_config::U64,
    pub deposit_weight_scale_start: crate::market_config::U64,
    pub borrow_weight_scale_start: crate::market_config::U64,
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OracleConfig {
    pub max_oracle_age_secs: u32,
    pub max_conf_ratio_bps: u32,
    pub conf_multiplier_centi: u32,
    pub stable_price_growth_bps_per_hour: u32,
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InterestConfig {
    pub zero_util_rate_bps: u32,
    pub optimal_util_bps: u32,
    pub optimal_rate_bps: u32,
    pub max_rate_bps: u32,
    pub protocol_fee_bps: u32,
    pub liquidation_fee_bps: u32,
}

/// The 32 bytes of a hex feed id.
pub fn feed_id(hex: &str) -> Result<[u8; 32], String> {
    let digits = hex.trim_start_matches("0x");
    if digits.len() != 64 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("feedId {hex}: need 64 hex digits"));
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&digits[2 * i..2 * i + 2], 16).expect("checked hex");
    }
    Ok(out)
}

/// The sponsored Pyth price feed account of `feed` on `shard`
/// (`pythFeedAccount` of `app/src/deploy.ts`).
pub fn pyth_feed_account(feed: &[u8; 32], shard: u16) -> Pubkey {
    Pubkey::find_program_address(&[&shard.to_le_bytes(), feed], &PYTH_PUSH_ORACLE_ID).0
}

fn key(field: &str, s: &str) -> Result<Pubkey, String> {
    s.parse().map_err(|e| format!("{field} {s}: {e}"))
}

impl RiskConfig {
    pub fn args(&self) -> Result<BankRiskArgs, String> {
        Ok(BankRiskArgs {
            init_asset_weight_bps: self.init_asset_weight_bps,
            maint_asset_weight_bps: self.maint_asset_weight_bps,
            liq_end_asset_weight_bps: self.liq_end_asset_weight_bps,
            init_liab_weight_bps: self.init_liab_weight_bps,
            maint_liab_weight_bps: self.maint_liab_weight_bps,
            liq_end_liab_weight_bps: self.liq_end_liab_weight_bps,
            deposit_cap: self.deposit_cap.get("depositCap")?,
            borrow_limit: self.borrow_limit.get("borrowLimit")?,
            deposit_weight_scale_start: self.deposit_weight_scale_start.get("depositWeightScaleStart")?,
            borrow_weight_scale_start: self.borrow_weight_scale_start.get("borrowWeightScaleStart")?,
        })
    }
}

impl OracleConfig {
    pub fn args(&self) -> BankOracleArgs {
        BankOracleArgs {
            max_oracle_age_secs: self.max_oracle_age_secs,
            max_conf_ratio_bps: self.max_conf_ratio_bps,
            conf_multiplier_centi: self.conf_multiplier_centi,
            stable_price_growth_bps_per_hour: self.stable_price_growth_bps_per_hour,
        }
    }
}

impl InterestConfig {
    pub fn args(&self) -> BankInterestArgs {
        BankInterestArgs {
            zero_util_rate_bps: self.zero_util_rate_bps,
            optimal_util_bps: self.optimal_util_bps,
            optimal_rate_bps: self.optimal_rate_bps,
            max_rate_bps: self.max_rate_bps,
            protocol_fee_bps: self.protocol_fee_bps,
            liquidation_fee_bps: self.liquidation_fee_bps,
        }
    }
}

impl BankConfig {
    /// Reads one entry from a file.
    pub fn read(path: &str) -> Result<BankConfig, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
        serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))
    }

    pub fn mint(&self) -> Result<Pubkey, String> {
        key("mint", &self.mint)
    }

    /// `oracle`, else the sponsored feed account of `feedId`.
    pub fn oracle(&self) -> Result<Pubkey, String> {
        match &self.oracle {
            Some(o) => key("oracle", o),
            None => Ok(pyth_feed_account(&feed_id(&self.feed_id)?, self.pyth_shard.unwrap_or(0))),
        }
    }

    pub fn add_bank_args(&self, token_index: u16) -> Result<AddBankArgs, String> {
        Ok(AddBankArgs {
            token_index,
            feed_id: feed_id(&self.feed_id)?,
            risk: self.risk.args()?,
            oracle: self.oracle_config.args(),
            interest: self.interest.args(),
        })
    }
}

/// The entries of the shipped `migrations/config.json`.
#[cfg(test)]
pub fn shipped_entries() -> Vec<BankConfig> {
    let config: serde_json::Value =
        serde_json::from_str(include_str!("../../../migrations/config.json")).unwrap();
    config["banks"].as_array().unwrap().iter().map(|b| serde_json::from_value(b.clone()).unwrap()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every entry of migrations/config.json, exactly as shipped (no
    /// `oracle`): it converts, and its oracle is the sponsored feed account.
    #[test]
    fn every_shipped_entry_converts_as_it_is() {
        let entries = shipped_entries();
        assert_eq!(entries.len(), 3);
        for (i, entry) in entries.iter().enumerate() {
            let args = entry.add_bank_args(i as u16).unwrap();
            assert_eq!(args.feed_id, feed_id(&entry.feed_id).unwrap());
            assert_eq!(entry.oracle().unwrap(), pyth_feed_account(&args.feed_id, 0));
            entry.mint().unwrap();
        }
        let sol = entries[1].add_bank_args(1).unwrap();
        assert_eq!(sol.risk.init_asset_weight_bps, 8_000);
        assert_eq!(sol.risk.deposit_cap, 500_000_000_000_000);
        assert_eq!(sol.feed_id[0], 0xef);
        assert_eq!(sol.interest.liquidation_fee_bps, 500);
    }

    /// The SOL/USD sponsored feed account on shard 0, as the Pyth docs and
    /// `pythFeedAccount` (app/src/deploy.ts) give it.
    #[test]
    fn the_sponsored_feed_account_matches_the_typescript_derivation() {
        let sol = feed_id("0xef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d").unwrap();
        assert_eq!(pyth_feed_account(&sol, 0).to_string(), "7UVimffxr9ow1uXYxsr4LHAcV58mLzhmwaeKvJ1pjLiE");
    }

    #[test]
    fn an_explicit_oracle_and_bad_fields() {
        let mut entry = shipped_entries().remove(1);
        let o = Pubkey::new_unique();
        entry.oracle = Some(o.to_string());
        assert_eq!(entry.oracle().unwrap(), o);
        entry.oracle = Some("nope".into());
        assert!(entry.oracle().unwrap_err().starts_with("oracle nope"));
        assert!(feed_id("abcd").unwrap_err().contains("64 hex digits"));
        assert!(feed_id(&"zz".repeat(32)).unwrap_err().contains("64 hex digits"));
        let typo = r#"{"mint":"x","feedId":"y","orcale":"z"}"#;
        assert!(serde_json::from_str::<BankConfig>(typo).unwrap_err().to_string().contains("orcale"));
    }
}
