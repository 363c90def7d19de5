//! Position accounting: worked fills and the cash-flow identity.

use super::*;
use proptest::prelude::*;

const PX150: u64 = 150_000_000; // $150.00 per contract, 6-decimal quote

fn pos(base: i64, quote_cost: i64, realized_pnl: i64) -> PerpPosition {
    PerpPosition { base, quote_cost, realized_pnl }
}

/// `realized_pnl − quote_cost`: the position's claim on the quote side.
fn claim(p: &PerpPosition) -> i128 {
    i128::from(p.realized_pnl) - i128::from(p.quote_cost)
}

#[test]
fn open_reduce_flip_worked_example() {
    // Buy 10 at 150: cost 10 · 150_000_000 = 1_500_000_000.
    let f = apply_fill(PerpPosition::default(), 10, PX150).unwrap();
    assert_eq!(f, Fill { position: pos(10, 1_500_000_000, 0), realized: 0, closed: 0, opened: 10 });
    // Sell 4 at 160: removed 1_500_000_000 · 4/10 = 600_000_000,
    // realised 4 · 160_000_000 − 600_000_000 = +40_000_000.
    let f = apply_fill(f.position, -4, 160_000_000).unwrap();
    assert_eq!(
        f,
        Fill { position: pos(6, 900_000_000, 40_000_000), realized: 40_000_000, closed: 4, opened: 0 }
    );
    // Sell 10 at 140: close the remaining 6 (cost 900_000_000, entry 150) at 140:
    // 6 · 140_000_000 − 900_000_000 = −60_000_000 (−10_000_000 each);
    // open short 4 at 140: cost −560_000_000. Realised total −20_000_000.
    let before = f.position;
    let f = apply_fill(before, -10, 140_000_000).unwrap();
    assert_eq!(
        f,
        Fill { position: pos(-4, -560_000_000, -20_000_000), realized: -60_000_000, closed: 6, opened: 4 }
    );
    // Cash flow: the account received 10 · 140_000_000 = 1_400_000_000.
    assert_eq!(claim(&f.position) - claim(&before), 1_400_000_000);
    // Buy 4 back at 130: short realises 560_000_000 − 520_000_000 = +40_000_000; flat.
    let f = apply_fill(f.position, 4, 130_000_000).unwrap();
    assert_eq!(f.position, pos(0, 0, 20_000_000));
    assert_eq!(health_cost_basis(&f.position).unwrap(), Fixed::from_i64(-20_000_000));
}

#[test]
fn partial_closes_round_realised_pnl_down() {
    // Long 3 for 1_000 (entry 333.33): sell 1 at 300 removes ⌈1000/3⌉ = 334,
    // realising 300 − 334 = −34 (exact −33.33); remaining cost 666, entry 333.
    let f = apply_fill(pos(3, 1_000, 0), -1, 300).unwrap();
    assert_eq!((f.realized, f.position), (-34, pos(2, 666, -34)));
    // Short 3 for −1_000 (sold at 333.33): buy 1 at 300 removes ⌈−1000/3⌉ = −333,
    // realising 333 − 300 = +33 (exact +33.33); remaining cost −667.
    let f = apply_fill(pos(-3, -1_000, 0), 1, 300).unwrap();
    assert_eq!((f.realized, f.position), (33, pos(-2, -667, 33)));
    // The last contract removes the rest exactly: over the whole close the long
    // realises 3 · 300 − 1_000 = −100 and the short +100, to the unit.
    let long = apply_fill(apply_fill(pos(3, 1_000, 0), -1, 300).unwrap().position, -2, 300).unwrap();
    let short = apply_fill(apply_fill(pos(-3, -1_000, 0), 1, 300).unwrap().position, 2, 300).unwrap();
    assert_eq!((long.position, short.position), (pos(0, 0, -100), pos(0, 0, 100)));
}

#[test]
fn zero_fill_and_errors() {
    let p = pos(5, 750, 7);
    assert_eq!(apply_fill(p, 0, 123).unwrap(), Fill { position: p, realized: 0, closed: 0, opened: 0 });
    assert_eq!(apply_fill(p, i64::MAX, u64::MAX), Err(RiskError::Overflow));
    assert_eq!(apply_fill(pos(i64::MAX, 0, 0), 1, 0), Err(RiskError::Overflow));
}

#[test]
fn unit_helpers() {
    // 3 contracts of 0.01 SOL (10_000_000 lamports) = 30_000_000 lamports.
    assert_eq!(base_native(-3, 10_000_000).unwrap(), Fixed::from_i64(-30_000_000));
    // $1.50 per 0.01 SOL contract = 1_500_000 / 10_000_000 = 0.15 micro-USDC per lamport
    // (rounded down: 0.15 is not a binary fraction).
    let p = price_per_native(1_500_000, 10_000_000).unwrap();
    assert!(
        p <= "0.15".parse().unwrap()
            && p > "0.15".parse::<Fixed>().unwrap().checked_sub(Fixed::DELTA).unwrap()
    );
    assert_eq!(
        price_per_native(1_500_000, 1 << 20).unwrap(),
        Fixed::from_ratio(1_500_000, 1 << 20, Rounding::Floor).unwrap()
    );
    assert_eq!(price_per_native(1, 0), Err(RiskError::InvalidParameter));
    assert_eq!(base_native(i64::MAX, u64::MAX), Err(RiskError::Overflow));
    // Health cost basis: paid 900, realised +40 unsettled → basis 860.
    assert_eq!(health_cost_basis(&pos(6, 900, 40)).unwrap(), Fixed::from_i64(860));
}

