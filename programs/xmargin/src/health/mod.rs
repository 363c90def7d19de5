//! Building an account's health on-chain from the accounts a transaction passes.
//!
//! # Health accounts (remaining accounts, in this order)
//! For the margin account's active token positions **in slot order**, first
//! every position's bank, then every position's oracle; then the market of
//! every derivative position in slot order, then the market oracles no token
//! position brought, each once ([`accounts`]):
//!
//! ```text
//! [bank(slot a), bank(slot b), …, oracle(slot a), oracle(slot b), …,
//!  market(slot x), market(slot y), …, new oracle(s)]
//! ```
//!
//! An instruction that opens a position for its own bank or market (deposit,
//! withdraw, trade) opens it *before* reading health accounts, in the first
//! free slot, so a client lists it there too; a position emptied by the
//! instruction is freed only after the health check, so it is still listed.
//! A missing, extra, reordered or substituted account is rejected with a
//! named error. Derivative positions are valued in [`derivatives`].
//!
//! # Stale or uncertain prices (all the rules, by [`PriceRules`])
//! An oracle that fails its freshness or confidence check (an *unusable*
//! price):
//! - values an *asset* position at zero (conservative: it can only lower
//!   health), except for the instruction's own tokens (`strict`), which must
//!   be priced: a bad price blocks exactly the actions that depend on it;
//! - for a *liability*, risk-increasing actions and views refuse to value it
//!   ([`UnpricedLiability::Refuse`]); liquidation and the recovery check value
//!   it at a conservative fallback instead ([`UnpricedLiability::Fallback`]):
//!   the larger of its last oracle price (confidence-widened) and its stable
//!   price. One stale dust position never shields a whole account from
//!   liquidation; the pair being liquidated is always strict.
use anchor_lang::prelude::*;
use xmargin_risk::health::{HealthCache, HealthSummary, MarginMode, TokenInfo};
use xmargin_risk::price::{pyth_conf_within, BiasedPrices, OraclePrice, PriceBias};
use xmargin_risk::weights::TokenWeights;
use xmargin_risk::{Fixed, HealthType, RiskError};

use crate::errors::XmarginError;
use crate::oracle::{read_pyth, PythReading};
use crate::state::{Bank, MarginAccount};

pub mod accounts;
pub mod derivatives;
pub mod options;
pub mod portfolio;
pub mod portfolio_init;

pub use accounts::{load_market, split_health_accounts, HealthAccounts};
pub use derivatives::{market_oracle_price, pending_funding, value_derivative};

/// Maps a risk-engine error to the program's named error.
pub fn risk_error(e: RiskError) -> Error {
    match e {
        RiskError::InvalidPrice => error!(XmarginError::OracleNonPositivePrice),
        RiskError::InvalidParameter => error!(XmarginError::InvalidWeights),
        RiskError::TokenNotFound | RiskError::DuplicateIndex => error!(XmarginError::HealthAccountMismatch),
        _ => error!(XmarginError::MathOverflow),
    }
}

/// How a liability with an unusable price is valued (module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnpricedLiability {
    /// Refuse with the oracle's error: risk-increasing actions and views.
    Refuse,
    /// The larger of the last (widened) oracle price and the stable price:
    /// liquidation and the check that clears `BEING_LIQUIDATED`.
    Fallback,
}

/// The price rules of one health computation (module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PriceRules {
    /// Tokens that must be priced even as assets (the instruction's own).
    pub strict: [Option<u16>; 2],
    /// A market that must be priced (the one traded or liquidated).
    pub strict_market: Option<u16>,
    pub unpriced_liability: UnpricedLiability,
}

impl PriceRules {
    /// Risk-increasing actions on `token` (withdraw, borrow, a liquidator's own check).
    pub fn risk_check(token: u16) -> Self {
        PriceRules {
            strict: [Some(token), None],
            strict_market: None,
            unpriced_liability: UnpricedLiability::Refuse,
        }
    }

    /// `compute_health` and off-chain estimates: nothing strict, liabilities must be priced.
    pub const VIEW: PriceRules = PriceRules {
        strict: [None, None],
        strict_market: None,
        unpriced_liability: UnpricedLiability::Refuse,
    };

