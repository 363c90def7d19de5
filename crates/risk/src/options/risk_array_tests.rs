//! Risk arrays: layout, grid, full revaluation against f64, freshness, cost.

use super::*;
use crate::options::math::tests::ncdf_ref;
use crate::options::op_count::count;
use crate::testutil::fx;

const DAY: i64 = 86_400;
const NOW: i64 = 1_700_000_000;

fn grid_5x3() -> RiskGrid {
    RiskGrid::new(&["-0.15", "-0.075", "0", "0.075", "0.15"].map(fx), &["-0.1", "0", "0.1"].map(fx)).unwrap()
}

/// 0.01 SOL in lamports: the contract of the on-chain SOL markets.
const CS: u64 = 10_000_000;

fn spec(call: bool, strike: &str, days: i64, contract_size: u64) -> OptionSpec {
    OptionSpec {
        is_call: call,
        strike: fx(strike),
        expiry_ts: NOW + days * DAY,
        rate: Fixed::ZERO,
        contract_size,
    }
}

fn call_30d(strike: &str) -> OptionSpec {
    spec(true, strike, 30, CS)
}

/// Scenario `k`'s model value per underlying native unit (from one contract's).
fn unit_value(a: &RiskArray, k: usize, contract_size: u64) -> f64 {
    a.contract_value(k, contract_size).unwrap().to_f64() / contract_size as f64
}

/// f64 Black–Scholes value (r = 0) for the reference.
fn bs_f64(s: f64, k: f64, vol: f64, secs: i64, call: bool) -> f64 {
    if secs <= 0 {
        return if call { (s - k).max(0.0) } else { (k - s).max(0.0) };
    }
    let t = secs as f64 / 31_536_000.0;
    let sd = vol * t.sqrt();
    let d1 = ((s / k).ln() + 0.5 * sd * sd) / sd;
    let d2 = d1 - sd;
    if call {
        s * ncdf_ref(d1) - k * ncdf_ref(d2)
    } else {
        k * ncdf_ref(-d2) - s * ncdf_ref(-d1)
    }
}

#[test]
fn grid_order_and_extended_weights() {
    let g = grid_5x3();
    // 1 decay + 5·3 core + 8 extended = 24 ≤ 40.
    assert_eq!(g.len(), 24);
    let sc = g.scenarios();
    assert_eq!((sc[0].price_shock, sc[0].vol_shock, sc[0].weight), (Fixed::ZERO, Fixed::ZERO, Fixed::ONE));
    assert_eq!((sc[1].price_shock, sc[1].vol_shock), (fx("-0.15"), fx("-0.1")));
    // Extended −66 %: weight ¾·0.15/0.66 = 0.17045…; +500 %: ¾·0.15/5 = 0.0225.
    assert!((sc[16].price_shock.to_f64() + 0.66).abs() < 1e-14);
    assert!((sc[16].weight.to_f64() - 0.75 * 0.15 / 0.66).abs() < 1e-14);
    assert!((sc[23].weight.to_f64() - 0.0225).abs() < 1e-14);
    // A linear position loses ¾ of its −15 % loss in every extended move (within rounding).
    for s in &sc[16..] {
        let loss = s.price_shock.checked_abs().unwrap().checked_mul_ceil(s.weight).unwrap();
        assert!((loss.to_f64() - 0.1125).abs() < 1e-13, "{:?}", s);
    }
    // Capacity: 8 price × 4 vol = 32 core + 1 + 8 > 40; a −100 % shock is refused.
    let eight: Vec<Fixed> = (1..=8).map(|i| Fixed::from_ratio(i, 100, Rounding::Floor).unwrap()).collect();
    assert_eq!(RiskGrid::new(&eight, &["-0.1", "0", "0.1", "0.2"].map(fx)), Err(RiskError::CapacityExceeded));
    assert_eq!(RiskGrid::new(&[fx("-1")], &[]), Err(RiskError::InvalidParameter));
    // Another grid, another id.
    let other = RiskGrid::new(&["-0.1", "0.1"].map(fx), &[]).unwrap();
    assert_ne!(other.id(), g.id());
    assert_eq!(other.len(), 1 + 2 + 8);
}

