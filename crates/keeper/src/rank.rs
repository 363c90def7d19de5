//! Ranking accounts by health with the program's own valuation applied once
//! per bank and once per market, then per position by a few multiplies:
//! bank templates stamped with each balance (`TokenInfo::with_balance`),
//! market templates with each position (`DerivativeInfo::with_position`).
//! Accounts are valued as a liquidation values the positions it does not
//! touch (`PriceRules::CONSERVATIVE`), in their margin mode: a portfolio
//! account is liquidatable on its portfolio health and then liquidated in
//! linear mode (`HealthCache::for_liquidation`, the program's rule).
use anchor_lang::prelude::Pubkey;
use xmargin::health::portfolio::{into_cache, Arrays};
use xmargin::health::{market_oracle_price, pending_funding, value_derivative, value_token, HealthContext};
use xmargin::options::array_freshness;
use xmargin::oracle::PythReading;
use xmargin::state::{
    account_flags, market_kind, market_status, Bank, DerivativePosition, MarginAccount, Market,
};
use xmargin_risk::health::{DerivativeInfo, HealthCache, MarginMode, TokenInfo};
use xmargin_risk::liquidation::can_liquidate;
use xmargin_risk::options::risk_array::Freshness;
use xmargin_risk::perp::base_native;
use xmargin_risk::price::OraclePrice;
use xmargin_risk::{Fixed, HealthType, Rounding};

use crate::snapshot::Snapshot;

/// One bank's valuation of one native unit, per side, under the program's
/// conservative price rules (`PriceRules::CONSERVATIVE`, as liquidation values
/// the positions it does not touch).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BankTemplates {
    /// A deposit; `None` when the price is unusable (deposits then count zero).
    pub asset: Option<TokenInfo>,
    /// A debt, at the conservative fallback price when the oracle is unusable.
    pub liab: Option<TokenInfo>,
    /// Whether the oracle price is usable: only such tokens can be liquidated.
    pub fresh: bool,
}

impl BankTemplates {
    /// Values one native unit of each side of `bank` at `reading`.
    pub fn new(ctx: &HealthContext, bank: &Bank, reading: &PythReading) -> Self {
        let unit = |balance: Fixed| value_token(ctx, bank, reading, balance).ok().flatten();
        let asset = unit(Fixed::ONE);
        BankTemplates {
            asset,
            liab: unit(Fixed::ONE.checked_neg().unwrap_or(Fixed::ZERO)),
            fresh: asset.is_some(),
        }
    }

    /// No usable reading at all: deposits count zero, debts cannot be valued.
    pub const UNPRICED: BankTemplates = BankTemplates { asset: None, liab: None, fresh: false };
}

/// One market's valuation of one contract long and short (the program's
/// `value_derivative`, so a stale oracle gives each side its conservative
/// fallback), and its oracle price under the market's own rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarketTemplates {
    /// A long position (base > 0); `None` when it cannot be valued.
    pub long: Option<DerivativeInfo>,
    /// A short or closed position (base ≤ 0).
    pub short: Option<DerivativeInfo>,
    /// The oracle price if fresh and certain by the market's rules (what a
    /// trade, a liquidation, funding, sampling and PnL settlement need).
    pub oracle: Option<OraclePrice>,
    /// A position here may be liquidated: a perpetual, a live future or a
    /// live option whose risk array is fresh on the group's grid (the
    /// program values the liquidated market strictly), priced, not expired.
    pub liquidatable: bool,
    /// A settled option market: a position is worth what `settle_expired`
    /// pays its own contracts (realised PnL), which no one-contract template
    /// scales to, so [`MarketTemplates::value`] values it as the program does.
    pub settled_option: bool,
}

impl MarketTemplates {
    pub fn new(ctx: &HealthContext, market: &Market, reading: Option<&PythReading>) -> Self {
        // A settled future is valued at its settlement price; the reading is not read.
        let none = PythReading { price: 0, conf: 0, exponent: 0, publish_time: 0 };
        let settled = market.status == market_status::SETTLED;
        let reading = match (reading, settled) {
            (Some(r), _) => Some(r),
            (None, true) => Some(&none),
            (None, false) => None,
        };
        let unit = |contracts: i64| {
            let position = DerivativePosition {
                base_contracts: contracts,
                funding_snapshot: market.cum_funding,
                market_index: market.market_index,
                in_use: 1,
                ..DerivativePosition::default()
            };
            reading.and_then(|r| value_derivative(ctx, market, r, &position).ok())
        };
        let oracle = reading.filter(|_| !settled).and_then(|r| market_oracle_price(ctx, market, r).ok());
        let live = market.status == market_status::ACTIVE && !market.is_expired(ctx.now);
        let valued = |o: &OraclePrice| {
            market.kind != market_kind::OPTION
                || array_freshness(market, ctx.now, o.lo, &ctx.grid).is_ok_and(|f| f == Freshness::Fresh)
        };
        MarketTemplates {
            long: unit(1),
            short: unit(-1),
            oracle,
            liquidatable: live && oracle.as_ref().is_some_and(valued),
            settled_option: settled && market.kind == market_kind::OPTION,
        }
    }

