/**
 * The Rust CLI's admin and user commands (`xmargin`, crates/cli) against a real
 * validator over JSON-RPC: create a group, list banks from the deploy config's
 * format, open an account, deposit, borrow, repay, show; list an option
 * series, refresh its risk arrays, raise a volatility. Runs in rpc mode
 * (scripts/localnet test builds the binary); skipped on the in-process SVM.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  ACCOUNT_SIZE, createInitializeAccount3Instruction, createInitializeMint2Instruction, createMintToInstruction, MINT_SIZE,
  TOKEN_PROGRAM_ID, unpackAccount,
} from "@solana/spl-token";
import { Keypair, SystemProgram } from "@solana/web3.js";
import { XmarginClient } from "../app/src/client.ts";
import { clusterTime } from "../app/src/estimate.ts";
import type { DeployConfig } from "../app/src/deploy.ts";
import { groupAddress } from "../app/src/pda.ts";
import { assertProgramFresh, makeHarness, ROOT } from "./support/harness.ts";
import { oracleAddress } from "./support/pyth.ts";

test("xmargin CLI: admin and user commands over JSON-RPC", async (t) => {
  assertProgramFresh();
  const h = await makeHarness();
  if (h.mode !== "rpc") {
    t.skip("needs a real validator (scripts/localnet test)");
    return;
  }
  const bin = process.env.XMARGIN_CLI_BIN ?? join(ROOT, "target/debug/xmargin");
  assert.ok(existsSync(bin), `${bin} missing: cargo build -p xmargin-cli`);
  const me = await h.newWallet(50);
  const dir = mkdtempSync(join(tmpdir(), "xmargin-cli-"));
  const keypair = join(dir, "me.json");
  writeFileSync(keypair, JSON.stringify(Array.from(me.secretKey)));
  const run = (...args: string[]) => {
    const r = spawnSync(bin, [...args, "--rpc-url", process.env.ANCHOR_PROVIDER_URL!, "--keypair", keypair],
      { encoding: "utf8", timeout: 60_000 });
    assert.equal(r.status, 0, `xmargin ${args.join(" ")}:\n${r.stdout}${r.stderr}`);
    return r;
  };
  const cli = (...args: string[]) => {
    const r = run(...args);
    return `${r.stdout}${r.stderr}`;
  };
  /** `--output json`: stdout is the document alone (the program's off-chain logs go to stderr). */
  const cliJson = (...args: string[]) => JSON.parse(run(...args, "--output", "json").stdout);

  // Mints (USDC 6, SOL 9) owned by `me`, and my token accounts.
  const usdc = Keypair.generate();
  const sol = Keypair.generate();
  const rent = await h.provider.connection.getMinimumBalanceForRentExemption(MINT_SIZE);
  await h.send([usdc, sol].flatMap((m, i) => [
    SystemProgram.createAccount({ fromPubkey: h.payer.publicKey, newAccountPubkey: m.publicKey, space: MINT_SIZE,
      lamports: rent, programId: TOKEN_PROGRAM_ID }),
    createInitializeMint2Instruction(m.publicKey, [6, 9][i], h.payer.publicKey, null),
  ]), [usdc, sol]);

  cli("create-group", "--quote-mint", usdc.publicKey.toBase58(), "--loosen-delay-secs", "3600");
  const group = groupAddress(me.publicKey, 0);
  const shipped = JSON.parse(readFileSync(join(ROOT, "migrations/config.json"), "utf8")) as DeployConfig;
  [[usdc, "usdc"], [sol, "sol"]].forEach(([mint, feed], i) => {
    const bank = { ...shipped.banks[i], mint: (mint as Keypair).publicKey.toBase58(), oracle: oracleAddress(feed as string).toBase58() };
    writeFileSync(join(dir, `bank${i}.json`), JSON.stringify(bank));
  });
  cli("add-bank", "--group", group.toBase58(), "--bank-config", join(dir, "bank0.json"));
  cli("add-bank", "--group", group.toBase58(), "--bank-config", join(dir, "bank1.json"));
  const client = new XmarginClient(h.provider, group);
  const banks = await client.loadBanks();
  assert.equal(banks.size, 2);
  assert.ok(banks.get(1)!.mint.equals(sol.publicKey));

  // A lender (through the TS client) so there is USDC to borrow; then the CLI user.
  const tokenAccount = async (owner: Keypair, mint: Keypair, amount: bigint) => {
    const acc = Keypair.generate();
    const r = await h.provider.connection.getMinimumBalanceForRentExemption(ACCOUNT_SIZE);
    await h.send([
      SystemProgram.createAccount({ fromPubkey: h.payer.publicKey, newAccountPubkey: acc.publicKey, space: ACCOUNT_SIZE,
        lamports: r, programId: TOKEN_PROGRAM_ID }),
      createInitializeAccount3Instruction(acc.publicKey, mint.publicKey, owner.publicKey),
      createMintToInstruction(mint.publicKey, acc.publicKey, h.payer.publicKey, amount),
    ], [acc]);
    return acc.publicKey;
  };
  const lender = await h.newWallet();
  const lenderUsdc = await tokenAccount(lender, usdc, 10_000_000_000n);
  await h.send([await client.createAccountIx(lender.publicKey)], [lender]);
  await h.send([await client.depositIx({ account: client.marginAccountAddress(lender.publicKey), tokenIndex: 0,
    amount: 10_000_000_000n, tokenAccount: lenderUsdc, authority: lender.publicKey })], [lender]);

  const mySol = await tokenAccount(me, sol, 10_000_000_000n);
  const myUsdc = await tokenAccount(me, usdc, 0n);
  const g = group.toBase58();
  cli("create-account", "--group", g);
  // Amounts in UI units (the bank's mint decimals): 10 SOL, 500 USDC, 200 USDC.
  cli("deposit", "--group", g, "--token-index", "1", "--amount", "10", "--token-account", mySol.toBase58());
  cli("withdraw", "--group", g, "--token-index", "0", "--amount", "500", "--token-account", myUsdc.toBase58());
  const balance = async (k: typeof myUsdc) => unpackAccount(k, (await h.getAccount(k))!).amount;
  assert.equal(await balance(myUsdc), 500_000_000n, "borrowed 500 USDC");
  const repaid = JSON.parse(cli("repay", "--group", g, "--token-index", "0", "--amount-native", "200000000",
    "--token-account", myUsdc.toBase58(), "--output", "json"));
  assert.equal(repaid.amount, "200.000000");
  assert.equal(typeof repaid.signature, "string");
  assert.equal(await balance(myUsdc), 300_000_000n);
  const shown = cli("show", "--group", g);
  assert.match(shown, new RegExp(client.marginAccountAddress(me.publicKey).toBase58()));
  assert.match(shown, /2 accounts, 2 valued/);
  const mine = JSON.parse(cli("show", client.marginAccountAddress(me.publicKey).toBase58(), "--output", "json"));
  assert.equal(mine.band, "healthy");
  assert.equal(mine.tokens[1].balance, "10.000000000");
  assert.ok(mine.tokens[1].liquidation_price.price > 0, "a SOL price liquidates the 300 USDC debt");

  // An option series (the shipped entry, two strikes, one expiry 30 days out): listed with each first
  // risk array, refreshed by anyone, shown with the arrays' status.
  const expiry = (await clusterTime(client)) + 30n * 86_400n;
  const listed = cliJson("add-option-series", "--group", g, "--series-config", join(ROOT, "crates/cli/configs/sol-options.json"),
    "--strikes", "1500000,1650000", "--expiries", `${expiry}`);
  assert.deepEqual(listed.markets.map((m: { name: string }) => m.name.slice(0, 8)), ["SOL-150C", "SOL-150P", "SOL-165C", "SOL-165P"]);
  assert.equal(listed.signatures.length, 8, "each market listed, then its first risk array");
  const refreshed = cliJson("update-risk-array", "--group", g);
  assert.equal(refreshed.markets.length, 4);
  const raised = cliJson("set-volatility", "--group", g, "--market-index", "0", "--volatility-bps", "7000");
  assert.equal(raised.volatility_bps, 7_000);
  const options = cliJson("show", "--group", g).markets
    .map((m: { option: { risk_array: string } | null }) => m.option?.risk_array);
  assert.deepEqual(options, ["stale", "fresh", "fresh", "fresh"], "a raised volatility makes the array stale");

  // Bad input is refused with a reason and a non-zero exit.
  const bad = spawnSync(bin, ["deposit", "--group", g, "--token-index", "1", "--amount", "x",
    "--rpc-url", process.env.ANCHOR_PROVIDER_URL!, "--keypair", keypair], { encoding: "utf8" });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /invalid value 'x' for '--amount/);
});
