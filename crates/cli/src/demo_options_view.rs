//! The options act's outcome (the facts it checks) and what it prints about
//! an account: the engine's valuation of
//! the same positions in linear and in portfolio mode (the client's copy of
//! the program's valuation code, `xmargin_client::health`), the chain's
//! `compute_health` and its `PortfolioHealth` event, and the table that puts
//! them side by side. Amounts are quote native (µUSDC) until printed.
use anchor_lang::prelude::Pubkey;
use xmargin::events::PortfolioHealth;
use xmargin::health::{HealthContext, PriceRules};
use xmargin::instructions::HealthView;
use xmargin::state::account_flags::PORTFOLIO_MODE;
use xmargin::state::MarginAccount;
use xmargin_client::health::health_cache_with_markets;
use xmargin_keeper::svm::SvmChain;
use xmargin_keeper::Snapshot;
use xmargin_risk::health::{HealthCache, HealthType, MarginMode};
use xmargin_risk::portfolio::underlying_requirements;
use xmargin_risk::{Fixed, Rounding};
use xmargin_test_support::margin::compute_health_ix;
use xmargin_test_support::markets::events;
use xmargin_test_support::world::{User, World};
use xmargin_test_support::Keypair;

use crate::show::approx;

/// `$1,234.56` of a quote-native (µUSDC) amount, cents rounded toward zero.
pub fn money(micro: i64) -> String {
    let cents = (micro / 10_000).unsigned_abs();
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if micro < 0 { "−" } else { "" };
    format!("{sign}${grouped}.{:02}", cents % 100)
}

pub fn floor(x: Fixed) -> i64 {
    x.to_i64(Rounding::Floor).unwrap_or(if x.is_negative() { i64::MIN } else { i64::MAX })
}

pub fn ceil(x: Fixed) -> i64 {
    x.to_i64(Rounding::Ceil).unwrap_or(i64::MAX)
}

/// One book (underlying) in both modes.
#[derive(Clone, Debug)]
pub struct BookRow {
    pub underlying: u16,
    /// Requirement linear mode charges the book's legs (Init, Maint).
    pub linear: (i64, i64),
    /// Requirement portfolio mode charges the book (Init, Maint).
    pub portfolio: (i64, i64),
    /// The worst scenario of the Init requirement: loss, index, price and vol shock.
    pub worst_loss: i64,
    pub worst: Option<(usize, f64, f64)>,
    pub contingency: i64,
}

/// An account valued by the engine in both modes, on the same positions.
#[derive(Clone, Debug)]
pub struct Valuation {
    /// Health (Init, Maint) in linear and in portfolio mode.
    pub linear: (i64, i64),
    pub portfolio: (i64, i64),
    pub books: Vec<BookRow>,
}

/// The engine's cache of `account` as the program builds it for
/// `compute_health` (`PriceRules::VIEW`), in portfolio mode or not.
pub fn engine_cache(
    w: &mut World,
    signer: &Keypair,
    account: &Pubkey,
    portfolio: bool,
) -> Result<HealthCache, String> {
    let group = w.group.group;
    let snap =
        Snapshot::load(&mut SvmChain { env: &mut w.env, signer }, &group).map_err(|e| e.to_string())?;
    let mut acc: MarginAccount = *snap.account(account).ok_or_else(|| format!("no account {account}"))?;
    if portfolio {
        acc.flags |= PORTFOLIO_MODE;
    } else {
        acc.flags &= !PORTFOLIO_MODE;
    }
    let readings =
        snap.banks.iter().filter_map(|(t, e)| snap.readings.get(&e.bank.oracle).map(|r| (*t, *r))).collect();
    let ctx = HealthContext { rules: PriceRules::VIEW, ..snap.context() };
    health_cache_with_markets(&ctx, &acc, &snap.banks, &snap.markets, &readings)
        .map_err(|e| format!("valuing {account}: {e}"))
}

