/**
 * Portfolio margin mode in the client estimate (`app/src/portfolioHealth.ts`,
 * `app/src/riskGrid.ts`) against the Rust engine, to the last unit: every
 * portfolio fixture of `tests/fixtures/health.json` (written by
 * `crates/client/tests/health_fixtures.rs` from the program's own valuation)
 * — health of all three types, every underlying's book (requirement per type,
 * Init scenario / linear / contingency / worst loss and scenario), the linear
 * fallback of an option at its bounds, the program's refusals — and the grid
 * (scenarios, weights, id) built from the group's parameters.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { healthBand, programErrorOf } from "../app/src/health.ts";
import { TokenNotInAccountError } from "../app/src/limits.ts";
import { liquidationPrice } from "../app/src/liquidationPrice.ts";
import { OptionNotValuedError } from "../app/src/optionHealth.ts";
import { estimatePortfolioHealth, type PortfolioEstimate } from "../app/src/portfolioHealth.ts";
import { DEFAULT_RISK_GRID, groupRiskGrid, portfolioParams, riskGrid } from "../app/src/riskGrid.ts";
import {
  big, gridOf, list, obj, type Obj, portfolioCustomGrid, portfolioFixtures, portfolioGrid, text,
} from "./support/healthFixtures.ts";

const valued = portfolioFixtures.filter((f) => f.raw.expected !== undefined);
const refused = portfolioFixtures.filter((f) => f.raw.expectedError !== undefined);

function perType(v: unknown) {
  const o = obj(v, "per type");
  return { init: big(o, "init"), maint: big(o, "maint"), liqEnd: big(o, "liqEnd") };
}

function expectedBooks(v: unknown): PortfolioEstimate["books"] {
  if (v === null) return null;
  return list(v, "books").map((b) => {
    const o = obj(b, "book");
    const i = obj(o.init, "init");
    const worst = i.worstScenario === null ? null : (i.worstScenario as number);
    return { underlying: o.underlying as number, requirement: perType(o.requirement), init: {
      underlying: o.underlying as number, requirement: big(i, "requirement"), scenario: big(i, "scenario"),
      linear: big(i, "linear"), worstLoss: big(i, "worstLoss"), worstScenario: worst, contingency: big(i, "contingency") } };
  });
}

test("the portfolio fixtures cover a hedge, options, several underlyings, the linear fallback and refusals", () => {
  assert.ok(valued.length >= 8 && refused.length >= 2, `${valued.length} + ${refused.length}`);
  for (const name of ["portfolio_hedged_sol_short_perp", "portfolio_covered_call", "portfolio_put_spread",
    "portfolio_several_underlyings", "portfolio_option_at_bounds_is_linear", "portfolio_settled_option",
    "portfolio_group_grid"]) {
    assert.ok(valued.some((f) => f.name === name), name);
  }
  for (const f of portfolioFixtures) assert.equal(f.raw.marginMode, "portfolio", f.name);
});

for (const [which, built] of [["default", portfolioGrid], ["a group's own", portfolioCustomGrid]] as const) {
  test(`the ${which} grid built from the group's parameters is the engine's: every scenario and the id`, () => {
    const params = gridOf(built.params);
    assert.ok(params !== undefined);
    if (which === "default") assert.deepEqual(params, DEFAULT_RISK_GRID);
    const p = portfolioParams(params);
    const grid = riskGrid(p.priceShocks, p.volShocks);
    assert.equal(grid.id, built.gridId);
    assert.equal(grid.id, params.gridId);
    assert.equal(grid.scenarios.length, params.gridLen);
    assert.deepEqual(grid.scenarios, list(built.scenarios, "scenarios").map((s) => {
      const o = obj(s, "scenario") as Obj;
      return { priceShock: big(o, "priceShock"), volShock: big(o, "volShock"), weight: big(o, "weight") };
    }));
  });
}

test("the decoder hook reads the group's grid in force: the pending one once due, the default before it was stored", () => {
  assert.deepEqual(groupRiskGrid({}, 0n), DEFAULT_RISK_GRID);
  const custom = gridOf(portfolioCustomGrid.params)!;
  const stored = (g: typeof custom) => ({ gridId: g.gridId, maxAgeSecs: Number(g.maxAgeSecs),
    priceShocksBps: [...g.priceShocksBps, ...new Array(10 - g.priceShocksBps.length).fill(0)],
    volShocksBps: [...g.volShocksBps, ...new Array(4 - g.volShocksBps.length).fill(0)],
    shockScaleBps: g.shockScaleBps, floorBps: g.floorBps, maxDriftBps: Number(g.maxDriftBps),
    priceShockCount: g.priceShocksBps.length, volShockCount: g.volShocksBps.length, gridLen: g.gridLen });
  const group = { riskGrid: stored(DEFAULT_RISK_GRID), pendingRiskGrid: stored(custom), pendingRiskGridTs: 100n };
  assert.deepEqual(groupRiskGrid(group, 99n), DEFAULT_RISK_GRID);
  assert.deepEqual(groupRiskGrid(group, 100n), custom);
  assert.deepEqual(groupRiskGrid({ ...group, pendingRiskGridTs: 0n }, 1_000n), DEFAULT_RISK_GRID);
  // A group created before the grid was stored: zero bytes read as the defaults (`risk_grid_at`).
  const zeroed = { ...stored(DEFAULT_RISK_GRID), gridId: 0, gridLen: 0, priceShockCount: 0, volShockCount: 0 };
  assert.deepEqual(groupRiskGrid({ riskGrid: zeroed, pendingRiskGrid: zeroed, pendingRiskGridTs: 0n }, 5n),
    DEFAULT_RISK_GRID);
  assert.deepEqual(groupRiskGrid({ ...group, riskGrid: zeroed }, 1_000n), custom);
});

for (const f of valued) {
  test(`portfolio fixture ${f.name}: health and every book equal the Rust engine to the unit`, () => {
    const expected = obj(f.raw.expected, "expected");
    const got = estimatePortfolioHealth(f.positions, f.ctx, f.derivatives);
    assert.deepEqual({ init: got.init, maint: got.maint, liqEnd: got.liqEnd },
      { init: big(expected, "init"), maint: big(expected, "maint"), liqEnd: big(expected, "liqEnd") });
    assert.equal(healthBand(got), text(expected, "band"));
    assert.deepEqual(got.books, expectedBooks(expected.books));
  });
}

for (const f of refused) {
  test(`refused portfolio fixture ${f.name}: throws what the program would (${String(f.raw.expectedError)})`, () => {
    assert.throws(() => estimatePortfolioHealth(f.positions, f.ctx, f.derivatives),
      (e: unknown) => programErrorOf(e) === text(f.raw, "expectedError"));
  });
}

const withPrices = valued.filter((f) => f.raw.limits !== undefined);

test("portfolio liquidation prices: recorded for the accounts without options", () => {
  assert.ok(withPrices.length >= 4, `${withPrices.length}`);
});

for (const f of withPrices) {
  test(`portfolio fixture ${f.name}: each token's liquidation price on portfolio health equals the engine's bits`, () => {
    for (const l of list(f.raw.limits, "limits")) {
      const o = obj(l, "limit");
      const tokenIndex = o.tokenIndex as number;
      const recorded = o.liquidationPrice;
      const where = `${f.name} token ${tokenIndex}`;
      const opts = { derivatives: f.derivatives, portfolio: true };
      if (recorded !== null && typeof recorded === "object") {
        assert.equal((recorded as Obj).error, "TokenNotFound", where);
        assert.throws(() => liquidationPrice(f.positions, f.ctx, tokenIndex, opts), TokenNotInAccountError, where);
        continue;
      }
      const got = liquidationPrice(f.positions, f.ctx, tokenIndex, opts);
      assert.equal(got, recorded === null ? null : BigInt(recorded as string), where);
    }
  });
}

test("a portfolio account holding options: its liquidation price is refused by name (the engine reprices options)", () => {
  const f = valued.find((x) => x.name === "portfolio_covered_call");
  assert.ok(f !== undefined);
  assert.throws(() => liquidationPrice(f.positions, f.ctx, 0, { derivatives: f.derivatives, portfolio: true }),
    (e: unknown) => e instanceof OptionNotValuedError);
});
