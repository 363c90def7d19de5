//! Risk arrays: an option's value change under every scenario of the
//! group's grid, computed once per market by a permissionless crank with
//! full Black–Scholes, then read by health with multiplies and adds only
//! (CME SPAN's idea, on-chain).
//!
//! # Scenarios ([`RiskGrid`])
//! Every scenario looks [`LOOK_AHEAD_SECS`] ahead (SPAN's one-day
//! look-ahead), so time decay is in all of them:
//!
//! ```text
//! k = 0              time decay only: S, σ unchanged, T − 1 day
//! k = 1 … n·m        every (price shock s_i, vol shock v_j) of the grid
//! k > n·m            extended moves (−66 % … +500 %), flat vol, weight w_k
//!
//! S_k = S·(1 + s)
//! σ_k = max(σ + v·√(30 d / max(T, 1 d)), σ·MIN_VOL_FRACTION)
//! w_k = ¾ · max_i |s_i| / |move_k|      (1 for core scenarios)
//! ```
//!
//! Vol shocks grow for short-dated options and shrink for long-dated ones
//! (Derive's `(30 d / T)^p` term structure, here with `p = ½` both ways).
//! Extended moves are weighted so a linear position loses ¾ of its loss in
//! the largest core shock in each of them (Derive: weight × |move| ≈ 0.14
//! against a ±18 % core grid, 0.78): they never bind for linear books and
//! catch the tails of convex ones, such as far out-of-the-money shorts.
//!
//! # What an array holds
//! Model value, Δ, Γ, vega, θ at the oracle price (per underlying native
//! unit), and per scenario the value change of **one contract** in quote
//! native units with [`CHANGE_FRAC_BITS`] fractional bits,
//! `c_k = ⌊(V_k − V_0) · contract_size · 2^16⌋` (an `i64`: ±2^47 quote
//! native per contract), never below `−⌈V_0 · contract_size · 2^16⌉` (a
//! contract is worth at least 0). Health multiplies a position's contract count by
//! each `c_k` in 64-bit integers ([`RiskArray::add_position_pnl`]): no
//! fixed-point product per scenario. `c_k` is stored rounded down; a short
//! holder uses `c_k + 1`, so every stored change is an upper bound of the
//! loss of whichever side holds it. `format` ([`ARRAY_FORMAT`]) marks this
//! layout: the scenarios of an array of another format are not netted
//! (its value and Δ, unchanged between formats, still value the position)
//! until the crank recomputes it.
//!
//! # Stored layout ([`RISK_ARRAY_BYTES`] = 448, the `Market.reserved` space)
//! ```text
//! offset size  field
//!      0    8  computed_at   i64 unix seconds
//!      8    4  grid_id       u32 (FNV-1a of the grid: a new grid invalidates every array)
//!     12    2  scenario_count u16
//!     14    2  format        u16 (ARRAY_FORMAT)
//!     16   16  spot          Fixed (i128 LE = two u64 limbs, as StoredFixed)
//!     32   16  vol           Fixed
//!     48   16  value         Fixed, per underlying native unit
//!     64   16  delta         Fixed
//!     80   16  gamma         Fixed
//!     96   16  vega          Fixed, per 1.00 of vol
//!    112   16  theta         Fixed, per year
//!    128  320  changes       [i64; 40]  c_k, 2^-16 quote native per contract
//! ```
//! Every field is 8-byte aligned and no `i128` is needed (zero-copy safe).
//! 40 scenarios hold 1 decay + a 5 × 3 or 7 × 3 core grid + 8 extended
//! moves (24 or 30), or up to 31 core scenarios.

use super::black_scholes::{bs_price_greeks, BsInput, StrikeTerms, VolTerms};
use super::math::sqrt;
use crate::error::{RiskError, RiskResult};
use crate::fixed::{Fixed, Rounding, FRAC_BITS};
use alloc::vec::Vec;

