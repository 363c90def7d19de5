//! Portfolio margin: every position on the same underlying (spot balances,
//! borrows, perpetuals, futures, options) nets into one book, revalued in
//! full under every scenario of the group's grid ([`RiskGrid`]: one-day
//! time decay, price × vol shocks, extended moves at reduced weight).
//!
//! For one underlying, health type T, scenario k with weight `w_k` and
//! price shock `s_k`, the book's P&L is `P_k = L'·s_k + Σ_options
//! contracts·c_k` (`L'` the linear legs' net notional `Σ qty·S` rounded to
//! a whole unit toward the loss, `c_k` the option's change per contract
//! from its risk array, [`crate::options::risk_array`]; in 2^-16 quote
//! native, every rounding against the book: [`scan`]), and
//!
//! ```text
//! worst    = max(0, max_k −P_k·w_k)
//! scenario = ⌈c_T · worst⌉ + f_T · Σ_legs |qty|·S·δ       δ = 1 for spot, perps, futures,
//!                                                         |Δ| for a long option,
//!                                                         max(|Δ|, min_delta) for a short one
//! scenario = min(scenario, Σ_legs value)                  only if every leg is long
//! linear   = Σ_legs linear charge                         (what linear mode charges them)
//! charged  = min(scenario, linear)
//! ```
//!
//! - `c_T` (`shock_scale`) scales the worst *loss*, not the shocks, so one
//!   risk array per market serves all three health types (Derive: Maint =
//!   0.8 × Init). For linear legs the two are the same. A book whose spot
//!   leg's bank haircut for `T` is wider than `c_T ×` the grid's largest
//!   move uses `haircut / largest move` instead: a token riskier than the
//!   grid assumes is charged at least its haircut when unhedged, and a
//!   hedged book, which loses little in every scenario, keeps its netting.
//! - Contingencies (`floor_rate`, Derive's naked-short and perp-notional
//!   charges) are on *delta-adjusted* notional: a hedged option is not
//!   charged as if it were its full notional, and a short option, however
//!   far out of the money, is never free (`min_delta`, the market's
//!   `short_option_min_delta`).
//! - A book of long positions only (deposits, long perps and futures, long
//!   options) cannot lose more than it is worth: its requirement is capped
//!   at its value at the oracle. In particular a long option never requires
//!   more than its premium, whatever `c_T` and the floors.
//! - `charged ≤ linear`: portfolio mode only recognises offsets, it never
//!   charges a book more than linear mode would (linear mode is the default,
//!   complete margin method), so opting in can never lower health.
//!
//! Portfolio health replaces the linear haircuts of netted positions:
//! netted tokens count at their unweighted biased value, derivatives at
//! their weighted PnL ([`crate::health::PnlLimits`]: netting changes how
//! risk is charged, not whether an unsettled profit is cash), and each
//! underlying subtracts its charged requirement. Tokens with no underlying
//! id (the quote token, collateral with no markets) keep their linear
//! weights. Hence, term by term, portfolio health ≥ linear health.
//!
//! `worst + contingency` is subadditive (a max of sums is at most the sum
//! of maxes), so a hedged book pays little more than the contingencies. The
//! caps (long-only value, linear) are not: two accounts can each be capped
//! where their union is not, which only ever means charging the union at its
//! scenario requirement.
//!
//! Cost: an option position adds `|grid|` 64-bit products (its contracts
//! times its array's changes) and 3 fixed-point ones; a spot, perp or future
//! leg one; an underlying one 64×64-bit product per distinct price shock,
//! a 64-bit compare per scenario and one product per extended move that
//! beats the worst so far, then 3 per health type ([`scan`]).
//! The host computes an option's array from its terms when none is given
//! ([`option_risk_array`]); the program passes the stored arrays. Books are
//! built one at a time (on-chain the heap never frees); the program's Init
//! checks stream positions into their books without a cache
//! ([`PortfolioStream`], bit for bit the cache's health).

use crate::error::{RiskError, RiskResult};
use crate::fixed::Fixed;
use crate::health::{DerivativeInfo, DerivativeKind, HealthCache, HealthType, MarginMode, PerType};
use crate::options::risk_array::{compute_risk_array, OptionSpec, RiskArray, RiskGrid};
use alloc::vec::Vec;

/// Most price shocks in a grid.
pub const MAX_PRICE_SHOCKS: usize = 16;
/// Most vol shocks in a grid.
pub const MAX_VOL_SHOCKS: usize = 8;

