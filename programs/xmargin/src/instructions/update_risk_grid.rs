use anchor_lang::prelude::*;

use crate::errors::XmarginError;
use crate::events::RiskGridUpdated;
use crate::state::{Group, RiskGridParams, MAX_GRID_PRICE_SHOCKS, MAX_GRID_VOL_SHOCKS};

/// The whole new setting (`crate::options`; bps, 10,000 = 100 %).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct UpdateRiskGridArgs {
    /// Relative price shocks, strictly increasing, 1..=10 of them.
    pub price_shocks_bps: Vec<i16>,
    /// Vol shocks at the 30-day tenor, strictly increasing, 1..=4 of them.
    pub vol_shocks_bps: Vec<i16>,
    /// Portfolio loss scales `[Init, LiquidationEnd, Maint]`.
    pub shock_scale_bps: [u16; 3],
    /// Portfolio contingencies `[Init, LiquidationEnd, Maint]`.
    pub floor_bps: [u16; 3],
    /// Risk-array max age (seconds).
    pub max_age_secs: u32,
    /// Risk-array max drift of the oracle from the array's spot.
    pub max_drift_bps: u16,
}

#[derive(Accounts)]
pub struct UpdateRiskGrid<'info> {
    #[account(mut, has_one = admin @ XmarginError::UnauthorizedAdmin)]
    pub group: AccountLoader<'info, Group>,
    /// The group's admin (its risk authority).
    pub admin: Signer<'info>,
}

/// Sets the group's scenario grid, risk-array freshness rule and portfolio
/// parameters (`crate::options`):
/// 1. a due pending change applied first;
/// 2. within the bounds (`RiskGridParams::validate`), the grid built once
///    for its id and length;
/// 3. the tightening part (`RiskGridParams::tightest`) applies at once; the
///    whole target, if it loosens anything, waits the group's
///    `loosen_delay_secs` as `pending_risk_grid` (a newer update replaces a
///    pending one; an update that only tightens clears it).
///
/// A grid in force with a new id makes every option market's array
/// `RiskArrayOtherGrid` until `update_risk_array` recomputes it.
pub fn handle_update_risk_grid(ctx: Context<UpdateRiskGrid>, args: UpdateRiskGridArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let mut target = to_params(&args)?;
    target.validate()?;
    let grid = target.grid()?;
    target.grid_id = grid.id();
    target.grid_len = u8::try_from(grid.len()).map_err(|_| error!(XmarginError::MathOverflow))?;

    let mut group = ctx.accounts.group.load_mut()?;
    group.apply_due_risk_grid(now);
    let tightest = group.risk_grid_at(now).tightest(&target);
    group.risk_grid = tightest;
    let activation_ts = if tightest == target {
        group.pending_risk_grid = bytemuck::Zeroable::zeroed();
        group.pending_risk_grid_ts = 0;
        0
    } else {
        let at =
            now.checked_add(i64::from(group.loosen_delay_secs)).ok_or(error!(XmarginError::MathOverflow))?;
        group.pending_risk_grid = target;
        group.pending_risk_grid_ts = at;
        at
    };
    emit!(RiskGridUpdated {
        group: ctx.accounts.group.key(),
        grid_id: tightest.grid_id,
        grid_len: tightest.grid_len,
        target_grid_id: target.grid_id,
        activation_ts,
        args,
    });
    Ok(())
}

/// The stored form of `args` (grid id and length still to fill); too many
/// shocks is `RiskGridShockCount`.
fn to_params(args: &UpdateRiskGridArgs) -> Result<RiskGridParams> {
    let (np, nv) = (args.price_shocks_bps.len(), args.vol_shocks_bps.len());
    if np > MAX_GRID_PRICE_SHOCKS || nv > MAX_GRID_VOL_SHOCKS {
        return Err(error!(XmarginError::RiskGridShockCount).with_values((np, nv)));
    }
    let mut p: RiskGridParams = bytemuck::Zeroable::zeroed();
    p.price_shocks_bps[..np].copy_from_slice(&args.price_shocks_bps);
    p.vol_shocks_bps[..nv].copy_from_slice(&args.vol_shocks_bps);
    // Both fit in a u8: checked against the capacities above.
    p.price_shock_count = np as u8;
    p.vol_shock_count = nv as u8;
    p.shock_scale_bps = args.shock_scale_bps;
    p.floor_bps = args.floor_bps;
    p.max_age_secs = args.max_age_secs;
    p.max_drift_bps = args.max_drift_bps;
    Ok(p)
}

impl UpdateRiskGridArgs {
    /// The arguments that set `p` (to change some fields of the grid in force).
    pub fn from_params(p: &RiskGridParams) -> UpdateRiskGridArgs {
        UpdateRiskGridArgs {
            price_shocks_bps: p.price_shocks().to_vec(),
            vol_shocks_bps: p.vol_shocks().to_vec(),
            shock_scale_bps: p.shock_scale_bps,
            floor_bps: p.floor_bps,
            max_age_secs: p.max_age_secs,
            max_drift_bps: p.max_drift_bps,
        }
    }
}
