use anchor_lang::prelude::*;
use xmargin_risk::{Fixed, Rounding};

use crate::errors::XmarginError;
use crate::events::BankruptcyResolved;
use crate::health::{risk_error, HealthContext, PriceRules};
use crate::liquidation::{check_liquidator, check_liquidator_health, quote_decimals_if_unpaused};
use crate::oracle::{read_pyth, PythReading};
use crate::state::{Bank, Group, MarginAccount, StoredFixed, GROUP_SEED};
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
/// positive balance anywhere, no derivative position), clears its debt in
/// `liab_bank`:
/// - debt in the quote token: the insurance fund repays what it can, one for one;
/// - debt in another token while the fund holds at least one whole quote
///   token: a liquidator (the optional accounts, and its health accounts as
///   remaining accounts, quote and liability tokens opened) takes over what
///   the fund can pay for, receiving fund quote tokens at the oracle price
///   plus the liability bank's liquidation fee, and must keep Init ≥ 0.
///   Below that (an empty fund, or a donated dust amount) no liquidator is needed.
///
/// The rest is socialised across the bank's depositors by lowering the
/// deposit index (never below its floor); a loss beyond their deposits is
/// charged to the bank's collected fees. Paused with liquidations.
pub fn handle_resolve_bankruptcy<'info>(ctx: Context<'info, ResolveBankruptcy<'info>>) -> Result<()> {
    let quote_decimals = quote_decimals_if_unpaused(&ctx.accounts.group)?;
    let group = GroupSigner::of(&ctx)?;
    let now = Clock::get()?.unix_timestamp;
    let (token_index, is_quote) = {
        let mut bank = ctx.accounts.liab_bank.load_mut()?;
        bank.accrue(now)?;
        (bank.token_index, bank.mint == group.quote_mint)
    };
    let owed_native = bankrupt_debt(&ctx, token_index)?;
    let insurance_held = token::token_account(&ctx.accounts.insurance_vault)?.amount;
    let (liqor_key, liqor_took) = if !is_quote && insurance_held >= min_insurance_takeover(quote_decimals) {
        let seeds = group.seeds();
        insured_takeover(&ctx, owed_native, insurance_held, &group, quote_decimals, now, &seeds)?
    } else {
        (Pubkey::default(), 0)
    };
    let insurance_available = if is_quote { insurance_held } else { 0 };
    let write_off = write_off_debt(&ctx, token_index, insurance_available)?;
    if write_off.insurance_paid > 0 {
        token::transfer(
            &ctx.accounts.insurance_vault,
            &ctx.accounts.vault,
            &ctx.accounts.group.to_account_info(),
            write_off.insurance_paid,
            &[&group.seeds()],
        )?;
    }
    emit!(BankruptcyResolved {
        account: ctx.accounts.liqee.key(),
        bank: ctx.accounts.liab_bank.key(),
        token_index,
        owed: owed_native,
        insurance_paid: write_off.insurance_paid,
        socialized: write_off.socialized.into(),
        unabsorbed: write_off.unabsorbed.into(),
        charged_to_fees: write_off.charged_to_fees.into(),
        deposit_index: write_off.deposit_index,
        liqor: liqor_key,
        liqor_took,
    });
    Ok(())
}

/// Smallest fund balance for which a non-quote debt needs a liquidator: one
/// whole quote token, so a dust donation cannot force every resolution
/// through the takeover path.
pub fn min_insurance_takeover(quote_decimals: u8) -> u64 {
    10u64.saturating_pow(u32::from(quote_decimals))
}

/// The group PDA as signer of its vaults, and the group's quote mint.
struct GroupSigner {
    creator: Pubkey,
    group_num: [u8; 4],
    bump: [u8; 1],
    quote_mint: Pubkey,
}

impl GroupSigner {
    fn of(ctx: &Context<ResolveBankruptcy>) -> Result<Self> {
        let g = ctx.accounts.group.load()?;
        if ctx.accounts.insurance_vault.key() != g.insurance_vault {
            return Err(error!(XmarginError::WrongInsuranceVault)
                .with_pubkeys((ctx.accounts.insurance_vault.key(), g.insurance_vault)));
        }
        Ok(GroupSigner {
            creator: g.creator,
            group_num: g.group_num.to_le_bytes(),
            bump: [g.bump],
            quote_mint: g.quote_mint,
        })
    }

    fn seeds(&self) -> [&[u8]; 4] {
        [GROUP_SEED, self.creator.as_ref(), &self.group_num, &self.bump]
    }
}

/// The account's debt in the bank (native, rounded up), refusing an account
/// that still holds something to seize or owes nothing here.
fn bankrupt_debt(ctx: &Context<ResolveBankruptcy>, token_index: u16) -> Result<u64> {
    let liqee = ctx.accounts.liqee.load()?;
    if liqee.has_assets() {
        return err!(XmarginError::NotBankrupt);
    }
    let shares = liqee.token_position(token_index).map(|p| p.shares.get()).unwrap_or_default();
    if !shares.is_negative() {
        return err!(XmarginError::NotBankrupt);
    }
    ctx.accounts.liab_bank.load()?.native_debt(shares)
}

