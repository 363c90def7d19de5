//! Option position liquidation sizing (`max_option_liquidation`, linear mode).
//!
//! # Price: the model value less (long) or plus (short) a fee
//! The liquidator takes over `k` whole contracts of the liquidatee's option
//! position at its model value `V` at the oracle price (the market's fresh
//! risk array moved from its spot to the oracle by a central estimate,
//! [`DerivativeInfo::option_oracle_unit_value`], as a perpetual trades at the
//! oracle), less a fee for a long (the liquidatee sells), plus a fee for a
//! short (the liquidatee buys back). Health counts the position at its
//! biased LiquidationEnd price ([`crate::health::option_margin`], monotone
//! in the price): a long at most, a short at least the trade value, which
//! is clamped to that side. Per underlying unit, at fee rate `f`:
//!
//! ```text
//! fee(f) = min(f · basis, R / 2)     basis = V for a long, spot S for a short
//!                                    R = LiquidationEnd requirement released per unit
//! ```
//!
//! - **A long pays on its value.** A long option can lose at most `V` and
//!   its requirement is at most `V`, so the liquidator's risk and margin are
//!   bounded by the value; a fee on spot would hand a cheap out-of-the-money
//!   option over for nothing (1.5 % of $150 is 2.25 USDC, the 30-day $165
//!   call is worth 0.49). With `f < 1` the fee is always below the value.
//! - **A short pays on spot.** A short's requirement is a share of spot
//!   however cheap the option (Init 13–15 %, LiquidationEnd 11 %), so the
//!   liquidator who takes it on posts margin on spot, as for a perpetual's
//!   notional; a fee on the value would pay nothing for a far out-of-the-money
//!   short that still needs 13 % of spot of the liquidator's collateral.
//! - **Never more than half the release.** Each contract closed must raise
//!   the liquidatee's LiquidationEnd health: the PnL falls by the fee and the
//!   requirement `R` is released, so the fee is capped at `R / 2` (a deep
//!   in-the-money put struck far above spot has a large value and a small
//!   `|Δ|`-based requirement). Market validation keeps the fees below the
//!   Maint rates, so the cap binds only in such corners.
//!
//! Per contract (`cs` underlying units) the prices are whole quote native,
//! rounded against the liquidatee: `⌊(V − fee)·cs⌋` for a long, `⌈(V + fee)·cs⌉`
//! for a short, where `V` is the position's own unit value at the oracle (a
//! short owes one unit more than a long is worth: `option_margin::ArrayValue`). The
//! liquidator's price carries the liquidation fee; the price with both fees
//! minus it is the insurance fee per contract, which the liquidatee pays in
//! quote tokens ([`OptionLiquidation::insurance_per_contract`]).
//!
//! # Size: the smallest whole count reaching LiquidationEnd 0
//! With `u` the PnL change per unit closed (−fee, with roundings) and the
//! requirement `R` per unit (a short's `liq_end · S`; a long's
//! `rate · S · |Δ|` or its value when that is less, both proportional to
//! the size), health is piecewise linear and concave in the units closed
//! (positive PnL counts at `w ≤ 1`), so the closed form of perpetuals
//! (`concave_step`) gives a guess. The answer is then checked exactly:
//! health after `k` contracts is computed as the program's cache would after
//! the fill (the position at its new size and cost, the insurance fee out
//! of the quote balance), and the smallest `k` with health ≥ 0 is found by
//! probing the guess and its neighbour, then bisecting (at most about
//! `2 + log₂ n` evaluations; two when the guess is right). If closing the
//! whole position does not reach 0, the step is the whole position.
//!
//! The guess is made per contract and each evaluation from the per-unit
//! value and requirement of a one-unit copy of the position: no division
//! (a `Fixed` division costs thousands of CU on-chain). A caller's cap
//! (`max_contracts`) bounds the search: a guess beyond it that still leaves
//! health below 0 costs one evaluation.
//!
//! Worked example (`liquidation_option_tests.rs`, in USDC): 100 short calls
//! of one unit sold at 4, now worth `V` = 10 at spot 150 (PnL −600), 1,650
//! of quote, LiquidationEnd 11 % (16.50 per unit): health −600. Fees 1 % +
//! 0.5 %: fee per unit `1.5 % · 150 = 2.25`, slope `16.50 − 2.25 = 14.25`,
//! `600 / 14.25 = 42.1` → 43 contracts (health +12.75 after; −1.50 after 42).
use super::{concave_step, liquidation_shortfall, sizing_cache, LE};
use crate::error::{RiskError, RiskResult};
use crate::fixed::{Fixed, Rounding};
use crate::health::{DerivativeInfo, DerivativeKind, HealthCache};