#[test]
fn scenarios_match_full_revaluation_in_f64() {
    // SOL at $150 (0.15 µUSDC per lamport), 30-day call struck at $165, σ 0.6.
    let g = grid_5x3();
    let a = compute_risk_array(&call_30d("0.165"), fx("0.15"), fx("0.6"), NOW, &g).unwrap();
    assert_eq!(usize::from(a.scenario_count), g.len());
    let v0 = bs_f64(0.15, 0.165, 0.6, 30 * DAY, true);
    assert!((a.value.to_f64() - v0).abs() < 1e-7 * 0.15);
    for (k, sc) in g.scenarios().iter().enumerate() {
        let s_k = 0.15 * (1.0 + sc.price_shock.to_f64());
        // 30-day option: the vol shock applies as given (√(30 d / 30 d) = 1).
        let vol_k = (0.6 + sc.vol_shock.to_f64()).max(0.15);
        let want = bs_f64(s_k, 0.165, vol_k, 29 * DAY, true);
        let got = unit_value(&a, k, CS);
        assert!((got - want).abs() < 1e-6 * 0.15, "scenario {k}: {got} vs {want}");
    }
    // k = 0 is pure time decay: one day of θ ≈ θ/365 (θ per year, negative).
    let decay = unit_value(&a, 0, CS) - a.value.to_f64();
    assert!(decay < 0.0 && (decay - a.theta.to_f64() / 365.0).abs() < 0.05 * decay.abs(), "{decay}");
}

#[test]
fn vol_shocks_scale_with_tenor_and_never_go_below_a_quarter() {
    // 1-day option: the ±0.1 shock becomes ±0.1·√30 = ±0.548; the down shock on
    // σ 0.3 would go negative, so it stops at 0.3/4 = 0.075.
    let g = RiskGrid::new(&[Fixed::ZERO], &["-0.1", "0.1"].map(fx)).unwrap();
    let a = compute_risk_array(&spec(false, "100", 2, 1), fx("100"), fx("0.3"), NOW, &g).unwrap();
    // Horizon max(2 d, 1 d) = 2 d: scale √15; valued one day ahead.
    let up = bs_f64(100.0, 100.0, 0.3 + 0.1 * 15f64.sqrt(), DAY, false);
    let down = bs_f64(100.0, 100.0, (0.3 - 0.1 * 15f64.sqrt()).max(0.075), DAY, false);
    assert!((unit_value(&a, 2, 1) - up).abs() < 1e-4);
    assert!((unit_value(&a, 1, 1) - down).abs() < 1e-4);
}

#[test]
fn long_option_never_loses_more_than_its_value() {
    // Every scenario value is ≥ 0, so c_k ≥ −value per contract: a long
    // position's P&L in any scenario is ≥ −contracts·value (up to rounding).
    let g = grid_5x3();
    for (strike, days, call) in
        [("0.3", 3, true), ("0.165", 30, true), ("0.05", 7, false), ("0.15", 1, false)]
    {
        let a = compute_risk_array(&spec(call, strike, days, CS), fx("0.15"), fx("0.8"), NOW, &g).unwrap();
        let mut acc = vec![Fixed::ZERO; g.len()];
        let contracts = fx("100"); // 1 SOL
        a.add_position_pnl(contracts, &mut acc).unwrap();
        let premium = fx("1000000000").checked_mul_ceil(a.value).unwrap();
        // Up to one unit of 2^-16 per contract beyond it: a contract's
        // least change is minus its value rounded up (against the holder).
        for pnl in acc {
            assert!(
                pnl.checked_add(premium).unwrap().to_f64() >= -100.0 / 65_536.0,
                "{strike} {days}: {pnl} vs {premium}"
            );
        }
    }
}

#[test]
fn position_pnl_rounds_against_both_sides() {
    let g = grid_5x3();
    let a = compute_risk_array(&spec(true, "150", 30, 1), fx("150"), fx("0.6"), NOW, &g).unwrap();
    let (mut long, mut short) = (vec![Fixed::ZERO; g.len()], vec![Fixed::ZERO; g.len()]);
    a.add_position_pnl(fx("10"), &mut long).unwrap();
    a.add_position_pnl(fx("-10"), &mut short).unwrap();
    for (l, s) in long.iter().zip(&short) {
        // The short's P&L is never better than minus the long's.
        assert!(l.checked_add(*s).unwrap() <= Fixed::ZERO);
        // … and worse by at most 2^-16 per contract (the short's `c_k + 1`).
        assert!(l.checked_add(*s).unwrap().to_f64() >= -10.0 / 65_536.0);
    }
    // Scenario 13 = (+15 %, vol −0.1): the long call gains.
    assert!(long[13].is_positive());
    assert_eq!(a.add_position_pnl(fx("1"), &mut [Fixed::ZERO; 3]), Err(RiskError::CapacityExceeded));
}

