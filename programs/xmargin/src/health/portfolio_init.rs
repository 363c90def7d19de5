//! Init health of a portfolio-mode account in one pass over its positions
//! (`xmargin_risk::portfolio::PortfolioStream`): each position is valued
//! once on the Init-only path (the linear pieces `init_contribution`
//! subtracts) and folded into its underlying's book, an option reading its
//! market's stored risk array in place. The stream sums linear Init on the
//! way, so a check whose linear Init is ≥ 0 (a lower bound of portfolio
//! Init) passes without valuing a book; below it, each book's worst
//! scenario is found. What the Init checks use (risk-increasing
//! instructions, `set_margin_mode`, each side of a trade before and after
//! its fill); bit for bit the cache's `health(Init)` ([`super::portfolio`]:
//! the same books, tokens netted by the same rule, an option valued at its
//! bounds sending the account to linear mode), within the heap when two
//! accounts of 16 + 16 positions are valued in one instruction.
use anchor_lang::prelude::*;
use core::cell::RefCell;
use xmargin_risk::health::HealthType;
use xmargin_risk::portfolio::{DerivativeLeg, OptionLegInput, PortfolioStream, PreparedGrid};
use xmargin_risk::Fixed;

use super::derivatives::{linear_init_parts, InitParts};
use super::options::{option_init_parts, Scenarios};
use super::{
    bias, for_each_position, position_weights, price_position, risk_error, HealthAccounts, HealthContext,
};
use crate::oracle::PythReading;
use crate::state::{Bank, DerivativePosition, MarginAccount, Market};
use xmargin_risk::price::BiasedPrices;

/// Scenario changes of a position with none (settled, closed).
const NO_CHANGES: [i64; xmargin_risk::options::risk_array::RISK_ARRAY_SCENARIOS] =
    [0; xmargin_risk::options::risk_array::RISK_ARRAY_SCENARIOS];

/// The account's positions streamed for Init health, its position in
/// market `skip` left out (a trade's own, valued by [`around_fill`] before and
/// after the fill). `None`: an option was valued at its bounds, the account
/// is valued in linear mode.
fn stream<'a, 'info>(
    ctx: &HealthContext,
    account: &MarginAccount,
    health: &HealthAccounts<'a, 'info>,
    skip: Option<u16>,
    prepared: Option<PreparedGrid>,
) -> Result<Option<PortfolioStream>> {
    let params = ctx.grid.portfolio_params();
    let (tokens, markets) = (health.banks.len(), health.markets.len());
    let grid = (ctx.grid.grid_id, usize::from(ctx.grid.grid_len));
    let s = match prepared {
        Some(g) => PortfolioStream::with_prepared_grid(params, grid, g, HealthType::Init, tokens, markets),
        None => PortfolioStream::with_known_grid(params, grid, HealthType::Init, tokens, markets),
    }
    .map_err(risk_error)?;
    let s = RefCell::new(Some(s));
    for_each_position(
        ctx,
        account,
        health,
        |bank, reading, shares| {
            let Some(t) = init_token_leg(ctx, bank, reading, shares)? else { return Ok(()) };
            if let Some(st) = s.borrow_mut().as_mut() {
                st.add_token_leg(t).map_err(risk_error)?;
            }
            Ok(())
        },
        |market, reading, position| {
            if Some(market.market_index) == skip || s.borrow().is_none() {
                return Ok(());
            }
            let added = with_leg(ctx, market, reading, position, |leg| match s.borrow_mut().as_mut() {
                Some(st) => st.add_leg(leg).map_err(risk_error),
                None => Ok(()),
            })?;
            if added.is_none() {
                *s.borrow_mut() = None;
            }
            Ok(())
        },
    )?;
    Ok(s.into_inner())
}

/// Hands the position's leg to `use_it`: its Init pieces and, for an
/// option, its market's array read in place. `None` for an option valued
/// at its bounds (logged): it has no scenario P&L to net.
fn with_leg<T>(
    ctx: &HealthContext,
    market: &Market,
    reading: &PythReading,
    position: &DerivativePosition,
    use_it: impl FnOnce(&DerivativeLeg) -> Result<T>,
) -> Result<Option<T>> {
    let leg = |parts: &InitParts, option| DerivativeLeg {
        underlying: market.underlying_token_index,
        base: parts.base,
        oracle: parts.oracle,
        weighted_pnl: parts.weighted_pnl,
        requirement: parts.requirement,
        option,
    };
    if !market.is_option() {
        let parts = linear_init_parts(ctx, market, reading, position)?;
        return use_it(&leg(&parts, None)).map(Some);
    }
    let o = option_init_parts(ctx, market, reading, position)?;
    let array = match o.scenarios {
        Scenarios::Stored => market.risk_array.view(),
        Scenarios::Zero => Some(xmargin_risk::options::risk_array::ArrayView {
            grid_id: ctx.grid.grid_id,
            scenario_count: u16::from(ctx.grid.grid_len),
            spot: market.stable_price.get(),
            value: Fixed::ZERO,
            delta: Fixed::ZERO,
            changes: &NO_CHANGES,
        }),
        Scenarios::Unavailable => None,
    };
    let Some(array) = array else {
        msg!("portfolio account valued in linear mode: option market {} at its bounds", market.market_index);
        return Ok(None);
    };
    let option = OptionLegInput {
        array,
        contracts: Fixed::from_i64(o.contracts),
        min_delta: o.min_delta,
        oracle_value: o.oracle_value,
    };
    use_it(&leg(&o.parts, Some(option))).map(Some)
}

