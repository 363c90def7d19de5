//! `add_option_market`, `set_volatility` and `update_risk_array`: what a
//! listing stores, every refused input with its exact error and nothing
//! changed, volatility raised at once and lowered after the group's delay,
//! and the stored risk array equal, bit for bit, to the engine's.
use xmargin::errors::XmarginError;
use xmargin::events::{OptionMarketAdded, RiskArrayUpdated, VolatilitySet};
use xmargin::instructions::{
    AddMarketArgs, AddOptionMarketArgs, ShortOptionArgs, UpdateMarketArgs, MAX_MIN_SAMPLES,
};
use xmargin::options::{default_grid, GRID_ID, GRID_LEN};
use xmargin::state::{market_kind, market_status, Market};
use xmargin_client::market_instructions as mixs;
use xmargin_risk::options::risk_array::compute_risk_array;
use xmargin_risk::price::OraclePrice;
use xmargin_risk::{Fixed, Rounding};
use xmargin_test_support::margin::bank_keys;
use xmargin_test_support::markets::{events, sol_future_args, sol_perp_args, SOL_CONTRACT};
use xmargin_test_support::options::{sol_call_args, sol_put_args, STRIKE_165, THIRTY_DAYS};
use xmargin_test_support::world::{World, SOL as SOL_SPEC};
use xmargin_test_support::{Address, Signer};

/// `World`'s group delays loosening by an hour.
const DELAY: i64 = 3_600;

fn bps(b: i64) -> Fixed {
    Fixed::from_ratio(b, 10_000, Rounding::Floor).unwrap()
}

fn market_address(w: &World, index: u16) -> Address {
    xmargin::pda::market_address(&w.group.group, index).0
}

#[track_caller]
fn refused_listing(w: &mut World, args: AddOptionMarketArgs, code: XmarginError) {
    let keys = vec![w.group.group, market_address(w, 0), market_address(w, 1)];
    let before = w.env.snapshot(&keys);
    w.add_option_market(args).expect_error(code);
    assert_eq!(before, w.env.snapshot(&keys), "a refused listing changed an account");
}

/// The option fields of a fresh SOL call, its event, and a put as market 1.
#[test]
fn add_option_market_stores_every_field() {
    let mut w = World::new();
    let now = w.env.unix_time();
    let args = sol_call_args(0, STRIKE_165, now + THIRTY_DAYS);
    let out = w.add_option_market(args);
    out.expect_ok();
    let m = w.market(0);
    let sol = bank_keys(&w.env, &w.group.group, 1);
    assert_eq!((m.kind, m.status, m.option_is_call), (market_kind::OPTION, market_status::ACTIVE, 1));
    assert_eq!((m.oracle, m.underlying_token_index, m.underlying_decimals), (sol.oracle, 1, 9));
    assert_eq!((m.contract_size, m.min_size, m.expiry_ts), (SOL_CONTRACT, 1, now + THIRTY_DAYS));
    assert_eq!((m.min_samples, args.min_samples), (5, 5), "the settlement's sample count as listed");
    assert_eq!(m.name_str(), "SOL-CALL");
    // Strike: 1.65 USDC per 0.01 SOL contract = 0.165 µUSDC per lamport (rounded down).
    assert_eq!(m.option.strike_per_contract, STRIKE_165);
    assert_eq!(m.strike.get(), Fixed::from_ratio(1_650_000, SOL_CONTRACT, Rounding::Floor).unwrap());
    assert_eq!(m.volatility.get(), bps(6_000));
    let o = &m.option;
    assert_eq!((o.min_volatility.get(), o.max_volatility.get()), (bps(1_000), bps(20_000)));
    assert_eq!(o.max_volatility_change.get(), bps(2_500));
    assert_eq!((o.pending_volatility.get(), o.pending_volatility_ts), (Fixed::ZERO, 0));
    // Derive's short-option rates by default: 15 % / 13 % / 11 % / 9 %.
    let short = [o.short_init_base, o.short_init_floor, o.short_liq_end, o.short_maint].map(|f| f.get());
    assert_eq!(short, [bps(1_500), bps(1_300), bps(1_100), bps(900)]);
    assert_eq!(m.risk.init_rate.get(), bps(1_000), "long options: the perpetual's rates on S·|Δ|");
    // No array until the first update_risk_array.
    assert_eq!((m.risk_array.computed_at, m.risk_array.grid_id), (0, 0));
    let listed = OraclePrice::from_pyth(SOL_SPEC.price, SOL_SPEC.conf, SOL_SPEC.exponent, 9, 6).unwrap();
    assert_eq!(m.stable_price.get(), listed.lo);
    let added = events::<OptionMarketAdded>(&out.logs);
    assert_eq!((added.len(), added[0].args, added[0].market), (1, args, market_address(&w, 0)));

    w.add_option_market(sol_put_args(1, 1_350_000, now + 86_400)).expect_ok();
    let p: Market = w.market(1);
    assert_eq!((p.kind, p.option_is_call, p.option.strike_per_contract), (market_kind::OPTION, 0, 1_350_000));
    assert_eq!(w.env.zero_copy::<xmargin::state::Group>(&w.group.group).market_count, 2);
}

