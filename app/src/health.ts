/**
 * Client-side health estimate, bit-exact with the program's valuation
 * (`xmargin::health::value_token`, `xmargin::health::value_derivative` and the
 * risk engine's linear `HealthCache` with its `DerivativeInfo`).
 *
 * Each step mirrors one Rust function with the same roundings, so the raw
 * I80F48 results are identical; `tests/health.test.ts` proves it on fixtures
 * the Rust engine writes (`crates/client/tests/health_fixtures.rs`).
 * Field names are the Anchor accounts' (`Bank`, `BankRiskParams`) in
 * lowerCamelCase; fixed-point fields are raw I80F48 `bigint`s (see
 * `fromStoredFixed`), integers as stored.
 */
import {
  add, DELTA, DivisionByZeroError, FixedOverflowError, FRAC_BITS, fromInt, MAX, max, min, mulCeil, mulDiv, mulFloor,
  ONE, type Rounding, sub,
} from "./fixed.ts";
import {
  derivativeContribution, DuplicateMarketError, type DerivativeValuation, type HealthDerivativeInput,
  MarketOracleUnusableError, valueDerivative,
} from "./derivativeHealth.ts";
import { RiskArrayUnusableError } from "./optionHealth.ts";
import type { RiskGridInput } from "./riskGrid.ts";

export * from "./derivativeHealth.ts";

/** A bank's risk parameters (`BankRiskParams`): weights raw I80F48, caps and scale starts as stored (u64). */
export interface RiskParamsInput {
  initAssetWeight: bigint;
  liqEndAssetWeight: bigint;
  maintAssetWeight: bigint;
  maintLiabWeight: bigint;
  liqEndLiabWeight: bigint;
  initLiabWeight: bigint;
  depositCap: bigint;
  borrowLimit: bigint;
  depositWeightScaleStart: bigint;
  borrowWeightScaleStart: bigint;
}

/** The `Bank` fields health reads (fixed-point fields raw I80F48). */
export interface HealthBankInput {
  tokenIndex: number;
  mintDecimals: number;
  depositIndex: bigint;
  borrowIndex: bigint;
  depositShares: bigint;
  borrowShares: bigint;
  stablePrice: bigint;
  confMultiplier: bigint;
  maxConfRatio: bigint;
  maxOracleAgeSecs: number;
  risk: RiskParamsInput;
  pendingRisk: RiskParamsInput;
  pendingActivationTs: bigint;
  /** The curve's rate at full use (raw I80F48): debts in a bank not accrued since grow at it. */
  maxRate: bigint;
  lastAccrualTs: bigint;
}

/** A Pyth `PriceUpdateV2` message: `price · 10^exponent ± conf · 10^exponent`. */
export interface PythReadingInput {
  price: bigint;
  conf: bigint;
  exponent: number;
  publishTime: bigint;
}

/** One token position: its bank, the bank's oracle reading and the signed shares (raw I80F48, negative = borrow). */
export interface HealthPositionInput {
  bank: HealthBankInput;
  reading: PythReadingInput;
  shares: bigint;
}

/** Health of all three types, raw I80F48 in quote native units. */
export interface HealthEstimate {
  init: bigint;
  maint: bigint;
  liqEnd: bigint;
}

/**
 * `HealthContext` minus the group: quote decimals, clock, and the program's
 * price rules (`PriceRules`; the defaults are `PriceRules::VIEW`, what
 * `compute_health` uses).
 */
export interface HealthContextInput {
  quoteDecimals: number;
  now: bigint;
  /** Token whose price must be usable even as an asset (the instruction's own). */
  strictToken?: number;
  /** More such tokens (`PriceRules::strict`: a liquidation's asset and liability). */
  strictTokens?: number[];
  /** Market whose price must be usable (`PriceRules::strict_market`: the one traded or liquidated). */
  strictMarket?: number;
  /** Every token price must be usable. */
  strictAll?: boolean;
  /**
   * A liability (or any derivative position) whose price is unusable: refused
   * (`"refuse"`, the default: risk-increasing actions and views) or valued at
   * its conservative fallback (`"fallback"`: liquidations, the recovery check,
   * keeper ranking).
   */
  unpricedLiability?: "refuse" | "fallback";
  /**
   * The group's scenario grid and risk-array rules in force (`Group::risk_grid_at`;
   * `groupRiskGrid` decodes it): option arrays are checked fresh on it and
   * portfolio mode nets on it. Absent: a new group's default grid.
   */
  grid?: RiskGridInput;
}

