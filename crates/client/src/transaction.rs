//! Transactions as they go on the wire: v0 messages compiled against the
//! group's lookup table ([`crate::lookup_table`]), or legacy ones without it,
//! signed, serialised, and checked against the two limits a real cluster
//! enforces and an embedded SVM does not:
//!
//! - [`PACKET_DATA_SIZE`]: a serialised transaction is at most 1,232 bytes
//!   (`solana_packet::PACKET_DATA_SIZE` = 1280 IPv6 MTU − 40 IPv6 header − 8
//!   fragment header);
//! - [`ACCOUNT_LOCK_LIMIT`]: at most 64 accounts (static keys plus those
//!   loaded from lookup tables, programs included). Agave's
//!   `Bank::get_transaction_account_lock_limit` returns
//!   `solana_transaction::sanitized::MAX_TX_ACCOUNT_LOCKS` (128) only where
//!   the feature `increase_tx_account_lock_limit`
//!   (`9LZdXeKGeBV6hRLdxS1rHbHoEUsKqesCC2ZAPTPKJAbK`, agave-feature-set 4.3)
//!   is active, and 64 otherwise; LiteSVM 0.18.1 copies the rule
//!   (`litesvm::get_transaction_account_lock_limit`) with every feature on,
//!   as does a `solana-test-validator` by default, so both accept 128. The
//!   clients hold to 64 so a transaction that passes here passes on a
//!   cluster without the feature.
//!
//! A legacy transaction's size is `1 + 64·signers + 3 + 1 + 32·keys + 32 +
//! instructions`; a v0 one pays 32 bytes per key only for keys outside the
//! table (signers, per-user accounts, invoked programs) and one byte for
//! each key found in it, plus 34 bytes for the table reference.
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_hash::Hash;
use solana_message::{v0, AddressLookupTableAccount, CompileError, VersionedMessage};
use solana_signer::{Signer, SignerError};
use solana_transaction::versioned::VersionedTransaction;

/// The largest serialised transaction a cluster accepts (1,232 bytes).
pub const PACKET_DATA_SIZE: usize = solana_packet::PACKET_DATA_SIZE;

/// The most accounts one transaction may lock where the
/// `increase_tx_account_lock_limit` feature is not active (see the module doc).
pub const ACCOUNT_LOCK_LIMIT: usize = 64;

/// The compute-budget program.
pub const COMPUTE_BUDGET_PROGRAM_ID: Pubkey =
    anchor_lang::prelude::pubkey!("ComputeBudget111111111111111111111111111111");

/// The heap frame every client transaction requests: the largest (256 KiB).
/// The program's heap grows upward from the region's start
/// (`xmargin::heap`), so a transaction that needs less uses what it
/// needs; a portfolio-mode account of 16 + 16 positions with option books
/// needs about 32 KiB to be viewed or liquidated, the default frame's
/// size. Costs 8 compute units per 32 KiB beyond the first, charged on each
/// program invocation (CPIs included): 56 per invocation.
pub const HEAP_FRAME_BYTES: u32 = 256 * 1024;

/// `SetComputeUnitLimit`, `SetComputeUnitPrice` and `RequestHeapFrame`
/// ([`HEAP_FRAME_BYTES`]) (compute-budget program, by layout).
pub fn compute_budget_ixs(limit: u32, micro_lamports: u64) -> Vec<Instruction> {
    let mut limit_data = vec![2u8];
    limit_data.extend_from_slice(&limit.to_le_bytes());
    let mut price_data = vec![3u8];
    price_data.extend_from_slice(&micro_lamports.to_le_bytes());
    let mut heap_data = vec![1u8];
    heap_data.extend_from_slice(&HEAP_FRAME_BYTES.to_le_bytes());
    vec![
        Instruction { program_id: COMPUTE_BUDGET_PROGRAM_ID, accounts: vec![], data: limit_data },
        Instruction { program_id: COMPUTE_BUDGET_PROGRAM_ID, accounts: vec![], data: price_data },
        Instruction { program_id: COMPUTE_BUDGET_PROGRAM_ID, accounts: vec![], data: heap_data },
    ]
}

/// Why a transaction could not be built, or would not be accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxError {
    Compile(CompileError),
    Sign(String),
    /// Serialised size over [`PACKET_DATA_SIZE`].
    TooLarge(WireSize),
    /// More accounts than [`ACCOUNT_LOCK_LIMIT`].
    TooManyAccounts(WireSize),
}

impl std::fmt::Display for TxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TxError::Compile(e) => write!(f, "cannot compile the message: {e}"),
            TxError::Sign(e) => write!(f, "cannot sign: {e}"),
            TxError::TooLarge(w) => write!(
                f,
                "transaction is {} bytes, over the {PACKET_DATA_SIZE}-byte packet limit ({w}); \
                 a lookup table (--lookup-table) holding the group's accounts would shrink it",
                w.bytes
            ),
            TxError::TooManyAccounts(w) => write!(
                f,
                "transaction locks {} accounts, over the limit of {ACCOUNT_LOCK_LIMIT} ({w})",
                w.accounts
            ),
        }
    }
}

