/**
 * What the dashboard shows, read from the chain with the project's client
 * (`@xmargin/client`): the group with its banks, markets and insurance fund,
 * and a margin account valued exactly as `compute_health` values it (the
 * client's bit-exact health estimate), with its limits, liquidation prices and
 * the Maint health curve against one token's price. No rendering here.
 */
import type { Provider } from "@anchor-lang/core";
import type { Buffer } from "buffer";
import { type AccountInfo, type AddressLookupTableAccount, Connection, PublicKey } from "@solana/web3.js";
import {
  AccountFlags, activeTokenPositions, bankInput, type BankData, clusterTime, computeHealth, estimateHealth,
  estimatePortfolioHealth, fetchLookupTable, groupRiskGrid,
  findGroupLookupTable, fixedRaw, fixedToNumber,
  type GroupData, healthBand, type HealthBand, type HealthContextInput, type HealthDerivativeInput,
  type HealthPositionInput, liquidationPrice, marketInput, type MarginAccountData, MarketKind,
  maintHealthAtPrice, maxBorrow, maxWithdraw, nativeTotals, parsePriceUpdate, positionNativeBalance,
  type PythReadingInput, toQuoteNative, valueToken, XMARGIN_PROGRAM_ID, XmarginClient, activeDerivativePositions,
} from "@xmargin/client";
import { type DerivativeRow, derivativeRow, ESTIMATE_FAILED, type MarketRow, marketRow } from "./marketModel.ts";

export type { Contribution, DerivativeRow, MarketRow, OptionInfo } from "./marketModel.ts";

/** Pyth feed ids of the tokens the project lists (migrations/config.json, the tests' feeds). */
const FEED_SYMBOLS: Record<string, string> = {
  eaa020c61cc479712813461ce153894a96a6c00b21ed0cfc2798d1f9a9e9c94a: "USDC",
  ef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d: "SOL",
  e62df6c8b4a85fe1a67db44dc12de5db330f7ac66b72dc658afedf0f4a415b43: "BTC",
  ff61491a931112ddf1bd8147cd1b641375f79f5825126d665480874634fd0ace: "ETH",
};

const hex = (bytes: number[]): string => bytes.map((b) => b.toString(16).padStart(2, "0")).join("");

/** A provider for reads and instruction building: the wallet signs through the Wallet Standard, not Anchor. */
export function readProvider(connection: Connection, publicKey?: PublicKey): Provider {
  return { connection, publicKey } as Provider;
}

export function makeConnection(rpc: string): Connection {
  return new Connection(rpc, { commitment: "confirmed" });
}

/** Every group of the program on the cluster (`getProgramAccounts` by the Group discriminator). */
export async function listGroups(connection: Connection, programId = XMARGIN_PROGRAM_ID): Promise<{ address: PublicKey; data: GroupData }[]> {
  const client = new XmarginClient(readProvider(connection), PublicKey.default, programId);
  const all = await client.program.account.group.all();
  return all.map((g) => ({ address: g.publicKey, data: g.account }));
}

export interface Oracle {
  reading: PythReadingInput | null;
  error: string | null;
  /** USD per whole token. */
  price: number | null;
  /** Seconds since publish (0 for a publish time ahead of the cluster's clock). */
  ageSecs: number | null;
}

export interface BankRow {
  tokenIndex: number;
  symbol: string;
  address: PublicKey;
  mint: PublicKey;
  oracleKey: PublicKey;
  decimals: number;
  data: BankData;
  oracle: Oracle;
  /** Native units. */
  deposits: bigint;
  borrows: bigint;
  utilization: number;
  /** Annual rates (fractions). */
  borrowRate: number;
  depositRate: number;
  depositCap: bigint;
  borrowLimit: bigint;
  weights: { initAsset: number; maintAsset: number; liqEndAsset: number; initLiab: number; maintLiab: number; liqEndLiab: number };
  maxOracleAgeSecs: number;
  isQuote: boolean;
}

