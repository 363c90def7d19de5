//! Liquidation sizing, bonus and bankruptcy.
//!
//! # When
//! An account is liquidatable iff Maint health < 0 (or it is already being
//! liquidated and LiquidationEnd health is still < 0). A step is sized so
//! that LiquidationEnd health reaches 0 and no further.
//!
//! A portfolio-mode account is judged on its portfolio health and, once
//! liquidatable, liquidated in linear mode
//! ([`HealthCache::for_liquidation`]; every sizing function applies it to
//! the cache it is given): in portfolio mode closing one leg of a hedge can
//! lower health and seizing a netted token always does, so a netted book
//! could be left with no improving step. One rule for the program, the
//! keeper and the clients.
//!
//! # Token liquidation (closed form)
//! The liquidator repays `x` native of the liability token L and receives
//! `y = x · r` native of the asset token A, with the exchange rate at
//! oracle prices plus the bonus `b`:
//!
//! ```text
//! r = price_L · (1 + b) / price_A                 (asset native per liability native)
//! ΔH = x · liab_unit_L − y · asset_unit_A = x · (liab_unit_L − r · asset_unit_A) = x · s
//! ```
//!
//! (units are LiquidationEnd prices × weights.) While L stays a liability and
//! A an asset, `H` is linear in `x`, so `x = −H / s` exactly, rounded down,
//! then capped at the debt, at the asset held (`bal_A / r`) and at the
//! liquidator's own limit. `s ≤ 0` means this pair cannot help (the
//! liability weight does not exceed the bonus-scaled asset weight).
//! Rounding: `s` is rounded up and `x`, `r`, `y` down, so the step never
//! overshoots zero and the liquidatee never gives more than `x · r`, hence
//! LiquidationEnd health after the step is in `[H, 0]` up to a few ulps.
//!
//! # The bonus is paid out of equity
//! The bonus comes out of the liquidatee's equity `E = A − L` (assets and
//! debts at oracle prices, unweighted, unbiased). While `E > 0` the bonus is
//! at most `E / L` ([`equity_bonus`]): a step repaying `x` of L's value
//! `x·p_L` gives `y·p_A = x·p_L·(1 + b)`, so `E' = E − x·p_L·b` and
//! `L' = L − x·p_L`, and with `b ≤ E / L` the ratio `E'/L' ≥ E/L`: the
//! account stays solvent through any number of steps on any pairs, and is
//! never left with debt and nothing to seize. (10 SOL at $120 against 1,150
//! USDC at a 10 % bonus: `b = 50 / 1,150 = 4.35 %`, the liquidator repays all
//! 1,150 USDC for all 10 SOL, instead of taking the SOL for 1,090.9 USDC and
//! leaving 59.09 USDC of bad debt.) The step is then sized exactly as above
//! at that bonus. An insolvent account (`E ≤ 0`) pays the full bonus: its
//! bad debt is unavoidable and the bonus is what gets it liquidated at all.

//! # Position liquidation with a size premium
//! The requirement of a position whose rate grows with its size is convex in
//! the size (linear at the rate's cap), so health is concave in the quantity
//! closed: [`max_position_liquidation`] steps on the requirement's slope at
//! the current size (a tangent, which lands at or below 0), checks a Newton
//! guess exactly and keeps it when safe (`premium_steps`), so it never
//! over-liquidates and gets within one contract of LiquidationEnd 0.
//! Without a premium it is the single closed-form step above.

//! # Option positions
//! [`max_option_liquidation`]: at the model value of the market's risk array
//! moved to the oracle (a central estimate, clamped to the side health
//! counts) less (long) or plus (short) a fee on the value (long) or on spot (short),
//! at most half the requirement released, in whole contracts: the smallest
//! count after which LiquidationEnd health is ≥ 0, checked exactly
//! (`liquidation_option.rs`).

//! # Bankruptcy
//! An account with liabilities and nothing left to seize is bankrupt: the
//! insurance fund covers what it can at oracle price, the rest is
//! socialised across the bank's depositors by lowering the deposit index.

