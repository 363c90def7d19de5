//! Money-bug review of `xmargin-risk` (public API only).
//!
//! Tests named `fixed_*` each reproduce a finding of the review with concrete
//! numbers (see the comment above it); they failed before the fix and pin it.
//! Tests named `holds_*` pin properties that held already.

use proptest::prelude::*;
use xmargin_risk::health::{
    DerivativeInfo, DerivativeKind, HealthCache, MarginMode, MarginRates, OptionTerms, TokenInfo,
};
use xmargin_risk::interest::{
    accrue_interest, borrow_shares_for, deposit_shares_for, native_balance, repay_shares_for,
    withdraw_shares_for, BankIndices, InterestCurve,
};
use xmargin_risk::liquidation::{
    is_bankrupt, max_position_liquidation, max_token_liquidation, resolve_bankruptcy,
};
use xmargin_risk::portfolio::PortfolioParams;
use xmargin_risk::price::{BiasedPrices, OraclePrice, PriceBias};
use xmargin_risk::weights::{scaled_init_asset_weight, scaled_init_liab_weight, TokenWeights};
use xmargin_risk::{Fixed, HealthType, PerType, RiskError, Rounding};

const LE: HealthType = HealthType::LiquidationEnd;

fn fx(s: &str) -> Fixed {
    s.parse().unwrap()
}

fn sol_weights() -> TokenWeights {
    TokenWeights {
        init_asset: fx("0.8"),
        maint_asset: fx("0.9"),
        liq_end_asset: fx("0.85"),
        init_liab: fx("1.2"),
        maint_liab: fx("1.1"),
        liq_end_liab: fx("1.15"),
    }
}