/** `PriceRules::CONSERVATIVE`: nothing strict, unusable prices at their fallback. */
export function conservativeRules(ctx: HealthContextInput): HealthContextInput {
  return { quoteDecimals: ctx.quoteDecimals, now: ctx.now, grid: ctx.grid, unpricedLiability: "fallback" };
}

function isStrictToken(ctx: HealthContextInput, token: number): boolean {
  return ctx.strictAll === true || ctx.strictToken === token || (ctx.strictTokens ?? []).includes(token);
}

export type HealthType = "init" | "maint" | "liqEnd";
export type HealthBand = "healthy" | "marginCall" | "liquidatable";

/** Oracle price in quote native per native unit: floor, ceil (`lo` or `lo + 1 ulp`), confidence (ceil). */
export interface OraclePrice {
  lo: bigint;
  hi: bigint;
  conf: bigint;
}

/** `BiasedPrices`: the prices a position is valued at, per health type and side. */
export interface BiasedPrices {
  oracle: bigint;
  spotAsset: bigint;
  spotLiab: bigint;
  initAsset: bigint;
  initLiab: bigint;
}

export interface TokenWeights {
  initAsset: bigint;
  maintAsset: bigint;
  liqEndAsset: bigint;
  initLiab: bigint;
  maintLiab: bigint;
  liqEndLiab: bigint;
}

/** A valued position (the engine's `TokenInfo`). */
export interface TokenValuation {
  tokenIndex: number;
  balance: bigint;
  prices: BiasedPrices;
  weights: TokenWeights;
}

export type OracleErrorName = "OracleStale" | "OracleNonPositivePrice" | "OracleConfidenceTooWide" | "MathOverflow";

/** A price the program refuses for this position (a liability or a strict token); it fails with `programError`. */
export class OracleUnusableError extends Error {
  constructor(
    readonly tokenIndex: number,
    readonly programError: OracleErrorName,
  ) {
    super(`token ${tokenIndex}: oracle unusable (${programError})`);
    this.name = "OracleUnusableError";
  }
}

/** A Pyth price that is non-positive or rounds to zero in native units (`RiskError::InvalidPrice`). */
export class InvalidPriceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidPriceError";
  }
}

/** A risk parameter out of range (`RiskError::InvalidParameter`, program error `InvalidWeights`). */
export class InvalidRiskParameterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidRiskParameterError";
  }
}

/** The same token valued twice (`RiskError::DuplicateIndex`, program error `HealthAccountMismatch`). */
export class DuplicateTokenError extends Error {
  constructor(readonly tokenIndex: number) {
    super(`token ${tokenIndex} listed twice`);
    this.name = "DuplicateTokenError";
  }
}

/** The program error name an estimate error corresponds to (how `risk_error` maps it), if any. */
export function programErrorOf(e: unknown): string | undefined {
  if (e instanceof OracleUnusableError || e instanceof MarketOracleUnusableError) return e.programError;
  if (e instanceof RiskArrayUnusableError) return e.programError;
  if (e instanceof InvalidRiskParameterError) return "InvalidWeights";
  if (e instanceof DuplicateTokenError || e instanceof DuplicateMarketError) return "HealthAccountMismatch";
  if (e instanceof InvalidPriceError) return "OracleNonPositivePrice";
  if (e instanceof FixedOverflowError || e instanceof DivisionByZeroError) return "MathOverflow";
  return undefined;
}

const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

