//! Option-market parameters as admins write them (basis points), their
//! bounds, and their stored form. Shared by `add_option_market` and
//! `set_volatility`.
use anchor_lang::prelude::*;
use xmargin_risk::health::option_margin::DERIVE_SHORT_OPTION_BPS;
use xmargin_risk::{Fixed, Rounding};

use super::bank_params::BPS;
use super::market_params::bps;
use crate::errors::XmarginError;
use crate::state::{OptionParams, StoredFixed};

/// Highest volatility a market may allow (500 %).
pub const MAX_VOLATILITY_BPS: u32 = 50_000;
/// Longest time from listing to expiry (366 days).
pub const MAX_OPTION_TENOR_SECS: i64 = 366 * 86_400;
/// A strike lies within `[oracle / 10, 10 · oracle]` at listing.
pub const MAX_STRIKE_RATIO: u64 = 10;

/// Short-option requirement rates in bps of spot
/// (`xmargin_risk::health::option_margin`): Init
/// `max(init_base − OTM %, init_floor)`, LiquidationEnd, Maint;
/// `maint ≤ liq_end ≤ init_floor ≤ init_base ≤ 100 %`, fees below `maint`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShortOptionArgs {
    pub init_base_bps: u32,
    pub init_floor_bps: u32,
    pub liq_end_bps: u32,
    pub maint_bps: u32,
}

impl Default for ShortOptionArgs {
    /// Derive's standard manager: Init `max(15 % − OTM %, 13 %)`, Maint 9 %
    /// (LiquidationEnd 11 %).
    fn default() -> Self {
        let [init_base_bps, init_floor_bps, liq_end_bps, maint_bps] = DERIVE_SHORT_OPTION_BPS;
        ShortOptionArgs { init_base_bps, init_floor_bps, liq_end_bps, maint_bps }
    }
}

/// Volatility at listing and its bounds, in bps (10,000 = 100 %).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VolatilityArgs {
    pub volatility_bps: u32,
    /// `0 < min ≤ volatility ≤ max ≤ MAX_VOLATILITY_BPS`.
    pub min_volatility_bps: u32,
    pub max_volatility_bps: u32,
    /// Largest change of one `set_volatility`, in bps of the volatility in
    /// force (`1 ..= 10,000`): 2,500 lets 60 % move to 45 % … 75 %.
    pub max_change_bps: u32,
}

impl ShortOptionArgs {
    /// Validated, into `params`.
    pub fn write_to(&self, params: &mut OptionParams, fees_bps: u64) -> Result<()> {
        let (b, f, l, m) = (self.init_base_bps, self.init_floor_bps, self.liq_end_bps, self.maint_bps);
        let ok = m > 0 && m <= l && l <= f && f <= b && u64::from(b) <= BPS && fees_bps < u64::from(m);
        if !ok {
            msg!(
                "short-option rates (bps) init {} floor {} liq-end {} maint {}, fees {}",
                b,
                f,
                l,
                m,
                fees_bps
            );
            return err!(XmarginError::InvalidMarketConfig);
        }
        params.short_init_base = bps(b)?;
        params.short_init_floor = bps(f)?;
        params.short_liq_end = bps(l)?;
        params.short_maint = bps(m)?;
        Ok(())
    }
}

impl VolatilityArgs {
    /// Validated, into `params`; returns the volatility.
    pub fn write_to(&self, params: &mut OptionParams) -> Result<StoredFixed> {
        let (v, lo, hi, c) =
            (self.volatility_bps, self.min_volatility_bps, self.max_volatility_bps, self.max_change_bps);
        let ok = lo > 0 && lo <= v && v <= hi && hi <= MAX_VOLATILITY_BPS && (1..=BPS as u32).contains(&c);
        if !ok {
            msg!("volatility {} min {} max {} max change {} (bps)", v, lo, hi, c);
            return Err(error!(XmarginError::InvalidVolatilityConfig).with_values((v, hi)));
        }
        params.min_volatility = bps(lo)?;
        params.max_volatility = bps(hi)?;
        params.max_volatility_change = bps(c)?;
        bps(v)
    }
}

/// A stored fraction as whole bps. Stored fractions come from whole bps
/// rounded down to 2^-48, so rounding up gives the bps back exactly.
pub fn to_bps(value: Fixed) -> u32 {
    value
        .checked_mul_int(BPS as i64)
        .and_then(|v| v.to_i64(Rounding::Ceil))
        .ok()
        .and_then(|v| u32::try_from(v).ok())
        .unwrap_or(u32::MAX)
}
