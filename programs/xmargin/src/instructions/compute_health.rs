use anchor_lang::prelude::*;
use xmargin_risk::HealthBand;

use crate::errors::XmarginError;
use crate::events::{MarginCall, PortfolioHealth, UnderlyingRequirementView};
use crate::health::{build_health_cache, risk_error, summary, to_quote_native, HealthContext, PriceRules};
use crate::state::{Group, MarginAccount};
use xmargin_risk::portfolio::PortfolioReport;
use xmargin_risk::{Fixed, Rounding};

/// Remaining accounts: the health accounts (see `crate::health`).
#[derive(Accounts)]
pub struct ComputeHealth<'info> {
    pub group: AccountLoader<'info, Group>,
    #[account(has_one = group @ XmarginError::WrongGroup)]
    pub account: AccountLoader<'info, MarginAccount>,
}

/// Health of an account, in quote native units (rounded down), and its band.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct HealthView {
    pub init: i64,
    pub maint: i64,
    pub liquidation_end: i64,
    /// 0 = Healthy (Init ≥ 0), 1 = MarginCall (Init < 0 ≤ Maint), 2 = Liquidatable (Maint < 0).
    pub band: u8,
}

pub fn band_code(band: HealthBand) -> u8 {
    match band {
        HealthBand::Healthy => 0,
        HealthBand::MarginCall => 1,
        HealthBand::Liquidatable => 2,
    }
}

/// Read-only and permissionless: returns [`HealthView`] as return data, so
/// wallets and keepers can simulate it. Emits `MarginCall` when the account
/// is in the margin-call band, and in portfolio mode `PortfolioHealth`:
/// each underlying's requirement and worst scenario.
pub fn handle_compute_health<'info>(ctx: Context<'info, ComputeHealth<'info>>) -> Result<HealthView> {
    let now = Clock::get()?.unix_timestamp;
    let (quote_decimals, grid) = {
        let group = ctx.accounts.group.load()?;
        (group.quote_decimals, group.risk_grid_at(now))
    };
    let account = ctx.accounts.account.load()?;
    let hctx =
        HealthContext { group: ctx.accounts.group.key(), quote_decimals, now, rules: PriceRules::VIEW, grid };
    let cache = build_health_cache(&hctx, &account, ctx.remaining_accounts)?;
    // Portfolio mode: the books once for the three health types and the event.
    let report = cache.portfolio_report().map_err(risk_error)?;
    let s = summary(&cache)?;
    let view = HealthView {
        init: to_quote_native(s.init),
        maint: to_quote_native(s.maint),
        liquidation_end: to_quote_native(s.liq_end),
        band: band_code(s.band()),
    };
    if view.band == band_code(HealthBand::MarginCall) {
        emit!(MarginCall {
            account: ctx.accounts.account.key(),
            init_health: view.init,
            maint_health: view.maint
        });
    }
    if let Some(report) = report {
        emit_portfolio_health(ctx.accounts.account.key(), &report);
    }
    Ok(view)
}

/// `PortfolioHealth` of a portfolio-mode report (none when the account was
/// valued linearly: an option at its bounds, see `crate::health::portfolio`).
fn emit_portfolio_health(account: Pubkey, report: &PortfolioReport) {
    let up = |v: Fixed| v.to_i64(Rounding::Ceil).unwrap_or(i64::MAX);
    let underlyings = report
        .books
        .iter()
        .map(|b| UnderlyingRequirementView {
            underlying: b.init.underlying,
            init_requirement: up(b.init.requirement),
            maint_requirement: up(b.requirement.maint),
            init_linear: up(b.init.linear),
            worst_loss: up(b.init.worst_loss),
            init_contingency: up(b.init.contingency),
            worst_scenario: b.init.worst_scenario.and_then(|k| i16::try_from(k).ok()).unwrap_or(-1),
        })
        .collect::<Vec<_>>();
    if !underlyings.is_empty() {
        emit!(PortfolioHealth { account, underlyings });
    }
}
