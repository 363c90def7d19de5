//! Token fixtures: banks (the majors, their weights, indices, scaling,
//! confidence, pending loosenings), Pyth readings, and the accounts of the
//! file's `fixtures` and `refused` lists (token positions only).
use super::*;

pub(super) fn ratio(num: i64, den: u64) -> Fixed {
    Fixed::from_ratio(num, den, Rounding::Floor).unwrap()
}

pub(super) fn bps(b: i64) -> StoredFixed {
    ratio(b, 10_000).into()
}

/// Weights in bps, in [`risk_fixed`] order (init, maint, liq-end asset; init, maint, liq-end
/// liability); no caps, no size scaling.
pub(super) fn params(w: [i64; 6]) -> BankRiskParams {
    let mut r = BankRiskParams { deposit_cap: u64::MAX, borrow_limit: u64::MAX, ..Default::default() };
    risk_fixed(&mut r).into_iter().zip(w).for_each(|((_, f), b)| *f = bps(b));
    r
}

/// Quote native (µUSDC) per native unit for `cents` dollars per whole token.
pub(super) fn usd(cents: i64, decimals: u32) -> Fixed {
    ratio(cents * 10_000, 10u64.pow(decimals))
}

pub(super) const USDC_W: [i64; 6] = [9_500, 9_800, 9_700, 10_500, 10_200, 10_300];
pub(super) const SOL_W: [i64; 6] = [8_000, 9_000, 8_500, 12_000, 11_000, 11_500];
pub(super) const BTC_W: [i64; 6] = [7_500, 8_500, 8_000, 12_500, 11_500, 12_000];
pub(super) const ALT_W: [i64; 6] = [6_000, 7_000, 6_500, 14_000, 13_000, 13_500];

/// A bank at indices 1, conf multiplier 1, max conf 2%, max age 60 s.
/// `b` last accrued `secs` before `NOW`, its curve capped at `max_rate_bps`.
pub(super) fn accrued_ago(mut b: Bank, secs: i64, max_rate_bps: i64) -> Bank {
    (b.last_accrual_ts, b.max_rate) = (NOW - secs, bps(max_rate_bps));
    b
}

pub(super) fn bank(token_index: u16, decimals: u8, w: [i64; 6], stable: Fixed) -> Bank {
    let mut b: Bank = bytemuck::Zeroable::zeroed();
    (b.token_index, b.mint_decimals, b.risk) = (token_index, decimals, params(w));
    (b.deposit_index, b.borrow_index, b.conf_multiplier) =
        (Fixed::ONE.into(), Fixed::ONE.into(), Fixed::ONE.into());
    (b.max_conf_ratio, b.max_oracle_age_secs, b.stable_price) = (bps(200), 60, stable.into());
    b
}

/// USDC, SOL, BTC, ETH, JUP, WIF (token indices 0–5; stable prices near spot).
pub(super) fn majors() -> [Bank; 6] {
    [
        bank(0, 6, USDC_W, usd(100, 6)),
        bank(1, 9, SOL_W, usd(14_800, 9)),
        bank(2, 8, BTC_W, usd(9_950_000, 8)),
        bank(3, 8, ALT_W, usd(295_000, 8)),
        bank(4, 6, ALT_W, usd(80, 6)),
        bank(5, 6, ALT_W, usd(200, 6)),
    ]
}

/// Pyth reading published `age` seconds before [`NOW`].
pub(super) fn pyth(price: i64, conf: u64, expo: i32, age: i64) -> PythReading {
    PythReading { price, conf, exponent: expo, publish_time: NOW - age }
}

/// Fresh readings of the first five majors.
pub(super) fn quotes() -> [PythReading; 5] {
    [
        pyth(100_000_000, 20_000, -8, 3),               // $1.0000 ± 0.0002
        pyth(15_012_345_678, 10_000_000, -8, 5),        // $150.12345678 ± 0.10
        pyth(10_000_000_000_000, 5_000_000_000, -8, 2), // $100,000 ± 50
        pyth(300_012_345_678, 150_000_000, -8, 7),      // $3,000.12345678 ± 1.50
        pyth(85_123_456, 50_000, -8, 1),                // $0.85123456 ± 0.0005
    ]
}

/// Shares the program mints for a deposit of `native` units.
pub(super) fn dep(b: &Bank, native: u64) -> Fixed {
    deposit_shares_for(Fixed::from_u64(native), b.deposit_index.get()).unwrap()
}

/// Shares (negative) the program books for a borrow of `native` units.
pub(super) fn bor(b: &Bank, native: u64) -> Fixed {
    borrow_shares_for(Fixed::from_u64(native), b.borrow_index.get()).unwrap().checked_neg().unwrap()
}

