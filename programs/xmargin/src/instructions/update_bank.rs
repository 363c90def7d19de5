use anchor_lang::prelude::*;

use super::bank_params::{BankInterestArgs, BankOracleArgs, BankRiskArgs};
use crate::errors::XmarginError;
use crate::events::BankUpdated;
use crate::state::{Bank, BankRiskParams, BankSafetyParams, Group};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UpdateBankArgs {
    pub risk: Option<BankRiskArgs>,
    pub oracle: Option<BankOracleArgs>,
    pub interest: Option<BankInterestArgs>,
}

#[derive(Accounts)]
pub struct UpdateBank<'info> {
    #[account(has_one = admin @ XmarginError::UnauthorizedAdmin)]
    pub group: AccountLoader<'info, Group>,
    pub admin: Signer<'info>,
    #[account(mut, has_one = group @ XmarginError::WrongGroup)]
    pub bank: AccountLoader<'info, Bank>,
}

/// Changes a bank's parameters within the same bounds as `add_bank`.
/// Changes that tighten apply at once; the loosening part waits
/// `group.loosen_delay_secs` (pending until then, replaced by a newer update):
/// - risk: lower asset weights or caps, higher liability weights and earlier
///   size scaling tighten (`BankRiskParams::tightest`);
/// - oracle rules and the liquidation fee: a wider confidence bias, a tighter
///   confidence bound, a shorter max age, a slower stable price and a lower
///   fee tighten (`BankSafetyParams::tightest`).
///
/// The interest curve and protocol fee apply at once, after accruing at the old curve.
pub fn handle_update_bank(ctx: Context<UpdateBank>, args: UpdateBankArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let delay = ctx.accounts.group.load()?.loosen_delay_secs;
    let activation = now.checked_add(i64::from(delay)).ok_or(error!(XmarginError::MathOverflow))?;
    let mut bank = ctx.accounts.bank.load_mut()?;
    bank.accrue(now)?;
    let mut activation_ts = 0;
    if let Some(risk) = args.risk {
        if update_risk(&mut bank, &risk.to_params()?, now, activation) {
            activation_ts = activation;
        }
    }
    if args.oracle.is_some() || args.interest.is_some() {
        let mut target = if bank.pending_safety.activation_ts != 0 {
            BankSafetyParams { activation_ts: 0, ..bank.pending_safety }
        } else {
            bank.safety_params()
        };
        if let Some(oracle) = args.oracle {
            oracle.write_to(&mut target)?;
        }
        if let Some(interest) = args.interest {
            interest.apply(&mut bank, &mut target)?;
        }
        if update_safety(&mut bank, &target, activation) {
            activation_ts = activation;
        }
    }
    emit!(BankUpdated {
        bank: ctx.accounts.bank.key(),
        token_index: bank.token_index,
        args,
        loosening_activation_ts: activation_ts,
    });
    Ok(())
}

/// Applies the tightening part of `target` at once and leaves the rest
/// pending until `activation`; returns whether something is pending.
fn update_risk(bank: &mut Bank, target: &BankRiskParams, now: i64, activation: i64) -> bool {
    let tightest = bank.risk_params(now).tightest(target);
    bank.risk = tightest;
    if tightest == *target {
        bank.pending_risk = Default::default();
        bank.pending_activation_ts = 0;
        return false;
    }
    bank.pending_risk = *target;
    bank.pending_activation_ts = activation;
    true
}

/// [`update_risk`] for the oracle rules and the liquidation fee.
fn update_safety(bank: &mut Bank, target: &BankSafetyParams, activation: i64) -> bool {
    let tightest = bank.safety_params().tightest(target);
    bank.set_safety_params(&tightest);
    if tightest == *target {
        bank.pending_safety = BankSafetyParams::default();
        return false;
    }
    bank.pending_safety = BankSafetyParams { activation_ts: activation, ..*target };
    true
}
