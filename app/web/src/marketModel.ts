/**
 * The derivative markets of a group and an account's derivative positions as
 * the dashboard shows them, from decoded `Market`s (`@xmargin/client`): state
 * at the cluster's clock, oracle, stable and mark prices, open interest,
 * funding (perpetuals), the option terms, volatility, model value and risk
 * array freshness; per position the entry, unrealised PnL at the mark the
 * program uses, pending funding and the contributions to Init and Maint health
 * (the client's estimate; where it cannot value a position, the reason
 * instead). No rendering here.
 */
import {
  derivativeContribution, type DerivativePositionView, fixedRaw, fixedToNumber, type HealthContextInput,
  type HealthDerivativeInput, marketInput, type MarketData, MarketKind, marketName, marketState, type MarketState,
  markSample, oraclePriceFromPyth, pendingFunding, predictFundingUpdate, fundingInput, type RiskArrayFreshness,
  riskArrayFreshness, riskArrayHeader, toQuoteNative, valueDerivative, volatilityAt,
} from "@xmargin/client";
import type { PublicKey } from "@solana/web3.js";
import type { Oracle } from "./model.ts";

export interface OptionInfo {
  isCall: boolean;
  /** USD per whole underlying token, and quote native per contract as listed. */
  strike: number;
  strikePerContract: bigint;
  /** Volatility in force (1.0 = 100 %) and a pending lowering (null: none). */
  volatility: number;
  pendingVolatility: { value: number; ts: number } | null;
  /** Model value of the risk array per contract (quote native, floored) and its delta. */
  valuePerContract: bigint;
  delta: number;
  /** Unix seconds; 0: never computed. */
  arrayComputedAt: number;
  arrayAgeSecs: number | null;
  freshness: RiskArrayFreshness;
}

export interface MarketRow {
  marketIndex: number;
  name: string;
  /** `perpetual`, `future` or `option` (the IDL's kinds). */
  kind: string;
  /** Short label: perp, future, call, put. */
  kindLabel: string;
  state: MarketState;
  /** Kept for older readers: `state`. */
  status: MarketState;
  address: PublicKey;
  data: MarketData;
  underlyingSymbol: string;
  underlyingDecimals: number;
  quoteDecimals: number;
  oracle: Oracle;
  maxOracleAgeSecs: number;
  /** Raw oracle `lo` (quote native per underlying native unit), as the program prices with. */
  oracleLo: bigint | null;
  /** USD per whole underlying token. */
  stablePrice: number;
  /** Perpetuals and futures: oracle · (1 + mark premium in force); options: the risk array's model value per token. */
  markPrice: number | null;
  settlementPrice: number | null;
  /** Contracts (one side), and their notional at the oracle (USD). */
  openInterest: bigint;
  openInterestNotional: number | null;
  openInterestCap: bigint;
  contractSize: bigint;
  /** Last hourly funding rate applied (fraction of the oracle; > 0: longs pay shorts). */
  lastFundingRate: number;
  /** The rate an `update_funding` now would apply (perpetuals, bit-exact prediction); null: not due or unpriced. */
  nextFundingRate: number | null;
  cumFunding: number;
  markTwap: number;
  oracleTwap: number;
  lastFundingTs: number;
  expiryTs: number;
  positions: bigint;
  option: OptionInfo | null;
}

const KIND = ["perpetual", "future", "option"];

/** `native · raw` (raw I80F48 per native unit) in quote native, to the nearest unit (display: $150 × 0.2 SOL shows $30.00, not $29.99). */
export function nearest(native: bigint, raw: bigint): bigint {
  return (native * raw + (1n << 47n)) >> 48n;
}

/** Raw I80F48 per underlying native unit → USD per whole token. */
function perToken(raw: bigint, underlyingDecimals: number, quoteDecimals: number): number {
  return (fixedToNumber(raw) * 10 ** underlyingDecimals) / 10 ** quoteDecimals;
}

