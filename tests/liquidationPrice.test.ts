/**
 * `maxWithdraw`, `maxBorrow` (app/src/limits.ts) and `liquidationPrice`
 * (app/src/liquidationPrice.ts) against the Rust risk engine: every valued
 * fixture in `tests/fixtures/health.json` records, per token the account
 * holds or trades derivatives on, the engine's `max_withdraw` (borrowing
 * allowed), `max_borrow` and `liquidation_price`
 * (`crates/client/tests/health_fixtures.rs`); the TypeScript functions must
 * give the same raw bits. Plus the engine's worked example by hand and the
 * boundary property on every fixture.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import * as F from "../app/src/fixed.ts";
import { type HealthPositionInput, valueToken } from "../app/src/health.ts";
import { maxBorrow, maxWithdraw, TokenNotInAccountError } from "../app/src/limits.ts";
import {
  LIQUIDATION_PRICE_MAX_RISE_BITS, liquidationPrice, maintHealthAtPrice, priceToUi,
} from "../app/src/liquidationPrice.ts";
import { type Fixture, fixtures, int, list, obj } from "./support/healthFixtures.ts";

/** A recorded limit: raw bits, `null`, or the engine's error name. */
type Recorded = { bits: bigint } | { none: true } | { error: string };

function recorded(v: unknown, what: string): Recorded {
  if (typeof v === "string") return { bits: BigInt(v) };
  if (v === null) return { none: true };
  const e = obj(v, what).error;
  assert.equal(typeof e, "string", `${what}: error name expected`);
  return { error: e as string };
}

interface Limits {
  tokenIndex: number;
  maxWithdraw: Recorded;
  maxBorrow: Recorded;
  liquidationPrice: Recorded;
}

function limits(f: Fixture): Limits[] {
  return list(f.raw.limits, `${f.name}: limits`).map((v) => {
    const l = obj(v, "limit");
    return {
      tokenIndex: int(l, "tokenIndex"),
      maxWithdraw: recorded(l.maxWithdraw, "maxWithdraw"),
      maxBorrow: recorded(l.maxBorrow, "maxBorrow"),
      liquidationPrice: recorded(l.liquidationPrice, "liquidationPrice"),
    };
  });
}

const opts = (f: Fixture) => ({ derivatives: f.derivatives });

test("every valued fixture records limits for each of its tokens, with prices both ways and none", () => {
  const all = fixtures.flatMap(limits);
  assert.ok(all.length >= 60, `${all.length} token limits`);
  const prices = all.map((l) => l.liquidationPrice);
  assert.ok(prices.filter((p) => "bits" in p).length >= 30, "liquidation prices");
  assert.ok(prices.some((p) => "none" in p), "a token with no liquidation price");
  assert.ok(prices.some((p) => "error" in p), "a token nothing moves with");
  assert.ok(all.some((l) => "bits" in l.maxBorrow && l.maxBorrow.bits > 0n), "a positive max borrow");
});

for (const f of fixtures) {
  test(`fixture ${f.name}: max withdraw, max borrow and liquidation price equal the engine's bit for bit`, () => {
    for (const l of limits(f)) {
      const where = `${f.name}, token ${l.tokenIndex}`;
      const held = f.positions.find((p) => p.bank.tokenIndex === l.tokenIndex);
      const limitsOf = () => [
        maxWithdraw(f.positions, f.ctx, l.tokenIndex, opts(f)),
        maxBorrow(f.positions, f.ctx, l.tokenIndex, opts(f)),
      ];
      if (held === undefined) {
        // Held only through derivatives: the TypeScript API wants a (zero) position.
        assert.throws(limitsOf, TokenNotInAccountError, where);
      } else if (valueToken(held, f.ctx) === null) {
        // An asset without a usable price: not in the engine's cache (TokenNotFound, or 0 where
        // Init ≤ 0 answers first); the TypeScript functions say it cannot be withdrawn.
        assert.deepEqual(limitsOf(), [0n, 0n], where);
        for (const r of [l.maxWithdraw, l.maxBorrow]) {
          assert.ok(("error" in r && r.error === "TokenNotFound") || ("bits" in r && r.bits === 0n), where);
        }
      } else {
        const [w, b] = limitsOf();
        assert.deepEqual([l.maxWithdraw, l.maxBorrow], [{ bits: w << 48n }, { bits: b << 48n }], where);
      }
      const p = l.liquidationPrice;
      if ("error" in p) {
        assert.equal(p.error, "TokenNotFound", where);
        assert.throws(() => liquidationPrice(f.positions, f.ctx, l.tokenIndex, opts(f)), TokenNotInAccountError, where);
      } else {
        const got = liquidationPrice(f.positions, f.ctx, l.tokenIndex, opts(f));
        assert.equal(got, "bits" in p ? p.bits : null, where);
      }
    }
  });
}

