//! The scan against references written in `Fixed` (its roundings, one
//! operation at a time), and its 64-bit words against its 128-bit ones.

use super::*;
use crate::options::risk_array::{RiskArray, ARRAY_FORMAT, RISK_ARRAY_SCENARIOS};
use crate::portfolio::PortfolioParams;
use proptest::prelude::*;

fn grid() -> PreparedGrid {
    PreparedGrid::new(&crate::portfolio::tests::params()).unwrap()
}

/// An array with the given per-contract changes (scenario units).
fn array_with(changes: &[i64]) -> RiskArray {
    let mut c = [0i64; RISK_ARRAY_SCENARIOS];
    c[..changes.len()].copy_from_slice(changes);
    RiskArray {
        computed_at: 0,
        grid_id: 0,
        scenario_count: changes.len() as u16,
        format: ARRAY_FORMAT,
        spot: Fixed::ONE,
        vol: Fixed::ZERO,
        value: Fixed::ZERO,
        delta: Fixed::ZERO,
        gamma: Fixed::ZERO,
        vega: Fixed::ZERO,
        theta: Fixed::ZERO,
        changes: c,
    }
}

/// `f` rounded to 2^-16, down or up.
fn to_16(f: Fixed, up: bool) -> Fixed {
    let unit = 1i128 << TO_UNITS;
    let down = f.to_bits().div_euclid(unit) * unit;
    Fixed::from_bits(if up && down != f.to_bits() { down + unit } else { down })
}

/// The worst loss as first specified (module docs), in `Fixed`.
fn reference(g: &PreparedGrid, linear: Fixed, pnl: &[Fixed]) -> (Fixed, Option<usize>) {
    let mut worst = (Fixed::ZERO, None);
    let scenarios = g.grid().scenarios();
    let all: Vec<usize> = if pnl.is_empty() {
        let [lo, hi] = g.linear_extremes;
        vec![lo.min(hi), lo.max(hi)]
    } else {
        (0..scenarios.len()).collect()
    };
    for k in all {
        let sc = &scenarios[k];
        let opt = pnl.get(k).copied().unwrap_or(Fixed::ZERO);
        let l = if sc.price_shock.is_negative() { linear.checked_ceil().unwrap() } else { linear.floor() };
        let lin = to_16(l.checked_mul_floor(sc.price_shock).unwrap(), false);
        let loss = lin.checked_add(opt).unwrap().checked_neg().unwrap();
        let w = if !loss.is_positive() || sc.weight == Fixed::ONE {
            loss
        } else {
            to_16(loss.checked_mul_ceil(sc.weight).unwrap(), true)
        };
        if w > worst.0 {
            worst = (w, Some(k));
        }
    }
    worst
}

