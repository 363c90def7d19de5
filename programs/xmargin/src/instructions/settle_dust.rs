use anchor_lang::prelude::*;
use xmargin_risk::{Fixed, Rounding};

use crate::derivatives::{close_if_empty, existing_position};
use crate::errors::XmarginError;
use crate::events::DustSettled;
use crate::health::risk_error;
use crate::state::{Bank, Group, MarginAccount, Market};

#[derive(Accounts)]
pub struct SettleDust<'info> {
    pub group: AccountLoader<'info, Group>,
    #[account(mut, has_one = group @ XmarginError::WrongGroup)]
    pub market: AccountLoader<'info, Market>,
    #[account(mut, has_one = group @ XmarginError::WrongGroup)]
    pub account: AccountLoader<'info, MarginAccount>,
    /// The bank of the group's quote token: the dust goes to its collected fees.
    #[account(mut, has_one = group @ XmarginError::WrongGroup)]
    pub quote_bank: AccountLoader<'info, Bank>,
}

/// Permissionless: the protocol collects its rounding dust. Funding credits
/// round toward −∞ (the payer pays the ulp), so the market's `funding_dust`
/// is a claim no account holds: a payer is left with a unit or two of
/// realised loss that no winner can take, which would keep its position slot
/// (and its account) open forever. This moves up to the whole units of dust
/// from the account's realised loss into the quote bank's collected fees,
/// from the account's quote balance (a borrow if needed, as `settle_pnl`).
pub fn handle_settle_dust(ctx: Context<SettleDust>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let quote_mint = ctx.accounts.group.load()?.quote_mint;
    let mut market = ctx.accounts.market.load_mut()?;
    let mut account = ctx.accounts.account.load_mut()?;
    let slot = existing_position(&mut account, &mut market)?;
    let dust = market.funding_dust.get();
    let whole = dust.to_i64(Rounding::Floor).map_err(risk_error)?;
    let owed = account.derivatives[slot].realized_pnl.min(0).unsigned_abs();
    let amount = whole.max(0).unsigned_abs().min(owed);
    if amount == 0 {
        return Err(
            error!(XmarginError::NoPnlToSettle).with_values((whole, account.derivatives[slot].realized_pnl))
        );
    }
    let mut bank = ctx.accounts.quote_bank.load_mut()?;
    if bank.mint != quote_mint {
        return Err(error!(XmarginError::WrongQuoteBank).with_pubkeys((bank.mint, quote_mint)));
    }
    bank.accrue(now)?;
    let signed = i64::try_from(amount).map_err(|_| error!(XmarginError::MathOverflow))?;
    let position = &mut account.derivatives[slot];
    position.realized_pnl =
        position.realized_pnl.checked_add(signed).ok_or(error!(XmarginError::MathOverflow))?;
    market.funding_dust.set(dust.checked_sub(Fixed::from_u64(amount)).map_err(risk_error)?);
    let token_index = bank.token_index;
    let quote =
        account.token_position_mut_or_open(token_index).ok_or(error!(XmarginError::TooManyPositions))?;
    let split = bank.withdraw_from(&mut quote.shares, amount)?;
    let fees = bank.collected_fees.get().checked_add(Fixed::from_u64(amount)).map_err(risk_error)?;
    bank.collected_fees.set(fees);
    account.close_token_position_if_empty(token_index);
    close_if_empty(&mut account, &mut market)?;
    emit!(DustSettled {
        market: ctx.accounts.market.key(),
        market_index: market.market_index,
        account: ctx.accounts.account.key(),
        amount,
        borrowed: split.borrowed,
    });
    Ok(())
}
