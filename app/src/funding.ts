/**
 * Perpetual funding off-chain, bit-exact with the program's `update_funding`
 * (`xmargin_risk::perp_funding` and `programs/xmargin/src/instructions/update_funding.rs`):
 * predict the next update of a market's time-weighted prices and cumulative
 * funding index, and what a position settles against it (`pendingFunding` in
 * health.ts).
 *
 * ```text
 * w          = min(dt, window) / window
 * twap'      = twap + (sample − twap) · w                  (twap = 0: never set → sample)
 *              the mark's sample is oracle · (1 + mark_premium in force over dt)
 * premium'   = premium + (price/oracle − 1 − premium) · min(1, contracts/depth)   (a trade)
 *            = 0                                                              (a funding update)
 * premium    = (mark_twap − oracle_twap) / oracle_twap
 * rate/hour  = clamp(premium, −cap, +cap) / 24             (cap: max daily premium)
 * Δcum       = rate/hour · oracle_twap · contract_size · min(dt, 3600) / 3600
 * ```
 * A positive rate (mark above oracle) makes longs pay shorts. Fixed-point
 * values are raw I80F48 `bigint`s.
 */
import { add, div, fromInt, max, min, mulDiv, mulFloor, mulInt, neg, ONE, type Rounding, sub, ZERO } from "./fixed.ts";
import { fixedRaw, type MarketData } from "./accounts.ts";
import { InvalidPriceError, InvalidRiskParameterError } from "./health.ts";

/** Longest interval one funding update accrues (`MAX_FUNDING_STEP_SECS`). */
export const MAX_FUNDING_STEP_SECS = 3_600n;
/** The premium is paid over a day (`FUNDING_HOURS_PER_DAY`). */
export const FUNDING_HOURS_PER_DAY = 24n;

function towardZero(negative: boolean): Rounding {
  return negative ? "ceil" : "floor";
}

/** Time-weighted update of a mark (`update_twap`). */
export function updateTwap(twap: bigint, sample: bigint, dtSecs: bigint, windowSecs: bigint): bigint {
  if (windowSecs === 0n) throw new InvalidRiskParameterError("zero TWAP window");
  if (sample < 0n || twap < 0n) throw new InvalidPriceError("negative TWAP sample");
  if (twap === 0n) return sample;
  const w = fromInt(dtSecs < windowSecs ? dtSecs : windowSecs);
  return add(twap, mulDiv(sub(sample, twap), w, fromInt(windowSecs), "floor"));
}

/** A trade's premium over the oracle, `price / oracle − 1`, toward zero (`trade_premium`). */
export function tradePremium(price: bigint, oracle: bigint): bigint {
  if (oracle <= 0n || price < 0n) throw new InvalidPriceError("non-positive oracle or negative price");
  const diff = sub(price, oracle);
  return div(diff, oracle, towardZero(diff < 0n));
}

/** The mark premium after a trade of `contracts`: moved toward its own by `min(1, contracts / depth)` (`blend_mark_premium`). */
export function blendMarkPremium(old: bigint, premium: bigint, contracts: bigint, depth: bigint): bigint {
  if (depth === 0n) throw new InvalidRiskParameterError("zero mark depth");
  const step = sub(premium, old);
  const weight = contracts < depth ? contracts : depth;
  return add(old, mulDiv(step, fromInt(weight), fromInt(depth), towardZero(step < 0n)));
}

/** The mark sampled over an interval: `oracle · (1 + premium)`, floored, never negative (`mark_sample`). */
export function markSample(oracle: bigint, premium: bigint): bigint {
  return mulFloor(oracle, max(add(ONE, premium), ZERO));
}

/** Hourly funding rate: the clamped daily premium over 24, rounded toward zero (`hourly_funding_rate`). */
export function hourlyFundingRate(markTwap: bigint, oracleTwap: bigint, maxDailyPremium: bigint): bigint {
  if (oracleTwap <= 0n || markTwap < 0n) throw new InvalidPriceError("non-positive oracle TWAP");
  if (maxDailyPremium < 0n) throw new InvalidRiskParameterError("negative premium cap");
  const diff = sub(markTwap, oracleTwap);
  const premium = div(diff, oracleTwap, towardZero(diff < 0n));
  const clamped = min(max(premium, neg(maxDailyPremium)), maxDailyPremium);
  return div(clamped, fromInt(FUNDING_HOURS_PER_DAY), towardZero(clamped < 0n));
}

