/**
 * The group's address lookup table: every static address the program's
 * instructions take that is the same for all users — the group, each bank with
 * its oracle and vault, the insurance vault, each market with its oracle, and
 * the programs and sysvars — so a v0 transaction names each with one byte
 * instead of 32 (transaction.ts).
 *
 * Lifecycle: `createLookupTableTxs` (create, then extend in chunks of
 * {@link LOOKUP_TABLE_EXTEND_CHUNK} so each transaction fits), and after a
 * bank or market is listed `extendLookupTableTxs` with the
 * {@link missingAddresses}; `syncGroupLookupTable` does either through a
 * provider. Addresses added in a slot are usable from the next slot on.
 *
 * `findGroupLookupTable` finds a group's table again by its authority and the
 * group among its addresses (whichever client made it: the Rust client orders
 * the same addresses differently).
 */
import type { Provider } from "@anchor-lang/core";
import {
  AddressLookupTableAccount,
  AddressLookupTableProgram,
  ComputeBudgetProgram,
  type Connection,
  PublicKey,
  SystemProgram,
  SYSVAR_INSTRUCTIONS_PUBKEY,
  SYSVAR_SLOT_HASHES_PUBKEY,
  Transaction,
  type TransactionInstruction,
} from "@solana/web3.js";
import { TOKEN_PROGRAM_ID, type XmarginClient } from "./client.ts";
import { insuranceVaultAddress } from "./pda.ts";

/** Most addresses one lookup table holds. */
export const LOOKUP_TABLE_MAX_ADDRESSES = 256;
/** Addresses per `ExtendLookupTable` instruction: 20 keep a create + extend transaction under 1,232 bytes. */
export const LOOKUP_TABLE_EXTEND_CHUNK = 20;
/** The address lookup table program. */
export const LOOKUP_TABLE_PROGRAM_ID = AddressLookupTableProgram.programId;
/** A table's authority is at byte 22, after `Some`'s tag at 21 (addresses start at 56). */
const LOOKUP_TABLE_AUTHORITY_OFFSET = 22;
const U64_MAX = 0xffff_ffff_ffff_ffffn;

/** The table has no room for the group's addresses (a group with more than about 80 banks and markets). */
export class LookupTableFullError extends Error {
  constructor(readonly table: PublicKey, readonly wanted: number) {
    super(`lookup table ${table.toBase58()} would need ${wanted} addresses, more than ${LOOKUP_TABLE_MAX_ADDRESSES}`);
  }
}

/**
 * The group's static addresses, each once, in a stable order: the group, the
 * insurance vault, the programs and sysvars its instructions take (token,
 * system, instructions sysvar, xmargin, compute budget), then per bank (token
 * index order) the bank, its oracle and its vault, then per market (market
 * index order) the market and its oracle. Needs `loadBanks()` and
 * `loadMarkets()` first.
 */
export function groupLookupTableAddresses(client: XmarginClient): PublicKey[] {
  const out: PublicKey[] = [];
  const seen = new Set<string>();
  const add = (k: PublicKey) => {
    const s = k.toBase58();
    if (!seen.has(s)) {
      seen.add(s);
      out.push(k);
    }
  };
  add(client.group);
  add(insuranceVaultAddress(client.group, client.programId));
  for (const k of [TOKEN_PROGRAM_ID, SystemProgram.programId, SYSVAR_INSTRUCTIONS_PUBKEY, client.programId,
    ComputeBudgetProgram.programId]) add(k);
  for (const b of [...client.banks.values()].sort((x, y) => x.tokenIndex - y.tokenIndex)) {
    add(b.address);
    add(b.oracle);
    add(b.vault);
  }
  for (const m of [...client.markets.values()].sort((x, y) => x.marketIndex - y.marketIndex)) {
    add(m.address);
    add(m.oracle);
  }
  return out;
}