fn usdc(index: u16, balance: Fixed) -> TokenInfo {
    TokenInfo::new(index, balance, BiasedPrices::flat(Fixed::ONE), &TokenWeights::ONE).unwrap()
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

fn perp(market: u16, base: &str, cost: &str, price: &str) -> DerivativeInfo {
    let p = BiasedPrices::flat(fx(price));
    DerivativeInfo::new(market, 1, DerivativeKind::Perpetual, fx(base), fx(cost), Fixed::ZERO, p, rates())
        .unwrap()
}

/// 30-day call, strike 150, vol 0.2, on an underlying at a flat 100 (far OTM: Δ ≈ 0).
fn otm_call(base: &str, cost: &str) -> DerivativeInfo {
    let terms = OptionTerms {
        is_call: true,
        strike: fx("150"),
        seconds_to_expiry: 30 * 86_400,
        vol: fx("0.2"),
        rate: Fixed::ZERO,
    };
    let p = BiasedPrices::flat(fx("100"));
    DerivativeInfo::new(2, 1, DerivativeKind::Option(terms), fx(base), fx(cost), Fixed::ZERO, p, rates())
        .unwrap()
}

fn portfolio_params() -> PortfolioParams {
    PortfolioParams {
        price_shocks: ["-0.1", "0", "0.1"].map(fx).to_vec(),
        vol_shocks: vec![],
        shock_scale: PerType { init: fx("1.5"), maint: fx("1"), liq_end: fx("1.25") },
        floor_rate: PerType { init: fx("0.02"), maint: fx("0.01"), liq_end: fx("0.015") },
    }
}

// ───────────────────────────── findings (expected to FAIL) ─────────────────────────────

/// FIXED — loss of funds (under-margined short options).
/// `adjust_derivative` / `with_position` re-price an option only when
/// `gains_on_rise()` flips, but the short-only rules (min |Δ| floor, ½Γ·dS²
/// term, Ceil rounding) depend on `base < 0`, and `gains_on_rise` is the same
/// for base 0 and base < 0 (calls: both false; puts: both true). Opening a
/// short from a flat position (or stamping a short from a base-0 template)
/// keeps the long-side units: 10 short far-OTM calls need
/// 10·100·9 % = 90 of Maint margin (the short-option rates of
/// `health::option_margin`; 10·100·0.05·max(Δ, 0.1) = 5 before them), but
/// got the long side's 10·100·0.05·Δ ≈ 0.
#[test]
fn fixed_option_opened_short_from_flat_gets_short_margin() {
    let fresh = otm_call("-10", "-0.01");
    let want = fresh.requirement(HealthType::Maint).unwrap();
    let diff = want.checked_sub(fx("90")).unwrap().checked_abs().unwrap();
    assert!(diff < fx("0.000000001"), "reference requirement {want}");

    let mut c =
        HealthCache::new(vec![usdc(0, fx("100"))], vec![otm_call("0", "0")], MarginMode::Linear).unwrap();
    c.adjust_derivative(2, fx("-10"), fx("-0.01")).unwrap();
    let via_adjust = c.derivative(2).unwrap().requirement(HealthType::Maint).unwrap();
    let via_template = otm_call("0", "0").with_position(fx("-10"), fx("-0.01"), Fixed::ZERO).unwrap();
    let via_template = via_template.requirement(HealthType::Maint).unwrap();
    assert_eq!(
        (via_adjust, via_template),
        (want, want),
        "short opened from base 0 is margined like a long: adjust {via_adjust}, template {via_template}, fresh {want}"
    );
}

/// FIXED — loss of funds for the liquidatee (portfolio mode).
/// `max_token_liquidation` used to size the step with *linear* units on the
/// portfolio cache: a netted token counts unweighted, so the bonus alone is
/// a pure loss, and repaying a borrow that hedges a perp raises the scenario
/// requirement. USDC 100, SOL −10 (hedging a long 10 SOL perp), all at 100;
/// bonus 5 %. Now a liquidatable portfolio account is liquidated in linear
/// mode (`HealthCache::for_liquidation`, the step leaves portfolio mode):
/// the step is the linear one and never lowers linear LiquidationEnd health.
#[test]
fn fixed_portfolio_token_liquidation_never_makes_account_worse() {
    let sol = TokenInfo::new(1, fx("-10"), BiasedPrices::flat(fx("100")), &sol_weights())
        .unwrap()
        .with_underlying(1);
    let c = HealthCache::new(
        vec![usdc(0, fx("100")), sol],
        vec![perp(7, "10", "1000", "100")],
        MarginMode::Portfolio(portfolio_params()),
    )
    .unwrap();
    let linear = c.clone().for_liquidation(false).unwrap();
    assert!(matches!(linear.mode(), MarginMode::Linear));
    for bonus in [fx("0.05"), Fixed::ZERO] {
        let step = max_token_liquidation(&c, 0, 1, bonus, Fixed::MAX, false);
        assert_eq!(step, max_token_liquidation(&linear, 0, 1, bonus, Fixed::MAX, false));
        let Ok(step) = step else { continue };
        let mut after = linear.clone();
        after.adjust_token_balance(1, step.liab_repaid).unwrap();
        after.adjust_token_balance(0, step.asset_received.checked_neg().unwrap()).unwrap();
        let h = after.health(LE).unwrap();
        assert!(
            h >= step.health_before && !h.is_positive(),
            "LE health from {:.4} to {h:.4} (repaid {:.6} SOL for {:.4} USDC)",
            step.health_before,
            step.liab_repaid,
            step.asset_received
        );
    }
}

/// FIXED — loss of funds for the liquidatee (portfolio mode).
/// `max_position_liquidation` credited the *linear* requirement as released
/// on the portfolio cache, where the perp hedges a spot holding: closing it
/// unhedges the book and the requirement goes up. SOL +10 (spot) vs short
/// 10 perp at 100, USDC −1042.5, bonus 2 %. Now the account is liquidated
/// in linear mode: the linear step, which never lowers linear LE health.
#[test]
fn fixed_portfolio_position_liquidation_never_makes_account_worse() {
    let sol = TokenInfo::new(1, fx("10"), BiasedPrices::flat(fx("100")), &sol_weights())
        .unwrap()
        .with_underlying(1);
    let c = HealthCache::new(
        vec![usdc(0, fx("-1042.5")), sol],
        vec![perp(7, "-10", "-1000", "100")],
        MarginMode::Portfolio(portfolio_params()),
    )
    .unwrap();
    assert!(c.health(LE).unwrap().is_negative() && c.is_liquidatable().unwrap());
    let linear = c.clone().for_liquidation(false).unwrap();
    assert!(matches!(linear.mode(), MarginMode::Linear));
    let before = linear.health(LE).unwrap();
    for bonus in [fx("0.02"), Fixed::ZERO] {
        let step = max_position_liquidation(&c, 7, bonus, false);
        assert_eq!(step, max_position_liquidation(&linear, 7, bonus, false));
        let Ok(step) = step else { continue };
        let q = step.base_transferred;
        let mut after = linear.clone();
        after.adjust_derivative(7, q, q.checked_mul_ceil(step.price).unwrap()).unwrap();
        let h = after.health(LE).unwrap();
        assert!(
            h >= before,
            "LE health fell from {before:.4} to {h:.4} (closed {q:.4} at {:.4})",
            step.price
        );
    }
}

/// FIXED — loss of funds for depositors (latent: the program has
/// its own check today). `is_bankrupt` only looks at token balances and
/// `base != 0`, but a closed perp (base 0) still carries realised, unsettled
/// PnL in `cost_basis` / `unsettled_funding`, which health counts. USDC −5
/// with +100 of unsettled perp profit has LE health +95, yet is "bankrupt":
/// its 5 of debt would be socialised while it keeps the 100. (Conversely a
/// closed perp with negative PnL and no token debt is never bankrupt.)
#[test]
fn fixed_is_bankrupt_counts_closed_derivative_pnl() {
    let c = HealthCache::new(vec![usdc(0, fx("-5"))], vec![perp(7, "0", "-100", "100")], MarginMode::Linear)
        .unwrap();
    assert_eq!(c.health(LE).unwrap(), fx("95"));
    assert!(!is_bankrupt(&c).unwrap(), "an account with LE health +95 is reported bankrupt");
}

/// FIXED — cosmetic. The `fixed` module promises "results of
/// checked ops are symmetric: `i128::MIN` is never produced", but
/// `checked_sub`/`checked_add`/`checked_mul_int` can return it; the value then
/// fails `checked_neg`/`checked_abs` (e.g. `max_token_liquidation` on such a
/// health errors with Overflow instead of sizing).
#[test]
fn fixed_checked_ops_never_produce_i128_min() {
    let r = Fixed::MIN.checked_sub(Fixed::DELTA);
    assert!(r.is_err(), "got {:?} (bits {})", r, r.map(|f| f.to_bits()).unwrap_or(0));
}

// ───────────────────────────── properties that hold ─────────────────────────────

/// `floor(p / 2^48)` and `ceil` of an exact i128 product.
fn shr_round(p: i128, r: Rounding) -> i128 {
    match r {
        Rounding::Floor => p >> 48,
        Rounding::Ceil => -((-p) >> 48),
    }
}

fn div_round(n: i128, d: i128, r: Rounding) -> i128 {
    let (q, rem) = (n / d, n % d);
    let inexact = rem != 0;
    let neg = (n < 0) != (d < 0);
    match r {
        Rounding::Floor if inexact && neg => q - 1,
        Rounding::Ceil if inexact && !neg => q + 1,
        _ => q,
    }
}

proptest! {
    /// Every `checked_mul` path (fast, mixed, full, ×1) rounds exactly once in
    /// the asked direction; checked against exact i128 arithmetic.
    #[test]
    fn holds_mul_div_round_exactly_once(a in -(1i128 << 62)..(1i128 << 62), b in -(1i128 << 62)..(1i128 << 62),
                                         one in any::<bool>()) {
        let b = if one { 1i128 << 48 } else { b };
        for r in [Rounding::Floor, Rounding::Ceil] {
            let got = Fixed::from_bits(a).checked_mul(Fixed::from_bits(b), r).unwrap().to_bits();
            prop_assert_eq!(got, shr_round(a * b, r));
            if b != 0 && a.unsigned_abs() < (1u128 << 78) {
                let got = Fixed::from_bits(a).checked_div(Fixed::from_bits(b), r).unwrap().to_bits();
                prop_assert_eq!(got, div_round(a << 48, b, r));
            }
        }
    }

    /// Large operands: the limb paths agree with the 256-bit `mul_div` path,
    /// and overflow is an error, never a wrap.
    #[test]
    fn holds_large_mul_matches_mul_div(a in any::<i128>(), b in any::<i128>()) {
        let (a, b) = (Fixed::from_bits(a.max(-i128::MAX)), Fixed::from_bits(b.max(-i128::MAX)));
        for r in [Rounding::Floor, Rounding::Ceil] {
            prop_assert_eq!(a.checked_mul(b, r), a.checked_mul_div(b, Fixed::ONE, r));
        }
    }

    /// Pyth conversion: `lo ≤ price·10^e ≤ hi = lo (+1 ulp)`, conf rounded up.
    #[test]
    fn holds_pyth_conversion_brackets(price in 1i64..i64::MAX, conf in 0u64..(1u64 << 62), expo in -12i32..0, extra in 0u8..7, qdec in 0u8..10) {
        let tdec = qdec + extra; // exponent e = expo − extra < 0
        let n = (i32::from(extra) - expo) as u32;
        let d = 10u128.pow(n);
        let num = (price as u128) << 48;
        match OraclePrice::from_pyth(price, conf, expo, tdec, qdec) {
            Ok(o) => {
                prop_assert_eq!(o.lo.to_bits() as u128, num / d);
                prop_assert_eq!(o.hi.to_bits() as u128, num / d + u128::from(!num.is_multiple_of(d)));
                let c = (conf as u128) << 48;
                prop_assert_eq!(o.conf.to_bits() as u128, c / d + u128::from(!c.is_multiple_of(d)));
            }
            Err(e) => { prop_assert_eq!(e, RiskError::InvalidPrice); prop_assert!(num / d == 0); }
        }
    }

    /// Biased prices: asset ≤ oracle.lo ≤ oracle.hi ≤ liab on every health
    /// type, Init the most conservative side.
    #[test]
    fn holds_bias_against_user(lo in 1i128..(1i128 << 70), conf in 0i128..(1i128 << 60), k in 0i128..(4i128 << 48), stable in 0i128..(1i128 << 70)) {
        let o = OraclePrice { lo: Fixed::from_bits(lo), hi: Fixed::from_bits(lo + 1), conf: Fixed::from_bits(conf) };
        let b = BiasedPrices::new(&o, Fixed::from_bits(stable), PriceBias { conf_multiplier: Fixed::from_bits(k) }).unwrap();
        for ht in HealthType::ALL {
            prop_assert!(!b.asset(ht).is_negative() && b.asset(ht) <= o.lo && b.liab(ht) >= o.hi);
        }
        prop_assert!(b.asset(HealthType::Init) <= b.asset(HealthType::Maint));
        prop_assert!(b.liab(HealthType::Init) >= b.liab(HealthType::Maint));
    }

    /// Size-scaled weights never beat the exact ratio in the user's favour.
    #[test]
    fn holds_weight_scaling_conservative(w in 1i128..(2i128 << 48), t in 1i128..(1i128 << 100), extra in 1i128..(1i128 << 24)) {
        let (w, t) = (Fixed::from_bits(w), Fixed::from_bits(t));
        let total = Fixed::from_bits(t.to_bits().saturating_mul(extra + 1).min(i128::MAX >> 2));
        prop_assume!(total > t);
        prop_assert!(scaled_init_asset_weight(w, t, total).unwrap() <= w.checked_mul_div(t, total, Rounding::Floor).unwrap());
        if let Ok(exact) = w.checked_mul_div(total, t, Rounding::Ceil) {
            prop_assert!(scaled_init_liab_weight(w, t, total).unwrap() >= exact);
        }
    }

    /// Linear token liquidation with biased prices, arbitrary valid weights and
    /// an unrelated third position: LE health after the step is in
    /// [before, 0] up to a few ulps, balances keep their sign, Init improves.
    #[test]
    fn holds_linear_token_liquidation_lands_in_range(
        coll in 1i64..10_000_000_000, debt in 1i64..10_000_000_000, pa in 1i64..1_000_000, pl in 1i64..1_000_000,
        ca in 0i64..1_000, cl in 0i64..1_000, wa in 100i64..=1000, wl in 1000i64..=2000, bonus_bp in 0i64..2000,
        other in -1_000_000i64..1_000_000, cap in 1i64..i64::MAX,
    ) {
        let r = |n: i64, d: u64| Fixed::from_ratio(n, d, Rounding::Floor).unwrap();
        let prices = |p: i64, c: i64| {
            let p = r(p, 1000);
            let o = OraclePrice { lo: p, hi: p.checked_add(Fixed::DELTA).unwrap(), conf: r(c, 1_000_000).checked_mul_floor(p).unwrap() };
            BiasedPrices::new(&o, p, PriceBias { conf_multiplier: Fixed::ONE }).unwrap()
        };
        let (wa, wl) = (r(wa, 1000), r(wl, 1000));
        let aw = TokenWeights { init_asset: wa, liq_end_asset: wa, maint_asset: wa, ..TokenWeights::ONE };
        let lw = TokenWeights { init_liab: wl, liq_end_liab: wl, maint_liab: wl, ..TokenWeights::ONE };
        let c = HealthCache::new(vec![
            usdc(0, Fixed::from_i64(other)),
            TokenInfo::new(1, Fixed::from_i64(coll), prices(pa, ca), &aw).unwrap(),
            TokenInfo::new(2, Fixed::from_i64(-debt), prices(pl, cl), &lw).unwrap(),
        ], vec![], MarginMode::Linear).unwrap();
        match max_token_liquidation(&c, 1, 2, r(bonus_bp, 10_000), Fixed::from_i64(cap), false) {
            Ok(s) => {
                let mut a = c.clone();
                a.adjust_token_balance(2, s.liab_repaid).unwrap();
                a.adjust_token_balance(1, s.asset_received.checked_neg().unwrap()).unwrap();
                let h = a.health(LE).unwrap();
                // y = floor(x·r) leaves < 1 ulp of asset behind: worth < asset_unit ulps.
                let tol = Fixed::from_bits(c.token(1).unwrap().asset_unit(LE).unwrap().to_bits() + 4);
                prop_assert!(h <= tol, "overshoot {}", h);
                prop_assert!(h >= s.health_before.checked_sub(Fixed::from_bits(4)).unwrap(), "worse {} < {}", h, s.health_before);
                prop_assert!(a.health(HealthType::Init).unwrap() >= c.health(HealthType::Init).unwrap().checked_sub(Fixed::from_bits(4)).unwrap());
                prop_assert!(!a.token(2).unwrap().balance.is_positive() && !a.token(1).unwrap().balance.is_negative());
                prop_assert!(s.asset_received <= s.liab_repaid.checked_mul_floor(s.rate).unwrap());
            }
            Err(e) => prop_assert!(matches!(e, RiskError::NotLiquidatable | RiskError::LiquidationNotImproving), "{:?}", e),
        }
    }

    /// Linear perp liquidation: LE after in [before, 0] up to ulps.
    #[test]
    fn holds_linear_position_liquidation_lands_in_range(
        base in 1i64..1_000_000, entry in 1i64..100_000, now in 1i64..100_000, coll in -100_000_000i64..100_000_000,
        long in any::<bool>(), bonus_bp in 0i64..1000,
    ) {
        let sgn = if long { 1 } else { -1 };
        let d = DerivativeInfo::new(7, 1, DerivativeKind::Perpetual, Fixed::from_i64(sgn * base),
            Fixed::from_i64(sgn * base * entry), Fixed::ZERO, BiasedPrices::flat(Fixed::from_i64(now)), rates()).unwrap();
        let c = HealthCache::new(vec![usdc(0, Fixed::from_i64(coll))], vec![d], MarginMode::Linear).unwrap();
        let bonus = Fixed::from_ratio(bonus_bp, 10_000, Rounding::Floor).unwrap();
        match max_position_liquidation(&c, 7, bonus, false) {
            Ok(s) => {
                let q = s.base_transferred;
                let (db, dc) = if long { (q.checked_neg().unwrap(), q.checked_mul_floor(s.price).unwrap().checked_neg().unwrap()) }
                               else { (q, q.checked_mul_ceil(s.price).unwrap()) };
                let mut a = c.clone();
                a.adjust_derivative(7, db, dc).unwrap();
                let h = a.health(LE).unwrap();
                prop_assert!(h <= Fixed::from_bits(8), "overshoot {}", h);
                prop_assert!(h >= s.health_before.checked_sub(Fixed::from_bits(4)).unwrap(), "worse {} < {}", h, s.health_before);
            }
            Err(e) => prop_assert!(matches!(e, RiskError::NotLiquidatable | RiskError::LiquidationNotImproving), "{:?}", e),
        }
    }

    /// `max_withdraw` / `max_borrow` never leave Init health negative.
    #[test]
    fn holds_max_withdraw_keeps_init_nonnegative(sol in 0i64..100_000_000_000, usd in -10_000_000_000i64..10_000_000_000,
                                                 frac in 0i64..1_000_000, p in 1i64..1_000_000, which in 0u16..2, borrow in any::<bool>()) {
        let bal = Fixed::from_i64(sol).checked_add(Fixed::from_ratio(frac, 1_000_000, Rounding::Floor).unwrap()).unwrap();
        let o = OraclePrice::exact(Fixed::from_ratio(p, 1_000_000, Rounding::Floor).unwrap());
        let prices = BiasedPrices::new(&o, o.lo, PriceBias { conf_multiplier: Fixed::ONE }).unwrap();
        let c = HealthCache::new(vec![usdc(0, Fixed::from_i64(usd)), TokenInfo::new(1, bal, prices, &sol_weights()).unwrap()],
            vec![], MarginMode::Linear).unwrap();
        let w = c.max_withdraw(which, borrow).unwrap();
        prop_assert!(!w.is_negative() && w.floor() == w);
        if !borrow { prop_assert!(w <= c.token(which).unwrap().balance.positive_part()); }
        let mut a = c.clone();
        a.adjust_token_balance(which, w.checked_neg().unwrap()).unwrap();
        if w.is_positive() { prop_assert!(!a.health(HealthType::Init).unwrap().is_negative()); }
    }

    /// Interest never creates tokens; share conversions round toward the bank.
    #[test]
    fn holds_interest_and_shares_conserve(ds in 1i128..(1i128 << 110), bs_frac in 0u64..=1000, di in (1i128 << 40)..(8i128 << 48),
                                          bi in (1i128 << 48)..(8i128 << 48), fee in 0i64..=1000, dt in 0u64..(5 * 31_536_000), amt in 1u64..u64::MAX) {
        let curve = InterestCurve { zero_util_rate: fx("0.01"), optimal_util: fx("0.8"), optimal_rate: fx("0.1"), max_rate: fx("3") };
        let (di, bi) = (Fixed::from_bits(di), Fixed::from_bits(bi));
        let ds = Fixed::from_bits(ds);
        let dep_val = ds.checked_mul_floor(di).unwrap();
        let bs = dep_val.checked_mul_floor(Fixed::from_ratio(bs_frac as i64, 1000, Rounding::Floor).unwrap()).unwrap().checked_div_floor(bi).unwrap();
        let bank = BankIndices { deposit_index: di, borrow_index: bi, deposit_shares: ds, borrow_shares: bs };
        let a = match accrue_interest(&bank, &curve, Fixed::from_ratio(fee, 1000, Rounding::Floor).unwrap(), dt) {
            Ok(a) => a, Err(e) => { prop_assert_eq!(e, RiskError::Overflow); return Ok(()); }
        };
        let owed = a.indices.total_borrows().unwrap().checked_sub(bank.total_borrows().unwrap()).unwrap();
        let credited = a.indices.total_deposits().unwrap().checked_sub(bank.total_deposits().unwrap()).unwrap();
        prop_assert!(credited.checked_add(a.fee).unwrap() <= owed);
        prop_assert!(a.deposit_growth.checked_add(a.fee).unwrap() <= a.interest);
        let amount = Fixed::from_u64(amt);
        let (i, j) = (a.indices.deposit_index, a.indices.borrow_index);
        if let Ok(s) = deposit_shares_for(amount, i) { prop_assert!(native_balance(s, i, j).unwrap() <= amount); }
        if let Ok(s) = withdraw_shares_for(amount, i) { prop_assert!(s.checked_mul_ceil(i).unwrap() >= amount); }
        if let Ok(s) = borrow_shares_for(amount, j) { prop_assert!(native_balance(s.checked_neg().unwrap(), i, j).unwrap() <= amount.checked_neg().unwrap()); }
        if let Ok(s) = repay_shares_for(amount, j) { prop_assert!(s.checked_mul_floor(j).unwrap() <= amount); }
    }

    /// Bankruptcy: insurance never overpays or overdraws, and depositors'
    /// total claim drops by at least what is socialised (or to zero).
    #[test]
    fn holds_bankruptcy_keeps_vault_solvent(owed in 0i128..(1i128 << 100), price in 1i128..(1i128 << 70), ins in 0i128..(1i128 << 100),
                                            shares in 0i128..(1i128 << 100), index in 1i128..(4i128 << 48)) {
        let f = Fixed::from_bits;
        let r = match resolve_bankruptcy(f(owed), f(price), f(ins), f(shares), f(index)) {
            Ok(r) => r, Err(e) => { prop_assert_eq!(e, RiskError::Overflow); return Ok(()); }
        };
        prop_assert!(r.insurance_paid <= f(ins));
        prop_assert!(r.insurance_paid >= r.covered.checked_mul_ceil(f(price)).unwrap());
        prop_assert_eq!(r.covered.checked_add(r.socialized).unwrap(), f(owed));
        let before = f(shares).checked_mul_floor(f(index)).unwrap();
        let after = f(shares).checked_mul_floor(r.new_deposit_index).unwrap();
        prop_assert!(!r.new_deposit_index.is_negative() && r.new_deposit_index <= f(index));
        let absorbed = r.socialized.checked_sub(r.unabsorbed).unwrap();
        prop_assert!(after <= before.checked_sub(absorbed).unwrap().positive_part());
    }
}
