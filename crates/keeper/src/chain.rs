//! What the keeper needs from a chain.
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use xmargin_client::accounts::ScanFilter;
use xmargin_client::transaction::WireSize;

use crate::budget::Budget;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainError(pub String);

impl std::fmt::Display for ChainError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ChainError {}

/// A sent (and confirmed) transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    pub signature: String,
    pub compute_units: Option<u64>,
    /// Its size on the wire (v0 with the lookup table when the chain has one).
    pub wire: Option<WireSize>,
}

/// An account as fetched: its owner and data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fetched {
    pub owner: Pubkey,
    pub data: Vec<u8>,
}

/// Accounts of a `getProgramAccounts` answer: address and data.
pub type ProgramAccounts = Vec<(Pubkey, Vec<u8>)>;

pub trait Chain {
    /// Cluster time (the clock sysvar's unix timestamp).
    fn unix_time(&mut self) -> Result<i64, ChainError>;
    /// Accounts of the xmargin program passing `filter` (getProgramAccounts).
    fn program_accounts(&mut self, filter: &ScanFilter) -> Result<Vec<(Pubkey, Vec<u8>)>, ChainError>;
    /// [`Chain::program_accounts`] and the slot the answer was read at (0
    /// where the chain cannot tell: every later update then applies).
    fn program_accounts_at(&mut self, filter: &ScanFilter) -> Result<(u64, ProgramAccounts), ChainError> {
        Ok((0, self.program_accounts(filter)?))
    }
    /// Several accounts at once (getMultipleAccounts); `None` where missing.
    fn accounts(&mut self, keys: &[Pubkey]) -> Result<Vec<Option<Fetched>>, ChainError>;
    /// Signs with the keeper's key, sends and confirms: a v0 message with
    /// the group's lookup table when the chain was given one, else legacy;
    /// refused before sending when over 1,232 bytes or 64 accounts
    /// (`xmargin_client::transaction::check`). A program error comes back
    /// by name (`xmargin_client::errors`).
    fn send(&mut self, instructions: &[Instruction]) -> Result<Sent, ChainError>;
    /// The compute budget of a transaction of `instructions` (the compute
    /// budget instructions not yet in it). Default: `fixed`, the keeper's
    /// configured limit and fee; the RPC chain simulates and asks for recent
    /// fees when its policy says so ([`crate::budget`]).
    fn budget(&mut self, instructions: &[Instruction], fixed: Budget) -> Result<Budget, ChainError> {
        let _ = instructions;
        Ok(fixed)
    }
    /// A stop was requested: send nothing new.
    fn stopping(&self) -> bool {
        false
    }
    /// Re-reads the lookup table (once per cycle: a listing may have
    /// extended it). Chains without one do nothing.
    fn refresh_lookup_table(&mut self) -> Result<(), ChainError> {
        Ok(())
    }
}
