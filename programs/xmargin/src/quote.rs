//! Maker-signed quotes: the message a maker signs off-chain, its check
//! against the Ed25519 precompile instruction of the same transaction, and
//! the replay window of nonces.
//!
//! # Message (145 bytes, all integers little-endian)
//! ```text
//! "xmargin-quote-v1" (16) | group (32) | market (32) | maker account (32)
//! | side (1: 0 = the maker buys, 1 = the maker sells) | size (8, contracts)
//! | price (8, quote native per contract) | expiry_slot (8) | nonce (8)
//! ```
//! The signer must be the maker account's owner or delegate. The Ed25519
//! instruction must come immediately before `take_quote`, carry exactly one
//! signature and keep key, signature and message in its own data (every
//! instruction index `u16::MAX`): the runtime has then verified the signature
//! over exactly these bytes, or the transaction would have failed.
//!
//! # Replay
//! A quote fills once: `MarginAccount::quote_nonce_base` and a 128-bit map
//! mark nonces spent. A nonce below the base is refused; one beyond the
//! window moves the base up to `nonce − 127`, which spends every nonce below
//! it (a maker keeps its open quotes within 128 consecutive nonces).
use anchor_lang::prelude::*;

use crate::errors::XmarginError;
use crate::state::MarginAccount;

pub const QUOTE_DOMAIN: &[u8; 16] = b"xmargin-quote-v1";
pub const QUOTE_MESSAGE_LEN: usize = 16 + 3 * 32 + 1 + 4 * 8;
/// The Ed25519 signature-verification precompile.
pub const ED25519_PROGRAM_ID: Pubkey = pubkey!("Ed25519SigVerify111111111111111111111111111");
/// The instructions sysvar.
pub const INSTRUCTIONS_SYSVAR_ID: Pubkey = pubkey!("Sysvar1nstructions1111111111111111111111111");
/// Nonces tracked above the base.
pub const NONCE_WINDOW: u64 = 128;

/// Which side of the quote the maker takes.
pub mod quote_side {
    pub const MAKER_BUYS: u8 = 0;
    pub const MAKER_SELLS: u8 = 1;
}

/// The terms a maker signs.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuoteTerms {
    /// `quote_side::MAKER_BUYS` or `MAKER_SELLS`.
    pub side: u8,
    /// Contracts.
    pub size: u64,
    /// Quote native per contract.
    pub price: u64,
    /// Last slot the quote may fill in.
    pub expiry_slot: u64,
    pub nonce: u64,
}

/// The bytes a maker signs (module docs).
pub fn quote_message(
    group: &Pubkey,
    market: &Pubkey,
    maker: &Pubkey,
    t: &QuoteTerms,
) -> [u8; QUOTE_MESSAGE_LEN] {
    let mut m = [0u8; QUOTE_MESSAGE_LEN];
    m[..16].copy_from_slice(QUOTE_DOMAIN);
    m[16..48].copy_from_slice(group.as_ref());
    m[48..80].copy_from_slice(market.as_ref());
    m[80..112].copy_from_slice(maker.as_ref());
    m[112] = t.side;
    m[113..121].copy_from_slice(&t.size.to_le_bytes());
    m[121..129].copy_from_slice(&t.price.to_le_bytes());
    m[129..137].copy_from_slice(&t.expiry_slot.to_le_bytes());
    m[137..145].copy_from_slice(&t.nonce.to_le_bytes());
    m
}

/// The Ed25519 instruction data for one signature over `message` (the
/// layout the precompile reads: header, offsets, key, signature, message).
pub fn ed25519_instruction_data(signer: &Pubkey, signature: &[u8; 64], message: &[u8]) -> Vec<u8> {
    const KEY_AT: u16 = 16;
    const SIG_AT: u16 = KEY_AT + 32;
    const MSG_AT: u16 = SIG_AT + 64;
    let mut d = Vec::with_capacity(usize::from(MSG_AT) + message.len());
    d.extend_from_slice(&[1, 0]);
    for v in [SIG_AT, u16::MAX, KEY_AT, u16::MAX, MSG_AT, message.len() as u16, u16::MAX] {
        d.extend_from_slice(&v.to_le_bytes());
    }
    d.extend_from_slice(signer.as_ref());
    d.extend_from_slice(signature);
    d.extend_from_slice(message);
    d
}

fn u16_at(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes([*d.get(at)?, *d.get(at + 1)?]))
}

/// The program id and data of instruction `index` in the instructions sysvar.
fn instruction_at(sysvar: &[u8], index: u16) -> Option<(Pubkey, &[u8])> {
    let count = u16_at(sysvar, 0)?;
    if index >= count {
        return None;
    }
    let start = usize::from(u16_at(sysvar, 2 + 2 * usize::from(index))?);
    let accounts = usize::from(u16_at(sysvar, start)?);
    let program_at = start + 2 + accounts * 33;
    let program = Pubkey::try_from(sysvar.get(program_at..program_at + 32)?).ok()?;
    let len = usize::from(u16_at(sysvar, program_at + 32)?);
    let data = sysvar.get(program_at + 34..program_at + 34 + len)?;
    Some((program, data))
}

