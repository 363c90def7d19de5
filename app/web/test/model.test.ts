/**
 * The dashboard's data layer (app/web/src/model.ts) without a browser: on the
 * in-process SVM (or the validator, under scripts/web-test), the group view
 * and the account view of the scenario's accounts agree with the program —
 * `compute_health`, the bank totals, `maxWithdraw` taken by `withdraw`.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { SYSVAR_CLOCK_PUBKEY } from "@solana/web3.js";
import { computeHealth } from "../../src/view.ts";
import { type Harness, makeHarness } from "../../../tests/support/harness.ts";
import { expectError, TOKEN_INDEX } from "../../../tests/support/world.ts";
import { accountsOverview, healthCurve, listGroups, loadAccount, loadGroup, type GroupModel } from "../src/model.ts";
import { type Scenario, setupScenario } from "./scenario.ts";

let h: Harness;
let s: Scenario;
let g: GroupModel;

async function clock(): Promise<bigint> {
  const info = await h.provider.connection.getAccountInfo(SYSVAR_CLOCK_PUBKEY);
  return info!.data.readBigInt64LE(32);
}

test("no browser source imports node: or another Node built-in", () => {
  const dir = join(__dirname, "../src");
  const builtins = /from\s+"(node:[^"]+|fs|path|os|crypto|http|https|net|child_process|stream|util)"/;
  for (const f of readdirSync(dir)) {
    const text = readFileSync(join(dir, f), "utf8");
    assert.ok(!builtins.test(text), `app/web/src/${f} imports a Node built-in`);
  }
});

describe("dashboard model", { timeout: 300_000 }, () => {
  before(async () => {
    h = await makeHarness();
    s = await setupScenario(h);
    g = await loadGroup(h.provider.connection, s.group);
  });

  test("the group is listed, with its four banks, the perpetual and the insurance vault", async () => {
    const groups = await listGroups(h.provider.connection);
    assert.ok(groups.some((x) => x.address.equals(s.group)));
    assert.deepEqual(g.banks.map((b) => b.symbol), ["USDC", "SOL", "BTC", "ETH"]);
    assert.deepEqual(g.banks.map((b) => b.oracle.price), [1, 150, 60_000, 3_000]);
    const usdc = g.banks[0];
    assert.ok(usdc.isQuote);
    assert.equal(usdc.borrows >= 85_300_000_000n, true, "300 + 40,000 + 45,000 USDC borrowed");
    assert.ok(usdc.utilization > 0.08 && usdc.utilization < 0.09, `utilization ${usdc.utilization}`);
    assert.ok(usdc.borrowRate > 0 && usdc.depositRate > 0 && usdc.depositRate < usdc.borrowRate);
    assert.equal(g.markets.length, 1);
    assert.equal(g.markets[0].name, "SOL-PERP");
    assert.ok(g.markets[0].openInterest > 0n);
    assert.ok(Math.abs(g.banks[2].weights.maintAsset - 0.7) < 1e-9, "BTC tightened to 0.7");
  });

  test("accounts overview: one account per band", async () => {
    const list = await accountsOverview(g);
    const band = (k: keyof Scenario) => list.find((a) => a.address.equals((s[k] as { account: typeof s.group }).account))?.band;
    assert.equal(band("healthy"), "healthy");
    assert.equal(band("marginCall"), "marginCall");
    assert.equal(band("liquidatable"), "liquidatable");
  });

  for (const which of ["healthy", "marginCall", "liquidatable"] as const) {
    test(`account view of the ${which} account equals compute_health`, async () => {
      for (let attempt = 0; attempt < 10; attempt++) {
        const a = await loadAccount(await loadGroup(h.provider.connection, s.group), s[which].account);
        const on = await computeHealth(s.world.client, s[which].account);
        if (a.now !== (await clock())) continue;
        assert.deepEqual(a.health, { init: on.init, maint: on.maint, liqEnd: on.liquidationEnd });
        assert.equal(a.band, on.bandName);
        assert.equal(a.band, which);
        const curve = healthCurve(a, g, TOKEN_INDEX[which === "healthy" ? "sol" : "btc"]);
        assert.equal(curve.error, null);
        assert.equal(curve.samples.length, 61);
        assert.ok(curve.samples[0].health < curve.samples[60].health, "more collateral value, more health");
        return;
      }
      assert.fail("never read the same clock second");
    });
  }

  test("max withdraw and a liquidation price for the healthy account's SOL", async () => {
    const a = await loadAccount(g, s.healthy.account);
    const sol = a.limits.find((l) => l.bank.symbol === "SOL")!;
    assert.ok(sol.maxWithdraw !== null && sol.maxWithdraw > 0n);
    assert.ok(typeof sol.liquidationPrice === "bigint", "a SOL liquidation price");
  });

  test("max withdraw is what withdraw takes, one unit more is refused (SVM: a fixed clock)", async (t) => {
    // On a validator the amount moves with the clock between the read and the send (the debt projection).
    if (h.mode !== "svm") { t.skip("needs the SVM's fixed clock"); return; }
    const a = await loadAccount(g, s.healthy.account);
    const sol = a.limits.find((l) => l.bank.symbol === "SOL")!;
    await expectError(h, "HealthTooLow", [s.healthy.account], () => s.world.withdraw(s.healthy, "sol", sol.maxWithdraw! + 1n));
    await s.world.withdraw(s.healthy, "sol", sol.maxWithdraw!);
  });
});
