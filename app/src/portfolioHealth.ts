/**
 * Portfolio margin mode in the client-side estimate, bit-exact with the
 * program (`programs/xmargin/src/health/portfolio.rs`) and the risk engine
 * (`xmargin_risk::portfolio`, `portfolio_book.rs`):
 *
 * - **Books.** Every position on one underlying nets: the token's deposit or
 *   borrow (only while an open derivative position, non-zero size, is on it),
 *   perpetuals, futures, options (from their stored risk arrays). Other tokens
 *   keep their linear weights; netted tokens count at their unweighted biased
 *   value, derivatives at their weighted PnL.
 * - **Requirement per book and health type** = the worst weighted loss over
 *   the grid (a book without options: at its two extreme scenarios), times
 *   `max(shock scale, widest spot haircut / largest move)`, plus a contingency
 *   on every leg's delta-adjusted |notional|; a book of long legs at most its
 *   value; never more than linear mode charges the same legs.
 * - **An option at its bounds** (stale array or oracle, only under the
 *   fallback rules) values the whole account linearly (`books: null`).
 *
 * The grid and rates are the group's ({@link RiskGridInput}, the
 * `HealthContextInput.grid` or the default). `tests/portfolioHealth.test.ts`
 * matches every portfolio fixture of `tests/fixtures/health.json` to the unit.
 */
import { abs, add, FRAC_BITS, max, min, mulCeil, mulFloor, neg, ONE, sub, ZERO } from "./fixed.ts";
import {
  assetPrice, contribution, derivativeRequirement, type DerivativeValuation, type HealthContextInput,
  type HealthDerivativeInput, type HealthEstimate, type HealthPositionInput, type HealthType, InvalidRiskParameterError,
  liabPrice, linearHealth, MarketKind, MarketStatus, marketOracle, type TokenValuation, valuePositions, weightedPnl,
} from "./health.ts";
import { riskArrayProblem } from "./optionHealth.ts";
import {
  CHANGE_FRAC_BITS, DEFAULT_RISK_GRID, portfolioParams, type PortfolioParams, type PreparedGrid, prepareGrid, RISK_ARRAY_FORMAT,
} from "./riskGrid.ts";

const TYPES: HealthType[] = ["init", "maint", "liqEnd"];
const perType = (f: (ht: HealthType) => bigint): Record<HealthType, bigint> =>
  ({ init: f("init"), maint: f("maint"), liqEnd: f("liqEnd") });

/** The risk array portfolio mode reads (`RiskArray`'s health fields). */
export interface PortfolioArray {
  gridId: number;
  scenarioCount: number;
  format: number;
  spot: bigint;
  value: bigint;
  delta: bigint;
  /** `c_k` per scenario: one contract's value change, 2^-16 quote native. */
  changes: bigint[];
}

/** One underlying's requirement for a health type and why (`UnderlyingRequirement`; raw, quote native). */
export interface UnderlyingRequirement {
  underlying: number;
  /** Charged: `min(scenario, linear)`. */
  requirement: bigint;
  /** Scaled worst loss + contingency (at most the book's value if every leg is long). */
  scenario: bigint;
  /** What linear mode charges the same legs. */
  linear: bigint;
  /** Weighted loss of the worst scenario before the scale (≥ 0). */
  worstLoss: bigint;
  /** Its index in the grid (`null`: no scenario loses). */
  worstScenario: number | null;
  contingency: bigint;
}

/** One book in a {@link PortfolioEstimate}: the Init requirement in full, the charged requirement per type. */
export interface BookReport {
  underlying: number;
  init: UnderlyingRequirement;
  requirement: Record<HealthType, bigint>;
}

/** Health in the account's margin mode and, in portfolio mode, every book (`null`: valued linearly). */
export interface PortfolioEstimate extends HealthEstimate {
  books: BookReport[] | null;
}

class Book {
  linearNotional = 0n;
  optionPnl: bigint[] = [];
  exposure = 0n;
  linear: Record<HealthType, bigint> = { init: 0n, maint: 0n, liqEnd: 0n };
  longValue: bigint | null = 0n;
  haircutScale: Record<HealthType, bigint> = { init: 0n, maint: 0n, liqEnd: 0n };
  constructor(readonly underlying: number) {}

