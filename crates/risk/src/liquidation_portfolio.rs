//! Liquidation steps of portfolio-mode accounts.
//!
//! The closed forms of [`super::max_token_liquidation`] and
//! [`super::max_position_liquidation`] size a step on linear units. In
//! portfolio mode health is not linear in the step (netted positions count
//! at full value, each underlying pays its worst scenario loss, capped at
//! linear), so the linear size can fall short of LiquidationEnd 0, which is
//! safe, or pass it, which would over-liquidate. [`fit_step`] therefore
//! evaluates the step on a scratch copy of the cache and keeps the largest
//! of: the linear size, the secant estimate between no step and it, then
//! halvings, whose LiquidationEnd health is in `[before, 0]`. A step that
//! lowers health is refused ([`RiskError::LiquidationNotImproving`]), as is
//! one not found in [`PORTFOLIO_FIT_EVALUATIONS`] evaluations. Linear mode
//! returns the size unchanged at no cost (exact by construction).

use crate::error::{RiskError, RiskResult};
use crate::fixed::{Fixed, Rounding};
use crate::health::{HealthCache, HealthType, MarginMode};

/// Most health evaluations a portfolio-mode step is fitted with.
pub const PORTFOLIO_FIT_EVALUATIONS: usize = 8;

/// What a step of size `q` changes in a cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum StepChange {
    /// `repaid` native of `liab` repaid, `received` native of `asset` given up.
    Tokens { liab: u16, repaid: Fixed, asset: u16, received: Fixed },
    /// A derivative position moved by `base` at a cost of `cost`.
    Position { market: u16, base: Fixed, cost: Fixed },
}

impl StepChange {
    fn apply(&self, c: &mut HealthCache, undo: bool) -> RiskResult<()> {
        let s = |v: Fixed| if undo { v.checked_neg() } else { Ok(v) };
        match *self {
            StepChange::Tokens { liab, repaid, asset, received } => {
                c.adjust_token_balance(liab, s(repaid)?)?;
                c.adjust_token_balance(asset, s(received.checked_neg()?)?)
            }
            StepChange::Position { market, base, cost } => c.adjust_derivative(market, s(base)?, s(cost)?),
        }
    }
}

/// The step size to take (module docs): `q` itself in linear mode.
pub(super) fn fit_step(
    cache: &HealthCache,
    before: Fixed,
    q: Fixed,
    change: impl Fn(Fixed) -> RiskResult<StepChange>,
) -> RiskResult<Fixed> {
    if matches!(cache.mode(), MarginMode::Linear) {
        return Ok(q);
    }
    let mut work = cache.clone();
    let mut health_after = |q: Fixed| -> RiskResult<Fixed> {
        let c = change(q)?;
        c.apply(&mut work, false)?;
        let h = work.health(HealthType::LiquidationEnd);
        c.apply(&mut work, true)?;
        h
    };
    let mut q = q;
    for _ in 0..PORTFOLIO_FIT_EVALUATIONS {
        if !q.is_positive() {
            break;
        }
        let h = health_after(q)?;
        if h >= before && !h.is_positive() {
            return Ok(q);
        }
        q = if h.is_positive() {
            // Past 0: the secant through (0, before) and (q, h).
            q.checked_mul_div(before.checked_neg()?, h.checked_sub(before)?, Rounding::Floor)?
        } else {
            // Lower than before: half the step.
            q.checked_div_int(2, Rounding::Floor)?
        };
    }
    Err(RiskError::LiquidationNotImproving)
}

#[cfg(test)]
mod tests {
    //! A book of a long and a short perpetual on one underlying: closing
    //! the long at a discount sheds the net exposure's scenario charge
    //! (17.25 % of spot per unit in LiquidationEnd) much faster than its
    //! linear charge (7.5 %), so the linear size would over-liquidate.
    use super::super::max_position_liquidation;
    use super::*;
    use crate::health::PerType;
    use crate::portfolio::PortfolioParams;
    use crate::testutil::{fx, perp, usdc};
    use alloc::vec;

    fn params() -> PortfolioParams {
        PortfolioParams {
            price_shocks: ["-0.15", "-0.075", "0", "0.075", "0.15"].map(fx).to_vec(),
            vol_shocks: vec![],
            shock_scale: PerType { init: fx("2"), maint: fx("1"), liq_end: fx("1.5") },
            floor_rate: PerType { init: fx("0.01"), maint: fx("0.005"), liq_end: fx("0.0075") },
        }
    }

    #[test]
    fn a_portfolio_step_stops_at_liquidation_end_zero() {
        // 50 USDC; long 10 at 150 (market 1), short 8 at 150 (market 2). LiqEnd:
        // 50 − (1.5 · 15 % · 300 + 0.75 % · 2,700) = 50 − 87.75 = −37.75.
        let legs = vec![perp(1, 1, "10", "1500", "150"), perp(2, 1, "-8", "-1200", "150")];
        let linear = HealthCache::new(vec![usdc(0, fx("50"))], legs.clone(), MarginMode::Linear).unwrap();
        let c = HealthCache::new(vec![usdc(0, fx("50"))], legs, MarginMode::Portfolio(params())).unwrap();
        let before = c.health(HealthType::LiquidationEnd).unwrap();
        assert!(
            before.checked_sub(fx("-37.75")).unwrap().checked_abs().unwrap() < fx("0.000001"),
            "{before:?}"
        );
        let bonus = fx("0.02");
        // Linear sizing: 37.75 / (11.25 − 3) = 4.58 units; in portfolio mode
        // health is −37.75 + 31.875 · q up to q = 2: zero at q = 1.184.
        let q_linear = (fx("37.75").checked_div(fx("8.25"), Rounding::Floor)).unwrap();
        let step = max_position_liquidation(&c, 1, bonus, false).unwrap();
        assert!(step.base_transferred < q_linear, "{step:?}");
        let mut after = c.clone();
        let q = step.base_transferred;
        after
            .adjust_derivative(
                1,
                q.checked_neg().unwrap(),
                q.checked_neg().unwrap().checked_mul_ceil(step.price).unwrap(),
            )
            .unwrap();
        let h = after.health(HealthType::LiquidationEnd).unwrap();
        assert!(h >= before && !h.is_positive(), "{h:?}");
        assert!(h > fx("-0.01"), "within a cent of 0: {h:?} after {q:?}");
        assert!(q > fx("1.18") && q < fx("1.19"), "{q:?}");
        // Linear mode: the closed form, untouched.
        let lin = max_position_liquidation(&linear, 1, bonus, false);
        assert!(lin.is_err() || lin.unwrap().base_transferred >= step.base_transferred);
    }
}