export interface GroupModel {
  client: XmarginClient;
  address: PublicKey;
  data: GroupData;
  now: bigint;
  slot: number;
  banks: BankRow[];
  markets: MarketRow[];
  quoteDecimals: number;
  insurance: { vault: PublicKey; balance: bigint | null };
  /** Every account the dashboard listens to for this view. */
  watched: PublicKey[];
  /** The group's address lookup table (`?lut=`, else the admin's table holding the group), for v0 transactions. */
  lookupTable: AddressLookupTableAccount | null;
}

/** Annual borrow rate of the kinked curve at `util` (`InterestCurve::borrow_rate`, as a float for display). */
function borrowRate(b: BankData, util: number): number {
  const z = fixedToNumber(fixedRaw(b.zeroUtilRate));
  const ou = fixedToNumber(fixedRaw(b.optimalUtil));
  const or = fixedToNumber(fixedRaw(b.optimalRate));
  const mx = fixedToNumber(fixedRaw(b.maxRate));
  const u = Math.max(0, Math.min(1, util));
  if (ou <= 0) return mx;
  return u <= ou ? z + ((or - z) * u) / ou : or + ((mx - or) * (u - ou)) / (1 - ou);
}

export function readOracle(key: PublicKey, info: AccountInfo<Buffer> | null, feedId: number[], now: bigint): Oracle {
  try {
    const reading = parsePriceUpdate(key, info, feedId);
    const price = Number(reading.price) * 10 ** reading.exponent;
    const age = now > reading.publishTime ? Number(now - reading.publishTime) : 0;
    return { reading, error: null, price, ageSecs: age };
  } catch (e) {
    return { reading: null, error: (e as { code?: string }).code ?? String(e), price: null, ageSecs: null };
  }
}

/** The group, its banks (with oracles), markets and insurance fund, at the cluster's clock. */
export async function loadGroup(
  connection: Connection, group: PublicKey, programId = XMARGIN_PROGRAM_ID, wallet?: PublicKey, lut?: PublicKey | null,
): Promise<GroupModel> {
  const client = new XmarginClient(readProvider(connection, wallet), group, programId);
  const [data, , , now, slot] = await Promise.all([
    client.fetchGroup(), client.loadBanks(), client.loadMarkets(), clusterTime(client), connection.getSlot("confirmed"),
  ]);
  const entries = [...client.banks.values()];
  const marketEntries = [...client.markets.values()];
  // Market oracles are their underlying bank's (health accounts carry it once); any other is read too.
  const extraOracles = dedupe(marketEntries.map((m) => m.data.oracle).filter((k) => !entries.some((b) => b.oracle.equals(k))));
  const oracleKeys = [...entries.map((b) => b.oracle), ...extraOracles];
  const [oracleInfos, insurance, lookupTable] = await Promise.all([
    connection.getMultipleAccountsInfo(oracleKeys),
    // SPL token account: mint (32), owner (32), amount (u64 LE).
    connection.getAccountInfo(data.insuranceVault).then((i) => (i && i.data.length >= 72 ? i.data.readBigUInt64LE(64) : null))
      .catch(() => null),
    (lut ? fetchLookupTable(connection, lut) : findGroupLookupTable(connection, group, data.admin)).catch(() => null),
  ]);
  const banks: BankRow[] = entries.map((e, i) => {
    const b = e.data;
    const [dep, bor] = nativeTotals(bankInput(b));
    const deposits = dep >> 48n;
    const borrows = -(-bor >> 48n);
    const utilization = borrows <= 0n ? 0 : deposits <= 0n ? 1 : Math.min(1, Number(borrows) / Number(deposits));
    const br = borrowRate(b, utilization);
    const fee = fixedToNumber(fixedRaw(b.protocolFeeRate));
    const w = (s: { limbs: unknown[] }) => fixedToNumber(fixedRaw(s as Parameters<typeof fixedRaw>[0]));
    return {
      tokenIndex: e.tokenIndex, symbol: FEED_SYMBOLS[hex(b.feedId)] ?? `Token ${e.tokenIndex}`, address: e.address,
      mint: e.mint, oracleKey: e.oracle, decimals: b.mintDecimals, data: b,
      oracle: readOracle(e.oracle, oracleInfos[i], b.feedId, now), deposits, borrows, utilization,
      borrowRate: br, depositRate: br * utilization * (1 - fee),
      depositCap: BigInt(b.risk.depositCap.toString()), borrowLimit: BigInt(b.risk.borrowLimit.toString()),
      weights: { initAsset: w(b.risk.initAssetWeight), maintAsset: w(b.risk.maintAssetWeight),
        liqEndAsset: w(b.risk.liqEndAssetWeight), initLiab: w(b.risk.initLiabWeight), maintLiab: w(b.risk.maintLiabWeight),
        liqEndLiab: w(b.risk.liqEndLiabWeight) },
      maxOracleAgeSecs: b.maxOracleAgeSecs, isQuote: e.mint.equals(data.quoteMint),
    };
  });
  const markets: MarketRow[] = marketEntries.map((m) => {
    const bank = banks.find((b) => b.oracleKey.equals(m.data.oracle) && b.tokenIndex === m.data.underlyingTokenIndex)
      ?? banks.find((b) => b.oracleKey.equals(m.data.oracle));
    const oracle = bank ? bank.oracle
      : readOracle(m.data.oracle, oracleInfos[entries.length + extraOracles.findIndex((k) => k.equals(m.data.oracle))] ?? null, m.data.feedId, now);
    const symbol = banks.find((b) => b.tokenIndex === m.data.underlyingTokenIndex)?.symbol ?? `Token ${m.data.underlyingTokenIndex}`;
    return marketRow(m, oracle, symbol, data.quoteDecimals, now);
  });
  const watched = [group, ...banks.map((b) => b.address), ...banks.map((b) => b.oracleKey), ...markets.map((m) => m.address),
    ...markets.map((m) => m.data.oracle), data.insuranceVault];
  return { client, address: group, data, now, slot, banks, markets, quoteDecimals: data.quoteDecimals,
    insurance: { vault: data.insuranceVault, balance: insurance }, watched: dedupe(watched), lookupTable };
}

