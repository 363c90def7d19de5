//! Position liquidation sizing with a size premium (`max_position_liquidation`
//! when the market has one).
//!
//! The requirement `R(x) = x · p · rate(x)` is convex in the size (linear at
//! the rate's cap), so LiquidationEnd health is concave in the quantity
//! closed, and a tangent taken at a point where health is below 0 never
//! passes the root.
//!
//! # Whole contracts (every position held on-chain)
//! [`whole_contract_steps`]: Newton's iteration from below on the exact
//! health after closing `k` whole contracts, each point computed as the
//! cache would after the fill (same roundings, the size premium on the
//! native-integer path). The slope used at `k` bounds the slope on the rest
//! of the way from above (PnL: `u·w` while the PnL is positive, `u` after;
//! requirement: `p·r` below the kink, `p · (1.5·ρ − 0.4·r)` on the premium
//! part, `p` at the cap, each at the size left and non-increasing as it
//! shrinks), so each step lands at or below the root. When a step rounds
//! to no whole contract, one more contract is checked. The answer is the
//! smallest whole number of contracts after which LiquidationEnd health is
//! ≥ 0, certified by an exact point one contract before it below 0 (or the
//! whole position, if closing it all does not reach 0). If
//! [`WHOLE_CONTRACT_EVALUATIONS`] run out first, the largest count known to
//! leave health below 0: a smaller step, never a larger one.
//!
//! Worked example (`liquidation_tests.rs`): 100 contracts long at 100 with
//! imf 0.005, 712 USDC, bonus 2 %: the exact root is 36 contracts (LiqEnd
//! +3.8e-11 after 36 by the roundings, −10.02 after 35), and 36 is the
//! step. Each exact point costs about a thousand CU on-chain; the general
//! steps below cost about 14,000 for the same position.
//!
//! # Any size (the engine's general case)
//! [`premium_steps`]: for sizes in fractions of a contract (tests, other
//! callers), on bounds of the requirement's slope
//! ([`DerivativeInfo::release_bound`]) with a Newton guess checked exactly.

use super::{concave_step, LE};
use crate::error::{RiskError, RiskResult};
use crate::fixed::{Fixed, Rounding};
use crate::health::size_premium::{ReleaseBound, FOUR_FIFTHS_DOWN, THREE_HALVES, TWO_FIFTHS_DOWN};
use crate::health::DerivativeInfo;

/// Most exact points [`whole_contract_steps`] computes.
pub const WHOLE_CONTRACT_EVALUATIONS: usize = 12;

/// Units of the position to close (a long sells, a short buys at `price`),
/// `h < 0` the LiquidationEnd health now, `pnl_unit` the PnL per unit closed
/// at the LiquidationEnd mark and `w` the LiquidationEnd PnL weight.
pub(super) fn size_step(
    d: &DerivativeInfo,
    h: Fixed,
    price: Fixed,
    pnl_unit: Fixed,
    w: Fixed,
) -> RiskResult<Fixed> {
    match d.rates.contract_count(d.base) {
        Some(n) if n > 0 => whole_contract_steps(d, h, price, pnl_unit, w, n),
        _ => premium_steps(d, h, price, pnl_unit, w),
    }
}

/// Health after closing `k` whole contracts and what the next step needs.
struct Point {
    /// Contracts closed.
    k: u64,
    /// LiquidationEnd health after closing them (exact, as the cache).
    health: Fixed,
    /// The position's PnL there (unweighted).
    pnl: Fixed,
    /// The requirement rate in force on the contracts left.
    rate: Fixed,
}

