use anchor_lang::prelude::*;
use xmargin_risk::settlement::{settle_limit, settleable};
use xmargin_risk::{Fixed, Rounding};

use super::settle_expired::settle_expired_position;
use crate::derivatives::{base_of, close_if_empty, existing_position, refresh_stable_price};
use crate::errors::XmarginError;
use crate::events::PnlSettled;
use crate::health::{market_oracle_price, risk_error, HealthContext, PriceRules};
use crate::oracle::read_pyth;
use crate::state::{market_kind, market_status, Bank, DerivativePosition, Group, MarginAccount, Market};

/// Unrealised profit settles at most `settle_fraction · |base| · stable`
/// per window of this length.
pub const SETTLE_WINDOW_SECS: i64 = 24 * 60 * 60;

#[derive(Accounts)]
pub struct SettlePnl<'info> {
    pub group: AccountLoader<'info, Group>,
    #[account(mut, has_one = group @ XmarginError::WrongGroup, has_one = oracle @ XmarginError::WrongOracle)]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: equals the market's oracle (has_one); identity checked on read.
    pub oracle: UncheckedAccount<'info>,
    #[account(mut, has_one = group @ XmarginError::WrongGroup)]
    pub winner: AccountLoader<'info, MarginAccount>,
    #[account(mut, has_one = group @ XmarginError::WrongGroup)]
    pub loser: AccountLoader<'info, MarginAccount>,
    /// The bank of the group's quote token: PnL settles into it.
    #[account(mut, has_one = group @ XmarginError::WrongGroup)]
    pub quote_bank: AccountLoader<'info, Bank>,
}

/// Permissionless: moves PnL of one market into quote-token balances, from
/// an account that lost to one that won, up to the smaller of the winner's
/// settleable profit and the loser's loss (both at the oracle price; in a
/// settled future or option both positions are first settled as
/// `settle_expired` does, at the settlement value per contract; an option
/// market settles PnL only then: before, its PnL is a model value, not cash):
/// - realised profit always settles; unrealised profit only up to
///   `settle_fraction · |base| · stable price` per 24 h window;
/// - refused while the oracle is further from the stable price than the
///   market's trade band (a spike cannot be cashed out); the stable price
///   first follows the oracle at its bounded speed;
/// - the loser's quote balance may become a borrow (no health check: the
///   loss was already counted at full weight).
///
/// Roundings favour the protocol: the winner's shares are minted down, the
/// loser's burned or borrowed up.
pub fn handle_settle_pnl(ctx: Context<SettlePnl>) -> Result<()> {
    if ctx.accounts.winner.key() == ctx.accounts.loser.key() {
        return Err(error!(XmarginError::NoPnlToSettle).with_values((0, 0)));
    }
    let now = Clock::get()?.unix_timestamp;
    let group = ctx.accounts.group.load()?;
    let mut market = ctx.accounts.market.load_mut()?;
    market.apply_due_params(now);
    // Before its expiry settlement an option's PnL is a model value, not cash.
    if market.is_option() && market.status != market_status::SETTLED {
        return Err(error!(XmarginError::WrongMarketKind).with_values((market.kind, market_kind::FUTURE)));
    }
    let price = settle_price(&ctx, &group, &mut market, now)?;
    let mut winner = ctx.accounts.winner.load_mut()?;
    let mut loser = ctx.accounts.loser.load_mut()?;
    let ws = existing_position(&mut winner, &mut market)?;
    let ls = existing_position(&mut loser, &mut market)?;
    if market.status == market_status::SETTLED {
        settle_expired_positions(&ctx, &mut market, (&mut winner, ws), (&mut loser, ls))?;
    }

    let (w_total, w_realized) = pnl_at(&market, &winner.derivatives[ws], price)?;
    let (l_total, _) = pnl_at(&market, &loser.derivatives[ls], price)?;
    let window_left = window_allowance(&market, &mut winner.derivatives[ws], now)?;
    let w_unrealized = w_total.checked_sub(Fixed::from_i64(w_realized)).map_err(risk_error)?;
    let unlimited = market.status == market_status::SETTLED;
    let w_can = if unlimited {
        floor_i64(w_total)?
    } else {
        settleable(w_realized, floor_i64(w_unrealized)?, window_left)
    };
    let l_owes = floor_i64(l_total.checked_neg().map_err(risk_error)?)?;
    let amount = w_can.min(l_owes);
    if amount <= 0 {
        return Err(
            error!(XmarginError::NoPnlToSettle).with_values((floor_i64(w_total)?, floor_i64(l_total)?))
        );
    }
    let from_unrealized = amount.saturating_sub(w_realized.max(0)).max(0).unsigned_abs();
    let w = &mut winner.derivatives[ws];
    w.realized_pnl = w.realized_pnl.checked_sub(amount).ok_or(error!(XmarginError::MathOverflow))?;
    if !unlimited {
        w.settled_in_window = w.settled_in_window.saturating_add(from_unrealized);
    }
    let l = &mut loser.derivatives[ls];
    l.realized_pnl = l.realized_pnl.checked_add(amount).ok_or(error!(XmarginError::MathOverflow))?;

    let amount_u = amount.unsigned_abs();
    let mut bank = ctx.accounts.quote_bank.load_mut()?;
    if bank.mint != group.quote_mint {
        return Err(error!(XmarginError::WrongQuoteBank).with_pubkeys((bank.mint, group.quote_mint)));
    }
    bank.accrue(now)?;
    let token_index = bank.token_index;
    let wt = winner.token_position_mut_or_open(token_index).ok_or(error!(XmarginError::TooManyPositions))?;
    bank.deposit_into(&mut wt.shares, amount_u)?;
    let lt = loser.token_position_mut_or_open(token_index).ok_or(error!(XmarginError::TooManyPositions))?;
    let split = bank.withdraw_from(&mut lt.shares, amount_u)?;
    winner.close_token_position_if_empty(token_index);
    loser.close_token_position_if_empty(token_index);
    close_if_empty(&mut winner, &mut market)?;
    close_if_empty(&mut loser, &mut market)?;

    emit!(PnlSettled {
        market: ctx.accounts.market.key(),
        market_index: market.market_index,
        winner: ctx.accounts.winner.key(),
        loser: ctx.accounts.loser.key(),
        amount: amount_u,
        from_unrealized,
        loser_borrowed: split.borrowed,
        price: price.into(),
    });
    Ok(())
}

