//! Worked expiries of SOL options on 0.01 SOL contracts, in µUSDC: $1 is
//! 10,000 per contract, so $165.00 is 1,650,000 and $171.20 is 1,712,000.
use super::*;

const CALL: bool = true;
const PUT: bool = false;

/// A $165 call settling at $171.20 is worth $6.20 of SOL per SOL, 0.062 USDC
/// per contract; 100 contracts long bought at 0.049053 each realise
/// `100 · 62,000 − 4,905,300 = 1,294,700`; the short the opposite.
#[test]
fn an_in_the_money_call_pays_the_difference() {
    let i = intrinsic_per_contract(CALL, 1_712_000, 1_650_000).unwrap();
    assert_eq!(i, 62_000);
    let v = i64::try_from(i).unwrap();
    assert_eq!(expiry_pnl(100, v, 4_905_300).unwrap(), 1_294_700);
    assert_eq!(expiry_pnl(-100, v, -4_905_300).unwrap(), -1_294_700);
}

/// A $135 put at $171.20 expires worthless: the long loses its premium
/// (30 contracts at 0.0404 USDC: −1,212,000), the short keeps it.
#[test]
fn an_out_of_the_money_put_expires_worthless() {
    assert_eq!(intrinsic_per_contract(PUT, 1_712_000, 1_350_000).unwrap(), 0);
    assert_eq!(expiry_pnl(30, 0, 1_212_000).unwrap(), -1_212_000);
    assert_eq!(expiry_pnl(-30, 0, -1_212_000).unwrap(), 1_212_000);
}

/// At the strike neither a call nor a put is worth anything, and one unit
/// either side is worth one unit per contract to one of them.
#[test]
fn at_the_strike_both_are_worthless() {
    for is_call in [CALL, PUT] {
        assert_eq!(intrinsic_per_contract(is_call, 1_650_000, 1_650_000).unwrap(), 0);
    }
    assert_eq!(intrinsic_per_contract(CALL, 1_650_001, 1_650_000).unwrap(), 1);
    assert_eq!(intrinsic_per_contract(PUT, 1_650_001, 1_650_000).unwrap(), 0);
    assert_eq!(intrinsic_per_contract(PUT, 1_649_999, 1_650_000).unwrap(), 1);
    assert_eq!(intrinsic_per_contract(CALL, 1_649_999, 1_650_000).unwrap(), 0);
}

/// A bear put spread: long the $150 put, short the $140 put, 50 contracts
/// each, paid 0.07 and received 0.03 USDC per contract (net 2,000,000).
/// - at $131.50: 185,000 − 85,000 = 100,000 per contract, the spread's
///   width ($10 · 0.01): 50 · 185,000 − 3,500,000 − 50 · 85,000 +
///   1,500,000 = +3,000,000;
/// - at $145: only the long is in the money: 50 · 50,000 − 3,500,000 +
///   1,500,000 = 500,000;
/// - at $160: both worthless, the net premium lost: −2,000,000.
#[test]
fn a_put_spread_pays_at_most_its_width() {
    let spread = |s: i64| {
        let long = i64::try_from(intrinsic_per_contract(PUT, s, 1_500_000).unwrap()).unwrap();
        let short = i64::try_from(intrinsic_per_contract(PUT, s, 1_400_000).unwrap()).unwrap();
        (long, short, expiry_pnl(50, long, 3_500_000).unwrap() + expiry_pnl(-50, short, -1_500_000).unwrap())
    };
    assert_eq!(spread(1_315_000), (185_000, 85_000, 3_000_000));
    assert_eq!(spread(1_450_000), (50_000, 0, 500_000));
    assert_eq!(spread(1_600_000), (0, 0, -2_000_000));
    // Never more than the width less the net premium, wherever SOL settles.
    for s in (0..3_000_000).step_by(12_345) {
        let (long, short, pnl) = spread(s);
        assert!(long - short <= 100_000 && (-2_000_000..=3_000_000).contains(&pnl), "{s}");
    }
}

/// Longs and shorts of one market sum to zero, to the unit: the value per
/// contract is one integer and the contracts sum to zero.
#[test]
fn longs_and_shorts_sum_to_zero() {
    let i = i64::try_from(intrinsic_per_contract(CALL, 1_712_345, 1_650_000).unwrap()).unwrap();
    // Three longs and two shorts (Σ contracts = 0), costs summing to zero (fills between them).
    let positions = [(7i64, 343_371i64), (93, 4_561_929), (1, 49_053), (-60, -2_943_180), (-41, -2_011_173)];
    let costs: i64 = positions.iter().map(|p| p.1).sum();
    let total: i64 = positions.iter().map(|&(c, q)| expiry_pnl(c, i, q).unwrap()).sum();
    assert_eq!(total, -costs);
}

#[test]
fn refusals() {
    assert_eq!(intrinsic_per_contract(CALL, -1, 1_650_000), Err(RiskError::InvalidPrice));
    assert_eq!(expiry_pnl(i64::MAX, 2, 0), Err(RiskError::Overflow));
    assert_eq!(expiry_pnl(i64::MIN, 1, 1), Err(RiskError::Overflow));
    assert_eq!(intrinsic_per_contract(PUT, 0, u64::MAX).unwrap(), u64::MAX);
}