function dedupe(keys: PublicKey[]): PublicKey[] {
  const seen = new Set<string>();
  return keys.filter((k) => !seen.has(k.toBase58()) && seen.add(k.toBase58()));
}

export interface PositionRow {
  tokenIndex: number;
  bank: BankRow;
  /** Native, deposit > 0, borrow < 0 (as the program values it: debt projected since the bank's last accrual). */
  balance: bigint;
  /** Quote native at the oracle price. */
  value: bigint;
  /** The weights that apply to this side (asset or liability). */
  initWeight: number;
  maintWeight: number;
  liqEndWeight: number;
  /** Contributions to Init and Maint health (quote native), and raw I80F48. */
  initContribution: bigint;
  maintContribution: bigint;
  initRaw: bigint;
  maintRaw: bigint;
  priced: boolean;
}

export interface TokenLimits {
  bank: BankRow;
  maxWithdraw: bigint | null;
  maxBorrow: bigint | null;
  /** Raw I80F48 (quote native per native unit), `null` when none within the engine's search; `undefined`: not applicable. */
  liquidationPrice: bigint | null | undefined;
  error: string | null;
}

export interface AccountModel {
  address: PublicKey;
  data: MarginAccountData;
  owner: PublicKey;
  now: bigint;
  /** Quote native, rounded down (`compute_health`'s units). */
  health: { init: bigint; maint: bigint; liqEnd: bigint } | null;
  band: HealthBand | null;
  healthError: string | null;
  /** `estimate`: the client's bit-exact estimate; `compute_health`: the program's, simulated (the estimate could not value a position). */
  healthSource: "estimate" | "compute_health" | null;
  /** Why the estimate was not used. */
  healthNote: string | null;
  beingLiquidated: boolean;
  bankrupt: boolean;
  positions: PositionRow[];
  derivatives: DerivativeRow[];
  limits: TokenLimits[];
  /** Inputs for the what-if chart. */
  inputs: { positions: HealthPositionInput[]; derivatives: HealthDerivativeInput[]; quoteDecimals: number } | null;
}

