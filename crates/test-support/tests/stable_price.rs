//! The stable price after a quiet spell (issue 10, finding 7): before the fix
//! one `accrue_interest` after hours without a crank moved it by the whole
//! elapsed time's worth of growth and it snapped to spot.
use xmargin::state::Bank;
use xmargin_test_support::margin::accrue_interest_ix;
use xmargin_test_support::margin::approx_f64;
use xmargin_test_support::world::World;

const SOL: u16 = 1;
const HOUR: i64 = 3_600;

fn stable_usd(w: &World) -> f64 {
    // quote native per lamport → dollars per SOL (10^9 lamports, 10^6 µUSDC)
    approx_f64(w.env.zero_copy::<Bank>(&w.banks[SOL as usize].bank).stable_price.get()) * 1e3
}

#[test]
fn one_update_moves_at_most_an_hours_growth() {
    let mut w = World::new();
    let start = stable_usd(&w);
    assert!((start - 149.9).abs() < 0.2, "listed at the oracle price: {start}");
    // SOL doubles and nobody cranks for ten hours; growth is 20 % per hour.
    w.env.warp(10 * HOUR);
    w.set_price(SOL, 30_000_000_000, 10_000_000);
    w.env.send_ok(&[accrue_interest_ix(&w.env, &w.group.group, SOL)], &[]);
    let after = stable_usd(&w);
    assert!((after - start * 1.2).abs() < 0.01, "one hour's 20 %, not ten hours' worth: {start} → {after}");
    // The next update an hour later moves another 20 %.
    w.env.warp(HOUR);
    w.set_price(SOL, 30_000_000_000, 10_000_000);
    w.env.send_ok(&[accrue_interest_ix(&w.env, &w.group.group, SOL)], &[]);
    let next = stable_usd(&w);
    assert!((next - after * 1.2).abs() < 0.01, "{after} → {next}");
}
