use anchor_lang::prelude::*;
use xmargin_risk::Fixed;

use crate::derivatives::{
    check_price_band, close_if_empty, fill_position, longs, per_native, prepare_position, record_mark,
    refresh_stable_price, update_open_interest, MarkPrint,
};
use crate::errors::XmarginError;
use crate::events::Traded;
use crate::health::derivatives::init_contribution;
use crate::health::portfolio_init::portfolio_init_around_fill;
use crate::health::{
    linear_init_health_from, market_oracle_price, risk_error, split_health_accounts, to_quote_native,
    HealthAccounts, HealthContext, PriceRules,
};
use crate::oracle::{read_pyth, PythReading};
use crate::state::{account_flags, market_status, pause, Group, MarginAccount, Market};
use xmargin_risk::portfolio::PreparedGrid;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct TradeArgs {
    /// Contracts the buyer buys from the seller (≥ the market's minimum size).
    pub size: u64,
    /// Quote native per contract (> 0, inside the market's band).
    pub price: u64,
}

/// Remaining accounts: the buyer's health accounts, then the seller's
/// (`crate::health`), each listing this market for its position.
#[derive(Accounts)]
pub struct Trade<'info> {
    pub group: AccountLoader<'info, Group>,
    #[account(mut, has_one = group @ XmarginError::WrongGroup, has_one = oracle @ XmarginError::WrongOracle)]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: equals the market's oracle (has_one); identity checked on read.
    pub oracle: UncheckedAccount<'info>,
    #[account(mut, has_one = group @ XmarginError::WrongGroup)]
    pub buyer: AccountLoader<'info, MarginAccount>,
    /// The buyer account's owner or delegate.
    pub buyer_authority: Signer<'info>,
    #[account(mut, has_one = group @ XmarginError::WrongGroup)]
    pub seller: AccountLoader<'info, MarginAccount>,
    /// The seller account's owner or delegate.
    pub seller_authority: Signer<'info>,
}

/// A block trade agreed off-chain: `size` contracts at `price`, signed by
/// both accounts' owners or delegates.
pub fn handle_trade<'info>(ctx: Context<'info, Trade<'info>>, args: TradeArgs) -> Result<()> {
    if ctx.accounts.buyer.key() == ctx.accounts.seller.key() {
        return err!(XmarginError::SelfTrade);
    }
    let sides = TradeSides {
        group: &ctx.accounts.group,
        market: &ctx.accounts.market,
        oracle: &ctx.accounts.oracle,
        buyer: &ctx.accounts.buyer,
        seller: &ctx.accounts.seller,
        remaining: ctx.remaining_accounts,
    };
    {
        let buyer = ctx.accounts.buyer.load()?;
        let seller = ctx.accounts.seller.load()?;
        if !buyer.is_owner_or_delegate(ctx.accounts.buyer_authority.key) {
            return Err(error!(XmarginError::UnauthorizedOwner)
                .with_pubkeys((ctx.accounts.buyer_authority.key(), buyer.owner)));
        }
        if !seller.is_owner_or_delegate(ctx.accounts.seller_authority.key) {
            return Err(error!(XmarginError::UnauthorizedOwner)
                .with_pubkeys((ctx.accounts.seller_authority.key(), seller.owner)));
        }
    }
    clear_trade(&sides, args, None)
}

/// The accounts of a fill between two margin accounts.
pub struct TradeSides<'a, 'info> {
    pub group: &'a AccountLoader<'info, Group>,
    pub market: &'a AccountLoader<'info, Market>,
    pub oracle: &'a UncheckedAccount<'info>,
    pub buyer: &'a AccountLoader<'info, MarginAccount>,
    pub seller: &'a AccountLoader<'info, MarginAccount>,
    pub remaining: &'info [AccountInfo<'info>],
}

