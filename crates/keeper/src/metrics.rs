//! The keeper's counters and gauges, in the Prometheus text format
//! ([`Metrics::render`], served by [`crate::http`]), and its liveness: live
//! while the last successful cycle finished within the allowed age (a
//! number of poll intervals); before the first cycle the start counts.
//!
//! Every value is an atomic: the loop, the sender and the HTTP thread share
//! one `Arc<Metrics>` without locks.
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::CycleSummary;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
}

macro_rules! metrics {
    ($($variant:ident => $name:literal, $kind:ident, $help:literal;)*) => {
        /// One metric; its name, kind and help text are in [`Metric::info`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Metric { $($variant),* }

        impl Metric {
            pub const ALL: &'static [Metric] = &[$(Metric::$variant),*];

            /// Name, kind and help text.
            pub fn info(self) -> (&'static str, Kind, &'static str) {
                match self { $(Metric::$variant => ($name, Kind::$kind, $help)),* }
            }
        }
    };
}

metrics! {
    Cycles => "xmargin_keeper_cycles_total", Counter, "Cycles that completed.";
    CycleErrors => "xmargin_keeper_cycle_errors_total", Counter, "Cycles that failed (RPC errors while loading).";
    AccountsScanned => "xmargin_keeper_accounts_scanned", Gauge, "Margin accounts valued in the last cycle.";
    Markets => "xmargin_keeper_markets", Gauge, "Derivative markets in the last cycle.";
    Liquidatable => "xmargin_keeper_liquidatable_accounts", Gauge, "Accounts below maintenance in the last cycle.";
    Bankrupt => "xmargin_keeper_bankrupt_accounts", Gauge, "Bankrupt accounts in the last cycle.";
    SkippedStale => "xmargin_keeper_unvalued_accounts", Gauge, "Accounts that could not be valued (stale prices) in the last cycle.";
    LiquidationsSent => "xmargin_keeper_liquidations_sent_total", Counter, "Liquidations that landed (token and position).";
    PositionLiquidations => "xmargin_keeper_position_liquidations_total", Counter, "Position liquidations that landed.";
    LiquidationsFailed => "xmargin_keeper_liquidations_failed_total", Counter, "Liquidations that did not land.";
    Bankruptcies => "xmargin_keeper_bankruptcies_resolved_total", Counter, "resolve_bankruptcy transactions that landed.";
    FundingUpdates => "xmargin_keeper_funding_updates_total", Counter, "update_funding cranks that landed.";
    PriceSamples => "xmargin_keeper_price_samples_total", Counter, "sample_price cranks that landed.";
    ExpiriesSettled => "xmargin_keeper_expiries_settled_total", Counter, "settle_expired transactions that landed.";
    RiskArrayUpdates => "xmargin_keeper_risk_array_updates_total", Counter, "update_risk_array cranks of option markets that landed.";
    PnlSettlements => "xmargin_keeper_pnl_settlements_total", Counter, "settle_pnl transactions that landed.";
    DustSettlements => "xmargin_keeper_dust_settlements_total", Counter, "settle_dust transactions that landed.";
    SkippedUnprofitable => "xmargin_keeper_skipped_unprofitable_total", Counter, "Liquidations skipped under min_profit.";
    TransactionsSent => "xmargin_keeper_transactions_sent_total", Counter, "Transactions that landed.";
    TransactionFailures => "xmargin_keeper_transaction_failures_total", Counter, "Transactions that failed, expired, were abandoned or refused.";
    TransactionsExpired => "xmargin_keeper_transactions_expired_total", Counter, "Transactions whose blockhash expired before they landed.";
    Rebroadcasts => "xmargin_keeper_rebroadcasts_total", Counter, "Sends of a transaction after its first.";
    PriorityFee => "xmargin_keeper_priority_fee_micro_lamports", Gauge, "Priority fee of the last transaction (micro-lamports per CU).";
    ComputeUnitLimit => "xmargin_keeper_compute_unit_limit", Gauge, "Compute-unit limit of the last transaction.";
    FullScans => "xmargin_keeper_full_scans_total", Counter, "Full getProgramAccounts scans (start, rescans, websocket fallbacks).";
    AccountUpdates => "xmargin_keeper_account_updates_total", Counter, "Account updates applied from the websocket subscriptions.";
    LastCycleMicros => "xmargin_keeper_last_cycle_duration_seconds", Gauge, "Duration of the last completed cycle.";
    LastCycleUnix => "xmargin_keeper_last_cycle_unix_time", Gauge, "Unix time the last completed cycle finished.";
}

/// The metrics and the liveness clock.
#[derive(Debug)]
pub struct Metrics {
    values: Vec<AtomicU64>,
    started: Instant,
    /// Milliseconds from `started` to the end of the last completed cycle (0: none yet).
    last_cycle_end_ms: AtomicU64,
    max_cycle_age: Duration,
}

impl Metrics {
    /// Live while a cycle completed within `max_cycle_age` (counted from now before the first).
    pub fn new(max_cycle_age: Duration) -> Metrics {
        Metrics {
            values: Metric::ALL.iter().map(|_| AtomicU64::new(0)).collect(),
            started: Instant::now(),
            last_cycle_end_ms: AtomicU64::new(0),
            max_cycle_age,
        }
    }

    pub fn get(&self, m: Metric) -> u64 {
        self.values[m as usize].load(Ordering::Relaxed)
    }

    pub fn set(&self, m: Metric, v: u64) {
        self.values[m as usize].store(v, Ordering::Relaxed);
    }

