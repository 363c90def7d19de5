/**
 * The client's health estimate (app/src/estimate.ts over app/src/health.ts)
 * equals the program's `compute_health` on live accounts: deposits only,
 * several collateral and debt tokens, size-scaled weights, a tightened bank,
 * (SVM) a stale asset valued at zero, and accounts with perpetual positions
 * (long against the lender, short hedging a SOL deposit; a stale market
 * refused by both). tests/health.test.ts proves the same bit for bit on
 * fixtures the Rust engine writes; tests/markets.test.ts along a trading story.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { BN } from "@anchor-lang/core";
import { clusterTime, estimateAccountHealth } from "../app/src/estimate.ts";
import { programErrorOf } from "../app/src/health.ts";
import { assertProgramFresh, type Harness, isSvm, makeHarness, TxFailure } from "./support/harness.ts";
import { TEST_FEEDS } from "./support/pyth.ts";
import { defaultRisk, errorCode, solPerpArgs, TOKEN_INDEX, type User, World } from "./support/world.ts";

const SOL = 1_000_000_000n;
const USDC = 1_000_000n;

let h: Harness;
let w: World;
let users: User[];

before(async () => {
  assertProgramFresh();
  h = await makeHarness();
  w = await World.create(h);
  const lender = await w.user({ usdc: 100_000n * USDC, eth: 1_000_000_000n, sol: 1_000n * SOL });
  await w.deposit(lender, "usdc", 100_000n * USDC);
  await w.deposit(lender, "eth", 1_000_000_000n);
  await w.deposit(lender, "sol", 1_000n * SOL);
  const a = await w.user({ sol: 7_654_321_987n });
  await w.deposit(a, "sol", 7_654_321_987n);
  const b = await w.user({ sol: 10n * SOL, btc: 12_345_678n });
  await w.deposit(b, "sol", 10n * SOL);
  await w.deposit(b, "btc", 12_345_678n);
  await w.withdraw(b, "eth", 33_333_333n);
  await w.withdraw(b, "usdc", 2_222_222_222n);
  const c = await w.user({ btc: 1_000_000n });
  await w.deposit(c, "btc", 1_000_000n);
  await w.withdraw(c, "sol", 1_234_567_891n);
  users = [lender, a, b, c];
});


describe("client health estimate = compute_health", () => {
  test("deposits, multi-token debts", async () => {
    for (const [i, u] of users.entries()) await w.assertEstimateMatches(u.account, `user ${i}`);
  });

  test("size-scaled weights and a tightened bank", async () => {
    // SOL deposits above 10,000 USDC of value scale SOL's Init asset weight down; ETH borrows above
    // 1,000 USDC scale ETH's Init liability weight up (tightening: at once).
    await w.send([await w.client.updateBankIx({ admin: w.admin.publicKey, tokenIndex: TOKEN_INDEX.sol,
      risk: { ...defaultRisk(), depositWeightScaleStart: new BN(10_000n * USDC), maintAssetWeightBps: 8_800 } })], [w.admin]);
    await w.send([await w.client.updateBankIx({ admin: w.admin.publicKey, tokenIndex: TOKEN_INDEX.eth,
      risk: { ...defaultRisk(), borrowWeightScaleStart: new BN(1_000n * USDC) } })], [w.admin]);
    for (const [i, u] of users.entries()) await w.assertEstimateMatches(u.account, `scaled, user ${i}`);
  });

  test("perpetual positions: a long, a short hedging a SOL deposit, the lender's", async () => {
    await w.addMarket(solPerpArgs(0));
    const [lender, a, b] = users;
    // a (7.65 SOL deposited, worth ~60 USDC of Init since SOL's weight is size-scaled above) sells
    // 50 contracts (0.5 SOL) to the lender at $150.00; b buys 12 from a at $151.23.
    await w.trade(0, lender, a, 50n, 1_500_000n);
    await w.trade(0, b, a, 12n, 1_512_300n);
    for (const [i, u] of users.entries()) await w.assertEstimateMatches(u.account, `with perps, user ${i}`);
  });

  test("a stale asset counts zero on both sides (SVM clock)", async (t) => {
    if (!isSvm(h)) {
      t.skip("needs a clock the test controls");
      return;
    }
    h.setOracle("btc", { ...TEST_FEEDS.btc.quote, publishTime: (await clusterTime(w.client)) - 61n });
    try {
      await w.assertEstimateMatches(users[2].account, "stale BTC collateral");
    } finally {
      h.setOracle("btc", TEST_FEEDS.btc.quote);
    }
  });

  test("a stale market oracle: compute_health and the estimate both refuse with OracleStale (SVM clock)", async (t) => {
    if (!isSvm(h)) {
      t.skip("needs a clock the test controls");
      return;
    }
    const account = users[1].account;
    const fresh = await estimateAccountHealth(w.client, account);
    h.setOracle("sol", { ...TEST_FEEDS.sol.quote, publishTime: (await clusterTime(w.client)) - 61n });
    try {
      // a's SOL deposit alone would count zero; its short perpetual on the same oracle cannot be valued.
      await assert.rejects(w.health(account), (e: unknown) =>
        e instanceof TxFailure && e.customCode === errorCode("OracleStale"));
      await assert.rejects(estimateAccountHealth(w.client, account), (e: unknown) => programErrorOf(e) === "OracleStale");
      // Under the fallback rules of a liquidation (and keeper ranking) the estimate values it: the SOL
      // deposit at zero, the short at the higher of its last price and the stable price; lower than fresh.
      const fallback = await estimateAccountHealth(w.client, account, undefined, { unpricedLiability: "fallback" });
      assert.ok(fallback.maint < fresh.maint && fallback.liqEnd < fresh.liqEnd);
    } finally {
      h.setOracle("sol", TEST_FEEDS.sol.quote);
    }
  });
});