    /// Trading in `market` (both sides): every price must be usable.
    pub fn trade(market: u16) -> Self {
        PriceRules {
            strict: [None, None],
            strict_market: Some(market),
            unpriced_liability: UnpricedLiability::Refuse,
        }
    }

    /// A liquidation of a position in `market`: that market strict, other
    /// positions with bad prices at their conservative fallback.
    pub fn position_liquidation(market: u16) -> Self {
        PriceRules {
            strict: [None, None],
            strict_market: Some(market),
            unpriced_liability: UnpricedLiability::Fallback,
        }
    }

    /// A liquidation of the `asset`/`liab` pair: the pair strict, other liabilities at the fallback.
    pub fn liquidation(asset: u16, liab: u16) -> Self {
        PriceRules {
            strict: [Some(asset), Some(liab)],
            strict_market: None,
            unpriced_liability: UnpricedLiability::Fallback,
        }
    }

    /// Whether an account is back at LiquidationEnd ≥ 0, and keeper ranking:
    /// never refused for a price, always conservative.
    pub const CONSERVATIVE: PriceRules = PriceRules {
        strict: [None, None],
        strict_market: None,
        unpriced_liability: UnpricedLiability::Fallback,
    };

    fn is_strict(&self, token: u16) -> bool {
        self.strict.contains(&Some(token))
    }
}

/// What the group and the instruction contribute to valuation.
#[derive(Clone, Copy, Debug)]
pub struct HealthContext {
    pub group: Pubkey,
    pub quote_decimals: u8,
    pub now: i64,
    pub rules: PriceRules,
    /// The group's scenario grid and risk-array rules in force (`Group::risk_grid_at`).
    pub grid: crate::state::RiskGridParams,
}

/// Checks one position's bank and oracle accounts (identity, group, token
/// index, the bank's oracle) and hands the decoded bank and reading to `use_it`.
fn with_position<'info, T>(
    ctx: &HealthContext,
    token_index: u16,
    bank_info: &AccountInfo<'info>,
    oracle_info: &AccountInfo<'info>,
    use_it: impl FnOnce(&Bank, &PythReading) -> Result<T>,
) -> Result<T> {
    // The checks of `AccountLoader::try_from` + `load` (owner, discriminator), done once.
    if bank_info.owner != &crate::ID {
        return Err(error!(anchor_lang::error::ErrorCode::AccountOwnedByWrongProgram)
            .with_pubkeys((*bank_info.owner, crate::ID)));
    }
    let data = bank_info.try_borrow_data()?;
    if data.len() < 8 + Bank::SIZE || data[..8] != *Bank::DISCRIMINATOR {
        return err!(anchor_lang::error::ErrorCode::AccountDiscriminatorMismatch);
    }
    let bank: &Bank = bytemuck::from_bytes(&data[8..8 + Bank::SIZE]);
    if bank.group != ctx.group || bank.token_index != token_index {
        return Err(error!(XmarginError::HealthAccountMismatch).with_values((token_index, bank.token_index)));
    }
    if oracle_info.key() != bank.oracle {
        return Err(error!(XmarginError::WrongOracle).with_pubkeys((oracle_info.key(), bank.oracle)));
    }
    let reading = read_pyth(oracle_info, &bank.feed_id)?;
    use_it(bank, &reading)
}

/// Values a position of `shares` in `bank` at the oracle `reading` (already
/// identity-checked), applying the freshness rules of the module docs. The one
/// valuation the program, the keeper and the CLI share.
#[inline(always)]
pub fn value_token(
    ctx: &HealthContext,
    bank: &Bank,
    reading: &PythReading,
    shares: Fixed,
) -> Result<Option<TokenInfo>> {
    let Some((balance, price)) = price_position(ctx, bank, reading, shares)? else { return Ok(None) };
    let prices = BiasedPrices::new(&price, bank.stable_price.get(), bias(bank)).map_err(risk_error)?;
    let weights = position_weights(ctx, bank, &prices)?;
    TokenInfo::new(bank.token_index, balance, prices, &weights).map(Some).map_err(risk_error)
}

