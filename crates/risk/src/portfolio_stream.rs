//! Portfolio-mode health of one type summed position by position, without
//! a [`HealthCache`](crate::health::HealthCache): what the program's
//! risk checks need (Init alone, each side of a trade before and after its
//! fill). Positions are folded into their book as they are valued; only a
//! token's few sums and each book's are kept (no position, no risk array),
//! so two such accounts of 16 + 16 positions fit the on-chain heap where
//! two caches do not. The stream sums linear health on the way
//! ([`PortfolioStream::linear_health`]): one pass values an account in both
//! modes.
//!
//! Positions come in as legs, the few numbers a book needs
//! ([`TokenLeg`], [`DerivativeLeg`]): the program computes them on its
//! Init-only path and reads option arrays in place; [`PortfolioStream::add_token`]
//! and [`PortfolioStream::add_derivative`] take them from a `TokenInfo` /
//! `DerivativeInfo` instead.
//!
//! The result is the cache's ([`super::portfolio_health_with_arrays`]) bit
//! for bit: the same legs, products and roundings, summed in another order
//! (sums of `Fixed` are exact), with
//! - a token netted when its underlying holds an open derivative position
//!   (the program's rule, [`PortfolioStream::add_token_leg`]);
//! - one derivative position optionally left out of the stream and given
//!   to [`PortfolioStream::health_of`] instead, so one stream values an
//!   account before and after a fill of that position.

use super::book::{haircut_scale, leg_array, token_haircut, Book, Legs, OptionLegInput};
use super::scan::{OptionLeg, ScenarioPnl};
use super::{PortfolioParams, PreparedGrid};
use crate::error::{RiskError, RiskResult};
use crate::fixed::Fixed;
use crate::health::{DerivativeInfo, HealthType, PerType, TokenInfo};
use crate::options::risk_array::RiskArray;
use alloc::vec::Vec;
use core::cell::OnceCell;

/// A token position as a book needs it, for the stream's health type.
#[derive(Clone, Copy, Debug)]
pub struct TokenLeg {
    /// Its book (on-chain: the token's own index).
    pub underlying: u16,
    /// Native balance (deposit > 0).
    pub balance: Fixed,
    /// Oracle price.
    pub oracle: Fixed,
    /// Value at the biased price of its side (netted).
    pub unweighted: Fixed,
    /// Weighted contribution (not netted; linear mode).
    pub contribution: Fixed,
    /// `1 − asset weight` of a deposit, `liability weight − 1` of a borrow.
    pub haircut: Fixed,
}

/// A derivative position as a book needs it, for the stream's health type.
#[derive(Clone, Copy, Debug)]
pub struct DerivativeLeg<'a> {
    /// Its book.
    pub underlying: u16,
    /// Signed underlying native units.
    pub base: Fixed,
    /// Oracle price (a linear leg's notional).
    pub oracle: Fixed,
    /// PnL weighted and capped (`DerivativeInfo::weighted_pnl`).
    pub weighted_pnl: Fixed,
    /// What linear mode charges it (`DerivativeInfo::requirement`).
    pub requirement: Fixed,
    /// An option's array and count (`None`: a perpetual or a future).
    pub option: Option<OptionLegInput<'a>>,
}

/// A token's sums, folded into its underlying's book only if that book
/// holds an open position.
struct TokenSums {
    underlying: u16,
    balance: Fixed,
    oracle: Fixed,
    unweighted: Fixed,
    contribution: Fixed,
    haircut: Fixed,
}

/// A derivative book and whether it holds an open position.
struct StreamBook {
    book: Book,
    open: bool,
}

/// Portfolio health of one type, built position by position (module docs).
pub struct PortfolioStream {
    params: PortfolioParams,
    /// The prepared grid, built on first use: a check that linear Init
    /// decides never builds it (≈ 8,000 CU on-chain).
    grid: OnceCell<PreparedGrid>,
    /// Its id when known (no hash: [`PreparedGrid::with_known_id`]).
    grid_id: Option<u32>,
    /// Its scenario count.
    scenarios: usize,
    ht: HealthType,
    /// Σ derivatives' weighted PnL.
    pnl: Fixed,
    /// Σ tokens' and derivatives' linear contributions.
    linear: Fixed,
    tokens: Vec<TokenSums>,
    books: Vec<StreamBook>,
}

