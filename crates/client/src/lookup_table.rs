//! The group's address lookup table: which addresses it holds, and the
//! instructions that create and fill it.
//!
//! A v0 transaction names each address of a lookup table by a one-byte
//! index instead of its 32 bytes ([`crate::transaction`]). Everything an
//! instruction passes that is the same for every user goes in the group's
//! table ([`group_addresses`]): the program and the sysvars and programs it
//! is given, the group and its insurance vault, every bank with its vault and
//! oracle, every market with its oracle. What stays in the transaction is
//! per user: signers, margin accounts, token accounts, rent receivers.
//!
//! A table's address derives from its authority and a recent slot
//! ([`create_lookup_table`]); the clients are told it (`--lookup-table`), it
//! is not stored on chain by xmargin. Addresses go in by
//! [`extend_lookup_table`], at most [`EXTEND_CHUNK`] per transaction, and are
//! usable from the slot after the one that added them.
use std::collections::BTreeMap;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::system_program;
pub use solana_address_lookup_table_interface::program::ID as LOOKUP_TABLE_PROGRAM_ID;
use solana_address_lookup_table_interface::state::{AddressLookupTable, LOOKUP_TABLE_MAX_ADDRESSES};
pub use solana_message::AddressLookupTableAccount;
use xmargin::pda;
use xmargin::token::TOKEN_PROGRAM_ID;

use crate::health::{BankEntry, MarketEntry};

/// Addresses per `ExtendLookupTable` transaction: 30 × 32 bytes keep one
/// extension, signed by an authority that also pays, at 1,210 bytes, under
/// the 1,232-byte packet (the test `an_extension_of_30_fits_the_packet`).
pub const EXTEND_CHUNK: usize = 30;

/// A table holds at most 256 addresses (the lookup-table program's limit).
pub const MAX_ADDRESSES: usize = LOOKUP_TABLE_MAX_ADDRESSES;

/// Addresses that are the same for every group: the xmargin program (also
/// the placeholder Anchor passes for an absent optional account), SPL Token,
/// the system program and the instructions sysvar (`take_quote`).
pub fn program_addresses() -> [Pubkey; 4] {
    [xmargin::ID, TOKEN_PROGRAM_ID, system_program::ID, xmargin::quote::INSTRUCTIONS_SYSVAR_ID]
}

/// Every address the group's lookup table should hold, in a stable order
/// (programs, group, insurance vault, then per bank in token order: bank,
/// vault, oracle; then per market in market order: market, and its oracle
/// when no bank brought it), each once.
pub fn group_addresses(
    group: &Pubkey,
    banks: &BTreeMap<u16, BankEntry>,
    markets: &BTreeMap<u16, MarketEntry>,
) -> Vec<Pubkey> {
    let mut out: Vec<Pubkey> = program_addresses().to_vec();
    out.push(*group);
    out.push(pda::insurance_vault_address(group).0);
    for e in banks.values() {
        out.extend([e.address, e.bank.vault, e.bank.oracle]);
    }
    for e in markets.values() {
        out.extend([e.address, e.market.oracle]);
    }
    let mut seen = std::collections::BTreeSet::new();
    out.retain(|k| seen.insert(*k));
    out
}

/// The addresses of `wanted` not in `table` yet, in `wanted`'s order.
pub fn missing_addresses(table: &[Pubkey], wanted: &[Pubkey]) -> Vec<Pubkey> {
    let have: std::collections::BTreeSet<&Pubkey> = table.iter().collect();
    wanted.iter().filter(|k| !have.contains(k)).copied().collect()
}

/// The table's address for `authority` and `recent_slot` (a slot the
/// cluster still has in its `SlotHashes`, e.g. the finalized slot).
pub fn lookup_table_address(authority: &Pubkey, recent_slot: u64) -> Pubkey {
    solana_address_lookup_table_interface::instruction::derive_lookup_table_address(authority, recent_slot).0
}

/// `CreateLookupTable` of `authority`'s table for `recent_slot`, paid by
/// `payer`; returns the instruction and the table's address.
pub fn create_lookup_table(authority: &Pubkey, payer: &Pubkey, recent_slot: u64) -> (Instruction, Pubkey) {
    solana_address_lookup_table_interface::instruction::create_lookup_table(*authority, *payer, recent_slot)
}

