//! Liquidation: worked examples and the no-overshoot invariant.

use super::*;
use crate::health::{DerivativeInfo, MarginMode, MarginRates, PerType, PnlLimits};
use crate::price::{BiasedPrices, OraclePrice, PriceBias};
use crate::testutil::*;
use crate::weights::TokenWeights;
use proptest::prelude::*;

/// Slack on "health after ≤ 0" from floored contributions (quote native).
const OVERSHOOT_EPS: f64 = 1e-9;

/// 12 SOL at `price` (weights 0.8/0.85/0.9) against a 1000 USDC debt.
fn account(price: &str) -> HealthCache {
    HealthCache::new(
        vec![usdc(0, fx("-1000")), token(1, fx("12"), fx(price), &sol_weights())],
        vec![],
        MarginMode::Linear,
    )
    .unwrap()
}

#[test]
fn token_liquidation_worked_example() {
    // At $100: Maint = 12·100·0.9 − 1000 = 80 ≥ 0 → not liquidatable.
    assert_eq!(
        max_token_liquidation(&account("100"), 1, 0, fx("0.05"), Fixed::MAX, false),
        Err(RiskError::NotLiquidatable)
    );
    // At $90: Maint = 972 − 1000 = −28 < 0; LiqEnd H = 12·90·0.85 − 1000 = −82.
    // r = 1·1.05/90 = 0.0116667 SOL per USDC; s = 1 − r·(90·0.85) = 1 − 0.8925 = 0.1075
    // x = 82 / 0.1075 = 762.7907 USDC repaid; y = x·r = 8.899225 SOL.
    let c = account("90");
    let step = max_token_liquidation(&c, 1, 0, fx("0.05"), Fixed::MAX, false).unwrap();
    assert!(near(step.health_before, -82.0, 1e-9));
    assert!(near(step.liab_repaid, 762.790_697_67, 1e-6), "{}", step.liab_repaid);
    assert!(near(step.asset_received, 8.899_224_806, 1e-6), "{}", step.asset_received);
    // Apply: LiqEnd health lands on 0 (from below, within rounding).
    let mut after = c.clone();
    after.adjust_token_balance(0, step.liab_repaid).unwrap();
    after.adjust_token_balance(1, step.asset_received.checked_neg().unwrap()).unwrap();
    let h = after.health(HealthType::LiquidationEnd).unwrap();
    assert!(h.to_f64().abs() < 1e-9, "{h}");
    assert!(!after.is_liquidatable().unwrap());
    // The liquidator's own cap binds: repay at most 100 USDC → 100·r SOL.
    let capped = max_token_liquidation(&c, 1, 0, fx("0.05"), fx("100"), false).unwrap();
    assert_eq!(capped.liab_repaid, fx("100"));
}

#[test]
fn a_bonus_too_large_to_improve_is_halved_to_what_does() {
    // 12 SOL at $90 against 1,000 USDC (LiquidationEnd −82, equity 80). With
    // a 20 % bonus s = 1 − 1.2·0.85 = −0.02: no step could improve health, and
    // the account (holding SOL) could be neither liquidated nor resolved. The
    // largest improving bonus is 1/0.85 − 1 = 17.65 %; the step pays at most
    // half, 8.82 % (s = 0.075), and here the equity cap lowers it further: all
    // 12 SOL for all 1,000 USDC, a bonus of 80 = 8 %.
    let c = account("90");
    let step = max_token_liquidation(&c, 1, 0, fx("0.2"), Fixed::MAX, false).unwrap();
    let paid = step.rate.to_f64() * 90.0 - 1.0;
    assert!(paid <= 0.088_3 && paid > 0.0, "bonus paid {paid}");
    let mut after = c.clone();
    after.adjust_token_balance(0, step.liab_repaid).unwrap();
    after.adjust_token_balance(1, step.asset_received.checked_neg().unwrap()).unwrap();
    let h = after.health(HealthType::LiquidationEnd).unwrap();
    assert!(h > c.health(HealthType::LiquidationEnd).unwrap() && h.to_f64() <= 1e-9, "{h}");
    // Unit weights and no confidence: no bonus improves anything; the step is
    // a close-out at the oracle rate that walks the account to bankruptcy.
    let flat =
        HealthCache::new(vec![usdc(0, fx("-1000")), usdc(1, fx("900"))], vec![], MarginMode::Linear).unwrap();
    let close_out = max_token_liquidation(&flat, 1, 0, fx("0.1"), Fixed::MAX, false).unwrap();
    assert_eq!((close_out.liab_repaid, close_out.asset_received), (fx("900"), fx("900")));
    assert_eq!(
        liquidation_bonus(fx("0.02"), fx("0.03")).unwrap(),
        fx("0.02").checked_add(fx("0.03")).unwrap()
    );
}

#[test]
fn continues_while_being_liquidated() {
    // At $93: Maint = 12·93·0.9 − 1000 = 4.4 ≥ 0 but LiqEnd = 948.6 − 1000 < 0.
    let c = account("93");
    assert!(!can_liquidate(&c, false).unwrap());
    assert!(can_liquidate(&c, true).unwrap());
    assert!(max_token_liquidation(&c, 1, 0, fx("0.05"), Fixed::MAX, true).is_ok());
}

