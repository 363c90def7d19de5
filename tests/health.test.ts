/**
 * The TypeScript health estimate (`app/src/health.ts`) against the Rust risk
 * engine: every fixture in `tests/fixtures/health.json` (written and re-checked
 * by `crates/client/tests/health_fixtures.rs`) must give the same raw I80F48
 * Init / Maint / LiquidationEnd health, bit for bit, and every account the
 * program refuses must throw the matching error. Plus hand-worked checks of
 * the fixed-point helpers.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import * as F from "../app/src/fixed.ts";
import {
  biasedPrices,
  estimateHealth,
  healthBand,
  type HealthBankInput,
  nativeTotals,
  type HealthPositionInput,
  OracleUnusableError,
  oraclePriceFromPyth,
  programErrorOf,
  type RiskParamsInput,
  toQuoteNative,
} from "../app/src/health.ts";

type Obj = Record<string, unknown>;

function obj(v: unknown, what: string): Obj {
  assert.ok(typeof v === "object" && v !== null && !Array.isArray(v), `${what}: object expected`);
  return v as Obj;
}

function list(v: unknown, what: string): unknown[] {
  assert.ok(Array.isArray(v), `${what}: array expected`);
  return v;
}

/** A 64/128-bit value: the fixtures store them as decimal strings. */
function big(o: Obj, key: string): bigint {
  const v = o[key];
  assert.equal(typeof v, "string", `${key}: decimal string expected`);
  return BigInt(v as string);
}

function int(o: Obj, key: string): number {
  const v = o[key];
  assert.ok(Number.isSafeInteger(v), `${key}: integer expected`);
  return v as number;
}

function text(o: Obj, key: string): string {
  const v = o[key];
  assert.equal(typeof v, "string", `${key}: string expected`);
  return v as string;
}

function risk(v: unknown): RiskParamsInput {
  const r = obj(v, "risk");
  return {
    initAssetWeight: big(r, "initAssetWeight"),
    liqEndAssetWeight: big(r, "liqEndAssetWeight"),
    maintAssetWeight: big(r, "maintAssetWeight"),
    maintLiabWeight: big(r, "maintLiabWeight"),
    liqEndLiabWeight: big(r, "liqEndLiabWeight"),
    initLiabWeight: big(r, "initLiabWeight"),
    depositCap: big(r, "depositCap"),
    borrowLimit: big(r, "borrowLimit"),
    depositWeightScaleStart: big(r, "depositWeightScaleStart"),
    borrowWeightScaleStart: big(r, "borrowWeightScaleStart"),
  };
}

function bank(v: unknown): HealthBankInput {
  const b = obj(v, "bank");
  return {
    tokenIndex: int(b, "tokenIndex"),
    mintDecimals: int(b, "mintDecimals"),
    depositIndex: big(b, "depositIndex"),
    borrowIndex: big(b, "borrowIndex"),
    depositShares: big(b, "depositShares"),
    borrowShares: big(b, "borrowShares"),
    stablePrice: big(b, "stablePrice"),
    confMultiplier: big(b, "confMultiplier"),
    maxConfRatio: big(b, "maxConfRatio"),
    maxOracleAgeSecs: int(b, "maxOracleAgeSecs"),
    risk: risk(b.risk),
    pendingRisk: risk(b.pendingRisk),
    pendingActivationTs: big(b, "pendingActivationTs"),
    maxRate: big(b, "maxRate"),
    lastAccrualTs: big(b, "lastAccrualTs"),
  };
}

function position(v: unknown): HealthPositionInput {
  const p = obj(v, "position");
  const r = obj(p.reading, "reading");
  return {
    bank: bank(p.bank),
    reading: {
      price: big(r, "price"),
      conf: big(r, "conf"),
      exponent: int(r, "exponent"),
      publishTime: big(r, "publishTime"),
    },
    shares: big(p, "shares"),
  };
}

interface Fixture {
  name: string;
  ctx: { quoteDecimals: number; now: bigint };
  positions: HealthPositionInput[];
  raw: Obj;
}

