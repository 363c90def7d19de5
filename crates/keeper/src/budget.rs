//! The compute budget of a keeper transaction: its priority fee and its
//! compute-unit limit, each either fixed by configuration or chosen per
//! transaction from what the cluster says.
//!
//! - Priority fee ([`FeePolicy::Recent`]): the chosen percentile (nearest
//!   rank) of the non-zero fees of `getRecentPrioritizationFees` over the
//!   accounts the transaction writes, raised to the floor and capped at the
//!   maximum. No recent non-zero fee: the floor.
//! - Compute-unit limit ([`LimitPolicy::Simulated`]): the units
//!   `simulateTransaction` consumed, plus a percentage and a fixed margin,
//!   capped at the runtime's [`MAX_COMPUTE_UNIT_LIMIT`].
//!
//! The fee paid is `limit × price / 1,000,000` lamports on top of the base
//! fee, so a tight limit is what keeps a high price affordable.
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;

/// The most compute units one transaction may ask for.
pub const MAX_COMPUTE_UNIT_LIMIT: u32 = 1_400_000;
/// `getRecentPrioritizationFees` takes at most this many accounts.
pub const MAX_FEE_ACCOUNTS: usize = 128;

/// A transaction's compute-unit limit and price (micro-lamports per CU).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    pub compute_unit_limit: u32,
    pub micro_lamports: u64,
}

/// How the priority fee is chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeePolicy {
    /// Always this many micro-lamports per compute unit.
    Fixed(u64),
    /// The `percentile` (1–100) of recent non-zero fees, within `floor..=max`.
    Recent { percentile: u8, floor: u64, max: u64 },
}

/// How the compute-unit limit is chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitPolicy {
    /// Always this limit.
    Fixed(u32),
    /// Units consumed in simulation, plus `percent` % and `extra` units.
    Simulated { percent: u32, extra: u32 },
}

/// A policy that cannot work, with the values that make it so.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BudgetError {
    PercentileOutOfRange { percentile: u8 },
    FloorAboveMax { floor: u64, max: u64 },
    LimitOutOfRange { limit: u32 },
}

impl std::fmt::Display for BudgetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BudgetError::PercentileOutOfRange { percentile } => {
                write!(f, "priority fee percentile {percentile} is not within 1..=100")
            }
            BudgetError::FloorAboveMax { floor, max } => write!(
                f,
                "min_priority_fee_micro_lamports {floor} is above max_priority_fee_micro_lamports {max}"
            ),
            BudgetError::LimitOutOfRange { limit } => {
                write!(f, "compute unit limit {limit} is not within 1..={MAX_COMPUTE_UNIT_LIMIT}")
            }
        }
    }
}

impl std::error::Error for BudgetError {}

impl FeePolicy {
    /// `self` if it can choose a fee.
    pub fn validated(self) -> Result<FeePolicy, BudgetError> {
        if let FeePolicy::Recent { percentile, floor, max } = self {
            if !(1..=100).contains(&percentile) {
                return Err(BudgetError::PercentileOutOfRange { percentile });
            }
            if floor > max {
                return Err(BudgetError::FloorAboveMax { floor, max });
            }
        }
        Ok(self)
    }
}

impl LimitPolicy {
    /// `self` if it can choose a limit.
    pub fn validated(self) -> Result<LimitPolicy, BudgetError> {
        match self {
            LimitPolicy::Fixed(limit) if limit == 0 || limit > MAX_COMPUTE_UNIT_LIMIT => {
                Err(BudgetError::LimitOutOfRange { limit })
            }
            other => Ok(other),
        }
    }
}

/// The priority fee for a transaction whose written accounts recently paid
/// `recent` (micro-lamports per CU, one entry per slot; zeros ignored).
pub fn choose_priority_fee(recent: &[u64], percentile: u8, floor: u64, max: u64) -> u64 {
    let mut paid: Vec<u64> = recent.iter().copied().filter(|f| *f > 0).collect();
    if paid.is_empty() {
        return floor.min(max);
    }
    paid.sort_unstable();
    // Nearest rank: the smallest fee at least `percentile` % of the fees are at or below.
    let rank = (paid.len() * usize::from(percentile.clamp(1, 100))).div_ceil(100);
    let at = paid[rank.saturating_sub(1).min(paid.len() - 1)];
    at.max(floor).min(max)
}

/// The limit for a transaction that consumed `consumed` units in simulation.
pub fn simulated_limit(consumed: u64, percent: u32, extra: u32) -> u32 {
    let margin = consumed.checked_mul(u64::from(percent)).map(|m| m.div_ceil(100));
    let total = margin.and_then(|m| consumed.checked_add(m)).and_then(|t| t.checked_add(u64::from(extra)));
    match total {
        Some(t) if t < u64::from(MAX_COMPUTE_UNIT_LIMIT) => t as u32,
        _ => MAX_COMPUTE_UNIT_LIMIT,
    }
}

