//! Test-only counter of fixed-point multiplies (see `Fixed::checked_mul`).

use std::cell::Cell;

thread_local! {
    static MULS: Cell<u64> = const { Cell::new(0) };
}

/// Called by `Fixed::checked_mul` in test builds.
pub(crate) fn bump() {
    MULS.with(|c| c.set(c.get() + 1));
}

/// Runs `f` and returns its result and the number of multiplies it made.
pub(crate) fn count<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let before = MULS.with(|c| c.get());
    let out = f();
    (out, MULS.with(|c| c.get()) - before)
}