pub(super) fn with_indices(mut b: Bank, deposit: Fixed, borrow: Fixed) -> Bank {
    (b.deposit_index, b.borrow_index) = (deposit.into(), borrow.into());
    b
}

/// Bank totals (native units) and size-scaling starts (µUSDC).
pub(super) fn scaled(mut b: Bank, totals: [u64; 2], starts: [u64; 2]) -> Bank {
    b.deposit_shares = Fixed::from_u64(totals[0]).into();
    b.borrow_shares = Fixed::from_u64(totals[1]).into();
    (b.risk.deposit_weight_scale_start, b.risk.borrow_weight_scale_start) = (starts[0], starts[1]);
    b
}

pub(super) fn with_conf(mut b: Bank, multiplier: Fixed, stable: Fixed) -> Bank {
    (b.conf_multiplier, b.stable_price) = (multiplier.into(), stable.into());
    b
}

/// A pending loosening (weights `w`, no size scaling) due at `activation`.
pub(super) fn pending(mut b: Bank, w: [i64; 6], activation: i64) -> Bank {
    (b.pending_risk, b.pending_activation_ts) = (params(w), activation);
    b
}

pub(super) fn fixture(name: &str, covers: &str, positions: &[Position]) -> Value {
    json!({
        "name": name,
        "covers": covers,
        "now": NOW.to_string(),
        "quoteDecimals": QUOTE_DECIMALS,
        "positions": positions.iter().map(position_json).collect::<Vec<_>>(),
    })
}

