//! A group's state at one instant as the keeper sees it: banks, derivative
//! markets, their oracle readings, the per-bank and per-market valuation
//! templates ([`crate::rank`]) and every margin account. Loaded with one
//! `getProgramAccounts` per account type and one `getMultipleAccounts` for
//! the oracles; refreshed in place after the keeper's own transactions
//! (markets and the touched accounts only).
use std::collections::{BTreeMap, HashMap};

use anchor_lang::prelude::Pubkey;
use xmargin::health::{HealthContext, PriceRules};
use xmargin::oracle::{parse_price_update, PythReading, PYTH_RECEIVER_ID};
use xmargin::state::{Bank, Group, MarginAccount, Market, RiskGridParams};
use xmargin_client::accounts::{decode, scan_filter};
use xmargin_client::health::{BankEntry, MarketEntry};

use crate::chain::{Chain, ChainError, Fetched};
use crate::rank::{BankTemplates, MarketTemplates};

/// A group's banks, markets, oracle readings, valuation templates and margin accounts.
pub struct Snapshot {
    pub group: Pubkey,
    pub now: i64,
    pub quote_decimals: u8,
    pub banks: BTreeMap<u16, BankEntry>,
    /// Per bank: the valuation of one native unit on each side.
    pub templates: BTreeMap<u16, BankTemplates>,
    pub markets: BTreeMap<u16, MarketEntry>,
    /// Per market: one contract long and short, valued once.
    pub market_templates: BTreeMap<u16, MarketTemplates>,
    /// Oracle readings by oracle address (missing: absent or not a verified price update).
    pub readings: BTreeMap<Pubkey, PythReading>,
    pub accounts: Vec<(Pubkey, MarginAccount)>,
    index: HashMap<Pubkey, usize>,
    /// Token index of the group's quote-token bank, if listed.
    pub quote_token: Option<u16>,
    /// The group's scenario grid and risk-array rules in force at `now`
    /// (`Group::risk_grid_at`; a new group's defaults until [`Snapshot::with_grid`]).
    pub grid: RiskGridParams,
}

fn err(e: impl std::fmt::Display) -> ChainError {
    ChainError(e.to_string())
}

/// A reading of `feed_id` from fetched oracle data (owner and layout checked, no freshness).
pub fn reading_of(fetched: Option<&Fetched>, feed_id: &[u8; 32]) -> Option<PythReading> {
    fetched.filter(|o| o.owner == PYTH_RECEIVER_ID).and_then(|o| parse_price_update(&o.data, feed_id).ok())
}