/** Signed native balance: deposits at the deposit index, debts at the borrow index, both floored (debts weigh more). */
const SECONDS_PER_YEAR = 31_536_000n;

/**
 * A debt `dt` seconds after its bank's last accrual, grown at the bank's
 * highest rate, rounded away from zero (`interest::project_debt`).
 */
export function projectDebt(balance: bigint, maxRate: bigint, dt: bigint): bigint {
  if (balance >= 0n || dt === 0n || maxRate <= 0n) return balance;
  const growth = mulDiv(maxRate, fromInt(dt), fromInt(SECONDS_PER_YEAR), "ceil");
  return add(balance, mulFloor(balance, growth));
}

export function nativeBalance(shares: bigint, depositIndex: bigint, borrowIndex: bigint): bigint {
  return mulFloor(shares, shares < 0n ? borrowIndex : depositIndex);
}

/** `floor(value · 10^exp10)` as raw fixed point, and whether it was inexact (`scale_pow10_floor`). */
function scalePow10Floor(value: bigint, exp10: number): [bigint, boolean] {
  if (exp10 >= 0) {
    if (exp10 > 38) throw new FixedOverflowError("scalePow10"); // 10^39 overflows u128
    const v = value * 10n ** BigInt(exp10);
    if (v > MAX >> FRAC_BITS) throw new FixedOverflowError("scalePow10");
    return [v << FRAC_BITS, false];
  }
  const num = value << FRAC_BITS;
  if (-exp10 > 38) return [0n, value !== 0n];
  const d = 10n ** BigInt(-exp10);
  const q = num / d;
  return [q, q * d !== num];
}

/** `value · 10^exp10` as raw fixed point, rounded as asked (`scale_pow10`). */
export function scalePow10(value: bigint, exp10: number, rounding: Rounding): bigint {
  const [floor, inexact] = scalePow10Floor(value, exp10);
  return inexact && rounding === "ceil" ? add(floor, DELTA) : floor;
}

/** A Pyth reading in quote native per native unit (`OraclePrice::from_pyth`). */
export function oraclePriceFromPyth(
  price: bigint,
  conf: bigint,
  exponent: number,
  tokenDecimals: number,
  quoteDecimals: number,
): OraclePrice {
  if (price <= 0n) throw new InvalidPriceError(`non-positive price ${price}`);
  const isI32 = (v: number): boolean => Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31;
  const e = exponent + quoteDecimals - tokenDecimals; // i32 checked_add, then checked_sub
  if (!isI32(exponent + quoteDecimals) || !isI32(e)) throw new InvalidPriceError(`exponent ${exponent}`);
  const [lo, inexact] = scalePow10Floor(price, e);
  const hi = inexact ? add(lo, DELTA) : lo;
  if (lo <= 0n) throw new InvalidPriceError(`price ${price}e${exponent} rounds to zero`);
  return { lo, hi, conf: scalePow10(conf, e, "ceil") };
}

/**
 * The confidence check on a reading's integer mantissas (`pyth_conf_within`):
 * `conf / price ≤ maxRatio`, decided exactly as `conf · 2^48 ≤ maxRatio_raw · price`.
 */
export function pythConfWithin(price: bigint, conf: bigint, maxConfRatio: bigint): boolean {
  if (price <= 0n || maxConfRatio < 0n) return false;
  return conf << FRAC_BITS <= maxConfRatio * price;
}

/** The bias rules: spot ∓ k·conf (asset ≥ 0), Init also against the stable price (`BiasedPrices::new`). */
export function biasedPrices(oracle: OraclePrice, stablePrice: bigint, confMultiplier: bigint): BiasedPrices {
  if (confMultiplier < 0n || stablePrice < 0n) {
    throw new InvalidRiskParameterError("negative conf multiplier or stable price");
  }
  const widen = mulCeil(confMultiplier, oracle.conf);
  const spotAsset = max(sub(oracle.lo, widen), 0n);
  const spotLiab = add(oracle.hi, widen);
  return {
    oracle: oracle.lo,
    spotAsset,
    spotLiab,
    initAsset: min(spotAsset, stablePrice),
    initLiab: max(spotLiab, stablePrice),
  };
}

