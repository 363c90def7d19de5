//! `add_market` and `update_market`: what a listing stores, every refused
//! listing with its exact error and nothing changed, and the delayed
//! loosening of market parameters (the bank rule of `update_bank_delays.rs`:
//! tightening at once, loosening after the group's delay, a newer update
//! replacing a pending one).
use xmargin::errors::XmarginError;
use xmargin::events::MarketAdded;
use xmargin::instructions::{AddMarketArgs, BankOracleArgs, MarketFundingArgs, UpdateMarketArgs};
use xmargin::state::{market_kind, market_status, Market, MarketRiskParams};
use xmargin_client::instructions::BankKeys;
use xmargin_client::market_instructions as mixs;
use xmargin_risk::perp_funding::FUNDING_PERIOD_SECS;
use xmargin_risk::price::OraclePrice;
use xmargin_risk::{Fixed, Rounding};
use xmargin_test_support::fixtures::{default_bank_args, setup_bank, setup_group};
use xmargin_test_support::margin::bank_keys;
use xmargin_test_support::markets::{events, sol_future_args, sol_perp_args, SOL_CONTRACT};
use xmargin_test_support::pyth::feeds;
use xmargin_test_support::world::{World, SOL as SOL_SPEC};
use xmargin_test_support::{Address, Signer};

const SOL: u16 = 1;
/// `World`'s group delays loosening by an hour.
const DELAY: i64 = 3_600;

fn bps(b: i64) -> Fixed {
    Fixed::from_ratio(b, 10_000, Rounding::Floor).unwrap()
}

/// $150.00 ± 0.10 in quote native per lamport: 0.15 ± 0.0001 (rounded down to 2^-48).
fn listed_price() -> OraclePrice {
    OraclePrice::from_pyth(SOL_SPEC.price, SOL_SPEC.conf, SOL_SPEC.exponent, 9, 6).unwrap()
}

fn market_address(w: &World, index: u16) -> Address {
    xmargin::pda::market_address(&w.group.group, index).0
}

/// The group and the PDAs of markets 0 and 1: what a refused listing must not touch.
fn listing_keys(w: &World) -> Vec<Address> {
    vec![w.group.group, market_address(w, 0), market_address(w, 1)]
}

#[track_caller]
fn refused_listing(w: &mut World, args: AddMarketArgs, code: XmarginError) {
    let keys = listing_keys(w);
    let before = w.env.snapshot(&keys);
    w.add_market(args).expect_error(code);
    assert_eq!(before, w.env.snapshot(&keys), "a refused listing changed an account");
}

