use anchor_lang::prelude::*;
use xmargin_risk::interest::{BankIndices, InterestCurve};
use xmargin_risk::weights::{TokenWeights, WeightScaling};
use xmargin_risk::{Fixed, RiskResult, Rounding};

use super::StoredFixed;

/// PDA seed prefix of [`Bank`]: `[BANK_SEED, group, token_index (u16 LE)]`.
pub const BANK_SEED: &[u8] = b"bank";
/// PDA seed prefix of a bank's vault: `[BANK_VAULT_SEED, bank]`.
pub const BANK_VAULT_SEED: &[u8] = b"bank_vault";
/// PDA seed prefix of a group's mint marker: `[BANK_MINT_SEED, group, mint]`.
/// `add_bank` creates it (data: the bank's token index, u16 LE), so a group
/// lists each mint once.
pub const BANK_MINT_SEED: &[u8] = b"bank_mint";
/// Bytes of a mint marker.
pub const BANK_MINT_MARKER_LEN: usize = 2;

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

/// The oracle rules and the liquidation fee of a bank: what a loosening
/// change of them waits for (`Bank::pending_safety`).
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct BankSafetyParams {
    pub conf_multiplier: StoredFixed,
    pub max_conf_ratio: StoredFixed,
    pub stable_price_growth_per_sec: StoredFixed,
    pub liquidation_fee: StoredFixed,
    pub max_oracle_age_secs: u32,
    pub reserved: [u8; 4],
    /// When a pending change applies (0 = nothing pending; unused in force).
    pub activation_ts: i64,
}

const _: () = assert!(core::mem::size_of::<BankSafetyParams>() == 4 * 16 + 4 + 4 + 8);

impl BankSafetyParams {
    /// Field-wise the more conservative of `self` and `other`, what a change
    /// may apply at once: a wider confidence bias, a tighter confidence bound,
    /// a shorter max age, a slower stable price (it then lags spot more, which
    /// Init's min/max only makes more conservative), and a lower liquidation
    /// fee (a higher one takes more from liquidated users, so it waits like a
    /// loosening: users get the delay to react).
    pub fn tightest(&self, other: &BankSafetyParams) -> BankSafetyParams {
        let pick =
            |a: StoredFixed, b: StoredFixed, higher: bool| if (a.get() >= b.get()) == higher { a } else { b };
        BankSafetyParams {
            conf_multiplier: pick(self.conf_multiplier, other.conf_multiplier, true),
            max_conf_ratio: pick(self.max_conf_ratio, other.max_conf_ratio, false),
            stable_price_growth_per_sec: pick(
                self.stable_price_growth_per_sec,
                other.stable_price_growth_per_sec,
                false,
            ),
            liquidation_fee: pick(self.liquidation_fee, other.liquidation_fee, false),
            max_oracle_age_secs: self.max_oracle_age_secs.min(other.max_oracle_age_secs),
            reserved: [0; 4],
            activation_ts: 0,
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
    /// Loss that neither the depositors nor the collected fees could absorb
    /// (native; stays 0 while vault + borrows = deposits + fees holds).
    pub deficit: StoredFixed,
    /// A loosening of the oracle rules or liquidation fee waiting for its
    /// `activation_ts` (0 = none); applied by the first accrual after it.
    pub pending_safety: BankSafetyParams,
    pub reserved: [u8; 32],
}

const _: () = assert!(core::mem::size_of::<Bank>() == Bank::SIZE);
const _: () = assert!(core::mem::align_of::<Bank>() == 8);

impl Bank {
    /// Byte size without Anchor's 8-byte discriminator.
    pub const SIZE: usize =
        4 * 32 + 32 + 2 * 128 + 8 + 15 * 16 + 8 + 8 + 4 + 2 + 1 + 1 + 1 + 7 + 16 + 80 + 32;

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

/// How a deposit was applied: first to the position's debt, then as a deposit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DepositSplit {
    pub repaid: u64,
    pub deposited: u64,
}

/// How a withdrawal was funded: first from the position's deposit, then borrowed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WithdrawSplit {
    pub from_deposit: u64,
    pub borrowed: u64,
}

fn overflow<E>(_: E) -> Error {
    error!(crate::errors::XmarginError::MathOverflow)
}

impl Bank {
    /// The oracle rules and liquidation fee in force.
    pub fn safety_params(&self) -> BankSafetyParams {
        BankSafetyParams {
            conf_multiplier: self.conf_multiplier,
            max_conf_ratio: self.max_conf_ratio,
            stable_price_growth_per_sec: self.stable_price_growth_per_sec,
            liquidation_fee: self.liquidation_fee,
            max_oracle_age_secs: self.max_oracle_age_secs,
            reserved: [0; 4],
            activation_ts: 0,
        }
    }