#[test]
fn position_liquidation_worked_example() {
    // Long 10 perp bought at 150 (cost 1500), price now 140, 80 USDC of collateral.
    // LiqEnd: pnl = 1400 − 1500 = −100, req = 10·140·0.075 = 105 → H = 80 − 205 = −125.
    // Liquidator buys at 140·(1 − 0.02) = 137.2: per unit pnl change 137.2 − 140 = −2.8,
    // requirement released 10.5 → s = 7.7; q = 125 / 7.7 = 16.23 → capped at 10.
    let c =
        HealthCache::new(vec![usdc(0, fx("80"))], vec![perp(7, 1, "10", "1500", "140")], MarginMode::Linear)
            .unwrap();
    assert!(near(c.health(HealthType::LiquidationEnd).unwrap(), -125.0, 1e-9));
    let step = max_position_liquidation(&c, 7, fx("0.02"), false).unwrap();
    assert_eq!(step.base_transferred, fx("10"));
    assert!(near(step.price, 137.2, 1e-9));
    // With 150 USDC: H = −55 → q = 55/7.7 = 7.142857; after, LiqEnd ≈ 0.
    let mut c2 =
        HealthCache::new(vec![usdc(0, fx("150"))], vec![perp(7, 1, "10", "1500", "140")], MarginMode::Linear)
            .unwrap();
    let s2 = max_position_liquidation(&c2, 7, fx("0.02"), false).unwrap();
    assert!(near(s2.base_transferred, 7.142_857_142, 1e-6));
    let q = s2.base_transferred;
    c2.adjust_derivative(
        7,
        q.checked_neg().unwrap(),
        q.checked_mul_floor(s2.price).unwrap().checked_neg().unwrap(),
    )
    .unwrap();
    assert!(c2.health(HealthType::LiquidationEnd).unwrap().to_f64().abs() < 1e-6);
}

#[test]
fn bankruptcy_worked_example() {
    // Owes 1000 USDC-native at price 1; insurance holds 600 → covers 600,
    // socialises 400 over 10,000 deposit shares at index 1 → index 0.96.
    let r = resolve_bankruptcy(fx("1000"), Fixed::ONE, fx("600"), fx("10000"), Fixed::ONE).unwrap();
    assert_eq!(r.insurance_paid, fx("600"));
    assert_eq!(r.covered, fx("600"));
    assert_eq!(r.socialized, fx("400"));
    assert!(near(r.new_deposit_index, 0.96, 1e-12));
    assert!(r.new_deposit_index <= fx("0.96"));
    // Fully insured.
    let r = resolve_bankruptcy(fx("10"), fx("2"), fx("600"), fx("10000"), Fixed::ONE).unwrap();
    assert_eq!((r.insurance_paid, r.socialized), (fx("20"), Fixed::ZERO));
    // Depositors wiped out: 5 deposited, 400 to socialise. The index stops at
    // its floor 2^-14 (the bank keeps working), and the unabsorbed part is the
    // 395 beyond the deposits plus the 5·2^-14 the old shares still claim.
    let r = resolve_bankruptcy(fx("400"), Fixed::ONE, Fixed::ZERO, fx("5"), Fixed::ONE).unwrap();
    assert_eq!(r.new_deposit_index, MIN_DEPOSIT_INDEX);
    assert!(near(MIN_DEPOSIT_INDEX, 1.0 / 16384.0, 0.0));
    assert!(near(r.unabsorbed, 395.0 + 5.0 / 16384.0, 1e-12), "{}", r.unabsorbed);
    // A loss just below the deposits would push the index under the floor too.
    let r = resolve_bankruptcy(fx("4.99999"), Fixed::ONE, Fixed::ZERO, fx("5"), Fixed::ONE).unwrap();
    assert_eq!(r.new_deposit_index, MIN_DEPOSIT_INDEX);
    assert!(r.unabsorbed.is_positive() && r.unabsorbed < fx("0.0003"), "{}", r.unabsorbed);
    // No depositors at all: everything is unabsorbed, the index is untouched.
    let r = resolve_bankruptcy(fx("7"), Fixed::ONE, Fixed::ZERO, Fixed::ZERO, fx("1.5")).unwrap();
    assert_eq!((r.new_deposit_index, r.unabsorbed), (fx("1.5"), fx("7")));
    // is_bankrupt: only debt left.
    let c = HealthCache::new(
        vec![usdc(0, fx("-5")), token(1, Fixed::ZERO, fx("9"), &sol_weights())],
        vec![],
        MarginMode::Linear,
    )
    .unwrap();
    assert!(is_bankrupt(&c).unwrap());
    assert!(!is_bankrupt(&account("90")).unwrap());
}

/// 10 SOL at `price` (weights 0.8/0.85/0.9) against `debts` (USDC, BTC at 1,000).
fn sol_against(price: &str, usdc_debt: &str, btc_debt: &str) -> HealthCache {
    let mut tokens = vec![usdc(0, fx(usdc_debt)), token(1, fx("10"), fx(price), &sol_weights())];
    if btc_debt != "0" {
        tokens.push(token(2, fx(btc_debt), fx("1000"), &sol_weights()));
    }
    HealthCache::new(tokens, vec![], MarginMode::Linear).unwrap()
}

#[test]
fn bonus_shrinks_so_a_solvent_account_is_left_without_debt() {
    // 10 SOL at $120 = 1,200 against 1,150 USDC: equity 50.
    // LiqEnd H = 1,200·0.85 − 1,150 = −130. At the full 10 % bonus all the SOL
    // would buy 10/(1.1/120) = 1,090.91 USDC of debt, leaving 59.09 owed and
    // nothing to seize. Capped at the equity: s0 = 1 − 0.85 = 0.15,
    // x = min((130 + 50·0.85)/0.15 = 1,150, debt 1,150, (1,200 − 50)/1 = 1,150) = 1,150,
    // y = (1,150 + 50)/120 = 10 SOL: the bonus is 50 USDC = 4.35 %.
    let c = sol_against("120", "-1150", "0");
    assert!(near(oracle_equity(&c).unwrap(), 50.0, 1e-9));
    let step = max_token_liquidation(&c, 1, 0, fx("0.1"), Fixed::MAX, false).unwrap();
    assert!(near(step.liab_repaid, 1150.0, 1e-6), "{}", step.liab_repaid);
    assert!(near(step.asset_received, 10.0, 1e-9), "{}", step.asset_received);
    assert!(step.asset_received <= fx("10"));
    let mut after = c.clone();
    after.adjust_token_balance(0, step.liab_repaid).unwrap();
    after.adjust_token_balance(1, step.asset_received.checked_neg().unwrap()).unwrap();
    assert!(after.token(0).unwrap().balance.to_f64().abs() < 1e-6, "debt left");
    assert!(oracle_equity(&after).unwrap().to_f64() >= -1e-9);
}