/// A position built the way fills build them: `base` contracts at an average
/// entry of `entry + frac/|base|` (so entries need not be whole units).
fn position() -> impl Strategy<Value = PerpPosition> {
    (-1_000_000i64..1_000_000, 0u64..1_000_000_000, 0i64..1_000_000, -1_000_000_000i64..1_000_000_000)
        .prop_map(|(base, entry, frac, realized)| {
            let frac = if base == 0 { 0 } else { frac % base.abs() };
            pos(base, base * entry as i64 + base.signum() * frac, realized)
        })
}

proptest! {
    /// Every fill moves `realized − cost` by exactly `−delta · price`, so a
    /// trade between two accounts changes their claims by opposite amounts.
    #[test]
    fn fills_are_zero_sum(a in position(), b in position(), delta in -2_000_000i64..2_000_000, price in 0u64..1_000_000_000) {
        let fa = apply_fill(a, delta, price).unwrap();
        let fb = apply_fill(b, -delta, price).unwrap();
        let flow = i128::from(delta) * i128::from(price);
        prop_assert_eq!(claim(&fa.position) - claim(&a), -flow);
        prop_assert_eq!(claim(&fb.position) - claim(&b), flow);
        prop_assert_eq!(fa.closed + fa.opened, delta.abs());
        prop_assert!(fa.position.base == 0 || fa.position.quote_cost.signum() * fa.position.base.signum() >= 0);
    }

    /// A reduction keeps the entry price `cost / base` within one quote native
    /// unit, and realises the exact proportional PnL rounded down (< 1 below).
    #[test]
    fn reductions_keep_entry_and_floor_pnl(p in position(), cut in 1i64..1_000_000, price in 0u64..1_000_000_000) {
        prop_assume!(p.base.abs() > 1);
        let c = cut % (p.base.abs() - 1) + 1; // 1 ..= |base| − 1: a partial close
        let f = apply_fill(p, -p.base.signum() * c, price).unwrap();
        let (b0, b1) = (i128::from(p.base), i128::from(f.position.base));
        let (c0, c1) = (i128::from(p.quote_cost), i128::from(f.position.quote_cost));
        // |c1/b1 − c0/b0| < 1  ⇔  |c1·b0 − c0·b1| < |b0·b1|
        prop_assert!((c1 * b0 - c0 * b1).abs() < (b0 * b1).abs());
        // exact = sign(base)·c·price − c0·c/|b0|; realised·|b0| ∈ (exact·|b0| − |b0|, exact·|b0|]
        let (cc, px) = (i128::from(c), i128::from(price));
        let exact_scaled = b0.signum() * cc * px * b0.abs() - c0 * cc;
        let got_scaled = i128::from(f.realized) * b0.abs();
        prop_assert!(got_scaled <= exact_scaled && got_scaled > exact_scaled - b0.abs());
    }

    /// From flat, any sequence of fills at one price that ends flat realises
    /// nothing (never a profit) and leaves no cost behind.
    #[test]
    fn round_trips_at_one_price_realise_nothing(deltas in prop::collection::vec(-1_000i64..1_000, 1..12), price in 0u64..1_000_000_000) {
        let mut p = PerpPosition::default();
        for d in deltas {
            p = apply_fill(p, d, price).unwrap().position;
        }
        let close = apply_fill(p, -p.base, price).unwrap().position;
        prop_assert!(close.realized_pnl <= 0);
        prop_assert_eq!(close, PerpPosition::default());
    }

    /// Two accounts trading with each other at random prices: their claims
    /// always sum to zero, and once flat their realised PnLs cancel.
    #[test]
    fn counterparties_stay_zero_sum(fills in prop::collection::vec((-1_000i64..1_000, 1u64..1_000_000_000), 1..12)) {
        let (mut a, mut b) = (PerpPosition::default(), PerpPosition::default());
        for (d, px) in fills {
            a = apply_fill(a, d, px).unwrap().position;
            b = apply_fill(b, -d, px).unwrap().position;
            prop_assert_eq!(claim(&a) + claim(&b), 0);
        }
        let last = 1 + (a.quote_cost.unsigned_abs() % 1_000_000_000);
        let (a, b) = (apply_fill(a, -a.base, last).unwrap().position, apply_fill(b, -b.base, last).unwrap().position);
        prop_assert_eq!(a.realized_pnl + b.realized_pnl, 0);
    }
}