/// The position's native balance and biased prices, applying the freshness
/// rules of the module docs (`None`: an asset whose price is unusable, valued at 0).
fn price_position(
    ctx: &HealthContext,
    bank: &Bank,
    reading: &PythReading,
    shares: Fixed,
) -> Result<Option<(Fixed, OraclePrice)>> {
    let token_index = bank.token_index;
    let balance = position_balance(bank, shares, ctx.now)?;
    // Fast path with the risk engine's small results; on failure the checks run
    // again through `check_fresh`/`to_oracle_price` for the exact named error.
    let fresh = ctx.now.saturating_sub(reading.publish_time) <= i64::from(bank.max_oracle_age_secs);
    // Same order as the error path: fresh, positive, convertible, then confidence
    // (decided on the mantissas: `pyth_conf_within`).
    let usable = fresh && reading.price > 0;
    let price = usable
        .then(|| {
            OraclePrice::from_pyth(
                reading.price,
                reading.conf,
                reading.exponent,
                bank.mint_decimals,
                ctx.quote_decimals,
            )
            .ok()
            .filter(|_| pyth_conf_within(reading.price, reading.conf, bank.max_conf_ratio.get()))
        })
        .flatten();
    let price = match price {
        Some(price) => price,
        None if ctx.rules.is_strict(token_index) => return Err(unusable_price_error(ctx, bank, reading)),
        None if balance.is_negative() => match ctx.rules.unpriced_liability {
            UnpricedLiability::Refuse => return Err(unusable_price_error(ctx, bank, reading)),
            UnpricedLiability::Fallback => fallback_liability_price(ctx, bank, reading)
                .ok_or_else(|| unusable_price_error(ctx, bank, reading))?,
        },
        None => {
            msg!("token {} valued at 0: its oracle is stale or uncertain", token_index);
            return Ok(None);
        }
    };
    Ok(Some((balance, price)))
}

/// The named error of an unusable price (the checks again, in order).
fn unusable_price_error(ctx: &HealthContext, bank: &Bank, reading: &PythReading) -> Error {
    let checked = reading.check_fresh(ctx.now, bank.max_oracle_age_secs).and_then(|_| {
        reading.to_oracle_price(bank.mint_decimals, ctx.quote_decimals, bank.max_conf_ratio.get())
    });
    match checked {
        Err(e) => e,
        Ok(_) => error!(XmarginError::OracleNonPositivePrice), // unreachable: one of the checks failed
    }
}

/// A liability's price when its oracle is stale or uncertain: the larger of
/// the last reading (its confidence kept, so the bias still widens it) and
/// the stable price. `None` if neither is a positive price.
fn fallback_liability_price(ctx: &HealthContext, bank: &Bank, reading: &PythReading) -> Option<OraclePrice> {
    let stable = bank.stable_price.get();
    let last = OraclePrice::from_pyth(
        reading.price,
        reading.conf,
        reading.exponent,
        bank.mint_decimals,
        ctx.quote_decimals,
    )
    .ok();
    let (hi, conf) = match last {
        Some(p) => (p.hi.max(stable), p.conf),
        None => (stable, Fixed::ZERO),
    };
    hi.is_positive().then_some(OraclePrice { lo: hi, hi, conf })
}

/// A position's native balance at `now`: shares at the bank's indices, and
/// a debt in a bank not accrued since grown at the bank's highest rate
/// (`xmargin_risk::interest::project_debt`).
pub fn position_balance(bank: &Bank, shares: Fixed, now: i64) -> Result<Fixed> {
    use xmargin_risk::interest::{native_balance, project_debt};
    let balance =
        native_balance(shares, bank.deposit_index.get(), bank.borrow_index.get()).map_err(risk_error)?;
    if !balance.is_negative() || now <= bank.last_accrual_ts {
        return Ok(balance); // the hot path: deposits, and banks accrued this second
    }
    project_debt(balance, bank.max_rate.get(), now.abs_diff(bank.last_accrual_ts)).map_err(risk_error)
}

fn bias(bank: &Bank) -> PriceBias {
    PriceBias { conf_multiplier: bank.conf_multiplier.get() }
}

