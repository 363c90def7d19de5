//! The command line (`clap`): global connection flags the Solana CLI way
//! (`crate::settings`) and one subcommand per action. Market and quote
//! commands are in [`crate::market_flags`].
use anchor_lang::prelude::Pubkey;
use clap::{ArgGroup, Args, Parser, Subcommand};

use crate::amount::{Amount, UiAmount};
use crate::compute_budget::{parse_limit, BudgetFlags};
use crate::market_flags::MarketCommand;
use crate::output::OutputFormat;
use crate::settings::{Commitment, Overrides};

/// A base58 address.
pub fn parse_pubkey(s: &str) -> Result<Pubkey, String> {
    s.parse().map_err(|e| format!("{s} is not a base58 address: {e}"))
}

#[derive(Debug, Parser)]
#[command(
    name = "xmargin",
    version,
    about = "xmargin: cross-margin clearing on Solana",
    long_about = "xmargin: cross-margin clearing on Solana.\n\n\
        Connection settings come from the flags, else the Solana CLI config file \
        (~/.config/solana/cli/config.yml or -C FILE: json_rpc_url, keypair_path, commitment), \
        else http://127.0.0.1:8899, ~/.config/solana/id.json and confirmed."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOpts,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalOpts {
    /// Solana CLI config file [default: ~/.config/solana/cli/config.yml]
    #[arg(short = 'C', long, global = true, value_name = "FILE")]
    pub config: Option<String>,
    /// JSON-RPC URL or moniker: localhost (l), devnet (d), testnet (t), mainnet-beta (m)
    #[arg(
        short = 'u',
        long = "url",
        visible_alias = "rpc-url",
        global = true,
        value_name = "URL_OR_MONIKER"
    )]
    pub url: Option<String>,
    /// Signer and fee payer keypair file
    #[arg(short = 'k', long, global = true, value_name = "FILE")]
    pub keypair: Option<String>,
    /// Commitment of reads and confirmations
    #[arg(long, global = true, value_enum)]
    pub commitment: Option<Commitment>,
    /// The xmargin program's address, when deployed at another one than the built-in id
    #[arg(long, global = true, value_parser = parse_pubkey, value_name = "ADDRESS")]
    pub program_id: Option<Pubkey>,
    /// The group's address lookup table (create-lookup-table): v0 transactions through it
    #[arg(long, global = true, value_parser = parse_pubkey, value_name = "TABLE")]
    pub lookup_table: Option<Pubkey>,
    /// Output format: text, or one JSON document per command
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub output: OutputFormat,
    /// Compute-unit limit of each transaction [default: its simulated consumption + 20 % + 20,000]
    #[arg(long, global = true, value_parser = parse_limit, value_name = "COMPUTE_UNIT_LIMIT")]
    pub compute_unit_limit: Option<u32>,
    /// Priority fee: the compute-unit price in micro-lamports [default: none]
    #[arg(long, global = true, value_name = "COMPUTE_UNIT_PRICE")]
    pub with_compute_unit_price: Option<u64>,
}

impl GlobalOpts {
    pub fn budget(&self) -> BudgetFlags {
        BudgetFlags {
            compute_unit_limit: self.compute_unit_limit,
            compute_unit_price: self.with_compute_unit_price,
        }
    }

