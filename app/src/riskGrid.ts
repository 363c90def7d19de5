/**
 * The group's scenario grid and portfolio-mode parameters (`RiskGridParams`,
 * stored in the `Group` in basis points) and the grid built from them
 * (`xmargin_risk::options::risk_array::RiskGrid`, `portfolio::PreparedGrid`),
 * bit-exact with the engine: the same scenarios, weights, id and roundings.
 * Browser-safe. Fixed-point values are raw I80F48 `bigint`s.
 */
import { abs, div, DivisionByZeroError, divInt, FRAC_BITS, max, min, mulFloor, mulInt, ONE } from "./fixed.ts";
import type { HealthType } from "./health.ts";
import { InvalidRiskParameterError } from "./health.ts";

/** The group's grid in force (`RiskGridParams`; per-type values `[Init, LiquidationEnd, Maint]` as stored). */
export interface RiskGridInput {
  /** `RiskGrid::id` of the grid of these shocks (arrays computed on it carry it). */
  gridId: number;
  /** Scenarios of the grid (decay + price × vol + extended moves). */
  gridLen: number;
  /** An array older than this is stale (seconds). */
  maxAgeSecs: bigint;
  /** An array is drifted once the oracle moved this much from its spot (bps). */
  maxDriftBps: bigint;
  /** Relative price shocks (bps), strictly increasing. */
  priceShocksBps: number[];
  /** Absolute vol shocks at the 30-day tenor (bps). */
  volShocksBps: number[];
  /** Multiplier of a book's worst loss, `[Init, LiquidationEnd, Maint]` (bps). */
  shockScaleBps: [number, number, number];
  /** Contingency per leg on its delta-adjusted |notional|, `[Init, LiquidationEnd, Maint]` (bps). */
  floorBps: [number, number, number];
}

/** A new group's grid (`DEFAULT_RISK_GRID`, the former program constants). */
export const DEFAULT_RISK_GRID: RiskGridInput = {
  gridId: 0xfa4ebc16,
  gridLen: 24,
  maxAgeSecs: 600n,
  maxDriftBps: 200n,
  priceShocksBps: [-1_500, -750, 0, 750, 1_500],
  volShocksBps: [-1_000, 0, 1_000],
  shockScaleBps: [12_500, 11_000, 10_000],
  floorBps: [100, 75, 50],
};

/** A decoded `RiskGridParams` as Anchor's coder gives it (numbers, or BN-like for the wide ones). */
export interface DecodedRiskGrid {
  gridId: number;
  maxAgeSecs: number | { toString(): string };
  priceShocksBps: number[];
  volShocksBps: number[];
  shockScaleBps: number[];
  floorBps: number[];
  maxDriftBps: number;
  priceShockCount: number;
  volShockCount: number;
  gridLen: number;
}

/** The `health.ts`/portfolio view of a decoded `RiskGridParams`. */
export function riskGridInput(g: DecodedRiskGrid): RiskGridInput {
  return {
    gridId: g.gridId, gridLen: g.gridLen, maxAgeSecs: BigInt(g.maxAgeSecs.toString()), maxDriftBps: BigInt(g.maxDriftBps),
    priceShocksBps: g.priceShocksBps.slice(0, g.priceShockCount), volShocksBps: g.volShocksBps.slice(0, g.volShockCount),
    shockScaleBps: [g.shockScaleBps[0], g.shockScaleBps[1], g.shockScaleBps[2]],
    floorBps: [g.floorBps[0], g.floorBps[1], g.floorBps[2]],
  };
}

/**
 * The decoder hook: the grid in force at `now` of a decoded `Group`
 * (`Group::risk_grid_at`: the pending grid once due), or the default grid
 * for a group decoded before the grid was stored in it.
 */
export function groupRiskGrid(group: object, now: bigint): RiskGridInput {
  const g = group as { riskGrid?: DecodedRiskGrid; pendingRiskGrid?: DecodedRiskGrid;
    pendingRiskGridTs?: { toString(): string } };
  if (g.riskGrid === undefined) return DEFAULT_RISK_GRID;
  const ts = BigInt(g.pendingRiskGridTs?.toString() ?? "0");
  if (ts !== 0n && now >= ts && g.pendingRiskGrid !== undefined) return riskGridInput(g.pendingRiskGrid);
  // A group created before the grid was stored has zero bytes there.
  return g.riskGrid.gridLen === 0 ? DEFAULT_RISK_GRID : riskGridInput(g.riskGrid);
}

/** `b` bps as raw I80F48, rounded toward −∞ (`bps_i16` / `bps_u16`). */
export function bpsFixed(b: bigint | number): bigint {
  const n = BigInt(b) << FRAC_BITS;
  const q = n / 10_000n;
  return n < 0n && q * 10_000n !== n ? q - 1n : q;
}

/** The array freshness bound as raw I80F48 (`RiskGridParams::max_drift`). */
export function maxDrift(g: RiskGridInput): bigint {
  return bpsFixed(g.maxDriftBps);
}

/** Portfolio mode's parameters (`PortfolioParams`, from `RiskGridParams::portfolio_params`). */
export interface PortfolioParams {
  priceShocks: bigint[];
  volShocks: bigint[];
  shockScale: Record<HealthType, bigint>;
  floorRate: Record<HealthType, bigint>;
}

export function portfolioParams(g: RiskGridInput): PortfolioParams {
  const perType = (v: [number, number, number]) => ({ init: bpsFixed(v[0]), liqEnd: bpsFixed(v[1]), maint: bpsFixed(v[2]) });
  return { priceShocks: g.priceShocksBps.map(bpsFixed), volShocks: g.volShocksBps.map(bpsFixed),
    shockScale: perType(g.shockScaleBps), floorRate: perType(g.floorBps) };
}

