//! One `getProgramAccounts` filter's accounts kept current by updates: a
//! full snapshot at a slot, then each account update applied if it is not
//! older than what the view holds for that account. An update that deletes
//! the account (closed, reassigned, or no longer passing the filter) leaves
//! a tombstone at its slot, so an older update cannot bring it back.
use std::collections::BTreeMap;

use anchor_lang::prelude::Pubkey;
use xmargin_client::accounts::ScanFilter;

/// An account's new state at `slot`; `data: None` when it was deleted
/// (closed: no lamports, or no longer owned by the program).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountUpdate {
    pub key: Pubkey,
    pub slot: u64,
    pub data: Option<Vec<u8>>,
}

/// What an update did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// Inserted or replaced.
    Stored,
    /// Removed (or kept out).
    Deleted,
    /// Older than what the view holds: ignored.
    Stale,
}

/// The accounts passing `filter`, each at the slot it was last seen.
#[derive(Clone, Debug)]
pub struct ProgramView {
    filter: ScanFilter,
    /// The snapshot's slot: an account it did not hold is unknown before it.
    snapshot_slot: u64,
    accounts: BTreeMap<Pubkey, (u64, Option<Vec<u8>>)>,
}

impl ProgramView {
    /// A view from a full scan of `filter` read at `slot`.
    pub fn from_snapshot(filter: ScanFilter, slot: u64, accounts: Vec<(Pubkey, Vec<u8>)>) -> ProgramView {
        let accounts = accounts.into_iter().map(|(k, d)| (k, (slot, Some(d)))).collect();
        ProgramView { filter, snapshot_slot: slot, accounts }
    }

    pub fn filter(&self) -> &ScanFilter {
        &self.filter
    }

    /// Applies `u` unless it is older than the account's state in the view.
    pub fn apply(&mut self, u: AccountUpdate) -> Applied {
        let held = self.accounts.get(&u.key).map_or(self.snapshot_slot, |(slot, _)| *slot);
        if u.slot < held {
            return Applied::Stale;
        }
        let data = u.data.filter(|d| self.filter.matches(d));
        let applied = if data.is_some() { Applied::Stored } else { Applied::Deleted };
        self.accounts.insert(u.key, (u.slot, data));
        applied
    }

    /// The live accounts, by address.
    pub fn accounts(&self) -> Vec<(Pubkey, Vec<u8>)> {
        self.accounts.iter().filter_map(|(k, (_, d))| d.as_ref().map(|d| (*k, d.clone()))).collect()
    }

    pub fn len(&self) -> usize {
        self.accounts.values().filter(|(_, d)| d.is_some()).count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Accounts of 8 bytes starting with 7.
    fn filter() -> ScanFilter {
        ScanFilter { data_size: 8, memcmp: vec![(0, vec![7])] }
    }

    fn data(tag: u8) -> Vec<u8> {
        vec![7, tag, 0, 0, 0, 0, 0, 0]
    }

    fn update(key: Pubkey, slot: u64, tag: Option<u8>) -> AccountUpdate {
        AccountUpdate { key, slot, data: tag.map(data) }
    }

    #[test]
    fn updates_replace_the_snapshot_in_slot_order() {
        let (a, b, c) = (Pubkey::new_unique(), Pubkey::new_unique(), Pubkey::new_unique());
        let mut v = ProgramView::from_snapshot(filter(), 100, vec![(a, data(1)), (b, data(1))]);
        assert_eq!(v.apply(update(a, 99, Some(9))), Applied::Stale, "older than the snapshot");
        assert_eq!(v.apply(update(a, 105, Some(2))), Applied::Stored);
        assert_eq!(v.apply(update(a, 103, Some(3))), Applied::Stale, "older than the last update");
        assert_eq!(v.apply(update(a, 105, Some(4))), Applied::Stored, "same slot: the later message wins");
        assert_eq!(v.apply(update(c, 98, Some(1))), Applied::Stale, "unknown before the snapshot");
        assert_eq!(v.apply(update(c, 101, Some(1))), Applied::Stored, "a new account");
        let got = v.accounts();
        assert_eq!(got.len(), 3);
        assert_eq!(got.iter().find(|(k, _)| *k == a).unwrap().1, data(4));
        assert!(got.windows(2).all(|w| w[0].0 < w[1].0), "by address");
    }

    #[test]
    fn a_deletion_leaves_a_tombstone() {
        let (a, b) = (Pubkey::new_unique(), Pubkey::new_unique());
        let mut v = ProgramView::from_snapshot(filter(), 100, vec![(a, data(1)), (b, data(1))]);
        assert_eq!(v.apply(update(a, 110, None)), Applied::Deleted, "closed");
        assert_eq!(v.apply(update(a, 108, Some(5))), Applied::Stale, "an older update cannot revive it");
        assert_eq!(v.len(), 1);
        let reassigned = AccountUpdate { key: b, slot: 111, data: Some(vec![1, 2, 3]) };
        assert_eq!(v.apply(reassigned), Applied::Deleted, "no longer passes the filter");
        assert!(v.is_empty());
        assert_eq!(v.apply(update(a, 120, Some(6))), Applied::Stored, "re-created later");
        assert_eq!(v.accounts(), vec![(a, data(6))]);
    }
}
