use anchor_lang::prelude::*;
use xmargin_risk::interest::{BankIndices, InterestCurve};
use xmargin_risk::weights::{TokenWeights, WeightScaling};
use xmargin_risk::{Fixed, RiskResult};

use super::StoredFixed;

/// PDA seed prefix of [`Bank`]: `[BANK_SEED, group, token_index (u16 LE)]`.
pub const BANK_SEED: &[u8] = b"bank";
/// PDA seed prefix of a bank's vault: `[BANK_VAULT_SEED, bank]`.
pub const BANK_VAULT_SEED: &[u8] = b"bank_vault";

/// The risk parameters an admin can change, subject to the loosening delay.
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct BankRiskParams {
    pub init_asset_weight: StoredFixed,
    pub maint_asset_weight: StoredFixed,
    pub liq_end_asset_weight: StoredFixed,
    pub init_liab_weight: StoredFixed,
    pub maint_liab_weight: StoredFixed,
    pub liq_end_liab_weight: StoredFixed,
    /// Ceiling on total deposits (native units).
    pub deposit_cap: u64,
    /// Ceiling on total borrows (native units).
    pub borrow_limit: u64,
    /// Total-deposits value (quote native) above which the Init asset weight scales down; 0 = never.
    pub deposit_weight_scale_start: u64,
    /// Total-borrows value (quote native) above which the Init liability weight scales up; 0 = never.
    pub borrow_weight_scale_start: u64,
}

const _: () = assert!(core::mem::size_of::<BankRiskParams>() == 6 * 16 + 4 * 8);

impl BankRiskParams {
    pub fn weights(&self) -> TokenWeights {
        TokenWeights {
            init_asset: self.init_asset_weight.get(),
            maint_asset: self.maint_asset_weight.get(),
            liq_end_asset: self.liq_end_asset_weight.get(),
            init_liab: self.init_liab_weight.get(),
            maint_liab: self.maint_liab_weight.get(),
            liq_end_liab: self.liq_end_liab_weight.get(),
        }
    }

    pub fn scaling(&self) -> WeightScaling {
        WeightScaling {
            deposit_scale_start: Fixed::from_u64(self.deposit_weight_scale_start),
            borrow_scale_start: Fixed::from_u64(self.borrow_weight_scale_start),
        }
    }

    /// Field-wise the more conservative of `self` and `other`: lower asset
    /// weights, higher liability weights, lower caps and later (smaller)
    /// scaling thresholds. What a change may apply at once.
    pub fn tightest(&self, other: &BankRiskParams) -> BankRiskParams {
        let lo = |a: StoredFixed, b: StoredFixed| if a.get() <= b.get() { a } else { b };
        let hi = |a: StoredFixed, b: StoredFixed| if a.get() >= b.get() { a } else { b };
        // A scale start of 0 disables scaling, which is the loosest setting.
        let earliest = |a: u64, b: u64| match (a, b) {
            (0, x) | (x, 0) => x,
            (x, y) => x.min(y),
        };
        BankRiskParams {
            init_asset_weight: lo(self.init_asset_weight, other.init_asset_weight),
            maint_asset_weight: lo(self.maint_asset_weight, other.maint_asset_weight),
            liq_end_asset_weight: lo(self.liq_end_asset_weight, other.liq_end_asset_weight),
            init_liab_weight: hi(self.init_liab_weight, other.init_liab_weight),
            maint_liab_weight: hi(self.maint_liab_weight, other.maint_liab_weight),
            liq_end_liab_weight: hi(self.liq_end_liab_weight, other.liq_end_liab_weight),
            deposit_cap: self.deposit_cap.min(other.deposit_cap),
            borrow_limit: self.borrow_limit.min(other.borrow_limit),
            deposit_weight_scale_start: earliest(
                self.deposit_weight_scale_start,
                other.deposit_weight_scale_start,
            ),
            borrow_weight_scale_start: earliest(
                self.borrow_weight_scale_start,
                other.borrow_weight_scale_start,
            ),
        }
    }
}