  addHaircut(t: TokenValuation, g: PreparedGrid): void {
    for (const ht of TYPES) {
      const w = t.weights;
      const cut = t.balance < 0n
        ? sub(ht === "init" ? w.initLiab : ht === "maint" ? w.maintLiab : w.liqEndLiab, ONE)
        : sub(ONE, ht === "init" ? w.initAsset : ht === "maint" ? w.maintAsset : w.liqEndAsset);
      if (cut > g.haircutCovered[ht]) this.haircutScale[ht] = max(this.haircutScale[ht], mulCeil(cut, g.invWidest));
    }
  }

  addCharges(charge: Record<HealthType, bigint>): void {
    for (const ht of TYPES) this.linear[ht] = add(this.linear[ht], charge[ht]);
  }

  addLeg(qty: bigint, unitValue: bigint): void {
    if (qty < 0n) this.longValue = null;
    else if (this.longValue !== null) this.longValue = add(this.longValue, mulCeil(qty, unitValue));
  }

  addLinear(qty: bigint, spot: bigint, charge: Record<HealthType, bigint>): void {
    this.linearNotional = add(this.linearNotional, mulFloor(qty, spot));
    this.exposure = add(this.exposure, mulCeil(abs(qty), spot));
    this.addCharges(charge);
    this.addLeg(qty, spot);
  }

  /**
   * `ScenarioPnl::add` into the book (scenario units, 2^-16 quote native: `⌊contracts · (c_k + bump)⌋`, a short's
   * `c_k` one more; `contracts` raw I80F48), then exposure at |Δ| (a short at least `minDelta`).
   */
  addOption(base: bigint, contracts: bigint, a: PortfolioArray, scenarios: number, minDelta: bigint,
    charge: Record<HealthType, bigint>, oracleValue: bigint): void {
    if (this.optionPnl.length === 0) this.optionPnl = new Array<bigint>(scenarios).fill(0n);
    if (this.optionPnl.length < a.scenarioCount) throw new InvalidRiskParameterError("risk array larger than the grid");
    if (contracts !== 0n) {
      const bump = contracts < 0n ? 1n : 0n;
      for (let k = 0; k < a.scenarioCount; k++) this.optionPnl[k] += (contracts * (a.changes[k] + bump)) >> FRAC_BITS;
    }
    let delta = abs(a.delta);
    if (base < 0n) delta = max(delta, minDelta);
    const notional = mulCeil(abs(base), a.spot);
    this.exposure = add(this.exposure, mulCeil(notional, delta));
    this.addCharges(charge);
    // A book of longs is capped at their value at the oracle (`OptionLegInput::oracle_value`).
    this.addLeg(base, oracleValue);
  }

  /**
   * The worst weighted loss (`portfolio_scan::worst`), in scenario units (2^-16 quote native): the linear legs'
   * `⌊L'·s⌋` (`L` to a whole unit toward the loss: down if the price rises, up if it falls), the options' P&L, the
   * weighted loss `⌈loss·w⌉`; returned in raw I80F48.
   */
  worst(g: PreparedGrid): { loss: bigint; scenario: number | null } {
    const toUnits = FRAC_BITS - CHANGE_FRAC_BITS;
    const floorUnits = this.linearNotional >> FRAC_BITS;
    const ceilUnits = -((-this.linearNotional) >> FRAC_BITS);
    let worst: { loss: bigint; scenario: number | null } = { loss: 0n, scenario: null };
    const consider = (k: number) => {
      const sc = g.scenarios[k];
      if (sc === undefined) return;
      const units = sc.priceShock >= 0n ? floorUnits : ceilUnits;
      const lin = (units * sc.priceShock) >> toUnits;
      const loss = -(lin + (this.optionPnl[k] ?? 0n));
      const weighted = sc.weight === ONE || loss <= 0n ? loss : -((-(loss * sc.weight)) >> FRAC_BITS);
      if (weighted > worst.loss) worst = { loss: weighted, scenario: k };
    };
    if (this.optionPnl.length === 0) {
      const [lo, hi] = g.linearExtremes;
      consider(Math.min(lo, hi));
      consider(Math.max(lo, hi));
    } else {
      for (let k = 0; k < g.scenarios.length; k++) consider(k);
    }
    return { loss: worst.loss << toUnits, scenario: worst.scenario };
  }

