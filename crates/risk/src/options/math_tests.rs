//! Accuracy of the transcendental functions against f64.

use super::*;
use crate::options::op_count::count;

/// Relative accuracy required of ln/exp/sqrt (f64 itself is ~1e-16).
const REL_TOL: f64 = 1e-12;
/// Absolute accuracy of the normal CDF (A&S 26.2.17 bound is 7.5e-8).
const NCDF_TOL: f64 = 1e-7;

fn f(x: f64) -> Fixed {
    Fixed::from_f64(x)
}

/// High-precision f64 normal CDF: N(x) = ½ + φ(x)·Σ x^(2n+1)/(2n+1)!!
/// (all terms positive: no cancellation for |x| < 9).
pub(crate) fn ncdf_ref(x: f64) -> f64 {
    if x.abs() > 9.0 {
        return if x > 0.0 { 1.0 } else { 0.0 };
    }
    let mut term = x;
    let mut sum = x;
    let mut n = 1.0;
    while term.abs() > 1e-18 * sum.abs().max(1e-300) {
        n += 2.0;
        term *= x * x / n;
        sum += term;
    }
    0.5 + sum * (-x * x / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

#[test]
fn ln_worked_values() {
    // ln 1 = 0 exactly; ln 2 = 0.693147180559945…; ln(0.5) = −ln 2.
    assert!(ln(Fixed::ONE).unwrap().to_bits().abs() <= 1);
    let l2 = ln(f(2.0)).unwrap().to_f64();
    assert!((l2 - std::f64::consts::LN_2).abs() < 1e-13);
    assert!((ln(f(0.5)).unwrap().to_f64() + std::f64::consts::LN_2).abs() < 1e-13);
    assert_eq!(ln(Fixed::ZERO), Err(RiskError::Domain));
    assert_eq!(ln(Fixed::NEG_ONE), Err(RiskError::Domain));
}

#[test]
fn ln_accuracy_sweep() {
    let mut x = 1e-9;
    while x < 1e20 {
        let got = ln(f(x)).unwrap().to_f64();
        let want = f(x).to_f64().ln(); // ln of the representable input
                                       // absolute error is what matters for ln (result ~ tens)
        assert!((got - want).abs() < 1e-12 + REL_TOL * want.abs(), "ln({x}) = {got} vs {want}");
        x *= 1.37;
    }
}

#[test]
fn exp_accuracy_sweep() {
    let mut x = -33.0;
    while x < 53.0 {
        let got = exp(f(x)).unwrap().to_f64();
        let want = x.exp();
        let tol = REL_TOL * want + 2.0 * 2f64.powi(-48);
        assert!((got - want).abs() <= tol, "exp({x}) = {got} vs {want}");
        x += 0.173;
    }
    assert_eq!(exp(f(-40.0)).unwrap(), Fixed::ZERO);
    assert_eq!(exp(f(60.0)), Err(RiskError::Overflow));
    // e^0 = 1 and e^1 = 2.718281828459045…
    assert!((exp(Fixed::ZERO).unwrap().to_bits() - Fixed::ONE.to_bits()).abs() <= 1);
    assert!((exp(Fixed::ONE).unwrap().to_f64() - std::f64::consts::E).abs() < 1e-13);
}

#[test]
fn sqrt_and_rsqrt_sweep() {
    let mut x = 1e-12;
    while x < 1e22 {
        let s = sqrt(f(x)).unwrap().to_f64();
        let r = rsqrt(f(x)).unwrap().to_f64();
        let fx = f(x).to_f64(); // the representable input
        assert!(
            (s - fx.sqrt()).abs() <= REL_TOL * fx.sqrt() + 2f64.powi(-47),
            "sqrt({x}) {s} vs {}",
            fx.sqrt()
        );
        let want_r = 1.0 / fx.sqrt();
        assert!((r - want_r).abs() <= REL_TOL * want_r + 2f64.powi(-47), "rsqrt({x}) {r} vs {want_r}");
        x *= 1.91;
    }
    // √2.25 = 1.5, √0 = 0
    assert!((sqrt(f(2.25)).unwrap().to_bits() - f(1.5).to_bits()).abs() <= 4);
    assert_eq!(sqrt(Fixed::ZERO).unwrap(), Fixed::ZERO);
    assert_eq!(rsqrt(Fixed::ZERO), Err(RiskError::Domain));
}

#[test]
fn recip_sweep() {
    let mut x = 1e-10;
    while x < 1e20 {
        let fx = f(x).to_f64();
        let got = recip(f(x)).unwrap().to_f64();
        let want = 1.0 / fx;
        assert!((got - want).abs() <= REL_TOL * want + 2f64.powi(-47), "recip({x}) {got} vs {want}");
        x *= 2.3;
    }
    // 1/4 = 0.25 exactly (within the Newton rounding).
    assert!((recip(f(4.0)).unwrap().to_bits() - f(0.25).to_bits()).abs() <= 2);
}

#[test]
fn normal_cdf_sweep() {
    // N(0) = 0.5, N(1.96) = 0.975002104851780, N(−1) = 0.158655253931457
    assert!((norm_cdf(Fixed::ZERO).unwrap().to_f64() - 0.5).abs() < NCDF_TOL);
    assert!((norm_cdf(f(1.96)).unwrap().to_f64() - 0.975_002_104_851_780).abs() < NCDF_TOL);
    assert!((norm_cdf(f(-1.0)).unwrap().to_f64() - 0.158_655_253_931_457).abs() < NCDF_TOL);
    let mut x = -10.0;
    while x < 10.0 {
        let got = norm_cdf(f(x)).unwrap().to_f64();
        assert!((got - ncdf_ref(x)).abs() < NCDF_TOL, "N({x}) = {got} vs {}", ncdf_ref(x));
        let pdf = norm_pdf(f(x)).unwrap().to_f64();
        let want = (-x * x / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
        assert!((pdf - want).abs() < 1e-12);
        x += 0.0731;
    }
}

#[test]
fn years_conversion() {
    // 31,536,000 s = 1 year; 86,400 s = 1/365 = 0.00273972602739726
    assert!((years_from_secs(31_536_000).unwrap().to_bits() - Fixed::ONE.to_bits()).abs() <= 1);
    assert!((years_from_secs(86_400).unwrap().to_f64() - 1.0 / 365.0).abs() < 1e-14);
    assert_eq!(years_from_secs(-5).unwrap(), Fixed::ZERO);
}

#[test]
fn multiply_budgets() {
    // The documented per-call multiply counts (module table) are upper bounds.
    let (_, n) = count(|| ln(f(123.456)));
    assert!(n <= 10, "ln used {n}");
    let (_, n) = count(|| exp(f(-3.3)));
    assert!(n <= 9, "exp used {n}");
    let (_, n) = count(|| rsqrt(f(0.0123)));
    assert!(n <= 12, "rsqrt used {n}");
    let (_, n) = count(|| recip(f(3.7)));
    assert!(n <= 2, "recip used {n}");
    let (_, n) = count(|| norm_cdf(f(0.7)));
    assert!(n <= 20, "norm_cdf used {n}");
}
