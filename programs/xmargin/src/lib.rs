//! xmargin: a cross-margin clearing program.
//!
//! One margin account holds collateral in many tokens and positions in many
//! instruments; the whole account secures every position. Health math lives in
//! the Solana-free `xmargin-risk` crate so the program, keeper, CLI and tests
//! share one implementation. See `docs/` and the README for the design.
use anchor_lang::prelude::*;

#[cfg(target_arch = "bpf")]
use solana_compiler_builtins as _;

pub mod derivatives;
pub mod errors;
pub mod events;
pub mod expiry;
pub mod health;
pub mod heap;
pub mod instructions;
pub mod liquidation;
pub mod options;
pub mod oracle;
pub mod pda;
pub mod quote;
pub mod state;
pub mod token;

use instructions::*;

declare_id!("xmn1AeerV5q4mR3N3SpcSR6vPcBAV8ZQnNKZ5j84dwk");

#[program]
pub mod xmargin {
    use super::*;

    /// Creates a group: the admin, the quote mint and the insurance-fund vault
    /// that every bank, market and margin account of the group shares.
    pub fn create_group(ctx: Context<CreateGroup>, args: CreateGroupArgs) -> Result<()> {
        handle_create_group(ctx, args)
    }

    /// Lists a collateral token: its bank, shared vault, Pyth oracle, weights,
    /// caps and interest curve. Admin only.
    pub fn add_bank(ctx: Context<AddBank>, args: AddBankArgs) -> Result<()> {
        handle_add_bank(ctx, args)
    }

    /// Changes a bank's parameters: tightening at once, loosening after the group's delay. Admin only.
    pub fn update_bank(ctx: Context<UpdateBank>, args: UpdateBankArgs) -> Result<()> {
        handle_update_bank(ctx, args)
    }

    /// Sets the group's pause flags (deposits, withdrawals, liquidations, trading). Admin only.
    pub fn set_pause(ctx: Context<SetPause>, flags: u8) -> Result<()> {
        handle_set_pause(ctx, flags)
    }

    /// Opens margin account number `account_num` of the signing owner.
    pub fn create_account(ctx: Context<CreateAccount>, account_num: u32) -> Result<()> {
        handle_create_account(ctx, account_num)
    }

    /// Closes an empty margin account and returns its rent.
    pub fn close_account(ctx: Context<CloseAccount>) -> Result<()> {
        handle_close_account(ctx)
    }

    /// Sets (or with the default key, removes) the account's delegate.
    pub fn set_delegate(ctx: Context<SetDelegate>, delegate: Pubkey) -> Result<()> {
        handle_set_delegate(ctx, delegate)
    }

