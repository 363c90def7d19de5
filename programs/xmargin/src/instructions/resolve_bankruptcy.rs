use anchor_lang::prelude::*;
use xmargin_risk::{Fixed, Rounding};

use crate::errors::XmarginError;
use crate::events::BankruptcyResolved;
use crate::health::{init_health, risk_error, to_quote_native, HealthContext};
use crate::oracle::{read_pyth, PythReading};
use crate::state::{account_flags, Bank, Group, MarginAccount, GROUP_SEED};
use crate::token::{self, TOKEN_PROGRAM_ID};

#[derive(Accounts)]
pub struct ResolveBankruptcy<'info> {
    pub group: AccountLoader<'info, Group>,
    #[account(mut, has_one = group @ XmarginError::WrongGroup)]
    pub liqee: AccountLoader<'info, MarginAccount>,
    #[account(mut, has_one = group @ XmarginError::WrongGroup, has_one = vault @ XmarginError::WrongVault)]
    pub liab_bank: AccountLoader<'info, Bank>,
    /// CHECK: equals `liab_bank.vault` (has_one).
    #[account(mut)]
    pub vault: UncheckedAccount<'info>,
    /// CHECK: must be the group's insurance vault (checked in the handler).
    #[account(mut)]
    pub insurance_vault: UncheckedAccount<'info>,
    /// CHECK: address-checked.
    #[account(address = TOKEN_PROGRAM_ID)]
    pub token_program: UncheckedAccount<'info>,
    // --- For a debt in another token than the quote token while the insurance
    // fund holds tokens: a liquidator takes the debt over for fund tokens.
    #[account(mut, has_one = group @ XmarginError::WrongGroup)]
    pub liqor: Option<AccountLoader<'info, MarginAccount>>,
    /// The liquidator account's owner or delegate.
    pub liqor_authority: Option<Signer<'info>>,
    /// The group's quote-token bank (where the liquidator is paid).
    #[account(mut, has_one = group @ XmarginError::WrongGroup)]
    pub quote_bank: Option<AccountLoader<'info, Bank>>,
    /// CHECK: must be `quote_bank.vault` (checked in the handler).
    #[account(mut)]
    pub quote_vault: Option<UncheckedAccount<'info>>,
    /// CHECK: must be `liab_bank.oracle`; identity and freshness checked by `read_pyth`.
    pub liab_oracle: Option<UncheckedAccount<'info>>,
    /// CHECK: must be `quote_bank.oracle`; identity and freshness checked by `read_pyth`.
    pub quote_oracle: Option<UncheckedAccount<'info>>,
}

