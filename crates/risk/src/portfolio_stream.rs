//! Portfolio-mode health of one type summed position by position, without
//! a [`HealthCache`](crate::health::HealthCache): what the program's
//! risk checks need (Init alone, each side of a trade before and after its
//! fill). Positions are valued one at a time and folded into their book;
//! only a token's few sums and each book's are kept (no position, no risk
//! array), so two such accounts of 16 + 16 positions fit the on-chain heap
//! where two caches do not.
//!
//! The result is the cache's ([`super::portfolio_health_with_arrays`]) bit
//! for bit: the same legs, products and roundings, summed in another order
//! (sums of `Fixed` are exact), with
//! - a token netted when its underlying holds an open derivative position
//!   (the program's rule, [`PortfolioStream::add_token`]);
//! - one derivative position optionally left out of the stream and given
//!   to [`PortfolioStream::health`] instead, so one stream values an account
//!   before and after a fill of that position.

use super::book::{leg_array, per_type, token_haircut_scale, Book, Legs};
use super::scan::{contracts, OptionLeg, ScenarioPnl};
use super::{PortfolioParams, PreparedGrid};
use crate::error::{RiskError, RiskResult};
use crate::fixed::Fixed;
use crate::health::{DerivativeInfo, HealthType, PerType, TokenInfo};
use crate::options::risk_array::RiskArray;
use alloc::vec::Vec;

/// A token position's sums, folded into its underlying's book only if that
/// book holds an open position.
struct TokenLeg {
    underlying: u16,
    balance: Fixed,
    oracle: Fixed,
    /// Unweighted value (netted) and weighted contribution (not netted).
    unweighted: Fixed,
    contribution: Fixed,
    haircut_scale: PerType<Fixed>,
}

/// A derivative book and whether it holds an open position.
struct StreamBook {
    book: Book,
    open: bool,
}

