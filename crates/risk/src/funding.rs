//! Perpetual funding: a clamped premium rate accrued into a cumulative
//! index; each position's unsettled funding is read off the index.
//!
//! ```text
//! rate        = clamp((mark − index) / index, −max_rate, +max_rate)   per funding period
//! cum'        = cum + rate · index_price · dt / period                quote native per base unit
//! unsettled   = −base · (cum_now − snapshot)                          credited to the account
//! ```
//!
//! A positive rate (perp above index) makes longs pay shorts. The
//! cumulative index is in quote native per underlying native unit, the same
//! unit as prices. Settlement rounds toward −∞: a payer pays the ulp, a
//! receiver loses it, so funding never creates tokens.

use crate::error::{RiskError, RiskResult};
use crate::fixed::{Fixed, Rounding};

/// Funding parameters of a perpetual market.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FundingParams {
    /// Largest |rate| per period (e.g. 0.001 = 0.1 % per hour).
    pub max_rate: Fixed,
    /// Period length in seconds the rate refers to (e.g. 3,600).
    pub period_secs: u64,
}

/// Premium rate per period, clamped (one division).
pub fn funding_rate(mark: Fixed, index: Fixed, p: &FundingParams) -> RiskResult<Fixed> {
    if !index.is_positive() || mark.is_negative() {
        return Err(RiskError::InvalidPrice);
    }
    if p.max_rate.is_negative() || p.period_secs == 0 {
        return Err(RiskError::InvalidParameter);
    }
    let premium = mark.checked_sub(index)?.checked_div(index, Rounding::Floor)?;
    Ok(premium.max(p.max_rate.checked_neg()?).min(p.max_rate))
}

/// New cumulative funding index after `dt` seconds at `rate` per period.
pub fn accrue_funding(
    cum: Fixed,
    rate: Fixed,
    index_price: Fixed,
    dt: u64,
    p: &FundingParams,
) -> RiskResult<Fixed> {
    if p.period_secs == 0 {
        return Err(RiskError::InvalidParameter);
    }
    let per_unit = rate.checked_mul(index_price, Rounding::Floor)?;
    let add =
        per_unit.checked_mul_div(Fixed::from_u64(dt), Fixed::from_u64(p.period_secs), Rounding::Floor)?;
    cum.checked_add(add)
}

/// Funding credited to a position of `base` since its snapshot (negative
/// = owed), rounded toward −∞.
pub fn unsettled_funding(base: Fixed, cum_now: Fixed, snapshot: Fixed) -> RiskResult<Fixed> {
    let d = cum_now.checked_sub(snapshot)?;
    base.checked_neg()?.checked_mul(d, Rounding::Floor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fx(s: &str) -> Fixed {
        s.parse().unwrap()
    }

    fn params() -> FundingParams {
        FundingParams { max_rate: fx("0.001"), period_secs: 3_600 }
    }

    #[test]
    fn rate_and_clamp() {
        // mark 150.075, index 150 → premium 0.0005 (inside the 0.001 clamp)
        let r = funding_rate(fx("150.075"), fx("150"), &params()).unwrap();
        assert!((r.to_f64() - 0.0005).abs() < 1e-14);
        // mark 160 → 6.7 % premium clamped to 0.1 %
        assert_eq!(funding_rate(fx("160"), fx("150"), &params()).unwrap(), fx("0.001"));
        assert_eq!(funding_rate(fx("100"), fx("150"), &params()).unwrap(), fx("-0.001"));
        assert_eq!(funding_rate(fx("1"), Fixed::ZERO, &params()), Err(RiskError::InvalidPrice));
    }

    #[test]
    fn accrual_worked_example() {
        // rate 0.0005/h at index 150 for 2 h: cum += 0.0005·150·2 = 0.15 per SOL.
        let cum = accrue_funding(Fixed::ZERO, fx("0.0005"), fx("150"), 7_200, &params()).unwrap();
        assert!((cum.to_f64() - 0.15).abs() < 1e-12);
        // long 10 SOL owes 1.5; short 10 SOL receives 1.5 (minus an ulp at most).
        let long = unsettled_funding(fx("10"), cum, Fixed::ZERO).unwrap();
        let short = unsettled_funding(fx("-10"), cum, Fixed::ZERO).unwrap();
        assert!((long.to_f64() + 1.5).abs() < 1e-11);
        assert!(long.checked_add(short).unwrap() <= Fixed::ZERO);
    }

    proptest! {
        /// Longs and shorts of equal size: payments net to ≤ 0 (never created).
        #[test]
        fn funding_never_creates_tokens(b in 1i64..1_000_000_000_000, d in -(1i128 << 60)..(1i128 << 60)) {
            let base = Fixed::from_i64(b);
            let cum = Fixed::from_bits(d);
            let long = unsettled_funding(base, cum, Fixed::ZERO).unwrap();
            let short = unsettled_funding(base.checked_neg().unwrap(), cum, Fixed::ZERO).unwrap();
            prop_assert!(long.checked_add(short).unwrap() <= Fixed::ZERO);
        }
    }
}
