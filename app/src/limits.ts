/**
 * How much an account can withdraw or borrow of a token keeping Init health
 * ≥ 0: a port of the risk engine's `HealthCache::max_withdraw` and
 * `max_borrow` (crates/risk/src/health/cache.rs), bit for bit on the inputs
 * of health.ts. Closed form: Init health is linear in the token's balance on
 * each side of zero, so it solves on the deposit segment, then on the borrow
 * segment, with two ulps of slack for the floor of the re-computed
 * contribution. Linear margin mode; the instruction's own health check stays
 * authoritative.
 *
 * Portfolio margin mode ({@link maxWithdrawPortfolio}): health is no longer
 * linear in one token's balance (a deposit nets with the derivatives on its
 * underlying), so the amount is searched, each candidate valued by the
 * portfolio estimate (`portfolioHealth.ts`, bit for bit the engine's) after
 * the program's own share arithmetic (`Bank::withdraw_from`).
 */
import { groupRiskGrid } from "./riskGrid.ts";
import type { PublicKey } from "@solana/web3.js";
import {
  AccountFlags, activeDerivativePositions, activeTokenPositions, type BankData, type MarginAccountData, type MarketData,
} from "./accounts.ts";
import type { XmarginClient } from "./client.ts";
import { bankInput, clusterTime, marketInput, parsePriceUpdate } from "./estimate.ts";
import { estimatePortfolioHealth } from "./portfolioHealth.ts";
import * as F from "./fixed.ts";
import {
  assetPrice, estimateHealth, type HealthBankInput, type HealthContextInput, type HealthDerivativeInput,
  type HealthPositionInput, InvalidRiskParameterError, liabPrice, valueToken,
} from "./health.ts";

/** The account has no position in the token (pass the bank as a zero-share position to open one). */
export class TokenNotInAccountError extends Error {
  constructor(readonly tokenIndex: number) {
    super(`no position in token ${tokenIndex}: add its bank with zero shares`);
  }
}

/** `max_withdraw` in raw I80F48 (whole native units) and the token's balance. */
function maxWithdrawRaw(
  positions: HealthPositionInput[], ctx: HealthContextInput, tokenIndex: number, allowBorrow: boolean,
  derivatives: HealthDerivativeInput[],
): { amount: bigint; balance: bigint } {
  const position = positions.find((p) => p.bank.tokenIndex === tokenIndex);
  if (!position) throw new TokenNotInAccountError(tokenIndex);
  const h = F.sub(estimateHealth(positions, ctx, derivatives).init, 2n);
  const t = valueToken(position, ctx);
  // An asset whose price is unusable counts 0 and cannot be withdrawn (the program wants its price).
  if (!t) return { amount: 0n, balance: 0n };
  if (h <= 0n) return { amount: 0n, balance: t.balance };
  const au = F.mulFloor(assetPrice(t.prices, "init"), t.weights.initAsset);
  const lu = F.mulCeil(liabPrice(t.prices, "init"), t.weights.initLiab);
  const borrowPart = (room: bigint): bigint => {
    if (!allowBorrow || room <= 0n) return 0n;
    if (lu <= 0n) throw new InvalidRiskParameterError("liability unit value ≤ 0");
    return F.div(room, lu, "floor");
  };
  let amount: bigint;
  if (t.balance > 0n) {
    const held = F.mulFloor(t.balance, au);
    amount = h >= held ? F.add(t.balance, borrowPart(F.sub(h, held))) : F.min(F.div(h, au, "floor"), t.balance);
  } else {
    amount = borrowPart(h);
  }
  return { amount: F.floor(amount), balance: t.balance };
}

/**
 * Largest whole native amount of `tokenIndex` the account can withdraw
 * keeping Init health ≥ 0, borrowing beyond its deposit only if
 * `allowBorrow` (default true). 0 when Init health is ≤ 0.
 */
export function maxWithdraw(
  positions: HealthPositionInput[], ctx: HealthContextInput, tokenIndex: number,
  opts: { allowBorrow?: boolean; derivatives?: HealthDerivativeInput[] } = {},
): bigint {
  const { amount } = maxWithdrawRaw(positions, ctx, tokenIndex, opts.allowBorrow ?? true, opts.derivatives ?? []);
  return F.toInt(amount, "floor");
}