export function marketRow(
  m: { marketIndex: number; address: PublicKey; data: MarketData },
  oracle: Oracle, underlyingSymbol: string, quoteDecimals: number, now: bigint,
): MarketRow {
  const d = m.data;
  const ud = d.underlyingDecimals;
  const n = (v: { toString(): string }) => BigInt(v.toString());
  const usd = (raw: bigint) => perToken(raw, ud, quoteDecimals);
  let oracleLo: bigint | null = null;
  try {
    if (oracle.reading) oracleLo = oraclePriceFromPyth(oracle.reading.price, oracle.reading.conf, oracle.reading.exponent, ud, quoteDecimals).lo;
  } catch { oracleLo = null; }
  const state = marketState(d, now);
  const contractSize = n(d.contractSize);
  const openInterest = n(d.openInterest);
  let nextFundingRate: number | null = null;
  if (d.kind === MarketKind.perpetual && oracleLo !== null && state === "active") {
    try { nextFundingRate = fixedToNumber(predictFundingUpdate(fundingInput(d), oracleLo, now).rate); } catch { nextFundingRate = null; }
  }
  let option: OptionInfo | null = null;
  let markPrice: number | null = null;
  if (d.kind === MarketKind.option) {
    const a = riskArrayHeader(d);
    const pendingTs = Number(d.option.pendingVolatilityTs.toString());
    option = {
      isCall: d.optionIsCall !== 0, strike: usd(fixedRaw(d.strike)), strikePerContract: n(d.option.strikePerContract),
      volatility: fixedToNumber(volatilityAt(d, now)),
      pendingVolatility: pendingTs !== 0 && BigInt(pendingTs) > now ? { value: fixedToNumber(fixedRaw(d.option.pendingVolatility)), ts: pendingTs } : null,
      valuePerContract: (a.value * contractSize) >> 48n, delta: fixedToNumber(a.delta),
      arrayComputedAt: Number(a.computedAt), arrayAgeSecs: a.computedAt === 0n ? null : Math.max(0, Number(now - a.computedAt)),
      freshness: oracleLo === null && a.computedAt !== 0n ? "stale" : riskArrayFreshness(d, now, oracleLo ?? 0n),
    };
    markPrice = a.computedAt === 0n ? null : usd(a.value);
  } else if (oracleLo !== null) {
    markPrice = usd(markSample(oracleLo, fixedRaw(d.markPremium)));
  }
  const kindLabel = d.kind === MarketKind.option ? (d.optionIsCall !== 0 ? "call" : "put") : d.kind === MarketKind.future ? "future" : "perp";
  return {
    marketIndex: m.marketIndex, name: marketName(d), kind: KIND[d.kind] ?? `kind ${d.kind}`, kindLabel, state, status: state,
    address: m.address, data: d, underlyingSymbol, underlyingDecimals: ud, quoteDecimals, oracle,
    maxOracleAgeSecs: d.safety.maxOracleAgeSecs, oracleLo,
    stablePrice: usd(fixedRaw(d.stablePrice)), markPrice,
    settlementPrice: d.status !== 0 ? usd(fixedRaw(d.settlementPrice)) : null,
    openInterest, openInterestCap: n(d.risk.openInterestCap), contractSize,
    openInterestNotional: oracle.price === null ? null : (Number(openInterest * contractSize) / 10 ** ud) * oracle.price,
    lastFundingRate: fixedToNumber(fixedRaw(d.lastFundingRate)), nextFundingRate, cumFunding: fixedToNumber(fixedRaw(d.cumFunding)),
    markTwap: usd(fixedRaw(d.markTwap)), oracleTwap: usd(fixedRaw(d.oracleTwap)),
    lastFundingTs: Number(d.lastFundingTs.toString()), expiryTs: Number(d.expiryTs.toString()), positions: n(d.positionCount),
    option,
  };
}

/** A contribution to one health type: raw I80F48 and quote native (floored), or why there is none. */
export type Contribution = { raw: bigint; native: bigint } | { error: string };

export interface DerivativeRow {
  market: MarketRow;
  baseContracts: bigint;
  /** Quote native paid for the open base (> 0 long, < 0 short). */
  quoteCost: bigint;
  realizedPnl: bigint;
  /** USD per whole underlying token; null when flat. */
  entryPrice: number | null;
  /** What the open base is worth at the oracle, the model value or the settlement price (quote native, nearest); null: unpriced. */
  value: bigint | null;
  /** `value − quote cost` (quote native). */
  unrealizedPnl: bigint | null;
  /** Where `value` comes from. */
  priceSource: "oracle" | "model value" | "settlement" | "none";
  /** Funding the position would settle now (quote native; perpetuals). */
  pendingFunding: bigint;
  init: Contribution;
  maint: Contribution;
}

/** Why an account's health comes from the program rather than the client's estimate. */
export const ESTIMATE_FAILED = "the client's estimate could not value a position";

const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * One derivative position for display. `input` is the health input built from
 * the freshly read market and oracle (null when its oracle could not be read:
 * `inputError` says why).
 */
export function derivativeRow(
  d: DerivativePositionView, market: MarketRow, data: MarketData, input: HealthDerivativeInput | null, inputError: string | null,
  ctx: HealthContextInput,
): DerivativeRow {
  const ud = data.underlyingDecimals;
  const qd = ctx.quoteDecimals;
  const contractSize = BigInt(data.contractSize.toString());
  const base = d.baseContracts * contractSize;
  const entryPrice = base === 0n ? null : (Number(d.quoteCost) / 10 ** qd) / (Number(base) / 10 ** ud);
  let value: bigint | null = null;
  let priceSource: DerivativeRow["priceSource"] = "none";
  if (data.status !== 0) {
    value = nearest(base, fixedRaw(data.settlementPrice));
    priceSource = "settlement";
  } else if (data.kind === MarketKind.option) {
    if (market.option && market.option.arrayComputedAt !== 0) {
      value = nearest(base, riskArrayHeader(data).value);
      priceSource = "model value";
    }
  } else if (market.oracleLo !== null) {
    value = nearest(base, market.oracleLo);
    priceSource = "oracle";
  }
  const contribution = (ht: "init" | "maint"): Contribution => {
    if (!input) return { error: inputError ?? "no oracle reading" };
    try {
      const raw = derivativeContribution(valueDerivative(input, ctx), ht);
      return { raw, native: toQuoteNative(raw) };
    } catch (e) {
      return { error: (e as { programError?: string }).programError ?? errText(e) };
    }
  };
  return {
    market, baseContracts: d.baseContracts, quoteCost: d.quoteCost, realizedPnl: d.realizedPnl, entryPrice, value,
    unrealizedPnl: value === null ? null : value - d.quoteCost, priceSource,
    pendingFunding: pendingFunding(marketInput(data), d.baseContracts, d.fundingSnapshot),
    init: contribution("init"), maint: contribution("maint"),
  };
}
