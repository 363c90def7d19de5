/**
 * The `@xmargin/client` package (issue 11): browser-safe sources (no `node:`
 * or other Node built-in imports), the compiled package in app/dist imported
 * by plain Node (CommonJS and ESM, through the `exports` map), and the
 * library's pure helpers: errors by name, UI amounts, wire stats, Ed25519
 * quotes and the oracle discriminator bit-identical with Node's crypto.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash, createPrivateKey, sign as nodeSign } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Keypair, PublicKey, SystemProgram, VersionedTransaction } from "@solana/web3.js";
import { fromUiAmount, toUiAmount } from "../app/src/amounts.ts";
import { XmarginErrorCode } from "../app/src/client.ts";
import { describeProgramError, parseProgramError, XmarginProgramError, xmarginErrorByCode } from "../app/src/errors.ts";
import { groupAddress, XMARGIN_PROGRAM_ID } from "../app/src/pda.ts";
import { signMessage, verifyMessage } from "../app/src/quote.ts";
import {
  buildLegacyMessage, buildV0Message, buildV0Transaction, computeBudgetIxs, HEAP_FRAME_BYTES, messageWireStats, TransactionTooLargeError,
} from "../app/src/transaction.ts";
import { ROOT } from "./support/harness.ts";

const APP = join(ROOT, "app");

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []);
}

/** Module specifiers a source imports (`import … from`, `export … from`, `import("…")`, `require("…")`). */
function specifiers(source: string): string[] {
  const out: string[] = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)["']([^"']+)["']/g;
  for (let m = re.exec(source); m; m = re.exec(source)) out.push(m[1]);
  return out;
}

describe("browser-safe sources", () => {
  test("no file under app/src imports node: or another Node built-in (buffer is the npm polyfill's)", () => {
    const files = tsFiles(join(APP, "src"));
    assert.ok(files.length > 10);
    const builtins = new Set(builtinModules.filter((m) => m !== "buffer"));
    for (const f of files) {
      const src = readFileSync(f, "utf8");
      for (const s of specifiers(src)) {
        assert.ok(!s.startsWith("node:"), `${f} imports ${s}`);
        assert.ok(!builtins.has(s.split("/")[0]), `${f} imports the Node built-in ${s}`);
      }
      assert.ok(!/\b(process\.|__dirname|__filename|require\.main)\b/.test(src), `${f} uses a Node global`);
      if (/\bBuffer\./.test(src)) assert.ok(/import \{ Buffer \} from "buffer";/.test(src), `${f} uses Buffer without importing it`);
    }
    // The specifier scan sees what it should.
    assert.deepEqual(specifiers(`import a from "node:fs";\nexport * from "./x.ts";\nconst b = require("os");`),
      ["node:fs", "./x.ts", "os"]);
  });
});

