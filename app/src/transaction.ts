/**
 * Versioned (v0) transactions with address lookup tables and a compute
 * budget, and the wire size and account-lock count of any message — measured
 * from the compiled message, so an oversized transaction is measured too
 * (web3.js's serialisers throw past 1,232 bytes).
 *
 * A legacy transaction spends 32 bytes on every account; a v0 transaction
 * spends one byte on each account found in a lookup table. An account with 16
 * token positions lists 32 health accounts, so `withdraw`, `liquidate_token`
 * and `compute_health` only fit on the wire as v0 transactions with the
 * group's table (see lookupTable.ts).
 */
import type { Provider } from "@anchor-lang/core";
import {
  type AddressLookupTableAccount,
  ComputeBudgetProgram,
  type Message,
  type MessageV0,
  type PublicKey,
  type Signer,
  type TransactionInstruction,
  TransactionMessage,
  VersionedTransaction,
} from "@solana/web3.js";

/** Largest serialised transaction a cluster accepts (`PACKET_DATA_SIZE`). */
export const PACKET_DATA_SIZE = 1_232;
/** Most accounts one transaction may lock (`MAX_TX_ACCOUNT_LOCKS` of the runtime, 64 before its 128 feature). */
export const MAX_TX_ACCOUNT_LOCKS = 64;
/** The compute-unit ceiling of one transaction. */
export const MAX_COMPUTE_UNIT_LIMIT = 1_400_000;

/** Compute-budget settings of a transaction (none set: the runtime's defaults). */
export interface ComputeBudget {
  /** `SetComputeUnitLimit` (units, at most 1,400,000). */
  computeUnitLimit?: number;
  /** `SetComputeUnitPrice`: priority fee in micro-lamports per compute unit. */
  computeUnitPrice?: number | bigint;
  /**
   * `RequestHeapFrame` (bytes, a multiple of 1,024 in 32..256 KiB). The program's heap grows upward,
   * so a larger frame only helps: a portfolio-mode account of 16 + 16 positions with option books needs
   * about 32 KiB (the default) to be viewed or liquidated. `HEAP_FRAME_BYTES` is the largest.
   */
  heapFrameBytes?: number;
}

/** The largest heap frame a transaction can request (256 KiB); 56 compute units per program invocation (CPIs included). */
export const HEAP_FRAME_BYTES = 256 * 1024;

/** The compute-budget instructions for `budget` (limit, price, heap frame), to go before the others. */
export function computeBudgetIxs(budget: ComputeBudget = {}): TransactionInstruction[] {
  const ixs: TransactionInstruction[] = [];
  if (budget.computeUnitLimit !== undefined) {
    if (!Number.isInteger(budget.computeUnitLimit) || budget.computeUnitLimit <= 0 || budget.computeUnitLimit > MAX_COMPUTE_UNIT_LIMIT) {
      throw new RangeError(`compute unit limit ${budget.computeUnitLimit} is not in 1..${MAX_COMPUTE_UNIT_LIMIT}`);
    }
    ixs.push(ComputeBudgetProgram.setComputeUnitLimit({ units: budget.computeUnitLimit }));
  }
  if (budget.computeUnitPrice !== undefined) {
    ixs.push(ComputeBudgetProgram.setComputeUnitPrice({ microLamports: budget.computeUnitPrice }));
  }
  if (budget.heapFrameBytes !== undefined) {
    const b = budget.heapFrameBytes;
    if (!Number.isInteger(b) || b % 1_024 !== 0 || b < 32 * 1_024 || b > HEAP_FRAME_BYTES) {
      throw new RangeError(`heap frame ${b} is not a multiple of 1,024 in 32,768..${HEAP_FRAME_BYTES}`);
    }
    ixs.push(ComputeBudgetProgram.requestHeapFrame({ bytes: b }));
  }
  return ixs;
}

export interface V0TransactionArgs extends ComputeBudget {
  payer: PublicKey;
  instructions: TransactionInstruction[];
  recentBlockhash: string;
  /** Tables whose addresses replace static keys (the group's table: lookupTable.ts). */
  lookupTables?: AddressLookupTableAccount[];
}

/** The v0 message of `instructions` after the compute-budget instructions, compiled against `lookupTables`. */
export function buildV0Message(p: V0TransactionArgs): MessageV0 {
  return new TransactionMessage({
    payerKey: p.payer,
    recentBlockhash: p.recentBlockhash,
    instructions: [...computeBudgetIxs(p), ...p.instructions],
  }).compileToV0Message(p.lookupTables ?? []);
}

/**
 * An unsigned v0 transaction (sign with `tx.sign([...])` or a wallet). Throws
 * {@link TransactionTooLargeError} when it would not fit on the wire or lock
 * too many accounts.
 */
export function buildV0Transaction(p: V0TransactionArgs): VersionedTransaction {
  const message = buildV0Message(p);
  const stats = messageWireStats(message);
  if (!stats.fits) throw new TransactionTooLargeError(stats);
  return new VersionedTransaction(message);
}

