/**
 * Bankruptcy through the TypeScript client: SOL's price triples under a SOL
 * borrower, a liquidator takes all her USDC collateral, and the remaining SOL
 * debt is taken over by a liquidator paid from the insurance fund (oracle price
 * plus the 5 % liquidation fee). Needs a moving price: the in-process SVM only.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { createMintToInstruction } from "@solana/spl-token";
import { fixedRaw } from "../app/src/accounts.ts";
import { insuranceVaultAddress } from "../app/src/pda.ts";
import { assertProgramFresh, type Harness, isSvm, makeHarness } from "./support/harness.ts";
import { TEST_FEEDS } from "./support/pyth.ts";
import { expectError, TOKEN_INDEX, World } from "./support/world.ts";

const SOL = 1_000_000_000n;
const USDC = 1_000_000n;
const U64_MAX = (1n << 64n) - 1n;

let h: Harness;
let w: World;

before(async () => {
  assertProgramFresh();
  h = await makeHarness();
  if (isSvm(h)) w = await World.create(h);
});

test("a SOL debt with nothing behind it: the fund pays a liquidator to take it over", async (t) => {
  if (!isSvm(h)) {
    t.skip("needs a moving price (the in-process SVM)");
    return;
  }
  const lender = await w.user({ sol: 100n * SOL });
  await w.deposit(lender, "sol", 100n * SOL);
  const alice = await w.user({ usdc: 1_000n * USDC });
  await w.deposit(alice, "usdc", 1_000n * USDC);
  await w.withdraw(alice, "sol", 5n * SOL);
  const bob = await w.user({ usdc: 20_000n * USDC });
  await w.deposit(bob, "usdc", 20_000n * USDC);
  const carol = await w.user({ usdc: 5_000n * USDC });
  await w.deposit(carol, "usdc", 5_000n * USDC);

  h.setOracle("sol", { ...TEST_FEEDS.sol.quote, price: 45_000_000_000n }); // $450
  await w.send([await w.client.liquidateTokenIx({ liqee: alice.account, liqor: bob.account,
    liqorAuthority: bob.wallet.publicKey, assetTokenIndex: TOKEN_INDEX.usdc, liabTokenIndex: TOKEN_INDEX.sol,
    maxLiabTransfer: U64_MAX })], [bob.wallet]);
  const owed = -(await w.nativeBalance(alice.account, "sol"));
  assert.equal(await w.nativeBalance(alice.account, "usdc"), 0n, "all collateral taken");
  assert.ok(owed > 2_900_000_000n && owed < 3_000_000_000n, `SOL debt left ${owed}`);

  // The fund holds USDC: resolving without a liquidator is refused rather than socialised.
  const insurance = insuranceVaultAddress(w.client.group);
  await w.send([createMintToInstruction(w.mints.usdc, insurance, h.payer.publicKey, 10_000n * USDC)]);
  await expectError(h, "InsuranceNeedsLiquidator", [alice.account, insurance],
    async () => w.send([await w.client.resolveBankruptcyIx(alice.account, TOKEN_INDEX.sol)]));

  const carolUsdc = await w.nativeBalance(carol.account, "usdc");
  const solBankKey = w.client.bank(TOKEN_INDEX.sol).address;
  const indexBefore = fixedRaw((await w.client.program.account.bank.fetch(solBankKey)).depositIndex);
  const sent = await w.send([await w.client.resolveBankruptcyWithLiquidatorIx({ liqee: alice.account,
    liabTokenIndex: TOKEN_INDEX.sol, quoteTokenIndex: TOKEN_INDEX.usdc, liqor: carol.account,
    liqorAuthority: carol.wallet.publicKey })], [carol.wallet]);
  console.log(`# resolve_bankruptcy with a liquidator (TS): ${sent.computeUnits} CU`);

  const data = await w.client.fetchMarginAccount(alice.account);
  assert.ok(data.tokens.every((p) => p.inUse === 0), "the account is left clean");
  const took = -(await w.nativeBalance(carol.account, "sol"));
  assert.ok(took >= owed && took <= owed + 1n, `carol took ${took} of ${owed}`);
  // Paid 450 · 1.05 = 472.5 USDC per SOL: 0.4725 µUSDC per lamport, rounded down.
  const paid = 10_000n * USDC - (await w.tokenBalance(insurance));
  const expected = (owed * 4_725n) / 10_000n;
  assert.ok(paid <= expected && paid + 1n >= expected, `paid ${paid}, expected ≈ ${expected}`);
  const gain = (await w.nativeBalance(carol.account, "usdc")) - carolUsdc;
  assert.ok(gain <= paid && gain + 1n >= paid, `carol's USDC grew by ${gain}`);
  // SOL depositors lose nothing.
  const indexAfter = fixedRaw((await w.client.program.account.bank.fetch(solBankKey)).depositIndex);
  assert.equal(indexAfter, indexBefore);
  await w.assertVaultInvariant("sol");
  await w.assertVaultInvariant("usdc");
});
