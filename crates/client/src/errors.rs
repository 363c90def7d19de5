//! Program errors by name: a failed instruction's custom error code turned
//! into the variant name and message of [`XmarginError`] (codes 6000 + N) or
//! of Anchor's framework [`ErrorCode`] (100–5000), for the CLI and keeper to
//! print instead of a bare `custom program error: 0x…`.
//!
//! `#[error_code]` gives each variant a `name()` and its `#[msg]` as
//! `Display`, but no way back from a number, so the variants are listed here
//! in order; the test `every_xmargin_error_is_listed` fails when
//! `programs/xmargin/src/errors.rs` gains one this list lacks, and
//! `every_anchor_error_is_listed` when the `anchor-lang-error` crate in
//! `Cargo.lock` declares a framework error (name, code, message) otherwise.
use anchor_lang::error::ErrorCode;
use solana_transaction_error::TransactionError;
use xmargin::errors::XmarginError;

/// Every [`XmarginError`], in declaration order (code 6000 + index).
pub const XMARGIN_ERRORS: &[XmarginError] = {
    use XmarginError::*;
    &[
        UnauthorizedAdmin,
        InvalidMint,
        UnsupportedTokenProgram,
        LoosenDelayTooLong,
        WrongInsuranceVault,
        InvalidTokenAccount,
        MathOverflow,
        InvalidWeights,
        InvalidOracleConfig,
        InvalidInterestConfig,
        WrongBankIndex,
        TooManyBanks,
        OracleWrongOwner,
        OracleNotPriceUpdate,
        OracleNotFullyVerified,
        OracleWrongFeed,
        OracleStale,
        OracleConfidenceTooWide,
        OracleNonPositivePrice,
        WrongOracle,
        UnauthorizedOwner,
        AccountNotEmpty,
        DelegateIsOwner,
        HealthAccountMismatch,
        WrongGroup,
        WrongVault,
        WrongMint,
        ZeroAmount,
        GroupPaused,
        NoDebtToRepay,
        TooManyPositions,
        DepositCapExceeded,
        DelegateWithdrawToOther,
        BorrowLimitExceeded,
        InsufficientVaultLiquidity,
        HealthTooLow,
        TokenAccountOwnerMismatch,
        InvalidPauseFlags,
        SelfLiquidation,
        SameAssetAndLiability,
        NotLiquidatable,
        LiquidationNotImproving,
        LiquidatorHealthTooLow,
        AccountBankrupt,
        NotBankrupt,
        InsuranceNeedsLiquidator,
        WrongQuoteBank,
        FeesExceeded,
        DuplicateMint,
        InvalidMarketConfig,
        WrongMarketIndex,
        TooManyMarkets,
        WrongMarket,
        TooManyDerivativePositions,
        TradeSizeTooSmall,
        PriceOutsideBand,
        OpenInterestCapExceeded,
        SelfTrade,
        MarketExpired,
        MarketNotSettled,
        WrongMarketKind,
        TradeHealthTooLow,
        FundingNotDue,
        NoPnlToSettle,
        OracleFarFromStable,
        SampleOutsideWindow,
        MarketNotEmpty,
        QuoteExpired,
        QuoteNonceUsed,
        QuoteSignatureInvalid,
        NoPosition,
        DepositLostToRounding,
        SizePremiumTooLarge,
        InvalidOptionKind,
        InvalidOptionStrike,
        InvalidOptionExpiry,
        InvalidVolatilityConfig,
        VolatilityOutOfBounds,
        VolatilityChangeTooLarge,
        NotOptionMarket,
        RiskArrayStale,
        RiskArrayDrifted,
        RiskArrayOtherGrid,
        PositionAlreadySettled,
        MarginModeUnchanged,
        MarginModeUnhealthy,
        InvalidMarginMode,
        RiskGridShockCount,
        RiskGridTooLarge,
        RiskGridShockOutOfRange,
        RiskGridShocksNotIncreasing,
        RiskGridRangeTooNarrow,
        RiskGridScaleOutOfBounds,
        RiskGridFloorOutOfBounds,
        RiskArrayMaxAgeOutOfBounds,
        RiskArrayMaxDriftOutOfBounds,
    ]
};

