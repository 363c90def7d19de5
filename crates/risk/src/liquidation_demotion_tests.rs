//! A portfolio-mode account is judged on its portfolio numbers and, once
//! liquidatable, sized in linear mode ([`HealthCache::for_liquidation`]).
//! The book: a long and a short perpetual on one underlying (markets 1
//! and 2, spot 150), whose netted risk is far below the linear charge.
use super::*;
use crate::health::PerType;
use crate::portfolio::PortfolioParams;
use crate::testutil::{fx, perp, usdc};
use alloc::vec;
use alloc::vec::Vec;

fn params() -> PortfolioParams {
    PortfolioParams {
        price_shocks: ["-0.15", "-0.075", "0", "0.075", "0.15"].map(fx).to_vec(),
        vol_shocks: vec![],
        shock_scale: PerType { init: fx("2"), maint: fx("1"), liq_end: fx("1.5") },
        floor_rate: PerType { init: fx("0.01"), maint: fx("0.005"), liq_end: fx("0.0075") },
    }
}

fn book(quote: &str, mode: MarginMode) -> HealthCache {
    let legs: Vec<_> = vec![perp(1, 1, "10", "1500", "150"), perp(2, 1, "-8", "-1200", "150")];
    HealthCache::new(vec![usdc(0, fx(quote))], legs, mode).unwrap()
}

/// 50 USDC: portfolio Maint 50 − (15 % · 300 + 0.5 % · 2,700) = −8.5 < 0,
/// so the account is liquidatable; every step is the linear one.
#[test]
fn a_liquidatable_portfolio_account_is_sized_in_linear_mode() {
    let p = book("50", MarginMode::Portfolio(params()));
    let lin = book("50", MarginMode::Linear);
    assert!(p.health(HealthType::Maint).unwrap() < fx("-8.49"));
    assert!(can_liquidate(&p, false).unwrap());
    let demoted = p.clone().for_liquidation(false).unwrap();
    assert!(matches!(demoted.mode(), MarginMode::Linear));
    assert_eq!(demoted.health(LE).unwrap(), lin.health(LE).unwrap());
    let bonus = fx("0.02");
    assert_eq!(
        max_position_liquidation(&p, 1, bonus, false).unwrap(),
        max_position_liquidation(&lin, 1, bonus, false).unwrap()
    );
    assert_eq!(
        max_position_liquidation(&p, 2, bonus, false).unwrap(),
        max_position_liquidation(&lin, 2, bonus, false).unwrap()
    );
    // Linear LiquidationEnd −152.5 on 7.5 % of 2,700: the whole long goes
    // (closing it releases 11.25 − 3 per unit, 18.5 units would be needed).
    let step = max_position_liquidation(&p, 1, bonus, false).unwrap();
    assert_eq!(step.base_transferred, fx("10"));
}

/// 100 USDC: portfolio Maint 41.5 ≥ 0 (healthy) while linear Maint
/// 100 − 135 < 0. Portfolio mode decides: not liquidatable, not demoted;
/// once being liquidated its portfolio LiquidationEnd (100 − 87.75 ≥ 0)
/// still decides.
#[test]
fn a_healthy_portfolio_account_is_not_liquidated() {
    let p = book("100", MarginMode::Portfolio(params()));
    assert!(can_liquidate(&book("100", MarginMode::Linear), false).unwrap());
    for being_liquidated in [false, true] {
        assert!(!can_liquidate(&p, being_liquidated).unwrap());
        let kept = p.clone().for_liquidation(being_liquidated).unwrap();
        assert!(matches!(kept.mode(), MarginMode::Portfolio(_)));
        assert_eq!(
            max_position_liquidation(&p, 1, fx("0.02"), being_liquidated),
            Err(RiskError::NotLiquidatable)
        );
    }
}

/// 60 USDC, already being liquidated: portfolio Maint 1.5 ≥ 0 but portfolio
/// LiquidationEnd 60 − 87.75 < 0, so the liquidation continues, linearly.
#[test]
fn a_portfolio_liquidation_in_progress_continues_linearly() {
    let p = book("60", MarginMode::Portfolio(params()));
    assert!(!can_liquidate(&p, false).unwrap());
    assert!(can_liquidate(&p, true).unwrap());
    assert_eq!(max_position_liquidation(&p, 2, fx("0.02"), false), Err(RiskError::NotLiquidatable));
    let lin = book("60", MarginMode::Linear);
    assert_eq!(
        max_position_liquidation(&p, 2, fx("0.02"), true).unwrap(),
        max_position_liquidation(&lin, 2, fx("0.02"), true).unwrap()
    );
    assert!(matches!(p.for_liquidation(true).unwrap().mode(), MarginMode::Linear));
}
