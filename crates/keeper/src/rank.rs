//! Loading a group's state and ranking its accounts by health, with the
//! program's own valuation applied per bank once and per position by one
//! multiply (bank templates stamped with each balance).
use std::collections::BTreeMap;

use anchor_lang::prelude::Pubkey;
use xmargin::health::{value_token, HealthContext, PriceRules};
use xmargin::oracle::{parse_price_update, PYTH_RECEIVER_ID};
use xmargin::state::{account_flags, Bank, Group, MarginAccount};
use xmargin_client::accounts::{decode, scan_filter};
use xmargin_client::health::BankEntry;
use xmargin_risk::health::{HealthCache, MarginMode, TokenInfo};
use xmargin_risk::{Fixed, HealthType, Rounding};

use crate::chain::{Chain, ChainError};

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
    pub fn new(ctx: &HealthContext, bank: &Bank, reading: &xmargin::oracle::PythReading) -> Self {
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

/// A group's banks, fresh bank valuations and margin accounts at one instant.
pub struct Market {
    pub group: Pubkey,
    pub now: i64,
    pub banks: BTreeMap<u16, BankEntry>,
    /// Per bank: the valuation of one native unit on each side.
    pub templates: BTreeMap<u16, BankTemplates>,
    pub accounts: Vec<(Pubkey, MarginAccount)>,
    /// Token index of the group's quote-token bank, if listed.
    pub quote_token: Option<u16>,
}

fn err(e: impl std::fmt::Display) -> ChainError {
    ChainError(e.to_string())
}

impl Market {
    pub fn load(chain: &mut dyn Chain, group: &Pubkey) -> Result<Market, ChainError> {
        let now = chain.unix_time()?;
        let group_data = chain.accounts(&[*group])?.pop().flatten().ok_or_else(|| err("group not found"))?;
        let g: Group = decode(&group_data.data).map_err(err)?;
        let mut banks = BTreeMap::new();
        for (address, data) in chain.program_accounts(&scan_filter::<Bank>(group))? {
            let bank: Bank = decode(&data).map_err(err)?;
            banks.insert(bank.token_index, BankEntry { address, bank });
        }
        let oracles: Vec<Pubkey> = banks.values().map(|b| b.bank.oracle).collect();
        let fetched = chain.accounts(&oracles)?;
        let ctx = HealthContext {
            group: *group,
            quote_decimals: g.quote_decimals,
            now,
            rules: PriceRules::CONSERVATIVE,
        };
        let mut templates = BTreeMap::new();
        for (entry, oracle) in banks.values().zip(fetched) {
            let template = oracle
                .filter(|o| o.owner == PYTH_RECEIVER_ID)
                .and_then(|o| parse_price_update(&o.data, &entry.bank.feed_id).ok())
                .map_or(BankTemplates::UNPRICED, |reading| BankTemplates::new(&ctx, &entry.bank, &reading));
            if !template.fresh {
                tracing::warn!(
                    token = entry.bank.token_index,
                    "oracle stale, uncertain or invalid: deposits count zero, debts at the fallback price, not liquidated"
                );
            }
            templates.insert(entry.bank.token_index, template);
        }
        let mut accounts = Vec::new();
        for (address, data) in chain.program_accounts(&scan_filter::<MarginAccount>(group))? {
            accounts.push((address, decode::<MarginAccount>(&data).map_err(err)?));
        }
        let quote_token = banks.values().find(|b| b.bank.mint == g.quote_mint).map(|b| b.bank.token_index);
        Ok(Market { group: *group, now, banks, templates, accounts, quote_token })
    }

    pub fn account(&self, address: &Pubkey) -> Option<&MarginAccount> {
        self.accounts.iter().find(|(a, _)| a == address).map(|(_, acc)| acc)
    }
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
    /// Estimated bonus of liquidating the largest liability against the largest asset (quote native).
    pub bonus_value: u64,
}

fn to_i64(x: Fixed) -> i64 {
    x.to_i64(Rounding::Floor).unwrap_or(if x.is_negative() { i64::MIN } else { i64::MAX })
}

/// Health of one account from the bank templates, valued as a liquidation
/// values the positions it does not touch; `None` if a debt cannot be valued.
/// The pair it proposes has usable prices on both sides.
pub fn account_health(market: &Market, address: &Pubkey, account: &MarginAccount) -> Option<AccountHealth> {
    let mut tokens = Vec::with_capacity(8);
    let mut fresh = Vec::with_capacity(8);
    for p in account.active_tokens() {
        let bank = &market.banks.get(&p.token_index)?.bank;
        let template = market.templates.get(&p.token_index)?;
        let balance = xmargin::health::position_balance(bank, p.shares.get(), market.now).ok()?;
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
    let contribution = |t: &TokenInfo| t.contribution(HealthType::Maint).unwrap_or(Fixed::ZERO);
    let priced = || tokens.iter().zip(&fresh).filter(|(_, f)| **f).map(|(t, _)| t);
    let largest_asset = priced().filter(|t| t.balance.is_positive()).max_by_key(|t| contribution(t));
    let largest_liability = priced().filter(|t| t.balance.is_negative()).min_by_key(|t| contribution(t));
    let bonus_value = match (largest_asset, largest_liability) {
        (Some(a), Some(l)) => {
            let fee = |t: &TokenInfo| market.banks[&t.token_index].bank.liquidation_fee.get();
            let bonus = fee(a).checked_add(fee(l)).unwrap_or(Fixed::ZERO);
            let value = contribution(l).checked_neg().unwrap_or(Fixed::ZERO).min(contribution(a));
            value.checked_mul_floor(bonus).ok().and_then(|v| v.to_u64(Rounding::Floor).ok()).unwrap_or(0)
        }
        _ => 0,
    };
    let (largest_asset, largest_liability) =
        (largest_asset.map(|t| t.token_index), largest_liability.map(|t| t.token_index));
    let cache = HealthCache::new(tokens, Vec::new(), MarginMode::Linear).ok()?;
    let maint = cache.health(HealthType::Maint).ok()?;
    let liq_end = cache.health(HealthType::LiquidationEnd).ok()?;
    let being_liquidated = account.has_flag(account_flags::BEING_LIQUIDATED);
    let bankrupt = account.is_bankrupt();
    Some(AccountHealth {
        address: *address,
        maint: to_i64(maint),
        liquidation_end: to_i64(liq_end),
        liquidatable: !bankrupt
            && account.has_liabilities()
            && (maint.is_negative() || (being_liquidated && liq_end.is_negative())),
        bankrupt,
        largest_asset,
        largest_liability: if bankrupt { first_debt(account) } else { largest_liability },
        bonus_value,
    })
}

/// A bankrupt account's first debt in slot order (each resolves on its own,
/// no price needed).
fn first_debt(account: &MarginAccount) -> Option<u16> {
    account.active_tokens().find(|p| p.shares.get().is_negative()).map(|p| p.token_index)
}

/// Every account with usable prices, most endangered first (lowest Maint health).
pub fn rank_accounts(market: &Market) -> Vec<AccountHealth> {
    let mut ranked: Vec<AccountHealth> =
        market.accounts.iter().filter_map(|(a, acc)| account_health(market, a, acc)).collect();
    ranked.sort_by_key(|h| h.maint);
    ranked
}
