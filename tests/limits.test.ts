/**
 * `maxWithdraw` / `maxBorrow` (app/src/limits.ts, the risk engine's
 * `HealthCache::max_withdraw`/`max_borrow` ported): the engine's documented
 * example (10 SOL at $150.00 ± 0.10, Init weight 0.8: 1,199.199999 USDC of
 * borrowing, crates/risk/src/lib.rs), and the program agreeing: the maximum
 * withdraws, one native unit more fails with `HealthTooLow`. On the SVM's
 * fixed clock: on a real cluster interest accrues between the estimate and
 * the send, and a maximum to the unit is a race.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { accountWithdrawLimits } from "../app/src/limits.ts";
import { assertProgramFresh, type Harness, isSvm, makeHarness } from "./support/harness.ts";
import { expectError, TOKEN_INDEX, type User, World } from "./support/world.ts";

const SOL = 1_000_000_000n;
const USDC = 1_000_000n;

let h: Harness;
let w: World;
let lender: User;

before(async () => {
  assertProgramFresh();
  h = await makeHarness();
  if (!isSvm(h)) return;
  w = await World.create(h);
  lender = await w.user({ usdc: 20_000n * USDC, sol: 100n * SOL });
  await w.deposit(lender, "usdc", 20_000n * USDC);
  await w.deposit(lender, "sol", 100n * SOL);
});

describe("max withdraw and max borrow", () => {
  test("10 SOL borrow 1,199.199999 USDC, as the engine's example says; one more unit fails", async (t) => {
    if (!isSvm(h)) return t.skip("needs the SVM's fixed clock");
    const u = await w.user({ sol: 10n * SOL });
    await w.deposit(u, "sol", 10n * SOL);
    const usdc = await accountWithdrawLimits(w.client, u.account, TOKEN_INDEX.usdc);
    assert.deepEqual(usdc, { maxWithdraw: 1_199_199_999n, maxBorrow: 1_199_199_999n });
    const sol = await accountWithdrawLimits(w.client, u.account, TOKEN_INDEX.sol);
    // SOL is all of its Init health: the engine's two ulps of slack keep the last lamport.
    assert.deepEqual(sol, { maxWithdraw: 10n * SOL - 1n, maxBorrow: 0n });

    await expectError(h, "HealthTooLow", [u.account], () => w.withdraw(u, "usdc", usdc.maxBorrow + 1n));
    await w.withdraw(u, "usdc", usdc.maxBorrow);
    const health = await w.health(u.account);
    assert.ok(BigInt(health.view.init.toString()) >= 0n && BigInt(health.view.init.toString()) <= 1n,
      `Init health after the largest borrow: ${health.view.init.toString()}`);
    const after = await accountWithdrawLimits(w.client, u.account, TOKEN_INDEX.sol);
    // What is left of Init health is under one micro-USDC: a few lamports (0.12 µUSDC of Init each).
    assert.equal(after.maxBorrow, 0n);
    assert.ok(after.maxWithdraw < 10n, `SOL withdrawable after the largest borrow: ${after.maxWithdraw}`);
    await w.withdraw(u, "sol", after.maxWithdraw);
  });

  test("a deposit and then a borrow of the same token: the program takes the maximum, not one unit more", async (t) => {
    if (!isSvm(h)) return t.skip("needs the SVM's fixed clock");
    const u = await w.user({ sol: 10n * SOL, usdc: 500n * USDC });
    await w.deposit(u, "sol", 10n * SOL);
    await w.deposit(u, "usdc", 500n * USDC);
    const sol = await accountWithdrawLimits(w.client, u.account, TOKEN_INDEX.sol);
    assert.ok(sol.maxWithdraw > 10n * SOL && sol.maxBorrow === sol.maxWithdraw - 10n * SOL);
    await expectError(h, "HealthTooLow", [u.account], () => w.withdraw(u, "sol", sol.maxWithdraw + 1n));
    await w.withdraw(u, "sol", sol.maxWithdraw);
    assert.equal(await w.nativeBalance(u.account, "sol"), -sol.maxBorrow);
  });
});
