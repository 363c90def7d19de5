//! Derivative fixtures: markets (perpetuals, dated futures, funding,
//! settlement, size premiums), stored positions through the program's fill
//! accounting, and the accounts of the `fixtures` and `refused` lists that
//! hold perpetual and future positions.
use super::*;

/// Underlying native units per contract: 0.01 SOL, 0.001 BTC, 0.01 ETH.
pub(super) const SOL_CONTRACT: u64 = 10_000_000;
pub(super) const BTC_CONTRACT: u64 = 100_000;
pub(super) const ETH_CONTRACT: u64 = 1_000_000;

/// Market risk: rates `[init, maint, liq_end]` and positive-PnL weights
/// `[init, liq_end, maint]` in bps, the Init PnL cap in quote native.
pub(super) fn market_risk(rates: [i64; 3], weights: [i64; 3], init_pnl_cap: u64) -> MarketRiskParams {
    MarketRiskParams {
        init_rate: bps(rates[0]),
        maint_rate: bps(rates[1]),
        liq_end_rate: bps(rates[2]),
        pnl_init_weight: bps(weights[0]),
        pnl_liq_end_weight: bps(weights[1]),
        pnl_maint_weight: bps(weights[2]),
        price_band: bps(500),
        settle_fraction: bps(2_000),
        size_premium: StoredFixed::default(),
        init_pnl_cap,
        open_interest_cap: 1_000_000_000,
    }
}

/// A perpetual (or `kind`) on `underlying`'s oracle and decimals with the test SOL perpetual's terms
/// (crates/test-support/src/markets.rs): Init / Maint / LiquidationEnd 10 / 5 / 7.5 % of notional,
/// positive PnL at 50 / 75 / 90 % (Init / LiquidationEnd / Maint), at most 100 USDC in Init;
/// conf multiplier 1, max conf 2 %, max age 60 s.
pub(super) fn market(
    market_index: u16,
    underlying: &Bank,
    kind: u8,
    contract_size: u64,
    stable: Fixed,
) -> Market {
    let mut m: Market = bytemuck::Zeroable::zeroed();
    (m.market_index, m.underlying_token_index, m.underlying_decimals) =
        (market_index, underlying.token_index, underlying.mint_decimals);
    (m.kind, m.status, m.contract_size) = (kind, market_status::ACTIVE, contract_size);
    m.risk = market_risk([1_000, 500, 750], [5_000, 7_500, 9_000], 100_000_000);
    m.safety = BankSafetyParams {
        conf_multiplier: Fixed::ONE.into(),
        max_conf_ratio: bps(200),
        liquidation_fee: bps(100),
        max_oracle_age_secs: 60,
        ..Default::default()
    };
    m.stable_price = stable.into();
    m
}

pub(super) fn with_funding(mut m: Market, cum: Fixed) -> Market {
    m.cum_funding = cum.into();
    m
}

pub(super) fn settled(mut m: Market, price: Fixed) -> Market {
    (m.status, m.settlement_price) = (market_status::SETTLED, price.into());
    m
}

/// The stored position after `fills` (contracts bought > 0 or sold < 0, quote native per contract)
/// from flat, through the program's fill accounting; funding snapshot `snapshot`.
pub(super) fn filled(m: &Market, fills: &[(i64, u64)], snapshot: Fixed) -> DerivativePosition {
    let mut p = PerpPosition::default();
    for &(delta, price) in fills {
        p = apply_fill(p, delta, price).unwrap().position;
    }
    DerivativePosition {
        base_contracts: p.base,
        quote_cost: p.quote_cost,
        realized_pnl: p.realized_pnl,
        funding_snapshot: snapshot.into(),
        market_index: m.market_index,
        in_use: 1,
        ..DerivativePosition::default()
    }
}

pub(super) fn derivative_fixture(
    name: &str,
    covers: &str,
    positions: &[Position],
    derivatives: &[Derivative],
    rules: Option<PriceRules>,
) -> Value {
    let mut f = fixture(name, covers, positions);
    f["derivatives"] = derivatives.iter().map(derivative_json).collect::<Vec<_>>().into();
    if let Some(r) = rules {
        f["rules"] = rules_json(&r);
    }
    f
}

