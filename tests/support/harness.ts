/**
 * One test harness, two backends:
 *
 * - **svm** (default): an in-process LiteSVM loaded with `target/deploy/xmargin.so`,
 *   the test oracles and a fixed clock. Transactions run synchronously.
 * - **rpc**: when `ANCHOR_PROVIDER_URL` is set (as `anchor test` and
 *   `scripts/localnet test` do), a real validator over JSON-RPC with the wallet
 *   in `ANCHOR_WALLET`; the test oracles must be preloaded (scripts/localnet).
 *
 * Every send returns the compute units, logs and return data, read from the
 * runtime (LiteSVM's metadata, or the confirmed transaction over RPC), and the
 * transaction's wire size. A send with `lookupTables` is a v0 transaction
 * (app/src/transaction.ts); without, a legacy one.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { AnchorProvider, type Provider, utils, Wallet } from "@anchor-lang/core";
import {
  type AccountInfo, type AddressLookupTableAccount, ComputeBudgetProgram, Connection, type GetProgramAccountsFilter, Keypair,
  PublicKey, SendTransactionError, type Signer, SystemProgram, Transaction, type TransactionInstruction,
  type TransactionSignature, VersionedTransaction,
} from "@solana/web3.js";
import { address, getTransactionDecoder, lamports } from "@solana/kit";
import { Clock, FailedTransactionMetadata, LiteSVM } from "litesvm";
import { describeProgramError, parseProgramError, type ProgramErrorInfo } from "../../app/src/errors.ts";
import { PYTH_RECEIVER_PROGRAM_ID, XMARGIN_PROGRAM_ID } from "../../app/src/pda.ts";
import { buildV0Transaction, messageWireStats, requiredSigners } from "../../app/src/transaction.ts";
import { oracleAddress, PRICE_UPDATE_V2_LAMPORTS, priceUpdateV2, type PythQuote, TEST_FEEDS, type TestFeed } from "./pyth.ts";

export const ROOT = join(__dirname, "../..");
export const PROGRAM_SO = join(ROOT, "target/deploy/xmargin.so");
/** Clock of the SVM backend: 2026-05-28. */
export const SVM_START_TIME = 1_780_000_000n;

export interface Sent {
  signature: string;
  computeUnits: number;
  logs: string[];
  returnData: Buffer | null;
  /** Serialised size of the transaction in bytes: at most `PACKET_DATA_SIZE` (1,232). */
  size: number;
  /** Accounts the transaction locks (static keys and addresses loaded from tables). */
  accountLocks: number;
  version: "legacy" | 0;
}

/** How to send: a v0 transaction through `lookupTables` (the group's table), or legacy without. */
export interface SendOptions {
  lookupTables?: AddressLookupTableAccount[];
}

/** Largest serialised transaction a cluster accepts (`PACKET_DATA_SIZE`). */
export const PACKET_DATA_SIZE = 1_232;

/** A failed transaction: the runtime's error text, the program logs and the program error by name. */
export class TxFailure extends Error {
  /** The custom program error, decoded by the client (app/src/errors.ts): name and message from the IDL. */
  readonly programError: ProgramErrorInfo | null;

  constructor(readonly error: string, readonly logs: string[]) {
    const pe = parseProgramError(error, logs);
    super(`${pe ? `${describeProgramError(pe)}: ` : ""}${error}\n  ${logs.join("\n  ")}`);
    this.programError = pe;
  }

  /** The custom program error code of the failing instruction, if any. */
  get customCode(): number | null {
    return this.programError?.code ?? null;
  }
}

export interface Harness {
  readonly mode: "svm" | "rpc";
  readonly provider: Provider;
  readonly payer: Keypair;
  /**
   * Signs with the payer and `signers`, sends, waits for confirmation; throws
   * `TxFailure`. With `opts.lookupTables` a v0 transaction, else legacy.
   */
  send(ixs: TransactionInstruction[], signers?: Signer[], opts?: SendOptions): Promise<Sent>;
  getAccount(key: PublicKey): Promise<AccountInfo<Buffer> | null>;
  /** A new funded keypair. */
  newWallet(sol?: number): Promise<Keypair>;
  /** Current unix time of the cluster. */
  now(): Promise<bigint>;
  /** Moves a test oracle's price (svm only: a real validator's oracles are fixed). */
  setOracle?(name: TestFeed, quote: PythQuote): void;
  /** The current slot. */
  slot(): Promise<bigint>;
  /** Waits until the slot after the current one (a lookup table's new addresses are usable then). */
  nextSlot(): Promise<void>;
}