/// Linear and portfolio health and each book's requirements, from the engine.
pub fn value(w: &mut World, signer: &Keypair, account: &Pubkey) -> Result<Valuation, String> {
    let cache = engine_cache(w, signer, account, true)?;
    let err = |e: xmargin_risk::RiskError| format!("engine: {e:?}");
    let linear = (
        floor(cache.linear_health(HealthType::Init).map_err(err)?),
        floor(cache.linear_health(HealthType::Maint).map_err(err)?),
    );
    let portfolio = (
        floor(cache.health(HealthType::Init).map_err(err)?),
        floor(cache.health(HealthType::Maint).map_err(err)?),
    );
    let MarginMode::Portfolio(params) = cache.mode().clone() else {
        return Err("the engine valued the account in linear mode (an option at its bounds?)".into());
    };
    let report = cache.portfolio_report().map_err(err)?.ok_or("no portfolio report")?;
    let maint =
        underlying_requirements(&cache, &params, HealthType::Maint, cache.risk_arrays()).map_err(err)?;
    let grid = cache.prepared_grid().map(|g| g.grid().scenarios().to_vec()).unwrap_or_default();
    let books = report
        .books
        .iter()
        .zip(&maint)
        .map(|(b, m)| BookRow {
            underlying: b.init.underlying,
            linear: (ceil(b.init.linear), ceil(m.linear)),
            portfolio: (ceil(b.requirement.init), ceil(b.requirement.maint)),
            worst_loss: ceil(b.init.worst_loss),
            worst: b.init.worst_scenario.and_then(|i| {
                grid.get(i).map(|s| (i, approx(s.price_shock) * 100.0, approx(s.vol_shock) * 100.0))
            }),
            contingency: ceil(b.init.contingency),
        })
        .collect();
    Ok(Valuation { linear, portfolio, books })
}

/// `compute_health` on the chain: the view and, in portfolio mode, its event.
pub fn chain_health(w: &mut World, user: &User) -> Result<(HealthView, Option<PortfolioHealth>), String> {
    let ix = compute_health_ix(&w.env, &w.group.group, &user.account);
    let out = w.env.send(&[ix], &[]);
    if let Err(f) = &out.result {
        return Err(format!("compute_health: {f}"));
    }
    let view = anchor_lang::AnchorDeserialize::deserialize(&mut out.return_data.as_slice())
        .map_err(|e| format!("HealthView: {e}"))?;
    Ok((view, events::<PortfolioHealth>(&out.logs).pop()))
}

pub fn band_name(band: u8) -> &'static str {
    ["Healthy", "Margin call", "Liquidatable"].get(usize::from(band)).copied().unwrap_or("?")
}

/// A scenario as words: `SOL −15 %, vol +10 pts` (index 0: one day's decay).
pub fn scenario_name(worst: Option<(usize, f64, f64)>) -> String {
    match worst {
        None => "none loses".into(),
        Some((0, _, _)) => "#0 one day's time decay".into(),
        Some((i, price, vol)) => {
            let sign = |x: f64| if x < 0.0 { "−" } else { "+" };
            let vol = if vol.abs() < 1e-9 {
                "vol flat".to_string()
            } else {
                format!("vol {}{:.0} pts", sign(vol), vol.abs())
            };
            format!("#{i} SOL {}{:.1} %, {vol}", sign(price), price.abs())
        }
    }
}

/// The side-by-side table of [`Valuation`] (names by token index).
pub fn print_table(v: &Valuation, names: &[&str]) {
    let row = |label: &str, a: (i64, i64), b: (i64, i64)| {
        println!(
            "  {label:<26} {:>12} {:>12}   {:>12} {:>12}",
            money(a.0),
            money(a.1),
            money(b.0),
            money(b.1)
        );
    };
    println!("  {:<26} {:^25}   {:^25}", "", "linear mode", "portfolio mode");
    println!("  {:<26} {:>12} {:>12}   {:>12} {:>12}", "", "Init", "Maint", "Init", "Maint");
    let mut total = ((0i64, 0i64), (0i64, 0i64));
    for b in &v.books {
        let name = names.get(usize::from(b.underlying)).copied().unwrap_or("?");
        row(&format!("{name} book requirement"), b.linear, b.portfolio);
        total.0 = (total.0 .0.saturating_add(b.linear.0), total.0 .1.saturating_add(b.linear.1));
        total.1 = (total.1 .0.saturating_add(b.portfolio.0), total.1 .1.saturating_add(b.portfolio.1));
    }
    row("total requirement", total.0, total.1);
    row("account health", v.linear, v.portfolio);
    for b in &v.books {
        let name = names.get(usize::from(b.underlying)).copied().unwrap_or("?");
        println!(
            "  {name} book's worst scenario: {} — loss {}; contingency {}; {:.0} % of linear Init",
            scenario_name(b.worst),
            money(b.worst_loss),
            money(b.contingency),
            100.0 * b.portfolio.0 as f64 / b.linear.0.max(1) as f64
        );
    }
}