/// Scenarios an array can hold.
pub const RISK_ARRAY_SCENARIOS: usize = 40;
/// Bytes of the stored form (the `Market.reserved` space).
pub const RISK_ARRAY_BYTES: usize = 448;
const HEADER_BYTES: usize = 128;
/// Fractional bits of a stored per-contract change (module docs).
pub const CHANGE_FRAC_BITS: u32 = 16;
/// The stored layout's version: changes per contract in 2^-16 quote native.
/// (0, the first layout, held changes relative to spot.)
pub const ARRAY_FORMAT: u16 = 1;
const _: () = assert!(HEADER_BYTES + 8 * RISK_ARRAY_SCENARIOS == RISK_ARRAY_BYTES);

/// One-day look-ahead of every scenario.
pub const LOOK_AHEAD_SECS: i64 = 86_400;
/// Tenor at which a vol shock applies as given (30 days).
pub const VOL_REF_SECS: i64 = 30 * 86_400;
/// Shortest tenor used to scale vol shocks (1 day: at most √30 ≈ 5.5×).
pub const MIN_VOL_HORIZON_SECS: i64 = 86_400;
/// A vol-down scenario never takes vol below this fraction of the current vol.
pub const MIN_VOL_FRACTION: Fixed = Fixed::from_bits(1 << (FRAC_BITS - 2)); // 0.25
/// Extended price moves, in hundredths (−66 % … +500 %, Deribit's range).
pub const EXTENDED_MOVES_PCT: [i64; 8] = [-66, -50, -33, 33, 50, 100, 200, 500];
const PCT: u64 = 100;
/// [`EXTENDED_MOVES_PCT`] as fractions, rounded toward −∞ (as
/// `Fixed::from_ratio(pct, 100, Floor)`; constants, so building a grid
/// on-chain divides only for the weights).
const EXTENDED_MOVES: [Fixed; 8] = {
    const fn fraction(pct: i64) -> Fixed {
        Fixed::from_bits((pct as i128 * (1i128 << FRAC_BITS)).div_euclid(PCT as i128))
    }
    let [a, b, c, d, e, f, g, h] = EXTENDED_MOVES_PCT;
    [fraction(a), fraction(b), fraction(c), fraction(d), fraction(e), fraction(f), fraction(g), fraction(h)]
};
/// Weighted loss of a linear position in an extended move, as a fraction of
/// its loss in the largest core shock: 3/4.
pub const EXTENDED_WEIGHT_NUM: i64 = 3;
/// Denominator of the extended-move weight fraction.
pub const EXTENDED_WEIGHT_DEN: u64 = 4;

/// One scenario of a grid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scenario {
    /// Relative price move `s` (`S_k = S·(1 + s)`, `s > −1`).
    pub price_shock: Fixed,
    /// Absolute vol move at the 30-day tenor.
    pub vol_shock: Fixed,
    /// Weight of the scenario's loss (1 for core scenarios, < 1 extended).
    pub weight: Fixed,
}

/// The group's scenario list (see module docs), built once per instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RiskGrid {
    scenarios: Vec<Scenario>,
    id: u32,
}

/// `⌈widest · PCT · NUM / (|pct| · DEN)⌉` (Fixed bits): an extended move's
/// weight before its cap at 1. One 64-bit division when the numerator fits
/// 64 bits (every grid the group stores: shocks are basis points below
/// 328 %), else the general quotient; the same result.
fn extended_weight(widest: Fixed, pct: i64) -> RiskResult<Fixed> {
    let k = PCT * EXTENDED_WEIGHT_NUM as u64;
    let d = pct.unsigned_abs() * EXTENDED_WEIGHT_DEN;
    if let Ok(bits) = u64::try_from(widest.to_bits()) {
        if let Some(n) = bits.checked_mul(k) {
            return Ok(Fixed::from_bits(i128::from(n.div_ceil(d))));
        }
    }
    widest.checked_mul_int(k as i64)?.checked_div_int(d, Rounding::Ceil)
}