/** One scenario (raw): `S_k = S·(1 + priceShock)`, vol moved by `volShock`, loss weighted by `weight`. */
export interface Scenario {
  priceShock: bigint;
  volShock: bigint;
  weight: bigint;
}

/** Extended moves (%) and their weight ¾ · widest / |move| (`EXTENDED_MOVES_PCT`, `EXTENDED_WEIGHT_*`). */
const EXTENDED_MOVES_PCT = [-66n, -50n, -33n, 33n, 50n, 100n, 200n, 500n];
const EXTENDED_WEIGHT_NUM = 3n;
const EXTENDED_WEIGHT_DEN = 4n;
/** Most scenarios a risk array holds (`RISK_ARRAY_SCENARIOS`). */
export const RISK_ARRAY_SCENARIOS = 40;
/** The stored array layout health reads (`ARRAY_FORMAT`: changes per contract, 2^-16 quote native). */
export const RISK_ARRAY_FORMAT = 1;
/** Fractional bits of a stored per-contract change (`CHANGE_FRAC_BITS`). */
export const CHANGE_FRAC_BITS = 16n;
const MAX_PRICE_SHOCKS = 16;
const MAX_VOL_SHOCKS = 8;

function floorDiv(n: bigint, d: bigint): bigint {
  const q = n / d;
  return (n % d !== 0n) && ((n < 0n) !== (d < 0n)) ? q - 1n : q;
}

/** FNV-1a of every scenario's 16 little-endian bytes (`grid_id`). */
function gridId(scenarios: Scenario[]): number {
  let h = 0x811c9dc5;
  for (const sc of scenarios) {
    for (const f of [sc.priceShock, sc.volShock, sc.weight]) {
      let bits = BigInt.asUintN(128, f);
      for (let i = 0; i < 16; i++) {
        h = Math.imul(h ^ Number(bits & 0xffn), 0x01000193) >>> 0;
        bits >>= 8n;
      }
    }
  }
  return h >>> 0;
}

/** The scenario list (`RiskGrid::new`): decay, price × vol, extended moves; and its id. */
export function riskGrid(priceShocks: bigint[], volShocks: bigint[]): { scenarios: Scenario[]; id: number } {
  const vols = volShocks.length === 0 ? [0n] : volShocks;
  if (priceShocks.some((s) => s <= -ONE)) throw new InvalidRiskParameterError("a price shock of −100 % or less");
  const widest = priceShocks.reduce((m, s) => max(m, abs(s)), 0n);
  const extended = widest === 0n ? 0 : EXTENDED_MOVES_PCT.length;
  if (1 + priceShocks.length * vols.length + extended > RISK_ARRAY_SCENARIOS) {
    throw new InvalidRiskParameterError("grid larger than a risk array");
  }
  const scenarios: Scenario[] = [{ priceShock: 0n, volShock: 0n, weight: ONE }];
  for (const s of priceShocks) for (const v of vols) scenarios.push({ priceShock: s, volShock: v, weight: ONE });
  if (extended > 0) {
    for (const pct of EXTENDED_MOVES_PCT) {
      const w = divInt(mulInt(widest, 100n * EXTENDED_WEIGHT_NUM), abs(pct) * EXTENDED_WEIGHT_DEN, "ceil");
      scenarios.push({ priceShock: floorDiv(pct << FRAC_BITS, 100n), volShock: 0n, weight: min(w, ONE) });
    }
  }
  return { scenarios, id: gridId(scenarios) };
}

/** A validated grid (`PreparedGrid`): the scenarios, where a book without options loses most, the haircut bounds. */
export interface PreparedGrid {
  scenarios: Scenario[];
  id: number;
  /** Scenario indices of the lowest and the highest `s_k ·floor w_k`. */
  linearExtremes: [number, number];
  /** `1 / widest |price shock|`, rounded up. */
  invWidest: bigint;
  /** `shock_scale ·floor widest` per health type. */
  haircutCovered: Record<HealthType, bigint>;
}

export function prepareGrid(p: PortfolioParams): PreparedGrid {
  const ordered = (a: Record<HealthType, bigint>) => a.maint >= 0n && a.maint <= a.liqEnd && a.liqEnd <= a.init;
  if (p.priceShocks.length === 0 || p.priceShocks.length > MAX_PRICE_SHOCKS || p.volShocks.length > MAX_VOL_SHOCKS
    || !ordered(p.shockScale) || !ordered(p.floorRate)) {
    throw new InvalidRiskParameterError("portfolio parameters out of range");
  }
  const { scenarios, id } = riskGrid(p.priceShocks, p.volShocks);
  let lo: [number, bigint] = [0, 0n];
  let hi: [number, bigint] = [0, 0n];
  scenarios.forEach((sc, k) => {
    const sw = mulFloor(sc.priceShock, sc.weight);
    if (sw < lo[1]) lo = [k, sw];
    if (sw > hi[1]) hi = [k, sw];
  });
  const widest = p.priceShocks.reduce((m, s) => max(m, abs(s)), 0n);
  if (widest <= 0n) throw new InvalidRiskParameterError("no price shock");
  let invWidest: bigint;
  try {
    invWidest = div(ONE, widest, "ceil");
  } catch (e) {
    if (e instanceof DivisionByZeroError) throw new InvalidRiskParameterError("no price shock");
    throw e;
  }
  const covered = (ht: HealthType) => mulFloor(p.shockScale[ht], widest);
  return { scenarios, id, linearExtremes: [lo[0], hi[0]], invWidest,
    haircutCovered: { init: covered("init"), maint: covered("maint"), liqEnd: covered("liqEnd") } };
}
