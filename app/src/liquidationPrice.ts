/**
 * The liquidation price of a token: the oracle price at which the account's
 * Maint health first goes negative, every other price held fixed. A port of
 * the risk engine's `HealthCache::liquidation_price`
 * (crates/risk/src/health/liquidation_price.rs, where the definition is
 * written out), bit for bit on the inputs of health.ts: the same repricing,
 * the same segment ends and the same bisection, so the same prices are
 * evaluated in the same order and the result has the same raw bits
 * (`tests/liquidationPrice.test.ts` checks it on the engine's fixtures).
 *
 * In short: the token's position and every live derivative position on it as
 * underlying (positive Maint rate; a settled future does not move) have all
 * their prices shifted by `P − P₀`, floored at 0 (the confidence band keeps
 * its width; Maint reads no stable price). The result is `P₀` if the account
 * is liquidatable already, else the liquidating price nearest to `P₀` below
 * (a deposit's price falling) or above it (a borrow's rising; at most
 * `P₀ · 2^16`), a tie going to the lower one, or `null` if no price
 * liquidates. Prices are raw I80F48, quote native per native unit (SOL at
 * $150 with 9 decimals against a 6-decimal quote is 0.15).
 * Linear margin mode, like `estimateHealth`; with `portfolio` (an account in
 * portfolio mode, `ctx.grid` the group's grid) on its portfolio Maint health,
 * as the engine does for a portfolio-mode cache (`portfolioHealth.ts`; an
 * account holding options is refused there: the engine reprices them by
 * Black–Scholes, which is not ported).
 */
import type { PublicKey } from "@solana/web3.js";
import { AccountFlags, type MarginAccountData } from "./accounts.ts";
import type { XmarginClient } from "./client.ts";
import { clusterTime } from "./estimate.ts";
import * as F from "./fixed.ts";
import {
  type BiasedPrices, contribution, derivativeContribution, type DerivativeValuation, DuplicateMarketError,
  DuplicateTokenError, type HealthContextInput, type HealthDerivativeInput, type HealthPositionInput, InvalidPriceError,
  liabPrice, type TokenValuation, valueDerivative, valueToken,
} from "./health.ts";
import { OptionNotValuedError } from "./optionHealth.ts";
import { type NettedToken, type PortfolioDerivative, portfolioReport } from "./portfolioHealth.ts";
import { DEFAULT_RISK_GRID, groupRiskGrid, portfolioParams, type PortfolioParams } from "./riskGrid.ts";
import { accountHealthInputs, TokenNotInAccountError } from "./limits.ts";

/** The upward search ends at the current price times `2^16` (`LIQUIDATION_PRICE_MAX_RISE_BITS`). */
export const LIQUIDATION_PRICE_MAX_RISE_BITS = 16n;

/** A valued derivative position and the token its market's price follows. */
interface Market {
  valuation: DerivativeValuation;
  underlyingTokenIndex: number;
}

/** The account valued once, exactly as `estimateHealth` does (same order, same duplicate checks). */
function valueAccount(
  positions: HealthPositionInput[], ctx: HealthContextInput, derivatives: HealthDerivativeInput[],
): { tokens: TokenValuation[]; markets: Market[] } {
  const tokens = positions.map((p) => valueToken(p, ctx)).filter((t): t is TokenValuation => t !== null);
  const markets = derivatives.map((d) => ({ valuation: valueDerivative(d, ctx), underlyingTokenIndex: d.market.underlyingTokenIndex }));
  tokens.forEach((t, i) => {
    if (tokens.slice(0, i).some((u) => u.tokenIndex === t.tokenIndex)) throw new DuplicateTokenError(t.tokenIndex);
  });
  markets.forEach((m, i) => {
    const index = m.valuation.marketIndex;
    if (markets.slice(0, i).some((e) => e.valuation.marketIndex === index)) throw new DuplicateMarketError(index);
  });
  return { tokens, markets };
}