impl std::error::Error for TxError {}

impl From<CompileError> for TxError {
    fn from(e: CompileError) -> Self {
        TxError::Compile(e)
    }
}

impl From<SignerError> for TxError {
    fn from(e: SignerError) -> Self {
        TxError::Sign(e.to_string())
    }
}

/// What a message costs on the wire.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WireSize {
    /// Serialised transaction bytes (signatures included).
    pub bytes: usize,
    /// Accounts the transaction locks: static keys plus looked-up ones.
    pub accounts: usize,
    /// Keys written out in full (32 bytes each).
    pub static_keys: usize,
    /// Keys loaded from lookup tables (one byte each).
    pub looked_up: usize,
}

impl std::fmt::Display for WireSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} bytes, {} accounts: {} static + {} from lookup tables",
            self.bytes, self.accounts, self.static_keys, self.looked_up
        )
    }
}

/// A legacy message (no lookup table).
pub fn legacy_message(payer: &Pubkey, instructions: &[Instruction], blockhash: Hash) -> VersionedMessage {
    VersionedMessage::Legacy(solana_message::Message::new_with_blockhash(
        instructions,
        Some(payer),
        &blockhash,
    ))
}

/// A v0 message with `tables` (keys found in a table other than signers and
/// invoked programs are loaded from it).
pub fn v0_message(
    payer: &Pubkey,
    instructions: &[Instruction],
    tables: &[AddressLookupTableAccount],
    blockhash: Hash,
) -> Result<VersionedMessage, TxError> {
    Ok(VersionedMessage::V0(v0::Message::try_compile(payer, instructions, tables, blockhash)?))
}

/// A v0 message when `table` is given, else a legacy one.
pub fn message(
    payer: &Pubkey,
    instructions: &[Instruction],
    table: Option<&AddressLookupTableAccount>,
    blockhash: Hash,
) -> Result<VersionedMessage, TxError> {
    match table {
        Some(t) => v0_message(payer, instructions, std::slice::from_ref(t), blockhash),
        None => Ok(legacy_message(payer, instructions, blockhash)),
    }
}

/// Bytes of the short-vec (compact-u16) length prefix of `n`.
fn short_vec_len(n: usize) -> usize {
    match n {
        0..=0x7f => 1,
        0x80..=0x3fff => 2,
        _ => 3,
    }
}