/// Bad kind, strike, expiry, volatility settings, short rates, a size
/// premium, a settlement sample count outside a future's bounds, the wrong
/// signer: each its exact error, nothing changed.
#[test]
fn add_option_market_refusals() {
    let mut w = World::new();
    let now = w.env.unix_time();
    let ok = sol_call_args(0, STRIKE_165, now + THIRTY_DAYS);
    type Change = fn(&mut AddOptionMarketArgs, i64);
    use XmarginError::*;
    let cases: Vec<(&str, Change, XmarginError)> = vec![
        ("kind 2", |a, _| a.is_call = 2, InvalidOptionKind),
        ("strike 0", |a, _| a.strike = 0, InvalidOptionStrike),
        // $150 spot is 1.5 USDC per contract: 1/10 is 150,000, 10× is 15,000,000.
        ("strike below a tenth of spot", |a, _| a.strike = 149_999, InvalidOptionStrike),
        ("strike above ten times spot", |a, _| a.strike = 15_000_001, InvalidOptionStrike),
        ("expired", |a, now| a.expiry_ts = now - 1, InvalidOptionExpiry),
        ("inside the settlement window", |a, now| a.expiry_ts = now + 1_800, InvalidOptionExpiry),
        ("beyond 366 days", |a, now| a.expiry_ts = now + 366 * 86_400 + 1, InvalidOptionExpiry),
        ("volatility 0", |a, _| a.volatility.min_volatility_bps = 0, InvalidVolatilityConfig),
        ("volatility below its min", |a, _| a.volatility.volatility_bps = 999, InvalidVolatilityConfig),
        ("volatility above its max", |a, _| a.volatility.volatility_bps = 20_001, InvalidVolatilityConfig),
        ("max above 500 %", |a, _| a.volatility.max_volatility_bps = 50_001, InvalidVolatilityConfig),
        ("max change 0", |a, _| a.volatility.max_change_bps = 0, InvalidVolatilityConfig),
        ("max change above 100 %", |a, _| a.volatility.max_change_bps = 10_001, InvalidVolatilityConfig),
        ("short floor above base", |a, _| a.short.init_floor_bps = 1_600, InvalidMarketConfig),
        ("short maint above liq-end", |a, _| a.short.maint_bps = 1_200, InvalidMarketConfig),
        ("short maint 0", |a, _| a.short = ShortOptionArgs { maint_bps: 0, ..a.short }, InvalidMarketConfig),
        ("fees = short maint", |a, _| a.short.maint_bps = 150, InvalidMarketConfig),
        ("size premium", |a, _| a.risk.size_premium_ppm = 1, InvalidMarketConfig),
        ("contract size 0", |a, _| a.contract_size = 0, InvalidMarketConfig),
        // As a future's (add_market): at least one sample, at most one per second of the window.
        ("min samples 0", |a, _| a.min_samples = 0, InvalidMarketConfig),
        ("min samples above the max", |a, _| a.min_samples = MAX_MIN_SAMPLES + 1, InvalidMarketConfig),
        ("long init below liq-end", |a, _| a.risk.init_rate_bps = 700, InvalidMarketConfig),
        ("index 1", |a, _| a.market_index = 1, WrongMarketIndex),
    ];
    for (name, change, code) in cases {
        let mut args = ok;
        change(&mut args, now);
        println!("{name}");
        refused_listing(&mut w, args, code);
    }
    let eve = w.env.new_wallet(66);
    let sol = bank_keys(&w.env, &w.group.group, 1);
    let ix = mixs::add_option_market(&w.group.group, &eve.pubkey(), &eve.pubkey(), &sol, ok);
    let keys = vec![w.group.group, market_address(&w, 0)];
    w.env.send_err(&[ix], &[&eve], XmarginError::UnauthorizedAdmin, &keys);
    // The boundaries accepted: a tenth of spot, 366 days, 30 min + 1 s, 1 and 1,800 samples.
    w.add_option_market(AddOptionMarketArgs { strike: 150_000, min_samples: 1, ..ok }).expect_ok();
    w.add_option_market(sol_put_args(1, 15_000_000, now + 366 * 86_400)).expect_ok();
    w.add_option_market(sol_call_args(2, STRIKE_165, now + 1_801)).expect_ok();
    w.add_option_market(AddOptionMarketArgs { market_index: 3, min_samples: MAX_MIN_SAMPLES, ..ok })
        .expect_ok();
    assert_eq!((w.market(0).min_samples, w.market(3).min_samples), (1, MAX_MIN_SAMPLES));
    // Nor a size premium later through update_market.
    let mut risk = ok.risk;
    risk.size_premium_ppm = 1;
    let admin = w.admin.insecure_clone();
    let update = UpdateMarketArgs { risk: Some(risk), ..Default::default() };
    let ix = mixs::update_market(&w.group.group, &admin.pubkey(), &market_address(&w, 0), update);
    w.env.send_err(&[ix], &[&admin], InvalidMarketConfig, &[market_address(&w, 0)]);
}