const errText = (e: unknown): string =>
  (e as { programError?: string }).programError ?? (e instanceof Error ? e.message : String(e));

/**
 * A margin account valued off-chain at the cluster's clock: banks and oracles
 * re-read (so interest indices are the ones `compute_health` would see now).
 */
export async function loadAccount(g: GroupModel, address: PublicKey): Promise<AccountModel> {
  const { client } = g;
  const connection = client.program.provider.connection;
  const data = await client.fetchMarginAccount(address);
  if (!data.group.equals(g.address)) throw new Error(`account ${address.toBase58()} belongs to group ${data.group.toBase58()}`);
  const banks = await client.program.account.bank.fetchMultiple(g.banks.map((b) => b.address));
  const derivs = activeDerivativePositions(data);
  const marketDatas = derivs.length > 0
    ? await client.program.account.market.fetchMultiple(derivs.map((d) => client.market(d.marketIndex).address)) : [];
  const oracleKeys = [...g.banks.map((b) => b.oracleKey), ...marketDatas.map((m) => m!.oracle)];
  const [oracles, now] = await Promise.all([connection.getMultipleAccountsInfo(oracleKeys), clusterTime(client)]);
  const bankByIndex = new Map<number, { row: BankRow; data: BankData; reading: PythReadingInput | null }>();
  g.banks.forEach((row, i) => {
    const bd = banks[i] ?? row.data;
    let reading: PythReadingInput | null = null;
    try { reading = parsePriceUpdate(row.oracleKey, oracles[i], bd.feedId); } catch { reading = null; }
    bankByIndex.set(row.tokenIndex, { row, data: bd, reading });
  });
  // A reading the program would reject still goes in: the estimate applies the program's rules to it.
  const readingOf = (i: number, feedId: number[], key: PublicKey): PythReadingInput => parsePriceUpdate(key, oracles[i], feedId);
  const quoteDecimals = g.quoteDecimals;
  const ctx: HealthContextInput = { quoteDecimals, now, grid: groupRiskGrid(g.data, now) };
  let positions: HealthPositionInput[] = [];
  let inputsError: string | null = null;
  try {
    positions = activeTokenPositions(data).map((p) => {
      const b = bankByIndex.get(p.tokenIndex);
      if (!b) throw new Error(`token ${p.tokenIndex} has no bank`);
      const i = g.banks.indexOf(b.row);
      return { bank: bankInput(b.data), reading: readingOf(i, b.data.feedId, b.row.oracleKey), shares: p.shares };
    });
  } catch (e) {
    inputsError = errText(e);
  }
  // Each derivative's input on its own, so one unreadable oracle leaves the other rows valued.
  const derivInputs = derivs.map((d, k): { input: HealthDerivativeInput | null; error: string | null } => {
    const m = marketDatas[k];
    if (!m) return { input: null, error: `market ${d.marketIndex} not found` };
    try {
      return { input: { market: marketInput(m), reading: readingOf(g.banks.length + k, m.feedId, m.oracle), baseContracts: d.baseContracts,
        quoteCost: d.quoteCost, realizedPnl: d.realizedPnl, fundingSnapshot: d.fundingSnapshot }, error: null };
    } catch (e) {
      return { input: null, error: errText(e) };
    }
  });
  inputsError ??= derivInputs.find((x) => x.error)?.error ?? null;
  const derivatives = derivInputs.flatMap((x) => (x.input ? [x.input] : []));
  const holdsOptions = derivs.some((d, k) => marketDatas[k]?.kind === MarketKind.option && d.baseContracts !== 0n);
  const portfolio = (data.flags & AccountFlags.portfolioMode) !== 0;
  const { health, band, healthError, healthSource, healthNote } = await accountHealth(g, address, data.owner, positions, derivatives, ctx,
    inputsError, holdsOptions, portfolio);
  const rows: PositionRow[] = activeTokenPositions(data).map((p, i) => {
    const b = bankByIndex.get(p.tokenIndex)!;
    const fallback = positionNativeBalance(b.data, p.shares);
    let t = null;
    try { t = positions[i] ? valueToken(positions[i], ctx) : null; } catch { t = null; }
    // `valueToken`'s balance is raw I80F48 native units (debt projected since the bank's last accrual).
    const balance = t ? t.balance >> 48n : fallback;
    const debt = balance < 0n;
    const w = (x: bigint | undefined) => (x === undefined ? NaN : fixedToNumber(x));
    const value = t ? (t.balance * t.prices.oracle) >> 96n : 0n;
    let ic = 0n;
    let mc = 0n;
    try { if (t) { const e = estimateHealth([positions[i]], ctx); ic = e.init; mc = e.maint; } } catch { /* unpriced */ }
    return {
      tokenIndex: p.tokenIndex, bank: b.row, balance, value,
      initWeight: w(debt ? t?.weights.initLiab : t?.weights.initAsset),
      maintWeight: w(debt ? t?.weights.maintLiab : t?.weights.maintAsset),
      liqEndWeight: w(debt ? t?.weights.liqEndLiab : t?.weights.liqEndAsset),
      initContribution: toQuoteNative(ic), maintContribution: toQuoteNative(mc), initRaw: ic, maintRaw: mc, priced: t !== null,
    };
  });
  const derivativeRows: DerivativeRow[] = derivs.map((d, k) => {
    const m = marketDatas[k] ?? g.markets.find((x) => x.marketIndex === d.marketIndex)!.data;
    const known = g.markets.find((x) => x.marketIndex === d.marketIndex);
    const bank = g.banks.find((b) => b.tokenIndex === m.underlyingTokenIndex);
    const row = known ?? marketRow({ marketIndex: d.marketIndex, address: client.market(d.marketIndex).address, data: m },
      readOracle(m.oracle, oracles[g.banks.length + k] ?? null, m.feedId, now), bank?.symbol ?? `Token ${m.underlyingTokenIndex}`, quoteDecimals, now);
    return derivativeRow(d, row, m, derivInputs[k].input, derivInputs[k].error, ctx);
  });
  // Limits per bank: a zero position in tokens the account does not hold (as `withdraw` opens one).
  const limits: TokenLimits[] = g.banks.map((row) => {
    const entry = bankByIndex.get(row.tokenIndex)!;
    const held = positions.some((p) => p.bank.tokenIndex === row.tokenIndex);
    const out: TokenLimits = { bank: row, maxWithdraw: null, maxBorrow: null, liquidationPrice: undefined, error: null };
    if (inputsError) { out.error = inputsError; return out; }
    const withToken = held || !entry.reading ? positions
      : [...positions, { bank: bankInput(entry.data), reading: entry.reading, shares: 0n }];
    const strict: HealthContextInput = { ...ctx, strictToken: row.tokenIndex };
    try {
      out.maxWithdraw = maxWithdraw(withToken, strict, row.tokenIndex, { derivatives });
      out.maxBorrow = maxBorrow(withToken, strict, row.tokenIndex, { derivatives });
    } catch (e) {
      out.error = errText(e);
    }
    const collateral = rows.some((r) => r.tokenIndex === row.tokenIndex && r.balance > 0n)
      || derivatives.some((d) => d.market.underlyingTokenIndex === row.tokenIndex);
    if (collateral && !row.isQuote) {
      // Portfolio mode: on the netted books, the account as the program holds it.
      try {
        out.liquidationPrice = liquidationPrice(portfolio ? positions : withToken, strict, row.tokenIndex, { derivatives, portfolio });
      } catch { out.liquidationPrice = undefined; }
    }
    return out;
  });
  return {
    address, data, owner: data.owner, now, health, band, healthError, healthSource, healthNote,
    beingLiquidated: (data.flags & AccountFlags.beingLiquidated) !== 0, bankrupt: (data.flags & AccountFlags.bankrupt) !== 0,
    positions: rows, derivatives: derivativeRows, limits,
    inputs: inputsError ? null : { positions, derivatives, quoteDecimals },
  };
}

