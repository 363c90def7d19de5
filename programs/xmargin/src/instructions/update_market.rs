use anchor_lang::prelude::*;
use xmargin_risk::{Fixed, Rounding};

use super::bank_params::{BankOracleArgs, BPS, MAX_LIQUIDATION_FEE_BPS};
use super::market_params::{bps, MarketFundingArgs, MarketRiskArgs};
use crate::errors::XmarginError;
use crate::events::MarketUpdated;
use crate::state::{BankSafetyParams, Group, Market, MarketRiskParams};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UpdateMarketArgs {
    pub risk: Option<MarketRiskArgs>,
    pub oracle: Option<BankOracleArgs>,
    /// A lower fee applies at once, a higher one after the delay.
    pub liquidation_fee_bps: Option<u32>,
    /// May only be lowered (applies at once).
    pub insurance_fee_bps: Option<u32>,
    /// Applies at once: the next fold and funding update use the new cap,
    /// window and depth (the TWAPs and the premium in force are kept).
    pub funding: Option<MarketFundingArgs>,
}

#[derive(Accounts)]
pub struct UpdateMarket<'info> {
    #[account(has_one = admin @ XmarginError::UnauthorizedAdmin)]
    pub group: AccountLoader<'info, Group>,
    pub admin: Signer<'info>,
    #[account(mut, has_one = group @ XmarginError::WrongGroup)]
    pub market: AccountLoader<'info, Market>,
}

/// Changes a market's parameters within `add_market`'s bounds, by the bank
/// rule: the tightening part at once, the loosening part after
/// `group.loosen_delay_secs` (a newer update replaces a pending one):
/// - risk: higher rates, a higher size premium, lower PnL weights and cap, a
///   narrower band, a smaller settle fraction and a lower open-interest cap
///   tighten;
/// - oracle rules and the liquidation fee: as for banks.
pub fn handle_update_market(ctx: Context<UpdateMarket>, args: UpdateMarketArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let delay = ctx.accounts.group.load()?.loosen_delay_secs;
    let activation = now.checked_add(i64::from(delay)).ok_or(error!(XmarginError::MathOverflow))?;
    let mut market = ctx.accounts.market.load_mut()?;
    market.apply_due_params(now);

    let mut target_safety = if market.pending_safety.activation_ts != 0 {
        BankSafetyParams { activation_ts: 0, ..market.pending_safety }
    } else {
        market.safety
    };
    if let Some(oracle) = args.oracle {
        oracle.write_to(&mut target_safety)?;
    }
    if let Some(fee) = args.liquidation_fee_bps {
        if fee > MAX_LIQUIDATION_FEE_BPS {
            return Err(error!(XmarginError::InvalidMarketConfig).with_values((fee, MAX_LIQUIDATION_FEE_BPS)));
        }
        target_safety.liquidation_fee = bps(fee)?;
    }
    if let Some(fee) = args.insurance_fee_bps {
        let new = bps(fee)?;
        if new.get() > market.insurance_fee.get() {
            msg!("the insurance fee may only be lowered");
            return err!(XmarginError::InvalidMarketConfig);
        }
        market.insurance_fee = new;
    }
    let target_risk = match args.risk {
        Some(risk) if market.is_option() && risk.size_premium_ppm != 0 => {
            msg!("option markets take no size premium");
            return err!(XmarginError::InvalidMarketConfig);
        }
        Some(risk) => {
            let (liq_fee, ins_fee) =
                (to_bps(target_safety.liquidation_fee.get())?, to_bps(market.insurance_fee.get())?);
            risk.to_params(liq_fee, ins_fee)?
        }
        None => {
            if market.pending_risk_activation_ts != 0 {
                market.pending_risk
            } else {
                market.risk
            }
        }
    };
    check_fees_below_maint(&target_risk, &target_safety, &market)?;
    if let Some(funding) = args.funding {
        funding.apply(&mut market)?;
    }

    // Only the settings an update names are re-targeted: an update of other
    // settings (funding, the insurance fee) leaves a pending loosening and
    // its activation time alone, as `update_bank` does.
    let mut activation_ts = 0;
    if args.risk.is_some() && update_risk(&mut market, &target_risk, activation) {
        activation_ts = activation;
    }
    let safety_named = args.oracle.is_some() || args.liquidation_fee_bps.is_some();
    if safety_named && update_safety(&mut market, &target_safety, activation) {
        activation_ts = activation;
    }
    emit!(MarketUpdated {
        market: ctx.accounts.market.key(),
        market_index: market.market_index,
        args,
        loosening_activation_ts: activation_ts,
    });
    Ok(())
}

fn to_bps(value: Fixed) -> Result<u32> {
    let b = value
        .checked_mul(Fixed::from_u64(BPS), Rounding::Ceil)
        .and_then(|v| v.to_i64(Rounding::Ceil))
        .map_err(|_| error!(XmarginError::MathOverflow))?;
    u32::try_from(b).map_err(|_| error!(XmarginError::MathOverflow))
}

/// Liquidation + insurance fee < maint rate, in every combination that can
/// come into force (now and after the pending changes).
fn check_fees_below_maint(risk: &MarketRiskParams, safety: &BankSafetyParams, market: &Market) -> Result<()> {
    let fees = |liq: Fixed| liq.checked_add(market.insurance_fee.get());
    let lowest_maint = risk.maint_rate.get().min(market.risk.maint_rate.get());
    let highest_fee = safety.liquidation_fee.get().max(market.safety.liquidation_fee.get());
    match fees(highest_fee) {
        Ok(f) if f < lowest_maint => Ok(()),
        _ => {
            msg!("liquidation + insurance fee must stay below the maint rate");
            err!(XmarginError::InvalidMarketConfig)
        }
    }
}

/// Applies the tightening part of `target` at once and leaves the rest
/// pending until `activation`; returns whether something is pending.
fn update_risk(market: &mut Market, target: &MarketRiskParams, activation: i64) -> bool {
    let tightest = market.risk.tightest(target);
    market.risk = tightest;
    if tightest == *target {
        market.pending_risk = MarketRiskParams::default();
        market.pending_risk_activation_ts = 0;
        return false;
    }
    market.pending_risk = *target;
    market.pending_risk_activation_ts = activation;
    true
}

/// [`update_risk`] for the oracle rules and the liquidation fee.
fn update_safety(market: &mut Market, target: &BankSafetyParams, activation: i64) -> bool {
    let tightest = market.safety.tightest(target);
    market.safety = tightest;
    if tightest == *target {
        market.pending_safety = BankSafetyParams::default();
        return false;
    }
    market.pending_safety = BankSafetyParams { activation_ts: activation, ..*target };
    true
}