test("every fixture's liquidation price is a boundary: liquidatable there, not one ulp back toward now", () => {
  let checked = 0;
  for (const f of fixtures) {
    for (const l of limits(f)) {
      if (!("bits" in l.liquidationPrice)) continue;
      const p = l.liquidationPrice.bits;
      const at = (price: bigint) => maintHealthAtPrice(f.positions, f.ctx, l.tokenIndex, price, opts(f));
      const held = f.positions.find((x) => x.bank.tokenIndex === l.tokenIndex);
      const t = held ? valueToken(held, f.ctx) : null;
      const p0 = t ? t.prices.oracle : null;
      assert.ok(at(p) < 0n, `${f.name}, token ${l.tokenIndex}`);
      if (p0 !== null && p !== p0) {
        assert.ok(at(p < p0 ? p + 1n : p - 1n) >= 0n, `${f.name}, token ${l.tokenIndex}: one ulp back`);
      }
      checked++;
    }
  }
  assert.ok(checked >= 30);
});

test("the engine's worked example by hand: 10 SOL against 1,000 USDC are liquidated at $111.2111", () => {
  // SOL $150.00 ± 0.10 (9 decimals), USDC $1 exact; Maint weights 0.9 (SOL asset), 1 (USDC liability).
  const f = fixtures.find((x) => x.name === "usdc_deposit");
  assert.ok(f !== undefined);
  const usdcTemplate = f.positions[0] as HealthPositionInput;
  const one = F.ONE;
  const flat = { ...usdcTemplate.bank.risk, initAssetWeight: one, maintAssetWeight: one, liqEndAssetWeight: one,
    initLiabWeight: one, maintLiabWeight: one, liqEndLiabWeight: one };
  const usdc: HealthPositionInput = {
    bank: { ...usdcTemplate.bank, risk: flat, confMultiplier: 0n },
    reading: { ...usdcTemplate.reading, price: 100_000_000n, conf: 0n },
    shares: -F.fromInt(1_000_000_000n),
  };
  const w = (bps: bigint) => F.fromRatio(bps, 10_000n, "floor");
  const solRisk = { ...usdcTemplate.bank.risk, initAssetWeight: w(8_000n), maintAssetWeight: w(9_000n),
    liqEndAssetWeight: w(8_500n), initLiabWeight: w(12_000n), maintLiabWeight: w(11_000n), liqEndLiabWeight: w(11_500n) };
  const sol: HealthPositionInput = {
    bank: { ...usdcTemplate.bank, tokenIndex: 1, mintDecimals: 9, risk: solRisk, confMultiplier: one, stablePrice: 0n },
    reading: { ...usdcTemplate.reading, price: 15_000_000_000n, conf: 10_000_000n },
    shares: F.fromInt(10_000_000_000n),
  };
  const p = liquidationPrice([usdc, sol], f.ctx, 1);
  // 10^10 · (P − 0.0001) · 0.9 = 10^9: P = 1/9 + 0.0001 µUSDC per lamport; in raw bits
  // 2^48/9 + 2^48/10^4 = 31,303,144,909,966.18, and the engine's answer is its ceiling.
  assert.equal(p, 31_303_144_909_967n);
  assert.equal(priceToUi(p as bigint, 9, 6), "111.2112"); // a long's price shown rounded up
  assert.equal(priceToUi(p as bigint, 9, 6, 4, "floor"), "111.2111");
  assert.deepEqual([priceToUi(F.fromRatio(15, 100, "floor"), 9, 6, 2), priceToUi(F.fromRatio(15, 100, "floor"), 9, 6, 2, "floor")],
    ["150.00", "149.99"]);
  // Borrowing 100 SOL against 20,000 USDC instead: the price rising to 0.181718… ($181.7182).
  const lender: HealthPositionInput = { ...usdc, shares: F.fromInt(20_000_000_000n) };
  const borrower: HealthPositionInput = { ...sol, shares: -F.fromInt(100_000_000_000n) };
  const q = liquidationPrice([lender, borrower], f.ctx, 1);
  assert.ok(q !== null && Math.abs(F.toNumber(q) - (2 / 11 - 0.0001)) < 1e-13, `${q}`);
  assert.equal(priceToUi(q as bigint, 9, 6, 4, "floor"), "181.7181");
  // No debt: never liquidated; a tiny borrow: only past a 65,536-fold rise, so none.
  assert.equal(liquidationPrice([sol], f.ctx, 1), null);
  const dust: HealthPositionInput = { ...sol, shares: -F.fromInt(1_000n) };
  assert.equal(liquidationPrice([lender, dust], f.ctx, 1), null);
  const far = F.fromInt(100_000_000n); // $10^11 per SOL: 1,000 lamports owe 1.1 · 10^11 µUSDC
  const p0 = F.div(F.fromInt(15n), F.fromInt(100n), "floor"); // 0.15 µUSDC per lamport
  assert.ok(far > p0 << LIQUIDATION_PRICE_MAX_RISE_BITS, "beyond the searched range");
  assert.ok(maintHealthAtPrice([lender, dust], f.ctx, 1, far) < 0n);
  // Already liquidatable (2 SOL against 1,000 USDC): the current price, 0.15 (floored to the binary grid).
  const two: HealthPositionInput = { ...sol, shares: F.fromInt(2_000_000_000n) };
  assert.equal(liquidationPrice([usdc, two], f.ctx, 1), p0);
  assert.throws(() => liquidationPrice([usdc, sol], f.ctx, 7), TokenNotInAccountError);
});
