//! [`Env`]: one LiteSVM instance with the xmargin program loaded.
use std::path::PathBuf;

use litesvm::LiteSVM;
use litesvm_token::{CreateAccount, CreateMint, MintTo};
use solana_account::Account;
use solana_address::Address;
use solana_clock::Clock;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;
use xmargin_client::lookup_table::{self as alt, AddressLookupTableAccount};
use xmargin_client::transaction::{self as wire, WireSize};

use crate::outcome::{TxFailure, TxOutcome};
use crate::pyth::{receiver_program, PythPrice};

/// Lamports every fresh wallet gets from [`Env::new_wallet`].
pub const WALLET_LAMPORTS: u64 = 100_000_000_000;
/// Unix time the clock starts at, so tests see realistic publish times.
pub const START_UNIX_TIME: i64 = 1_750_000_000;

/// Where the SBF program is read from: `$XMARGIN_SO`, else
/// `<workspace>/target/deploy/xmargin.so` (written by `scripts/build-sbf` or `anchor build`).
pub fn program_so_path() -> PathBuf {
    if let Ok(p) = std::env::var("XMARGIN_SO") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/deploy/xmargin.so")
}

/// Refuses to test a `.so` older than the program's or the risk crate's sources:
/// a test of a stale build proves nothing. (Skipped when `XMARGIN_SO` names the file.)
fn assert_so_is_fresh(so: &std::path::Path) {
    if std::env::var_os("XMARGIN_SO").is_some() {
        return;
    }
    let built = std::fs::metadata(so).and_then(|m| m.modified()).expect("program .so metadata");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut stack = vec![root.join("programs/xmargin/src"), root.join("crates/risk/src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if entry.metadata().and_then(|m| m.modified()).is_ok_and(|t| t > built) {
                panic!(
                    "{} is older than {}: rebuild it with scripts/build-sbf",
                    so.display(),
                    path.display()
                );
            }
        }
    }
}

pub struct Env {
    pub svm: LiteSVM,
    /// Pays fees and rent; also the mint authority of every test mint.
    pub payer: Keypair,
    pub program_id: Address,
    /// When set, [`Env::send`] compiles v0 messages against this table.
    pub lookup_table: Option<AddressLookupTableAccount>,
    /// The wire size of every transaction sent, in order (LiteSVM itself
    /// checks neither the packet size nor the account-lock limit of 64).
    pub sent_sizes: Vec<WireSize>,
}

impl Default for Env {
    fn default() -> Self {
        Self::new()
    }
}