    /// The risk engine's view of `position` (as `value_derivative` would give
    /// it) in the context the templates were built in.
    pub fn value(
        &self,
        ctx: &HealthContext,
        market: &Market,
        position: &DerivativePosition,
    ) -> Option<DerivativeInfo> {
        if self.settled_option {
            // Reads no price: the settlement price and the position's contracts.
            let none = PythReading { price: 0, conf: 0, exponent: 0, publish_time: 0 };
            return value_derivative(ctx, market, &none, position).ok();
        }
        let unit = if position.base_contracts > 0 { self.long? } else { self.short? };
        let base = base_native(position.base_contracts, market.contract_size).ok()?;
        let funding = pending_funding(market, position).ok()?;
        let cost =
            Fixed::from_i64(position.quote_cost).checked_sub(Fixed::from_i64(position.realized_pnl)).ok()?;
        unit.with_position(base, cost, Fixed::from_i64(funding)).ok()
    }
}

/// What the keeper would do to a liquidatable account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Liquidation {
    /// `liquidate_position` in this market (positions go first).
    Position { market: u16 },
    /// `liquidate_token` of this pair.
    Token { asset: u16, liab: u16 },
}

/// One account's standing, as the keeper sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountHealth {
    pub address: Pubkey,
    /// Maint and LiquidationEnd health (quote native, rounded down).
    pub maint: i64,
    pub liquidation_end: i64,
    pub liquidatable: bool,
    pub bankrupt: bool,
    /// Token with the largest asset value / liability value (Maint-weighted).
    pub largest_asset: Option<u16>,
    pub largest_liability: Option<u16>,
    /// Liquidatable accounts: the step the keeper proposes, with usable prices.
    pub liquidation: Option<Liquidation>,
    /// Estimated bonus of that step (quote native): the pair's fees on the
    /// smaller side, or the position's liquidation fee on its notional.
    pub bonus_value: u64,
    /// Open derivative positions (any base).
    pub derivative_positions: usize,
}

fn to_i64(x: Fixed) -> i64 {
    x.to_i64(Rounding::Floor).unwrap_or(if x.is_negative() { i64::MIN } else { i64::MAX })
}

fn to_u64(x: Fixed) -> u64 {
    x.to_u64(Rounding::Floor).unwrap_or(0)
}

