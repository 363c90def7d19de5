/**
 * A keeper's liquidation through the TypeScript client: the admin tightens
 * SOL's weights (tightening applies at once, on any cluster), a borrower falls
 * below maintenance, the keeper finds it by health and liquidates it in one
 * step sized so LiquidationEnd health reaches zero; a second attempt fails.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { BN } from "@anchor-lang/core";
import type { PublicKey } from "@solana/web3.js";
import { HealthBandCode } from "../app/src/accounts.ts";
import { assertProgramFresh, type Harness, makeHarness, TxFailure } from "./support/harness.ts";
import { defaultRisk, expectError, TOKEN_INDEX, type User, World } from "./support/world.ts";

const SOL = 1_000_000_000n;
const USDC = 1_000_000n;
const U64_MAX = (1n << 64n) - 1n;

let h: Harness;
let w: World;
let borrower: User;
let liqor: User;
let bystander: User;

before(async () => {
  assertProgramFresh();
  h = await makeHarness();
  w = await World.create(h);
  const lender = await w.user({ usdc: 20_000n * USDC });
  await w.deposit(lender, "usdc", 20_000n * USDC);
  borrower = await w.user({ sol: 10n * SOL });
  await w.deposit(borrower, "sol", 10n * SOL);
  await w.withdraw(borrower, "usdc", 1_100n * USDC);
  bystander = await w.user({ sol: 10n * SOL });
  await w.deposit(bystander, "sol", 10n * SOL);
  await w.withdraw(bystander, "usdc", 500n * USDC);
  liqor = await w.user({ usdc: 5_000n * USDC });
  await w.deposit(liqor, "usdc", 5_000n * USDC);
});

/** The keeper's scan: every account whose on-chain health band is Liquidatable. */
async function liquidatable(accounts: PublicKey[]): Promise<PublicKey[]> {
  const out: PublicKey[] = [];
  for (const a of accounts) if ((await w.health(a)).view.band === HealthBandCode.liquidatable) out.push(a);
  return out;
}

const num = (v: BN) => BigInt(v.toString());