/// Every field of a fresh SOL perpetual, its event, and the group's count;
/// then a dated future as market 1.
#[test]
fn add_market_stores_every_field() {
    let mut w = World::new();
    let now = w.env.unix_time();
    let out = w.add_market(sol_perp_args(0));
    out.expect_ok();
    let m = w.market(0);
    let sol_bank = bank_keys(&w.env, &w.group.group, SOL);
    assert_eq!(m.group, w.group.group);
    assert_eq!(m.oracle, sol_bank.oracle, "the underlying bank's oracle");
    assert_eq!(m.feed_id, xmargin_test_support::pyth::feed_id(feeds::SOL_USD));
    assert_eq!(m.name_str(), "SOL-PERP");
    assert_eq!((m.market_index, m.underlying_token_index, m.underlying_decimals), (0, SOL, 9));
    assert_eq!((m.kind, m.status), (market_kind::PERPETUAL, market_status::ACTIVE));
    assert_eq!((m.contract_size, m.min_size, m.expiry_ts, m.min_samples), (SOL_CONTRACT, 1, 0, 0));
    assert_eq!(m.bump, xmargin::pda::market_address(&w.group.group, 0).1);
    let risk = MarketRiskParams {
        init_rate: bps(1_000).into(),
        maint_rate: bps(500).into(),
        liq_end_rate: bps(750).into(),
        pnl_init_weight: bps(5_000).into(),
        pnl_liq_end_weight: bps(7_500).into(),
        pnl_maint_weight: bps(9_000).into(),
        price_band: bps(500).into(),
        settle_fraction: bps(2_000).into(),
        size_premium: Default::default(),
        init_pnl_cap: 100_000_000,
        open_interest_cap: 1_000_000_000,
    };
    assert_eq!(m.risk, risk);
    assert_eq!((m.pending_risk, m.pending_risk_activation_ts), (MarketRiskParams::default(), 0));
    // Oracle rules copied from the SOL bank (60 s, 2 %, k = 1, 20 %/h), the market's own fees.
    assert_eq!(m.safety.max_oracle_age_secs, 60);
    assert_eq!(m.safety.max_conf_ratio.get(), bps(200));
    assert_eq!(m.safety.conf_multiplier.get(), Fixed::ONE);
    let growth = Fixed::from_ratio(2_000, 10_000 * 3_600, Rounding::Floor).unwrap();
    assert_eq!(m.safety.stable_price_growth_per_sec.get(), growth);
    assert_eq!(m.safety.liquidation_fee.get(), bps(100));
    assert_eq!(m.safety.activation_ts, 0);
    assert_eq!(m.pending_safety.activation_ts, 0);
    assert_eq!(m.insurance_fee.get(), bps(50));
    assert_eq!((m.max_funding_premium.get(), m.twap_window_secs, m.mark_depth), (bps(1_000), 3_600, 100));
    // Prices seeded from the oracle reading at listing.
    let p = listed_price().lo;
    assert_eq!(p, Fixed::from_ratio(15, 100, Rounding::Floor).unwrap(), "0.15 quote native per lamport");
    for (name, v) in [("stable", m.stable_price), ("mark", m.mark_twap), ("oracle", m.oracle_twap)] {
        assert_eq!(v.get(), p, "{name} price");
    }
    assert_eq!(m.mark_premium.get(), Fixed::ZERO, "the mark starts at the oracle");
    assert_eq!((m.stable_price_ts, m.twap_ts, m.last_funding_ts), (now, now, now));
    // Nothing accrued, sampled or open.
    for v in [m.cum_funding, m.last_funding_rate, m.funding_dust, m.sample_sum, m.settlement_price] {
        assert_eq!(v.get(), Fixed::ZERO);
    }
    assert_eq!((m.open_interest, m.position_count, m.sample_count, m.sample_secs), (0, 0, 0, 0));
    assert_eq!(w.env.zero_copy::<xmargin::state::Group>(&w.group.group).market_count, 1);
    let added = events::<MarketAdded>(&out.logs);
    assert_eq!(added.len(), 1);
    assert_eq!((added[0].market, added[0].oracle), (market_address(&w, 0), sol_bank.oracle));
    assert_eq!((added[0].underlying_bank, added[0].args), (sol_bank.bank, sol_perp_args(0)));

    let expiry = now + 7 * 86_400;
    w.add_market(sol_future_args(1, expiry)).expect_ok();
    let f: Market = w.market(1);
    assert_eq!((f.kind, f.expiry_ts, f.min_samples, f.market_index), (market_kind::FUTURE, expiry, 5, 1));
    assert_eq!(w.env.zero_copy::<xmargin::state::Group>(&w.group.group).market_count, 2);
}