  requirement(worst: { loss: bigint; scenario: number | null }, p: PortfolioParams, ht: HealthType): UnderlyingRequirement {
    const contingency = mulCeil(this.exposure, p.floorRate[ht]);
    const scale = max(p.shockScale[ht], this.haircutScale[ht]);
    let scenario = add(mulCeil(worst.loss, scale), contingency);
    if (this.longValue !== null) scenario = min(scenario, this.longValue);
    const linear = this.linear[ht];
    return { underlying: this.underlying, requirement: min(scenario, linear), scenario, linear, worstLoss: worst.loss,
      worstScenario: worst.scenario, contingency };
  }
}

/** A valued token position with its book (`TokenInfo::underlying`; `null`: linear weights). */
export interface NettedToken extends TokenValuation {
  underlying: number | null;
}

/** A valued derivative with what portfolio mode needs of its market. */
export interface PortfolioDerivative {
  valuation: DerivativeValuation;
  underlying: number;
  isOption: boolean;
  /** `MarginRates::short_option_min_delta` (0 on every market today). */
  shortOptionMinDelta: bigint;
  /** Signed contract count, raw I80F48 (whole on-chain; `base / contract_size`). */
  contracts: bigint;
}

/** Unweighted value at the biased price of the balance's side (`TokenInfo::unweighted_value`). */
export function unweightedValue(t: TokenValuation, ht: HealthType): bigint {
  return mulFloor(t.balance, t.balance < 0n ? liabPrice(t.prices, ht) : assetPrice(t.prices, ht));
}

/** Every book of the account (`build_books`), options read from `arrays` by market index. */
function buildBooks(tokens: NettedToken[], derivatives: PortfolioDerivative[], g: PreparedGrid,
  arrays: Map<number, PortfolioArray>): Book[] {
  const books: Book[] = [];
  const book = (u: number): Book => {
    let b = books.find((x) => x.underlying === u);
    if (!b) {
      b = new Book(u);
      books.push(b);
    }
    return b;
  };
  for (const t of tokens) {
    if (t.underlying === null) continue;
    const b = book(t.underlying);
    b.addLinear(t.balance, t.prices.oracle, perType((ht) => sub(unweightedValue(t, ht), contribution(t, ht))));
    b.addHaircut(t, g);
  }
  for (const d of derivatives) {
    const v = d.valuation;
    const charge = perType((ht) => derivativeRequirement(v, ht));
    const b = book(d.underlying);
    if (d.isOption) {
      const a = arrays.get(v.marketIndex);
      if (!a) throw new InvalidRiskParameterError(`market ${v.marketIndex}: no risk array`);
      if (a.gridId !== g.id || a.scenarioCount !== g.scenarios.length) {
        throw new InvalidRiskParameterError(`market ${v.marketIndex}: risk array on another grid`);
      }
      b.addOption(v.base, d.contracts, a, g.scenarios.length, d.shortOptionMinDelta, charge, v.option?.oracleValue ?? 0n);
    } else {
      b.addLinear(v.base, v.prices.oracle, charge);
    }
  }
  return books;
}

/** Health before the netted requirements (`health_before_requirements`). */
function healthBefore(tokens: NettedToken[], derivatives: PortfolioDerivative[], ht: HealthType): bigint {
  const h = tokens.reduce((acc, t) => add(acc, t.underlying !== null ? unweightedValue(t, ht) : contribution(t, ht)), 0n);
  return derivatives.reduce((acc, d) => add(acc, weightedPnl(d.valuation, ht)), h);
}

/** All three healths and every book from one pass (`portfolio_report`). */
export function portfolioReport(tokens: NettedToken[], derivatives: PortfolioDerivative[], params: PortfolioParams,
  arrays: Map<number, PortfolioArray>): PortfolioEstimate {
  const g = prepareGrid(params);
  const books = buildBooks(tokens, derivatives, g, arrays).map((b): BookReport => {
    const worst = b.worst(g);
    const init = b.requirement(worst, params, "init");
    return { underlying: b.underlying, init, requirement: { init: init.requirement,
      maint: b.requirement(worst, params, "maint").requirement, liqEnd: b.requirement(worst, params, "liqEnd").requirement } };
  });
  const health = (ht: HealthType) =>
    sub(healthBefore(tokens, derivatives, ht), books.reduce((acc, b) => add(acc, b.requirement[ht]), 0n));
  return { init: health("init"), maint: health("maint"), liqEnd: health("liqEnd"), books };
}

