//! Building an account's health on-chain from the accounts a transaction passes.
//!
//! # Health accounts (remaining accounts, in this order)
//! For the margin account's active token positions **in slot order**, first
//! every position's bank, then every position's oracle:
//!
//! ```text
//! [bank(slot a), bank(slot b), …, oracle(slot a), oracle(slot b), …]
//! ```
//!
//! An instruction that opens a position for its own bank (deposit, withdraw)
//! opens it *before* reading health accounts, in the first free slot, so a
//! client lists it there too; a position emptied by the instruction is freed
//! only after the health check, so it is still listed. A missing, extra,
//! reordered or substituted account is rejected with a named error.
//!
//! # Stale or uncertain prices
//! An oracle that fails its freshness or confidence check values an *asset*
//! position at zero (conservative: it can only lower health) but refuses to
//! value a *liability* or the instruction's own token (`strict_token`), so a
//! bad price blocks exactly the actions that depend on it. Liquidation is
//! stricter (`strict_all`): it never runs on a price that may be wrong.
use anchor_lang::prelude::*;
use xmargin_risk::health::{HealthCache, HealthSummary, MarginMode, TokenInfo};
use xmargin_risk::price::{BiasedPrices, PriceBias};
use xmargin_risk::{Fixed, HealthType, RiskError};

use crate::errors::XmarginError;
use crate::oracle::{read_pyth, PythReading};
use crate::state::{Bank, MarginAccount};

/// Maps a risk-engine error to the program's named error.
pub fn risk_error(e: RiskError) -> Error {
    match e {
        RiskError::InvalidPrice => error!(XmarginError::OracleNonPositivePrice),
        RiskError::InvalidParameter => error!(XmarginError::InvalidWeights),
        RiskError::TokenNotFound | RiskError::DuplicateIndex => error!(XmarginError::HealthAccountMismatch),
        _ => error!(XmarginError::MathOverflow),
    }
}

/// What the group contributes to valuation.
#[derive(Clone, Copy, Debug)]
pub struct HealthContext {
    pub group: Pubkey,
    pub quote_decimals: u8,
    pub now: i64,
    /// Token whose price must be fresh even if it is an asset (the instruction's own).
    pub strict_token: Option<u16>,
    /// Every price must be fresh (liquidation: never on a price that may be wrong).
    pub strict_all: bool,
}

/// Values one token position from its bank and oracle account infos.
/// `None` when the oracle is stale/uncertain and the position may be skipped.
fn token_info<'info>(
    ctx: &HealthContext,
    token_index: u16,
    shares: Fixed,
    bank_info: &'info AccountInfo<'info>,
    oracle_info: &AccountInfo<'info>,
) -> Result<Option<TokenInfo>> {
    let loader = AccountLoader::<Bank>::try_from(bank_info)?;
    let bank = loader.load()?;
    if bank.group != ctx.group || bank.token_index != token_index {
        return Err(error!(XmarginError::HealthAccountMismatch).with_values((token_index, bank.token_index)));
    }
    if oracle_info.key() != bank.oracle {
        return Err(error!(XmarginError::WrongOracle).with_pubkeys((oracle_info.key(), bank.oracle)));
    }
    let reading = read_pyth(oracle_info, &bank.feed_id)?;
    value_token(ctx, &bank, &reading, shares)
}

/// Values a position of `shares` in `bank` at the oracle `reading` (already
/// identity-checked), applying the freshness rules of the module docs. The one
/// valuation the program, the keeper and the CLI share.
pub fn value_token(
    ctx: &HealthContext,
    bank: &Bank,
    reading: &PythReading,
    shares: Fixed,
) -> Result<Option<TokenInfo>> {
    let token_index = bank.token_index;
    let balance = bank.native_balance(shares)?;
    let quality = reading.check_fresh(ctx.now, bank.max_oracle_age_secs).and_then(|_| {
        reading.to_oracle_price(bank.mint_decimals, ctx.quote_decimals, bank.max_conf_ratio.get())
    });
    let price = match quality {
        Ok(price) => price,
        Err(e) if ctx.strict_all || balance.is_negative() || ctx.strict_token == Some(token_index) => {
            return Err(e)
        }
        Err(_) => {
            msg!("token {} valued at 0: its oracle is stale or uncertain", token_index);
            return Ok(None);
        }
    };
    let prices = BiasedPrices::new(
        &price,
        bank.stable_price.get(),
        PriceBias { conf_multiplier: bank.conf_multiplier.get() },
    )
    .map_err(risk_error)?;
    let params = bank.risk_params(ctx.now);
    let weights = if params.deposit_weight_scale_start == 0 && params.borrow_weight_scale_start == 0 {
        params.weights() // no size scaling: skip valuing the bank's totals
    } else {
        let (deposits, borrows) = bank.native_totals().map_err(risk_error)?;
        params
            .weights()
            .scaled(
                &params.scaling(),
                deposits.checked_mul_floor(prices.asset(HealthType::Init)).map_err(risk_error)?,
                borrows.checked_mul_ceil(prices.liab(HealthType::Init)).map_err(risk_error)?,
            )
            .map_err(risk_error)?
    };
    TokenInfo::new(token_index, balance, prices, &weights).map(Some).map_err(risk_error)
}

/// Values every position of `account` from the health accounts (module docs),
/// in slot order, handing each to `visit`.
fn for_each_position<'info>(
    ctx: &HealthContext,
    account: &MarginAccount,
    health_accounts: &'info [AccountInfo<'info>],
    mut visit: impl FnMut(TokenInfo) -> Result<()>,
) -> Result<()> {
    let n = account.active_tokens().count();
    if health_accounts.len() != 2 * n {
        return Err(error!(XmarginError::HealthAccountMismatch).with_values((health_accounts.len(), 2 * n)));
    }
    let (banks, oracles) = health_accounts.split_at(n);
    for ((position, bank), oracle) in account.active_tokens().zip(banks).zip(oracles) {
        if let Some(info) = token_info(ctx, position.token_index, position.shares.get(), bank, oracle)? {
            visit(info)?;
        }
    }
    Ok(())
}

/// Builds the health cache of `account` from the health accounts (module docs).
pub fn build_health_cache<'info>(
    ctx: &HealthContext,
    account: &MarginAccount,
    health_accounts: &'info [AccountInfo<'info>],
) -> Result<HealthCache> {
    let mut tokens = Vec::with_capacity(health_accounts.len() / 2);
    for_each_position(ctx, account, health_accounts, |info| {
        tokens.push(info);
        Ok(())
    })?;
    HealthCache::new(tokens, Vec::new(), MarginMode::Linear).map_err(risk_error)
}

/// Init health alone, summed as positions are valued: what risk-increasing
/// instructions check. Equal to `build_health_cache(..).health(Init)` in
/// linear mode, without building the cache (its per-position copies and
/// duplicate-index checks cost compute units).
pub fn init_health<'info>(
    ctx: &HealthContext,
    account: &MarginAccount,
    health_accounts: &'info [AccountInfo<'info>],
) -> Result<Fixed> {
    let mut total = Fixed::ZERO;
    for_each_position(ctx, account, health_accounts, |info| {
        let c = info.contribution(HealthType::Init).map_err(risk_error)?;
        total = total.checked_add(c).map_err(risk_error)?;
        Ok(())
    })?;
    Ok(total)
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
