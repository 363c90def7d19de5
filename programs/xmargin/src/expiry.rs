//! What a position in a settled market is worth per contract, shared by
//! `settle_expired`, `settle_pnl` and health: one integer in quote native
//! per contract, so every account's value is an integer and the values of a
//! market's positions sum to zero (longs = shorts).
//!
//! - dated future: the settlement price per contract, rounded once to the
//!   nearest unit ([`settlement_price_per_contract`]);
//! - European option: its intrinsic value at that price,
//!   `max(S − K, 0)` for a call and `max(K − S, 0)` for a put, with the
//!   strike per contract as listed (`xmargin_risk::options::intrinsic`,
//!   which says why the rounding is done once, on `S`).
use anchor_lang::prelude::*;
use xmargin_risk::options::intrinsic::intrinsic_per_contract;
use xmargin_risk::{Fixed, Rounding};

use crate::errors::XmarginError;
use crate::health::risk_error;
use crate::state::Market;

/// The settlement price per contract in whole quote native units, rounded
/// to the nearest (half up): the price has no protocol side, and the
/// nearest unit undoes the binary rounding of a decimal oracle price
/// ($151.50 is 0.1515 per native unit stored a hair low; × 10^7 = 1,515,000).
pub fn settlement_price_per_contract(market: &Market) -> Result<i64> {
    let size = i64::try_from(market.contract_size).map_err(|_| error!(XmarginError::MathOverflow))?;
    market
        .settlement_price
        .get()
        .checked_mul_int(size)
        .and_then(|v| v.checked_add(Fixed::HALF))
        .and_then(|v| v.to_i64(Rounding::Floor))
        .map_err(risk_error)
}

/// What one contract of a settled market pays its holder (module docs):
/// the settlement price per contract for a future, the intrinsic value per
/// contract for an option.
pub fn settlement_value_per_contract(market: &Market) -> Result<i64> {
    let price = settlement_price_per_contract(market)?;
    if !market.is_option() {
        return Ok(price);
    }
    let value = intrinsic_per_contract(market.option_is_call != 0, price, market.option.strike_per_contract)
        .map_err(risk_error)?;
    i64::try_from(value).map_err(|_| error!(XmarginError::MathOverflow))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::market_kind;

    /// $151.50 on 0.01 SOL contracts (0.1515 µUSDC per lamport, stored a
    /// hair low) is 1,515,000 per contract once rounded to the nearest unit.
    fn market(kind: u8, is_call: bool, strike: u64) -> Market {
        let mut m: Market = bytemuck::Zeroable::zeroed();
        m.kind = kind;
        m.contract_size = 10_000_000;
        m.settlement_price = Fixed::from_ratio(1_515, 10_000, Rounding::Floor).unwrap().into();
        m.option_is_call = u8::from(is_call);
        m.option.strike_per_contract = strike;
        m
    }

    #[test]
    fn value_per_contract_of_futures_and_options() {
        assert_eq!(settlement_price_per_contract(&market(market_kind::FUTURE, false, 0)).unwrap(), 1_515_000);
        let cases = [
            (market_kind::FUTURE, false, 0, 1_515_000),
            (market_kind::OPTION, true, 1_480_000, 35_000),
            (market_kind::OPTION, true, 1_515_000, 0),
            (market_kind::OPTION, true, 1_600_000, 0),
            (market_kind::OPTION, false, 1_490_000, 0),
            (market_kind::OPTION, false, 1_600_000, 85_000),
        ];
        for (kind, is_call, strike, want) in cases {
            let m = market(kind, is_call, strike);
            assert_eq!(settlement_value_per_contract(&m).unwrap(), want, "{kind} {is_call} {strike}");
        }
    }

    /// Health of a settled option position reads neither the oracle (a day
    /// old here) nor the risk array (never computed): it is the realised PnL
    /// `settle_expired` would book, weighted as any profit, in the Init-only
    /// path and the full valuation alike, whatever the rules.
    #[test]
    fn a_settled_option_is_worth_its_intrinsic_value_without_array_or_price() {
        use crate::health::options::{option_init_contribution, value_option};
        use crate::health::{HealthContext, PriceRules};
        use crate::oracle::PythReading;
        use crate::state::{market_status, DerivativePosition};
        use xmargin_risk::HealthType;
        let mut m = market(market_kind::OPTION, true, 1_480_000); // intrinsic 35,000 per contract
        m.status = market_status::SETTLED;
        m.risk.pnl_init_weight = Fixed::from_ratio(1, 2, Rounding::Floor).unwrap().into();
        (m.risk.pnl_liq_end_weight, m.risk.pnl_maint_weight) = (m.risk.pnl_init_weight, Fixed::ONE.into());
        m.risk.init_pnl_cap = u64::MAX;
        let stale = PythReading { price: 1, conf: 1, exponent: -8, publish_time: 0 };
        // (contracts, quote_cost, realized) → PnL `contracts · 35,000 − cost + realized`.
        for (c, cost, realized, pnl) in [
            (100i64, 2_041_400i64, 0i64, 1_458_600i64),
            (-130, -2_653_820, 0, -1_896_180),
            (30, 612_420, -7, 437_573),
            (0, 0, 1_458_600, 1_458_600),
        ] {
            let p = DerivativePosition {
                base_contracts: c,
                quote_cost: cost,
                realized_pnl: realized,
                in_use: 1,
                ..Default::default()
            };
            let init = if pnl > 0 {
                Fixed::from_ratio(pnl, 2, Rounding::Floor).unwrap()
            } else {
                Fixed::from_i64(pnl)
            };
            for rules in [PriceRules::VIEW, PriceRules::CONSERVATIVE, PriceRules::trade(0)] {
                let ctx = HealthContext {
                    group: Pubkey::default(),
                    quote_decimals: 6,
                    now: 86_400,
                    rules,
                    grid: crate::options::DEFAULT_RISK_GRID,
                };
                let full = value_option(&ctx, &m, &stale, &p).unwrap();
                assert_eq!(full.contribution(HealthType::Init).unwrap(), init, "{p:?}");
                assert_eq!(full.contribution(HealthType::Maint).unwrap(), Fixed::from_i64(pnl), "{p:?}");
                let fast = option_init_contribution(&ctx, &m, &stale, &p).unwrap();
                assert_eq!(fast, init, "{p:?}");
            }
        }
    }
}
