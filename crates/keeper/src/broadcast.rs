//! Send, rebroadcast and wait: the same signed transaction is sent again
//! every [`Schedule::rebroadcast`] while its signature status is polled,
//! until it is confirmed, fails with a transaction error, or its blockhash
//! expires (the block height passed the blockhash's last valid one: it can
//! never land). On a stop request the wait is cut to [`Schedule::stop_grace`],
//! after which the transaction is abandoned (it may still land).
//!
//! The loop talks to the cluster through [`Broadcast`] (the RPC
//! implementation is `rpc_send`), so its paths are tested with a fake.
use std::time::Duration;

use crate::stop::Stop;

/// A send the cluster refused, or could not be asked about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendError {
    /// The transaction failed preflight (simulation): it cannot land as is.
    Rejected(String),
    /// The RPC could not be reached or answered with an error: try again.
    Transport(String),
}

/// A signature's status as the cluster reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// Not seen yet (or not yet at the commitment).
    Pending,
    Confirmed,
    /// Landed with a transaction error (described by name).
    Failed(String),
}

/// The few RPC calls the loop needs, about one signed transaction.
pub trait Broadcast {
    /// Sends it; `first` with preflight, rebroadcasts without.
    fn send(&mut self, first: bool) -> Result<(), SendError>;
    fn status(&mut self) -> Result<Status, String>;
    /// Whether its blockhash may still land (current block height ≤ its last valid one).
    fn blockhash_valid(&mut self) -> Result<bool, String>;
    /// Time since some fixed instant.
    fn now(&mut self) -> Duration;
    fn sleep(&mut self, d: Duration);
}

/// When to send again, poll, and give up on a stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub rebroadcast: Duration,
    pub poll: Duration,
    pub stop_grace: Duration,
}

impl Schedule {
    /// Polls twice as often as it rebroadcasts, at most every 500 ms.
    pub fn new(rebroadcast: Duration, stop_grace: Duration) -> Schedule {
        let poll = (rebroadcast / 2).clamp(Duration::from_millis(50), Duration::from_millis(500));
        Schedule { rebroadcast, poll, stop_grace }
    }
}

/// How a transaction ended; `sends` counts the first send and every rebroadcast.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Confirmed {
        sends: u32,
    },
    Failed {
        error: String,
        sends: u32,
    },
    /// Its blockhash expired before it landed: it never will.
    Expired {
        sends: u32,
    },
    /// A stop was requested and the grace time ran out: it may still land.
    Abandoned {
        sends: u32,
    },
}

