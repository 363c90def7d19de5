//! Rust client for the xmargin program, shared by the keeper, the CLI and the
//! tests: PDAs, account decoding, the health-accounts list, instruction
//! builders, off-chain valuation with the program's own code, the group's
//! address lookup table, v0 transactions and program errors by name.
//!
//! Builders take plain keys and decoded state, never a connection, so the
//! same code serves an RPC node and an embedded SVM.
pub mod accounts;
pub mod errors;
pub mod health;
pub mod instructions;
pub mod lookup_table;
pub mod market_instructions;
pub mod transaction;

pub use xmargin::pda;
pub use xmargin::state::{Bank, Group, MarginAccount, Market};
pub use xmargin::ID as PROGRAM_ID;
