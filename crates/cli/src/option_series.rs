//! An option series as JSON (`add-option-series --series-config`, and the
//! `optionSeries` entries of `migrations/config.json`): one entry lists
//! every strike × expiry × kind of an underlying with shared terms; flags
//! may replace its strikes, expiries and kinds. Example:
//! `crates/cli/configs/sol-options.json`.
//!
//! ```json
//! { "namePrefix": "SOL", "underlyingTokenIndex": 1,
//!   "contractSize": "10000000", "minSize": 1,
//!   "strikes": ["1500000", "1650000"], "expiries": [1798761600], "kinds": ["call", "put"],
//!   "risk": { …as add-market's, sizePremiumPpm 0… },
//!   "short": { "initBaseBps": 1500, "initFloorBps": 1300, "liqEndBps": 1100, "maintBps": 900 },
//!   "volatility": { "volatilityBps": 6000, "minVolatilityBps": 1000,
//!                   "maxVolatilityBps": 20000, "maxChangeBps": 2500 },
//!   "liquidationFeeBps": 100, "insuranceFeeBps": 50, "minSamples": 5 }
//! ```
//! Strikes are quote native per contract (the unit of every instruction
//! price: 1.65 USDC on 0.01 SOL contracts is `1650000`); expiries unix
//! seconds; `short` is optional (Derive's standard manager); `minSamples`
//! (required, 1 … 1,800 as a future's) is the count of expiry samples a
//! time-weighted settlement price needs. Markets are
//! listed expiry by expiry, strike by strike, calls before puts, at the
//! group's next indices, named `{prefix}-{strike per token}{C|P}-{yymmdd}`
//! (`SOL-165C-261231`, at most 16 bytes).
use serde::Deserialize;
use xmargin::instructions::{AddOptionMarketArgs, ShortOptionArgs, VolatilityArgs};

use crate::amount::ui;
use crate::market_config::{market_name, MarketRiskConfig, U64};

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum OptionKind {
    Call,
    Put,
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShortConfig {
    pub init_base_bps: u32,
    pub init_floor_bps: u32,
    pub liq_end_bps: u32,
    pub maint_bps: u32,
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VolatilityConfig {
    pub volatility_bps: u32,
    pub min_volatility_bps: u32,
    pub max_volatility_bps: u32,
    pub max_change_bps: u32,
}

/// One option series (module docs).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OptionSeriesConfig {
    pub name_prefix: String,
    pub underlying_token_index: u16,
    pub contract_size: U64,
    pub min_size: U64,
    #[serde(default)]
    pub strikes: Vec<U64>,
    #[serde(default)]
    pub expiries: Vec<i64>,
    /// Default: both.
    #[serde(default)]
    pub kinds: Vec<OptionKind>,
    pub risk: MarketRiskConfig,
    pub short: Option<ShortConfig>,
    pub volatility: VolatilityConfig,
    pub liquidation_fee_bps: u32,
    pub insurance_fee_bps: u32,
    /// Samples needed for a time-weighted settlement price (no default).
    pub min_samples: u32,
}

/// Flags that replace the entry's lists (`None`: the entry's).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeriesOverrides {
    pub strikes: Option<Vec<u64>>,
    pub expiries: Option<Vec<i64>>,
    pub kinds: Option<Vec<OptionKind>>,
}

/// The decimals a strike label needs: the underlying's mint and the quote's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decimals {
    pub underlying: u8,
    pub quote: u8,
}

/// One market of a series, ready for `add_option_market`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeriesMarket {
    pub name: String,
    pub kind: OptionKind,
    pub strike: u64,
    pub expiry_ts: i64,
    pub args: AddOptionMarketArgs,
}

/// `yymmdd` of a unix time (UTC), by the civil-from-days rule of the
/// proleptic Gregorian calendar (eras of 400 years).
pub fn yymmdd(unix: i64) -> String {
    let z = unix.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{:02}{month:02}{day:02}", year.rem_euclid(100))
}

/// The strike per whole underlying token in quote units, trailing zeros
/// dropped (`1650000` per 0.01 SOL contract, 9 and 6 decimals: `165`).
pub fn strike_label(strike_per_contract: u64, contract_size: u64, d: Decimals) -> Result<String, String> {
    let per_token = u128::from(strike_per_contract) * 10u128.pow(u32::from(d.underlying));
    let native = per_token / u128::from(contract_size.max(1));
    let text =
        ui(i128::try_from(native).map_err(|_| format!("strike {strike_per_contract} too large"))?, d.quote);
    Ok(if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_string() } else { text })
}