describe("the built package", () => {
  test("tsc builds app/dist; plain Node imports it through the exports map, CommonJS and ESM", () => {
    const tsc = spawnSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", join(APP, "tsconfig.build.json")],
      { encoding: "utf8", timeout: 300_000 });
    assert.equal(tsc.status, 0, `tsc failed:\n${tsc.stdout}${tsc.stderr}`);
    for (const f of readdirSync(join(APP, "dist")).filter((n) => n.endsWith(".js"))) {
      for (const s of specifiers(readFileSync(join(APP, "dist", f), "utf8"))) {
        assert.ok(!s.startsWith("node:") && !s.endsWith(".ts"), `dist/${f} requires ${s}`);
      }
    }
    const cjs = `
      const { PublicKey, Keypair } = require("@solana/web3.js");
      const c = require("@xmargin/client");
      const kp = Keypair.fromSeed(new Uint8Array(32).fill(3));
      console.log(JSON.stringify({
        path: require.resolve("@xmargin/client"),
        sources: Object.keys(require.cache).filter((k) => k.endsWith(".ts")),
        exports: Object.keys(c).sort(),
        group: c.groupAddress(kp.publicKey, 7).toBase58(),
        ui: c.toUiAmount(1500000000n, 9),
        error: c.xmarginErrorByCode(6000),
        signature: c.signMessage(kp, Buffer.from("xmargin")).toString("hex"),
        idl: require("@xmargin/client/idl/xmargin.json").errors.length,
      }));`;
    // No --import tsx, no xmargin-source condition: what a user of the published package gets.
    const run = spawnSync(process.execPath, ["-e", cjs], { cwd: ROOT, encoding: "utf8", timeout: 60_000, env: { ...process.env, NODE_OPTIONS: "" } });
    assert.equal(run.status, 0, run.stderr);
    const got = JSON.parse(run.stdout) as {
      path: string; sources: string[]; exports: string[]; group: string; ui: string; error: { name: string }; signature: string;
      idl: number;
    };
    assert.equal(got.path, join(APP, "dist/index.js"));
    assert.deepEqual(got.sources, [], "no TypeScript source loaded");
    for (const name of ["XmarginClient", "buildV0Transaction", "groupLookupTableAddresses", "syncGroupLookupTable", "computeHealth",
      "parseProgramError", "parseEvents", "toUiAmount", "fromUiAmount", "estimateAccountHealth", "signQuote", "deploy", "fixed",
      "maxWithdraw", "maxBorrow", "accountWithdrawLimits", "liquidationPrice", "accountLiquidationPrice", "accountLiquidationPrices",
      "maintHealthAtPrice", "priceToUi"]) {
      assert.ok(got.exports.includes(name), `the package exports ${name}`);
    }
    const kp = Keypair.fromSeed(new Uint8Array(32).fill(3));
    assert.equal(got.group, groupAddress(kp.publicKey, 7).toBase58(), "the same PDAs as the sources");
    assert.equal(got.ui, "1.5");
    assert.equal(got.error.name, "UnauthorizedAdmin");
    assert.equal(got.signature, signMessage(kp, Buffer.from("xmargin")).toString("hex"));
    assert.equal(got.idl, Object.keys(XmarginErrorCode).length);

    const esm = `
      import { XmarginClient, buildV0Transaction, toUiAmount } from "@xmargin/client";
      console.log(JSON.stringify([typeof XmarginClient, typeof buildV0Transaction, toUiAmount(-25n, 2)]));`;
    const mod = spawnSync(process.execPath, ["--input-type=module", "-e", esm], { cwd: ROOT, encoding: "utf8", timeout: 60_000,
      env: { ...process.env, NODE_OPTIONS: "" } });
    assert.equal(mod.status, 0, mod.stderr);
    assert.deepEqual(JSON.parse(mod.stdout), ["function", "function", "-0.25"]);
  });
});