/// Permissionless. For an account with debts and nothing left to seize (no
/// positive balance anywhere), clears its debt in `liab_bank`:
/// - debt in the quote token: the insurance fund repays what it can, one for one;
/// - debt in another token: a liquidator (the optional accounts, and its health
///   accounts as remaining accounts, quote and liability tokens opened) takes
///   over what the fund can pay for, receiving fund quote tokens at the oracle
///   price plus the liability bank's liquidation fee, and must keep Init ≥ 0.
///   With an empty fund no liquidator is needed.
///
/// The rest is socialised across the bank's depositors by lowering the deposit index.
pub fn handle_resolve_bankruptcy<'info>(ctx: Context<'info, ResolveBankruptcy<'info>>) -> Result<()> {
    let (creator, group_num, group_bump, quote_mint, insurance_key, quote_decimals) = {
        let g = ctx.accounts.group.load()?;
        (g.creator, g.group_num, g.bump, g.quote_mint, g.insurance_vault, g.quote_decimals)
    };
    if ctx.accounts.insurance_vault.key() != insurance_key {
        return Err(error!(XmarginError::WrongInsuranceVault)
            .with_pubkeys((ctx.accounts.insurance_vault.key(), insurance_key)));
    }
    let now = Clock::get()?.unix_timestamp;
    let seeds: &[&[u8]] = &[GROUP_SEED, creator.as_ref(), &group_num.to_le_bytes(), &[group_bump]];
    let (token_index, is_quote) = {
        let mut bank = ctx.accounts.liab_bank.load_mut()?;
        bank.accrue(now)?;
        (bank.token_index, bank.mint == quote_mint)
    };
    // Bankrupt: no positive balance in any position (their values need no price)
    // and no derivative position, but a debt in this bank.
    let owed_native = {
        let liqee = ctx.accounts.liqee.load()?;
        if liqee.active_tokens().any(|p| p.shares.get().is_positive())
            || liqee.derivatives.iter().any(|d| d.in_use != 0)
        {
            return err!(XmarginError::NotBankrupt);
        }
        let shares = liqee.token_position(token_index).map(|p| p.shares.get()).unwrap_or_default();
        if !shares.is_negative() {
            return err!(XmarginError::NotBankrupt);
        }
        ctx.accounts.liab_bank.load()?.native_debt(shares)?
    };
    let insurance_held = token::token_account(&ctx.accounts.insurance_vault)?.amount;

    // Another token with money in the fund: a liquidator takes over what the fund pays for.
    let (liqor_key, liqor_took) = if !is_quote && insurance_held > 0 {
        insured_takeover(&ctx, owed_native, insurance_held, quote_mint, quote_decimals, now, seeds)?
    } else {
        (Pubkey::default(), 0)
    };

    let mut liqee = ctx.accounts.liqee.load_mut()?;
    let mut bank = ctx.accounts.liab_bank.load_mut()?;
    let shares = liqee.token_position(token_index).map(|p| p.shares.get()).unwrap_or_default();
    let owed_left = bank.native_debt(shares)?;
    let insurance_available = if is_quote { insurance_held } else { 0 };
    let res = xmargin_risk::liquidation::resolve_bankruptcy(
        Fixed::from_u64(owed_left),
        Fixed::ONE,
        Fixed::from_u64(insurance_available),
        bank.deposit_shares.get(),
        bank.deposit_index.get(),
    )
    .map_err(risk_error)?;
    let insurance_paid = res.insurance_paid.to_u64(Rounding::Ceil).map_err(risk_error)?;

    // Clear the whole remaining debt: the covered part is repaid with insurance
    // tokens, the rest written off against the depositors.
    if shares.is_negative() {
        let borrow_shares = bank.borrow_shares.get().checked_add(shares).map_err(risk_error)?;
        bank.borrow_shares.set(borrow_shares.positive_part());
        let position =
            liqee.token_position_mut_or_open(token_index).ok_or(error!(XmarginError::TooManyPositions))?;
        position.shares.set(Fixed::ZERO);
    }
    bank.deposit_index.set(res.new_deposit_index);
    liqee.close_token_position_if_empty(token_index);
    if !liqee.has_liabilities() {
        liqee.flags &= !(account_flags::BEING_LIQUIDATED | account_flags::BANKRUPT);
    }
    let (deposit_index, liqee_key, bank_key) =
        (bank.deposit_index, ctx.accounts.liqee.key(), ctx.accounts.liab_bank.key());
    drop(bank);
    drop(liqee);

    if insurance_paid > 0 {
        token::transfer(
            &ctx.accounts.insurance_vault,
            &ctx.accounts.vault,
            &ctx.accounts.group.to_account_info(),
            insurance_paid,
            &[seeds],
        )?;
    }
    emit!(BankruptcyResolved {
        account: liqee_key,
        bank: bank_key,
        token_index,
        owed: owed_native,
        insurance_paid,
        socialized: res.socialized.into(),
        unabsorbed: res.unabsorbed.into(),
        deposit_index,
        liqor: liqor_key,
        liqor_took,
    });
    Ok(())
}

/// Reads one of the takeover's oracles: the bank's own, fresh and certain.
fn strict_price(
    oracle: &AccountInfo,
    bank: &Bank,
    quote_decimals: u8,
    now: i64,
) -> Result<xmargin_risk::price::OraclePrice> {
    if oracle.key() != bank.oracle {
        return Err(error!(XmarginError::WrongOracle).with_pubkeys((oracle.key(), bank.oracle)));
    }
    let reading: PythReading = read_pyth(oracle, &bank.feed_id)?;
    reading.check_fresh(now, bank.max_oracle_age_secs)?;
    reading.to_oracle_price(bank.mint_decimals, quote_decimals, bank.max_conf_ratio.get())
}

