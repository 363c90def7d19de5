//! `init_contribution` (the Init-only token path) against the cache.
use super::portfolio_init::init_token_leg;
use super::*;
use crate::state::{BankRiskParams, StoredFixed};
use xmargin_risk::Rounding;

fn bps(b: i64) -> StoredFixed {
    Fixed::from_ratio(b, 10_000, Rounding::Floor).unwrap().into()
}

fn bank(scale_start: u64) -> Bank {
    let mut b: Bank = bytemuck::Zeroable::zeroed();
    b.token_index = 3;
    b.mint_decimals = 9;
    b.risk = BankRiskParams {
        init_asset_weight: bps(8_000),
        liq_end_asset_weight: bps(8_500),
        maint_asset_weight: bps(9_000),
        maint_liab_weight: bps(11_000),
        liq_end_liab_weight: bps(11_500),
        init_liab_weight: bps(12_000),
        deposit_cap: u64::MAX,
        borrow_limit: u64::MAX,
        deposit_weight_scale_start: scale_start,
        borrow_weight_scale_start: scale_start,
    };
    b.deposit_index = Fixed::from_ratio(10_123, 10_000, Rounding::Floor).unwrap().into();
    b.borrow_index = Fixed::from_ratio(10_456, 10_000, Rounding::Floor).unwrap().into();
    b.deposit_shares = Fixed::from_i64(5_000_000_000_000).into();
    b.borrow_shares = Fixed::from_i64(2_000_000_000_000).into();
    b.conf_multiplier = Fixed::ONE.into();
    b.max_conf_ratio = bps(200);
    b.max_oracle_age_secs = 60;
    b.stable_price = Fixed::from_ratio(14, 100, Rounding::Floor).unwrap().into();
    b
}

/// The Init-only path gives exactly the cache's Init contribution, for
/// deposits and debts, with and without size scaling, and values a stale
/// asset at zero.
#[test]
fn init_contribution_equals_the_cache() {
    let now = 1_750_000_000;
    let ctx = HealthContext {
        group: Pubkey::default(),
        quote_decimals: 6,
        now,
        rules: PriceRules::VIEW,
        grid: crate::options::DEFAULT_RISK_GRID,
    };
    for scale_start in [0u64, 1_000_000] {
        let b = bank(scale_start);
        for (price, conf) in
            [(15_012_345_678i64, 10_000_000u64), (12_500_000_000, 0), (99_999_999, 1_000_000)]
        {
            let reading = PythReading { price, conf, exponent: -8, publish_time: now - 5 };
            for shares in [1i64, 7_777_777, 10_000_000_000, -1, -3_333_333_333, -123_456_789_012] {
                let shares = Fixed::from_i64(shares);
                let via_cache = value_token(&ctx, &b, &reading, shares)
                    .unwrap()
                    .unwrap()
                    .contribution(HealthType::Init)
                    .unwrap();
                assert_eq!(
                    init_contribution(&ctx, &b, &reading, shares).unwrap(),
                    via_cache,
                    "{price} {shares}"
                );
                // Portfolio mode's leg: the `TokenInfo`'s Init pieces, to the bit.
                let t = value_token(&ctx, &b, &reading, shares).unwrap().unwrap();
                let leg = init_token_leg(&ctx, &b, &reading, shares).unwrap().unwrap();
                assert_eq!(leg.unweighted, t.unweighted_value(HealthType::Init).unwrap());
                assert_eq!(leg.contribution, via_cache);
                assert_eq!((leg.balance, leg.oracle, leg.underlying), (t.balance, t.prices.oracle, 3));
                let w = t.weights();
                let haircut = if t.balance.is_negative() {
                    w.liab(HealthType::Init).checked_sub(Fixed::ONE).unwrap()
                } else {
                    Fixed::ONE.checked_sub(w.asset(HealthType::Init)).unwrap()
                };
                assert_eq!(leg.haircut, haircut);
            }
        }
    }
    let stale = PythReading { price: 15_000_000_000, conf: 0, exponent: -8, publish_time: now - 61 };
    let b = bank(0);
    assert_eq!(init_contribution(&ctx, &b, &stale, Fixed::from_i64(10)).unwrap(), Fixed::ZERO);
    assert!(init_token_leg(&ctx, &b, &stale, Fixed::from_i64(10)).unwrap().is_none());
    assert!(
        init_contribution(&ctx, &b, &stale, Fixed::from_i64(-10)).is_err(),
        "a stale liability is refused"
    );
}
