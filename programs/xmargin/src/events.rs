//! Events for every state change a keeper, indexer or UI needs.
use anchor_lang::prelude::*;

#[event]
pub struct GroupCreated {
    pub group: Pubkey,
    pub admin: Pubkey,
    pub quote_mint: Pubkey,
    pub insurance_vault: Pubkey,
    pub group_num: u32,
    pub loosen_delay_secs: u32,
}

#[event]
pub struct BankAdded {
    pub group: Pubkey,
    pub bank: Pubkey,
    pub mint: Pubkey,
    pub oracle: Pubkey,
    pub token_index: u16,
    pub risk: crate::instructions::BankRiskArgs,
    pub oracle_config: crate::instructions::BankOracleArgs,
    pub interest: crate::instructions::BankInterestArgs,
}

#[event]
pub struct AccountCreated {
    pub group: Pubkey,
    pub account: Pubkey,
    pub owner: Pubkey,
    pub account_num: u32,
}

#[event]
pub struct AccountClosed {
    pub group: Pubkey,
    pub account: Pubkey,
    pub owner: Pubkey,
}

#[event]
pub struct DelegateSet {
    pub account: Pubkey,
    pub owner: Pubkey,
    /// `Pubkey::default()` when removed.
    pub delegate: Pubkey,
}

/// Tokens paid into a margin account (deposit or repay).
#[event]
pub struct Deposited {
    pub account: Pubkey,
    pub bank: Pubkey,
    pub authority: Pubkey,
    pub token_index: u16,
    /// Native amount moved into the vault.
    pub amount: u64,
    /// Part of `amount` that reduced debt.
    pub repaid: u64,
    /// Part of `amount` that became a deposit.
    pub deposited: u64,
    pub shares_after: crate::state::StoredFixed,
    pub deposit_index: crate::state::StoredFixed,
    pub borrow_index: crate::state::StoredFixed,
}

/// Tokens taken out of a margin account; `borrowed > 0` is a borrow.
#[event]
pub struct Withdrawn {
    pub account: Pubkey,
    pub bank: Pubkey,
    pub authority: Pubkey,
    pub token_index: u16,
    pub amount: u64,
    /// Part of `amount` taken from the account's deposit.
    pub from_deposit: u64,
    /// Part of `amount` borrowed.
    pub borrowed: u64,
    pub shares_after: crate::state::StoredFixed,
    pub deposit_index: crate::state::StoredFixed,
    pub borrow_index: crate::state::StoredFixed,
    /// Init health after (quote native), when the account has liabilities.
    pub init_health_after: Option<i64>,
}

/// Interest accrued on a bank (and its stable price moved).
#[event]
pub struct InterestAccrued {
    pub bank: Pubkey,
    pub token_index: u16,
    /// Annual borrow rate used for this accrual.
    pub borrow_rate: crate::state::StoredFixed,
    /// Interest charged to borrowers (native).
    pub interest: crate::state::StoredFixed,
    /// Part of `interest` kept by the protocol (native).
    pub protocol_fee: crate::state::StoredFixed,
    pub deposit_index: crate::state::StoredFixed,
    pub borrow_index: crate::state::StoredFixed,
    pub stable_price: crate::state::StoredFixed,
    pub timestamp: i64,
}

/// An account is in the margin-call band: Init health < 0 ≤ Maint health.
#[event]
pub struct MarginCall {
    pub account: Pubkey,
    pub init_health: i64,
    pub maint_health: i64,
}

#[event]
pub struct PauseFlagsSet {
    pub group: Pubkey,
    pub previous: u8,
    pub flags: u8,
}

/// A bank's parameters changed; a loosening part applies at `loosening_activation_ts` (0 = none).
#[event]
pub struct BankUpdated {
    pub bank: Pubkey,
    pub token_index: u16,
    pub args: crate::instructions::UpdateBankArgs,
    pub loosening_activation_ts: i64,
}

/// One token-liquidation step (balances moved between two margin accounts).
#[event]
pub struct TokenLiquidated {
    pub liqee: Pubkey,
    pub liqor: Pubkey,
    pub asset_token_index: u16,
    pub liab_token_index: u16,
    /// Debt (liability native) taken over by the liquidator.
    pub liab_transferred: u64,
    /// Collateral (asset native) paid to the liquidator.
    pub asset_transferred: u64,
    /// Asset native per liability native, bonus included.
    pub rate: crate::state::StoredFixed,
    pub bonus: crate::state::StoredFixed,
    pub liqee_maint_before: i64,
    pub liqee_liq_end_before: i64,
    pub liqee_liq_end_after: i64,
    pub liqor_init_after: i64,
}

