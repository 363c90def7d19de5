//! A synthetic group held in memory (no chain): banks, perpetuals, oracle
//! readings and many accounts with token and derivative positions, for the
//! ranking benchmark (`examples/rank_bench.rs`) and the ranking tests. The
//! parameters follow the test world's (`xmargin_test_support::world`,
//! `markets::sol_perp_args`).
use std::collections::BTreeMap;

use anchor_lang::prelude::Pubkey;
use xmargin::options::DEFAULT_RISK_GRID;
use xmargin::oracle::PythReading;
use xmargin::state::{
    market_kind, market_status, Bank, BankRiskParams, DerivativePosition, MarginAccount, Market,
    MarketRiskParams, StoredFixed, TokenPosition,
};
use xmargin_client::health::{BankEntry, MarketEntry};
use xmargin_risk::{Fixed, Rounding};

use crate::snapshot::Snapshot;

fn bps(b: i64) -> StoredFixed {
    Fixed::from_ratio(b, 10_000, Rounding::Floor).expect("bps").into()
}

/// Tokens of the synthetic group: (decimals, price mantissa at expo −8).
/// USDC $1 (the quote), SOL $150, BTC $100,000, ETH $3,000.
pub const TOKENS: [(u8, i64); 4] =
    [(6, 100_000_000), (9, 15_000_000_000), (8, 10_000_000_000_000), (8, 300_000_000_000)];

/// A bank with the test world's SOL weights (80/85/90 %, 110/115/120 %), a
/// 5 % liquidation fee, 60 s max oracle age and a 2 % confidence bound.
pub fn bank(token_index: u16, decimals: u8, oracle: Pubkey) -> Bank {
    let mut b: Bank = bytemuck::Zeroable::zeroed();
    b.token_index = token_index;
    b.mint_decimals = decimals;
    b.feed_id = [token_index as u8 + 1; 32];
    b.oracle = oracle;
    b.risk = BankRiskParams {
        init_asset_weight: bps(8_000),
        liq_end_asset_weight: bps(8_500),
        maint_asset_weight: bps(9_000),
        maint_liab_weight: bps(11_000),
        liq_end_liab_weight: bps(11_500),
        init_liab_weight: bps(12_000),
        deposit_cap: u64::MAX,
        borrow_limit: u64::MAX,
        deposit_weight_scale_start: 0,
        borrow_weight_scale_start: 0,
    };
    b.deposit_index = Fixed::ONE.into();
    b.borrow_index = Fixed::ONE.into();
    b.conf_multiplier = Fixed::ONE.into();
    b.max_conf_ratio = bps(200);
    b.max_oracle_age_secs = 60;
    b.liquidation_fee = bps(500);
    b
}

/// A perpetual on `underlying` with `sol_perp_args`' risk (Init 10 %,
/// LiquidationEnd 7.5 %, Maint 5 %; positive PnL at 50/75/90 %, 100 USDC
/// Init cap; fees 1 % + 0.5 %), `contract_size` native units per contract.
pub fn perp(market_index: u16, underlying: &Bank, contract_size: u64, stable: Fixed) -> Market {
    let mut m: Market = bytemuck::Zeroable::zeroed();
    m.group = underlying.group;
    m.oracle = underlying.oracle;
    m.feed_id = underlying.feed_id;
    m.market_index = market_index;
    m.underlying_token_index = underlying.token_index;
    m.underlying_decimals = underlying.mint_decimals;
    m.kind = market_kind::PERPETUAL;
    m.status = market_status::ACTIVE;
    m.contract_size = contract_size;
    m.min_size = 1;
    m.risk = MarketRiskParams {
        init_rate: bps(1_000),
        maint_rate: bps(500),
        liq_end_rate: bps(750),
        pnl_init_weight: bps(5_000),
        pnl_liq_end_weight: bps(7_500),
        pnl_maint_weight: bps(9_000),
        price_band: bps(500),
        settle_fraction: bps(2_000),
        size_premium: StoredFixed::default(),
        init_pnl_cap: 100_000_000,
        open_interest_cap: u64::MAX,
    };
    m.safety = underlying.safety_params();
    m.safety.liquidation_fee = bps(100);
    m.insurance_fee = bps(50);
    m.stable_price = stable.into();
    m.mark_twap = stable.into();
    m.oracle_twap = stable.into();
    // Funding accrued since the positions opened: longs owe 0.37 quote native per contract.
    m.cum_funding = Fixed::from_ratio(37, 100, Rounding::Floor).expect("cum").into();
    m
}

