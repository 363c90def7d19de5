//! Derivative markets: perpetuals, dated futures and European options (the
//! option part: `state/option.rs`).
//!
//! Units: the market keeps prices as the risk engine does, in quote native
//! per *underlying native unit* (`Fixed`); instruction arguments and events
//! carry prices per *contract* (`contract_size` underlying native units) as
//! integers in quote native, so a trade's cash flow `contracts · price` is
//! exact.
use anchor_lang::prelude::*;
use xmargin_risk::health::{HealthType, PerType};
use xmargin_risk::health::{MarginRates, PnlLimits};
use xmargin_risk::price::PriceBias;
use xmargin_risk::Fixed;

use super::{BankSafetyParams, OptionParams, StoredFixed, StoredRiskArray};

/// PDA seed prefix of [`Market`]: `[MARKET_SEED, group, market_index (u16 LE)]`.
pub const MARKET_SEED: &[u8] = b"market";

/// Values of [`Market::kind`].
pub mod market_kind {
    pub const PERPETUAL: u8 = 0;
    pub const FUTURE: u8 = 1;
    /// European option, cash-settled in the quote token (`add_option_market`).
    pub const OPTION: u8 = 2;
}

/// Values of [`Market::status`].
pub mod market_status {
    /// Trading.
    pub const ACTIVE: u8 = 0;
    /// Expired with a settlement price: positions settle, nothing trades.
    pub const SETTLED: u8 = 1;
}

/// Risk parameters an admin can change, subject to the loosening delay
/// (`MarketRiskParams::tightest` says what applies at once).
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct MarketRiskParams {
    /// Requirement rates on notional: `maint ≤ liq_end ≤ init ≤ 1`.
    pub init_rate: StoredFixed,
    pub maint_rate: StoredFixed,
    pub liq_end_rate: StoredFixed,
    /// Weights of positive unrealised PnL: `init ≤ liq_end ≤ maint ≤ 1`.
    pub pnl_init_weight: StoredFixed,
    pub pnl_liq_end_weight: StoredFixed,
    pub pnl_maint_weight: StoredFixed,
    /// A trade priced outside `oracle · [1 − band, 1 + band]` is refused.
    pub price_band: StoredFixed,
    /// Share of a position's `|base| · stable price` its unrealised profit may
    /// settle into tokens per settle window.
    pub settle_fraction: StoredFixed,
    /// Size premium `imf` per √contract, `0 ≤ imf ≤ 1` (0: off): each rate
    /// becomes `min(1, max(r, 0.8·r + imf·√contracts))`
    /// (`xmargin_risk::health::size_premium`).
    pub size_premium: StoredFixed,
    /// Cap on one position's positive PnL in Init health (quote native).
    pub init_pnl_cap: u64,
    /// Open interest cap per side (contracts).
    pub open_interest_cap: u64,
}

const _: () = assert!(core::mem::size_of::<MarketRiskParams>() == 9 * 16 + 2 * 8);

impl MarketRiskParams {
    /// The rates for the risk engine; the size premium counts size in
    /// contracts of `contract_size` underlying native units.
    pub fn margin_rates(&self, contract_size: u64) -> MarginRates {
        MarginRates {
            init: self.init_rate.get(),
            maint: self.maint_rate.get(),
            liq_end: self.liq_end_rate.get(),
            short_option_min_delta: Fixed::ZERO,
            size_premium: self.size_premium.get(),
            contract_size,
            short_option: xmargin_risk::health::option_margin::ShortOptionRates::ZERO,
        }
    }

    pub fn pnl_limits(&self) -> PnlLimits {
        let mut weights = PerType::splat(Fixed::ONE);
        weights.set(HealthType::Init, self.pnl_init_weight.get());
        weights.set(HealthType::LiquidationEnd, self.pnl_liq_end_weight.get());
        weights.set(HealthType::Maint, self.pnl_maint_weight.get());
        PnlLimits { weights, init_cap: Some(Fixed::from_u64(self.init_pnl_cap)) }
    }

