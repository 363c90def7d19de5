/**
 * migrations/deploy.ts's logic (app/src/deploy.ts): a config deploys a group
 * and its banks; a second run changes nothing; `update` re-applies parameters;
 * a config that contradicts the chain is refused; the group's lookup table is
 * created after the banks and extended when a market is listed.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { before, test } from "node:test";
import { createInitializeMint2Instruction, MINT_SIZE, TOKEN_PROGRAM_ID } from "@solana/spl-token";
import { Keypair, SystemProgram } from "@solana/web3.js";
import {
  clusterTime, type DeployConfig, DeployMismatchError, deploy, fetchLookupTable, groupLookupTableAddresses, marketName,
  missingAddresses, type OptionSeriesConfig, planOptionSeries, pythFeedAccount, XmarginClient,
} from "@xmargin/client";
import { bankAddress } from "../app/src/pda.ts";
import { assertProgramFresh, type Harness, makeHarness } from "./support/harness.ts";
import { FEED_IDS, oracleAddress } from "./support/pyth.ts";
import { solPerpArgs } from "./support/world.ts";

let h: Harness;
let config: DeployConfig;
let shippedSeries: OptionSeriesConfig[];

before(async () => {
  assertProgramFresh();
  h = await makeHarness();
  // The shipped config's parameters, on fresh mints and the test oracles (a fresh wallet: a fresh group).
  const shipped = JSON.parse(readFileSync(join(__dirname, "../migrations/config.json"), "utf8")) as DeployConfig;
  const rent = await h.provider.connection.getMinimumBalanceForRentExemption(MINT_SIZE);
  const mints = [Keypair.generate(), Keypair.generate(), Keypair.generate()];
  await h.send(mints.flatMap((m, i) => [
    SystemProgram.createAccount({ fromPubkey: h.payer.publicKey, newAccountPubkey: m.publicKey, space: MINT_SIZE, lamports: rent,
      programId: TOKEN_PROGRAM_ID }),
    createInitializeMint2Instruction(m.publicKey, [6, 9, 8][i], h.payer.publicKey, null),
  ]), mints);
  const oracles = [oracleAddress("usdc"), oracleAddress("sol"), oracleAddress("btc")];
  shippedSeries = shipped.optionSeries ?? [];
  config = { ...shipped, groupNum: Math.floor(Math.random() * 1e9), quoteMint: mints[0].publicKey.toBase58(),
    banks: shipped.banks.map((b, i) => ({ ...b, mint: mints[i].publicKey.toBase58(), oracle: oracles[i].toBase58() })),
    optionSeries: [] };
});

test("deploys once, then changes nothing; update re-applies; contradictions are refused", async () => {
  const first = await deploy(h.provider, config);
  assert.deepEqual(first.created, ["group", "USDC", "SOL", "wBTC"]);
  assert.ok(first.lookupTable && first.lookupTableCreated, "the lookup table is created after the banks");
  const client = new XmarginClient(h.provider, first.group);
  await client.loadBanks();
  const table = await fetchLookupTable(h.provider.connection, first.lookupTable);
  assert.ok(table);
  assert.equal(table.state.addresses.length, 7 + 3 * 3, "group, insurance vault, 5 programs; bank, oracle, vault of each bank");
  assert.deepEqual(missingAddresses(table, groupLookupTableAddresses(client)), []);
  const banks = [0, 1, 2].map((i) => bankAddress(first.group, i));
  const snapshot = await Promise.all([first.group, ...banks].map((k) => h.getAccount(k)));

  const second = await deploy(h.provider, config);
  assert.deepEqual(second.created, []);
  assert.deepEqual(second.unchanged, ["group", "USDC", "SOL", "wBTC"]);
  assert.ok(second.lookupTable?.equals(first.lookupTable) && !second.lookupTableCreated && second.lookupTableAdded === 0,
    "the same table is found again (its authority, holding the group) and nothing is added");
  const after = await Promise.all([first.group, ...banks].map((k) => h.getAccount(k)));
  after.forEach((a, i) => assert.ok(a && snapshot[i] && a.data.equals(snapshot[i]!.data), "nothing changed"));

  const updated = await deploy(h.provider, config, { update: true });
  assert.deepEqual(updated.updated, ["USDC", "SOL", "wBTC"]);

  // A market listed: the next run (the table pinned in the config) adds the market; its oracle is SOL's, already there.
  await h.send([await client.addMarketIx({ admin: h.payer.publicKey, payer: h.payer.publicKey, underlyingTokenIndex: 1,
    args: solPerpArgs(0) })]);
  const pinned = await deploy(h.provider, { ...config, lookupTable: first.lookupTable.toBase58() });
  assert.ok(pinned.lookupTable?.equals(first.lookupTable));
  assert.equal(pinned.lookupTableAdded, 1);
  await client.loadMarkets();
  const extended = await fetchLookupTable(h.provider.connection, first.lookupTable);
  assert.ok(extended && missingAddresses(extended, groupLookupTableAddresses(client)).length === 0);

  await assert.rejects(deploy(h.provider, { ...config, quoteMint: config.banks[1].mint }), DeployMismatchError);
  const swapped = { ...config, banks: [config.banks[1], config.banks[0], config.banks[2]] };
  await assert.rejects(deploy(h.provider, swapped), DeployMismatchError);
});

test("option series: listed at deploy with their first risk arrays, the table extended; a re-run lists nothing", async () => {
  assert.equal(shippedSeries.length, 1, "the shipped config lists a SOL series");
  const [sol] = shippedSeries;
  assert.deepEqual(planOptionSeries(sol, 9, 6).map((o) => o.name).slice(0, 3), ["SOL-150C-270101", "SOL-150P-270101", "SOL-200C-270101"]);
  // The shipped terms on a fresh group, expiries relative to the cluster's clock: 2 strikes × 2 expiries × 2 kinds,
  // one expiry already past (skipped).
  const probe = new XmarginClient(h.provider, (await deploy(h.provider, { ...config, groupNum: config.groupNum + 1 })).group);
  const now = await clusterTime(probe);
  const series: OptionSeriesConfig = { ...sol, strikes: ["1500000", "1650000"], expiries: [Number(now) + 30 * 86_400,
    Number(now) + 60 * 86_400, Number(now) - 86_400] };
  const withOptions = { ...config, groupNum: config.groupNum + 1, optionSeries: [series] };
  const first = await deploy(h.provider, withOptions);
  assert.equal(first.created.length, 8, `${first.created}`);
  assert.equal(first.skipped.length, 4, "the past expiry");
  assert.ok(first.lookupTable && first.lookupTableAdded === 8, "each new market in the table (their oracle is SOL's)");
  const client = new XmarginClient(h.provider, first.group);
  await client.loadBanks();
  const markets = await client.loadMarkets();
  assert.equal(markets.size, 8);
  for (const [i, m] of markets) {
    assert.equal(marketName(m.data), first.created[i]);
    assert.equal(m.data.kind, 2);
    assert.ok(BigInt(m.data.riskArray.computedAt.toString()) > 0n, `${first.created[i]}: risk array computed`);
  }
  const table = await fetchLookupTable(h.provider.connection, first.lookupTable);
  assert.ok(table && missingAddresses(table, groupLookupTableAddresses(client)).length === 0);
  const again = await deploy(h.provider, withOptions);
  assert.deepEqual([again.created, again.lookupTableAdded], [[], 0]);
  assert.equal(again.unchanged.filter((n) => n.startsWith("SOL-")).length, 8);
});

test("the sponsored Pyth account is derived from the feed id and shard", () => {
  const a = pythFeedAccount(FEED_IDS.sol, 0);
  assert.ok(!a.equals(pythFeedAccount(FEED_IDS.sol, 1)));
  assert.ok(a.equals(pythFeedAccount(`0x${FEED_IDS.sol}`, 0)));
  // Mainnet's sponsored USDC/USD feed account.
  assert.equal(pythFeedAccount(FEED_IDS.usdc).toBase58(), "Dpw1EAVrSB1ibxiDQyTAW6Zip3J4Btk2x4SgApQCeFbX");
});
