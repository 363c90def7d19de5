//! A [`Chain`] whose `getProgramAccounts` answers come from views kept
//! current by account subscriptions ([`UpdateSource`]: `programSubscribe`
//! over the RPC's websocket, [`crate::subscribe`]) instead of a full scan
//! every cycle.
//!
//! Per filter: the subscription is started first, then one full scan is
//! taken (so no update between the two is lost), then updates are applied in
//! slot order ([`ProgramView`]). A full rescan replaces the view every
//! `rescan_every` (catching what a subscription cannot report, such as a
//! closed account, which leaves the program) and at once after any
//! subscription error; while a subscription cannot be started every cycle
//! scans in full. Everything else goes to the inner chain.
use std::sync::Arc;
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use xmargin_client::accounts::ScanFilter;

use crate::budget::Budget;
use crate::chain::{Chain, ChainError, Fetched, Sent};
use crate::metrics::{Metric, Metrics};
use crate::view::{AccountUpdate, ProgramView};

/// What a subscription reports, for the filter numbered `id`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Update(usize, AccountUpdate),
    /// The subscription ended (websocket closed or failed): rescan.
    Failed(usize, String),
}

/// Account subscriptions, one per filter.
pub trait UpdateSource {
    /// Makes sure a subscription to `filter` runs (started, or restarted
    /// after a failure); an error leaves the filter on full scans.
    fn subscribe(&mut self, id: usize, filter: &ScanFilter) -> Result<(), String>;
    /// The events received since the last call.
    fn drain(&mut self) -> Vec<Event>;
}

struct Watched {
    filter: ScanFilter,
    view: Option<ProgramView>,
    scanned_at: Instant,
}

pub struct WatchedChain<C: Chain> {
    pub inner: C,
    source: Box<dyn UpdateSource + Send>,
    watched: Vec<Watched>,
    rescan_every: Duration,
    metrics: Option<Arc<Metrics>>,
}

impl<C: Chain> WatchedChain<C> {
    pub fn new(inner: C, source: Box<dyn UpdateSource + Send>, rescan_every: Duration) -> WatchedChain<C> {
        WatchedChain { inner, source, watched: Vec::new(), rescan_every, metrics: None }
    }

    /// Counts full scans and applied updates into `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> WatchedChain<C> {
        self.metrics = Some(metrics);
        self
    }

    fn count(&self, m: Metric, n: u64) {
        if let Some(metrics) = &self.metrics {
            metrics.add(m, n);
        }
    }

    /// Applies the pending events; a failed subscription drops its view.
    fn apply_events(&mut self) {
        let mut applied: u64 = 0;
        for event in self.source.drain() {
            match event {
                Event::Update(id, update) => {
                    if let Some(view) = self.watched.get_mut(id).and_then(|w| w.view.as_mut()) {
                        view.apply(update);
                        applied = applied.saturating_add(1);
                    }
                }
                Event::Failed(id, reason) => {
                    tracing::warn!(filter = id, %reason, "account subscription ended: full scan next");
                    if let Some(w) = self.watched.get_mut(id) {
                        w.view = None;
                    }
                }
            }
        }
        self.count(Metric::AccountUpdates, applied);
    }

    fn id_of(&mut self, filter: &ScanFilter) -> usize {
        match self.watched.iter().position(|w| w.filter == *filter) {
            Some(id) => id,
            None => {
                self.watched.push(Watched { filter: filter.clone(), view: None, scanned_at: Instant::now() });
                self.watched.len() - 1
            }
        }
    }

    /// Subscribes, then scans in full; the view is kept only if subscribed.
    fn rescan(&mut self, id: usize, filter: &ScanFilter) -> Result<Vec<(Pubkey, Vec<u8>)>, ChainError> {
        let subscribed = match self.source.subscribe(id, filter) {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(filter = id, error = %e, "no account subscription: full scans");
                false
            }
        };
        let (slot, accounts) = self.inner.program_accounts_at(filter)?;
        self.count(Metric::FullScans, 1);
        let view = ProgramView::from_snapshot(filter.clone(), slot, accounts);
        let out = view.accounts();
        let w = &mut self.watched[id];
        w.view = subscribed.then_some(view);
        w.scanned_at = Instant::now();
        Ok(out)
    }
}

impl<C: Chain> Chain for WatchedChain<C> {
    fn unix_time(&mut self) -> Result<i64, ChainError> {
        self.inner.unix_time()
    }

    fn program_accounts(&mut self, filter: &ScanFilter) -> Result<Vec<(Pubkey, Vec<u8>)>, ChainError> {
        self.apply_events();
        let id = self.id_of(filter);
        let w = &self.watched[id];
        match &w.view {
            Some(view) if w.scanned_at.elapsed() < self.rescan_every => Ok(view.accounts()),
            _ => {
                let scanned = self.rescan(id, filter)?;
                self.apply_events();
                Ok(self.watched[id].view.as_ref().map_or(scanned, ProgramView::accounts))
            }
        }
    }

    fn accounts(&mut self, keys: &[Pubkey]) -> Result<Vec<Option<Fetched>>, ChainError> {
        self.inner.accounts(keys)
    }

    fn send(&mut self, instructions: &[Instruction]) -> Result<Sent, ChainError> {
        self.inner.send(instructions)
    }

