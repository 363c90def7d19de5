//! Settlement: worked sampling window and PnL limits.

use super::*;
use crate::perp::price_per_native;
use crate::testutil::fx;
use proptest::prelude::*;

const EXPIRY: i64 = 10_000; // window [8_200, 10_000]

#[test]
fn settlement_price_worked_example() {
    let mut s = PriceSamples::default();
    // Before the window, or after expiry: refused.
    assert_eq!(s.record(fx("100"), 8_199, 0, EXPIRY), Ok(false));
    assert_eq!(s.record(fx("100"), 10_001, 0, EXPIRY), Ok(false));
    // 100 at 8_500 stands for 300 s (since 8_200); 110 at 9_100 and 105 at
    // 10_000 follow gaps of 600 s and 900 s but stand for 300 s each (the
    // cap): (30_000 + 33_000 + 31_500) / 900 = 105.
    assert_eq!(s.record(fx("100"), 8_500, 0, EXPIRY), Ok(true));
    assert_eq!(s.record(fx("110"), 9_100, 0, EXPIRY), Ok(true));
    // Not newer than the last sample: refused, nothing changes.
    let before = s;
    assert_eq!(s.record(fx("999"), 9_100, 0, EXPIRY), Ok(false));
    assert_eq!(s, before);
    assert_eq!(s.record(fx("105"), 10_000, 0, EXPIRY), Ok(true));
    assert_eq!((s.sum_price_secs, s.total_secs, s.count, s.last_ts), (fx("94500"), 900, 3, 10_000));
    assert_eq!(s.settlement_price(3), Some(fx("105")));
    // Too few samples: the caller falls back to the first oracle price after expiry.
    assert_eq!(s.settlement_price(4), None);
    assert_eq!(s.record(Fixed::ZERO, 9_500, 0, EXPIRY), Err(RiskError::InvalidPrice));
}

#[test]
fn late_window_start_and_zero_time() {
    // A market listed at 9_400 opens its window there, not at 8_200:
    // 120 at 9_700 weighs 300 s, 130 at 10_000 weighs 300 s → 125.
    let mut s = PriceSamples::default();
    assert_eq!(s.record(fx("120"), 9_300, 9_400, EXPIRY), Ok(false));
    assert_eq!(s.record(fx("120"), 9_700, 9_400, EXPIRY), Ok(true));
    assert_eq!(s.record(fx("130"), 10_000, 9_400, EXPIRY), Ok(true));
    assert_eq!(s.settlement_price(2), Some(fx("125")));
    // A single sample exactly at the window start covers no time: no price.
    let mut z = PriceSamples::default();
    assert_eq!(z.record(fx("120"), 8_200, 0, EXPIRY), Ok(true));
    assert_eq!((z.count, z.settlement_price(1)), (1, None));
}

#[test]
fn settlement_rules_and_timeout() {
    use SettlementRule::{Oracle, Stored};
    use SettlementSource::{OracleAfterExpiry, Samples, Timeout};
    let mut s = PriceSamples::default();
    assert!(s.record(fx("120"), 9_100, 0, EXPIRY).unwrap()); // 300 s (gap 900, capped)
    assert!(s.record(fx("130"), 9_400, 0, EXPIRY).unwrap()); // 300 s
    assert!(s.record(fx("125"), 9_700, 0, EXPIRY).unwrap()); // 300 s: 900 s covered
    let stable = (fx("111"), EXPIRY - 100);
    let rule = |s: &PriceSamples, min: u32, stable: (Fixed, i64), now: i64| {
        settlement_rule(s, min, stable, EXPIRY, 60, now)
    };
    // Three samples over 900 s meet a minimum of 3: their mean (120 + 130 + 125) / 3 = 125.
    assert_eq!(rule(&s, 3, stable, EXPIRY + 1), Stored(Samples, fx("125")));
    // A minimum of 5: the oracle published within a minute of expiry, until the timeout…
    let minute = Oracle { source: OracleAfterExpiry, earliest_publish: EXPIRY, latest_publish: EXPIRY + 60 };
    assert_eq!(rule(&s, 5, stable, EXPIRY + 3_600), minute);
    // …then the mean of what there is.
    assert_eq!(rule(&s, 5, stable, EXPIRY + 3_601), Stored(Timeout, fx("125")));
    // Five samples in the last five seconds (5 s covered) are not enough.
    let mut late = PriceSamples::default();
    for t in EXPIRY - 4..=EXPIRY {
        assert!(late.record(fx("200"), t, 0, EXPIRY).unwrap());
    }
    assert_eq!((late.count, late.total_secs), (5, 304));
    assert_eq!(rule(&late, 5, stable, EXPIRY + 1), minute);
    // No samples at the timeout: the stable price if it moved in the window…
    let none = PriceSamples::default();
    assert_eq!(rule(&none, 5, stable, EXPIRY + 3_601), Stored(Timeout, fx("111")));
    assert_eq!(rule(&none, 5, (fx("111"), EXPIRY - 1_800), EXPIRY + 3_601), Stored(Timeout, fx("111")));
    // …not if it last moved before it: then any fresh oracle price after expiry.
    let revived = Oracle { source: Timeout, earliest_publish: EXPIRY, latest_publish: i64::MAX };
    assert_eq!(rule(&none, 5, (fx("111"), EXPIRY - 1_801), EXPIRY + 3_601), revived);
}

