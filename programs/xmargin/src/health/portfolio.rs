//! Portfolio mode on-chain (`xmargin_risk::portfolio`): an account with
//! `PORTFOLIO_MODE` nets every position on one underlying (its spot balance
//! or borrow, perpetuals, futures, options) into one book charged the worst
//! loss over the scenario grid plus contingencies, never more than linear
//! mode would charge the same legs.
//!
//! - **Books**: a derivative's underlying is its market's
//!   `underlying_token_index`; a token position nets with them when the
//!   account holds an open derivative position (non-zero size) on that
//!   token. Other tokens (the quote token, collateral with no open position
//!   on it) keep their linear weights. A book's worst loss is scaled so the
//!   grid's largest move charges an unhedged spot leg at least its bank's
//!   haircut (`xmargin_risk::portfolio`): a token riskier than the grid
//!   assumes keeps its margin, a hedged book its netting.
//! - **Options** are read from their market's stored risk array (the one
//!   `value_option` takes the value and Δ from): health only multiplies and
//!   adds. The grid and contingencies are the group's
//!   (`RiskGridParams::portfolio_params`); an array on another grid is
//!   refused by the freshness rule.
//! - **An option valued at its bounds** (its oracle or array not usable,
//!   possible only under the fallback rules of a liquidation or the check
//!   that clears `BEING_LIQUIDATED`) has no scenario P&L to net: the account
//!   is then valued in linear mode, which never counts more health than
//!   portfolio mode (conservative, as a stale price is elsewhere).
use anchor_lang::prelude::*;
use xmargin_risk::health::{DerivativeInfo, HealthCache, MarginMode, TokenInfo};
use xmargin_risk::options::risk_array::RiskArray;

use super::options::{on_previous_grid, portfolio_array};
use super::{risk_error, HealthContext};
use crate::errors::XmarginError;
use crate::oracle::PythReading;
use crate::state::{DerivativePosition, Market};

/// The option risk arrays collected while valuing an account's positions
/// (`enabled`: the account is valued in portfolio mode).
pub struct Arrays {
    enabled: bool,
    /// An option was valued at its bounds: value the account linearly.
    bounded: bool,
    /// The first option market whose array was usable but for being on the
    /// previous grid (a grid change not yet cranked): refused in a
    /// liquidatee's cache ([`Arrays::refuse_previous_grid`]).
    previous_grid: Option<u16>,
    arrays: Vec<(u16, RiskArray)>,
}

impl Arrays {
    pub fn new(enabled: bool) -> Arrays {
        Arrays::with_capacity(enabled, 0)
    }

    /// `options`: how many of the account's markets are option markets
    /// (on-chain the heap never frees a grown vector's old storage).
    pub fn with_capacity(enabled: bool, options: usize) -> Arrays {
        let arrays = if enabled { Vec::with_capacity(options) } else { Vec::new() };
        Arrays { enabled, bounded: false, previous_grid: None, arrays }
    }

    /// Collects the array of an option position (portfolio mode only).
    pub fn add(
        &mut self,
        ctx: &HealthContext,
        market: &Market,
        reading: &PythReading,
        position: &DerivativePosition,
    ) -> Result<()> {
        if !self.enabled || !market.is_option() || self.bounded {
            return Ok(());
        }
        match portfolio_array(ctx, market, reading, position)? {
            Some(a) => self.arrays.push((market.market_index, a)),
            None => {
                msg!(
                    "portfolio account valued in linear mode: option market {} at its bounds",
                    market.market_index
                );
                self.bounded = true;
                if on_previous_grid(ctx, market, reading)? {
                    self.previous_grid = Some(market.market_index);
                }
            }
        }
        Ok(())
    }

    /// The option market whose array is on the previous grid, if any (the
    /// keeper does not liquidate such an account until it is cranked).
    pub fn previous_grid(&self) -> Option<u16> {
        self.previous_grid
    }

    /// A portfolio account is not liquidated because a grid change left an
    /// option's array on the previous grid (its books could not be netted,
    /// and the first step would take it out of portfolio mode for good):
    /// `RiskArrayOtherGrid` until anyone sends `update_risk_array` for that
    /// market (permissionless; a liquidator can put it first in the same
    /// transaction, the keeper cranks arrays before it liquidates).
    pub fn refuse_previous_grid(&self, ctx: &HealthContext) -> Result<()> {
        match self.previous_grid {
            Some(market_index) => {
                msg!("option market {} has its risk array on the previous grid", market_index);
                Err(error!(XmarginError::RiskArrayOtherGrid).with_values((market_index, ctx.grid.grid_id)))
            }
            None => Ok(()),
        }
    }
}

/// The cache of the valued positions: in portfolio mode (tokens on a
/// derivative's underlying marked to net, the stored arrays attached)
/// unless `arrays` is disabled or an option was valued at its bounds.
pub fn into_cache(
    ctx: &HealthContext,
    mut tokens: Vec<TokenInfo>,
    derivatives: Vec<DerivativeInfo>,
    arrays: Arrays,
) -> Result<HealthCache> {
    if !arrays.enabled || arrays.bounded {
        return HealthCache::new(tokens, derivatives, MarginMode::Linear).map_err(risk_error);
    }
    for t in tokens.iter_mut() {
        let open_on_it = derivatives.iter().any(|d| d.underlying == t.token_index && !d.base.is_zero());
        if open_on_it {
            *t = t.with_underlying(t.token_index);
        }
    }
    let mode = MarginMode::Portfolio(ctx.grid.portfolio_params());
    let cache =
        HealthCache::with_grid_id(tokens, derivatives, mode, Some(ctx.grid.grid_id)).map_err(risk_error)?;
    Ok(cache.with_risk_arrays(arrays.arrays))
}