    /// Field-wise the more conservative: higher rates and size premium, lower
    /// PnL weights and caps, a narrower band, a smaller settle fraction.
    pub fn tightest(&self, other: &MarketRiskParams) -> MarketRiskParams {
        let lo = |a: StoredFixed, b: StoredFixed| if a.get() <= b.get() { a } else { b };
        let hi = |a: StoredFixed, b: StoredFixed| if a.get() >= b.get() { a } else { b };
        MarketRiskParams {
            init_rate: hi(self.init_rate, other.init_rate),
            maint_rate: hi(self.maint_rate, other.maint_rate),
            liq_end_rate: hi(self.liq_end_rate, other.liq_end_rate),
            pnl_init_weight: lo(self.pnl_init_weight, other.pnl_init_weight),
            pnl_liq_end_weight: lo(self.pnl_liq_end_weight, other.pnl_liq_end_weight),
            pnl_maint_weight: lo(self.pnl_maint_weight, other.pnl_maint_weight),
            price_band: lo(self.price_band, other.price_band),
            settle_fraction: lo(self.settle_fraction, other.settle_fraction),
            size_premium: hi(self.size_premium, other.size_premium),
            init_pnl_cap: self.init_pnl_cap.min(other.init_pnl_cap),
            open_interest_cap: self.open_interest_cap.min(other.open_interest_cap),
        }
    }
}

/// A derivative market of a group on a listed bank's underlying.
#[account(zero_copy)]
#[derive(Debug)]
pub struct Market {
    pub group: Pubkey,
    /// The underlying bank's Pyth oracle (health accounts carry it once).
    pub oracle: Pubkey,
    pub feed_id: [u8; 32],
    /// UTF-8, zero padded (e.g. `SOL-PERP`).
    pub name: [u8; 16],

    /// Parameters in force, and a loosening waiting for its activation time.
    pub risk: MarketRiskParams,
    pub pending_risk: MarketRiskParams,
    pub pending_risk_activation_ts: i64,
    /// Oracle rules and the liquidation fee (same rules as a bank's).
    pub safety: BankSafetyParams,
    pub pending_safety: BankSafetyParams,
    /// Share of a liquidated position's notional paid to the insurance fund.
    pub insurance_fee: StoredFixed,
    /// Largest |premium| per day the funding rate follows (perpetuals).
    pub max_funding_premium: StoredFixed,

    /// Slow price (quote native per underlying native unit), as a bank's.
    pub stable_price: StoredFixed,
    /// Time-weighted trade price and oracle price (quote native per underlying native unit).
    pub mark_twap: StoredFixed,
    pub oracle_twap: StoredFixed,
    /// Cumulative funding, quote native per contract; longs pay when it rises.
    pub cum_funding: StoredFixed,
    /// Last hourly funding rate applied (fraction of the oracle price).
    pub last_funding_rate: StoredFixed,
    /// Rounding of funding settlement kept by the protocol (quote native, ≥ 0).
    pub funding_dust: StoredFixed,
    /// Expiry samples: Σ price · seconds (quote native per underlying native · s).
    pub sample_sum: StoredFixed,
    /// Settlement price once expired (quote native per underlying native unit).
    pub settlement_price: StoredFixed,
    /// Options: strike (quote native per underlying native unit, rounded
    /// down from `option.strike_per_contract`) and the volatility in force
    /// (a lowering waits in `option.pending_volatility`).
    pub strike: StoredFixed,
    pub volatility: StoredFixed,

