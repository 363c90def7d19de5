/**
 * Option series at deploy (`DeployConfig.optionSeries`, the format of the
 * CLI's `add-option-series --series-config`, crates/cli/src/option_series.rs):
 * each entry lists every expiry × strike × kind of one underlying with shared
 * terms. Markets are planned in the CLI's order (expiry by expiry, strike by
 * strike, calls before puts) and names (`{prefix}-{strike per token}{C|P}-{yymmdd}`),
 * listed at the group's next indices, each followed by its first
 * `update_risk_array` so it can trade at once. Idempotent: a market with the
 * same underlying, kind, strike and expiry is left alone; an expiry the
 * program would refuse now (inside the 30-minute settlement window, past, or
 * more than 366 days out) is skipped with a log line.
 */
import { BN } from "@anchor-lang/core";
import type { PublicKey, TransactionInstruction } from "@solana/web3.js";
import { marketNameBytes } from "./accounts.ts";
import type { AddOptionMarketArgs, XmarginClient } from "./client.ts";

type U64 = string | number;

/** One option series (the CLI's `OptionSeriesConfig`, camelCase JSON). */
export interface OptionSeriesConfig {
  namePrefix: string;
  underlyingTokenIndex: number;
  /** Underlying native units per contract. */
  contractSize: U64;
  minSize: U64;
  /** Quote native per contract. */
  strikes: U64[];
  /** Unix seconds. */
  expiries: number[];
  /** Default: both. */
  kinds?: ("call" | "put")[];
  risk: {
    initRateBps: number; maintRateBps: number; liqEndRateBps: number; pnlInitWeightBps: number;
    pnlLiqEndWeightBps: number; pnlMaintWeightBps: number; priceBandBps: number; settleFractionBps: number;
    initPnlCap: U64; openInterestCap: U64; sizePremiumPpm?: number;
  };
  /** Default: Derive's standard manager (15 / 13 / 11 / 9 %). */
  short?: { initBaseBps: number; initFloorBps: number; liqEndBps: number; maintBps: number };
  volatility: { volatilityBps: number; minVolatilityBps: number; maxVolatilityBps: number; maxChangeBps: number };
  liquidationFeeBps: number;
  insuranceFeeBps: number;
  /** Samples a time-weighted settlement price needs (1 … 1,800, as a future's; required). */
  minSamples: number;
}

/** One planned market of a series (its index is the group's next when listed). */
export interface PlannedOption {
  name: string;
  isCall: boolean;
  strike: bigint;
  expiryTs: bigint;
  args: Omit<AddOptionMarketArgs, "marketIndex">;
}

/** The program's listing window (`add_option_market`): after the settlement window, within 366 days. */
const SETTLEMENT_WINDOW_SECS = 1_800n;
const MAX_OPTION_TENOR_SECS = 366n * 86_400n;
const DERIVE_SHORT = { initBaseBps: 1_500, initFloorBps: 1_300, liqEndBps: 1_100, maintBps: 900 };

/** `yymmdd` of a unix time (UTC). */
export function yymmdd(unix: bigint): string {
  const iso = new Date(Number(unix) * 1000).toISOString();
  return `${iso.slice(2, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}`;
}

/** The strike per whole underlying token in quote units, trailing zeros dropped (1650000 per 0.01 SOL: `165`). */
export function strikeLabel(strikePerContract: bigint, contractSize: bigint, underlyingDecimals: number, quoteDecimals: number): string {
  const native = strikePerContract * 10n ** BigInt(underlyingDecimals) / (contractSize > 0n ? contractSize : 1n);
  const scale = 10n ** BigInt(quoteDecimals);
  const fraction = (native % scale).toString().padStart(quoteDecimals, "0").replace(/0+$/, "");
  return fraction === "" ? `${native / scale}` : `${native / scale}.${fraction}`;
}