/// Health of one account from the templates; `None` if a debt or a
/// position cannot be valued.
pub fn account_health(snap: &Snapshot, address: &Pubkey, account: &MarginAccount) -> Option<AccountHealth> {
    let mut tokens = Vec::with_capacity(8);
    let mut fresh = Vec::with_capacity(8);
    for p in account.active_tokens() {
        let bank = &snap.banks.get(&p.token_index)?.bank;
        let template = snap.templates.get(&p.token_index)?;
        let balance = xmargin::health::position_balance(bank, p.shares.get(), snap.now).ok()?;
        let unit = if balance.is_negative() {
            template.liab?
        } else {
            match template.asset {
                Some(unit) => unit,
                None => continue, // an unusable price values a deposit at zero
            }
        };
        tokens.push(unit.with_balance(balance));
        fresh.push(template.fresh);
    }
    let mut derivatives = Vec::new();
    for p in account.active_derivatives() {
        let market = &snap.markets.get(&p.market_index)?.market;
        derivatives.push(snap.market_templates.get(&p.market_index)?.value(&snap.context(), market, p)?);
    }
    let derivative_positions = derivatives.len();
    let cache = if account.is_portfolio_mode() {
        portfolio_cache(snap, account, tokens, derivatives)?
    } else {
        HealthCache::new(tokens, derivatives, MarginMode::Linear).ok()?
    };
    // Judged in the account's mode; a liquidatable portfolio account is then
    // liquidated in linear mode, as the program does (`for_liquidation`).
    let maint = cache.health(HealthType::Maint).ok()?;
    let liq_end = cache.health(HealthType::LiquidationEnd).ok()?;
    let being_liquidated = account.has_flag(account_flags::BEING_LIQUIDATED);
    let bankrupt = account.is_bankrupt();
    let liquidatable =
        !bankrupt && account.has_liabilities() && can_liquidate(&cache, being_liquidated).ok()?;
    let cache = cache.for_liquidation(being_liquidated).ok()?;

    let contribution = |t: &TokenInfo| t.contribution(HealthType::Maint).unwrap_or(Fixed::ZERO);
    let priced = || cache.tokens().iter().zip(&fresh).filter(|(_, f)| **f).map(|(t, _)| t);
    let largest_asset = priced().filter(|t| t.balance.is_positive()).max_by_key(|t| contribution(t));
    let largest_liability = priced().filter(|t| t.balance.is_negative()).min_by_key(|t| contribution(t));
    let (mut liquidation, mut bonus_value) = (None, 0);
    if liquidatable {
        // Positions first: the open one whose Maint requirement is largest.
        let position = cache
            .derivatives()
            .iter()
            .filter(|d| !d.base.is_zero() && snap.market_templates[&d.market_index].liquidatable)
            .max_by_key(|d| d.requirement(HealthType::Maint).unwrap_or(Fixed::ZERO));
        if let Some(d) = position {
            let fee = snap.markets[&d.market_index].market.safety_params(snap.now).liquidation_fee.get();
            liquidation = Some(Liquidation::Position { market: d.market_index });
            bonus_value = d.notional().and_then(|n| n.checked_mul_floor(fee)).map_or(0, to_u64);
        } else if let (Some(a), Some(l)) = (largest_asset, largest_liability) {
            let fee = |t: &TokenInfo| snap.banks[&t.token_index].bank.liquidation_fee.get();
            let bonus = fee(a).checked_add(fee(l)).unwrap_or(Fixed::ZERO);
            let value = contribution(l).checked_neg().unwrap_or(Fixed::ZERO).min(contribution(a));
            liquidation = Some(Liquidation::Token { asset: a.token_index, liab: l.token_index });
            bonus_value = value.checked_mul_floor(bonus).map_or(0, to_u64);
        }
    }
    Some(AccountHealth {
        address: *address,
        maint: to_i64(maint),
        liquidation_end: to_i64(liq_end),
        liquidatable,
        bankrupt,
        largest_asset: largest_asset.map(|t| t.token_index),
        largest_liability: if bankrupt {
            first_debt(account)
        } else {
            largest_liability.map(|t| t.token_index)
        },
        liquidation,
        bonus_value,
        derivative_positions,
    })
}

/// A portfolio-mode account's cache, built as the program builds it
/// (`xmargin::health::portfolio`): each option's stored risk array, tokens
/// with an open position on them netted; linear when an option is valued at
/// its bounds (stale array or oracle). `None` if it cannot be built, or
/// while an option's array is on the previous grid (a grid change not yet
/// cranked: the program refuses to liquidate such an account).
pub fn portfolio_cache(
    snap: &Snapshot,
    account: &MarginAccount,
    tokens: Vec<TokenInfo>,
    derivatives: Vec<DerivativeInfo>,
) -> Option<HealthCache> {
    let ctx = snap.context();
    let none = PythReading { price: 0, conf: 0, exponent: 0, publish_time: 0 };
    let mut arrays = Arrays::new(true);
    for p in account.active_derivatives() {
        let market = &snap.markets.get(&p.market_index)?.market;
        let reading = snap.market_reading(market).unwrap_or(&none);
        arrays.add(&ctx, market, reading, p).ok()?;
    }
    // The program refuses to liquidate it until that array is recomputed
    // (`Arrays::refuse_previous_grid`): not ranked until the crank lands.
    if arrays.previous_grid().is_some() {
        return None;
    }
    into_cache(&ctx, tokens, derivatives, arrays).ok()
}

/// A bankrupt account's first token debt in slot order (each resolves on
/// its own, no price needed). A closed position's unsettled loss is not one:
/// `settle_pnl` turns it into a quote-token debt first.
fn first_debt(account: &MarginAccount) -> Option<u16> {
    account.active_tokens().find(|p| p.shares.get().is_negative()).map(|p| p.token_index)
}

/// Every account that can be valued, most endangered first (lowest Maint health).
pub fn rank_accounts(snap: &Snapshot) -> Vec<AccountHealth> {
    let mut ranked: Vec<AccountHealth> =
        snap.accounts.iter().filter_map(|(a, acc)| account_health(snap, a, acc)).collect();
    ranked.sort_by_key(|h| h.maint);
    ranked
}

#[cfg(test)]
#[path = "rank_tests.rs"]
mod tests;