/// Clears `args.size` contracts at `args.price` from seller to buyer, with
/// every check of a trade (authorisation is the caller's):
/// 1. trading allowed: group not paused, market active and not expired;
/// 2. size and price: minimum size, positive price inside the oracle band;
/// 3. funding settled into both positions, slots opened;
/// 4. health before, the fill, open interest within the cap, health after:
///    each side keeps Init ≥ 0 or does not lower it;
/// 5. the time-weighted mark and the event.
pub fn clear_trade(sides: &TradeSides, args: TradeArgs, quote_nonce: Option<u64>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let quote_decimals = check_trading_allowed(sides.group, sides.market, now)?;
    let mut buyer = sides.buyer.load_mut()?;
    let mut seller = sides.seller.load_mut()?;
    // Checks, funding and slots with the market borrowed; released while the
    // health accounts (which list this market) are read.
    let (hctx, oracle, reading, slots) = {
        let mut market = sides.market.load_mut()?;
        market.apply_due_params(now);
        let hctx = HealthContext {
            group: sides.group.key(),
            quote_decimals,
            now,
            rules: PriceRules::trade(market.market_index),
            grid: crate::options::group_grid(sides.group, now)?,
        };
        if args.size < market.min_size {
            return Err(error!(XmarginError::TradeSizeTooSmall).with_values((args.size, market.min_size)));
        }
        if args.price == 0 {
            return err!(XmarginError::ZeroAmount);
        }
        let reading = read_pyth(sides.oracle, &market.feed_id)?;
        let oracle = market_oracle_price(&hctx, &market, &reading)?;
        check_price_band(&market, &oracle, args.price, now, &hctx.grid)?;
        let slots = (prepare_position(&mut buyer, &mut market)?, prepare_position(&mut seller, &mut market)?);
        (hctx, oracle, reading, slots)
    };
    let (buyer_slot, seller_slot) = slots;
    let size = i64::try_from(args.size).map_err(|_| error!(XmarginError::MathOverflow))?;
    let buyer_health = split_health_accounts(&buyer, sides.remaining, false)?;
    let seller_health = split_health_accounts(&seller, &sides.remaining[buyer_health.len()..], true)?;
    // Init health alone (no cache: two accounts of 16 + 16 positions would
    // not fit the heap). The fill changes only this market's contribution, so
    // after = before − its contribution before + its contribution after:
    // exactly the sum recomputed. A portfolio-mode side builds its cache
    // only when linear mode would leave it below 0 (`SideHealth`).
    let mut sides_health = {
        let market = sides.market.load()?;
        let fill = |slot, delta| Fill { market: &market, reading: &reading, slot, delta, price: args.price };
        // The portfolio grid, built at most once for both sides.
        let mut grid = None;
        (
            SideHealth::before(&hctx, &buyer, &buyer_health, fill(buyer_slot, size), &mut grid)?,
            SideHealth::before(&hctx, &seller, &seller_health, fill(seller_slot, -size), &mut grid)?,
        )
    };
    let before = (sides_health.0.init()?, sides_health.1.init()?);

    let mut market = sides.market.load_mut()?;
    let base_before =
        longs(buyer.derivatives[buyer_slot].base_contracts, seller.derivatives[seller_slot].base_contracts);
    let buyer_fill = fill_position(&mut buyer.derivatives[buyer_slot], size, args.price)?;
    let seller_fill = fill_position(&mut seller.derivatives[seller_slot], -size, args.price)?;
    let base_after =
        longs(buyer.derivatives[buyer_slot].base_contracts, seller.derivatives[seller_slot].base_contracts);
    let cap = market.risk_params(now).open_interest_cap;
    update_open_interest(&mut market, base_before, base_after, cap)?;

    let after = (sides_health.0.after()?, sides_health.1.after()?);
    check_side(before.0, after.0)?;
    check_side(before.1, after.1)?;

    let (buyer_base_after, seller_base_after) =
        (buyer.derivatives[buyer_slot].base_contracts, seller.derivatives[seller_slot].base_contracts);
    for (account, h) in [(&mut *buyer, after.0), (&mut *seller, after.1)] {
        if !h.is_negative() {
            account.flags &= !account_flags::BEING_LIQUIDATED; // Init ≥ 0 implies LiquidationEnd ≥ 0
        }
        close_if_empty(account, &mut market)?;
    }
    if !market.is_option() {
        // An option's price is no mark of the underlying: options have no funding.
        let trade_price = per_native(&market, args.price)?;
        record_mark(
            &mut market,
            Some(MarkPrint { price: trade_price, contracts: args.size }),
            oracle.lo,
            now,
        )?;
    }
    refresh_stable_price(&mut market, oracle.lo, now)?;
    emit!(Traded {
        market: sides.market.key(),
        market_index: market.market_index,
        buyer: sides.buyer.key(),
        seller: sides.seller.key(),
        size: args.size,
        price: args.price,
        buyer_realized: buyer_fill.realized,
        seller_realized: seller_fill.realized,
        buyer_base_after,
        seller_base_after,
        open_interest: market.open_interest,
        buyer_init_health_after: to_quote_native(after.0),
        seller_init_health_after: to_quote_native(after.1),
        quote_nonce,
    });
    Ok(())
}