#[test]
fn bonus_cap_leaves_collateral_for_the_other_debt() {
    // 10 SOL at $120 against 1,000 USDC and 0.15 BTC (150 at $1,000): equity
    // 50, bonus capped at 50 / 1,150 = 4.35 %. The USDC leg (x = 1,000) takes
    // 1,000 · 1.0435 / 120 = 8.6957 SOL, leaving 1.3043 SOL = 156.52 against
    // the 150 of BTC debt: the same 4.35 % of equity over debt, so the BTC leg
    // can take the rest at the same bonus and leave nothing owed.
    let c = sol_against("120", "-1000", "-0.15");
    let step = max_token_liquidation(&c, 1, 0, fx("0.1"), Fixed::MAX, false).unwrap();
    assert!(near(step.liab_repaid, 1000.0, 1e-6), "{}", step.liab_repaid);
    assert!(near(step.asset_received, 8.695_652_17, 1e-6), "{}", step.asset_received);
    let mut after = c.clone();
    after.adjust_token_balance(0, step.liab_repaid).unwrap();
    after.adjust_token_balance(1, step.asset_received.checked_neg().unwrap()).unwrap();
    assert!(near(oracle_equity(&after).unwrap(), 150.0 * 50.0 / 1150.0, 1e-6));
    let last = max_token_liquidation(&after, 1, 2, fx("0.1"), Fixed::MAX, false).unwrap();
    assert!(near(last.liab_repaid, 0.15, 1e-9) && near(last.asset_received, 1.304_347_8, 1e-6), "{last:?}");
}

#[test]
fn insolvent_accounts_pay_the_full_bonus() {
    // 10 SOL at $100 against 1,150 USDC: equity −150, so the liquidator gets
    // its full 10 % and the rest is bad debt: all 10 SOL for 1,000/1.1 = 909.09.
    let c = sol_against("100", "-1150", "0");
    let step = max_token_liquidation(&c, 1, 0, fx("0.1"), Fixed::MAX, false).unwrap();
    assert!(near(step.liab_repaid, 909.090_909, 1e-5), "{}", step.liab_repaid);
    assert!(near(step.asset_received, 10.0, 1e-6));
}

/// Equity counts derivative PnL at the oracle: USDC 1,000 deposit, a SOL
/// borrow of 2 at 140 (debt 280), long perp 10 bought for 1,500 with 5 of
/// unsettled funding owed: PnL 10·140 − 1,500 − 5 = −105, a debt. Assets
/// 1,000, debts 385, E/L = 615/385 = 1.597, so a 5 % bonus stands; with the
/// perp at a 700 loss instead (cost 2,100), debts are 280 + 705 = 985 and the
/// bonus is capped at 15/985 = 1.52 %.
#[test]
fn oracle_values_count_derivative_pnl() {
    let perp = |cost: &str| {
        DerivativeInfo::new(
            7,
            1,
            DerivativeKind::Perpetual,
            fx("10"),
            fx(cost),
            fx("-5"),
            biased("140", "0", "140"),
            perp_rates(),
        )
        .unwrap()
    };
    let sol_debt = token(1, fx("-2"), fx("140"), &sol_weights());
    let c = HealthCache::new(vec![usdc(0, fx("1000")), sol_debt], vec![perp("1500")], MarginMode::Linear)
        .unwrap();
    let (assets, debts) = oracle_values(&c).unwrap();
    assert!(near(assets, 1000.0, 1e-9) && near(debts, 385.0, 1e-9), "{assets} {debts}");
    assert_eq!(equity_bonus(&c, fx("0.05")).unwrap(), fx("0.05"));
    let c = HealthCache::new(vec![usdc(0, fx("1000")), sol_debt], vec![perp("2100")], MarginMode::Linear)
        .unwrap();
    let (assets, debts) = oracle_values(&c).unwrap();
    assert!(near(assets, 1000.0, 1e-9) && near(debts, 985.0, 1e-9), "{assets} {debts}");
    assert!(near(equity_bonus(&c, fx("0.05")).unwrap(), 15.0 / 985.0, 1e-12));
}

