//! The option part of a [`Market`] (issue 13): terms, volatility and its
//! bounds, the short-option requirement rates, and the stored risk array.
//!
//! Units: the strike is given and kept per *contract* in quote native
//! (`OptionParams::strike_per_contract`, like every instruction price) and,
//! for the math, per underlying native unit (`Market::strike`, rounded
//! down). Volatility is annualised (1.0 = 100 %).
use anchor_lang::prelude::*;
use xmargin_risk::health::option_margin::{ArrayValue, ShortOptionRates};
use xmargin_risk::health::OptionTerms;
use xmargin_risk::options::risk_array::{ArrayHeader, ArrayView, OptionSpec, RiskArray, RISK_ARRAY_BYTES};
use xmargin_risk::Fixed;

use super::{market_kind, Market, StoredFixed};

/// Option terms and risk settings of an option market (zero elsewhere).
#[zero_copy]
#[derive(Debug, PartialEq, Eq)]
pub struct OptionParams {
    /// Short-option requirement, fractions of spot
    /// (`xmargin_risk::health::option_margin`): Init
    /// `max(init_base · S − OTM, init_floor · S)`, LiquidationEnd, Maint.
    pub short_init_base: StoredFixed,
    pub short_init_floor: StoredFixed,
    pub short_liq_end: StoredFixed,
    pub short_maint: StoredFixed,
    /// Bounds of `Market::volatility`.
    pub min_volatility: StoredFixed,
    pub max_volatility: StoredFixed,
    /// Largest change of one `set_volatility`, relative to the volatility in force.
    pub max_volatility_change: StoredFixed,
    /// A lower volatility waiting for `pending_volatility_ts` (0: none).
    pub pending_volatility: StoredFixed,
    pub pending_volatility_ts: i64,
    /// Strike, quote native per contract (as listed).
    pub strike_per_contract: u64,
    pub reserved: [u8; 64],
}

const _: () = assert!(core::mem::size_of::<OptionParams>() == 8 * 16 + 2 * 8 + 64);

impl Default for OptionParams {
    fn default() -> Self {
        bytemuck::Zeroable::zeroed()
    }
}

/// A risk array as stored (`xmargin_risk::options::risk_array`, 448 bytes):
/// the header fields typed, so health reads them without decoding, and the
/// scenario changes as their little-endian bytes.
#[zero_copy]
#[derive(Debug, PartialEq, Eq)]
pub struct StoredRiskArray {
    pub computed_at: i64,
    pub grid_id: u32,
    pub scenario_count: u16,
    /// Layout version (`xmargin_risk::options::risk_array::ARRAY_FORMAT`).
    pub format: u16,
    pub spot: StoredFixed,
    pub volatility: StoredFixed,
    pub value: StoredFixed,
    pub delta: StoredFixed,
    pub gamma: StoredFixed,
    pub vega: StoredFixed,
    pub theta: StoredFixed,
    /// `c_k` of every scenario: one contract's value change in 2^-16 quote
    /// native, 40 × i64 LE.
    pub changes: [u8; 320],
}

const _: () = assert!(core::mem::size_of::<StoredRiskArray>() == RISK_ARRAY_BYTES);

impl Default for StoredRiskArray {
    fn default() -> Self {
        bytemuck::Zeroable::zeroed()
    }
}

impl StoredRiskArray {
    /// The stored form of `array` (the engine's `to_bytes` layout).
    pub fn from_array(array: &RiskArray) -> StoredRiskArray {
        bytemuck::cast(array.to_bytes())
    }

    /// The full array (scenarios included), field by field from the typed
    /// layout (no byte parsing: health reads it once per option position).
    pub fn to_array(&self) -> xmargin_risk::RiskResult<RiskArray> {
        if usize::from(self.scenario_count) > xmargin_risk::options::risk_array::RISK_ARRAY_SCENARIOS {
            return Err(xmargin_risk::RiskError::CapacityExceeded);
        }
        Ok(RiskArray {
            computed_at: self.computed_at,
            grid_id: self.grid_id,
            scenario_count: self.scenario_count,
            format: self.format,
            spot: self.spot.get(),
            vol: self.volatility.get(),
            value: self.value.get(),
            delta: self.delta.get(),
            gamma: self.gamma.get(),
            vega: self.vega.get(),
            theta: self.theta.get(),
            changes: bytemuck::cast(self.changes),
        })
    }

    /// What portfolio health reads, in place (the changes are not copied;
    /// the account data is 8-byte aligned, as `bytemuck::from_bytes` of the
    /// market already requires).
    pub fn view(&self) -> Option<ArrayView<'_>> {
        let changes: &[i64; 40] = bytemuck::try_cast_ref(&self.changes).ok()?;
        Some(ArrayView {
            grid_id: self.grid_id,
            scenario_count: self.scenario_count,
            spot: self.spot.get(),
            value: self.value.get(),
            delta: self.delta.get(),
            changes,
        })
    }

    /// What freshness reads.
    pub fn header(&self) -> ArrayHeader {
        ArrayHeader {
            computed_at: self.computed_at,
            grid_id: self.grid_id,
            scenario_count: self.scenario_count,
            format: self.format,
            spot: self.spot.get(),
        }
    }

    /// What linear health values the option by: spot, value, Δ and Γ.
    pub fn array_value(&self) -> ArrayValue {
        ArrayValue {
            spot: self.spot.get(),
            value: self.value.get(),
            delta: self.delta.get(),
            gamma: self.gamma.get(),
        }
    }
}

impl Market {
    pub fn is_option(&self) -> bool {
        self.kind == market_kind::OPTION
    }

    /// Volatility in force at `now`: a pending lowering once due.
    pub fn volatility_at(&self, now: i64) -> Fixed {
        let o = &self.option;
        if o.pending_volatility_ts != 0 && now >= o.pending_volatility_ts {
            o.pending_volatility.get()
        } else {
            self.volatility.get()
        }
    }

    /// Moves a due pending volatility into force (writers of the market).
    pub fn apply_due_volatility(&mut self, now: i64) {
        if self.option.pending_volatility_ts != 0 && now >= self.option.pending_volatility_ts {
            self.volatility = self.option.pending_volatility;
            self.option.pending_volatility = StoredFixed::ZERO;
            self.option.pending_volatility_ts = 0;
        }
    }

    /// What the risk array depends on besides price, volatility and time.
    pub fn option_spec(&self) -> OptionSpec {
        OptionSpec {
            is_call: self.option_is_call != 0,
            strike: self.strike.get(),
            expiry_ts: self.expiry_ts,
            rate: Fixed::ZERO,
            contract_size: self.contract_size,
        }
    }

    pub fn short_option_rates(&self) -> ShortOptionRates {
        let o = &self.option;
        ShortOptionRates {
            init_base: o.short_init_base.get(),
            init_floor: o.short_init_floor.get(),
            liq_end: o.short_liq_end.get(),
            maint: o.short_maint.get(),
        }
    }

    /// The engine's terms of this option at `now` (volatility in force, rate 0).
    pub fn option_terms(&self, now: i64) -> OptionTerms {
        OptionTerms {
            is_call: self.option_is_call != 0,
            strike: self.strike.get(),
            seconds_to_expiry: self.expiry_ts.saturating_sub(now),
            vol: self.volatility_at(now),
            rate: Fixed::ZERO,
        }
    }
}