/// The signer of the Ed25519 instruction just before the current one, if it
/// signs exactly `message` with one self-contained signature.
pub fn preceding_ed25519_signer(sysvar: &AccountInfo, message: &[u8]) -> Result<Pubkey> {
    if sysvar.key != &INSTRUCTIONS_SYSVAR_ID {
        return Err(
            error!(XmarginError::QuoteSignatureInvalid).with_pubkeys((*sysvar.key, INSTRUCTIONS_SYSVAR_ID))
        );
    }
    let data = sysvar.try_borrow_data()?;
    let invalid = || error!(XmarginError::QuoteSignatureInvalid);
    let current = data.len().checked_sub(2).and_then(|at| u16_at(&data, at)).ok_or_else(invalid)?;
    let previous = current.checked_sub(1).ok_or_else(invalid)?;
    let (program, ix) = instruction_at(&data, previous).ok_or_else(invalid)?;
    if program != ED25519_PROGRAM_ID || ix.first() != Some(&1) {
        return Err(invalid());
    }
    let field = |i: usize| u16_at(ix, 2 + 2 * i).ok_or_else(invalid);
    let (sig_ix, key_at, key_ix) = (field(1)?, usize::from(field(2)?), field(3)?);
    let (msg_at, msg_len, msg_ix) = (usize::from(field(4)?), usize::from(field(5)?), field(6)?);
    if sig_ix != u16::MAX || key_ix != u16::MAX || msg_ix != u16::MAX {
        return Err(invalid());
    }
    if ix.get(msg_at..msg_at + msg_len) != Some(message) {
        return Err(invalid());
    }
    Pubkey::try_from(ix.get(key_at..key_at + 32).ok_or_else(invalid)?).map_err(|_| invalid())
}

/// Marks `nonce` spent in the maker's window (module docs).
pub fn spend_nonce(maker: &mut MarginAccount, nonce: u64) -> Result<()> {
    let base = maker.quote_nonce_base;
    if nonce < base {
        return Err(error!(XmarginError::QuoteNonceUsed).with_values((nonce, base)));
    }
    if nonce >= base.saturating_add(NONCE_WINDOW) {
        let new_base = nonce - (NONCE_WINDOW - 1);
        let shift = new_base - base;
        let bits = (u128::from(maker.quote_nonce_bits[1]) << 64) | u128::from(maker.quote_nonce_bits[0]);
        let bits = if shift >= 128 { 0 } else { bits >> shift };
        maker.quote_nonce_bits = [bits as u64, (bits >> 64) as u64];
        maker.quote_nonce_base = new_base;
    }
    let offset = nonce - maker.quote_nonce_base;
    let (word, bit) = ((offset / 64) as usize, offset % 64);
    if maker.quote_nonce_bits[word] & (1 << bit) != 0 {
        return Err(error!(XmarginError::QuoteNonceUsed).with_values((nonce, maker.quote_nonce_base)));
    }
    maker.quote_nonce_bits[word] |= 1 << bit;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> MarginAccount {
        bytemuck::Zeroable::zeroed()
    }

    /// Fills once; a jump beyond the window spends everything below the new base.
    #[test]
    fn nonce_window() {
        let mut a = account();
        spend_nonce(&mut a, 5).unwrap();
        assert!(spend_nonce(&mut a, 5).is_err());
        spend_nonce(&mut a, 127).unwrap();
        spend_nonce(&mut a, 200).unwrap(); // base 73: 127 still marked, 5 below the base
        assert_eq!(a.quote_nonce_base, 73);
        assert!(spend_nonce(&mut a, 127).is_err());
        assert!(spend_nonce(&mut a, 5).is_err());
        assert!(spend_nonce(&mut a, 72).is_err());
        spend_nonce(&mut a, 73).unwrap();
        spend_nonce(&mut a, 10_000).unwrap(); // everything shifted out
        assert_eq!(a.quote_nonce_base, 10_000 - 127);
        assert!(spend_nonce(&mut a, 200).is_err());
        spend_nonce(&mut a, 9_999).unwrap();
    }

    /// The data the client builds parses back to its signer and message.
    #[test]
    fn ed25519_data_layout() {
        let key = Pubkey::new_unique();
        let msg = quote_message(
            &key,
            &key,
            &key,
            &QuoteTerms { side: 1, size: 7, price: 9, expiry_slot: 3, nonce: 4 },
        );
        let d = ed25519_instruction_data(&key, &[7; 64], &msg);
        assert_eq!(u16_at(&d, 2), Some(48));
        assert_eq!(u16_at(&d, 6), Some(16));
        assert_eq!(u16_at(&d, 10), Some(112));
        assert_eq!(&d[16..48], key.as_ref());
        assert_eq!(&d[112..], &msg[..]);
    }
}