/** A live derivative position on `tokenIndex` (`moves`): its market's underlying, a positive Maint rate. */
function moves(m: Market, tokenIndex: number): boolean {
  return m.underlyingTokenIndex === tokenIndex && m.valuation.rates.maint > 0n;
}

/** Every price shifted by `delta`, floored at 0; Init prices set to the Maint ones (`shift`). */
function shift(p: BiasedPrices, delta: bigint): BiasedPrices {
  const s = (x: bigint): bigint => F.positivePart(F.add(x, delta));
  const spotAsset = s(p.spotAsset);
  const spotLiab = s(p.spotLiab);
  return { oracle: s(p.oracle), spotAsset, spotLiab, initAsset: spotAsset, initLiab: spotLiab };
}

/** A derivative position at shifted prices: its requirement units re-derived (`DerivativeInfo::new`). */
function moveDerivative(d: DerivativeValuation, delta: bigint): DerivativeValuation {
  const prices = shift(d.prices, delta);
  const reqUnit = {
    init: F.mulCeil(liabPrice(prices, "init"), d.rates.init),
    maint: F.mulCeil(liabPrice(prices, "maint"), d.rates.maint),
    liqEnd: F.mulCeil(liabPrice(prices, "liqEnd"), d.rates.liqEnd),
  };
  return { ...d, prices, reqUnit };
}

/** One token's price moving over one valued account (the engine's `Scenario`). */
class Scenario {
  readonly p0: bigint;

  /** Portfolio mode: the tokens netted into a book (an open derivative position on them). */
  private readonly netted: Set<number>;

  constructor(
    private readonly tokens: TokenValuation[],
    private readonly markets: Market[],
    private readonly tokenIndex: number,
    private readonly portfolio: PortfolioParams | null = null,
  ) {
    // Options are valued from their array at one spot: repricing them is not ported (`OptionNotValuedError`);
    // in portfolio mode the engine revalues every option of the account, moving or not.
    const option = markets.find((m) => m.valuation.option && (portfolio !== null
      || (moves(m, tokenIndex) && m.valuation.base !== 0n)));
    if (option) throw new OptionNotValuedError(option.valuation.marketIndex, "the liquidation price of an option position");
    this.netted = new Set(markets.filter((m) => m.valuation.base !== 0n).map((m) => m.underlyingTokenIndex));
    const own = tokens.find((t) => t.tokenIndex === tokenIndex);
    const first = own ? own.prices : markets.find((m) => moves(m, tokenIndex))?.valuation.prices;
    if (!first) throw new TokenNotInAccountError(tokenIndex);
    if (first.oracle <= 0n) throw new InvalidPriceError(`token ${tokenIndex}: price ${first.oracle} ≤ 0`);
    this.p0 = first.oracle;
  }

  /** Maint health at price `p`: token contributions in order, then derivative ones (`linear_health`). */
  health(p: bigint): bigint {
    const delta = F.sub(p, this.p0);
    const tokens = this.tokens.map((t) => (t.tokenIndex === this.tokenIndex ? { ...t, prices: shift(t.prices, delta) } : t));
    const markets = this.markets.map((m) => (moves(m, this.tokenIndex) ? moveDerivative(m.valuation, delta) : m.valuation));
    if (this.portfolio) {
      const netted: NettedToken[] = tokens.map((t) => ({ ...t, underlying: this.netted.has(t.tokenIndex) ? t.tokenIndex : null }));
      const legs: PortfolioDerivative[] = markets.map((valuation, i) => ({ valuation,
        underlying: this.markets[i].underlyingTokenIndex, isOption: false, shortOptionMinDelta: 0n, contracts: 0n }));
      return portfolioReport(netted, legs, this.portfolio, new Map()).maint;
    }
    const h = tokens.reduce((acc, t) => F.add(acc, contribution(t, "maint")), 0n);
    return markets.reduce((acc, d) => F.add(acc, derivativeContribution(d, "maint")), h);
  }

