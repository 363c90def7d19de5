//! Host benchmark: rank 100,000 margin accounts by health, each with 4 token
//! positions (a SOL deposit, USDC, BTC and ETH debts) and 4 perpetual
//! positions (DERIVATIVES.md: ≤ 1 s on one core, release build). The group
//! is built in memory (`xmargin_keeper::synthetic`) and valued with the
//! program's own code exactly as a keeper cycle values it: each bank and
//! market priced once, each position by a few multiplies.
//!
//! `cargo run --release --no-default-features -p xmargin-keeper --example rank_bench [N] [BUDGET_MS]`
//!
//! Exits with an error when the best of five runs exceeds the budget
//! (default 1,000 ms for 100,000 accounts, scaled linearly for other N).
use std::process::ExitCode;
use std::time::Instant;

use xmargin_keeper::{rank_accounts, synthetic};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
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
        positions = ranked.iter().filter(|h| h.liquidation.is_some_and(|l| matches!(l, xmargin_keeper::Liquidation::Position { .. }))).count();
    }
    let ms = best * 1e3;
    println!(
        "ranked {n} accounts (4 token + 4 perpetual positions each) in {ms:.1} ms (best of 5, one core; \
         {:.2} µs per account); {liquidatable} liquidatable ({positions} by a position); budget {budget_ms:.0} ms; \
         group built in {build_ms:.0} ms",
        ms * 1e3 / n as f64
    );
    if ms > budget_ms {
        eprintln!("rank_bench: {ms:.1} ms is over the {budget_ms:.0} ms budget");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