/// Portfolio health of one type, built position by position (module docs).
pub struct PortfolioStream {
    params: PortfolioParams,
    grid: PreparedGrid,
    ht: HealthType,
    /// Σ derivatives' weighted PnL.
    pnl: Fixed,
    /// Σ tokens' and derivatives' linear contributions.
    linear: Fixed,
    tokens: Vec<TokenLeg>,
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
        Ok(PortfolioStream {
            params,
            grid,
            ht,
            pnl: Fixed::ZERO,
            linear: Fixed::ZERO,
            tokens: Vec::with_capacity(tokens),
            books: Vec::with_capacity(derivatives),
        })
    }

    /// A token position, netted on `underlying` (its own index on-chain)
    /// when a derivative position there is open.
    pub fn add_token(&mut self, t: &TokenInfo, underlying: u16) -> RiskResult<()> {
        let ht = self.ht;
        let unweighted = t.unweighted_value(ht)?;
        let contribution = t.contribution(ht)?;
        self.linear = self.linear.checked_add(contribution)?;
        self.tokens.push(TokenLeg {
            underlying,
            balance: t.balance,
            oracle: t.prices.oracle,
            unweighted,
            contribution,
            haircut_scale: token_haircut_scale(t, &self.grid, &[ht])?,
        });
        Ok(())
    }

    /// A derivative position (an option with its array: see [`Position`]).
    pub fn add_derivative(&mut self, (d, array): Position) -> RiskResult<()> {
        let (pnl, requirement) = (d.weighted_pnl(self.ht)?, d.requirement(self.ht)?);
        self.pnl = self.pnl.checked_add(pnl)?;
        self.linear = self.linear.checked_add(pnl.checked_sub(requirement)?)?;
        let charge = per_type(&[self.ht], |_| Ok(requirement))?;
        let scenarios = self.grid.grid().len();
        let i = match self.books.iter().position(|b| b.book.legs.underlying == d.underlying) {
            Some(i) => i,
            None => {
                self.books.push(StreamBook { book: Book::new(d.underlying), open: false });
                self.books.len() - 1
            }
        };
        let mut computed = None;
        let array = leg_array(d, array, self.grid.grid(), &mut computed)?;
        let b = self.books.get_mut(i).ok_or(RiskError::CapacityExceeded)?;
        b.open |= !d.base.is_zero();
        match array {
            Some(a) => b.book.add_option(d, a, scenarios, charge),
            None => b.book.legs.add_linear(d.base, d.prices.oracle, charge),
        }
    }

    /// Health with `extra` (a position left out of the stream) added.
    pub fn health(&self, extra: Option<Position>) -> RiskResult<Fixed> {
        match extra {
            None => self.common(None),
            Some(e) => self.common(Some(e.0.underlying))?.checked_add(self.own(e)?),
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
        Ok((common.checked_add(self.own(was)?)?, common.checked_add(self.own(now)?)?))
    }

    /// Linear-mode health of the same positions (with `extra`): each
    /// token's and derivative's contribution, summed while streaming.
    pub fn linear_health(&self, extra: Option<Position>) -> RiskResult<Fixed> {
        match extra {
            None => Ok(self.linear),
            Some((d, _)) => self.linear.checked_add(d.contribution(self.ht)?),
        }
    }

    /// [`PortfolioStream::health`] of a position `p` left out, in two parts
    /// (so a fill's two states share the first): everything but the
    /// underlying `u` of `p`, then `u`'s token and book with `p` in it and
    /// `p`'s PnL ([`PortfolioStream::health_of`]).
    pub fn health_except(&self, u: u16) -> RiskResult<Fixed> {
        self.common(Some(u))
    }

    /// See [`PortfolioStream::health_except`].
    pub fn health_of(&self, p: Position) -> RiskResult<Fixed> {
        self.own(p)
    }

    /// The streamed derivatives' weighted PnL, the tokens and the books of
    /// every underlying but `skip` (whose token and book [`Self::own`]
    /// values with the position left out).
    fn common(&self, skip: Option<u16>) -> RiskResult<Fixed> {
        let mut h = self.pnl;
        for t in self.tokens.iter().filter(|t| Some(t.underlying) != skip) {
            h = h.checked_add(if self.open(t.underlying) { t.unweighted } else { t.contribution })?;
        }
        for b in self.books.iter().filter(|b| Some(b.book.legs.underlying) != skip) {
            let open = self.open(b.book.legs.underlying);
            h = h.checked_sub(self.requirement(b.book.legs, &b.book.option_pnl, None, open)?)?;
        }
        Ok(h)
    }

    /// The underlying of `extra`: its token, its book with `extra` in it,
    /// and `extra`'s weighted PnL.
    fn own(&self, (d, a): Position) -> RiskResult<Fixed> {
        let mut computed = None;
        let a = leg_array(d, a, self.grid.grid(), &mut computed)?;
        let u = d.underlying;
        let open = self.open(u) || !d.base.is_zero();
        let mut h = d.weighted_pnl(self.ht)?;
        for t in self.tokens.iter().filter(|t| t.underlying == u) {
            h = h.checked_add(if open { t.unweighted } else { t.contribution })?;
        }
        let book = self.books.iter().find(|b| b.book.legs.underlying == u);
        let r = match book {
            Some(b) => self.requirement(b.book.legs, &b.book.option_pnl, Some((d, a)), open)?,
            // A book of its own (an option's is scanned over every scenario).
            None => self.requirement(Book::new(u).legs, &ScenarioPnl::default(), Some((d, a)), open)?,
        };
        h.checked_sub(r)
    }

    /// Whether a streamed position on `u` is open.
    fn open(&self, u: u16) -> bool {
        self.books.iter().any(|b| b.open && b.book.legs.underlying == u)
    }

    /// The charged requirement of a book of `legs` with the options' P&L
    /// `option_pnl`, plus its token if open and `extra` if given.
    fn requirement(
        &self,
        mut legs: Legs,
        option_pnl: &ScenarioPnl,
        extra: Option<(&DerivativeInfo, Option<&RiskArray>)>,
        open: bool,
    ) -> RiskResult<Fixed> {
        let ht = self.ht;
        let u = legs.underlying;
        if open {
            for t in self.tokens.iter().filter(|t| t.underlying == u) {
                let charge = per_type(&[ht], |_| t.unweighted.checked_sub(t.contribution))?;
                legs.add_linear(t.balance, t.oracle, charge)?;
                legs.add_haircut_scale(t.haircut_scale);
            }
        }
        let mut leg = None;
        if let Some((d, a)) = extra {
            let charge = per_type(&[ht], |ht| d.requirement(ht))?;
            match a {
                Some(a) => {
                    legs.add_option_terms(d, a, charge)?;
                    leg = Some(OptionLeg::new(a, contracts(d)?)?);
                }
                None => legs.add_linear(d.base, d.prices.oracle, charge)?,
            }
        }
        let worst = legs.worst(&self.grid, option_pnl, leg)?;
        Ok(legs.requirement(&worst, &self.params, ht)?.requirement)
    }
}
