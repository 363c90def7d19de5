use anchor_lang::prelude::*;

use crate::errors::XmarginError;
use crate::events::InterestAccrued;
use crate::oracle::read_pyth;
use crate::state::{Bank, Group};

#[derive(Accounts)]
pub struct AccrueInterest<'info> {
    pub group: AccountLoader<'info, Group>,
    #[account(mut, has_one = group @ XmarginError::WrongGroup, has_one = oracle @ XmarginError::WrongOracle)]
    pub bank: AccountLoader<'info, Bank>,
    /// CHECK: equals `bank.oracle` (has_one); identity and freshness checked by `read_pyth`.
    pub oracle: UncheckedAccount<'info>,
}

/// Permissionless crank: accrues the bank's interest up to now and moves its
/// stable price toward the oracle price (at most `stable_price_growth_per_sec`
/// per second). A stale or uncertain oracle does not block accrual; the stable
/// price then simply waits.
pub fn handle_accrue_interest(ctx: Context<AccrueInterest>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let quote_decimals = ctx.accounts.group.load()?.quote_decimals;
    let mut bank = ctx.accounts.bank.load_mut()?;
    let accrual = bank.accrue(now)?;

    let reading = read_pyth(&ctx.accounts.oracle, &bank.feed_id)?;
    let fresh = reading
        .check_fresh(now, bank.max_oracle_age_secs)
        .and_then(|_| reading.to_oracle_price(bank.mint_decimals, quote_decimals, bank.max_conf_ratio.get()));
    if let Ok(price) = fresh {
        let dt = now.saturating_sub(bank.stable_price_ts).max(0) as u64;
        let stable = xmargin_risk::price::update_stable_price(
            bank.stable_price.get(),
            price.lo,
            dt,
            bank.stable_price_growth_per_sec.get(),
        )
        .map_err(crate::health::risk_error)?;
        bank.stable_price.set(stable);
        bank.stable_price_ts = now;
    }
    emit!(InterestAccrued {
        bank: ctx.accounts.bank.key(),
        token_index: bank.token_index,
        borrow_rate: accrual.map(|a| a.borrow_rate.into()).unwrap_or_default(),
        interest: accrual.map(|a| a.interest.into()).unwrap_or_default(),
        protocol_fee: accrual.map(|a| a.fee.into()).unwrap_or_default(),
        deposit_index: bank.deposit_index,
        borrow_index: bank.borrow_index,
        stable_price: bank.stable_price,
        timestamp: now,
    });
    Ok(())
}
