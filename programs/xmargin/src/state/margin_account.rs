use anchor_lang::prelude::*;

use super::StoredFixed;

/// PDA seed prefix of [`MarginAccount`]: `[ACCOUNT_SEED, group, owner, account_num (u32 LE)]`.
pub const ACCOUNT_SEED: &[u8] = b"account";
/// Token positions per account (DESIGN.md: at least 16).
pub const MAX_TOKEN_POSITIONS: usize = 16;
/// Derivative positions per account (DESIGN.md: at least 16).
pub const MAX_DERIVATIVE_POSITIONS: usize = 16;

/// Bits of [`MarginAccount::flags`].
pub mod account_flags {
    /// A liquidation started and has not finished (LiquidationEnd health < 0).
    /// Set by a liquidation step that leaves LiquidationEnd < 0; cleared by
    /// one that reaches 0, and by any instruction that shows the account back
    /// at LiquidationEnd ≥ 0: a withdrawal passing its Init check (Init ≤
    /// LiquidationEnd), a deposit or repay given the health accounts, an
    /// account left with no liabilities, `resolve_bankruptcy`.
    pub const BEING_LIQUIDATED: u8 = 1 << 0;
    /// Debt and nothing left to seize (see `MarginAccount::is_bankrupt`).
    /// A record for keepers and UIs, never a gate: every instruction that
    /// changes token balances recomputes it (`refresh_bankrupt_flag`), so it
    /// clears as soon as the account holds an asset again or owes nothing.
    pub const BANKRUPT: u8 = 1 << 1;
    /// Margin computed in portfolio mode (opt-in): the account's margin-mode
    /// field, in the flags byte so the account's size does not change.
    /// Clear (linear) when the account is created; set and cleared only by
    /// `set_margin_mode`, each time only if the account is healthy (Init ≥ 0)
    /// in the new mode. Closing the account drops it with the account: one
    /// re-created at the same address starts linear.
    pub const PORTFOLIO_MODE: u8 = 1 << 2;
}

/// A balance in one bank, as shares of that bank: positive = deposit shares
/// (native = shares · deposit_index), negative = borrow shares (native =
/// shares · borrow_index).
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TokenPosition {
    pub shares: StoredFixed,
    pub token_index: u16,
    pub in_use: u8,
    pub reserved: [u8; 5],
}

const _: () = assert!(core::mem::size_of::<TokenPosition>() == 24);

/// A position in one derivative market (perpetual, dated future or option).
///
/// PnL at price P is `base · P − quote_cost + realized_pnl + funding owed
/// since funding_snapshot`; `realized_pnl − quote_cost` changes by exactly
/// the quote cash flow of every fill, so counterparties' changes cancel.
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DerivativePosition {
    /// Signed size in contracts (long > 0).
    pub base_contracts: i64,
    /// Quote native paid for the open base (> 0 long, < 0 short).
    pub quote_cost: i64,
    /// PnL realised by reductions, funding and settlement, not yet moved
    /// into the quote bank by `settle_pnl` (quote native).
    pub realized_pnl: i64,
    /// `Market::cum_funding` when funding was last settled into `realized_pnl`.
    pub funding_snapshot: StoredFixed,
    /// Start of the current settle window and the unrealised profit settled in it.
    pub settle_window_start: i64,
    pub settled_in_window: u64,
    pub market_index: u16,
    pub in_use: u8,
    pub reserved: [u8; 5],
}

const _: () = assert!(core::mem::size_of::<DerivativePosition>() == 64);

/// A user's margin account: every position in it secures every other.
/// Isolation is by account: an owner opens several (`account_num`).
#[account(zero_copy)]
#[derive(Debug)]
pub struct MarginAccount {
    pub group: Pubkey,
    pub owner: Pubkey,
    /// May trade and deposit for the owner; may withdraw only to the owner.
    pub delegate: Pubkey,
    pub account_num: u32,
    pub bump: u8,
    /// See [`account_flags`].
    pub flags: u8,
    pub reserved_bytes: [u8; 2],
    pub tokens: [TokenPosition; MAX_TOKEN_POSITIONS],
    pub derivatives: [DerivativePosition; MAX_DERIVATIVE_POSITIONS],
    /// Signed-quote replay window: nonces below `quote_nonce_base` are spent,
    /// bit i of `quote_nonce_bits` marks `quote_nonce_base + i` spent.
    pub quote_nonce_base: u64,
    pub quote_nonce_bits: [u64; 2],
    pub reserved: [u8; 104],
}

const _: () = assert!(core::mem::size_of::<MarginAccount>() == MarginAccount::SIZE);
const _: () = assert!(core::mem::align_of::<MarginAccount>() == 8);

impl MarginAccount {
    /// Byte size without Anchor's 8-byte discriminator.
    pub const SIZE: usize = 3 * 32 + 8 + 24 * MAX_TOKEN_POSITIONS + 64 * MAX_DERIVATIVE_POSITIONS + 24 + 104;