/// What writing the remaining debt off did.
struct WriteOff {
    insurance_paid: u64,
    socialized: Fixed,
    unabsorbed: Fixed,
    charged_to_fees: Fixed,
    deposit_index: StoredFixed,
}

/// Clears the account's remaining debt in the bank: the part the fund covers
/// (`insurance_available` quote native, quote debt only) is repaid with fund
/// tokens, the rest written off against the depositors and then the fees.
fn write_off_debt(
    ctx: &Context<ResolveBankruptcy>,
    token_index: u16,
    insurance_available: u64,
) -> Result<WriteOff> {
    let mut liqee = ctx.accounts.liqee.load_mut()?;
    let mut bank = ctx.accounts.liab_bank.load_mut()?;
    let shares = liqee.token_position(token_index).map(|p| p.shares.get()).unwrap_or_default();
    let res = xmargin_risk::liquidation::resolve_bankruptcy(
        Fixed::from_u64(bank.native_debt(shares)?),
        Fixed::ONE,
        Fixed::from_u64(insurance_available),
        bank.deposit_shares.get(),
        bank.deposit_index.get(),
    )
    .map_err(risk_error)?;
    if shares.is_negative() {
        let borrow_shares = bank.borrow_shares.get().checked_add(shares).map_err(risk_error)?;
        bank.borrow_shares.set(borrow_shares.positive_part());
        let position =
            liqee.token_position_mut_or_open(token_index).ok_or(error!(XmarginError::TooManyPositions))?;
        position.shares.set(Fixed::ZERO);
    }
    let charged_to_fees = bank.absorb_loss(res.new_deposit_index, res.unabsorbed)?;
    liqee.close_token_position_if_empty(token_index);
    liqee.refresh_flags();
    Ok(WriteOff {
        insurance_paid: res.insurance_paid.to_u64(Rounding::Ceil).map_err(risk_error)?,
        socialized: res.socialized,
        unabsorbed: res.unabsorbed,
        charged_to_fees,
        deposit_index: bank.deposit_index,
    })
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
/// `insurance_held` fund quote tokens at `takeover_rate`. Returns the
/// liquidator and the debt it took (native).
fn insured_takeover<'info>(
    ctx: &Context<'info, ResolveBankruptcy<'info>>,
    owed: u64,
    insurance_held: u64,
    group: &GroupSigner,
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
    check_liquidator(&a.liqee.key(), &liqor_loader.key(), &*liqor_loader.load()?, &authority.key())?;
    let mut quote_bank = quote_loader.load_mut()?;
    if quote_bank.mint != group.quote_mint || quote_loader.key() == a.liab_bank.key() {
        return err!(XmarginError::WrongQuoteBank);
    }
    if quote_vault.key() != quote_bank.vault {
        return Err(error!(XmarginError::WrongVault).with_pubkeys((quote_vault.key(), quote_bank.vault)));
    }
    quote_bank.accrue(now)?;
    let mut liab_bank = a.liab_bank.load_mut()?;
    let rate = takeover_rate(&liab_bank, &quote_bank, liab_oracle, quote_oracle, quote_decimals, now)?;
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
    {
        let mut liqee = a.liqee.load_mut()?;
        let mut liqor = liqor_loader.load_mut()?;
        let no_slot = || error!(XmarginError::TooManyPositions);
        let (liab_index, quote_index) = (liab_bank.token_index, quote_bank.token_index);
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
    let liab_index = liab_bank.token_index;
    drop(liab_bank);
    drop(quote_bank);
    let hctx = HealthContext {
        group: a.group.key(),
        quote_decimals,
        now,
        rules: PriceRules::risk_check(liab_index),
        grid: crate::options::group_grid(&a.group, now)?,
    };
    check_liquidator_health(&hctx, liab_index, &mut *liqor_loader.load_mut()?, ctx.remaining_accounts)?;
    if paid > 0 {
        token::transfer(&a.insurance_vault, quote_vault, &a.group.to_account_info(), paid, &[seeds])?;
    }
    Ok((liqor_loader.key(), took))
}

/// Quote native the fund pays per native unit of debt taken over:
/// `liab oracle low · (1 + liquidation fee) / quote oracle high`, rounded
/// down (the fund pays the least); both prices must be fresh and certain.
fn takeover_rate(
    liab_bank: &Bank,
    quote_bank: &Bank,
    liab_oracle: &AccountInfo,
    quote_oracle: &AccountInfo,
    quote_decimals: u8,
    now: i64,
) -> Result<Fixed> {
    let liab_price = strict_price(liab_oracle, liab_bank, quote_decimals, now)?;
    let quote_price = strict_price(quote_oracle, quote_bank, quote_decimals, now)?;
    liab_price
        .lo
        .checked_mul_div(
            Fixed::ONE.checked_add(liab_bank.liquidation_fee.get()).map_err(risk_error)?,
            quote_price.hi,
            Rounding::Floor,
        )
        .map_err(risk_error)
}