/// One side of a fill, for its health check.
struct Fill<'a> {
    market: &'a Market,
    reading: &'a PythReading,
    slot: usize,
    /// Contracts the side buys (< 0: sells).
    delta: i64,
    price: u64,
}

/// One side's Init health around the fill, computed before it on a copy
/// of the position. Linear mode sums contributions, so the fill shifts it
/// by the market's change. Portfolio mode nets per underlying, from one
/// pass over the positions (`crate::health::portfolio_init`): a side whose
/// linear Init after the fill is ≥ 0 passes on that lower bound (portfolio
/// mode never charges more; the event reports the bound); else its netted
/// books are valued with the position before and after the fill.
enum SideHealth {
    Linear { before: Fixed, after: Fixed },
}

impl SideHealth {
    fn before<'a, 'info>(
        hctx: &HealthContext,
        account: &MarginAccount,
        health: &HealthAccounts<'a, 'info>,
        fill: Fill,
        grid: &mut Option<PreparedGrid>,
    ) -> Result<SideHealth> {
        let was = &account.derivatives[fill.slot];
        let mut now = *was;
        fill_position(&mut now, fill.delta, fill.price)?;
        if account.is_portfolio_mode() {
            // No cache: two accounts of 16 + 16 positions fit the heap.
            let around = portfolio_init_around_fill(
                hctx,
                account,
                health,
                fill.market,
                fill.reading,
                was,
                &now,
                grid,
            )?;
            if let Some((before, after)) = around {
                return Ok(SideHealth::Linear { before, after });
            }
            // An option at its bounds: linear mode, below.
        }
        let before = linear_init_health_from(hctx, account, health)?;
        let old = init_contribution(hctx, fill.market, fill.reading, was)?;
        let new = init_contribution(hctx, fill.market, fill.reading, &now)?;
        let after = before.checked_sub(old).and_then(|h| h.checked_add(new)).map_err(risk_error)?;
        Ok(SideHealth::Linear { before, after })
    }

    fn init(&self) -> Result<Fixed> {
        match self {
            SideHealth::Linear { before, .. } => Ok(*before),
        }
    }

    /// Init health after the fill.
    fn after(&mut self) -> Result<Fixed> {
        match self {
            SideHealth::Linear { after, .. } => Ok(*after),
        }
    }
}

/// A side must end at Init ≥ 0, or not below where it started.
fn check_side(before: Fixed, after: Fixed) -> Result<()> {
    if after.is_negative() && after < before {
        return Err(error!(XmarginError::TradeHealthTooLow)
            .with_values((to_quote_native(before), to_quote_native(after))));
    }
    Ok(())
}

/// Trading is not paused, the market is active and not expired; returns the
/// group's quote decimals.
pub fn check_trading_allowed(
    group: &AccountLoader<Group>,
    market: &AccountLoader<Market>,
    now: i64,
) -> Result<u8> {
    let group = group.load()?;
    if group.is_paused(pause::TRADING) {
        return err!(XmarginError::GroupPaused);
    }
    let market = market.load()?;
    if market.status != market_status::ACTIVE || market.is_expired(now) {
        return Err(error!(XmarginError::MarketExpired).with_values((now, market.expiry_ts)));
    }
    Ok(group.quote_decimals)
}