/// The two fee rates of a step (fractions of the basis of the module docs),
/// after the cap at equity over debts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OptionFees {
    /// Paid to the liquidator through the price.
    pub liquidation: Fixed,
    /// Paid by the liquidatee into the insurance fund.
    pub insurance: Fixed,
}

/// A sized option-liquidation step in the program's units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OptionLiquidation {
    /// Whole contracts the liquidator takes over (magnitude).
    pub contracts: u64,
    /// The liquidator's price per contract (quote native): model value less
    /// (long) or plus (short) the liquidation fee.
    pub price: u64,
    /// Insurance fee per contract the liquidatee pays (quote native).
    pub insurance_per_contract: u64,
    /// Model value per contract the prices start from (quote native, rounded
    /// against the liquidatee).
    pub model_per_contract: u64,
    /// LiquidationEnd health before the step.
    pub health_before: Fixed,
    /// LiquidationEnd health after it, as the program's cache will show it
    /// (the insurance fee paid in full).
    pub health_after: Fixed,
    /// Exact health evaluations made (two when the closed form is right).
    pub evaluations: usize,
}

/// Sizes the takeover of an option position (module docs), at most
/// `max_contracts` (the liquidator's cap). `quote_token` is the token the
/// insurance fee is paid in (`None`: no fee is charged). The position must
/// be whole contracts. A portfolio-mode cache is sized in linear mode
/// ([`HealthCache::for_liquidation`]).
pub fn max_option_liquidation(
    cache: &HealthCache,
    market_index: u16,
    fees: OptionFees,
    (quote_token, max_contracts): (Option<u16>, u64),
    being_liquidated: bool,
) -> RiskResult<OptionLiquidation> {
    let total_fee = fees.liquidation.checked_add(fees.insurance)?;
    if fees.liquidation.is_negative() || fees.insurance.is_negative() || total_fee >= Fixed::ONE {
        return Err(RiskError::InvalidParameter);
    }
    let cache = &*sizing_cache(cache, being_liquidated)?;
    let h = liquidation_shortfall(cache, being_liquidated)?;
    let d = cache.derivative(market_index)?;
    let held = d.rates.contract_count(d.base).filter(|&n| n > 0);
    let (DerivativeKind::Option(_), Some(n)) = (d.kind, held) else {
        return Err(RiskError::LiquidationNotImproving);
    };
    let prices = StepPrices::new(d, fees, total_fee)?;
    let mut eval = Evaluator::new(cache, d, h, quote_token, &prices)?;
    let guess = closed_form_guess(d, h, &prices)?;
    let cap = n.min(max_contracts.max(1));
    let (contracts, health_after) = smallest_reaching_zero(&mut eval, guess, cap)?;
    if health_after < h {
        return Err(RiskError::LiquidationNotImproving);
    }
    Ok(OptionLiquidation {
        contracts,
        price: prices.liquidator,
        insurance_per_contract: prices.insurance,
        model_per_contract: prices.model,
        health_before: h,
        health_after,
        evaluations: eval.evaluations,
    })
}

/// Per-contract prices of a step (quote native) and the values they come
/// from. No division: the values per unit are those of a one-unit position.
struct StepPrices {
    long: bool,
    /// Value per unit as the position counts it in LiquidationEnd health (a
    /// short's one unit more).
    unit_value: Fixed,
    /// LiquidationEnd requirement per unit (a long's at most its value).
    unit_release: Fixed,
    /// The position's value per contract (a long's model value, a short's
    /// owed value, one unit more), exact.
    contract_value: Fixed,
    /// LiquidationEnd requirement released per contract (exact: the
    /// requirement is proportional to the size).
    release: Fixed,
    model: u64,
    liquidator: u64,
    /// With both fees: what the liquidatee gets (long) or pays (short) in all.
    all_in: u64,
    insurance: u64,
}

