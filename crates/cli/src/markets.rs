//! Derivative-market commands over JSON-RPC: listing and updating markets,
//! block trades, signed quotes (sign off-chain, take on-chain), and the
//! permissionless cranks. Flags are parsed by `crate::market_flags`.
use std::collections::BTreeMap;

use anchor_lang::prelude::Pubkey;
use solana_keypair::Signer;
use xmargin::quote::{QuoteTerms, NONCE_WINDOW};
use xmargin::state::MarginAccount;
use xmargin_client::health::{health_metas_with_markets, MarketEntry};
use xmargin_client::instructions::BankKeys;
use xmargin_client::market_instructions::{self as mixs, MarketKeys};
use xmargin_keeper::Snapshot;

use crate::market_config::{MarketConfig, MarketUpdateConfig};
use crate::option_series::SeriesOverrides;
use crate::quote::SignedQuote;
use crate::rpc::{read_keypair, Cluster, Ctx};

/// How long a quote stays valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiry {
    /// The last slot it may fill in.
    Slot(u64),
    /// This many slots after the current one.
    After(u64),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    AddMarket {
        config: String,
    },
    UpdateMarket {
        market_index: u16,
        update: String,
    },
    Trade {
        market_index: u16,
        size: u64,
        price: u64,
        buyer_keypair: String,
        seller_keypair: String,
        buyer_account_num: u32,
        seller_account_num: u32,
    },
    Quote {
        market_index: u16,
        terms: QuoteTerms,
        expiry: Expiry,
        nonce: Option<u64>,
        account_num: u32,
        out: Option<String>,
    },
    Take {
        quote: String,
        account_num: u32,
    },
    UpdateFunding {
        market_index: u16,
    },
    SamplePrice {
        market_index: u16,
    },
    SettleExpired {
        market_index: u16,
        account: Option<Pubkey>,
    },
    SettlePnl {
        market_index: u16,
        pair: Option<(Pubkey, Pubkey)>,
    },
    /// Option markets: `crate::option_commands`.
    AddOptionSeries {
        config: String,
        overrides: SeriesOverrides,
        risk_arrays: bool,
        dry_run: bool,
    },
    SetVolatility {
        market_index: u16,
        volatility_bps: u32,
    },
    UpdateRiskArray {
        market_index: Option<u16>,
    },
    /// The group's scenario grid: `crate::risk_grid`.
    UpdateRiskGrid(crate::risk_grid::RiskGridChange),
}

/// A market command and its group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    pub group: Pubkey,
    pub command: Command,
}

fn market_entry(
    markets: &BTreeMap<u16, MarketEntry>,
    index: u16,
    group: &Pubkey,
) -> Result<MarketEntry, String> {
    markets.get(&index).copied().ok_or_else(|| format!("no market {index} in {group}"))
}

fn keys(e: &MarketEntry) -> MarketKeys {
    MarketKeys { market: e.address, oracle: e.market.oracle }
}

/// The maker's first nonce not spent yet (`MarginAccount::quote_nonce_base` and its window).
pub fn next_nonce(maker: &MarginAccount) -> u64 {
    let bits = (u128::from(maker.quote_nonce_bits[1]) << 64) | u128::from(maker.quote_nonce_bits[0]);
    let free = (0..NONCE_WINDOW).find(|i| bits & (1u128 << i) == 0).unwrap_or(NONCE_WINDOW);
    maker.quote_nonce_base + free
}

