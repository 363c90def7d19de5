/**
 * The runtime's account-lock limit, measured on a real validator (rpc backend
 * only; skipped on the in-process SVM, which is not the runtime measured): a
 * lookup table of fresh addresses, then v0 transactions locking exactly N
 * accounts — a system transfer of 0 lamports from the payer to itself (the
 * payer and the system program: 2 locks) with N − 2 read-only account metas
 * from the table appended. 64 locks are accepted, 65 refused with
 * `TooManyAccountLocks` — unless the feature `increase_tx_account_lock_limit`
 * is active (solana-test-validator activates every feature by default), then
 * 128 are accepted and 129 refused. The limit without the feature, what
 * mainnet-beta enforces, is the clients' `MAX_TX_ACCOUNT_LOCKS` (64).
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import {
  type AddressLookupTableAccount, type Connection, Keypair, PublicKey, SystemProgram,
  Transaction, TransactionMessage, VersionedTransaction,
} from "@solana/web3.js";
import { createLookupTableTxs, fetchLookupTable, recentSlot } from "../app/src/lookupTable.ts";
import { MAX_TX_ACCOUNT_LOCKS, messageWireStats } from "../app/src/transaction.ts";
import { type Harness, isSvm, makeHarness } from "./support/harness.ts";

/** Fresh addresses in the table: enough for 129 locks (2 static keys + 127 looked up). */
const TABLE_ADDRESSES = 127;
/** Locks of the transfer itself: the payer (fee payer and both ends) and the system program. */
const BASE_LOCKS = 2;

/** The feature gate raising the limit from 64 to 128 (`increase_tx_account_lock_limit`). */
const INCREASE_TX_ACCOUNT_LOCK_LIMIT = new PublicKey("9LZdXeKGeBV6hRLdxS1rHbHoEUsKqesCC2ZAPTPKJAbK");
const FEATURE_PROGRAM_ID = new PublicKey("Feature111111111111111111111111111111111111");
/** `TransactionError::TooManyAccountLocks`, by name (the preflight's `data.err`) or by its message. */
const TOO_MANY_LOCKS = /TooManyAccountLocks|locked too many accounts/;

let h: Harness;

/** A feature account is active when owned by the feature program with `Some(activation slot)`. */
async function featureActive(c: Connection, feature: PublicKey): Promise<boolean> {
  const info = await c.getAccountInfo(feature, "confirmed");
  return !!info && info.owner.equals(FEATURE_PROGRAM_ID) && info.data.length >= 9 && info.data[0] === 1;
}

before(async () => {
  h = await makeHarness();
});

type Outcome = { accepted: true } | { accepted: false; error: string };

/** A v0 transfer of 0 lamports from the payer to itself locking exactly `locks` accounts. */
async function sendWithLocks(c: Connection, payer: Keypair, table: AddressLookupTableAccount, locks: number): Promise<Outcome> {
  const ix = SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: payer.publicKey, lamports: 0 });
  ix.keys.push(...table.state.addresses.slice(0, locks - BASE_LOCKS)
    .map((pubkey) => ({ pubkey, isSigner: false, isWritable: false })));
  const { blockhash, lastValidBlockHeight } = await c.getLatestBlockhash("confirmed");
  const message = new TransactionMessage({ payerKey: payer.publicKey, recentBlockhash: blockhash, instructions: [ix] })
    .compileToV0Message([table]);
  const stats = messageWireStats(message);
  assert.equal(stats.accountLocks, locks, "the transaction locks the accounts asked for");
  assert.equal(stats.staticKeys, BASE_LOCKS, "every appended account comes from the table");
  const tx = new VersionedTransaction(message);
  tx.sign([payer]);
  // Raw JSON-RPC: the preflight's refusal carries the runtime's `TransactionError` by name in `error.data.err`.
  const res = await fetch(c.rpcEndpoint, { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "sendTransaction", params: [
      Buffer.from(tx.serialize()).toString("base64"), { encoding: "base64", preflightCommitment: "confirmed" }] }) });
  const body = await res.json() as { result?: string; error?: { message: string; data?: { err?: unknown } } };
  if (body.error) return { accepted: false, error: `${JSON.stringify(body.error.data?.err ?? null)}: ${body.error.message}` };
  const status = await c.confirmTransaction({ signature: body.result!, blockhash, lastValidBlockHeight }, "confirmed");
  if (status.value.err) return { accepted: false, error: JSON.stringify(status.value.err) };
  return { accepted: true };
}