/** Largest whole native amount of `tokenIndex` the account can borrow (withdraw beyond its deposit). */
export function maxBorrow(
  positions: HealthPositionInput[], ctx: HealthContextInput, tokenIndex: number,
  opts: { derivatives?: HealthDerivativeInput[] } = {},
): bigint {
  const { amount, balance } = maxWithdrawRaw(positions, ctx, tokenIndex, true, opts.derivatives ?? []);
  return F.toInt(F.floor(F.positivePart(F.sub(amount, F.positivePart(balance)))), "floor");
}

/**
 * The position and its bank after withdrawing `amount` native: the program's
 * `Bank::withdraw_from` (deposit shares burned rounding up, all of them once
 * the deposit is taken; the rest borrowed, borrow shares created rounding up).
 */
export function withdrawnPosition(p: HealthPositionInput, amount: bigint): HealthPositionInput {
  const bank = p.bank;
  let shares = p.shares;
  let { depositShares, borrowShares } = bank;
  let fromDeposit = 0n;
  if (shares > 0n) {
    const available = F.toInt(F.mulFloor(shares, bank.depositIndex), "floor");
    const burned = amount >= available ? shares : F.min(F.div(F.fromInt(amount), bank.depositIndex, "ceil"), shares);
    fromDeposit = amount >= available ? available : amount;
    shares = F.sub(shares, burned);
    depositShares = F.positivePart(F.sub(depositShares, burned));
  }
  const borrowed = amount - fromDeposit;
  if (borrowed > 0n) {
    const created = F.div(F.fromInt(borrowed), bank.borrowIndex, "ceil");
    shares = F.sub(shares, created);
    borrowShares = F.add(borrowShares, created);
  }
  const after: HealthBankInput = { ...bank, depositShares, borrowShares };
  return { ...p, bank: after, shares };
}

/**
 * {@link maxWithdraw} of a portfolio-mode account: a whole amount whose
 * withdrawal leaves the portfolio Init estimate ≥ 0, at least the linear
 * maximum (linear Init is a lower bound of portfolio Init): above it the
 * amount doubles while it stays healthy, then is bisected. Always an amount
 * the estimate found healthy, and the largest when health falls as more is
 * withdrawn (the usual case; a book capped at its value, or a borrow that
 * hedges a long, can hold health flat or raise it, and the search may then
 * stop short of the largest). The bank is taken as stored (the program
 * accrues it first: debts are projected at the maximum rate, conservative).
 * The instruction's check stays authoritative.
 */
