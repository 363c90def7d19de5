//! Derivative-market commands over JSON-RPC: listing and updating markets,
//! block trades, signed quotes (sign off-chain, take on-chain), and the
//! permissionless cranks. Parsing ([`parse`]) is separate from sending
//! ([`execute`]) so flags are checked without a cluster.
use std::collections::BTreeMap;

use anchor_lang::prelude::Pubkey;
use solana_keypair::Signer;
use xmargin::quote::{quote_side, QuoteTerms, NONCE_WINDOW};
use xmargin::state::MarginAccount;
use xmargin_client::health::{health_metas_with_markets, MarketEntry};
use xmargin_client::instructions::BankKeys;
use xmargin_client::market_instructions::{self as mixs, MarketKeys};
use xmargin_client::pda;
use xmargin_keeper::Snapshot;

use crate::args::Args;
use crate::market_config::{MarketConfig, MarketUpdateConfig};
use crate::quote::SignedQuote;
use crate::rpc::{read_keypair, Cluster, Ctx};

pub const USAGE: &str = "\
MARKETS (ADMIN):
    xmargin add-market     --group G --market-config FILE.json   (crates/cli/configs/sol-perp.json)
    xmargin update-market  --group G --market-index M --update FILE.json   (any of risk, oracleConfig,
                           liquidationFeeBps, insuranceFeeBps, funding)
TRADING:
    xmargin trade          --group G --market-index M --size CONTRACTS --price QUOTE_NATIVE_PER_CONTRACT
                           --buyer-keypair FILE --seller-keypair FILE [--buyer-account-num N] [--seller-account-num N]
    xmargin quote          --group G --market-index M --side buy|sell --size C --price P
                           [--valid-slots N (150) | --expiry-slot S] [--nonce N] [--account-num N] [--out FILE]
                           (the maker signs with --keypair; prints the quote as JSON with a base58 form)
    xmargin take           --group G --quote FILE|JSON|BASE58 [--account-num N]
                           (the taker submits the Ed25519 instruction and take_quote)
ANYONE (the keeper cranks these too):
    xmargin update-funding --group G --market-index M
    xmargin sample-price   --group G --market-index M
    xmargin settle-expired --group G --market-index M [--account A]   (default: every open position)
    xmargin settle-pnl     --group G --market-index M [--winner A --loser B]   (default: the keeper's pairs)";

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
}

/// A market command and its group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    pub group: Pubkey,
    pub command: Command,
}

fn opt_pubkey(a: &Args, flag: &str) -> Result<Option<Pubkey>, String> {
    a.opt(flag).map(|v| v.parse().map_err(|e| format!("{flag} {v}: {e}"))).transpose()
}