pub fn execute<C: Cluster>(ctx: &mut Ctx<C>, p: Parsed) -> Result<(), String> {
    let (group, me) = (p.group, ctx.me);
    match p.command {
        c @ (Command::AddOptionSeries { .. }
        | Command::SetVolatility { .. }
        | Command::UpdateRiskArray { .. }) => crate::option_commands::execute(ctx, &group, c),
        Command::UpdateRiskGrid(change) => crate::risk_grid::execute(ctx, &group, &change),
        Command::AddMarket { config } => {
            let text = std::fs::read_to_string(&config).map_err(|e| format!("{config}: {e}"))?;
            let entry: MarketConfig = serde_json::from_str(&text).map_err(|e| format!("{config}: {e}"))?;
            let index = ctx.group(&group)?.market_count;
            let args = entry.args(index)?;
            let banks = ctx.banks(&group)?;
            let b = banks
                .get(&entry.underlying_token_index)
                .ok_or_else(|| format!("no bank {} in {group}", entry.underlying_token_index))?;
            let underlying = BankKeys { bank: b.address, vault: b.bank.vault, oracle: b.bank.oracle };
            let address = ctx.program.market(&group, index);
            ctx.send(
                &format!("add-market {index} {address}"),
                mixs::add_market(&group, &me, &me, &underlying, args),
            )
        }
        Command::UpdateMarket { market_index, update } => {
            let text = std::fs::read_to_string(&update).map_err(|e| format!("{update}: {e}"))?;
            let change: MarketUpdateConfig =
                serde_json::from_str(&text).map_err(|e| format!("{update}: {e}"))?;
            let market = ctx.program.market(&group, market_index);
            ctx.send(
                &format!("update-market {market_index}"),
                mixs::update_market(&group, &me, &market, change.args()?),
            )
        }
        Command::Trade {
            market_index,
            size,
            price,
            buyer_keypair,
            seller_keypair,
            buyer_account_num,
            seller_account_num,
        } => {
            let (buyer_kp, seller_kp) = (read_keypair(&buyer_keypair)?, read_keypair(&seller_keypair)?);
            let buyer = ctx.program.margin_account(&group, &buyer_kp.pubkey(), buyer_account_num);
            let seller = ctx.program.margin_account(&group, &seller_kp.pubkey(), seller_account_num);
            let (banks, markets) = (ctx.banks(&group)?, ctx.markets(&group)?);
            let e = market_entry(&markets, market_index, &group)?;
            let metas = |acc: &MarginAccount| {
                health_metas_with_markets(acc, &[], &[market_index], &banks, &markets)
                    .map_err(|e| e.to_string())
            };
            let ix = mixs::trade(
                &group,
                &keys(&e),
                &buyer,
                &buyer_kp.pubkey(),
                &seller,
                &seller_kp.pubkey(),
                xmargin::instructions::TradeArgs { size, price },
                metas(&ctx.account(&buyer)?)?,
                metas(&ctx.account(&seller)?)?,
            );
            ctx.send_all(
                &format!("trade {size} contracts of market {market_index} at {price}"),
                &[ix],
                &[&buyer_kp, &seller_kp],
            )
        }
        Command::Quote { market_index, mut terms, expiry, nonce, account_num, out } => {
            let maker = ctx.program.margin_account(&group, &me, account_num);
            terms.expiry_slot = match expiry {
                Expiry::Slot(s) => s,
                Expiry::After(n) => ctx.chain.slot()?.saturating_add(n),
            };
            terms.nonce = match nonce {
                Some(n) => n,
                None => next_nonce(&ctx.account(&maker)?),
            };
            let market = ctx.program.market(&group, market_index);
            let quote = SignedQuote::sign(&ctx.signer, group, market, maker, terms);
            let json = serde_json::to_string_pretty(&quote.to_json()).map_err(|e| e.to_string())?;
            if let Some(path) = &out {
                std::fs::write(path, format!("{json}\n")).map_err(|e| format!("{path}: {e}"))?;
            }
            if ctx.out.is_json() {
                let mut doc = serde_json::to_value(quote.to_json()).map_err(|e| e.to_string())?;
                doc["out"] = out.into();
                ctx.out.set_document(doc);
            } else {
                match out {
                    Some(path) => println!("quote written to {path}\n{}", quote.encode()),
                    None => println!("{json}"),
                }
            }
            Ok(())
        }
        Command::Take { quote, account_num } => {
            let q = SignedQuote::parse(&quote)?;
            if q.group != group {
                return Err(format!("the quote is for group {}, not {group}", q.group));
            }
            let taker = ctx.program.margin_account(&group, &me, account_num);
            let (banks, markets) = (ctx.banks(&group)?, ctx.markets(&group)?);
            let e = markets
                .values()
                .find(|m| m.address == q.market)
                .copied()
                .ok_or("the quote's market is not in the group")?;
            let index = e.market.market_index;
            let metas = |acc: &MarginAccount| {
                health_metas_with_markets(acc, &[], &[index], &banks, &markets).map_err(|e| e.to_string())
            };
            let maker_health = metas(&ctx.account(&q.maker)?)?;
            let taker_health = metas(&ctx.account(&taker)?)?;
            let ixs = q.take_instructions(e.market.oracle, &taker, &me, maker_health, taker_health);
            let verb = if q.maker_buys() { "sell" } else { "buy" };
            ctx.send_all(
                &format!("take: {verb} {} contracts of market {index} at {}", q.terms.size, q.terms.price),
                &ixs,
                &[],
            )
        }
        Command::UpdateFunding { market_index } => {
            let e = market_entry(&ctx.markets(&group)?, market_index, &group)?;
            ctx.send(&format!("update-funding {market_index}"), mixs::update_funding(&group, &keys(&e)))
        }
        Command::SamplePrice { market_index } => {
            let e = market_entry(&ctx.markets(&group)?, market_index, &group)?;
            ctx.send(&format!("sample-price {market_index}"), mixs::sample_price(&group, &keys(&e)))
        }
        Command::SettleExpired { market_index, account } => {
            let snap = Snapshot::load(&mut ctx.chain, &group).map_err(|e| e.to_string())?;
            let e = market_entry(&snap.markets, market_index, &group)?;
            let accounts: Vec<Pubkey> = match account {
                Some(a) => vec![a],
                None => snap
                    .accounts
                    .iter()
                    .filter(|(_, acc)| {
                        acc.derivative_position(market_index)
                            .is_some_and(|p| p.base_contracts != 0 || p.quote_cost != 0)
                    })
                    .map(|(a, _)| *a)
                    .collect(),
            };
            if accounts.is_empty() {
                let text = format!("settle-expired: no open position in market {market_index}");
                ctx.out.note("nothing_due", true, text);
            }
            for a in accounts {
                ctx.send(&format!("settle-expired {a}"), mixs::settle_expired(&group, &keys(&e), &a))?;
            }
            Ok(())
        }
        Command::SettlePnl { market_index, pair } => {
            let snap = Snapshot::load(&mut ctx.chain, &group).map_err(|e| e.to_string())?;
            let e = market_entry(&snap.markets, market_index, &group)?;
            let quote =
                snap.quote_token.and_then(|t| snap.banks.get(&t)).ok_or("no quote-token bank")?.address;
            let pairs: Vec<(Pubkey, Pubkey)> = match pair {
                Some(p) => vec![p],
                None => xmargin_keeper::settle::plan(&snap, 0)
                    .pairs
                    .into_iter()
                    .filter(|s| s.market == market_index)
                    .map(|s| (s.winner, s.loser))
                    .collect(),
            };
            if pairs.is_empty() {
                ctx.out.note(
                    "nothing_due",
                    true,
                    format!("settle-pnl: nothing due in market {market_index}"),
                );
            }
            for (winner, loser) in pairs {
                ctx.send(
                    &format!("settle-pnl {loser} → {winner}"),
                    mixs::settle_pnl(&group, &keys(&e), &winner, &loser, &quote),
                )?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_nonce_is_the_first_unspent() {
        let mut maker: MarginAccount = bytemuck::Zeroable::zeroed();
        assert_eq!(next_nonce(&maker), 0);
        maker.quote_nonce_base = 40;
        maker.quote_nonce_bits = [0b111, 0];
        assert_eq!(next_nonce(&maker), 43);
    }
}
