//! A stop request (SIGTERM or Ctrl-C), shared by the loop, the sender and
//! the signal handlers. Once set it stays set: the keeper sends nothing new,
//! gives an in-flight transaction a bounded time to land, and exits 0.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone, Debug, Default)]
pub struct Stop(Arc<AtomicBool>);

impl Stop {
    pub fn new() -> Stop {
        Stop::default()
    }

    pub fn request(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn requested(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Sets the flag on SIGTERM and SIGINT (no other work in the handler).
    #[cfg(feature = "rpc")]
    pub fn on_signals(&self) -> std::io::Result<()> {
        for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
            signal_hook::flag::register(signal, Arc::clone(&self.0))?;
        }
        Ok(())
    }

    /// Sleeps `total`, waking early (in steps of at most 100 ms) on a stop
    /// request; `true` if stopped.
    pub fn sleep(&self, total: Duration) -> bool {
        let until = Instant::now() + total;
        while !self.requested() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            std::thread::sleep(left.min(Duration::from_millis(100)));
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_wakes_a_sleep_early() {
        let stop = Stop::new();
        assert!(!stop.sleep(Duration::from_millis(10)));
        let other = stop.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            other.request();
        });
        let started = Instant::now();
        assert!(stop.sleep(Duration::from_secs(30)));
        assert!(started.elapsed() < Duration::from_secs(5));
        t.join().unwrap();
        assert!(stop.requested());
    }
}
