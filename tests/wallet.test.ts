/**
 * A wallet's flows end to end, through the typed client: open an account,
 * deposit, borrow within Init health (worked numbers), repay, withdraw, close;
 * a delegate's powers. Runs on the in-process SVM, or on a real validator when
 * ANCHOR_PROVIDER_URL is set.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { PublicKey } from "@solana/web3.js";
import { HealthBandCode } from "../app/src/accounts.ts";
import { assertProgramFresh, type Harness, makeHarness } from "./support/harness.ts";
import { expectError, TOKEN_INDEX, World } from "./support/world.ts";

const SOL = 1_000_000_000n; // lamports
const USDC = 1_000_000n; // µUSDC

let h: Harness;
let w: World;

before(async () => {
  assertProgramFresh();
  h = await makeHarness();
  w = await World.create(h);
  const lender = await w.user({ usdc: 50_000n * USDC, sol: 100n * SOL });
  await w.deposit(lender, "usdc", 50_000n * USDC);
  await w.deposit(lender, "sol", 100n * SOL);
});

describe("wallet", () => {
  test("open, deposit, borrow to the Init limit, repay, withdraw, close", async () => {
    const u = await w.user({ sol: 10n * SOL });
    const rentBefore = (await h.getAccount(u.wallet.publicKey))!.lamports;
    const sent = await w.deposit(u, "sol", 10n * SOL);
    console.log(`CU deposit (TS): ${sent.computeUnits}`);
    assert.equal(await w.tokenBalance(u.tokenAccounts.sol), 0n);
    assert.equal(await w.nativeBalance(u.account, "sol"), 10n * SOL);

    // Init = 10 SOL · (150 − 0.10 conf) · 0.8 = 1,199.20 USDC; USDC debt counts 1:1 (weight 1, conf 0).
    const usdcBank = w.client.bank(TOKEN_INDEX.usdc).address;
    await expectError(h, "HealthTooLow", [u.account, usdcBank, u.tokenAccounts.usdc],
      () => w.withdraw(u, "usdc", 1_199_210_000n));
    const borrow = await w.withdraw(u, "usdc", 1_199_190_000n);
    console.log(`CU withdraw as borrow, 2 positions (TS): ${borrow.computeUnits}`);
    assert.equal(await w.tokenBalance(u.tokenAccounts.usdc), 1_199_190_000n);
    const debt = -(await w.nativeBalance(u.account, "usdc"));
    assert.ok(debt >= 1_199_190_000n && debt <= 1_199_190_000n + (h.mode === "svm" ? 0n : 1_000n), `debt ${debt}`);

    // About 0.01 USDC of Init health is left (less any interest accrued on a live validator).
    const { view } = await w.health(u.account);
    assert.equal(view.band, HealthBandCode.healthy);
    const init = BigInt(view.init.toString());
    assert.ok(init <= 10_000n && init >= (h.mode === "svm" ? 9_999n : 8_000n), `init ${init}`);
    assert.ok(BigInt(view.maint.toString()) > BigInt(view.liquidationEnd.toString()));
    assert.ok(BigInt(view.liquidationEnd.toString()) > init);

    // Repay everything: the borrowed USDC plus a little of the user's own for any interest.
    const mintMore = await w.tokenAccount(u.wallet.publicKey, "usdc", 1n * USDC);
    await w.repay(u, "usdc", 1_199_190_000n);
    const left = -(await w.nativeBalance(u.account, "usdc"));
    if (left > 0n) {
      await w.send([await w.client.repayIx({ account: u.account, tokenIndex: TOKEN_INDEX.usdc, amount: left,
        tokenAccount: mintMore, authority: u.wallet.publicKey })], [u.wallet]);
    }
    assert.equal(await w.nativeBalance(u.account, "usdc"), 0n);
    await expectError(h, "NoDebtToRepay", [u.account], () => w.repay(u, "usdc", 1n));

    // Withdraw everything, then close: the rent comes back.
    await w.withdraw(u, "sol", 10n * SOL);
    assert.equal(await w.tokenBalance(u.tokenAccounts.sol), 10n * SOL);
    const data = await w.client.fetchMarginAccount(u.account);
    assert.ok(data.tokens.every((p) => p.inUse === 0), "every position closed");
    await w.send([await w.client.closeAccountIx(u.account, u.wallet.publicKey)], [u.wallet]);
    assert.equal(await h.getAccount(u.account), null);
    assert.ok((await h.getAccount(u.wallet.publicKey))!.lamports > rentBefore, "rent returned to the owner");
  });

  test("multi-token borrow: SOL and BTC collateral, ETH and USDC debt", async () => {
    const u = await w.user({ sol: 10n * SOL, btc: 10_000_000n }); // 10 SOL, 0.1 BTC
    await w.deposit(u, "sol", 10n * SOL);
    await w.deposit(u, "btc", 10_000_000n);
    const lender = await w.user({ eth: 100_000_000n });
    await w.deposit(lender, "eth", 100_000_000n);
    // Init assets: 10 · (150 − 0.10) · 0.8 = 1,199.20 plus 0.1 · (60,000 − 10) · 0.8 = 4,799.20: 5,998.40 USDC.
    // Borrow 0.5 ETH, a liability at (3,000 + 1) · 1.2 = 3,601.20 per ETH: 1,800.60 USDC.
    await w.withdraw(u, "eth", 50_000_000n);
    assert.equal(await w.tokenBalance(u.tokenAccounts.eth), 50_000_000n);
    // Left: 5,998.40 − 1,800.60 = 4,197.80 USDC of Init health to borrow USDC against.
    const usdcBank = w.client.bank(TOKEN_INDEX.usdc).address;
    await expectError(h, "HealthTooLow", [u.account, usdcBank], () => w.withdraw(u, "usdc", 4_197_810_000n));
    await w.withdraw(u, "usdc", 4_197_790_000n);
    const { view } = await w.health(u.account);
    const init = BigInt(view.init.toString());
    assert.ok(init >= (h.mode === "svm" ? 9_999n : 0n) && init <= 10_000n, `init ${init}`);
    assert.equal(view.band, HealthBandCode.healthy);
  });

  test("a delegate deposits and withdraws only to the owner", async () => {
    const u = await w.user({ sol: 5n * SOL });
    const delegate = await h.newWallet();
    await expectError(h, "DelegateIsOwner", [u.account],
      async () => w.send([await w.client.setDelegateIx(u.account, u.wallet.publicKey, u.wallet.publicKey)], [u.wallet]));
    await expectError(h, "UnauthorizedOwner", [u.account],
      async () => w.send([await w.client.setDelegateIx(u.account, delegate.publicKey, delegate.publicKey)], [delegate]));
    await w.send([await w.client.setDelegateIx(u.account, u.wallet.publicKey, delegate.publicKey)], [u.wallet]);
    assert.ok((await w.client.fetchMarginAccount(u.account)).delegate.equals(delegate.publicKey));

    const delegateSol = await w.tokenAccount(delegate.publicKey, "sol", 3n * SOL);
    await w.send([await w.client.depositIx({ account: u.account, tokenIndex: TOKEN_INDEX.sol, amount: 3n * SOL,
      tokenAccount: delegateSol, authority: delegate.publicKey })], [delegate]);
    assert.equal(await w.nativeBalance(u.account, "sol"), 3n * SOL);

    const solBank = w.client.bank(TOKEN_INDEX.sol).address;
    await expectError(h, "DelegateWithdrawToOther", [u.account, solBank, delegateSol],
      async () => w.send([await w.client.withdrawIx({ account: u.account, tokenIndex: TOKEN_INDEX.sol, amount: SOL,
        tokenAccount: delegateSol, authority: delegate.publicKey })], [delegate]));
    await w.send([await w.client.withdrawIx({ account: u.account, tokenIndex: TOKEN_INDEX.sol, amount: SOL,
      tokenAccount: u.tokenAccounts.sol, authority: delegate.publicKey })], [delegate]);
    assert.equal(await w.tokenBalance(u.tokenAccounts.sol), 6n * SOL);

    await w.send([await w.client.setDelegateIx(u.account, u.wallet.publicKey, PublicKey.default)], [u.wallet]);
    await expectError(h, "UnauthorizedOwner", [u.account, solBank],
      async () => w.send([await w.client.withdrawIx({ account: u.account, tokenIndex: TOKEN_INDEX.sol, amount: SOL,
        tokenAccount: u.tokenAccounts.sol, authority: delegate.publicKey })], [delegate]));
  });
});
