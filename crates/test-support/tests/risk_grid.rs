//! `update_risk_grid`: the group's stored scenario grid, risk-array rules and
//! portfolio parameters (`xmargin::options`). A new group starts on the
//! default grid (arrays keep `GRID_ID`); every out-of-bounds input is
//! refused with its named error and nothing changed; a tightening applies at
//! once, a loosening after the group's delay (read in force by every
//! instruction once due, moved into place by the next `update_risk_grid`); a
//! new grid makes arrays `RiskArrayOtherGrid` until `update_risk_array`;
//! portfolio health charges the stored scales and contingencies.
use xmargin::errors::XmarginError;
use xmargin::events::{PortfolioHealth, RiskGridUpdated};
use xmargin::instructions::{margin_mode, UpdateRiskGridArgs};
use xmargin::options::{DEFAULT_RISK_GRID, GRID_ID, GRID_LEN};
use xmargin::state::RiskGridParams;
use xmargin_client::instructions as cixs;
use xmargin_client::market_instructions as mixs;
use xmargin_test_support::margin::{compute_health_ix, health_view};
use xmargin_test_support::markets::{events, health_accounts_full, sol_perp_args};
use xmargin_test_support::options::{option_desk, sol_call_args, STRIKE_165, THIRTY_DAYS};
use xmargin_test_support::world::{User, World};
use xmargin_test_support::Signer;

/// The group's `loosen_delay_secs` in the fixtures.
const DELAY: i64 = 3_600;
const CALL: u16 = 0;
/// Model value of the $165 call per 0.01 SOL contract at $150.
const MODEL: u64 = 49_053;

fn default_args() -> UpdateRiskGridArgs {
    UpdateRiskGridArgs::from_params(&DEFAULT_RISK_GRID)
}

/// The default grid with −10 % added: every old scenario and the widest
/// move kept (a tightening), 27 scenarios (the most).
fn wider_args() -> UpdateRiskGridArgs {
    UpdateRiskGridArgs { price_shocks_bps: vec![-1_500, -1_000, -750, 0, 750, 1_500], ..default_args() }
}

/// What `args` stores, with its grid's id and length.
fn stored(args: &UpdateRiskGridArgs) -> RiskGridParams {
    let mut p = DEFAULT_RISK_GRID;
    p.price_shocks_bps = [0; 10];
    p.vol_shocks_bps = [0; 4];
    p.price_shocks_bps[..args.price_shocks_bps.len()].copy_from_slice(&args.price_shocks_bps);
    p.vol_shocks_bps[..args.vol_shocks_bps.len()].copy_from_slice(&args.vol_shocks_bps);
    p.price_shock_count = args.price_shocks_bps.len() as u8;
    p.vol_shock_count = args.vol_shocks_bps.len() as u8;
    p.shock_scale_bps = args.shock_scale_bps;
    p.floor_bps = args.floor_bps;
    p.max_age_secs = args.max_age_secs;
    p.max_drift_bps = args.max_drift_bps;
    let g = p.grid().unwrap();
    p.grid_id = g.id();
    p.grid_len = g.len() as u8;
    p
}

fn refused(w: &mut World, args: UpdateRiskGridArgs, code: XmarginError) {
    let admin = w.admin.insecure_clone();
    let ix = mixs::update_risk_grid(&w.group.group, &admin.pubkey(), args.clone());
    let keys = vec![w.group.group];
    let f = w.env.send_err(&[ix], &[&admin], code, &keys);
    assert!(f.logs.iter().any(|l| l.contains("Error Code")), "{args:?}: {f}");
}

#[test]
fn a_new_group_starts_on_the_default_grid() {
    let w = World::new();
    let g = w.group_account();
    assert_eq!(g.risk_grid, DEFAULT_RISK_GRID);
    assert_eq!((g.risk_grid.grid_id, usize::from(g.risk_grid.grid_len)), (GRID_ID, GRID_LEN));
    assert_eq!(g.pending_risk_grid_ts, 0);
    assert_eq!(stored(&default_args()), DEFAULT_RISK_GRID, "the default's id is its grid's");
}

