//! Liquidation price: the worked examples of the docs, hedged and
//! derivative-only accounts, and the boundary property on random accounts.

use super::*;
use crate::health::{MarginMode, PerType, PnlLimits, TokenInfo};
use crate::price::{OraclePrice, PriceBias};
use crate::testutil::*;
use proptest::prelude::*;

/// SOL at $150.00 ± 0.10 (k = 1, 9 decimals, 6-decimal quote): oracle 0.15
/// µUSDC per lamport (floor; the ceil is 1 ulp more), conf 0.0001.
fn sol_prices() -> BiasedPrices {
    let o = OraclePrice::from_pyth(15_000_000_000, 10_000_000, -8, 9, 6).unwrap();
    BiasedPrices::new(&o, o.lo, PriceBias { conf_multiplier: Fixed::ONE }).unwrap()
}

fn sol(balance: i64) -> TokenInfo {
    TokenInfo::new(1, Fixed::from_i64(balance), sol_prices(), &sol_weights()).unwrap()
}

fn account(tokens: Vec<TokenInfo>, derivatives: Vec<DerivativeInfo>) -> HealthCache {
    HealthCache::new(tokens, derivatives, MarginMode::Linear).unwrap()
}

fn maint(c: &HealthCache, p: Fixed) -> Fixed {
    c.maint_health_at_price(1, p).unwrap()
}

/// The boundary property: liquidatable at `p`, not one ulp back toward `p0`.
fn assert_boundary(c: &HealthCache, token: u16, p: Fixed) {
    let now = current(c, token);
    let h = c.maint_health_at_price(token, p).unwrap();
    assert!(h.is_negative(), "health {h} at {p}");
    if p != now {
        let back = if p < now { p.to_bits() + 1 } else { p.to_bits() - 1 };
        let h = c.maint_health_at_price(token, Fixed::from_bits(back)).unwrap();
        assert!(!h.is_negative(), "health {h} one ulp back from {p}");
    }
}

fn current(c: &HealthCache, token: u16) -> Fixed {
    match c.tokens().iter().find(|t| t.token_index == token) {
        Some(t) => t.prices.oracle,
        None => c.derivatives().iter().find(|d| d.underlying == token).unwrap().prices.oracle,
    }
}

/// A perpetual on SOL (underlying 1) at SOL's prices, Maint PnL weight `w_maint`.
fn sol_perp(market: u16, base: &str, cost: &str, w_maint: &str) -> DerivativeInfo {
    let limits = PnlLimits {
        weights: PerType { init: fx("0.5"), maint: fx(w_maint), liq_end: fx(w_maint) },
        init_cap: None,
    };
    DerivativeInfo::new(
        market,
        1,
        DerivativeKind::Perpetual,
        fx(base),
        fx(cost),
        Fixed::ZERO,
        sol_prices(),
        perp_rates(),
    )
    .unwrap()
    .with_pnl_limits(limits)
    .unwrap()
}

#[test]
fn worked_example() {
    // 10 SOL deposited, 1,000 USDC borrowed: Maint = 10^10 · 0.1499 · 0.9 − 10^9 = 349.1 USDC.
    let c = account(vec![usdc(0, Fixed::from_i64(-1_000_000_000)), sol(10_000_000_000)], vec![]);
    assert!(near(c.health(HealthType::Maint).unwrap(), 349_100_000.0, 1e-3));
    // Health at the current price is the cache's own, bit for bit.
    let p0 = sol_prices().oracle;
    assert_eq!(maint(&c, p0), c.health(HealthType::Maint).unwrap());
    // 10^10 · (P − 0.0001) · 0.9 = 10^9  ⇔  P = 1/9 + 0.0001 = 0.111211… µUSDC/lamport ($111.2111).
    let p = c.liquidation_price(1).unwrap().unwrap();
    assert!(near(p, 1.0 / 9.0 + 0.0001, 1e-13), "{p}");
    assert_boundary(&c, 1, p);
    // In raw bits (2^-48 units) the exact root is 2^48/9 + 2^48/10^4 = 31,274,997,412,295.11 +
    // 28,147,497,671.07 = 31,303,144,909,966.18: the engine's price is its ceiling, the safe side
    // for a long (health there is < 0, one ulp higher it is ≥ 0).
    assert_eq!(p.to_bits(), 31_303_144_909_967);
    // USDC's price does not move SOL's: a 1,000 USDC debt is liquidated by USDC rising to
    // 1,349.1 / 1,000 (USDC at $1.3491).
    let q = c.liquidation_price(0).unwrap().unwrap();
    assert!(near(q, 1.3491, 1e-12), "{q}");
    assert_boundary(&c, 0, q);
}