/// An option's settlement needs samples as a future's does: a listing with
/// none required (anyone's lone sample would then fix the price) or more
/// than the window holds is refused with the future's error, nothing changed.
#[test]
fn option_listing_needs_a_futures_sample_count() {
    let mut w = World::new();
    let now = w.env.unix_time();
    let expiry = now + THIRTY_DAYS;
    for min_samples in [0, MAX_MIN_SAMPLES + 1] {
        let future = w.add_market(AddMarketArgs { min_samples, ..sol_future_args(0, expiry) });
        future.expect_error(XmarginError::InvalidMarketConfig);
        let option = AddOptionMarketArgs { min_samples, ..sol_call_args(0, STRIKE_165, expiry) };
        refused_listing(&mut w, option, XmarginError::InvalidMarketConfig);
    }
    assert_eq!(w.env.zero_copy::<xmargin::state::Group>(&w.group.group).market_count, 0);
    w.add_option_market(AddOptionMarketArgs { min_samples: 1, ..sol_call_args(0, STRIKE_165, expiry) })
        .expect_ok();
    assert_eq!(w.market(0).min_samples, 1);
}

/// A raise applies at once and cancels a pending lowering; a lowering waits
/// the group's delay; bounds, step, signer and kind refused with nothing changed.
#[test]
fn set_volatility_bounds_and_delay() {
    let mut w = World::new();
    let now = w.env.unix_time();
    w.add_option_market(sol_call_args(0, STRIKE_165, now + THIRTY_DAYS)).expect_ok();
    w.add_market(sol_perp_args(1)).expect_ok();
    let keys = vec![market_address(&w, 0), market_address(&w, 1)];

    // Raise 60 % → 75 % (the 25 % step exactly): at once.
    let out = w.set_volatility(0, 7_500);
    out.expect_ok();
    assert_eq!(w.market(0).volatility.get(), bps(7_500));
    let ev = events::<VolatilitySet>(&out.logs);
    assert_eq!((ev[0].previous_bps, ev[0].volatility_bps, ev[0].activation_ts), (6_000, 7_500, 0));

    // Lower 75 % → 60 %: pending for the delay, in force after it.
    let out = w.set_volatility(0, 6_000);
    out.expect_ok();
    let m = w.market(0);
    assert_eq!(m.volatility.get(), bps(7_500));
    assert_eq!(
        (m.option.pending_volatility.get(), m.option.pending_volatility_ts),
        (bps(6_000), now + DELAY)
    );
    assert_eq!(events::<VolatilitySet>(&out.logs)[0].activation_ts, now + DELAY);
    assert_eq!(m.volatility_at(now + DELAY - 1), bps(7_500));
    assert_eq!(m.volatility_at(now + DELAY), bps(6_000));
    // A raise meanwhile replaces the pending lowering.
    w.set_volatility(0, 8_000).expect_ok();
    let m = w.market(0);
    assert_eq!((m.volatility.get(), m.option.pending_volatility_ts), (bps(8_000), 0));
    // Lower again and let it come into force: the step is from the volatility in force.
    w.set_volatility(0, 6_000).expect_ok();
    w.env.warp(DELAY);
    w.set_volatility(0, 7_500).expect_ok(); // 60 % → 75 %: the due 60 % applied first
    assert_eq!(w.market(0).volatility.get(), bps(7_500));

    use XmarginError::*;
    for (vol, code) in [(7_500 + 1_875 + 1, VolatilityChangeTooLarge), (5_624, VolatilityChangeTooLarge)] {
        let ix = mixs::set_volatility(&w.group.group, &w.admin.pubkey(), &keys[0], vol);
        let admin = w.admin.insecure_clone();
        w.env.send_err(&[ix], &[&admin], code, &keys);
    }
    // Bounds: down to 10 % and up to 200 % only (within the step).
    let mut w2 = World::new();
    let mut args = sol_call_args(0, STRIKE_165, w2.env.unix_time() + THIRTY_DAYS);
    args.volatility.volatility_bps = 1_100;
    args.volatility.max_change_bps = 10_000;
    w2.add_option_market(args).expect_ok();
    let k2 = vec![market_address(&w2, 0)];
    for (vol, code) in [(999, VolatilityOutOfBounds), (2_201, VolatilityChangeTooLarge)] {
        let ix = mixs::set_volatility(&w2.group.group, &w2.admin.pubkey(), &k2[0], vol);
        let admin = w2.admin.insecure_clone();
        let f = w2.env.send_err(&[ix], &[&admin], code, &k2);
        assert!(f.logs.iter().any(|l| l.contains("Error Code")), "{f}");
    }
    w2.set_volatility(0, 1_000).expect_ok();
    // Not the admin; not an option market.
    let eve = w.env.new_wallet(66);
    let ix = mixs::set_volatility(&w.group.group, &eve.pubkey(), &keys[0], 7_000);
    w.env.send_err(&[ix], &[&eve], UnauthorizedAdmin, &keys);
    let admin = w.admin.insecure_clone();
    let ix = mixs::set_volatility(&w.group.group, &admin.pubkey(), &keys[1], 7_000);
    w.env.send_err(&[ix], &[&admin], NotOptionMarket, &keys);
    let mut w3 = World::new();
    let mut big = sol_call_args(0, STRIKE_165, w3.env.unix_time() + THIRTY_DAYS);
    big.volatility = xmargin::instructions::VolatilityArgs {
        volatility_bps: 19_000,
        max_change_bps: 10_000,
        ..big.volatility
    };
    w3.add_option_market(big).expect_ok();
    let k3 = vec![market_address(&w3, 0)];
    let ix = mixs::set_volatility(&w3.group.group, &w3.admin.pubkey(), &k3[0], 20_001);
    let admin = w3.admin.insecure_clone();
    w3.env.send_err(&[ix], &[&admin], VolatilityOutOfBounds, &k3);
}