  liquidatable(p: bigint): boolean {
    return this.health(p) < 0n;
  }

  /** Where a moving asset price reaches 0, in `(1 ulp, p₀)`, decreasing, then 1 ulp (`down_ends`). */
  downEnds(): bigint[] {
    const ends: bigint[] = [];
    const kink = (assetPrice: bigint): void => {
      const k = F.sub(this.p0, assetPrice);
      if (k > F.DELTA && k < this.p0) ends.push(k);
    };
    for (const t of this.tokens) {
      if (t.tokenIndex === this.tokenIndex && t.balance > 0n) kink(t.prices.spotAsset);
    }
    // Every market health.ts values is a perpetual or a future (linear).
    for (const m of this.markets) {
      if (moves(m, this.tokenIndex) && m.valuation.base > 0n) kink(m.valuation.prices.spotAsset);
    }
    const sorted = [...new Set(ends)].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
    sorted.push(F.DELTA);
    return sorted;
  }

  downCrossing(): bigint | null {
    if (this.p0 <= F.DELTA) return null;
    let safe = this.p0;
    for (const end of this.downEnds()) {
      if (this.liquidatable(end)) return this.bisect(safe, end);
      safe = end;
    }
    return null;
  }

  upCrossing(): bigint | null {
    const top = F.min(this.p0 << LIQUIDATION_PRICE_MAX_RISE_BITS, F.MAX);
    return top > this.p0 && this.liquidatable(top) ? this.bisect(this.p0, top) : null;
  }

  /** Bisection on the raw bits, the midpoint rounded toward the liquidating bound `u` (at most 127 steps). */
  bisect(s: bigint, u: bigint): bigint {
    while (F.abs(s - u) > 1n) {
      const m = u + (s - u) / 2n; // bigint division truncates toward 0, like Rust's
      if (this.liquidatable(m)) u = m;
      else s = m;
    }
    return u;
  }
}

/**
 * The liquidation price of `tokenIndex` (raw I80F48, quote native per native
 * unit; `HealthCache::liquidation_price`): the current price if the account is
 * liquidatable already, else the nearest price (below or above) at which
 * Maint health goes negative, or `null` if none up to 65,536 times the
 * current price does. Throws {@link TokenNotInAccountError} if nothing in the
 * account moves with the token (no position, or an asset valued at 0 for lack
 * of a usable price), and what `estimateHealth` throws.
 */
export function liquidationPrice(
  positions: HealthPositionInput[], ctx: HealthContextInput, tokenIndex: number,
  opts: { derivatives?: HealthDerivativeInput[]; portfolio?: boolean } = {},
): bigint | null {
  const { tokens, markets } = valueAccount(positions, ctx, opts.derivatives ?? []);
  const s = new Scenario(tokens, markets, tokenIndex, modeParams(ctx, opts.portfolio));
  const p0 = s.p0;
  if (s.liquidatable(p0)) return p0;
  const down = s.downCrossing();
  const up = s.upCrossing();
  if (down !== null && up !== null) return up - p0 < p0 - down ? up : down;
  return down ?? up;
}

/**
 * Maint health (raw) with the oracle price of `tokenIndex` at `price` and
 * every other price fixed, valued as {@link liquidationPrice} does
 * (`HealthCache::maint_health_at_price`): "what if SOL were at $X".
 */
export function maintHealthAtPrice(
  positions: HealthPositionInput[], ctx: HealthContextInput, tokenIndex: number, price: bigint,
  opts: { derivatives?: HealthDerivativeInput[]; portfolio?: boolean } = {},
): bigint {
  const { tokens, markets } = valueAccount(positions, ctx, opts.derivatives ?? []);
  return new Scenario(tokens, markets, tokenIndex, modeParams(ctx, opts.portfolio)).health(price);
}