use crate::error::{RiskError, RiskResult};
use crate::fixed::{Fixed, Rounding};
use crate::health::{DerivativeKind, HealthCache, HealthType, MarginMode, TokenInfo};
use alloc::borrow::Cow;

#[path = "liquidation_premium.rs"]
mod premium;
pub use premium::{PREMIUM_LIQUIDATION_STEPS, WHOLE_CONTRACT_EVALUATIONS};
#[path = "liquidation_option.rs"]
mod option;
pub use option::{max_option_liquidation, OptionFees, OptionLiquidation};

const LE: HealthType = HealthType::LiquidationEnd;

/// Total bonus of a liquidation: the sum of the asset bank's and the
/// liability bank's liquidation fees (e.g. 0.02 + 0.03 = 5 %).
pub fn liquidation_bonus(asset_fee: Fixed, liab_fee: Fixed) -> RiskResult<Fixed> {
    if asset_fee.is_negative() || liab_fee.is_negative() {
        return Err(RiskError::InvalidParameter);
    }
    asset_fee.checked_add(liab_fee)
}

/// Whether liquidation may start or continue.
pub fn can_liquidate(cache: &HealthCache, being_liquidated: bool) -> RiskResult<bool> {
    if cache.health(HealthType::Maint)?.is_negative() {
        return Ok(true);
    }
    Ok(being_liquidated && cache.health(LE)?.is_negative())
}

impl HealthCache {
    /// The cache a liquidation of this account is judged and sized on: a
    /// portfolio-mode account liquidatable in portfolio mode
    /// ([`can_liquidate`] on the portfolio numbers) is liquidated in linear
    /// mode (its first step clears `PORTFOLIO_MODE`); any other cache is
    /// returned as it is. Linear health is never above portfolio health,
    /// so the demoted cache is liquidatable too. One rule for the program
    /// (`build_liquidatee_cache_from`), the keeper and the clients.
    pub fn for_liquidation(mut self, being_liquidated: bool) -> RiskResult<HealthCache> {
        if !matches!(self.mode(), MarginMode::Linear) && can_liquidate(&self, being_liquidated)? {
            self.set_mode(MarginMode::Linear)?;
        }
        Ok(self)
    }
}

/// The linear cache a step is sized on ([`HealthCache::for_liquidation`]
/// without consuming `cache`), or `NotLiquidatable` for a portfolio-mode
/// account that portfolio mode finds healthy, whatever linear mode says.
pub(crate) fn sizing_cache(cache: &HealthCache, being_liquidated: bool) -> RiskResult<Cow<'_, HealthCache>> {
    if matches!(cache.mode(), MarginMode::Linear) {
        return Ok(Cow::Borrowed(cache));
    }
    let linear = cache.clone().for_liquidation(being_liquidated)?;
    if !matches!(linear.mode(), MarginMode::Linear) {
        return Err(RiskError::NotLiquidatable);
    }
    Ok(Cow::Owned(linear))
}

/// The LiquidationEnd health (< 0) a liquidation step sizes on, or
/// `NotLiquidatable` if liquidation may not start or continue
/// ([`can_liquidate`]) or LiquidationEnd is already ≥ 0. `cache` is linear
/// ([`sizing_cache`]).
pub(crate) fn liquidation_shortfall(cache: &HealthCache, being_liquidated: bool) -> RiskResult<Fixed> {
    if !can_liquidate(cache, being_liquidated)? {
        return Err(RiskError::NotLiquidatable);
    }
    let h = cache.health(LE)?;
    if !h.is_negative() {
        return Err(RiskError::NotLiquidatable);
    }
    Ok(h)
}

/// A sized token-liquidation step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenLiquidation {
    /// Liability native repaid by the liquidator (added to the liquidatee's
    /// liability balance).
    pub liab_repaid: Fixed,
    /// Asset native moved from the liquidatee to the liquidator.
    pub asset_received: Fixed,
    /// Exchange rate used (asset native per liability native).
    pub rate: Fixed,
    /// LiquidationEnd health before the step.
    pub health_before: Fixed,
}

