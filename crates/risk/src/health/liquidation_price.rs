//! Liquidation price of one token: the oracle price at which the account's
//! Maint health first goes negative, every other price held fixed
//! ([`HealthCache::liquidation_price`]).
//!
//! # What moves with the token's price
//! - the token's own position (deposit or borrow);
//! - every *live* derivative position on that token as underlying:
//!   [`DerivativeInfo::underlying`] equal to the token index (the program's
//!   convention: a market's underlying id is its underlying bank's token
//!   index, and `add_market` ties the market to that bank's oracle, so both
//!   read one price). "Live" means a positive Maint rate: `add_market`
//!   requires one, while a settled future is valued at its fixed settlement
//!   price with all rates 0 and does not move.
//!
//! Each moving position has all its prices shifted by the same amount
//! `Δ = P − P₀` (`P₀` the current price, [`HealthCache::liquidation_price`]
//! says which): oracle, Maint asset price `oracle − k·conf` and Maint
//! liability price `oracle + k·conf` each become `max(x + Δ, 0)`. The
//! confidence band keeps its width in quote units and moves with the price.
//! Maint uses no stable price (it is an Init-only bias, [`crate::price`]),
//! so the stable price plays no part; Maint weights are not size-scaled, so
//! the weights do not move either. Derivatives are rebuilt at the shifted
//! prices ([`DerivativeInfo::new`], keeping their PnL limits): value at the
//! asset price for longs and the liability price for shorts, PnL weighed,
//! requirement `|base| · liability price · rate`, the rate grown by the size
//! premium (which depends on the size only, not the price). Options are
//! re-priced by Black–Scholes at the shifted prices (Rust only; the program
//! lists no option markets and the TypeScript port has none).
//!
//! # Shape of health in the price, and the search
//! In linear margin mode, Maint health as a function of `P` is, up to the
//! engine's roundings, a sum of:
//! - deposits and long derivative values `c · max(P − a, 0)`: convex, with a
//!   kink where the asset price reaches 0 (`P = P₀ − asset price now`);
//! - borrows, short values and requirements: linear in the liability price;
//! - weighed PnL: concave in the PnL (slope 1 below 0, `w ≤ 1` above).
//!
//! So between two consecutive asset-price kinks health is concave, and a
//! concave function that is ≥ 0 at one end of an interval crosses zero inside
//! it at most once, and only if it is < 0 at the other end. The search
//! therefore walks away from `P₀` on each side, segment by segment:
//! - **down**: the segment ends are the kinks in `(1 ulp, P₀)` in decreasing
//!   order, then 1 ulp (`2^-48`, the lowest price);
//! - **up**: one segment, ending at `P₀ · 2^16`
//!   ([`LIQUIDATION_PRICE_MAX_RISE_BITS`]; saturating at [`Fixed::MAX`]): a
//!   liquidation more than a 65,536-fold rise away is reported as none;
//!
//! and at the first end where health is negative it bisects between that end
//! and the previous (non-negative) one on the raw bits of the price:
//! `m = u + (s − u) / 2` with `s` the safe and `u` the liquidating bound and
//! the division truncating toward zero (the midpoint rounded toward the
//! liquidating end), `u = m` if health at `m` is negative, else `s = m`,
//! until the bounds are 1 ulp apart — at most 127 halvings per side. Exactly
//! these prices are evaluated, in this order, which is what the TypeScript
//! port (`app/src/liquidationPrice.ts`) replicates bit for bit.
//!
//! Health is the engine's own ([`HealthCache::health`] of a repriced copy),
//! rounded against the user, so the result is exactly the price at which the
//! program's check `Maint < 0` would first pass, and never more than 1 ulp
//! on the unsafe side of the exact-arithmetic price (usually on the safe side). In portfolio mode the health is the portfolio one
//! and the result still satisfies the boundary property, but the "first
//! crossing" guarantee relies on the linear-mode shape (likewise with long
//! options, whose value is convex between kinks).
//!
//! Errors from valuing the account at a searched price (an overflow at a
//! very high price for an enormous account) are returned, not hidden.

use crate::error::{RiskError, RiskResult};
use crate::fixed::Fixed;
use crate::health::{DerivativeInfo, DerivativeKind, HealthCache, HealthType};
use crate::price::BiasedPrices;
use alloc::vec::Vec;

/// The upward search ends at the current price times `2^LIQUIDATION_PRICE_MAX_RISE_BITS`
/// (65,536): beyond that, [`HealthCache::liquidation_price`] reports none.
pub const LIQUIDATION_PRICE_MAX_RISE_BITS: u32 = 16;