    pub stable_price_ts: i64,
    pub twap_ts: i64,
    pub last_funding_ts: i64,
    /// 0 for perpetuals.
    pub expiry_ts: i64,
    pub last_sample_ts: i64,
    pub sample_secs: u64,
    /// Underlying native units per contract.
    pub contract_size: u64,
    /// Smallest trade (contracts).
    pub min_size: u64,
    /// Contracts long (= contracts short).
    pub open_interest: u64,
    pub twap_window_secs: u32,
    pub sample_count: u32,
    pub min_samples: u32,
    pub market_index: u16,
    pub underlying_token_index: u16,
    /// See [`market_kind`].
    pub kind: u8,
    /// See [`market_status`].
    pub status: u8,
    /// Options: 1 = call, 0 = put.
    pub option_is_call: u8,
    pub underlying_decimals: u8,
    pub bump: u8,
    pub reserved_bytes: [u8; 3],
    /// Margin accounts with a position slot in this market (open, or closed
    /// with PnL left to settle): the market closes only at zero.
    pub position_count: u64,
    /// The mark premium in force since `twap_ts` (signed fraction of the
    /// oracle): each trade moves it toward its own premium
    /// `price / oracle − 1` by `min(1, contracts / mark_depth)`, and a funding
    /// update resets it to 0 (the mark decays to the oracle when nobody
    /// trades). The interval up to the next update is folded into `mark_twap`
    /// at `oracle · (1 + mark_premium)`. Size weighting is why a min-size
    /// print at the band's edge cannot steer funding.
    pub mark_premium: StoredFixed,
    /// Contracts a trade needs to set the mark premium to its own in one go
    /// (> 0); smaller trades move it in proportion to their size.
    pub mark_depth: u64,
    /// Options: the risk array `update_risk_array` stores (model value,
    /// Greeks, scenario changes, when and at which spot).
    pub risk_array: StoredRiskArray,
    /// Options: short-option rates, volatility bounds and pending change, strike per contract.
    pub option: OptionParams,
}

const _: () = assert!(core::mem::size_of::<Market>() == Market::SIZE);
// 1,368 bytes for perpetuals and futures (issue 12), + 208 of option parameters.
const _: () = assert!(Market::SIZE == 1_576);
const _: () = assert!(core::mem::align_of::<Market>() == 8);

impl Market {
    /// Byte size without Anchor's 8-byte discriminator.
    pub const SIZE: usize =
        3 * 32 + 16 + 2 * 160 + 8 + 2 * 80 + 12 * 16 + 9 * 8 + 3 * 4 + 2 * 2 + 5 + 3 + 8 + 16 + 8 + 448 + 208;

    pub fn is_perpetual(&self) -> bool {
        self.kind == market_kind::PERPETUAL
    }

    /// Risk parameters in force at `now`: the pending loosening once due.
    pub fn risk_params(&self, now: i64) -> &MarketRiskParams {
        if self.pending_risk_activation_ts != 0 && now >= self.pending_risk_activation_ts {
            &self.pending_risk
        } else {
            &self.risk
        }
    }

    /// Oracle rules and liquidation fee in force at `now`.
    pub fn safety_params(&self, now: i64) -> &BankSafetyParams {
        if self.pending_safety.activation_ts != 0 && now >= self.pending_safety.activation_ts {
            &self.pending_safety
        } else {
            &self.safety
        }
    }

    /// Moves a due pending change into force (called by writers of the market).
    pub fn apply_due_params(&mut self, now: i64) {
        if self.pending_risk_activation_ts != 0 && now >= self.pending_risk_activation_ts {
            self.risk = self.pending_risk;
            self.pending_risk = MarketRiskParams::default();
            self.pending_risk_activation_ts = 0;
        }
        if self.pending_safety.activation_ts != 0 && now >= self.pending_safety.activation_ts {
            self.safety = BankSafetyParams { activation_ts: 0, ..self.pending_safety };
            self.pending_safety = BankSafetyParams::default();
        }
    }

    pub fn bias(&self, now: i64) -> PriceBias {
        PriceBias { conf_multiplier: self.safety_params(now).conf_multiplier.get() }
    }

    /// Expired at `now` (dated futures and options; perpetuals never expire).
    pub fn is_expired(&self, now: i64) -> bool {
        self.expiry_ts != 0 && now >= self.expiry_ts
    }

    pub fn name_str(&self) -> &str {
        let end = self.name.iter().position(|b| *b == 0).unwrap_or(self.name.len());
        core::str::from_utf8(&self.name[..end]).unwrap_or("")
    }
}