/// Scenario grid, loss scale and contingencies (set per group by the admin).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortfolioParams {
    /// Relative price moves, e.g. `[−0.15, −0.075, 0, 0.075, 0.15]` (each > −1).
    pub price_shocks: Vec<Fixed>,
    /// Absolute vol moves at the 30-day tenor, e.g. `[−0.1, 0, 0.1]`
    /// (scaled by `√(30 d / T)` per option; empty: vol flat).
    pub vol_shocks: Vec<Fixed>,
    /// Multiplier of the worst scenario loss per health type (e.g. Init
    /// 1.5, Maint 1.0, LiquidationEnd 1.25).
    pub shock_scale: PerType<Fixed>,
    /// Contingency per position as a fraction of its delta-adjusted
    /// |notional| (e.g. Init 0.02, Maint 0.01, LiquidationEnd 0.015).
    pub floor_rate: PerType<Fixed>,
}

impl PortfolioParams {
    /// Grid sizes within the caps and the risk-array capacity, non-empty,
    /// shocks > −100 %, scales ≥ 0 ordered Init ≥ LiquidationEnd ≥ Maint,
    /// floors likewise.
    pub fn validate(&self) -> RiskResult<()> {
        PreparedGrid::new(self).map(|_| ())
    }

    /// [`PortfolioParams::validate`] but the grid.
    fn check_ranges(&self) -> RiskResult<()> {
        let ordered =
            |a: &PerType<Fixed>| !a.maint.is_negative() && a.maint <= a.liq_end && a.liq_end <= a.init;
        let ok = !self.price_shocks.is_empty()
            && self.price_shocks.len() <= MAX_PRICE_SHOCKS
            && self.vol_shocks.len() <= MAX_VOL_SHOCKS
            && ordered(&self.shock_scale)
            && ordered(&self.floor_rate);
        if ok {
            Ok(())
        } else {
            Err(RiskError::InvalidParameter)
        }
    }

    /// The scenario list risk arrays are computed on.
    pub fn grid(&self) -> RiskResult<RiskGrid> {
        RiskGrid::new(&self.price_shocks, &self.vol_shocks)
    }

    /// [`PortfolioParams::grid`] with its id known ([`RiskGrid::with_known_id`]).
    pub fn grid_with_id(&self, id: u32) -> RiskResult<RiskGrid> {
        RiskGrid::with_known_id(&self.price_shocks, &self.vol_shocks, id)
    }
}

/// The grid of validated [`PortfolioParams`], built once per cache (eight
/// divisions and a hash: [`RiskGrid::new`]), with the two scenarios where a
/// book without options loses most: its P&L is `L · s_k`, so its weighted
/// loss `−L · s_k · w_k` peaks at the lowest `s_k · w_k` when long (`L > 0`)
/// and at the highest when short. Such a book is evaluated at those two
/// scenarios instead of the whole grid (the first of equal ones, as the
/// full scan picks; on the default grid the core shocks are 1/3 larger than
/// the weighted extended moves, far beyond rounding; on a lopsided grid two
/// near-equal extremes can differ by one scenario unit, 2^-16 quote native,
/// which the shortcut may miss).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreparedGrid {
    grid: RiskGrid,
    /// Scenario indices of the lowest and the highest `s_k · w_k`.
    linear_extremes: [usize; 2],
    /// The largest net notional (whole quote native units) whose linear
    /// P&L the scan keeps in 64-bit words ([`scan`]).
    narrow_notional: u128,
    /// The grid as the 64-bit scan reads it.
    narrow: scan::NarrowGrid,
    /// `⌈1 / largest |price shock|⌉`: a book's haircut per unit of that
    /// move scales a riskier token's loss (`portfolio_book::haircut_scale`).
    inverse_widest: Fixed,
    /// `shock_scale × largest |price shock|` per health type (rounded down):
    /// a haircut at most this needs no scaling, and costs no product.
    haircut_covered: PerType<Fixed>,
}

impl PreparedGrid {
    /// Validates `p` and builds its grid.
    pub fn new(p: &PortfolioParams) -> RiskResult<PreparedGrid> {
        p.check_ranges()?;
        PreparedGrid::of(p, p.grid().map_err(|_| RiskError::InvalidParameter)?)
    }

    /// [`PreparedGrid::new`] for a grid whose id is known (the program's
    /// stored id: no hash, [`RiskGrid::with_known_id`]).
    pub fn with_known_id(p: &PortfolioParams, id: u32) -> RiskResult<PreparedGrid> {
        p.check_ranges()?;
        PreparedGrid::of(p, p.grid_with_id(id).map_err(|_| RiskError::InvalidParameter)?)
    }