impl HealthCache {
    /// The oracle price of `token_index` (quote native per native unit, raw
    /// [`Fixed`]) at which this account becomes liquidatable (Maint health
    /// < 0), every other price held fixed ([module
    /// docs](crate::health::liquidation_price): what moves and how, and the
    /// search).
    ///
    /// - `Some(P₀)`, the current price, if the account is liquidatable already.
    /// - Otherwise the liquidating price nearest to `P₀`: the first one going
    ///   down (for a net deposit, the price falling liquidates) or going up
    ///   (for a net borrow, the price rising), whichever is closer (a tie
    ///   goes to the lower price). A hedged account (a deposit and a short
    ///   perpetual) can be liquidated either way; the nearer one is reported.
    /// - `None` if no price in `(0, P₀ · 2^16]` liquidates (the token only
    ///   helps, or the account stays healthy at any price).
    ///
    /// The returned `P ≠ P₀` satisfies: health at `P` is < 0 and health one
    /// ulp back toward `P₀` is ≥ 0. Engine health rounds against the user
    /// (never above exact arithmetic), so `P` is at most 1 ulp on the unsafe
    /// side of the exact-arithmetic price (below it for a long, above it for
    /// a short), and usually on the safe side. To display it, round a long's
    /// price up and a short's down.
    ///
    /// `P₀` is the token position's oracle price or, for a token held only
    /// through derivatives, the first such position's. Errors:
    /// [`RiskError::TokenNotFound`] if nothing in the account moves with the
    /// token (no position, or an asset the program valued at 0 for lack of a
    /// usable price), [`RiskError::InvalidPrice`] if `P₀ ≤ 0`.
    ///
    /// # Worked example
    /// 10 SOL deposited, 1,000 USDC borrowed; SOL at $150.00 ± $0.10 (k = 1),
    /// 9 decimals, USDC 6 decimals at $1 with weight 1: the SOL oracle price
    /// is 0.15 µUSDC per lamport, its Maint asset price 0.1499, Maint asset
    /// weight 0.9. Maint health now: 10^10 · 0.1499 · 0.9 − 10^9 =
    /// 349,100,000 µUSDC (349.10 USDC). It reaches 0 when
    /// `10^10 · (P − 0.0001) · 0.9 = 10^9`, i.e. `P = 1/9 + 0.0001 =
    /// 0.111211…` µUSDC per lamport: **$111.2111 per SOL** (10 SOL ×
    /// ($111.2111 − $0.10) × 0.9 = $1,000). In raw bits (`2^-48` units)
    /// that root is `2^48/9 + 2^48/10^4 = 31,303,144,909,966.18`; the engine
    /// returns its ceiling, 31,303,144,909,967 (health there is < 0 through
    /// the engine's roundings against the user, one ulp higher it is ≥ 0;
    /// `liquidation_price_tests::worked_example`). Borrowing 100 SOL against
    /// 20,000 USDC instead (Maint liability weight 1.1), the price rising to
    /// `2·10^10 / (1.1 · 10^11) − 0.0001 = 0.181718…` (**$181.7182**)
    /// liquidates.
    pub fn liquidation_price(&self, token_index: u16) -> RiskResult<Option<Fixed>> {
        let s = Scenario::new(self, token_index)?;
        let p0 = s.p0;
        if s.liquidatable(p0)? {
            return Ok(Some(p0));
        }
        let down = s.down_crossing()?;
        let up = s.up_crossing()?;
        Ok(match (down, up) {
            (Some(d), Some(u)) => {
                let closer_up = u.to_bits() - p0.to_bits() < p0.to_bits() - d.to_bits();
                Some(if closer_up { u } else { d })
            }
            (d, u) => d.or(u),
        })
    }

    /// Maint health with the oracle price of `token_index` at `price` and
    /// every other price fixed, valued as [`HealthCache::liquidation_price`]
    /// does (module docs): "what if SOL were at $X".
    pub fn maint_health_at_price(&self, token_index: u16, price: Fixed) -> RiskResult<Fixed> {
        Scenario::new(self, token_index)?.health(price)
    }
}

/// One token's price moving over one account.
struct Scenario<'a> {
    cache: &'a HealthCache,
    token_index: u16,
    /// The current price.
    p0: Fixed,
}

