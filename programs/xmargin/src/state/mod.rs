//! Program-owned account types. Hot accounts are zero-copy (`AccountLoader`),
//! hold no `u128`/`i128` fields (host alignment 16 vs SBF 8) and have their
//! sizes asserted at compile time so a layout change cannot slip through.
pub mod bank;
pub mod fixed;
pub mod group;
pub mod margin_account;
pub mod market;
pub mod option;
pub mod risk_grid;

pub use bank::*;
pub use fixed::*;
pub use group::*;
pub use margin_account::*;
pub use market::*;
pub use option::*;
pub use risk_grid::*;