impl RiskGrid {
    /// Decay scenario, core grid `price_shocks × vol_shocks` (no vol shocks:
    /// vol flat), extended moves. Errors if a shock is ≤ −100 % or the list
    /// exceeds [`RISK_ARRAY_SCENARIOS`]. Eight divisions (extended weights).
    pub fn new(price_shocks: &[Fixed], vol_shocks: &[Fixed]) -> RiskResult<RiskGrid> {
        let mut g = RiskGrid::scenarios_of(price_shocks, vol_shocks)?;
        g.id = grid_id(&g.scenarios);
        Ok(g)
    }

    /// [`RiskGrid::new`] whose id is known (the group's stored id of these
    /// shocks, `update_risk_grid` having computed it): no hash (about 6,000
    /// CU on-chain, paid by every portfolio health check otherwise).
    pub fn with_known_id(price_shocks: &[Fixed], vol_shocks: &[Fixed], id: u32) -> RiskResult<RiskGrid> {
        let mut g = RiskGrid::scenarios_of(price_shocks, vol_shocks)?;
        g.id = id;
        Ok(g)
    }

    /// The scenarios (id 0).
    fn scenarios_of(price_shocks: &[Fixed], vol_shocks: &[Fixed]) -> RiskResult<RiskGrid> {
        let vols: &[Fixed] = if vol_shocks.is_empty() { &[Fixed::ZERO] } else { vol_shocks };
        if price_shocks.iter().any(|s| *s <= Fixed::NEG_ONE) {
            return Err(RiskError::InvalidParameter);
        }
        let core = price_shocks.len().checked_mul(vols.len()).ok_or(RiskError::CapacityExceeded)?;
        let widest =
            price_shocks.iter().try_fold(Fixed::ZERO, |m, s| Ok::<_, RiskError>(m.max(s.checked_abs()?)))?;
        let extended = if widest.is_zero() { 0 } else { EXTENDED_MOVES_PCT.len() };
        if 1 + core + extended > RISK_ARRAY_SCENARIOS {
            return Err(RiskError::CapacityExceeded);
        }
        let mut scenarios = Vec::with_capacity(1 + core + extended);
        scenarios.push(Scenario { price_shock: Fixed::ZERO, vol_shock: Fixed::ZERO, weight: Fixed::ONE });
        for s in price_shocks {
            for v in vols {
                scenarios.push(Scenario { price_shock: *s, vol_shock: *v, weight: Fixed::ONE });
            }
        }
        if extended > 0 {
            for (pct, mv) in EXTENDED_MOVES_PCT.into_iter().zip(EXTENDED_MOVES) {
                // w = ¾ · widest / |move|, rounded up, at most 1.
                let w = extended_weight(widest, pct)?;
                scenarios.push(Scenario {
                    price_shock: mv,
                    vol_shock: Fixed::ZERO,
                    weight: w.min(Fixed::ONE),
                });
            }
        }
        Ok(RiskGrid { scenarios, id: 0 })
    }

    /// The scenarios, decay first.
    pub fn scenarios(&self) -> &[Scenario] {
        &self.scenarios
    }

    /// Number of scenarios.
    pub fn len(&self) -> usize {
        self.scenarios.len()
    }

    /// Never true (the decay scenario is always there).
    pub fn is_empty(&self) -> bool {
        self.scenarios.is_empty()
    }

    /// FNV-1a of every scenario's bits: an array computed on another grid
    /// has another id.
    pub fn id(&self) -> u32 {
        self.id
    }
}

fn grid_id(scenarios: &[Scenario]) -> u32 {
    const FNV_OFFSET: u32 = 0x811c_9dc5;
    const FNV_PRIME: u32 = 0x0100_0193;
    let mut h = FNV_OFFSET;
    for sc in scenarios {
        for f in [sc.price_shock, sc.vol_shock, sc.weight] {
            for b in f.to_le_bytes() {
                h = (h ^ u32::from(b)).wrapping_mul(FNV_PRIME);
            }
        }
    }
    h
}