/// Each bad listing: its exact error, and the group and market PDAs untouched.
#[test]
fn add_market_refusals() {
    let mut w = World::new();
    let now = w.env.unix_time();
    use XmarginError::{InvalidMarketConfig as Bad, WrongMarketIndex};
    refused_listing(&mut w, sol_perp_args(1), WrongMarketIndex);
    type ListingChange = fn(&mut AddMarketArgs, i64);
    let cases: Vec<(&str, ListingChange)> = vec![
        ("init below liq-end", |a, _| a.risk.init_rate_bps = 700),
        ("liq-end below maint", |a, _| a.risk.liq_end_rate_bps = 400),
        ("maint zero", |a, _| a.risk.maint_rate_bps = 0),
        ("init above 100 %", |a, _| a.risk.init_rate_bps = 10_001),
        ("fees = maint (300 + 200 bps)", |a, _| (a.liquidation_fee_bps, a.insurance_fee_bps) = (300, 200)),
        ("pnl weights out of order", |a, _| a.risk.pnl_init_weight_bps = 8_000),
        ("pnl weight above 100 %", |a, _| a.risk.pnl_maint_weight_bps = 10_001),
        ("band 0", |a, _| a.risk.price_band_bps = 0),
        ("band above 50 %", |a, _| a.risk.price_band_bps = 5_001),
        ("settle fraction above 100 %", |a, _| a.risk.settle_fraction_bps = 10_001),
        ("open-interest cap 0", |a, _| a.risk.open_interest_cap = 0),
        ("perpetual with an expiry", |a, now| a.expiry_ts = now + 86_400),
        ("future expiring in exactly 30 min", |a, now| *a = sol_future_args(0, now + 1_800)),
        ("future in the past", |a, now| *a = sol_future_args(0, now - 1)),
        ("future without samples", |a, now| {
            *a = AddMarketArgs { min_samples: 0, ..sol_future_args(0, now + 86_400) }
        }),
        ("future with 1,801 samples", |a, now| {
            *a = AddMarketArgs { min_samples: 1_801, ..sol_future_args(0, now + 86_400) }
        }),
        ("option kind (issue 13)", |a, _| a.kind = market_kind::OPTION),
        ("unknown kind", |a, _| a.kind = 7),
        ("contract size 0", |a, _| a.contract_size = 0),
        ("min size 0", |a, _| a.min_size = 0),
        ("liquidation fee above 25 %", |a, _| a.liquidation_fee_bps = 2_501),
        ("funding window below the hour", |a, _| a.funding.twap_window_secs = 3_599),
        ("zero mark depth", |a, _| a.funding.mark_depth = 0),
        ("funding premium above 100 %", |a, _| a.funding.max_funding_premium_bps = 10_001),
    ];
    for (name, change) in cases {
        let mut args = sol_perp_args(0);
        change(&mut args, now);
        println!("{name}");
        refused_listing(&mut w, args, Bad);
    }
    // The boundaries accepted: fees 499 bps below a 500 bps maint, and a
    // future expiring one second after the 30-minute settlement window.
    let mut args = sol_perp_args(0);
    (args.liquidation_fee_bps, args.insurance_fee_bps) = (300, 199);
    w.add_market(args).expect_ok();
    w.add_market(sol_future_args(1, now + 1_801)).expect_ok();
}

/// Not the admin, the wrong oracle, a bank of another group, a stale or
/// too-uncertain oracle at listing.
#[test]
fn add_market_refused_accounts_and_prices() {
    let mut w = World::new();
    let sol_bank = bank_keys(&w.env, &w.group.group, SOL);
    let keys = listing_keys(&w);
    let group = w.group.group;

    let eve = w.env.new_wallet(66);
    let ix = mixs::add_market(&group, &eve.pubkey(), &eve.pubkey(), &sol_bank, sol_perp_args(0));
    w.env.send_err(&[ix], &[&eve], XmarginError::UnauthorizedAdmin, &keys);

    let admin = w.admin.insecure_clone();
    let btc_oracle = BankKeys { oracle: w.banks[2].oracle, ..sol_bank };
    let ix = mixs::add_market(&group, &admin.pubkey(), &admin.pubkey(), &btc_oracle, sol_perp_args(0));
    w.env.send_err(&[ix], &[&admin], XmarginError::WrongOracle, &keys);

    // A SOL bank listed in another group (admin Olga), with its own oracle.
    let olga = w.env.new_wallet(67);
    let other = setup_group(&mut w.env, &olga);
    let foreign = setup_bank(&mut w.env, &other, &olga, SOL_SPEC, default_bank_args(0, feeds::SOL_USD));
    let foreign = BankKeys { bank: foreign.bank, vault: foreign.vault, oracle: foreign.oracle };
    let ix = mixs::add_market(&group, &admin.pubkey(), &admin.pubkey(), &foreign, sol_perp_args(0));
    w.env.send_err(&[ix], &[&admin], XmarginError::WrongGroup, &keys);

    // The oracle must be live: it seeds the stable and time-weighted prices.
    w.env.warp(61);
    refused_listing(&mut w, sol_perp_args(0), XmarginError::OracleStale);
    w.set_price(SOL, 15_000_000_000, 301_000_000); // ± $3.01: 2.007 % > 2 %
    refused_listing(&mut w, sol_perp_args(0), XmarginError::OracleConfidenceTooWide);
    // ± $2.99 (1.993 %) is accepted; ± $3.00 is not quite, as 2 % is stored rounded down.
    w.set_price(SOL, 15_000_000_000, 299_000_000);
    w.add_market(sol_perp_args(0)).expect_ok();
}

