//! Bank interest: a kinked utilization curve and index accrual that never
//! lets the vault owe more than it holds.
//!
//! Balances are stored as *shares*: a user's native deposit is
//! `shares · deposit_index`, a borrow `shares · borrow_index`. Accrual over
//! `dt` seconds at annual borrow rate `r`:
//!
//! ```text
//! borrow_index' = borrow_index · (1 + r·dt/year)          rounded UP
//! interest      = borrow_shares · (borrow_index' − borrow_index)   rounded DOWN
//! fee           = interest · fee_rate                      rounded DOWN
//! deposit_index' = deposit_index + (interest − fee) / deposit_shares   rounded DOWN
//! ```
//!
//! so the value added to deposits plus the fee never exceeds the interest
//! borrowers now owe; the rounding dust stays in the vault. Simple
//! (per-accrual) compounding: frequent accruals compound, rare ones do not.
//!
//! The curve (annual rates, `u` = borrows / deposits in `[0, 1]`):
//!
//! ```text
//! u ≤ u*:  r = r0 + (r* − r0) · u / u*
//! u > u*:  r = r* + (r_max − r*) · (u − u*) / (1 − u*)
//! ```

use crate::error::{RiskError, RiskResult};
use crate::fixed::{Fixed, Rounding};

/// Seconds in a (365-day) year.
pub const SECONDS_PER_YEAR: u64 = 31_536_000;

/// Kinked utilization → annual borrow rate curve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InterestCurve {
    /// Rate at zero utilization.
    pub zero_util_rate: Fixed,
    /// The kink, in (0, 1).
    pub optimal_util: Fixed,
    /// Rate at the kink.
    pub optimal_rate: Fixed,
    /// Rate at 100 % utilization.
    pub max_rate: Fixed,
}

impl InterestCurve {
    /// `0 ≤ r0 ≤ r* ≤ r_max`, `0 < u* < 1`.
    pub fn validate(&self) -> RiskResult<()> {
        let ok = !self.zero_util_rate.is_negative()
            && self.zero_util_rate <= self.optimal_rate
            && self.optimal_rate <= self.max_rate
            && self.optimal_util.is_positive()
            && self.optimal_util < Fixed::ONE;
        if ok {
            Ok(())
        } else {
            Err(RiskError::InvalidParameter)
        }
    }

    /// Annual borrow rate at utilization `util` (clamped to [0, 1]),
    /// rounded up. One division.
    pub fn borrow_rate(&self, util: Fixed) -> RiskResult<Fixed> {
        self.validate()?;
        let u = util.max(Fixed::ZERO).min(Fixed::ONE);
        if u <= self.optimal_util {
            let span = self.optimal_rate.checked_sub(self.zero_util_rate)?;
            let add = span.checked_mul_div(u, self.optimal_util, Rounding::Ceil)?;
            self.zero_util_rate.checked_add(add)
        } else {
            let span = self.max_rate.checked_sub(self.optimal_rate)?;
            let over = u.checked_sub(self.optimal_util)?;
            let room = Fixed::ONE.checked_sub(self.optimal_util)?;
            let add = span.checked_mul_div(over, room, Rounding::Ceil)?;
            self.optimal_rate.checked_add(add)
        }
    }
}

/// `borrows / deposits` in [0, 1] (rounded up: the rate goes against
/// borrowers). No deposits with borrows → 1; nothing at all → 0.
pub fn utilization(total_deposits: Fixed, total_borrows: Fixed) -> RiskResult<Fixed> {
    if !total_borrows.is_positive() {
        return Ok(Fixed::ZERO);
    }
    if total_borrows >= total_deposits {
        return Ok(Fixed::ONE);
    }
    total_borrows.checked_div(total_deposits, Rounding::Ceil)
}

/// A bank's share totals and indices (all ≥ 0; indices start at 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BankIndices {
    /// Native deposit per deposit share.
    pub deposit_index: Fixed,
    /// Native debt per borrow share.
    pub borrow_index: Fixed,
    /// Σ deposit shares.
    pub deposit_shares: Fixed,
    /// Σ borrow shares.
    pub borrow_shares: Fixed,
}