impl OptionSeriesConfig {
    fn short_args(&self) -> ShortOptionArgs {
        self.short.map_or_else(ShortOptionArgs::default, |s| ShortOptionArgs {
            init_base_bps: s.init_base_bps,
            init_floor_bps: s.init_floor_bps,
            liq_end_bps: s.liq_end_bps,
            maint_bps: s.maint_bps,
        })
    }

    fn volatility_args(&self) -> VolatilityArgs {
        let v = self.volatility;
        VolatilityArgs {
            volatility_bps: v.volatility_bps,
            min_volatility_bps: v.min_volatility_bps,
            max_volatility_bps: v.max_volatility_bps,
            max_change_bps: v.max_change_bps,
        }
    }

    /// The series' markets from `first_index` on (module docs for the order and the names).
    pub fn plan(
        &self,
        o: &SeriesOverrides,
        first_index: u16,
        d: Decimals,
    ) -> Result<Vec<SeriesMarket>, String> {
        let strikes = match &o.strikes {
            Some(s) => s.clone(),
            None => self.strikes.iter().map(|s| s.get("strikes")).collect::<Result<_, _>>()?,
        };
        let expiries = o.expiries.clone().unwrap_or_else(|| self.expiries.clone());
        let mut kinds = o.kinds.clone().unwrap_or_else(|| self.kinds.clone());
        if kinds.is_empty() {
            kinds = vec![OptionKind::Call, OptionKind::Put];
        }
        kinds.sort_unstable();
        kinds.dedup();
        if strikes.is_empty() || expiries.is_empty() {
            return Err("an option series needs at least one strike and one expiry".into());
        }
        let (contract_size, min_size) =
            (self.contract_size.get("contractSize")?, self.min_size.get("minSize")?);
        let risk = self.risk.args()?;
        let mut out = Vec::with_capacity(strikes.len() * expiries.len() * kinds.len());
        for &expiry_ts in &expiries {
            for &strike in &strikes {
                for &kind in &kinds {
                    let index = u16::try_from(usize::from(first_index) + out.len())
                        .map_err(|_| "market indices beyond 65,535".to_string())?;
                    let letter = if kind == OptionKind::Call { "C" } else { "P" };
                    let label = strike_label(strike, contract_size, d)?;
                    let name = format!("{}-{label}{letter}-{}", self.name_prefix, yymmdd(expiry_ts));
                    let args = AddOptionMarketArgs {
                        market_index: index,
                        name: market_name(&name).map_err(|e| format!("{e}: use a shorter namePrefix"))?,
                        is_call: u8::from(kind == OptionKind::Call),
                        strike,
                        expiry_ts,
                        contract_size,
                        min_size,
                        risk,
                        short: self.short_args(),
                        volatility: self.volatility_args(),
                        liquidation_fee_bps: self.liquidation_fee_bps,
                        insurance_fee_bps: self.insurance_fee_bps,
                        min_samples: self.min_samples,
                    };
                    out.push(SeriesMarket { name, kind, strike, expiry_ts, args });
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use xmargin_test_support::options::{sol_call_args, sol_put_args};

    const EXAMPLE: &str = include_str!("../configs/sol-options.json");
    const SOL_USDC: Decimals = Decimals { underlying: 9, quote: 6 };

    #[test]
    fn dates_and_strike_labels() {
        assert_eq!(yymmdd(0), "700101");
        assert_eq!(yymmdd(1_798_761_600), "270101");
        assert_eq!(yymmdd(1_798_761_599), "261231");
        assert_eq!(yymmdd(951_782_400), "000229", "a leap day of a 400-year century");
        assert_eq!(strike_label(1_650_000, 10_000_000, SOL_USDC).unwrap(), "165");
        assert_eq!(strike_label(1_625_000, 10_000_000, SOL_USDC).unwrap(), "162.5");
        assert_eq!(strike_label(9_500_000, 100_000, Decimals { underlying: 8, quote: 6 }).unwrap(), "9500");
    }

    /// The shipped example lists 2 expiries × 3 strikes × call and put, the
    /// calls and puts exactly as the Rust tests list them.
    #[test]
    fn the_example_series_is_the_test_markets() {
        let series: OptionSeriesConfig = serde_json::from_str(EXAMPLE).unwrap();
        let plan = series.plan(&SeriesOverrides::default(), 4, SOL_USDC).unwrap();
        assert_eq!(plan.len(), 12);
        let first = &plan[0];
        assert_eq!((first.name.as_str(), first.args.market_index), ("SOL-150C-270101", 4));
        let mut call = sol_call_args(4, 1_500_000, first.expiry_ts);
        call.name = first.args.name;
        assert_eq!(first.args, call);
        let mut put = sol_put_args(5, 1_500_000, first.expiry_ts);
        put.name = plan[1].args.name;
        assert_eq!((plan[1].name.as_str(), plan[1].args), ("SOL-150P-270101", put));
        assert!(plan.iter().all(|m| m.name.len() <= 16));
        let indices: Vec<u16> = plan.iter().map(|m| m.args.market_index).collect();
        assert_eq!(indices, (4..16).collect::<Vec<_>>());
    }

    /// `migrations/config.json`'s `optionSeries` are entries of this format
    /// (the deploy script lists them with the same order and names: tests/migrate.test.ts).
    #[test]
    fn the_deploy_configs_series_are_this_format() {
        let config: serde_json::Value =
            serde_json::from_str(include_str!("../../../migrations/config.json")).unwrap();
        let entries = config["optionSeries"].as_array().expect("optionSeries");
        assert!(!entries.is_empty());
        for e in entries {
            let series: OptionSeriesConfig = serde_json::from_value(e.clone()).unwrap();
            let plan = series.plan(&SeriesOverrides::default(), 0, SOL_USDC).unwrap();
            assert_eq!(plan.len(), series.strikes.len() * series.expiries.len() * 2);
            let names: Vec<&str> = plan.iter().take(3).map(|m| m.name.as_str()).collect();
            assert_eq!(names, ["SOL-150C-270101", "SOL-150P-270101", "SOL-200C-270101"]);
        }
    }

    #[test]
    fn flags_replace_the_lists_and_bad_entries_are_refused() {
        let series: OptionSeriesConfig = serde_json::from_str(EXAMPLE).unwrap();
        let o = SeriesOverrides {
            strikes: Some(vec![1_625_000]),
            expiries: Some(vec![1_798_761_600, 1_801_440_000]),
            kinds: Some(vec![OptionKind::Put, OptionKind::Put]),
        };
        let e = series.plan(&o, 0, SOL_USDC).unwrap_err();
        assert!(e.contains("\"SOL-162.5P-270101\": 1 to 16 bytes: use a shorter namePrefix"), "{e}");
        let short = OptionSeriesConfig { name_prefix: "S".into(), ..series.clone() };
        let plan = short.plan(&o, 0, SOL_USDC).unwrap();
        let names: Vec<&str> = plan.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["S-162.5P-270101", "S-162.5P-270201"]);
        assert!(plan.iter().all(|m| m.args.is_call == 0));
        let none = SeriesOverrides { strikes: Some(vec![]), ..SeriesOverrides::default() };
        assert!(series.plan(&none, 0, SOL_USDC).unwrap_err().contains("at least one strike"));
        let mut long = series.clone();
        long.name_prefix = "SOLANA-WEEKLY".into();
        assert!(long
            .plan(&SeriesOverrides::default(), 0, SOL_USDC)
            .unwrap_err()
            .contains("shorter namePrefix"));
        let mut v: serde_json::Value = serde_json::from_str(EXAMPLE).unwrap();
        v["kinds"] = serde_json::json!(["straddle"]);
        assert!(serde_json::from_value::<OptionSeriesConfig>(v.clone()).is_err());
        v["kinds"] = serde_json::json!(["call"]);
        v["strikePrice"] = 1.into();
        let e = serde_json::from_value::<OptionSeriesConfig>(v).unwrap_err().to_string();
        assert!(e.contains("unknown field `strikePrice`"), "{e}");
        // No default sample count: the program refuses 0, as for a future.
        let mut v: serde_json::Value = serde_json::from_str(EXAMPLE).unwrap();
        v.as_object_mut().unwrap().remove("minSamples");
        let e = serde_json::from_value::<OptionSeriesConfig>(v).unwrap_err().to_string();
        assert!(e.contains("missing field `minSamples`"), "{e}");
    }
}
