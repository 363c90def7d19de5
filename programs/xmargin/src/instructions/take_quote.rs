use anchor_lang::prelude::*;

use super::trade::{clear_trade, TradeArgs, TradeSides};
use crate::errors::XmarginError;
use crate::quote::{preceding_ed25519_signer, quote_message, quote_side, spend_nonce, QuoteTerms};
use crate::state::{Group, MarginAccount, Market};

/// Remaining accounts: the buyer's health accounts, then the seller's (the
/// maker is the buyer when the quote says it buys). Must follow an Ed25519
/// instruction carrying the maker's signature of the quote (`crate::quote`).
#[derive(Accounts)]
pub struct TakeQuote<'info> {
    pub group: AccountLoader<'info, Group>,
    #[account(mut, has_one = group @ XmarginError::WrongGroup, has_one = oracle @ XmarginError::WrongOracle)]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: equals the market's oracle (has_one); identity checked on read.
    pub oracle: UncheckedAccount<'info>,
    #[account(mut, has_one = group @ XmarginError::WrongGroup)]
    pub maker: AccountLoader<'info, MarginAccount>,
    #[account(mut, has_one = group @ XmarginError::WrongGroup)]
    pub taker: AccountLoader<'info, MarginAccount>,
    /// The taker account's owner or delegate.
    pub taker_authority: Signer<'info>,
    /// CHECK: address-checked against the instructions sysvar when read.
    pub instructions: UncheckedAccount<'info>,
}

/// The taker fills a maker's signed quote in full, alone:
/// 1. the taker's signer is its owner or delegate, the accounts differ;
/// 2. the quote has not expired (`slot ≤ expiry_slot`);
/// 3. the preceding Ed25519 instruction signs exactly this quote's message,
///    by the maker account's owner or delegate;
/// 4. the nonce is spent (a quote fills once);
/// 5. the fill clears as a block trade (`trade::clear_trade`: band, caps,
///    pause, expiry, both sides' health).
pub fn handle_take_quote<'info>(ctx: Context<'info, TakeQuote<'info>>, terms: QuoteTerms) -> Result<()> {
    let a = &ctx.accounts;
    if a.maker.key() == a.taker.key() {
        return err!(XmarginError::SelfTrade);
    }
    {
        let taker = a.taker.load()?;
        if !taker.is_owner_or_delegate(a.taker_authority.key) {
            return Err(
                error!(XmarginError::UnauthorizedOwner).with_pubkeys((a.taker_authority.key(), taker.owner))
            );
        }
    }
    let slot = Clock::get()?.slot;
    if slot > terms.expiry_slot {
        return Err(error!(XmarginError::QuoteExpired).with_values((terms.expiry_slot, slot)));
    }
    if terms.side != quote_side::MAKER_BUYS && terms.side != quote_side::MAKER_SELLS {
        return Err(
            error!(XmarginError::QuoteSignatureInvalid).with_values((terms.side, quote_side::MAKER_SELLS))
        );
    }
    let message = quote_message(&a.group.key(), &a.market.key(), &a.maker.key(), &terms);
    let signer = preceding_ed25519_signer(&a.instructions, &message)?;
    {
        let mut maker = a.maker.load_mut()?;
        if !maker.is_owner_or_delegate(&signer) {
            return Err(error!(XmarginError::QuoteSignatureInvalid).with_pubkeys((signer, maker.owner)));
        }
        spend_nonce(&mut maker, terms.nonce)?;
    }
    let (buyer, seller) =
        if terms.side == quote_side::MAKER_BUYS { (&a.maker, &a.taker) } else { (&a.taker, &a.maker) };
    let sides = TradeSides {
        group: &a.group,
        market: &a.market,
        oracle: &a.oracle,
        buyer,
        seller,
        remaining: ctx.remaining_accounts,
    };
    clear_trade(&sides, TradeArgs { size: terms.size, price: terms.price }, Some(terms.nonce))
}
