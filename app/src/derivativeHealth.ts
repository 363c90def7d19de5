/**
 * Derivative positions in the client-side health estimate (perpetuals and
 * dated futures; options in `optionHealth.ts`), bit-exact with the program's
 * `health::value_derivative` and the engine's `DerivativeInfo`: base and cost
 * from the stored integers, funding settled lazily, biased prices and rates
 * in force, positive PnL weighted and capped, the size premium. Split from
 * `health.ts`, which re-exports everything here.
 */
import {
  abs, add, divInt, FRAC_BITS, fromInt, isqrt, max, min, mulCeil, mulFloor, mulInt, neg, ONE, type Rounding, sub,
  toI64,
} from "./fixed.ts";
import {
  assetPrice, biasedPrices, type BiasedPrices, type HealthContextInput, type HealthType, InvalidRiskParameterError,
  lastPrice, liabPrice, oracleProblem, type OracleErrorName, type OraclePrice, type PythReadingInput,
} from "./health.ts";
import { type OptionMarketInput, valueOption } from "./optionHealth.ts";

/** `Market::kind`. */
export const MarketKind = { perpetual: 0, future: 1, option: 2 } as const;
/** `Market::status`. */
export const MarketStatus = { active: 0, settled: 1 } as const;

/** A market's risk parameters (`MarketRiskParams`): fixed-point fields raw I80F48, the rest as stored (u64). */
export interface MarketRiskInput {
  initRate: bigint;
  maintRate: bigint;
  liqEndRate: bigint;
  pnlInitWeight: bigint;
  pnlLiqEndWeight: bigint;
  pnlMaintWeight: bigint;
  initPnlCap: bigint;
  /** Size premium `imf` per √contract (raw I80F48; 0: off), see {@link sizePremiumRate}. */
  sizePremium: bigint;
}

/** The oracle rules of a market (`BankSafetyParams`) health reads. */
export interface MarketSafetyInput {
  confMultiplier: bigint;
  maxConfRatio: bigint;
  maxOracleAgeSecs: number;
  /** When a pending change applies (0: none; unused on the params in force). */
  activationTs: bigint;
}

/** The `Market` fields health reads (fixed-point fields raw I80F48). */
export interface HealthMarketInput {
  marketIndex: number;
  underlyingTokenIndex: number;
  underlyingDecimals: number;
  /** {@link MarketKind}. */
  kind: number;
  /** {@link MarketStatus}. */
  status: number;
  /** Underlying native units per contract. */
  contractSize: bigint;
  stablePrice: bigint;
  /** Cumulative funding, quote native per contract. */
  cumFunding: bigint;
  settlementPrice: bigint;
  risk: MarketRiskInput;
  pendingRisk: MarketRiskInput;
  pendingRiskActivationTs: bigint;
  safety: MarketSafetyInput;
  pendingSafety: MarketSafetyInput;
  /** Option markets: terms, short rates and the stored risk array (`optionHealth.ts`). */
  option?: OptionMarketInput;
}

/** One derivative position (`DerivativePosition`): its market, the market's oracle reading, the stored amounts. */
export interface HealthDerivativeInput {
  market: HealthMarketInput;
  reading: PythReadingInput;
  /** Signed contracts, long > 0. */
  baseContracts: bigint;
  /** Quote native paid for the open base (> 0 long, < 0 short). */
  quoteCost: bigint;
  /** Realised, not yet settled PnL (quote native). */
  realizedPnl: bigint;
  /** `Market::cum_funding` at the last funding settlement (raw I80F48). */
  fundingSnapshot: bigint;
}

/** The same market valued twice (`RiskError::DuplicateIndex`, program error `HealthAccountMismatch`). */
export class DuplicateMarketError extends Error {
  constructor(readonly marketIndex: number) {
    super(`market ${marketIndex} listed twice`);
    this.name = "DuplicateMarketError";
  }
}

/** A market whose price the program refuses for this position; it fails with `programError`. */
export class MarketOracleUnusableError extends Error {
  constructor(
    readonly marketIndex: number,
    readonly programError: OracleErrorName,
  ) {
    super(`market ${marketIndex}: oracle unusable (${programError})`);
    this.name = "MarketOracleUnusableError";
  }
}

