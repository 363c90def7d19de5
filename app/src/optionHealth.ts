/**
 * Option positions in the client-side health estimate (linear margin mode),
 * bit-exact with the program (`programs/xmargin/src/health/options.rs` and
 * the risk engine's `health::option_margin`): an option is valued from its
 * market's stored risk array, with multiplies and adds only.
 *
 * - Value: the array's model value per underlying native unit; a short owes
 *   one ulp (2^-48) more. PnL `= base · value − quote_cost + realized_pnl`,
 *   positive PnL weighted and capped as for every derivative.
 * - Requirement: a short pays `max(init_base · S − OTM, init_floor · S)` in
 *   Init, `liq_end · S` and `maint · S` (S the type's liability price, OTM the
 *   smallest over the type's price range); a long `rate · S · |Δ|`, never more
 *   than its value.
 * - The array must be fresh (computed on the program's grid, at most
 *   `RISK_ARRAY_MAX_AGE_SECS` old, the oracle within `RISK_ARRAY_MAX_DRIFT_BPS`
 *   of its spot, at the volatility in force): otherwise the view rules refuse
 *   with the program's error name ({@link RiskArrayUnusableError}) and the
 *   fallback rules (liquidations, keeper ranking) value a long at 0, a short
 *   call at the highest price of the range and a short put at its strike.
 * - A closed position (realised PnL only) reads neither price nor array.
 *
 * `tests/optionHealth.test.ts` checks it bit for bit on the shared fixtures
 * (`tests/fixtures/health.json`, `options`). A settled option market's
 * position is realised PnL (`settledValue`): it reads neither oracle nor array.
 */
import {
  abs, add, DELTA, FixedOverflowError, fromInt, HALF, max, min, mulCeil, mulFloor, mulInt, ONE, positivePart, sub, toI64,
} from "./fixed.ts";
import {
  assetPrice, baseNative, biasedPrices, type BiasedPrices, type DerivativeValuation, type HealthContextInput,
  type HealthDerivativeInput, type HealthType, InvalidPriceError, InvalidRiskParameterError, liabPrice, type MarginRates, marketOracle,
  marketRiskParams, marketSafetyParams, MarketOracleUnusableError, MarketStatus, positionPrice, type PnlLimits,
} from "./health.ts";
import type { RiskArrayHeader } from "./marketView.ts";
import { DEFAULT_RISK_GRID, maxDrift, type RiskGridInput } from "./riskGrid.ts";

/**
 * The stored risk array's fields health reads (`StoredRiskArray`; raw I80F48
 * per underlying native unit); `changes`, the scenario changes `c_k` (one
 * contract's, 2^-16 quote native), only portfolio mode reads.
 */
export type RiskArrayInput = Pick<RiskArrayHeader,
  "computedAt" | "gridId" | "scenarioCount" | "format" | "spot" | "volatility" | "value" | "delta" | "gamma"> &
  { changes?: bigint[] };

/** The option part of a market (`Market::strike`, `volatility`, `OptionParams`, `risk_array`), raw I80F48. */
export interface OptionMarketInput {
  isCall: boolean;
  /** Strike per underlying native unit (quote native). */
  strike: bigint;
  volatility: bigint;
  /** A lowering waiting for `pendingVolatilityTs` (0: none). */
  pendingVolatility: bigint;
  pendingVolatilityTs: bigint;
  /** Short-option rates (fractions of spot). */
  shortInitBase: bigint;
  shortInitFloor: bigint;
  shortLiqEnd: bigint;
  shortMaint: bigint;
  /** Strike per contract in quote native as listed (`OptionParams::strike_per_contract`): what a settled market pays on. */
  strikePerContract?: bigint;
  riskArray: RiskArrayInput;
}

type ArrayProblem = "RiskArrayStale" | "RiskArrayDrifted" | "RiskArrayOtherGrid";

/** An option market's risk array the program refuses to value a position from; it fails with `programError`. */
export class RiskArrayUnusableError extends Error {
  constructor(
    readonly marketIndex: number,
    readonly programError: ArrayProblem,
  ) {
    super(`market ${marketIndex}: risk array unusable (${programError}): crank update_risk_array`);
    this.name = "RiskArrayUnusableError";
  }
}

/** An option position the client does not value yet (a settled option market, or its liquidation price). */
export class OptionNotValuedError extends Error {
  constructor(readonly marketIndex: number, what: string) {
    super(`market ${marketIndex}: ${what} is not estimated off-chain yet (use compute_health)`);
    this.name = "OptionNotValuedError";
  }
}

/** Volatility in force at `now`: a pending lowering once due (`Market::volatility_at`). */
export function optionVolatilityAt(o: OptionMarketInput, now: bigint): bigint {
  return o.pendingVolatilityTs !== 0n && now >= o.pendingVolatilityTs ? o.pendingVolatility : o.volatility;
}

/**
 * Whether the array may value positions at `now` with the oracle at `oracleLo`
 * on the group's grid (`options::array_freshness`, `ArrayHeader::freshness`):
 * `"fresh"`, or the error the program refuses with.
 */