#[test]
fn borrow_liquidated_by_a_rise() {
    // 20,000 USDC against 100 SOL borrowed (Maint liability weight 1.1):
    // 2·10^10 = 10^11 · (P + 0.0001) · 1.1  ⇔  P = 0.181818… − 0.0001 = 0.181718… ($181.7182).
    let c = account(vec![usdc(0, Fixed::from_i64(20_000_000_000)), sol(-100_000_000_000)], vec![]);
    let p = c.liquidation_price(1).unwrap().unwrap();
    assert!(near(p, 2.0 / 11.0 - 0.0001, 1e-13), "{p}");
    assert!(p > sol_prices().oracle);
    assert_boundary(&c, 1, p);
}

#[test]
fn already_liquidatable_and_never_liquidated() {
    // 2 SOL against 1,000 USDC: Maint < 0 now → the current price.
    let c = account(vec![usdc(0, Fixed::from_i64(-1_000_000_000)), sol(2_000_000_000)], vec![]);
    assert!(c.is_liquidatable().unwrap());
    assert_eq!(c.liquidation_price(1).unwrap(), Some(sol_prices().oracle));
    assert_eq!(c.liquidation_price(0).unwrap(), Some(Fixed::ONE));
    // No debt: health is ≥ 0 at every price (0 once SOL's asset price is 0): none.
    let c = account(vec![sol(10_000_000_000)], vec![]);
    assert_eq!(c.liquidation_price(1).unwrap(), None);
    // A zero balance moves nothing; a token only helping the account either way: none.
    let c = account(vec![usdc(0, Fixed::from_i64(1_000_000)), sol(0)], vec![]);
    assert_eq!(c.liquidation_price(1).unwrap(), None);
    // A tiny SOL borrow against 1,000 USDC: liquidated only past a 65,536-fold rise → none.
    let c = account(vec![usdc(0, Fixed::from_i64(1_000_000_000)), sol(-1_000)], vec![]);
    assert_eq!(c.liquidation_price(1).unwrap(), None);
    assert!(maint(&c, fx("1000000")).is_negative(), "liquidatable beyond the searched range");
    // Unknown token.
    assert_eq!(c.liquidation_price(7), Err(RiskError::TokenNotFound));
}

#[test]
fn hedged_account_liquidated_both_ways_reports_the_nearer() {
    // 10 SOL deposited (Maint 0.9), 9 SOL perp short from $E (Maint PnL weight 0.9, rate 5 %),
    // D USDC borrowed. Below $E the short's profit counts 90 %: health rises with the price
    // (+9 − 8.1 − 0.45 per $); above, its loss counts in full (+9 − 9 − 0.45): it falls.
    // E = 160, D = 1,340: h = 0.45·P + 1,294.245 − D below, 1,438.155 − 0.45·P − D above:
    //   down at $101.68 (48.3 away), up at $218.1 (68.1 away) → down.
    // E = 140, D = 1,170: h = 0.45·P + 1,132.245 − D below, 1,258.155 − 0.45·P − D above:
    //   down at $83.9 (66.1 away), up at $195.9 (45.9 away) → up.
    let at = |usd: f64| Fixed::from_f64(usd / 1_000.0);
    for (entry_cost, debt, expected) in
        [("-1440000000", 1_340_000_000i64, 101.68), ("-1260000000", 1_170_000_000, 195.9)]
    {
        let short = sol_perp(3, "-9000000000", entry_cost, "0.9");
        let c = account(vec![usdc(0, Fixed::from_i64(-debt)), sol(10_000_000_000)], vec![short]);
        let p0 = sol_prices().oracle;
        assert!(!maint(&c, p0).is_negative());
        // Both sides liquidate: at $60 and at $250.
        assert!(maint(&c, at(60.0)).is_negative() && maint(&c, at(250.0)).is_negative());
        let p = c.liquidation_price(1).unwrap().unwrap();
        assert!(near(p, expected / 1_000.0, 1e-4), "{p}");
        assert_boundary(&c, 1, p);
        // At the same distance on the other side the account is still safe.
        let mirrored = Fixed::from_bits(2 * p0.to_bits() - p.to_bits());
        assert!(!maint(&c, mirrored).is_negative());
    }
    // Without the debt the hedge is liquidated only by a rise: above $150 health is
    // 9·(P − 0.1) − 9·(P + 0.1) + 1,350 − 0.45·(P + 0.1) = 1,348.155 − 0.45·P, zero at $2,995.90;
    // at 1 ulp the short's profit is worth 90 % of $1,350.
    let short = sol_perp(3, "-9000000000", "-1350000000", "0.9");
    let c = account(vec![sol(10_000_000_000)], vec![short]);
    let p = c.liquidation_price(1).unwrap().unwrap();
    assert!(near(p, 2.9959, 1e-9), "{p}");
    assert_boundary(&c, 1, p);
}

