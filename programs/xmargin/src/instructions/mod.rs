//! One instruction per file: its `Accounts` struct, arguments and handler.
pub mod add_bank;
pub mod bank_params;
pub mod close_account;
pub mod create_account;
pub mod create_group;
pub mod set_delegate;

pub use add_bank::*;
pub use bank_params::*;
pub use close_account::*;
pub use create_account::*;
pub use create_group::*;
pub use set_delegate::*;
