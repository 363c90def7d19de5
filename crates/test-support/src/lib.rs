//! Embedded-SVM harness for xmargin.
//!
//! Loads the real SBF build of the program (`target/deploy/xmargin.so`, or the
//! file named by `XMARGIN_SO`) into LiteSVM and gives tests, the benchmark and
//! the demo what a margin protocol needs: mints and funded token accounts, fake
//! Pyth `PriceUpdateV2` accounts, a movable clock, and transactions that report
//! (result, compute units, logs) with Anchor errors decoded to their codes.
pub mod bench;
pub mod env;
pub mod fixtures;
pub mod margin;
pub mod market_checks;
pub mod markets;
pub mod options;
pub mod outcome;
pub mod pyth;
pub mod random_ops;
pub mod scenarios;
pub mod world;

pub use env::{program_so_path, Env};
pub use outcome::{TxFailure, TxOutcome};
pub use pyth::PythPrice;

pub use litesvm::LiteSVM;
pub use solana_address::Address;
pub use solana_instruction::{AccountMeta, Instruction};
pub use solana_keypair::Keypair;
pub use solana_signer::Signer;