#[test]
fn net_long_account_liquidated_by_a_rise() {
    // 10 SOL deposited, 9 SOL perp short, 1,200 USDC borrowed: net long 1 SOL, yet health peaks at
    // the short's entry ($150) and it is a rise that liquidates, near $150 + 80.65 / 0.45 ≈ $329.
    let short = sol_perp(3, "-9000000000", "-1350000000", "0.9");
    let c = account(vec![usdc(0, Fixed::from_i64(-1_200_000_000)), sol(10_000_000_000)], vec![short]);
    let p = c.liquidation_price(1).unwrap().unwrap();
    assert!(near(p, 0.329, 0.001), "{p}");
    assert_boundary(&c, 1, p);
    // Going down it never liquidates: at 1 ulp the short's profit (90 % of ~$1,350) covers the debt.
    assert!(!maint(&c, Fixed::DELTA).is_negative());
}

#[test]
fn derivative_only_and_settled_positions() {
    // 200 USDC and a 10 SOL perp long from $140 (cost 1,400 USDC, in µUSDC per lamport units):
    // no SOL token position, the perp's oracle is the price. Maint (PnL weight 1, rate 5 %):
    // 200 + 10^10 · (P − 0.0001) − 1,400 − 10^10 · (P + 0.0001) · 0.05 = 0
    // ⇔ 0.95 · 10^10 · P = 1,200 · 10^6 + 10^6 · 1.05  ⇔  P = 0.126426… ($126.43).
    let long = sol_perp(2, "10000000000", "1400000000", "1");
    let c = account(vec![usdc(0, Fixed::from_i64(200_000_000))], vec![long]);
    let p = c.liquidation_price(1).unwrap().unwrap();
    assert!(near(p, (1_200.0 + 1.05) / 9_500.0, 1e-12), "{p}");
    assert_boundary(&c, 1, p);
    // A market with a zero Maint rate (a settled future, valued at its settlement price) does not
    // move: alone it gives no price.
    let mut rates = perp_rates();
    (rates.init, rates.maint, rates.liq_end) = (Fixed::ZERO, Fixed::ZERO, Fixed::ZERO);
    let settled = DerivativeInfo::new(
        4,
        1,
        DerivativeKind::Future,
        fx("10000000000"),
        fx("1400000000"),
        Fixed::ZERO,
        BiasedPrices::flat(fx("0.155")),
        rates,
    )
    .unwrap();
    let c = account(vec![usdc(0, Fixed::from_i64(200_000_000))], vec![settled]);
    assert_eq!(c.liquidation_price(1), Err(RiskError::TokenNotFound));
    // Next to a SOL deposit the settled future's value stays put while the deposit moves.
    let c = account(vec![usdc(0, Fixed::from_i64(-1_000_000_000)), sol(10_000_000_000)], vec![settled]);
    let h0 = c.health(HealthType::Maint).unwrap();
    let h = maint(&c, fx("0.16"));
    let deposit_gain = 10_000_000_000.0 * (0.16 - sol_prices().oracle.to_f64()) * 0.9;
    assert!(near(h.checked_sub(h0).unwrap(), deposit_gain, 1e-3));
}

