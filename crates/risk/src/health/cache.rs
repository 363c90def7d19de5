//! [`HealthCache`]: built once, adjusted incrementally, read many times.

use crate::error::{RiskError, RiskResult};
use crate::fixed::{Fixed, Rounding};
use crate::health::derivatives::DerivativeInfo;
use crate::health::{HealthBand, HealthType, PerType};
use crate::options::risk_array::RiskArray;
use crate::portfolio::{
    portfolio_health_with_arrays, portfolio_report, PortfolioParams, PortfolioReport, PreparedGrid,
};
use crate::price::BiasedPrices;
use crate::weights::TokenWeights;
use alloc::vec::Vec;
use core::cell::Cell;

/// One token position: its balance, biased prices and (size-scaled) weights.
///
/// Fields are public for reading. Change the balance through
/// [`HealthCache::adjust_token_balance`] or [`TokenInfo::with_balance`].
/// Unit values (price × weight) are computed when read: an instruction reads
/// one health type for one side, so precomputing all six would waste five
/// multiplies per position on-chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenInfo {
    /// Bank / token index (unique within a cache).
    pub token_index: u16,
    /// Signed native balance (deposit > 0, borrow < 0), already multiplied
    /// by the bank's deposit or borrow index.
    pub balance: Fixed,
    /// Biased prices of the token.
    pub prices: BiasedPrices,
    /// Underlying id for portfolio netting (`None`: never netted, e.g. the
    /// quote token or a token with no derivative markets).
    pub underlying: Option<u16>,
    /// Weights in force for this position (validated at construction).
    weights: TokenWeights,
}

impl TokenInfo {
    /// Builds a token position. `weights` should already be size-scaled
    /// ([`TokenWeights::scaled`]). Two multiplies per health type, once.
    pub fn new(
        token_index: u16,
        balance: Fixed,
        prices: BiasedPrices,
        weights: &TokenWeights,
    ) -> RiskResult<TokenInfo> {
        weights.validate()?;
        Ok(TokenInfo { token_index, balance, prices, underlying: None, weights: *weights })
    }

    /// The weights in force for this position.
    pub fn weights(&self) -> &TokenWeights {
        &self.weights
    }

    /// Marks the token as netting with derivatives on `underlying` in
    /// portfolio mode.
    pub fn with_underlying(mut self, underlying: u16) -> TokenInfo {
        self.underlying = Some(underlying);
        self
    }

    /// A copy with another balance: build one template per bank (prices and
    /// weights resolved once), then stamp out every account's position with
    /// no arithmetic at all. This is how a keeper ranks many accounts fast.
    pub fn with_balance(mut self, balance: Fixed) -> TokenInfo {
        self.balance = balance;
        self
    }

    /// Weighted value of one native unit held: `asset price_T · asset weight_T`, rounded down.
    pub fn asset_unit(&self, ht: HealthType) -> RiskResult<Fixed> {
        self.prices.asset(ht).checked_mul_floor(self.weights.asset(ht))
    }

    /// Weighted value of one native unit owed: `liab price_T · liab weight_T`, rounded up.
    pub fn liab_unit(&self, ht: HealthType) -> RiskResult<Fixed> {
        self.prices.liab(ht).checked_mul_ceil(self.weights.liab(ht))
    }

    /// Contribution of `balance` to health `ht` (one multiply, floor).
    #[inline]
    pub fn contribution_of(&self, balance: Fixed, ht: HealthType) -> RiskResult<Fixed> {
        let unit = if balance.is_negative() { self.liab_unit(ht)? } else { self.asset_unit(ht)? };
        balance.checked_mul_floor(unit)
    }

    /// Contribution of the current balance to health `ht`.
    #[inline]
    pub fn contribution(&self, ht: HealthType) -> RiskResult<Fixed> {
        self.contribution_of(self.balance, ht)
    }

    /// Unweighted value at the biased price (portfolio mode), floor.
    pub fn unweighted_value(&self, ht: HealthType) -> RiskResult<Fixed> {
        let p = self.prices.for_exposure(ht, !self.balance.is_negative());
        self.balance.checked_mul_floor(p)
    }
}

/// How derivative and netted token risk is charged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MarginMode {
    /// Per-position weights and margin rates (the default).
    Linear,
    /// Netting per underlying with a scenario grid ([`crate::portfolio`]).
    Portfolio(PortfolioParams),
}

/// Init, Maint and LiquidationEnd health at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HealthSummary {
    /// Init health.
    pub init: Fixed,
    /// Maint health.
    pub maint: Fixed,
    /// LiquidationEnd health.
    pub liq_end: Fixed,
}