/// The stored array is the engine's `compute_risk_array` at the oracle,
/// bit for bit; refused on a perpetual, with a stale oracle, after expiry.
#[test]
fn update_risk_array_stores_the_engines_array() {
    let mut w = World::new();
    let now = w.env.unix_time();
    w.add_option_market(sol_call_args(0, STRIKE_165, now + THIRTY_DAYS)).expect_ok();
    w.add_market(sol_perp_args(1)).expect_ok();
    w.env.warp(7);
    w.refresh_prices();
    let out = w.update_risk_array(0);
    let cu = out.expect_ok();
    println!("update_risk_array: {cu} CU");
    let m = w.market(0);
    let spot = OraclePrice::from_pyth(SOL_SPEC.price, SOL_SPEC.conf, SOL_SPEC.exponent, 9, 6).unwrap().lo;
    let spec = m.option_spec();
    let want = compute_risk_array(&spec, spot, bps(6_000), now + 7, &default_grid().unwrap()).unwrap();
    assert_eq!(m.risk_array.to_array().unwrap(), want, "the program's array is the engine's");
    assert_eq!((want.grid_id, usize::from(want.scenario_count)), (GRID_ID, GRID_LEN));
    // $165 call, 30 days, σ 60 %, spot $150: ≈ 4.905 USDC per SOL, 0.049 per contract.
    let per_contract =
        want.value.checked_mul_int(SOL_CONTRACT as i64).unwrap().to_i64(Rounding::Floor).unwrap();
    assert_eq!(per_contract, 49_053);
    let ev = events::<RiskArrayUpdated>(&out.logs);
    assert_eq!((ev[0].computed_at, ev[0].value_per_contract), (now + 7, 49_053));

    // The crank keeps the market's stable price live (no funding crank on options).
    let stable = w.market(0).stable_price.get();
    w.env.warp(600);
    w.set_price(1, 15_200_000_000, 10_000_000);
    w.update_risk_array(0).expect_ok();
    assert!(w.market(0).stable_price.get() > stable, "the stable price follows the oracle up");

    let keys = vec![market_address(&w, 0), market_address(&w, 1)];
    let perp = w.market_keys(1);
    let ix = mixs::update_risk_array(&w.group.group, &perp);
    w.env.send_err(&[ix], &[], XmarginError::NotOptionMarket, &keys);
    w.env.warp(61);
    let ix = mixs::update_risk_array(&w.group.group, &w.market_keys(0));
    w.env.send_err(&[ix], &[], XmarginError::OracleStale, &keys);
    w.env.warp(THIRTY_DAYS);
    w.refresh_prices();
    let ix = mixs::update_risk_array(&w.group.group, &w.market_keys(0));
    w.env.send_err(&[ix], &[], XmarginError::MarketExpired, &keys);
}
