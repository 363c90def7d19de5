//! Shared builders for unit tests (compiled only under `cfg(test)`).

use crate::fixed::Fixed;
use crate::health::{DerivativeInfo, DerivativeKind, MarginRates, TokenInfo};
use crate::price::{BiasedPrices, OraclePrice, PriceBias};
use crate::weights::TokenWeights;

/// Parses a decimal literal.
pub(crate) fn fx(s: &str) -> Fixed {
    s.parse().unwrap()
}

/// Volatile collateral weights: 0.8/0.85/0.9 assets, 1.2/1.15/1.1 liabs.
pub(crate) fn sol_weights() -> TokenWeights {
    TokenWeights {
        init_asset: fx("0.8"),
        maint_asset: fx("0.9"),
        liq_end_asset: fx("0.85"),
        init_liab: fx("1.2"),
        maint_liab: fx("1.1"),
        liq_end_liab: fx("1.15"),
    }
}

/// Quote token at price 1 with unit weights.
pub(crate) fn usdc(index: u16, balance: Fixed) -> TokenInfo {
    TokenInfo::new(index, balance, BiasedPrices::flat(Fixed::ONE), &TokenWeights::ONE).unwrap()
}

/// Token at a flat price with the given weights.
pub(crate) fn token(index: u16, balance: Fixed, price: Fixed, w: &TokenWeights) -> TokenInfo {
    TokenInfo::new(index, balance, BiasedPrices::flat(price), w).unwrap()
}

/// Biased prices: oracle `price`, confidence `conf`, k = 1, stable = `stable`.
pub(crate) fn biased(price: &str, conf: &str, stable: &str) -> BiasedPrices {
    let o = OraclePrice { lo: fx(price), hi: fx(price), conf: fx(conf) };
    BiasedPrices::new(&o, fx(stable), PriceBias { conf_multiplier: Fixed::ONE }).unwrap()
}

/// Perp margin rates 10 % / 5 % / 7.5 % (init / maint / liq-end).
pub(crate) fn perp_rates() -> MarginRates {
    MarginRates {
        init: fx("0.1"),
        maint: fx("0.05"),
        liq_end: fx("0.075"),
        short_option_min_delta: fx("0.1"),
        size_premium: Fixed::ZERO,
        contract_size: 1,
        short_option: crate::health::option_margin::ShortOptionRates::derive(),
    }
}

/// A perpetual position at a flat price.
pub(crate) fn perp(market: u16, underlying: u16, base: &str, cost: &str, price: &str) -> DerivativeInfo {
    DerivativeInfo::new(
        market,
        underlying,
        DerivativeKind::Perpetual,
        fx(base),
        fx(cost),
        Fixed::ZERO,
        BiasedPrices::flat(fx(price)),
        perp_rates(),
    )
    .unwrap()
}

/// |a − b| ≤ tol (as f64, for readable tolerances in quote units).
pub(crate) fn near(a: Fixed, b: f64, tol: f64) -> bool {
    (a.to_f64() - b).abs() <= tol
}