/// `ExtendLookupTable` instructions adding `addresses` to `table`, at most
/// [`EXTEND_CHUNK`] each: send each in its own transaction, signed by the
/// table's authority (and `payer`, who pays the extra rent).
pub fn extend_lookup_table(
    table: &Pubkey,
    authority: &Pubkey,
    payer: &Pubkey,
    addresses: &[Pubkey],
) -> Vec<Instruction> {
    addresses
        .chunks(EXTEND_CHUNK)
        .map(|chunk| {
            solana_address_lookup_table_interface::instruction::extend_lookup_table(
                *table,
                *authority,
                Some(*payer),
                chunk.to_vec(),
            )
        })
        .collect()
}

/// A lookup table as read from its account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LookupTableState {
    /// Its address and addresses, as a v0 message compiles against them.
    pub table: AddressLookupTableAccount,
    /// Who may extend it (`None`: frozen).
    pub authority: Option<Pubkey>,
    /// The slot of the last extension: its addresses are usable after it.
    pub last_extended_slot: u64,
    /// Non-`u64::MAX` once deactivated (then it cannot be used much longer).
    pub deactivation_slot: u64,
}

/// Why lookup-table account data did not decode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotALookupTable(pub Pubkey);

impl std::fmt::Display for NotALookupTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} is not an address lookup table", self.0)
    }
}

impl std::error::Error for NotALookupTable {}

/// Decodes the table at `key` from its account `owner` and `data`.
pub fn decode_lookup_table(
    key: &Pubkey,
    owner: &Pubkey,
    data: &[u8],
) -> Result<LookupTableState, NotALookupTable> {
    if *owner != LOOKUP_TABLE_PROGRAM_ID {
        return Err(NotALookupTable(*key));
    }
    let t = AddressLookupTable::deserialize(data).map_err(|_| NotALookupTable(*key))?;
    Ok(LookupTableState {
        table: AddressLookupTableAccount { key: *key, addresses: t.addresses.to_vec() },
        authority: t.meta.authority,
        last_extended_slot: t.meta.last_extended_slot,
        deactivation_slot: t.meta.deactivation_slot,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transaction::{legacy_message, measure, PACKET_DATA_SIZE};
    use solana_hash::Hash;

    #[test]
    fn an_extension_of_30_fits_the_packet() {
        let authority = Pubkey::new_unique();
        let (create, table) = create_lookup_table(&authority, &authority, 77);
        assert_eq!(table, lookup_table_address(&authority, 77));
        let addresses: Vec<Pubkey> = (0..61).map(|_| Pubkey::new_unique()).collect();
        let extends = extend_lookup_table(&table, &authority, &authority, &addresses);
        assert_eq!(extends.len(), 3, "30 + 30 + 1");
        let full = measure(&legacy_message(&authority, &extends[..1], Hash::default()));
        assert_eq!(full.bytes, 1_210);
        assert!(full.bytes <= PACKET_DATA_SIZE);
        let created = measure(&legacy_message(&authority, &[create], Hash::default()));
        assert!(created.bytes < 400, "{created:?}");
    }

    #[test]
    fn missing_keeps_order_and_skips_present() {
        let k: Vec<Pubkey> = (0..4).map(|_| Pubkey::new_unique()).collect();
        assert_eq!(missing_addresses(&[k[1], k[3]], &k), vec![k[0], k[2]]);
        assert!(missing_addresses(&k, &k).is_empty());
    }

    #[test]
    fn a_table_account_decodes() {
        use solana_address_lookup_table_interface::state::LookupTableMeta;
        let authority = Pubkey::new_unique();
        let key = Pubkey::new_unique();
        let addresses = vec![Pubkey::new_unique(), Pubkey::new_unique()];
        let mut meta = LookupTableMeta::new(authority);
        meta.last_extended_slot = 9;
        let data = AddressLookupTable { meta, addresses: std::borrow::Cow::Owned(addresses.clone()) }
            .serialize_for_tests()
            .unwrap();
        let t = decode_lookup_table(&key, &LOOKUP_TABLE_PROGRAM_ID, &data).unwrap();
        assert_eq!(t.table, AddressLookupTableAccount { key, addresses });
        assert_eq!((t.authority, t.last_extended_slot, t.deactivation_slot), (Some(authority), 9, u64::MAX));
        assert_eq!(decode_lookup_table(&key, &xmargin::ID, &data), Err(NotALookupTable(key)));
        assert!(decode_lookup_table(&key, &LOOKUP_TABLE_PROGRAM_ID, &data[..10]).is_err());
    }
}