/// The terms an array depends on besides price, vol and time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OptionSpec {
    /// Call (`true`) or put.
    pub is_call: bool,
    /// Strike, quote native per underlying native unit.
    pub strike: Fixed,
    /// Expiry, unix seconds.
    pub expiry_ts: i64,
    /// Annualised risk-free rate (usually 0).
    pub rate: Fixed,
    /// Underlying native units per contract (> 0): the unit of the changes.
    pub contract_size: u64,
}

/// Is an array usable for health now (module docs of the issue: a stale or
/// drifted array blocks risk-increasing actions like a stale oracle).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Freshness {
    /// Usable.
    Fresh,
    /// Older than `max_age` (or dated in the future).
    Stale,
    /// The oracle moved `max_drift` or more since it was computed.
    Drifted,
    /// Computed on another grid.
    OtherGrid,
}

/// What [`Freshness`] depends on: when, on which grid and at which spot an
/// array was computed. The program reads these fields of a stored array
/// without decoding the scenarios.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArrayHeader {
    /// When it was computed (unix seconds).
    pub computed_at: i64,
    /// [`RiskGrid::id`] of its grid.
    pub grid_id: u32,
    /// Scenarios filled.
    pub scenario_count: u16,
    /// Stored layout ([`ARRAY_FORMAT`]).
    pub format: u16,
    /// Oracle price it was computed at.
    pub spot: Fixed,
}

impl ArrayHeader {
    /// Whether its scenario changes are in this version's units
    /// ([`ARRAY_FORMAT`]): portfolio mode nets only such arrays. Value and
    /// Δ mean the same in every format (freshness does not look at it).
    pub fn scenarios_current(&self) -> bool {
        self.format == ARRAY_FORMAT
    }

    /// Usable at `now` with the oracle at `oracle` for the grid
    /// `(id, len)`: computed on that grid, age in `0 ..= max_age_secs`,
    /// `|oracle − spot| < max_drift·spot` (one multiply). The grid's id and
    /// length are passed so a caller can keep them as constants instead of
    /// building the grid.
    pub fn freshness(
        &self,
        now: i64,
        oracle: Fixed,
        (grid_id, grid_len): (u32, usize),
        max_age_secs: u64,
        max_drift: Fixed,
    ) -> RiskResult<Freshness> {
        if self.grid_id != grid_id || usize::from(self.scenario_count) != grid_len {
            return Ok(Freshness::OtherGrid);
        }
        let age = now.checked_sub(self.computed_at).ok_or(RiskError::Overflow)?;
        if age < 0 || age.unsigned_abs() > max_age_secs {
            return Ok(Freshness::Stale);
        }
        let moved = oracle.checked_sub(self.spot)?.checked_abs()?;
        if moved >= self.spot.checked_mul_floor(max_drift)? {
            return Ok(Freshness::Drifted);
        }
        Ok(Freshness::Fresh)
    }
}

/// One option market's risk array (see module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RiskArray {
    /// When it was computed (unix seconds).
    pub computed_at: i64,
    /// [`RiskGrid::id`] of the grid it was computed on.
    pub grid_id: u32,
    /// Scenarios filled (the grid's length).
    pub scenario_count: u16,
    /// Stored layout ([`ARRAY_FORMAT`] when computed by this version).
    pub format: u16,
    /// Oracle price it was computed at (quote native per underlying native unit).
    pub spot: Fixed,
    /// Volatility used.
    pub vol: Fixed,
    /// Model value per underlying native unit at `spot`.
    pub value: Fixed,
    /// ∂V/∂S.
    pub delta: Fixed,
    /// ∂²V/∂S².
    pub gamma: Fixed,
    /// ∂V/∂σ per 1.00 of vol.
    pub vega: Fixed,
    /// ∂V/∂t per year.
    pub theta: Fixed,
    /// `c_k`: one contract's value change in 2^-16 quote native, rounded down.
    pub changes: [i64; RISK_ARRAY_SCENARIOS],
}

