//! `--output json` promises one JSON document on stdout. The program's own
//! valuation code, which `show` and the market commands run off-chain, logs
//! with `msg!` (e.g. "option market 3 valued at its bounds"), and on a host
//! `msg!` prints to stdout. So while a command runs in JSON mode, file
//! descriptor 1 points at stderr; dropping the guard points it back, and the
//! document is then printed to the real stdout.
use std::io::Write;

/// Stdout redirected to stderr until dropped (unix; elsewhere a no-op).
pub struct StdoutToStderr {
    #[cfg(unix)]
    saved: libc::c_int,
}

impl StdoutToStderr {
    /// `None` when the descriptors cannot be duplicated (stdout then stays as it is).
    #[cfg(unix)]
    pub fn start() -> Option<StdoutToStderr> {
        std::io::stdout().flush().ok();
        // SAFETY: plain descriptor calls on the process's own stdout/stderr; the
        // duplicate is closed exactly once, in `drop`.
        let saved = unsafe { libc::dup(libc::STDOUT_FILENO) };
        if saved < 0 {
            return None;
        }
        if unsafe { libc::dup2(libc::STDERR_FILENO, libc::STDOUT_FILENO) } < 0 {
            unsafe { libc::close(saved) };
            return None;
        }
        Some(StdoutToStderr { saved })
    }

    #[cfg(not(unix))]
    pub fn start() -> Option<StdoutToStderr> {
        None
    }
}

impl Drop for StdoutToStderr {
    fn drop(&mut self) {
        std::io::stdout().flush().ok();
        #[cfg(unix)]
        // SAFETY: `saved` is the duplicate `start` made and nothing else closed it.
        unsafe {
            libc::dup2(self.saved, libc::STDOUT_FILENO);
            libc::close(self.saved);
        }
    }
}