/**
 * The array an option position is netted with (`health::options::portfolio_array`):
 * a settled market's or a closed position's is all zeros (realised PnL only);
 * else the stored array if the oracle is usable and the array fresh on the
 * group's grid and in this version's format (`RISK_ARRAY_FORMAT`); `null` (valued at its bounds: the account goes linear) otherwise.
 */
export function portfolioArray(d: HealthDerivativeInput, ctx: HealthContextInput): PortfolioArray | null {
  const { market } = d;
  const o = market.option;
  if (!o) throw new InvalidRiskParameterError(`market ${market.marketIndex}: an option market without its option terms`);
  const grid = ctx.grid ?? DEFAULT_RISK_GRID;
  if (market.status === MarketStatus.settled || (d.baseContracts === 0n && ctx.strictMarket !== market.marketIndex)) {
    return { gridId: grid.gridId, scenarioCount: grid.gridLen, format: RISK_ARRAY_FORMAT, spot: market.stablePrice, value: 0n, delta: 0n,
      changes: new Array<bigint>(grid.gridLen).fill(0n) };
  }
  const price = marketOracle(d, ctx);
  if (typeof price === "string" || riskArrayProblem(o, ctx.now, price.lo, grid) !== "fresh") return null;
  const a = o.riskArray;
  // Scenarios of an older layout are not netted (the position's value still counts).
  if (a.format !== RISK_ARRAY_FORMAT) return null;
  if (!a.changes) throw new InvalidRiskParameterError(`market ${market.marketIndex}: risk array without its scenarios`);
  return { gridId: a.gridId, scenarioCount: a.scenarioCount, format: a.format, spot: a.spot, value: a.value, delta: a.delta,
    changes: a.changes };
}

/**
 * Portfolio-mode health of valued positions (`portfolio::into_cache`, then the
 * report): tokens with an open derivative position on them netted, each
 * option's array collected in slot order; linear (`books: null`) as soon as
 * one option is at its bounds. `linear` is the account's linear estimate.
 */
export function portfolioEstimate(
  tokens: TokenValuation[],
  derivatives: { input: HealthDerivativeInput; valuation: DerivativeValuation }[],
  ctx: HealthContextInput,
  linear: () => HealthEstimate,
): PortfolioEstimate {
  const arrays = new Map<number, PortfolioArray>();
  for (const d of derivatives) {
    if (d.input.market.kind !== MarketKind.option) continue;
    const a = portfolioArray(d.input, ctx);
    if (a === null) return { ...linear(), books: null };
    arrays.set(d.input.market.marketIndex, a);
  }
  const legs: PortfolioDerivative[] = derivatives.map((d) => ({ valuation: d.valuation,
    underlying: d.input.market.underlyingTokenIndex, isOption: d.input.market.kind === MarketKind.option,
    shortOptionMinDelta: 0n,
    // Settled: realised PnL only, no contracts left to net (`option_init_parts`).
    contracts: d.input.market.status === MarketStatus.settled ? 0n : d.input.baseContracts * ONE }));
  const netted: NettedToken[] = tokens.map((t) => ({ ...t,
    underlying: legs.some((d) => d.underlying === t.tokenIndex && d.valuation.base !== 0n) ? t.tokenIndex : null }));
  return portfolioReport(netted, legs, portfolioParams(ctx.grid ?? DEFAULT_RISK_GRID), arrays);
}

/**
 * Health of an account in portfolio margin mode (`PORTFOLIO_MODE`) and every
 * book, exactly as the program's `compute_health` returns it and its
 * `PortfolioHealth` event reports it, under the group's grid `ctx.grid`.
 */
export function estimatePortfolioHealth(
  positions: HealthPositionInput[],
  ctx: HealthContextInput,
  derivatives: HealthDerivativeInput[] = [],
): PortfolioEstimate {
  const valued = valuePositions(positions, ctx, derivatives);
  const legs = derivatives.map((input, i) => ({ input, valuation: valued.markets[i] }));
  return portfolioEstimate(valued.tokens, legs, ctx, () => linearHealth(valued));
}
