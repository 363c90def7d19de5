//! Market parameters as admins write them (integers in basis points), their
//! bounds, and their conversion into the stored fixed-point values. Shared by
//! `add_market`, `add_option_market` and `update_market`.
use anchor_lang::prelude::*;
use xmargin_risk::{Fixed, Rounding};

use super::bank_params::BPS;
use crate::errors::XmarginError;
use crate::state::{MarketRiskParams, StoredFixed};

/// Widest trade price band (50 %).
pub const MAX_PRICE_BAND_BPS: u32 = 5_000;
/// Largest daily funding premium clamp (100 % per day).
pub const MAX_FUNDING_PREMIUM_BPS: u32 = 10_000;
/// Mark/oracle time-weighting window bounds (seconds). At least the funding
/// period, so the last minute before an update cannot set the hour's rate.
pub const MIN_TWAP_WINDOW_SECS: u32 = 3_600;
pub const MAX_TWAP_WINDOW_SECS: u32 = 86_400;
/// Most expiry samples a settlement may require (one per second of the window).
pub const MAX_MIN_SAMPLES: u32 = 1_800;
/// Whether a dated market's `min_samples` (samples its time-weighted
/// settlement price needs) is within `1..=MAX_MIN_SAMPLES`: futures
/// (`add_market`) and options (`add_option_market`) alike.
pub fn min_samples_valid(min_samples: u32) -> bool {
    (1..=MAX_MIN_SAMPLES).contains(&min_samples)
}
/// Parts per million of the size premium's unit.
pub const PPM: u64 = 1_000_000;
/// Largest size premium: 1 per √contract (a single contract may then carry
/// a 100 % rate; the rate is capped at 1 in any case).
pub const MAX_SIZE_PREMIUM_PPM: u32 = 1_000_000;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MarketRiskArgs {
    /// Requirement rates on notional: `0 < maint ≤ liq_end ≤ init ≤ 100 %`.
    pub init_rate_bps: u32,
    pub maint_rate_bps: u32,
    pub liq_end_rate_bps: u32,
    /// Positive-PnL weights: `init ≤ liq_end ≤ maint ≤ 100 %`.
    pub pnl_init_weight_bps: u32,
    pub pnl_liq_end_weight_bps: u32,
    pub pnl_maint_weight_bps: u32,
    /// Trade price band around the oracle: `1 ..= 5,000` bps.
    pub price_band_bps: u32,
    /// Unrealised profit settleable per window, as a share of `|base| · stable price`.
    pub settle_fraction_bps: u32,
    /// Cap on one position's positive PnL in Init (quote native).
    pub init_pnl_cap: u64,
    /// Contracts per side (> 0).
    pub open_interest_cap: u64,
    /// Size premium `imf` in millionths per √contract, `0 ..= 1,000,000`
    /// (0: off): each rate becomes `min(1, max(r, 0.8·r + imf·√contracts))`.
    /// 1,000 (0.001) at 10,000 contracts adds 0.1: Init 10 % → 18 %.
    pub size_premium_ppm: u32,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MarketFundingArgs {
    /// Largest |premium| per day the funding rate follows (perpetuals).
    pub max_funding_premium_bps: u32,
    /// Window of the time-weighted mark and oracle prices (seconds).
    pub twap_window_secs: u32,
    /// Contracts a trade needs to move the mark premium all the way to its
    /// own (> 0); smaller trades move it in proportion.
    pub mark_depth: u64,
}

pub(crate) fn bps(value: u32) -> Result<StoredFixed> {
    Fixed::from_ratio(i64::from(value), BPS, Rounding::Floor)
        .map(StoredFixed::from)
        .map_err(|_| error!(XmarginError::MathOverflow))
}

pub(crate) fn ppm(value: u32) -> Result<StoredFixed> {
    Fixed::from_ratio(i64::from(value), PPM, Rounding::Floor)
        .map(StoredFixed::from)
        .map_err(|_| error!(XmarginError::MathOverflow))
}

impl MarketRiskArgs {
    /// Validated stored form; the liquidation and insurance fees together
    /// must stay below the maintenance rate, or a liquidation could not
    /// raise health (the position's released requirement pays the fees).
    pub fn to_params(&self, liquidation_fee_bps: u32, insurance_fee_bps: u32) -> Result<MarketRiskParams> {
        let one = BPS as u32;
        let (i, m, l) = (self.init_rate_bps, self.maint_rate_bps, self.liq_end_rate_bps);
        let (wi, wm, wl) = (self.pnl_init_weight_bps, self.pnl_maint_weight_bps, self.pnl_liq_end_weight_bps);
        let fees = u64::from(liquidation_fee_bps) + u64::from(insurance_fee_bps);
        if self.size_premium_ppm > MAX_SIZE_PREMIUM_PPM {
            return Err(error!(XmarginError::SizePremiumTooLarge)
                .with_values((self.size_premium_ppm, MAX_SIZE_PREMIUM_PPM)));
        }
        let ok = m > 0
            && m <= l
            && l <= i
            && i <= one
            && fees < u64::from(m)
            && wi <= wl
            && wl <= wm
            && wm <= one
            && (1..=MAX_PRICE_BAND_BPS).contains(&self.price_band_bps)
            && self.settle_fraction_bps <= one
            && self.open_interest_cap > 0;
        if !ok {
            msg!(
                "rates (bps) init {} liq-end {} maint {}, fees {}, pnl weights {} {} {}, band {}, settle {}, oi cap {}",
                i,
                l,
                m,
                fees,
                wi,
                wl,
                wm,
                self.price_band_bps,
                self.settle_fraction_bps,
                self.open_interest_cap
            );
            return err!(XmarginError::InvalidMarketConfig);
        }
        Ok(MarketRiskParams {
            init_rate: bps(i)?,
            maint_rate: bps(m)?,
            liq_end_rate: bps(l)?,
            pnl_init_weight: bps(wi)?,
            pnl_liq_end_weight: bps(wl)?,
            pnl_maint_weight: bps(wm)?,
            price_band: bps(self.price_band_bps)?,
            settle_fraction: bps(self.settle_fraction_bps)?,
            size_premium: ppm(self.size_premium_ppm)?,
            init_pnl_cap: self.init_pnl_cap,
            open_interest_cap: self.open_interest_cap,
        })
    }
}

impl MarketFundingArgs {
    pub fn validate(&self) -> Result<()> {
        let ok = self.max_funding_premium_bps <= MAX_FUNDING_PREMIUM_BPS
            && (MIN_TWAP_WINDOW_SECS..=MAX_TWAP_WINDOW_SECS).contains(&self.twap_window_secs)
            && self.mark_depth > 0;
        if !ok {
            msg!(
                "funding: premium cap {} bps, twap window {} s, mark depth {} contracts",
                self.max_funding_premium_bps,
                self.twap_window_secs,
                self.mark_depth
            );
            return err!(XmarginError::InvalidMarketConfig);
        }
        Ok(())
    }

    pub fn apply(&self, market: &mut crate::state::Market) -> Result<()> {
        self.validate()?;
        market.max_funding_premium = bps(self.max_funding_premium_bps)?;
        market.twap_window_secs = self.twap_window_secs;
        market.mark_depth = self.mark_depth;
        Ok(())
    }
}