impl Snapshot {
    /// Builds the templates from decoded state. `readings` holds each
    /// oracle's reading (banks and markets read their own feed id from it);
    /// `grid` is the group's grid in force at `now` (`Group::risk_grid_at`).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        group: Pubkey,
        now: i64,
        quote_decimals: u8,
        banks: BTreeMap<u16, BankEntry>,
        markets: BTreeMap<u16, MarketEntry>,
        readings: BTreeMap<Pubkey, PythReading>,
        accounts: Vec<(Pubkey, MarginAccount)>,
        quote_token: Option<u16>,
        grid: RiskGridParams,
    ) -> Snapshot {
        let index = accounts.iter().enumerate().map(|(i, (a, _))| (*a, i)).collect();
        let mut s = Snapshot {
            group,
            now,
            quote_decimals,
            banks,
            templates: BTreeMap::new(),
            markets,
            market_templates: BTreeMap::new(),
            readings,
            accounts,
            index,
            quote_token,
            grid,
        };
        s.bank_templates();
        s.market_templates();
        s
    }

    /// The conservative valuation context of ranking (`PriceRules::CONSERVATIVE`).
    pub fn context(&self) -> HealthContext {
        HealthContext {
            group: self.group,
            quote_decimals: self.quote_decimals,
            now: self.now,
            rules: PriceRules::CONSERVATIVE,
            grid: self.grid,
        }
    }

    fn bank_templates(&mut self) {
        let ctx = self.context();
        self.templates = self
            .banks
            .values()
            .map(|e| {
                let t = self
                    .readings
                    .get(&e.bank.oracle)
                    .map_or(BankTemplates::UNPRICED, |r| BankTemplates::new(&ctx, &e.bank, r));
                if !t.fresh {
                    tracing::warn!(
                        token = e.bank.token_index,
                        "oracle stale, uncertain or invalid: deposits count zero, debts at the fallback price, not liquidated"
                    );
                }
                (e.bank.token_index, t)
            })
            .collect();
    }

    fn market_templates(&mut self) {
        let ctx = self.context();
        self.market_templates = self
            .markets
            .values()
            .map(|e| {
                let reading = self.readings.get(&e.market.oracle);
                let t = MarketTemplates::new(&ctx, &e.market, reading);
                if t.oracle.is_none() && t.long.is_some() {
                    tracing::debug!(market = e.market.market_index, "market oracle unusable: not liquidated");
                }
                (e.market.market_index, t)
            })
            .collect();
    }

    /// Loads `group` from `chain`.
    pub fn load(chain: &mut dyn Chain, group: &Pubkey) -> Result<Snapshot, ChainError> {
        let now = chain.unix_time()?;
        let group_data = chain.accounts(&[*group])?.pop().flatten().ok_or_else(|| err("group not found"))?;
        let g: Group = decode(&group_data.data).map_err(err)?;
        let mut banks = BTreeMap::new();
        for (address, data) in chain.program_accounts(&scan_filter::<Bank>(group))? {
            let bank: Bank = decode(&data).map_err(err)?;
            banks.insert(bank.token_index, BankEntry { address, bank });
        }
        let mut markets = BTreeMap::new();
        for (address, data) in chain.program_accounts(&scan_filter::<Market>(group))? {
            let market: Market = decode(&data).map_err(err)?;
            markets.insert(market.market_index, MarketEntry { address, market });
        }
        // Each oracle once: markets share their underlying bank's.
        let mut oracles: Vec<(Pubkey, [u8; 32])> =
            banks.values().map(|b| (b.bank.oracle, b.bank.feed_id)).collect();
        for m in markets.values() {
            if !oracles.iter().any(|(o, _)| *o == m.market.oracle) {
                oracles.push((m.market.oracle, m.market.feed_id));
            }
        }
        let keys: Vec<Pubkey> = oracles.iter().map(|(o, _)| *o).collect();
        let fetched = chain.accounts(&keys)?;
        let readings = oracles
            .iter()
            .zip(&fetched)
            .filter_map(|((o, feed), f)| reading_of(f.as_ref(), feed).map(|r| (*o, r)))
            .collect();
        let mut accounts = Vec::new();
        for (address, data) in chain.program_accounts(&scan_filter::<MarginAccount>(group))? {
            accounts.push((address, decode::<MarginAccount>(&data).map_err(err)?));
        }
        // A node returns them in no particular order: by address, every cycle sees the same.
        accounts.sort_by_key(|(a, _)| *a);
        let quote_token = banks.values().find(|b| b.bank.mint == g.quote_mint).map(|b| b.bank.token_index);
        Ok(Snapshot::new(
            *group,
            now,
            g.quote_decimals,
            banks,
            markets,
            readings,
            accounts,
            quote_token,
            g.risk_grid_at(now),
        ))
    }

    /// Re-reads the markets and the margin accounts in `touched` (after the
    /// keeper's own transactions; the clock and the oracles are kept).
    pub fn refresh(&mut self, chain: &mut dyn Chain, touched: &[Pubkey]) -> Result<(), ChainError> {
        let mut keys: Vec<Pubkey> = self.markets.values().map(|m| m.address).collect();
        let n_markets = keys.len();
        let mut accounts: Vec<Pubkey> = touched.to_vec();
        accounts.sort();
        accounts.dedup();
        keys.extend(&accounts);
        let fetched = chain.accounts(&keys)?;
        let (markets, accs) = fetched.split_at(n_markets);
        for (entry, got) in self.markets.values_mut().zip(markets) {
            if let Some(m) = got.as_ref().and_then(|f| decode::<Market>(&f.data).ok()) {
                entry.market = m;
            }
        }
        for (key, got) in accounts.iter().zip(accs) {
            let Some(acc) = got.as_ref().and_then(|f| decode::<MarginAccount>(&f.data).ok()) else {
                continue;
            };
            match self.index.get(key) {
                Some(&i) => self.accounts[i].1 = acc,
                None => {
                    self.index.insert(*key, self.accounts.len());
                    self.accounts.push((*key, acc));
                }
            }
        }
        self.market_templates();
        Ok(())
    }

    pub fn account(&self, address: &Pubkey) -> Option<&MarginAccount> {
        self.index.get(address).map(|&i| &self.accounts[i].1)
    }

    /// The reading of a market's oracle, if any.
    pub fn market_reading(&self, market: &Market) -> Option<&PythReading> {
        self.readings.get(&market.oracle)
    }
}