/// See the module docs: Newton from below on whole contracts.
#[inline(never)]
fn whole_contract_steps(
    d: &DerivativeInfo,
    h: Fixed,
    price: Fixed,
    pnl_unit: Fixed,
    w: Fixed,
    n: u64,
) -> RiskResult<Fixed> {
    let cs = d.rates.contract_size;
    let (requirement, rate) = d.requirement_at_whole_contracts(LE, n)?;
    // Health without this position: closing changes nothing else.
    let rest = h.checked_sub(d.weighted_pnl(LE)?.checked_sub(requirement)?)?;
    let mut below = Point { k: 0, health: h, pnl: d.pnl(LE)?, rate };
    let mut above: Option<u64> = None;
    for _ in 0..WHOLE_CONTRACT_EVALUATIONS {
        let next = match above {
            // A bracket (a step landed past the root by rounding): halve it.
            Some(hi) if hi - below.k > 1 => below.k + (hi - below.k) / 2,
            Some(hi) => return contracts_to_base(hi, cs),
            None => {
                let (slope, limit) = contract_slope(d, &below, n, pnl_unit, w)?;
                if !slope.is_positive() {
                    if below.k == 0 {
                        return Err(RiskError::LiquidationNotImproving);
                    }
                    break;
                }
                let step = newton_contracts(below.health, slope).unwrap_or(n).min(limit.unwrap_or(n)).max(1);
                below.k.saturating_add(step).min(n)
            }
        };
        let point = point_after(d, next, n, price, rest)?;
        if !point.health.is_negative() {
            if next == below.k + 1 {
                return contracts_to_base(next, cs);
            }
            above = Some(next);
        } else {
            below = point;
            if below.k == n {
                break;
            }
        }
    }
    match above {
        Some(hi) if hi == below.k + 1 => contracts_to_base(hi, cs),
        _ => contracts_to_base(below.k, cs),
    }
}

/// Health after closing `k` of the `n` contracts at `price`: the PnL as
/// `close_part` would leave it ([`DerivativeInfo::pnl_after`]) and the
/// requirement at `n − k` contracts.
fn point_after(d: &DerivativeInfo, k: u64, n: u64, price: Fixed, rest: Fixed) -> RiskResult<Point> {
    let closed = contracts_to_base(k, d.rates.contract_size)?;
    let delta_base = if d.base.is_positive() { closed.checked_neg()? } else { closed };
    let pnl = d.pnl_after(LE, delta_base, price)?;
    let (requirement, rate) = d.requirement_at_whole_contracts(LE, n - k)?;
    let health = rest.checked_add(d.pnl_limits().weigh(pnl, LE)?)?.checked_sub(requirement)?;
    Ok(Point { k, health, pnl, rate })
}

/// An upper bound of health's gain per contract closed from `at` on, and
/// how many contracts it holds for (`None`: the rest of the way).
///
/// PnL: `u·w` while it is positive, `u` otherwise (its slope only falls as
/// it crosses zero either way). Requirement released per base unit: `p·r`
/// below the kink, `p · (1.5·ρ − 0.4·r)` on the premium part (it falls as
/// the size does). At the cap it is `p` exactly, but only while the size
/// stays capped: just below the cap the premium part releases up to
/// `p · (1.5 − 0.4·r)` (the one place health is not concave), so a capped
/// step stops at the smallest size surely capped ([`capped_from`]) and the
/// step from there uses that larger bound. Rounded up.
fn contract_slope(
    d: &DerivativeInfo,
    at: &Point,
    n: u64,
    u: Fixed,
    w: Fixed,
) -> RiskResult<(Fixed, Option<u64>)> {
    let pnl_slope = if at.pnl.is_positive() { u.checked_mul_ceil(w)? } else { u };
    let r = d.rates.rate(LE);
    let premium_part = |rate: Fixed| -> RiskResult<Fixed> {
        let two_fifths = r.checked_mul_floor(TWO_FIFTHS_DOWN)?;
        rate.checked_mul_ceil(THREE_HALVES)?.checked_sub(two_fifths)
    };
    let (release_rate, limit) = if at.rate <= r {
        (r, None)
    } else if at.rate < Fixed::ONE {
        (premium_part(at.rate)?, None)
    } else {
        let left = n - at.k;
        match capped_from(d)? {
            Some(m) if left > m => (Fixed::ONE, Some(left - m)),
            _ => (premium_part(Fixed::ONE)?, None),
        }
    };
    let release = d.prices.liab(LE).checked_mul_ceil(release_rate)?;
    let cs = i64::try_from(d.rates.contract_size).map_err(|_| RiskError::Overflow)?;
    Ok((pnl_slope.checked_add(release)?.checked_mul_int(cs)?, limit))
}