impl<'a> Scenario<'a> {
    fn new(cache: &'a HealthCache, token_index: u16) -> RiskResult<Scenario<'a>> {
        let own = cache.tokens().iter().find(|t| t.token_index == token_index).map(|t| t.prices.oracle);
        let p0 = match own {
            Some(p) => p,
            None => {
                cache
                    .derivatives()
                    .iter()
                    .find(|d| moves(d, token_index))
                    .ok_or(RiskError::TokenNotFound)?
                    .prices
                    .oracle
            }
        };
        if !p0.is_positive() {
            return Err(RiskError::InvalidPrice);
        }
        Ok(Scenario { cache, token_index, p0 })
    }

    /// Maint health at price `p` (module docs: every moving price shifted by `p − p₀`).
    fn health(&self, p: Fixed) -> RiskResult<Fixed> {
        let delta = p.checked_sub(self.p0)?;
        let mut tokens = Vec::with_capacity(self.cache.tokens().len());
        for t in self.cache.tokens() {
            let mut t = *t;
            if t.token_index == self.token_index {
                t.prices = shift(&t.prices, delta)?;
            }
            tokens.push(t);
        }
        let mut derivatives = Vec::with_capacity(self.cache.derivatives().len());
        for d in self.cache.derivatives() {
            if !moves(d, self.token_index) {
                derivatives.push(*d);
                continue;
            }
            let moved = DerivativeInfo::new(
                d.market_index,
                d.underlying,
                d.kind,
                d.base,
                d.cost_basis,
                d.unsettled_funding,
                shift(&d.prices, delta)?,
                d.rates,
            )?
            .with_pnl_limits(*d.pnl_limits())?;
            derivatives.push(moved);
        }
        HealthCache::new(tokens, derivatives, self.cache.mode().clone())?.health(HealthType::Maint)
    }

    fn liquidatable(&self, p: Fixed) -> RiskResult<bool> {
        Ok(self.health(p)?.is_negative())
    }

    /// Prices in `(1 ulp, p₀)` where a moving asset price reaches 0 (the
    /// convex kinks), in decreasing order, then 1 ulp.
    fn down_ends(&self) -> RiskResult<Vec<Fixed>> {
        let p0 = self.p0;
        let mut ends = Vec::new();
        let mut kink = |asset_price: Fixed| -> RiskResult<()> {
            let k = p0.checked_sub(asset_price)?;
            if k > Fixed::DELTA && k < p0 {
                ends.push(k);
            }
            Ok(())
        };
        for t in self.cache.tokens() {
            if t.token_index == self.token_index && t.balance.is_positive() {
                kink(t.prices.spot_asset)?;
            }
        }
        for d in self.cache.derivatives() {
            let linear = matches!(d.kind, DerivativeKind::Perpetual | DerivativeKind::Future);
            if moves(d, self.token_index) && linear && d.base.is_positive() {
                kink(d.prices.spot_asset)?;
            }
        }
        ends.sort_unstable_by(|a, b| b.cmp(a));
        ends.dedup();
        ends.push(Fixed::DELTA);
        Ok(ends)
    }

    /// The first liquidating price below `p₀` (health at `p₀` is ≥ 0).
    fn down_crossing(&self) -> RiskResult<Option<Fixed>> {
        if self.p0 <= Fixed::DELTA {
            return Ok(None);
        }
        let mut safe = self.p0;
        for end in self.down_ends()? {
            if self.liquidatable(end)? {
                return self.bisect(safe, end).map(Some);
            }
            safe = end;
        }
        Ok(None)
    }

    /// The first liquidating price above `p₀`, up to `p₀ · 2^16`.
    fn up_crossing(&self) -> RiskResult<Option<Fixed>> {
        let top = Fixed::from_bits(self.p0.to_bits().saturating_mul(1 << LIQUIDATION_PRICE_MAX_RISE_BITS));
        if top > self.p0 && self.liquidatable(top)? {
            return self.bisect(self.p0, top).map(Some);
        }
        Ok(None)
    }

    /// Bisection on the raw bits between a safe price `s` (health ≥ 0) and a
    /// liquidating one `u` (< 0), either order: the liquidating bound once
    /// they are 1 ulp apart (module docs; at most 127 steps).
    fn bisect(&self, s: Fixed, u: Fixed) -> RiskResult<Fixed> {
        let (mut s, mut u) = (s.to_bits(), u.to_bits());
        while s.abs_diff(u) > 1 {
            let m = u + (s - u) / 2;
            if self.liquidatable(Fixed::from_bits(m))? {
                u = m;
            } else {
                s = m;
            }
        }
        Ok(Fixed::from_bits(u))
    }
}

/// A live derivative position on `token_index` (module docs).
fn moves(d: &DerivativeInfo, token_index: u16) -> bool {
    d.underlying == token_index && d.rates.maint.is_positive()
}

/// Every price shifted by `delta`, floored at 0; Init prices set to the Maint
/// ones (only Maint is read).
fn shift(p: &BiasedPrices, delta: Fixed) -> RiskResult<BiasedPrices> {
    let s = |x: Fixed| -> RiskResult<Fixed> { Ok(x.checked_add(delta)?.positive_part()) };
    let (spot_asset, spot_liab) = (s(p.spot_asset)?, s(p.spot_liab)?);
    Ok(BiasedPrices {
        oracle: s(p.oracle)?,
        spot_asset,
        spot_liab,
        init_asset: spot_asset,
        init_liab: spot_liab,
    })
}

#[cfg(test)]
#[path = "liquidation_price_tests.rs"]
mod tests;