function fixture(v: unknown): Fixture {
  const f = obj(v, "fixture");
  return {
    name: text(f, "name"),
    ctx: { quoteDecimals: int(f, "quoteDecimals"), now: big(f, "now") },
    positions: list(f.positions, "positions").map(position),
    raw: f,
  };
}

const file = obj(JSON.parse(readFileSync(join(__dirname, "fixtures/health.json"), "utf8")), "health.json");
const fixtures = list(file.fixtures, "fixtures").map(fixture);
const refused = list(file.refused, "refused").map(fixture);

test("the shared fixtures are there (at least 8 valued accounts)", () => {
  assert.ok(fixtures.length >= 8, `${fixtures.length} fixtures`);
  assert.ok(refused.length > 0);
});

for (const f of fixtures) {
  test(`fixture ${f.name}: Init / Maint / LiquidationEnd equal the Rust engine bit for bit`, () => {
    const expected = obj(f.raw.expected, "expected");
    const got = estimateHealth(f.positions, f.ctx);
    assert.deepEqual(got, {
      init: big(expected, "init"),
      maint: big(expected, "maint"),
      liqEnd: big(expected, "liqEnd"),
    });
    assert.equal(healthBand(got), text(expected, "band"));
  });
}

for (const f of refused) {
  test(`refused ${f.name}: throws what the program would (${String(f.raw.expectedError)})`, () => {
    assert.throws(
      () => estimateHealth(f.positions, f.ctx),
      (e: unknown) => programErrorOf(e) === text(f.raw, "expectedError"),
    );
  });
}

test("a stale liability names its token; the same price on an asset values it at 0", () => {
  const f = refused.find((r) => r.name === "stale_liability");
  assert.ok(f !== undefined);
  const liability = f.positions[1] as HealthPositionInput;
  const token = liability.bank.tokenIndex;
  assert.throws(
    () => estimateHealth([liability], f.ctx),
    (e: unknown) => e instanceof OracleUnusableError && e.tokenIndex === token && e.programError === "OracleStale",
  );
  const asAsset = { ...liability, shares: -liability.shares };
  assert.deepEqual(estimateHealth([asAsset], f.ctx), { init: 0n, maint: 0n, liqEnd: 0n });
  // The instruction's own token (strict) or liquidation (strict all) refuse it even as an asset.
  assert.throws(() => estimateHealth([asAsset], { ...f.ctx, strictToken: token }), OracleUnusableError);
  assert.throws(() => estimateHealth([asAsset], { ...f.ctx, strictAll: true }), OracleUnusableError);
});

test("bank totals: deposits floored, borrows ceiled (a 1-ulp effect no fixture can pin)", () => {
  const b = (fixtures[0] as Fixture).positions[0]?.bank;
  assert.ok(b !== undefined);
  const half = { ...b, depositShares: 1n, borrowShares: 1n, depositIndex: F.HALF, borrowIndex: F.HALF };
  assert.deepEqual(nativeTotals(half), [0n, 1n]);
});

test("mulFloor / mulCeil round toward -inf / +inf, also for negative values", () => {
  const ulp = 1n;
  assert.equal(F.mulFloor(ulp, F.HALF), 0n); // +0.5 ulp
  assert.equal(F.mulCeil(ulp, F.HALF), 1n);
  assert.equal(F.mulFloor(-ulp, F.HALF), -1n); // -0.5 ulp: floor is more negative
  assert.equal(F.mulCeil(-ulp, F.HALF), 0n);
  assert.equal(F.mulFloor(-ulp, -ulp), 0n); // +2^-48 ulp
  assert.equal(F.mulCeil(-ulp, -ulp), 1n);
  // Exact products need no rounding: -1.5 · 2.5 = -3.75.
  const a = F.fromRatio(-3, 2, "floor");
  const b = F.fromRatio(5, 2, "floor");
  assert.equal(F.mulFloor(a, b), F.fromRatio(-15, 4, "floor"));
  assert.equal(F.mulCeil(a, b), F.mulFloor(a, b));
  // -1/3 = -93824992236885.33… ulps.
  assert.equal(F.mulDiv(F.ONE, -1n, 3n, "floor"), -93_824_992_236_886n);
  assert.equal(F.mulDiv(F.ONE, -1n, 3n, "ceil"), -93_824_992_236_885n);
  assert.equal(F.fromRatio(1, 3, "ceil") - F.fromRatio(1, 3, "floor"), 1n);
});