    fn budget(&mut self, instructions: &[Instruction], fixed: Budget) -> Result<Budget, ChainError> {
        self.inner.budget(instructions, fixed)
    }

    fn stopping(&self) -> bool {
        self.inner.stopping()
    }

    fn refresh_lookup_table(&mut self) -> Result<(), ChainError> {
        self.inner.refresh_lookup_table()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::ProgramAccounts;
    use std::sync::Mutex;

    /// A chain holding accounts at a slot; counts full scans.
    #[derive(Default)]
    struct Fake {
        slot: u64,
        accounts: Vec<(Pubkey, Vec<u8>)>,
        scans: usize,
    }

    impl Chain for Fake {
        fn unix_time(&mut self) -> Result<i64, ChainError> {
            Ok(0)
        }
        fn program_accounts(&mut self, f: &ScanFilter) -> Result<Vec<(Pubkey, Vec<u8>)>, ChainError> {
            self.scans += 1;
            Ok(self.accounts.iter().filter(|(_, d)| f.matches(d)).cloned().collect())
        }
        fn program_accounts_at(&mut self, f: &ScanFilter) -> Result<(u64, ProgramAccounts), ChainError> {
            Ok((self.slot, self.program_accounts(f)?))
        }
        fn accounts(&mut self, _: &[Pubkey]) -> Result<Vec<Option<Fetched>>, ChainError> {
            Ok(vec![])
        }
        fn send(&mut self, _: &[Instruction]) -> Result<Sent, ChainError> {
            Err(ChainError("not here".into()))
        }
    }

    /// Events queued by the test; subscriptions refused while `refuse`.
    #[derive(Clone, Default)]
    struct Source(Arc<Mutex<(Vec<Event>, bool, usize)>>);

    impl UpdateSource for Source {
        fn subscribe(&mut self, _: usize, _: &ScanFilter) -> Result<(), String> {
            let mut s = self.0.lock().unwrap();
            s.2 += 1;
            if s.1 {
                Err("connection refused".into())
            } else {
                Ok(())
            }
        }
        fn drain(&mut self) -> Vec<Event> {
            std::mem::take(&mut self.0.lock().unwrap().0)
        }
    }

    fn filter() -> ScanFilter {
        ScanFilter { data_size: 2, memcmp: vec![(0, vec![7])] }
    }

    #[test]
    fn one_scan_then_updates_then_a_rescan_after_a_failure() {
        let (a, b) = (Pubkey::new_unique(), Pubkey::new_unique());
        let fake = Fake { slot: 50, accounts: vec![(a, vec![7, 1]), (b, vec![8, 1])], scans: 0 };
        let source = Source::default();
        let mut chain = WatchedChain::new(fake, Box::new(source.clone()), Duration::from_secs(3_600));
        assert_eq!(chain.program_accounts(&filter()).unwrap(), vec![(a, vec![7, 1])]);
        source.0.lock().unwrap().0.extend([
            Event::Update(0, AccountUpdate { key: a, slot: 51, data: Some(vec![7, 2]) }),
            Event::Update(0, AccountUpdate { key: b, slot: 52, data: Some(vec![7, 3]) }),
            Event::Update(0, AccountUpdate { key: a, slot: 49, data: Some(vec![7, 9]) }),
        ]);
        let mut got = chain.program_accounts(&filter()).unwrap();
        got.sort();
        let mut want = vec![(a, vec![7, 2]), (b, vec![7, 3])];
        want.sort();
        assert_eq!(got, want, "updates applied, the stale one ignored");
        assert_eq!(chain.inner.scans, 1, "no second scan");

        source.0.lock().unwrap().0.push(Event::Failed(0, "websocket closed".into()));
        chain.inner.accounts = vec![(a, vec![7, 5])];
        assert_eq!(chain.program_accounts(&filter()).unwrap(), vec![(a, vec![7, 5])]);
        assert_eq!(chain.inner.scans, 2, "rescanned after the failure");
        assert_eq!(source.0.lock().unwrap().2, 2, "and subscribed again");
    }

    #[test]
    fn without_a_subscription_or_when_due_it_scans_in_full() {
        let a = Pubkey::new_unique();
        let fake = Fake { slot: 1, accounts: vec![(a, vec![7, 1])], scans: 0 };
        let source = Source::default();
        source.0.lock().unwrap().1 = true;
        let metrics = Arc::new(Metrics::new(Duration::from_secs(60)));
        let mut chain = WatchedChain::new(fake, Box::new(source.clone()), Duration::from_secs(3_600))
            .with_metrics(Arc::clone(&metrics));
        chain.program_accounts(&filter()).unwrap();
        chain.program_accounts(&filter()).unwrap();
        assert_eq!(chain.inner.scans, 2, "refused subscription: a full scan each time");
        assert_eq!(metrics.get(Metric::FullScans), 2);

        source.0.lock().unwrap().1 = false;
        let mut chain = WatchedChain::new(chain.inner, Box::new(source), Duration::ZERO);
        chain.program_accounts(&filter()).unwrap();
        chain.program_accounts(&filter()).unwrap();
        assert_eq!(chain.inner.scans, 4, "a zero rescan interval scans every time");
    }
}