/// A derivative position and its option's risk array (`None`: a perp or
/// future, or an option whose array is computed now from its terms).
pub type Position<'a> = (&'a DerivativeInfo, Option<&'a RiskArray>);

impl PortfolioStream {
    /// An empty stream for `ht` (validates `params`), with room for
    /// `tokens` token and `derivatives` derivative positions.
    pub fn new(
        params: PortfolioParams,
        ht: HealthType,
        tokens: usize,
        derivatives: usize,
    ) -> RiskResult<Self> {
        let grid = PreparedGrid::new(&params)?;
        let scenarios = grid.grid().len();
        Ok(PortfolioStream::with_grid(params, OnceCell::from(grid), None, scenarios, ht, tokens, derivatives))
    }

    /// [`PortfolioStream::new`] for a grid whose id and scenario count are
    /// known (the program's stored ones): the grid is built, without its
    /// hash ([`PreparedGrid::with_known_id`]), only if a book is valued.
    pub fn with_known_grid(
        params: PortfolioParams,
        (grid_id, grid_len): (u32, usize),
        ht: HealthType,
        tokens: usize,
        derivatives: usize,
    ) -> RiskResult<Self> {
        Ok(PortfolioStream::with_grid(
            params,
            OnceCell::new(),
            Some(grid_id),
            grid_len,
            ht,
            tokens,
            derivatives,
        ))
    }

    /// [`PortfolioStream::with_known_grid`] given a grid another stream of
    /// the same instruction built ([`PortfolioStream::into_grid`]; a trade's
    /// two sides build it once). Refused unless it is the grid of `params`
    /// with the id and scenario count given.
    pub fn with_prepared_grid(
        params: PortfolioParams,
        (grid_id, grid_len): (u32, usize),
        grid: PreparedGrid,
        ht: HealthType,
        tokens: usize,
        derivatives: usize,
    ) -> RiskResult<Self> {
        if grid.grid().id() != grid_id || grid.grid().len() != grid_len {
            return Err(RiskError::InvalidParameter);
        }
        Ok(PortfolioStream::with_grid(
            params,
            OnceCell::from(grid),
            Some(grid_id),
            grid_len,
            ht,
            tokens,
            derivatives,
        ))
    }

    /// The prepared grid if one was built (for the instruction's next stream).
    pub fn into_grid(self) -> Option<PreparedGrid> {
        self.grid.into_inner()
    }

    fn with_grid(
        params: PortfolioParams,
        grid: OnceCell<PreparedGrid>,
        grid_id: Option<u32>,
        scenarios: usize,
        ht: HealthType,
        tokens: usize,
        derivatives: usize,
    ) -> Self {
        PortfolioStream {
            params,
            grid,
            grid_id,
            scenarios,
            ht,
            pnl: Fixed::ZERO,
            linear: Fixed::ZERO,
            tokens: Vec::with_capacity(tokens),
            books: Vec::with_capacity(derivatives),
        }
    }

    /// The prepared grid (built now if not yet; refused unless it has the
    /// scenario count the stream was given).
    fn prepared(&self) -> RiskResult<&PreparedGrid> {
        if let Some(g) = self.grid.get() {
            return Ok(g);
        }
        let g = match self.grid_id {
            Some(id) => PreparedGrid::with_known_id(&self.params, id)?,
            None => PreparedGrid::new(&self.params)?,
        };
        if g.grid().len() != self.scenarios {
            return Err(RiskError::InvalidParameter);
        }
        Ok(self.grid.get_or_init(|| g))
    }

    /// A token position, netted on `underlying` (its own index on-chain)
    /// when a derivative position there is open.
    pub fn add_token(&mut self, t: &TokenInfo, underlying: u16) -> RiskResult<()> {
        let ht = self.ht;
        self.add_token_leg(TokenLeg {
            underlying,
            balance: t.balance,
            oracle: t.prices.oracle,
            unweighted: t.unweighted_value(ht)?,
            contribution: t.contribution(ht)?,
            haircut: token_haircut(t, ht)?,
        })
    }