proptest! {
    /// Liquidating a solvent account step after step, on every pair, until
    /// no step is accepted: it never becomes insolvent, and it is never left
    /// with debt and no collateral (the cap `E / L` keeps the ratio).
    #[test]
    fn repeated_steps_keep_a_solvent_account_solvent(
        sol in 1i64..1_000, btc in 0i64..100, usdc_debt in 0i64..100_000, eth_debt in 0i64..100,
        p in 1i64..400, bonus_bp in 0i64..1500, cap in 1i64..100_000,
    ) {
        let price = Fixed::from_ratio(p, 1, Rounding::Floor).unwrap();
        let btc_weights = TokenWeights { init_asset: fx("0.9"), liq_end_asset: fx("0.93"), maint_asset: fx("0.95"), ..sol_weights() };
        let mut tokens = vec![
            usdc(0, Fixed::from_i64(-usdc_debt)),
            token(1, Fixed::from_i64(sol), price, &sol_weights()),
            token(2, Fixed::from_i64(btc), fx("1000"), &btc_weights),
            token(3, Fixed::from_i64(-eth_debt), fx("300"), &sol_weights()),
        ];
        tokens.retain(|t| !t.balance.is_zero());
        let Ok(mut c) = HealthCache::new(tokens, vec![], MarginMode::Linear) else { return Ok(()) };
        prop_assume!(oracle_equity(&c).unwrap().is_positive());
        let bonus = Fixed::from_ratio(bonus_bp, 10_000, Rounding::Floor).unwrap();
        for _ in 0..20 {
            let mut stepped = false;
            for (asset, liab) in [(1u16, 0u16), (2, 0), (1, 3), (2, 3)] {
                let Ok(step) = max_token_liquidation(&c, asset, liab, bonus, Fixed::from_i64(cap), true) else { continue };
                if !step.liab_repaid.is_positive() { continue; }
                c.adjust_token_balance(liab, step.liab_repaid).unwrap();
                c.adjust_token_balance(asset, step.asset_received.checked_neg().unwrap()).unwrap();
                stepped = true;
                let (assets, debts) = oracle_values(&c).unwrap();
                prop_assert!(assets.to_f64() - debts.to_f64() >= -1e-6 * (1.0 + debts.to_f64()), "insolvent: {assets} < {debts}");
            }
            if !stepped { break; }
        }
        let (assets, debts) = oracle_values(&c).unwrap();
        prop_assert!(assets.to_f64() > 1e-9 || debts.to_f64() < 1e-6, "debt {debts} left with no collateral");
    }

    /// While the account is solvent at oracle prices, a step never makes it
    /// insolvent (the bonus comes out of equity), never pays more than the
    /// full bonus, and never leaves debt with all the collateral gone.
    #[test]
    fn a_solvent_account_stays_solvent(
        coll in 1i64..100_000, debt in 1i64..100_000, other in 0i64..50_000, p in 1i64..100_000,
        bonus_bp in 0i64..1500, cap in 1i64..1_000_000,
    ) {
        let price = Fixed::from_ratio(p, 100, Rounding::Floor).unwrap();
        let mut tokens = vec![usdc(0, Fixed::from_i64(-debt)), token(1, Fixed::from_i64(coll), price, &sol_weights())];
        if other > 0 {
            tokens.push(token(2, Fixed::from_ratio(-other, 1000, Rounding::Floor).unwrap(), fx("1000"), &sol_weights()));
        }
        let c = HealthCache::new(tokens, vec![], MarginMode::Linear).unwrap();
        let bonus = Fixed::from_ratio(bonus_bp, 10_000, Rounding::Floor).unwrap();
        let equity = oracle_equity(&c).unwrap();
        if let Ok(step) = max_token_liquidation(&c, 1, 0, bonus, Fixed::from_i64(cap), false) {
            let mut after = c.clone();
            after.adjust_token_balance(0, step.liab_repaid).unwrap();
            after.adjust_token_balance(1, step.asset_received.checked_neg().unwrap()).unwrap();
            let full = step.liab_repaid.checked_mul_floor(step.rate.max(Fixed::ZERO)).unwrap();
            prop_assert!(step.asset_received.to_f64() <= step.liab_repaid.to_f64() * (1.0 + bonus.to_f64()) / price.to_f64() + 1e-9, "{} vs {}", step.asset_received, full);
            let h = after.health(HealthType::LiquidationEnd).unwrap();
            prop_assert!(h.to_f64() <= OVERSHOOT_EPS, "overshoot {}", h);
            if equity.is_positive() {
                prop_assert!(oracle_equity(&after).unwrap().to_f64() >= -1e-6, "insolvent after: {}", oracle_equity(&after).unwrap());
                let sol_left = after.token(1).unwrap().balance;
                let owed = after.token(0).unwrap().balance.to_f64() + if other > 0 { after.token(2).unwrap().balance.to_f64() } else { 0.0 };
                prop_assert!(sol_left.is_positive() || owed > -1e-6, "debt {} left with no collateral", owed);
            }
        }
    }
}

proptest! {
    /// Socialisation never lowers the index below its floor, and what the
    /// depositors lose plus the unabsorbed part covers the loss exactly or more.
    #[test]
    fn socialisation_accounts_for_the_whole_loss(
        loss in 0i64..10_000_000, shares in 0i64..10_000_000, index_bp in 1i64..30_000,
    ) {
        let index = Fixed::from_ratio(index_bp, 10_000, Rounding::Floor).unwrap();
        let shares = Fixed::from_i64(shares);
        let r = resolve_bankruptcy(Fixed::from_i64(loss), Fixed::ONE, Fixed::ZERO, shares, index).unwrap();
        prop_assert!(r.new_deposit_index >= MIN_DEPOSIT_INDEX.min(index));
        prop_assert!(r.new_deposit_index <= index);
        let lost = shares.checked_mul_floor(index).unwrap().checked_sub(shares.checked_mul_ceil(r.new_deposit_index).unwrap()).unwrap();
        prop_assert!(lost.checked_add(r.unabsorbed).unwrap().to_f64() >= loss as f64 - 1e-6,
            "lost {} + unabsorbed {} < loss {}", lost, r.unabsorbed, loss);
    }
}

proptest! {
    /// A liquidation step never leaves LiquidationEnd health above 0 by more
    /// than rounding, and never below where it started.
    #[test]
    fn step_lands_at_zero_without_overshoot(
        coll in 1i64..100_000, debt in 1i64..100_000, p in 1i64..100_000, bonus_bp in 0i64..1000, cap in 1i64..1_000_000,
    ) {
        let price = Fixed::from_ratio(p, 100, Rounding::Floor).unwrap();
        let c = HealthCache::new(
            vec![usdc(0, Fixed::from_i64(-debt)), token(1, Fixed::from_i64(coll), price, &sol_weights())],
            vec![], MarginMode::Linear).unwrap();
        let bonus = Fixed::from_ratio(bonus_bp, 10_000, Rounding::Floor).unwrap();
        match max_token_liquidation(&c, 1, 0, bonus, Fixed::from_i64(cap), false) {
            Ok(step) => {
                let mut after = c.clone();
                after.adjust_token_balance(0, step.liab_repaid).unwrap();
                after.adjust_token_balance(1, step.asset_received.checked_neg().unwrap()).unwrap();
                let h = after.health(HealthType::LiquidationEnd).unwrap();
                prop_assert!(h.to_f64() <= OVERSHOOT_EPS, "overshoot {}", h);
                prop_assert!(h >= step.health_before.checked_sub(Fixed::from_bits(4)).unwrap());
                prop_assert!(!after.token(0).unwrap().balance.is_positive());
                prop_assert!(!after.token(1).unwrap().balance.is_negative());
            }
            Err(e) => prop_assert!(matches!(e, RiskError::NotLiquidatable | RiskError::LiquidationNotImproving)),
        }
    }
}