#[test]
fn settle_limit_worked_examples() {
    // Binary-exact: 0.25 · 1_000 · 1_500 = 375_000.
    assert_eq!(settle_limit(fx("1000"), fx("1500"), fx("0.25")).unwrap(), 375_000);
    // Mango's default on 10 SOL at a $150 stable price (0.15 micro-USDC per
    // lamport, floored from 150_000_000 per 1e9-lamport contract): 0.2 · 1e10 · 0.15
    // = 300_000_000 exactly, but 0.2 and 0.15 are not binary fractions and both
    // round down here, so the winner gets 299_999_999.
    let stable = price_per_native(150_000_000, 1_000_000_000).unwrap();
    assert_eq!(settle_limit(fx("10000000000"), stable, fx("0.2")).unwrap(), 299_999_999);
    assert_eq!(settle_limit(fx("-1"), stable, fx("0.2")), Err(RiskError::InvalidParameter));
    assert_eq!(settle_limit(fx("1"), fx("-1"), fx("0.2")), Err(RiskError::InvalidPrice));
}

#[test]
fn settleable_and_amount_worked_examples() {
    // Realised +50, unrealised +200, 100 left in the window: 50 + 100 = 150 of 250.
    assert_eq!(settleable(50, 200, 100), 150);
    // Realised +50, unrealised −30: only the net 20.
    assert_eq!(settleable(50, -30, 100), 20);
    // Realised −40, unrealised +300: net 260, but only the window's 100.
    assert_eq!(settleable(-40, 300, 100), 100);
    // Net loser: nothing.
    assert_eq!(settleable(10, -30, 1_000), 0);
    // Winner can settle 150, loser owes 120 (never limited): 120 moves.
    assert_eq!(settle_amount(250, -120, 150, u64::MAX), 120);
    // Loser owes 500: the winner's allowance binds.
    assert_eq!(settle_amount(250, -500, 150, u64::MAX), 150);
    // Not a winner/loser pair: nothing.
    assert_eq!(settle_amount(-1, -500, 150, u64::MAX), 0);
    assert_eq!(settle_amount(100, 5, 150, u64::MAX), 0);
    // Of the 150 settled with realised +50, 100 comes out of the window.
    assert_eq!(window_charge(50, 150), 100);
    assert_eq!(window_charge(50, 30), 0);
    assert_eq!(window_charge(-40, 100), 100);
}

proptest! {
    /// The settled amount is never more than either side's PnL, realised
    /// profit is always settleable in full, and the window is never overdrawn.
    #[test]
    fn settlement_bounds(r in -1_000_000i64..1_000_000, u in -1_000_000i64..1_000_000,
                         left in 0u64..1_000_000, loss in -1_000_000i64..0) {
        let allowed = settleable(r, u, left);
        prop_assert!(allowed >= 0 && allowed <= (r + u).max(0));
        prop_assert!(allowed >= r.min(r + u).max(0));
        let amount = settle_amount(r + u, loss, allowed as u64, u64::MAX);
        prop_assert!(amount <= loss.unsigned_abs() && amount as i64 <= (r + u).max(0));
        prop_assert!(window_charge(r, amount) <= left);
    }

    /// The settlement price lies between the lowest and highest sample.
    #[test]
    fn settlement_price_within_samples(samples in prop::collection::vec((1u64..1_000_000, 1i64..200), 1..20)) {
        let mut s = PriceSamples::default();
        let (mut now, mut lo, mut hi) = (EXPIRY - 1_800, Fixed::MAX, Fixed::ZERO);
        for (p, step) in samples {
            now += step;
            let p = Fixed::from_u64(p);
            if s.record(p, now, 0, EXPIRY).unwrap() {
                lo = lo.min(p);
                hi = hi.max(p);
            }
        }
        if let Some(m) = s.settlement_price(1) {
            prop_assert!(m >= lo && m <= hi);
        }
    }
}