/// Values `opt` at `oracle` and every scenario of `grid`, `now` being the
/// current unix time: 1 + `grid.len()` Black–Scholes evaluations (one with
/// Greeks), one square root.
pub fn compute_risk_array(
    opt: &OptionSpec,
    oracle: Fixed,
    vol: Fixed,
    now: i64,
    grid: &RiskGrid,
) -> RiskResult<RiskArray> {
    let secs = opt.expiry_ts.checked_sub(now).ok_or(RiskError::Overflow)?;
    let input = |spot: Fixed, vol: Fixed, secs: i64| BsInput {
        spot,
        strike: opt.strike,
        vol,
        seconds_to_expiry: secs,
        rate: opt.rate,
        is_call: opt.is_call,
    };
    if opt.contract_size == 0 {
        return Err(RiskError::InvalidParameter);
    }
    let g = bs_price_greeks(&input(oracle, vol, secs))?;
    let ahead = secs.saturating_sub(LOOK_AHEAD_SECS).max(0);
    let vol_scale = if grid.scenarios.iter().all(|s| s.vol_shock.is_zero()) {
        Fixed::ONE
    } else {
        let horizon = secs.max(MIN_VOL_HORIZON_SECS).unsigned_abs();
        sqrt(Fixed::from_i64(VOL_REF_SECS).checked_div_int(horizon, Rounding::Ceil)?)?
    };
    let vol_floor = vol.checked_mul_floor(MIN_VOL_FRACTION)?;
    let mut changes = [0i64; RISK_ARRAY_SCENARIOS];
    if grid.len() > RISK_ARRAY_SCENARIOS {
        return Err(RiskError::CapacityExceeded);
    }
    // Every scenario has the same strike and look-ahead, and few distinct
    // volatilities: their terms are computed once (`StrikeTerms`), the
    // values are bit for bit `bs_value`'s.
    let mut terms = StrikeTerms::new(opt.strike, ahead, opt.rate, opt.is_call)?;
    let mut vols: Vec<(Fixed, Option<VolTerms>)> = Vec::with_capacity(4);
    // No scenario value is below 0: a contract never loses more than its
    // value, `⌈V_0 · contract_size · 2^16⌉` (rounded against the long).
    let cs = i64::try_from(opt.contract_size).map_err(|_| RiskError::Overflow)?;
    let value_bits = g.value.checked_mul_int(cs)?.to_bits();
    let least =
        i64::try_from((-value_bits) >> (FRAC_BITS - CHANGE_FRAC_BITS)).map_err(|_| RiskError::Overflow)?;
    for (slot, sc) in changes.iter_mut().zip(grid.scenarios.iter()) {
        let s_k = oracle.checked_mul_floor(Fixed::ONE.checked_add(sc.price_shock)?)?;
        let vol_k = if sc.vol_shock.is_zero() {
            vol
        } else {
            vol.checked_add(sc.vol_shock.checked_mul_floor(vol_scale)?)?.max(vol_floor)
        };
        let vt = match vols.iter().find(|(v, _)| *v == vol_k) {
            Some((_, vt)) => *vt,
            None => {
                let vt = terms.vol_terms(vol_k)?;
                vols.push((vol_k, vt));
                vt
            }
        };
        let v_k = terms.value(s_k, vt.as_ref())?;
        *slot = contract_change(v_k.checked_sub(g.value)?, opt.contract_size)?.max(least);
    }
    Ok(RiskArray {
        computed_at: now,
        grid_id: grid.id,
        scenario_count: u16::try_from(grid.len()).map_err(|_| RiskError::CapacityExceeded)?,
        format: ARRAY_FORMAT,
        spot: oracle,
        vol,
        value: g.value,
        delta: g.delta,
        gamma: g.gamma,
        vega: g.vega,
        theta: g.theta,
        changes,
    })
}

