/**
 * Read-only views of a decoded `Market` for display and monitoring: status at
 * a clock (active, expired, settled), the volatility in force, the option risk
 * array's header and its freshness by the program's rule
 * (`programs/xmargin/src/options.rs`: `array_freshness`). Browser-safe: no
 * Node built-ins. Fixed-point values are raw I80F48 `bigint`s.
 */
import { fixedRaw, type MarketData } from "./accounts.ts";
import { DEFAULT_RISK_GRID, maxDrift, type RiskGridInput } from "./riskGrid.ts";

/** An array older than this is stale (`RISK_ARRAY_MAX_AGE_SECS`). */
export const RISK_ARRAY_MAX_AGE_SECS = 600n;
/** An array is drifted once the oracle moved this much from its spot, in bps (`RISK_ARRAY_MAX_DRIFT_BPS`). */
export const RISK_ARRAY_MAX_DRIFT_BPS = 200n;
/** The drift bound as raw I80F48, rounded down as the program's constant (`RISK_ARRAY_MAX_DRIFT`). */
export const RISK_ARRAY_MAX_DRIFT = (RISK_ARRAY_MAX_DRIFT_BPS << 48n) / 10_000n;
/** `GRID_ID` and `GRID_LEN` of the grid every option market's array is computed on. */
export const RISK_ARRAY_GRID_ID = 0xfa4ebc16;
export const RISK_ARRAY_GRID_LEN = 24;

/** A market's state at a clock: `expired` is past expiry and not settled yet (`settle_expired` pending). */
export type MarketState = "active" | "expired" | "settled";

/** `Market::status` and the expiry read together at `now`. */
export function marketState(m: MarketData, now: bigint): MarketState {
  if (m.status !== 0) return "settled";
  const expiry = BigInt(m.expiryTs.toString());
  return expiry !== 0n && now >= expiry ? "expired" : "active";
}

/** Volatility in force at `now` (raw; 1.0 = 100 %): a pending lowering once due (`Market::volatility_at`). */
export function volatilityAt(m: MarketData, now: bigint): bigint {
  const ts = BigInt(m.option.pendingVolatilityTs.toString());
  return ts !== 0n && now >= ts ? fixedRaw(m.option.pendingVolatility) : fixedRaw(m.volatility);
}

/** The stored risk array's header (`StoredRiskArray`): values per underlying native unit, in quote native. */
export interface RiskArrayHeader {
  /** Unix seconds; 0: never computed. */
  computedAt: bigint;
  gridId: number;
  scenarioCount: number;
  /** Stored layout (`RISK_ARRAY_FORMAT`; another: its scenarios are not netted until recomputed). */
  format: number;
  /** Oracle price it was computed at (quote native per underlying native unit). */
  spot: bigint;
  volatility: bigint;
  /** Model value per underlying native unit (quote native). */
  value: bigint;
  delta: bigint;
  gamma: bigint;
  /** Per 1.00 of volatility. */
  vega: bigint;
  /** Per year. */
  theta: bigint;
}

export function riskArrayHeader(m: MarketData): RiskArrayHeader {
  const a = m.riskArray;
  return { computedAt: BigInt(a.computedAt.toString()), gridId: a.gridId, scenarioCount: a.scenarioCount,
    format: a.format, spot: fixedRaw(a.spot), volatility: fixedRaw(a.volatility), value: fixedRaw(a.value),
    delta: fixedRaw(a.delta), gamma: fixedRaw(a.gamma), vega: fixedRaw(a.vega), theta: fixedRaw(a.theta) };
}

/**
 * Whether health may value positions from the array (`array_freshness`):
 * `never` (not computed yet) and `otherGrid` (another grid), `stale` (older than
 * 600 s, dated ahead of `now`, or computed at another volatility than the one in
 * force), `drifted` (the oracle `oracleLo`, quote native per underlying native
 * unit, moved 2 % or more from its spot), else `fresh`; on the group's grid
 * (`groupRiskGrid`; default: a new group's, whose bounds these are).
 */
export type RiskArrayFreshness = "fresh" | "stale" | "drifted" | "otherGrid" | "never";

export function riskArrayFreshness(
  m: MarketData, now: bigint, oracleLo: bigint, grid: RiskGridInput = DEFAULT_RISK_GRID,
): RiskArrayFreshness {
  const a = riskArrayHeader(m);
  if (a.gridId !== grid.gridId || a.scenarioCount !== grid.gridLen) return a.computedAt === 0n ? "never" : "otherGrid";
  const age = now - a.computedAt;
  if (age < 0n || age > grid.maxAgeSecs) return "stale";
  const moved = oracleLo >= a.spot ? oracleLo - a.spot : a.spot - oracleLo;
  // `spot ·floor max_drift`: both raw I80F48, the product floored to the grid.
  if (moved >= (a.spot * maxDrift(grid)) >> 48n) return "drifted";
  return a.volatility === volatilityAt(m, now) ? "fresh" : "stale";
}
