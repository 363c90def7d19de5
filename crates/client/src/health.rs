//! The health-accounts list instructions need, and off-chain health computed
//! with the program's own valuation (`xmargin::health::value_token`).
use std::collections::BTreeMap;

use anchor_lang::prelude::{AccountMeta, Pubkey};
use xmargin::health::{value_token, HealthContext};
use xmargin::oracle::PythReading;
use xmargin::state::{Bank, MarginAccount, MAX_TOKEN_POSITIONS};
use xmargin_risk::health::{HealthCache, MarginMode};

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

/// Missing bank for a token index the account holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnknownBank(pub u16);

impl std::fmt::Display for UnknownBank {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no bank known for token index {}", self.0)
    }
}

impl std::error::Error for UnknownBank {}

/// Health accounts: banks, then their oracles, for [`health_slots`].
pub fn health_metas(
    account: &MarginAccount,
    opening: &[u16],
    banks: &BTreeMap<u16, BankEntry>,
) -> Result<Vec<AccountMeta>, UnknownBank> {
    let entries = health_slots(account, opening)
        .into_iter()
        .map(|t| banks.get(&t).ok_or(UnknownBank(t)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(entries
        .iter()
        .map(|e| AccountMeta::new_readonly(e.address, false))
        .chain(entries.iter().map(|e| AccountMeta::new_readonly(e.bank.oracle, false)))
        .collect())
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
    let mut tokens = Vec::new();
    for p in account.active_tokens() {
        let bank = banks.get(&p.token_index).ok_or(xmargin::errors::XmarginError::HealthAccountMismatch)?;
        let reading =
            readings.get(&p.token_index).ok_or(xmargin::errors::XmarginError::HealthAccountMismatch)?;
        if let Some(info) = value_token(ctx, &bank.bank, reading, p.shares.get())? {
            tokens.push(info);
        }
    }
    HealthCache::new(tokens, Vec::new(), MarginMode::Linear).map_err(xmargin::health::risk_error)
}
