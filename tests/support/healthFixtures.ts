/**
 * The shared health fixtures (`tests/fixtures/health.json`, written and
 * re-checked by `crates/client/tests/health_fixtures.rs`) parsed into the
 * inputs of `app/src/health.ts`: read by `tests/health.test.ts` (health) and
 * `tests/liquidationPrice.test.ts` (max withdraw, max borrow, liquidation price).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type {
  HealthBankInput, HealthContextInput, HealthDerivativeInput, HealthMarketInput, HealthPositionInput, MarketRiskInput,
  MarketSafetyInput, RiskParamsInput,
} from "../../app/src/health.ts";
import type { OptionMarketInput } from "../../app/src/optionHealth.ts";
import type { RiskGridInput } from "../../app/src/riskGrid.ts";

export type Obj = Record<string, unknown>;

export function obj(v: unknown, what: string): Obj {
  assert.ok(typeof v === "object" && v !== null && !Array.isArray(v), `${what}: object expected`);
  return v as Obj;
}

export function list(v: unknown, what: string): unknown[] {
  assert.ok(Array.isArray(v), `${what}: array expected`);
  return v;
}

/** A 64/128-bit value: the fixtures store them as decimal strings. */
export function big(o: Obj, key: string): bigint {
  const v = o[key];
  assert.equal(typeof v, "string", `${key}: decimal string expected`);
  return BigInt(v as string);
}

export function int(o: Obj, key: string): number {
  const v = o[key];
  assert.ok(Number.isSafeInteger(v), `${key}: integer expected`);
  return v as number;
}

