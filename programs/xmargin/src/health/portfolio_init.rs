//! Portfolio-mode Init health without a cache
//! (`xmargin_risk::portfolio::PortfolioStream`): each position is valued
//! and folded into its underlying's book as it is read, keeping a few sums
//! per token and per book (no `DerivativeInfo`, no risk-array copy). What
//! the Init checks use (risk-increasing instructions, `set_margin_mode`,
//! each side of a trade before and after its fill); bit for bit the cache's
//! `health(Init)` ([`super::portfolio`]: the same books, tokens netted by
//! the same rule, an option valued at its bounds sending the account to
//! linear mode), within the heap when two accounts of 16 + 16 positions are
//! valued in one instruction.
use anchor_lang::prelude::*;
use core::cell::RefCell;
use xmargin_risk::health::HealthType;
use xmargin_risk::portfolio::PortfolioStream;
use xmargin_risk::Fixed;

use super::options::portfolio_array;
use super::{for_each_position, risk_error, value_derivative, value_token, HealthAccounts, HealthContext};
use crate::oracle::PythReading;
use crate::state::{DerivativePosition, MarginAccount, Market};

/// The account's positions streamed for portfolio Init health, its
/// position in market `skip` left out (a trade's own, given to
/// [`PortfolioStream::health`] before and after the fill). `None`: an option
/// was valued at its bounds, the account is valued in linear mode.
fn stream<'a, 'info>(
    ctx: &HealthContext,
    account: &MarginAccount,
    health: &HealthAccounts<'a, 'info>,
    skip: Option<u16>,
) -> Result<Option<PortfolioStream>> {
    let params = ctx.grid.portfolio_params();
    let s = PortfolioStream::new(params, HealthType::Init, health.banks.len(), health.markets.len())
        .map_err(risk_error)?;
    let s = RefCell::new(Some(s));
    for_each_position(
        ctx,
        account,
        health,
        |bank, reading, shares| {
            let Some(t) = value_token(ctx, bank, reading, shares)? else { return Ok(()) };
            if let Some(st) = s.borrow_mut().as_mut() {
                st.add_token(&t, bank.token_index).map_err(risk_error)?;
            }
            Ok(())
        },
        |market, reading, position| {
            if Some(market.market_index) == skip || s.borrow().is_none() {
                return Ok(());
            }
            let d = value_derivative(ctx, market, reading, position)?;
            let Some(array) = array_of(ctx, market, reading, position)? else {
                *s.borrow_mut() = None;
                return Ok(());
            };
            match s.borrow_mut().as_mut() {
                Some(st) => st.add_derivative((&d, array.as_ref())).map_err(risk_error),
                None => Ok(()),
            }
        },
    )?;
    Ok(s.into_inner())
}

/// A position's risk array: `Some(None)` for a perp or future, `None` for
/// an option valued at its bounds (logged).
fn array_of(
    ctx: &HealthContext,
    market: &Market,
    reading: &PythReading,
    position: &DerivativePosition,
) -> Result<Option<Option<xmargin_risk::options::risk_array::RiskArray>>> {
    if !market.is_option() {
        return Ok(Some(None));
    }
    let array = portfolio_array(ctx, market, reading, position)?;
    if array.is_none() {
        msg!("portfolio account valued in linear mode: option market {} at its bounds", market.market_index);
    }
    Ok(array.map(Some))
}

/// Portfolio-mode Init health of `account`; `None`: an option valued at
/// its bounds (linear mode applies).
pub fn portfolio_init_health<'a, 'info>(
    ctx: &HealthContext,
    account: &MarginAccount,
    health: &HealthAccounts<'a, 'info>,
) -> Result<Option<Fixed>> {
    match stream(ctx, account, health, None)? {
        Some(s) => s.health(None).map(Some).map_err(risk_error),
        None => Ok(None),
    }
}

/// Portfolio-mode Init health of `account` with its position in `market`
/// at `was` and at `now` (a fill; the account as stored holds `was`), from
/// one pass over the positions; `None` as [`portfolio_init_health`].
#[inline(never)]
pub fn portfolio_init_around_fill<'a, 'info>(
    ctx: &HealthContext,
    account: &MarginAccount,
    health: &HealthAccounts<'a, 'info>,
    market: &Market,
    reading: &PythReading,
    was: &DerivativePosition,
    now: &DerivativePosition,
) -> Result<Option<(Fixed, Fixed)>> {
    let Some(s) = stream(ctx, account, health, Some(market.market_index))? else { return Ok(None) };
    let common = s.health_except(market.underlying_token_index).map_err(risk_error)?;
    let (Some(before), Some(after)) =
        (own(ctx, &s, market, reading, was)?, own(ctx, &s, market, reading, now)?)
    else {
        return Ok(None);
    };
    let add = |own: Fixed| common.checked_add(own).map_err(risk_error);
    Ok(Some((add(before)?, add(after)?)))
}

/// The part of [`PortfolioStream::health_of`] of the position in `market`
/// at `position` (its own frame: a `DerivativeInfo` and an array each).
#[inline(never)]
fn own(
    ctx: &HealthContext,
    s: &PortfolioStream,
    market: &Market,
    reading: &PythReading,
    position: &DerivativePosition,
) -> Result<Option<Fixed>> {
    let d = value_derivative(ctx, market, reading, position)?;
    let Some(array) = array_of(ctx, market, reading, position)? else { return Ok(None) };
    s.health_of((&d, array.as_ref())).map(Some).map_err(risk_error)
}
