//! One instruction per file: its `Accounts` struct, arguments and handler.
pub mod add_bank;
pub mod bank_params;
pub mod create_group;

pub use add_bank::*;
pub use bank_params::*;
pub use create_group::*;