impl HealthSummary {
    /// Band of these numbers.
    pub fn band(&self) -> HealthBand {
        HealthBand::from_health(self.init, self.maint)
    }
}

/// An account's positions, valued once and adjustable incrementally.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthCache {
    tokens: Vec<TokenInfo>,
    derivatives: Vec<DerivativeInfo>,
    mode: MarginMode,
    /// Option risk arrays by market index for portfolio mode (the program's
    /// stored arrays); an option without one is valued with an array
    /// computed now ([`crate::portfolio::option_risk_array`]).
    arrays: Vec<(u16, RiskArray)>,
    /// Portfolio mode: the grid, built once ([`PreparedGrid`]).
    grid: Option<PreparedGrid>,
    memo: HealthMemo,
}

/// Each health type's total once computed since the last change: an
/// instruction asks for the same total several times (a liquidation checks
/// Maint and LiquidationEnd, sizes on LiquidationEnd, bounds the bonus), and
/// one sum over 4 + 4 positions costs about 3,000 CU on-chain. Every
/// `&mut self` method of the cache clears it; the fields it sums are
/// private to this module, so nothing else can change them.
#[derive(Clone, Debug, Default)]
struct HealthMemo(Cell<PerType<Option<Fixed>>>);

/// A memo is not state: two caches with the same positions are equal
/// whatever each has computed so far.
impl PartialEq for HealthMemo {
    fn eq(&self, _: &HealthMemo) -> bool {
        true
    }
}

impl Eq for HealthMemo {}

impl HealthMemo {
    fn get(&self, ht: HealthType) -> Option<Fixed> {
        self.0.get().get(ht)
    }

    fn set(&self, ht: HealthType, h: Fixed) {
        let mut all = self.0.get();
        all.set(ht, Some(h));
        self.0.set(all);
    }

    fn clear(&mut self) {
        self.0.set(PerType::splat(None));
    }
}

impl HealthCache {
    /// Builds a cache; errors on duplicate token or market indices.
    pub fn new(
        tokens: Vec<TokenInfo>,
        derivatives: Vec<DerivativeInfo>,
        mode: MarginMode,
    ) -> RiskResult<HealthCache> {
        HealthCache::with_grid_id(tokens, derivatives, mode, None)
    }

    /// [`HealthCache::new`] with portfolio mode's grid id known (the
    /// program's stored id of these shocks: no hash,
    /// [`PreparedGrid::with_known_id`]).
    pub fn with_grid_id(
        tokens: Vec<TokenInfo>,
        derivatives: Vec<DerivativeInfo>,
        mode: MarginMode,
        grid_id: Option<u32>,
    ) -> RiskResult<HealthCache> {
        for (i, t) in tokens.iter().enumerate() {
            if tokens.iter().take(i).any(|u| u.token_index == t.token_index) {
                return Err(RiskError::DuplicateIndex);
            }
        }
        for (i, d) in derivatives.iter().enumerate() {
            if derivatives.iter().take(i).any(|e| e.market_index == d.market_index) {
                return Err(RiskError::DuplicateIndex);
            }
        }
        let grid = match (&mode, grid_id) {
            (MarginMode::Portfolio(p), Some(id)) => Some(PreparedGrid::with_known_id(p, id)?),
            (MarginMode::Portfolio(p), None) => Some(PreparedGrid::new(p)?),
            (MarginMode::Linear, _) => None,
        };
        Ok(HealthCache { tokens, derivatives, mode, arrays: Vec::new(), grid, memo: HealthMemo::default() })
    }

    /// Token positions.
    pub fn tokens(&self) -> &[TokenInfo] {
        &self.tokens
    }

    /// Derivative positions.
    pub fn derivatives(&self) -> &[DerivativeInfo] {
        &self.derivatives
    }

    /// Margin mode.
    pub fn mode(&self) -> &MarginMode {
        &self.mode
    }

    /// Switches margin mode (an account opting in or out of portfolio mode).
    pub fn set_mode(&mut self, mode: MarginMode) -> RiskResult<()> {
        self.grid = match &mode {
            MarginMode::Portfolio(p) => Some(PreparedGrid::new(p)?),
            MarginMode::Linear => None,
        };
        self.mode = mode;
        self.memo.clear();
        Ok(())
    }

    /// The same cache valuing options in portfolio mode from `arrays`
    /// (market index, array): stored arrays, so health only multiplies and
    /// adds. Unused in linear mode.
    pub fn with_risk_arrays(mut self, arrays: Vec<(u16, RiskArray)>) -> HealthCache {
        self.arrays = arrays;
        self.memo.clear();
        self
    }

