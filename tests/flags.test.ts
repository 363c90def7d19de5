/**
 * The liquidation flag through the TypeScript client: a partial liquidation
 * sets BEING_LIQUIDATED; a repay that does not pass the health accounts
 * cannot show the recovery and leaves it; `repayIx({ clearLiquidation })`
 * passes them and the program clears it once LiquidationEnd health is ≥ 0.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { AccountFlags } from "../app/src/accounts.ts";
import { assertProgramFresh, type Harness, makeHarness } from "./support/harness.ts";
import { defaultRisk, TOKEN_INDEX, type User, World } from "./support/world.ts";

const SOL = 1_000_000_000n;
const USDC = 1_000_000n;

let h: Harness;
let w: World;
let borrower: User;
let liqor: User;

before(async () => {
  assertProgramFresh();
  h = await makeHarness();
  w = await World.create(h);
  const lender = await w.user({ usdc: 20_000n * USDC });
  await w.deposit(lender, "usdc", 20_000n * USDC);
  borrower = await w.user({ sol: 10n * SOL });
  await w.deposit(borrower, "sol", 10n * SOL);
  await w.withdraw(borrower, "usdc", 1_100n * USDC);
  liqor = await w.user({ usdc: 5_000n * USDC });
  await w.deposit(liqor, "usdc", 5_000n * USDC);
  // SOL's weights tighten at once: LiquidationEnd 10 · 149.90 · 0.55 − 1,100 = −275.55 USDC.
  await w.send([await w.client.updateBankIx({ admin: w.admin.publicKey, tokenIndex: TOKEN_INDEX.sol,
    risk: { ...defaultRisk(), initAssetWeightBps: 5_000, liqEndAssetWeightBps: 5_500, maintAssetWeightBps: 6_000 } })],
  [w.admin]);
  await w.client.loadBanks();
});

const flags = async (u: User) => (await w.client.fetchMarginAccount(u.account)).flags;

describe("BEING_LIQUIDATED", () => {
  test("set by a partial step, kept by a plain repay, cleared by a repay with the health accounts", async () => {
    await w.send([await w.client.liquidateTokenIx({ liqee: borrower.account, liqor: liqor.account,
      liqorAuthority: liqor.wallet.publicKey, assetTokenIndex: TOKEN_INDEX.sol, liabTokenIndex: TOKEN_INDEX.usdc,
      maxLiabTransfer: 50n * USDC })], [liqor.wallet]);
    assert.equal((await flags(borrower)) & AccountFlags.beingLiquidated, AccountFlags.beingLiquidated);
    // 600 USDC repaid: LiquidationEnd is back above zero, but no price was read.
    await w.repay(borrower, "usdc", 600n * USDC);
    assert.equal((await flags(borrower)) & AccountFlags.beingLiquidated, AccountFlags.beingLiquidated);
    assert.ok((await w.health(borrower.account)).view.liquidationEnd.gtn(0), "recovered");
    await w.repay(borrower, "usdc", USDC, { clearLiquidation: true });
    assert.equal((await flags(borrower)) & AccountFlags.beingLiquidated, 0);
  });
});