/// Every bound, its named error, the group unchanged; a wrong signer.
#[test]
fn out_of_bounds_settings_are_refused() {
    use XmarginError::*;
    let mut w = World::new();
    let d = default_args();
    let with = |f: &dyn Fn(&mut UpdateRiskGridArgs)| {
        let mut a = d.clone();
        f(&mut a);
        a
    };
    let cases: Vec<(UpdateRiskGridArgs, XmarginError)> = vec![
        (with(&|a| a.price_shocks_bps = vec![]), RiskGridShockCount),
        (with(&|a| a.price_shocks_bps = (-5..=5).map(|i| i * 500).collect()), RiskGridShockCount),
        (with(&|a| a.vol_shocks_bps = vec![]), RiskGridShockCount),
        (with(&|a| a.vol_shocks_bps = vec![-2_000, -1_000, 0, 1_000, 2_000]), RiskGridShockCount),
        // 1 + 5 × 4 + 8 = 29 and 1 + 10 × 2 + 8 = 29 scenarios > 27.
        (with(&|a| a.vol_shocks_bps = vec![-2_000, -1_000, 0, 1_000]), RiskGridTooLarge),
        (
            with(&|a| {
                a.price_shocks_bps = (-5..5).map(|i| i * 500).collect();
                a.vol_shocks_bps = vec![0, 1_000];
            }),
            RiskGridTooLarge,
        ),
        (with(&|a| a.price_shocks_bps = vec![-5_001, 0, 1_500]), RiskGridShockOutOfRange),
        (with(&|a| a.price_shocks_bps = vec![-1_500, 0, 5_001]), RiskGridShockOutOfRange),
        (with(&|a| a.vol_shocks_bps = vec![-5_001, 0]), RiskGridShockOutOfRange),
        (with(&|a| a.price_shocks_bps = vec![-1_500, -1_500, 0, 1_500]), RiskGridShocksNotIncreasing),
        (with(&|a| a.price_shocks_bps = vec![1_500, 0, -1_500]), RiskGridShocksNotIncreasing),
        (with(&|a| a.vol_shocks_bps = vec![1_000, 0]), RiskGridShocksNotIncreasing),
        (with(&|a| a.price_shocks_bps = vec![-499, 0, 499]), RiskGridRangeTooNarrow),
        // One-sided grids: no core fall (longs charged by extended moves alone), or no rise.
        (with(&|a| a.price_shocks_bps = vec![0, 500, 1_500]), RiskGridRangeTooNarrow),
        (with(&|a| a.price_shocks_bps = vec![-1_500, -750, 0, 499]), RiskGridRangeTooNarrow),
        (with(&|a| a.shock_scale_bps = [12_500, 11_000, 9_999]), RiskGridScaleOutOfBounds),
        (with(&|a| a.shock_scale_bps = [10_500, 11_000, 10_000]), RiskGridScaleOutOfBounds),
        (with(&|a| a.shock_scale_bps = [50_001, 11_000, 10_000]), RiskGridScaleOutOfBounds),
        (with(&|a| a.floor_bps = [100, 75, 9]), RiskGridFloorOutOfBounds),
        (with(&|a| a.floor_bps = [100, 40, 50]), RiskGridFloorOutOfBounds),
        (with(&|a| a.floor_bps = [1_001, 75, 50]), RiskGridFloorOutOfBounds),
        (with(&|a| a.max_age_secs = 59), RiskArrayMaxAgeOutOfBounds),
        (with(&|a| a.max_age_secs = 3_601), RiskArrayMaxAgeOutOfBounds),
        (with(&|a| a.max_drift_bps = 49), RiskArrayMaxDriftOutOfBounds),
        (with(&|a| a.max_drift_bps = 1_001), RiskArrayMaxDriftOutOfBounds),
    ];
    for (args, code) in cases {
        refused(&mut w, args, code);
    }
    // The extremes of every bound are accepted: the upper ones in a
    // tightening (at once; 27 scenarios), the lower ones in a loosening (pending).
    let edge = UpdateRiskGridArgs {
        price_shocks_bps: vec![-1_500, -750, 0, 750, 1_500, 5_000],
        vol_shocks_bps: vec![-1_000, 0, 1_000],
        shock_scale_bps: [50_000, 50_000, 50_000],
        floor_bps: [1_000, 1_000, 1_000],
        max_age_secs: 60,
        max_drift_bps: 50,
    };
    w.update_risk_grid(edge.clone()).expect_ok();
    // A wider widest move is a loosening (it lowers a spot leg's haircut
    // scale): pending; its scales, floors, age and drift apply at once.
    let g = w.group_account();
    assert_eq!(g.pending_risk_grid, stored(&edge));
    let at_once = RiskGridParams {
        shock_scale_bps: edge.shock_scale_bps,
        floor_bps: edge.floor_bps,
        max_age_secs: 60,
        max_drift_bps: 50,
        ..DEFAULT_RISK_GRID
    };
    assert_eq!(g.risk_grid, at_once);
    let min_edge = UpdateRiskGridArgs {
        price_shocks_bps: vec![-5_000, -500, 0, 500],
        vol_shocks_bps: vec![-5_000, 5_000],
        shock_scale_bps: [10_000; 3],
        floor_bps: [10; 3],
        max_age_secs: 3_600,
        max_drift_bps: 1_000,
    };
    w.update_risk_grid(min_edge.clone()).expect_ok();
    assert_eq!(w.group_account().pending_risk_grid, stored(&min_edge));

    // Not the admin.
    let eve = w.env.new_wallet(66);
    let ix = mixs::update_risk_grid(&w.group.group, &eve.pubkey(), wider_args());
    w.env.send_err(&[ix], &[&eve], XmarginError::UnauthorizedAdmin, &[w.group.group]);
}