describe("keeper", () => {
  test("liquidates exactly the account below maintenance, to LiquidationEnd zero", async () => {
    const all = [borrower.account, bystander.account, liqor.account];
    assert.deepEqual(await liquidatable(all), [], "everyone healthy at first");

    // SOL asset weights 0.8/0.85/0.9 → 0.5/0.55/0.6: the borrower's Maint health is
    // 10 · 149.90 · 0.6 − 1,100 = −200.60 USDC (USDC, the quote, weighs 1); the bystander's stays positive.
    await w.send([await w.client.updateBankIx({ admin: w.admin.publicKey, tokenIndex: TOKEN_INDEX.sol,
      risk: { ...defaultRisk(), initAssetWeightBps: 5_000, liqEndAssetWeightBps: 5_500, maintAssetWeightBps: 6_000 } })],
    [w.admin]);
    await w.client.loadBanks();
    const targets = await liquidatable(all);
    assert.deepEqual(targets.map((t) => t.toBase58()), [borrower.account.toBase58()]);

    const before = await w.health(borrower.account);
    const liqEndBefore = Number(num(before.view.liquidationEnd)) / 1e6;
    // LiquidationEnd = 10 · 149.90 · 0.55 − 1,100 = 824.45 − 1,100 = −275.55 USDC.
    assert.ok(Math.abs(liqEndBefore - -275.55) < 0.01, `LiquidationEnd before ${liqEndBefore}`);

    const debtBefore = -(await w.nativeBalance(borrower.account, "usdc"));
    const solBefore = await w.nativeBalance(borrower.account, "sol");
    const liqorUsdcBefore = await w.nativeBalance(liqor.account, "usdc");
    const sent = await w.send([await w.client.liquidateTokenIx({ liqee: borrower.account, liqor: liqor.account,
      liqorAuthority: liqor.wallet.publicKey, assetTokenIndex: TOKEN_INDEX.sol, liabTokenIndex: TOKEN_INDEX.usdc,
      maxLiabTransfer: U64_MAX })], [liqor.wallet]);
    console.log(`CU liquidate_token (TS, 2 + 2 positions): ${sent.computeUnits}`);

    const repaid = debtBefore - -(await w.nativeBalance(borrower.account, "usdc"));
    const seized = solBefore - (await w.nativeBalance(borrower.account, "sol"));
    // On a live validator the bank accrues interest when the liquidation lands (the debt grows,
    // the liquidator's deposit earns) after our reads: a unit or two either way there.
    const paid = liqorUsdcBefore - (await w.nativeBalance(liqor.account, "usdc"));
    const accrual = h.mode === "svm" ? 0n : 2n;
    assert.ok(paid - repaid <= accrual && repaid - paid <= accrual, `the liquidator paid ${paid}, the debt fell ${repaid}`);
    assert.equal(await w.nativeBalance(liqor.account, "sol"), seized, "the liquidator received the collateral");

    // Rate: oracle prices with a 10 % bonus (5 % SOL + 5 % USDC liquidation fees):
    // seized lamports = repaid µUSDC · 1.1 / 0.15 µUSDC per lamport.
    const expectedSeized = (repaid * 110n * 100n) / 15n / 100n;
    // On a live validator interest accrues between our reads and the liquidation: allow 1 ppm there.
    const slack = h.mode === "svm" ? 2n : 2n + expectedSeized / 1_000_000n;
    assert.ok(seized >= expectedSeized - slack && seized <= expectedSeized + slack,
      `seized ${seized}, expected ≈ ${expectedSeized}`);
    // Closed form: each µUSDC repaid lifts LiquidationEnd by 1 − (1.1 / 0.15) · 0.1499 · 0.55 = 0.395407…,
    // so the step is 275.55 / 0.395407 ≈ 696.88 USDC.
    const perUnit = 1 - (1.1 / 0.15) * 0.1499 * 0.55;
    const expectedRepaid = -liqEndBefore / perUnit;
    assert.ok(Math.abs(Number(repaid) / 1e6 - expectedRepaid) < 0.01, `repaid ${Number(repaid) / 1e6}, expected ≈ ${expectedRepaid}`);

    const after = await w.health(borrower.account);
    // The step is whole µUSDC rounded down (never past zero), so it stops within one µUSDC below zero.
    const liqEndAfter = num(after.view.liquidationEnd);
    // On a live validator the debt keeps accruing between the liquidation and this read
    // (−26 µUSDC seen a few slots later): 1 ppm of the debt left there.
    const accrued = h.mode === "svm" ? 0n : -(await w.nativeBalance(borrower.account, "usdc")) / 1_000_000n;
    assert.ok(liqEndAfter >= -1n - accrued && liqEndAfter <= 10_000n,
      `LiquidationEnd after ${liqEndAfter} µUSDC: zero, and no further`);
    assert.ok(num((await w.health(liqor.account)).view.init) >= 0n, "the liquidator keeps Init health ≥ 0");
    await w.assertVaultInvariant("usdc");
    await w.assertVaultInvariant("sol");

    // Done: LiquidationEnd ≥ −1 µUSDC, so the next attempt is refused. On a live validator the
    // debt keeps accruing, which can push LiquidationEnd a few µUSDC below zero again while the
    // account is still flagged: the program then rightly takes one more step, of dust only.
    const again = async () => w.send([await w.client.liquidateTokenIx({ liqee: borrower.account, liqor: liqor.account,
      liqorAuthority: liqor.wallet.publicKey, assetTokenIndex: TOKEN_INDEX.sol, liabTokenIndex: TOKEN_INDEX.usdc,
      maxLiabTransfer: U64_MAX })], [liqor.wallet]);
    if (h.mode === "svm") {
      await expectError(h, "NotLiquidatable", [borrower.account, liqor.account], again);
    } else {
      const debtNow = -(await w.nativeBalance(borrower.account, "usdc"));
      try {
        await again();
        const dust = debtNow - -(await w.nativeBalance(borrower.account, "usdc"));
        // 1 ppm of the debt of accrual at most, lifted at ≈ 0.395 per µUSDC repaid.
        assert.ok(dust <= 3n * (debtNow / 1_000_000n) + 3n, `a continuation step of ${dust} µUSDC is more than dust`);
      } catch (e) {
        if (!(e instanceof TxFailure)) throw e;
        assert.equal(e.programError?.name, "NotLiquidatable", `expected NotLiquidatable, got:\n${e.message}`);
      }
    }
    assert.deepEqual(await liquidatable(all), [], "nobody is left below maintenance");
  });

  test("a liquidator that would end below Init is refused: LiquidatorHealthTooLow", async () => {
    const victim = await w.user({ sol: 10n * SOL });
    await w.deposit(victim, "sol", 10n * SOL);
    // Init with SOL at 0.5: 10 · 149.90 · 0.5 = 749.50 USDC of borrowing power.
    await w.withdraw(victim, "usdc", 749n * USDC);
    await w.send([await w.client.updateBankIx({ admin: w.admin.publicKey, tokenIndex: TOKEN_INDEX.sol,
      risk: { ...defaultRisk(), initAssetWeightBps: 2_000, liqEndAssetWeightBps: 2_500, maintAssetWeightBps: 3_000 } })],
    [w.admin]);
    // A liquidator with only 10 USDC takes on USDC debt for SOL that counts at 0.2 toward Init.
    const poor = await w.user({ usdc: 10n * USDC });
    await w.deposit(poor, "usdc", 10n * USDC);
    await expectError(h, "LiquidatorHealthTooLow", [victim.account, poor.account],
      async () => w.send([await w.client.liquidateTokenIx({ liqee: victim.account, liqor: poor.account,
        liqorAuthority: poor.wallet.publicKey, assetTokenIndex: TOKEN_INDEX.sol, liabTokenIndex: TOKEN_INDEX.usdc,
        maxLiabTransfer: 500n * USDC })], [poor.wallet]));
  });
});
