//! Host benchmark of a full health computation: 16 token + 16 derivative
//! positions (12 perps/futures + 4 options), linear and portfolio mode.
//! Prints the median ns of several runs. Run with
//! `cargo bench -p xmargin-risk --bench health`.

use std::hint::black_box;
use std::time::Instant;
use xmargin_risk::health::{
    keeper_maint_health, DerivativeInfo, DerivativeKind, HealthCache, HealthType, MarginMode, MarginRates,
    OptionTerms, PerType, TokenInfo,
};
use xmargin_risk::portfolio::PortfolioParams;
use xmargin_risk::price::{BiasedPrices, OraclePrice, PriceBias};
use xmargin_risk::weights::{TokenWeights, WeightScaling};
use xmargin_risk::Fixed;

const RUNS: usize = 15;
const ITERS: usize = 2_000;

fn fx(s: &str) -> Fixed {
    s.parse().unwrap()
}

fn weights() -> TokenWeights {
    TokenWeights {
        init_asset: fx("0.8"),
        maint_asset: fx("0.9"),
        liq_end_asset: fx("0.85"),
        init_liab: fx("1.2"),
        maint_liab: fx("1.1"),
        liq_end_liab: fx("1.15"),
    }
}

fn rates() -> MarginRates {
    MarginRates {
        init: fx("0.1"),
        maint: fx("0.05"),
        liq_end: fx("0.075"),
        short_option_min_delta: fx("0.1"),
        size_premium: Fixed::ZERO,
        contract_size: 1,
        short_option: xmargin_risk::health::option_margin::ShortOptionRates::derive(),
    }
}

/// Everything a program reads from accounts, before any risk math.
struct Raw {
    pyth: Vec<(i64, u64)>,
}

fn raw() -> Raw {
    Raw { pyth: (0..16).map(|i| (10_000_000_000 + i * 123_456_789, 5_000_000 + i as u64 * 1000)).collect() }
}

fn prices(r: &Raw, i: usize) -> BiasedPrices {
    let (p, c) = r.pyth[i];
    let o = OraclePrice::from_pyth(p, c, -8, 9, 6).unwrap();
    BiasedPrices::new(&o, o.lo, PriceBias { conf_multiplier: Fixed::ONE }).unwrap()
}

/// Builds the cache from raw oracle data: price conversion, bias, weight
/// scaling, unit values, and Black–Scholes for the options.
fn build(r: &Raw, mode: MarginMode) -> HealthCache {
    let scaling =
        WeightScaling { deposit_scale_start: fx("1000000000000"), borrow_scale_start: fx("500000000000") };
    let tokens = (0..16)
        .map(|i| {
            let p = prices(r, i);
            let w = weights().scaled(&scaling, fx("2000000000000"), fx("100000000000")).unwrap();
            let bal = if i % 3 == 0 { -1_000_000_000i64 } else { 5_000_000_000 };
            TokenInfo::new(i as u16, Fixed::from_i64(bal), p, &w).unwrap().with_underlying(i as u16)
        })
        .collect();
    let derivs = (0..16)
        .map(|i| {
            let p = prices(r, i);
            let kind = match i % 4 {
                0 => DerivativeKind::Option(OptionTerms {
                    is_call: i % 8 == 0,
                    strike: p.oracle,
                    seconds_to_expiry: 7 * 86_400,
                    vol: fx("0.7"),
                    rate: Fixed::ZERO,
                }),
                1 => DerivativeKind::Future,
                _ => DerivativeKind::Perpetual,
            };
            let base = Fixed::from_i64(if i % 2 == 0 { 3_000_000_000 } else { -2_000_000_000 });
            let cost = base.checked_mul_floor(p.oracle).unwrap();
            DerivativeInfo::new(100 + i as u16, i as u16, kind, base, cost, fx("-12.5"), p, rates()).unwrap()
        })
        .collect();
    HealthCache::new(tokens, derivs, mode).unwrap()
}

fn portfolio() -> MarginMode {
    MarginMode::Portfolio(PortfolioParams {
        price_shocks: ["-0.15", "-0.075", "0", "0.075", "0.15"].map(fx).to_vec(),
        vol_shocks: ["-0.1", "0", "0.1"].map(fx).to_vec(),
        shock_scale: PerType { init: fx("1.5"), maint: fx("1"), liq_end: fx("1.25") },
        floor_rate: PerType { init: fx("0.02"), maint: fx("0.01"), liq_end: fx("0.015") },
    })
}

fn median_ns(mut f: impl FnMut()) -> f64 {
    let mut samples: Vec<f64> = (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..ITERS {
                f();
            }
            t.elapsed().as_nanos() as f64 / ITERS as f64
        })
        .collect();
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    samples[RUNS / 2]
}

fn main() {
    let r = raw();
    println!("xmargin-risk health benchmark: 16 tokens + 16 derivatives (4 options), median of {RUNS} runs");
    for (name, mode) in [("linear", MarginMode::Linear), ("portfolio", portfolio())] {
        let cache = build(&r, mode.clone());
        let build_ns = median_ns(|| {
            black_box(build(black_box(&r), mode.clone()));
        });
        let one_ns = median_ns(|| {
            black_box(black_box(&cache).health(HealthType::Init).unwrap());
        });
        let all_ns = median_ns(|| {
            black_box(black_box(&cache).summary().unwrap());
        });
        let full_ns = median_ns(|| {
            let c = build(black_box(&r), mode.clone());
            black_box(c.summary().unwrap());
        });
        println!("{name:>9}: build cache {build_ns:>9.0} ns | one health type {one_ns:>7.0} ns | all three {all_ns:>7.0} ns | build + all three {full_ns:>9.0} ns");
    }
    // Keeper: per-bank / per-market templates built once, then per account
    // only stamp balances and positions and compute Maint health.
    let template = build(&r, MarginMode::Linear);
    let rank_ns = median_ns(|| {
        let t = black_box(&template);
        let tokens = t.tokens().iter().map(|ti| ti.with_balance(ti.balance)).collect();
        let derivs = t
            .derivatives()
            .iter()
            .map(|d| d.with_position(d.base, d.cost_basis, d.unsettled_funding).unwrap())
            .collect();
        let c = HealthCache::new(tokens, derivs, MarginMode::Linear).unwrap();
        black_box(keeper_maint_health(&c));
    });
    println!(
        "   keeper: stamp 16+16 positions from templates + keeper_maint_health {rank_ns:.0} ns/account → {:.0} ms per 100,000 accounts (one core)",
        rank_ns * 100_000.0 / 1e6
    );
}
