//! Per-bank asset and liability weights, and their scaling with bank size.
//!
//! Weights turn a value into a health contribution: assets count
//! `value · w_asset ≤ value`, liabilities count `value · w_liab ≥ value`.
//! The three health types are ordered from loose to strict:
//!
//! ```text
//! 0 ≤ init_asset ≤ liq_end_asset ≤ maint_asset ≤ 1 ≤ maint_liab ≤ liq_end_liab ≤ init_liab
//! ```
//!
//! so Init health ≤ LiquidationEnd health ≤ Maint health for the same account
//! and prices: liquidation starts below Maint and stops at LiquidationEnd ≥ 0,
//! which leaves a buffer above Maint instead of stopping on the edge.
//!
//! **Size scaling (Init only).** A bank whose total deposits are worth more
//! than `deposit_scale_start` (quote native) lowers the init asset weight to
//! `init_asset · deposit_scale_start / total_deposits_value`, so the borrowing
//! power of the whole bank is capped however much is deposited (a very large
//! position cannot be liquidated at oracle price). Symmetrically, above
//! `borrow_scale_start` the init liability weight grows to
//! `init_liab · total_borrows_value / borrow_scale_start`. The division
//! happens once per bank per health-cache build.

use crate::error::{RiskError, RiskResult};
use crate::fixed::{Fixed, Rounding};
use crate::health::HealthType;

/// A bank's configured weights (see module docs for the required order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenWeights {
    /// Init asset weight.
    pub init_asset: Fixed,
    /// Maint asset weight.
    pub maint_asset: Fixed,
    /// LiquidationEnd asset weight.
    pub liq_end_asset: Fixed,
    /// Init liability weight.
    pub init_liab: Fixed,
    /// Maint liability weight.
    pub maint_liab: Fixed,
    /// LiquidationEnd liability weight.
    pub liq_end_liab: Fixed,
}

impl TokenWeights {
    /// All weights 1 (the quote token).
    pub const ONE: TokenWeights = TokenWeights {
        init_asset: Fixed::ONE,
        maint_asset: Fixed::ONE,
        liq_end_asset: Fixed::ONE,
        init_liab: Fixed::ONE,
        maint_liab: Fixed::ONE,
        liq_end_liab: Fixed::ONE,
    };

    /// Checks the ordering invariant in the module docs.
    pub fn validate(&self) -> RiskResult<()> {
        let chain = [
            Fixed::ZERO,
            self.init_asset,
            self.liq_end_asset,
            self.maint_asset,
            Fixed::ONE,
            self.maint_liab,
            self.liq_end_liab,
            self.init_liab,
        ];
        if chain.iter().zip(chain.iter().skip(1)).all(|(a, b)| a <= b) {
            Ok(())
        } else {
            Err(RiskError::InvalidParameter)
        }
    }

    /// Asset weight for a health type (unscaled).
    pub fn asset(&self, ht: HealthType) -> Fixed {
        match ht {
            HealthType::Init => self.init_asset,
            HealthType::Maint => self.maint_asset,
            HealthType::LiquidationEnd => self.liq_end_asset,
        }
    }

    /// Liability weight for a health type (unscaled).
    pub fn liab(&self, ht: HealthType) -> Fixed {
        match ht {
            HealthType::Init => self.init_liab,
            HealthType::Maint => self.maint_liab,
            HealthType::LiquidationEnd => self.liq_end_liab,
        }
    }

    /// Applies Init size scaling for a bank whose deposits are worth
    /// `total_deposits_value` and borrows `total_borrows_value` (quote
    /// native, valued at the Init asset / liability price).
    pub fn scaled(
        &self,
        scaling: &WeightScaling,
        total_deposits_value: Fixed,
        total_borrows_value: Fixed,
    ) -> RiskResult<TokenWeights> {
        let mut w = *self;
        w.init_asset =
            scaled_init_asset_weight(self.init_asset, scaling.deposit_scale_start, total_deposits_value)?;
        w.init_liab =
            scaled_init_liab_weight(self.init_liab, scaling.borrow_scale_start, total_borrows_value)?;
        Ok(w)
    }
}

/// Size-scaling thresholds of a bank (quote native units). A threshold
/// ≤ 0 disables that scaling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WeightScaling {
    /// Total deposits value above which the init asset weight scales down.
    pub deposit_scale_start: Fixed,
    /// Total borrows value above which the init liability weight scales up.
    pub borrow_scale_start: Fixed,
}

impl WeightScaling {
    /// No scaling.
    pub const NONE: WeightScaling =
        WeightScaling { deposit_scale_start: Fixed::ZERO, borrow_scale_start: Fixed::ZERO };
}

/// Keeps `w · num` within 128 bits so the division takes the native `u128`
/// path instead of the 256-bit loop: drops low bits of `num` (rounded down)
/// and `den` (rounded up) together, or the reverse for `Ceil`. Both have
/// ≥ 60 significant bits left, so the ratio moves by < 2^-60 relative and
/// only in the requested direction.
fn shrink(w: Fixed, num: Fixed, den: Fixed, rounding: Rounding) -> (Fixed, Fixed) {
    let wl = 128 - w.to_bits().unsigned_abs().leading_zeros();
    let nl = 128 - num.to_bits().unsigned_abs().leading_zeros();
    let dl = 128 - den.to_bits().unsigned_abs().leading_zeros();
    let k = (wl + nl).saturating_sub(126).min(nl.saturating_sub(60)).min(dl.saturating_sub(60));
    if k == 0 {
        return (num, den);
    }
    let (nb, db) = (num.to_bits(), den.to_bits());
    let up = |b: i128| (b >> k) + i128::from(b & ((1i128 << k) - 1) != 0);
    match rounding {
        Rounding::Floor => (Fixed::from_bits(nb >> k), Fixed::from_bits(up(db))),
        Rounding::Ceil => (Fixed::from_bits(up(nb)), Fixed::from_bits(db >> k)),
    }
}

