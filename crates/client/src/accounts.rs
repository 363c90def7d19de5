//! Decoding the program's zero-copy accounts from raw account data, and the
//! byte filters a `getProgramAccounts` scan needs.
use anchor_lang::{Discriminator, ZeroCopy};

/// Why account data did not decode as the expected type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    TooShort { len: usize, need: usize },
    WrongDiscriminator,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::TooShort { len, need } => write!(f, "account data is {len} bytes, need {need}"),
            DecodeError::WrongDiscriminator => write!(f, "account discriminator does not match the type"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Copies a zero-copy account out of its data (checks the discriminator; any alignment).
pub fn decode<T: ZeroCopy + Discriminator>(data: &[u8]) -> Result<T, DecodeError> {
    let need = 8 + std::mem::size_of::<T>();
    if data.len() < need {
        return Err(DecodeError::TooShort { len: data.len(), need });
    }
    if &data[..8] != T::DISCRIMINATOR {
        return Err(DecodeError::WrongDiscriminator);
    }
    Ok(bytemuck::pod_read_unaligned(&data[8..need]))
}

/// `getProgramAccounts` filters: (offset, bytes) pairs to `memcmp`, plus the data size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanFilter {
    pub data_size: u64,
    pub memcmp: Vec<(usize, Vec<u8>)>,
}

/// Offset of the `group` field in `Bank` and `MarginAccount` (right after the discriminator).
pub const GROUP_FIELD_OFFSET: usize = 8;

/// Every account of type `T` in `group`.
pub fn scan_filter<T: ZeroCopy + Discriminator>(group: &anchor_lang::prelude::Pubkey) -> ScanFilter {
    ScanFilter {
        data_size: (8 + std::mem::size_of::<T>()) as u64,
        memcmp: vec![(0, T::DISCRIMINATOR.to_vec()), (GROUP_FIELD_OFFSET, group.to_bytes().to_vec())],
    }
}

impl ScanFilter {
    /// Whether raw account data passes the filter (for scans of an embedded SVM).
    pub fn matches(&self, data: &[u8]) -> bool {
        data.len() as u64 == self.data_size
            && self.memcmp.iter().all(|(o, b)| data.get(*o..*o + b.len()) == Some(b.as_slice()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use xmargin::state::{Bank, MarginAccount};

    #[test]
    fn decode_checks_size_and_discriminator() {
        let mut data = vec![0u8; 8 + MarginAccount::SIZE];
        data[..8].copy_from_slice(MarginAccount::DISCRIMINATOR);
        data[8 + 64 + 32] = 7; // account_num (after group, owner, delegate)
        let acc: MarginAccount = decode(&data).unwrap();
        assert_eq!(acc.account_num, 7);
        // Long enough for a Bank, but a MarginAccount's discriminator.
        assert_eq!(decode::<Bank>(&data).unwrap_err(), DecodeError::WrongDiscriminator);
        assert_eq!(
            decode::<MarginAccount>(&data[..100]).unwrap_err(),
            DecodeError::TooShort { len: 100, need: 8 + MarginAccount::SIZE }
        );
        data[0] ^= 1;
        assert_eq!(decode::<MarginAccount>(&data).unwrap_err(), DecodeError::WrongDiscriminator);
    }

    #[test]
    fn scan_filter_matches_group_members_only() {
        let group = anchor_lang::prelude::Pubkey::new_unique();
        let f = scan_filter::<MarginAccount>(&group);
        let mut data = vec![0u8; 8 + MarginAccount::SIZE];
        data[..8].copy_from_slice(MarginAccount::DISCRIMINATOR);
        data[8..40].copy_from_slice(group.as_ref());
        assert!(f.matches(&data));
        data[8] ^= 1;
        assert!(!f.matches(&data));
    }
}
