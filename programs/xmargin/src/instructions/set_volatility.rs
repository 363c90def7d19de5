use anchor_lang::prelude::*;

use super::bank_params::BPS;
use super::market_params::bps;
use super::option_params::to_bps;
use crate::errors::XmarginError;
use crate::events::VolatilitySet;
use crate::state::{Group, Market, StoredFixed};

#[derive(Accounts)]
pub struct SetVolatility<'info> {
    #[account(has_one = admin @ XmarginError::UnauthorizedAdmin)]
    pub group: AccountLoader<'info, Group>,
    /// The group's admin (its risk authority).
    pub admin: Signer<'info>,
    #[account(mut, has_one = group @ XmarginError::WrongGroup)]
    pub market: AccountLoader<'info, Market>,
}

/// Sets an option market's volatility (`volatility_bps`, 10,000 = 100 %):
/// 1. an option market; a due pending lowering applied first;
/// 2. within the market's `[min, max]`, and moving at most
///    `max_volatility_change` of the volatility in force;
/// 3. a raise (tightens short-option margin) applies at once and cancels a
///    pending lowering; a lowering loosens it, so it waits the group's
///    `loosen_delay_secs` (a newer update replaces a pending one).
///
/// Either way the stored risk array was computed at the old volatility and
/// is stale from the moment the new one is in force (`crate::options`):
/// `update_risk_array` then revalues the option.
pub fn handle_set_volatility(ctx: Context<SetVolatility>, volatility_bps: u32) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let delay = ctx.accounts.group.load()?.loosen_delay_secs;
    let mut market = ctx.accounts.market.load_mut()?;
    if !market.is_option() {
        return Err(error!(XmarginError::NotOptionMarket)
            .with_values((market.kind, crate::state::market_kind::OPTION)));
    }
    market.apply_due_volatility(now);
    let current = market.volatility.get();
    check_bounds(&market, volatility_bps, to_bps(current))?;
    let new = bps(volatility_bps)?.get();

    let activation_ts = if new >= current {
        market.volatility.set(new);
        market.option.pending_volatility = StoredFixed::ZERO;
        market.option.pending_volatility_ts = 0;
        0
    } else {
        let at = now.checked_add(i64::from(delay)).ok_or(error!(XmarginError::MathOverflow))?;
        market.option.pending_volatility.set(new);
        market.option.pending_volatility_ts = at;
        at
    };
    emit!(VolatilitySet {
        market: ctx.accounts.market.key(),
        market_index: market.market_index,
        previous_bps: to_bps(current),
        volatility_bps,
        activation_ts,
    });
    Ok(())
}

/// `min ≤ new ≤ max` and `|new − current| ≤ max_change · current`, in
/// whole bps (every stored volatility setting came from whole bps).
fn check_bounds(market: &Market, new: u32, current: u32) -> Result<()> {
    let o = &market.option;
    let (min, max, change) = (
        to_bps(o.min_volatility.get()),
        to_bps(o.max_volatility.get()),
        to_bps(o.max_volatility_change.get()),
    );
    if new < min || new > max {
        msg!("volatility bounds {} ..= {} bps", min, max);
        let crossed = if new < min { min } else { max };
        return Err(error!(XmarginError::VolatilityOutOfBounds).with_values((new, crossed)));
    }
    let moved = u64::from(new.abs_diff(current)) * BPS;
    if moved > u64::from(current) * u64::from(change) {
        msg!("one update moves the volatility by at most {} bps of the volatility in force", change);
        return Err(error!(XmarginError::VolatilityChangeTooLarge).with_values((new, current)));
    }
    Ok(())
}