/// The liquidator takes over up to `owed` of the liqee's debt, paid with up to
/// `insurance_held` fund quote tokens at `liab price · (1 + liquidation fee) /
/// quote price` (oracle low / high: the fund pays the least). Returns the
/// liquidator and the debt it took (native).
fn insured_takeover<'info>(
    ctx: &Context<'info, ResolveBankruptcy<'info>>,
    owed: u64,
    insurance_held: u64,
    quote_mint: Pubkey,
    quote_decimals: u8,
    now: i64,
    seeds: &[&[u8]],
) -> Result<(Pubkey, u64)> {
    let a = &ctx.accounts;
    let (
        Some(liqor_loader),
        Some(authority),
        Some(quote_loader),
        Some(quote_vault),
        Some(liab_oracle),
        Some(quote_oracle),
    ) = (&a.liqor, &a.liqor_authority, &a.quote_bank, &a.quote_vault, &a.liab_oracle, &a.quote_oracle)
    else {
        return Err(error!(XmarginError::InsuranceNeedsLiquidator).with_values((insurance_held, owed)));
    };
    if liqor_loader.key() == a.liqee.key() {
        return err!(XmarginError::SelfLiquidation);
    }
    let mut quote_bank = quote_loader.load_mut()?;
    if quote_bank.mint != quote_mint || quote_loader.key() == a.liab_bank.key() {
        return err!(XmarginError::WrongQuoteBank);
    }
    if quote_vault.key() != quote_bank.vault {
        return Err(error!(XmarginError::WrongVault).with_pubkeys((quote_vault.key(), quote_bank.vault)));
    }
    quote_bank.accrue(now)?;
    let mut liab_bank = a.liab_bank.load_mut()?;
    let liab_price = strict_price(liab_oracle, &liab_bank, quote_decimals, now)?;
    let quote_price = strict_price(quote_oracle, &quote_bank, quote_decimals, now)?;
    // Quote native paid per native unit of debt taken over, rounded down (the fund pays less).
    let rate = liab_price
        .lo
        .checked_mul_div(
            Fixed::ONE.checked_add(liab_bank.liquidation_fee.get()).map_err(risk_error)?,
            quote_price.hi,
            Rounding::Floor,
        )
        .map_err(risk_error)?;
    let affordable =
        Fixed::from_u64(insurance_held).checked_div(rate, Rounding::Floor).map_err(risk_error)?;
    let took = affordable.to_u64(Rounding::Floor).map_err(risk_error)?.min(owed);
    let paid = Fixed::from_u64(took)
        .checked_mul_floor(rate)
        .and_then(|v| v.to_u64(Rounding::Floor))
        .map_err(risk_error)?
        .min(insurance_held);
    if took == 0 {
        return Ok((liqor_loader.key(), 0));
    }
    let (liab_index, quote_index) = (liab_bank.token_index, quote_bank.token_index);
    {
        let mut liqee = a.liqee.load_mut()?;
        let mut liqor = liqor_loader.load_mut()?;
        if !liqor.is_owner_or_delegate(&authority.key()) {
            return err!(XmarginError::UnauthorizedOwner);
        }
        let no_slot = || error!(XmarginError::TooManyPositions);
        // The liquidatee's debt is repaid; the liquidator owes it instead and is paid in quote tokens.
        liab_bank.deposit_into(
            &mut liqee.token_position_mut_or_open(liab_index).ok_or_else(no_slot)?.shares,
            took,
        )?;
        let taken = liab_bank.withdraw_from(
            &mut liqor.token_position_mut_or_open(liab_index).ok_or_else(no_slot)?.shares,
            took,
        )?;
        if taken.borrowed > 0 {
            liab_bank.check_borrow_limit(now)?;
        }
        if paid > 0 {
            quote_bank.deposit_into(
                &mut liqor.token_position_mut_or_open(quote_index).ok_or_else(no_slot)?.shares,
                paid,
            )?;
        }
    }
    drop(liab_bank);
    drop(quote_bank);
    {
        let liqor = liqor_loader.load()?;
        let ctx_h = HealthContext {
            group: a.group.key(),
            quote_decimals,
            now,
            strict_token: Some(liab_index),
            strict_all: false,
        };
        let init = init_health(&ctx_h, &liqor, ctx.remaining_accounts)?;
        if init.is_negative() {
            return Err(error!(XmarginError::LiquidatorHealthTooLow).with_values((to_quote_native(init), 0)));
        }
    }
    if paid > 0 {
        token::transfer(&a.insurance_vault, quote_vault, &a.group.to_account_info(), paid, &[seeds])?;
    }
    Ok((liqor_loader.key(), took))
}