    /// Portfolio mode's grid, built with the cache.
    pub fn prepared_grid(&self) -> Option<&PreparedGrid> {
        self.grid.as_ref()
    }

    /// The risk arrays given by [`HealthCache::with_risk_arrays`].
    pub fn risk_arrays(&self) -> &[(u16, RiskArray)] {
        &self.arrays
    }

    /// The token position for `token_index`.
    pub fn token(&self, token_index: u16) -> RiskResult<&TokenInfo> {
        self.tokens.iter().find(|t| t.token_index == token_index).ok_or(RiskError::TokenNotFound)
    }

    fn token_mut(&mut self, token_index: u16) -> RiskResult<&mut TokenInfo> {
        self.memo.clear();
        self.tokens.iter_mut().find(|t| t.token_index == token_index).ok_or(RiskError::TokenNotFound)
    }

    /// The derivative position for `market_index`.
    pub fn derivative(&self, market_index: u16) -> RiskResult<&DerivativeInfo> {
        self.derivatives.iter().find(|d| d.market_index == market_index).ok_or(RiskError::DerivativeNotFound)
    }

    /// Adds `delta_native` (signed) to a token balance.
    pub fn adjust_token_balance(&mut self, token_index: u16, delta_native: Fixed) -> RiskResult<()> {
        let t = self.token_mut(token_index)?;
        t.balance = t.balance.checked_add(delta_native)?;
        Ok(())
    }

    /// Applies a trade or transfer to a derivative position: `delta_base`
    /// underlying units and `delta_cost_basis` quote native (a buy of q units
    /// at price p is `(+q, +q·p)`, a sell `(−q, −q·p)`). Options re-price
    /// once if the position changes sign.
    pub fn adjust_derivative(
        &mut self,
        market_index: u16,
        delta_base: Fixed,
        delta_cost_basis: Fixed,
    ) -> RiskResult<()> {
        self.memo.clear();
        let d = self
            .derivatives
            .iter_mut()
            .find(|d| d.market_index == market_index)
            .ok_or(RiskError::DerivativeNotFound)?;
        let side_before = d.pricing_side();
        d.base = d.base.checked_add(delta_base)?;
        d.cost_basis = d.cost_basis.checked_add(delta_cost_basis)?;
        if side_before != d.pricing_side() {
            d.recompute_units()?;
        } else {
            d.refresh_size()?;
        }
        Ok(())
    }

    /// Sets the unsettled funding of a derivative (after `update_funding`).
    pub fn set_unsettled_funding(&mut self, market_index: u16, funding: Fixed) -> RiskResult<()> {
        self.memo.clear();
        let d = self
            .derivatives
            .iter_mut()
            .find(|d| d.market_index == market_index)
            .ok_or(RiskError::DerivativeNotFound)?;
        d.unsettled_funding = funding;
        Ok(())
    }

    /// Linear-mode health: one multiply per token, a few per derivative.
    pub fn linear_health(&self, ht: HealthType) -> RiskResult<Fixed> {
        let mut h = Fixed::ZERO;
        for t in &self.tokens {
            h = h.checked_add(t.contribution(ht)?)?;
        }
        for d in &self.derivatives {
            h = h.checked_add(d.contribution(ht)?)?;
        }
        Ok(h)
    }

    /// Health of type `ht` in the account's margin mode.
    /// Computed once per type until the cache changes ([`HealthMemo`]).
    pub fn health(&self, ht: HealthType) -> RiskResult<Fixed> {
        if let Some(h) = self.memo.get(ht) {
            return Ok(h);
        }
        let h = match &self.mode {
            MarginMode::Linear => self.linear_health(ht)?,
            MarginMode::Portfolio(p) => portfolio_health_with_arrays(self, p, ht, &self.arrays)?,
        };
        self.memo.set(ht, h);
        Ok(h)
    }

    /// All three health types (portfolio mode: from one pass over the books,
    /// [`HealthCache::portfolio_report`]).
    pub fn summary(&self) -> RiskResult<HealthSummary> {
        let all_known = HealthType::ALL.iter().all(|ht| self.memo.get(*ht).is_some());
        if !all_known && matches!(self.mode, MarginMode::Portfolio(_)) {
            self.portfolio_report()?;
        }
        Ok(HealthSummary {
            init: self.health(HealthType::Init)?,
            maint: self.health(HealthType::Maint)?,
            liq_end: self.health(HealthType::LiquidationEnd)?,
        })
    }