    /// [`PortfolioStream::add_token`] from its leg: at most one token per
    /// underlying (as on-chain: one position per bank).
    pub fn add_token_leg(&mut self, t: TokenLeg) -> RiskResult<()> {
        // The program's stream (one position per bank) cannot break it; a
        // second token on an underlying would count at its contribution.
        debug_assert!(
            self.tokens.iter().all(|s| s.underlying != t.underlying),
            "two tokens on one underlying"
        );
        self.linear = self.linear.checked_add(t.contribution)?;
        self.tokens.push(TokenSums {
            underlying: t.underlying,
            balance: t.balance,
            oracle: t.oracle,
            unweighted: t.unweighted,
            contribution: t.contribution,
            haircut: t.haircut,
        });
        Ok(())
    }

    /// A derivative position (an option with its array: see [`Position`]).
    pub fn add_derivative(&mut self, p: Position) -> RiskResult<()> {
        let mut computed = None;
        let leg = self.leg_of(p, &mut computed)?;
        self.add_leg(&leg)
    }

    /// [`PortfolioStream::add_derivative`] from its leg.
    pub fn add_leg(&mut self, d: &DerivativeLeg) -> RiskResult<()> {
        self.pnl = self.pnl.checked_add(d.weighted_pnl)?;
        self.linear = self.linear.checked_add(d.weighted_pnl.checked_sub(d.requirement)?)?;
        let charge = self.charge(d.requirement);
        let scenarios = self.scenarios;
        let i = match self.books.iter().position(|b| b.book.legs.underlying == d.underlying) {
            Some(i) => i,
            None => {
                self.books.push(StreamBook { book: Book::new(d.underlying), open: false });
                self.books.len() - 1
            }
        };
        let b = self.books.get_mut(i).ok_or(RiskError::CapacityExceeded)?;
        b.open |= !d.base.is_zero();
        match &d.option {
            Some(o) => b.book.add_option(d.base, o, scenarios, charge),
            None => b.book.legs.add_linear(d.base, d.oracle, charge),
        }
    }