export function riskArrayProblem(
  o: OptionMarketInput,
  now: bigint,
  oracleLo: bigint,
  grid: RiskGridInput = DEFAULT_RISK_GRID,
): ArrayProblem | "fresh" {
  const a = o.riskArray;
  if (a.gridId !== grid.gridId || a.scenarioCount !== grid.gridLen) return "RiskArrayOtherGrid";
  const age = now - a.computedAt;
  if (age < 0n || age > grid.maxAgeSecs) return "RiskArrayStale";
  if (abs(sub(oracleLo, a.spot)) >= mulFloor(a.spot, maxDrift(grid))) return "RiskArrayDrifted";
  return a.volatility === optionVolatilityAt(o, now) ? "fresh" : "RiskArrayStale";
}

/** Model value, Δ and Γ per underlying native unit at the array's spot (`ArrayValue`). */
interface ArrayValue {
  spot: bigint;
  value: bigint;
  delta: bigint;
  gamma: bigint;
}

/** A value that does not move with the price (`ArrayValue::flat`): bounds, closed or settled positions. */
const flatValue = (value: bigint): ArrayValue => ({ spot: 0n, value, delta: 0n, gamma: 0n });

/**
 * Per-unit value at `price` by the expansion around the array's spot (`option_margin::value_at`), `ds` the move:
 * a long `V + ⌊Δ·ds⌋`; a short moved against (a call on a rise, a put on a fall)
 * `min(max(V + ⌈ds·(Δ + ½Γ·ds)⌉, intrinsic), V + |ds|)`, `½Γ·ds` rounded toward `ds`'s sign; a short moved in its
 * favour `V`; a short one ulp more; never below 0.
 */
export function optionValueAt(a: ArrayValue, isCall: boolean, strike: bigint, price: bigint, short: boolean): bigint {
  const ds = sub(price, a.spot);
  let v = a.value;
  if (short) {
    const up = ds > 0n;
    if (up === isCall && ds !== 0n) {
      const gDs = up ? mulCeil(a.gamma, ds) : mulFloor(a.gamma, ds);
      const slope = add(a.delta, (gDs >> 1n) + (up ? gDs & 1n : 0n)); // BigInt >> floors, as i128 >>
      const expansion = add(v, mulCeil(slope, ds));
      v = min(max(expansion, isCall ? sub(price, strike) : sub(strike, price)), add(v, abs(ds)));
    }
    v = add(v, DELTA);
  } else if (ds !== 0n) {
    v = add(v, mulFloor(a.delta, ds));
  }
  return positivePart(v);
}

/**
 * Prices and the array's value (`health::options::priced`): a usable oracle
 * and a fresh array; else, for the strict market or under the refuse rule, the
 * program's error; else the bounds that hold whatever the price.
 */
function pricedOption(d: HealthDerivativeInput, o: OptionMarketInput, ctx: HealthContextInput, strict: boolean) {
  const { market } = d;
  const confMultiplier = marketSafetyParams(market, ctx.now).confMultiplier;
  const refuse = strict || ctx.unpricedLiability !== "fallback";
  const usable = marketOracle(d, ctx);
  if (typeof usable !== "string") {
    const problem = riskArrayProblem(o, ctx.now, usable.lo, ctx.grid);
    if (problem === "fresh") {
      const a = o.riskArray;
      const array: ArrayValue = { spot: a.spot, value: a.value, delta: a.delta, gamma: a.gamma };
      return { prices: biasedPrices(usable, market.stablePrice, confMultiplier), array };
    }
    if (refuse) throw new RiskArrayUnusableError(market.marketIndex, problem);
  } else if (refuse) {
    throw new MarketOracleUnusableError(market.marketIndex, usable);
  }
  const gainsOnRise = (d.baseContracts > 0n) === o.isCall;
  const prices = biasedPrices(positionPrice(d, ctx, gainsOnRise), market.stablePrice, confMultiplier);
  let bound = 0n; // a long: worth nothing
  if (d.baseContracts < 0n) bound = o.isCall ? max(prices.initLiab, prices.spotLiab) : o.strike;
  return { prices, array: flatValue(bound) };
}

/**
 * What `contracts` of a settled option market pay (`settled_value`): the
 * settlement price per contract rounded to the nearest unit, its intrinsic
 * value against the listed strike per contract, times the contracts.
 */
export function settledValue(market: HealthDerivativeInput["market"], contracts: bigint): bigint {
  const o = market.option;
  if (o?.strikePerContract === undefined) {
    throw new OptionNotValuedError(market.marketIndex, "a settled option market without its strike per contract");
  }
  const perContract = toI64(add(mulInt(market.settlementPrice, market.contractSize), HALF), "floor");
  if (perContract < 0n) throw new InvalidPriceError("negative settlement price");
  const intrinsic = o.isCall ? positivePart(perContract - o.strikePerContract) : positivePart(o.strikePerContract - perContract);
  const value = contracts * intrinsic;
  if (value > I64_MAX || value < -I64_MAX - 1n) throw new FixedOverflowError("settled value");
  return value;
}