/** Portfolio mode's parameters of the group's grid (`ctx.grid`), or `null` in linear mode. */
function modeParams(ctx: HealthContextInput, portfolio: boolean | undefined): PortfolioParams | null {
  return portfolio ? portfolioParams(ctx.grid ?? DEFAULT_RISK_GRID) : null;
}

/**
 * A raw price (quote native per native unit) as UI units per whole token,
 * `price · 10^(tokenDecimals − quoteDecimals)`, rounded to `digits` fraction
 * digits — up (a long's liquidation price: shown at the safe side) or down (a
 * short's). SOL (9 decimals) at 0.15 µUSDC per lamport (floored to the binary
 * grid) against USDC (6) is "150.00" at 2 digits rounded up, "149.99" down.
 */
export function priceToUi(
  raw: bigint, tokenDecimals: number, quoteDecimals: number, digits = 4, rounding: F.Rounding = "ceil",
): string {
  const shiftBy = tokenDecimals - quoteDecimals + digits;
  const scaled = shiftBy >= 0 ? raw * 10n ** BigInt(shiftBy) : raw;
  const den = shiftBy >= 0 ? F.ONE : F.ONE * 10n ** BigInt(-shiftBy);
  const units = F.divRound(scaled, den, rounding);
  const sign = units < 0n ? "-" : "";
  const abs = units < 0n ? -units : units;
  const scale = 10n ** BigInt(digits);
  const frac = digits > 0 ? `.${(abs % scale).toString().padStart(digits, "0")}` : "";
  return `${sign}${abs / scale}${frac}`;
}

/**
 * {@link liquidationPrice} of a live account at the cluster's clock (or
 * `now`): reads it like `accountWithdrawLimits` (a zero position in
 * `tokenIndex` if the account holds none, so a token held only through
 * derivatives prices at its bank's oracle), with the token's own price
 * required usable (`strictToken`) and the view rules for the rest.
 */
export async function accountLiquidationPrice(
  client: XmarginClient, account: PublicKey | MarginAccountData, tokenIndex: number, now?: bigint,
): Promise<bigint | null> {
  const { data, portfolio, at, grid } = await accountMode(client, account, now);
  // Portfolio mode values the account as the program holds it (a zero position would join a book).
  const { positions, derivatives, quoteDecimals } =
    await accountHealthInputs(client, data, portfolio ? {} : { withToken: tokenIndex });
  const ctx: HealthContextInput = { quoteDecimals, now: at, strictToken: tokenIndex, grid };
  return liquidationPrice(positions, ctx, tokenIndex, { derivatives, portfolio });
}

/** The account, its margin mode, the clock and the group's grid in force. */
async function accountMode(client: XmarginClient, account: PublicKey | MarginAccountData, now?: bigint) {
  const data = "tokens" in account ? account : await client.fetchMarginAccount(account);
  const at = now ?? (await clusterTime(client));
  const grid = groupRiskGrid(await client.fetchGroup(), at);
  return { data, portfolio: (data.flags & AccountFlags.portfolioMode) !== 0, at, grid };
}

/**
 * {@link liquidationPrice} of every token a live account holds or trades
 * derivatives on (one read of the account), by token index.
 */
export async function accountLiquidationPrices(
  client: XmarginClient, account: PublicKey | MarginAccountData, now?: bigint,
): Promise<Map<number, bigint | null>> {
  const { data, portfolio, at, grid } = await accountMode(client, account, now);
  const { positions, derivatives, quoteDecimals } = await accountHealthInputs(client, data);
  const indices = new Set([
    ...positions.map((p) => p.bank.tokenIndex), ...derivatives.map((d) => d.market.underlyingTokenIndex),
  ]);
  const out = new Map<number, bigint | null>();
  for (const tokenIndex of indices) {
    const ctx: HealthContextInput = { quoteDecimals, now: at, strictToken: tokenIndex, grid };
    out.set(tokenIndex, liquidationPrice(positions, ctx, tokenIndex, { derivatives, portfolio }));
  }
  return out;
}