/** The addresses of `wanted` that `table` does not hold yet, in `wanted`'s order. */
export function missingAddresses(table: AddressLookupTableAccount | PublicKey[], wanted: PublicKey[]): PublicKey[] {
  const held = new Set((Array.isArray(table) ? table : table.state.addresses).map((k) => k.toBase58()));
  return wanted.filter((k) => !held.has(k.toBase58()));
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * `ExtendLookupTable` instructions adding `addresses` to `table`, one per
 * transaction (each chunk of `chunk` addresses fits one). The authority signs.
 */
export function extendLookupTableTxs(p: {
  table: PublicKey; authority: PublicKey; payer: PublicKey; addresses: PublicKey[]; chunk?: number;
}): TransactionInstruction[][] {
  return chunks(p.addresses, p.chunk ?? LOOKUP_TABLE_EXTEND_CHUNK).map((addresses) => [
    AddressLookupTableProgram.extendLookupTable({ lookupTable: p.table, authority: p.authority, payer: p.payer, addresses }),
  ]);
}

/**
 * A new table of `authority` holding `addresses`: the instructions of each
 * transaction to send in order (the first creates the table and adds the first
 * chunk). `recentSlot` must be in the cluster's `SlotHashes` (see
 * {@link recentSlot}); it and the authority derive the table's address.
 */
export function createLookupTableTxs(p: {
  authority: PublicKey; payer: PublicKey; recentSlot: bigint | number; addresses: PublicKey[]; chunk?: number;
}): { table: PublicKey; transactions: TransactionInstruction[][] } {
  if (p.addresses.length > LOOKUP_TABLE_MAX_ADDRESSES) {
    throw new LookupTableFullError(PublicKey.default, p.addresses.length);
  }
  const [create, table] = AddressLookupTableProgram.createLookupTable({
    authority: p.authority, payer: p.payer, recentSlot: p.recentSlot,
  });
  const extends_ = extendLookupTableTxs({ ...p, table });
  const transactions = extends_.length > 0 ? [[create, ...extends_[0]], ...extends_.slice(1)] : [[create]];
  return { table, transactions };
}

/**
 * A slot the lookup-table program accepts for a new table: the newest entry of
 * the `SlotHashes` sysvar (falls back to the finalized slot).
 */
export async function recentSlot(connection: Connection): Promise<bigint> {
  const info = await connection.getAccountInfo(SYSVAR_SLOT_HASHES_PUBKEY, { dataSlice: { offset: 0, length: 16 } });
  if (info && info.data.length >= 16) {
    const view = new DataView(info.data.buffer, info.data.byteOffset, info.data.byteLength);
    if (view.getBigUint64(0, true) > 0n) return view.getBigUint64(8, true);
  }
  return BigInt(await connection.getSlot("finalized"));
}

/** A lookup table by address, decoded (`null` when absent); needs only `getAccountInfo`. */
export async function fetchLookupTable(connection: Connection, table: PublicKey): Promise<AddressLookupTableAccount | null> {
  const info = await connection.getAccountInfo(table);
  if (!info || !info.owner.equals(LOOKUP_TABLE_PROGRAM_ID)) return null;
  return new AddressLookupTableAccount({ key: table, state: AddressLookupTableAccount.deserialize(info.data) });
}

/**
 * The active table of `authority` that holds `group`, with the most
 * addresses, or `null`. Uses `getProgramAccounts` with a memcmp filter on the
 * authority; an RPC node that refuses the scan also gives `null` (pin the
 * table's address instead).
 */
export async function findGroupLookupTable(
  connection: Connection, group: PublicKey, authority: PublicKey,
): Promise<AddressLookupTableAccount | null> {
  let found: readonly { pubkey: PublicKey; account: { data: Buffer } }[];
  try {
    found = await connection.getProgramAccounts(LOOKUP_TABLE_PROGRAM_ID, {
      filters: [{ memcmp: { offset: LOOKUP_TABLE_AUTHORITY_OFFSET, bytes: authority.toBase58() } }],
    });
  } catch {
    return null;
  }
  const tables = found
    .map((a) => new AddressLookupTableAccount({ key: a.pubkey, state: AddressLookupTableAccount.deserialize(a.account.data) }))
    .filter((t) => t.state.deactivationSlot === U64_MAX && t.state.authority?.equals(authority)
      && t.state.addresses.some((k) => k.equals(group)))
    .sort((a, b) => b.state.addresses.length - a.state.addresses.length || a.key.toBase58().localeCompare(b.key.toBase58()));
  return tables[0] ?? null;
}

export interface LookupTableSync {
  table: PublicKey;
  /** The table was created by this call. */
  created: boolean;
  /** Addresses this call added. */
  added: PublicKey[];
  /** The table as it is now (refetched). */
  account: AddressLookupTableAccount;
}

/**
 * Makes the group's table hold every address of
 * {@link groupLookupTableAddresses}: creates it (when `table` is not given and
 * none is found for the provider's wallet) or extends it with what is missing,
 * sending legacy transactions signed by the provider's wallet (authority and
 * payer). Run it after `deploy` lists banks and after a market is listed;
 * running it again adds nothing. The new addresses are usable from the next slot.
 */
export async function syncGroupLookupTable(
  provider: Provider, client: XmarginClient, opts: { table?: PublicKey; log?: (s: string) => void } = {},
): Promise<LookupTableSync> {
  const log = opts.log ?? (() => undefined);
  const authority = provider.publicKey;
  if (!authority) throw new Error("the provider has no wallet");
  if (!provider.sendAndConfirm) throw new Error("the provider cannot send transactions");
  const send = async (ixs: TransactionInstruction[]) => {
    await provider.sendAndConfirm!(new Transaction().add(...ixs));
  };
  const wanted = groupLookupTableAddresses(client);
  const connection = provider.connection;
  const existing = opts.table
    ? await fetchLookupTable(connection, opts.table)
    : await findGroupLookupTable(connection, client.group, authority);
  if (opts.table && !existing) throw new Error(`lookup table ${opts.table.toBase58()} not found`);
  if (!existing) {
    const { table, transactions } = createLookupTableTxs({
      authority, payer: authority, recentSlot: await recentSlot(connection), addresses: wanted,
    });
    for (const ixs of transactions) await send(ixs);
    log(`created lookup table ${table.toBase58()} with ${wanted.length} addresses`);
    const account = await fetchLookupTable(connection, table);
    if (!account) throw new Error(`lookup table ${table.toBase58()} not found after creation`);
    return { table, created: true, added: wanted, account };
  }
  if (!existing.state.authority?.equals(authority)) {
    throw new Error(`lookup table ${existing.key.toBase58()} is not extendable by ${authority.toBase58()}`);
  }
  const missing = missingAddresses(existing, wanted);
  if (existing.state.addresses.length + missing.length > LOOKUP_TABLE_MAX_ADDRESSES) {
    throw new LookupTableFullError(existing.key, existing.state.addresses.length + missing.length);
  }
  for (const ixs of extendLookupTableTxs({ table: existing.key, authority, payer: authority, addresses: missing })) await send(ixs);
  if (missing.length > 0) log(`added ${missing.length} addresses to lookup table ${existing.key.toBase58()}`);
  const account = missing.length > 0 ? await fetchLookupTable(connection, existing.key) : existing;
  return { table: existing.key, created: false, added: missing, account: account ?? existing };
}
