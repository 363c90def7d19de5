/**
 * The client-side health estimate on live accounts: decodes the margin
 * account's banks, markets and their Pyth `PriceUpdateV2` oracles (with the
 * program's identity checks) into the inputs of `health.ts`, which values them
 * bit for bit as the program does.
 */
import { sha256 } from "@noble/hashes/sha2";
import { Buffer } from "buffer";
import { type AccountInfo, PublicKey, SYSVAR_CLOCK_PUBKEY } from "@solana/web3.js";
import {
  AccountFlags, activeDerivativePositions, activeTokenPositions, type BankData, fixedRaw, type MarginAccountData, type MarketData,
} from "./accounts.ts";
import type { XmarginClient } from "./client.ts";
import {
  estimateHealth, type HealthBankInput, type HealthContextInput, type HealthDerivativeInput, type HealthEstimate,
  type HealthMarketInput, type HealthPositionInput, MarketKind, type MarketRiskInput, type MarketSafetyInput,
  type PythReadingInput, type RiskParamsInput,
} from "./health.ts";
import type { OptionMarketInput } from "./optionHealth.ts";
import { estimatePortfolioHealth, type PortfolioEstimate } from "./portfolioHealth.ts";
import { groupRiskGrid } from "./riskGrid.ts";
import { PYTH_RECEIVER_PROGRAM_ID } from "./pda.ts";

/** An oracle account fails the program's identity checks (`read_pyth`); `code` is the program's error name. */
export class OracleAccountError extends Error {
  constructor(readonly oracle: PublicKey, readonly code: string) {
    super(`oracle ${oracle.toBase58()}: ${code}`);
  }
}

const PRICE_UPDATE_V2_DISCRIMINATOR = Buffer.from(sha256(new TextEncoder().encode("account:PriceUpdateV2")).subarray(0, 8));
// After the discriminator: write authority (32), verification level (1 = Full), then the price message.
const VERIFICATION_OFFSET = 40;
const FEED_ID_OFFSET = 41;
const PRICE_OFFSET = 73;
const MESSAGE_END = PRICE_OFFSET + 28;

/** Reads a `PriceUpdateV2` with the program's checks: owner, type, full verification, feed id. */
export function parsePriceUpdate(key: PublicKey, info: AccountInfo<Buffer> | null, feedId: number[]): PythReadingInput {
  if (!info || !info.owner.equals(PYTH_RECEIVER_PROGRAM_ID)) throw new OracleAccountError(key, "OracleWrongOwner");
  const d = info.data;
  if (d.length < MESSAGE_END || !d.subarray(0, 8).equals(PRICE_UPDATE_V2_DISCRIMINATOR)) {
    throw new OracleAccountError(key, "OracleNotPriceUpdate");
  }
  if (d.readUInt8(VERIFICATION_OFFSET) !== 1) throw new OracleAccountError(key, "OracleNotFullyVerified");
  if (!d.subarray(FEED_ID_OFFSET, FEED_ID_OFFSET + 32).equals(Buffer.from(feedId))) {
    throw new OracleAccountError(key, "OracleWrongFeed");
  }
  return { price: d.readBigInt64LE(PRICE_OFFSET), conf: d.readBigUInt64LE(PRICE_OFFSET + 8),
    exponent: d.readInt32LE(PRICE_OFFSET + 16), publishTime: d.readBigInt64LE(PRICE_OFFSET + 20) };
}

function riskInput(r: BankData["risk"]): RiskParamsInput {
  const u = (v: { toString(): string }) => BigInt(v.toString());
  return { initAssetWeight: fixedRaw(r.initAssetWeight), liqEndAssetWeight: fixedRaw(r.liqEndAssetWeight),
    maintAssetWeight: fixedRaw(r.maintAssetWeight), maintLiabWeight: fixedRaw(r.maintLiabWeight),
    liqEndLiabWeight: fixedRaw(r.liqEndLiabWeight), initLiabWeight: fixedRaw(r.initLiabWeight),
    depositCap: u(r.depositCap), borrowLimit: u(r.borrowLimit), depositWeightScaleStart: u(r.depositWeightScaleStart),
    borrowWeightScaleStart: u(r.borrowWeightScaleStart) };
}

