//! Fake Pyth pull-oracle accounts (`PriceUpdateV2`), byte-for-byte what the
//! Pyth receiver program writes, so the program reads them through
//! `pyth-solana-receiver-sdk` exactly as it would on mainnet.
use sha2::{Digest, Sha256};
use solana_address::Address;

/// Owner of every `PriceUpdateV2` account: the Pyth receiver program.
pub const PYTH_RECEIVER_PROGRAM: &str = "rec5EKMGg6MxZYaMdyBfgwp4d5rB9T1VQH5pJv5LtFJ";
/// Account size the receiver allocates (`PriceUpdateV2::LEN`).
pub const PRICE_UPDATE_V2_LEN: usize = 8 + 32 + 2 + 32 + 8 + 8 + 4 + 8 + 8 + 8 + 8 + 8;

/// Well-known Pyth feed ids (hex), as on mainnet.
pub mod feeds {
    pub const SOL_USD: &str = "ef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d";
    pub const BTC_USD: &str = "e62df6c8b4a85fe1a67db44dc12de5db330f7ac66b72dc658afedf0f4a415b43";
    pub const USDC_USD: &str = "eaa020c61cc479712813461ce153894a96a6c00b21ed0cfc2798d1f9a9e9c94a";
    pub const ETH_USD: &str = "ff61491a931112ddf1bd8147cd1b641375f79f5825126d665480874634fd0ace";
}

/// Decodes a 64-hex-digit feed id. Panics on malformed input (test fixtures only).
pub fn feed_id(hex: &str) -> [u8; 32] {
    assert_eq!(hex.len(), 64, "a Pyth feed id is 64 hex digits");
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex feed id");
    }
    out
}

/// One price observation as Pyth publishes it: `price · 10^exponent` with a
/// confidence interval `conf · 10^exponent`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PythPrice {
    pub feed_id: [u8; 32],
    pub price: i64,
    pub conf: u64,
    pub exponent: i32,
    pub publish_time: i64,
    pub ema_price: i64,
    pub ema_conf: u64,
    /// `None` = full verification; `Some(n)` = partially verified by n signatures.
    pub partial_signatures: Option<u8>,
}

impl PythPrice {
    /// A fully verified price with EMA equal to spot.
    pub fn new(feed_hex: &str, price: i64, conf: u64, exponent: i32, publish_time: i64) -> Self {
        Self {
            feed_id: feed_id(feed_hex),
            price,
            conf,
            exponent,
            publish_time,
            ema_price: price,
            ema_conf: conf,
            partial_signatures: None,
        }
    }

    /// `PriceUpdateV2` account data (Anchor discriminator + borsh fields, zero-padded to LEN).
    pub fn account_data(&self) -> Vec<u8> {
        let mut d = Vec::with_capacity(PRICE_UPDATE_V2_LEN);
        d.extend_from_slice(&Sha256::digest(b"account:PriceUpdateV2")[..8]);
        d.extend_from_slice(&[0u8; 32]); // write_authority
        match self.partial_signatures {
            None => d.push(1), // VerificationLevel::Full
            Some(n) => d.extend_from_slice(&[0, n]),
        }
        d.extend_from_slice(&self.feed_id);
        d.extend_from_slice(&self.price.to_le_bytes());
        d.extend_from_slice(&self.conf.to_le_bytes());
        d.extend_from_slice(&self.exponent.to_le_bytes());
        d.extend_from_slice(&self.publish_time.to_le_bytes());
        d.extend_from_slice(&(self.publish_time - 1).to_le_bytes()); // prev_publish_time
        d.extend_from_slice(&self.ema_price.to_le_bytes());
        d.extend_from_slice(&self.ema_conf.to_le_bytes());
        d.extend_from_slice(&1u64.to_le_bytes()); // posted_slot
        d.resize(PRICE_UPDATE_V2_LEN, 0);
        d
    }
}

pub fn receiver_program() -> Address {
    PYTH_RECEIVER_PROGRAM.parse().expect("valid address")
}
