//! Host benchmark: rank 100,000 margin accounts by health, each with 4 token
//! positions (a SOL deposit, USDC, BTC and ETH debts) and 4 perpetual
//! positions (DERIVATIVES.md: ≤ 1 s on one core, release build). The group
//! is built in memory (`xmargin_keeper::synthetic`) and valued with the
//! program's own code exactly as a keeper cycle values it: each bank and
//! market priced once, each position by a few multiplies.
//!
//! `cargo run --release --no-default-features -p xmargin-keeper --example rank_bench [N] [BUDGET_MS] [--out FILE.md]`
//!
//! Exits with an error when the best of five runs exceeds the budget
//! (default 1,000 ms for 100,000 accounts, scaled linearly for other N).
//! `scripts/bench` runs it and writes `docs/bench/rank.md` with `--out`.
use std::process::ExitCode;
use std::time::Instant;

use xmargin_keeper::{rank_accounts, synthetic};

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let out = args.iter().position(|a| a == "--out").map(|i| {
        let path = args.get(i + 1).cloned().unwrap_or_default();
        args.drain(i..(i + 2).min(args.len()));
        path
    });
    let mut args = args.into_iter();
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let budget_ms: f64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1_000.0 * n as f64 / 100_000.0);
    let now = 1_750_000_000;
    let built = Instant::now();
    let snap = synthetic::group(n, 4, now);
    let build_ms = built.elapsed().as_secs_f64() * 1e3;
    let mut best = f64::MAX;
    let mut liquidatable = 0;
    let mut positions = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let ranked = rank_accounts(&snap);
        best = best.min(t.elapsed().as_secs_f64());
        assert_eq!(ranked.len(), n, "every account valued");
        liquidatable = ranked.iter().filter(|h| h.liquidatable).count();
        positions = ranked
            .iter()
            .filter(|h| {
                h.liquidation.is_some_and(|l| matches!(l, xmargin_keeper::Liquidation::Position { .. }))
            })
            .count();
    }
    let ms = best * 1e3;
    println!(
        "ranked {n} accounts (4 token + 4 perpetual positions each) in {ms:.1} ms (best of 5, one core; \
         {:.2} µs per account); {liquidatable} liquidatable ({positions} by a position); budget {budget_ms:.0} ms; \
         group built in {build_ms:.0} ms",
        ms * 1e3 / n as f64
    );
    let within = ms <= budget_ms;
    if let Some(path) = out {
        let table = format!(
            "# Keeper ranking\n\n\
             Written by `scripts/bench` (crates/keeper/examples/rank_bench.rs): a synthetic group in memory\n\
             valued with the program's own code as a keeper cycle values it (each bank and market priced\n\
             once, each position by a few multiplies), release build, one core, best of 5. Budget from\n\
             DERIVATIVES.md (\"Numbers to meet\"). Wall time: it depends on the machine.\n\n\
             | accounts | positions per account | ms | µs per account | budget ms | within |\n\
             |---:|---|---:|---:|---:|:---:|\n\
             | {n} | 4 token + 4 perpetual | {ms:.1} | {:.2} | {budget_ms:.0} | {} |\n",
            ms * 1e3 / n as f64,
            if within { "yes" } else { "no" }
        );
        if let Err(e) = std::fs::write(&path, table) {
            eprintln!("rank_bench: cannot write {path}: {e}");
            return ExitCode::FAILURE;
        }
    }
    if !within {
        eprintln!("rank_bench: {ms:.1} ms is over the {budget_ms:.0} ms budget");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