    pub fn overrides(&self) -> Overrides {
        Overrides {
            config: self.config.clone(),
            url: self.url.clone(),
            keypair: self.keypair.clone(),
            commitment: self.commitment,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct GroupArg {
    /// The group's address
    #[arg(long, value_parser = parse_pubkey)]
    pub group: Pubkey,
}

#[derive(Debug, Clone, Args)]
pub struct AccountNum {
    /// Which of the signer's margin accounts in the group
    #[arg(long, default_value_t = 0)]
    pub account_num: u32,
}

/// deposit / repay / withdraw.
#[derive(Debug, Clone, Args)]
#[command(group(ArgGroup::new("how_much").required(true).args(["amount", "amount_native"])))]
pub struct TokenMove {
    #[command(flatten)]
    pub group: GroupArg,
    #[arg(long)]
    pub token_index: u16,
    /// In tokens (UI units): 1.5 is 1.5 tokens at the bank's mint decimals
    #[arg(long, value_name = "TOKENS")]
    pub amount: Option<UiAmount>,
    /// In the mint's smallest unit
    #[arg(long, value_name = "NATIVE")]
    pub amount_native: Option<u64>,
    /// Token account [default: the signer's associated token account of the bank's mint]
    #[arg(long, value_parser = parse_pubkey)]
    pub token_account: Option<Pubkey>,
    #[command(flatten)]
    pub account: AccountNum,
}

impl TokenMove {
    pub fn amount(&self) -> Amount {
        Amount::from_flags(self.amount.clone(), self.amount_native)
    }
}

#[derive(Debug, Clone, Args)]
pub struct ShowArgs {
    /// A margin account: its health, band, positions, limits and liquidation prices
    #[arg(value_parser = parse_pubkey, conflicts_with = "account_flag")]
    pub account: Option<Pubkey>,
    /// The same as the positional ACCOUNT
    #[arg(long = "account", id = "account_flag", value_parser = parse_pubkey)]
    pub account_flag: Option<Pubkey>,
    /// Without an account: the group's banks, markets and every account ranked by health
    #[arg(long, value_parser = parse_pubkey)]
    pub group: Option<Pubkey>,
}

/// `update-bank`: every flag optional; only the given fields change.
#[derive(Debug, Clone, Default, Args)]
pub struct UpdateBankFlags {
    #[arg(long)]
    pub init_asset_weight_bps: Option<u32>,
    #[arg(long)]
    pub maint_asset_weight_bps: Option<u32>,
    #[arg(long)]
    pub liq_end_asset_weight_bps: Option<u32>,
    #[arg(long)]
    pub init_liab_weight_bps: Option<u32>,
    #[arg(long)]
    pub maint_liab_weight_bps: Option<u32>,
    #[arg(long)]
    pub liq_end_liab_weight_bps: Option<u32>,
    /// Native units
    #[arg(long)]
    pub deposit_cap: Option<u64>,
    /// Native units
    #[arg(long)]
    pub borrow_limit: Option<u64>,
    /// Native units
    #[arg(long)]
    pub deposit_weight_scale_start: Option<u64>,
    /// Native units
    #[arg(long)]
    pub borrow_weight_scale_start: Option<u64>,
    #[arg(long)]
    pub max_oracle_age_secs: Option<u32>,
    #[arg(long)]
    pub max_conf_ratio_bps: Option<u32>,
    #[arg(long)]
    pub conf_multiplier_centi: Option<u32>,
    #[arg(long)]
    pub stable_price_growth_bps_per_hour: Option<u32>,
    #[arg(long)]
    pub zero_util_rate_bps: Option<u32>,
    #[arg(long)]
    pub optimal_util_bps: Option<u32>,
    #[arg(long)]
    pub optimal_rate_bps: Option<u32>,
    #[arg(long)]
    pub max_rate_bps: Option<u32>,
    #[arg(long)]
    pub protocol_fee_bps: Option<u32>,
    #[arg(long)]
    pub liquidation_fee_bps: Option<u32>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Play a scenario on an embedded SVM and print what happened ($XMARGIN_SO or target/deploy/xmargin.so)
    Demo,
    /// Admin: create a group (the signer is its creator)
    CreateGroup {
        #[arg(long, value_parser = parse_pubkey)]
        quote_mint: Pubkey,
        #[arg(long, default_value_t = 0)]
        group_num: u32,
        #[arg(long, default_value_t = 86_400)]
        loosen_delay_secs: u32,
        /// [default: the signer]
        #[arg(long, value_parser = parse_pubkey)]
        admin: Option<Pubkey>,
    },
    /// Admin: list a bank from one entry of migrations/config.json
    AddBank {
        #[command(flatten)]
        group: GroupArg,
        #[arg(long, value_name = "FILE.json")]
        bank_config: String,
    },
    /// Admin: change a bank's parameters; only the fields given change (loosening waits the group's delay)
    UpdateBank {
        #[command(flatten)]
        group: GroupArg,
        #[arg(long)]
        token_index: u16,
        #[command(flatten)]
        fields: UpdateBankFlags,
    },
    /// Admin: pause flags (1 deposits, 2 withdrawals, 4 liquidations, 8 trading)
    SetPause {
        #[command(flatten)]
        group: GroupArg,
        #[arg(long)]
        flags: u8,
    },
    /// Open a margin account
    CreateAccount {
        #[command(flatten)]
        group: GroupArg,
        #[command(flatten)]
        account: AccountNum,
    },
    /// Deposit tokens into the margin account
    Deposit(TokenMove),
    /// Repay a borrow
    Repay(TokenMove),
    /// Withdraw (borrowing beyond the deposit if health allows)
    Withdraw(TokenMove),
    /// Let another key act for the margin account
    SetDelegate {
        #[command(flatten)]
        group: GroupArg,
        #[arg(long, value_parser = parse_pubkey)]
        delegate: Pubkey,
        #[command(flatten)]
        account: AccountNum,
    },
    /// Close an empty margin account (rent to the signer)
    CloseAccount {
        #[command(flatten)]
        group: GroupArg,
        #[command(flatten)]
        account: AccountNum,
    },
    /// Anyone: accrue a bank's interest
    AccrueInterest {
        #[command(flatten)]
        group: GroupArg,
        #[arg(long)]
        token_index: u16,
    },
    /// Owner or delegate: switch a margin account to linear or portfolio margin
    /// (refused unless it is healthy in the new mode)
    SetMarginMode {
        /// The margin account
        #[arg(value_parser = parse_pubkey)]
        account: Pubkey,
        /// linear: per-position weights; portfolio: positions on one underlying netted
        #[arg(value_enum)]
        mode: crate::margin_mode::MarginModeArg,
    },
    /// One margin account (show ACCOUNT), or a whole group (show --group G)
    Show(ShowArgs),
    /// Create the group's address lookup table and fill it (the signer is its authority)
    CreateLookupTable {
        #[command(flatten)]
        group: GroupArg,
    },
    /// Add the banks and markets listed since to the lookup table given by --lookup-table
    ExtendLookupTable {
        #[command(flatten)]
        group: GroupArg,
    },
    #[command(flatten)]
    Market(MarketCommand),
}

impl Command {
    /// The subcommand's name, as typed.
    pub fn name(&self) -> String {
        match self {
            Command::Market(m) => m.name(),
            other => kebab(format!("{other:?}").split(['(', ' ', '{']).next().unwrap_or_default()),
        }
    }
}

/// `CreateGroup` → `create-group`.
pub fn kebab(camel: &str) -> String {
    let mut out = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}
