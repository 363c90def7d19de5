//! The compute budget of the CLI's transactions, the Solana CLI way:
//! `--compute-unit-limit UNITS` fixes the limit, else it is what the
//! transaction consumes in simulation plus 20 % and 20,000 units (the
//! keeper's [`LimitPolicy::Simulated`] with a wider margin: a bank that
//! accrued no interest in the simulated slot may accrue it when the
//! transaction lands, a path the simulation did not take; measured on the
//! real validator, a repay at +10 % + 1,000 ran out); `--with-compute-unit-price
//! MICRO_LAMPORTS` adds a priority fee, none without it. Every transaction
//! starts with `SetComputeUnitLimit` (and `SetComputeUnitPrice` when a
//! price is given).
use anchor_lang::solana_program::instruction::Instruction;
use xmargin_client::transaction::compute_budget_ixs;
use xmargin_keeper::budget::{Budget, FeePolicy, LimitPolicy, MAX_COMPUTE_UNIT_LIMIT};
use xmargin_keeper::rpc_send::{SendPolicy, DEFAULT_SCHEDULE};

/// Margin over the simulated units: 20 % and 20,000 units (module docs).
const SIMULATED_MARGIN: LimitPolicy = LimitPolicy::Simulated { percent: 20, extra: 20_000 };

/// `--compute-unit-limit` and `--with-compute-unit-price`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BudgetFlags {
    pub compute_unit_limit: Option<u32>,
    pub compute_unit_price: Option<u64>,
}

/// A compute-unit limit within `1..=1,400,000` (clap's value parser).
pub fn parse_limit(s: &str) -> Result<u32, String> {
    let n: u32 = s.parse().map_err(|e| format!("{s} is not a number of compute units: {e}"))?;
    LimitPolicy::Fixed(n).validated().map(|_| n).map_err(|e| e.to_string())
}

impl BudgetFlags {
    /// How an RPC chain budgets the CLI's transactions.
    pub fn policy(&self) -> SendPolicy {
        SendPolicy {
            fee: FeePolicy::Fixed(self.compute_unit_price.unwrap_or(0)),
            limit: self.compute_unit_limit.map_or(SIMULATED_MARGIN, LimitPolicy::Fixed),
            schedule: DEFAULT_SCHEDULE,
        }
    }

    /// The budget where the chain does not choose one (no simulation, or a
    /// simulation without units): the flags', else the runtime's maximum.
    pub fn fixed(&self) -> Budget {
        Budget {
            compute_unit_limit: self.compute_unit_limit.unwrap_or(MAX_COMPUTE_UNIT_LIMIT),
            micro_lamports: self.compute_unit_price.unwrap_or(0),
        }
    }

    /// The compute-budget instructions for `budget`: the limit, the price
    /// only when `--with-compute-unit-price` was given, and the heap frame
    /// (`xmargin_client::transaction::HEAP_FRAME_BYTES`).
    pub fn instructions(&self, budget: Budget) -> Vec<Instruction> {
        let mut ixs = compute_budget_ixs(budget.compute_unit_limit, budget.micro_lamports);
        if self.compute_unit_price.is_none() {
            ixs.remove(1);
        }
        ixs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use xmargin_client::transaction::COMPUTE_BUDGET_PROGRAM_ID;

    #[test]
    fn the_flags_become_the_policy_and_the_instructions() {
        let none = BudgetFlags::default();
        assert_eq!(none.policy().limit, SIMULATED_MARGIN, "no limit given: simulated");
        assert_eq!(none.policy().fee, FeePolicy::Fixed(0));
        let ixs = none.instructions(Budget { compute_unit_limit: 58_580, micro_lamports: 0 });
        assert_eq!(ixs.len(), 2, "no price given: no SetComputeUnitPrice");
        assert_eq!(ixs[0].program_id, COMPUTE_BUDGET_PROGRAM_ID);
        assert_eq!(ixs[0].data, [&[2u8][..], &58_580u32.to_le_bytes()].concat());
        let heap = [&[1u8][..], &(256u32 * 1024).to_le_bytes()].concat();
        assert_eq!(ixs[1].data, heap, "RequestHeapFrame, 256 KiB");

        let both = BudgetFlags { compute_unit_limit: Some(300_000), compute_unit_price: Some(5_000) };
        assert_eq!(both.policy().limit, LimitPolicy::Fixed(300_000));
        assert_eq!(both.policy().fee, FeePolicy::Fixed(5_000));
        assert_eq!(both.fixed(), Budget { compute_unit_limit: 300_000, micro_lamports: 5_000 });
        let ixs = both.instructions(both.fixed());
        assert_eq!(ixs.len(), 3);
        assert_eq!(ixs[1].data, [&[3u8][..], &5_000u64.to_le_bytes()].concat());
        assert_eq!(ixs[2].data, heap);
    }

    #[test]
    fn a_limit_out_of_range_is_refused() {
        assert_eq!(parse_limit("200000"), Ok(200_000));
        assert!(parse_limit("0").is_err());
        assert!(parse_limit("1400001").unwrap_err().contains("1..=1400000"));
        assert!(parse_limit("lots").is_err());
    }
}