export function maxWithdrawPortfolio(
  positions: HealthPositionInput[], ctx: HealthContextInput, tokenIndex: number,
  opts: { allowBorrow?: boolean; derivatives?: HealthDerivativeInput[] } = {},
): bigint {
  const derivatives = opts.derivatives ?? [];
  const i = positions.findIndex((p) => p.bank.tokenIndex === tokenIndex);
  if (i < 0) throw new TokenNotInAccountError(tokenIndex);
  const t = valueToken(positions[i], ctx);
  if (!t) return 0n;
  const held = t.balance > 0n ? F.toInt(t.balance, "floor") : 0n;
  const cap = opts.allowBorrow ?? true ? 1n << 63n : held;
  const healthy = (amount: bigint): boolean => {
    const after = positions.map((p, k) => (k === i ? withdrawnPosition(p, amount) : p));
    try {
      return estimatePortfolioHealth(after, ctx, derivatives).init >= 0n;
    } catch (e) {
      // An amount beyond the engine's range is refused; any other error (a stale array, an unusable oracle) is the account's.
      if (e instanceof F.FixedOverflowError || e instanceof F.DivisionByZeroError) return false;
      throw e;
    }
  };
  let lo = F.toInt(maxWithdrawRaw(positions, ctx, tokenIndex, opts.allowBorrow ?? true, derivatives).amount, "floor");
  if (lo > cap || (lo > 0n && !healthy(lo))) lo = 0n;
  if (lo === 0n && !healthy(0n)) return 0n;
  let hi = lo === 0n ? 1n : lo * 2n;
  while (hi <= cap && healthy(hi)) {
    lo = hi;
    hi *= 2n;
  }
  hi = hi > cap ? cap + 1n : hi;
  while (hi - lo > 1n) {
    const mid = (lo + hi) / 2n;
    if (healthy(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** A live account's health inputs: its token and derivative positions with their banks, markets and oracle readings. */
export interface AccountHealthInputs {
  positions: HealthPositionInput[];
  derivatives: HealthDerivativeInput[];
  /** The group's quote decimals. */
  quoteDecimals: number;
  /** Whether the account is in portfolio margin mode. */
  portfolio: boolean;
}

/**
 * Reads a live account's positions, their banks, markets and oracles (the
 * inputs of `health.ts`, as `estimateAccountHealth` does), opening a zero
 * position in `withToken` when the account holds none (as `withdraw` does).
 */
export async function accountHealthInputs(
  client: XmarginClient, account: PublicKey | MarginAccountData, opts: { withToken?: number } = {},
): Promise<AccountHealthInputs> {
  const data = "tokens" in account ? account : await client.fetchMarginAccount(account);
  const tokens = activeTokenPositions(data).map((p) => ({ tokenIndex: p.tokenIndex, shares: p.shares }));
  const { withToken } = opts;
  if (withToken !== undefined && !tokens.some((p) => p.tokenIndex === withToken)) {
    tokens.push({ tokenIndex: withToken, shares: 0n });
  }
  const derivatives = activeDerivativePositions(data);
  if (derivatives.some((d) => !client.markets.has(d.marketIndex))) await client.loadMarkets();
  const bankKeys = tokens.map((p) => client.bank(p.tokenIndex).address);
  const marketKeys = derivatives.map((d) => client.market(d.marketIndex).address);
  const banks = await client.program.account.bank.fetchMultiple(bankKeys);
  const markets = marketKeys.length > 0 ? await client.program.account.market.fetchMultiple(marketKeys) : [];
  const oracleKeys = [...banks, ...markets].map((a, i) => {
    if (!a) throw new Error(`account ${[...bankKeys, ...marketKeys][i].toBase58()} not found`);
    return a.oracle;
  });
  const oracles = await client.program.provider.connection.getMultipleAccountsInfo(oracleKeys);
  const positions: HealthPositionInput[] = tokens.map((p, i) => {
    const bank = banks[i] as BankData;
    return { bank: bankInput(bank), reading: parsePriceUpdate(oracleKeys[i], oracles[i], bank.feedId), shares: p.shares };
  });
  const derivativeInputs: HealthDerivativeInput[] = derivatives.map((d, i) => {
    const market = markets[i] as MarketData;
    const k = tokens.length + i;
    return { market: marketInput(market), reading: parsePriceUpdate(oracleKeys[k], oracles[k], market.feedId),
      baseContracts: d.baseContracts, quoteCost: d.quoteCost, realizedPnl: d.realizedPnl, fundingSnapshot: d.fundingSnapshot };
  });
  const group = await client.fetchGroup();
  const portfolio = (data.flags & AccountFlags.portfolioMode) !== 0;
  return { positions, derivatives: derivativeInputs, quoteDecimals: group.quoteDecimals, portfolio };
}

/**
 * {@link maxWithdraw} and {@link maxBorrow} of a live account at the
 * cluster's clock (or `now`), in its margin mode ({@link maxWithdrawPortfolio}
 * for a portfolio account): reads the account, its banks, markets and oracles
 * like `estimateAccountHealth` ({@link accountHealthInputs}), opening a zero
 * position in `tokenIndex` when the account holds none (as `withdraw` does).
 */
export async function accountWithdrawLimits(
  client: XmarginClient, account: PublicKey | MarginAccountData, tokenIndex: number, now?: bigint,
): Promise<{ maxWithdraw: bigint; maxBorrow: bigint }> {
  const { positions, derivatives, quoteDecimals, portfolio } =
    await accountHealthInputs(client, account, { withToken: tokenIndex });
  // The withdrawn token's price must be usable (`PriceRules::strict(token)`), as the instruction wants it.
  const at = now ?? (await clusterTime(client));
  // The group's grid in force: option arrays are checked fresh on it, as the chain does.
  const grid = groupRiskGrid(await client.fetchGroup(), at);
  const ctx: HealthContextInput = { quoteDecimals, now: at, strictToken: tokenIndex, grid };
  if (portfolio) {
    const amount = maxWithdrawPortfolio(positions, ctx, tokenIndex, { derivatives });
    const position = positions.find((p) => p.bank.tokenIndex === tokenIndex);
    const t = position ? valueToken(position, ctx) : null;
    const deposit = t && t.balance > 0n ? F.toInt(t.balance, "floor") : 0n;
    return { maxWithdraw: amount, maxBorrow: amount > deposit ? amount - deposit : 0n };
  }
  return {
    maxWithdraw: maxWithdraw(positions, ctx, tokenIndex, { derivatives }),
    maxBorrow: maxBorrow(positions, ctx, tokenIndex, { derivatives }),
  };
}