/** `PnlLimits`: positive-PnL weights per health type and the Init cap (quote native, raw). */
export interface PnlLimits {
  weights: Record<HealthType, bigint>;
  initCap: bigint | null;
}

/** Requirement rates on notional per health type (`MarginRates`). */
export type MarginRates = Record<HealthType, bigint>;

/** A valued derivative position (the engine's `DerivativeInfo` for a perpetual or future). */
export interface DerivativeValuation {
  marketIndex: number;
  /** Signed underlying native units (`contracts · contract_size`). */
  base: bigint;
  /** `quote_cost − realized_pnl` (raw). */
  costBasis: bigint;
  /** Funding the position would settle now, floored to whole quote native (raw). */
  unsettledFunding: bigint;
  prices: BiasedPrices;
  rates: MarginRates;
  /** Requirement per underlying native unit per health type at the base rates: `liab price ·ceil rate`. */
  reqUnit: Record<HealthType, bigint>;
  pnlLimits: PnlLimits;
  /** Size premium per √contract (raw; 0: off) and the contract size it counts size in (underlying native). */
  sizePremium: bigint;
  contractSize: bigint;
  /**
   * Options (`optionHealth.ts`): the value per underlying native unit per health type, from the market's
   * risk array moved to the type's price (a short's one ulp more), and a long's tangent value at the oracle (a
   * book of longs caps its requirement there, `OptionLegInput::oracle_value`).
   */
  option?: { unitValue: Record<HealthType, bigint>; oracleValue: bigint };
}

/** Market risk parameters in force at `now` (`Market::risk_params`). */
export function marketRiskParams(m: HealthMarketInput, now: bigint): MarketRiskInput {
  return m.pendingRiskActivationTs !== 0n && now >= m.pendingRiskActivationTs ? m.pendingRisk : m.risk;
}

/** Market oracle rules in force at `now` (`Market::safety_params`). */
export function marketSafetyParams(m: HealthMarketInput, now: bigint): MarketSafetyInput {
  return m.pendingSafety.activationTs !== 0n && now >= m.pendingSafety.activationTs ? m.pendingSafety : m.safety;
}

/** `contracts · contract_size` as raw fixed point, exact (`perp::base_native`). */
export function baseNative(contracts: bigint, contractSize: bigint): bigint {
  return fromInt(contracts * contractSize);
}

/**
 * Funding a position would settle now, in whole quote native
 * (`perp_funding::settle_funding(..).credit`: `⌊−contracts · (cum − snapshot)⌋`);
 * 0 for a future or an empty position (`health::pending_funding`).
 */
export function pendingFunding(market: HealthMarketInput, baseContracts: bigint, fundingSnapshot: bigint): bigint {
  if (market.kind !== MarketKind.perpetual || baseContracts === 0n) return 0n;
  const exact = neg(mulInt(sub(market.cumFunding, fundingSnapshot), baseContracts));
  return toI64(exact, "floor");
}

/**
 * The price a derivative position is valued at (`position_price`): the oracle
 * if fresh and certain; otherwise, for the strict market or under the refuse
 * rule, the oracle's error; else the fallback, a long at the lower and a short
 * at the higher of the last reading and the stable price (no confidence).
 */
export function positionPrice(d: HealthDerivativeInput, ctx: HealthContextInput, long: boolean): OraclePrice {
  const { market, reading } = d;
  const problem = marketOracle(d, ctx);
  if (typeof problem !== "string") return problem;
  if (ctx.strictMarket === market.marketIndex || ctx.unpricedLiability !== "fallback") {
    throw new MarketOracleUnusableError(market.marketIndex, problem);
  }
  const last = lastPrice(reading, market.underlyingDecimals, ctx.quoteDecimals);
  const stable = market.stablePrice;
  const price = last === null ? stable : long ? min(last.lo, stable) : max(last.hi, stable);
  if (price <= 0n) throw new MarketOracleUnusableError(market.marketIndex, "OracleNonPositivePrice");
  return { lo: price, hi: price, conf: 0n };
}

/** The market's oracle price if fresh and certain by its rules in force (`usable_price`), else the program's error name. */
export function marketOracle(d: HealthDerivativeInput, ctx: HealthContextInput): OracleErrorName | OraclePrice {
  const safety = marketSafetyParams(d.market, ctx.now);
  return oracleProblem({ ...safety, decimals: d.market.underlyingDecimals }, d.reading, ctx);
}