/// The accounts `instructions` write, other than the fee payer, each once
/// (the first [`MAX_FEE_ACCOUNTS`]): the accounts whose recent fees matter.
pub fn writable_accounts(instructions: &[Instruction], payer: &Pubkey) -> Vec<Pubkey> {
    let mut out: Vec<Pubkey> = Vec::new();
    for meta in instructions.iter().flat_map(|ix| &ix.accounts) {
        if meta.is_writable && meta.pubkey != *payer && !out.contains(&meta.pubkey) {
            out.push(meta.pubkey);
        }
    }
    out.truncate(MAX_FEE_ACCOUNTS);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::prelude::AccountMeta;

    #[test]
    fn the_fee_is_the_percentile_of_the_non_zero_fees() {
        // Ten slots, three without fees: 7 paid fees, sorted 100 200 300 400 500 600 5000.
        let recent = [0, 300, 100, 0, 500, 200, 5_000, 0, 400, 600];
        // 75th percentile, nearest rank: ceil(0.75 × 7) = 6th = 600.
        assert_eq!(choose_priority_fee(&recent, 75, 0, 1_000_000), 600);
        // 50th: ceil(3.5) = 4th = 400; 100th: the largest; 1st: the smallest.
        assert_eq!(choose_priority_fee(&recent, 50, 0, 1_000_000), 400);
        assert_eq!(choose_priority_fee(&recent, 100, 0, 1_000_000), 5_000);
        assert_eq!(choose_priority_fee(&recent, 1, 0, 1_000_000), 100);
    }

    #[test]
    fn the_fee_is_floored_and_capped() {
        let recent = [0, 300, 100, 0, 500, 200, 5_000, 0, 400, 600];
        assert_eq!(choose_priority_fee(&recent, 75, 1_000, 1_000_000), 1_000, "raised to the floor");
        assert_eq!(choose_priority_fee(&recent, 100, 0, 2_500), 2_500, "capped at the maximum");
        assert_eq!(choose_priority_fee(&[0, 0, 0], 75, 1_000, 50_000), 1_000, "no fees: the floor");
        assert_eq!(choose_priority_fee(&[], 75, 0, 50_000), 0);
        assert_eq!(choose_priority_fee(&[u64::MAX], 75, 0, 50_000), 50_000);
    }

    #[test]
    fn the_limit_is_simulation_plus_margins_capped() {
        // 52,345 consumed: +10 % = 5,234.5 → 5,235, +1,000 → 58,580.
        assert_eq!(simulated_limit(52_345, 10, 1_000), 58_580);
        assert_eq!(simulated_limit(0, 10, 1_000), 1_000);
        assert_eq!(simulated_limit(200_000, 0, 0), 200_000);
        // 1,300,000 + 130,000 + 1,000 is over the runtime's maximum.
        assert_eq!(simulated_limit(1_300_000, 10, 1_000), MAX_COMPUTE_UNIT_LIMIT);
        assert_eq!(simulated_limit(u64::MAX, 10, 1_000), MAX_COMPUTE_UNIT_LIMIT, "no overflow");
    }

    #[test]
    fn bad_policies_are_named_with_their_values() {
        let bad = FeePolicy::Recent { percentile: 0, floor: 0, max: 1 }.validated().unwrap_err();
        assert_eq!(bad, BudgetError::PercentileOutOfRange { percentile: 0 });
        let bad = FeePolicy::Recent { percentile: 75, floor: 10, max: 5 }.validated().unwrap_err();
        assert!(bad.to_string().contains("10 is above max_priority_fee_micro_lamports 5"), "{bad}");
        assert!(LimitPolicy::Fixed(1_400_001).validated().is_err());
        assert!(LimitPolicy::Fixed(0).validated().is_err());
        assert_eq!(LimitPolicy::Fixed(400_000).validated(), Ok(LimitPolicy::Fixed(400_000)));
    }

    #[test]
    fn fees_are_asked_for_the_written_accounts_but_the_payer() {
        let (payer, a, b, c) =
            (Pubkey::new_unique(), Pubkey::new_unique(), Pubkey::new_unique(), Pubkey::new_unique());
        let ix =
            |metas: Vec<AccountMeta>| Instruction { program_id: xmargin::ID, accounts: metas, data: vec![] };
        let ixs = [
            ix(vec![
                AccountMeta::new(payer, true),
                AccountMeta::new(a, false),
                AccountMeta::new_readonly(b, false),
            ]),
            ix(vec![AccountMeta::new(a, false), AccountMeta::new(c, false)]),
        ];
        assert_eq!(writable_accounts(&ixs, &payer), vec![a, c]);
    }
}