impl StepPrices {
    fn new(d: &DerivativeInfo, fees: OptionFees, total_fee: Fixed) -> RiskResult<StepPrices> {
        let long = d.base.is_positive();
        let rounding = if long { Rounding::Floor } else { Rounding::Ceil };
        // One unit on the same side: its value and requirement are the
        // per-unit ones (a long's requirement already capped at its value).
        let unit = d.with_position(
            if long { Fixed::ONE } else { Fixed::ONE.checked_neg()? },
            Fixed::ZERO,
            Fixed::ZERO,
        )?;
        let unit_value = unit.value(LE)?.checked_abs()?;
        // The contracts change hands at the model value moved to the oracle:
        // for a long at least, for a short at most what health counts (the
        // valuation is monotone, so this only guards a rounding), so each
        // contract closed still releases more than its fee costs.
        let at_oracle = unit.option_oracle_unit_value()?.ok_or(RiskError::InvalidParameter)?;
        let trade_value = if long { at_oracle.max(unit_value) } else { at_oracle.min(unit_value) };
        let unit_release = unit.requirement(LE)?;
        let half_release = unit_release.checked_mul_floor(Fixed::HALF)?;
        let basis = if long { trade_value } else { d.prices.oracle };
        let fee = |rate: Fixed| -> RiskResult<Fixed> { Ok(basis.checked_mul_ceil(rate)?.min(half_release)) };
        let cs = i64::try_from(d.rates.contract_size).map_err(|_| RiskError::Overflow)?;
        let per_contract = |fee: Fixed| -> RiskResult<u64> {
            let unit = if long { trade_value.checked_sub(fee)? } else { trade_value.checked_add(fee)? };
            let v = unit.checked_mul_int(cs)?.to_i64(rounding)?;
            Ok(v.max(0).unsigned_abs())
        };
        let model = per_contract(Fixed::ZERO)?;
        let liquidator = per_contract(fee(fees.liquidation)?)?;
        let all_in = per_contract(fee(total_fee)?)?;
        let insurance = liquidator.abs_diff(all_in);
        let contract_value = unit_value.checked_mul_int(cs)?;
        let release = unit_release.checked_mul_int(cs)?;
        Ok(StepPrices {
            long,
            unit_value,
            unit_release,
            contract_value,
            release,
            model,
            liquidator,
            all_in,
            insurance,
        })
    }
}

/// Exact LiquidationEnd health after closing `k` whole contracts, as the
/// program's cache computes it after the fill and the insurance fee.
struct Evaluator<'a> {
    d: &'a DerivativeInfo,
    quote: Option<&'a crate::health::TokenInfo>,
    /// Health without this position and without the quote token.
    rest: Fixed,
    liquidator: u64,
    insurance: u64,
    unit_value: Fixed,
    unit_release: Fixed,
    /// Evaluations made (for tests and the CU budget).
    evaluations: usize,
}