/// Long 10 perp at 140 with every positive-PnL weight 0.5 and the given cost
/// and collateral (market 7).
fn weighted_long(cost: &str, collateral: &str) -> HealthCache {
    let limits = PnlLimits { weights: PerType::splat(fx("0.5")), init_cap: None };
    let d = perp(7, 1, "10", cost, "140").with_pnl_limits(limits).unwrap();
    HealthCache::new(vec![usdc(0, fx(collateral))], vec![d], MarginMode::Linear).unwrap()
}

/// LiqEnd health after a liquidator takes `q` of the position in market 7 at
/// `price`: the liquidatee moves toward zero, its proceeds rounded against it
/// (a long's down, a short's cost up).
fn health_after_step(c: &HealthCache, q: Fixed, price: Fixed, short: bool) -> Fixed {
    let (db, dc) = if short {
        (q, q.checked_mul_ceil(price).unwrap())
    } else {
        (q.checked_neg().unwrap(), q.checked_mul_floor(price).unwrap().checked_neg().unwrap())
    };
    let mut after = c.clone();
    after.adjust_derivative(7, db, dc).unwrap();
    after.health(HealthType::LiquidationEnd).unwrap()
}

/// Closes `q` of the long at `price` (proceeds rounded down) and returns LiqEnd health.
fn health_after_close(c: &HealthCache, q: Fixed, price: Fixed) -> Fixed {
    health_after_step(c, q, price, false)
}

#[test]
fn weighted_profit_is_not_over_liquidated() {
    // Long 10 bought at 100 (cost 1000), price 140: pnl +400, counted 0.5 → 200.
    // USDC −131: Maint 200 − 70 − 131 = −1; LiqEnd 200 − 105 − 131 = −36.
    // Bonus 2 %: P = 137.2, u = −2.8, req_unit 10.5. The profit stays positive
    // (kink at 400/2.8 = 142.9 units), so each unit gains 0.5·(−2.8) + 10.5 = 9.1:
    // q = 36/9.1 = 3.956044. (The raw slope 7.7 would give 4.675 and leave +6.55.)
    let c = weighted_long("1000", "-131");
    assert!(near(c.health(HealthType::Maint).unwrap(), -1.0, 1e-9));
    assert!(near(c.health(HealthType::LiquidationEnd).unwrap(), -36.0, 1e-9));
    let step = max_position_liquidation(&c, 7, fx("0.02"), false).unwrap();
    assert!(near(step.base_transferred, 36.0 / 9.1, 1e-9));
    let h = health_after_close(&c, step.base_transferred, step.price);
    assert!(h.to_f64().abs() < 1e-9, "{h}");
    let raw = Fixed::from_f64(36.0 / 7.7);
    assert!(near(health_after_close(&c, raw, step.price), 36.0 / 7.7 * 9.1 - 36.0, 1e-6));
}

#[test]
fn weighted_profit_crossing_zero_uses_both_slopes() {
    // Long 10 bought at 139 (cost 1390), price 140: pnl +10 → 5. USDC 50:
    // Maint 5 − 70 + 50 = −15; LiqEnd 5 − 105 + 50 = −50.
    // Segment 1 (profit, slope 9.1) up to the kink q_k = 10/2.8 = 25/7, where
    // health is −50 + 32.5 = −17.5; segment 2 (loss, slope 7.7): 17.5/7.7 = 25/11.
    // q = 25/7 + 25/11 = 450/77 = 5.844156.
    // Check: pnl 10 − 2.8·450/77 = −6.364 (1:1), req (10 − 5.844)·10.5 = 43.636,
    // 50 − 6.364 − 43.636 = 0.
    let c = weighted_long("1390", "50");
    assert!(near(c.health(HealthType::LiquidationEnd).unwrap(), -50.0, 1e-9));
    let step = max_position_liquidation(&c, 7, fx("0.02"), false).unwrap();
    assert!(near(step.base_transferred, 450.0 / 77.0, 1e-9));
    let h = health_after_close(&c, step.base_transferred, step.price);
    assert!(h.to_f64() <= OVERSHOOT_EPS && h.to_f64() > -1e-9, "{h}");
}

#[test]
fn small_loss_turning_into_weighted_profit() {
    // Oracle 140, confidence 4: a long is marked at 136, requirements use 144.
    // Long 10 bought for 1362: pnl 1360 − 1362 = −2 (counts 1:1); LiqEnd req
    // 10·144·0.075 = 108; Maint req 72. USDC 70: Maint −4, LiqEnd −40.
    // Bonus 2 %: P = 137.2 > mark, u = +1.2, req_unit 10.8. Segment 1 (loss,
    // slope 12) to the kink 2/1.2 = 5/3, health −40 + 20 = −20; segment 2
    // (profit at 0.5, slope 11.4): 20/11.4 = 1.754386. q = 5/3 + 100/57 = 65/19.
    // Check: pnl −2 + 1.2·65/19 = 2.105 → 1.0526; req (10 − 3.4211)·10.8 = 71.0526;
    // 70 + 1.0526 − 71.0526 = 0.
    let limits = PnlLimits { weights: PerType::splat(fx("0.5")), init_cap: None };
    let d = DerivativeInfo::new(
        7,
        1,
        DerivativeKind::Perpetual,
        fx("10"),
        fx("1362"),
        Fixed::ZERO,
        biased("140", "4", "140"),
        perp_rates(),
    )
    .unwrap()
    .with_pnl_limits(limits)
    .unwrap();
    let c = HealthCache::new(vec![usdc(0, fx("70"))], vec![d], MarginMode::Linear).unwrap();
    assert!(near(c.health(HealthType::Maint).unwrap(), -4.0, 1e-9));
    assert!(near(c.health(HealthType::LiquidationEnd).unwrap(), -40.0, 1e-9));
    let step = max_position_liquidation(&c, 7, fx("0.02"), false).unwrap();
    assert!(near(step.base_transferred, 65.0 / 19.0, 1e-9));
    let h = health_after_close(&c, step.base_transferred, step.price);
    assert!(h.to_f64() <= OVERSHOOT_EPS && h.to_f64() > -1e-9, "{h}");
}

