//! Pyth pull-oracle reads (`PriceUpdateV2`, written by the Pyth receiver).
//!
//! Every read checks, in this order: the account's owner is the receiver
//! program, it is a `PriceUpdateV2`, it is fully verified, it carries the
//! expected feed id; then, where a price is used for risk, that it is no older
//! than the bank's max age, positive, and its `conf / price` within bound.
//! The fields are read at fixed offsets instead of a borsh decode: this runs
//! once per position on every health check, so compute units matter.
use anchor_lang::prelude::*;
use anchor_lang::Discriminator;
use pyth_solana_receiver_sdk::price_update::PriceUpdateV2;
use xmargin_risk::price::{pyth_conf_within, OraclePrice};
use xmargin_risk::Fixed;

use crate::errors::XmarginError;

pub use pyth_solana_receiver_sdk::ID as PYTH_RECEIVER_ID;

// Layout after the 8-byte discriminator: write_authority (32), verification
// level (borsh enum: 1 = Full; 0 + u8 = Partial), then the price message.
const VERIFICATION_OFFSET: usize = 8 + 32;
const VERIFICATION_FULL: u8 = 1;
const FEED_ID_OFFSET: usize = VERIFICATION_OFFSET + 1;
const PRICE_OFFSET: usize = FEED_ID_OFFSET + 32;
const CONF_OFFSET: usize = PRICE_OFFSET + 8;
const EXPONENT_OFFSET: usize = CONF_OFFSET + 8;
const PUBLISH_TIME_OFFSET: usize = EXPONENT_OFFSET + 4;
const MESSAGE_END: usize = PUBLISH_TIME_OFFSET + 8;

/// One verified observation: `price · 10^exponent ± conf · 10^exponent`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PythReading {
    pub price: i64,
    pub conf: u64,
    pub exponent: i32,
    pub publish_time: i64,
}

fn read_array<const N: usize>(data: &[u8], offset: usize) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&data[offset..offset + N]);
    out
}

/// Identity checks only (owner, type, verification, feed id): no freshness.
pub fn read_pyth(account: &AccountInfo, expected_feed_id: &[u8; 32]) -> Result<PythReading> {
    if account.owner != &PYTH_RECEIVER_ID {
        return Err(error!(XmarginError::OracleWrongOwner).with_pubkeys((*account.owner, PYTH_RECEIVER_ID)));
    }
    parse_price_update(&account.try_borrow_data()?, expected_feed_id)
}

/// The checks of [`read_pyth`] after the owner's, on raw account data: what
/// off-chain code (keeper, CLI) runs on data it fetched from an RPC node.
pub fn parse_price_update(data: &[u8], expected_feed_id: &[u8; 32]) -> Result<PythReading> {
    if data.len() < MESSAGE_END || data[..8] != *PriceUpdateV2::DISCRIMINATOR {
        return err!(XmarginError::OracleNotPriceUpdate);
    }
    if data[VERIFICATION_OFFSET] != VERIFICATION_FULL {
        return err!(XmarginError::OracleNotFullyVerified);
    }
    if data[FEED_ID_OFFSET..FEED_ID_OFFSET + 32] != expected_feed_id[..] {
        return err!(XmarginError::OracleWrongFeed);
    }
    Ok(PythReading {
        price: i64::from_le_bytes(read_array(data, PRICE_OFFSET)),
        conf: u64::from_le_bytes(read_array(data, CONF_OFFSET)),
        exponent: i32::from_le_bytes(read_array(data, EXPONENT_OFFSET)),
        publish_time: i64::from_le_bytes(read_array(data, PUBLISH_TIME_OFFSET)),
    })
}

impl PythReading {
    /// Age check: `now − publish_time ≤ max_age` (a publish time in the future counts as age 0).
    pub fn check_fresh(&self, now: i64, max_age_secs: u32) -> Result<()> {
        let age = now.saturating_sub(self.publish_time);
        if age > i64::from(max_age_secs) {
            return Err(error!(XmarginError::OracleStale).with_values((age, max_age_secs)));
        }
        Ok(())
    }

    /// Price per native token unit in quote native units, with its confidence,
    /// after the positivity and confidence-ratio checks.
    pub fn to_oracle_price(
        &self,
        token_decimals: u8,
        quote_decimals: u8,
        max_conf_ratio: Fixed,
    ) -> Result<OraclePrice> {
        if self.price <= 0 {
            return Err(error!(XmarginError::OracleNonPositivePrice).with_values((self.price, 0)));
        }
        let price =
            OraclePrice::from_pyth(self.price, self.conf, self.exponent, token_decimals, quote_decimals)
                .map_err(|_| error!(XmarginError::OracleNonPositivePrice))?;
        if !pyth_conf_within(self.price, self.conf, max_conf_ratio) {
            return Err(error!(XmarginError::OracleConfidenceTooWide).with_values((self.conf, self.price)));
        }
        Ok(price)
    }
}