/// Every Anchor framework error (`anchor-lang` 1.2.2), each with its own code.
pub const ANCHOR_ERRORS: &[ErrorCode] = {
    use ErrorCode::*;
    &[
        InstructionMissing,
        InstructionFallbackNotFound,
        InstructionDidNotDeserialize,
        InstructionDidNotSerialize,
        IdlInstructionStub,
        IdlInstructionInvalidProgram,
        IdlAccountNotEmpty,
        EventInstructionStub,
        ConstraintMut,
        ConstraintHasOne,
        ConstraintSigner,
        ConstraintRaw,
        ConstraintOwner,
        ConstraintRentExempt,
        ConstraintSeeds,
        ConstraintExecutable,
        ConstraintState,
        ConstraintAssociated,
        ConstraintAssociatedInit,
        ConstraintClose,
        ConstraintAddress,
        ConstraintZero,
        ConstraintTokenMint,
        ConstraintTokenOwner,
        ConstraintMintMintAuthority,
        ConstraintMintFreezeAuthority,
        ConstraintMintDecimals,
        ConstraintSpace,
        ConstraintAccountIsNone,
        ConstraintTokenTokenProgram,
        ConstraintMintTokenProgram,
        ConstraintAssociatedTokenTokenProgram,
        ConstraintMintGroupPointerExtension,
        ConstraintMintGroupPointerExtensionAuthority,
        ConstraintMintGroupPointerExtensionGroupAddress,
        ConstraintMintGroupMemberPointerExtension,
        ConstraintMintGroupMemberPointerExtensionAuthority,
        ConstraintMintGroupMemberPointerExtensionMemberAddress,
        ConstraintMintMetadataPointerExtension,
        ConstraintMintMetadataPointerExtensionAuthority,
        ConstraintMintMetadataPointerExtensionMetadataAddress,
        ConstraintMintCloseAuthorityExtension,
        ConstraintMintCloseAuthorityExtensionAuthority,
        ConstraintMintPermanentDelegateExtension,
        ConstraintMintPermanentDelegateExtensionDelegate,
        ConstraintMintTransferHookExtension,
        ConstraintMintTransferHookExtensionAuthority,
        ConstraintMintTransferHookExtensionProgramId,
        ConstraintDuplicateMutableAccount,
        AccountAlreadyMigrated,
        AccountNotMigrated,
        ConstraintMintPausableExtension,
        ConstraintMintPausableAuthority,
        RequireViolated,
        RequireEqViolated,
        RequireKeysEqViolated,
        RequireNeqViolated,
        RequireKeysNeqViolated,
        RequireGtViolated,
        RequireGteViolated,
        AccountDiscriminatorAlreadySet,
        AccountDiscriminatorNotFound,
        AccountDiscriminatorMismatch,
        AccountDidNotDeserialize,
        AccountDidNotSerialize,
        AccountNotEnoughKeys,
        AccountNotMutable,
        AccountOwnedByWrongProgram,
        InvalidProgramId,
        InvalidProgramExecutable,
        AccountNotSigner,
        AccountNotSystemOwned,
        AccountNotInitialized,
        AccountNotProgramData,
        AccountNotAssociatedTokenAccount,
        AccountSysvarMismatch,
        AccountReallocExceedsLimit,
        AccountDuplicateReallocs,
        DeclaredProgramIdMismatch,
        TryingToInitPayerAsProgramAccount,
        InvalidNumericConversion,
        Deprecated,
    ]
};

/// A program error code, named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedError {
    pub code: u32,
    /// `XmarginError::HealthTooLow`, `anchor::ConstraintSeeds`…
    pub name: String,
    pub msg: String,
}

impl std::fmt::Display for NamedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.name, self.code, self.msg)
    }
}

/// The xmargin or Anchor error with this custom error code, if any.
pub fn named(code: u32) -> Option<NamedError> {
    if let Some(e) = XMARGIN_ERRORS.iter().find(|e| u32::from(**e) == code) {
        return Some(NamedError { code, name: format!("XmarginError::{}", e.name()), msg: e.to_string() });
    }
    ANCHOR_ERRORS.iter().find(|e| u32::from(**e) == code).map(|e| NamedError {
        code,
        name: format!("anchor::{}", e.name()),
        msg: e.to_string(),
    })
}

