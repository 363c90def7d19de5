/**
 * Test oracles: Pyth `PriceUpdateV2` accounts (owned by the Pyth receiver,
 * fully verified) at fixed addresses, so the same accounts can be preloaded
 * into a real `solana-test-validator` (`--account`, see scripts/localnet) and
 * written into LiteSVM.
 *
 * Fresh feeds carry a publish time far in the future: the program counts a
 * future publish time as age 0, so they stay fresh against a real validator's
 * wall clock. (A stale price needs a clock the test controls: the SVM's.)
 *
 * `tests/fixtures/oracles/` holds the same accounts as validator account files
 * (`--account`, Anchor.toml's `[[test.validator.account]]`), written by
 * `node --import tsx tests/support/pyth.ts tests/fixtures/oracles`; a test
 * checks they match this module. They include `WIRE_FEEDS`, twelve $1 oracles
 * of tests/wire.test.ts's extra banks.
 */
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Keypair, PublicKey } from "@solana/web3.js";
import { PYTH_RECEIVER_PROGRAM_ID } from "../../app/src/pda.ts";

/** A feed's quote: `price · 10^exponent ± conf · 10^exponent` USD. */
export interface PythQuote {
  price: bigint;
  conf: bigint;
  exponent: number;
  publishTime: bigint;
}

export const FRESH_PUBLISH_TIME = 4_102_444_800n; // 2100-01-01

/** Pyth feed ids (hex): the real ones for USDC, SOL, BTC, ETH. */
export const FEED_IDS = {
  usdc: "eaa020c61cc479712813461ce153894a96a6c00b21ed0cfc2798d1f9a9e9c94a",
  sol: "ef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d",
  btc: "e62df6c8b4a85fe1a67db44dc12de5db330f7ac66b72dc658afedf0f4a415b43",
  eth: "ff61491a931112ddf1bd8147cd1b641375f79f5825126d665480874634fd0ace",
} as const;

/** The test oracles: name → feed and starting quote. */
export const TEST_FEEDS = {
  usdc: { feed: FEED_IDS.usdc, quote: { price: 100_000_000n, conf: 0n, exponent: -8, publishTime: FRESH_PUBLISH_TIME } },
  sol: { feed: FEED_IDS.sol, quote: { price: 15_000_000_000n, conf: 10_000_000n, exponent: -8, publishTime: FRESH_PUBLISH_TIME } },
  btc: { feed: FEED_IDS.btc, quote: { price: 6_000_000_000_000n, conf: 1_000_000_000n, exponent: -8, publishTime: FRESH_PUBLISH_TIME } },
  eth: { feed: FEED_IDS.eth, quote: { price: 300_000_000_000n, conf: 100_000_000n, exponent: -8, publishTime: FRESH_PUBLISH_TIME } },
} as const satisfies Record<string, { feed: string; quote: PythQuote }>;

export type TestFeed = keyof typeof TEST_FEEDS;

/** $1 with 6 decimals of exponent -8, fresh. */
const ONE_DOLLAR: PythQuote = { price: 100_000_000n, conf: 0n, exponent: -8, publishTime: FRESH_PUBLISH_TIME };

/**
 * The oracles of tests/wire.test.ts's banks 4..15 (`x4`..`x15`): $1, each on a
 * feed id of its own. Not test feeds: no other harness or check needs them,
 * but they are preloaded like them, so the 16-position tests run on a real
 * validator too.
 */
export const WIRE_FEEDS: Record<string, { feed: string; quote: PythQuote }> = Object.fromEntries(
  Array.from({ length: 12 }, (_, i) => i + 4).map((t) => [`x${t}`, {
    feed: createHash("sha256").update(`xmargin-wire-test-feed:${t}`).digest("hex"), quote: ONE_DOLLAR,
  }]),
);

/** Every preloaded oracle: the test feeds and the wire test's. */
export const PRELOADED_FEEDS: Record<string, { feed: string; quote: PythQuote }> = { ...TEST_FEEDS, ...WIRE_FEEDS };

/** Fixed address of a test oracle account (a key derived from its name). */
export function oracleAddress(name: string): PublicKey {
  const seed = createHash("sha256").update(`xmargin-test-oracle:${name}`).digest();
  return Keypair.fromSeed(seed).publicKey;
}

export function feedIdBytes(hex: string): number[] {
  return Array.from(Buffer.from(hex, "hex"));
}

const PRICE_UPDATE_V2_DISCRIMINATOR = createHash("sha256").update("account:PriceUpdateV2").digest().subarray(0, 8);
/** `PriceUpdateV2::LEN` (the size the receiver allocates). */
export const PRICE_UPDATE_V2_LEN = 134;

/** `PriceUpdateV2` bytes: discriminator, write authority, Full verification, price message, posted slot. */
export function priceUpdateV2(feedHex: string, q: PythQuote, verified = true): Buffer {
  const b = Buffer.alloc(PRICE_UPDATE_V2_LEN);
  let o = 0;
  PRICE_UPDATE_V2_DISCRIMINATOR.copy(b, o); o += 8;
  o += 32; // write authority
  if (verified) { b.writeUInt8(1, o); o += 1; } // VerificationLevel::Full
  else { b.writeUInt8(0, o); b.writeUInt8(3, o + 1); o += 2; } // Partial { num_signatures: 3 }
  Buffer.from(feedHex, "hex").copy(b, o); o += 32;
  b.writeBigInt64LE(q.price, o); o += 8;
  b.writeBigUInt64LE(q.conf, o); o += 8;
  b.writeInt32LE(q.exponent, o); o += 4;
  b.writeBigInt64LE(q.publishTime, o); o += 8;
  b.writeBigInt64LE(q.publishTime, o); o += 8; // prev publish time
  b.writeBigInt64LE(q.price, o); o += 8; // ema price
  b.writeBigUInt64LE(q.conf, o); o += 8; // ema conf
  b.writeBigUInt64LE(1n, o); // posted slot
  return b;
}

/** Rent-exempt lamports for a `PriceUpdateV2` (fixed: (128 + 134) · 6,960). */
export const PRICE_UPDATE_V2_LAMPORTS = (128 + PRICE_UPDATE_V2_LEN) * 6_960;

/** One account file in `solana-test-validator --account` format. */
export function validatorAccountJson(address: PublicKey, data: Buffer): string {
  return JSON.stringify({
    pubkey: address.toBase58(),
    account: {
      lamports: PRICE_UPDATE_V2_LAMPORTS, data: [data.toString("base64"), "base64"],
      owner: PYTH_RECEIVER_PROGRAM_ID.toBase58(), executable: false, rentEpoch: 0, space: data.length,
    },
  });
}

if (process.argv[1] && process.argv[1].endsWith("pyth.ts") && process.argv[2]) {
  const dir = process.argv[2];
  mkdirSync(dir, { recursive: true });
  const args: string[] = [];
  for (const [name, { feed, quote }] of Object.entries(PRELOADED_FEEDS)) {
    const address = oracleAddress(name);
    const file = join(dir, `oracle-${name}.json`);
    writeFileSync(file, validatorAccountJson(address, priceUpdateV2(feed, quote)) + "\n");
    args.push("--account", address.toBase58(), file);
  }
  console.log(args.join(" "));
}