/** The `health.ts` view of a decoded bank. */
export function bankInput(b: BankData): HealthBankInput {
  return { tokenIndex: b.tokenIndex, mintDecimals: b.mintDecimals, depositIndex: fixedRaw(b.depositIndex),
    borrowIndex: fixedRaw(b.borrowIndex), depositShares: fixedRaw(b.depositShares), borrowShares: fixedRaw(b.borrowShares),
    stablePrice: fixedRaw(b.stablePrice), confMultiplier: fixedRaw(b.confMultiplier), maxConfRatio: fixedRaw(b.maxConfRatio),
    maxOracleAgeSecs: b.maxOracleAgeSecs, risk: riskInput(b.risk), pendingRisk: riskInput(b.pendingRisk),
    pendingActivationTs: BigInt(b.pendingActivationTs.toString()), maxRate: fixedRaw(b.maxRate),
    lastAccrualTs: BigInt(b.lastAccrualTs.toString()) };
}

function marketRiskInput(r: MarketData["risk"]): MarketRiskInput {
  return { initRate: fixedRaw(r.initRate), maintRate: fixedRaw(r.maintRate), liqEndRate: fixedRaw(r.liqEndRate),
    pnlInitWeight: fixedRaw(r.pnlInitWeight), pnlLiqEndWeight: fixedRaw(r.pnlLiqEndWeight),
    pnlMaintWeight: fixedRaw(r.pnlMaintWeight), initPnlCap: BigInt(r.initPnlCap.toString()),
    sizePremium: fixedRaw(r.sizePremium) };
}

function safetyInput(s: MarketData["safety"]): MarketSafetyInput {
  return { confMultiplier: fixedRaw(s.confMultiplier), maxConfRatio: fixedRaw(s.maxConfRatio),
    maxOracleAgeSecs: s.maxOracleAgeSecs, activationTs: BigInt(s.activationTs.toString()) };
}

/** The option part of a decoded option market (`optionHealth.ts`); `undefined` for other kinds. */
export function optionInput(m: MarketData): OptionMarketInput | undefined {
  if (m.kind !== MarketKind.option) return undefined;
  const a = m.riskArray;
  return { isCall: m.optionIsCall !== 0, strike: fixedRaw(m.strike), volatility: fixedRaw(m.volatility),
    strikePerContract: BigInt(m.option.strikePerContract.toString()),
    pendingVolatility: fixedRaw(m.option.pendingVolatility),
    pendingVolatilityTs: BigInt(m.option.pendingVolatilityTs.toString()),
    shortInitBase: fixedRaw(m.option.shortInitBase), shortInitFloor: fixedRaw(m.option.shortInitFloor),
    shortLiqEnd: fixedRaw(m.option.shortLiqEnd), shortMaint: fixedRaw(m.option.shortMaint),
    riskArray: { computedAt: BigInt(a.computedAt.toString()), gridId: a.gridId, scenarioCount: a.scenarioCount,
      format: a.format, spot: fixedRaw(a.spot), volatility: fixedRaw(a.volatility), value: fixedRaw(a.value), delta: fixedRaw(a.delta),
      gamma: fixedRaw(a.gamma), changes: riskArrayChanges(a.changes) } };
}

/** The stored scenario changes `c_k` (40 × i64 little-endian: one contract's value change, 2^-16 quote native). */
export function riskArrayChanges(bytes: number[] | Uint8Array): bigint[] {
  const b = Buffer.from(bytes);
  const out: bigint[] = [];
  for (let at = 0; at + 8 <= b.length; at += 8) out.push(b.readBigInt64LE(at));
  return out;
}

/** The `health.ts` view of a decoded market. */
export function marketInput(m: MarketData): HealthMarketInput {
  return { option: optionInput(m), marketIndex: m.marketIndex, underlyingTokenIndex: m.underlyingTokenIndex,
    underlyingDecimals: m.underlyingDecimals, kind: m.kind, status: m.status,
    contractSize: BigInt(m.contractSize.toString()), stablePrice: fixedRaw(m.stablePrice),
    cumFunding: fixedRaw(m.cumFunding), settlementPrice: fixedRaw(m.settlementPrice), risk: marketRiskInput(m.risk),
    pendingRisk: marketRiskInput(m.pendingRisk), pendingRiskActivationTs: BigInt(m.pendingRiskActivationTs.toString()),
    safety: safetyInput(m.safety), pendingSafety: safetyInput(m.pendingSafety) };
}