/// A whole size at and above which the LiquidationEnd rate is surely at its
/// cap: `⌈((1 − 0.8·r) / imf)²⌉ + 1` contracts (the exact start, rounded
/// up, plus one for the roundings of the rate); `None` if it does not fit.
fn capped_from(d: &DerivativeInfo) -> RiskResult<Option<u64>> {
    let r = d.rates.rate(LE);
    let imf = d.rates.size_premium;
    let root = Fixed::ONE.checked_sub(r.checked_mul_floor(FOUR_FIFTHS_DOWN)?)?.checked_div_ceil(imf)?;
    let start = root.checked_mul_ceil(root)?.to_u64(Rounding::Ceil);
    Ok(start.ok().and_then(|m| m.checked_add(1)))
}

/// Smallest `⌈slope⌉` (native quote units per contract) for which
/// [`newton_contracts`] divides in native `u64`: rounding the slope up then
/// shortens a step by less than 2⁻¹⁶ of it. Below it (contracts worth a few
/// native units) `⌈slope⌉` could double the slope and halve every step.
const NATIVE_SLOPE_MIN: u64 = 1 << 16;

/// `⌊−health / slope⌋` whole contracts (health < 0, slope > 0 per
/// contract), never more than the exact quotient: in native `u64` division
/// on `⌊−health⌋` and `⌈slope⌉` when both fit and the slope is at least
/// [`NATIVE_SLOPE_MIN`] (cheaper on-chain), else in fixed point. `None` if
/// the quotient does not fit a `u64`.
fn newton_contracts(health: Fixed, slope: Fixed) -> Option<u64> {
    let need = health.checked_neg().ok()?;
    match (need.to_u64(Rounding::Floor), slope.to_u64(Rounding::Ceil)) {
        (Ok(need), Ok(slope)) if slope >= NATIVE_SLOPE_MIN => Some(need / slope),
        _ => need.checked_div_floor(slope).ok()?.to_u64(Rounding::Floor).ok(),
    }
}

/// `k` contracts in base units.
fn contracts_to_base(k: u64, cs: u64) -> RiskResult<Fixed> {
    Fixed::from_u64(k).checked_mul_int(i64::try_from(cs).map_err(|_| RiskError::Overflow)?)
}

/// Most steps [`max_position_liquidation`](super::max_position_liquidation) takes on a position with a size
/// premium (the first one included).
pub const PREMIUM_LIQUIDATION_STEPS: usize = 4;