// ---- update_market ----------------------------------------------------------

/// The update restating the listing: every risk, oracle and fee setting as listed.
fn as_listed() -> UpdateMarketArgs {
    let a = sol_perp_args(0);
    UpdateMarketArgs {
        risk: Some(a.risk),
        oracle: Some(default_bank_args(SOL, feeds::SOL_USD).oracle),
        liquidation_fee_bps: Some(a.liquidation_fee_bps),
        insurance_fee_bps: None,
        funding: None,
    }
}

type Change = fn(&mut UpdateMarketArgs);

/// One setting: how an update loosens and tightens it, and how to read it.
struct Setting {
    name: &'static str,
    loosen: Change,
    tighten: Change,
    read: fn(&MarketRiskParams, &xmargin::state::BankSafetyParams) -> i128,
}

fn risk(u: &mut UpdateMarketArgs) -> &mut xmargin::instructions::MarketRiskArgs {
    u.risk.as_mut().unwrap()
}

fn oracle(u: &mut UpdateMarketArgs) -> &mut BankOracleArgs {
    u.oracle.as_mut().unwrap()
}

fn b(f: xmargin::state::StoredFixed) -> i128 {
    f.get().to_bits()
}

fn settings() -> Vec<Setting> {
    vec![
        Setting {
            name: "init rate",
            loosen: |u| risk(u).init_rate_bps = 800,
            tighten: |u| risk(u).init_rate_bps = 1_200,
            read: |r, _| b(r.init_rate),
        },
        Setting {
            name: "liq-end rate",
            loosen: |u| risk(u).liq_end_rate_bps = 600,
            tighten: |u| risk(u).liq_end_rate_bps = 900,
            read: |r, _| b(r.liq_end_rate),
        },
        Setting {
            name: "maint rate",
            loosen: |u| risk(u).maint_rate_bps = 400,
            tighten: |u| risk(u).maint_rate_bps = 600,
            read: |r, _| b(r.maint_rate),
        },
        Setting {
            name: "pnl init weight",
            loosen: |u| risk(u).pnl_init_weight_bps = 6_000,
            tighten: |u| risk(u).pnl_init_weight_bps = 4_000,
            read: |r, _| b(r.pnl_init_weight),
        },
        Setting {
            name: "pnl liq-end weight",
            loosen: |u| risk(u).pnl_liq_end_weight_bps = 8_000,
            tighten: |u| risk(u).pnl_liq_end_weight_bps = 7_000,
            read: |r, _| b(r.pnl_liq_end_weight),
        },
        Setting {
            name: "pnl maint weight",
            loosen: |u| risk(u).pnl_maint_weight_bps = 10_000,
            tighten: |u| risk(u).pnl_maint_weight_bps = 8_000,
            read: |r, _| b(r.pnl_maint_weight),
        },
        Setting {
            name: "price band",
            loosen: |u| risk(u).price_band_bps = 1_000,
            tighten: |u| risk(u).price_band_bps = 300,
            read: |r, _| b(r.price_band),
        },
        Setting {
            name: "settle fraction",
            loosen: |u| risk(u).settle_fraction_bps = 3_000,
            tighten: |u| risk(u).settle_fraction_bps = 1_000,
            read: |r, _| b(r.settle_fraction),
        },
        Setting {
            name: "init pnl cap",
            loosen: |u| risk(u).init_pnl_cap = 200_000_000,
            tighten: |u| risk(u).init_pnl_cap = 50_000_000,
            read: |r, _| i128::from(r.init_pnl_cap),
        },
        Setting {
            name: "open-interest cap",
            loosen: |u| risk(u).open_interest_cap = 2_000_000_000,
            tighten: |u| risk(u).open_interest_cap = 500_000_000,
            read: |r, _| i128::from(r.open_interest_cap),
        },
        Setting {
            name: "max oracle age",
            loosen: |u| oracle(u).max_oracle_age_secs = 600,
            tighten: |u| oracle(u).max_oracle_age_secs = 30,
            read: |_, s| i128::from(s.max_oracle_age_secs),
        },
        Setting {
            name: "max confidence",
            loosen: |u| oracle(u).max_conf_ratio_bps = 500,
            tighten: |u| oracle(u).max_conf_ratio_bps = 100,
            read: |_, s| b(s.max_conf_ratio),
        },
        Setting {
            name: "confidence multiplier",
            loosen: |u| oracle(u).conf_multiplier_centi = 50,
            tighten: |u| oracle(u).conf_multiplier_centi = 200,
            read: |_, s| b(s.conf_multiplier),
        },
        Setting {
            name: "stable price growth",
            loosen: |u| oracle(u).stable_price_growth_bps_per_hour = 5_000,
            tighten: |u| oracle(u).stable_price_growth_bps_per_hour = 500,
            read: |_, s| b(s.stable_price_growth_per_sec),
        },
        Setting {
            name: "liquidation fee (higher waits)",
            loosen: |u| u.liquidation_fee_bps = Some(200),
            tighten: |u| u.liquidation_fee_bps = Some(50),
            read: |_, s| b(s.liquidation_fee),
        },
    ]
}