/// The bank's weights in force, size-scaled when the bank scales them.
fn position_weights(ctx: &HealthContext, bank: &Bank, prices: &BiasedPrices) -> Result<TokenWeights> {
    let params = bank.risk_params(ctx.now);
    if params.deposit_weight_scale_start == 0 && params.borrow_weight_scale_start == 0 {
        return Ok(params.weights()); // no size scaling: skip valuing the bank's totals
    }
    let (deposits, borrows) = bank.native_totals().map_err(risk_error)?;
    params
        .weights()
        .scaled(
            &params.scaling(),
            deposits.checked_mul_floor(prices.asset(HealthType::Init)).map_err(risk_error)?,
            borrows.checked_mul_ceil(prices.liab(HealthType::Init)).map_err(risk_error)?,
        )
        .map_err(risk_error)
}

/// Init contribution of one position, by the same rules and roundings as
/// `TokenInfo::contribution(Init)` (asset unit floor, liability unit ceil,
/// product floor) without building the `TokenInfo`.
fn init_contribution(
    ctx: &HealthContext,
    bank: &Bank,
    reading: &PythReading,
    shares: Fixed,
) -> Result<Fixed> {
    let Some((balance, price)) = price_position(ctx, bank, reading, shares)? else { return Ok(Fixed::ZERO) };
    let params = bank.risk_params(ctx.now);
    let init = HealthType::Init;
    let is_asset = !balance.is_negative();
    // Only the Init price and weight of the position's side are needed (unless the bank size-scales).
    let (price, weight) = if params.deposit_weight_scale_start == 0 && params.borrow_weight_scale_start == 0 {
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
    let unit = if is_asset { price.checked_mul_floor(weight) } else { price.checked_mul_ceil(weight) };
    unit.and_then(|u| balance.checked_mul_floor(u)).map_err(risk_error)
}

/// Visits every token position of `account` with its checked bank and
/// oracle reading, then every derivative position with its checked market
/// and reading, from the (already split) health accounts, in slot order.
fn for_each_position<'a, 'info>(
    ctx: &HealthContext,
    account: &MarginAccount,
    health: &HealthAccounts<'a, 'info>,
    mut visit_token: impl FnMut(&Bank, &PythReading, Fixed) -> Result<()>,
    mut visit_derivative: impl FnMut(
        &crate::state::Market,
        &PythReading,
        &crate::state::DerivativePosition,
    ) -> Result<()>,
) -> Result<()> {
    for ((position, bank), oracle) in account.active_tokens().zip(health.banks).zip(health.token_oracles) {
        let shares = position.shares.get();
        with_position(ctx, position.token_index, bank, oracle, |bank, reading| {
            visit_token(bank, reading, shares)
        })?;
    }
    for (i, (position, market_info)) in account.active_derivatives().zip(health.markets).enumerate() {
        let market = load_market(market_info)?;
        if market.group != ctx.group {
            return Err(error!(XmarginError::WrongGroup).with_pubkeys((market.group, ctx.group)));
        }
        let reading = read_pyth(health.oracle_of_market(i), &market.feed_id)?;
        visit_derivative(&market, &reading, position)?;
    }
    Ok(())
}

/// Builds the health cache of `account` from the health accounts (module
/// docs), in the account's margin mode ([`portfolio`]).
pub fn build_health_cache<'info>(
    ctx: &HealthContext,
    account: &MarginAccount,
    health_accounts: &'info [AccountInfo<'info>],
) -> Result<HealthCache> {
    build_health_cache_in(ctx, account, health_accounts, account.is_portfolio_mode())
}

/// [`build_health_cache`] in the given mode (`portfolio` or linear) whatever
/// the account's: `set_margin_mode` checks health in the mode it switches to.
pub fn build_health_cache_in<'info>(
    ctx: &HealthContext,
    account: &MarginAccount,
    health_accounts: &'info [AccountInfo<'info>],
    portfolio: bool,
) -> Result<HealthCache> {
    let health = split_health_accounts(account, health_accounts, true)?;
    build_cache(ctx, account, &health, false, portfolio)
}