proptest! {
    /// With any positive-PnL weight a position step never leaves LiqEnd
    /// health above 0 (beyond rounding) nor below where it started.
    #[test]
    fn weighted_position_step_never_overshoots(
        base in 1i64..1_000, entry in 1i64..1_000, p in 1i64..1_000, conf in 0i64..50,
        coll in -100_000i64..100_000, w_pct in 0i64..=100, bonus_bp in 0i64..1000, short in any::<bool>(),
    ) {
        let w = Fixed::from_ratio(w_pct, 100, Rounding::Floor).unwrap();
        let limits = PnlLimits { weights: PerType::splat(w), init_cap: None };
        let b = if short { -base } else { base };
        let prices = biased(&p.to_string(), &format!("{}", conf as f64 / 100.0), &p.to_string());
        let d = DerivativeInfo::new(7, 1, DerivativeKind::Perpetual, Fixed::from_i64(b),
            Fixed::from_i64(b * entry), Fixed::ZERO, prices, perp_rates()).unwrap()
            .with_pnl_limits(limits).unwrap();
        let c = HealthCache::new(vec![usdc(0, Fixed::from_i64(coll))], vec![d], MarginMode::Linear).unwrap();
        let bonus = Fixed::from_ratio(bonus_bp, 10_000, Rounding::Floor).unwrap();
        match max_position_liquidation(&c, 7, bonus, false) {
            Ok(step) => {
                let h = health_after_step(&c, step.base_transferred, step.price, short);
                prop_assert!(h.to_f64() <= OVERSHOOT_EPS, "overshoot {}", h);
                prop_assert!(h.to_f64() >= step.health_before.to_f64() - 1e-9, "{} < {}", h, step.health_before);
            }
            Err(e) => prop_assert!(matches!(e, RiskError::NotLiquidatable | RiskError::LiquidationNotImproving)),
        }
    }
}

/// Long 100 perp (contract size 1) bought at 100, price 100, with a size
/// premium of 0.005 per √contract, and `collateral` USDC (market 7).
fn premium_long(collateral: &str) -> HealthCache {
    let rates = MarginRates { size_premium: fx("0.005"), contract_size: 1, ..perp_rates() };
    let d = DerivativeInfo::new(
        7,
        1,
        DerivativeKind::Perpetual,
        fx("100"),
        fx("10000"),
        Fixed::ZERO,
        BiasedPrices::flat(fx("100")),
        rates,
    )
    .unwrap();
    HealthCache::new(vec![usdc(0, fx(collateral))], vec![d], MarginMode::Linear).unwrap()
}

#[test]
fn size_premium_liquidation_worked_example() {
    // √100 = 10, premium 0.05: LiqEnd rate max(7.5 %, 6 % + 5 %) = 11 %,
    // requirement 100 · 100 · 11 % = 1,100; Maint max(5 %, 4 % + 5 %) = 9 %,
    // 900. USDC 712: Maint −188 (liquidatable), LiqEnd −388.
    // Bonus 2 %: P = 98, each unit closed loses 2 of PnL.
    // Exact answer: keep x = 64 (√64 = 8, rate 6 % + 4 % = 10 %, requirement
    // 640) and close 36 (PnL −72): 712 − 72 − 640 = 0.
    // The average requirement per unit (11) would give 388 / (11 − 2) = 43.1
    // and overshoot: 56.9 left, rate 9.77 %, 712 − 86.2 − 555.9 = +69.9.
    // Step 1 uses the tangent: R′ = p · (1.5 · 11 % − 0.4 · 7.5 %) = 13.5 per
    // unit, 388 / (13.5 − 2) = 33.739 (lands at −22.73: 66.261 left, √ =
    // 8.1401, rate 10.070 %, requirement 667.25, PnL −67.48); step 2 on the
    // tangent there (1.5 · 10.070 % − 3 % → 12.105 − 2 per unit): +2.2492 =
    // 35.988. (Each step also tries a guess beyond, on the average release,
    // and comes back from it on the tangent there: the steps stop once the
    // two are within one contract, here 1 unit.)
    let c = premium_long("712");
    assert!(near(c.health(HealthType::Maint).unwrap(), -188.0, 1e-9));
    assert!(near(c.health(HealthType::LiquidationEnd).unwrap(), -388.0, 1e-9));
    let d = *c.derivative(7).unwrap();
    let bound = d.release_bound(HealthType::LiquidationEnd).unwrap();
    assert!(near(bound.slope, 13.5, 1e-9) && bound.limit == fx("100"), "{bound:?}");
    assert!(bound.excess.to_f64() < 1e-6, "{bound:?}");
    let first = concave_step(fx("-388"), Fixed::ZERO, fx("-2"), bound.slope, Fixed::ONE).unwrap();
    assert!(near(first, 388.0 / 11.5, 1e-9));
    let h1 = health_after_close(&c, first, fx("98"));
    assert!(near(h1, -22.728, 0.001), "{h1}");
    let average = concave_step(fx("-388"), Fixed::ZERO, fx("-2"), fx("11"), Fixed::ONE).unwrap();
    assert!(near(health_after_close(&c, average, fx("98")), 69.9, 0.1), "the average slope overshoots");
    // Whole contracts (as on-chain): Newton from below on exact points.
    // LiqEnd after 36 is 0 up to the roundings (+3.8e-11), after 35 it is
    // −10.0234 (one contract releases about 12 of requirement and loses 2):
    // 36 is the smallest count reaching 0.
    let step = max_position_liquidation(&c, 7, fx("0.02"), false).unwrap();
    assert_eq!(step.base_transferred, fx("36"));
    assert!(!health_after_close(&c, fx("36"), step.price).is_negative());
    assert!(near(health_after_close(&c, fx("35"), step.price), -10.0234, 1e-4));
    // The general steps (any size, in fractions of a contract): below 36 by
    // far less than the one contract they stop within.
    let (price, pnl_unit) = (fx("98"), fx("-2"));
    let q = super::premium::premium_steps(&d, fx("-388"), price, pnl_unit, Fixed::ONE).unwrap();
    assert!(q <= fx("36") && near(q, 36.0, 1e-3), "{q}");
    let h = health_after_close(&c, q, price);
    assert!(h.to_f64() <= 0.0 && h.to_f64() > -0.01, "{h}");
}