/// `code` by name where known, else the number (decimal and hex).
pub fn describe_code(code: u32) -> String {
    match named(code) {
        Some(n) => n.to_string(),
        None => format!("custom program error {code} (0x{code:x}, not an xmargin or Anchor error)"),
    }
}

/// A transaction error with a custom program error named
/// (`instruction 2: XmarginError::HealthTooLow (6035): …`); others as the runtime words them.
pub fn describe_transaction_error(err: &TransactionError) -> String {
    use solana_instruction_error::InstructionError;
    match err {
        TransactionError::InstructionError(i, InstructionError::Custom(code)) => {
            format!("instruction {i}: {}", describe_code(*code))
        }
        TransactionError::InstructionError(i, e) => format!("instruction {i}: {e}"),
        e => e.to_string(),
    }
}

/// Rewrites every `custom program error: 0x…` in a message (an RPC error's
/// text, a log line) as the error's name and message.
pub fn name_custom_errors(text: &str) -> String {
    const MARK: &str = "custom program error: 0x";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(MARK) {
        out.push_str(&rest[..at]);
        let after = &rest[at + MARK.len()..];
        let hex_len = after.find(|c: char| !c.is_ascii_hexdigit()).unwrap_or(after.len());
        match u32::from_str_radix(&after[..hex_len], 16) {
            Ok(code) if hex_len > 0 => out.push_str(&format!("program error {}", describe_code(code))),
            _ => out.push_str(&rest[at..at + MARK.len() + hex_len]),
        }
        rest = &after[hex_len..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The variant names of `pub enum XmarginError` in the program's source.
    fn declared_variants() -> Vec<String> {
        let src = include_str!("../../../programs/xmargin/src/errors.rs");
        let body =
            src.split("pub enum XmarginError {").nth(1).expect("the enum").split("\n}").next().unwrap();
        body.lines()
            .map(str::trim)
            .map(|l| l.trim_end_matches(','))
            .filter(|l| {
                l.starts_with(|c: char| c.is_ascii_uppercase())
                    && l.chars().all(|c| c.is_ascii_alphanumeric())
            })
            .map(String::from)
            .collect()
    }

    #[test]
    fn every_xmargin_error_is_listed() {
        let listed: Vec<String> = XMARGIN_ERRORS.iter().map(XmarginError::name).collect();
        assert_eq!(listed, declared_variants(), "XMARGIN_ERRORS must list every variant, in order");
        for (i, e) in XMARGIN_ERRORS.iter().enumerate() {
            assert_eq!(u32::from(*e), 6_000 + i as u32, "{}", e.name());
        }
    }

    /// `(name, documented code, message)` of each variant of anchor-lang's
    /// `ErrorCode`, read from the `anchor-lang-error` source this workspace
    /// builds (its version from Cargo.lock, its source in cargo's registry:
    /// it is compiled, so it is there; no network, no `cargo metadata`,
    /// which would want every platform's packages downloaded).
    fn anchor_declared_variants() -> Vec<(String, Option<u32>, String)> {
        let lock = include_str!("../../../Cargo.lock");
        let versions: Vec<&str> = lock
            .split("[[package]]")
            .filter(|p| p.contains("name = \"anchor-lang-error\"\n"))
            .filter_map(|p| p.lines().find_map(|l| l.strip_prefix("version = \"")))
            .map(|v| v.trim_end_matches('"'))
            .collect();
        assert_eq!(versions.len(), 1, "one anchor-lang-error in Cargo.lock: {versions:?}");
        let cargo_home = std::env::var_os("CARGO_HOME").map(std::path::PathBuf::from).unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cargo")
        });
        let dir = format!("anchor-lang-error-{}", versions[0]);
        let manifest = std::fs::read_dir(cargo_home.join("registry/src"))
            .expect("cargo's registry sources")
            .flatten()
            .map(|index| index.path().join(&dir).join("Cargo.toml"))
            .find(|m| m.exists())
            .unwrap_or_else(|| panic!("{dir} not in {}", cargo_home.display()));
        let manifest = manifest.as_path();
        let src = std::fs::read_to_string(manifest.with_file_name("src/lib.rs")).unwrap();
        let body = src.split("pub enum ErrorCode {").nth(1).expect("the enum").split("\n}").next().unwrap();
        let (mut code, mut msg) = (None, String::new());
        let mut out = Vec::new();
        for line in body.lines().map(str::trim) {
            if let Some(doc) = line.strip_prefix("/// ") {
                code = doc.split(" - ").next().and_then(|n| n.trim().parse().ok()).or(code);
            } else if let Some(m) = line.strip_prefix("#[msg(\"") {
                msg = m.trim_end_matches("\")]").to_string();
            } else if line.starts_with(|c: char| c.is_ascii_uppercase()) {
                let name: String = line.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
                out.push((name, code.take(), std::mem::take(&mut msg)));
            }
        }
        out
    }

    #[test]
    fn every_anchor_error_is_listed() {
        let declared = anchor_declared_variants();
        let listed: Vec<String> = ANCHOR_ERRORS.iter().map(ErrorCode::name).collect();
        let names: Vec<String> = declared.iter().map(|(n, _, _)| n.clone()).collect();
        assert_eq!(listed, names, "ANCHOR_ERRORS must list every anchor ErrorCode variant, in order");
        for (e, (name, code, msg)) in ANCHOR_ERRORS.iter().zip(&declared) {
            if let Some(code) = code {
                assert_eq!(u32::from(*e), *code, "{name}: the documented code");
            }
            assert_eq!(&e.to_string(), msg, "{name}: the message");
            assert_eq!(named(u32::from(*e)).unwrap().name, format!("anchor::{name}"));
        }
        assert!(declared.len() > 70, "the parse found the enum: {}", declared.len());
    }

    #[test]
    fn codes_become_names_and_messages() {
        let n = named(6_000).unwrap();
        assert_eq!(n.name, "XmarginError::UnauthorizedAdmin");
        assert_eq!(n.msg, "the signer is not the group admin");
        let code = u32::from(XmarginError::HealthTooLow);
        assert!(describe_code(code).starts_with(&format!("XmarginError::HealthTooLow ({code}): ")));
        let seeds = named(2_006).unwrap();
        assert_eq!(
            (seeds.name.as_str(), seeds.msg.as_str()),
            ("anchor::ConstraintSeeds", "A seeds constraint was violated")
        );
        assert_eq!(named(3_012).unwrap().name, "anchor::AccountNotInitialized");
        assert_eq!(named(99), None);
        assert!(describe_code(0x2_0000).contains("0x20000"));
        let mut codes: Vec<u32> = ANCHOR_ERRORS.iter().map(|e| u32::from(*e)).collect();
        let n = codes.len();
        codes.dedup();
        assert_eq!(codes.len(), n, "distinct framework codes");
    }

    #[test]
    fn transaction_errors_and_rpc_text_are_named() {
        use solana_instruction_error::InstructionError;
        let code = u32::from(XmarginError::QuoteNonceUsed);
        let err = TransactionError::InstructionError(3, InstructionError::Custom(code));
        assert_eq!(
            describe_transaction_error(&err),
            format!("instruction 3: XmarginError::QuoteNonceUsed ({code}): {}", XmarginError::QuoteNonceUsed)
        );
        let other = TransactionError::InstructionError(0, InstructionError::MissingRequiredSignature);
        assert!(describe_transaction_error(&other).starts_with("instruction 0: "));
        let rpc = format!(
            "RPC response error -32002: Transaction simulation failed: Error processing Instruction 2: custom program error: 0x{code:x}; 3 log messages"
        );
        let named = name_custom_errors(&rpc);
        assert!(named.contains("program error XmarginError::QuoteNonceUsed"), "{named}");
        assert!(!named.contains("0x"), "{named}");
        assert!(named.ends_with("; 3 log messages"), "{named}");
        assert_eq!(name_custom_errors("no error here"), "no error here");
        assert_eq!(name_custom_errors("custom program error: 0xzz"), "custom program error: 0xzz");
    }
}