/// A grid whose extended moves reach +500 %.
fn params() -> PortfolioParams {
    crate::portfolio::tests::params()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// The health path's option P&L (64-bit words for whole contracts,
    /// else 128-bit or the general product) is the reference's, to the bit:
    /// whole and fractional counts, small and huge, several legs.
    #[test]
    fn option_pnl_is_the_reference(
        legs in prop::collection::vec((
            prop_oneof![-(1i128 << 40)..(1i128 << 40), -(1i128 << 100)..(1i128 << 100), -(1i128 << 70)..(1i128 << 70)],
            any::<bool>(),
        ), 1..4),
        changes in prop::collection::vec(prop_oneof![-(1i64 << 20)..(1i64 << 20), any::<i64>().prop_map(|c| c / 2)], 1..30),
    ) {
        let a = array_with(&changes);
        let n = changes.len();
        let mut want = vec![Fixed::ZERO; n];
        let mut got = ScenarioPnl::default();
        for (contracts, whole) in legs {
            let bits = if whole { (contracts >> 48) << 48 } else { contracts };
            let c = Fixed::from_bits(bits);
            let w = a.add_position_pnl(c, &mut want);
            let g = got.add(&a.view(), c, n);
            prop_assert_eq!(w.is_ok(), g.is_ok(), "{:?} {:?}", w, g);
            if w.is_err() {
                return Ok(());
            }
            let leg = OptionLeg::new(&a.view(), c).unwrap();
            let mut one = vec![Fixed::ZERO; n];
            a.add_position_pnl(c, &mut one).unwrap();
            for (k, o) in one.iter().enumerate() {
                prop_assert_eq!(leg.pnl(k).unwrap() << TO_UNITS, o.to_bits());
            }
        }
        for (k, w) in want.iter().enumerate() {
            prop_assert_eq!(got.get(k) << TO_UNITS, w.to_bits(), "scenario {}", k);
        }
    }

    /// The scan (a shock's product reused, a weighed loss skipped when it
    /// cannot win, 64-bit words and products when they fit) is the
    /// reference's roundings in `Fixed`, for books of every size.
    #[test]
    fn the_scan_is_the_reference(
        linear in -(1i128 << 100)..(1i128 << 100),
        option in prop::option::of((-(1i128 << 40)..(1i128 << 40), prop::collection::vec(-(1i64 << 40)..(1i64 << 40), 24))),
        scale in 0u32..80,
    ) {
        let g = grid();
        let linear = Fixed::from_bits(linear >> scale);
        let mut pnl = ScenarioPnl::default();
        let mut want = Vec::new();
        if let Some((c, changes)) = option {
            let a = array_with(&changes);
            let c = Fixed::from_i64((c >> scale.min(39)) as i64);
            pnl.add(&a.view(), c, g.grid().len()).unwrap();
            want = vec![Fixed::ZERO; g.grid().len()];
            a.add_position_pnl(c, &mut want).unwrap();
        }
        let w = worst(&g, linear, &pnl, None).unwrap();
        prop_assert_eq!((w.loss, w.scenario), reference(&g, linear, &want));
    }

    /// A book scanned with its option as a leg added during the scan
    /// (a trade's position) equals the same book with the leg folded in,
    /// in both word sizes.
    #[test]
    fn an_extra_leg_is_a_folded_leg(
        linear in -(1i128 << 60)..(1i128 << 60),
        c in -(1i64 << 30)..(1i64 << 30),
        d in -(1i64 << 30)..(1i64 << 30),
        changes in prop::collection::vec(-(1i64 << 28)..(1i64 << 28), 24),
    ) {
        let g = grid();
        let linear = Fixed::from_bits(linear);
        let a = array_with(&changes);
        let n = g.grid().len();
        let mut folded = ScenarioPnl::default();
        folded.add(&a.view(), Fixed::from_i64(c), n).unwrap();
        folded.add(&a.view(), Fixed::from_i64(d), n).unwrap();
        let mut one = ScenarioPnl::default();
        one.add(&a.view(), Fixed::from_i64(c), n).unwrap();
        let extra = OptionLeg::new(&a.view(), Fixed::from_i64(d)).unwrap();
        let (x, y) = (worst(&g, linear, &folded, None).unwrap(), worst(&g, linear, &one, Some(extra)).unwrap());
        prop_assert_eq!((x.loss, x.scenario), (y.loss, y.scenario));
        // The 128-bit scan of the same book.
        let lin = LinearPnl::new(linear);
        let wide = scan_wide(&g, &lin, &folded, None, false).unwrap();
        if folded.wide.is_empty() && lin.is_narrow(&g) {
            let narrow = scan_narrow(&g, &lin, &folded.narrow, None, false).unwrap();
            prop_assert_eq!(narrow, wide);
        }
    }
}

/// The bound between the words: a leg whose bound passes 2^60 moves the
/// book to 128-bit words, with the same sums.
#[test]
fn a_large_book_moves_to_wide_words() {
    let g = grid();
    let n = g.grid().len();
    let changes: Vec<i64> = (0..n as i64).map(|k| (k - 12) << 36).collect();
    let a = array_with(&changes);
    let mut pnl = ScenarioPnl::default();
    pnl.add(&a.view(), Fixed::from_i64(1 << 20), n).unwrap();
    assert!(pnl.wide.is_empty(), "2^20 · 2^39.6 < 2^60: narrow");
    pnl.add(&a.view(), Fixed::from_i64(-(1 << 23)), n).unwrap();
    assert!(!pnl.wide.is_empty(), "past 2^60: wide");
    let mut want = vec![Fixed::ZERO; n];
    a.add_position_pnl(Fixed::from_i64(1 << 20), &mut want).unwrap();
    a.add_position_pnl(Fixed::from_i64(-(1 << 23)), &mut want).unwrap();
    for (k, w) in want.iter().enumerate() {
        assert_eq!(pnl.get(k) << TO_UNITS, w.to_bits());
    }
    let _ = params();
}