#[test]
fn asset_price_floor_is_a_segment_end() {
    // 10 SOL deposited (Maint 0.9) and a 5 SOL perp short from $150 (full PnL weight): above the
    // price where SOL's asset price reaches 0 (P = 0.0001) health falls with the price,
    // 9 − 5 − 0.25 = 3.75 per unit; below it the deposit counts 0 and the short keeps gaining,
    // so health rises again toward P = 0, by 5.25·10^9 · 0.0001 ≈ 525,000 µUSDC. With a debt
    // 100,000 µUSDC above the health at that kink, health is negative only near the kink, and
    // positive both now and at 1 ulp: a bisection over (0, P₀) alone would miss it; the walk
    // stops at the kink and finds the crossing just above it.
    let short = || sol_perp(3, "-5000000000", "-750000000", "1");
    let kink = sol_prices().oracle.checked_sub(sol_prices().spot_asset).unwrap();
    let h_kink = maint(&account(vec![sol(10_000_000_000)], vec![short()]), kink);
    let debt = h_kink.checked_add(Fixed::from_i64(100_000)).unwrap();
    let c = account(vec![usdc(0, debt.checked_neg().unwrap()), sol(10_000_000_000)], vec![short()]);
    assert!(maint(&c, kink).is_negative());
    assert!(!maint(&c, Fixed::DELTA).is_negative());
    assert!(!maint(&c, sol_prices().oracle).is_negative());
    let p = c.liquidation_price(1).unwrap().unwrap();
    // 100,000 / 3.75·10^9 = 0.0000267 above the kink.
    assert!(near(p, kink.to_f64() + 100_000.0 / 3.75e9, 1e-9), "{p}");
    assert_boundary(&c, 1, p);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// On random accounts (USDC, a SOL deposit or borrow, a SOL perp long or short, random
    /// confidence): the returned price is a boundary (liquidatable there, not one ulp back toward
    /// now), nothing strictly between it and now liquidates, and `None` means no sampled price does.
    #[test]
    fn returned_price_is_the_nearest_boundary(
        usdc_bal in -3_000i64..20_000,
        sol_bal in -40i64..40,
        perp_base in -40i64..40,
        entry in 50i64..300,
        conf_bp in 0i64..200,
        w_pnl in 5i64..=10,
        samples in proptest::collection::vec(1u64..1_000_000, 8),
    ) {
        let conf = 15_000_000_000u64 * conf_bp as u64 / 10_000;
        let o = OraclePrice::from_pyth(15_000_000_000, conf, -8, 9, 6).unwrap();
        let prices = BiasedPrices::new(&o, o.lo, PriceBias { conf_multiplier: Fixed::ONE }).unwrap();
        let sol = TokenInfo::new(1, Fixed::from_i64(sol_bal * 1_000_000_000), prices, &sol_weights()).unwrap();
        let base = Fixed::from_i64(perp_base * 1_000_000_000);
        let cost = Fixed::from_i64(perp_base * entry * 1_000_000);
        let limits = PnlLimits {
            weights: PerType { init: fx("0.5"), maint: Fixed::from_ratio(w_pnl, 10, crate::fixed::Rounding::Floor).unwrap(), liq_end: fx("0.5") },
            init_cap: None,
        };
        let perp = DerivativeInfo::new(3, 1, DerivativeKind::Perpetual, base, cost, Fixed::ZERO, prices, perp_rates())
            .unwrap().with_pnl_limits(limits).unwrap();
        let c = account(vec![usdc(0, Fixed::from_i64(usdc_bal * 1_000_000)), sol], vec![perp]);
        let p0 = prices.oracle;
        let h = |p: Fixed| c.maint_health_at_price(1, p).unwrap();
        prop_assert_eq!(h(p0), c.health(HealthType::Maint).unwrap());
        let top = p0.to_bits() << LIQUIDATION_PRICE_MAX_RISE_BITS;
        match c.liquidation_price(1).unwrap() {
            Some(p) if p == p0 => prop_assert!(h(p0).is_negative()),
            Some(p) => {
                prop_assert!(h(p).is_negative());
                let back = if p < p0 { p.to_bits() + 1 } else { p.to_bits() - 1 };
                prop_assert!(!h(Fixed::from_bits(back)).is_negative());
                // Nearest: no sampled price closer to now on either side liquidates.
                let dist = (p.to_bits() - p0.to_bits()).abs();
                for s in &samples {
                    let off = dist * i128::from(*s) / 1_000_000;
                    for q in [p0.to_bits() - off, p0.to_bits() + off] {
                        if q > 0 && (q - p0.to_bits()).abs() < dist {
                            prop_assert!(!h(Fixed::from_bits(q)).is_negative(), "{} liquidates", q);
                        }
                    }
                }
            }
            None => {
                prop_assert!(!h(p0).is_negative());
                for s in &samples {
                    for q in [p0.to_bits() * i128::from(*s) / 1_000_000, top / 1_000_000 * i128::from(*s)] {
                        if q > 0 {
                            prop_assert!(!h(Fixed::from_bits(q)).is_negative(), "{} liquidates", q);
                        }
                    }
                }
            }
        }
    }
}