/** Growth of the cumulative index per contract over `dtSecs` (at most an hour), toward zero (`funding_delta_per_contract`). */
export function fundingDeltaPerContract(ratePerHour: bigint, oraclePricePerContract: bigint, dtSecs: bigint): bigint {
  if (oraclePricePerContract <= 0n) throw new InvalidPriceError("non-positive contract price");
  const dt = dtSecs < MAX_FUNDING_STEP_SECS ? dtSecs : MAX_FUNDING_STEP_SECS;
  return mulDiv(ratePerHour, mulInt(oraclePricePerContract, dt), fromInt(MAX_FUNDING_STEP_SECS), towardZero(ratePerHour < 0n));
}

/** The market fields an update reads (fixed-point raw, timestamps and sizes as integers). */
export interface FundingMarketInput {
  markTwap: bigint;
  /** The mark premium in force since `twapTs` (`Market::mark_premium`, signed fraction). */
  markPremium: bigint;
  oracleTwap: bigint;
  cumFunding: bigint;
  maxFundingPremium: bigint;
  twapTs: bigint;
  lastFundingTs: bigint;
  twapWindowSecs: bigint;
  contractSize: bigint;
}

export interface FundingUpdate {
  markTwap: bigint;
  /** The mark premium in force after the update: 0, the mark decays to the oracle. */
  markPremium: bigint;
  oracleTwap: bigint;
  /** Hourly rate applied (fraction of the oracle price). */
  rate: bigint;
  /** Seconds of funding applied (at most an hour). */
  appliedSecs: bigint;
  cumFunding: bigint;
}

/**
 * What `update_funding` at `now` with the oracle at `oracle` (quote native per
 * underlying native unit, the reading's `lo`) writes into the market
 * (`record_mark` with no trade, then the rate and the index): the time since
 * the last mark update folded into both TWAPs (the mark at `oracle · (1 +
 * premium in force)`, the oracle TWAP at the oracle), the premium reset to 0, the
 * rate, and the index for the time since the last funding update (at most an
 * hour). Throws where the program refuses (`now` not after the last update:
 * `FundingNotDue`).
 */
export function predictFundingUpdate(m: FundingMarketInput, oracle: bigint, now: bigint): FundingUpdate {
  const elapsed = now - m.lastFundingTs;
  if (elapsed <= 0n) throw new RangeError("FundingNotDue: no time since the last update");
  const dt = now > m.twapTs ? now - m.twapTs : 0n;
  const inForce = markSample(oracle, m.markPremium);
  const markTwap = updateTwap(m.markTwap, inForce, dt, m.twapWindowSecs);
  const oracleTwap = updateTwap(m.oracleTwap, oracle, dt, m.twapWindowSecs);
  const rate = hourlyFundingRate(markTwap, oracleTwap, m.maxFundingPremium);
  const appliedSecs = elapsed < MAX_FUNDING_STEP_SECS ? elapsed : MAX_FUNDING_STEP_SECS;
  const delta = fundingDeltaPerContract(rate, mulFloor(oracleTwap, fromInt(m.contractSize)), appliedSecs);
  return { markTwap, markPremium: ZERO, oracleTwap, rate, appliedSecs, cumFunding: add(m.cumFunding, delta) };
}

/** The funding inputs of a decoded market. */
export function fundingInput(m: MarketData): FundingMarketInput {
  const int = (v: { toString(): string }) => BigInt(v.toString());
  return { markTwap: fixedRaw(m.markTwap), markPremium: fixedRaw(m.markPremium), oracleTwap: fixedRaw(m.oracleTwap),
    cumFunding: fixedRaw(m.cumFunding), maxFundingPremium: fixedRaw(m.maxFundingPremium), twapTs: int(m.twapTs),
    lastFundingTs: int(m.lastFundingTs), twapWindowSecs: BigInt(m.twapWindowSecs), contractSize: int(m.contractSize) };
}
