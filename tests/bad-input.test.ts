/**
 * Bad input through the TypeScript client: each case asserts the program's
 * exact error code and that the accounts involved did not change.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { BN } from "@anchor-lang/core";
import { Keypair, type PublicKey, SystemProgram } from "@solana/web3.js";
import { PauseFlags } from "../app/src/accounts.ts";
import { assertProgramFresh, type Harness, isSvm, makeHarness } from "./support/harness.ts";
import { oracleAddress, TEST_FEEDS } from "./support/pyth.ts";
import {
  defaultInterest, defaultOracle, defaultRisk, expectError, replaceAccount, TOKEN_INDEX, type User, World,
} from "./support/world.ts";

const SOL = 1_000_000_000n;
const USDC = 1_000_000n;

let h: Harness;
let w: World;
let u: User; // 10 SOL deposited, nothing borrowed
let other: User;

before(async () => {
  assertProgramFresh();
  h = await makeHarness();
  w = await World.create(h);
  const lender = await w.user({ usdc: 10_000n * USDC, eth: 100_000_000n });
  await w.deposit(lender, "usdc", 10_000n * USDC);
  await w.deposit(lender, "eth", 100_000_000n);
  u = await w.user({ sol: 20n * SOL, usdc: 100n * USDC });
  await w.deposit(u, "sol", 10n * SOL);
  other = await w.user({ sol: 5n * SOL });
});

const bank = (t: keyof typeof TOKEN_INDEX) => w.client.bank(TOKEN_INDEX[t]);

function depositIx(amount: bigint, over: Partial<{ tokenIndex: number; tokenAccount: PublicKey }> = {}) {
  return w.client.depositIx({ account: u.account, tokenIndex: over.tokenIndex ?? TOKEN_INDEX.sol, amount,
    tokenAccount: over.tokenAccount ?? u.tokenAccounts.sol, authority: u.wallet.publicKey });
}

describe("bad input", () => {
  test("zero amount: ZeroAmount", async () => {
    await expectError(h, "ZeroAmount", [u.account, bank("sol").address],
      async () => w.send([await depositIx(0n)], [u.wallet]));
  });

  test("vault of another bank: WrongVault", async () => {
    const ix = replaceAccount(w.client, await depositIx(SOL), "deposit", "vault", bank("usdc").vault);
    await expectError(h, "WrongVault", [u.account, bank("sol").address, bank("usdc").vault, u.tokenAccounts.sol],
      () => w.send([ix], [u.wallet]));
  });

  test("token account of another mint: WrongMint", async () => {
    await expectError(h, "WrongMint", [u.account, bank("sol").address, u.tokenAccounts.usdc],
      async () => w.send([await depositIx(SOL, { tokenAccount: u.tokenAccounts.usdc })], [u.wallet]));
  });

  test("token account of another owner: TokenAccountOwnerMismatch", async () => {
    await expectError(h, "TokenAccountOwnerMismatch", [u.account, other.tokenAccounts.sol, bank("sol").vault],
      async () => w.send([await depositIx(SOL, { tokenAccount: other.tokenAccounts.sol })], [u.wallet]));
  });

  test("a stranger signs for the account: UnauthorizedOwner", async () => {
    const stranger = await h.newWallet();
    const ix = await w.client.withdrawIx({ account: u.account, tokenIndex: TOKEN_INDEX.sol, amount: SOL,
      tokenAccount: u.tokenAccounts.sol, authority: stranger.publicKey });
    await expectError(h, "UnauthorizedOwner", [u.account, bank("sol").vault],
      () => w.send([ix], [stranger]));
    await expectError(h, "UnauthorizedOwner", [u.account],
      async () => w.send([await w.client.closeAccountIx(u.account, stranger.publicKey)], [stranger]));
  });

  test("borrow beyond Init health: HealthTooLow", async () => {
    // Init = 10 SOL · 149.90 · 0.8 = 1,199.20 USDC.
    await expectError(h, "HealthTooLow", [u.account, bank("usdc").address, bank("usdc").vault],
      () => w.withdraw(u, "usdc", 1_200n * USDC));
  });

  test("oracle of another bank in the health accounts: WrongOracle", async () => {
    const ix = await w.client.withdrawIx({ account: u.account, tokenIndex: TOKEN_INDEX.usdc, amount: USDC,
      tokenAccount: u.tokenAccounts.usdc, authority: u.wallet.publicKey });
    // Health accounts: [SOL bank, USDC bank, SOL oracle, USDC oracle]; put BTC's oracle in SOL's place.
    const n = ix.keys.length;
    assert.ok(ix.keys[n - 2].pubkey.equals(oracleAddress("sol")));
    ix.keys[n - 2] = { ...ix.keys[n - 2], pubkey: oracleAddress("btc") };
    await expectError(h, "WrongOracle", [u.account, bank("usdc").address], () => w.send([ix], [u.wallet]));
  });

  test("health accounts missing or reordered: HealthAccountMismatch", async () => {
    const ix = await w.client.withdrawIx({ account: u.account, tokenIndex: TOKEN_INDEX.usdc, amount: USDC,
      tokenAccount: u.tokenAccounts.usdc, authority: u.wallet.publicKey });
    const missing = { ...ix, keys: ix.keys.slice(0, -1) };
    await expectError(h, "HealthAccountMismatch", [u.account], () => w.send([missing as typeof ix], [u.wallet]));
    const n = ix.keys.length;
    const swapped = [...ix.keys];
    [swapped[n - 4], swapped[n - 3]] = [swapped[n - 3], swapped[n - 4]]; // the two banks
    await expectError(h, "HealthAccountMismatch", [u.account],
      () => w.send([{ ...ix, keys: swapped } as typeof ix], [u.wallet]));
  });

  test("closing an account that holds positions: AccountNotEmpty", async () => {
    await expectError(h, "AccountNotEmpty", [u.account],
      async () => w.send([await w.client.closeAccountIx(u.account, u.wallet.publicKey)], [u.wallet]));
  });

  test("repaying with no debt: NoDebtToRepay", async () => {
    await expectError(h, "NoDebtToRepay", [u.account, bank("usdc").address],
      () => w.repay(u, "usdc", USDC));
  });

  test("deposit over the bank's cap: DepositCapExceeded", async () => {
    // Tightening applies at once: cap SOL deposits at 12 SOL (10 + 5 already in).
    await w.send([await w.client.updateBankIx({ admin: w.admin.publicKey, tokenIndex: TOKEN_INDEX.sol,
      risk: { ...defaultRisk(), depositCap: new BN((12n * SOL).toString()) } })], [w.admin]);
    await expectError(h, "DepositCapExceeded", [u.account, bank("sol").address, u.tokenAccounts.sol],
      () => w.deposit(u, "sol", 3n * SOL));
    await w.deposit(u, "sol", 2n * SOL); // up to the cap is fine
  });

  test("borrow over the bank's borrow limit: BorrowLimitExceeded", async () => {
    await w.send([await w.client.updateBankIx({ admin: w.admin.publicKey, tokenIndex: TOKEN_INDEX.usdc,
      risk: { ...defaultRisk(), initAssetWeightBps: 10_000, liqEndAssetWeightBps: 10_000, maintAssetWeightBps: 10_000,
        maintLiabWeightBps: 10_000, liqEndLiabWeightBps: 10_000, initLiabWeightBps: 10_000,
        borrowLimit: new BN((100n * USDC).toString()) } })], [w.admin]);
    await expectError(h, "BorrowLimitExceeded", [u.account, bank("usdc").address],
      () => w.withdraw(u, "usdc", 101n * USDC));
  });

  test("stale oracle blocks a borrow, not a borrow elsewhere: OracleStale", async (t) => {
    if (!isSvm(h)) {
      t.skip("a stale price needs a clock the test controls (the SVM's); the Rust suite covers it too");
      return;
    }
    // ETH's price is published now; its bank's max age drops to 1 s; the clock moves 5 s.
    h.setOracle("eth", { ...TEST_FEEDS.eth.quote, publishTime: await h.now() });
    await w.send([await w.client.updateBankIx({ admin: w.admin.publicKey, tokenIndex: TOKEN_INDEX.eth,
      oracleArgs: { ...defaultOracle("eth"), maxOracleAgeSecs: 1 } })], [w.admin]);
    h.warp(5n);
    await expectError(h, "OracleStale", [u.account, bank("eth").address, bank("eth").vault],
      () => w.withdraw(u, "eth", 1_000_000n));
    // The SOL collateral's price is fresh: a USDC borrow still works next to a stale ETH bank.
    await w.withdraw(u, "usdc", 10n * USDC);
  });

  test("paused deposits: GroupPaused; a stranger cannot pause: UnauthorizedAdmin", async () => {
    const stranger = await h.newWallet();
    await expectError(h, "UnauthorizedAdmin", [w.client.group],
      async () => w.send([await w.client.setPauseIx(stranger.publicKey, PauseFlags.all)], [stranger]));
    await w.send([await w.client.setPauseIx(w.admin.publicKey, PauseFlags.deposits)], [w.admin]);
    try {
      await expectError(h, "GroupPaused", [u.account, bank("usdc").address], () => w.deposit(u, "usdc", USDC));
    } finally {
      await w.send([await w.client.setPauseIx(w.admin.publicKey, 0)], [w.admin]);
    }
    await w.deposit(u, "usdc", USDC); // unpaused
  });

  test("listing a mint twice, or with an oracle of another feed or owner: DuplicateMint, OracleWrongFeed, OracleWrongOwner", async () => {
    // A fifth bank (index 4): on SOL's mint it is a second listing; on a new mint the oracle checks
    // run before anything is created.
    const listing = async (mint: PublicKey) => w.client.addBankIx({ admin: w.admin.publicKey,
      payer: w.admin.publicKey, tokenIndex: 4, mint, oracle: oracleAddress("btc"), feedId: Array.from(Buffer.from(
        "ef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d", "hex")), risk: defaultRisk(),
      oracleArgs: defaultOracle("sol"), interest: defaultInterest() });
    const twice = await listing(w.mints.sol);
    await expectError(h, "DuplicateMint", [w.client.group], () => w.send([twice], [w.admin]));
    const ix = await listing(await w.newMint(9));
    await expectError(h, "OracleWrongFeed", [w.client.group], () => w.send([ix], [w.admin]));
    const notPyth = Keypair.generate();
    await w.send([SystemProgram.createAccount({ fromPubkey: h.payer.publicKey, newAccountPubkey: notPyth.publicKey,
      space: 134, lamports: 2_000_000, programId: SystemProgram.programId })], [notPyth]);
    const wrongOwner = replaceAccount(w.client, ix, "addBank", "oracle", notPyth.publicKey);
    await expectError(h, "OracleWrongOwner", [w.client.group], () => w.send([wrongOwner], [w.admin]));
  });

  test("liquidating a healthy account, or oneself: NotLiquidatable, SelfLiquidation", async () => {
    const liqor = await w.user({ usdc: 1_000n * USDC });
    await w.deposit(liqor, "usdc", 1_000n * USDC);
    const args = { liqor: liqor.account, liqorAuthority: liqor.wallet.publicKey, assetTokenIndex: TOKEN_INDEX.sol,
      liabTokenIndex: TOKEN_INDEX.usdc, maxLiabTransfer: 100n * USDC };
    await expectError(h, "NotLiquidatable", [u.account, liqor.account],
      async () => w.send([await w.client.liquidateTokenIx({ ...args, liqee: u.account })], [liqor.wallet]));
    await expectError(h, "SelfLiquidation", [liqor.account],
      async () => w.send([await w.client.liquidateTokenIx({ ...args, liqee: liqor.account })], [liqor.wallet]));
  });
});