/// Init health of a portfolio-mode account: its linear Init when that is
/// ≥ 0 (a lower bound that decides the check: no book is valued), else its
/// portfolio Init. Linear Init (a second pass) when an option was valued at
/// its bounds.
pub fn init_health_or_linear<'a, 'info>(
    ctx: &HealthContext,
    account: &MarginAccount,
    health: &HealthAccounts<'a, 'info>,
) -> Result<Fixed> {
    match stream(ctx, account, health, None, None)? {
        Some(s) if !s.linear_health().is_negative() => Ok(s.linear_health()),
        Some(s) => s.health(None).map_err(risk_error),
        None => super::linear_init_health_from(ctx, account, health),
    }
}

/// Portfolio-mode Init health of `account`; `None`: an option valued at
/// its bounds (linear mode applies).
pub fn portfolio_init_health<'a, 'info>(
    ctx: &HealthContext,
    account: &MarginAccount,
    health: &HealthAccounts<'a, 'info>,
) -> Result<Option<Fixed>> {
    match stream(ctx, account, health, None, None)? {
        Some(s) => s.health(None).map(Some).map_err(risk_error),
        None => Ok(None),
    }
}

/// One side of a trade in portfolio mode: Init health with its position in
/// `market` at `was` and at `now` (the account as stored holds `was`), from
/// one pass. Linear Init around the fill when it stays ≥ 0 after it (the
/// lower bound decides), else portfolio Init; `None` as
/// [`portfolio_init_health`]. `grid`: the prepared grid the other side
/// built, if any, taken; left with the one this side built or was given.
#[inline(never)]
#[allow(clippy::too_many_arguments)]
pub fn portfolio_init_around_fill<'a, 'info>(
    ctx: &HealthContext,
    account: &MarginAccount,
    health: &HealthAccounts<'a, 'info>,
    market: &Market,
    reading: &PythReading,
    was: &DerivativePosition,
    now: &DerivativePosition,
    grid: &mut Option<PreparedGrid>,
) -> Result<Option<(Fixed, Fixed)>> {
    let Some(s) = stream(ctx, account, health, Some(market.market_index), grid.take())? else {
        return Ok(None);
    };
    let around = with_leg(ctx, market, reading, was, |was| {
        with_leg(ctx, market, reading, now, |now| around_fill(&s, was, now))
    })?;
    *grid = s.into_grid();
    Ok(around.flatten())
}

/// [`portfolio_init_around_fill`] from the stream and the position's two
/// legs: linear Init when it stays ≥ 0 after the fill, else portfolio Init.
#[inline(never)]
fn around_fill(s: &PortfolioStream, was: &DerivativeLeg, now: &DerivativeLeg) -> Result<(Fixed, Fixed)> {
    let linear = |leg: &DerivativeLeg| {
        leg.weighted_pnl.checked_sub(leg.requirement).and_then(|c| s.linear_health().checked_add(c))
    };
    let (before, after) = (linear(was).map_err(risk_error)?, linear(now).map_err(risk_error)?);
    if !after.is_negative() {
        return Ok((before, after));
    }
    let common = s.health_except(was.underlying).map_err(risk_error)?;
    let add =
        |leg: &DerivativeLeg| s.health_of(leg).and_then(|own| common.checked_add(own)).map_err(risk_error);
    Ok((add(was)?, add(now)?))
}

/// A token position's Init pieces as portfolio mode's stream folds them
/// (`xmargin_risk::portfolio::TokenLeg`), exactly the `TokenInfo`'s
/// (`unweighted_value(Init)`, `contribution(Init)`, the Init haircut of its
/// side) without building it: the Init-only path of [`super::init_contribution`].
/// `None`: an asset whose price is unusable (valued at 0, as
/// [`super::value_token`] leaves it out).
pub fn init_token_leg(
    ctx: &HealthContext,
    bank: &Bank,
    reading: &PythReading,
    shares: Fixed,
) -> Result<Option<xmargin_risk::portfolio::TokenLeg>> {
    let Some((balance, price)) = price_position(ctx, bank, reading, shares)? else { return Ok(None) };
    let params = bank.risk_params(ctx.now);
    let init = HealthType::Init;
    let is_asset = !balance.is_negative();
    let (price_init, weight) = if params.deposit_weight_scale_start == 0
        && params.borrow_weight_scale_start == 0
    {
        let p = BiasedPrices::init_price(&price, bank.stable_price.get(), bias(bank), is_asset)
            .map_err(risk_error)?;
        (p, if is_asset { params.init_asset_weight.get() } else { params.init_liab_weight.get() })
    } else {
        let prices = BiasedPrices::new(&price, bank.stable_price.get(), bias(bank)).map_err(risk_error)?;
        let w = position_weights(ctx, bank, &prices)?;
        if is_asset {
            (prices.asset(init), w.asset(init))
        } else {
            (prices.liab(init), w.liab(init))
        }
    };
    let leg = || -> xmargin_risk::RiskResult<xmargin_risk::portfolio::TokenLeg> {
        let unit = if is_asset {
            price_init.checked_mul_floor(weight)?
        } else {
            price_init.checked_mul_ceil(weight)?
        };
        let haircut =
            if is_asset { Fixed::ONE.checked_sub(weight)? } else { weight.checked_sub(Fixed::ONE)? };
        Ok(xmargin_risk::portfolio::TokenLeg {
            underlying: bank.token_index,
            balance,
            oracle: price.lo,
            unweighted: balance.checked_mul_floor(price_init)?,
            contribution: balance.checked_mul_floor(unit)?,
            haircut,
        })
    };
    leg().map(Some).map_err(risk_error)
}