#[test]
fn capped_position_liquidates_on_the_cap_slope_first() {
    // imf 0.1 with 10,000 contracts: √ = 100, 6 % + 10 → capped at 100 %
    // (requirement = notional). The cap starts at √c = (1 − 0.06) / 0.1 = 9.4,
    // c = 88.36: above it each unit closed releases exactly its price (100).
    let rates = MarginRates { size_premium: fx("0.1"), contract_size: 1, ..perp_rates() };
    let d = DerivativeInfo::new(
        7,
        1,
        DerivativeKind::Perpetual,
        fx("10000"),
        fx("1000000"),
        Fixed::ZERO,
        BiasedPrices::flat(fx("100")),
        rates,
    )
    .unwrap();
    let c = HealthCache::new(vec![usdc(0, fx("999000"))], vec![d], MarginMode::Linear).unwrap();
    // LiqEnd: 999,000 − 1,000,000 = −1,000. Closing at 98 gains 98 per unit: 10.204 units.
    assert!(near(c.health(HealthType::LiquidationEnd).unwrap(), -1_000.0, 1e-6));
    let bound = c.derivative(7).unwrap().release_bound(HealthType::LiquidationEnd).unwrap();
    assert!(near(bound.slope, 100.0, 1e-9) && near(bound.limit, 10_000.0 - 88.36, 1e-6), "{bound:?}");
    // Whole contracts: the capped slope (98 a contract) to 10.204, so 11:
    // LiqEnd −1,000 + 10 · 98 = −20 after 10, +78 after 11.
    let step = max_position_liquidation(&c, 7, fx("0.02"), false).unwrap();
    assert_eq!(step.base_transferred, fx("11"));
    assert!(near(health_after_close(&c, fx("10"), step.price), -20.0, 1e-6));
    assert!(near(health_after_close(&c, fx("11"), step.price), 78.0, 1e-6));
    // The general steps: exactly 1,000 / 98 units.
    let d = *c.derivative(7).unwrap();
    let q = super::premium::premium_steps(&d, fx("-1000"), fx("98"), fx("-2"), Fixed::ONE).unwrap();
    assert!(near(q, 1_000.0 / 98.0, 1e-9), "{q}");
    let h = health_after_close(&c, q, fx("98"));
    assert!(h.to_f64() <= 0.0 && h.to_f64() > -1e-6, "{h}");
}

#[test]
fn zero_premium_sizes_as_before() {
    // The same account without a premium (already being liquidated: Maint
    // 712 − 500 ≥ 0) takes the single closed-form step: LiqEnd 712 − 750 =
    // −38 → 38 / (7.5 − 2) = 6.909.
    let rates = MarginRates { size_premium: Fixed::ZERO, contract_size: 1, ..perp_rates() };
    let d = DerivativeInfo::new(
        7,
        1,
        DerivativeKind::Perpetual,
        fx("100"),
        fx("10000"),
        Fixed::ZERO,
        BiasedPrices::flat(fx("100")),
        rates,
    )
    .unwrap();
    let c = HealthCache::new(vec![usdc(0, fx("712"))], vec![d], MarginMode::Linear).unwrap();
    let step = max_position_liquidation(&c, 7, fx("0.02"), true).unwrap();
    let plain = max_position_liquidation(&premium_long("712"), 7, fx("0.02"), true).unwrap();
    assert!(near(step.base_transferred, 38.0 / 5.5, 1e-9));
    assert!(plain.base_transferred > step.base_transferred);
}