/// Init health in the given mode (`portfolio` or linear) whatever the
/// account's, as `build_health_cache_in(..).health(Init)` without the
/// cache (`set_margin_mode` checks the mode it switches to).
pub fn init_health_in<'info>(
    ctx: &HealthContext,
    account: &MarginAccount,
    health_accounts: &'info [AccountInfo<'info>],
    portfolio: bool,
) -> Result<Fixed> {
    let health = split_health_accounts(account, health_accounts, true)?;
    if portfolio {
        if let Some(h) = portfolio_init::portfolio_init_health(ctx, account, &health)? {
            return Ok(h);
        }
    }
    linear_init_health_from(ctx, account, &health)
}

/// [`build_health_cache`] from accounts already split (instructions that
/// value two accounts).
pub fn build_health_cache_from<'a, 'info>(
    ctx: &HealthContext,
    account: &MarginAccount,
    health: &HealthAccounts<'a, 'info>,
) -> Result<HealthCache> {
    build_cache(ctx, account, health, false, account.is_portfolio_mode())
}

/// The cache a liquidation sizes its step and its bonus on: as
/// [`build_health_cache_from`], but every token balance as its bank would
/// book it if accrued now ([`Bank::native_balance_at`]), not health's upper
/// bound on a debt in a bank not accrued ([`position_balance`]). The bonus
/// is capped at the liquidatee's equity over its debts, and an account with
/// no equity pays the full bonus (`xmargin_risk::liquidation::equity_bonus`):
/// an overstated debt there is not conservative, it can make a solvent
/// account pay the full bonus and leave it with bad debt. Valued this way a
/// liquidation is the same whether or not the keeper cranked the other banks.
///
/// A portfolio-mode account that is liquidatable in its mode
/// (`xmargin_risk::liquidation::can_liquidate`: Maint < 0, or
/// `BEING_LIQUIDATED` with LiquidationEnd < 0) is liquidated in linear mode:
/// the cache is switched to linear here by the engine's rule
/// (`HealthCache::for_liquidation`, shared with the keeper and clients),
/// and the step that lands takes the account out of portfolio mode
/// (`crate::liquidation::update_liqee_flags`). Every linear
/// liquidation path then applies (tokens, positions, options) and each step
/// is sized in closed form: in portfolio mode closing one leg of a hedge can
/// lower health and seizing a netted token always does, so a netted book
/// could otherwise be left with no step that improves it. Linear health is
/// never above portfolio health, so such an account is liquidatable in
/// linear mode too; the cost to its owner is a larger step (to linear
/// LiquidationEnd 0). An account healthy in portfolio mode is not
/// liquidatable, whatever linear mode would say.
pub fn build_liquidatee_cache_from<'a, 'info>(
    ctx: &HealthContext,
    account: &MarginAccount,
    health: &HealthAccounts<'a, 'info>,
) -> Result<HealthCache> {
    let cache = build_cache(ctx, account, health, true, account.is_portfolio_mode())?;
    let portfolio = !matches!(cache.mode(), MarginMode::Linear);
    let being_liquidated = account.has_flag(crate::state::account_flags::BEING_LIQUIDATED);
    let cache = cache.for_liquidation(being_liquidated).map_err(risk_error)?;
    if portfolio && matches!(cache.mode(), MarginMode::Linear) {
        msg!("portfolio account liquidatable: liquidated in linear mode");
    }
    Ok(cache)
}

fn build_cache<'a, 'info>(
    ctx: &HealthContext,
    account: &MarginAccount,
    health: &HealthAccounts<'a, 'info>,
    accrued: bool,
    portfolio: bool,
) -> Result<HealthCache> {
    let mut tokens = Vec::with_capacity(health.banks.len());
    let mut derivatives = Vec::with_capacity(health.markets.len());
    // Portfolio mode: the option markets counted first (a market that does
    // not load is refused below), so the arrays' vector is allocated once.
    let options = if portfolio {
        health.markets.iter().filter(|m| load_market(m).is_ok_and(|m| m.is_option())).count()
    } else {
        0
    };
    let mut arrays = portfolio::Arrays::with_capacity(portfolio, options);
    for_each_position(
        ctx,
        account,
        health,
        |bank, reading, shares| {
            if let Some(info) = value_token(ctx, bank, reading, shares)? {
                tokens.push(if accrued && bank.last_accrual_ts < ctx.now {
                    info.with_balance(bank.native_balance_at(shares, ctx.now)?)
                } else {
                    info
                });
            }
            Ok(())
        },
        |market, reading, position| {
            derivatives.push(value_derivative(ctx, market, reading, position)?);
            arrays.add(ctx, market, reading, position)
        },
    )?;
    if accrued {
        // The liquidatee's cache (the only one built `accrued`).
        arrays.refuse_previous_grid(ctx)?;
    }
    portfolio::into_cache(ctx, tokens, derivatives, arrays)
}

