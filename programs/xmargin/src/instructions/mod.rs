//! One instruction per file: its `Accounts` struct, arguments and handler.
pub mod accrue_interest;
pub mod add_bank;
pub mod bank_params;
pub mod close_account;
pub mod compute_health;
pub mod create_account;
pub mod create_group;
pub mod deposit;
pub mod repay;
pub mod set_delegate;
pub mod set_pause;
pub mod update_bank;
pub mod withdraw;

pub use accrue_interest::*;
pub use add_bank::*;
pub use bank_params::*;
pub use close_account::*;
pub use compute_health::*;
pub use create_account::*;
pub use create_group::*;
pub use deposit::*;
pub use repay::*;
pub use set_delegate::*;
pub use set_pause::*;
pub use update_bank::*;
pub use withdraw::*;