/// A tightening (every old scenario kept, −10 % added; higher floors; a
/// shorter max age; a smaller drift) applies at once and makes the arrays
/// `RiskArrayOtherGrid`; `update_risk_array` recomputes them on the new grid.
#[test]
fn a_tightening_applies_at_once_and_arrays_follow_the_grid() {
    let (mut w, alice, bob) = option_desk(CALL);
    w.trade(CALL, &alice, &bob, 10, MODEL).expect_ok();
    let args = UpdateRiskGridArgs {
        floor_bps: [200, 100, 60],
        max_age_secs: 300,
        max_drift_bps: 150,
        ..wider_args()
    };
    let out = w.update_risk_grid(args.clone());
    let cu = out.expect_ok();
    println!("update_risk_grid (a tightening, applies at once): {cu} CU");
    let want = stored(&args);
    assert_eq!(want.grid_len, 1 + 6 * 3 + 8);
    assert_ne!(want.grid_id, GRID_ID);
    let g = w.group_account();
    assert_eq!((g.risk_grid, g.pending_risk_grid_ts), (want, 0));
    let ev = events::<RiskGridUpdated>(&out.logs).pop().expect("RiskGridUpdated");
    assert_eq!(
        (ev.grid_id, ev.grid_len, ev.target_grid_id, ev.activation_ts),
        (want.grid_id, 27, want.grid_id, 0)
    );
    assert_eq!(ev.args, args);

    // The array is on the old grid: a trade is refused until it is recomputed.
    let keys = vec![alice.account, bob.account, w.market_keys(CALL).market];
    let ix = w.trade_ix(CALL, &alice, &bob, 10, MODEL);
    let signers = [&alice.wallet, &bob.wallet];
    let f = w.env.send_err(&[ix], &signers, XmarginError::RiskArrayOtherGrid, &keys);
    assert!(f.logs.iter().any(|l| l.contains(&format!("{}", want.grid_id))), "{f}");
    w.update_risk_array(CALL).expect_ok();
    let a = w.market(CALL).risk_array;
    assert_eq!((a.grid_id, a.scenario_count), (want.grid_id, 27));
    w.trade(CALL, &alice, &bob, 10, MODEL).expect_ok();
    // The shorter max age is in force: 301 s later the array is stale.
    w.env.warp(301);
    w.refresh_prices();
    let ix = w.trade_ix(CALL, &alice, &bob, 10, MODEL);
    w.env.send_err(&[ix], &signers, XmarginError::RiskArrayStale, &keys);
}