    /// Adds `n` (saturating: a counter never wraps).
    pub fn add(&self, m: Metric, n: u64) {
        let cell = &self.values[m as usize];
        let mut current = cell.load(Ordering::Relaxed);
        while let Err(seen) = cell.compare_exchange_weak(
            current,
            current.saturating_add(n),
            Ordering::Relaxed,
            Ordering::Relaxed,
        ) {
            current = seen;
        }
    }

    /// A completed cycle: its counts, how long it took, when it ended (unix seconds).
    pub fn record_cycle(&self, s: &CycleSummary, took: Duration, unix_time: u64) {
        use Metric::*;
        let n = |v: usize| v as u64;
        self.add(Cycles, 1);
        for (m, v) in [(AccountsScanned, s.accounts), (Markets, s.markets), (Liquidatable, s.liquidatable)]
            .into_iter()
            .chain([(Bankrupt, s.bankrupt), (SkippedStale, s.skipped_stale)])
        {
            self.set(m, n(v));
        }
        for (m, v) in [
            (LiquidationsSent, s.liquidations_sent),
            (PositionLiquidations, s.position_liquidations),
            (LiquidationsFailed, s.liquidations_failed),
            (Bankruptcies, s.bankruptcies_sent),
            (FundingUpdates, s.funding_updates),
            (PriceSamples, s.price_samples),
            (ExpiriesSettled, s.expiries_settled),
            (RiskArrayUpdates, s.risk_array_updates),
            (PnlSettlements, s.pnl_settlements),
            (DustSettlements, s.dust_settlements),
            (SkippedUnprofitable, s.skipped_unprofitable),
            (TransactionsSent, s.transactions_sent),
            (TransactionFailures, s.failures),
        ] {
            self.add(m, n(v));
        }
        self.set(LastCycleMicros, u64::try_from(took.as_micros()).unwrap_or(u64::MAX));
        self.set(LastCycleUnix, unix_time);
        let since_start = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_cycle_end_ms.store(since_start.max(1), Ordering::Relaxed);
    }

    /// How long ago the last cycle completed (or the keeper started).
    pub fn cycle_age(&self) -> Duration {
        let end = Duration::from_millis(self.last_cycle_end_ms.load(Ordering::Relaxed));
        self.started.elapsed().saturating_sub(end)
    }

    /// Live: the last cycle completed within the allowed age.
    pub fn live(&self) -> bool {
        self.cycle_age() <= self.max_cycle_age
    }

    /// Every metric in the Prometheus text exposition format (0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4_096);
        for m in Metric::ALL {
            let (name, kind, help) = m.info();
            let kind = match kind {
                Kind::Counter => "counter",
                Kind::Gauge => "gauge",
            };
            let v = self.get(*m);
            let value = match m {
                Metric::LastCycleMicros => format!("{}.{:06}", v / 1_000_000, v % 1_000_000),
                _ => v.to_string(),
            };
            out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"));
        }
        out
    }
}

/// The value of `name` in a Prometheus text page (for tests and scrapers).
pub fn scraped(page: &str, name: &str) -> Option<f64> {
    page.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cycle_moves_the_counters_and_sets_the_gauges() {
        let m = Metrics::new(Duration::from_secs(60));
        let s = CycleSummary {
            accounts: 10,
            liquidatable: 2,
            liquidations_sent: 1,
            liquidations_failed: 1,
            failures: 1,
            transactions_sent: 3,
            pnl_settlements: 2,
            ..CycleSummary::default()
        };
        m.record_cycle(&s, Duration::from_millis(1_234), 1_700_000_000);
        m.record_cycle(&CycleSummary { accounts: 11, ..s.clone() }, Duration::from_millis(5), 1_700_000_005);
        let page = m.render();
        assert_eq!(scraped(&page, "xmargin_keeper_cycles_total"), Some(2.0));
        assert_eq!(scraped(&page, "xmargin_keeper_accounts_scanned"), Some(11.0), "a gauge: the last cycle");
        assert_eq!(scraped(&page, "xmargin_keeper_liquidatable_accounts"), Some(2.0));
        assert_eq!(scraped(&page, "xmargin_keeper_liquidations_sent_total"), Some(2.0), "a counter: summed");
        assert_eq!(scraped(&page, "xmargin_keeper_liquidations_failed_total"), Some(2.0));
        assert_eq!(scraped(&page, "xmargin_keeper_transaction_failures_total"), Some(2.0));
        assert_eq!(scraped(&page, "xmargin_keeper_pnl_settlements_total"), Some(4.0));
        assert_eq!(scraped(&page, "xmargin_keeper_last_cycle_duration_seconds"), Some(0.005));
        assert_eq!(scraped(&page, "xmargin_keeper_last_cycle_unix_time"), Some(1_700_000_005.0));
        assert!(page.contains("# TYPE xmargin_keeper_cycles_total counter\n"));
        assert!(page.contains("# TYPE xmargin_keeper_accounts_scanned gauge\n"));
        assert_eq!(page.lines().filter(|l| !l.starts_with('#')).count(), Metric::ALL.len());
    }

    #[test]
    fn liveness_follows_the_last_cycle() {
        let m = Metrics::new(Duration::from_millis(100));
        assert!(m.live(), "the start counts as a cycle");
        std::thread::sleep(Duration::from_millis(150));
        assert!(!m.live(), "no cycle within the allowed age");
        m.record_cycle(&CycleSummary::default(), Duration::ZERO, 0);
        assert!(m.live());
        m.add(Metric::Rebroadcasts, u64::MAX);
        m.add(Metric::Rebroadcasts, 5);
        assert_eq!(m.get(Metric::Rebroadcasts), u64::MAX, "saturates");
    }
}