/// Sizes a token liquidation (see module docs). `max_liab_repay` is the
/// liquidator's own cap (`Fixed::MAX` for none). A portfolio-mode cache is
/// sized in linear mode ([`HealthCache::for_liquidation`]).
pub fn max_token_liquidation(
    cache: &HealthCache,
    asset_token: u16,
    liab_token: u16,
    bonus: Fixed,
    max_liab_repay: Fixed,
    being_liquidated: bool,
) -> RiskResult<TokenLiquidation> {
    if asset_token == liab_token || bonus.is_negative() {
        return Err(RiskError::InvalidParameter);
    }
    let cache = &*sizing_cache(cache, being_liquidated)?;
    let h = liquidation_shortfall(cache, being_liquidated)?;
    let a = cache.token(asset_token)?;
    let l = cache.token(liab_token)?;
    if !a.balance.is_positive() || !l.balance.is_negative() {
        return Err(RiskError::LiquidationNotImproving);
    }
    let (_, rate, s) = improving_bonus(a, l, equity_bonus(cache, bonus)?)?;
    // With no improving bonus at all (s ≤ 0: unit weights, no confidence) the
    // step is a close-out at the oracle rate: health unchanged, the account
    // walked toward bankruptcy resolution instead of stuck with its assets.
    let x_health =
        if s.is_positive() { h.checked_neg()?.checked_div(s, Rounding::Floor)? } else { Fixed::MAX };
    let debt = l.balance.checked_neg()?;
    let x_asset = if rate.is_positive() { a.balance.checked_div(rate, Rounding::Floor)? } else { Fixed::MAX };
    let x = x_health.min(debt).min(x_asset).min(max_liab_repay.max(Fixed::ZERO));
    let y = x.checked_mul_floor(rate)?.min(a.balance);
    Ok(TokenLiquidation { liab_repaid: x, asset_received: y, rate, health_before: h })
}

/// The bonus a step pays, its exchange rate and the LiquidationEnd health
/// gained per unit repaid, `s = liab_unit − rate · asset_unit` (rounded up,
/// so `x` rounds down). The configured bonus, unless with it the pair cannot
/// improve health (`s ≤ 0`: `(1 + b) · asset_unit_A / price_A ≥ liab_unit_L /
/// price_L`, e.g. a high-weight asset against a low-weight debt with large
/// fees); then half the largest bonus that would, so each unit repaid still
/// gains health. Without this such an account could be liquidatable and yet
/// neither liquidated nor, holding assets, resolved.
fn improving_bonus(a: &TokenInfo, l: &TokenInfo, bonus: Fixed) -> RiskResult<(Fixed, Fixed, Fixed)> {
    let (p_a, p_l) = (a.prices.oracle, l.prices.oracle);
    let (asset_unit, liab_unit) = (a.asset_unit(LE)?, l.liab_unit(LE)?);
    let step = |b: Fixed| -> RiskResult<(Fixed, Fixed, Fixed)> {
        let rate = p_l.checked_mul_div(Fixed::ONE.checked_add(b)?, p_a, Rounding::Floor)?;
        Ok((b, rate, liab_unit.checked_sub(rate.checked_mul_floor(asset_unit)?)?))
    };
    let configured = step(bonus)?;
    if configured.2.is_positive() || !asset_unit.is_positive() {
        return Ok(configured);
    }
    // 1 + b_max = (liab_unit / price_L) · (price_A / asset_unit); pay half of b_max.
    let one_plus_max =
        liab_unit.checked_mul_div(p_a, p_l, Rounding::Floor)?.checked_div(asset_unit, Rounding::Floor)?;
    let half = one_plus_max
        .checked_sub(Fixed::ONE)?
        .positive_part()
        .checked_div(Fixed::from_u64(2), Rounding::Floor)?;
    step(half.min(bonus))
}

/// The bonus a solvent account pays: at most its equity over its debts at
/// oracle prices, `min(b, E / L)` (rounded down), while `E > 0` (module docs).
/// A step at that rate leaves `E / L` unchanged, so the account stays
/// solvent through every step and owes nothing once its assets are gone.
///
/// The cache must hold the balances as they are, not bounds: an overstated
/// debt is not conservative here, since at `E ≤ 0` the full bonus applies
/// (the program values a liquidatee's banks as if accrued now for this).
pub fn equity_bonus(cache: &HealthCache, bonus: Fixed) -> RiskResult<Fixed> {
    let (assets, debts) = oracle_values(cache)?;
    let equity = assets.checked_sub(debts)?;
    if !equity.is_positive() || !debts.is_positive() {
        return Ok(bonus);
    }
    Ok(bonus.min(equity.checked_div(debts, Rounding::Floor)?))
}