    pub fn set_safety_params(&mut self, p: &BankSafetyParams) {
        self.conf_multiplier = p.conf_multiplier;
        self.max_conf_ratio = p.max_conf_ratio;
        self.stable_price_growth_per_sec = p.stable_price_growth_per_sec;
        self.liquidation_fee = p.liquidation_fee;
        self.max_oracle_age_secs = p.max_oracle_age_secs;
    }

    /// Puts a pending loosening of the safety parameters in force once due.
    /// Health reads the stored fields, so until an accrual applies it the
    /// tighter values stay: a loosening is never early, at worst late.
    pub fn apply_due_safety(&mut self, now: i64) {
        let pending = self.pending_safety;
        if pending.activation_ts != 0 && now >= pending.activation_ts {
            self.set_safety_params(&pending);
            self.pending_safety = BankSafetyParams::default();
        }
    }

    /// Accrues interest up to `now`; returns the accrual when time passed.
    /// Also puts a due safety-parameter change in force.
    pub fn accrue(&mut self, now: i64) -> Result<Option<xmargin_risk::interest::Accrual>> {
        self.apply_due_safety(now);
        let Some(accrual) = self.accrual_at(now)? else { return Ok(None) };
        self.set_indices(&accrual.indices);
        self.collected_fees.set(self.collected_fees.get().checked_add(accrual.fee).map_err(overflow)?);
        self.last_accrual_ts = now;
        Ok(Some(accrual))
    }

    /// The accrual [`Bank::accrue`] would apply at `now` (`None` when no time
    /// passed), without applying it.
    pub fn accrual_at(&self, now: i64) -> Result<Option<xmargin_risk::interest::Accrual>> {
        let dt = now.saturating_sub(self.last_accrual_ts);
        if dt <= 0 {
            return Ok(None);
        }
        xmargin_risk::interest::accrue_interest(
            &self.indices(),
            &self.interest_curve(),
            self.protocol_fee_rate.get(),
            dt as u64,
        )
        .map(Some)
        .map_err(overflow)
    }

    /// A position's native balance as the bank would book it once accrued to
    /// `now` (`accrue(now)` then [`Bank::native_balance`]), read-only: exact,
    /// where health's `position_balance` bounds a debt from above.
    pub fn native_balance_at(&self, shares: Fixed, now: i64) -> Result<Fixed> {
        match self.accrual_at(now)? {
            Some(a) => xmargin_risk::interest::native_balance(
                shares,
                a.indices.deposit_index,
                a.indices.borrow_index,
            )
            .map_err(overflow),
            None => self.native_balance(shares),
        }
    }

    /// Applies `amount` native paid in to a position: repays its debt first
    /// (clearing fewer borrow shares when rounding), deposits the rest
    /// (minting fewer deposit shares when rounding).
    pub fn deposit_into(&mut self, shares: &mut StoredFixed, amount: u64) -> Result<DepositSplit> {
        use xmargin_risk::interest::{deposit_shares_for, repay_shares_for};
        let mut position = shares.get();
        let mut remaining = amount;
        let mut split = DepositSplit::default();
        if position.is_negative() {
            let owed = position.checked_neg().and_then(|s| s.checked_mul_ceil(self.borrow_index.get()));
            let owed = owed.and_then(|o| o.to_u64(Rounding::Ceil)).map_err(overflow)?;
            let cleared = if remaining >= owed {
                split.repaid = owed;
                position.checked_neg().map_err(overflow)?
            } else {
                split.repaid = remaining;
                repay_shares_for(Fixed::from_u64(remaining), self.borrow_index.get()).map_err(overflow)?
            };
            remaining -= split.repaid;
            position = position.checked_add(cleared).map_err(overflow)?;
            self.borrow_shares
                .set(self.borrow_shares.get().checked_sub(cleared).map_err(overflow)?.positive_part());
        }
        if remaining > 0 {
            let minted =
                deposit_shares_for(Fixed::from_u64(remaining), self.deposit_index.get()).map_err(overflow)?;
            // A bank whose deposit index grew huge (a wiped-out deposit side
            // still earning its borrowers' interest) mints shares too coarse
            // to hold the amount: refuse rather than swallow the deposit.
            let claim = minted
                .checked_mul_floor(self.deposit_index.get())
                .and_then(|v| v.to_u64(Rounding::Floor))
                .map_err(overflow)?;
            if claim.saturating_add(1) < remaining {
                return Err(error!(crate::errors::XmarginError::DepositLostToRounding)
                    .with_values((remaining, claim)));
            }
            position = position.checked_add(minted).map_err(overflow)?;
            self.deposit_shares.set(self.deposit_shares.get().checked_add(minted).map_err(overflow)?);
            split.deposited = remaining;
        }
        shares.set(position);
        Ok(split)
    }

