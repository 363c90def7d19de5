//! Every way an instruction can refuse its input. Each variant is a stable
//! Anchor error code (6000 + position): append new variants, never reorder.
use anchor_lang::prelude::*;

#[error_code]
pub enum XmarginError {
    #[msg("the signer is not the group admin")]
    UnauthorizedAdmin,
    #[msg("account is not an initialized SPL Token mint")]
    InvalidMint,
    #[msg("account is owned by a token program this group does not support (only SPL Token)")]
    UnsupportedTokenProgram,
    #[msg("the risk-loosening delay exceeds the maximum (30 days)")]
    LoosenDelayTooLong,
    #[msg("the insurance vault address is not the group's insurance vault PDA")]
    WrongInsuranceVault,
    #[msg("account is not an initialized, unfrozen SPL Token account")]
    InvalidTokenAccount,
    #[msg("arithmetic overflow")]
    MathOverflow,
}