/// The account's assets and debts at oracle prices, unweighted: assets
/// rounded down, debts up (the bonus they allow is never too generous). A
/// derivative position counts its PnL at the oracle price (value rounded
/// down, cost and unsettled funding exact): a profit as an asset, a loss as
/// a debt. An option's value is its model value moved to the oracle price
/// ([`crate::health::DerivativeInfo::option_oracle_unit_value`]; a short owes one unit
/// more), not the underlying's.
pub fn oracle_values(cache: &HealthCache) -> RiskResult<(Fixed, Fixed)> {
    let tokens = cache.tokens().iter().try_fold((Fixed::ZERO, Fixed::ZERO), |(assets, debts), t| {
        if t.balance.is_negative() {
            Ok::<_, RiskError>((
                assets,
                debts.checked_add(t.balance.checked_neg()?.checked_mul_ceil(t.prices.oracle)?)?,
            ))
        } else {
            Ok((assets.checked_add(t.balance.checked_mul_floor(t.prices.oracle)?)?, debts))
        }
    })?;
    cache.derivatives().iter().try_fold(tokens, |(assets, debts), d| {
        let value = match d.kind {
            DerivativeKind::Option(_) => {
                let unit = d.option_oracle_unit_value()?.ok_or(RiskError::InvalidParameter)?;
                d.base.checked_mul_floor(unit)?
            }
            _ => d.base.checked_mul_floor(d.prices.oracle)?,
        };
        let pnl = value.checked_sub(d.cost_basis)?.checked_add(d.unsettled_funding)?;
        if pnl.is_negative() {
            Ok((assets, debts.checked_add(pnl.checked_neg()?)?))
        } else {
            Ok((assets.checked_add(pnl)?, debts))
        }
    })
}

/// The account's equity at oracle prices (see [`oracle_values`]).
pub fn oracle_equity(cache: &HealthCache) -> RiskResult<Fixed> {
    let (assets, debts) = oracle_values(cache)?;
    assets.checked_sub(debts)
}

/// A sized derivative-position liquidation step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PositionLiquidation {
    /// Base quantity taken over by the liquidator (positive magnitude; the
    /// liquidatee's position moves toward zero by this much).
    pub base_transferred: Fixed,
    /// Price per base unit the liquidator pays (long liquidatee) or
    /// receives (short liquidatee): `oracle · (1 ∓ bonus)`.
    pub price: Fixed,
    /// LiquidationEnd health before the step.
    pub health_before: Fixed,
}

