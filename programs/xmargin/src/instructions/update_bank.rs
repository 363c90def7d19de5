use anchor_lang::prelude::*;

use super::bank_params::{BankInterestArgs, BankOracleArgs, BankRiskArgs};
use crate::errors::XmarginError;
use crate::events::BankUpdated;
use crate::state::{Bank, Group};

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
/// Risk changes that tighten (lower asset weights or caps, higher liability
/// weights, earlier size scaling) apply at once; the loosening part waits
/// `group.loosen_delay_secs` (pending until then, replaced by a newer update).
/// Interest and oracle settings apply at once, after accruing at the old curve.
pub fn handle_update_bank(ctx: Context<UpdateBank>, args: UpdateBankArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let delay = ctx.accounts.group.load()?.loosen_delay_secs;
    let mut bank = ctx.accounts.bank.load_mut()?;
    bank.accrue(now)?;
    let mut activation_ts = 0;
    if let Some(risk) = args.risk {
        let target = risk.to_params()?;
        let current = *bank.risk_params(now);
        let tightest = current.tightest(&target);
        bank.risk = tightest;
        if tightest == target {
            bank.pending_risk = Default::default();
            bank.pending_activation_ts = 0;
        } else {
            activation_ts = now.checked_add(i64::from(delay)).ok_or(error!(XmarginError::MathOverflow))?;
            bank.pending_risk = target;
            bank.pending_activation_ts = activation_ts;
        }
    }
    if let Some(oracle) = args.oracle {
        oracle.apply(&mut bank)?;
    }
    if let Some(interest) = args.interest {
        interest.apply(&mut bank)?;
    }
    emit!(BankUpdated {
        bank: ctx.accounts.bank.key(),
        token_index: bank.token_index,
        args,
        loosening_activation_ts: activation_ts,
    });
    Ok(())
}
