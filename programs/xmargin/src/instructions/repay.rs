use anchor_lang::prelude::*;

use super::deposit::{pay_in, Deposit, DepositKind};

/// Repays up to `amount` of the account's debt in this bank (never more than
/// owed, never a new deposit). Works when oracles are stale and when paused.
pub fn handle_repay<'info>(ctx: Context<'info, Deposit<'info>>, amount: u64) -> Result<()> {
    pay_in(ctx, amount, DepositKind::Repay)
}