/// Init health alone, summed as positions are valued: what risk-increasing
/// instructions check, in the account's margin mode. In portfolio mode the
/// netted books are valued only when linear Init is negative: linear health
/// is a lower bound of portfolio health, so when it is ≥ 0 it decides the
/// check and is what is returned. The books are then streamed
/// ([`portfolio_init`]: no cache on the heap), equal to the cache's
/// `health(Init)`. Equal to `build_health_cache(..).health(Init)` in linear
/// mode (same unit values and roundings, see `init_contribution`), without
/// building token infos or the cache.
pub fn init_health<'info>(
    ctx: &HealthContext,
    account: &MarginAccount,
    health_accounts: &'info [AccountInfo<'info>],
) -> Result<Fixed> {
    init_health_from(ctx, account, &split_health_accounts(account, health_accounts, true)?)
}

/// [`init_health`] from accounts already split (instructions that value two accounts).
pub fn init_health_from<'a, 'info>(
    ctx: &HealthContext,
    account: &MarginAccount,
    health: &HealthAccounts<'a, 'info>,
) -> Result<Fixed> {
    if account.is_portfolio_mode() {
        // One pass for both modes: linear Init when ≥ 0, else the netted
        // books ([`portfolio_init`]: streamed, no cache on the heap).
        return portfolio_init::init_health_or_linear(ctx, account, health);
    }
    linear_init_health_from(ctx, account, health)
}

/// Linear-mode Init health whatever the account's mode: a lower bound of
/// its portfolio-mode Init health (portfolio mode never charges more).
pub fn linear_init_health_from<'a, 'info>(
    ctx: &HealthContext,
    account: &MarginAccount,
    health: &HealthAccounts<'a, 'info>,
) -> Result<Fixed> {
    // Summed on the raw bits (overflow-checked) with `Fixed`'s symmetric-range
    // check once on the total instead of per addition: the total is exact
    // either way. The loops are `for_each_position`'s, written out: this is
    // the hot path of every risk check.
    let mut total: i128 = 0;
    for ((position, bank), oracle) in account.active_tokens().zip(health.banks).zip(health.token_oracles) {
        let shares = position.shares.get();
        let c = with_position(ctx, position.token_index, bank, oracle, |bank, reading| {
            init_contribution(ctx, bank, reading, shares)
        })?;
        total = total.checked_add(c.to_bits()).ok_or_else(|| error!(XmarginError::MathOverflow))?;
    }
    for (i, (position, market_info)) in account.active_derivatives().zip(health.markets).enumerate() {
        let market = load_market(market_info)?;
        if market.group != ctx.group {
            return Err(error!(XmarginError::WrongGroup).with_pubkeys((market.group, ctx.group)));
        }
        let reading = read_pyth(health.oracle_of_market(i), &market.feed_id)?;
        let c = derivatives::init_contribution(ctx, &market, &reading, position)?;
        total = total.checked_add(c.to_bits()).ok_or_else(|| error!(XmarginError::MathOverflow))?;
    }
    if total == i128::MIN {
        return err!(XmarginError::MathOverflow);
    }
    Ok(Fixed::from_bits(total))
}

/// Health of all three types, as plain numbers for events and return data.
pub fn summary(cache: &HealthCache) -> Result<HealthSummary> {
    cache.summary().map_err(risk_error)
}

/// Fixed → i64 quote native, rounded down (for events and return data).
pub fn to_quote_native(value: Fixed) -> i64 {
    value.to_i64(xmargin_risk::Rounding::Floor).unwrap_or(if value.is_negative() {
        i64::MIN
    } else {
        i64::MAX
    })
}

#[cfg(test)]
mod tests;