test("overflow and division by zero throw where Rust errors", () => {
  assert.throws(() => F.mulFloor(F.MAX, F.fromInt(2)), F.FixedOverflowError);
  assert.throws(() => F.mulCeil(F.MAX, F.ONE + 1n), F.FixedOverflowError); // MAX + a fraction, rounded up
  assert.equal(F.mulFloor(F.MAX, F.ONE), F.MAX);
  assert.throws(() => F.add(F.MAX, 1n), F.FixedOverflowError);
  assert.throws(() => F.mulDiv(F.ONE, F.ONE, 0n, "floor"), F.DivisionByZeroError);
  assert.throws(() => F.fromInt(1n << 79n), F.FixedOverflowError);
});

test("stored limbs <-> signed 128-bit raw, conversions", () => {
  const u64Max = (1n << 64n) - 1n;
  assert.equal(F.fromStoredFixed(u64Max, u64Max), -1n);
  assert.equal(F.fromStoredFixed(0n, 1n << 63n), -(1n << 127n));
  assert.equal(F.fromStoredFixed(1n << 48n, 0n), F.ONE);
  const v = F.fromRatio(-10_456, 10_000, "floor");
  assert.equal(F.fromStoredFixed(...F.toStoredFixed(v)), v);
  assert.throws(() => F.fromStoredFixed(-1n, 0n), RangeError);
  assert.equal(F.toDecimalString(F.fromRatio(-3, 4, "floor")), "-0.75");
  assert.equal(F.toNumber(F.fromRatio(-3, 4, "floor")), -0.75);
  assert.equal(toQuoteNative(-1n), -1n); // floor, not truncation
  assert.equal(toQuoteNative(F.fromInt(5) + 1n), 5n);
  assert.equal(toQuoteNative(F.MAX), (1n << 63n) - 1n); // saturates like to_quote_native
});

test("10 SOL at $150 +- 0.10, weight 0.8, conf multiplier 1: Init value 1,199.20 USDC up to the floor", () => {
  // $150 (expo -8), 9-decimal token, 6-decimal quote: 0.15 µUSDC per lamport, conf 0.0001.
  const oracle = oraclePriceFromPyth(15_000_000_000n, 10_000_000n, -8, 9, 6);
  const prices = biasedPrices(oracle, F.fromRatio(16, 100, "floor"), F.ONE); // stable above spot: no cap
  const unit = F.mulFloor(prices.initAsset, F.fromRatio(8, 10, "floor"));
  const value = F.mulFloor(F.fromInt(10_000_000_000n), unit);
  const exact = F.fromInt(1_199_200_000n); // 10 · (150 − 0.10) · 0.8 USDC in µUSDC
  assert.ok(value <= exact, "rounded against the user");
  assert.ok(exact - value < F.ONE, "by less than one µUSDC");
  assert.equal(toQuoteNative(value), 1_199_199_999n);
  assert.equal(F.toNumber(value).toFixed(3), "1199200000.000");
});

test("confidence check on the mantissas, exact at the boundary (pyth_conf_within)", async () => {
  const { pythConfWithin } = await import("../app/src/health.ts");
  const { fromRatio } = await import("../app/src/fixed.ts");
  // conf 1 on price 64: ratio exactly 1/64.
  assert.equal(pythConfWithin(64n, 1n, fromRatio(1n, 64n, "floor")), true);
  assert.equal(pythConfWithin(64n, 1n, fromRatio(15n, 1000n, "floor")), false);
  // $150 ± 3.00 is exactly 2 %, but the stored 2 % is rounded down: refused; ± 2.99999999 passes.
  const twoPercent = fromRatio(200n, 10_000n, "floor");
  assert.equal(pythConfWithin(15_000_000_000n, 300_000_000n, twoPercent), false);
  assert.equal(pythConfWithin(15_000_000_000n, 299_999_999n, twoPercent), true);
  assert.equal(pythConfWithin(0n, 0n, twoPercent), false);
  assert.equal(pythConfWithin(-5n, 0n, twoPercent), false);
});