#[test]
fn stored_form_is_448_bytes_and_round_trips() {
    let g = RiskGrid::new(
        &["-0.18", "-0.135", "-0.09", "-0.045", "0", "0.045", "0.09"].map(fx),
        &["-0.1", "0", "0.1"].map(fx),
    )
    .unwrap();
    // 1 + 7·3 + 8 = 30 scenarios.
    assert_eq!(g.len(), 30);
    let spec = OptionSpec { rate: fx("0.05"), ..spec(false, "0.14", 90, CS) };
    let a = compute_risk_array(&spec, fx("0.15"), fx("0.7"), NOW, &g).unwrap();
    let bytes = a.to_bytes();
    assert_eq!(bytes.len(), 448);
    assert_eq!(RiskArray::from_bytes(&bytes).unwrap(), a);
    // Offsets of the layout table.
    assert_eq!(i64::from_le_bytes(bytes[0..8].try_into().unwrap()), NOW);
    assert_eq!(u16::from_le_bytes(bytes[12..14].try_into().unwrap()), 30);
    assert_eq!(u16::from_le_bytes(bytes[14..16].try_into().unwrap()), ARRAY_FORMAT);
    assert_eq!(Fixed::from_le_bytes(bytes[16..32].try_into().unwrap()), fx("0.15"));
    assert_eq!(i64::from_le_bytes(bytes[128..136].try_into().unwrap()), a.changes[0]);
    let mut bad = bytes;
    bad[12] = 41;
    assert_eq!(RiskArray::from_bytes(&bad), Err(RiskError::CapacityExceeded));
}

#[test]
fn freshness_rules() {
    let g = grid_5x3();
    let a = compute_risk_array(&spec(true, "150", 30, 1), fx("150"), fx("0.6"), NOW, &g).unwrap();
    let drift = fx("0.015625"); // 1/64, exact: 150/64 = 2.34375
    let f = |now: i64, oracle: &str, grid: &RiskGrid| a.freshness(now, fx(oracle), grid, 60, drift).unwrap();
    assert_eq!(f(NOW + 60, "152.34", &g), Freshness::Fresh);
    assert_eq!(f(NOW + 61, "150", &g), Freshness::Stale);
    assert_eq!(f(NOW - 1, "150", &g), Freshness::Stale);
    // A move of 2.34375 or more is drift.
    assert_eq!(f(NOW, "152.34375", &g), Freshness::Drifted);
    assert_eq!(f(NOW, "147.65625", &g), Freshness::Drifted);
    let other = RiskGrid::new(&["-0.1", "0.1"].map(fx), &[]).unwrap();
    assert_eq!(f(NOW, "150", &other), Freshness::OtherGrid);
    // An array of the first layout (changes relative to spot): its value and
    // Δ still fresh, its scenarios not current (portfolio mode does not net them).
    let old = RiskArray { format: 0, ..a };
    assert_eq!(old.freshness(NOW, fx("150"), &g, 60, drift).unwrap(), Freshness::Fresh);
    assert!(!old.header().scenarios_current() && a.header().scenarios_current());
}

#[test]
fn expiring_options_are_valued_at_intrinsic_one_day_ahead() {
    // 6 hours left: every scenario is at intrinsic (T − 1 day < 0).
    let g = grid_5x3();
    let spec = OptionSpec { expiry_ts: NOW + 6 * 3_600, ..spec(true, "100", 0, 1) };
    let a = compute_risk_array(&spec, fx("100"), fx("0.5"), NOW, &g).unwrap();
    // ATM call, intrinsic 0 (to the stored change's 2^-16).
    assert!(a.contract_value(0, 1).unwrap().to_f64() < 1.0 / 65_536.0);
    let up = a.contract_value(11, 1).unwrap(); // (+7.5 %, vol flat)
    assert!((up.to_f64() - 7.5).abs() < 1e-4, "{up}");
    assert_eq!(a.contract_value(24, 1), Err(RiskError::Domain));
    // A contract of 100 units: 100 × the change, to 2^-16.
    let a100 = compute_risk_array(&OptionSpec { contract_size: 100, ..spec }, fx("100"), fx("0.5"), NOW, &g)
        .unwrap();
    assert!((a100.contract_value(11, 100).unwrap().to_f64() - 750.0).abs() < 1e-3);
    // A contract size of 0 is refused.
    let zero = OptionSpec { contract_size: 0, ..spec };
    assert_eq!(compute_risk_array(&zero, fx("100"), fx("0.5"), NOW, &g), Err(RiskError::InvalidParameter));
}

