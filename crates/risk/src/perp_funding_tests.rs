//! Funding: worked hours (binary-exact numbers, checkable by hand) and the
//! zero-sum settlement invariant.

use super::*;
use crate::testutil::fx;
use proptest::prelude::*;

#[test]
fn twap_worked_examples() {
    // 10 above the average, 60 s of a 600 s window: +10 · 60/600 = +1.
    assert_eq!(update_twap(fx("100"), fx("110"), 60, 600).unwrap(), fx("101"));
    // A whole window (or more) replaces the average.
    assert_eq!(update_twap(fx("100"), fx("110"), 1_200, 600).unwrap(), fx("110"));
    // 10 below, 300 s of 3600: 100 − 10/12 = 99.1666…, rounded down.
    let t = update_twap(fx("100"), fx("90"), 300, 3_600).unwrap();
    assert!(t < fx("99.166666666667") && t > fx("99.166666666666"));
    // Never set: the first sample is taken as is; no time, no change.
    assert_eq!(update_twap(Fixed::ZERO, fx("150"), 1, 600).unwrap(), fx("150"));
    assert_eq!(update_twap(fx("100"), fx("150"), 0, 600).unwrap(), fx("100"));
    assert_eq!(update_twap(fx("100"), fx("150"), 1, 0), Err(RiskError::InvalidParameter));
    assert_eq!(update_twap(fx("100"), fx("-1"), 1, 10), Err(RiskError::InvalidPrice));
}

#[test]
fn mark_premium_worked_examples() {
    // Binary-exact numbers. A trade at 130 against an oracle of 128: premium
    // 2/128 = +1/64 (1.5625 %); at 120: −8/128 = −1/16.
    let p = trade_premium(fx("130"), fx("128")).unwrap();
    assert_eq!(p, fx("0.015625"));
    assert_eq!(trade_premium(fx("120"), fx("128")).unwrap(), fx("-0.0625"));
    // Depth 1,024 contracts: a 1-contract print moves a 0 premium 1/1024 of
    // the way (1/65536); 256 contracts a quarter (1/256); 1,024 or more all.
    assert_eq!(blend_mark_premium(Fixed::ZERO, p, 1, 1_024).unwrap(), fx("0.0000152587890625"));
    assert_eq!(blend_mark_premium(Fixed::ZERO, p, 256, 1_024).unwrap(), fx("0.00390625"));
    assert_eq!(blend_mark_premium(Fixed::ZERO, p, 5_000, 1_024).unwrap(), p);
    // From +1/64, 512 contracts at −1/16: 1/64 + (−5/64) / 2 = −3/128.
    assert_eq!(blend_mark_premium(p, fx("-0.0625"), 512, 1_024).unwrap(), fx("-0.0234375"));
    // The sampled mark: 128 · (1 − 3/128) = 125.
    assert_eq!(mark_sample(fx("128"), fx("-0.0234375")).unwrap(), fx("125"));
    assert_eq!(blend_mark_premium(Fixed::ZERO, p, 1, 0), Err(RiskError::InvalidParameter));
    assert_eq!(trade_premium(fx("1"), Fixed::ZERO), Err(RiskError::InvalidPrice));
}

#[test]
fn two_hours_of_funding_worked_example() {
    // Cap 3/128 = 2.34375 % a day (→ at most 0.09765625 % an hour).
    let cap = fx("0.0234375");
    // Hour 1: oracle TWAP $100 per contract (100_000_000), mark TWAP 100_292_968.75:
    // premium 292_968.75 / 1e8 = 3/1024, rate 3/1024/24 = 1/8192 per hour;
    // Δcum = 1e8/8192 = 12_207.03125 per contract over 3_600 s.
    let r1 = hourly_funding_rate(fx("100292968.75"), fx("100000000"), cap).unwrap();
    assert_eq!(r1, fx("0.0001220703125"));
    let cum1 = funding_delta_per_contract(r1, fx("100000000"), 3_600).unwrap();
    assert_eq!(cum1, fx("12207.03125"));
    // Long 10 pays 122_070.3125 → −122_071 (dust 0.6875); short 10 gets 122_070 (dust 0.3125).
    let long = settle_funding(10, cum1, Fixed::ZERO).unwrap();
    let short = settle_funding(-10, cum1, Fixed::ZERO).unwrap();
    assert_eq!(long, FundingSettlement { credit: -122_071, dust: fx("0.6875") });
    assert_eq!(short, FundingSettlement { credit: 122_070, dust: fx("0.3125") });
    // Hour 2, cranked 5_400 s later (accrues only 3_600): oracle TWAP 96_000_000,
    // mark TWAP 80_000_000: premium −1/6, clamped to −3/128 → −1/1024 per hour;
    // Δcum = −96e6/1024 = −93_750.
    let r2 = hourly_funding_rate(fx("80000000"), fx("96000000"), cap).unwrap();
    assert_eq!(r2, fx("-0.0009765625"));
    let d2 = funding_delta_per_contract(r2, fx("96000000"), 5_400).unwrap();
    assert_eq!(d2, fx("-93750"));
    let cum2 = cum1.checked_add(d2).unwrap();
    assert_eq!(cum2, fx("-81542.96875"));
    // The long 10 settled after hour 1 now receives 10 · 93_750 = 937_500 exactly.
    assert_eq!(
        settle_funding(10, cum2, cum1).unwrap(),
        FundingSettlement { credit: 937_500, dust: Fixed::ZERO }
    );
    // Long 7 held both hours unsettled: 7 · 81_542.96875 = 570_800.78125 → 570_800;
    // shorts 3 and 4 pay 244_628.90625 → −244_629 and 326_171.875 → −326_172.
    let l7 = settle_funding(7, cum2, Fixed::ZERO).unwrap();
    let s3 = settle_funding(-3, cum2, Fixed::ZERO).unwrap();
    let s4 = settle_funding(-4, cum2, Fixed::ZERO).unwrap();
    assert_eq!((l7.credit, s3.credit, s4.credit), (570_800, -244_629, -326_172));
    assert_eq!((l7.dust, s3.dust, s4.dust), (fx("0.78125"), fx("0.09375"), fx("0.125")));
    // The protocol keeps exactly one unit: Σ credit = −1, Σ dust = 1.
    assert_eq!(l7.credit + s3.credit + s4.credit, -1);
    assert_eq!(l7.dust.checked_add(s3.dust).unwrap().checked_add(s4.dust).unwrap(), Fixed::ONE);
}