/// A bankrupt account's debt in one bank was cleared.
#[event]
pub struct BankruptcyResolved {
    pub account: Pubkey,
    pub bank: Pubkey,
    pub token_index: u16,
    /// Debt cleared (native, rounded up).
    pub owed: u64,
    /// Paid by the insurance fund into the bank's vault (native).
    pub insurance_paid: u64,
    /// Written off against the bank's depositors (native).
    pub socialized: crate::state::StoredFixed,
    /// Part of `socialized` beyond all deposits, plus the claims the deposit
    /// index floor leaves: charged to the bank's collected fees.
    pub unabsorbed: crate::state::StoredFixed,
    /// The part of `unabsorbed` the collected fees paid (the rest is the bank's `deficit`).
    pub charged_to_fees: crate::state::StoredFixed,
    /// Deposit index after the write-off.
    pub deposit_index: crate::state::StoredFixed,
    /// The liquidator that took over debt for insurance-fund quote tokens
    /// (debts in other tokens than the quote token), or the default key.
    pub liqor: Pubkey,
    /// Debt the liquidator took over (native of the liability token).
    pub liqor_took: u64,
}

/// Protocol fees paid out of a bank's vault by the admin.
#[event]
pub struct FeesWithdrawn {
    pub bank: Pubkey,
    pub token_index: u16,
    pub destination: Pubkey,
    pub amount: u64,
    /// Collected fees left (native).
    pub fees_left: crate::state::StoredFixed,
}

#[event]
pub struct MarketAdded {
    pub group: Pubkey,
    pub market: Pubkey,
    pub underlying_bank: Pubkey,
    pub oracle: Pubkey,
    pub market_index: u16,
    pub args: crate::instructions::AddMarketArgs,
}

#[event]
pub struct MarketUpdated {
    pub market: Pubkey,
    pub market_index: u16,
    pub args: crate::instructions::UpdateMarketArgs,
    /// When the loosening part applies (0 = everything applied at once).
    pub loosening_activation_ts: i64,
}

/// A fill between two margin accounts (block trade or taken quote).
#[event]
pub struct Traded {
    pub market: Pubkey,
    pub market_index: u16,
    pub buyer: Pubkey,
    pub seller: Pubkey,
    /// Contracts.
    pub size: u64,
    /// Quote native per contract.
    pub price: u64,
    /// PnL realised by the fill on each side (quote native).
    pub buyer_realized: i64,
    pub seller_realized: i64,
    pub buyer_base_after: i64,
    pub seller_base_after: i64,
    pub open_interest: u64,
    pub buyer_init_health_after: i64,
    pub seller_init_health_after: i64,
    /// The maker's quote nonce when the fill took a signed quote.
    pub quote_nonce: Option<u64>,
}

#[event]
pub struct FundingUpdated {
    pub market: Pubkey,
    pub market_index: u16,
    /// Fraction of the oracle price per hour; longs pay when positive.
    pub hourly_rate: crate::state::StoredFixed,
    /// Quote native per contract.
    pub cum_funding: crate::state::StoredFixed,
    pub mark_twap: crate::state::StoredFixed,
    pub oracle_twap: crate::state::StoredFixed,
    /// Seconds charged (at most one hour).
    pub applied_secs: u64,
    pub stable_price: crate::state::StoredFixed,
}

/// PnL moved into quote-token balances, loser to winner.
#[event]
pub struct PnlSettled {
    pub market: Pubkey,
    pub market_index: u16,
    pub winner: Pubkey,
    pub loser: Pubkey,
    /// Quote native.
    pub amount: u64,
    /// Part of `amount` that was unrealised profit (counts against the window).
    pub from_unrealized: u64,
    /// Part of `amount` the loser borrowed.
    pub loser_borrowed: u64,
    /// Quote native per underlying native unit.
    pub price: crate::state::StoredFixed,
}

#[event]
pub struct PriceSampled {
    pub market: Pubkey,
    pub market_index: u16,
    pub price: crate::state::StoredFixed,
    pub sample_count: u32,
    pub sample_secs: u64,
}

/// A dated future's or an option's settlement price is fixed.
#[event]
pub struct MarketSettled {
    pub market: Pubkey,
    pub market_index: u16,
    /// Quote native per underlying native unit.
    pub settlement_price: crate::state::StoredFixed,
    /// True when the samples were too few: the oracle price after expiry,
    /// or (with `timed_out`) the samples' mean or the stable price.
    pub fallback: bool,
    /// True when an hour passed after expiry with no price fixed.
    pub timed_out: bool,
    pub sample_count: u32,
}

/// An account's position in an expired market turned into realised PnL.
#[event]
pub struct PositionSettled {
    pub market: Pubkey,
    pub market_index: u16,
    pub account: Pubkey,
    pub base_contracts: i64,
    /// PnL realised by the settlement (quote native, exact):
    /// `contracts · value per contract − quote_cost`, the value a future's
    /// settlement price per contract or an option's intrinsic value.
    pub realized: i64,
    pub open_interest: u64,
}

#[event]
pub struct MarketClosed {
    pub market: Pubkey,
    pub market_index: u16,
}