/// Accounts the program values.
pub(super) fn cases() -> Vec<Value> {
    let [usdc, sol, btc, eth, jup, wif] = majors();
    let [usdc_px, sol_px, btc_px, eth_px, jup_px] = quotes();
    let (i1, i2) = (ratio(10_123, 10_000), ratio(10_456, 10_000));
    let (sol_ix, eth_ix) = (with_indices(sol, i1, i2), with_indices(eth, i1, i2));
    let usdc_ix = with_indices(usdc, ratio(10_087, 10_000), i2);
    // 2M SOL deposited, 500k borrowed; scaling from $50M deposits / $20M borrows.
    let sol_whale =
        scaled(sol, [2_000_000 * 10u64.pow(9), 500_000 * 10u64.pow(9)], [50, 20].map(|m| m * 10u64.pow(12)));
    let sol_big = with_indices(sol_whale, i1, i2);
    let usdc_big = scaled(usdc, [200, 80].map(|m| m * 10u64.pow(12)), [100, 10].map(|m| m * 10u64.pow(12)));
    let btc_small = scaled(btc, [1_000_000_000, 100_000_000], [100 * 10u64.pow(12); 2]);
    let (sol_pending, btc_pending) = (
        |at| pending(sol_whale, [8_500, 9_300, 9_000, 11_500, 10_700, 11_000], at),
        |at| pending(btc, [7_800, 8_700, 8_200, 12_200, 11_200, 11_700], at),
    );
    let (wei, hundreds) = (bank(6, 18, ALT_W, usd(295_000, 18)), bank(7, 0, ALT_W, Fixed::ZERO));
    let (cents, tiny) = (bank(8, 6, ALT_W, usd(80, 6)), bank(9, 6, ALT_W, usd(100, 6)));
    // The `shrink` shortcut made visible: $1 tokens (exact price, no conf) whose totals put the exact
    // scaled weight just above an integer ulp q (deposits D = floor(w·T/q): the shortcut floors to
    // q − 1) or just below it (borrows M = floor(q·T/w): the shortcut ceils to q + 1).
    let start = Fixed::from_u64(10u64.pow(13)); // $10M
    let (mut usd_a, mut usd_l) = (bank(10, 6, USDC_W, Fixed::ONE), bank(11, 6, USDC_W, Fixed::ONE));
    let (wa, wl) = (usd_a.risk.init_asset_weight.get(), usd_l.risk.init_liab_weight.get());
    let qa = Fixed::from_bits(wa.to_bits() / 4 - 12_345);
    usd_a.deposit_shares = wa.checked_mul_div(start, qa, Rounding::Floor).unwrap().into();
    usd_a.risk.deposit_weight_scale_start = 10u64.pow(13);
    let ql = Fixed::from_bits(wl.to_bits() * 4 + 12_345);
    usd_l.borrow_shares = ql.checked_mul_div(start, wl, Rounding::Floor).unwrap().into();
    usd_l.risk.borrow_weight_scale_start = 10u64.pow(13);
    let one_usd = pyth(100_000_000, 0, -8, 1);
    let ten_sol = (sol, sol_px, dep(&sol, 10_000_000_000));
    // Conf multiplier k and stable price: above spot (SOL asset, BTC liability), below (ETH asset, JUP
    // liability); k = 60 takes the WIF asset price to 0; k = 0 ignores the confidence.
    let sol_k = with_conf(sol, ratio(3, 2), usd(16_000, 9));
    let eth_k = with_conf(eth, ratio(2, 1), usd(290_000, 8));
    let btc_k = with_conf(btc, ratio(3, 4), usd(10_150_000, 8));
    let jup_k = with_conf(jup, ratio(5, 4), usd(80, 6));
    let wif_k = with_conf(wif, ratio(60, 1), usd(200, 6));
    let usdc_k = with_conf(usdc, Fixed::ZERO, usd(100, 6));
    vec![
        fixture(
            "usdc_deposit",
            "1,000 USDC (6 decimals, $1.00 expo -8)",
            &[(usdc, usdc_px, dep(&usdc, 10u64.pow(9)))],
        ),
        fixture(
            "sol_btc_deposits_usdc_borrow",
            "10 SOL (9 decimals) + 0.5 BTC (8 decimals) deposits, 20,000 USDC borrowed",
            &[ten_sol, (btc, btc_px, dep(&btc, 50_000_000)), (usdc, usdc_px, bor(&usdc, 20_000_000_000))],
        ),
        fixture(
            "sol_borrow_against_btc",
            "1 BTC deposit, 200 SOL borrowed",
            &[(btc, btc_px, dep(&btc, 100_000_000)), (sol, sol_px, bor(&sol, 200_000_000_000))],
        ),
        fixture(
            "non_trivial_indices",
            "deposit index 1.0123 / 1.0087, borrow index 1.0456: fractional shares",
            &[
                (sol_ix, sol_px, dep(&sol_ix, 12_345_678_901)),
                (usdc_ix, usdc_px, bor(&usdc_ix, 500_123_456)),
                (eth_ix, eth_px, bor(&eth_ix, 1_234_567)),
            ],
        ),
        fixture(
            "size_scaling_deposit_and_borrow",
            "SOL and USDC banks past both scale starts (shrink shortcut active); BTC below its starts",
            &[
                (sol_big, sol_px, dep(&sol_big, 1_000_000_000_000)),
                (btc_small, btc_px, dep(&btc_small, 20_000_000)),
                (usdc_big, usdc_px, bor(&usdc_big, 50_000_000_000)),
            ],
        ),
        fixture(
            "size_scaling_shrink_rounding",
            "$40M deposits / borrows vs $10M starts, tuned so the shrink shortcut moves the weight 1 ulp",
            &[(usd_a, one_usd, dep(&usd_a, 10u64.pow(10))), (usd_l, one_usd, bor(&usd_l, 10u64.pow(9)))],
        ),
        fixture(
            "pending_loosening_before_activation",
            "loosening due 1 s after now: current (size-scaled) weights apply",
            &[
                (sol_pending(NOW + 1), sol_px, dep(&sol, 10u64.pow(11))),
                (btc_pending(NOW + 1), btc_px, bor(&btc, 5_000_000)),
            ],
        ),
        fixture(
            "pending_loosening_at_activation",
            "same account, now = activation ts: pending (looser, unscaled) weights apply",
            &[
                (sol_pending(NOW), sol_px, dep(&sol, 10u64.pow(11))),
                (btc_pending(NOW), btc_px, bor(&btc, 5_000_000)),
            ],
        ),
        fixture(
            "stale_and_uncertain_assets",
            "valued 0: BTC 61 s old, ETH conf 3%, JUP price 0, WIF < 0, token 9 conf 2% (= max, fails)",
            &[
                (sol, pyth(15_012_345_678, 10_000_000, -8, 60), dep(&sol, 10_000_000_000)), // 60 s: fresh
                (btc, pyth(10_000_000_000_000, 5_000_000_000, -8, 61), dep(&btc, 100_000_000)),
                (eth, pyth(300_000_000_000, 9_000_000_000, -8, 1), dep(&eth, 500_000_000)),
                (jup, pyth(0, 0, -8, 1), dep(&jup, 1_000_000_000)),
                (wif, pyth(-5, 0, -8, 1), dep(&wif, 1_000_000_000)),
                (tiny, pyth(100_000_000, 2_000_000, -8, 1), dep(&tiny, 1_000_000_000)),
                (usdc, pyth(100_000_000, 20_000, -8, -30), bor(&usdc, 900_000_000)), // future: age 0
            ],
        ),
        fixture(
            "wide_conf_and_stable_price",
            "conf multipliers 1.5/2/0.75/1.25/60/0, conf ≤ 1.9%, stable above and below spot, asset price 0",
            &[
                (sol_k, pyth(15_012_345_678, 270_000_000, -8, 5), dep(&sol, 25 * 10u64.pow(9))),
                (eth_k, pyth(300_012_345_678, 4_500_000_000, -8, 5), dep(&eth, 300_000_000)),
                (btc_k, pyth(10_000_000_000_000, 10u64.pow(11), -8, 5), bor(&btc, 10_000_000)),
                (jup_k, pyth(85_123_456, 1_617_346, -8, 5), bor(&jup, 1_000_000_000)),
                (wif_k, pyth(212_345_678, 4_000_000, -8, 5), dep(&wif, 500_000_000)),
                (usdc_k, usdc_px, dep(&usdc, 20_000_000_000)),
            ],
        ),
        fixture(
            "margin_call_band",
            "10 SOL against 1,200 USDC: Init < 0 <= Maint",
            &[ten_sol, (usdc, usdc_px, bor(&usdc, 1_200_000_000))],
        ),
        fixture(
            "negative_health",
            "2 SOL against 1,000 USDC: every health type negative",
            &[(sol, sol_px, dep(&sol, 2_000_000_000)), (usdc, usdc_px, bor(&usdc, 1_000_000_000))],
        ),
        fixture(
            "debts_in_banks_not_accrued",
            "USDC (max 100 %) accrued an hour ago, BTC (max 50 %) a day ago: their debts grow at the max rate; a day-old SOL deposit does not",
            &[
                (accrued_ago(sol, 86_400, 10_000), sol_px, dep(&sol, 10_000_000_000)),
                (accrued_ago(usdc, 3_600, 10_000), usdc_px, bor(&usdc, 900_000_000)),
                (accrued_ago(btc, 86_400, 5_000), btc_px, bor(&btc, 100_000)),
            ],
        ),
        fixture(
            "dust_balances",
            "1-ulp deposit and borrow shares, 1 native unit deposited and borrowed, 0 shares",
            &[
                (sol_ix, sol_px, Fixed::DELTA),
                (usdc_ix, usdc_px, Fixed::DELTA.checked_neg().unwrap()),
                (btc, btc_px, dep(&btc, 1)),
                (eth_ix, eth_px, bor(&eth_ix, 1)),
                (jup, jup_px, Fixed::ZERO),
            ],
        ),
        fixture(
            "exponent_paths",
            "500k ETH in wei (10^-20), 0 decimals expo +2 without stable price, expo -5, expo -40 (price 0)",
            &[
                (wei, eth_px, Fixed::checked_from_i128(500_000 * 10i128.pow(18)).unwrap()),
                (hundreds, pyth(5, 0, 2, 5), Fixed::from_u64(3)),
                (cents, pyth(85_123, 12, -5, 5), bor(&cents, 100_000_000)),
                (tiny, pyth(1, 0, -40, 5), dep(&tiny, 1_000_000)),
            ],
        ),
    ]
}