/// Writes `n` as a short-vec length prefix.
fn write_short_vec_len(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Size and account count of `message` once signed (each required signature
/// takes 64 bytes whether or not it is filled in yet).
pub fn measure(message: &VersionedMessage) -> WireSize {
    let signatures = usize::from(message.header().num_required_signatures);
    let static_keys = message.static_account_keys().len();
    let looked_up = message
        .address_table_lookups()
        .unwrap_or_default()
        .iter()
        .map(|l| l.writable_indexes.len() + l.readonly_indexes.len())
        .sum();
    WireSize {
        bytes: short_vec_len(signatures) + 64 * signatures + message.serialize().len(),
        accounts: static_keys + looked_up,
        static_keys,
        looked_up,
    }
}

/// [`measure`], refusing what a cluster would refuse.
pub fn check(message: &VersionedMessage) -> Result<WireSize, TxError> {
    within_limits(measure(message))
}

/// `w` if a cluster takes a transaction of that size and account count.
pub fn within_limits(w: WireSize) -> Result<WireSize, TxError> {
    if w.bytes > PACKET_DATA_SIZE {
        return Err(TxError::TooLarge(w));
    }
    if w.accounts > ACCOUNT_LOCK_LIMIT {
        return Err(TxError::TooManyAccounts(w));
    }
    Ok(w)
}

/// Signs `message` with the signers it requires, picked out of `signers`
/// (extra ones are ignored, a missing one is an error).
pub fn sign(message: VersionedMessage, signers: &[&dyn Signer]) -> Result<VersionedTransaction, TxError> {
    let required = &message.static_account_keys()[..usize::from(message.header().num_required_signatures)];
    let mut picked: Vec<&dyn Signer> = Vec::with_capacity(required.len());
    for key in required {
        let s = signers
            .iter()
            .find(|s| s.pubkey() == *key)
            .ok_or_else(|| TxError::Sign(format!("no keypair for the signer {key}")))?;
        picked.push(*s);
    }
    Ok(VersionedTransaction::try_new(message, picked.as_slice())?)
}

/// Compiles (v0 with `table`, else legacy), checks the wire limits and signs:
/// `payer` pays the fee, `others` sign where the instructions ask.
pub fn build(
    payer: &dyn Signer,
    others: &[&dyn Signer],
    instructions: &[Instruction],
    table: Option<&AddressLookupTableAccount>,
    blockhash: Hash,
) -> Result<VersionedTransaction, TxError> {
    let message = message(&payer.pubkey(), instructions, table, blockhash)?;
    check(&message)?;
    let mut signers: Vec<&dyn Signer> = vec![payer];
    signers.extend_from_slice(others);
    sign(message, &signers)
}

/// The transaction as sent: signatures (short-vec) then the message.
pub fn serialize(tx: &VersionedTransaction) -> Vec<u8> {
    let mut out = Vec::with_capacity(PACKET_DATA_SIZE);
    write_short_vec_len(&mut out, tx.signatures.len());
    for s in &tx.signatures {
        out.extend_from_slice(s.as_ref());
    }
    out.extend_from_slice(&tx.message.serialize());
    out
}

/// Bytes of [`serialize`].
pub fn serialized_size(tx: &VersionedTransaction) -> usize {
    short_vec_len(tx.signatures.len()) + 64 * tx.signatures.len() + tx.message.serialize().len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::prelude::AccountMeta;
    use solana_keypair::Keypair;

    fn ix(accounts: &[Pubkey], signer: &Pubkey) -> Instruction {
        let mut metas = vec![AccountMeta::new(*signer, true)];
        metas.extend(accounts.iter().map(|k| AccountMeta::new_readonly(*k, false)));
        Instruction { program_id: xmargin::ID, accounts: metas, data: vec![1, 2, 3] }
    }

    #[test]
    fn short_vec_lengths() {
        for n in [0usize, 1, 127, 128, 300, 16_383, 16_384, 65_535] {
            let mut out = Vec::new();
            write_short_vec_len(&mut out, n);
            assert_eq!(out.len(), short_vec_len(n), "{n}");
        }
        let mut out = Vec::new();
        write_short_vec_len(&mut out, 300);
        assert_eq!(out, [0xac, 0x02]);
    }

    /// 40 read-only accounts: 1,493 bytes legacy (over the packet); with all
    /// of them in a table, 32 bytes of key per account become one index byte.
    #[test]
    fn a_table_shrinks_a_transaction_under_the_packet() {
        let payer = Keypair::new();
        let keys: Vec<Pubkey> = (0..40).map(|_| Pubkey::new_unique()).collect();
        let ixs = [ix(&keys, &payer.pubkey())];
        let legacy = legacy_message(&payer.pubkey(), &ixs, Hash::default());
        let w = measure(&legacy);
        assert_eq!((w.accounts, w.static_keys, w.looked_up), (42, 42, 0));
        assert_eq!(w.bytes, 1 + 64 + 3 + 1 + 42 * 32 + 32 + 1 + (1 + 1 + 41 + 1 + 3));
        assert!(matches!(check(&legacy), Err(TxError::TooLarge(_))));
        assert!(matches!(build(&payer, &[], &ixs, None, Hash::default()), Err(TxError::TooLarge(_))));

        let table = AddressLookupTableAccount { key: Pubkey::new_unique(), addresses: keys.clone() };
        let tx = build(&payer, &[], &ixs, Some(&table), Hash::default()).unwrap();
        let w = check(&tx.message).unwrap();
        assert_eq!((w.accounts, w.static_keys, w.looked_up), (42, 2, 40));
        assert_eq!(w.bytes, serialized_size(&tx));
        assert_eq!(serialize(&tx).len(), w.bytes);
        // v0: the prefix byte, 2 static keys, the table reference (32 + 1 + 0 + 1 + 40).
        assert_eq!(
            w.bytes,
            1 + 64 + 1 + 3 + 1 + 2 * 32 + 32 + 1 + (1 + 1 + 41 + 1 + 3) + 1 + (32 + 1 + 1 + 40)
        );
        assert!(tx.verify_with_results().iter().all(|ok| *ok), "signed by the payer");
    }

    #[test]
    fn too_many_accounts_is_refused_even_when_small() {
        let payer = Keypair::new();
        let keys: Vec<Pubkey> = (0..70).map(|_| Pubkey::new_unique()).collect();
        let table = AddressLookupTableAccount { key: Pubkey::new_unique(), addresses: keys.clone() };
        let m =
            v0_message(&payer.pubkey(), &[ix(&keys, &payer.pubkey())], &[table], Hash::default()).unwrap();
        let w = measure(&m);
        assert!(w.bytes < PACKET_DATA_SIZE);
        assert_eq!(w.accounts, 72);
        assert!(matches!(check(&m), Err(TxError::TooManyAccounts(_))));
    }

    #[test]
    fn signing_needs_every_required_signer() {
        let (payer, other) = (Keypair::new(), Keypair::new());
        let ixs = [ix(&[], &other.pubkey())];
        let err = build(&payer, &[], &ixs, None, Hash::default()).unwrap_err();
        assert!(err.to_string().contains(&other.pubkey().to_string()), "{err}");
        let extra = Keypair::new();
        let tx = build(&payer, &[&extra, &other], &ixs, None, Hash::default()).unwrap();
        assert_eq!(tx.signatures.len(), 2, "extra keypairs are ignored");
        assert!(tx.verify_with_results().iter().all(|ok| *ok));
    }

    #[test]
    fn the_limits_are_the_clusters() {
        assert_eq!(PACKET_DATA_SIZE, 1_232);
        assert_eq!(ACCOUNT_LOCK_LIMIT, 64);
        // With `increase_tx_account_lock_limit` active the runtime takes 128.
        assert_eq!(solana_transaction::sanitized::MAX_TX_ACCOUNT_LOCKS, 128);
    }
}