/// One collateral token of a group: its shared vault, oracle, risk parameters,
/// interest curve and the deposit/borrow share totals and indices.
///
/// Balances are stored as shares: a position's native amount is
/// `shares · deposit_index` (deposits, rounded down) or `shares · borrow_index`
/// (borrows, rounded up), so accruing interest only touches the two indices.
#[account(zero_copy)]
#[derive(Debug)]
pub struct Bank {
    pub group: Pubkey,
    pub mint: Pubkey,
    /// PDA token account holding every user's deposits of `mint`; authority = group PDA.
    pub vault: Pubkey,
    /// The Pyth `PriceUpdateV2` account read for this bank.
    pub oracle: Pubkey,
    /// Pyth feed id the oracle account must carry.
    pub feed_id: [u8; 32],

    /// Parameters in force.
    pub risk: BankRiskParams,
    /// Loosening change waiting for `pending_activation_ts` (0 = none pending).
    pub pending_risk: BankRiskParams,
    pub pending_activation_ts: i64,

    pub zero_util_rate: StoredFixed,
    pub optimal_util: StoredFixed,
    pub optimal_rate: StoredFixed,
    pub max_rate: StoredFixed,
    /// Share of borrow interest kept by the protocol (into `collected_fees`).
    pub protocol_fee_rate: StoredFixed,
    /// Liquidation bonus fraction paid to liquidators when this token is taken.
    pub liquidation_fee: StoredFixed,
    /// `k`: assets valued at `price − k·conf`, liabilities at `price + k·conf`.
    pub conf_multiplier: StoredFixed,
    /// Largest accepted `conf / price`.
    pub max_conf_ratio: StoredFixed,
    /// Largest relative move per second of the stable price.
    pub stable_price_growth_per_sec: StoredFixed,

    pub deposit_index: StoredFixed,
    pub borrow_index: StoredFixed,
    pub deposit_shares: StoredFixed,
    pub borrow_shares: StoredFixed,
    /// Protocol fees accrued (native), part of the vault but owed to no depositor.
    pub collected_fees: StoredFixed,
    /// Slow price (quote native per native unit) used for Init health.
    pub stable_price: StoredFixed,

    pub last_accrual_ts: i64,
    pub stable_price_ts: i64,
    pub max_oracle_age_secs: u32,
    pub token_index: u16,
    pub mint_decimals: u8,
    pub bump: u8,
    pub vault_bump: u8,
    pub reserved_bytes: [u8; 7],
    pub reserved: [u8; 128],
}

const _: () = assert!(core::mem::size_of::<Bank>() == Bank::SIZE);
const _: () = assert!(core::mem::align_of::<Bank>() == 8);

impl Bank {
    /// Byte size without Anchor's 8-byte discriminator.
    pub const SIZE: usize = 4 * 32 + 32 + 2 * 128 + 8 + 15 * 16 + 8 + 8 + 4 + 2 + 1 + 1 + 1 + 7 + 128;

    /// Risk parameters in force at `now`: the pending loosening once its delay has passed.
    pub fn risk_params(&self, now: i64) -> &BankRiskParams {
        if self.pending_activation_ts != 0 && now >= self.pending_activation_ts {
            &self.pending_risk
        } else {
            &self.risk
        }
    }

    pub fn interest_curve(&self) -> InterestCurve {
        InterestCurve {
            zero_util_rate: self.zero_util_rate.get(),
            optimal_util: self.optimal_util.get(),
            optimal_rate: self.optimal_rate.get(),
            max_rate: self.max_rate.get(),
        }
    }

    pub fn indices(&self) -> BankIndices {
        BankIndices {
            deposit_index: self.deposit_index.get(),
            borrow_index: self.borrow_index.get(),
            deposit_shares: self.deposit_shares.get(),
            borrow_shares: self.borrow_shares.get(),
        }
    }

    pub fn set_indices(&mut self, indices: &BankIndices) {
        self.deposit_index.set(indices.deposit_index);
        self.borrow_index.set(indices.borrow_index);
        self.deposit_shares.set(indices.deposit_shares);
        self.borrow_shares.set(indices.borrow_shares);
    }

    /// Native deposits (rounded down) and borrows (rounded up).
    pub fn native_totals(&self) -> RiskResult<(Fixed, Fixed)> {
        let ix = self.indices();
        Ok((ix.total_deposits()?, ix.total_borrows()?))
    }
}