    fn of(p: &PortfolioParams, grid: RiskGrid) -> RiskResult<PreparedGrid> {
        let narrow = scan::NarrowGrid::new(grid.scenarios());
        let (linear_extremes, narrow_notional) = match narrow.extremes() {
            Some(x) => x,
            None => (
                linear_extremes(&grid)?,
                scan::narrow_notional(grid.scenarios().iter().map(|sc| sc.price_shock)),
            ),
        };
        let widest = p.price_shocks.iter().try_fold(Fixed::ZERO, |m, s| s.checked_abs().map(|a| m.max(a)))?;
        if !widest.is_positive() {
            return Err(RiskError::InvalidParameter);
        }
        let covered = |ht: HealthType| p.shock_scale.get(ht).checked_mul_floor(widest);
        let haircut_covered = PerType {
            init: covered(HealthType::Init)?,
            liq_end: covered(HealthType::LiquidationEnd)?,
            maint: covered(HealthType::Maint)?,
        };
        Ok(PreparedGrid {
            grid,
            linear_extremes,
            narrow_notional,
            narrow,
            inverse_widest: Fixed::ONE.checked_div_ceil(widest)?,
            haircut_covered,
        })
    }

    /// The scenario grid.
    pub fn grid(&self) -> &RiskGrid {
        &self.grid
    }
}

/// The scenario indices of the lowest and the highest `s_k · w_k` of a
/// grid (the first of equal ones), in `Fixed`: what
/// `scan::NarrowGrid::extremes` finds in 64-bit words, for grids beyond
/// them.
fn linear_extremes(grid: &RiskGrid) -> RiskResult<[usize; 2]> {
    let (mut lo, mut hi) = ((0, Fixed::ZERO), (0, Fixed::ZERO));
    for (k, sc) in grid.scenarios().iter().enumerate() {
        // A product only for the extended moves (weight < 1).
        let sw = if sc.weight == Fixed::ONE {
            sc.price_shock
        } else {
            sc.price_shock.checked_mul_floor(sc.weight)?
        };
        if sw < lo.1 {
            lo = (k, sw);
        }
        if sw > hi.1 {
            hi = (k, sw);
        }
    }
    Ok([lo.0, hi.0])
}

/// One underlying's requirement and why (what `compute_health` reports in
/// portfolio mode). Amounts in quote native, rounded up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnderlyingRequirement {
    /// Underlying id.
    pub underlying: u16,
    /// Requirement charged: `min(scenario, linear)`.
    pub requirement: Fixed,
    /// Scenario requirement: scaled worst loss + contingency (capped at the
    /// book's value if every leg is long).
    pub scenario: Fixed,
    /// What linear mode charges the same legs.
    pub linear: Fixed,
    /// Weighted loss of the worst scenario before the health-type scale (≥ 0).
    pub worst_loss: Fixed,
    /// Index of the worst scenario in the grid (`None`: no scenario loses).
    pub worst_scenario: Option<usize>,
    /// Contingency part of `scenario`.
    pub contingency: Fixed,
}

#[path = "portfolio_book.rs"]
pub(crate) mod book;
#[path = "portfolio_scan.rs"]
mod scan;
use book::{for_each_book, Book};

#[path = "portfolio_stream.rs"]
mod stream;
pub use book::OptionLegInput;
pub use stream::{DerivativeLeg, PortfolioStream, Position, TokenLeg};

/// The risk array of an option position computed now from its terms at the
/// oracle (host path: keeper, CLI, tests); `None` for perps and futures.
pub fn option_risk_array(d: &DerivativeInfo, grid: &RiskGrid) -> RiskResult<Option<RiskArray>> {
    let DerivativeKind::Option(t) = d.kind else { return Ok(None) };
    let spec = OptionSpec {
        is_call: t.is_call,
        strike: t.strike,
        expiry_ts: t.seconds_to_expiry,
        rate: t.rate,
        contract_size: d.rates.contract_size,
    };
    compute_risk_array(&spec, d.prices.oracle, t.vol, 0, grid).map(Some)
}

/// The cache's prepared grid if it was built for `p`, else `p`'s built now.
fn with_grid<T>(
    cache: &HealthCache,
    p: &PortfolioParams,
    f: impl FnOnce(&PreparedGrid) -> RiskResult<T>,
) -> RiskResult<T> {
    match (cache.mode(), cache.prepared_grid()) {
        (MarginMode::Portfolio(q), Some(g)) if q == p => f(g),
        _ => f(&PreparedGrid::new(p)?),
    }
}