/// Part of a derivative position taken over by a liquidator.
#[event]
pub struct PositionLiquidated {
    pub market: Pubkey,
    pub market_index: u16,
    pub liqee: Pubkey,
    pub liqor: Pubkey,
    /// Contracts moved from the liquidatee to the liquidator (signed as the liquidatee's position was).
    pub contracts: i64,
    /// Quote native per contract the liquidator paid (long) or received (short).
    pub price: u64,
    /// Fees as a fraction of notional (after the equity cap); options: of
    /// the fee's basis (a long's model value, a short's spot).
    pub bonus: crate::state::StoredFixed,
    /// Quote native paid into the insurance fund.
    pub insurance_fee: u64,
    pub liqee_liq_end_before: i64,
    pub liqee_liq_end_after: i64,
    pub liqor_init_after: i64,
}

/// The protocol's funding rounding collected from an account's realised loss.
#[event]
pub struct DustSettled {
    pub market: Pubkey,
    pub market_index: u16,
    pub account: Pubkey,
    /// Quote native moved into the quote bank's collected fees.
    pub amount: u64,
    /// Part of `amount` the account borrowed.
    pub borrowed: u64,
}

/// An option market listed (`add_option_market`).
#[event]
pub struct OptionMarketAdded {
    pub group: Pubkey,
    pub market: Pubkey,
    pub underlying_bank: Pubkey,
    pub oracle: Pubkey,
    pub market_index: u16,
    pub args: crate::instructions::AddOptionMarketArgs,
}

/// `set_volatility`: a raise applies at once (`activation_ts` 0), a
/// lowering at `activation_ts`.
#[event]
pub struct VolatilitySet {
    pub market: Pubkey,
    pub market_index: u16,
    /// Volatility in force before (bps, rounded down).
    pub previous_bps: u32,
    pub volatility_bps: u32,
    pub activation_ts: i64,
}

/// `update_risk_grid`: the grid in force now (`grid_id`) and the one asked
/// for (`target_grid_id`), in force at `activation_ts` (0: applied at once;
/// else a loosening, pending until then).
#[event]
pub struct RiskGridUpdated {
    pub group: Pubkey,
    pub grid_id: u32,
    pub grid_len: u8,
    pub target_grid_id: u32,
    pub activation_ts: i64,
    pub args: crate::instructions::UpdateRiskGridArgs,
}

/// `update_risk_array`: the array stored (values per underlying native unit,
/// the model value also per contract, rounded down).
#[event]
pub struct RiskArrayUpdated {
    pub market: Pubkey,
    pub market_index: u16,
    pub computed_at: i64,
    pub grid_id: u32,
    pub scenario_count: u16,
    pub spot: crate::state::StoredFixed,
    pub volatility: crate::state::StoredFixed,
    pub value: crate::state::StoredFixed,
    pub delta: crate::state::StoredFixed,
    pub value_per_contract: u64,
}

/// `set_margin_mode`: the account's margin mode changed (0 linear, 1
/// portfolio), with its Init health in the new mode (quote native, rounded down).
#[event]
pub struct MarginModeSet {
    pub account: Pubkey,
    pub authority: Pubkey,
    pub mode: u8,
    pub init_health: i64,
}

/// One underlying's book in portfolio mode (quote native, rounded up).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnderlyingRequirementView {
    /// The underlying's token index.
    pub underlying: u16,
    /// Init requirement charged: `min(scenario, linear)`.
    pub init_requirement: i64,
    /// Maint requirement charged.
    pub maint_requirement: i64,
    /// What linear mode charges the same legs (Init).
    pub init_linear: i64,
    /// Weighted loss of the worst scenario, before the health type's scale.
    pub worst_loss: i64,
    /// Contingency part of the Init scenario requirement.
    pub init_contingency: i64,
    /// Index of the worst scenario in the grid (`crate::options`: 0 decay,
    /// 1–15 price × vol, 16–23 extended moves); −1 when no scenario loses.
    pub worst_scenario: i16,
}

/// `compute_health` of an account in portfolio mode: each underlying's
/// requirement and its worst scenario, so a user can see why.
#[event]
pub struct PortfolioHealth {
    pub account: Pubkey,
    pub underlyings: Vec<UnderlyingRequirementView>,
}

/// The option details of a `liquidate_position` step in an option market,
/// beside its `PositionLiquidated`: the model value per contract of the
/// market's risk array the price starts from, and the fees per contract
/// (the liquidator's: the distance from the model value to its price).
#[event]
pub struct OptionPositionLiquidated {
    pub market: Pubkey,
    pub liqee: Pubkey,
    /// Contracts moved (signed as the liquidatee's position was).
    pub contracts: i64,
    /// Model value per contract (quote native; a short's rounded up, a long's down).
    pub model_value_per_contract: u64,
    /// Quote native per contract the liquidator paid (long) or received (short).
    pub price: u64,
    pub liquidation_fee_per_contract: u64,
    /// Paid by the liquidatee into the insurance fund per contract.
    pub insurance_fee_per_contract: u64,
}
