//! Bank parameters as admins write them (integers in basis points), their
//! bounds, and their conversion into the fixed-point values the bank stores.
//! Shared by `add_bank` and `update_bank`.
use anchor_lang::prelude::*;
use xmargin_risk::interest::InterestCurve;
use xmargin_risk::{Fixed, Rounding};

use crate::errors::XmarginError;
use crate::state::{Bank, BankRiskParams, StoredFixed};

/// 1 = 0.01 %.
pub const BPS: u64 = 10_000;
/// Largest liability weight accepted (5×).
pub const MAX_LIAB_WEIGHT_BPS: u32 = 50_000;
/// Largest annual borrow rate accepted (1000 %).
pub const MAX_RATE_BPS: u32 = 100_000;
/// Largest liquidation fee accepted (25 %).
pub const MAX_LIQUIDATION_FEE_BPS: u32 = 2_500;
/// Largest confidence multiplier `k` accepted (in hundredths: 1000 = 10×).
pub const MAX_CONF_MULTIPLIER_CENTI: u32 = 1_000;
/// Largest accepted conf/price bound (10 %).
pub const MAX_CONF_RATIO_BPS: u32 = 1_000;
/// Oracle max age bounds (seconds).
pub const MAX_ORACLE_AGE_SECS: u32 = 3_600;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BankRiskArgs {
    pub init_asset_weight_bps: u32,
    pub maint_asset_weight_bps: u32,
    pub liq_end_asset_weight_bps: u32,
    pub init_liab_weight_bps: u32,
    pub maint_liab_weight_bps: u32,
    pub liq_end_liab_weight_bps: u32,
    pub deposit_cap: u64,
    pub borrow_limit: u64,
    pub deposit_weight_scale_start: u64,
    pub borrow_weight_scale_start: u64,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BankOracleArgs {
    pub max_oracle_age_secs: u32,
    /// Largest accepted `conf / price`, in bps.
    pub max_conf_ratio_bps: u32,
    /// `k` in hundredths (100 = 1·conf).
    pub conf_multiplier_centi: u32,
    /// Largest stable-price move per hour, in bps.
    pub stable_price_growth_bps_per_hour: u32,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BankInterestArgs {
    pub zero_util_rate_bps: u32,
    pub optimal_util_bps: u32,
    pub optimal_rate_bps: u32,
    pub max_rate_bps: u32,
    /// Share of borrow interest kept by the protocol, in bps.
    pub protocol_fee_bps: u32,
    /// Liquidation bonus when this token is taken as collateral, in bps.
    pub liquidation_fee_bps: u32,
}

fn ratio(numerator: u64, denominator: u64) -> Result<Fixed> {
    let n = i64::try_from(numerator).map_err(|_| error!(XmarginError::MathOverflow))?;
    Fixed::from_ratio(n, denominator, Rounding::Floor).map_err(|_| error!(XmarginError::MathOverflow))
}

fn bps(value: u32) -> Result<StoredFixed> {
    Ok(ratio(u64::from(value), BPS)?.into())
}

impl BankRiskArgs {
    /// Validated stored form. Weights must satisfy
    /// `0 ≤ init_asset ≤ liq_end_asset ≤ maint_asset ≤ 1 ≤ maint_liab ≤ liq_end_liab ≤ init_liab ≤ 5`.
    pub fn to_params(&self) -> Result<BankRiskParams> {
        let (ia, ma, la) =
            (self.init_asset_weight_bps, self.maint_asset_weight_bps, self.liq_end_asset_weight_bps);
        let (il, ml, ll) =
            (self.init_liab_weight_bps, self.maint_liab_weight_bps, self.liq_end_liab_weight_bps);
        let one = BPS as u32;
        let ordered = ia <= la && la <= ma && ma <= one && one <= ml && ml <= ll && ll <= il;
        if !ordered || il > MAX_LIAB_WEIGHT_BPS {
            msg!(
                "weights (bps) asset init {} liq-end {} maint {}, liab maint {} liq-end {} init {}",
                ia,
                la,
                ma,
                ml,
                ll,
                il
            );
            return err!(XmarginError::InvalidWeights);
        }
        let params = BankRiskParams {
            init_asset_weight: bps(ia)?,
            maint_asset_weight: bps(ma)?,
            liq_end_asset_weight: bps(la)?,
            init_liab_weight: bps(il)?,
            maint_liab_weight: bps(ml)?,
            liq_end_liab_weight: bps(ll)?,
            deposit_cap: self.deposit_cap,
            borrow_limit: self.borrow_limit,
            deposit_weight_scale_start: self.deposit_weight_scale_start,
            borrow_weight_scale_start: self.borrow_weight_scale_start,
        };
        params.weights().validate().map_err(|_| error!(XmarginError::InvalidWeights))?;
        Ok(params)
    }
}

impl BankOracleArgs {
    /// Validates and writes the oracle rules into `params`.
    pub fn write_to(&self, params: &mut crate::state::BankSafetyParams) -> Result<()> {
        if self.max_oracle_age_secs == 0 || self.max_oracle_age_secs > MAX_ORACLE_AGE_SECS {
            return Err(error!(XmarginError::InvalidOracleConfig)
                .with_values((self.max_oracle_age_secs, MAX_ORACLE_AGE_SECS)));
        }
        if self.max_conf_ratio_bps == 0 || self.max_conf_ratio_bps > MAX_CONF_RATIO_BPS {
            return Err(error!(XmarginError::InvalidOracleConfig)
                .with_values((self.max_conf_ratio_bps, MAX_CONF_RATIO_BPS)));
        }
        if self.conf_multiplier_centi > MAX_CONF_MULTIPLIER_CENTI
            || self.stable_price_growth_bps_per_hour == 0
        {
            return err!(XmarginError::InvalidOracleConfig);
        }
        params.max_oracle_age_secs = self.max_oracle_age_secs;
        params.max_conf_ratio = bps(self.max_conf_ratio_bps)?;
        params.conf_multiplier = ratio(u64::from(self.conf_multiplier_centi), 100)?.into();
        params.stable_price_growth_per_sec =
            ratio(u64::from(self.stable_price_growth_bps_per_hour), BPS * 3_600)?.into();
        Ok(())
    }

    /// Listing: validated and in force at once.
    pub fn apply(&self, bank: &mut Bank) -> Result<()> {
        let mut params = bank.safety_params();
        self.write_to(&mut params)?;
        bank.set_safety_params(&params);
        Ok(())
    }
}

impl BankInterestArgs {
    /// Validates and puts the curve and protocol fee in force, and writes the
    /// liquidation fee into `safety` (in force at listing; delayed when an
    /// update raises it).
    pub fn apply(&self, bank: &mut Bank, safety: &mut crate::state::BankSafetyParams) -> Result<()> {
        let curve_ok = self.max_rate_bps <= MAX_RATE_BPS
            && self.optimal_util_bps > 0
            && u64::from(self.optimal_util_bps) < BPS
            && self.zero_util_rate_bps <= self.optimal_rate_bps
            && self.optimal_rate_bps <= self.max_rate_bps
            && u64::from(self.protocol_fee_bps) <= BPS
            && self.liquidation_fee_bps <= MAX_LIQUIDATION_FEE_BPS;
        if !curve_ok {
            msg!(
                "interest (bps) r0 {} u* {} r* {} rmax {} fee {} liq fee {}",
                self.zero_util_rate_bps,
                self.optimal_util_bps,
                self.optimal_rate_bps,
                self.max_rate_bps,
                self.protocol_fee_bps,
                self.liquidation_fee_bps
            );
            return err!(XmarginError::InvalidInterestConfig);
        }
        bank.zero_util_rate = bps(self.zero_util_rate_bps)?;
        bank.optimal_util = bps(self.optimal_util_bps)?;
        bank.optimal_rate = bps(self.optimal_rate_bps)?;
        bank.max_rate = bps(self.max_rate_bps)?;
        bank.protocol_fee_rate = bps(self.protocol_fee_bps)?;
        safety.liquidation_fee = bps(self.liquidation_fee_bps)?;
        let curve: InterestCurve = bank.interest_curve();
        curve.validate().map_err(|_| error!(XmarginError::InvalidInterestConfig))?;
        Ok(())
    }
}