proptest! {
    /// With a size premium, on any size: premiums up to 0.1 per √contract on
    /// up to 100,000 contracts (rates from the base rate to the cap and
    /// beyond it), any PnL weight, bonus and side.
    ///
    /// Whole contracts (every on-chain position): the step is a whole number
    /// of contracts, the smallest after which LiqEnd health is ≥ 0 (one
    /// contract fewer leaves it < 0), or the whole position when closing it
    /// all does not reach 0; never below where it started.
    ///
    /// A size in fractions of a contract (the general steps): LiqEnd health
    /// after the step is ≤ 0 (never over-liquidated) and within one
    /// contract's gain of 0 (1e-6 of the shortfall and the requirement's
    /// rounding), or the whole position is closed, or the step is within a
    /// contract of closing it all and closing it all leaves health < 0.
    #[test]
    fn premium_position_step_lands_on_zero(
        base in 1i64..100_000, entry in 1i64..1_000, p in 1i64..1_000, conf in 0i64..50,
        coll in -1_000_000i64..10_000_000, w_pct in 0i64..=100, bonus_bp in 0i64..400, short in any::<bool>(),
        imf_ppm in 1i64..100_000, cs in 1u64..1_000, fractional in any::<bool>(),
    ) {
        let w = Fixed::from_ratio(w_pct, 100, Rounding::Floor).unwrap();
        let limits = PnlLimits { weights: PerType::splat(w), init_cap: None };
        let imf = Fixed::from_ratio(imf_ppm, 1_000_000, Rounding::Floor).unwrap();
        let rates = MarginRates { size_premium: imf, contract_size: cs, ..perp_rates() };
        // Prices per native unit: `p / cs` per unit, so a contract is worth `p`.
        let per = |v: i64| Fixed::from_i64(v).checked_div_int(cs, Rounding::Floor).unwrap();
        let o = OraclePrice { lo: per(p), hi: per(p), conf: per(conf).checked_div_int(100, Rounding::Floor).unwrap() };
        let prices = BiasedPrices::new(&o, per(p), PriceBias { conf_multiplier: Fixed::ONE }).unwrap();
        let whole = Fixed::from_i64(base).checked_mul_int(cs as i64).unwrap();
        let size = if fractional { whole.checked_add(Fixed::HALF).unwrap() } else { whole };
        let native = if short { size.checked_neg().unwrap() } else { size };
        let cost = Fixed::from_i64(if short { -base } else { base } * entry);
        let d = DerivativeInfo::new(7, 1, DerivativeKind::Perpetual, native, cost, Fixed::ZERO, prices, rates)
            .unwrap()
            .with_pnl_limits(limits)
            .unwrap();
        let c = HealthCache::new(vec![usdc(0, Fixed::from_i64(coll))], vec![d], MarginMode::Linear).unwrap();
        let bonus = Fixed::from_ratio(bonus_bp, 10_000, Rounding::Floor).unwrap();
        match max_position_liquidation(&c, 7, bonus, false) {
            Ok(step) => {
                let q = step.base_transferred;
                let h = health_after_step(&c, q, step.price, short);
                let before = step.health_before.to_f64();
                prop_assert!(h.to_f64() >= before - 1e-9, "{} < {}", h, step.health_before);
                let closed = q == size;
                if fractional {
                    prop_assert!(h.to_f64() <= OVERSHOOT_EPS, "overshoot {}", h);
                    // One contract is worth `p`: its gain is at most 1.5·p of
                    // requirement and p of PnL; √ on the 2^-24 grid: < 6e-8 of notional.
                    let notional = size.to_f64() * o.hi.to_f64();
                    let tol = 1e-6 * before.abs() + 1e-7 * notional + 2.5 * p as f64 + 1e-9;
                    // Within a contract of closing it all, when that does
                    // not reach 0 either, is as close as the steps go.
                    let one_contract = Fixed::from_u64(cs);
                    let short_of_all = size.checked_sub(q).unwrap() <= one_contract
                        && health_after_step(&c, size, step.price, short).is_negative();
                    prop_assert!(
                        closed || short_of_all || h.to_f64() >= -tol,
                        "stopped at {} from {} after {}", h, before, q
                    );
                } else {
                    let contracts = q.checked_div_int(cs, Rounding::Floor).unwrap();
                    prop_assert_eq!(contracts.floor(), contracts, "not whole contracts: {}", q);
                    prop_assert!(closed || !h.is_negative(), "stopped at {} from {} after {}", h, before, q);
                    if q.is_positive() && !h.is_negative() {
                        let fewer = q.checked_sub(Fixed::from_u64(cs)).unwrap();
                        let h_fewer = health_after_step(&c, fewer, step.price, short);
                        prop_assert!(h_fewer.is_negative(), "{} contracts fewer already reach {}", cs, h_fewer);
                    }
                }
            }
            Err(e) => prop_assert!(matches!(e, RiskError::NotLiquidatable | RiskError::LiquidationNotImproving)),
        }
    }
}

/// One perpetual (contract size 1) and USDC collateral, for the worked cases below.
#[allow(clippy::too_many_arguments)]
fn premium_case(
    base: i64,
    entry: i64,
    p: i64,
    conf: i64,
    coll: i64,
    w_pct: i64,
    short: bool,
    imf_ppm: i64,
) -> HealthCache {
    let w = Fixed::from_ratio(w_pct, 100, Rounding::Floor).unwrap();
    let limits = PnlLimits { weights: PerType::splat(w), init_cap: None };
    let imf = Fixed::from_ratio(imf_ppm, 1_000_000, Rounding::Floor).unwrap();
    let rates = MarginRates { size_premium: imf, contract_size: 1, ..perp_rates() };
    let o = OraclePrice {
        lo: Fixed::from_i64(p),
        hi: Fixed::from_i64(p),
        conf: Fixed::from_i64(conf).checked_div_int(100, Rounding::Floor).unwrap(),
    };
    let prices =
        BiasedPrices::new(&o, Fixed::from_i64(p), PriceBias { conf_multiplier: Fixed::ONE }).unwrap();
    let size = Fixed::from_i64(if short { -base } else { base });
    let cost = Fixed::from_i64(if short { -base } else { base } * entry);
    let d = DerivativeInfo::new(7, 1, DerivativeKind::Perpetual, size, cost, Fixed::ZERO, prices, rates)
        .unwrap()
        .with_pnl_limits(limits)
        .unwrap();
    HealthCache::new(vec![usdc(0, Fixed::from_i64(coll))], vec![d], MarginMode::Linear).unwrap()
}

/// Contracts worth one native unit: health gains 1.0101 per contract
/// (release 1.01 at the cap, PnL 0.01 · 1 %) from −67.29, so 67 contracts
/// (+0.39; 66 leave −0.62). Dividing by ⌈1.0101⌉ = 2 natively halved
/// every Newton step and the evaluations ran out at 66.
#[test]
fn premium_step_on_one_unit_contracts_is_exact() {
    let c = premium_case(38_472, 550, 1, 1, -172_418, 1, true, 4_886);
    let step = max_position_liquidation(&c, 7, Fixed::ZERO, false).unwrap();
    assert_eq!(step.base_transferred, Fixed::from_i64(67));
    assert!(!health_after_step(&c, step.base_transferred, step.price, true).is_negative());
    assert!(health_after_step(&c, Fixed::from_i64(66), step.price, true).is_negative());
}

/// 88,695 contracts long with a 70 M shortfall: the requirement's x^1.5
/// makes Newton from below cut the gap about 5× per step (70 M, 13 M,
/// 2.5 M, 446 k, 74 k, 9 k, 442, 33), so the root (88,460: −33 after
/// 88,459, +69 after 88,460) takes 10 exact points.
#[test]
fn premium_step_on_a_large_shortfall_is_exact() {
    let c = premium_case(88_695, 751, 790, 7, -482_516, 22, false, 3_157);
    let bonus = Fixed::from_ratio(168, 10_000, Rounding::Floor).unwrap();
    let step = max_position_liquidation(&c, 7, bonus, false).unwrap();
    assert_eq!(step.base_transferred, Fixed::from_i64(88_460));
    assert!(health_after_step(&c, Fixed::from_i64(88_459), step.price, false).is_negative());
}
