//! Shrinking a failing operation list (delta debugging): drop chunks, then
//! single steps, keeping any smaller list that still breaks the same invariant.
use super::checks::Invariant;
use super::ops::Op;
use super::play;

/// Replays `ops`; `Some(prefix up to the failing step)` if it breaks `target`.
fn still_fails(seed: u64, ops: &[Op], target: Invariant, waived: &[Invariant]) -> Option<Vec<Op>> {
    match play(seed, ops, waived).failure {
        Some((step, v)) if v.invariant == target => Some(ops[..=step].to_vec()),
        _ => None,
    }
}

/// The shortest list found within `budget` replays that still breaks `target`.
///
/// First the shortest failing suffix (a doubling window: failures usually
/// depend on the last few steps), then classic ddmin chunk removal down to
/// single steps. Every candidate is replayed from a fresh market.
pub fn shrink(seed: u64, ops: &[Op], target: Invariant, waived: &[Invariant], budget: usize) -> Vec<Op> {
    let mut replays = 0;
    let mut best = ops.to_vec();
    let mut window = 8;
    while window < best.len() && replays < budget {
        replays += 1;
        if let Some(found) = still_fails(seed, &best[best.len() - window..], target, waived) {
            best = found;
            break;
        }
        window *= 2;
    }
    let mut chunk = best.len().div_ceil(2);
    while chunk >= 1 && replays < budget {
        let mut progressed = false;
        let mut start = 0;
        while start < best.len() && replays < budget {
            let end = (start + chunk).min(best.len());
            let candidate: Vec<Op> = best[..start].iter().chain(&best[end..]).copied().collect();
            replays += 1;
            match still_fails(seed, &candidate, target, waived) {
                Some(found) => {
                    best = found;
                    progressed = true;
                }
                None => start += chunk,
            }
        }
        if !progressed {
            if chunk == 1 {
                break;
            }
            chunk = chunk.div_ceil(2);
        }
    }
    best
}
