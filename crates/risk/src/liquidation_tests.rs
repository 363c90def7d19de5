//! Liquidation: worked examples and the no-overshoot invariant.

use super::*;
use crate::health::{DerivativeInfo, MarginMode};
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