    /// Switches the account's margin mode (0 linear, 1 portfolio: positions
    /// on one underlying netted, charged their worst scenario loss plus
    /// contingencies). Owner or delegate; only if Init health in the new
    /// mode is ≥ 0. Remaining accounts: the health accounts.
    pub fn set_margin_mode<'info>(ctx: Context<'info, SetMarginMode<'info>>, mode: u8) -> Result<()> {
        handle_set_margin_mode(ctx, mode)
    }

    /// Pays tokens into a margin account: repays its debt in that bank first,
    /// deposits the rest. Owner or delegate; no oracle needed. Optional
    /// remaining accounts: the health accounts, to clear `BEING_LIQUIDATED`.
    pub fn deposit<'info>(ctx: Context<'info, Deposit<'info>>, amount: u64) -> Result<()> {
        handle_deposit(ctx, amount)
    }

    /// Repays up to `amount` of the account's debt in the bank (never deposits).
    pub fn repay<'info>(ctx: Context<'info, Deposit<'info>>, amount: u64) -> Result<()> {
        handle_repay(ctx, amount)
    }

    /// Withdraws tokens; beyond the account's deposit it is a borrow, allowed
    /// within the bank's borrow limit and Init health. Remaining accounts: the
    /// health accounts (banks then oracles of the account's positions).
    pub fn withdraw<'info>(ctx: Context<'info, Withdraw<'info>>, amount: u64) -> Result<()> {
        handle_withdraw(ctx, amount)
    }

    /// Permissionless: takes over part of a liquidatable account's debt for its
    /// collateral at a bonus, sized so LiquidationEnd health reaches 0 and no further.
    pub fn liquidate_token<'info>(
        ctx: Context<'info, LiquidateToken<'info>>,
        max_liab_transfer: u64,
    ) -> Result<()> {
        handle_liquidate_token(ctx, max_liab_transfer)
    }

    /// Permissionless: clears a bankrupt account's debt in a bank: the insurance
    /// fund first (quote-token debt directly; other debt through a liquidator
    /// paid in fund tokens), the rest socialised across the bank's depositors.
    pub fn resolve_bankruptcy<'info>(ctx: Context<'info, ResolveBankruptcy<'info>>) -> Result<()> {
        handle_resolve_bankruptcy(ctx)
    }

    /// Permissionless: accrues a bank's interest and moves its stable price.
    pub fn accrue_interest(ctx: Context<AccrueInterest>) -> Result<()> {
        handle_accrue_interest(ctx)
    }

    /// Admin: pays collected protocol fees out of a bank's vault (never more
    /// than the fees nor than the vault holds).
    pub fn withdraw_fees(ctx: Context<WithdrawFees>, amount: u64) -> Result<()> {
        handle_withdraw_fees(ctx, amount)
    }

    /// Lists a perpetual or dated future on a listed bank's underlying. Admin only.
    pub fn add_market(ctx: Context<AddMarket>, args: AddMarketArgs) -> Result<()> {
        handle_add_market(ctx, args)
    }

    /// Changes a market's parameters: tightening at once, loosening after the group's delay. Admin only.
    pub fn update_market(ctx: Context<UpdateMarket>, args: UpdateMarketArgs) -> Result<()> {
        handle_update_market(ctx, args)
    }

    /// A block trade: `size` contracts at `price` per contract from seller to
    /// buyer, signed by both. Remaining accounts: the buyer's health accounts,
    /// then the seller's.
    pub fn trade<'info>(ctx: Context<'info, Trade<'info>>, args: TradeArgs) -> Result<()> {
        handle_trade(ctx, args)
    }

    /// The taker fills a maker's signed quote alone; the maker's Ed25519
    /// signature of the quote is verified by the precompile instruction just
    /// before this one. Remaining accounts: the buyer's health accounts, then the seller's.
    pub fn take_quote<'info>(
        ctx: Context<'info, TakeQuote<'info>>,
        terms: crate::quote::QuoteTerms,
    ) -> Result<()> {
        handle_take_quote(ctx, terms)
    }

    /// Permissionless: folds the oracle into a perpetual's time-weighted
    /// prices and accrues funding for the time since the last update (at
    /// most one hour).
    pub fn update_funding(ctx: Context<UpdateFunding>) -> Result<()> {
        handle_update_funding(ctx)
    }

    /// Permissionless: moves PnL of one market into quote-token balances,
    /// from a losing account to a winning one (unrealised profit limited per window).
    pub fn settle_pnl(ctx: Context<SettlePnl>) -> Result<()> {
        handle_settle_pnl(ctx)
    }

    /// Permissionless: the protocol collects its funding rounding dust from an
    /// account's realised loss into the quote bank's fees (frees the slot a
    /// payer's last unit of loss would otherwise keep open).
    pub fn settle_dust(ctx: Context<SettleDust>) -> Result<()> {
        handle_settle_dust(ctx)
    }

    /// Permissionless: records an oracle sample for a dated future's or an
    /// option's settlement price in the 30 minutes before expiry.
    pub fn sample_price(ctx: Context<SamplePrice>) -> Result<()> {
        handle_sample_price(ctx)
    }

    /// Permissionless after expiry: fixes the settlement price (first call)
    /// and turns one account's position into realised PnL (a future at the
    /// settlement price, an option at its intrinsic value).
    pub fn settle_expired(ctx: Context<SettleExpired>) -> Result<()> {
        handle_settle_expired(ctx)
    }

    /// Permissionless: takes over part of a liquidatable account's position
    /// in one market at the oracle price less the fees, sized so
    /// LiquidationEnd health reaches 0 (to the next whole contract).
    pub fn liquidate_position<'info>(
        ctx: Context<'info, LiquidatePosition<'info>>,
        max_contracts: u64,
    ) -> Result<()> {
        handle_liquidate_position(ctx, max_contracts)
    }

    /// Admin: closes a settled market no account holds a slot in.
    pub fn close_market(ctx: Context<CloseMarket>) -> Result<()> {
        handle_close_market(ctx)
    }

    /// Lists a European call or put on a listed bank's underlying,
    /// cash-settled in the quote token. Admin only.
    pub fn add_option_market(ctx: Context<AddOptionMarket>, args: AddOptionMarketArgs) -> Result<()> {
        handle_add_option_market(ctx, args)
    }

    /// Sets an option market's volatility within its bounds: a raise at
    /// once, a lowering after the group's delay. Admin only.
    pub fn set_volatility(ctx: Context<SetVolatility>, volatility_bps: u32) -> Result<()> {
        handle_set_volatility(ctx, volatility_bps)
    }

    /// Permissionless: revalues an option market at the oracle (Black–Scholes
    /// over the scenario grid) and stores its risk array.
    pub fn update_risk_array(ctx: Context<UpdateRiskArray>) -> Result<()> {
        handle_update_risk_array(ctx)
    }

    /// Sets the group's scenario grid, risk-array freshness rule and
    /// portfolio parameters, bounded: a tightening at once, a loosening after
    /// the group's delay. Admin only.
    pub fn update_risk_grid(ctx: Context<UpdateRiskGrid>, args: UpdateRiskGridArgs) -> Result<()> {
        handle_update_risk_grid(ctx, args)
    }

    /// Read-only: Init, Maint and LiquidationEnd health and the band, as return data.
    pub fn compute_health<'info>(ctx: Context<'info, ComputeHealth<'info>>) -> Result<HealthView> {
        handle_compute_health(ctx)
    }
}