#[test]
fn crank_cost() {
    // update_risk_array for one market on the 5×3 grid (24 scenarios):
    // 1 Black–Scholes with Greeks + 24 value-only, one √.
    let g = grid_5x3();
    let (a, muls) = count(|| compute_risk_array(&call_30d("165"), fx("150"), fx("0.6"), NOW, &g));
    a.unwrap();
    eprintln!("compute_risk_array, 24 scenarios: {muls} fixed multiplies");
    assert!(muls <= 25 * 90, "{muls}");
    // The reference per option position: one `Fixed` multiply per scenario
    // (the health path multiplies whole contracts as integers instead).
    let a = compute_risk_array(&call_30d("165"), fx("150"), fx("0.6"), NOW, &g).unwrap();
    let mut acc = vec![Fixed::ZERO; g.len()];
    let ((), muls) = count(|| a.add_position_pnl(fx("-3"), &mut acc).unwrap());
    assert_eq!(muls, 24);
}

#[test]
fn cached_terms_give_bs_value_to_the_bit() {
    // The crank computes the strike's and each volatility's terms once
    // (`StrikeTerms`); every scenario change is still exactly
    // `bs_value(S_k, σ_k, T − 1 day) − V_0`, rounded as documented.
    use crate::options::black_scholes::bs_value;
    let g = grid_5x3();
    for (call, strike, days) in
        [(true, "0.165", 30), (false, "0.135", 7), (true, "0.15", 1), (false, "0.2", 200)]
    {
        let a = compute_risk_array(&spec(call, strike, days, CS), fx("0.15"), fx("0.6"), NOW, &g).unwrap();
        let secs = days * DAY;
        let horizon = secs.max(MIN_VOL_HORIZON_SECS).unsigned_abs();
        let scale =
            sqrt(Fixed::from_i64(VOL_REF_SECS).checked_div_int(horizon, Rounding::Ceil).unwrap()).unwrap();
        for (k, sc) in g.scenarios().iter().enumerate() {
            let s_k = fx("0.15").checked_mul_floor(Fixed::ONE.checked_add(sc.price_shock).unwrap()).unwrap();
            let vol_k = if sc.vol_shock.is_zero() {
                fx("0.6")
            } else {
                let floor = fx("0.6").checked_mul_floor(MIN_VOL_FRACTION).unwrap();
                fx("0.6").checked_add(sc.vol_shock.checked_mul_floor(scale).unwrap()).unwrap().max(floor)
            };
            let input = BsInput {
                spot: s_k,
                strike: fx(strike),
                vol: vol_k,
                seconds_to_expiry: (secs - LOOK_AHEAD_SECS).max(0),
                rate: Fixed::ZERO,
                is_call: call,
            };
            let dv = bs_value(&input).unwrap().checked_sub(a.value).unwrap();
            // ⌊dv · contract size · 2^16⌋, computed here from the f64-free exact product.
            let per_contract = dv.checked_mul_int(CS as i64).unwrap();
            let unit = 1i128 << (FRAC_BITS - CHANGE_FRAC_BITS);
            // −⌈V_0 · cs · 2^16⌉ = ⌊−V_0 · cs · 2^16⌋.
            let least = (-a.value.checked_mul_int(CS as i64).unwrap().to_bits()).div_euclid(unit);
            let want = per_contract.to_bits().div_euclid(unit).max(least);
            assert_eq!(a.changes[k], i64::try_from(want).unwrap(), "{call} {strike} {days} d, scenario {k}");
        }
    }
}

/// The extended moves' constants are `from_ratio(pct, 100, Floor)` bit for
/// bit (a grid built on-chain takes them instead of dividing).
#[test]
fn extended_move_constants_are_the_ratios() {
    for (pct, mv) in EXTENDED_MOVES_PCT.into_iter().zip(EXTENDED_MOVES) {
        assert_eq!(mv, Fixed::from_ratio(pct, PCT, Rounding::Floor).unwrap(), "{pct}");
    }
}

#[test]
fn an_extended_weight_by_one_division_equals_the_general_quotient() {
    // Widest moves from 0.01 % to past the 64-bit fast path.
    let general = |w: Fixed, pct: i64| {
        w.checked_mul_int(PCT as i64 * EXTENDED_WEIGHT_NUM)
            .unwrap()
            .checked_div_int(pct.unsigned_abs() * EXTENDED_WEIGHT_DEN, Rounding::Ceil)
            .unwrap()
    };
    let bits = [1i128, 28_147_497_671, 1 << 48, 3 << 48, (1 << 48) / 7 + 13, 1 << 58, 1 << 70];
    for b in bits {
        for pct in EXTENDED_MOVES_PCT {
            let w = Fixed::from_bits(b);
            assert_eq!(extended_weight(w, pct).unwrap(), general(w, pct), "bits {b}, move {pct} %");
        }
    }
}