/// The chain's `PortfolioHealth` event, one line per underlying.
pub fn print_event(ev: &PortfolioHealth, names: &[&str]) {
    for u in &ev.underlyings {
        let name = names.get(usize::from(u.underlying)).copied().unwrap_or("?");
        println!(
            "  chain PortfolioHealth {name}: Init {} (linear {}), Maint {}, worst loss {} in scenario #{}",
            money(u.init_requirement),
            money(u.init_linear),
            money(u.maint_requirement),
            money(u.worst_loss),
            u.worst_scenario
        );
    }
}

/// What the act established, for its test.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    /// Init requirement of Iris's book: linear and portfolio (µUSDC).
    pub linear_init_requirement: i64,
    pub portfolio_init_requirement: i64,
    /// Health (Init) the chain reported before and after opting in.
    pub chain_linear_init: i64,
    pub chain_portfolio_init: i64,
    /// After the crash: the chain's band (2 = liquidatable) and Maint in portfolio mode.
    pub crash_band: u8,
    pub crash_maint: i64,
    /// Liquidation steps on Iris (the keeper's first), her mode after the first.
    pub liquidation_steps: usize,
    pub keeper_steps: usize,
    pub portfolio_after_liquidation: bool,
    /// Positions Iris holds after the liquidation; her Maint health at the
    /// end (after expiry, once the keeper settled her closed legs' PnL).
    pub positions_after: usize,
    pub final_maint: i64,
    pub settlements: Vec<Settlement>,
}

/// One option market at expiry.
#[derive(Clone, Debug, Default)]
pub struct Settlement {
    pub market: String,
    /// $ per SOL.
    pub price: f64,
    /// Σ payouts (µUSDC): zero.
    pub total: i64,
    /// Each holder's payout (µUSDC): contracts × intrinsic value.
    pub payouts: Vec<(String, i64)>,
}

impl Outcome {
    /// The act's claims; the demo fails when one does not hold.
    pub fn check(&self) -> Result<(), String> {
        let facts = [
            (self.portfolio_init_requirement > 0, "portfolio mode charges the book something"),
            (
                self.portfolio_init_requirement < self.linear_init_requirement,
                "portfolio mode charges the book less than linear mode",
            ),
            (self.chain_portfolio_init > self.chain_linear_init, "opting in raised Init health"),
            (self.crash_band == 2 && self.crash_maint < 0, "the crash left iris liquidatable"),
            (self.liquidation_steps >= 1 && self.keeper_steps >= 1, "the keeper liquidated iris"),
            (!self.portfolio_after_liquidation, "the first liquidation step cleared PORTFOLIO_MODE"),
            (self.positions_after == 0, "every leg was liquidated"),
            (self.final_maint >= 0, "iris is solvent once her closed legs' PnL is settled"),
            (self.settlements.len() == 3, "three option markets settled"),
            (self.settlements.iter().all(|s| s.price > 0.0), "each has a settlement price"),
        ];
        if let Some((_, what)) = facts.iter().find(|(ok, _)| !ok) {
            return Err(format!("not so: {what} ({self:?})"));
        }
        for s in &self.settlements {
            if s.total != 0 || s.payouts.len() < 2 {
                return Err(format!("{}: payouts {:?} do not sum to zero", s.market, s.payouts));
            }
        }
        Ok(())
    }
}