/// In a settled market, both positions first become realised PnL at the
/// settlement price per contract, as `settle_expired` would: the amount then
/// never depends on whether the accounts' own `settle_expired` ran.
fn settle_expired_positions(
    ctx: &Context<SettlePnl>,
    market: &mut Market,
    winner: (&mut MarginAccount, usize),
    loser: (&mut MarginAccount, usize),
) -> Result<()> {
    for ((account, slot), key) in [(winner, ctx.accounts.winner.key()), (loser, ctx.accounts.loser.key())] {
        if account.derivatives[slot].base_contracts == 0 && account.derivatives[slot].quote_cost == 0 {
            continue;
        }
        settle_expired_position(account, slot, market, (ctx.accounts.market.key(), key))?;
    }
    Ok(())
}

/// The price PnL settles at: the settlement price of a settled future, else
/// the oracle, which must be fresh, certain and within the band of the
/// stable price, after the stable price has followed the oracle at its
/// bounded speed up to now (as a funding crank would have moved it; a
/// dated future has no other crank, and its stable price would stay at the
/// listing price, refusing every settlement once the price moved a band).
fn settle_price(ctx: &Context<SettlePnl>, group: &Group, market: &mut Market, now: i64) -> Result<Fixed> {
    if market.status == market_status::SETTLED {
        return Ok(market.settlement_price.get());
    }
    let hctx = HealthContext {
        group: ctx.accounts.group.key(),
        quote_decimals: group.quote_decimals,
        now,
        rules: PriceRules::trade(market.market_index),
        grid: group.risk_grid_at(now),
    };
    let oracle = market_oracle_price(&hctx, market, &read_pyth(&ctx.accounts.oracle, &market.feed_id)?)?;
    let stable = refresh_stable_price(market, oracle.lo, now)?;
    let band = market.risk_params(now).price_band.get();
    let max_gap = stable.checked_mul_floor(band).map_err(risk_error)?;
    let gap = oracle.lo.checked_sub(stable).and_then(|g| g.checked_abs()).map_err(risk_error)?;
    if gap > max_gap {
        return Err(error!(XmarginError::OracleFarFromStable).with_values((oracle.lo, stable)));
    }
    Ok(oracle.lo)
}

/// Total PnL (exact) and its realised part at `price` per underlying native unit.
fn pnl_at(market: &Market, p: &DerivativePosition, price: Fixed) -> Result<(Fixed, i64)> {
    let value = base_of(market, p.base_contracts)?.checked_mul(price, Rounding::Floor).map_err(risk_error)?;
    let total = value
        .checked_sub(Fixed::from_i64(p.quote_cost))
        .and_then(|v| v.checked_add(Fixed::from_i64(p.realized_pnl)))
        .map_err(risk_error)?;
    Ok((total, p.realized_pnl))
}

/// What is left of the position's unrealised-profit allowance in the
/// current window (a new window starts after `SETTLE_WINDOW_SECS`).
fn window_allowance(market: &Market, p: &mut DerivativePosition, now: i64) -> Result<u64> {
    if now.saturating_sub(p.settle_window_start) >= SETTLE_WINDOW_SECS {
        p.settle_window_start = now;
        p.settled_in_window = 0;
    }
    let base_abs = base_of(market, p.base_contracts)?.checked_abs().map_err(risk_error)?;
    let limit =
        settle_limit(base_abs, market.stable_price.get(), market.risk_params(now).settle_fraction.get())
            .map_err(risk_error)?;
    Ok(limit.saturating_sub(p.settled_in_window))
}

fn floor_i64(v: Fixed) -> Result<i64> {
    v.to_i64(Rounding::Floor).map_err(risk_error)
}
