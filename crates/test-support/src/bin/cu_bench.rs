//! Compute-unit benchmark: runs a fixed scenario through the real SBF program in
//! LiteSVM and writes the compute units of every instruction to
//! `docs/bench/cu.md` and `docs/bench/cu.json` (or the directory given as the
//! first argument). CU is deterministic for a given build and inputs, so the
//! table is a regression record: commit it with every program change.
use std::fmt::Write as _;
use std::path::PathBuf;

use xmargin_test_support::bench::ratios::requirement_ratios;
use xmargin_test_support::bench::{run_scenario, Row};

fn main() {
    let out_dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/bench"));
    let rows = run_scenario();
    std::fs::create_dir_all(&out_dir).expect("create output dir");

    let mut md = String::from(
        "# Compute units per instruction\n\n\
         Written by `scripts/bench` (crates/test-support/src/bin/cu_bench.rs): the real SBF build\n\
         of the program run in LiteSVM. Budgets are from DESIGN.md (\"Numbers to meet\").\n\n\
         | instruction | scenario | CU | budget | within |\n|---|---|---:|---:|:---:|\n",
    );
    for r in &rows {
        let (budget, ok) = match r.budget {
            Some(b) if r.enforced => (b.to_string(), if r.compute_units <= b { "yes" } else { "**NO**" }),
            Some(b) => (format!("{b} (target)"), if r.compute_units <= b { "yes" } else { "not yet" }),
            None => ("-".into(), ""),
        };
        writeln!(md, "| `{}` | {} | {} | {} | {} |", r.instruction, r.scenario, r.compute_units, budget, ok)
            .unwrap();
    }
    write_ratios(&mut md);
    std::fs::write(out_dir.join("cu.md"), &md).expect("write cu.md");

    let json: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "  {{\"instruction\": \"{}\", \"scenario\": \"{}\", \"compute_units\": {}, \"budget\": {}, \"enforced\": {}}}",
                r.instruction,
                r.scenario,
                r.compute_units,
                r.budget.map_or("null".into(), |b| b.to_string()),
                r.enforced
            )
        })
        .collect();
    std::fs::write(out_dir.join("cu.json"), format!("[\n{}\n]\n", json.join(",\n"))).expect("write cu.json");

    print!("{md}");
    let over: Vec<&Row> =
        rows.iter().filter(|r| r.enforced && r.budget.is_some_and(|b| r.compute_units > b)).collect();
    if !over.is_empty() {
        eprintln!("{} instruction(s) over budget", over.len());
        std::process::exit(1);
    }
}

/// The portfolio-vs-linear table (`bench::ratios`): each worked book's Init
/// requirement in both modes, read from the chain.
fn write_ratios(md: &mut String) {
    md.push_str(
        "\n## Portfolio vs linear Init requirement\n\n\
         Read from `compute_health`'s `PortfolioHealth` event after `set_margin_mode` (USDC;\n\
         crates/test-support/src/bench_ratios.rs; worked by hand in docs/DESIGN.md).\n\n\
         | book | linear | portfolio | worst loss | contingency | portfolio / linear |\n|---|---:|---:|---:|---:|---:|\n",
    );
    let usd = |v: i64| format!("{:.2}", v as f64 / 1e6);
    for r in requirement_ratios() {
        writeln!(
            md,
            "| {} | {} | {} | {} | {} | {:.1} % |",
            r.book,
            usd(r.linear_init),
            usd(r.portfolio_init),
            usd(r.worst_loss),
            usd(r.contingency),
            r.percent()
        )
        .unwrap();
    }
}