describe("errors by name", () => {
  const id = XMARGIN_PROGRAM_ID.toBase58();
  const notLiquidatable = XmarginErrorCode.NotLiquidatable;

  test("the IDL's errors and Anchor's framework errors, by code", () => {
    assert.equal(xmarginErrorByCode(0x1770)?.name, "UnauthorizedAdmin");
    assert.deepEqual(xmarginErrorByCode(notLiquidatable), { name: "NotLiquidatable", source: "xmargin",
      message: xmarginErrorByCode(notLiquidatable)!.message });
    assert.ok(xmarginErrorByCode(notLiquidatable)!.message.length > 5);
    assert.deepEqual(xmarginErrorByCode(2006), { name: "ConstraintSeeds", message: "A seeds constraint was violated", source: "anchor" });
    assert.equal(xmarginErrorByCode(3012)?.name, "AccountNotInitialized");
    assert.equal(xmarginErrorByCode(1), null);
    for (const [name, code] of Object.entries(XmarginErrorCode)) assert.equal(xmarginErrorByCode(code)?.name, name);
  });

  test("from logs, RPC errors, LiteSVM's errors and messages", () => {
    const hex = `0x${notLiquidatable.toString(16)}`;
    const logs = [`Program ${id} invoke [1]`, "Program log: AnchorError occurred.", `Program ${id} consumed 5000 of 200000 compute units`,
      `Program ${id} failed: custom program error: ${hex}`];
    const fromLogs = parseProgramError({ InstructionError: [2, { Custom: notLiquidatable }] }, logs);
    assert.deepEqual({ ...fromLogs, program: fromLogs?.program?.toBase58() }, { code: notLiquidatable, name: "NotLiquidatable",
      message: xmarginErrorByCode(notLiquidatable)!.message, source: "xmargin", program: id, instructionIndex: 2 });
    assert.equal(describeProgramError(fromLogs!), `NotLiquidatable (${notLiquidatable}): ${fromLogs!.message} in instruction 2`);
    for (const err of [`TransactionErrorInstructionError { index: 1, error: Custom(${notLiquidatable}) }`,
      `{"InstructionError":[1,{"Custom":${notLiquidatable}}]}`, `InstructionError(1, Custom { code: ${notLiquidatable} })`,
      `Transaction simulation failed: Error processing Instruction 1: custom program error: ${hex}`]) {
      const p = parseProgramError(err, []);
      assert.equal(p?.name, "NotLiquidatable", err);
      assert.equal(p?.instructionIndex, 1, err);
    }
    // Another program's error is not given one of ours: SPL Token's InsufficientFunds (1) through a CPI.
    const cpi = [`Program ${id} invoke [1]`, "Program TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA invoke [2]",
      "Program TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA failed: custom program error: 0x1",
      `Program ${id} failed: custom program error: 0x1`];
    const token = parseProgramError("", cpi);
    assert.equal(token?.name, null);
    assert.equal(token?.source, "other");
    assert.equal(token?.program?.toBase58(), "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
    assert.equal(parseProgramError("InsufficientFundsForFee", []), null);
    // An error object carrying its logs (web3.js SendTransactionError, Anchor) is read too.
    const e = Object.assign(new Error("failed to send"), { logs });
    assert.throws(() => XmarginProgramError.rethrow(e), (x: unknown) => x instanceof XmarginProgramError
      && x.errorName === "NotLiquidatable" && x.code === notLiquidatable && x.cause === e);
    assert.throws(() => XmarginProgramError.rethrow(new Error("network down")), /network down/);
  });
});

describe("UI amounts", () => {
  test("native → UI", () => {
    assert.equal(toUiAmount(1_500_000_000n, 9), "1.5");
    assert.equal(toUiAmount(1n, 9), "0.000000001");
    assert.equal(toUiAmount(0n, 6), "0");
    assert.equal(toUiAmount(-2_500_000n, 6), "-2.5");
    assert.equal(toUiAmount(1_000_000n, 6, { minDecimals: 2 }), "1.00");
    assert.equal(toUiAmount(123n, 0), "123");
    assert.equal(toUiAmount("18446744073709551615", 9), "18446744073.709551615");
    assert.equal(toUiAmount({ toString: () => "42" }, 1), "4.2"); // a BN
    assert.throws(() => toUiAmount(2 ** 60, 6), RangeError);
  });

  test("UI → native, exact unless told to round", () => {
    assert.equal(fromUiAmount("1.5", 9), 1_500_000_000n);
    assert.equal(fromUiAmount(".5", 6), 500_000n);
    assert.equal(fromUiAmount("-0.25", 2), -25n);
    assert.equal(fromUiAmount("1e-3", 6), 1_000n);
    assert.equal(fromUiAmount("2.5E2", 0), 250n);
    assert.equal(fromUiAmount("1_000.10", 6), 1_000_100_000n);
    assert.equal(fromUiAmount(0.1, 9), 100_000_000n);
    assert.equal(fromUiAmount("1.2300", 2), 123n, "trailing zeros beyond the decimals are fine");
    assert.equal(fromUiAmount("18446744073.709551615", 9), 18_446_744_073_709_551_615n);
    assert.throws(() => fromUiAmount("1.234", 2), RangeError);
    assert.equal(fromUiAmount("1.234", 2, "floor"), 123n);
    assert.equal(fromUiAmount("1.234", 2, "ceil"), 124n);
    assert.equal(fromUiAmount("-1.234", 2, "floor"), -124n);
    assert.equal(fromUiAmount("-1.234", 2, "ceil"), -123n);
    assert.equal(fromUiAmount("1e-9", 6, "ceil"), 1n);
    for (const bad of ["", ".", "1.2.3", "abc", "1,5", "--1"]) assert.throws(() => fromUiAmount(bad, 6), RangeError, bad);
    for (const n of [0n, 1n, 999_999_999n, -123_456_789_012n]) assert.equal(fromUiAmount(toUiAmount(n, 9), 9), n);
  });
});

describe("v0 transactions", () => {
  test("wire stats equal the serialised size; oversized messages are measured, not serialised", () => {
    const payer = Keypair.generate().publicKey;
    const to = Array.from({ length: 40 }, () => Keypair.generate().publicKey);
    const ixs = to.map((k) => SystemProgram.transfer({ fromPubkey: payer, toPubkey: k, lamports: 1 }));
    const recentBlockhash = PublicKey.default.toBase58();
    const small = { payer, instructions: ixs.slice(0, 3), recentBlockhash, computeUnitLimit: 300_000, computeUnitPrice: 5n };
    const tx = buildV0Transaction(small);
    assert.equal(messageWireStats(tx.message).size, tx.serialize().length);
    const legacy = buildLegacyMessage(small);
    assert.equal(messageWireStats(legacy).size, 1 + 64 + legacy.serialize().length);
    assert.equal(computeBudgetIxs(small).length, 2);
    const stats = messageWireStats(buildV0Message({ payer, instructions: ixs, recentBlockhash }));
    assert.ok(stats.size > 1_232 && stats.accountLocks === 42 && !stats.fits);
    assert.throws(() => buildV0Transaction({ payer, instructions: ixs, recentBlockhash }), TransactionTooLargeError);
    assert.throws(() => computeBudgetIxs({ computeUnitLimit: 1_400_001 }), RangeError);
    // The heap frame: RequestHeapFrame (instruction 1, u32 bytes); 32..256 KiB in whole KiB.
    const [heap] = computeBudgetIxs({ heapFrameBytes: HEAP_FRAME_BYTES });
    assert.deepEqual([...heap.data], [1, ...new Uint8Array(new Uint32Array([256 * 1_024]).buffer)]);
    for (const bad of [16 * 1_024, 32 * 1_024 + 1, 257 * 1_024]) {
      assert.throws(() => computeBudgetIxs({ heapFrameBytes: bad }), RangeError);
    }
    // A message round-trips through the wire format.
    const back = VersionedTransaction.deserialize(tx.serialize());
    assert.equal(back.message.compiledInstructions.length, 5);
  });
});

describe("browser-safe crypto, bit-identical with Node's", () => {
  test("Ed25519 quote signatures and the PriceUpdateV2 discriminator", async () => {
    const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
    for (let i = 0; i < 8; i++) {
      const kp = Keypair.fromSeed(createHash("sha256").update(`seed ${i}`).digest());
      const message = createHash("sha512").update(`message ${i}`).digest().subarray(0, 100 + i);
      const key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, kp.secretKey.subarray(0, 32)]), format: "der", type: "pkcs8" });
      const expected = nodeSign(null, message, key);
      const got = signMessage(kp, message);
      assert.equal(got.toString("hex"), expected.toString("hex"));
      assert.ok(verifyMessage(kp.publicKey, message, got));
      const tampered = Buffer.from(got);
      tampered[i] ^= 1;
      assert.ok(!verifyMessage(kp.publicKey, message, tampered));
      assert.ok(!verifyMessage(Keypair.generate().publicKey, message, got));
      assert.ok(!verifyMessage(kp.publicKey, message, got.subarray(0, 63)));
    }
    const { parsePriceUpdate } = await import("../app/src/estimate.ts");
    const data = Buffer.alloc(134);
    createHash("sha256").update("account:PriceUpdateV2").digest().copy(data, 0, 0, 8);
    data.writeUInt8(1, 40);
    const reading = parsePriceUpdate(PublicKey.default, { data, owner: new PublicKey("rec5EKMGg6MxZYaMdyBfgwp4d5rB9T1VQH5pJv5LtFJ"),
      lamports: 1, executable: false, rentEpoch: 0 }, Array(32).fill(0));
    assert.equal(reading.price, 0n, "the discriminator computed without node:crypto matches");
  });
});
