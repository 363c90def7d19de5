/**
 * The Rust keeper bot (`xmargin-keeper`, crates/keeper) against a real
 * validator over JSON-RPC: this suite sets up an account below maintenance,
 * runs one keeper cycle as a separate process, and checks the liquidation
 * landed. Runs in rpc mode (scripts/localnet test builds the binary first);
 * on the in-process SVM it is skipped — crates/keeper's own tests run the same
 * cycle on the embedded SVM.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { HealthBandCode } from "../app/src/accounts.ts";
import { transactionEvents } from "../app/src/events.ts";
import { assertProgramFresh, makeHarness, ROOT } from "./support/harness.ts";
import { defaultRisk, TOKEN_INDEX, World } from "./support/world.ts";

const SOL = 1_000_000_000n;
const USDC = 1_000_000n;

test("xmargin-keeper liquidates an account below maintenance over JSON-RPC", async (t) => {
  assertProgramFresh();
  const h = await makeHarness();
  if (h.mode !== "rpc") {
    t.skip("needs a real validator (scripts/localnet test)");
    return;
  }
  const bin = process.env.XMARGIN_KEEPER_BIN ?? join(ROOT, "target/debug/xmargin-keeper");
  assert.ok(existsSync(bin), `${bin} missing: cargo build -p xmargin-keeper`);

  const w = await World.create(h);
  const lender = await w.user({ usdc: 20_000n * USDC });
  await w.deposit(lender, "usdc", 20_000n * USDC);
  const borrower = await w.user({ sol: 10n * SOL });
  await w.deposit(borrower, "sol", 10n * SOL);
  await w.withdraw(borrower, "usdc", 1_100n * USDC);
  const keeper = await w.user({ usdc: 5_000n * USDC });
  await w.deposit(keeper, "usdc", 5_000n * USDC);
  await w.send([await w.client.updateBankIx({ admin: w.admin.publicKey, tokenIndex: TOKEN_INDEX.sol,
    risk: { ...defaultRisk(), initAssetWeightBps: 5_000, liqEndAssetWeightBps: 5_500, maintAssetWeightBps: 6_000 } })],
  [w.admin]);
  assert.equal((await w.health(borrower.account)).view.band, HealthBandCode.liquidatable);

  const dir = mkdtempSync(join(tmpdir(), "xmargin-keeper-"));
  const keypair = join(dir, "keeper.json");
  writeFileSync(keypair, JSON.stringify(Array.from(keeper.wallet.secretKey)));
  const started = Date.now();
  const run = spawnSync(bin, ["--rpc-url", process.env.ANCHOR_PROVIDER_URL!, "--keypair", keypair,
    "--group", w.client.group.toBase58(), "--once"], { encoding: "utf8", timeout: 120_000, env: { ...process.env, NO_COLOR: "1" } });
  const out = `${run.stdout}\n${run.stderr}`;
  console.log(`# keeper cycle over JSON-RPC: ${Date.now() - started} ms`);
  assert.equal(run.status, 0, out);
  assert.match(out, /liquidate_token/, out);

  // LiquidationEnd as the liquidation left it, from its event: a view read
  // later on a real clock also counts the borrow's interest accrued since
  // (a few native units a second), so it is not the step's own result.
  const signature = /kind="liquidate_token" signature=(\w+)/.exec(out)?.[1];
  assert.ok(signature, out);
  const events = await transactionEvents(w.client.program, h.provider.connection, signature);
  const liquidated = events.find((e) => e.name === "tokenLiquidated");
  assert.ok(liquidated, `no TokenLiquidated event in ${signature}`);
  assert.ok(BigInt(liquidated.data.liqeeLiqEndAfter.toString()) >= -1n, JSON.stringify(liquidated.data));
  const after = await w.health(borrower.account);
  assert.notEqual(after.view.band, HealthBandCode.liquidatable, "no longer below maintenance");
  assert.ok((await w.nativeBalance(keeper.account, "sol")) > 0n, "the keeper received SOL");
  await w.assertVaultInvariant("sol");
  await w.assertVaultInvariant("usdc");
});