/**
 * The account's Init, Maint and LiquidationEnd health: the client's estimate
 * in the account's margin mode (portfolio mode: its netted books); for an
 * account holding options that the estimate cannot value, the program's own
 * `compute_health`, simulated with the owner as fee payer (nothing signed).
 */
async function accountHealth(
  g: GroupModel, address: PublicKey, owner: PublicKey, positions: HealthPositionInput[], derivatives: HealthDerivativeInput[], ctx: HealthContextInput,
  inputsError: string | null, holdsOptions: boolean, portfolio = false,
): Promise<Pick<AccountModel, "health" | "band" | "healthError" | "healthSource" | "healthNote">> {
  let reason = inputsError;
  if (!reason) {
    try {
      const h = portfolio ? estimatePortfolioHealth(positions, ctx, derivatives) : estimateHealth(positions, ctx, derivatives);
      return { health: { init: toQuoteNative(h.init), maint: toQuoteNative(h.maint), liqEnd: toQuoteNative(h.liqEnd) },
        band: healthBand(h), healthError: null, healthSource: "estimate", healthNote: null };
    } catch (e) {
      reason = errText(e);
    }
  }
  if (!holdsOptions) return { health: null, band: null, healthError: reason, healthSource: null, healthNote: null };
  try {
    const on = await computeHealth(g.client, address, { payer: owner, lookupTables: g.lookupTable ? [g.lookupTable] : undefined });
    return { health: { init: on.init, maint: on.maint, liqEnd: on.liquidationEnd }, band: on.bandName, healthError: null,
      healthSource: "compute_health", healthNote: `${ESTIMATE_FAILED} (${reason})` };
  } catch (e) {
    // The program refuses too (a stale risk array, an unusable oracle): its message, by name, says what to do.
    const onChain = errText(e);
    const healthError = onChain.startsWith(reason) ? `compute_health: ${onChain}` : `${reason}; compute_health: ${onChain}`;
    return { health: null, band: null, healthError, healthSource: null, healthNote: null };
  }
}