/// What portfolio health reads of an array, borrowed: the program reads a
/// stored array in place (no copy of its 40 changes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArrayView<'a> {
    /// [`RiskGrid::id`] of its grid.
    pub grid_id: u32,
    /// Scenarios filled.
    pub scenario_count: u16,
    /// Oracle price it was computed at.
    pub spot: Fixed,
    /// Model value per underlying native unit.
    pub value: Fixed,
    /// ∂V/∂S.
    pub delta: Fixed,
    /// `c_k` (one contract's change, 2^-16 quote native); the first
    /// `scenario_count` are read.
    pub changes: &'a [i64],
}

/// `⌊dv · contract_size · 2^16⌋` for a value change `dv` per underlying
/// native unit: one contract's change in the stored units (exact product,
/// one rounding).
fn contract_change(dv: Fixed, contract_size: u64) -> RiskResult<i64> {
    let cs = i64::try_from(contract_size).map_err(|_| RiskError::Overflow)?;
    let per_contract = dv.checked_mul_int(cs)?;
    // Fixed has FRAC_BITS fractional bits: an arithmetic shift floors.
    i64::try_from(per_contract.to_bits() >> (FRAC_BITS - CHANGE_FRAC_BITS)).map_err(|_| RiskError::Overflow)
}

/// A stored change as a [`Fixed`] amount of quote native per contract (exact).
pub fn change_as_fixed(c_k: i64) -> Fixed {
    Fixed::from_bits(i128::from(c_k) << (FRAC_BITS - CHANGE_FRAC_BITS))
}

impl RiskArray {
    /// Whether the array may be used at `now` with the oracle at `oracle`:
    /// age ≤ `max_age_secs`, `|oracle − spot| < max_drift·spot` (one
    /// multiply), computed on `grid` ([`ArrayHeader::freshness`]).
    pub fn freshness(
        &self,
        now: i64,
        oracle: Fixed,
        grid: &RiskGrid,
        max_age_secs: u64,
        max_drift: Fixed,
    ) -> RiskResult<Freshness> {
        self.header().freshness(now, oracle, (grid.id, grid.len()), max_age_secs, max_drift)
    }

