/**
 * The TypeScript health estimate (`app/src/health.ts`) against the Rust risk
 * engine: every fixture in `tests/fixtures/health.json` (written and re-checked
 * by `crates/client/tests/health_fixtures.rs`) must give the same raw I80F48
 * Init / Maint / LiquidationEnd health, bit for bit, and every account the
 * program refuses must throw the matching error. Plus hand-worked checks of
 * the fixed-point helpers.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import * as F from "../app/src/fixed.ts";
import {
  biasedPrices,
  derivativeRate,
  derivativeRequirement,
  estimateHealth,
  gridSqrt,
  sizePremiumRate,
  valueDerivative,
  healthBand,
  MarketOracleUnusableError,
  nativeTotals,
  type HealthPositionInput,
  OracleUnusableError,
  pendingFunding,
  oraclePriceFromPyth,
  programErrorOf,
  toQuoteNative,
} from "../app/src/health.ts";
import { big, type Fixture, fixtures, obj, refused, text } from "./support/healthFixtures.ts";

test("the shared fixtures are there (at least 8 valued accounts, with and without derivative positions)", () => {
  assert.ok(fixtures.length >= 8, `${fixtures.length} fixtures`);
  assert.ok(refused.length > 0);
  assert.ok(fixtures.filter((f) => f.derivatives.length > 0).length >= 8, "derivative fixtures");
  assert.ok(refused.filter((f) => f.derivatives.length > 0).length >= 5, "refused derivative fixtures");
  assert.ok(fixtures.some((f) => f.ctx.unpricedLiability === "fallback"), "a fixture under the fallback rules");
});

for (const f of fixtures) {
  test(`fixture ${f.name}: Init / Maint / LiquidationEnd equal the Rust engine bit for bit`, () => {
    const expected = obj(f.raw.expected, "expected");
    const got = estimateHealth(f.positions, f.ctx, f.derivatives);
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
      () => estimateHealth(f.positions, f.ctx, f.derivatives),
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

test("derivative positions by hand: 100 SOL long from $100, profit counted at 50 % and capped at 100 USDC in Init", () => {
  const f = fixtures.find((x) => x.name === "perp_profit_beyond_init_cap");
  assert.ok(f !== undefined);
  const [d] = f.derivatives;
  assert.ok(d !== undefined);
  // 10,000 contracts of 0.01 SOL bought at 1,000,000 µUSDC each: cost 10^10 µUSDC ($10,000).
  assert.equal(d.baseContracts, 10_000n);
  assert.equal(d.quoteCost, 10_000_000_000n);
  // Init prices a long at min(spot − conf, stable) = the $148 stable price: PnL 100 · 148 − 10,000 = $4,800,
  // 50 % of it is $2,400, capped at $100; the requirement is 10 % of 100 SOL at max(spot + conf, stable)
  // = $150.22345678: $1,502.2345678 (rounded up). USDC: 100 at weight 0.95 (spot $1 − conf 0.0002).
  const usdcOnly = estimateHealth(f.positions, f.ctx);
  const withPerp = estimateHealth(f.positions, f.ctx, f.derivatives);
  const perpInit = withPerp.init - usdcOnly.init;
  const expected = F.fromInt(100_000_000n) - F.fromRatio(1_502_234_567_800n, 1_000n, "floor");
  assert.ok(expected - perpInit >= 0n && expected - perpInit < F.ONE, `${F.toDecimalString(perpInit, 6)}`);
  // Maint: PnL at spot − conf ($150.02345678) counts 90 %, uncapped; requirement 5 % at spot + conf.
  const perpMaint = withPerp.maint - usdcOnly.maint;
  const pnl = 100n * 150_023_456_780n / 1_000n - 10_000_000_000n; // 5,002,345,678 µUSDC
  const maint = (pnl * 9n) / 10n - (100n * 150_223_456_780n / 1_000n) / 20n; // 4,502,111,110 − 751,117,284
  assert.ok(F.toInt(perpMaint, "floor") - maint <= 1n && maint - F.toInt(perpMaint, "floor") <= 1n);
});

test("size premium by hand: √ on the 2^-24 grid, 100 SOL at imf 0.001 pay 18 % in Init", () => {
  // √10,000 = 100 exactly; √2 · 2^24 = 23,726,566.49…: up 23,726,567, down 23,726,566 (units of 2^-24).
  assert.equal(gridSqrt(F.fromInt(10_000n), "ceil"), F.fromInt(100n));
  assert.equal(gridSqrt(F.fromInt(2n), "ceil"), 23_726_567n << 24n);
  assert.equal(gridSqrt(F.fromInt(2n), "floor"), 23_726_566n << 24n);
  const tenPct = F.fromRatio(1_000n, 10_000n, "floor");
  const imf = F.fromRatio(1_000n, 1_000_000n, "floor");
  // No premium, or no size: the base rate, bit for bit; 100 contracts: max(10 %, 8 % + 1 %) = 10 %.
  assert.equal(sizePremiumRate(tenPct, 0n, F.fromInt(10_000n)), tenPct);
  assert.equal(sizePremiumRate(tenPct, imf, F.fromInt(100n)), tenPct);
  // 10,000 contracts: 8 % + 0.001 · 100 = 18 % (each part rounded up); capped at 1 for 10^8 contracts.
  const rate = sizePremiumRate(tenPct, imf, F.fromInt(10_000n));
  assert.equal(rate, F.mulCeil(tenPct, ((4n << 48n) + 4n) / 5n) + F.mulCeil(imf, F.fromInt(100n)));
  assert.ok(Math.abs(F.toNumber(rate) - 0.18) < 1e-12);
  assert.equal(sizePremiumRate(tenPct, imf, F.fromInt(100_000_000n)), F.ONE);

  const f = fixtures.find((x) => x.name === "perp_size_premium");
  assert.ok(f !== undefined);
  const [sol, btc] = f.derivatives.map((d) => valueDerivative(d, f.ctx));
  assert.ok(sol !== undefined && btc !== undefined);
  assert.equal(derivativeRate(sol, "init"), rate);
  // 100 SOL at the Init liability price max(spot + conf, stable) = $150.22345678: 18 % is $2,704.02222204.
  const req = F.toInt(derivativeRequirement(sol, "init"), "ceil");
  assert.ok(req - 2_704_022_223n >= -1n && req - 2_704_022_223n <= 1n, `${req}`);
  // BTC: the pending 0.0005 (due now) on 2,500 contracts: √ = 50, Init 8 % + 2.5 % = 10.5 %,
  // Maint max(5 %, 4 % + 2.5 %) = 6.5 %.
  assert.ok(Math.abs(F.toNumber(derivativeRate(btc, "init")) - 0.105) < 1e-12);
  assert.ok(Math.abs(F.toNumber(derivativeRate(btc, "maint")) - 0.065) < 1e-12);
});

test("funding a position would settle: floored, so a payer pays the fraction and a receiver forgoes it", () => {
  const f = fixtures.find((x) => x.name === "perp_unsettled_funding");
  assert.ok(f !== undefined);
  const [sol, eth, fut] = f.derivatives;
  assert.ok(sol !== undefined && eth !== undefined && fut !== undefined);
  // SOL: 300 long, index moved 987.654321 − (−12.345678) = 999.999999 per contract: owes 299,999.9997 → −300,000.
  assert.equal(pendingFunding(sol.market, sol.baseContracts, sol.fundingSnapshot), -300_000n);
  // ETH: 40 short, index moved 7/3 + 100/7 = 16.619 per contract: receives 664.76 → 664.
  assert.equal(pendingFunding(eth.market, eth.baseContracts, eth.fundingSnapshot), 664n);
  // A dated future never pays funding, whatever its index says.
  assert.equal(pendingFunding(fut.market, fut.baseContracts, fut.fundingSnapshot), 0n);
  assert.equal(pendingFunding(sol.market, 0n, sol.fundingSnapshot), 0n);
});

test("a stale market names its market; the fallback rules value it at min(last, stable) for a long", () => {
  const f = refused.find((r) => r.name === "stale_market");
  assert.ok(f !== undefined);
  const [d] = f.derivatives;
  assert.ok(d !== undefined);
  assert.throws(
    () => estimateHealth(f.positions, f.ctx, f.derivatives),
    (e: unknown) => e instanceof MarketOracleUnusableError && e.marketIndex === d.market.marketIndex &&
      e.programError === "OracleStale",
  );
  const fallback = { ...f.ctx, unpricedLiability: "fallback" as const };
  const h = estimateHealth(f.positions, fallback, f.derivatives);
  // The long is valued at the $148 stable price (below the last $150.12): the same as a fresh oracle at $148.
  const at148 = { ...d, reading: { price: 14_800_000_000n, conf: 0n, exponent: -8, publishTime: f.ctx.now } };
  const fresh = estimateHealth(f.positions, f.ctx, [at148]);
  assert.equal(h.maint, fresh.maint);
  assert.equal(h.liqEnd, fresh.liqEnd);
  // Liquidating that very market: strict, refused even under the fallback rules.
  assert.throws(() => estimateHealth(f.positions, { ...fallback, strictMarket: d.market.marketIndex }, f.derivatives),
    MarketOracleUnusableError);
});