// ------------------------------------------------------------------ svm

class SvmProvider implements Provider {
  readonly connection: Connection;
  readonly wallet: Wallet;
  readonly publicKey: PublicKey;

  constructor(readonly svm: LiteSVM, readonly payer: Keypair,
    readonly run: (tx: Transaction | VersionedTransaction, s: Signer[]) => Sent) {
    this.publicKey = payer.publicKey;
    this.wallet = new Wallet(payer);
    const ctx = () => ({ slot: Number(svm.getClock().slot) });
    const get = (a: PublicKey) => svmAccount(svm, a);
    // The Connection methods Program uses for fetch and account resolution.
    this.connection = {
      commitment: "confirmed",
      getAccountInfo: async (a: PublicKey) => get(a),
      getAccountInfoAndContext: async (a: PublicKey) => ({ context: ctx(), value: get(a) }),
      getMultipleAccountsInfo: async (as: PublicKey[]) => as.map(get),
      getMultipleAccountsInfoAndContext: async (as: PublicKey[]) => ({ context: ctx(), value: as.map(get) }),
      getMinimumBalanceForRentExemption: async (n: number) => Number(svm.minimumBalanceForRentExemption(BigInt(n))),
      getLatestBlockhash: async () => ({ blockhash: svm.latestBlockhash(), lastValidBlockHeight: 0 }),
      getSlot: async () => Number(svm.getClock().slot),
      getProgramAccounts: async (program: PublicKey, config?: { filters?: GetProgramAccountsFilter[] }) =>
        svmProgramAccounts(svm, program, config?.filters ?? []),
      simulateTransaction: async (tx: VersionedTransaction) => simulate(svm, tx),
    } as unknown as Connection;
  }

  async sendAndConfirm(tx: Transaction | VersionedTransaction, signers: Signer[] = []): Promise<TransactionSignature> {
    return this.run(tx, signers).signature;
  }
}

/** `getProgramAccounts` with `memcmp` (base58 bytes) and `dataSize` filters. */
function svmProgramAccounts(svm: LiteSVM, program: PublicKey, filters: GetProgramAccountsFilter[]) {
  return svm.getProgramAccounts(address(program.toBase58()))
    .map((a) => ({ pubkey: new PublicKey(a.address), account: svmAccount(svm, new PublicKey(a.address))! }))
    .filter(({ account }) => filters.every((f) => {
      if ("dataSize" in f) return account.data.length === f.dataSize;
      const want = Buffer.from(utils.bytes.bs58.decode(f.memcmp.bytes));
      return account.data.subarray(f.memcmp.offset, f.memcmp.offset + want.length).equals(want);
    }));
}

/** `simulateTransaction` as the RPC answers it (signatures not checked, the latest blockhash). */
function simulate(svm: LiteSVM, tx: VersionedTransaction) {
  tx.message.recentBlockhash = svm.latestBlockhash();
  // LiteSVM wants every signature present; like the RPC's `sigVerify: false`, none is checked.
  const unsigned = new VersionedTransaction(tx.message, tx.signatures.map(() => new Uint8Array(64).fill(1)));
  svm.withSigverify(false);
  let res;
  try {
    res = svm.simulateTransaction(getTransactionDecoder().decode(unsigned.serialize()));
  } finally {
    svm.withSigverify(true);
  }
  const meta = res instanceof FailedTransactionMetadata ? res.meta() : res.meta();
  const rd = meta.returnData();
  const data = Buffer.from(rd.data());
  return {
    context: { slot: Number(svm.getClock().slot) },
    value: {
      err: res instanceof FailedTransactionMetadata ? res.err().toString() : null,
      logs: meta.logs(), accounts: null, unitsConsumed: Number(meta.computeUnitsConsumed()),
      returnData: data.length > 0
        ? { programId: new PublicKey(rd.programId()).toBase58(), data: [data.toString("base64"), "base64"] } : null,
    },
  };
}

