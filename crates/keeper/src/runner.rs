//! The keeper's loop: a cycle, its metrics, the running totals logged, a
//! sleep of one poll interval that a stop request cuts short; again until
//! stopped or the configured number of cycles is done.
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::chain::{Chain, ChainError};
use crate::metrics::{Metric, Metrics};
use crate::stop::Stop;
use crate::{run_cycle, CycleSummary, KeeperConfig};

pub struct Runner {
    pub config: KeeperConfig,
    pub metrics: Arc<Metrics>,
    pub stop: Stop,
    pub poll_interval: Duration,
    /// Stop after this many cycles; `None`: until stopped.
    pub cycles: Option<u64>,
}

/// Why the loop ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// A stop was requested (SIGTERM, Ctrl-C).
    Stopped,
    /// The configured number of cycles ran (`errors` of them failed).
    Done { cycles: u64, errors: u64 },
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Runner {
    /// One cycle over `chain`, recorded in the metrics.
    pub fn cycle(&self, chain: &mut dyn Chain) -> Result<CycleSummary, ChainError> {
        let started = Instant::now();
        let out = run_cycle(chain, &self.config);
        match &out {
            Ok(summary) => self.metrics.record_cycle(summary, started.elapsed(), unix_now()),
            Err(_) => self.metrics.add(Metric::CycleErrors, 1),
        }
        out
    }

    /// Cycles until stopped or done.
    pub fn run(&self, chain: &mut dyn Chain) -> Ended {
        let mut totals = CycleSummary::default();
        let (mut cycle, mut errors): (u64, u64) = (0, 0);
        loop {
            if self.stop.requested() {
                return Ended::Stopped;
            }
            cycle = cycle.saturating_add(1);
            let started = Instant::now();
            match self.cycle(chain) {
                Ok(sum) => totals.add(&sum),
                Err(e) => {
                    errors = errors.saturating_add(1);
                    tracing::warn!(cycle, error = %e, "cycle failed; retrying next interval");
                }
            }
            log_totals(cycle, errors, started.elapsed(), &totals);
            if self.cycles.is_some_and(|n| cycle >= n) {
                return Ended::Done { cycles: cycle, errors };
            }
            if self.stop.sleep(self.poll_interval) {
                return Ended::Stopped;
            }
        }
    }
}

fn log_totals(cycle: u64, errors: u64, took: Duration, totals: &CycleSummary) {
    tracing::info!(
        cycle,
        ms = took.as_millis() as u64,
        accounts = totals.accounts,
        liquidations = totals.liquidations_sent,
        liquidations_failed = totals.liquidations_failed,
        positions = totals.position_liquidations,
        bankruptcies = totals.bankruptcies_sent,
        funding = totals.funding_updates,
        samples = totals.price_samples,
        expiries = totals.expiries_settled,
        risk_arrays = totals.risk_array_updates,
        settlements = totals.pnl_settlements,
        dust = totals.dust_settlements,
        failures = totals.failures,
        cycle_errors = errors,
        "totals"
    );
}