/// Sizing with a size premium. Closing `q` of size `s` releases
/// `R(s) − R(s − q)` of requirement, and `R` is convex below the rate's cap
/// (linear at it), so health is concave in `q` on each segment
/// [`DerivativeInfo::release_bound`](crate::health::DerivativeInfo::release_bound)
/// gives. From a point `q_L` whose health is known exactly and ≤ 0, with
/// `F(q) ≥` health after closing `q` (the exact requirement's curve, plus the
/// rounding `excess`), concave:
/// - left: the line through `q_L` with the requirement's largest slope on the
///   segment (its slope at the current size, the tangent; the cap's while
///   capped) lies above `F`, so its root (by [`concave_step`]) is safe;
/// - right: a guess `q_R` at the target ([`model_root`]: Newton's iteration on
///   the requirement's formula, cheap, no bounds; or, if it fails, the step
///   sized on the requirement per unit); if `F(q_R) ≤ 0` it is safe itself,
///   else the line through `F(q_R)` with a lower bound of `F`'s slope there
///   lies above `F` left of `q_R`, so its root is safe (Newton's step back
///   from the far side).
///
/// The larger of the two is the next point; its health is computed exactly,
/// as the cache would. Usually one step lands within a contract of the
/// target (one exact check of the guess); the steps stop once the
/// guess is within one contract of the safe point (the program rounds a step
/// up to whole contracts: more precision would not change it), on a linear
/// segment after its exact step, when the position closes or a step stops
/// helping, or after [`PREMIUM_LIQUIDATION_STEPS`]. Health after their sum is
/// the last point's, ≤ 0.
///
/// Not inlined, and each trial position is a copy in its own frame: SBF
/// frames hold 4 KiB and a `DerivativeInfo` is several hundred bytes.
#[inline(never)]
pub(super) fn premium_steps(
    d: &DerivativeInfo,
    h: Fixed,
    price: Fixed,
    pnl_unit: Fixed,
    w: Fixed,
) -> RiskResult<Fixed> {
    // A lower bound of the PnL's slope in q: `u·w` while it gains, `u` while it loses.
    let pnl_slope_low = if pnl_unit.is_negative() { pnl_unit } else { pnl_unit.checked_mul_floor(w)? };
    let mut cur = *d;
    let mut bound = cur.release_bound(LE)?;
    // Health without this position: the steps change nothing else.
    let rest = h.checked_sub(cur.weighted_pnl(LE)?.checked_sub(bound.requirement)?)?;
    let mut h_cur = h;
    let mut total = Fixed::ZERO;
    let one_contract = Fixed::from_u64(d.rates.contract_size);
    for step in 0..PREMIUM_LIQUIDATION_STEPS {
        let size = cur.base.checked_abs()?;
        let target = h_cur.checked_add(bound.excess)?;
        if size.is_zero() || !target.is_negative() {
            break;
        }
        let reach = bound.limit.min(size);
        let p0 = cur.pnl(LE)?;
        let mut q = match concave_step(target, p0, pnl_unit, bound.slope, w) {
            Ok(q) => q.min(reach),
            Err(e) if step == 0 => return Err(e),
            Err(_) => break,
        };
        // The guess beyond the target: within a contract of the safe step
        // (the program rounds a step up to whole contracts) or not beyond it
        // (a linear segment, solved exactly), this is the last step, unless
        // the step stopped where the cap ends (the premium part follows).
        let mut last = q < reach || reach == size;
        let guess = model_root(&cur, h_cur, p0, pnl_unit, w, q, reach, bound.requirement, one_contract)
            .or_else(|_| concave_step(target, p0, pnl_unit, bound.chord, w).map(|q| (q, false)));
        if let Ok((guess, converged)) = guess {
            let q_r = guess.min(reach);
            if q_r.checked_sub(q)? > one_contract {
                let (h_r, far) = probe(&cur, q_r, price, rest)?;
                let upper = h_r.checked_add(bound.excess)?.checked_add(far.excess)?;
                if !upper.is_positive() {
                    q = q_r;
                } else {
                    let m = pnl_slope_low.checked_add(far.local_slope)?;
                    if m.is_positive() {
                        q = q.max(q_r.checked_sub(upper.checked_div_ceil(m)?)?);
                    }
                }
                // A converged guess is at the target up to rounding: back
                // within a contract of it, this is as close as it gets.
                last = converged && q_r.checked_sub(q)? <= one_contract && (q_r < reach || reach == size);
            }
        }
        if !q.is_positive() {
            break;
        }
        close_part(&mut cur, q, price)?;
        total = total.checked_add(q)?;
        if !last && step + 1 < PREMIUM_LIQUIDATION_STEPS {
            bound = cur.release_bound(LE)?;
            h_cur = rest.checked_add(cur.weighted_pnl(LE)?.checked_sub(bound.requirement)?)?;
        }
        if last {
            break;
        }
    }
    Ok(total)
}

/// Most Newton steps [`model_root`] takes.
const MODEL_STEPS: usize = 6;