function svmAccount(svm: LiteSVM, a: PublicKey): AccountInfo<Buffer> | null {
  const acc = svm.getAccount(address(a.toBase58()));
  if (!acc.exists) return null;
  return { data: Buffer.from(acc.data), owner: new PublicKey(acc.programAddress), lamports: Number(acc.lamports),
    executable: acc.executable, rentEpoch: 0 };
}

class SvmHarness implements Harness {
  readonly mode = "svm" as const;
  readonly svm = new LiteSVM();
  readonly payer = Keypair.fromSeed(new Uint8Array(32).fill(7)); // fixed: deterministic PDAs and CU
  readonly provider: SvmProvider;

  constructor() {
    if (!existsSync(PROGRAM_SO)) throw new Error(`${PROGRAM_SO} missing: run scripts/build-sbf`);
    this.svm.addProgramFromFile(address(XMARGIN_PROGRAM_ID.toBase58()), PROGRAM_SO);
    const clock = this.svm.getClock();
    this.svm.setClock(new Clock(clock.slot, clock.epochStartTimestamp, clock.epoch, clock.leaderScheduleEpoch, SVM_START_TIME));
    this.svm.airdrop(address(this.payer.publicKey.toBase58()), lamports(1_000_000_000_000n));
    for (const [name, { quote }] of Object.entries(TEST_FEEDS)) this.setOracle(name as TestFeed, quote);
    this.provider = new SvmProvider(this.svm, this.payer, (tx, s) => this.execute(tx, s));
  }

  setOracle(name: TestFeed, quote: PythQuote): void {
    this.setOracleAccount(oracleAddress(name), TEST_FEEDS[name].feed, quote);
  }

  /** Writes a `PriceUpdateV2` for feed `feedHex` at `key` (any address: more feeds than the test ones). */
  setOracleAccount(key: PublicKey, feedHex: string, quote: PythQuote): void {
    const data = priceUpdateV2(feedHex, quote);
    this.svm.setAccount({ address: address(key.toBase58()), data,
      programAddress: address(PYTH_RECEIVER_PROGRAM_ID.toBase58()), lamports: lamports(BigInt(PRICE_UPDATE_V2_LAMPORTS)),
      executable: false, space: BigInt(data.length) });
  }

  /** Moves the SVM clock forward. */
  warp(seconds: bigint): void {
    const c = this.svm.getClock();
    this.svm.setClock(new Clock(c.slot + 1n, c.epochStartTimestamp, c.epoch, c.leaderScheduleEpoch, c.unixTimestamp + seconds));
  }

  /** Moves the SVM slot forward, the unix time unchanged. */
  advanceSlots(slots: bigint): void {
    const c = this.svm.getClock();
    this.svm.setClock(new Clock(c.slot + slots, c.epochStartTimestamp, c.epoch, c.leaderScheduleEpoch, c.unixTimestamp));
  }

  execute(tx: Transaction | VersionedTransaction, signers: Signer[]): Sent {
    this.svm.expireBlockhash(); // identical transactions must not collide as "already processed"
    let wire: Uint8Array;
    let stats;
    if (tx instanceof VersionedTransaction) {
      tx.message.recentBlockhash = this.svm.latestBlockhash();
      tx.sign(requiredSigners(tx, [this.payer, ...signers]));
      stats = messageWireStats(tx.message);
      wire = tx.serialize();
    } else {
      tx.feePayer ??= this.payer.publicKey;
      tx.recentBlockhash = this.svm.latestBlockhash();
      tx.sign(...uniqueSigners([this.payer, ...signers]));
      stats = messageWireStats(tx.compileMessage());
      wire = tx.serialize();
    }
    // LiteSVM takes any size: the cluster's limits are checked here.
    assert(wire.length === stats.size, `wire size ${wire.length} ≠ computed ${stats.size}`);
    assert(stats.fits, `transaction of ${stats.size} bytes locking ${stats.accountLocks} accounts would not be accepted by a cluster`);
    const res = this.svm.sendTransaction(getTransactionDecoder().decode(wire));
    if (res instanceof FailedTransactionMetadata) throw new TxFailure(res.err().toString(), res.meta().logs());
    const rd = res.returnData();
    const data = Buffer.from(rd.data());
    return { signature: utils.bytes.bs58.encode(res.signature()), computeUnits: Number(res.computeUnitsConsumed()),
      logs: res.logs(), returnData: data.length > 0 ? data : null, size: wire.length, accountLocks: stats.accountLocks,
      version: stats.version };
  }

