/**
 * The committed validator account files (tests/fixtures/oracles, preloaded by
 * scripts/localnet and Anchor.toml) are exactly the test oracles of
 * tests/support/pyth.ts (the test feeds and the wire test's twelve), and parse
 * as the program expects.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { PYTH_RECEIVER_PROGRAM_ID } from "../app/src/pda.ts";
import { oracleAddress, PRELOADED_FEEDS, priceUpdateV2, TEST_FEEDS, validatorAccountJson, WIRE_FEEDS } from "./support/pyth.ts";

test("committed oracle account files match the test oracles", () => {
  const anchorToml = readFileSync(join(__dirname, "../Anchor.toml"), "utf8");
  assert.equal(Object.keys(WIRE_FEEDS).length, 12, "x4..x15");
  assert.equal(new Set(Object.values(PRELOADED_FEEDS).map((f) => f.feed)).size, 4 + 12, "a feed id each");
  assert.ok(Object.keys(WIRE_FEEDS).every((n) => !(n in TEST_FEEDS)), "the wire feeds are not test feeds");
  for (const [name, { feed, quote }] of Object.entries(PRELOADED_FEEDS)) {
    const file = join(__dirname, "fixtures/oracles", `oracle-${name}.json`);
    const expected = validatorAccountJson(oracleAddress(name), priceUpdateV2(feed, quote)) + "\n";
    assert.equal(readFileSync(file, "utf8"), expected,
      `${file} is stale: run node --import tsx tests/support/pyth.ts tests/fixtures/oracles`);
    const parsed = JSON.parse(expected) as { account: { owner: string; data: [string, string] } };
    assert.equal(parsed.account.owner, PYTH_RECEIVER_PROGRAM_ID.toBase58());
    const data = Buffer.from(parsed.account.data[0], "base64");
    assert.equal(data.readUInt8(40), 1, "fully verified");
    assert.equal(data.subarray(41, 73).toString("hex"), feed);
    assert.equal(data.readBigInt64LE(73), quote.price);
    assert.ok(anchorToml.includes(`address = "${oracleAddress(name).toBase58()}"`), `Anchor.toml preloads ${name}`);
  }
});
