use anchor_lang::prelude::*;
use xmargin_risk::Fixed;

use crate::errors::XmarginError;
use crate::events::MarginModeSet;
use crate::health::{init_health_in, to_quote_native, HealthContext, PriceRules};
use crate::state::{account_flags, Group, MarginAccount};

/// Margin modes of `set_margin_mode` (stored as `account_flags::PORTFOLIO_MODE`).
pub mod margin_mode {
    /// Per-position weights and rates (the default).
    pub const LINEAR: u8 = 0;
    /// Positions on one underlying netted, charged their worst scenario loss.
    pub const PORTFOLIO: u8 = 1;
}

/// Remaining accounts: the health accounts (see `crate::health`).
#[derive(Accounts)]
pub struct SetMarginMode<'info> {
    pub group: AccountLoader<'info, Group>,
    #[account(mut, has_one = group @ XmarginError::WrongGroup)]
    pub account: AccountLoader<'info, MarginAccount>,
    /// The account's owner or delegate.
    pub authority: Signer<'info>,
}

/// Switches the account to `mode` (`margin_mode`), only if its Init health
/// in that mode is ≥ 0 (every liability priced, as any risk check), which
/// also ends a liquidation in progress (`BEING_LIQUIDATED` cleared). A
/// liquidation takes an account out of portfolio mode
/// (`crate::liquidation::update_liqee_flags`).
pub fn handle_set_margin_mode<'info>(ctx: Context<'info, SetMarginMode<'info>>, mode: u8) -> Result<()> {
    let portfolio = parse_mode(mode)?;
    let mut account = ctx.accounts.account.load_mut()?;
    let authority = ctx.accounts.authority.key();
    if !account.is_owner_or_delegate(&authority) {
        return err!(XmarginError::UnauthorizedOwner);
    }
    if account.is_portfolio_mode() == portfolio {
        return Err(error!(XmarginError::MarginModeUnchanged).with_values((mode, mode)));
    }
    let init = init_in_mode(&ctx, &account, portfolio)?;
    if init.is_negative() {
        return Err(error!(XmarginError::MarginModeUnhealthy).with_values((to_quote_native(init), mode)));
    }
    if portfolio {
        account.flags |= account_flags::PORTFOLIO_MODE;
    } else {
        account.flags &= !account_flags::PORTFOLIO_MODE;
    }
    // Init ≥ 0 implies LiquidationEnd ≥ 0: a liquidation in progress is over
    // (as after a withdraw), so a flag left from linear mode cannot have
    // the account liquidated in portfolio mode while it is healthy there.
    account.flags &= !account_flags::BEING_LIQUIDATED;
    emit!(MarginModeSet {
        account: ctx.accounts.account.key(),
        authority,
        mode,
        init_health: to_quote_native(init),
    });
    Ok(())
}

fn parse_mode(mode: u8) -> Result<bool> {
    match mode {
        margin_mode::LINEAR => Ok(false),
        margin_mode::PORTFOLIO => Ok(true),
        _ => Err(error!(XmarginError::InvalidMarginMode).with_values((mode, margin_mode::PORTFOLIO))),
    }
}

/// The account's Init health in the mode it switches to.
fn init_in_mode<'info>(
    ctx: &Context<'info, SetMarginMode<'info>>,
    account: &MarginAccount,
    portfolio: bool,
) -> Result<Fixed> {
    let now = Clock::get()?.unix_timestamp;
    let (quote_decimals, grid) = {
        let group = ctx.accounts.group.load()?;
        (group.quote_decimals, group.risk_grid_at(now))
    };
    let hctx =
        HealthContext { group: ctx.accounts.group.key(), quote_decimals, now, rules: PriceRules::VIEW, grid };
    init_health_in(&hctx, account, ctx.remaining_accounts, portfolio)
}