/// A guess for the step that brings LiquidationEnd health to 0: Newton's
/// iteration from the safe step `q0` on the position's health as a function
/// of the units closed, `h + wpnl(p0 + q·u) − wpnl(p0) + requirement −
/// R(size − q)`, with `R` the requirement's formula (its roundings, no
/// copy of the position) and its slope `p·r`, `p · (1.5·ρ − 0.4·r)` or `p`.
/// Cheap (a square root and a few products a step), and only a guess:
/// [`premium_steps`] checks it exactly. Stops when a step moves less than
/// `precision / 64` (a 64th of a contract: converged, the flag returned), at
/// `reach`, or after [`MODEL_STEPS`].
#[allow(clippy::too_many_arguments)]
fn model_root(
    d: &DerivativeInfo,
    h: Fixed,
    p0: Fixed,
    u: Fixed,
    w: Fixed,
    q0: Fixed,
    reach: Fixed,
    requirement: Fixed,
    precision: Fixed,
) -> RiskResult<(Fixed, bool)> {
    let size = d.base.checked_abs()?;
    let (r, imf, liab) = (d.rates.rate(LE), d.rates.size_premium, d.prices.liab(LE));
    let wpnl = |p: Fixed| if p.is_positive() { p.checked_mul_floor(w) } else { Ok(p) };
    let w0 = wpnl(p0)?;
    let two_fifths = r.checked_mul_floor(crate::health::size_premium::TWO_FIFTHS_DOWN)?;
    let tolerance = precision.checked_div_int(64, Rounding::Floor)?;
    let mut q = q0;
    for _ in 0..MODEL_STEPS {
        let x = size.checked_sub(q)?;
        let c = d.rates.contracts(x, Rounding::Ceil)?;
        let rho = crate::health::size_premium::uncapped_rate(r, imf, c, Rounding::Ceil)?;
        let rate = crate::health::size_premium::floor_and_cap(r, rho);
        let req_x = x.checked_mul_ceil(liab.checked_mul_ceil(rate)?)?;
        let pnl = p0.checked_add(q.checked_mul_floor(u)?)?;
        let f = h.checked_add(wpnl(pnl)?)?.checked_sub(w0)?.checked_add(requirement)?.checked_sub(req_x)?;
        let slope_rate = if rho <= r {
            r
        } else if rho >= Fixed::ONE {
            Fixed::ONE
        } else {
            rho.checked_mul_ceil(crate::health::size_premium::THREE_HALVES)?.checked_sub(two_fifths)?
        };
        let pnl_slope = if pnl.is_positive() { u.checked_mul_floor(w)? } else { u };
        let slope = pnl_slope.checked_add(liab.checked_mul_ceil(slope_rate)?)?;
        if !slope.is_positive() {
            break;
        }
        let step = f.checked_div_floor(slope)?.checked_neg()?;
        let next = q.checked_add(step)?.max(Fixed::ZERO).min(reach);
        let moved = next.checked_sub(q)?.checked_abs()?;
        q = next;
        if moved <= tolerance {
            return Ok((q, true));
        }
        if q == reach {
            break;
        }
    }
    Ok((q, false))
}

/// Moves the position `q` toward zero at `price` (a long sells, a short
/// buys; the cost basis changes by `delta ·ceil price`, as the cache's
/// `adjust_derivative` does). The units kept per size are not refreshed:
/// the sizing reads the requirement from
/// [`DerivativeInfo::release_bound`], which computes it.
fn close_part(d: &mut DerivativeInfo, q: Fixed, price: Fixed) -> RiskResult<()> {
    let delta_base = if d.base.is_positive() { q.checked_neg()? } else { q };
    let side = d.pricing_side();
    d.base = d.base.checked_add(delta_base)?;
    d.cost_basis = d.cost_basis.checked_add(delta_base.checked_mul_ceil(price)?)?;
    if side != d.pricing_side() {
        d.recompute_units()?;
    }
    Ok(())
}

/// Health after closing `q` (`rest` = health without this position's
/// contribution) and the release bound there, on a copy.
#[inline(never)]
fn probe(d: &DerivativeInfo, q: Fixed, price: Fixed, rest: Fixed) -> RiskResult<(Fixed, ReleaseBound)> {
    let mut trial = *d;
    close_part(&mut trial, q, price)?;
    let bound = trial.release_bound(LE)?;
    Ok((rest.checked_add(trial.weighted_pnl(LE)?.checked_sub(bound.requirement)?)?, bound))
}
