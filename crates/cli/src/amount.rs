//! Token amounts: `--amount 1.5` in UI units (whole tokens, scaled by the
//! bank's mint decimals exactly, never through a float), `--amount-native N`
//! in the mint's smallest unit; and the wallet's associated token account,
//! the default `--token-account`.
use std::fmt;
use std::str::FromStr;

use anchor_lang::prelude::{pubkey, Pubkey};
use xmargin::token::TOKEN_PROGRAM_ID;

/// The SPL associated token account program.
pub const ASSOCIATED_TOKEN_PROGRAM_ID: Pubkey = pubkey!("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL");

/// `owner`'s associated token account for `mint` (SPL Token): the PDA of
/// `[owner, token program, mint]` under the associated token program.
pub fn associated_token_address(owner: &Pubkey, mint: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(
        &[owner.as_ref(), TOKEN_PROGRAM_ID.as_ref(), mint.as_ref()],
        &ASSOCIATED_TOKEN_PROGRAM_ID,
    )
    .0
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AmountError {
    Empty,
    Negative {
        input: String,
    },
    /// Not digits with at most one `.` between digits.
    NotDecimal {
        input: String,
    },
    /// More digits after the point than the mint has decimals.
    TooManyDecimals {
        input: String,
        given: usize,
        decimals: u8,
    },
    /// Over `u64::MAX` native units.
    TooLarge {
        input: String,
        decimals: u8,
    },
}

impl fmt::Display for AmountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AmountError::Empty => write!(f, "empty amount"),
            AmountError::Negative { input } => write!(f, "amount {input} is negative"),
            AmountError::NotDecimal { input } => {
                write!(f, "amount {input} is not a decimal number (digits, at most one '.')")
            }
            AmountError::TooManyDecimals { input, given, decimals } => write!(
                f,
                "amount {input} has {given} decimals; the mint has {decimals} (use --amount-native for raw units)"
            ),
            AmountError::TooLarge { input, decimals } => {
                write!(f, "amount {input} at {decimals} decimals is over u64::MAX native units")
            }
        }
    }
}

impl std::error::Error for AmountError {}

/// A non-negative decimal as written: its whole and fractional digits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UiAmount {
    whole: String,
    fraction: String,
}

impl FromStr for UiAmount {
    type Err = AmountError;

    fn from_str(input: &str) -> Result<Self, AmountError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(AmountError::Empty);
        }
        if s.starts_with('-') {
            return Err(AmountError::Negative { input: input.into() });
        }
        let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
        let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        let well_formed = !whole.is_empty()
            && digits(whole)
            && digits(fraction)
            && (!fraction.is_empty() || !s.ends_with('.'));
        if !well_formed {
            return Err(AmountError::NotDecimal { input: input.into() });
        }
        Ok(UiAmount { whole: whole.into(), fraction: fraction.trim_end_matches('0').into() })
    }
}

impl fmt::Display for UiAmount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.fraction.is_empty() {
            true => write!(f, "{}", self.whole),
            false => write!(f, "{}.{}", self.whole, self.fraction),
        }
    }
}

impl UiAmount {
    /// Native units at `decimals`, exactly (trailing zeros after the point are free).
    pub fn to_native(&self, decimals: u8) -> Result<u64, AmountError> {
        let given = self.fraction.len();
        if given > usize::from(decimals) {
            return Err(AmountError::TooManyDecimals { input: self.to_string(), given, decimals });
        }
        let padded = format!("{}{}{}", self.whole, self.fraction, "0".repeat(usize::from(decimals) - given));
        let digits = padded.trim_start_matches('0');
        if digits.is_empty() {
            return Ok(0);
        }
        digits.parse::<u64>().map_err(|_| AmountError::TooLarge { input: self.to_string(), decimals })
    }
}

/// `native` at `decimals` as a UI amount, every decimal shown (`-1.500000`),
/// by moving the point in the digits (any `u8` of decimals: no power of ten
/// to overflow).
pub fn ui(native: i128, decimals: u8) -> String {
    if decimals == 0 {
        return native.to_string();
    }
    let sign = if native < 0 { "-" } else { "" };
    let width = usize::from(decimals);
    let digits = format!("{:0>w$}", native.unsigned_abs(), w = width + 1);
    let (whole, fraction) = digits.split_at(digits.len() - width);
    format!("{sign}{whole}.{fraction}")
}