/// Accounts with perpetual and dated-future positions the program values.
pub(super) fn derivative_cases() -> Vec<Value> {
    let [usdc, sol, btc, eth, _, _] = majors();
    let [usdc_px, sol_px, btc_px, eth_px, _] = quotes();
    let usdc_dep = |n: u64| (usdc, usdc_px, dep(&usdc, n));
    let sol_perp = market(0, &sol, market_kind::PERPETUAL, SOL_CONTRACT, usd(14_800, 9));
    let btc_perp = market(1, &btc, market_kind::PERPETUAL, BTC_CONTRACT, usd(9_950_000, 8));
    let eth_perp = market(2, &eth, market_kind::PERPETUAL, ETH_CONTRACT, usd(295_000, 8));
    let sol_fut = market(3, &sol, market_kind::FUTURE, SOL_CONTRACT, usd(14_800, 9));
    let btc_fut = market(4, &btc, market_kind::FUTURE, BTC_CONTRACT, usd(9_950_000, 8));
    let flat = Fixed::ZERO;
    // Funding indices (quote native per contract) with fractional parts: SOL longs owe
    // 300 · 999.999999 = 299,999.9997 (settles to −300,000), ETH shorts get 40 · (7/3 + 100/7) = 664.76 (664).
    let (sol_cum, sol_snap) = (ratio(987_654_321, 1_000_000), ratio(-12_345_678, 1_000_000));
    let (eth_cum, eth_snap) = (ratio(7, 3), ratio(-100, 7));
    let sol_funded = with_funding(sol_perp, sol_cum);
    let eth_funded = with_funding(eth_perp, eth_cum);
    // A future never pays funding, whatever its index.
    let fut_funded = with_funding(sol_fut, sol_cum);
    // Pending loosening due now (Init / Maint / LiquidationEnd 8 / 4 / 6 %, PnL 60 / 80 / 95 %, cap 200
    // USDC); a conf multiplier of 2 in force and 3 pending from 1 s after now; stable above spot.
    let mut sol_loose = market(0, &sol, market_kind::PERPETUAL, SOL_CONTRACT, usd(16_000, 9));
    (sol_loose.pending_risk, sol_loose.pending_risk_activation_ts) =
        (market_risk([800, 400, 600], [6_000, 8_000, 9_500], 200_000_000), NOW);
    sol_loose.safety.conf_multiplier = ratio(2, 1).into();
    sol_loose.pending_safety =
        BankSafetyParams { conf_multiplier: ratio(3, 1).into(), activation_ts: NOW + 1, ..sol_loose.safety };
    let eth_below = market(2, &eth, market_kind::PERPETUAL, ETH_CONTRACT, usd(290_000, 8));
    // A size premium of 0.001 per √contract (1,000 ppm, as add_market stores it) on the SOL perp, and
    // 0.0005 pending (a loosening, due now) on the BTC perp.
    let mut sol_premium = sol_perp;
    sol_premium.risk.size_premium = Fixed::from_ratio(1_000, 1_000_000, Rounding::Floor).unwrap().into();
    let mut btc_premium = btc_perp;
    btc_premium.risk.size_premium = Fixed::from_ratio(1_000, 1_000_000, Rounding::Floor).unwrap().into();
    (btc_premium.pending_risk, btc_premium.pending_risk_activation_ts) = (
        MarketRiskParams {
            size_premium: Fixed::from_ratio(500, 1_000_000, Rounding::Floor).unwrap().into(),
            ..btc_premium.risk
        },
        NOW,
    );
    let stale_sol = pyth(15_012_345_678, 10_000_000, -8, 61);
    let wide_eth = pyth(300_012_345_678, 9_000_000_000, -8, 5); // conf 3 %
    vec![
        derivative_fixture(
            "perp_long_and_short",
            "1,000 USDC; SOL perp: bought 150 contracts (0.01 SOL) at $140, sold 50 at $148 (+$4 realised), \
             1 SOL long left; BTC perp: 0.05 BTC short from $99,000; requirement at the liability price",
            &[usdc_dep(1_000_000_000)],
            &[
                (sol_perp, sol_px, filled(&sol_perp, &[(150, 1_400_000), (-50, 1_480_000)], flat)),
                (btc_perp, btc_px, filled(&btc_perp, &[(-50, 99_000_000)], flat)),
            ],
            None,
        ),
        derivative_fixture(
            "perp_profit_beyond_init_cap",
            "100 USDC; 100 SOL long from $100 (+$5,012): Init counts 50 % capped at 100 USDC, Maint 90 %",
            &[usdc_dep(100_000_000)],
            &[(sol_perp, sol_px, filled(&sol_perp, &[(10_000, 1_000_000)], flat))],
            None,
        ),
        derivative_fixture(
            "perp_loss_liquidatable",
            "200 USDC; 50 SOL long from $160 (−$494 at full weight): every health type negative",
            &[usdc_dep(200_000_000)],
            &[(sol_perp, sol_px, filled(&sol_perp, &[(5_000, 1_600_000)], flat))],
            None,
        ),
        derivative_fixture(
            "perp_unsettled_funding",
            "500 USDC; SOL perp 3 SOL long owing 299,999.9997 µUSDC of funding (floored to −300,000), ETH perp \
             0.4 ETH short owed 664.76 (664), a SOL future whose funding index is ignored",
            &[usdc_dep(500_000_000)],
            &[
                (sol_funded, sol_px, filled(&sol_funded, &[(300, 1_500_000)], sol_snap)),
                (eth_funded, eth_px, filled(&eth_funded, &[(-40, 30_100_000)], eth_snap)),
                (fut_funded, sol_px, filled(&fut_funded, &[(100, 1_490_000)], sol_snap)),
            ],
            None,
        ),
        derivative_fixture(
            "settled_futures",
            "20 USDC; a SOL future settled at $155 with 1 SOL long from $150 still open (no requirement, profit \
             weighted; its oracle an hour stale and unread); a BTC future settled and closed with −3.21 USDC",
            &[usdc_dep(20_000_000)],
            &[
                (settled(sol_fut, usd(15_500, 9)), pyth(15_012_345_678, 10_000_000, -8, 3_600),
                    filled(&sol_fut, &[(100, 1_500_000)], flat)),
                (settled(btc_fut, usd(10_100_000, 8)), btc_px, DerivativePosition {
                    realized_pnl: -3_210_000, market_index: 4, in_use: 1, ..DerivativePosition::default() }),
            ],
            None,
        ),
        derivative_fixture(
            "market_params_pending_and_bias",
            "300 USDC; SOL perp short 2 SOL with a loosening due now (pending rates and weights apply), conf \
             multiplier 2 (3 pending later), stable $160 above spot; ETH perp 0.5 ETH long, stable below spot",
            &[usdc_dep(300_000_000)],
            &[
                (sol_loose, sol_px, filled(&sol_loose, &[(-200, 1_450_000)], flat)),
                (eth_below, eth_px, filled(&eth_below, &[(50, 29_000_000)], flat)),
            ],
            None,
        ),
        derivative_fixture(
            "perp_size_premium",
            "200,000 USDC; SOL perp with a size premium of 0.001 per √contract: 10,000 contracts (100 SOL) long \
             from $140: √10,000 = 100, Init 8 % + 10 % = 18 % (Maint 14 %, LiqEnd 16 %) of notional; BTC perp \
             (premium 0.0005 pending, due now) 2,500 contracts (2.5 BTC) short: √ = 50, Init 8 % + 2.5 % = 10.5 %, \
             Maint max(5 %, 6.5 %); a 3-contract SOL position would pay none (the premium binds above 400 contracts)",
            &[usdc_dep(200_000_000_000)],
            &[
                (sol_premium, sol_px, filled(&sol_premium, &[(10_000, 1_400_000)], flat)),
                (btc_premium, btc_px, filled(&btc_premium, &[(-2_500, 99_000_000)], flat)),
            ],
            None,
        ),
        derivative_fixture(
            "hedged_spot_and_short_perp",
            "10 SOL deposit hedged by a 10 SOL perp short at $150.10, 100 USDC borrowed: one SOL reading for both",
            &[(sol, sol_px, dep(&sol, 10_000_000_000)), (usdc, usdc_px, bor(&usdc, 100_000_000))],
            &[(sol_perp, sol_px, filled(&sol_perp, &[(-1_000, 1_501_000)], flat))],
            None,
        ),
        derivative_fixture(
            "closed_positions_realized_pnl",
            "10 USDC; SOL perp closed +$250 realised (Init 50 % capped at 100), BTC perp closed −$40 (in full)",
            &[usdc_dep(10_000_000)],
            &[
                (sol_perp, sol_px, filled(&sol_perp, &[(1_000, 1_250_000), (-1_000, 1_500_000)], flat)),
                (btc_perp, btc_px, filled(&btc_perp, &[(-10, 96_000_000), (10, 100_000_000)], flat)),
            ],
            None,
        ),
        derivative_fixture(
            "closed_position_stale_oracle",
            "a closed SOL perp (+$250 realised) reads no price: its 61 s old oracle is not refused",
            &[usdc_dep(10_000_000)],
            &[(sol_perp, stale_sol, filled(&sol_perp, &[(1_000, 1_250_000), (-1_000, 1_500_000)], flat))],
            None,
        ),
        derivative_fixture(
            "fallback_rules_stale_prices",
            "liquidation rules: a 61 s old SOL (long: the lower of last price and $148 stable), ETH conf 3 % \
             (short: the higher of last price and stable), a stale BTC deposit at 0, a stale USDC debt at its fallback",
            &[
                (btc, pyth(10_000_000_000_000, 5_000_000_000, -8, 61), dep(&btc, 10_000_000)),
                (usdc, pyth(100_000_000, 20_000, -8, 61), bor(&usdc, 400_000_000)),
            ],
            &[
                (sol_perp, stale_sol, filled(&sol_perp, &[(400, 1_450_000)], flat)),
                (eth_perp, wide_eth, filled(&eth_perp, &[(-30, 30_500_000)], flat)),
            ],
            Some(PriceRules::CONSERVATIVE),
        ),
        derivative_fixture(
            "fallback_rules_no_last_price",
            "liquidating the ETH perp (strict, fresh): the SOL perp short's oracle is negative, valued at its \
             $148 stable price",
            &[usdc_dep(50_000_000)],
            &[
                (sol_perp, pyth(-5, 0, -8, 1), filled(&sol_perp, &[(-100, 1_480_000)], flat)),
                (eth_perp, eth_px, filled(&eth_perp, &[(10, 30_000_000)], flat)),
            ],
            Some(PriceRules::position_liquidation(2)),
        ),
    ]
}