/** `MarginRates::validate`: `0 ≤ maint ≤ liq_end ≤ init ≤ 1`, `0 ≤ size premium ≤ 1` with a contract size. */
function validateRates(r: MarginRates, sizePremium: bigint, contractSize: bigint): void {
  if (!(r.maint >= 0n && r.maint <= r.liqEnd && r.liqEnd <= r.init && r.init <= ONE)) {
    throw new InvalidRiskParameterError("margin rates out of order");
  }
  if (sizePremium < 0n || sizePremium > ONE || (sizePremium !== 0n && contractSize <= 0n)) {
    throw new InvalidRiskParameterError("size premium out of bounds");
  }
}

/** Fraction bits of the size premium's square root (`size_premium::SQRT_FRAC_BITS`): `√x` is a multiple of `2^-24`. */
export const SQRT_FRAC_BITS = FRAC_BITS / 2n;
/** `0.8` rounded up to the binary grid (`size_premium::FOUR_FIFTHS_UP`). */
export const FOUR_FIFTHS_UP = ((4n << FRAC_BITS) + 4n) / 5n;

/**
 * `√x` (raw) on the `2^-24` grid, rounded as asked (`size_premium::grid_sqrt`):
 * `⌈√bits⌉ · 2^24` or `⌊√bits⌋ · 2^24`. `gridSqrt(fromInt(10_000n), "ceil")` is 100 exactly.
 */
export function gridSqrt(x: bigint, rounding: Rounding): bigint {
  if (x < 0n) throw new InvalidRiskParameterError("square root of a negative size");
  let r = isqrt(x);
  if (rounding === "ceil" && r * r !== x) r += 1n;
  return r << SQRT_FRAC_BITS;
}

/**
 * The size premium (`MarginRates::rate_for_contracts`): the rate of `contracts`
 * (raw, ≥ 0) contracts for base rate `r`, `min(1, max(r, ⌈0.8·r⌉ + ⌈imf·⌈√c⌉⌉))`;
 * `r` itself when `imf = 0`. imf = 0.001, 10,000 contracts, Init 10 %:
 * √ = 100, premium 0.1, max(10 %, 8 % + 10 %) = 18 %.
 */
export function sizePremiumRate(r: bigint, imf: bigint, contracts: bigint): bigint {
  if (imf === 0n || contracts === 0n) return r;
  const grown = add(mulCeil(r, FOUR_FIFTHS_UP), mulCeil(imf, gridSqrt(contracts, "ceil")));
  return min(max(grown, r), ONE);
}

/** Rate in force for `ht` at the position's size (`DerivativeInfo::rate_in_force`): contracts = `|base| ÷ceil contract size`. */
export function derivativeRate(d: DerivativeValuation, ht: HealthType): bigint {
  if (d.sizePremium === 0n || d.base === 0n) return d.rates[ht];
  return sizePremiumRate(d.rates[ht], d.sizePremium, divInt(abs(d.base), d.contractSize, "ceil"));
}

/** `PnlLimits::validate`: `0 ≤ init ≤ liq_end ≤ maint ≤ 1`, cap ≥ 0. */
function validatePnlLimits(l: PnlLimits): void {
  const w = l.weights;
  if (!(w.init >= 0n && w.init <= w.liqEnd && w.liqEnd <= w.maint && w.maint <= ONE) || (l.initCap ?? 0n) < 0n) {
    throw new InvalidRiskParameterError("PnL weights out of order");
  }
}

/**
 * Values one derivative position (`health::value_derivative`): base and
 * cost basis from the stored integers, the funding it would settle now, the
 * market's biased prices (a settled future: its settlement price, flat, with
 * no requirement) and rates in force, and its positive-PnL limits.
 */