/** The legacy message of the same instructions (for comparison: what a client without tables sends). */
export function buildLegacyMessage(p: Omit<V0TransactionArgs, "lookupTables">): Message {
  return new TransactionMessage({
    payerKey: p.payer,
    recentBlockhash: p.recentBlockhash,
    instructions: [...computeBudgetIxs(p), ...p.instructions],
  }).compileToLegacyMessage();
}

/** What a message costs on the wire. */
export interface WireStats {
  version: "legacy" | 0;
  /** Serialised transaction bytes with every signature (64 bytes each). */
  size: number;
  /** Distinct accounts the transaction locks: its static keys and every address loaded from a table. */
  accountLocks: number;
  /** Static account keys (32 bytes each on the wire). */
  staticKeys: number;
  /** Accounts loaded from lookup tables (1 byte each). */
  lookedUp: number;
  signatures: number;
  /** `size ≤ PACKET_DATA_SIZE` and `accountLocks ≤ MAX_TX_ACCOUNT_LOCKS`. */
  fits: boolean;
}

/** A transaction that would not fit on the wire or would lock too many accounts. */
export class TransactionTooLargeError extends Error {
  constructor(readonly stats: WireStats) {
    super(`transaction of ${stats.size} bytes (limit ${PACKET_DATA_SIZE}) locking ${stats.accountLocks} accounts `
      + `(limit ${MAX_TX_ACCOUNT_LOCKS}): ${stats.staticKeys} static keys, ${stats.lookedUp} from lookup tables`);
  }
}

/** Bytes of a compact-u16 ("shortvec") length prefix. */
function shortVecLength(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : 3;
}

/**
 * Wire size and account locks of a compiled message (legacy or v0), computed
 * from its parts — exactly `VersionedTransaction.serialize().length` when it
 * fits, and still defined when it does not.
 */
export function messageWireStats(message: Message | MessageV0): WireStats {
  const keys = message.staticAccountKeys.length;
  const lookups = message.version === 0 ? (message as MessageV0).addressTableLookups : [];
  const signatures = message.header.numRequiredSignatures;
  let size = shortVecLength(signatures) + 64 * signatures;
  size += message.version === 0 ? 1 : 0; // version prefix
  size += 3 + shortVecLength(keys) + 32 * keys + 32; // header, keys, blockhash
  const ixs = message.compiledInstructions;
  size += shortVecLength(ixs.length);
  for (const ix of ixs) {
    size += 1 + shortVecLength(ix.accountKeyIndexes.length) + ix.accountKeyIndexes.length
      + shortVecLength(ix.data.length) + ix.data.length;
  }
  let lookedUp = 0;
  if (message.version === 0) {
    size += shortVecLength(lookups.length);
    for (const l of lookups) {
      size += 32 + shortVecLength(l.writableIndexes.length) + l.writableIndexes.length
        + shortVecLength(l.readonlyIndexes.length) + l.readonlyIndexes.length;
      lookedUp += l.writableIndexes.length + l.readonlyIndexes.length;
    }
  }
  const accountLocks = keys + lookedUp;
  return { version: message.version, size, accountLocks, staticKeys: keys, lookedUp, signatures,
    fits: size <= PACKET_DATA_SIZE && accountLocks <= MAX_TX_ACCOUNT_LOCKS };
}

/** Wire stats of `instructions` as a v0 transaction with `lookupTables` and as a legacy one. */
export function compareWireStats(p: V0TransactionArgs): { v0: WireStats; legacy: WireStats } {
  return { v0: messageWireStats(buildV0Message(p)), legacy: messageWireStats(buildLegacyMessage(p)) };
}

/**
 * Builds, signs (the provider's wallet pays; `signers` add their signatures)
 * and sends a v0 transaction through the provider, returning its signature.
 */
export async function sendV0(
  provider: Provider,
  instructions: TransactionInstruction[],
  opts: ComputeBudget & { lookupTables?: AddressLookupTableAccount[]; signers?: Signer[]; payer?: PublicKey } = {},
): Promise<string> {
  const payer = opts.payer ?? provider.publicKey;
  if (!payer) throw new Error("the provider has no wallet: pass a payer");
  if (!provider.sendAndConfirm) throw new Error("the provider cannot send transactions");
  const { blockhash } = await provider.connection.getLatestBlockhash();
  const tx = buildV0Transaction({ ...opts, payer, instructions, recentBlockhash: blockhash });
  return provider.sendAndConfirm(tx, requiredSigners(tx, opts.signers ?? []));
}

/** The signers among `signers` that `tx` needs (a v0 transaction refuses any other), each once. */
export function requiredSigners(tx: VersionedTransaction, signers: Signer[]): Signer[] {
  const needed = tx.message.staticAccountKeys.slice(0, tx.message.header.numRequiredSignatures);
  const seen = new Set<string>();
  return signers.filter((s) => {
    const k = s.publicKey.toBase58();
    if (seen.has(k) || !needed.some((n) => n.toBase58() === k)) return false;
    seen.add(k);
    return true;
  });
}