/// Parses a market command's flags (`Ok(None)`: not a market command). The
/// caller reads `--rpc-url` and `--keypair`, then checks for unread flags.
pub fn parse(command: &str, a: &Args) -> Result<Option<Parsed>, String> {
    const COMMANDS: [&str; 9] = [
        "add-market",
        "update-market",
        "trade",
        "quote",
        "take",
        "update-funding",
        "sample-price",
        "settle-expired",
        "settle-pnl",
    ];
    if !COMMANDS.contains(&command) {
        return Ok(None);
    }
    let group = a.pubkey("--group")?;
    let index = || a.parsed_req::<u16>("--market-index");
    let account_num = || a.parsed::<u32>("--account-num").map(|n| n.unwrap_or(0));
    let command = match command {
        "add-market" => Command::AddMarket { config: a.req("--market-config")?.to_string() },
        "update-market" => {
            Command::UpdateMarket { market_index: index()?, update: a.req("--update")?.to_string() }
        }
        "trade" => Command::Trade {
            market_index: index()?,
            size: a.parsed_req("--size")?,
            price: a.parsed_req("--price")?,
            buyer_keypair: a.req("--buyer-keypair")?.to_string(),
            seller_keypair: a.req("--seller-keypair")?.to_string(),
            buyer_account_num: a.parsed("--buyer-account-num")?.unwrap_or(0),
            seller_account_num: a.parsed("--seller-account-num")?.unwrap_or(0),
        },
        "quote" => {
            let side = match a.req("--side")? {
                "buy" => quote_side::MAKER_BUYS,
                "sell" => quote_side::MAKER_SELLS,
                other => return Err(format!("--side {other}: buy or sell (the maker's side)")),
            };
            let expiry = match (a.parsed::<u64>("--expiry-slot")?, a.parsed::<u64>("--valid-slots")?) {
                (Some(_), Some(_)) => return Err("give --expiry-slot or --valid-slots, not both".into()),
                (Some(slot), None) => Expiry::Slot(slot),
                (None, slots) => Expiry::After(slots.unwrap_or(150)),
            };
            let terms = QuoteTerms {
                side,
                size: a.parsed_req("--size")?,
                price: a.parsed_req("--price")?,
                expiry_slot: 0,
                nonce: 0,
            };
            Command::Quote {
                market_index: index()?,
                terms,
                expiry,
                nonce: a.parsed("--nonce")?,
                account_num: account_num()?,
                out: a.opt("--out").map(str::to_string),
            }
        }
        "take" => Command::Take { quote: a.req("--quote")?.to_string(), account_num: account_num()? },
        "update-funding" => Command::UpdateFunding { market_index: index()? },
        "sample-price" => Command::SamplePrice { market_index: index()? },
        "settle-expired" => {
            Command::SettleExpired { market_index: index()?, account: opt_pubkey(a, "--account")? }
        }
        _ => {
            let pair = match (opt_pubkey(a, "--winner")?, opt_pubkey(a, "--loser")?) {
                (Some(w), Some(l)) => Some((w, l)),
                (None, None) => None,
                _ => return Err("give both --winner and --loser, or neither".into()),
            };
            Command::SettlePnl { market_index: index()?, pair }
        }
    };
    Ok(Some(Parsed { group, command }))
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
            let address = pda::market_address(&group, index).0;
            ctx.send(
                &format!("add-market {index} {address}"),
                mixs::add_market(&group, &me, &me, &underlying, args),
            )
        }
        Command::UpdateMarket { market_index, update } => {
            let text = std::fs::read_to_string(&update).map_err(|e| format!("{update}: {e}"))?;
            let change: MarketUpdateConfig =
                serde_json::from_str(&text).map_err(|e| format!("{update}: {e}"))?;
            let market = pda::market_address(&group, market_index).0;
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
            let buyer = pda::margin_account_address(&group, &buyer_kp.pubkey(), buyer_account_num).0;
            let seller = pda::margin_account_address(&group, &seller_kp.pubkey(), seller_account_num).0;
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
            let maker = pda::margin_account_address(&group, &me, account_num).0;
            terms.expiry_slot = match expiry {
                Expiry::Slot(s) => s,
                Expiry::After(n) => ctx.chain.slot()?.saturating_add(n),
            };
            terms.nonce = match nonce {
                Some(n) => n,
                None => next_nonce(&ctx.account(&maker)?),
            };
            let market = pda::market_address(&group, market_index).0;
            let quote = SignedQuote::sign(&ctx.signer, group, market, maker, terms);
            let json = serde_json::to_string_pretty(&quote.to_json()).map_err(|e| e.to_string())?;
            match out {
                Some(path) => {
                    std::fs::write(&path, format!("{json}\n")).map_err(|e| format!("{path}: {e}"))?;
                    println!("quote written to {path}\n{}", quote.encode());
                }
                None => println!("{json}"),
            }
            Ok(())
        }
        Command::Take { quote, account_num } => {
            let q = SignedQuote::parse(&quote)?;
            if q.group != group {
                return Err(format!("the quote is for group {}, not {group}", q.group));
            }
            let taker = pda::margin_account_address(&group, &me, account_num).0;
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
                println!("settle-expired: no open position in market {market_index}");
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
                println!("settle-pnl: nothing due in market {market_index}");
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

    fn parse_str(command: &str, s: &str) -> Result<Parsed, String> {
        let a = Args::parse(&s.split_whitespace().map(String::from).collect::<Vec<_>>())?;
        let p = parse(command, &a)?.expect("a market command");
        a.finish()?;
        Ok(p)
    }

    const G: &str = "11111111111111111111111111111111";

    #[test]
    fn every_command_parses_its_flags() {
        let p = parse_str("add-market", &format!("--group {G} --market-config m.json")).unwrap();
        assert_eq!(p.command, Command::AddMarket { config: "m.json".into() });
        let p = parse_str("update-market", &format!("--group {G} --market-index 2 --update u.json")).unwrap();
        assert_eq!(p.command, Command::UpdateMarket { market_index: 2, update: "u.json".into() });
        let p = parse_str(
            "trade",
            &format!("--group {G} --market-index 0 --size 1000 --price 1515000 --buyer-keypair b.json --seller-keypair s.json --seller-account-num 3"),
        )
        .unwrap();
        assert_eq!(
            p.command,
            Command::Trade {
                market_index: 0,
                size: 1_000,
                price: 1_515_000,
                buyer_keypair: "b.json".into(),
                seller_keypair: "s.json".into(),
                buyer_account_num: 0,
                seller_account_num: 3
            }
        );
        let p = parse_str(
            "quote",
            &format!("--group {G} --market-index 1 --side sell --size 5 --price 7 --nonce 9"),
        )
        .unwrap();
        let Command::Quote { terms, expiry, nonce, .. } = p.command else { panic!() };
        assert_eq!(
            (terms.side, terms.size, terms.price, expiry, nonce),
            (quote_side::MAKER_SELLS, 5, 7, Expiry::After(150), Some(9))
        );
        let p = parse_str(
            "quote",
            &format!(
                "--group {G} --market-index 1 --side buy --size 5 --price 7 --expiry-slot 88 --out q.json"
            ),
        )
        .unwrap();
        let Command::Quote { terms, expiry, out, .. } = p.command else { panic!() };
        assert_eq!(
            (terms.side, expiry, out.as_deref()),
            (quote_side::MAKER_BUYS, Expiry::Slot(88), Some("q.json"))
        );
        let p = parse_str("take", &format!("--group {G} --quote q.json --account-num 1")).unwrap();
        assert_eq!(p.command, Command::Take { quote: "q.json".into(), account_num: 1 });
        for (cmd, expected) in [
            ("update-funding", Command::UpdateFunding { market_index: 4 }),
            ("sample-price", Command::SamplePrice { market_index: 4 }),
            ("settle-expired", Command::SettleExpired { market_index: 4, account: None }),
            ("settle-pnl", Command::SettlePnl { market_index: 4, pair: None }),
        ] {
            assert_eq!(parse_str(cmd, &format!("--group {G} --market-index 4")).unwrap().command, expected);
        }
        let w = Pubkey::new_unique();
        let p = parse_str("settle-pnl", &format!("--group {G} --market-index 0 --winner {w} --loser {G}"))
            .unwrap();
        assert_eq!(p.command, Command::SettlePnl { market_index: 0, pair: Some((w, Pubkey::default())) });
        let p = parse_str("settle-expired", &format!("--group {G} --market-index 0 --account {w}")).unwrap();
        assert_eq!(p.command, Command::SettleExpired { market_index: 0, account: Some(w) });
        let a = Args::parse(&["--group".into(), G.into()]).unwrap();
        assert_eq!(parse("deposit", &a).unwrap(), None, "not a market command");
    }

    #[test]
    fn bad_flags_are_refused_with_a_reason() {
        let err = |cmd: &str, s: &str| parse_str(cmd, &format!("--group {G} {s}")).unwrap_err();
        assert!(err("trade", "--market-index 0 --size 1 --price 1 --buyer-keypair b")
            .contains("--seller-keypair is required"));
        assert!(err("quote", "--market-index 0 --side long --size 1 --price 1").contains("buy or sell"));
        assert!(err(
            "quote",
            "--market-index 0 --side buy --size 1 --price 1 --expiry-slot 5 --valid-slots 5"
        )
        .contains("not both"));
        assert!(err("settle-pnl", "--market-index 0 --winner 11111111111111111111111111111111")
            .contains("both --winner and --loser"));
        assert!(err("sample-price", "--market-index x").contains("--market-index x"));
        assert!(err("update-funding", "--market-index 0 --size 3").contains("unknown flag --size"));
        assert!(parse_str("sample-price", "--market-index 0").unwrap_err().contains("--group is required"));
    }

    #[test]
    fn the_next_nonce_is_the_first_unspent() {
        let mut maker: MarginAccount = bytemuck::Zeroable::zeroed();
        assert_eq!(next_nonce(&maker), 0);
        maker.quote_nonce_base = 40;
        maker.quote_nonce_bits = [0b111, 0];
        assert_eq!(next_nonce(&maker), 43);
    }
}
