//! The market, trading and crank subcommands' flags (`clap`), turned into
//! [`crate::markets::Parsed`] for [`crate::markets::execute`].
use anchor_lang::prelude::Pubkey;
use clap::{Args, Subcommand, ValueEnum};
use xmargin::quote::{quote_side, QuoteTerms};

use crate::cli::{kebab, parse_pubkey, AccountNum, GroupArg};
use crate::markets::{Command, Expiry, Parsed};
use crate::option_series::{OptionKind, SeriesOverrides};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Side {
    Buy,
    Sell,
}

#[derive(Debug, Clone, Args)]
pub struct MarketIndex {
    #[command(flatten)]
    pub group: GroupArg,
    #[arg(long)]
    pub market_index: u16,
}

#[derive(Debug, Clone, Subcommand)]
pub enum MarketCommand {
    /// Admin: list a derivative market (crates/cli/configs/sol-perp.json)
    AddMarket {
        #[command(flatten)]
        group: GroupArg,
        #[arg(long, value_name = "FILE.json")]
        market_config: String,
    },
    /// Admin: change a market (any of risk, oracleConfig, liquidationFeeBps, insuranceFeeBps, funding)
    UpdateMarket {
        #[command(flatten)]
        market: MarketIndex,
        #[arg(long, value_name = "FILE.json")]
        update: String,
    },
    /// A block trade signed by both sides
    Trade {
        #[command(flatten)]
        market: MarketIndex,
        /// Contracts
        #[arg(long)]
        size: u64,
        /// Quote native units per contract
        #[arg(long)]
        price: u64,
        #[arg(long, value_name = "FILE")]
        buyer_keypair: String,
        #[arg(long, value_name = "FILE")]
        seller_keypair: String,
        #[arg(long, default_value_t = 0)]
        buyer_account_num: u32,
        #[arg(long, default_value_t = 0)]
        seller_account_num: u32,
    },
    /// The maker (--keypair) signs a quote off-chain; prints it as JSON with a base58 form
    Quote {
        #[command(flatten)]
        market: MarketIndex,
        /// The maker's side
        #[arg(long, value_enum)]
        side: Side,
        #[arg(long)]
        size: u64,
        #[arg(long)]
        price: u64,
        /// Valid this many slots from now [default: 150]
        #[arg(long, conflicts_with = "expiry_slot")]
        valid_slots: Option<u64>,
        /// The last slot it may fill in
        #[arg(long)]
        expiry_slot: Option<u64>,
        /// [default: the maker's next unused nonce]
        #[arg(long)]
        nonce: Option<u64>,
        #[command(flatten)]
        account: AccountNum,
        #[arg(long, value_name = "FILE")]
        out: Option<String>,
    },
    /// The taker submits the Ed25519 instruction and take_quote
    Take {
        #[command(flatten)]
        group: GroupArg,
        /// A file, the JSON, or the base58 form
        #[arg(long)]
        quote: String,
        #[command(flatten)]
        account: AccountNum,
    },
    /// Anyone: crank a perpetual's funding
    UpdateFunding {
        #[command(flatten)]
        market: MarketIndex,
    },
    /// Anyone: sample a dated future's price in its last 30 minutes
    SamplePrice {
        #[command(flatten)]
        market: MarketIndex,
    },
    /// Anyone: settle positions of an expired future [default: every open one]
    SettleExpired {
        #[command(flatten)]
        market: MarketIndex,
        #[arg(long, value_parser = parse_pubkey)]
        account: Option<Pubkey>,
    },
    /// Admin: list an option series, every expiry × strike × kind of one entry
    /// (crates/cli/configs/sol-options.json), then compute each market's first risk array
    AddOptionSeries {
        #[command(flatten)]
        group: GroupArg,
        /// One option-series entry (the format of migrations/config.json's optionSeries)
        #[arg(long, value_name = "FILE.json")]
        series_config: String,
        /// Strikes, quote native per contract, comma-separated [default: the entry's]
        #[arg(long, value_delimiter = ',', value_name = "STRIKE,…")]
        strikes: Option<Vec<u64>>,
        /// Expiries, unix seconds, comma-separated [default: the entry's]
        #[arg(long, value_delimiter = ',', value_name = "UNIX,…")]
        expiries: Option<Vec<i64>>,
        /// call, put or both, comma-separated [default: the entry's, else both]
        #[arg(long, value_delimiter = ',', value_enum)]
        kinds: Option<Vec<OptionKind>>,
        /// List only; leave the first update-risk-array to the keeper
        #[arg(long)]
        no_risk_arrays: bool,
        /// Print the markets it would list (indices, names, terms) and send nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Admin: an option market's volatility (bps: 6000 = 60 %); a raise at once, a lowering after the group's delay
    SetVolatility {
        #[command(flatten)]
        market: MarketIndex,
        #[arg(long)]
        volatility_bps: u32,
    },
    /// Admin: the group's scenario grid, risk-array max age/drift and portfolio scales/contingencies; a tightening at once, a loosening after the group's delay
    UpdateRiskGrid(crate::risk_grid::UpdateRiskGridFlags),
    /// Anyone: recompute an option market's risk array [default: every active, unexpired option market]
    UpdateRiskArray {
        #[command(flatten)]
        group: GroupArg,
        #[arg(long)]
        market_index: Option<u16>,
    },
    /// Anyone: settle PnL between a winner and a loser [default: the keeper's pairs]
    SettlePnl {
        #[command(flatten)]
        market: MarketIndex,
        #[arg(long, value_parser = parse_pubkey, requires = "loser")]
        winner: Option<Pubkey>,
        #[arg(long, value_parser = parse_pubkey, requires = "winner")]
        loser: Option<Pubkey>,
    },
}

impl MarketCommand {
    pub fn name(&self) -> String {
        kebab(format!("{self:?}").split(['(', ' ', '{']).next().unwrap_or_default())
    }