/** Parameters in force at `now`: the pending loosening once its activation time has come (`Bank::risk_params`). */
export function riskParams(bank: HealthBankInput, now: bigint): RiskParamsInput {
  return bank.pendingActivationTs !== 0n && now >= bank.pendingActivationTs ? bank.pendingRisk : bank.risk;
}

function weightsOf(p: RiskParamsInput): TokenWeights {
  return {
    initAsset: p.initAssetWeight,
    maintAsset: p.maintAssetWeight,
    liqEndAsset: p.liqEndAssetWeight,
    initLiab: p.initLiabWeight,
    maintLiab: p.maintLiabWeight,
    liqEndLiab: p.liqEndLiabWeight,
  };
}

function bitLength(x: bigint): number {
  return x === 0n ? 0 : (x < 0n ? -x : x).toString(2).length;
}

/**
 * The engine's 128-bit shortcut (`weights::shrink`): drops `k` low bits of the
 * ratio's numerator and denominator, rounding each the conservative way.
 * Reproduced exactly, since it changes the last bits of a scaled weight.
 */
function shrink(w: bigint, num: bigint, den: bigint, rounding: Rounding): [bigint, bigint] {
  const [wl, nl, dl] = [bitLength(w), bitLength(num), bitLength(den)];
  const k = Math.min(Math.max(wl + nl - 126, 0), Math.max(nl - 60, 0), Math.max(dl - 60, 0));
  if (k === 0) return [num, den];
  const K = BigInt(k);
  const up = (b: bigint): bigint => (b >> K) + ((b & ((1n << K) - 1n)) !== 0n ? 1n : 0n);
  return rounding === "floor" ? [num >> K, up(den)] : [up(num), den >> K];
}

/** `w · threshold / total` (floor) once total deposits exceed the threshold (`scaled_init_asset_weight`). */
export function scaledInitAssetWeight(w: bigint, threshold: bigint, total: bigint): bigint {
  if (threshold <= 0n || total <= threshold) return w;
  const [n, d] = shrink(w, threshold, total, "floor");
  return mulDiv(w, n, d, "floor");
}

/** `w · total / threshold` (ceil) once total borrows exceed the threshold (`scaled_init_liab_weight`). */
export function scaledInitLiabWeight(w: bigint, threshold: bigint, total: bigint): bigint {
  if (threshold <= 0n || total <= threshold) return w;
  const [n, d] = shrink(w, total, threshold, "ceil");
  return mulDiv(w, n, d, "ceil");
}

/** Bank totals in native units: deposits floored, borrows ceiled (`Bank::native_totals`). */
export function nativeTotals(bank: HealthBankInput): [bigint, bigint] {
  return [mulFloor(bank.depositShares, bank.depositIndex), mulCeil(bank.borrowShares, bank.borrowIndex)];
}

/** The bank's weights in force, Init weights size-scaled on totals valued at Init prices (`position_weights`). */
export function positionWeights(bank: HealthBankInput, prices: BiasedPrices, now: bigint): TokenWeights {
  const params = riskParams(bank, now);
  const w = weightsOf(params);
  if (params.depositWeightScaleStart === 0n && params.borrowWeightScaleStart === 0n) return w;
  const [deposits, borrows] = nativeTotals(bank);
  const depositsValue = mulFloor(deposits, prices.initAsset);
  const borrowsValue = mulCeil(borrows, prices.initLiab);
  return {
    ...w,
    initAsset: scaledInitAssetWeight(w.initAsset, fromInt(params.depositWeightScaleStart), depositsValue),
    initLiab: scaledInitLiabWeight(w.initLiab, fromInt(params.borrowWeightScaleStart), borrowsValue),
  };
}

