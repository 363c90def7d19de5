use anchor_lang::prelude::*;

use super::RiskGridParams;

/// PDA seed prefix of [`Group`]: `[GROUP_SEED, creator, group_num (u32 LE)]`.
pub const GROUP_SEED: &[u8] = b"group";
/// PDA seed prefix of the insurance-fund vault: `[INSURANCE_VAULT_SEED, group]`.
pub const INSURANCE_VAULT_SEED: &[u8] = b"insurance_vault";
/// Upper bound on the delay before a risk-loosening parameter change applies.
pub const MAX_LOOSEN_DELAY_SECS: u32 = 30 * 24 * 60 * 60;

/// Bits of [`Group::pause_flags`]: each pauses one class of instruction.
pub mod pause {
    pub const DEPOSITS: u8 = 1 << 0;
    pub const WITHDRAWALS: u8 = 1 << 1;
    pub const LIQUIDATIONS: u8 = 1 << 2;
    pub const TRADING: u8 = 1 << 3;
    pub const ALL: u8 = DEPOSITS | WITHDRAWALS | LIQUIDATIONS | TRADING;
}

/// The root of a margin venue: every bank, market and margin account belongs
/// to exactly one group. The group PDA is the authority of all its vaults, so
/// its seeds use the immutable `creator`, never the (transferable) `admin`.
#[account(zero_copy)]
#[derive(Debug)]
pub struct Group {
    /// Who may list banks and markets and change risk parameters.
    pub admin: Pubkey,
    /// The wallet that created the group (PDA seed; never changes).
    pub creator: Pubkey,
    /// Quote token (USDC-like): health and PnL are expressed in its native units.
    pub quote_mint: Pubkey,
    /// Token account of `quote_mint` owned by the group PDA: the insurance fund.
    pub insurance_vault: Pubkey,
    /// Lets one creator run several groups (PDA seed).
    pub group_num: u32,
    /// Seconds before a risk-loosening parameter change takes effect.
    pub loosen_delay_secs: u32,
    /// Banks listed so far; the next bank gets this index.
    pub bank_count: u16,
    /// Markets listed so far; the next market gets this index.
    pub market_count: u16,
    pub bump: u8,
    pub insurance_vault_bump: u8,
    pub quote_decimals: u8,
    /// See [`pause`].
    pub pause_flags: u8,
    /// When `pending_risk_grid` comes into force (0: nothing pending).
    pub pending_risk_grid_ts: i64,
    /// The scenario grid, array freshness rule and portfolio parameters in
    /// force (`crate::options`; `update_risk_grid`).
    pub risk_grid: RiskGridParams,
    /// A loosening of `risk_grid` waiting for `pending_risk_grid_ts`.
    pub pending_risk_grid: RiskGridParams,
    pub reserved: [u8; 8],
}

const _: () = assert!(core::mem::size_of::<Group>() == 4 * 32 + 4 + 4 + 2 + 2 + 4 + 8 + 2 * 56 + 8);
const _: () = assert!(core::mem::size_of::<Group>() == Group::SIZE);
const _: () = assert!(core::mem::align_of::<Group>() <= 8);

impl Group {
    /// Byte size without Anchor's 8-byte discriminator.
    pub const SIZE: usize = 272;

    pub fn is_paused(&self, what: u8) -> bool {
        self.pause_flags & what != 0
    }

    /// The grid parameters in force at `now`: the pending loosening once due
    /// (read by every health check; written by `update_risk_grid`). A group
    /// created before the grid was stored (those bytes were reserved, zero)
    /// reads the defaults every group is created with.
    pub fn risk_grid_at(&self, now: i64) -> RiskGridParams {
        if self.pending_risk_grid_ts != 0 && now >= self.pending_risk_grid_ts {
            self.pending_risk_grid
        } else if self.risk_grid.grid_len == 0 {
            crate::options::DEFAULT_RISK_GRID
        } else {
            self.risk_grid
        }
    }

    /// Moves a due pending grid into force.
    pub fn apply_due_risk_grid(&mut self, now: i64) {
        if self.pending_risk_grid_ts != 0 && now >= self.pending_risk_grid_ts {
            self.risk_grid = self.pending_risk_grid;
            self.pending_risk_grid = bytemuck::Zeroable::zeroed();
            self.pending_risk_grid_ts = 0;
        }
    }
}
