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
import { BN } from "@anchor-lang/core";
import { SYSVAR_CLOCK_PUBKEY } from "@solana/web3.js";
import { computeHealth } from "../../src/view.ts";
import { fixedRaw, riskArrayFreshness, RISK_ARRAY_MAX_AGE_SECS } from "../../src/index.ts";
import { type Harness, isSvm, makeHarness } from "../../../tests/support/harness.ts";
import { expectError, TOKEN_INDEX } from "../../../tests/support/world.ts";
import { accountsOverview, healthCurve, listGroups, loadAccount, loadGroup, type GroupModel } from "../src/model.ts";
import { MARKETS, type Scenario, setupScenario } from "./scenario.ts";

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
    assert.deepEqual(g.markets.map((m) => [m.name, m.kindLabel, m.state]),
      [["SOL-PERP", "perp", "active"], ["SOL-FUT", "future", "active"], ["SOL-CALL", "call", "active"]]);
    assert.ok(g.markets[0].openInterest > 0n);
    assert.ok(Math.abs(g.banks[2].weights.maintAsset - 0.7) < 1e-9, "BTC tightened to 0.7");
  });

  test("the markets as decoded from the chain: open interest, funding, the call's terms, model value and fresh array", async () => {
    const client = s.world.client;
    for (const m of g.markets) {
      const d = await client.program.account.market.fetch(client.market(m.marketIndex).address);
      assert.equal(m.openInterest, BigInt(d.openInterest.toString()), m.name);
      assert.equal(m.lastFundingTs, Number(d.lastFundingTs.toString()));
      assert.equal(m.expiryTs, Number(d.expiryTs.toString()));
      assert.equal(m.oracle.price, 150, "the SOL test oracle");
    }
    assert.equal(g.markets[MARKETS.perp].openInterest, 20n);
    const call = g.markets[MARKETS.call];
    const d = await client.program.account.market.fetch(call.address);
    assert.ok(call.option);
    assert.equal(call.option.isCall, true);
    assert.ok(Math.abs(call.option.strike - 165) < 1e-6, `strike ${call.option.strike}`);
    assert.equal(call.option.strikePerContract, 1_650_000n);
    assert.ok(Math.abs(call.option.volatility - 0.6) < 1e-9);
    assert.equal(call.option.valuePerContract, (fixedRaw(d.riskArray.value) * BigInt(d.contractSize.toString())) >> 48n);
    assert.ok(call.option.valuePerContract > 0n);
    assert.equal(call.option.arrayComputedAt, Number(d.riskArray.computedAt.toString()));
    assert.equal(call.option.freshness, "fresh");
    assert.equal(call.openInterest, 10n);
  });

  test("risk-array freshness follows the program's rule: age, drift, volatility, grid", async () => {
    const call = g.markets[MARKETS.call];
    const d = call.data;
    const at = BigInt(d.riskArray.computedAt.toString());
    const spot = fixedRaw(d.riskArray.spot);
    assert.equal(riskArrayFreshness(d, at + RISK_ARRAY_MAX_AGE_SECS, spot), "fresh");
    assert.equal(riskArrayFreshness(d, at + RISK_ARRAY_MAX_AGE_SECS + 1n, spot), "stale");
    assert.equal(riskArrayFreshness(d, at - 1n, spot), "stale", "dated ahead of the clock");
    assert.equal(riskArrayFreshness(d, at, spot + spot / 49n), "drifted", "2.04 % up");
    assert.equal(riskArrayFreshness(d, at, spot + spot / 51n), "fresh", "1.96 % up");
    const raised = { ...d, volatility: { limbs: [d.volatility.limbs[0].addn(1), d.volatility.limbs[1]] } } as typeof d;
    assert.equal(riskArrayFreshness(raised, at, spot), "stale", "another volatility in force");
    const never = { ...d, riskArray: { ...d.riskArray, gridId: 0, scenarioCount: 0, computedAt: new BN(0) } } as typeof d;
    assert.equal(riskArrayFreshness(never, at, spot), "never");
  });

  test("the healthy account's perpetual row: the chain's contracts and cost; contributions add up to Init and Maint", async () => {
    const a = await loadAccount(g, s.healthy.account);
    const onChain = await s.world.position(s.healthy, MARKETS.perp);
    const [perp] = a.derivatives;
    assert.equal(perp.market.name, "SOL-PERP");
    assert.equal(perp.baseContracts, onChain.baseContracts);
    assert.equal(perp.baseContracts, 20n);
    assert.equal(perp.quoteCost, onChain.quoteCost);
    assert.equal(perp.realizedPnl, onChain.realizedPnl);
    assert.ok(perp.entryPrice !== null && Math.abs(perp.entryPrice - 150) < 1e-9, `entry ${perp.entryPrice}`);
    assert.equal(perp.priceSource, "oracle");
    assert.equal(perp.unrealizedPnl, perp.value! - perp.quoteCost);
    assert.ok("raw" in perp.init && "raw" in perp.maint);
    assert.equal(a.healthSource, "estimate");
    const sum = (ht: "init" | "maint") => a.positions.reduce((acc, p) => acc + (ht === "init" ? p.initRaw : p.maintRaw), 0n)
      + a.derivatives.reduce((acc, d) => acc + ((d[ht] as { raw: bigint }).raw), 0n);
    assert.equal(sum("init") >> 48n, a.health!.init);
    assert.equal(sum("maint") >> 48n, a.health!.maint);
  });

  test("the option holder: its call at the model value; health equal to compute_health, by the estimate or by compute_health itself", async () => {
    for (let attempt = 0; attempt < 10; attempt++) {
      const a = await loadAccount(await loadGroup(h.provider.connection, s.group), s.optionHolder.account);
      const on = await computeHealth(s.world.client, s.optionHolder.account);
      if (a.now !== (await clock())) continue;
      assert.deepEqual(a.health, { init: on.init, maint: on.maint, liqEnd: on.liquidationEnd });
      assert.equal(a.band, "healthy");
      const [call] = a.derivatives;
      assert.equal(call.market.name, "SOL-CALL");
      assert.equal(call.baseContracts, 10n);
      assert.equal(call.quoteCost, (await s.world.position(s.optionHolder, MARKETS.call)).quoteCost);
      assert.equal(call.priceSource, "model value");
      const m = call.market.data;
      assert.equal(call.value, (10n * BigInt(m.contractSize.toString()) * fixedRaw(m.riskArray.value) + (1n << 47n)) >> 48n);
      if (a.healthSource === "compute_health") {
        // The client's estimate cannot value the option: no contribution, the reason instead.
        assert.ok("error" in call.init && "error" in call.maint, "no contribution without the estimate");
        assert.match(a.healthNote ?? "", /could not value a position/);
      } else {
        // The estimate values options: every contribution adds up to the health.
        assert.equal(a.healthSource, "estimate");
        const sum = (ht: "init" | "maint") => a.positions.reduce((acc, p) => acc + (ht === "init" ? p.initRaw : p.maintRaw), 0n)
          + a.derivatives.reduce((acc, d) => acc + ((d[ht] as { raw: bigint }).raw), 0n);
        assert.equal(sum("init") >> 48n, a.health!.init);
        assert.equal(sum("maint") >> 48n, a.health!.maint);
      }
      console.log(`# option holder valued by ${a.healthSource}`);
      return;
    }
    assert.fail("never read the same clock second");
  });

  test("accounts overview: one account per band", async () => {
    const list = await accountsOverview(g);
    const band = (k: keyof Scenario) => list.find((a) => a.address.equals((s[k] as { account: typeof s.group }).account))?.band;
    assert.equal(band("healthy"), "healthy");
    assert.equal(band("marginCall"), "marginCall");
    assert.equal(band("liquidatable"), "liquidatable");
    const holder = list.find((a) => a.address.equals(s.optionHolder.account))!;
    assert.ok(holder.source === "compute_health" || holder.source === "estimate", `source ${holder.source}: ${holder.error}`);
    assert.equal(holder.band, "healthy");
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

  test("a portfolio-mode account (10 SOL against 10 SOL short): the estimate values its netted book as compute_health does", async () => {
    const w = s.world;
    const hedged = await w.user({ sol: 10n * 1_000_000_000n });
    await w.deposit(hedged, "sol", 10n * 1_000_000_000n);
    await w.trade(MARKETS.perp, s.lender, hedged, 1_000n, 1_500_000n);
    const ix = await w.client.setMarginModeIx({ account: hedged.account, authority: hedged.wallet.publicKey, mode: 1 });
    await w.sendFitting([ix], [hedged.wallet]);
    for (let attempt = 0; attempt < 10; attempt++) {
      const a = await loadAccount(await loadGroup(h.provider.connection, s.group), hedged.account);
      const on = await computeHealth(w.client, hedged.account);
      if (a.now !== (await clock())) continue;
      assert.equal(a.healthSource, "estimate", `${a.healthError}`);
      assert.deepEqual(a.health, { init: on.init, maint: on.maint, liqEnd: on.liquidationEnd });
      const row = (await accountsOverview(await loadGroup(h.provider.connection, s.group))).find((r) => r.address.equals(hedged.account));
      assert.deepEqual(row?.health, { init: on.init, maint: on.maint });
      return;
    }
    assert.fail("never read the same clock second");
  });

  test("ten minutes later the call's risk array shows stale, a month later the dated markets expired (SVM: last, it moves the clock)", async (t) => {
    if (!isSvm(h)) { t.skip("needs the SVM's clock"); return; }
    h.warp(RISK_ARRAY_MAX_AGE_SECS + 1n);
    const later = await loadGroup(h.provider.connection, s.group);
    const call = later.markets[MARKETS.call];
    assert.equal(call.option!.freshness, "stale");
    assert.equal(call.option!.arrayAgeSecs, Number(RISK_ARRAY_MAX_AGE_SECS) + 1);
    // The option holder with a stale array: the page's health is still the program's, and a position
    // the estimate refuses shows the reason instead of a contribution.
    const a = await loadAccount(later, s.optionHolder.account);
    const on = await computeHealth(s.world.client, s.optionHolder.account).catch((e: unknown) => e as Error);
    if (on instanceof Error) assert.ok(a.healthError, "compute_health refuses: the page says why");
    else assert.deepEqual(a.health, { init: on.init, maint: on.maint, liqEnd: on.liquidationEnd });
    const [row] = a.derivatives;
    assert.equal(row.market.option!.freshness, "stale");
    assert.ok("error" in row.init && "error" in row.maint, "the estimate refuses a stale array (view rules): no contribution, the reason");
    // Past the expiry, before anyone settles: the future and the call read "expired", the perpetual stays active.
    h.warp(30n * 86_400n);
    const expired = await loadGroup(h.provider.connection, s.group);
    assert.deepEqual(expired.markets.map((m) => m.state), ["active", "expired", "expired"]);
    console.log(`# stale array: option holder valued by ${a.healthSource} (${a.healthError}); call contribution ${JSON.stringify(row.init, (_, v) => typeof v === "bigint" ? v.toString() : v)}`);
  });
});