fn listed_world() -> World {
    let mut w = World::new();
    w.add_market(sol_perp_args(0)).expect_ok();
    w
}

fn update(w: &mut World, change: Change) {
    let mut args = as_listed();
    change(&mut args);
    w.update_market(0, args).expect_ok();
}

/// A writer of the market that applies due parameters: the funding crank
/// when it is due (once an hour), else an update that changes nothing.
fn poke(w: &mut World) {
    w.refresh_prices();
    let due = w.market(0).last_funding_ts + FUNDING_PERIOD_SECS;
    if w.env.unix_time() >= due {
        w.update_funding(0).expect_ok();
    } else {
        w.update_market(0, UpdateMarketArgs::default()).expect_ok();
    }
}

/// Stored (`risk`, `safety`) and in force now (`risk_params`, `safety_params`).
fn read(w: &World, s: &Setting) -> (i128, i128) {
    let m = w.market(0);
    let now = w.env.unix_time();
    ((s.read)(&m.risk, &m.safety), (s.read)(m.risk_params(now), m.safety_params(now)))
}

fn pending_ts(w: &World) -> i64 {
    let m = w.market(0);
    m.pending_risk_activation_ts.max(m.pending_safety.activation_ts)
}

#[test]
fn loosening_waits_for_the_delay_and_tightening_does_not() {
    for s in settings() {
        let mut w = listed_world();
        let (listed, _) = read(&w, &s);
        update(&mut w, s.loosen);
        assert_eq!(read(&w, &s), (listed, listed), "{}: not loosened at once", s.name);
        assert_eq!(pending_ts(&w), w.env.unix_time() + DELAY, "{}", s.name);
        w.env.warp(DELAY - 1);
        poke(&mut w);
        assert_eq!(read(&w, &s), (listed, listed), "{}: one second early", s.name);
        w.env.warp(1);
        let (stored, in_force) = read(&w, &s);
        assert_eq!(stored, listed, "{}: stored until a writer applies it", s.name);
        assert_ne!(in_force, listed, "{}: in force once due", s.name);
        poke(&mut w);
        assert_eq!(read(&w, &s), (in_force, in_force), "{}: applied by the crank", s.name);
        assert_eq!(pending_ts(&w), 0, "{}: nothing pending after", s.name);
        // Tightening back applies in the same instruction.
        update(&mut w, s.tighten);
        let (tightened, now) = read(&w, &s);
        assert_eq!(tightened, now, "{}", s.name);
        assert_ne!(tightened, in_force, "{}", s.name);
        assert_eq!(pending_ts(&w), 0, "{}: a pure tightening leaves nothing pending", s.name);
    }
}

/// A newer update replaces a pending loosening (and restarts the delay); one
/// restating the values in force drops it.
#[test]
fn a_newer_update_replaces_or_drops_the_pending_change() {
    let mut w = listed_world();
    let band = |w: &World| w.market(0).risk.price_band.get();
    update(&mut w, |u| risk(u).price_band_bps = 1_000);
    w.env.warp(DELAY / 2);
    update(&mut w, |u| risk(u).price_band_bps = 800);
    let m = w.market(0);
    assert_eq!(m.pending_risk_activation_ts, w.env.unix_time() + DELAY, "the delay restarts");
    assert_eq!(m.pending_risk.price_band.get(), bps(800));
    update(&mut w, |_| {});
    assert_eq!(pending_ts(&w), 0, "restating the values in force drops it");
    w.env.warp(DELAY);
    poke(&mut w);
    assert_eq!(band(&w), bps(500));
}