/** `0 ≤ initAsset ≤ liqEndAsset ≤ maintAsset ≤ 1 ≤ maintLiab ≤ liqEndLiab ≤ initLiab` (`validate`). */
export function validateWeights(w: TokenWeights): void {
  const chain = [0n, w.initAsset, w.liqEndAsset, w.maintAsset, ONE, w.maintLiab, w.liqEndLiab, w.initLiab];
  if (!chain.every((v, i) => i === 0 || chain[i - 1] <= v)) {
    throw new InvalidRiskParameterError("weights out of order");
  }
}

/** The oracle rules a reading is checked against: a bank's, or a market's in force. */
interface OracleRules {
  maxOracleAgeSecs: number;
  maxConfRatio: bigint;
  decimals: number;
}

/** The first check a reading fails, in the program's order (`check_fresh`, `to_oracle_price`), or the price. */
/** @internal The oracle price by `rules`, or the program's error name (shared with `derivativeHealth.ts`). */
export function oracleProblem(rules: OracleRules, r: PythReadingInput, ctx: HealthContextInput): OracleErrorName | OraclePrice {
  const age = min(max(ctx.now - r.publishTime, I64_MIN), I64_MAX); // i64::saturating_sub
  if (age > BigInt(rules.maxOracleAgeSecs)) return "OracleStale";
  if (r.price <= 0n) return "OracleNonPositivePrice";
  let price: OraclePrice;
  try {
    price = oraclePriceFromPyth(r.price, r.conf, r.exponent, rules.decimals, ctx.quoteDecimals);
  } catch {
    return "OracleNonPositivePrice";
  }
  return pythConfWithin(r.price, r.conf, rules.maxConfRatio) ? price : "OracleConfidenceTooWide";
}

/** The last reading as a price, whatever its age or confidence (`OraclePrice::from_pyth(..).ok()`). */
/** @internal The last reading's price, whatever its age (shared with `derivativeHealth.ts`). */
export function lastPrice(r: PythReadingInput, decimals: number, quoteDecimals: number): OraclePrice | null {
  try {
    return oraclePriceFromPyth(r.price, r.conf, r.exponent, decimals, quoteDecimals);
  } catch (e) {
    if (e instanceof InvalidPriceError || e instanceof FixedOverflowError) return null;
    throw e;
  }
}

/**
 * Values one position (`value_token`): `null` for an asset whose price is
 * stale, non-positive or too uncertain (valued at 0); throws
 * {@link OracleUnusableError} where the program refuses (a liability under the
 * default rules, or a strict token). Under `unpricedLiability: "fallback"` a
 * liability is valued at the larger of its last reading (confidence kept) and
 * its stable price (`fallback_liability_price`).
 */
export function valueToken(position: HealthPositionInput, ctx: HealthContextInput): TokenValuation | null {
  const { bank, reading } = position;
  const since = ctx.now > bank.lastAccrualTs ? ctx.now - bank.lastAccrualTs : 0n;
  const balance = projectDebt(nativeBalance(position.shares, bank.depositIndex, bank.borrowIndex), bank.maxRate, since);
  let oracle = oracleProblem({ ...bank, decimals: bank.mintDecimals }, reading, ctx);
  if (typeof oracle === "string") {
    if (isStrictToken(ctx, bank.tokenIndex)) throw new OracleUnusableError(bank.tokenIndex, oracle);
    if (balance >= 0n) return null;
    if (ctx.unpricedLiability !== "fallback") throw new OracleUnusableError(bank.tokenIndex, oracle);
    const last = lastPrice(reading, bank.mintDecimals, ctx.quoteDecimals);
    const hi = last ? max(last.hi, bank.stablePrice) : bank.stablePrice;
    if (hi <= 0n) throw new OracleUnusableError(bank.tokenIndex, oracle);
    oracle = { lo: hi, hi, conf: last ? last.conf : 0n };
  }
  const prices = biasedPrices(oracle, bank.stablePrice, bank.confMultiplier);
  const weights = positionWeights(bank, prices, ctx.now);
  validateWeights(weights);
  return { tokenIndex: bank.tokenIndex, balance, prices, weights };
}

