use anchor_lang::prelude::*;

use crate::errors::XmarginError;
use crate::events::PauseFlagsSet;
use crate::state::{pause, Group};

#[derive(Accounts)]
pub struct SetPause<'info> {
    #[account(mut, has_one = admin @ XmarginError::UnauthorizedAdmin)]
    pub group: AccountLoader<'info, Group>,
    pub admin: Signer<'info>,
}

/// Sets the group's pause flags (`state::pause`). Repay is never paused.
pub fn handle_set_pause(ctx: Context<SetPause>, flags: u8) -> Result<()> {
    if flags & !pause::ALL != 0 {
        return Err(error!(XmarginError::InvalidPauseFlags).with_values((flags, pause::ALL)));
    }
    let mut group = ctx.accounts.group.load_mut()?;
    let previous = group.pause_flags;
    group.pause_flags = flags;
    emit!(PauseFlagsSet { group: ctx.accounts.group.key(), previous, flags });
    Ok(())
}
