//! The demo's options act on its own world: a SOL perpetual and Bob's
//! liquidator account, then the act. The key facts: portfolio mode charges
//! Iris's book less than linear mode (the chain agreeing with the engine),
//! the crash leaves her liquidatable in portfolio mode, the keeper
//! liquidates her in linear mode (`PORTFOLIO_MODE` cleared by the first
//! step) leg by leg, she ends solvent once the closed legs' PnL is settled,
//! and each option settles with payouts summing to zero (the puts in the
//! money paying).
use xmargin_test_support::markets::sol_perp_args;
use xmargin_test_support::world::World;

#[test]
fn the_options_act_plays_and_its_numbers_hold() {
    let mut w = World::new();
    w.add_market(sol_perp_args(0)).expect_ok();
    let bob = w.user(11, [50_000_000_000, 0, 0]);
    w.deposit(&bob, 0, 50_000_000_000).expect_ok();
    let o = super::run(&mut w, &bob, 0).expect("the act plays");
    o.check().unwrap();
    assert!(o.portfolio_init_requirement * 4 < o.linear_init_requirement, "{o:?}");
    for s in &o.settlements {
        assert!(s.price > 90.0 && s.price < 110.0, "{}: settled at {}", s.market, s.price);
    }
    // The $165 call expires worthless; both puts finish in the money.
    let paid = |k: usize| o.settlements[k].payouts.iter().map(|p| p.1.abs()).sum::<i64>();
    assert_eq!(paid(0), 0, "the call pays nothing");
    assert!(paid(1) > 0 && paid(2) > 0, "the puts pay");
}