impl BankIndices {
    /// Native deposits, rounded down.
    pub fn total_deposits(&self) -> RiskResult<Fixed> {
        self.deposit_shares.checked_mul_floor(self.deposit_index)
    }

    /// Native borrows, rounded up.
    pub fn total_borrows(&self) -> RiskResult<Fixed> {
        self.borrow_shares.checked_mul_ceil(self.borrow_index)
    }
}

/// Result of one accrual.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Accrual {
    /// Indices after accrual (shares unchanged).
    pub indices: BankIndices,
    /// Annual borrow rate used.
    pub borrow_rate: Fixed,
    /// Interest charged to borrowers (native, rounded down).
    pub interest: Fixed,
    /// Protocol fee (native), to be credited to the fee / insurance account.
    pub fee: Fixed,
    /// Value actually added to deposits (`deposit_shares · Δindex`).
    pub deposit_growth: Fixed,
}

/// Accrues `dt` seconds of interest (see module docs). Two divisions.
pub fn accrue_interest(
    bank: &BankIndices,
    curve: &InterestCurve,
    fee_rate: Fixed,
    dt: u64,
) -> RiskResult<Accrual> {
    if fee_rate.is_negative() || fee_rate > Fixed::ONE {
        return Err(RiskError::InvalidParameter);
    }
    let util = utilization(bank.total_deposits()?, bank.total_borrows()?)?;
    let rate = curve.borrow_rate(util)?;
    let no_growth = Accrual {
        indices: *bank,
        borrow_rate: rate,
        interest: Fixed::ZERO,
        fee: Fixed::ZERO,
        deposit_growth: Fixed::ZERO,
    };
    if dt == 0 || !bank.borrow_shares.is_positive() || rate.is_zero() {
        return Ok(no_growth);
    }
    match grow(bank, rate, fee_rate, dt) {
        Ok(accrual) if accrual.indices.total_borrows().is_ok_and(|b| b <= max_total_borrows()) => Ok(accrual),
        // At the cap interest stops: debts stay repayable (native amounts fit a
        // u64) instead of overflowing and blocking every repay.
        Ok(_) | Err(RiskError::Overflow) => Ok(no_growth),
        Err(e) => Err(e),
    }
}

/// Largest total debt a bank's interest may grow to: what a `u64` token
/// amount can repay.
pub fn max_total_borrows() -> Fixed {
    Fixed::from_u64(u64::MAX)
}

/// The accrual itself (module docs).
fn grow(bank: &BankIndices, rate: Fixed, fee_rate: Fixed, dt: u64) -> RiskResult<Accrual> {
    // growth = r·dt/year (up), index' = index + index·growth (up)
    let growth =
        rate.checked_mul_div(Fixed::from_u64(dt), Fixed::from_u64(SECONDS_PER_YEAR), Rounding::Ceil)?;
    let bi_add = bank.borrow_index.checked_mul_ceil(growth)?;
    let borrow_index = bank.borrow_index.checked_add(bi_add)?;
    let interest = bank.borrow_shares.checked_mul_floor(bi_add)?;
    let fee = interest.checked_mul_floor(fee_rate)?;
    let to_depositors = interest.checked_sub(fee)?;
    let (deposit_index, deposit_growth) = if bank.deposit_shares.is_positive() {
        let di_add = to_depositors.checked_div(bank.deposit_shares, Rounding::Floor)?;
        (bank.deposit_index.checked_add(di_add)?, bank.deposit_shares.checked_mul_floor(di_add)?)
    } else {
        (bank.deposit_index, Fixed::ZERO)
    };
    Ok(Accrual {
        indices: BankIndices { deposit_index, borrow_index, ..*bank },
        borrow_rate: rate,
        interest,
        fee,
        deposit_growth,
    })
}

