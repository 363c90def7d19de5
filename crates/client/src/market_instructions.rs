//! Instruction builders for derivative markets: listing, trading, funding,
//! PnL settlement, expiry and position liquidation. Instructions that check
//! health take the health accounts ([`crate::health::health_metas_with_markets`]).
use anchor_lang::prelude::{AccountMeta, Pubkey};
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::{system_program, InstructionData, ToAccountMetas};
use xmargin::instructions::{
    AddMarketArgs, AddOptionMarketArgs, TradeArgs, UpdateMarketArgs, UpdateRiskGridArgs,
};
use xmargin::pda;
use xmargin::token::TOKEN_PROGRAM_ID;

use crate::instructions::BankKeys;

fn ix(accounts: impl ToAccountMetas, data: impl InstructionData, extra: Vec<AccountMeta>) -> Instruction {
    let mut metas = accounts.to_account_metas(None);
    metas.extend(extra);
    Instruction { program_id: xmargin::ID, accounts: metas, data: data.data() }
}

/// The keys of a market: its address and its oracle (the underlying bank's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarketKeys {
    pub market: Pubkey,
    pub oracle: Pubkey,
}

impl MarketKeys {
    pub fn new(group: &Pubkey, market_index: u16, oracle: Pubkey) -> Self {
        MarketKeys { market: pda::market_address(group, market_index).0, oracle }
    }
}

/// `add_market` on the underlying bank `underlying` (its oracle is the market's).
pub fn add_market(
    group: &Pubkey,
    admin: &Pubkey,
    payer: &Pubkey,
    underlying: &BankKeys,
    args: AddMarketArgs,
) -> Instruction {
    let accounts = xmargin::accounts::AddMarket {
        group: *group,
        admin: *admin,
        payer: *payer,
        underlying_bank: underlying.bank,
        oracle: underlying.oracle,
        market: pda::market_address(group, args.market_index).0,
        system_program: system_program::ID,
    };
    ix(accounts, xmargin::instruction::AddMarket { args }, vec![])
}

/// `add_option_market` on the underlying bank `underlying` (its oracle is the market's).
pub fn add_option_market(
    group: &Pubkey,
    admin: &Pubkey,
    payer: &Pubkey,
    underlying: &BankKeys,
    args: AddOptionMarketArgs,
) -> Instruction {
    let accounts = xmargin::accounts::AddOptionMarket {
        group: *group,
        admin: *admin,
        payer: *payer,
        underlying_bank: underlying.bank,
        oracle: underlying.oracle,
        market: pda::market_address(group, args.market_index).0,
        system_program: system_program::ID,
    };
    ix(accounts, xmargin::instruction::AddOptionMarket { args }, vec![])
}

/// `set_volatility` (admin): `volatility_bps` 10,000 = 100 %.
pub fn set_volatility(group: &Pubkey, admin: &Pubkey, market: &Pubkey, volatility_bps: u32) -> Instruction {
    let accounts = xmargin::accounts::SetVolatility { group: *group, admin: *admin, market: *market };
    ix(accounts, xmargin::instruction::SetVolatility { volatility_bps }, vec![])
}

/// `update_risk_grid` (admin): the group's scenario grid, risk-array rules
/// and portfolio parameters.
pub fn update_risk_grid(group: &Pubkey, admin: &Pubkey, args: UpdateRiskGridArgs) -> Instruction {
    let accounts = xmargin::accounts::UpdateRiskGrid { group: *group, admin: *admin };
    ix(accounts, xmargin::instruction::UpdateRiskGrid { args }, vec![])
}

/// Permissionless `update_risk_array` of an option market.
pub fn update_risk_array(group: &Pubkey, market: &MarketKeys) -> Instruction {
    let accounts =
        xmargin::accounts::UpdateRiskArray { group: *group, market: market.market, oracle: market.oracle };
    ix(accounts, xmargin::instruction::UpdateRiskArray {}, vec![])
}

pub fn update_market(group: &Pubkey, admin: &Pubkey, market: &Pubkey, args: UpdateMarketArgs) -> Instruction {
    let accounts = xmargin::accounts::UpdateMarket { group: *group, admin: *admin, market: *market };
    ix(accounts, xmargin::instruction::UpdateMarket { args }, vec![])
}

/// A block trade; `buyer_health` / `seller_health`: each side's health
/// accounts with this market opened.
#[allow(clippy::too_many_arguments)]
pub fn trade(
    group: &Pubkey,
    market: &MarketKeys,
    buyer: &Pubkey,
    buyer_authority: &Pubkey,
    seller: &Pubkey,
    seller_authority: &Pubkey,
    args: TradeArgs,
    buyer_health: Vec<AccountMeta>,
    seller_health: Vec<AccountMeta>,
) -> Instruction {
    let accounts = xmargin::accounts::Trade {
        group: *group,
        market: market.market,
        oracle: market.oracle,
        buyer: *buyer,
        buyer_authority: *buyer_authority,
        seller: *seller,
        seller_authority: *seller_authority,
    };
    let mut extra = buyer_health;
    extra.extend(seller_health);
    ix(accounts, xmargin::instruction::Trade { args }, extra)
}