  async send(ixs: TransactionInstruction[], signers: Signer[] = [], opts: SendOptions = {}): Promise<Sent> {
    if (opts.lookupTables) {
      return this.execute(buildV0Transaction({ payer: this.payer.publicKey, instructions: ixs,
        recentBlockhash: this.svm.latestBlockhash(), lookupTables: opts.lookupTables, computeUnitLimit: 1_400_000 }), signers);
    }
    return this.execute(withComputeLimit(ixs), signers);
  }

  async getAccount(key: PublicKey) {
    return svmAccount(this.svm, key);
  }

  async newWallet(sol = 10): Promise<Keypair> {
    const kp = Keypair.generate();
    this.svm.airdrop(address(kp.publicKey.toBase58()), lamports(BigInt(sol * 1e9)));
    return kp;
  }

  async now(): Promise<bigint> {
    return this.svm.getClock().unixTimestamp;
  }

  async slot(): Promise<bigint> {
    return this.svm.getClock().slot;
  }

  async nextSlot(): Promise<void> {
    this.advanceSlots(1n);
  }
}

// ------------------------------------------------------------------ rpc

class RpcHarness implements Harness {
  readonly mode = "rpc" as const;
  readonly provider: AnchorProvider;
  readonly payer: Keypair;

  constructor(url: string, walletPath: string) {
    const secret = JSON.parse(readFileSync(walletPath.replace(/^~/, process.env.HOME ?? "~"), "utf8")) as number[];
    this.payer = Keypair.fromSecretKey(Uint8Array.from(secret));
    const connection = new Connection(url, "confirmed");
    this.provider = new AnchorProvider(connection, new Wallet(this.payer), { commitment: "confirmed" });
  }

  async init(): Promise<void> {
    const c = this.provider.connection;
    if ((await c.getBalance(this.payer.publicKey)) < 100e9) {
      await c.confirmTransaction(await c.requestAirdrop(this.payer.publicKey, 500e9), "confirmed");
    }
    for (const name of Object.keys(TEST_FEEDS)) {
      const info = await c.getAccountInfo(oracleAddress(name));
      if (!info || !info.owner.equals(PYTH_RECEIVER_PROGRAM_ID)) {
        throw new Error(`test oracle ${name} (${oracleAddress(name).toBase58()}) is not preloaded: start the validator with scripts/localnet`);
      }
    }
  }

  private sends = 0;

  async send(ixs: TransactionInstruction[], signers: Signer[] = [], opts: SendOptions = {}): Promise<Sent> {
    const c = this.provider.connection;
    // A distinct compute limit per send: the same instructions sent twice within one
    // blockhash's lifetime would otherwise be rejected as already processed.
    const units = 1_400_000 - (this.sends++ % 100_000);
    const { blockhash, lastValidBlockHeight } = await c.getLatestBlockhash("confirmed");
    let wire: Uint8Array;
    let stats;
    if (opts.lookupTables) {
      const vtx = buildV0Transaction({ payer: this.payer.publicKey, instructions: ixs, recentBlockhash: blockhash,
        lookupTables: opts.lookupTables, computeUnitLimit: units });
      vtx.sign(requiredSigners(vtx, [this.payer, ...signers]));
      stats = messageWireStats(vtx.message);
      wire = vtx.serialize();
    } else {
      const tx = withComputeLimit(ixs, units);
      tx.feePayer = this.payer.publicKey;
      tx.recentBlockhash = blockhash;
      tx.sign(...uniqueSigners([this.payer, ...signers]));
      stats = messageWireStats(tx.compileMessage());
      wire = tx.serialize();
    }
    let signature: string;
    try {
      signature = await c.sendRawTransaction(wire, { preflightCommitment: "confirmed" });
    } catch (e) {
      if (e instanceof SendTransactionError) throw new TxFailure(e.message, (await e.getLogs(c)) ?? []);
      throw e;
    }
    const status = await c.confirmTransaction({ signature, blockhash, lastValidBlockHeight }, "confirmed");
    const got = await c.getTransaction(signature, { commitment: "confirmed", maxSupportedTransactionVersion: 0 });
    const logs = got?.meta?.logMessages ?? [];
    if (status.value.err) throw new TxFailure(JSON.stringify(status.value.err), logs);
    const rd = (got?.meta as { returnData?: { data: [string, string] } } | undefined)?.returnData;
    return { signature, computeUnits: got?.meta?.computeUnitsConsumed ?? 0, logs,
      returnData: rd ? Buffer.from(rd.data[0], "base64") : null, size: wire.length, accountLocks: stats.accountLocks,
      version: stats.version };
  }

