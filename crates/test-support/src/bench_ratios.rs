//! Portfolio vs linear requirement of worked books, read from the chain
//! (`compute_health`'s `PortfolioHealth` event after `set_margin_mode`):
//! the ratio table of `docs/bench/cu.md`. SOL $150 ± 0.10 (the fixtures'
//! oracle), SOL Init asset weight 0.8, the perpetual's Init rate 10 %, the
//! 30-day $165 call from its risk array; the group's default grid.
use solana_signer::Signer;
use xmargin::events::PortfolioHealth;
use xmargin::instructions::margin_mode;
use xmargin_client::instructions as cixs;

use crate::margin::compute_health_ix;
use crate::markets::{events, health_accounts_full, sol_perp_args};
use crate::options::{sol_call_args, STRIKE_165, THIRTY_DAYS};
use crate::world::{User, World};

const USDC: u16 = 0;
const SOL: u16 = 1;
const PERP: u16 = 0;
const CALL: u16 = 1;
const ONE_SOL: u64 = 1_000_000_000;
/// $150 per 0.01 SOL contract.
const PERP_PRICE: u64 = 1_500_000;
/// The $165 call's model value per 0.01 SOL contract at $150.
const CALL_MODEL: u64 = 49_053;

/// One book's Init requirement in both modes (quote native).
#[derive(Clone, Debug)]
pub struct RatioRow {
    pub book: &'static str,
    pub linear_init: i64,
    pub portfolio_init: i64,
    pub worst_loss: i64,
    pub contingency: i64,
}

impl RatioRow {
    /// Portfolio requirement as a share of linear (%).
    pub fn percent(&self) -> f64 {
        100.0 * self.portfolio_init as f64 / self.linear_init as f64
    }
}

/// The worked books: a delta-hedged one (10 SOL, 10 SOL short on the
/// perpetual) and a covered call (1 SOL, the $165 call sold on 1 SOL).
pub fn requirement_ratios() -> Vec<RatioRow> {
    let mut w = World::new();
    w.add_market(sol_perp_args(PERP)).expect_ok();
    let expiry = w.env.unix_time() + THIRTY_DAYS;
    w.add_option_market(sol_call_args(CALL, STRIKE_165, expiry)).expect_ok();
    w.update_risk_array(CALL).expect_ok();
    let bob = w.user(11, [3_000_000_000, 0, 0]);
    w.deposit(&bob, USDC, 3_000_000_000).expect_ok();

    let hedged = w.user(10, [0, 10 * ONE_SOL, 0]);
    w.deposit(&hedged, SOL, 10 * ONE_SOL).expect_ok();
    w.trade(PERP, &bob, &hedged, 1_000, PERP_PRICE).expect_ok();
    let covered = w.user(12, [0, ONE_SOL, 0]);
    w.deposit(&covered, SOL, ONE_SOL).expect_ok();
    w.trade(CALL, &bob, &covered, 100, CALL_MODEL).expect_ok();
    vec![
        book(&mut w, &hedged, "delta-hedged: 10 SOL deposited, 10 SOL short on the perpetual"),
        book(&mut w, &covered, "covered call: 1 SOL deposited, the 30-day $165 call sold on 1 SOL"),
    ]
}

/// Switches `user` to portfolio mode and reads its one book's requirement.
fn book(w: &mut World, user: &User, name: &'static str) -> RatioRow {
    let g = w.group.group;
    let health = health_accounts_full(&w.env, &g, &user.account, &[], &[]);
    let ix = cixs::set_margin_mode(&g, &user.account, &user.wallet.pubkey(), margin_mode::PORTFOLIO, health);
    w.env.send(&[ix], &[&user.wallet]).expect_ok();
    let out = w.env.send(&[compute_health_ix(&w.env, &g, &user.account)], &[]);
    out.expect_ok();
    let ev = events::<PortfolioHealth>(&out.logs).pop().expect("PortfolioHealth");
    let sol = ev.underlyings.iter().find(|u| u.underlying == SOL).expect("the SOL book");
    RatioRow {
        book: name,
        linear_init: sol.init_linear,
        portfolio_init: sol.init_requirement,
        worst_loss: sol.worst_loss,
        contingency: sol.init_contingency,
    }
}
