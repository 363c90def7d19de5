//! The option side of `liquidate_position`: the step sized at the model
//! value of the market's risk array moved to the oracle price
//! (`xmargin_risk::liquidation::max_option_liquidation`,
//! module docs there: the fee on the value for a long, on spot for a short,
//! at most half the requirement released; the smallest whole count of
//! contracts after which LiquidationEnd health is ≥ 0, or the position).
//!
//! The array's freshness is checked when the liquidatee is valued: the
//! market is strict under `PriceRules::position_liquidation`, so a stale,
//! drifted or never-computed array refuses the step with its named error
//! (`RiskArrayStale`, `RiskArrayDrifted`, `RiskArrayOtherGrid`).
use anchor_lang::prelude::*;
use xmargin_risk::health::HealthCache;
use xmargin_risk::liquidation::{equity_bonus, max_option_liquidation, OptionFees};

use super::{liquidation_error, Step};
use crate::errors::XmarginError;
use crate::events::OptionPositionLiquidated;
use crate::health::risk_error;
use crate::state::{account_flags, MarginAccount, Market};

/// Sizes an option step from the liquidatee's cache: the bonus is both
/// fees capped by equity, the liquidation fee first out of it, the
/// insurance fee from what is left (as for perpetuals); capped at
/// `max_contracts`. `quote_index`: the token the insurance fee is paid in.
/// The engine's health after the step is exact (the cache's after the
/// fill and the fee), so the handler reuses it when the fee is paid in full.
pub(super) fn size_option_step(
    market: &Market,
    cache: &HealthCache,
    liqee: &MarginAccount,
    (max_contracts, slot, quote_index): (u64, usize, Option<u16>),
    now: i64,
) -> Result<Step> {
    let liq_fee = market.safety_params(now).liquidation_fee.get();
    let fees = liq_fee.checked_add(market.insurance_fee.get()).map_err(risk_error)?;
    let bonus = equity_bonus(cache, fees).map_err(risk_error)?;
    let liquidation = liq_fee.min(bonus);
    let insurance = bonus.checked_sub(liquidation).map_err(risk_error)?;
    let being = liqee.has_flag(account_flags::BEING_LIQUIDATED);
    let sized = max_option_liquidation(
        cache,
        market.market_index,
        OptionFees { liquidation, insurance },
        (quote_index, max_contracts),
        being,
    )
    .map_err(liquidation_error)?;
    let held = liqee.derivatives[slot].base_contracts;
    let contracts = sized.contracts;
    // No quote slot: no fee (the engine sized the step without it).
    let per_contract = if quote_index.is_some() { sized.insurance_per_contract } else { 0 };
    let insurance_fee = contracts.checked_mul(per_contract).ok_or(error!(XmarginError::MathOverflow))?;
    let signed = i64::try_from(contracts).map_err(|_| error!(XmarginError::MathOverflow))?;
    Ok(Step {
        contracts: if held > 0 { signed } else { -signed },
        price: sized.price,
        insurance_fee,
        bonus,
        liq_end_before: sized.health_before,
        liq_end_after: Some(sized.health_after),
        option: Some((sized.model_per_contract, per_contract)),
    })
}

/// The option details of a step beside `PositionLiquidated`: the model
/// value the price started from and the fees per contract.
pub(super) fn emit_option_details(market: Pubkey, liqee: Pubkey, step: &Step) {
    let Some((model, insurance)) = step.option else { return };
    emit!(OptionPositionLiquidated {
        market,
        liqee,
        contracts: step.contracts,
        model_value_per_contract: model,
        price: step.price,
        liquidation_fee_per_contract: model.abs_diff(step.price),
        insurance_fee_per_contract: insurance,
    });
}