/// Updates that do not touch the pending settings (funding, the insurance
/// fee, nothing at all) leave a pending loosening and its time alone.
#[test]
fn unrelated_updates_keep_the_pending_loosening() {
    let mut w = listed_world();
    update(&mut w, |u| {
        risk(u).price_band_bps = 1_000;
        oracle(u).max_oracle_age_secs = 600;
    });
    let due = w.env.unix_time() + DELAY;
    let m = w.market(0);
    assert_eq!((m.pending_risk_activation_ts, m.pending_safety.activation_ts), (due, due));
    w.env.warp(100);
    let funding =
        MarketFundingArgs { max_funding_premium_bps: 2_000, twap_window_secs: 7_200, mark_depth: 500 };
    let unrelated = [
        UpdateMarketArgs { funding: Some(funding), ..Default::default() },
        UpdateMarketArgs { insurance_fee_bps: Some(40), ..Default::default() },
        UpdateMarketArgs::default(),
    ];
    for args in unrelated {
        w.update_market(0, args).expect_ok();
        let m = w.market(0);
        assert_eq!((m.pending_risk_activation_ts, m.pending_safety.activation_ts), (due, due), "{args:?}");
        assert_eq!(m.pending_risk.price_band.get(), bps(1_000));
        assert_eq!(m.pending_safety.max_oracle_age_secs, 600);
    }
    w.env.warp(DELAY - 100);
    poke(&mut w);
    let m = w.market(0);
    assert_eq!((m.risk.price_band.get(), m.safety.max_oracle_age_secs), (bps(1_000), 600));
}

/// The insurance fee may only fall (at once); funding settings apply at once.
#[test]
fn insurance_fee_only_falls_and_funding_applies_at_once() {
    let mut w = listed_world();
    let keys = [market_address(&w, 0)];
    let admin = w.admin.insecure_clone();
    let ix = |args| mixs::update_market(&w.group.group, &admin.pubkey(), &keys[0], args);
    let raise = UpdateMarketArgs { insurance_fee_bps: Some(60), ..Default::default() };
    w.env.send_err(&[ix(raise)], &[&admin], XmarginError::InvalidMarketConfig, &keys);
    w.update_market(0, UpdateMarketArgs { insurance_fee_bps: Some(30), ..Default::default() }).expect_ok();
    assert_eq!(w.market(0).insurance_fee.get(), bps(30));
    assert_eq!(pending_ts(&w), 0);

    let funding =
        MarketFundingArgs { max_funding_premium_bps: 2_000, twap_window_secs: 7_200, mark_depth: 500 };
    w.update_market(0, UpdateMarketArgs { funding: Some(funding), ..Default::default() }).expect_ok();
    let m = w.market(0);
    assert_eq!((m.max_funding_premium.get(), m.twap_window_secs, m.mark_depth), (bps(2_000), 7_200, 500));
    assert_eq!(pending_ts(&w), 0, "funding never waits");
    let bad = MarketFundingArgs { max_funding_premium_bps: 2_000, twap_window_secs: 59, mark_depth: 500 };
    let ix = mixs::update_market(
        &w.group.group,
        &admin.pubkey(),
        &keys[0],
        UpdateMarketArgs { funding: Some(bad), ..Default::default() },
    );
    w.env.send_err(&[ix], &[&admin], XmarginError::InvalidMarketConfig, &keys);
}

