use std::collections::BTreeMap;

use xmargin::state::market_status;
use xmargin_client::health::health_cache_with_markets;

use super::*;
use crate::synthetic;

const NOW: i64 = 1_750_000_000;

/// Health with the client's per-position valuation (`value_token`,
/// `value_derivative` for every position), the reference the templates must equal.
fn reference(snap: &Snapshot, account: &MarginAccount) -> (i64, i64) {
    let readings: BTreeMap<u16, PythReading> =
        snap.banks.iter().map(|(t, e)| (*t, snap.readings[&e.bank.oracle])).collect();
    let cache = health_cache_with_markets(&snap.context(), account, &snap.banks, &snap.markets, &readings)
        .expect("valued");
    (
        to_i64(cache.health(HealthType::Maint).unwrap()),
        to_i64(cache.health(HealthType::LiquidationEnd).unwrap()),
    )
}

/// `snap` rebuilt from its (edited) banks, markets, readings and accounts.
fn rebuild(snap: &Snapshot) -> Snapshot {
    Snapshot::new(
        snap.group,
        NOW,
        6,
        snap.banks.clone(),
        snap.markets.clone(),
        snap.readings.clone(),
        snap.accounts.clone(),
        Some(0),
        snap.grid,
    )
}

fn assert_all_equal(snap: &Snapshot) -> usize {
    let mut liquidatable = 0;
    for (address, account) in &snap.accounts {
        let h = account_health(snap, address, account).expect("valued");
        assert_eq!((h.maint, h.liquidation_end), reference(snap, account), "{address}");
        assert_eq!(h.derivative_positions, snap.markets.len());
        liquidatable += usize::from(h.liquidatable);
    }
    liquidatable
}

/// The templates value every account exactly as the program's own
/// per-position code does: fresh prices, a stale oracle (deposits at zero,
/// debts and positions at their fallback), and a settled future.
#[test]
fn templates_value_exactly_like_the_program() {
    let mut snap = synthetic::group(400, 4, NOW);
    let liquidatable = assert_all_equal(&snap);
    assert!(liquidatable > 0 && liquidatable < 400, "{liquidatable} of 400 liquidatable");

    // ETH's oracle goes stale and moves: its debts and its perpetual fall back.
    let eth_oracle = snap.banks[&3].bank.oracle;
    let r = snap.readings.get_mut(&eth_oracle).unwrap();
    r.publish_time = NOW - 600;
    r.price = r.price * 11 / 10;
    let rebuilt = rebuild(&snap);
    assert!(!rebuilt.market_templates[&3].liquidatable && rebuilt.market_templates[&2].liquidatable);
    assert_all_equal(&rebuilt);

    // The BTC perpetual becomes a settled future at $99,000 (per sat: 0.99 µUSDC).
    let m = &mut snap.markets.get_mut(&2).unwrap().market;
    m.kind = xmargin::state::market_kind::FUTURE;
    m.expiry_ts = NOW - 10;
    m.status = market_status::SETTLED;
    m.settlement_price = Fixed::from_ratio(99, 100, Rounding::Floor).unwrap().into();
    let settled = rebuild(&snap);
    assert!(!settled.market_templates[&2].liquidatable && settled.market_templates[&2].oracle.is_none());
    assert_all_equal(&settled);

    // Or a settled call struck at $98,000 (per contract), settled at $99,000
    // before `settle_expired` ran on the accounts: each position is worth its
    // own contracts' intrinsic value, which no one-contract template scales
    // to (the templates' valuation went through the program's, exactly).
    let m = &mut snap.markets.get_mut(&2).unwrap().market;
    m.kind = xmargin::state::market_kind::OPTION;
    m.option_is_call = 1;
    let per_contract =
        xmargin::derivatives::per_contract(m, m.settlement_price.get(), Rounding::Floor).unwrap();
    m.option.strike_per_contract = per_contract * 98 / 99;
    m.strike = m
        .settlement_price
        .get()
        .checked_mul_floor(Fixed::from_ratio(98, 99, Rounding::Floor).unwrap())
        .unwrap()
        .into();
    m.risk_array = Default::default();
    let option = rebuild(&snap);
    assert!(option.market_templates[&2].settled_option && !option.market_templates[&2].liquidatable);
    assert_all_equal(&option);
}

/// A liquidatable account with open positions has its largest position
/// (by Maint requirement) liquidated first; without positions, the token pair.
#[test]
fn positions_are_liquidated_before_tokens() {
    let snap = synthetic::group(400, 4, NOW);
    let ranked = rank_accounts(&snap);
    assert_eq!(ranked.len(), 400);
    assert!(ranked.windows(2).all(|w| w[0].maint <= w[1].maint), "most endangered first");
    let worst = &ranked[0];
    assert!(worst.liquidatable);
    let account = snap.account(&worst.address).unwrap();
    let largest = account
        .active_derivatives()
        .map(|p| {
            let m = &snap.markets[&p.market_index].market;
            let d = snap.market_templates[&p.market_index].value(&snap.context(), m, p).unwrap();
            (d.requirement(HealthType::Maint).unwrap(), p.market_index)
        })
        .max()
        .unwrap()
        .1;
    assert_eq!(worst.liquidation, Some(Liquidation::Position { market: largest }));
    assert!(worst.bonus_value > 0);

    let flat = synthetic::group(400, 0, NOW);
    let worst = &rank_accounts(&flat)[0];
    assert_eq!(worst.liquidation, Some(Liquidation::Token { asset: 1, liab: 0 }));
    assert!(ranked.iter().filter(|h| !h.liquidatable).all(|h| h.liquidation.is_none()));
}
