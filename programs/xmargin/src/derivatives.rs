//! Steps on derivative positions shared by trade, take_quote, funding,
//! settlement and liquidation: settling funding into a position, clearing a
//! fill between two accounts, open interest and the time-weighted prices.
use anchor_lang::prelude::*;
use xmargin_risk::perp::{apply_fill, base_native, Fill, PerpPosition};
use xmargin_risk::perp_funding::{
    blend_mark_premium, mark_sample, settle_funding, trade_premium, update_twap,
};
use xmargin_risk::price::{update_stable_price, OraclePrice};
use xmargin_risk::{Fixed, Rounding};

use crate::errors::XmarginError;
use crate::health::risk_error;
use crate::state::{DerivativePosition, MarginAccount, Market};

/// Settles the funding owed since the position's snapshot into its realised
/// PnL (rounded toward −∞; the remainder is the protocol's `funding_dust`)
/// and moves the snapshot. Returns the credit (negative = paid).
pub fn settle_position_funding(market: &mut Market, position: &mut DerivativePosition) -> Result<i64> {
    let cum = market.cum_funding;
    if !market.is_perpetual() || position.funding_snapshot == cum {
        position.funding_snapshot = cum;
        return Ok(0);
    }
    let s = settle_funding(position.base_contracts, cum.get(), position.funding_snapshot.get())
        .map_err(risk_error)?;
    position.realized_pnl =
        position.realized_pnl.checked_add(s.credit).ok_or(error!(XmarginError::MathOverflow))?;
    position.funding_snapshot = cum;
    market.funding_dust.set(market.funding_dust.get().checked_add(s.dust).map_err(risk_error)?);
    Ok(s.credit)
}

/// Settles funding and opens the account's position slot in `market` if
/// needed; returns the slot.
pub fn prepare_position(account: &mut MarginAccount, market: &mut Market) -> Result<usize> {
    let opened = account.derivative_position(market.market_index).is_none();
    let slot = account
        .derivative_slot_or_open(market.market_index, market.cum_funding)
        .ok_or(error!(XmarginError::TooManyDerivativePositions))?;
    if opened {
        market.position_count =
            market.position_count.checked_add(1).ok_or(error!(XmarginError::MathOverflow))?;
    }
    settle_position_funding(market, &mut account.derivatives[slot])?;
    Ok(slot)
}

/// The slot of an existing position in `market` with its funding settled.
pub fn existing_position(account: &mut MarginAccount, market: &mut Market) -> Result<usize> {
    let index = market.market_index;
    let slot = account
        .derivatives
        .iter()
        .position(|p| p.in_use != 0 && p.market_index == index)
        .ok_or_else(|| error!(XmarginError::NoPosition).with_values((index, 0)))?;
    settle_position_funding(market, &mut account.derivatives[slot])?;
    Ok(slot)
}

/// Frees the account's slot in `market` if nothing is left in it, and
/// refreshes the account's flags.
pub fn close_if_empty(account: &mut MarginAccount, market: &mut Market) -> Result<()> {
    let before = account.derivative_position(market.market_index).is_some();
    account.close_derivative_if_empty(market.market_index);
    if before && account.derivative_position(market.market_index).is_none() {
        market.position_count =
            market.position_count.checked_sub(1).ok_or(error!(XmarginError::MathOverflow))?;
    }
    account.refresh_flags();
    Ok(())
}

/// The integer amounts of a stored position.
pub fn amounts(p: &DerivativePosition) -> PerpPosition {
    PerpPosition { base: p.base_contracts, quote_cost: p.quote_cost, realized_pnl: p.realized_pnl }
}

/// Applies a fill of `delta` contracts at `price` per contract to a stored position.
pub fn fill_position(p: &mut DerivativePosition, delta: i64, price: u64) -> Result<Fill> {
    let fill = apply_fill(amounts(p), delta, price).map_err(risk_error)?;
    p.base_contracts = fill.position.base;
    p.quote_cost = fill.position.quote_cost;
    p.realized_pnl = fill.position.realized_pnl;
    Ok(fill)
}

/// Contracts long across the two positions (open interest is longs = shorts).
pub fn longs(a: i64, b: i64) -> u64 {
    a.max(0).unsigned_abs() + b.max(0).unsigned_abs()
}

/// New open interest after two positions moved from `before` to `after`
/// contracts long; refused above the cap only when it grows.
pub fn update_open_interest(market: &mut Market, before: u64, after: u64, cap: u64) -> Result<()> {
    let oi = market
        .open_interest
        .checked_sub(before)
        .and_then(|v| v.checked_add(after))
        .ok_or(error!(XmarginError::MathOverflow))?;
    if oi > market.open_interest && oi > cap {
        return Err(error!(XmarginError::OpenInterestCapExceeded).with_values((oi, cap)));
    }
    market.open_interest = oi;
    Ok(())
}

/// Quote native per underlying native unit of a per-contract price.
pub fn per_native(market: &Market, price_per_contract: u64) -> Result<Fixed> {
    Fixed::from_ratio(
        i64::try_from(price_per_contract).map_err(|_| error!(XmarginError::MathOverflow))?,
        market.contract_size,
        Rounding::Floor,
    )
    .map_err(risk_error)
}

