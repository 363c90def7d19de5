//! Black–Scholes against an f64 reference over a grid.

use super::*;
use crate::options::math::tests::ncdf_ref;
use crate::options::op_count::count;

/// Value accuracy required: 0.01% of notional (|err| ≤ 1e-4 · S per unit).
const VALUE_TOL_OF_SPOT: f64 = 1e-4;
/// Delta accuracy (dimensionless).
const DELTA_TOL: f64 = 1e-6;
/// Multiply budget per call (module docs).
const MUL_BUDGET_R0: u64 = 90;
const MUL_BUDGET_R: u64 = 100;

struct RefOut {
    value: f64,
    delta: f64,
    gamma: f64,
    vega: f64,
    theta: f64,
}

fn bs_ref(s: f64, k: f64, vol: f64, t: f64, r: f64, call: bool) -> RefOut {
    let sd = vol * t.sqrt();
    let d1 = ((s / k).ln() + (r + vol * vol / 2.0) * t) / sd;
    let d2 = d1 - sd;
    let kd = k * (-r * t).exp();
    let pdf = (-d1 * d1 / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let (n1, n2) = (ncdf_ref(d1), ncdf_ref(d2));
    let gamma = pdf / (s * sd);
    let vega = s * pdf * t.sqrt();
    let decay = -s * pdf * vol / (2.0 * t.sqrt());
    if call {
        RefOut { value: s * n1 - kd * n2, delta: n1, gamma, vega, theta: decay - r * kd * n2 }
    } else {
        RefOut {
            value: kd * (1.0 - n2) - s * (1.0 - n1),
            delta: n1 - 1.0,
            gamma,
            vega,
            theta: decay + r * kd * (1.0 - n2),
        }
    }
}

fn run(s: f64, k: f64, vol: f64, secs: i64, r: f64, call: bool) -> Greeks {
    bs_price_greeks(&BsInput {
        spot: Fixed::from_f64(s),
        strike: Fixed::from_f64(k),
        vol: Fixed::from_f64(vol),
        seconds_to_expiry: secs,
        rate: Fixed::from_f64(r),
        is_call: call,
    })
    .unwrap()
}

#[test]
fn atm_call_worked_example() {
    // S = K = 100, σ = 0.2, T = 1y, r = 0: d1 = 0.1, d2 = −0.1,
    // call = 100·(N(0.1) − N(−0.1)) = 100·(0.539827837 − 0.460172163) = 7.9655674
    let g = run(100.0, 100.0, 0.2, 31_536_000, 0.0, true);
    // Tolerance: two N() evaluations at ≤ 7.5e-8 each, times S = 100 → 1.5e-5.
    assert!((g.value.to_f64() - 7.965_567_455).abs() < 1.5e-5, "{}", g.value);
    assert!((g.delta.to_f64() - 0.539_827_837).abs() < DELTA_TOL);
    // Γ = φ(0.1)/(100·0.2) = 0.396952547/20 = 0.0198476
    assert!((g.gamma.to_f64() - 0.019_847_627).abs() < 1e-7);
    // vega = 100·φ(0.1)·1 = 39.695
    assert!((g.vega.to_f64() - 39.695_254_7).abs() < 1e-4);
    // put-call parity with r = 0: put = call − S + K = call
    let p = run(100.0, 100.0, 0.2, 31_536_000, 0.0, false);
    assert!((p.value.to_f64() - g.value.to_f64()).abs() < 1e-6);
}

#[test]
fn grid_matches_f64_reference() {
    let spots = [40.0, 80.0, 95.0, 100.0, 105.0, 125.0, 250.0];
    let vols = [0.05, 0.2, 0.6, 1.2, 2.5];
    let secs = [3_600, 86_400, 7 * 86_400, 30 * 86_400, 31_536_000, 2 * 31_536_000];
    let rates = [0.0, 0.05];
    let mut worst = 0.0f64;
    for &s in &spots {
        for &vol in &vols {
            for &t in &secs {
                for &r in &rates {
                    for call in [true, false] {
                        let ty = t as f64 / 31_536_000.0;
                        let want = bs_ref(s, 100.0, vol, ty, r, call);
                        let got = run(s, 100.0, vol, t, r, call);
                        let err = (got.value.to_f64() - want.value.max(0.0)).abs();
                        worst = worst.max(err / s);
                        let ctx = format!("S={s} σ={vol} t={t} r={r} call={call}");
                        assert!(err <= VALUE_TOL_OF_SPOT * s, "value {ctx}: {} vs {}", got.value, want.value);
                        assert!((got.delta.to_f64() - want.delta).abs() <= DELTA_TOL, "delta {ctx}");
                        // Gamma in "dollar" terms (Γ·S²) and vega/theta relative to spot.
                        let gd = (got.gamma.to_f64() - want.gamma).abs() * s * s;
                        assert!(gd <= VALUE_TOL_OF_SPOT * s, "gamma {ctx}: {} vs {}", got.gamma, want.gamma);
                        let vd = (got.vega.to_f64() - want.vega).abs();
                        assert!(vd <= VALUE_TOL_OF_SPOT * s, "vega {ctx}: {} vs {}", got.vega, want.vega);
                        let td = (got.theta.to_f64() - want.theta).abs();
                        assert!(
                            td <= VALUE_TOL_OF_SPOT * s + 1e-6 * want.theta.abs(),
                            "theta {ctx}: {} vs {}",
                            got.theta,
                            want.theta
                        );
                    }
                }
            }
        }
    }
    eprintln!("black-scholes grid: worst value error / spot = {worst:e}");
    // In practice the error is far below the requirement.
    assert!(worst < 1e-6, "worst relative value error {worst}");
}

#[test]
fn native_unit_prices() {
    // SOL at $150 in micro-USDC per lamport = 0.15; strike $160 = 0.16;
    // σ = 0.8, 30 days. Same answer as in dollars, scaled by 1e-3.
    let a = run(0.15, 0.16, 0.8, 30 * 86_400, 0.0, true);
    let b = run(150.0, 160.0, 0.8, 30 * 86_400, 0.0, true);
    assert!((a.value.to_f64() * 1000.0 - b.value.to_f64()).abs() < 1e-4 * 150.0);
    assert!((a.delta.to_f64() - b.delta.to_f64()).abs() < DELTA_TOL);
}

#[test]
fn expired_and_degenerate() {
    // Expired: intrinsic. Call S=110, K=100 → 10, Δ=1; put → 0, Δ=0.
    let g = run(110.0, 100.0, 0.5, 0, 0.0, true);
    assert_eq!(g.value, Fixed::from_i64(10));
    assert_eq!(g.delta, Fixed::ONE);
    assert_eq!(g.gamma, Fixed::ZERO);
    let p = run(110.0, 100.0, 0.5, -100, 0.0, false);
    assert_eq!(p.value, Fixed::ZERO);
    // Zero vol, put S=90, K=100 → 10, Δ=−1.
    let p = run(90.0, 100.0, 0.0, 86_400, 0.0, false);
    assert_eq!(p.value, Fixed::from_i64(10));
    assert_eq!(p.delta, Fixed::NEG_ONE);
    // Bad inputs.
    let bad = BsInput {
        spot: Fixed::ZERO,
        strike: Fixed::ONE,
        vol: Fixed::ONE,
        seconds_to_expiry: 1,
        rate: Fixed::ZERO,
        is_call: true,
    };
    assert_eq!(bs_price_greeks(&bad), Err(RiskError::Domain));
}

#[test]
fn multiply_budget() {
    let (_, n0) = count(|| run(100.0, 105.0, 0.6, 30 * 86_400, 0.0, true));
    let (_, n1) = count(|| run(100.0, 105.0, 0.6, 30 * 86_400, 0.05, false));
    // `run` itself does no multiplies (from_f64 is a cast).
    assert!(n0 <= MUL_BUDGET_R0, "r=0 used {n0} multiplies");
    assert!(n1 <= MUL_BUDGET_R, "r≠0 used {n1} multiplies");
}