describe("account locks", () => {
  test("the account-lock limit is 64, 128 with increase_tx_account_lock_limit: MAX_TX_ACCOUNT_LOCKS is 64", async (t) => {
    if (isSvm(h)) return t.skip("measured on a real validator: rpc backend only");
    const c = h.provider.connection;
    const payer = h.payer;
    const addresses: PublicKey[] = Array.from({ length: TABLE_ADDRESSES }, () => Keypair.generate().publicKey);
    const { table: key, transactions } = createLookupTableTxs({
      authority: payer.publicKey, payer: payer.publicKey, recentSlot: await recentSlot(c), addresses,
    });
    for (const ixs of transactions) {
      const tx = new Transaction().add(...ixs);
      tx.feePayer = payer.publicKey;
      const { blockhash, lastValidBlockHeight } = await c.getLatestBlockhash("confirmed");
      tx.recentBlockhash = blockhash;
      tx.sign(payer);
      const signature = await c.sendRawTransaction(tx.serialize(), { preflightCommitment: "confirmed" });
      const status = await c.confirmTransaction({ signature, blockhash, lastValidBlockHeight }, "confirmed");
      assert.equal(status.value.err, null, `lookup-table transaction failed: ${JSON.stringify(status.value.err)}`);
    }
    await h.nextSlot(); // addresses added in a slot are usable from the next one
    const table = await fetchLookupTable(c, key);
    assert.ok(table, `lookup table ${key.toBase58()} not found`);
    assert.equal(table.state.addresses.length, TABLE_ADDRESSES);

    const probe = async (locks: number) => {
      const out = await sendWithLocks(c, payer, table, locks);
      t.diagnostic(`${locks} locks: ${out.accepted ? "accepted" : `refused: ${out.error.split("\n")[0]}`}`);
      return out;
    };
    let limit: number;
    const at64 = await probe(64);
    assert.ok(at64.accepted, "64 locks must be accepted");
    const at65 = await probe(65);
    if (!at65.accepted) {
      assert.match(at65.error, TOO_MANY_LOCKS);
      limit = 64;
    } else {
      const at128 = await probe(128);
      assert.ok(at128.accepted, "65 locks accepted, so 128 must be too");
      const at129 = await probe(129);
      assert.ok(!at129.accepted, "129 locks must be refused");
      assert.match(at129.error, TOO_MANY_LOCKS);
      limit = 128;
    }
    const raised = await featureActive(c, INCREASE_TX_ACCOUNT_LOCK_LIMIT);
    t.diagnostic(`measured account-lock limit: ${limit}; increase_tx_account_lock_limit `
      + `${raised ? "active" : "inactive"} on this validator; clients use MAX_TX_ACCOUNT_LOCKS = ${MAX_TX_ACCOUNT_LOCKS}`);
    // The runtime's limit is 64, or 128 once the feature is active (solana-test-validator activates every
    // feature unless told otherwise; mainnet-beta runs without it): the measurement follows the gate.
    assert.equal(limit, raised ? 128 : 64, "the measured limit follows increase_tx_account_lock_limit");
    // The clients' constant is the limit without the feature: what every cluster accepts.
    if (!raised) assert.equal(limit, MAX_TX_ACCOUNT_LOCKS, "the clients' MAX_TX_ACCOUNT_LOCKS is the runtime's limit");
    assert.ok(MAX_TX_ACCOUNT_LOCKS <= limit, "the clients never build a transaction this runtime refuses for its locks");
  });
});