export function valueDerivative(d: HealthDerivativeInput, ctx: HealthContextInput): DerivativeValuation {
  const { market } = d;
  if (market.kind === MarketKind.option) return valueOption(d, ctx);
  const base = baseNative(d.baseContracts, market.contractSize);
  const funding = pendingFunding(market, d.baseContracts, d.fundingSnapshot);
  const costBasis = sub(fromInt(d.quoteCost), fromInt(d.realizedPnl));
  const risk = marketRiskParams(market, ctx.now);
  let prices: BiasedPrices;
  let rates: MarginRates;
  if (market.status === MarketStatus.settled) {
    const p = market.settlementPrice;
    prices = { oracle: p, spotAsset: p, spotLiab: p, initAsset: p, initLiab: p };
    rates = { init: 0n, maint: 0n, liqEnd: 0n };
  } else if (d.baseContracts === 0n) {
    // Only realised PnL is left: it needs no price (value and requirement are 0).
    const p = market.stablePrice;
    prices = { oracle: p, spotAsset: p, spotLiab: p, initAsset: p, initLiab: p };
    rates = { init: risk.initRate, maint: risk.maintRate, liqEnd: risk.liqEndRate };
  } else {
    const price = positionPrice(d, ctx, d.baseContracts > 0n);
    prices = biasedPrices(price, market.stablePrice, marketSafetyParams(market, ctx.now).confMultiplier);
    rates = { init: risk.initRate, maint: risk.maintRate, liqEnd: risk.liqEndRate };
  }
  const sizePremium = market.status === MarketStatus.settled ? 0n : risk.sizePremium;
  validateRates(rates, sizePremium, market.contractSize);
  const reqUnit = {
    init: mulCeil(liabPrice(prices, "init"), rates.init),
    maint: mulCeil(liabPrice(prices, "maint"), rates.maint),
    liqEnd: mulCeil(liabPrice(prices, "liqEnd"), rates.liqEnd),
  };
  const pnlLimits: PnlLimits = {
    weights: { init: risk.pnlInitWeight, maint: risk.pnlMaintWeight, liqEnd: risk.pnlLiqEndWeight },
    initCap: fromInt(risk.initPnlCap),
  };
  validatePnlLimits(pnlLimits);
  return { marketIndex: market.marketIndex, base, costBasis, unsettledFunding: fromInt(funding), prices, rates, reqUnit,
    pnlLimits, sizePremium, contractSize: market.contractSize };
}

/** Signed value for `ht`: `base ·floor` the conservative price of its direction (`DerivativeInfo::value`). */
export function derivativeValue(d: DerivativeValuation, ht: HealthType): bigint {
  if (d.option) return mulFloor(d.base, d.option.unitValue[ht]);
  const unit = d.base > 0n ? assetPrice(d.prices, ht) : liabPrice(d.prices, ht);
  return mulFloor(d.base, unit);
}

/** Unrealised PnL for `ht`: value − cost basis + unsettled funding (`DerivativeInfo::pnl`). */
export function derivativePnl(d: DerivativeValuation, ht: HealthType): bigint {
  return add(sub(derivativeValue(d, ht), d.costBasis), d.unsettledFunding);
}

/** PnL as health counts it: losses in full, profits `·floor w_T`, Init capped (`PnlLimits::weigh`). */
export function weightedPnl(d: DerivativeValuation, ht: HealthType): bigint {
  const pnl = derivativePnl(d, ht);
  if (pnl <= 0n) return pnl;
  const weighted = mulFloor(pnl, d.pnlLimits.weights[ht]);
  return ht === "init" && d.pnlLimits.initCap !== null ? min(weighted, d.pnlLimits.initCap) : weighted;
}

/**
 * Margin requirement for `ht`: `|base| ·ceil (liab price ·ceil rate)`, the rate
 * grown by the market's size premium ({@link derivativeRate}) (`DerivativeInfo::requirement`).
 */
export function derivativeRequirement(d: DerivativeValuation, ht: HealthType): bigint {
  const size = abs(d.base);
  if (d.option) {
    // A long option cannot lose more than it is worth.
    const req = mulCeil(size, d.reqUnit[ht]);
    return d.base > 0n ? min(req, max(derivativeValue(d, ht), 0n)) : req;
  }
  if (d.sizePremium === 0n || size === 0n) return mulCeil(size, d.reqUnit[ht]);
  return mulCeil(size, mulCeil(liabPrice(d.prices, ht), derivativeRate(d, ht)));
}

/** Contribution to health `ht`: weighted PnL − requirement (`DerivativeInfo::contribution`). */
export function derivativeContribution(d: DerivativeValuation, ht: HealthType): bigint {
  return sub(weightedPnl(d, ht), derivativeRequirement(d, ht));
}