/** The cluster's unix time (the Clock sysvar). */
export async function clusterTime(client: XmarginClient): Promise<bigint> {
  const info = await client.program.provider.connection.getAccountInfo(SYSVAR_CLOCK_PUBKEY);
  if (!info) throw new Error("no Clock sysvar");
  return info.data.readBigInt64LE(32);
}

/**
 * The account is in portfolio margin mode, which the estimate did not value
 * before portfolio mode was ported (`portfolioHealth.ts`). Kept for callers
 * that catch it; no longer thrown.
 * @deprecated `estimateAccountHealth` values portfolio accounts.
 */
export class PortfolioModeNotEstimatedError extends Error {
  constructor(readonly account: PublicKey | undefined) {
    super(`${account ? `account ${account.toBase58()} ` : ""}is in portfolio margin mode: the client estimate `
      + "values linear mode only; use computeHealth (the program's valuation)");
    this.name = "PortfolioModeNotEstimatedError";
  }
}

/**
 * Health of a margin account estimated off-chain from fresh bank and oracle
 * reads, equal to what `compute_health` returns at the same clock `now`
 * (default: the cluster's), in the account's margin mode: a portfolio account
 * (`PORTFOLIO_MODE`) is valued on its netted books under the group's grid and
 * its estimate carries every book (`books`, what `PortfolioHealth` reports;
 * `null` when it is valued linearly). Banks are re-read so interest indices
 * are current as of their last accrual, like the program's view before it accrues.
 */
export async function estimateAccountHealth(
  client: XmarginClient,
  account: PublicKey | MarginAccountData,
  now?: bigint,
  rules: Omit<HealthContextInput, "quoteDecimals" | "now"> = {},
): Promise<HealthEstimate & { books?: PortfolioEstimate["books"] }> {
  const data = account instanceof PublicKey ? await client.fetchMarginAccount(account) : account;
  const positions = activeTokenPositions(data);
  const bankKeys = positions.map((p) => client.bank(p.tokenIndex).address);
  const banks = await client.program.account.bank.fetchMultiple(bankKeys);
  const oracleKeys = banks.map((b, i) => {
    if (!b) throw new Error(`bank ${bankKeys[i].toBase58()} not found`);
    return b.oracle;
  });
  const derivatives = activeDerivativePositions(data);
  if (derivatives.some((d) => !client.markets.has(d.marketIndex))) await client.loadMarkets();
  const marketKeys = derivatives.map((d) => client.market(d.marketIndex).address);
  const markets = marketKeys.length > 0 ? await client.program.account.market.fetchMultiple(marketKeys) : [];
  const marketOracleKeys = markets.map((m, i) => {
    if (!m) throw new Error(`market ${marketKeys[i].toBase58()} not found`);
    return m.oracle;
  });
  const oracles = await client.program.provider.connection.getMultipleAccountsInfo([...oracleKeys, ...marketOracleKeys]);
  const inputs: HealthPositionInput[] = positions.map((p, i) => {
    const bank = banks[i] as BankData;
    return { bank: bankInput(bank), reading: parsePriceUpdate(oracleKeys[i], oracles[i], bank.feedId), shares: p.shares };
  });
  const derivativeInputs: HealthDerivativeInput[] = derivatives.map((d, i) => {
    const market = markets[i] as MarketData;
    const reading = parsePriceUpdate(marketOracleKeys[i], oracles[oracleKeys.length + i], market.feedId);
    return { market: marketInput(market), reading, baseContracts: d.baseContracts, quoteCost: d.quoteCost,
      realizedPnl: d.realizedPnl, fundingSnapshot: d.fundingSnapshot };
  });
  const group = await client.fetchGroup();
  const at = now ?? (await clusterTime(client));
  const ctx = { grid: groupRiskGrid(group, at), ...rules, quoteDecimals: group.quoteDecimals, now: at };
  if ((data.flags & AccountFlags.portfolioMode) !== 0) return estimatePortfolioHealth(inputs, ctx, derivativeInputs);
  return estimateHealth(inputs, ctx, derivativeInputs);
}