/**
 * Maint health (quote UI units) against `tokenIndex`'s price from `lo` to `hi`
 * times its current oracle price, everything else fixed (`maintHealthAtPrice`).
 */
export function healthCurve(a: AccountModel, g: GroupModel, tokenIndex: number, points = 61, lo = 0.25, hi = 2):
  { p0: number; samples: { price: number; health: number }[]; error: string | null } {
  const bank = g.banks.find((b) => b.tokenIndex === tokenIndex);
  if (!a.inputs || !bank || bank.oracle.price === null) return { p0: 0, samples: [], error: "no usable price" };
  const { positions, derivatives, quoteDecimals } = a.inputs;
  const withToken = positions.some((p) => p.bank.tokenIndex === tokenIndex) || !bank.oracle.reading ? positions
    : [...positions, { bank: bankInput(bank.data), reading: bank.oracle.reading, shares: 0n }];
  const ctx: HealthContextInput = { quoteDecimals, now: a.now, strictToken: tokenIndex, grid: groupRiskGrid(g.data, a.now) };
  // Raw price (quote native per native unit, I80F48) of one UI unit of the token's USD price.
  const perUsd = (2n ** 48n * 10n ** BigInt(quoteDecimals)) / 10n ** BigInt(bank.decimals);
  const samples: { price: number; health: number }[] = [];
  try {
    for (let i = 0; i < points; i++) {
      const price = bank.oracle.price * (lo + ((hi - lo) * i) / (points - 1));
      const raw = BigInt(Math.round(price * 1e6)) * perUsd / 1_000_000n;
      const h = maintHealthAtPrice(withToken, ctx, tokenIndex, raw > 0n ? raw : 1n, { derivatives });
      samples.push({ price, health: fixedToNumber(h) / 10 ** quoteDecimals });
    }
  } catch (e) {
    return { p0: bank.oracle.price, samples: [], error: errText(e) };
  }
  return { p0: bank.oracle.price, samples, error: null };
}