/** The markets of `s` in the CLI's order and names; throws on a name over 16 bytes. */
export function planOptionSeries(s: OptionSeriesConfig, underlyingDecimals: number, quoteDecimals: number): PlannedOption[] {
  const kinds = (s.kinds && s.kinds.length > 0 ? [...new Set(s.kinds)] : ["call", "put"]).sort();
  const contractSize = BigInt(s.contractSize);
  const risk = { ...s.risk, initPnlCap: new BN(String(s.risk.initPnlCap)), openInterestCap: new BN(String(s.risk.openInterestCap)),
    sizePremiumPpm: s.risk.sizePremiumPpm ?? 0 };
  const out: PlannedOption[] = [];
  for (const e of s.expiries) {
    for (const k of s.strikes) {
      for (const kind of kinds) {
        const [expiryTs, strike, isCall] = [BigInt(e), BigInt(k), kind === "call"];
        const label = strikeLabel(strike, contractSize, underlyingDecimals, quoteDecimals);
        const name = `${s.namePrefix}-${label}${isCall ? "C" : "P"}-${yymmdd(expiryTs)}`;
        if (new TextEncoder().encode(name).length > 16) throw new Error(`market name ${name}: over 16 bytes: use a shorter namePrefix`);
        out.push({ name, isCall, strike, expiryTs, args: {
          name: marketNameBytes(name), isCall: isCall ? 1 : 0, strike: new BN(strike.toString()),
          expiryTs: new BN(expiryTs.toString()), contractSize: new BN(contractSize.toString()),
          minSize: new BN(String(s.minSize)), risk, short: s.short ?? DERIVE_SHORT, volatility: s.volatility,
          liquidationFeeBps: s.liquidationFeeBps, insuranceFeeBps: s.insuranceFeeBps, minSamples: s.minSamples,
        } });
      }
    }
  }
  return out;
}

/** What a run did with the series' markets (names). */
export interface OptionSeriesReport {
  created: string[];
  unchanged: string[];
  skipped: string[];
}

/**
 * Lists the markets of `series` that the group lacks, each with its first
 * risk array (module docs). `send` signs with the admin and the payer.
 */
export async function deployOptionSeries(
  client: XmarginClient,
  p: { admin: PublicKey; payer: PublicKey; now: bigint; series: OptionSeriesConfig[]; log: (s: string) => void;
    send: (ix: TransactionInstruction) => Promise<void> },
): Promise<OptionSeriesReport> {
  const report: OptionSeriesReport = { created: [], unchanged: [], skipped: [] };
  const group = await client.fetchGroup();
  await client.loadBanks();
  const markets = [...(await client.loadMarkets()).values()];
  for (const s of p.series) {
    const bank = await client.program.account.bank.fetchNullable(client.bank(s.underlyingTokenIndex).address);
    if (!bank) throw new Error(`option series ${s.namePrefix}: no bank ${s.underlyingTokenIndex}`);
    for (const o of planOptionSeries(s, bank.mintDecimals, group.quoteDecimals)) {
      const listed = markets.find(({ data: m }) => m.kind === 2 && m.underlyingTokenIndex === s.underlyingTokenIndex
        && (m.optionIsCall !== 0) === o.isCall && BigInt(m.option.strikePerContract.toString()) === o.strike
        && BigInt(m.expiryTs.toString()) === o.expiryTs);
      if (listed) {
        report.unchanged.push(o.name);
        continue;
      }
      if (o.expiryTs <= p.now + SETTLEMENT_WINDOW_SECS || o.expiryTs > p.now + MAX_OPTION_TENOR_SECS) {
        report.skipped.push(o.name);
        p.log(`skipped ${o.name}: its expiry is not listable now (past, inside the settlement window or over 366 days out)`);
        continue;
      }
      const marketIndex = (await client.fetchGroup()).marketCount;
      await p.send(await client.addOptionMarketIx({ admin: p.admin, payer: p.payer,
        underlyingTokenIndex: s.underlyingTokenIndex, args: { ...o.args, marketIndex } }));
      await client.loadMarkets();
      await p.send(await client.updateRiskArrayIx(marketIndex));
      report.created.push(o.name);
      p.log(`listed ${o.name} as market ${marketIndex}, its risk array computed`);
    }
  }
  return report;
}