/// Accounts with derivative positions the program refuses to value (next to a USDC deposit).
pub(super) fn derivative_refused() -> Vec<Value> {
    let [usdc, sol, _, _, _, _] = majors();
    let [usdc_px, sol_px, _, _, _] = quotes();
    let usdc_dep = (usdc, usdc_px, dep(&usdc, 1_000_000_000));
    let perp = market(0, &sol, market_kind::PERPETUAL, SOL_CONTRACT, usd(14_800, 9));
    let long = filled(&perp, &[(100, 1_400_000)], Fixed::ZERO);
    let mut bad_rates = perp;
    bad_rates.risk.maint_rate = bps(800); // above LiquidationEnd 7.5 %
    let mut bad_weights = perp;
    bad_weights.risk.pnl_maint_weight = bps(10_100);
    let mut bad_premium = perp;
    bad_premium.risk.size_premium = bps(10_001); // above 1 per √contract
    let mut no_stable = perp;
    no_stable.stable_price = StoredFixed::ZERO;
    let huge = filled(&perp, &[], Fixed::ZERO);
    let huge = DerivativePosition { base_contracts: i64::MAX, ..huge };
    let stale = pyth(15_012_345_678, 10_000_000, -8, 61);
    let view = None;
    [
        ("stale_market", "a SOL perp in profit, oracle 61 s old", (perp, stale, long), view, "OracleStale"),
        (
            "wide_conf_market",
            "a SOL perp, oracle conf 3 %",
            (perp, pyth(15_000_000_000, 450_000_000, -8, 1), long),
            view,
            "OracleConfidenceTooWide",
        ),
        (
            "zero_market_price",
            "a SOL perp priced 0",
            (perp, pyth(0, 0, -8, 1), long),
            view,
            "OracleNonPositivePrice",
        ),
        (
            "strict_market_in_liquidation",
            "liquidation rules, the liquidated market's oracle 61 s old",
            (perp, stale, long),
            Some(PriceRules::position_liquidation(0)),
            "OracleStale",
        ),
        (
            "fallback_without_a_price",
            "liquidation rules, oracle price 0 and no stable price",
            (no_stable, pyth(0, 0, -8, 1), long),
            Some(PriceRules::CONSERVATIVE),
            "OracleNonPositivePrice",
        ),
        (
            "invalid_market_rates",
            "maint rate 8 % above LiquidationEnd 7.5 %",
            (bad_rates, sol_px, long),
            view,
            "InvalidWeights",
        ),
        ("invalid_pnl_weights", "Maint PnL weight 1.01", (bad_weights, sol_px, long), view, "InvalidWeights"),
        (
            "invalid_size_premium",
            "size premium 1.0001 per √contract (add_market allows at most 1)",
            (bad_premium, sol_px, long),
            view,
            "InvalidWeights",
        ),
        (
            "derivative_base_overflow",
            "i64::MAX contracts of 0.01 SOL",
            (perp, sol_px, huge),
            view,
            "MathOverflow",
        ),
    ]
    .into_iter()
    .map(|(name, covers, d, rules, error)| {
        let mut f = derivative_fixture(name, covers, &[usdc_dep], &[d], rules);
        f["expectedError"] = error.into();
        f
    })
    .collect()
}
