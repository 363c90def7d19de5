/**
 * The client's health estimate (app/src/estimate.ts over app/src/health.ts)
 * equals the program's `compute_health` on live accounts: deposits only,
 * several collateral and debt tokens, size-scaled weights, a tightened bank,
 * and (SVM) a stale asset valued at zero. tests/health.test.ts proves the same
 * bit for bit on fixtures the Rust engine writes.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { BN } from "@anchor-lang/core";
import type { PublicKey } from "@solana/web3.js";
import { clusterTime, estimateAccountHealth } from "../app/src/estimate.ts";
import { healthBand, toQuoteNative } from "../app/src/health.ts";
import { assertProgramFresh, type Harness, isSvm, makeHarness } from "./support/harness.ts";
import { TEST_FEEDS } from "./support/pyth.ts";
import { defaultRisk, TOKEN_INDEX, type User, World } from "./support/world.ts";

const SOL = 1_000_000_000n;
const USDC = 1_000_000n;
const BANDS = ["healthy", "marginCall", "liquidatable"];

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

async function assertEstimateMatches(account: PublicKey, label: string): Promise<void> {
  const { view } = await w.health(account);
  const est = await estimateAccountHealth(w.client, account);
  const n = (v: BN) => BigInt(v.toString());
  assert.equal(toQuoteNative(est.init), n(view.init), `${label}: Init`);
  assert.equal(toQuoteNative(est.maint), n(view.maint), `${label}: Maint`);
  assert.equal(toQuoteNative(est.liqEnd), n(view.liquidationEnd), `${label}: LiquidationEnd`);
  assert.equal(healthBand(est), BANDS[view.band], `${label}: band`);
}

describe("client health estimate = compute_health", () => {
  test("deposits, multi-token debts", async () => {
    for (const [i, u] of users.entries()) await assertEstimateMatches(u.account, `user ${i}`);
  });

  test("size-scaled weights and a tightened bank", async () => {
    // SOL deposits above 10,000 USDC of value scale SOL's Init asset weight down; ETH borrows above
    // 1,000 USDC scale ETH's Init liability weight up (tightening: at once).
    await w.send([await w.client.updateBankIx({ admin: w.admin.publicKey, tokenIndex: TOKEN_INDEX.sol,
      risk: { ...defaultRisk(), depositWeightScaleStart: new BN(10_000n * USDC), maintAssetWeightBps: 8_800 } })], [w.admin]);
    await w.send([await w.client.updateBankIx({ admin: w.admin.publicKey, tokenIndex: TOKEN_INDEX.eth,
      risk: { ...defaultRisk(), borrowWeightScaleStart: new BN(1_000n * USDC) } })], [w.admin]);
    for (const [i, u] of users.entries()) await assertEstimateMatches(u.account, `scaled, user ${i}`);
  });

  test("a stale asset counts zero on both sides (SVM clock)", async (t) => {
    if (!isSvm(h)) {
      t.skip("needs a clock the test controls");
      return;
    }
    h.setOracle("btc", { ...TEST_FEEDS.btc.quote, publishTime: (await clusterTime(w.client)) - 61n });
    try {
      await assertEstimateMatches(users[2].account, "stale BTC collateral");
    } finally {
      h.setOracle("btc", TEST_FEEDS.btc.quote);
    }
  });
});
