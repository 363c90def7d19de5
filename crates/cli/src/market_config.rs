//! Market entries as JSON (the format of `add-market --market-config` and
//! `update-market --update`): camelCase names of the program's arguments,
//! rates in basis points, large integers as numbers or strings (as in
//! `migrations/config.json`). Examples: `crates/cli/configs/*.json`.
//!
//! ```json
//! { "name": "SOL-PERP", "underlyingTokenIndex": 1, "kind": "perpetual",
//!   "contractSize": "10000000", "minSize": 1,
//!   "risk": { "initRateBps": 1000, "maintRateBps": 500, "liqEndRateBps": 750,
//!             "pnlInitWeightBps": 5000, "pnlLiqEndWeightBps": 7500, "pnlMaintWeightBps": 9000,
//!             "priceBandBps": 500, "settleFractionBps": 2000,
//!             "initPnlCap": "100000000", "openInterestCap": "1000000000",
//!             "sizePremiumPpm": 0 },
//!   "funding": { "maxFundingPremiumBps": 1000, "twapWindowSecs": 3600, "markDepth": 10000 },
//!   "liquidationFeeBps": 100, "insuranceFeeBps": 50 }
//! ```
//! A dated future adds `"kind": "future"`, `"expiryTs"` (unix seconds) and
//! `"minSamples"`. `sizePremiumPpm` (optional, default 0 = off) is the size
//! premium in millionths per √contract: 1000 charges `+0.001·√contracts`
//! on each rate (10,000 contracts: Init 10 % → max(10 %, 8 % + 10 %) = 18 %).
use serde::Deserialize;
use xmargin::instructions::{
    AddMarketArgs, BankOracleArgs, MarketFundingArgs, MarketRiskArgs, UpdateMarketArgs,
};
use xmargin::state::market_kind;

/// A `u64` written as a JSON number or a decimal string.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum U64 {
    Number(u64),
    Text(String),
}

