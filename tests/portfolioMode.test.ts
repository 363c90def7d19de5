/**
 * Portfolio margin mode from the client: `setMarginModeIx` switches a hedged
 * account (10 SOL deposited, 10 SOL of SOL-PERP sold) into portfolio mode and
 * back; the flag's lifecycle, the program's refusals by name with nothing
 * changed, and the client estimate valuing the portfolio account exactly as
 * `compute_health` does (its netted book included).
 * The program's numbers for hedged books are in crates/test-support/tests/portfolio_mode.rs.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import type { BN } from "@anchor-lang/core";
import { AccountFlags, MarginMode } from "../app/src/accounts.ts";
import { estimateAccountHealth } from "../app/src/estimate.ts";
import { toQuoteNative } from "../app/src/health.ts";
import { accountHealthInputs, accountWithdrawLimits, maxWithdraw } from "../app/src/limits.ts";
import { assertProgramFresh, type Harness, isSvm, makeHarness } from "./support/harness.ts";
import { expectError, solPerpArgs, TOKEN_INDEX, type User, World } from "./support/world.ts";

const SOL = 1_000_000_000n;
const USDC = 1_000_000n;

let h: Harness;
let w: World;
let hedged: User;

const n = (v: BN) => BigInt(v.toString());

before(async () => {
  assertProgramFresh();
  h = await makeHarness();
  w = await World.create(h);
  const lender = await w.user({ usdc: 100_000n * USDC });
  await w.deposit(lender, "usdc", 100_000n * USDC);
  await w.addMarket(solPerpArgs(0));
  hedged = await w.user({ sol: 10n * SOL });
  await w.deposit(hedged, "sol", 10n * SOL);
  // 1,000 contracts of 0.01 SOL at $150 (1,500,000 µUSDC each): short exactly the 10 SOL held.
  await w.trade(0, lender, hedged, 1_000n, 1_500_000n);
});

async function setMode(u: User, mode: number, signer = u.wallet) {
  const ix = await w.client.setMarginModeIx({ account: u.account, authority: signer.publicKey, mode });
  return w.sendFitting([ix], [signer]);
}

async function flags(u: User): Promise<number> {
  return (await w.client.fetchMarginAccount(u.account)).flags;
}

describe("portfolio margin mode from the client", () => {
  test("a hedged account switches in and out; refusals by name change nothing", async () => {
    const linear = (await w.health(hedged.account)).view;
    const estimate = await estimateAccountHealth(w.client, hedged.account);
    assert.equal(toQuoteNative(estimate.init), n(linear.init), "linear: estimate = compute_health");

    const stranger = await h.newWallet();
    await expectError(h, "UnauthorizedOwner", [hedged.account], () => setMode(hedged, MarginMode.portfolio, stranger));
    await expectError(h, "InvalidMarginMode", [hedged.account], () => setMode(hedged, 2));
    await expectError(h, "MarginModeUnchanged", [hedged.account], () => setMode(hedged, MarginMode.linear));

    await setMode(hedged, MarginMode.portfolio);
    assert.equal((await flags(hedged)) & AccountFlags.portfolioMode, AccountFlags.portfolioMode, "set");
    const portfolio = (await w.health(hedged.account)).view;
    // The short perp nets against the SOL it hedges: far less is required than the
    // linear haircut on the SOL plus the perp's rate on its notional.
    assert.ok(n(portfolio.init) > n(linear.init), `portfolio Init ${portfolio.init} > linear ${linear.init}`);
    // The estimate values the netted book as compute_health does: one SOL book, its contingency alone.
    const pe = await estimateAccountHealth(w.client, hedged.account);
    assert.deepEqual([pe.init, pe.maint, pe.liqEnd].map(toQuoteNative),
      [n(portfolio.init), n(portfolio.maint), n(portfolio.liquidationEnd)], "portfolio: estimate = compute_health");
    assert.equal(pe.books?.length, 1);
    assert.equal(pe.books?.[0].underlying, 1);
    assert.equal(pe.books?.[0].init.worstLoss, 0n, "delta-neutral: no scenario loses");
    await expectError(h, "MarginModeUnchanged", [hedged.account], () => setMode(hedged, MarginMode.portfolio));

    await setMode(hedged, MarginMode.linear);
    assert.equal((await flags(hedged)) & AccountFlags.portfolioMode, 0, "cleared by switching back");
    const back = (await w.health(hedged.account)).view;
    assert.equal(n(back.init), n(linear.init), "linear again: the same Init health");
    assert.equal(toQuoteNative((await estimateAccountHealth(w.client, hedged.account)).init), n(back.init),
      "and the estimate values it again");
  });

  test("the client's largest borrow of a portfolio account: the program takes it, not one unit more", async (t) => {
    if (!isSvm(h)) return t.skip("needs the SVM's fixed clock");
    const lender = await w.user({ usdc: 100_000n * USDC });
    await w.deposit(lender, "usdc", 100_000n * USDC);
    const u = await w.user({ sol: 10n * SOL });
    await w.deposit(u, "sol", 10n * SOL);
    await w.trade(0, lender, u, 1_000n, 1_500_000n);
    await setMode(u, MarginMode.portfolio);
    const limits = await accountWithdrawLimits(w.client, u.account, TOKEN_INDEX.usdc);
    // What linear mode would allow: the SOL's haircut and the perp's rate stay charged.
    const inputs = await accountHealthInputs(w.client, u.account, { withToken: TOKEN_INDEX.usdc });
    assert.ok(inputs.portfolio, "read as a portfolio account");
    const ctx = { quoteDecimals: inputs.quoteDecimals, now: await h.now(), strictToken: TOKEN_INDEX.usdc };
    const linear = maxWithdraw(inputs.positions, ctx, TOKEN_INDEX.usdc, { derivatives: inputs.derivatives });
    assert.ok(limits.maxBorrow > linear, `portfolio ${limits.maxBorrow} > linear ${linear}`);
    assert.equal(limits.maxWithdraw, limits.maxBorrow, "no USDC held: all of it borrowed");

    await expectError(h, "HealthTooLow", [u.account], () => w.withdraw(u, "usdc", limits.maxBorrow + 1n));
    await w.withdraw(u, "usdc", limits.maxBorrow);
    const after = (await w.health(u.account)).view;
    assert.ok(n(after.init) >= 0n && n(after.init) <= 1n, `Init health after the largest borrow: ${after.init}`);
  });
});