/// Bad updates: the exact error and the market untouched.
#[test]
fn update_market_refusals() {
    let mut w = listed_world();
    let keys = [market_address(&w, 0), w.group.group];
    let admin = w.admin.insecure_clone();
    let group = w.group.group;
    let eve = w.env.new_wallet(66);
    let ix = mixs::update_market(&group, &eve.pubkey(), &keys[0], as_listed());
    w.env.send_err(&[ix], &[&eve], XmarginError::UnauthorizedAdmin, &keys);
    let cases: Vec<(&str, Change, XmarginError)> = vec![
        (
            "maint below the fees (150 bps)",
            |u| risk(u).maint_rate_bps = 100,
            XmarginError::InvalidMarketConfig,
        ),
        ("rates out of order", |u| risk(u).init_rate_bps = 700, XmarginError::InvalidMarketConfig),
        ("band 0", |u| risk(u).price_band_bps = 0, XmarginError::InvalidMarketConfig),
        ("fees = maint", |u| u.liquidation_fee_bps = Some(450), XmarginError::InvalidMarketConfig),
        (
            "liquidation fee above 25 %",
            |u| u.liquidation_fee_bps = Some(2_501),
            XmarginError::InvalidMarketConfig,
        ),
        ("max oracle age 0", |u| oracle(u).max_oracle_age_secs = 0, XmarginError::InvalidOracleConfig),
    ];
    for (name, change, code) in cases {
        let mut args = as_listed();
        change(&mut args);
        println!("{name}");
        let ix = mixs::update_market(&group, &admin.pubkey(), &keys[0], args);
        w.env.send_err(&[ix], &[&admin], code, &keys);
    }
}

/// The size premium (millionths per √contract, at most 1,000,000 = 1): a
/// higher premium tightens at once, a lower one waits for the group's delay;
/// above the bound both instructions fail with `SizePremiumTooLarge`, naming
/// the value and the bound, and change nothing.
#[test]
fn size_premium_tightens_at_once_and_loosens_after_the_delay() {
    let ppm = |v: i64| Fixed::from_ratio(v, 1_000_000, Rounding::Floor).unwrap();
    let premium = |w: &World| {
        let m = w.market(0);
        let now = w.env.unix_time();
        (m.risk.size_premium.get(), m.risk_params(now).size_premium.get())
    };
    let mut w = listed_world();
    assert_eq!(premium(&w), (Fixed::ZERO, Fixed::ZERO), "off as listed");
    update(&mut w, |u| risk(u).size_premium_ppm = 1_000);
    assert_eq!(premium(&w), (ppm(1_000), ppm(1_000)), "raised: in force at once");
    assert_eq!(pending_ts(&w), 0);
    update(&mut w, |u| risk(u).size_premium_ppm = 400);
    assert_eq!(premium(&w), (ppm(1_000), ppm(1_000)), "lowered: not yet");
    assert_eq!(w.market(0).pending_risk.size_premium.get(), ppm(400));
    assert_eq!(pending_ts(&w), w.env.unix_time() + DELAY);
    w.env.warp(DELAY - 1);
    assert_eq!(premium(&w), (ppm(1_000), ppm(1_000)), "one second early");
    w.env.warp(1);
    assert_eq!(premium(&w), (ppm(1_000), ppm(400)), "in force once due");
    poke(&mut w);
    assert_eq!(premium(&w), (ppm(400), ppm(400)), "applied by the crank");
    assert_eq!(pending_ts(&w), 0);

    // Above 1: refused with the values, the market untouched.
    let keys = [market_address(&w, 0), w.group.group];
    let admin = w.admin.insecure_clone();
    let mut args = as_listed();
    risk(&mut args).size_premium_ppm = 1_000_001;
    let ix = mixs::update_market(&w.group.group, &admin.pubkey(), &keys[0], args);
    let f = w.env.send_err(&[ix], &[&admin], XmarginError::SizePremiumTooLarge, &keys);
    assert!(f.logs.iter().any(|l| l.contains("Left: 1000001")), "{f}");
    assert!(f.logs.iter().any(|l| l.contains("Right: 1000000")), "{f}");
    // The bound itself is accepted (a tightening: at once).
    update(&mut w, |u| risk(u).size_premium_ppm = 1_000_000);
    assert_eq!(premium(&w), (Fixed::ONE, Fixed::ONE));
    // add_market checks the same bound.
    let mut listing = sol_perp_args(1);
    listing.risk.size_premium_ppm = 1_000_001;
    refused_listing(&mut w, listing, XmarginError::SizePremiumTooLarge);
    listing.risk.size_premium_ppm = 1_000;
    w.add_market(listing).expect_ok();
    assert_eq!(w.market(1).risk.size_premium.get(), ppm(1_000));
}