    /// Portfolio mode: every book's requirement per health type and the
    /// three healths (which it memoises); `None` in linear mode.
    pub fn portfolio_report(&self) -> RiskResult<Option<PortfolioReport>> {
        let MarginMode::Portfolio(p) = &self.mode else { return Ok(None) };
        let report = portfolio_report(self, p, &self.arrays)?;
        for ht in HealthType::ALL {
            self.memo.set(ht, report.health.get(ht));
        }
        Ok(Some(report))
    }

    /// Band (computes Init and Maint).
    pub fn band(&self) -> RiskResult<HealthBand> {
        Ok(HealthBand::from_health(self.health(HealthType::Init)?, self.health(HealthType::Maint)?))
    }

    /// Maint health < 0.
    pub fn is_liquidatable(&self) -> RiskResult<bool> {
        Ok(self.health(HealthType::Maint)?.is_negative())
    }

    /// Any negative token balance or derivative position with negative PnL.
    pub fn has_liabilities(&self) -> RiskResult<bool> {
        if self.tokens.iter().any(|t| t.balance.is_negative()) {
            return Ok(true);
        }
        for d in &self.derivatives {
            if !d.base.is_zero() || d.pnl(HealthType::Maint)?.is_negative() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Largest whole native amount of `token_index` that can be withdrawn
    /// (borrowing beyond the deposit only if `allow_borrow`) keeping Init
    /// health ≥ 0. Closed form: health is linear in the balance on each side
    /// of zero, so solve on the deposit segment, then on the borrow segment.
    /// Returns 0 when Init health is ≤ 0. In portfolio mode the amount is
    /// searched on portfolio health ([`HealthCache::portfolio_max_withdraw`]).
    /// The instruction's final health check stays authoritative.
    pub fn max_withdraw(&self, token_index: u16, allow_borrow: bool) -> RiskResult<Fixed> {
        match self.mode {
            MarginMode::Linear => self.linear_max_withdraw(token_index, allow_borrow),
            MarginMode::Portfolio(_) => self.portfolio_max_withdraw(token_index, allow_borrow),
        }
    }

    /// [`HealthCache::max_withdraw`] in linear mode (the closed form).
    pub(super) fn linear_max_withdraw(&self, token_index: u16, allow_borrow: bool) -> RiskResult<Fixed> {
        // Two ulps of slack absorb the floor of the re-computed contribution.
        let h = self.health(HealthType::Init)?.checked_sub(Fixed::from_bits(2))?;
        if !h.is_positive() {
            return Ok(Fixed::ZERO);
        }
        let t = self.token(token_index)?;
        let au = t.asset_unit(HealthType::Init)?;
        let lu = t.liab_unit(HealthType::Init)?;
        let borrow_part = |room: Fixed| -> RiskResult<Fixed> {
            if !allow_borrow || !room.is_positive() {
                return Ok(Fixed::ZERO);
            }
            if !lu.is_positive() {
                return Err(RiskError::InvalidParameter);
            }
            room.checked_div(lu, Rounding::Floor)
        };
        let amount = if t.balance.is_positive() {
            let held = t.contribution(HealthType::Init)?;
            if h >= held {
                t.balance.checked_add(borrow_part(h.checked_sub(held)?)?)?
            } else {
                h.checked_div(au, Rounding::Floor)?.min(t.balance)
            }
        } else {
            borrow_part(h)?
        };
        Ok(amount.floor())
    }

    /// Largest whole native amount that can be *borrowed* (withdrawn beyond
    /// the current deposit) keeping Init health ≥ 0.
    pub fn max_borrow(&self, token_index: u16) -> RiskResult<Fixed> {
        Ok(self.withdraw_limits(token_index)?.1)
    }

    /// [`HealthCache::max_withdraw`] (borrowing allowed) and
    /// [`HealthCache::max_borrow`] from one computation (in portfolio mode,
    /// one search).
    pub fn withdraw_limits(&self, token_index: u16) -> RiskResult<(Fixed, Fixed)> {
        let total = self.max_withdraw(token_index, true)?;
        let held = self.token(token_index)?.balance.positive_part();
        Ok((total, total.checked_sub(held)?.positive_part().floor()))
    }
}

/// Maint health of a cache, saturating instead of failing, for keepers that
/// rank many accounts (lower = closer to liquidation; an account whose
/// health overflows ranks first).
pub fn keeper_maint_health(cache: &HealthCache) -> Fixed {
    cache.health(HealthType::Maint).unwrap_or(Fixed::MIN)
}

#[cfg(test)]
#[path = "cache_tests.rs"]
mod tests;
