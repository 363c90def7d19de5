//! `xmargin set-margin-mode ACCOUNT linear|portfolio`: the owner or a
//! delegate switches a margin account between linear and portfolio margin
//! (`set_margin_mode`, given the account's health accounts). The program
//! refuses by name: `MarginModeUnchanged` (already in that mode),
//! `MarginModeUnhealthy` (Init < 0 in the new mode), `UnauthorizedOwner`.
//! The document carries the mode before and after and the account's health
//! in the new mode (`show`'s valuation).
use anchor_lang::prelude::Pubkey;
use clap::ValueEnum;
use xmargin::instructions::margin_mode;
use xmargin::state::account_flags::PORTFOLIO_MODE;
use xmargin_client::health::health_metas_with_markets;
use xmargin_client::instructions as ixs;

use crate::rpc::{Cluster, Ctx};

/// A margin mode as typed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MarginModeArg {
    /// Per-position weights and margin rates (the default).
    Linear,
    /// Positions on one underlying netted, charged their worst scenario loss.
    Portfolio,
}

impl MarginModeArg {
    /// The instruction's `mode` byte (`xmargin::instructions::margin_mode`).
    pub fn code(self) -> u8 {
        match self {
            MarginModeArg::Linear => margin_mode::LINEAR,
            MarginModeArg::Portfolio => margin_mode::PORTFOLIO,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            MarginModeArg::Linear => "linear",
            MarginModeArg::Portfolio => "portfolio",
        }
    }
}

/// The account's margin mode's name, from its flags.
pub fn mode_name(flags: u8) -> &'static str {
    if flags & PORTFOLIO_MODE != 0 {
        "portfolio"
    } else {
        "linear"
    }
}

pub fn set_margin_mode<C: Cluster>(
    ctx: &mut Ctx<C>,
    account: &Pubkey,
    mode: MarginModeArg,
) -> Result<(), String> {
    let me = ctx.me;
    let data = ctx.account(account)?;
    let group = data.group;
    let banks = ctx.banks(&group)?;
    let markets = ctx.markets(&group)?;
    let metas = health_metas_with_markets(&data, &[], &[], &banks, &markets).map_err(|e| e.to_string())?;
    ctx.out.field("account", account.to_string());
    ctx.out.field("previous_mode", mode_name(data.flags));
    ctx.out.field("mode", mode.name());
    ctx.send(
        &format!("set-margin-mode {account}: {} → {}", mode_name(data.flags), mode.name()),
        ixs::set_margin_mode(&group, account, &me, mode.code(), metas),
    )?;
    // The account as it now stands (health in its new mode).
    let (snap, after) = crate::show_account::load(ctx, account)?;
    let v = crate::show_account::view(&snap, account, &after)?;
    ctx.out.field("health_init", crate::show_account::quote(&v, v.init));
    ctx.out.field("health_maint", crate::show_account::quote(&v, v.maint));
    Ok(())
}
