//! `show ACCOUNT` for a portfolio-mode account: each underlying's book as
//! the engine charges it (`HealthCache::portfolio_report`, what
//! `compute_health` emits as `PortfolioHealth`): the Init / Maint /
//! LiquidationEnd requirement, what linear mode would charge the same legs,
//! the contingency, and the worst scenario (its price and vol shock and
//! weight in the group's grid) with its weighted loss. `None` for a linear
//! account, or a portfolio account valued linearly (an option at its bounds).
use serde_json::{json, Value};
use xmargin_risk::health::HealthCache;
use xmargin_risk::portfolio::BookReport;
use xmargin_risk::{Fixed, Rounding};

use crate::amount::ui;

/// A requirement in quote UI units, rounded up (as `PortfolioHealth` reports them).
fn up(x: Fixed, quote_decimals: u8) -> String {
    ui(x.to_i128(Rounding::Ceil).unwrap_or(i128::MAX), quote_decimals)
}

/// The worst scenario of a book: its index in the grid, price shock and
/// vol shock (fractions) and loss weight.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScenarioView {
    pub index: usize,
    pub price_shock: f64,
    pub vol_shock: f64,
    pub weight: f64,
}

/// One underlying's book.
#[derive(Clone, Debug, PartialEq)]
pub struct BookView {
    pub underlying: u16,
    pub init: Fixed,
    pub maint: Fixed,
    pub liq_end: Fixed,
    /// What linear mode charges the same legs (Init).
    pub init_linear: Fixed,
    /// Init contingency (delta-adjusted notional × the Init floor rate).
    pub init_contingency: Fixed,
    /// Weighted loss of the worst scenario, before the health type's scale.
    pub worst_loss: Fixed,
    pub worst: Option<ScenarioView>,
}

fn book_view(cache: &HealthCache, b: &BookReport) -> BookView {
    let scenarios = cache.prepared_grid().map(|g| g.grid().scenarios());
    let worst = b.init.worst_scenario.and_then(|k| {
        let s = scenarios?.get(k)?;
        Some(ScenarioView {
            index: k,
            price_shock: crate::show::approx(s.price_shock),
            vol_shock: crate::show::approx(s.vol_shock),
            weight: crate::show::approx(s.weight),
        })
    });
    BookView {
        underlying: b.init.underlying,
        init: b.requirement.init,
        maint: b.requirement.maint,
        liq_end: b.requirement.liq_end,
        init_linear: b.init.linear,
        init_contingency: b.init.contingency,
        worst_loss: b.init.worst_loss,
        worst,
    }
}

/// Every book of a portfolio-mode cache (`None`: linear mode).
pub fn books(cache: &HealthCache) -> Result<Option<Vec<BookView>>, String> {
    let report = cache.portfolio_report().map_err(|e| format!("portfolio report: {e:?}"))?;
    Ok(report.map(|r| r.books.iter().map(|b| book_view(cache, b)).collect()))
}

fn scenario_text(s: &Option<ScenarioView>) -> String {
    match s {
        None => "none loses".into(),
        Some(s) => format!(
            "#{} price {:+.1} % vol {:+.1} pt weight {:.2}",
            s.index,
            s.price_shock * 100.0,
            s.vol_shock * 100.0,
            s.weight
        ),
    }
}

pub fn to_json(books: &[BookView], quote_decimals: u8) -> Value {
    let quote = |x: Fixed| up(x, quote_decimals);
    books
        .iter()
        .map(|b| {
            json!({
                "underlying": b.underlying,
                "requirement": { "init": quote(b.init), "maint": quote(b.maint), "liquidation_end": quote(b.liq_end) },
                "init_linear": quote(b.init_linear),
                "init_contingency": quote(b.init_contingency),
                "worst_loss": quote(b.worst_loss),
                "worst_scenario": b.worst.map(|s| json!({
                    "index": s.index,
                    "price_shock": s.price_shock,
                    "vol_shock": s.vol_shock,
                    "weight": s.weight,
                })),
            })
        })
        .collect::<Vec<_>>()
        .into()
}

pub fn print_text(books: &[BookView], quote_decimals: u8) {
    let quote = |x: Fixed| up(x, quote_decimals);
    println!(
        "\nportfolio books (requirement per underlying, quote units rounded up):\n{:>10}  {:>14}  {:>14}  {:>14}  {:>14}  {:>12}  {:>12}  worst scenario",
        "underlying", "init", "maint", "liq-end", "linear init", "contingency", "worst loss"
    );
    for b in books {
        println!(
            "{:>10}  {:>14}  {:>14}  {:>14}  {:>14}  {:>12}  {:>12}  {}",
            b.underlying,
            quote(b.init),
            quote(b.maint),
            quote(b.liq_end),
            quote(b.init_linear),
            quote(b.init_contingency),
            quote(b.worst_loss),
            scenario_text(&b.worst)
        );
    }
}