/// `--amount` or `--amount-native` (clap makes them exclusive and one required).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Amount {
    Ui(UiAmount),
    Native(u64),
}

impl Amount {
    pub fn from_flags(ui: Option<UiAmount>, native: Option<u64>) -> Amount {
        match (ui, native) {
            (Some(a), _) => Amount::Ui(a),
            (None, n) => Amount::Native(n.unwrap_or_default()),
        }
    }

    pub fn to_native(&self, decimals: u8) -> Result<u64, AmountError> {
        match self {
            Amount::Ui(a) => a.to_native(decimals),
            Amount::Native(n) => Ok(*n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn native(s: &str, decimals: u8) -> Result<u64, AmountError> {
        s.parse::<UiAmount>()?.to_native(decimals)
    }

    #[test]
    fn ui_amounts_scale_exactly() {
        assert_eq!(native("1.5", 9), Ok(1_500_000_000));
        assert_eq!(native("1", 6), Ok(1_000_000));
        assert_eq!(native("0.000001", 6), Ok(1));
        assert_eq!(native("0.1", 9), Ok(100_000_000), "no float: 0.1 is exact");
        assert_eq!(native("1.50", 1), Ok(15), "trailing zeros are not decimals");
        assert_eq!(native("007", 0), Ok(7));
        assert_eq!(native("0", 9), Ok(0));
        assert_eq!(native("18446744073709551615", 0), Ok(u64::MAX));
        assert_eq!(native("18446744073.709551615", 9), Ok(u64::MAX));
    }

    #[test]
    fn bad_amounts_are_named_with_their_values() {
        assert_eq!(
            native("1.0000001", 6),
            Err(AmountError::TooManyDecimals { input: "1.0000001".into(), given: 7, decimals: 6 })
        );
        assert_eq!(native("-1", 6), Err(AmountError::Negative { input: "-1".into() }));
        for garbage in ["x", "1.2.3", "1e9", ".5", "5.", "+1", "1,5", "0x10", " 1 2"] {
            assert_eq!(
                native(garbage, 6),
                Err(AmountError::NotDecimal { input: garbage.into() }),
                "{garbage}"
            );
        }
        assert_eq!(native("", 6), Err(AmountError::Empty));
        assert_eq!(
            native("18446744073709551616", 0),
            Err(AmountError::TooLarge { input: "18446744073709551616".into(), decimals: 0 })
        );
        let e = native("1.0000001", 6).unwrap_err().to_string();
        assert!(e.contains("1.0000001") && e.contains("7 decimals") && e.contains("6"), "{e}");
    }

    #[test]
    fn amounts_print_with_every_decimal() {
        assert_eq!(ui(1_500_000_000, 9), "1.500000000");
        assert_eq!(ui(-1, 6), "-0.000001");
        assert_eq!(ui(42, 0), "42");
        assert_eq!(ui(0, 6), "0.000000");
        assert_eq!(ui(123_456, 3), "123.456");
        assert_eq!(ui(i128::MIN, 2), "-1701411834604692317316873037158841057.28");
        // Past 38 decimals a power of ten no longer fits in an i128: still exact.
        assert_eq!(ui(5, 40), format!("0.{}5", "0".repeat(39)));
        assert_eq!(native(&ui(1_500_000_000, 9), 9), Ok(1_500_000_000), "round trip");
        assert_eq!(Amount::from_flags(None, Some(5)).to_native(9), Ok(5));
    }

    /// The same address as `@solana/spl-token`'s `getAssociatedTokenAddressSync`
    /// (wallet of the seed [7; 32], wrapped SOL).
    #[test]
    fn the_associated_token_account_is_the_spl_pda() {
        let owner: Pubkey = "GmaDrppBC7P5ARKV8g3djiwP89vz1jLK23V2GBjuAEGB".parse().unwrap();
        let mint: Pubkey = "So11111111111111111111111111111111111111112".parse().unwrap();
        let ata = associated_token_address(&owner, &mint);
        assert_eq!(ata.to_string(), "59btS1MqkxUBx9sHGorTuLAHMbCzzJmjagXiEac3Mtb2");
    }
}