    /// The command for [`crate::markets::execute`].
    pub fn parsed(self) -> Parsed {
        let at = |m: MarketIndex| (m.group.group, m.market_index);
        let (group, command) = match self {
            MarketCommand::AddMarket { group, market_config } => {
                (group.group, Command::AddMarket { config: market_config })
            }
            MarketCommand::UpdateMarket { market, update } => {
                let (g, market_index) = at(market);
                (g, Command::UpdateMarket { market_index, update })
            }
            MarketCommand::Trade {
                market,
                size,
                price,
                buyer_keypair,
                seller_keypair,
                buyer_account_num,
                seller_account_num,
            } => {
                let (g, market_index) = at(market);
                let trade = Command::Trade {
                    market_index,
                    size,
                    price,
                    buyer_keypair,
                    seller_keypair,
                    buyer_account_num,
                    seller_account_num,
                };
                (g, trade)
            }
            MarketCommand::Quote {
                market,
                side,
                size,
                price,
                valid_slots,
                expiry_slot,
                nonce,
                account,
                out,
            } => {
                let (g, market_index) = at(market);
                let side = match side {
                    Side::Buy => quote_side::MAKER_BUYS,
                    Side::Sell => quote_side::MAKER_SELLS,
                };
                let expiry = expiry_slot.map_or(Expiry::After(valid_slots.unwrap_or(150)), Expiry::Slot);
                let terms = QuoteTerms { side, size, price, expiry_slot: 0, nonce: 0 };
                let quote = Command::Quote {
                    market_index,
                    terms,
                    expiry,
                    nonce,
                    account_num: account.account_num,
                    out,
                };
                (g, quote)
            }
            MarketCommand::Take { group, quote, account } => {
                (group.group, Command::Take { quote, account_num: account.account_num })
            }
            MarketCommand::UpdateFunding { market } => {
                let (g, market_index) = at(market);
                (g, Command::UpdateFunding { market_index })
            }
            MarketCommand::SamplePrice { market } => {
                let (g, market_index) = at(market);
                (g, Command::SamplePrice { market_index })
            }
            MarketCommand::SettleExpired { market, account } => {
                let (g, market_index) = at(market);
                (g, Command::SettleExpired { market_index, account })
            }
            MarketCommand::AddOptionSeries {
                group,
                series_config,
                strikes,
                expiries,
                kinds,
                no_risk_arrays,
                dry_run,
            } => {
                let overrides = SeriesOverrides { strikes, expiries, kinds };
                let series = Command::AddOptionSeries {
                    config: series_config,
                    overrides,
                    risk_arrays: !no_risk_arrays,
                    dry_run,
                };
                (group.group, series)
            }
            MarketCommand::SetVolatility { market, volatility_bps } => {
                let (g, market_index) = at(market);
                (g, Command::SetVolatility { market_index, volatility_bps })
            }
            MarketCommand::UpdateRiskGrid(f) => (f.group.group, Command::UpdateRiskGrid(f.change)),
            MarketCommand::UpdateRiskArray { group, market_index } => {
                (group.group, Command::UpdateRiskArray { market_index })
            }
            MarketCommand::SettlePnl { market, winner, loser } => {
                let (g, market_index) = at(market);
                (g, Command::SettlePnl { market_index, pair: winner.zip(loser) })
            }
        };
        Parsed { group, command }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command as Top};

    const G: &str = "11111111111111111111111111111111";

    fn parse(s: &str) -> Result<Parsed, String> {
        let words = std::iter::once("xmargin").chain(s.split_whitespace());
        match Cli::try_parse_from(words).map_err(|e| e.to_string())?.command {
            Top::Market(m) => Ok(m.parsed()),
            other => panic!("not a market command: {other:?}"),
        }
    }