    /// What portfolio health reads.
    pub fn view(&self) -> ArrayView<'_> {
        ArrayView {
            grid_id: self.grid_id,
            scenario_count: self.scenario_count,
            spot: self.spot,
            value: self.value,
            delta: self.delta,
            changes: &self.changes,
        }
    }

    /// The fields freshness reads.
    pub fn header(&self) -> ArrayHeader {
        ArrayHeader {
            computed_at: self.computed_at,
            grid_id: self.grid_id,
            scenario_count: self.scenario_count,
            format: self.format,
            spot: self.spot,
        }
    }

    /// `c_k` (2^-16 quote native per contract) of scenario `k`.
    fn change(&self, k: usize) -> RiskResult<i64> {
        if k >= usize::from(self.scenario_count) {
            return Err(RiskError::Domain);
        }
        self.changes.get(k).copied().ok_or(RiskError::Domain)
    }

    /// Model value of one contract of `contract_size` in scenario `k`:
    /// `value·contract_size + c_k` (quote native, rounded down, ≥ 0).
    pub fn contract_value(&self, k: usize, contract_size: u64) -> RiskResult<Fixed> {
        let base = self.value.checked_mul(Fixed::from_u64(contract_size), Rounding::Floor)?;
        Ok(base.checked_add(change_as_fixed(self.change(k)?))?.positive_part())
    }

    /// Adds the P&L of holding `contracts` (signed) in every scenario to
    /// `acc` (quote native): `⌊contracts · c_k⌋` per scenario (to 2^-16), with
    /// `c_k + 1` (2^-16 quote native) when short. The reference of the
    /// health path (`portfolio_book`, which multiplies whole contract
    /// counts in 64-bit integers and gets the same sums).
    pub fn add_position_pnl(&self, contracts: Fixed, acc: &mut [Fixed]) -> RiskResult<()> {
        let count = usize::from(self.scenario_count);
        if acc.len() < count {
            return Err(RiskError::CapacityExceeded);
        }
        if contracts.is_zero() {
            return Ok(());
        }
        let bump = i64::from(contracts.is_negative());
        // Floored to the changes' own 2^-16 (health sums in those units).
        let unit_mask = !((1i128 << (FRAC_BITS - CHANGE_FRAC_BITS)) - 1);
        for (a, c) in acc.iter_mut().zip(self.changes.iter()).take(count) {
            let c = change_as_fixed(c.checked_add(bump).ok_or(RiskError::Overflow)?);
            let p = contracts.checked_mul_floor(c)?.to_bits() & unit_mask;
            *a = a.checked_add(Fixed::from_bits(p))?;
        }
        Ok(())
    }

    /// The stored form (layout in the module docs).
    pub fn to_bytes(&self) -> [u8; RISK_ARRAY_BYTES] {
        let mut out = [0u8; RISK_ARRAY_BYTES];
        let mut w = Writer { buf: &mut out, at: 0 };
        w.put(&self.computed_at.to_le_bytes());
        w.put(&self.grid_id.to_le_bytes());
        w.put(&self.scenario_count.to_le_bytes());
        w.put(&self.format.to_le_bytes());
        for f in [self.spot, self.vol, self.value, self.delta, self.gamma, self.vega, self.theta] {
            w.put(&f.to_le_bytes());
        }
        for c in self.changes {
            w.put(&c.to_le_bytes());
        }
        out
    }

    /// Reads the stored form; errors if the scenario count exceeds the capacity.
    pub fn from_bytes(b: &[u8; RISK_ARRAY_BYTES]) -> RiskResult<RiskArray> {
        let mut r = Reader { buf: b, at: 0 };
        let computed_at = i64::from_le_bytes(r.take()?);
        let grid_id = u32::from_le_bytes(r.take()?);
        let scenario_count = u16::from_le_bytes(r.take()?);
        let format = u16::from_le_bytes(r.take()?);
        if usize::from(scenario_count) > RISK_ARRAY_SCENARIOS {
            return Err(RiskError::CapacityExceeded);
        }
        let mut f = || r.take().map(Fixed::from_le_bytes);
        let (spot, vol, value, delta, gamma, vega, theta) = (f()?, f()?, f()?, f()?, f()?, f()?, f()?);
        let mut changes = [0i64; RISK_ARRAY_SCENARIOS];
        for c in changes.iter_mut() {
            *c = i64::from_le_bytes(r.take()?);
        }
        Ok(RiskArray {
            computed_at,
            grid_id,
            scenario_count,
            format,
            spot,
            vol,
            value,
            delta,
            gamma,
            vega,
            theta,
            changes,
        })
    }
}

struct Writer<'a> {
    buf: &'a mut [u8],
    at: usize,
}

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) {
        let end = self.at + bytes.len();
        if let Some(dst) = self.buf.get_mut(self.at..end) {
            dst.copy_from_slice(bytes);
        }
        self.at = end;
    }
}

struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> RiskResult<[u8; N]> {
        let end = self.at.checked_add(N).ok_or(RiskError::Overflow)?;
        let src = self.buf.get(self.at..end).ok_or(RiskError::CapacityExceeded)?;
        self.at = end;
        src.try_into().map_err(|_| RiskError::CapacityExceeded)
    }
}

#[cfg(test)]
#[path = "risk_array_tests.rs"]
mod tests;