/// Per-underlying requirements of a cache for `ht`. `arrays` gives the risk
/// array of option markets by market index (the program's stored arrays,
/// checked fresh by the caller); an option without one gets an array
/// computed now ([`option_risk_array`]). An array from another grid is
/// refused with [`RiskError::InvalidParameter`].
pub fn underlying_requirements(
    cache: &HealthCache,
    p: &PortfolioParams,
    ht: HealthType,
    arrays: &[(u16, RiskArray)],
) -> RiskResult<Vec<UnderlyingRequirement>> {
    with_grid(cache, p, |g| {
        let mut reqs = Vec::new();
        for_each_book(cache, g, arrays, &[ht], None, |b| {
            reqs.push(b.requirement(&b.worst(g)?, p, ht)?);
            Ok(())
        })?;
        Ok(reqs)
    })
}

/// Total charged portfolio requirement of a cache for `ht` (option arrays
/// computed now).
pub fn portfolio_requirement(cache: &HealthCache, p: &PortfolioParams, ht: HealthType) -> RiskResult<Fixed> {
    charged_requirement(cache, p, ht, &[], None)
}

/// Σ charged requirements of a cache's books for `ht` (no list kept), and,
/// with `before` given, the health before them added to it
/// ([`for_each_book`]).
fn charged_requirement(
    cache: &HealthCache,
    p: &PortfolioParams,
    ht: HealthType,
    arrays: &[(u16, RiskArray)],
    before: Option<&mut PerType<Fixed>>,
) -> RiskResult<Fixed> {
    with_grid(cache, p, |g| {
        let mut sum = Fixed::ZERO;
        for_each_book(cache, g, arrays, &[ht], before, |b| {
            sum = sum.checked_add(b.charged(&b.worst(g)?, p, ht)?)?;
            Ok(())
        })?;
        Ok(sum)
    })
}

/// Portfolio-mode health (see module docs), option arrays computed now.
pub fn portfolio_health(cache: &HealthCache, p: &PortfolioParams, ht: HealthType) -> RiskResult<Fixed> {
    portfolio_health_with_arrays(cache, p, ht, &[])
}

/// Portfolio-mode health with the given option risk arrays (by market index).
pub fn portfolio_health_with_arrays(
    cache: &HealthCache,
    p: &PortfolioParams,
    ht: HealthType,
    arrays: &[(u16, RiskArray)],
) -> RiskResult<Fixed> {
    let mut before = PerType::splat(Fixed::ZERO);
    let charged = charged_requirement(cache, p, ht, arrays, Some(&mut before))?;
    before.get(ht).checked_sub(charged)
}

/// All three health types and every book's requirements, from one pass over
/// the positions: the books' scenario P&L, exposure and worst loss do not
/// depend on the health type, only their scale, contingency rate and linear
/// cap do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortfolioReport {
    /// Health per type.
    pub health: PerType<Fixed>,
    /// Each underlying's book, in order of first appearance (netted tokens,
    /// then derivatives).
    pub books: Vec<BookReport>,
}

/// One underlying's book in a [`PortfolioReport`]: its Init requirement in
/// full and the charged requirement of every type (kept small: on-chain
/// heap).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BookReport {
    /// The Init requirement and why.
    pub init: UnderlyingRequirement,
    /// Requirement charged per health type.
    pub requirement: PerType<Fixed>,
}

/// [`PortfolioReport`] of a cache with the given option risk arrays.
pub fn portfolio_report(
    cache: &HealthCache,
    p: &PortfolioParams,
    arrays: &[(u16, RiskArray)],
) -> RiskResult<PortfolioReport> {
    with_grid(cache, p, |g| {
        // A netted token's underlying holds a derivative on-chain: at most
        // one book per derivative.
        let books = Vec::with_capacity(cache.derivatives().len());
        let mut report = PortfolioReport { health: PerType::splat(Fixed::ZERO), books };
        let mut before = PerType::splat(Fixed::ZERO);
        for_each_book(cache, g, arrays, &HealthType::ALL, Some(&mut before), |b| {
            report.books.push(b.requirements(g, p)?);
            Ok(())
        })?;
        for ht in HealthType::ALL {
            let charged =
                report.books.iter().try_fold(Fixed::ZERO, |s, r| s.checked_add(r.requirement.get(ht)))?;
            report.health.set(ht, before.get(ht).checked_sub(charged)?);
        }
        Ok(report)
    })
}

impl Book {
    /// The book's requirement per health type (one worst-loss scan).
    fn requirements(&self, g: &PreparedGrid, p: &PortfolioParams) -> RiskResult<BookReport> {
        let worst = self.worst(g)?;
        let init = self.requirement(&worst, p, HealthType::Init)?;
        let requirement = PerType {
            init: init.requirement,
            maint: self.charged(&worst, p, HealthType::Maint)?,
            liq_end: self.charged(&worst, p, HealthType::LiquidationEnd)?,
        };
        Ok(BookReport { init, requirement })
    }
}

#[cfg(test)]
#[path = "portfolio_tests.rs"]
mod tests;