pub fn update_funding(group: &Pubkey, market: &MarketKeys) -> Instruction {
    let accounts =
        xmargin::accounts::UpdateFunding { group: *group, market: market.market, oracle: market.oracle };
    ix(accounts, xmargin::instruction::UpdateFunding {}, vec![])
}

pub fn settle_pnl(
    group: &Pubkey,
    market: &MarketKeys,
    winner: &Pubkey,
    loser: &Pubkey,
    quote_bank: &Pubkey,
) -> Instruction {
    let accounts = xmargin::accounts::SettlePnl {
        group: *group,
        market: market.market,
        oracle: market.oracle,
        winner: *winner,
        loser: *loser,
        quote_bank: *quote_bank,
    };
    ix(accounts, xmargin::instruction::SettlePnl {}, vec![])
}

pub fn sample_price(group: &Pubkey, market: &MarketKeys) -> Instruction {
    let accounts =
        xmargin::accounts::SamplePrice { group: *group, market: market.market, oracle: market.oracle };
    ix(accounts, xmargin::instruction::SamplePrice {}, vec![])
}

pub fn settle_expired(group: &Pubkey, market: &MarketKeys, account: &Pubkey) -> Instruction {
    let accounts = xmargin::accounts::SettleExpired {
        group: *group,
        market: market.market,
        oracle: market.oracle,
        account: *account,
    };
    ix(accounts, xmargin::instruction::SettleExpired {}, vec![])
}

pub fn close_market(group: &Pubkey, admin: &Pubkey, market: &Pubkey, rent_to: &Pubkey) -> Instruction {
    let accounts =
        xmargin::accounts::CloseMarket { group: *group, admin: *admin, market: *market, rent_to: *rent_to };
    ix(accounts, xmargin::instruction::CloseMarket {}, vec![])
}

/// `liqee_health`: the liquidatee's health accounts with the quote token
/// opened; `liqor_health`: the liquidator's with this market opened.
#[allow(clippy::too_many_arguments)]
pub fn liquidate_position(
    group: &Pubkey,
    market: &MarketKeys,
    liqee: &Pubkey,
    liqor: &Pubkey,
    liqor_authority: &Pubkey,
    quote_bank: &BankKeys,
    max_contracts: u64,
    liqee_health: Vec<AccountMeta>,
    liqor_health: Vec<AccountMeta>,
) -> Instruction {
    let accounts = xmargin::accounts::LiquidatePosition {
        group: *group,
        market: market.market,
        oracle: market.oracle,
        liqee: *liqee,
        liqor: *liqor,
        liqor_authority: *liqor_authority,
        quote_bank: quote_bank.bank,
        vault: quote_bank.vault,
        insurance_vault: pda::insurance_vault_address(group).0,
        token_program: TOKEN_PROGRAM_ID,
    };
    let mut extra = liqee_health;
    extra.extend(liqor_health);
    ix(accounts, xmargin::instruction::LiquidatePosition { max_contracts }, extra)
}

/// The Ed25519 precompile instruction carrying `signer`'s `signature` of a
/// quote `message` (`xmargin::quote::quote_message`); it must come right
/// before [`take_quote`] in the transaction.
pub fn ed25519_signature(signer: &Pubkey, signature: &[u8; 64], message: &[u8]) -> Instruction {
    Instruction {
        program_id: xmargin::quote::ED25519_PROGRAM_ID,
        accounts: vec![],
        data: xmargin::quote::ed25519_instruction_data(signer, signature, message),
    }
}

/// `take_quote`: `taker` fills `maker`'s signed quote. `buyer_health` and
/// `seller_health` follow the quote's side (the maker buys when
/// `terms.side == quote_side::MAKER_BUYS`), each with this market opened.
#[allow(clippy::too_many_arguments)]
pub fn take_quote(
    group: &Pubkey,
    market: &MarketKeys,
    maker: &Pubkey,
    taker: &Pubkey,
    taker_authority: &Pubkey,
    terms: xmargin::quote::QuoteTerms,
    buyer_health: Vec<AccountMeta>,
    seller_health: Vec<AccountMeta>,
) -> Instruction {
    let accounts = xmargin::accounts::TakeQuote {
        group: *group,
        market: market.market,
        oracle: market.oracle,
        maker: *maker,
        taker: *taker,
        taker_authority: *taker_authority,
        instructions: xmargin::quote::INSTRUCTIONS_SYSVAR_ID,
    };
    let mut extra = buyer_health;
    extra.extend(seller_health);
    ix(accounts, xmargin::instruction::TakeQuote { terms }, extra)
}

/// `settle_dust`: the protocol's funding rounding out of `account`'s realised loss.
pub fn settle_dust(group: &Pubkey, market: &Pubkey, account: &Pubkey, quote_bank: &Pubkey) -> Instruction {
    let accounts = xmargin::accounts::SettleDust {
        group: *group,
        market: *market,
        account: *account,
        quote_bank: *quote_bank,
    };
    ix(accounts, xmargin::instruction::SettleDust {}, vec![])
}