/// A group of `n` accounts, each with one position in each of the 4 banks
/// (a deposit of the account's collateral token, debts in the others) and
/// one in each of `perps` perpetuals (0..=4, one per token, alternating
/// long and short, some far under water), valued at `now` with fresh oracles.
pub fn group(n: usize, perps: usize, now: i64) -> Snapshot {
    let group = Pubkey::new_unique();
    let mut banks = BTreeMap::new();
    let mut readings = BTreeMap::new();
    let mut stables = Vec::new();
    for (t, (decimals, price)) in TOKENS.iter().enumerate() {
        let oracle = Pubkey::new_unique();
        let mut b = bank(t as u16, *decimals, oracle);
        b.group = group;
        let reading =
            PythReading { price: *price, conf: *price as u64 / 1_500, exponent: -8, publish_time: now };
        let p = reading.to_oracle_price(*decimals, 6, b.max_conf_ratio.get()).expect("price");
        b.stable_price = p.lo.into();
        stables.push(p.lo);
        readings.insert(oracle, reading);
        banks.insert(t as u16, BankEntry { address: Pubkey::new_unique(), bank: b });
    }
    // One perpetual per token: contracts of 0.01 SOL, 1 USDC, 0.0001 BTC, 0.001 ETH.
    let sizes = [1_000_000u64, 10_000_000, 10_000, 100_000];
    let markets: BTreeMap<u16, MarketEntry> = (0..perps.min(4) as u16)
        .map(|m| {
            let market = perp(m, &banks[&m].bank, sizes[m as usize], stables[m as usize]);
            (m, MarketEntry { address: Pubkey::new_unique(), market })
        })
        .collect();
    let accounts = (0..n).map(|i| (Pubkey::new_unique(), account(i, &markets))).collect();
    Snapshot::new(group, now, 6, banks, markets, readings, accounts, Some(0), DEFAULT_RISK_GRID)
}

/// Account `i`: 1..50 SOL of collateral, debts of ~100 USDC per SOL across
/// USDC, BTC and ETH (some accounts under water), and one position per
/// market worth ~1–3 SOL of notional, opened at ±2 % of the price.
pub fn account(i: usize, markets: &BTreeMap<u16, MarketEntry>) -> MarginAccount {
    let mut a: MarginAccount = bytemuck::Zeroable::zeroed();
    let k = i as i64;
    let sol = 1 + k % 50;
    let debt = sol * 100 + (k % 37) * 3; // USDC, some unhealthy
    let token = |token_index: u16, shares: i64| TokenPosition {
        shares: Fixed::from_i64(shares).into(),
        token_index,
        in_use: 1,
        reserved: [0; 5],
    };
    a.tokens[0] = token(1, sol * 1_000_000_000);
    a.tokens[1] = token(0, -debt * 600_000); // 60 % of the debt in USDC
    a.tokens[2] = token(2, -(debt * 200)); // 20 % in BTC (sats at $100,000)
    a.tokens[3] = token(3, -(debt * 20_000 / 3)); // 20 % in ETH (1e-8 ETH at $3,000)
    for (slot, (m, e)) in markets.iter().enumerate() {
        let long = (i + slot).is_multiple_of(2);
        // Notional ≈ 1..3 SOL ($150..450) at the market's price.
        let price_per_contract = e.market.stable_price.get().checked_mul_int(e.market.contract_size as i64);
        let ppc = price_per_contract.and_then(|p| p.to_i64(Rounding::Floor)).unwrap_or(1).max(1);
        let contracts = ((150_000_000 + (k % 3) * 150_000_000) / ppc).max(1);
        let entry = ppc + ppc * (k % 5 - 2) / 50; // ±4 % around the price
        let base = if long { contracts } else { -contracts };
        a.derivatives[slot] = DerivativePosition {
            base_contracts: base,
            quote_cost: base * entry,
            realized_pnl: (k % 11) - 5,
            funding_snapshot: StoredFixed::default(),
            settle_window_start: 0,
            settled_in_window: 0,
            market_index: *m,
            in_use: 1,
            reserved: [0; 5],
        };
    }
    a
}