    #[test]
    fn every_command_parses_its_flags() {
        let p = parse(&format!("add-market --group {G} --market-config m.json")).unwrap();
        assert_eq!(p.command, Command::AddMarket { config: "m.json".into() });
        let p = parse(&format!("update-market --group {G} --market-index 2 --update u.json")).unwrap();
        assert_eq!(p.command, Command::UpdateMarket { market_index: 2, update: "u.json".into() });
        let p = parse(&format!("trade --group {G} --market-index 0 --size 1000 --price 1515000 --buyer-keypair b.json --seller-keypair s.json --seller-account-num 3")).unwrap();
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
        let p =
            parse(&format!("quote --group {G} --market-index 1 --side sell --size 5 --price 7 --nonce 9"))
                .unwrap();
        let Command::Quote { terms, expiry, nonce, .. } = p.command else { panic!() };
        assert_eq!(
            (terms.side, terms.size, terms.price, expiry, nonce),
            (quote_side::MAKER_SELLS, 5, 7, Expiry::After(150), Some(9))
        );
        let flags = format!(
            "quote --group {G} --market-index 1 --side buy --size 5 --price 7 --expiry-slot 88 --out q.json"
        );
        let Command::Quote { terms, expiry, out, .. } = parse(&flags).unwrap().command else { panic!() };
        assert_eq!(
            (terms.side, expiry, out.as_deref()),
            (quote_side::MAKER_BUYS, Expiry::Slot(88), Some("q.json"))
        );
        let p = parse(&format!("take --group {G} --quote q.json --account-num 1")).unwrap();
        assert_eq!(p.command, Command::Take { quote: "q.json".into(), account_num: 1 });
        for (cmd, expected) in [
            ("update-funding", Command::UpdateFunding { market_index: 4 }),
            ("sample-price", Command::SamplePrice { market_index: 4 }),
            ("settle-expired", Command::SettleExpired { market_index: 4, account: None }),
            ("settle-pnl", Command::SettlePnl { market_index: 4, pair: None }),
        ] {
            assert_eq!(parse(&format!("{cmd} --group {G} --market-index 4")).unwrap().command, expected);
        }
        let p = parse(&format!(
            "add-option-series --group {G} --series-config s.json --strikes 1500000,1650000 --expiries 1798761600 --kinds put"
        ))
        .unwrap();
        let overrides = SeriesOverrides {
            strikes: Some(vec![1_500_000, 1_650_000]),
            expiries: Some(vec![1_798_761_600]),
            kinds: Some(vec![OptionKind::Put]),
        };
        let series = Command::AddOptionSeries {
            config: "s.json".into(),
            overrides,
            risk_arrays: true,
            dry_run: false,
        };
        assert_eq!(p.command, series);
        let flags =
            format!("add-option-series --group {G} --series-config s.json --no-risk-arrays --dry-run");
        let p = parse(&flags).unwrap();
        let plain = SeriesOverrides::default();
        let series = Command::AddOptionSeries {
            config: "s.json".into(),
            overrides: plain,
            risk_arrays: false,
            dry_run: true,
        };
        assert_eq!(p.command, series);
        let p = parse(&format!("set-volatility --group {G} --market-index 3 --volatility-bps 7000")).unwrap();
        assert_eq!(p.command, Command::SetVolatility { market_index: 3, volatility_bps: 7_000 });
        let p = parse(&format!("update-risk-array --group {G}")).unwrap();
        assert_eq!(p.command, Command::UpdateRiskArray { market_index: None });
        let p = parse(&format!("update-risk-array --group {G} --market-index 2")).unwrap();
        assert_eq!(p.command, Command::UpdateRiskArray { market_index: Some(2) });
        let w = Pubkey::new_unique();
        let p = parse(&format!("settle-pnl --group {G} --market-index 0 --winner {w} --loser {G}")).unwrap();
        assert_eq!(p.command, Command::SettlePnl { market_index: 0, pair: Some((w, Pubkey::default())) });
        let p = parse(&format!("settle-expired --group {G} --market-index 0 --account {w}")).unwrap();
        assert_eq!(p.command, Command::SettleExpired { market_index: 0, account: Some(w) });
    }

    #[test]
    fn bad_flags_are_refused_with_a_reason() {
        let err = |s: &str| parse(&format!("{s} --group {G}")).unwrap_err();
        let e = err("trade --market-index 0 --size 1 --price 1 --buyer-keypair b");
        assert!(e.contains("--seller-keypair"), "{e}");
        let e = err("quote --market-index 0 --side long --size 1 --price 1");
        assert!(e.contains("'long'") && e.contains("buy, sell"), "{e}");
        let e = err("quote --market-index 0 --side buy --size 1 --price 1 --expiry-slot 5 --valid-slots 5");
        assert!(e.contains("cannot be used with"), "{e}");
        let e = err(&format!("settle-pnl --market-index 0 --winner {G}"));
        assert!(e.contains("--loser"), "{e}");
        let e = err("sample-price --market-index x");
        assert!(e.contains("'x'") && e.contains("--market-index"), "{e}");
        let e = err("update-funding --market-index 0 --size 3");
        assert!(e.contains("unexpected argument '--size'"), "{e}");
        let e = err("add-option-series --series-config s.json --kinds call,straddle");
        assert!(e.contains("'straddle'") && e.contains("call, put"), "{e}");
        let e = err("add-option-series --series-config s.json --strikes 1.5");
        assert!(e.contains("'1.5'") && e.contains("--strikes"), "{e}");
        let e = err("set-volatility --market-index 0");
        assert!(e.contains("--volatility-bps"), "{e}");
        let e = parse("sample-price --market-index 0").unwrap_err();
        assert!(e.contains("--group"), "{e}");
    }
}