/// Whole quote native per contract of a price per underlying native unit,
/// rounded by `r` (the inverse of [`per_native`]; a negative price is 0).
pub fn per_contract(market: &Market, price: Fixed, r: Rounding) -> Result<u64> {
    let v = price
        .checked_mul(Fixed::from_u64(market.contract_size), r)
        .and_then(|v| v.to_i64(r))
        .map_err(risk_error)?;
    Ok(v.max(0).unsigned_abs())
}

/// Refuses a per-contract `price` outside `oracle · [1 − band, 1 + band]`;
/// options: around the model value of a fresh risk array moved to the
/// oracle's range instead (`crate::options`; the central value
/// `xmargin_risk::health::option_margin::fair_value_at` at either end),
/// `[lo · (1 − band), hi · (1 + band)]`.
pub fn check_price_band(
    market: &Market,
    oracle: &OraclePrice,
    price: u64,
    now: i64,
    grid: &crate::state::RiskGridParams,
) -> Result<()> {
    let band = market.risk_params(now).price_band.get();
    let (center_lo, center_hi) = if market.is_option() {
        crate::options::check_array_fresh(market, now, oracle.lo, grid)?;
        // The central value, monotone in the price (a call's rising, a
        // put's falling): the band's low end at the range's cheap end rounded
        // down (a long's), its high end at the dear end rounded up (a short's).
        let (array, terms) = (market.risk_array.array_value(), market.option_terms(now));
        let at = |price: Fixed, short: bool| {
            xmargin_risk::health::option_margin::fair_value_at(
                &array,
                (terms.is_call, terms.strike),
                price,
                (short, Fixed::ZERO),
            )
            .map_err(risk_error)
        };
        let (cheap, dear) = if terms.is_call { (oracle.lo, oracle.hi) } else { (oracle.hi, oracle.lo) };
        (at(cheap, false)?, at(dear, true)?)
    } else {
        (oracle.lo, oracle.hi)
    };
    let lo = per_contract(
        market,
        center_lo
            .checked_mul(Fixed::ONE.checked_sub(band).map_err(risk_error)?, Rounding::Ceil)
            .map_err(risk_error)?,
        Rounding::Ceil,
    )?;
    let hi = per_contract(
        market,
        center_hi
            .checked_mul(Fixed::ONE.checked_add(band).map_err(risk_error)?, Rounding::Floor)
            .map_err(risk_error)?,
        Rounding::Floor,
    )?;
    if price < lo {
        return Err(error!(XmarginError::PriceOutsideBand).with_values((price, lo)));
    }
    if price > hi {
        return Err(error!(XmarginError::PriceOutsideBand).with_values((price, hi)));
    }
    Ok(())
}

/// A fill that moves the mark: its price (quote native per underlying native
/// unit) and size in contracts.
pub struct MarkPrint {
    pub price: Fixed,
    pub contracts: u64,
}

/// Folds the time since the last update into the market's time-weighted
/// prices, then sets the mark premium in force from now on. The elapsed
/// interval counts at the mark that was in force during it,
/// `oracle · (1 + mark_premium)`. A trade moves the premium toward its own by
/// `min(1, contracts / max(mark_depth, open interest))` (`blend_mark_premium`;
/// open interest after the fill): a min-size print at the band's edge cannot
/// steer funding, and moving it far takes a trade the size of the market's
/// open interest, margined at Init on both sides for as long as it stands.
/// A funding update (no print) resets it to 0, so the mark decays to the
/// oracle when nobody trades; updates come once an hour at most, so nobody
/// can wipe a real premium by cranking after every trade.
pub fn record_mark(market: &mut Market, print: Option<MarkPrint>, oracle: Fixed, now: i64) -> Result<()> {
    let dt = now.saturating_sub(market.twap_ts).max(0).unsigned_abs();
    let window = u64::from(market.twap_window_secs);
    let in_force = mark_sample(oracle, market.mark_premium.get()).map_err(risk_error)?;
    let mark = update_twap(market.mark_twap.get(), in_force, dt, window).map_err(risk_error)?;
    let oracle_twap = update_twap(market.oracle_twap.get(), oracle, dt, window).map_err(risk_error)?;
    market.mark_twap.set(mark);
    market.oracle_twap.set(oracle_twap);
    let premium = match print {
        Some(print) => {
            let own = trade_premium(print.price, oracle).map_err(risk_error)?;
            let depth = market.mark_depth.max(market.open_interest);
            blend_mark_premium(market.mark_premium.get(), own, print.contracts, depth).map_err(risk_error)?
        }
        None => Fixed::ZERO,
    };
    market.mark_premium.set(premium);
    market.twap_ts = market.twap_ts.max(now);
    Ok(())
}

/// Moves the market's stable price toward the oracle at its bounded speed
/// (`update_stable_price`: at most one hour's growth however long since the
/// last move); returns it. Funding updates and PnL settlements call it, so a
/// dated future, which has no funding crank, keeps a live stable price too.
pub fn refresh_stable_price(market: &mut Market, oracle: Fixed, now: i64) -> Result<Fixed> {
    let growth = market.safety_params(now).stable_price_growth_per_sec.get();
    let dt = now.saturating_sub(market.stable_price_ts).max(0).unsigned_abs();
    let stable = update_stable_price(market.stable_price.get(), oracle, dt, growth).map_err(risk_error)?;
    market.stable_price.set(stable);
    market.stable_price_ts = market.stable_price_ts.max(now);
    Ok(stable)
}

/// Base native units of `contracts`.
pub fn base_of(market: &Market, contracts: i64) -> Result<Fixed> {
    base_native(contracts, market.contract_size).map_err(risk_error)
}