#[test]
fn rate_rounds_toward_zero_and_errors() {
    // premium ±1/3 (not a binary fraction), uncapped: equal magnitudes both ways.
    let up = hourly_funding_rate(fx("4"), fx("3"), Fixed::ONE).unwrap();
    let down = hourly_funding_rate(fx("2"), fx("3"), Fixed::ONE).unwrap();
    assert_eq!(up, down.checked_neg().unwrap());
    assert!(up < fx("1").checked_div(fx("72"), Rounding::Ceil).unwrap());
    assert_eq!(hourly_funding_rate(fx("1"), Fixed::ZERO, Fixed::ONE), Err(RiskError::InvalidPrice));
    assert_eq!(hourly_funding_rate(fx("1"), fx("1"), fx("-0.1")), Err(RiskError::InvalidParameter));
    assert_eq!(funding_delta_per_contract(fx("0.001"), Fixed::ZERO, 60), Err(RiskError::InvalidPrice));
    // A zero-length step accrues nothing.
    assert_eq!(funding_delta_per_contract(fx("0.001"), fx("100"), 0).unwrap(), Fixed::ZERO);
}

proptest! {
    /// Whatever the positions, if their contracts sum to zero then credits and
    /// dust sum to exactly zero, and each dust is in [0, 1).
    #[test]
    fn settlement_is_exactly_zero_sum(
        // up to ±2^32 quote native per contract, 10^7 contracts: credits fit i64
        sizes in prop::collection::vec(-1_000_000i64..1_000_000, 1..10),
        cum in -(1i128 << 80)..(1i128 << 80), snap in -(1i128 << 80)..(1i128 << 80),
    ) {
        let closing = -sizes.iter().sum::<i64>();
        let (cum, snap) = (Fixed::from_bits(cum), Fixed::from_bits(snap));
        let mut credits = 0i128;
        let mut dust = Fixed::ZERO;
        for c in sizes.iter().copied().chain([closing]) {
            let s = settle_funding(c, cum, snap).unwrap();
            prop_assert!(!s.dust.is_negative() && s.dust < Fixed::ONE);
            credits += i128::from(s.credit);
            dust = dust.checked_add(s.dust).unwrap();
        }
        prop_assert_eq!(Fixed::checked_from_i128(credits).unwrap().checked_add(dust).unwrap(), Fixed::ZERO);
        prop_assert!(credits <= 0);
    }

    /// The blended premium lies between the old one and the trade's, moves
    /// no more than `contracts / depth` of the way, and never grows with a
    /// smaller trade.
    #[test]
    fn blend_is_bounded_by_size(old_bp in -5_000i64..5_000, new_bp in -5_000i64..5_000,
                                 c in 0u64..10_000, depth in 1u64..10_000) {
        let old = Fixed::from_ratio(old_bp, 10_000, Rounding::Floor).unwrap();
        let new = Fixed::from_ratio(new_bp, 10_000, Rounding::Floor).unwrap();
        let b = blend_mark_premium(old, new, c, depth).unwrap();
        prop_assert!(b >= old.min(new) && b <= old.max(new));
        let moved = b.checked_sub(old).unwrap().checked_abs().unwrap();
        let full = new.checked_sub(old).unwrap().checked_abs().unwrap();
        let bound = full.checked_mul_div(Fixed::from_u64(c.min(depth)), Fixed::from_u64(depth), Rounding::Ceil).unwrap();
        prop_assert!(moved <= bound);
        if c > 0 {
            let smaller = blend_mark_premium(old, new, c - 1, depth).unwrap();
            prop_assert!(smaller.checked_sub(old).unwrap().checked_abs().unwrap() <= moved);
        }
    }

    /// Rates are symmetric (mirrored premiums give opposite rates), bounded by
    /// cap / 24, and a step never accrues more than one hour.
    #[test]
    fn rate_symmetric_and_bounded(o in 1i64..1_000_000_000, x in 0i64..1_000_000_000, cap_bp in 0i64..10_000, dt in 0u64..100_000) {
        let x = x % o; // mark o ± x stays ≥ 0
        let (oracle, cap) = (Fixed::from_i64(o), Fixed::from_ratio(cap_bp, 10_000, Rounding::Floor).unwrap());
        let up = hourly_funding_rate(Fixed::from_i64(o + x), oracle, cap).unwrap();
        let down = hourly_funding_rate(Fixed::from_i64(o - x), oracle, cap).unwrap();
        prop_assert_eq!(up, down.checked_neg().unwrap());
        prop_assert!(up.checked_mul_int(24).unwrap() <= cap);
        let step = funding_delta_per_contract(up, oracle, dt).unwrap();
        let hour = funding_delta_per_contract(up, oracle, MAX_FUNDING_STEP_SECS).unwrap();
        prop_assert!(!step.is_negative() && step <= hour);
    }
}