/// A loosening (a narrower grid, lower scales, a longer max age) waits the
/// delay: pending, the old grid in force (arrays stay fresh) until then; in
/// force from the activation time for every instruction (arrays on the old
/// grid become `RiskArrayOtherGrid`), and moved into place by the next
/// `update_risk_grid`. A mixed change applies its tightening part at once;
/// an update that only tightens drops a pending loosening.
#[test]
fn a_loosening_waits_the_delay() {
    let (mut w, alice, bob) = option_desk(CALL);
    let now = w.env.unix_time();
    let loose = UpdateRiskGridArgs {
        price_shocks_bps: vec![-1_000, -500, 0, 500, 1_000],
        shock_scale_bps: [12_000, 10_500, 10_000],
        max_age_secs: 900,
        floor_bps: [150, 75, 50], // tighter: at once
        ..default_args()
    };
    let out = w.update_risk_grid(loose.clone());
    out.expect_ok();
    let target = stored(&loose);
    let g = w.group_account();
    let at_once = RiskGridParams { floor_bps: [150, 75, 50], ..DEFAULT_RISK_GRID };
    assert_eq!((g.risk_grid, g.pending_risk_grid, g.pending_risk_grid_ts), (at_once, target, now + DELAY));
    let ev = events::<RiskGridUpdated>(&out.logs).pop().expect("RiskGridUpdated");
    assert_eq!((ev.grid_id, ev.target_grid_id, ev.activation_ts), (GRID_ID, target.grid_id, now + DELAY));
    assert_eq!(g.risk_grid_at(now + DELAY - 1), at_once);
    assert_eq!(g.risk_grid_at(now + DELAY), target);
    // Meanwhile the old grid is in force: the array is fresh.
    w.trade(CALL, &alice, &bob, 10, MODEL).expect_ok();
    w.env.warp(DELAY - 1);
    w.refresh_prices();
    w.update_risk_array(CALL).expect_ok();
    assert_eq!(w.market(CALL).risk_array.grid_id, GRID_ID);
    w.trade(CALL, &alice, &bob, 10, MODEL).expect_ok();

    // Due: read in force by every instruction, before anyone moves it.
    w.env.warp(1);
    let keys = vec![alice.account, bob.account, w.market_keys(CALL).market];
    let ix = w.trade_ix(CALL, &alice, &bob, 10, MODEL);
    w.env.send_err(&[ix], &[&alice.wallet, &bob.wallet], XmarginError::RiskArrayOtherGrid, &keys);
    w.update_risk_array(CALL).expect_ok();
    let a = w.market(CALL).risk_array;
    assert_eq!((a.grid_id, a.scenario_count), (target.grid_id, u16::from(target.grid_len)));
    w.trade(CALL, &alice, &bob, 10, MODEL).expect_ok();
    assert_eq!(w.group_account().pending_risk_grid_ts, now + DELAY, "still stored as pending");
    // The next update applies the due grid first: re-sending it is then no change.
    let out = w.update_risk_grid(loose.clone());
    out.expect_ok();
    let g = w.group_account();
    assert_eq!((g.risk_grid, g.pending_risk_grid_ts), (target, 0));
    assert_eq!(g.pending_risk_grid, bytemuck_zeroed());
    assert_eq!(events::<RiskGridUpdated>(&out.logs)[0].activation_ts, 0);

    // A pending loosening is dropped by an update that only tightens.
    w.update_risk_grid(UpdateRiskGridArgs { max_age_secs: 1_200, ..loose.clone() }).expect_ok();
    assert_ne!(w.group_account().pending_risk_grid_ts, 0);
    w.update_risk_grid(UpdateRiskGridArgs { max_age_secs: 800, ..loose.clone() }).expect_ok();
    let g = w.group_account();
    assert_eq!((g.risk_grid.max_age_secs, g.pending_risk_grid_ts), (800, 0));
    // Replacing a shock by a larger one is a loosening too (a book can lose most between shocks).
    let moved = UpdateRiskGridArgs { price_shocks_bps: vec![-2_000, -1_000, 0, 1_000, 2_000], ..loose };
    let out = w.update_risk_grid(moved);
    out.expect_ok();
    assert_eq!(w.group_account().risk_grid.grid_id, target.grid_id);
    let first_ts = events::<RiskGridUpdated>(&out.logs)[0].activation_ts;
    assert_ne!(first_ts, 0);
    // A newer loosening replaces a pending one and restarts its delay.
    w.env.warp(10);
    let again = UpdateRiskGridArgs { max_age_secs: 1_000, ..default_args() };
    w.update_risk_grid(again.clone()).expect_ok();
    let g = w.group_account();
    assert_eq!((g.pending_risk_grid, g.pending_risk_grid_ts), (stored(&again), first_ts + 10));
}

