//! Portfolio-mode withdraw limits: a hedged book can borrow what its
//! portfolio health allows, more than the linear closed form, and not one
//! native unit more.

use super::*;
use crate::health::PerType;
use crate::portfolio::PortfolioParams;
use crate::testutil::*;

/// SOL at $150 in native units: 0.15 µUSDC per lamport.
const SOL_PRICE: &str = "0.15";

fn params() -> PortfolioParams {
    PortfolioParams {
        price_shocks: ["-0.1", "-0.05", "0", "0.05", "0.1"].map(fx).to_vec(),
        vol_shocks: vec![],
        shock_scale: PerType { init: fx("2"), maint: fx("1"), liq_end: fx("1.5") },
        floor_rate: PerType { init: fx("0.01"), maint: fx("0.005"), liq_end: fx("0.0075") },
    }
}

/// 10 SOL deposited and 10 SOL sold on the perpetual (cost −1,500 USDC), an
/// empty USDC position; in `mode`.
fn hedged(mode: MarginMode) -> HealthCache {
    let usdc = usdc(0, Fixed::ZERO);
    let sol = token(1, fx("10000000000"), fx(SOL_PRICE), &sol_weights()).with_underlying(1);
    let short = perp(1, 1, "-10000000000", "-1500000000", SOL_PRICE);
    HealthCache::new(vec![usdc, sol], vec![short], mode).unwrap()
}

/// Init health after withdrawing `amount` native of `token` as the program
/// can leave the balance ([`balance_after`]).
fn init_after(c: &HealthCache, token: u16, amount: u64) -> Fixed {
    let mut after = c.clone();
    let balance = c.token(token).unwrap().balance;
    let moved = balance_after(balance, amount).unwrap().checked_sub(balance).unwrap();
    after.adjust_token_balance(token, moved).unwrap();
    after.health(HealthType::Init).unwrap()
}

#[test]
fn the_balance_moves_as_the_share_arithmetic_can() {
    let b = |s: &str, amount: u64| balance_after(fx(s), amount).unwrap();
    // A deposit: lowered by the amount and 2 units of slack, not below 0.
    assert_eq!(b("100.5", 50), fx("48.5"));
    assert_eq!(b("100.5", 99), Fixed::ZERO, "1.5 left, less the slack: 0, not a debt");
    // Its whole units taken: all of it (the fraction too), nothing borrowed.
    assert_eq!(b("100.5", 100), Fixed::ZERO);
    // Beyond: the rest borrowed, with the slack.
    assert_eq!(b("100.5", 103), fx("-5"));
    // A debt or nothing: grown by the amount and the slack.
    assert_eq!(b("-10", 5), fx("-17"));
    assert_eq!(b("0", 1), fx("-3"));
    assert_eq!(b("0", 0), Fixed::ZERO, "nothing withdrawn: nothing moves");
}

#[test]
fn a_hedged_book_borrows_its_portfolio_health_and_not_one_unit_more() {
    // Portfolio Init: 1,500 USDC of SOL at its unweighted value, the perp's
    // PnL 0, the book's requirement its contingency 1 %·(1,500 + 1,500) = 30
    // (no scenario loses): 1,470 USDC. USDC's liability weight is 1, so
    // 1,470 USDC less the 2 units of share-rounding slack can be borrowed.
    // Linear Init: 1,500·0.8 − 10 %·1,500 = 1,050 USDC.
    let c = hedged(MarginMode::Portfolio(params()));
    let linear = hedged(MarginMode::Linear).max_withdraw(0, true).unwrap();
    let borrow = c.max_withdraw(0, true).unwrap();
    assert!(near(linear, 1_050_000_000.0, 2.0), "{linear:?}");
    assert!(near(borrow, 1_470_000_000.0, 4.0), "{borrow:?}");
    let b = borrow.to_u64(crate::Rounding::Floor).unwrap();
    assert!(!init_after(&c, 0, b).is_negative());
    assert!(init_after(&c, 0, b + 1).is_negative(), "one unit more is refused");
    assert_eq!(c.max_borrow(0).unwrap(), borrow, "nothing held: all of it borrowed");
    assert_eq!(c.max_withdraw(0, false).unwrap(), Fixed::ZERO, "nothing held, no borrowing");
}

#[test]
fn withdrawing_the_hedge_is_limited_by_the_book_it_leaves() {
    // Withdrawing y lamports of SOL leaves the book short 0.15·y: up to
    // y ≈ 7.18 SOL the scenario requirement (2 · 10 % · 0.15y + the
    // contingency) is charged, beyond it the linear one, and Init reaches 0
    // at 1,050 USDC / (0.15 · 0.8) = 8.75 SOL, where both modes agree.
    let c = hedged(MarginMode::Portfolio(params()));
    let w = c.max_withdraw(1, false).unwrap().to_u64(crate::Rounding::Floor).unwrap();
    assert!(w.abs_diff(8_750_000_000) <= 4, "{w}");
    assert!(!init_after(&c, 1, w).is_negative());
    assert!(init_after(&c, 1, w + 1).is_negative(), "one lamport more is refused");
    assert_eq!(c.max_borrow(1).unwrap(), Fixed::ZERO, "SOL cannot be borrowed past its deposit here");
}

#[test]
fn an_unhealthy_portfolio_account_withdraws_nothing() {
    let mut c = hedged(MarginMode::Portfolio(params()));
    c.adjust_token_balance(0, fx("-1480000000")).unwrap();
    assert!(c.health(HealthType::Init).unwrap().is_negative());
    assert_eq!(c.max_withdraw(1, true).unwrap(), Fixed::ZERO);
    assert_eq!(c.max_withdraw(0, true).unwrap(), Fixed::ZERO);
}

#[test]
fn a_borrow_that_hedges_a_long_is_searched_from_the_linear_maximum() {
    // 2,000 USDC deposited, long 10 SOL on the perpetual, nothing of SOL
    // held: borrowing SOL sells the long's risk (the book's net notional
    // falls), so portfolio health need not fall as the borrow grows. Whatever
    // the shape, the search returns an amount whose withdrawal is healthy,
    // at least the linear maximum.
    let usdc = usdc(0, fx("2000000000"));
    let sol = token(1, Fixed::ZERO, fx(SOL_PRICE), &sol_weights()).with_underlying(1);
    let long = perp(1, 1, "10000000000", "1500000000", SOL_PRICE);
    let cache = |mode| HealthCache::new(vec![usdc, sol], vec![long], mode).unwrap();
    let (c, linear) = (cache(MarginMode::Portfolio(params())), cache(MarginMode::Linear));
    let borrow = c.max_withdraw(1, true).unwrap().to_u64(crate::Rounding::Floor).unwrap();
    let floor = linear.max_withdraw(1, true).unwrap().to_u64(crate::Rounding::Floor).unwrap();
    assert!(borrow >= floor, "{borrow} ≥ linear {floor}");
    assert!(borrow > 0);
    assert!(!init_after(&c, 1, borrow).is_negative(), "healthy at {borrow}");
    assert_eq!(c.max_withdraw(1, false).unwrap(), Fixed::ZERO, "nothing held, no borrowing");
}
