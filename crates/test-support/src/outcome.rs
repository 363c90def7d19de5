//! The result of one transaction: success or failure, with the compute units
//! and logs either way, and the Anchor error code decoded from a failure.
use solana_instruction_error::InstructionError;
use solana_transaction_error::TransactionError;

/// Anchor's own framework errors start here; program errors at 6000.
pub const ANCHOR_ERROR_CODE_OFFSET: u32 = 6000;

#[derive(Debug, Clone)]
pub struct TxFailure {
    pub err: TransactionError,
    pub compute_units: u64,
    pub logs: Vec<String>,
}

impl TxFailure {
    /// The custom program error code (`Custom(n)`), if the failure was one.
    pub fn custom_code(&self) -> Option<u32> {
        match &self.err {
            TransactionError::InstructionError(_, InstructionError::Custom(code)) => Some(*code),
            _ => None,
        }
    }

    /// The Anchor error name logged by the program ("Error Code: X."), if any.
    pub fn anchor_error_name(&self) -> Option<String> {
        self.logs.iter().find_map(|l| {
            let rest = l.split("Error Code: ").nth(1)?;
            Some(rest.split('.').next()?.to_string())
        })
    }
}

impl std::fmt::Display for TxFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let err = xmargin_client::errors::describe_transaction_error(&self.err);
        writeln!(f, "transaction failed: {err} ({} CU)", self.compute_units)?;
        for l in &self.logs {
            writeln!(f, "  {l}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct TxOutcome {
    pub result: Result<(), TxFailure>,
    pub compute_units: u64,
    pub logs: Vec<String>,
    pub return_data: Vec<u8>,
    /// Serialised size and accounts of the transaction as sent.
    pub wire: xmargin_client::transaction::WireSize,
}

impl TxOutcome {
    /// Panics with the logs if the transaction failed; returns its compute units.
    #[track_caller]
    pub fn expect_ok(&self) -> u64 {
        if let Err(f) = &self.result {
            panic!("{f}");
        }
        self.compute_units
    }

    /// Asserts the transaction failed with this Anchor error (program error
    /// enums convert with `.into()`; framework codes are plain numbers).
    #[track_caller]
    pub fn expect_error(&self, expected: impl Into<u32>) -> &TxFailure {
        let expected = expected.into();
        match &self.result {
            Ok(()) => panic!(
                "expected error {expected}, but the transaction succeeded; logs:\n{}",
                self.logs.join("\n")
            ),
            Err(f) => {
                assert_eq!(f.custom_code(), Some(expected), "wrong error (expected code {expected}):\n{f}");
                f
            }
        }
    }
}