/// A debt valued `dt` seconds after its bank's last accrual: grown at the
/// bank's highest rate, `balance · (1 + max_rate · dt / year)`, rounded away
/// from zero, an upper bound on the interest it accrued meanwhile. Health
/// values other banks' debts this way, so a bank nobody cranked never makes
/// an account look healthier than it is. Deposits and `dt = 0` are unchanged.
pub fn project_debt(balance: Fixed, max_rate: Fixed, dt: u64) -> RiskResult<Fixed> {
    if !balance.is_negative() || dt == 0 || !max_rate.is_positive() {
        return Ok(balance);
    }
    balance.checked_add(balance.checked_mul_floor(rate_over(max_rate, dt)?)?)
}

/// `rate · dt / year`, rounded up: the growth of a debt over `dt` seconds at
/// annual `rate`. The raw bits are `⌈rate_bits · dt / year⌉`, in native
/// 64-bit arithmetic when the product fits (rates up to 1,000 % over about
/// three weeks), otherwise by the wide division.
fn rate_over(rate: Fixed, dt: u64) -> RiskResult<Fixed> {
    if let Some(p) = u64::try_from(rate.to_bits()).ok().and_then(|r| r.checked_mul(dt)) {
        return Ok(Fixed::from_bits(i128::from(p.div_ceil(SECONDS_PER_YEAR))));
    }
    rate.checked_mul_div(Fixed::from_u64(dt), Fixed::from_u64(SECONDS_PER_YEAR), Rounding::Ceil)
}

/// Deposit shares minted for depositing `amount` native (rounded down).
pub fn deposit_shares_for(amount: Fixed, deposit_index: Fixed) -> RiskResult<Fixed> {
    amount.checked_div(deposit_index, Rounding::Floor)
}

/// Deposit shares burned for withdrawing `amount` native (rounded up).
pub fn withdraw_shares_for(amount: Fixed, deposit_index: Fixed) -> RiskResult<Fixed> {
    amount.checked_div(deposit_index, Rounding::Ceil)
}

/// Borrow shares created for borrowing `amount` native (rounded up).
pub fn borrow_shares_for(amount: Fixed, borrow_index: Fixed) -> RiskResult<Fixed> {
    amount.checked_div(borrow_index, Rounding::Ceil)
}

/// Borrow shares cleared by repaying `amount` native (rounded down).
pub fn repay_shares_for(amount: Fixed, borrow_index: Fixed) -> RiskResult<Fixed> {
    amount.checked_div(borrow_index, Rounding::Floor)
}