export interface AccountSummary {
  address: PublicKey;
  owner: PublicKey;
  health: { init: bigint; maint: bigint } | null;
  band: HealthBand | null;
  error: string | null;
  /** Where the health comes from (accounts holding options: `compute_health`, simulated). */
  source: "estimate" | "compute_health" | null;
}

/** Accounts holding options the overview values by simulating `compute_health` (one RPC call each). */
const MAX_SIMULATED = 20;

/**
 * Every margin account of the group (up to `limit`) with its health from the
 * group's banks and oracle readings as loaded (one `getProgramAccounts`).
 */
export async function accountsOverview(g: GroupModel, limit = 200): Promise<AccountSummary[]> {
  const all = (await g.client.marginAccounts()).slice(0, limit);
  const markets = new Map(g.markets.map((m) => [m.marketIndex, m]));
  const banks = new Map(g.banks.map((b) => [b.tokenIndex, b]));
  const ctx: HealthContextInput = { quoteDecimals: g.quoteDecimals, now: g.now, grid: groupRiskGrid(g.data, g.now) };
  let simulated = 0;
  const simulate = async (address: PublicKey, data: MarginAccountData, reason: string): Promise<AccountSummary> => {
    if (simulated++ >= MAX_SIMULATED) return { address, owner: data.owner, health: null, band: null, error: reason, source: null };
    try {
      const on = await computeHealth(g.client, address, { payer: data.owner, accountData: data,
        lookupTables: g.lookupTable ? [g.lookupTable] : undefined });
      return { address, owner: data.owner, health: { init: on.init, maint: on.maint }, band: on.bandName, error: null, source: "compute_health" };
    } catch (e) {
      return { address, owner: data.owner, health: null, band: null, error: errText(e), source: null };
    }
  };
  const rows = await Promise.all(all.map(async ({ address, data }): Promise<AccountSummary> => {
    const options = activeDerivativePositions(data)
      .some((d) => markets.get(d.marketIndex)?.data.kind === MarketKind.option && d.baseContracts !== 0n);
    try {
      const positions = activeTokenPositions(data).map((p) => {
        const b = banks.get(p.tokenIndex);
        if (!b || !b.oracle.reading) throw new Error(b?.oracle.error ?? `no bank ${p.tokenIndex}`);
        return { bank: bankInput(b.data), reading: b.oracle.reading, shares: p.shares };
      });
      const derivatives = activeDerivativePositions(data).map((d) => {
        const m = markets.get(d.marketIndex);
        const reading = m && banks.get(m.data.underlyingTokenIndex)?.oracleKey.equals(m.data.oracle)
          ? banks.get(m.data.underlyingTokenIndex)!.oracle.reading : null;
        if (!m || !reading) throw new Error(`market ${d.marketIndex} unpriced`);
        return { market: marketInput(m.data), reading, baseContracts: d.baseContracts, quoteCost: d.quoteCost,
          realizedPnl: d.realizedPnl, fundingSnapshot: d.fundingSnapshot };
      });
      const h = (data.flags & AccountFlags.portfolioMode) !== 0
        ? estimatePortfolioHealth(positions, ctx, derivatives) : estimateHealth(positions, ctx, derivatives);
      return { address, owner: data.owner, health: { init: toQuoteNative(h.init), maint: toQuoteNative(h.maint) },
        band: healthBand(h), error: null, source: "estimate" };
    } catch (e) {
      // An account holding options the estimate cannot value: the program's own valuation.
      if (options) return simulate(address, data, errText(e));
      return { address, owner: data.owner, health: null, band: null, error: errText(e), source: null };
    }
  }));
  return rows.sort((a, b) => (a.health && b.health ? Number(a.health.maint - b.health.maint) : a.health ? -1 : 1));
}
