//! One instruction per file: its `Accounts` struct, arguments and handler.
pub mod create_group;

pub use create_group::*;