impl<'a> Evaluator<'a> {
    fn new(
        cache: &'a HealthCache,
        d: &'a DerivativeInfo,
        h: Fixed,
        quote_token: Option<u16>,
        prices: &StepPrices,
    ) -> RiskResult<Evaluator<'a>> {
        let quote = match quote_token {
            Some(q) if prices.insurance > 0 => Some(cache.token(q)?),
            _ => None,
        };
        let mut rest = h.checked_sub(d.contribution(LE)?)?;
        if let Some(t) = quote {
            rest = rest.checked_sub(t.contribution(LE)?)?;
        }
        Ok(Evaluator {
            d,
            quote,
            rest,
            liquidator: prices.liquidator,
            insurance: prices.insurance,
            unit_value: prices.unit_value,
            unit_release: prices.unit_release,
            evaluations: 0,
        })
    }

    fn health(&mut self, k: u64) -> RiskResult<Fixed> {
        self.evaluations += 1;
        let d = self.d;
        let k_signed = i64::try_from(k).map_err(|_| RiskError::Overflow)?;
        // The liquidatee's position moves toward zero: a long sells k, a short buys k.
        let delta =
            if d.base.is_positive() { k_signed.checked_neg().ok_or(RiskError::Overflow)? } else { k_signed };
        let cs = i64::try_from(d.rates.contract_size).map_err(|_| RiskError::Overflow)?;
        let delta_base = Fixed::from_i64(delta).checked_mul_int(cs)?;
        let liquidator = i64::try_from(self.liquidator).map_err(|_| RiskError::Overflow)?;
        let delta_cost = Fixed::from_i64(delta).checked_mul_int(liquidator)?;
        // The position's contribution after the fill, as `DerivativeInfo`
        // computes it (value floor, requirement ceil, a long's at most its
        // value), from the per-unit values: no copy of the position.
        let base = d.base.checked_add(delta_base)?;
        let value = base.checked_mul_floor(self.unit_value)?;
        let pnl =
            value.checked_sub(d.cost_basis.checked_add(delta_cost)?)?.checked_add(d.unsettled_funding)?;
        let mut requirement = base.checked_abs()?.checked_mul_ceil(self.unit_release)?;
        if base.is_positive() {
            requirement = requirement.min(value.positive_part());
        }
        let contribution = d.pnl_limits().weigh(pnl, LE)?.checked_sub(requirement)?;
        let mut health = self.rest.checked_add(contribution)?;
        if let Some(t) = self.quote {
            let paid = Fixed::from_u64(k).checked_mul_floor(Fixed::from_u64(self.insurance))?;
            health = health.checked_add(t.contribution_of(t.balance.checked_sub(paid)?, LE)?)?;
        }
        Ok(health)
    }
}

/// Contracts the closed form of the module docs suggests (at least 1), in
/// contracts directly: the PnL change per contract at the all-in price, the
/// requirement released per contract.
fn closed_form_guess(d: &DerivativeInfo, h: Fixed, p: &StepPrices) -> RiskResult<u64> {
    let all_in = Fixed::from_u64(p.all_in);
    let pnl_change =
        if p.long { all_in.checked_sub(p.contract_value)? } else { p.contract_value.checked_sub(all_in)? };
    let w = d.pnl_limits().weights.get(LE);
    let contracts = concave_step(h, d.pnl(LE)?, pnl_change, p.release, w)?.to_i64(Rounding::Ceil)?;
    Ok(contracts.max(1).unsigned_abs())
}

/// The smallest `k` in `1..=n` with health ≥ 0 after it (health rising with
/// `k`), or `n`; with the health there. Probes the guess, then its
/// neighbour, then bisects the bracket. (`n` is the position or the
/// liquidator's cap: a guess beyond a cap that leaves health < 0 is one
/// evaluation.)
fn smallest_reaching_zero(eval: &mut Evaluator, guess: u64, n: u64) -> RiskResult<(u64, Fixed)> {
    // Health after `lo` is < 0 (0: the account as it is); after `hi` ≥ 0,
    // `hi = n + 1` standing for "not found yet".
    let (mut lo, mut hi) = (0u64, n.checked_add(1).ok_or(RiskError::Overflow)?);
    let (mut at_lo, mut at_hi) = (Fixed::MIN, Fixed::MIN);
    let mut next = guess;
    while hi - lo > 1 {
        let k = next.clamp(lo + 1, hi - 1);
        let health = eval.health(k)?;
        let neighbour = if health.is_negative() {
            (lo, at_lo) = (k, health);
            k + 1
        } else {
            (hi, at_hi) = (k, health);
            k - 1
        };
        next = if eval.evaluations == 1 { neighbour } else { lo + (hi - lo) / 2 };
    }
    if hi > n {
        return Ok((n, at_lo));
    }
    Ok((hi, at_hi))
}

#[cfg(test)]
#[path = "liquidation_option_tests.rs"]
mod tests;