/// Native balance of a signed share position (deposit > 0 at the deposit
/// index, borrow < 0 at the borrow index), rounded toward −∞ either way:
/// deposits are worth a little less, debts a little more.
pub fn native_balance(shares: Fixed, deposit_index: Fixed, borrow_index: Fixed) -> RiskResult<Fixed> {
    let index = if shares.is_negative() { borrow_index } else { deposit_index };
    shares.checked_mul_floor(index)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fx(s: &str) -> Fixed {
        s.parse().unwrap()
    }

    fn curve() -> InterestCurve {
        // 1% at 0, 10% at 80%, 100% at 100%
        InterestCurve {
            zero_util_rate: fx("0.01"),
            optimal_util: fx("0.8"),
            optimal_rate: fx("0.1"),
            max_rate: fx("1"),
        }
    }

    /// Tolerance for rates built from decimal constants: a few ulps.
    const RATE_ULPS: i128 = 4;

    fn close(a: Fixed, b: Fixed, ulps: i128) -> bool {
        (a.to_bits() - b.to_bits()).abs() <= ulps
    }

    #[test]
    fn curve_worked_points() {
        let c = curve();
        // u = 0 → 1%; u = 0.4 → 1% + 9%·0.5 = 5.5%; u = 0.8 → 10%
        assert!(close(c.borrow_rate(Fixed::ZERO).unwrap(), fx("0.01"), RATE_ULPS));
        assert!(close(c.borrow_rate(fx("0.4")).unwrap(), fx("0.055"), RATE_ULPS));
        assert!(close(c.borrow_rate(fx("0.8")).unwrap(), fx("0.1"), RATE_ULPS));
        // u = 0.9 → 10% + 90%·(0.1/0.2) = 55%; u = 1 → 100%
        assert!(close(c.borrow_rate(fx("0.9")).unwrap(), fx("0.55"), RATE_ULPS));
        assert!(close(c.borrow_rate(Fixed::ONE).unwrap(), fx("1"), RATE_ULPS));
        let bad = InterestCurve { optimal_util: Fixed::ONE, ..c };
        assert_eq!(bad.borrow_rate(fx("0.5")), Err(RiskError::InvalidParameter));
    }

    /// At the 1,000 % cap, accrued hourly, the borrow index passes e^10 ≈
    /// 22,026× a year: 1,000 SOL of debt would pass u64::MAX native within a
    /// few years and then overflow every repay. Interest stops at the cap
    /// instead, and the debt stays repayable.
    #[test]
    fn interest_stops_where_debts_would_stop_being_repayable() {
        let capped = InterestCurve { max_rate: fx("10"), optimal_rate: fx("1"), ..curve() };
        let mut bank = BankIndices {
            deposit_index: Fixed::ONE,
            borrow_index: Fixed::ONE,
            deposit_shares: Fixed::from_u64(1_000_000_000_000),
            borrow_shares: Fixed::from_u64(1_000_000_000_000),
        };
        let mut capped_at = None;
        for hour in 0..(10 * 8_760) {
            let a = accrue_interest(&bank, &capped, fx("0.1"), 3_600).expect("accrual never fails");
            if a.indices == bank && capped_at.is_none() {
                capped_at = Some(hour);
            }
            bank = a.indices;
        }
        let hour = capped_at.expect("the cap was reached");
        assert!((8_760..4 * 8_760).contains(&hour), "reached after {hour} hours");
        let total = bank.total_borrows().unwrap();
        assert!(total <= max_total_borrows(), "{total}");
        assert!(total.to_f64() > u64::MAX as f64 / 1.01, "stopped just short of the cap: {total}");
        // One borrow share's debt still converts to a u64 amount.
        assert!(native_balance(fx("-1"), bank.deposit_index, bank.borrow_index).is_ok());
    }

    /// 1,000 native owed, the bank's cap 100 % a year, last accrued an hour
    /// ago: 1,000 · (1 + 3,600 / 31,536,000) = 1,000.114155… owed, rounded up.
    #[test]
    fn debts_are_projected_at_the_highest_rate() {
        let owed = project_debt(fx("-1000"), Fixed::ONE, 3_600).unwrap();
        assert!((owed.to_f64() + 1_000.114_155_25).abs() < 1e-6, "{owed}");
        assert!(owed <= fx("-1000.114155"));
        assert_eq!(project_debt(fx("-1000"), Fixed::ONE, 0).unwrap(), fx("-1000"));
        assert_eq!(
            project_debt(fx("1000"), Fixed::ONE, 3_600).unwrap(),
            fx("1000"),
            "deposits are not grown"
        );
        assert_eq!(project_debt(fx("-1000"), Fixed::ZERO, 3_600).unwrap(), fx("-1000"));
    }

    proptest! {
        /// The native fast path of `rate_over` is exactly the wide division.
        #[test]
        fn rate_over_is_the_wide_division(rate in 1i128..(11i128 << 48), dt in 1u64..(1u64 << 40)) {
            let rate = Fixed::from_bits(rate);
            let wide = rate.checked_mul_div(Fixed::from_u64(dt), Fixed::from_u64(SECONDS_PER_YEAR), Rounding::Ceil);
            prop_assert_eq!(rate_over(rate, dt), wide);
        }
    }

    #[test]
    fn utilization_edges() {
        assert_eq!(utilization(Fixed::ZERO, Fixed::ZERO).unwrap(), Fixed::ZERO);
        assert_eq!(utilization(Fixed::ZERO, Fixed::ONE).unwrap(), Fixed::ONE);
        assert_eq!(utilization(fx("4"), fx("1")).unwrap(), fx("0.25"));
    }

    #[test]
    fn one_year_accrual_worked_example() {
        // deposits 1,000,000, borrows 400,000 (u = 0.4 → 5.5%), fee 10%, dt = 1y:
        // borrow index 1 → 1.055; interest = 400,000 · 0.055 = 22,000;
        // fee 2,200; depositors +19,800 → deposit index 1.0198.
        let bank = BankIndices {
            deposit_index: Fixed::ONE,
            borrow_index: Fixed::ONE,
            deposit_shares: fx("1000000"),
            borrow_shares: fx("400000"),
        };
        let a = accrue_interest(&bank, &curve(), fx("0.1"), SECONDS_PER_YEAR).unwrap();
        assert!((a.indices.borrow_index.to_f64() - 1.055).abs() < 1e-12);
        assert!((a.interest.to_f64() - 22_000.0).abs() < 1e-6);
        assert!((a.fee.to_f64() - 2_200.0).abs() < 1e-6);
        assert!((a.indices.deposit_index.to_f64() - 1.0198).abs() < 1e-12);
        assert!(a.deposit_growth.checked_add(a.fee).unwrap() <= a.interest);
        // Nothing happens with dt = 0.
        let z = accrue_interest(&bank, &curve(), fx("0.1"), 0).unwrap();
        assert_eq!(z.indices, bank);
    }

    #[test]
    fn share_conversions_round_toward_protocol() {
        // index 1.5: deposit 10 → 6.666… shares (down); withdraw 10 burns ≥ 6.666… (up).
        let i = fx("1.5");
        let d = deposit_shares_for(fx("10"), i).unwrap();
        let w = withdraw_shares_for(fx("10"), i).unwrap();
        assert_eq!(w.to_bits() - d.to_bits(), 1);
        // Borrow 10 at index 1.5 → owes ≥ 10 back; repaying 10 clears ≤ the debt.
        let b = borrow_shares_for(fx("10"), i).unwrap();
        let owed = native_balance(b.checked_neg().unwrap(), Fixed::ONE, i).unwrap();
        assert!(owed <= fx("-10"));
        assert!(repay_shares_for(fx("10"), i).unwrap() <= b);
        // A deposit is worth ≤ what was put in.
        assert!(native_balance(d, i, Fixed::ONE).unwrap() <= fx("10"));
    }

    proptest! {
        /// Interest accrual never creates tokens: deposits' growth + fee ≤
        /// the interest borrowers owe, and the borrow index never falls.
        #[test]
        fn accrual_never_creates_tokens(
            dep in 1u64..1_000_000_000_000,
            bor_frac in 0u64..=1000,
            di in 1_000_000u64..3_000_000,
            bi in 1_000_000u64..3_000_000,
            fee in 0u64..=1000,
            dt in 0u64..(400 * 86_400),
        ) {
            let deposit_index = Fixed::from_ratio(di as i64, 1_000_000, Rounding::Floor).unwrap();
            let borrow_index = Fixed::from_ratio(bi as i64, 1_000_000, Rounding::Ceil).unwrap();
            let deposit_shares = Fixed::from_u64(dep);
            // borrows ≤ deposits (in value)
            let bval = Fixed::from_u64(dep).checked_mul_floor(deposit_index).unwrap()
                .checked_mul_floor(Fixed::from_ratio(bor_frac as i64, 1000, Rounding::Floor).unwrap()).unwrap();
            let borrow_shares = bval.checked_div_floor(borrow_index).unwrap();
            let bank = BankIndices { deposit_index, borrow_index, deposit_shares, borrow_shares };
            let fee_rate = Fixed::from_ratio(fee as i64, 1000, Rounding::Floor).unwrap();
            let a = accrue_interest(&bank, &curve(), fee_rate, dt).unwrap();
            let dep_before = bank.total_deposits().unwrap();
            let dep_after = a.indices.total_deposits().unwrap();
            let owed_growth = borrow_shares
                .checked_mul_floor(a.indices.borrow_index.checked_sub(borrow_index).unwrap()).unwrap();
            prop_assert!(a.indices.borrow_index >= borrow_index);
            prop_assert!(a.indices.deposit_index >= deposit_index);
            // growth of the (floored) deposit total, plus the fee, ≤ interest owed
            prop_assert!(dep_after.checked_sub(dep_before).unwrap().checked_add(a.fee).unwrap()
                <= owed_growth.checked_add(Fixed::DELTA).unwrap());
            prop_assert!(a.deposit_growth.checked_add(a.fee).unwrap() <= a.interest);
        }
    }
}