/// `w · threshold / total` when `total > threshold > 0`, else `w`; rounded
/// down (an asset weight). One native `u128` division.
pub fn scaled_init_asset_weight(w: Fixed, threshold: Fixed, total: Fixed) -> RiskResult<Fixed> {
    if !threshold.is_positive() || total <= threshold {
        return Ok(w);
    }
    let (n, d) = shrink(w, threshold, total, Rounding::Floor);
    w.checked_mul_div(n, d, Rounding::Floor)
}

/// `w · total / threshold` when `total > threshold > 0`, else `w`; rounded
/// up (a liability weight). One native `u128` division.
pub fn scaled_init_liab_weight(w: Fixed, threshold: Fixed, total: Fixed) -> RiskResult<Fixed> {
    if !threshold.is_positive() || total <= threshold {
        return Ok(w);
    }
    let (n, d) = shrink(w, total, threshold, Rounding::Ceil);
    w.checked_mul_div(n, d, Rounding::Ceil)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn fx(s: &str) -> Fixed {
        s.parse().unwrap()
    }

    /// A typical volatile-collateral bank: 0.8/0.9/0.85 assets, 1.2/1.1/1.15 liabs.
    pub(crate) fn sol_weights() -> TokenWeights {
        TokenWeights {
            init_asset: fx("0.8"),
            maint_asset: fx("0.9"),
            liq_end_asset: fx("0.85"),
            init_liab: fx("1.2"),
            maint_liab: fx("1.1"),
            liq_end_liab: fx("1.15"),
        }
    }

    proptest::proptest! {
        /// The 128-bit shortcut only ever rounds in the requested direction,
        /// and by a negligible amount (< 2^-40 relative here).
        #[test]
        fn scaling_shortcut_is_conservative(w in 1i128..(1i128 << 49), t in (1i128 << 60)..(1i128 << 100), extra in 1i128..(1i128 << 20)) {
            let (w, t) = (Fixed::from_bits(w), Fixed::from_bits(t));
            let total = Fixed::from_bits(t.to_bits().saturating_mul(extra).min(i128::MAX >> 1).max(t.to_bits() + 1));
            let exact_a = w.checked_mul_div(t, total, Rounding::Floor).unwrap();
            let fast_a = scaled_init_asset_weight(w, t, total).unwrap();
            proptest::prop_assert!(fast_a <= exact_a);
            proptest::prop_assert!(exact_a.to_bits() - fast_a.to_bits() <= (exact_a.to_bits() >> 40) + 1);
            let exact_l = w.checked_mul_div(total, t, Rounding::Ceil).unwrap();
            let fast_l = scaled_init_liab_weight(w, t, total).unwrap();
            proptest::prop_assert!(fast_l >= exact_l);
            proptest::prop_assert!(fast_l.to_bits() - exact_l.to_bits() <= (exact_l.to_bits() >> 40) + 1);
        }
    }

    #[test]
    fn validation_order() {
        assert!(sol_weights().validate().is_ok());
        assert!(TokenWeights::ONE.validate().is_ok());
        let bad = TokenWeights { maint_asset: fx("0.7"), ..sol_weights() };
        assert_eq!(bad.validate(), Err(RiskError::InvalidParameter));
        let bad = TokenWeights { init_liab: fx("0.9"), ..sol_weights() };
        assert!(bad.validate().is_err());
    }

    #[test]
    fn deposit_scaling_worked_example() {
        // w = 0.8, threshold 1,000,000, total 4,000,000 → 0.8 · 1/4 = 0.2.
        let w = scaled_init_asset_weight(fx("0.8"), fx("1000000"), fx("4000000")).unwrap();
        assert!((w.to_bits() - fx("0.2").to_bits()).abs() <= 1);
        assert!(w <= fx("0.2"));
        // Below the threshold, or disabled: unchanged.
        assert_eq!(scaled_init_asset_weight(fx("0.8"), fx("1000000"), fx("999999")).unwrap(), fx("0.8"));
        assert_eq!(scaled_init_asset_weight(fx("0.8"), Fixed::ZERO, fx("4000000")).unwrap(), fx("0.8"));
    }

    #[test]
    fn borrow_scaling_worked_example() {
        // w = 1.2, threshold 500,000, total borrows 750,000 → 1.2 · 1.5 = 1.8.
        let w = scaled_init_liab_weight(fx("1.2"), fx("500000"), fx("750000")).unwrap();
        assert!(w >= fx("1.8") && w.to_bits() - fx("1.8").to_bits() <= 1);
        let s = WeightScaling { deposit_scale_start: fx("1000000"), borrow_scale_start: fx("500000") };
        let sw = sol_weights().scaled(&s, fx("4000000"), fx("750000")).unwrap();
        assert_eq!(sw.maint_asset, fx("0.9")); // only Init scales
        assert!(sw.init_asset <= fx("0.2"));
        assert!(sw.init_liab >= fx("1.8"));
    }
}