    /// The leg of a valued position (its array computed now into
    /// `computed` if none is given; refused unless on the grid).
    fn leg_of<'a>(
        &self,
        (d, array): Position<'a>,
        computed: &'a mut Option<RiskArray>,
    ) -> RiskResult<DerivativeLeg<'a>> {
        let array = leg_array(d, array, self.prepared()?.grid(), computed)?;
        Ok(DerivativeLeg {
            underlying: d.underlying,
            base: d.base,
            oracle: d.prices.oracle,
            weighted_pnl: d.weighted_pnl(self.ht)?,
            requirement: d.requirement(self.ht)?,
            option: array.map(|a| OptionLegInput::of(d, a)).transpose()?,
        })
    }

    /// A linear charge for the stream's type (0 for the others).
    fn charge(&self, requirement: Fixed) -> PerType<Fixed> {
        let mut c = PerType::splat(Fixed::ZERO);
        c.set(self.ht, requirement);
        c
    }

    /// Health with `extra` (a position left out of the stream) added.
    pub fn health(&self, extra: Option<Position>) -> RiskResult<Fixed> {
        match extra {
            None => self.common(None),
            Some(p) => {
                let mut computed = None;
                let leg = self.leg_of(p, &mut computed)?;
                self.common(Some(leg.underlying))?.checked_add(self.own(&leg)?)
            }
        }
    }

    /// [`PortfolioStream::health`] with `was` and with `now`, two states of
    /// the position left out (a fill): the other underlyings' books are
    /// charged once.
    pub fn health_around(&self, was: Position, now: Position) -> RiskResult<(Fixed, Fixed)> {
        let u = was.0.underlying;
        if now.0.underlying != u {
            return Err(RiskError::InvalidParameter);
        }
        let common = self.common(Some(u))?;
        let (mut c1, mut c2) = (None, None);
        let (was, now) = (self.leg_of(was, &mut c1)?, self.leg_of(now, &mut c2)?);
        Ok((common.checked_add(self.own(&was)?)?, common.checked_add(self.own(&now)?)?))
    }

    /// Linear-mode health of the streamed positions: each token's and
    /// derivative's contribution, summed while streaming.
    pub fn linear_health(&self) -> Fixed {
        self.linear
    }

    /// [`PortfolioStream::health`] of a position left out, in two parts
    /// (so a fill's two states share the first): everything but the
    /// underlying `u` of the position, then `u`'s token and book with the
    /// position in it and its PnL ([`PortfolioStream::health_of`]).
    pub fn health_except(&self, u: u16) -> RiskResult<Fixed> {
        self.common(Some(u))
    }

    /// See [`PortfolioStream::health_except`].
    pub fn health_of(&self, leg: &DerivativeLeg) -> RiskResult<Fixed> {
        self.own(leg)
    }

    /// The streamed derivatives' weighted PnL, the tokens and the books of
    /// every underlying but `skip` (whose token and book [`Self::own`]
    /// values with the position left out).
    fn common(&self, skip: Option<u16>) -> RiskResult<Fixed> {
        let mut h = self.pnl;
        // Each open book nets its token (its unweighted value counted, its
        // leg in the book: one search per open book); every other token
        // counts its contribution.
        let mut netted = alloc::vec![false; self.tokens.len()];
        for b in self.books.iter().filter(|b| Some(b.book.legs.underlying) != skip) {
            let u = b.book.legs.underlying;
            let i = if b.open { self.tokens.iter().position(|t| t.underlying == u) } else { None };
            let token = i.and_then(|i| self.tokens.get(i));
            if let (Some(n), Some(t)) = (i.and_then(|i| netted.get_mut(i)), token) {
                *n = true;
                h = h.checked_add(t.unweighted)?;
            }
            h = h.checked_sub(self.requirement(b.book.legs, &b.book.option_pnl, None, token)?)?;
        }
        for (t, _) in self.tokens.iter().zip(&netted).filter(|(t, n)| !**n && Some(t.underlying) != skip) {
            h = h.checked_add(t.contribution)?;
        }
        Ok(h)
    }

    /// The underlying of `extra`: its token, its book with `extra` in it,
    /// and `extra`'s weighted PnL.
    fn own(&self, extra: &DerivativeLeg) -> RiskResult<Fixed> {
        let u = extra.underlying;
        let book = self.books.iter().find(|b| b.book.legs.underlying == u);
        let open = book.is_some_and(|b| b.open) || !extra.base.is_zero();
        let token = self.token_of(u);
        let mut h = extra.weighted_pnl;
        if let Some(t) = token {
            h = h.checked_add(if open { t.unweighted } else { t.contribution })?;
        }
        let token = if open { token } else { None };
        let r = match book {
            Some(b) => self.requirement(b.book.legs, &b.book.option_pnl, Some(extra), token)?,
            // A book of its own (an option's is scanned over every scenario).
            None => self.requirement(Book::new(u).legs, &ScenarioPnl::default(), Some(extra), token)?,
        };
        h.checked_sub(r)
    }

    /// The token on underlying `u`, if streamed.
    fn token_of(&self, u: u16) -> Option<&TokenSums> {
        self.tokens.iter().find(|t| t.underlying == u)
    }

    /// The charged requirement of a book of `legs` with the options' P&L
    /// `option_pnl`, plus `token` (given when the book is open: netted)
    /// and `extra` if given.
    fn requirement(
        &self,
        mut legs: Legs,
        option_pnl: &ScenarioPnl,
        extra: Option<&DerivativeLeg>,
        token: Option<&TokenSums>,
    ) -> RiskResult<Fixed> {
        let g = self.prepared()?;
        if let Some(t) = token {
            let charge = self.charge(t.unweighted.checked_sub(t.contribution)?);
            legs.add_linear(t.balance, t.oracle, charge)?;
            // A scale of 0 changes nothing (scales only grow from 0).
            let scale = haircut_scale(t.haircut, g, self.ht)?;
            if !scale.is_zero() {
                legs.add_haircut_scale(self.charge(scale));
            }
        }
        let mut leg = None;
        if let Some(d) = extra {
            let charge = self.charge(d.requirement);
            match &d.option {
                Some(o) => {
                    legs.add_option_terms(d.base, o, charge)?;
                    leg = Some(OptionLeg::new(&o.array, o.contracts)?);
                }
                None => legs.add_linear(d.base, d.oracle, charge)?,
            }
        }
        let worst = legs.worst(g, option_pnl, leg)?;
        legs.charged(&worst, &self.params, self.ht)
    }
}