impl U64 {
    pub fn get(&self, name: &str) -> Result<u64, String> {
        match self {
            U64::Number(n) => Ok(*n),
            U64::Text(s) => s.parse().map_err(|e| format!("{name} {s}: {e}")),
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MarketRiskConfig {
    pub init_rate_bps: u32,
    pub maint_rate_bps: u32,
    pub liq_end_rate_bps: u32,
    pub pnl_init_weight_bps: u32,
    pub pnl_liq_end_weight_bps: u32,
    pub pnl_maint_weight_bps: u32,
    pub price_band_bps: u32,
    pub settle_fraction_bps: u32,
    pub init_pnl_cap: U64,
    pub open_interest_cap: U64,
    /// Size premium in millionths per √contract (0: off).
    #[serde(default)]
    pub size_premium_ppm: u32,
}

impl MarketRiskConfig {
    pub(crate) fn args(&self) -> Result<MarketRiskArgs, String> {
        Ok(MarketRiskArgs {
            init_rate_bps: self.init_rate_bps,
            maint_rate_bps: self.maint_rate_bps,
            liq_end_rate_bps: self.liq_end_rate_bps,
            pnl_init_weight_bps: self.pnl_init_weight_bps,
            pnl_liq_end_weight_bps: self.pnl_liq_end_weight_bps,
            pnl_maint_weight_bps: self.pnl_maint_weight_bps,
            price_band_bps: self.price_band_bps,
            settle_fraction_bps: self.settle_fraction_bps,
            init_pnl_cap: self.init_pnl_cap.get("initPnlCap")?,
            open_interest_cap: self.open_interest_cap.get("openInterestCap")?,
            size_premium_ppm: self.size_premium_ppm,
        })
    }
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FundingConfig {
    pub max_funding_premium_bps: u32,
    pub twap_window_secs: u32,
    /// Contracts a trade needs to set the mark premium outright.
    pub mark_depth: u64,
}

impl FundingConfig {
    fn args(&self) -> MarketFundingArgs {
        MarketFundingArgs {
            max_funding_premium_bps: self.max_funding_premium_bps,
            twap_window_secs: self.twap_window_secs,
            mark_depth: self.mark_depth,
        }
    }
}

/// The oracle rules of a bank entry's `oracleConfig` (markets take their
/// underlying bank's at listing; `update-market` may change them).
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MarketOracleConfig {
    pub max_oracle_age_secs: u32,
    pub max_conf_ratio_bps: u32,
    pub conf_multiplier_centi: u32,
    pub stable_price_growth_bps_per_hour: u32,
}

/// One market to list (`add-market`).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MarketConfig {
    /// At most 16 bytes of UTF-8.
    pub name: String,
    pub underlying_token_index: u16,
    /// `"perpetual"` or `"future"`.
    pub kind: String,
    /// Futures: expiry (unix seconds).
    #[serde(default)]
    pub expiry_ts: i64,
    pub contract_size: U64,
    pub min_size: U64,
    pub risk: MarketRiskConfig,
    pub funding: FundingConfig,
    pub liquidation_fee_bps: u32,
    pub insurance_fee_bps: u32,
    /// Futures: samples needed for a time-weighted settlement price.
    #[serde(default)]
    pub min_samples: u32,
}

/// The zero-padded name of a market.
pub fn market_name(name: &str) -> Result<[u8; 16], String> {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.len() > 16 {
        return Err(format!("market name {name:?}: 1 to 16 bytes"));
    }
    let mut out = [0u8; 16];
    out[..bytes.len()].copy_from_slice(bytes);
    Ok(out)
}

impl MarketConfig {
    /// The `add_market` arguments for market `market_index` (the group's next).
    pub fn args(&self, market_index: u16) -> Result<AddMarketArgs, String> {
        let kind = match self.kind.as_str() {
            "perpetual" | "perp" => market_kind::PERPETUAL,
            "future" => market_kind::FUTURE,
            other => return Err(format!("kind {other:?}: \"perpetual\" or \"future\"")),
        };
        Ok(AddMarketArgs {
            market_index,
            kind,
            name: market_name(&self.name)?,
            contract_size: self.contract_size.get("contractSize")?,
            min_size: self.min_size.get("minSize")?,
            expiry_ts: self.expiry_ts,
            risk: self.risk.args()?,
            funding: self.funding.args(),
            liquidation_fee_bps: self.liquidation_fee_bps,
            insurance_fee_bps: self.insurance_fee_bps,
            min_samples: self.min_samples,
        })
    }
}

/// A change to a market (`update-market`): any of the sections, the rest kept.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MarketUpdateConfig {
    pub risk: Option<MarketRiskConfig>,
    pub oracle_config: Option<MarketOracleConfig>,
    pub liquidation_fee_bps: Option<u32>,
    pub insurance_fee_bps: Option<u32>,
    pub funding: Option<FundingConfig>,
}

impl MarketUpdateConfig {
    pub fn args(&self) -> Result<UpdateMarketArgs, String> {
        let args = UpdateMarketArgs {
            risk: self.risk.as_ref().map(MarketRiskConfig::args).transpose()?,
            oracle: self.oracle_config.map(|o| BankOracleArgs {
                max_oracle_age_secs: o.max_oracle_age_secs,
                max_conf_ratio_bps: o.max_conf_ratio_bps,
                conf_multiplier_centi: o.conf_multiplier_centi,
                stable_price_growth_bps_per_hour: o.stable_price_growth_bps_per_hour,
            }),
            liquidation_fee_bps: self.liquidation_fee_bps,
            insurance_fee_bps: self.insurance_fee_bps,
            funding: self.funding.map(|f| f.args()),
        };
        if args == UpdateMarketArgs::default() {
            return Err(
                "nothing to update: give risk, oracleConfig, liquidationFeeBps, insuranceFeeBps or funding"
                    .into(),
            );
        }
        Ok(args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped examples convert to exactly the test world's SOL markets.
    #[test]
    fn the_example_entries_are_the_test_markets() {
        let perp: MarketConfig = serde_json::from_str(include_str!("../configs/sol-perp.json")).unwrap();
        assert_eq!(perp.args(0).unwrap(), xmargin_test_support::markets::sol_perp_args(0));
        let future: MarketConfig = serde_json::from_str(include_str!("../configs/sol-future.json")).unwrap();
        let expiry = future.expiry_ts;
        assert_eq!(future.args(3).unwrap(), xmargin_test_support::markets::sol_future_args(3, expiry));
    }

    /// `sizePremiumPpm` is optional (0 = off) and goes into the risk arguments as written.
    #[test]
    fn size_premium_is_optional() {
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../configs/sol-perp.json")).unwrap();
        let off: MarketConfig = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(off.args(0).unwrap().risk.size_premium_ppm, 0);
        v["risk"]["sizePremiumPpm"] = 1_000.into();
        let on: MarketConfig = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(on.args(0).unwrap().risk.size_premium_ppm, 1_000);
        let u: MarketUpdateConfig = serde_json::from_value(serde_json::json!({ "risk": v["risk"] })).unwrap();
        assert_eq!(u.args().unwrap().risk.unwrap().size_premium_ppm, 1_000);
    }

    #[test]
    fn bad_entries_are_refused_with_a_reason() {
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../configs/sol-perp.json")).unwrap();
        v["kind"] = "swap".into();
        let c: MarketConfig = serde_json::from_value(v.clone()).unwrap();
        assert!(c.args(0).unwrap_err().contains("\"swap\""));
        v["kind"] = "perpetual".into();
        v["name"] = "A-NAME-LONGER-THAN-16".into();
        let c: MarketConfig = serde_json::from_value(v.clone()).unwrap();
        assert!(c.args(0).unwrap_err().contains("1 to 16 bytes"));
        v["contractSize"] = "ten".into();
        v["name"] = "X".into();
        let c: MarketConfig = serde_json::from_value(v.clone()).unwrap();
        assert!(c.args(0).unwrap_err().contains("contractSize ten"));
        v["contractSize"] = 7.into();
        v["typo"] = 1.into();
        assert!(serde_json::from_value::<MarketConfig>(v).is_err(), "unknown keys are refused");

        let u: MarketUpdateConfig = serde_json::from_str(r#"{ "insuranceFeeBps": 25 }"#).unwrap();
        assert_eq!(u.args().unwrap(), UpdateMarketArgs { insurance_fee_bps: Some(25), ..Default::default() });
        let u: MarketUpdateConfig = serde_json::from_str(
            r#"{ "funding": { "maxFundingPremiumBps": 500, "twapWindowSecs": 7200, "markDepth": 2000 } }"#,
        )
        .unwrap();
        assert_eq!(u.args().unwrap().funding.unwrap().twap_window_secs, 7_200);
        assert!(MarketUpdateConfig::default().args().unwrap_err().contains("nothing to update"));
    }
}
