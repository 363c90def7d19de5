//! xmargin's linear requirement for short options against Derive's standard
//! manager, across strikes (the table of docs/DESIGN.md; run with
//! `--nocapture` to print it).
//!
//! Derive (standard manager, per unit of underlying, on top of the mark):
//! `Init = max(15 % − OTM %, 13 %)·spot`, `Maint = 9 %·spot`. xmargin
//! (linear mode, [`crate::health::option_margin`]) charges the same shape
//! with the market's short-option rates (defaults: Derive's, LiquidationEnd
//! 11 %), the mark counted in PnL, a long option never charged more than its
//! value. The previous rule, `rate_T · spot · max(|Δ|, min_delta)` at the
//! perpetual rates (Init 10 %, Maint 5 %, min |Δ| 0.1), is printed for
//! comparison: it was 3–13 times below Derive.

use crate::fixed::Fixed;
use crate::health::{DerivativeInfo, DerivativeKind, HealthType, OptionTerms};
use crate::price::BiasedPrices;
use crate::testutil::{fx, perp_rates};

const SPOT: f64 = 150.0;
const DERIVE_INIT_BASE: f64 = 0.15;
const DERIVE_INIT_MIN: f64 = 0.13;
const DERIVE_MAINT: f64 = 0.09;

fn short(call: bool, strike: &str, base: &str) -> DerivativeInfo {
    let terms = OptionTerms {
        is_call: call,
        strike: fx(strike),
        seconds_to_expiry: 30 * 86_400,
        vol: fx("0.6"),
        rate: Fixed::ZERO,
    };
    DerivativeInfo::new(
        2,
        1,
        DerivativeKind::Option(terms),
        fx(base),
        Fixed::ZERO,
        Fixed::ZERO,
        BiasedPrices::flat(fx("150")),
        perp_rates(),
    )
    .unwrap()
}

#[test]
fn linear_short_options_vs_derive_standard_manager() {
    eprintln!("| option (30 d, σ 60 %, spot 150) | mark | Δ | xmargin Init | Derive Init | xmargin Maint | Derive Maint | previous Init / Maint |");
    eprintln!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for call in [true, false] {
        for strike in ["105", "120", "135", "148", "150", "152", "165", "180", "200", "250"] {
            let d = short(call, strike, "-1");
            let g = d.unit_greeks();
            let (init, maint) =
                (d.requirement(HealthType::Init).unwrap(), d.requirement(HealthType::Maint).unwrap());
            let k = strike.parse::<f64>().unwrap();
            let otm = if call { (k - SPOT) / SPOT } else { (SPOT - k) / SPOT }.max(0.0);
            let derive_init = (DERIVE_INIT_BASE - otm).max(DERIVE_INIT_MIN) * SPOT;
            let derive_maint = DERIVE_MAINT * SPOT;
            let old_delta = g.delta.to_f64().abs().max(0.1);
            eprintln!(
                "| short {} K {strike} | {:.2} | {:.3} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} / {:.2} |",
                if call { "call" } else { "put" },
                g.value.to_f64(),
                g.delta.to_f64(),
                init.to_f64(),
                derive_init,
                maint.to_f64(),
                derive_maint,
                0.10 * SPOT * old_delta,
                0.05 * SPOT * old_delta,
            );
            // Derive's numbers exactly (flat prices), so a short is never free.
            assert!((init.to_f64() - derive_init).abs() < 1e-9, "{init} vs {derive_init}");
            assert!((maint.to_f64() - derive_maint).abs() < 1e-9, "{maint} vs {derive_maint}");
            let liq_end = d.requirement(HealthType::LiquidationEnd).unwrap().to_f64();
            assert!(maint.to_f64() < liq_end && liq_end < init.to_f64());
            // A long option never posts more than its value.
            let long = short(call, strike, "1");
            for ht in HealthType::ALL {
                assert!(long.requirement(ht).unwrap() <= long.value(ht).unwrap().positive_part());
            }
        }
    }
}