/** Price a positive balance is valued at for `ht` (Init: the stable-capped side). */
export function assetPrice(p: BiasedPrices, ht: HealthType): bigint {
  return ht === "init" ? p.initAsset : p.spotAsset;
}

/** Price a negative balance is valued at for `ht`. */
export function liabPrice(p: BiasedPrices, ht: HealthType): bigint {
  return ht === "init" ? p.initLiab : p.spotLiab;
}

function assetWeight(w: TokenWeights, ht: HealthType): bigint {
  return ht === "init" ? w.initAsset : ht === "maint" ? w.maintAsset : w.liqEndAsset;
}

function liabWeight(w: TokenWeights, ht: HealthType): bigint {
  return ht === "init" ? w.initLiab : ht === "maint" ? w.maintLiab : w.liqEndLiab;
}

/** Contribution to health `ht` (`TokenInfo::contribution`): unit value rounded against the user, product floored. */
export function contribution(t: TokenValuation, ht: HealthType): bigint {
  const unit =
    t.balance < 0n
      ? mulCeil(liabPrice(t.prices, ht), liabWeight(t.weights, ht))
      : mulFloor(assetPrice(t.prices, ht), assetWeight(t.weights, ht));
  return mulFloor(t.balance, unit);
}

/** Every position of an account valued (tokens in slot order, unpriced deposits left out; derivatives in slot order). */
export interface ValuedPositions {
  tokens: TokenValuation[];
  markets: DerivativeValuation[];
}

/**
 * Values an account's token and derivative positions as the program does
 * (`value_token`, `value_derivative`) and rejects an index valued twice.
 */
export function valuePositions(
  positions: HealthPositionInput[],
  ctx: HealthContextInput,
  derivatives: HealthDerivativeInput[] = [],
): ValuedPositions {
  const tokens = positions.map((p) => valueToken(p, ctx)).filter((t): t is TokenValuation => t !== null);
  const markets = derivatives.map((d) => valueDerivative(d, ctx));
  tokens.forEach((t, i) => {
    if (tokens.slice(0, i).some((u) => u.tokenIndex === t.tokenIndex)) throw new DuplicateTokenError(t.tokenIndex);
  });
  markets.forEach((d, i) => {
    if (markets.slice(0, i).some((e) => e.marketIndex === d.marketIndex)) throw new DuplicateMarketError(d.marketIndex);
  });
  return { tokens, markets };
}

/** Linear health of valued positions: the sum of their contributions per type (`HealthCache::linear_health`). */
export function linearHealth({ tokens, markets }: ValuedPositions): HealthEstimate {
  const sum = (ht: HealthType): bigint => {
    const h = tokens.reduce((acc, t) => add(acc, contribution(t, ht)), 0n);
    return markets.reduce((acc, d) => add(acc, derivativeContribution(d, ht)), h);
  };
  return { init: sum("init"), maint: sum("maint"), liqEnd: sum("liqEnd") };
}

/**
 * Init, Maint and LiquidationEnd health of an account's token positions and
 * derivative positions (each in slot order), exactly as the program computes
 * them in linear margin mode (portfolio mode: `estimatePortfolioHealth`).
 */
export function estimateHealth(
  positions: HealthPositionInput[],
  ctx: HealthContextInput,
  derivatives: HealthDerivativeInput[] = [],
): HealthEstimate {
  return linearHealth(valuePositions(positions, ctx, derivatives));
}

/** Band of an estimate: Maint < 0 liquidatable, else Init < 0 margin call, else healthy. */
export function healthBand(h: HealthEstimate): HealthBand {
  if (h.maint < 0n) return "liquidatable";
  return h.init < 0n ? "marginCall" : "healthy";
}

/** Raw health → integer quote native units, rounded down and saturated to i64 (`to_quote_native`). */
export function toQuoteNative(raw: bigint): bigint {
  return min(max(raw >> FRAC_BITS, I64_MIN), I64_MAX);
}