  getAccount(key: PublicKey) {
    return this.provider.connection.getAccountInfo(key, "confirmed");
  }

  async newWallet(sol = 10): Promise<Keypair> {
    const kp = Keypair.generate();
    await this.send([SystemProgram.transfer({ fromPubkey: this.payer.publicKey, toPubkey: kp.publicKey, lamports: sol * 1e9 })]);
    return kp;
  }

  async now(): Promise<bigint> {
    const c = this.provider.connection;
    const t = await c.getBlockTime(await c.getSlot("confirmed"));
    return BigInt(t ?? Math.floor(Date.now() / 1000));
  }

  async slot(): Promise<bigint> {
    return BigInt(await this.provider.connection.getSlot("confirmed"));
  }

  async nextSlot(): Promise<void> {
    const start = await this.slot();
    while ((await this.slot()) <= start) await new Promise((r) => setTimeout(r, 100));
  }
}

// ------------------------------------------------------------------ shared

/** A compute limit above the 200k default so the 16-position cases fit; harmless otherwise. */
function withComputeLimit(ixs: TransactionInstruction[], units = 1_400_000): Transaction {
  return new Transaction().add(ComputeBudgetProgram.setComputeUnitLimit({ units }), ...ixs);
}

function uniqueSigners(signers: Signer[]): Signer[] {
  const seen = new Set<string>();
  return signers.filter((s) => !seen.has(s.publicKey.toBase58()) && seen.add(s.publicKey.toBase58()));
}

/**
 * The harness for this run. `XMARGIN_TEST_BACKEND=svm|rpc` forces one;
 * otherwise rpc when `ANCHOR_PROVIDER_URL` answers (a real validator), else the
 * in-process SVM — which is what `anchor test --skip-local-validator` gets, as
 * Anchor sets the URL even when nothing listens there.
 */
export async function makeHarness(): Promise<Harness> {
  const forced = process.env.XMARGIN_TEST_BACKEND;
  const url = process.env.ANCHOR_PROVIDER_URL;
  if (forced === "rpc" || (forced !== "svm" && url && (await answers(url)))) {
    if (!url) throw new Error("XMARGIN_TEST_BACKEND=rpc needs ANCHOR_PROVIDER_URL");
    const h = new RpcHarness(url, process.env.ANCHOR_WALLET ?? "~/.config/solana/id.json");
    await h.init();
    return h;
  }
  if (url && forced !== "svm") console.log(`# no validator answers at ${url}: running on the in-process SVM`);
  return new SvmHarness();
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "getHealth" }), signal: AbortSignal.timeout(2_000) });
    return res.ok;
  } catch {
    return false;
  }
}

export function isSvm(h: Harness): h is SvmHarness {
  return h.mode === "svm";
}

/** The .so must be newer than the program sources, or the tests would test an old program. */
export function assertProgramFresh(): void {
  const so = statSync(PROGRAM_SO).mtimeMs;
  const newest = ["programs/xmargin/src", "crates/risk/src"].map((d) => newestMtime(join(ROOT, d)));
  if (Math.max(...newest) > so) throw new Error("target/deploy/xmargin.so is older than the program sources: run scripts/build-sbf");
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}