export function text(o: Obj, key: string): string {
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

function reading(v: unknown) {
  const r = obj(v, "reading");
  return { price: big(r, "price"), conf: big(r, "conf"), exponent: int(r, "exponent"), publishTime: big(r, "publishTime") };
}

function position(v: unknown): HealthPositionInput {
  const p = obj(v, "position");
  return { bank: bank(p.bank), reading: reading(p.reading), shares: big(p, "shares") };
}

function marketRisk(v: unknown): MarketRiskInput {
  const r = obj(v, "market risk");
  return {
    initRate: big(r, "initRate"),
    maintRate: big(r, "maintRate"),
    liqEndRate: big(r, "liqEndRate"),
    pnlInitWeight: big(r, "pnlInitWeight"),
    pnlLiqEndWeight: big(r, "pnlLiqEndWeight"),
    pnlMaintWeight: big(r, "pnlMaintWeight"),
    initPnlCap: big(r, "initPnlCap"),
    sizePremium: big(r, "sizePremium"),
  };
}

function safety(v: unknown): MarketSafetyInput {
  const s = obj(v, "safety");
  return {
    confMultiplier: big(s, "confMultiplier"),
    maxConfRatio: big(s, "maxConfRatio"),
    maxOracleAgeSecs: int(s, "maxOracleAgeSecs"),
    activationTs: big(s, "activationTs"),
  };
}

/** An option market's terms and array (`market.option`, present on option markets only). */
function option(v: unknown): OptionMarketInput | undefined {
  if (v === undefined) return undefined;
  const o = obj(v, "option");
  const a = obj(o.riskArray, "riskArray");
  assert.equal(typeof o.isCall, "boolean", "isCall");
  return {
    isCall: o.isCall as boolean,
    strike: big(o, "strike"),
    volatility: big(o, "volatility"),
    pendingVolatility: big(o, "pendingVolatility"),
    pendingVolatilityTs: big(o, "pendingVolatilityTs"),
    shortInitBase: big(o, "shortInitBase"),
    shortInitFloor: big(o, "shortInitFloor"),
    shortLiqEnd: big(o, "shortLiqEnd"),
    shortMaint: big(o, "shortMaint"),
    strikePerContract: o.strikePerContract === undefined ? undefined : big(o, "strikePerContract"),
    riskArray: {
      computedAt: big(a, "computedAt"),
      gridId: int(a, "gridId"),
      scenarioCount: int(a, "scenarioCount"),
      format: int(a, "format"),
      spot: big(a, "spot"),
      volatility: big(a, "volatility"),
      value: big(a, "value"),
      delta: big(a, "delta"),
      gamma: big(a, "gamma"),
      changes: a.changes === undefined ? undefined : list(a.changes, "changes").map((c) => BigInt(c as string)),
    },
  };
}

function market(v: unknown): HealthMarketInput {
  const m = obj(v, "market");
  return {
    option: option(m.option),
    marketIndex: int(m, "marketIndex"),
    underlyingTokenIndex: int(m, "underlyingTokenIndex"),
    underlyingDecimals: int(m, "underlyingDecimals"),
    kind: int(m, "kind"),
    status: int(m, "status"),
    contractSize: big(m, "contractSize"),
    stablePrice: big(m, "stablePrice"),
    cumFunding: big(m, "cumFunding"),
    settlementPrice: big(m, "settlementPrice"),
    risk: marketRisk(m.risk),
    pendingRisk: marketRisk(m.pendingRisk),
    pendingRiskActivationTs: big(m, "pendingRiskActivationTs"),
    safety: safety(m.safety),
    pendingSafety: safety(m.pendingSafety),
  };
}

function derivative(v: unknown): HealthDerivativeInput {
  const d = obj(v, "derivative");
  const p = obj(d.position, "derivative position");
  return {
    market: market(d.market),
    reading: reading(d.reading),
    baseContracts: big(p, "baseContracts"),
    quoteCost: big(p, "quoteCost"),
    realizedPnl: big(p, "realizedPnl"),
    fundingSnapshot: big(p, "fundingSnapshot"),
  };
}

/** A fixture's price rules (`rules`; absent: the view rules of `compute_health`). */
function rules(v: unknown): Partial<HealthContextInput> {
  if (v === undefined) return {};
  const r = obj(v, "rules");
  const unpriced = text(r, "unpricedLiability");
  assert.ok(unpriced === "refuse" || unpriced === "fallback");
  const strictMarket = r.strictMarket === null ? undefined : int(r, "strictMarket");
  const strictTokens = list(r.strictTokens, "strictTokens").map((t) => t as number);
  return { strictTokens, strictMarket, unpricedLiability: unpriced };
}

export interface Fixture {
  name: string;
  ctx: HealthContextInput;
  positions: HealthPositionInput[];
  derivatives: HealthDerivativeInput[];
  raw: Obj;
}

/** A fixture's group grid (`portfolioParams`, bps as stored; absent: the default grid). */
export function gridOf(v: unknown): RiskGridInput | undefined {
  if (v === undefined) return undefined;
  const g = obj(v, "portfolioParams");
  const nums = (k: string) => list(g[k], k).map((x) => x as number);
  const three = (k: string): [number, number, number] => {
    const l = nums(k);
    assert.equal(l.length, 3, k);
    return [l[0], l[1], l[2]];
  };
  return { gridId: int(g, "gridId"), gridLen: int(g, "gridLen"), maxAgeSecs: BigInt(int(g, "maxAgeSecs")),
    maxDriftBps: BigInt(int(g, "maxDriftBps")), priceShocksBps: nums("priceShocksBps"), volShocksBps: nums("volShocksBps"),
    shockScaleBps: three("shockScaleBps"), floorBps: three("floorBps") };
}

export function fixture(v: unknown): Fixture {
  const f = obj(v, "fixture");
  const grid = gridOf(f.portfolioParams);
  return {
    name: text(f, "name"),
    ctx: { quoteDecimals: int(f, "quoteDecimals"), now: big(f, "now"), ...rules(f.rules), ...(grid ? { grid } : {}) },
    positions: list(f.positions, "positions").map(position),
    derivatives: f.derivatives === undefined ? [] : list(f.derivatives, "derivatives").map(derivative),
    raw: f,
  };
}

const file = obj(JSON.parse(readFileSync(join(__dirname, "../fixtures/health.json"), "utf8")), "health.json");
/** Accounts the engine values. */
export const fixtures = list(file.fixtures, "fixtures").map(fixture);
/** Accounts the program refuses to value (`expectedError`). */
export const refused = list(file.refused, "refused").map(fixture);
/** Accounts holding options: `expected` health or the program's `expectedError` (no limits). */
export const optionFixtures = list(file.options, "options").map(fixture);
/** The program's risk-array bounds (`programs/xmargin/src/options.rs`). */
export const riskArrayRules = obj(file.riskArrayRules, "riskArrayRules");

/** Accounts in portfolio mode: `expected` health and `books`, or the program's `expectedError` (no limits). */
export const portfolioFixtures = list(file.portfolio, "portfolio").map(fixture);
/** The default grid built by the engine: its params, scenarios and id. */
export const portfolioGrid = obj(file.portfolioGrid, "portfolioGrid");
/** A group grid other than the default (`portfolio_group_grid` is valued on it). */
export const portfolioCustomGrid = obj(file.portfolioCustomGrid, "portfolioCustomGrid");