impl Env {
    /// A VM with the program loaded, a funded payer and the clock at [`START_UNIX_TIME`].
    pub fn new() -> Self {
        let path = program_so_path();
        let so = std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "cannot read the program at {}: {e}. Build it with scripts/build-sbf (or anchor build).",
                path.display()
            )
        });
        assert_so_is_fresh(&path);
        let mut svm = LiteSVM::new();
        let program_id = xmargin::ID;
        svm.add_program(program_id, &so).expect("load xmargin.so");
        let payer = Keypair::new_from_array([7; 32]); // fixed: deterministic PDAs and CU
        svm.airdrop(&payer.pubkey(), 1_000 * WALLET_LAMPORTS).expect("airdrop");
        let mut env = Self { svm, payer, program_id, lookup_table: None, sent_sizes: Vec::new() };
        env.set_unix_time(START_UNIX_TIME);
        env
    }

    /// A new keypair derived from `seed` (deterministic), funded with SOL for fees and rent.
    pub fn new_wallet(&mut self, seed: u8) -> Keypair {
        self.new_wallet_seeded(u64::from(seed))
    }

    /// [`Env::new_wallet`] with a wider seed space (many users).
    pub fn new_wallet_seeded(&mut self, seed: u64) -> Keypair {
        let mut bytes = [(seed & 0xff) as u8; 32];
        bytes[24..].copy_from_slice(&seed.to_le_bytes());
        let kp = Keypair::new_from_array(bytes);
        self.svm.airdrop(&kp.pubkey(), WALLET_LAMPORTS).expect("airdrop");
        kp
    }

    // ---- clock -------------------------------------------------------------

    pub fn clock(&self) -> Clock {
        self.svm.get_sysvar()
    }

    pub fn unix_time(&self) -> i64 {
        self.clock().unix_timestamp
    }

    pub fn set_unix_time(&mut self, t: i64) {
        let mut c = self.clock();
        c.unix_timestamp = t;
        self.svm.set_sysvar(&c);
    }

    /// Moves the clock forward by `secs` seconds (and the slot by ~2.5 per second).
    pub fn warp(&mut self, secs: i64) {
        let mut c = self.clock();
        c.unix_timestamp += secs;
        c.slot += (secs.max(0) as u64) * 5 / 2;
        self.svm.set_sysvar(&c);
    }

    // ---- tokens ------------------------------------------------------------

    /// A new SPL Token mint whose authority is the payer.
    pub fn create_mint(&mut self, decimals: u8) -> Address {
        CreateMint::new(&mut self.svm, &self.payer).decimals(decimals).send().expect("create mint")
    }

    /// A new SPL Token account of `mint` owned by `owner`.
    pub fn create_token_account(&mut self, mint: &Address, owner: &Address) -> Address {
        CreateAccount::new(&mut self.svm, &self.payer, mint)
            .owner(owner)
            .send()
            .expect("create token account")
    }

    pub fn mint_to(&mut self, mint: &Address, account: &Address, amount: u64) {
        MintTo::new(&mut self.svm, &self.payer, mint, account, amount).send().expect("mint to");
    }

    /// A token account of `mint` for `owner`, holding `amount`.
    pub fn funded_token_account(&mut self, mint: &Address, owner: &Address, amount: u64) -> Address {
        let account = self.create_token_account(mint, owner);
        if amount > 0 {
            self.mint_to(mint, &account, amount);
        }
        account
    }

    /// Amount held by an SPL Token account (panics if it does not exist).
    pub fn token_balance(&self, account: &Address) -> u64 {
        let data = self.svm.get_account(account).expect("token account exists").data;
        u64::from_le_bytes(data[64..72].try_into().expect("token account layout"))
    }

    // ---- oracles -----------------------------------------------------------

    /// Writes (or overwrites) a Pyth `PriceUpdateV2` account at `address`.
    pub fn set_pyth_price(&mut self, address: &Address, price: &PythPrice) {
        self.set_account_data(address, &receiver_program(), price.account_data());
    }

    /// Writes arbitrary account data with a given owner (rent-exempt lamports).
    pub fn set_account_data(&mut self, address: &Address, owner: &Address, data: Vec<u8>) {
        let lamports = self.svm.minimum_balance_for_rent_exemption(data.len());
        let account = Account { lamports, data, owner: *owner, executable: false, rent_epoch: 0 };
        self.svm.set_account(*address, account).expect("set account");
    }

    // ---- accounts ----------------------------------------------------------

    pub fn account(&self, address: &Address) -> Option<Account> {
        self.svm.get_account(address)
    }

    /// Deserializes an Anchor account (regular or zero-copy) of the program.
    pub fn anchor_account<T: anchor_lang::AccountDeserialize>(&self, address: &Address) -> T {
        let data = self.account(address).unwrap_or_else(|| panic!("account {address} does not exist")).data;
        T::try_deserialize(&mut data.as_slice()).unwrap_or_else(|e| panic!("decode {address}: {e}"))
    }

    /// Reads a zero-copy account of the program (discriminator checked).
    pub fn zero_copy<T: anchor_lang::ZeroCopy + anchor_lang::Discriminator>(&self, address: &Address) -> T {
        let data = self.account(address).unwrap_or_else(|| panic!("account {address} does not exist")).data;
        assert_eq!(&data[..8], T::DISCRIMINATOR, "{address} is not a {}", std::any::type_name::<T>());
        let size = std::mem::size_of::<T>();
        assert!(data.len() >= 8 + size, "{address}: {} bytes, too small", data.len());
        bytemuck::pod_read_unaligned(&data[8..8 + size])
    }

    /// The current bytes of several accounts, to prove a failed instruction changed nothing.
    pub fn snapshot(&self, addresses: &[Address]) -> Vec<Option<Account>> {
        addresses.iter().map(|a| self.account(a)).collect()
    }

    // ---- transactions ------------------------------------------------------

    /// Signs with the payer plus `signers` and executes (a v0 message with
    /// [`Env::lookup_table`] when set, else legacy). Never panics on failure.
    pub fn send(&mut self, instructions: &[Instruction], signers: &[&Keypair]) -> TxOutcome {
        let table = self.lookup_table.clone();
        self.send_with_table(instructions, signers, table.as_ref())
    }

    /// [`Env::send`] compiled against `table` (v0), or legacy without one.
    /// The outcome carries the transaction's wire size; nothing here refuses
    /// an oversize one (see `xmargin_client::transaction::check`).
    pub fn send_with_table(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
        table: Option<&AddressLookupTableAccount>,
    ) -> TxOutcome {
        self.svm.expire_blockhash(); // identical transactions would otherwise be "already processed"
        let payer = self.payer.pubkey();
        let message = wire::message(&payer, instructions, table, self.svm.latest_blockhash())
            .unwrap_or_else(|e| panic!("compile: {e}"));
        let size = wire::measure(&message);
        self.sent_sizes.push(size);
        let mut all: Vec<&dyn Signer> = vec![&self.payer];
        all.extend(signers.iter().map(|k| *k as &dyn Signer));
        let tx = wire::sign(message, &all).unwrap_or_else(|e| panic!("sign: {e}"));
        match self.svm.send_transaction(tx) {
            Ok(meta) => TxOutcome {
                result: Ok(()),
                compute_units: meta.compute_units_consumed,
                logs: meta.logs,
                return_data: meta.return_data.data,
                wire: size,
            },
            Err(failed) => {
                let failure = TxFailure {
                    err: failed.err,
                    compute_units: failed.meta.compute_units_consumed,
                    logs: failed.meta.logs.clone(),
                };
                TxOutcome {
                    compute_units: failure.compute_units,
                    logs: failure.logs.clone(),
                    return_data: failed.meta.return_data.data,
                    result: Err(failure),
                    wire: size,
                }
            }
        }
    }

    // ---- address lookup tables -----------------------------------------------

    /// Creates an address lookup table holding `addresses` through the real
    /// lookup-table program, the payer its authority (one signer: each
    /// extension of 30 fits the packet), and moves the clock one slot on so
    /// every address is usable. Returns the table as a v0 message needs it.
    pub fn create_lookup_table(&mut self, addresses: &[Address]) -> AddressLookupTableAccount {
        let slot = self.lookup_table_slot();
        let authority = self.payer.pubkey();
        let (ix, table) = alt::create_lookup_table(&authority, &authority, slot);
        self.send_with_table(&[ix], &[], None).expect_ok();
        self.extend_lookup_table(&table, addresses)
    }

    /// The current slot, made a recent one in `SlotHashes` (LiteSVM keeps
    /// only its first): the lookup-table program derives a new table from a
    /// slot it finds there.
    pub fn lookup_table_slot(&mut self) -> u64 {
        use solana_slot_hashes::SlotHashes;
        let slot = self.clock().slot;
        self.svm.set_sysvar(&SlotHashes::new(&[(slot, self.svm.latest_blockhash())]));
        slot
    }

    /// Adds `addresses` to a table the payer created (skipping those it
    /// holds), then moves the clock one slot on; returns the table as read back.
    pub fn extend_lookup_table(
        &mut self,
        table: &Address,
        addresses: &[Address],
    ) -> AddressLookupTableAccount {
        let authority = self.payer.pubkey();
        let have = self.lookup_table_account(table).addresses;
        for ix in
            alt::extend_lookup_table(table, &authority, &authority, &alt::missing_addresses(&have, addresses))
        {
            let out = self.send_with_table(&[ix], &[], None);
            out.expect_ok();
            wire::within_limits(out.wire).unwrap_or_else(|e| panic!("an extension must fit: {e}"));
        }
        let mut c = self.clock();
        c.slot += 1;
        self.svm.set_sysvar(&c);
        self.lookup_table_account(table)
    }

    /// The table at `table` as stored.
    pub fn lookup_table_account(&self, table: &Address) -> AddressLookupTableAccount {
        let acc = self.account(table).unwrap_or_else(|| panic!("no lookup table at {table}"));
        alt::decode_lookup_table(table, &acc.owner, &acc.data).expect("a lookup table").table
    }

    /// Sends, asserts success, returns the outcome (panics with logs on failure).
    #[track_caller]
    pub fn send_ok(&mut self, instructions: &[Instruction], signers: &[&Keypair]) -> TxOutcome {
        let out = self.send(instructions, signers);
        out.expect_ok();
        out
    }

    /// Sends a transaction that must fail with `code` and leave `watched` untouched.
    #[track_caller]
    pub fn send_err(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
        code: impl Into<u32>,
        watched: &[Address],
    ) -> TxFailure {
        let before = self.snapshot(watched);
        let out = self.send(instructions, signers);
        let failure = out.expect_error(code).clone();
        let after = self.snapshot(watched);
        for ((addr, b), a) in watched.iter().zip(&before).zip(&after) {
            assert_eq!(b, a, "account {addr} changed although the transaction failed");
        }
        failure
    }
}
