/**
 * The Rust CLI's admin and user commands (`xmargin`, crates/cli) against a real
 * validator over JSON-RPC: create a group, list banks from the deploy config's
 * format, open an account, deposit, borrow, repay, show. Runs in rpc mode
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
  const cli = (...args: string[]) => {
    const r = spawnSync(bin, [...args, "--rpc-url", process.env.ANCHOR_PROVIDER_URL!, "--keypair", keypair],
      { encoding: "utf8", timeout: 60_000 });
    const out = `${r.stdout}${r.stderr}`;
    assert.equal(r.status, 0, `xmargin ${args.join(" ")}:\n${out}`);
    return out;
  };

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

  // Bad input is refused with a reason and a non-zero exit.
  const bad = spawnSync(bin, ["deposit", "--group", g, "--token-index", "1", "--amount", "x",
    "--rpc-url", process.env.ANCHOR_PROVIDER_URL!, "--keypair", keypair], { encoding: "utf8" });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /invalid value 'x' for '--amount/);
});