/// Sends the transaction `rpc` holds until it lands, fails or expires (see the module doc).
pub fn broadcast(rpc: &mut dyn Broadcast, schedule: &Schedule, stop: &Stop) -> Outcome {
    let mut sends: u32 = 1;
    match rpc.send(true) {
        Err(SendError::Rejected(error)) => return Outcome::Failed { error, sends },
        Err(SendError::Transport(e)) => tracing::debug!(error = %e, "first send failed; rebroadcasting"),
        Ok(()) => {}
    }
    let mut last_send = rpc.now();
    let mut give_up_at: Option<Duration> = None;
    loop {
        match rpc.status() {
            Ok(Status::Confirmed) => return Outcome::Confirmed { sends },
            Ok(Status::Failed(error)) => return Outcome::Failed { error, sends },
            Ok(Status::Pending) => {}
            Err(e) => tracing::debug!(error = %e, "getSignatureStatuses failed; polling on"),
        }
        let now = rpc.now();
        if stop.requested() && give_up_at.is_none() {
            tracing::info!(
                grace_ms = schedule.stop_grace.as_millis() as u64,
                "stop requested: waiting for the in-flight transaction"
            );
            give_up_at = Some(now.saturating_add(schedule.stop_grace));
        }
        if give_up_at.is_some_and(|at| now >= at) {
            return Outcome::Abandoned { sends };
        }
        if let Ok(false) = rpc.blockhash_valid() {
            // It may have landed in the last valid block: one last look. Only
            // a status the cluster answered says it never will; a status that
            // could not be read is asked again (an "expired" that landed
            // would invite a second, double-applying send).
            match rpc.status() {
                Ok(Status::Confirmed) => return Outcome::Confirmed { sends },
                Ok(Status::Failed(error)) => return Outcome::Failed { error, sends },
                Ok(Status::Pending) => return Outcome::Expired { sends },
                Err(e) => tracing::debug!(error = %e, "status after expiry unknown; asking again"),
            }
        }
        if now.saturating_sub(last_send) >= schedule.rebroadcast {
            if let Err(e) = rpc.send(false) {
                tracing::debug!(error = ?e, "rebroadcast failed");
            }
            sends = sends.saturating_add(1);
            last_send = now;
        }
        rpc.sleep(schedule.poll);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cluster on a virtual clock: the transaction lands (or fails) once
    /// the clock reaches `lands_at`, the blockhash expires at `expires_at`.
    struct Fake {
        clock: Duration,
        lands_at: Option<Duration>,
        error: Option<String>,
        expires_at: Duration,
        first_send: Result<(), SendError>,
        sends: u32,
        stop_at: Option<(Duration, Stop)>,
        /// `getSignatureStatuses` fails this many times from `status_errors_at` on.
        status_errors: (Duration, u32),
    }

    impl Fake {
        fn new(lands_at: Option<u64>, expires_at: u64) -> Fake {
            Fake {
                clock: Duration::ZERO,
                lands_at: lands_at.map(Duration::from_millis),
                error: None,
                expires_at: Duration::from_millis(expires_at),
                first_send: Ok(()),
                sends: 0,
                stop_at: None,
                status_errors: (Duration::MAX, 0),
            }
        }
    }

    impl Broadcast for Fake {
        fn send(&mut self, first: bool) -> Result<(), SendError> {
            self.sends += 1;
            assert_eq!(first, self.sends == 1, "only the first send has preflight");
            if first {
                return self.first_send.clone();
            }
            Ok(())
        }
        fn status(&mut self) -> Result<Status, String> {
            if self.clock >= self.status_errors.0 && self.status_errors.1 > 0 {
                self.status_errors.1 -= 1;
                return Err("connection reset".into());
            }
            Ok(match self.lands_at {
                Some(at) if self.clock >= at => match &self.error {
                    Some(e) => Status::Failed(e.clone()),
                    None => Status::Confirmed,
                },
                _ => Status::Pending,
            })
        }
        fn blockhash_valid(&mut self) -> Result<bool, String> {
            Ok(self.clock < self.expires_at)
        }
        fn now(&mut self) -> Duration {
            self.clock
        }
        fn sleep(&mut self, d: Duration) {
            self.clock += d;
            if let Some((at, stop)) = &self.stop_at {
                if self.clock >= *at {
                    stop.request();
                }
            }
        }
    }

    fn schedule() -> Schedule {
        Schedule::new(Duration::from_millis(1_000), Duration::from_millis(3_000))
    }

    #[test]
    fn rebroadcasts_until_confirmed() {
        // Polled every 500 ms, sent again every 1,000 ms: sends at 0, 1,000, 2,000; lands at 2,300.
        let mut rpc = Fake::new(Some(2_300), 60_000);
        let out = broadcast(&mut rpc, &schedule(), &Stop::new());
        assert_eq!(out, Outcome::Confirmed { sends: 3 });
        assert_eq!(rpc.sends, 3);
        assert_eq!(rpc.clock, Duration::from_millis(2_500));
    }

    #[test]
    fn a_transaction_error_ends_it_by_name() {
        let mut rpc = Fake::new(Some(700), 60_000);
        rpc.error = Some("instruction 2: XmarginError::HealthTooLow (6035): …".into());
        let out = broadcast(&mut rpc, &schedule(), &Stop::new());
        assert!(
            matches!(&out, Outcome::Failed { error, sends: 1 } if error.contains("HealthTooLow")),
            "{out:?}"
        );

        let mut rpc = Fake::new(None, 60_000);
        rpc.first_send = Err(SendError::Rejected("preflight: XmarginError::NotLiquidatable".into()));
        let out = broadcast(&mut rpc, &schedule(), &Stop::new());
        assert!(matches!(out, Outcome::Failed { sends: 1, .. }), "refused by preflight: not sent again");
        assert_eq!(rpc.sends, 1);
    }

    #[test]
    fn an_expired_blockhash_ends_it() {
        let mut rpc = Fake::new(None, 4_200);
        rpc.first_send = Err(SendError::Transport("connection reset".into()));
        let out = broadcast(&mut rpc, &schedule(), &Stop::new());
        // Sends at 0, 1,000, 2,000, 3,000, 4,000; expired seen at 4,500.
        assert_eq!(out, Outcome::Expired { sends: 5 });
        assert_eq!(rpc.clock, Duration::from_millis(4_500));
        // Landing in the last valid block is not an expiry.
        let mut rpc = Fake::new(Some(4_500), 4_200);
        assert_eq!(broadcast(&mut rpc, &schedule(), &Stop::new()), Outcome::Confirmed { sends: 5 });
    }

    #[test]
    fn an_unreadable_status_at_expiry_is_not_an_expiry() {
        // Landed at 4,100 in the last valid block; the blockhash is seen expired at 4,500,
        // when getSignatureStatuses fails twice: asked again, it is confirmed, not expired.
        let mut rpc = Fake::new(Some(4_100), 4_200);
        rpc.status_errors = (Duration::from_millis(4_500), 2);
        assert_eq!(broadcast(&mut rpc, &schedule(), &Stop::new()), Outcome::Confirmed { sends: 5 });
        assert_eq!(rpc.status_errors.1, 0);
        // Never landed: once the status answers, an expiry.
        let mut rpc = Fake::new(None, 4_200);
        rpc.status_errors = (Duration::from_millis(4_500), 3);
        assert!(matches!(broadcast(&mut rpc, &schedule(), &Stop::new()), Outcome::Expired { .. }));
    }

    #[test]
    fn a_stop_waits_the_grace_then_abandons() {
        let stop = Stop::new();
        let mut rpc = Fake::new(None, 60_000);
        rpc.stop_at = Some((Duration::from_millis(1_200), stop.clone()));
        let out = broadcast(&mut rpc, &schedule(), &stop);
        // Stop seen at 1,500, grace 3,000: abandoned at 4,500.
        assert_eq!(out, Outcome::Abandoned { sends: 5 });
        assert_eq!(rpc.clock, Duration::from_millis(4_500));
        // Landing within the grace is a confirmation.
        let stop = Stop::new();
        let mut rpc = Fake::new(Some(3_000), 60_000);
        rpc.stop_at = Some((Duration::from_millis(1_200), stop.clone()));
        assert!(matches!(broadcast(&mut rpc, &schedule(), &stop), Outcome::Confirmed { .. }));
    }
}
