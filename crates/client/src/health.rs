//! The health-accounts list instructions need, and off-chain health computed
//! with the program's own valuation (`xmargin::health::value_token`,
//! `xmargin::health::value_derivative`).
use std::collections::BTreeMap;

use anchor_lang::prelude::{AccountMeta, Pubkey};
use xmargin::health::{value_derivative, value_token, HealthContext};
use xmargin::oracle::PythReading;
use xmargin::state::{Bank, MarginAccount, Market, MAX_DERIVATIVE_POSITIONS, MAX_TOKEN_POSITIONS};
use xmargin_risk::health::HealthCache;

/// A listed bank as the client knows it: its address and decoded state.
#[derive(Clone, Copy, Debug)]
pub struct BankEntry {
    pub address: Pubkey,
    pub bank: Bank,
}

/// The token indices of `account`'s positions in slot order, after opening
/// `opening` (in order, each in the first free slot if not active yet) — the
/// order the program expects health accounts in (see `xmargin::health`).
pub fn health_slots(account: &MarginAccount, opening: &[u16]) -> Vec<u16> {
    let mut slots: Vec<Option<u16>> =
        account.tokens.iter().map(|p| (p.in_use != 0).then_some(p.token_index)).collect();
    debug_assert_eq!(slots.len(), MAX_TOKEN_POSITIONS);
    for t in opening {
        if !slots.contains(&Some(*t)) {
            if let Some(free) = slots.iter_mut().find(|s| s.is_none()) {
                *free = Some(*t);
            }
        }
    }
    slots.into_iter().flatten().collect()
}

/// A listed market as the client knows it: its address and decoded state.
#[derive(Clone, Copy, Debug)]
pub struct MarketEntry {
    pub address: Pubkey,
    pub market: Market,
}

/// The market indices of `account`'s derivative positions in slot order,
/// after opening `opening` (each in the first free slot if not active yet).
pub fn market_slots(account: &MarginAccount, opening: &[u16]) -> Vec<u16> {
    let mut slots: Vec<Option<u16>> =
        account.derivatives.iter().map(|p| (p.in_use != 0).then_some(p.market_index)).collect();
    debug_assert_eq!(slots.len(), MAX_DERIVATIVE_POSITIONS);
    for m in opening {
        if !slots.contains(&Some(*m)) {
            if let Some(free) = slots.iter_mut().find(|s| s.is_none()) {
                *free = Some(*m);
            }
        }
    }
    slots.into_iter().flatten().collect()
}

/// A bank or market the health accounts need but the caller did not pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MissingEntry {
    Bank(u16),
    Market(u16),
}

impl std::fmt::Display for MissingEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MissingEntry::Bank(t) => write!(f, "no bank known for token index {t}"),
            MissingEntry::Market(m) => write!(f, "no market known for market index {m}"),
        }
    }
}

impl std::error::Error for MissingEntry {}

/// Health accounts of an account with token and derivative positions
/// (`xmargin::health::accounts`): banks, their oracles, markets, then the
/// market oracles no token position brought, each once.
pub fn health_metas_with_markets(
    account: &MarginAccount,
    opening_tokens: &[u16],
    opening_markets: &[u16],
    banks: &BTreeMap<u16, BankEntry>,
    markets: &BTreeMap<u16, MarketEntry>,
) -> Result<Vec<AccountMeta>, MissingEntry> {
    let tokens = health_slots(account, opening_tokens)
        .into_iter()
        .map(|t| banks.get(&t).ok_or(MissingEntry::Bank(t)))
        .collect::<Result<Vec<_>, _>>()?;
    let mkts = market_slots(account, opening_markets)
        .into_iter()
        .map(|m| markets.get(&m).ok_or(MissingEntry::Market(m)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut oracles: Vec<Pubkey> = tokens.iter().map(|e| e.bank.oracle).collect();
    let mut metas: Vec<AccountMeta> =
        tokens.iter().map(|e| AccountMeta::new_readonly(e.address, false)).collect();
    metas.extend(oracles.iter().map(|o| AccountMeta::new_readonly(*o, false)));
    metas.extend(mkts.iter().map(|e| AccountMeta::new_readonly(e.address, false)));
    for e in &mkts {
        if !oracles.contains(&e.market.oracle) {
            oracles.push(e.market.oracle);
            metas.push(AccountMeta::new_readonly(e.market.oracle, false));
        }
    }
    Ok(metas)
}

/// Missing bank for a token index the account holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnknownBank(pub u16);

impl std::fmt::Display for UnknownBank {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no bank known for token index {}", self.0)
    }
}

impl std::error::Error for UnknownBank {}

/// Health accounts of an account without derivative positions: banks, then
/// their oracles, for [`health_slots`] ([`health_metas_with_markets`] for the rest).
pub fn health_metas(
    account: &MarginAccount,
    opening: &[u16],
    banks: &BTreeMap<u16, BankEntry>,
) -> Result<Vec<AccountMeta>, UnknownBank> {
    health_metas_with_markets(account, opening, &[], banks, &BTreeMap::new()).map_err(|e| match e {
        MissingEntry::Bank(t) | MissingEntry::Market(t) => UnknownBank(t),
    })
}

/// Health of `account` off-chain, valued exactly as the program would with
/// these banks and oracle readings. Returns the program's error (stale price,
/// unknown bank…) where the program would fail.
pub fn health_cache(
    ctx: &HealthContext,
    account: &MarginAccount,
    banks: &BTreeMap<u16, BankEntry>,
    readings: &BTreeMap<u16, PythReading>,
) -> anchor_lang::Result<HealthCache> {
    health_cache_with_markets(ctx, account, banks, &BTreeMap::new(), readings)
}

/// [`health_cache`] with derivative positions: a market is valued at the
/// reading of its underlying token (`readings` by token index).
pub fn health_cache_with_markets(
    ctx: &HealthContext,
    account: &MarginAccount,
    banks: &BTreeMap<u16, BankEntry>,
    markets: &BTreeMap<u16, MarketEntry>,
    readings: &BTreeMap<u16, PythReading>,
) -> anchor_lang::Result<HealthCache> {
    use xmargin::errors::XmarginError::HealthAccountMismatch;
    let mut tokens = Vec::new();
    for p in account.active_tokens() {
        let bank = banks.get(&p.token_index).ok_or(HealthAccountMismatch)?;
        let reading = readings.get(&p.token_index).ok_or(HealthAccountMismatch)?;
        if let Some(info) = value_token(ctx, &bank.bank, reading, p.shares.get())? {
            tokens.push(info);
        }
    }
    let mut derivatives = Vec::new();
    // In the account's margin mode, as the program builds it.
    let mut arrays = xmargin::health::portfolio::Arrays::new(account.is_portfolio_mode());
    for p in account.active_derivatives() {
        let market = markets.get(&p.market_index).ok_or(HealthAccountMismatch)?;
        let reading = readings.get(&market.market.underlying_token_index).ok_or(HealthAccountMismatch)?;
        derivatives.push(value_derivative(ctx, &market.market, reading, p)?);
        arrays.add(ctx, &market.market, reading, p)?;
    }
    xmargin::health::portfolio::into_cache(ctx, tokens, derivatives, arrays)
}
