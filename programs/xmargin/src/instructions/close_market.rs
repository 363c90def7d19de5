use anchor_lang::prelude::*;

use crate::errors::XmarginError;
use crate::events::MarketClosed;
use crate::state::{market_status, Group, Market};

#[derive(Accounts)]
pub struct CloseMarket<'info> {
    #[account(has_one = admin @ XmarginError::UnauthorizedAdmin)]
    pub group: AccountLoader<'info, Group>,
    pub admin: Signer<'info>,
    #[account(mut, has_one = group @ XmarginError::WrongGroup, close = rent_to)]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: receives the market's rent.
    #[account(mut)]
    pub rent_to: UncheckedAccount<'info>,
}

/// Admin: closes a settled dated future or option once no account holds a position
/// slot in it (open interest and unsettled PnL all gone). Its index is
/// never reused.
pub fn handle_close_market(ctx: Context<CloseMarket>) -> Result<()> {
    let market = ctx.accounts.market.load()?;
    if market.status != market_status::SETTLED {
        return Err(
            error!(XmarginError::MarketNotSettled).with_values((market.status, market_status::SETTLED))
        );
    }
    if market.position_count != 0 || market.open_interest != 0 {
        return Err(
            error!(XmarginError::MarketNotEmpty).with_values((market.position_count, market.open_interest))
        );
    }
    emit!(MarketClosed { market: ctx.accounts.market.key(), market_index: market.market_index });
    Ok(())
}