const I64_MAX = (1n << 63n) - 1n;

/** Requirement of one short unit for `ht` (`ShortOptionRates::unit_requirement`, rounded up). */
export function shortUnitRequirement(o: OptionMarketInput, ht: HealthType, prices: BiasedPrices): bigint {
  const hi = liabPrice(prices, ht);
  if (ht === "init") {
    const otm = o.isCall ? positivePart(sub(o.strike, hi)) : positivePart(sub(assetPrice(prices, "init"), o.strike));
    return max(sub(mulCeil(hi, o.shortInitBase), otm), mulCeil(hi, o.shortInitFloor));
  }
  return mulCeil(hi, ht === "liqEnd" ? o.shortLiqEnd : o.shortMaint);
}

/** `MarginRates::validate` for an option: linear rates in order, no size premium, short rates in order. */
function validateOptionRates(rates: MarginRates, sizePremium: bigint, o: OptionMarketInput): void {
  const linear = rates.maint >= 0n && rates.maint <= rates.liqEnd && rates.liqEnd <= rates.init && rates.init <= ONE;
  const short = o.shortMaint >= 0n && o.shortMaint <= o.shortLiqEnd && o.shortLiqEnd <= o.shortInitFloor &&
    o.shortInitFloor <= o.shortInitBase && o.shortInitBase <= ONE;
  if (!linear || !short || sizePremium < 0n || sizePremium > ONE) {
    throw new InvalidRiskParameterError("option margin rates out of order");
  }
  // The short requirement is not a rate on notional: no size premium on options.
  if (sizePremium !== 0n) throw new InvalidRiskParameterError("size premium on an option market");
}

/** `PnlLimits::validate`. */
function validateLimits(l: PnlLimits): void {
  const w = l.weights;
  if (!(w.init >= 0n && w.init <= w.liqEnd && w.liqEnd <= w.maint && w.maint <= ONE) || (l.initCap ?? 0n) < 0n) {
    throw new InvalidRiskParameterError("PnL weights out of order");
  }
}

/**
 * Values one option position (`health::options::value_option` and the
 * engine's `DerivativeInfo::new_option_from_array`).
 */
export function valueOption(d: HealthDerivativeInput, ctx: HealthContextInput): DerivativeValuation {
  const { market } = d;
  const o = market.option;
  if (!o) throw new InvalidRiskParameterError(`market ${market.marketIndex}: an option market without its option terms`);
  const settled = market.status === MarketStatus.settled;
  let base = baseNative(d.baseContracts, market.contractSize);
  let costBasis = sub(fromInt(d.quoteCost), fromInt(d.realizedPnl));
  const risk = marketRiskParams(market, ctx.now);
  const strict = ctx.strictMarket === market.marketIndex;
  const flatAt = (p: bigint): BiasedPrices => ({ oracle: p, spotAsset: p, spotLiab: p, initAsset: p, initLiab: p });
  let priced: { prices: BiasedPrices; array: ArrayValue };
  if (settled) {
    // Expired and settled: the intrinsic value is fixed cash, realised PnL only (no price, no array).
    costBasis = sub(costBasis, fromInt(settledValue(market, d.baseContracts)));
    base = 0n;
    priced = { prices: flatAt(market.settlementPrice), array: flatValue(0n) };
  } else if (d.baseContracts === 0n && !strict) {
    priced = { prices: flatAt(market.stablePrice), array: flatValue(0n) };
  } else {
    priced = pricedOption(d, o, ctx, strict);
  }
  const { prices, array } = priced;
  const rates: MarginRates = { init: risk.initRate, maint: risk.maintRate, liqEnd: risk.liqEndRate };
  validateOptionRates(rates, risk.sizePremium, o);
  const short = base < 0n;
  // Each type at its own price of the position's direction; Maint and LiquidationEnd share one.
  const rising = (base > 0n) === o.isCall;
  const spotValue = optionValueAt(array, o.isCall, o.strike, rising ? prices.spotAsset : prices.spotLiab, short);
  const unitValue = {
    init: optionValueAt(array, o.isCall, o.strike, rising ? prices.initAsset : prices.initLiab, short),
    maint: spotValue,
    liqEnd: spotValue,
  };
  const unit = (ht: HealthType): bigint => short
    ? shortUnitRequirement(o, ht, prices)
    : mulCeil(mulCeil(liabPrice(prices, ht), rates[ht]), abs(array.delta));
  const pnlLimits: PnlLimits = {
    weights: { init: risk.pnlInitWeight, maint: risk.pnlMaintWeight, liqEnd: risk.pnlLiqEndWeight },
    initCap: fromInt(risk.initPnlCap),
  };
  validateLimits(pnlLimits);
  return { marketIndex: market.marketIndex, base, costBasis, unsettledFunding: 0n, prices, rates,
    reqUnit: { init: unit("init"), maint: unit("maint"), liqEnd: unit("liqEnd") }, pnlLimits, sizePremium: 0n,
    contractSize: market.contractSize,
    option: { unitValue, oracleValue: optionValueAt(array, o.isCall, o.strike, prices.oracle, false) } };
}