/// Sizes the takeover of a perpetual or future position at a discount:
/// closing `q` units at price `P` changes the position's PnL by `q · u`,
/// `u = sign·(P − mark)`, and releases `q · req_unit` of requirement; solve
/// for LiquidationEnd health = 0, round down, cap at the position size.
/// Options: [`max_option_liquidation`] (at the model value).
///
/// With positive-PnL weights ([`crate::health::PnlLimits`]) health counts
/// `wpnl(pnl)`, slope 1 below zero and `w ≤ 1` above: health is concave and
/// piecewise linear in `q` with at most one kink, where the PnL crosses 0
/// (see `concave_step`). Solving with the raw slope `u + req_unit` would
/// over-liquidate a profitable long closed at a discount (its profit, and so
/// the discount, counts only at `w`); sizing on the slope of the segment
/// actually travelled lands on 0 and never beyond.
///
/// With a size premium ([`crate::health::size_premium`]) the released
/// requirement is not linear in `q` either: see `premium_steps` (module
/// docs, "Position liquidation with a size premium").
pub fn max_position_liquidation(
    cache: &HealthCache,
    market_index: u16,
    bonus: Fixed,
    being_liquidated: bool,
) -> RiskResult<PositionLiquidation> {
    if bonus.is_negative() || bonus >= Fixed::ONE {
        return Err(RiskError::InvalidParameter);
    }
    let cache = &*sizing_cache(cache, being_liquidated)?;
    let h = liquidation_shortfall(cache, being_liquidated)?;
    let d = cache.derivative(market_index)?;
    if matches!(d.kind, DerivativeKind::Option(_)) || d.base.is_zero() {
        return Err(RiskError::LiquidationNotImproving);
    }
    let long = d.base.is_positive();
    let oracle = d.prices.oracle;
    let mark = d.prices.for_exposure(LE, long);
    let size = d.base.checked_abs()?;
    let (price, pnl_unit) = if long {
        let p = oracle.checked_mul_floor(Fixed::ONE.checked_sub(bonus)?)?;
        (p, p.checked_sub(mark)?)
    } else {
        let p = oracle.checked_mul_ceil(Fixed::ONE.checked_add(bonus)?)?;
        (p, mark.checked_sub(p)?)
    };
    let w = d.pnl_limits().weights.get(LE);
    let q = if d.rates.size_premium.is_zero() {
        // per-unit requirement released = requirement(|base|)/|base|, rounded down
        let req_unit = d.requirement(LE)?.checked_div(size, Rounding::Floor)?;
        concave_step(h, d.pnl(LE)?, pnl_unit, req_unit, w)?.min(size)
    } else {
        premium::size_step(d, h, price, pnl_unit, w)?
    };
    // The liquidatee's position moves toward zero by q at `price` (a long
    // sells, a short buys).
    Ok(PositionLiquidation { base_transferred: q, price, health_before: h })
}

/// Units `q ≥ 0` that bring `h + wpnl(p0 + q·u) − wpnl(p0) + q·r` to 0 (or,
/// if it peaks below 0, to its peak), with `wpnl(x) = x` for `x ≤ 0`, `w·x`
/// above. The first segment's slope `s1` is the largest (concavity), so
/// `s1 ≤ 0` means no step helps. If the answer passes the kink at
/// `q_k = −p0 / u`, the second segment starts from an upper bound of health
/// at `q_k` rounded up (to the ulp) with slope `s2`; every slope of gain is
/// rounded up and every `q` down, so health after the step is ≤ 0 up to ulps.
fn concave_step(h: Fixed, p0: Fixed, u: Fixed, r: Fixed, w: Fixed) -> RiskResult<Fixed> {
    let slope_neg = u.checked_add(r)?;
    let slope_pos = u.checked_mul_ceil(w)?.checked_add(r)?;
    let starts_positive = p0.is_positive() || (p0.is_zero() && u.is_positive());
    let (s1, s2) = if starts_positive { (slope_pos, slope_neg) } else { (slope_neg, slope_pos) };
    if !s1.is_positive() {
        return Err(RiskError::LiquidationNotImproving);
    }
    let need = h.checked_neg()?;
    let q1 = need.checked_div(s1, Rounding::Floor)?;
    // No kink: equal slopes (w = 1), or the PnL moves away from zero.
    if s1 == s2 || p0.is_zero() || u.is_zero() || p0.is_positive() == u.is_positive() {
        return Ok(q1);
    }
    let neg_u = u.checked_neg()?;
    let (qk_lo, qk_hi) = (p0.checked_div(neg_u, Rounding::Floor)?, p0.checked_div(neg_u, Rounding::Ceil)?);
    if q1 <= qk_lo {
        return Ok(q1);
    }
    let h_k = h.checked_add(qk_hi.checked_mul_ceil(s1)?)?;
    if !s2.is_positive() || !h_k.is_negative() {
        return Ok(qk_lo);
    }
    qk_hi.checked_add(h_k.checked_neg()?.checked_div(s2, Rounding::Floor)?)
}

/// Bankrupt: liabilities remain and nothing is left to seize (no positive
/// token balance, no open derivative position, no unsettled derivative profit).
/// A closed derivative's unsettled loss is a liability like a token debt.
pub fn is_bankrupt(cache: &HealthCache) -> RiskResult<bool> {
    let mut has_assets = cache.tokens().iter().any(|t| t.balance.is_positive());
    let mut has_debt = cache.tokens().iter().any(|t| t.balance.is_negative());
    for d in cache.derivatives() {
        let pnl = d.pnl(HealthType::Maint)?;
        has_assets |= !d.base.is_zero() || pnl.is_positive();
        has_debt |= pnl.is_negative();
    }
    Ok(has_debt && !has_assets)
}