/// Accounts the program refuses to value (each next to a healthy SOL
/// deposit), with the program's error name.
pub(super) fn refused() -> Vec<Value> {
    let [usdc, sol, btc, _, jup, _] = majors();
    let [_, sol_px, _, _, jup_px] = quotes();
    let mut bad = jup;
    bad.risk.maint_asset_weight = bps(10_100);
    let mut huge = with_indices(sol, ratio(2, 1), Fixed::ONE);
    huge.token_index = 7;
    let sol_dep = (sol, sol_px, dep(&sol, 10_000_000_000));
    let stale = (usdc, pyth(100_000_000, 0, -8, 61), bor(&usdc, 1_000_000));
    let wide = (btc, pyth(10_000_000_000_000, 300_000_000_000, -8, 1), bor(&btc, 1_000));
    let at_zero = (jup, pyth(0, 0, -8, 1), bor(&jup, 1_000_000));
    let overflow = (huge, sol_px, Fixed::MAX.checked_sub(Fixed::ONE).unwrap());
    [
        ("stale_liability", "USDC borrow 61 s old", stale, "OracleStale"),
        ("wide_conf_liability", "BTC borrow with conf 3%", wide, "OracleConfidenceTooWide"),
        ("non_positive_price_liability", "JUP borrow priced 0", at_zero, "OracleNonPositivePrice"),
        (
            "invalid_weights",
            "maint asset weight 1.01 > 1",
            (bad, jup_px, dep(&bad, 1_000_000)),
            "InvalidWeights",
        ),
        ("balance_overflow", "shares near the I80F48 max at deposit index 2", overflow, "MathOverflow"),
        ("duplicate_token", "the same token listed twice", sol_dep, "HealthAccountMismatch"),
    ]
    .into_iter()
    .map(|(name, covers, p, error)| {
        let mut f = fixture(name, covers, &[sol_dep, p]);
        f["expectedError"] = error.into();
        f
    })
    .collect()
}