    /// Takes `amount` native out of a position: from its deposit first
    /// (burning more shares when rounding), the rest as a new borrow
    /// (creating more borrow shares when rounding).
    pub fn withdraw_from(&mut self, shares: &mut StoredFixed, amount: u64) -> Result<WithdrawSplit> {
        use xmargin_risk::interest::{borrow_shares_for, withdraw_shares_for};
        let mut position = shares.get();
        let mut split = WithdrawSplit::default();
        if position.is_positive() {
            let available =
                position.checked_mul_floor(self.deposit_index.get()).and_then(|v| v.to_u64(Rounding::Floor));
            let available = available.map_err(overflow)?;
            let burned = if amount >= available {
                split.from_deposit = available;
                position
            } else {
                split.from_deposit = amount;
                withdraw_shares_for(Fixed::from_u64(amount), self.deposit_index.get())
                    .map_err(overflow)?
                    .min(position)
            };
            position = position.checked_sub(burned).map_err(overflow)?;
            self.deposit_shares
                .set(self.deposit_shares.get().checked_sub(burned).map_err(overflow)?.positive_part());
        }
        split.borrowed = amount - split.from_deposit;
        if split.borrowed > 0 {
            let created = borrow_shares_for(Fixed::from_u64(split.borrowed), self.borrow_index.get())
                .map_err(overflow)?;
            position = position.checked_sub(created).map_err(overflow)?;
            self.borrow_shares.set(self.borrow_shares.get().checked_add(created).map_err(overflow)?);
        }
        shares.set(position);
        Ok(split)
    }

    /// Signed native balance of a position (deposits floor, debts ceil).
    /// Refuses a state whose total borrows exceed the borrow limit in force at `now`
    /// (called after a withdrawal that borrowed).
    pub fn check_borrow_limit(&self, now: i64) -> Result<()> {
        let (_, borrows) = self.native_totals().map_err(overflow)?;
        let limit = self.risk_params(now).borrow_limit;
        if borrows > Fixed::from_u64(limit) {
            return Err(
                error!(crate::errors::XmarginError::BorrowLimitExceeded).with_values((borrows, limit))
            );
        }
        Ok(())
    }

    /// Writes `loss` native off the deposit side (the index floor of
    /// `xmargin_risk::liquidation::socialize` applies) with the unabsorbed part
    /// charged to the collected fees, any rest to `deficit`. Returns the part
    /// charged to fees.
    pub fn absorb_loss(&mut self, new_deposit_index: Fixed, unabsorbed: Fixed) -> Result<Fixed> {
        self.deposit_index.set(new_deposit_index);
        let fees = self.collected_fees.get();
        let charged = unabsorbed.min(fees);
        self.collected_fees.set(fees.checked_sub(charged).map_err(overflow)?);
        let rest = unabsorbed.checked_sub(charged).map_err(overflow)?;
        self.deficit.set(self.deficit.get().checked_add(rest).map_err(overflow)?);
        Ok(charged)
    }

    /// Debt of a borrow position in native units, rounded up (0 for a deposit or none).
    pub fn native_debt(&self, shares: Fixed) -> Result<u64> {
        if !shares.is_negative() {
            return Ok(0);
        }
        self.native_balance(shares)?.checked_neg().and_then(|d| d.to_u64(Rounding::Ceil)).map_err(overflow)
    }

    pub fn native_balance(&self, shares: Fixed) -> Result<Fixed> {
        xmargin_risk::interest::native_balance(shares, self.deposit_index.get(), self.borrow_index.get())
            .map_err(overflow)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bank(deposit_index: Fixed) -> Bank {
        let mut b: Bank = bytemuck::Zeroable::zeroed();
        b.deposit_index = deposit_index.into();
        b.borrow_index = Fixed::ONE.into();
        b
    }

    /// At a sane index a deposit mints shares worth it to the unit; at the
    /// degenerate index the random-operation suite reached (seed 777, step
    /// 54,750: 8.2e19 after a wiped-out deposit side kept earning interest;
    /// 8.2e18 here, a u64)
    /// 74,041 lamports would mint zero shares: refused, nothing changed.
    #[test]
    fn a_deposit_the_index_cannot_hold_is_refused() {
        for index in [
            Fixed::ONE,
            Fixed::from_ratio(10_457, 10_000, Rounding::Floor).unwrap(),
            Fixed::from_u64(1 << 14),
        ] {
            let mut b = bank(index);
            let mut shares = StoredFixed::ZERO;
            let split = b.deposit_into(&mut shares, 74_041).unwrap();
            assert_eq!(split.deposited, 74_041);
            let claim = shares.get().checked_mul_floor(index).unwrap().to_u64(Rounding::Floor).unwrap();
            assert!(claim + 1 >= 74_041, "index {index}: claim {claim}");
        }
        let mut b = bank(Fixed::from_u64(8_200_000_000_000_000_000));
        let mut shares = StoredFixed::ZERO;
        assert!(b.deposit_into(&mut shares, 74_041).is_err());
        assert_eq!((shares, b.deposit_shares), (StoredFixed::ZERO, StoredFixed::ZERO));
    }
}