/// Lowest deposit index socialisation leaves: a bank whose depositors are
/// wiped out keeps taking deposits (shares minted = amount / index stay below
/// 2^79 for any `u64` amount) instead of dividing by zero. The claims the old
/// shares keep at this floor (`shares · floor`, dust) are part of
/// [`BankruptcyResolution::unabsorbed`].
pub const MIN_DEPOSIT_INDEX: Fixed = Fixed::from_bits(1 << (crate::fixed::FRAC_BITS - 14));

/// How a bankrupt liability is resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BankruptcyResolution {
    /// Quote native taken from the insurance fund (rounded up, ≤ available).
    pub insurance_paid: Fixed,
    /// Liability native covered by the insurance payment.
    pub covered: Fixed,
    /// Liability native socialised across depositors.
    pub socialized: Fixed,
    /// Deposit index after socialisation (rounded down, never below
    /// [`MIN_DEPOSIT_INDEX`]).
    pub new_deposit_index: Fixed,
    /// Loss the depositors could not absorb (their deposits were wiped out),
    /// plus the claims the index floor leaves them (rounded up): the bank
    /// charges it to its collected fees, which always cover it (fees are part
    /// of the vault: vault + borrows = deposits + fees before the loss).
    pub unabsorbed: Fixed,
}

/// Resolves `owed` native of a bankrupt liability with price `price`
/// (quote native per native, oracle), an insurance fund holding
/// `insurance_available` quote native, and the liability bank's deposit
/// shares and index.
pub fn resolve_bankruptcy(
    owed: Fixed,
    price: Fixed,
    insurance_available: Fixed,
    deposit_shares: Fixed,
    deposit_index: Fixed,
) -> RiskResult<BankruptcyResolution> {
    if owed.is_negative() || !price.is_positive() || insurance_available.is_negative() {
        return Err(RiskError::InvalidParameter);
    }
    let full_cost = owed.checked_mul_ceil(price)?;
    let (covered, insurance_paid) = if full_cost <= insurance_available {
        (owed, full_cost)
    } else {
        let c = insurance_available.checked_div(price, Rounding::Floor)?.min(owed);
        (c, c.checked_mul_ceil(price)?.min(insurance_available))
    };
    let socialized = owed.checked_sub(covered)?;
    let (new_deposit_index, unabsorbed) = socialize(socialized, deposit_shares, deposit_index)?;
    Ok(BankruptcyResolution { insurance_paid, covered, socialized, new_deposit_index, unabsorbed })
}

/// Spreads `loss` native over the deposit shares: the index drops by
/// `loss / shares` (rounded up), but not below [`MIN_DEPOSIT_INDEX`]; what
/// the floor leaves uncharged comes back as the unabsorbed part.
fn socialize(loss: Fixed, deposit_shares: Fixed, deposit_index: Fixed) -> RiskResult<(Fixed, Fixed)> {
    if loss.is_zero() {
        return Ok((deposit_index, Fixed::ZERO));
    }
    if !deposit_shares.is_positive() {
        return Ok((deposit_index, loss));
    }
    let loss_per_share = loss.checked_div(deposit_shares, Rounding::Ceil)?;
    let lowered = deposit_index.checked_sub(loss_per_share)?;
    if lowered >= MIN_DEPOSIT_INDEX {
        return Ok((lowered, Fixed::ZERO));
    }
    let floor = MIN_DEPOSIT_INDEX.min(deposit_index);
    let absorbed = deposit_shares.checked_mul_floor(deposit_index.checked_sub(floor)?)?;
    Ok((floor, loss.checked_sub(absorbed)?.positive_part()))
}

#[cfg(test)]
#[path = "liquidation_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "liquidation_position_tests.rs"]
mod position_tests;

#[cfg(test)]
#[path = "liquidation_demotion_tests.rs"]
mod demotion_tests;
