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
  abs, add, DELTA, divInt, DivisionByZeroError, FixedOverflowError, FRAC_BITS, fromInt, isqrt, MAX, max, min,
  mulCeil, mulDiv, mulFloor, mulInt, neg, ONE, type Rounding, sub, toI64,
} from "./fixed.ts";
import { type OptionMarketInput, RiskArrayUnusableError, valueOption } from "./optionHealth.ts";

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
}

/** `PriceRules::CONSERVATIVE`: nothing strict, unusable prices at their fallback. */
export function conservativeRules(ctx: HealthContextInput): HealthContextInput {
  return { quoteDecimals: ctx.quoteDecimals, now: ctx.now, unpricedLiability: "fallback" };
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
function oracleProblem(rules: OracleRules, r: PythReadingInput, ctx: HealthContextInput): OracleErrorName | OraclePrice {
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
function lastPrice(r: PythReadingInput, decimals: number, quoteDecimals: number): OraclePrice | null {
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

/**
 * Init, Maint and LiquidationEnd health of an account's token positions and
 * derivative positions (each in slot order), exactly as the program computes
 * them (linear margin mode): value every token position, then every
 * derivative position, reject an index valued twice, then sum per type.
 */
export function estimateHealth(
  positions: HealthPositionInput[],
  ctx: HealthContextInput,
  derivatives: HealthDerivativeInput[] = [],
): HealthEstimate {
  const tokens = positions.map((p) => valueToken(p, ctx)).filter((t): t is TokenValuation => t !== null);
  const markets = derivatives.map((d) => valueDerivative(d, ctx));
  tokens.forEach((t, i) => {
    if (tokens.slice(0, i).some((u) => u.tokenIndex === t.tokenIndex)) throw new DuplicateTokenError(t.tokenIndex);
  });
  markets.forEach((d, i) => {
    if (markets.slice(0, i).some((e) => e.marketIndex === d.marketIndex)) throw new DuplicateMarketError(d.marketIndex);
  });
  const sum = (ht: HealthType): bigint => {
    const h = tokens.reduce((acc, t) => add(acc, contribution(t, ht)), 0n);
    return markets.reduce((acc, d) => add(acc, derivativeContribution(d, ht)), h);
  };
  return { init: sum("init"), maint: sum("maint"), liqEnd: sum("liqEnd") };
}

// ---------------------------------------------------------------- derivative positions

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
   * Options (`optionHealth.ts`): the value per underlying native unit from the
   * market's risk array (a short's one ulp more), for every health type.
   */
  option?: { unitValue: bigint };
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
  if (d.option) return mulFloor(d.base, d.option.unitValue);
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

/** Band of an estimate: Maint < 0 liquidatable, else Init < 0 margin call, else healthy. */
export function healthBand(h: HealthEstimate): HealthBand {
  if (h.maint < 0n) return "liquidatable";
  return h.init < 0n ? "marginCall" : "healthy";
}

/** Raw health → integer quote native units, rounded down and saturated to i64 (`to_quote_native`). */
export function toQuoteNative(raw: bigint): bigint {
  return min(max(raw >> FRAC_BITS, I64_MIN), I64_MAX);
}