    /// Whether `signer` may act for the account: its owner, or its delegate if one is set.
    pub fn is_owner_or_delegate(&self, signer: &Pubkey) -> bool {
        *signer == self.owner || (*signer == self.delegate && self.delegate != Pubkey::default())
    }

    pub fn has_flag(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    /// Whether health is computed in portfolio mode ([`account_flags::PORTFOLIO_MODE`]).
    pub fn is_portfolio_mode(&self) -> bool {
        self.has_flag(account_flags::PORTFOLIO_MODE)
    }

    /// The active token positions, in slot order (the order health accounts follow).
    pub fn active_tokens(&self) -> impl Iterator<Item = &TokenPosition> {
        self.tokens.iter().filter(|p| p.in_use != 0)
    }

    pub fn token_position(&self, token_index: u16) -> Option<&TokenPosition> {
        self.active_tokens().find(|p| p.token_index == token_index)
    }

    /// The position for `token_index`, opening it in the first free slot if needed.
    /// `None` when all slots are used.
    pub fn token_position_mut_or_open(&mut self, token_index: u16) -> Option<&mut TokenPosition> {
        let slot = match self.tokens.iter().position(|p| p.in_use != 0 && p.token_index == token_index) {
            Some(i) => i,
            None => {
                let free = self.tokens.iter().position(|p| p.in_use == 0)?;
                self.tokens[free] = TokenPosition { token_index, in_use: 1, ..TokenPosition::default() };
                free
            }
        };
        self.tokens.get_mut(slot)
    }

    /// Frees a position whose balance reached exactly zero.
    pub fn close_token_position_if_empty(&mut self, token_index: u16) {
        if let Some(p) = self
            .tokens
            .iter_mut()
            .find(|p| p.in_use != 0 && p.token_index == token_index && p.shares.get().is_zero())
        {
            *p = TokenPosition::default();
        }
    }

    /// The active derivative positions, in slot order (the order health accounts follow).
    pub fn active_derivatives(&self) -> impl Iterator<Item = &DerivativePosition> {
        self.derivatives.iter().filter(|p| p.in_use != 0)
    }

    pub fn derivative_position(&self, market_index: u16) -> Option<&DerivativePosition> {
        self.active_derivatives().find(|p| p.market_index == market_index)
    }

    /// Slot of the position in `market_index`, opening it in the first free
    /// slot (funding snapshot at `cum_funding`) if needed; `None` when all
    /// slots are used.
    pub fn derivative_slot_or_open(&mut self, market_index: u16, cum_funding: StoredFixed) -> Option<usize> {
        if let Some(i) = self.derivatives.iter().position(|p| p.in_use != 0 && p.market_index == market_index)
        {
            return Some(i);
        }
        let free = self.derivatives.iter().position(|p| p.in_use == 0)?;
        self.derivatives[free] = DerivativePosition {
            market_index,
            in_use: 1,
            funding_snapshot: cum_funding,
            ..DerivativePosition::default()
        };
        Some(free)
    }

    /// Frees a derivative position with no base, cost or unsettled PnL left.
    pub fn close_derivative_if_empty(&mut self, market_index: u16) {
        if let Some(p) = self.derivatives.iter_mut().find(|p| {
            p.in_use != 0
                && p.market_index == market_index
                && p.base_contracts == 0
                && p.quote_cost == 0
                && p.realized_pnl == 0
        }) {
            *p = DerivativePosition::default();
        }
    }

    /// True when nothing is held or owed.
    pub fn is_empty(&self) -> bool {
        self.tokens.iter().all(|p| p.in_use == 0) && self.derivatives.iter().all(|p| p.in_use == 0)
    }

    /// Something a liquidator can seize: a positive token balance, an open
    /// derivative position, or a closed one's unsettled profit.
    pub fn has_assets(&self) -> bool {
        self.active_tokens().any(|p| p.shares.get().is_positive())
            || self.active_derivatives().any(|p| p.base_contracts != 0 || p.realized_pnl > 0)
    }

    /// Debt with nothing left to seize: only the bankruptcy path helps. Debt
    /// is a token borrow or a closed derivative position's unsettled loss.
    pub fn is_bankrupt(&self) -> bool {
        let owes = self.active_tokens().any(|p| p.shares.get().is_negative())
            || self.active_derivatives().any(|p| p.base_contracts == 0 && p.realized_pnl < 0);
        owes && !self.has_assets()
    }

    /// Sets `BANKRUPT` to [`Self::is_bankrupt`], and clears `BEING_LIQUIDATED`
    /// when nothing is owed. Called after every change of token balances or
    /// derivative positions.
    pub fn refresh_flags(&mut self) {
        if self.is_bankrupt() {
            self.flags |= account_flags::BANKRUPT;
        } else {
            self.flags &= !account_flags::BANKRUPT;
        }
        if !self.has_liabilities() {
            self.flags &= !account_flags::BEING_LIQUIDATED;
        }
    }

    /// True if any token balance is a borrow or any derivative position is open.
    pub fn has_liabilities(&self) -> bool {
        self.active_tokens().any(|p| p.shares.get().is_negative())
            || self.derivatives.iter().any(|p| p.in_use != 0)
    }
}