fn bytemuck_zeroed() -> RiskGridParams {
    RiskGridParams {
        grid_id: 0,
        max_age_secs: 0,
        price_shocks_bps: [0; 10],
        vol_shocks_bps: [0; 4],
        shock_scale_bps: [0; 3],
        floor_bps: [0; 3],
        max_drift_bps: 0,
        price_shock_count: 0,
        vol_shock_count: 0,
        grid_len: 0,
        reserved: [0; 3],
    }
}

fn portfolio_book(w: &mut World, user: &User) -> xmargin::events::UnderlyingRequirementView {
    let ix = compute_health_ix(&w.env, &w.group.group, &user.account);
    let out = w.env.send(&[ix], &[]);
    out.expect_ok();
    events::<PortfolioHealth>(&out.logs).pop().expect("PortfolioHealth").underlyings[0]
}

/// A delta-hedged book (10 SOL, 10 SOL short on the perpetual) pays its
/// contingency alone: 1 % of 3,000 USDC by default, 2 % once the Init
/// floor is raised (at once); a covered call's worst loss is scaled by the
/// stored Init scale (2× once raised, above the 4/3 of the SOL haircut).
#[test]
fn portfolio_health_charges_the_stored_scales_and_floors() {
    let mut w = World::new();
    w.add_market(sol_perp_args(0)).expect_ok();
    let expiry = w.env.unix_time() + THIRTY_DAYS;
    w.add_option_market(sol_call_args(1, STRIKE_165, expiry)).expect_ok();
    w.update_risk_array(1).expect_ok();
    let bob = w.user(11, [3_000_000_000, 0, 0]);
    w.deposit(&bob, 0, 3_000_000_000).expect_ok();
    let alice = w.user(10, [0, 10_000_000_000, 0]);
    w.deposit(&alice, 1, 10_000_000_000).expect_ok();
    w.trade(0, &bob, &alice, 1_000, 1_500_000).expect_ok();
    let carol = w.user(12, [0, 1_000_000_000, 0]);
    w.deposit(&carol, 1, 1_000_000_000).expect_ok();
    w.trade(1, &bob, &carol, 100, MODEL).expect_ok();
    let g = w.group.group;
    for u in [&alice, &carol] {
        let health = health_accounts_full(&w.env, &g, &u.account, &[], &[]);
        let ix = cixs::set_margin_mode(&g, &u.account, &u.wallet.pubkey(), margin_mode::PORTFOLIO, health);
        w.env.send(&[ix], &[&u.wallet]).expect_ok();
    }
    let before = portfolio_book(&mut w, &alice);
    assert_eq!((before.init_requirement, before.maint_requirement), (30_000_000, 15_000_000));
    let init_before = health_view(&mut w.env, &g, &alice.account).init;
    let call_before = portfolio_book(&mut w, &carol);

    let args = UpdateRiskGridArgs {
        floor_bps: [200, 100, 60],
        shock_scale_bps: [20_000, 11_000, 10_000],
        ..default_args()
    };
    w.update_risk_grid(args).expect_ok();
    assert_eq!(w.group_account().risk_grid.grid_id, GRID_ID, "same grid: arrays stay fresh");
    let after = portfolio_book(&mut w, &alice);
    assert_eq!((after.init_requirement, after.maint_requirement), (60_000_000, 18_000_000));
    assert_eq!(health_view(&mut w.env, &g, &alice.account).init, init_before - 30_000_000);

    let call = portfolio_book(&mut w, &carol);
    assert_eq!(call.worst_loss, call_before.worst_loss, "same grid, same worst loss");
    assert!(call.init_contingency.abs_diff(2 * call_before.init_contingency) <= 2, "{call:?}");
    let scenario = 2 * call.worst_loss + call.init_contingency;
    assert!(call.init_requirement.abs_diff(scenario) <= 2, "{call:?} vs {scenario}");
    assert!(call.init_requirement > call_before.init_requirement, "{call:?} {call_before:?}");
}
