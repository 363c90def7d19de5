//! Host benchmark: rank 100,000 margin accounts by health (DESIGN.md: ≤ 1 s on
//! one core). Banks and accounts are built in memory, valued with the program's
//! own code exactly as a keeper cycle does.
//!
//! `cargo run --release --no-default-features -p xmargin-keeper --example rank_bench [N]`
use std::collections::BTreeMap;
use std::time::Instant;

use anchor_lang::prelude::Pubkey;
use xmargin::health::{HealthContext, PriceRules};
use xmargin::oracle::PythReading;
use xmargin::state::{Bank, BankRiskParams, MarginAccount, StoredFixed, TokenPosition};
use xmargin_client::health::BankEntry;
use xmargin_keeper::{rank_accounts, BankTemplates, Market};
use xmargin_risk::{Fixed, Rounding};

fn bps(b: i64) -> StoredFixed {
    Fixed::from_ratio(b, 10_000, Rounding::Floor).unwrap().into()
}

fn bank(token_index: u16, decimals: u8) -> Bank {
    let mut b: Bank = bytemuck::Zeroable::zeroed();
    b.token_index = token_index;
    b.mint_decimals = decimals;
    b.feed_id = [token_index as u8; 32];
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

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let now = 1_750_000_000;
    // USDC $1 (6 dp), SOL $150 (9 dp), BTC $100,000 (8 dp); prices at expo −8.
    let specs = [(0u16, 6u8, 100_000_000i64), (1, 9, 15_000_000_000), (2, 8, 10_000_000_000_000)];
    let ctx =
        HealthContext { group: Pubkey::default(), quote_decimals: 6, now, rules: PriceRules::CONSERVATIVE };
    let mut banks = BTreeMap::new();
    let mut templates = BTreeMap::new();
    for (t, dec, price) in specs {
        let mut b = bank(t, dec);
        let reading = PythReading { price, conf: price as u64 / 1_500, exponent: -8, publish_time: now };
        let oracle_price = reading.to_oracle_price(dec, 6, b.max_conf_ratio.get()).unwrap();
        b.stable_price = oracle_price.lo.into();
        templates.insert(t, BankTemplates::new(&ctx, &b, &reading));
        banks.insert(t, BankEntry { address: Pubkey::new_unique(), bank: b });
    }
    let mut accounts = Vec::with_capacity(n);
    for i in 0..n {
        let mut a: MarginAccount = bytemuck::Zeroable::zeroed();
        let sol = 1 + (i as i64 % 50); // 1..50 SOL
        let debt = sol * 100 + (i as i64 % 37) * 3; // USDC, some unhealthy
        a.tokens[0] = TokenPosition {
            shares: Fixed::from_i64(sol * 1_000_000_000).into(),
            token_index: 1,
            in_use: 1,
            reserved: [0; 5],
        };
        a.tokens[1] = TokenPosition {
            shares: Fixed::from_i64(-debt * 1_000_000).into(),
            token_index: 0,
            in_use: 1,
            reserved: [0; 5],
        };
        a.tokens[2] = TokenPosition {
            shares: Fixed::from_i64(1_000 + i as i64).into(),
            token_index: 2,
            in_use: 1,
            reserved: [0; 5],
        };
        accounts.push((Pubkey::new_unique(), a));
    }
    let market = Market { group: Pubkey::default(), now, banks, templates, accounts, quote_token: Some(0) };
    let mut best = f64::MAX;
    let mut liquidatable = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let ranked = rank_accounts(&market);
        best = best.min(t.elapsed().as_secs_f64());
        liquidatable = ranked.iter().filter(|h| h.liquidatable).count();
        assert_eq!(ranked.len(), n);
    }
    println!("ranked {n} accounts (3 positions each) in {:.1} ms (best of 5, one core); {liquidatable} liquidatable", best * 1e3);
}
