/**
 * Idempotent deployment of a group and its banks from a config (what
 * `migrations/deploy.ts` runs under `anchor migrate`): creates what is missing,
 * checks what exists against the config, and with `update` re-applies the
 * banks' parameters (update_bank: tightening at once, loosening after the
 * group's delay). Then it creates the group's address lookup table, or extends
 * it with what is missing (lookupTable.ts), so v0 transactions fit. Between
 * the two it lists the config's option series (`optionSeries`,
 * deployOptions.ts), whose markets the table then takes. Running it twice
 * changes nothing the second time.
 */
import { BN, type Provider } from "@anchor-lang/core";
import { Buffer } from "buffer";
import { PublicKey, Transaction, type TransactionInstruction } from "@solana/web3.js";
import { type BankInterestArgs, type BankOracleArgs, type BankRiskArgs, XmarginClient } from "./client.ts";
import { deployOptionSeries, type OptionSeriesConfig } from "./deployOptions.ts";
import { clusterTime } from "./estimate.ts";
import { syncGroupLookupTable } from "./lookupTable.ts";
import { bankAddress, groupAddress } from "./pda.ts";

/** Pyth push-oracle program: owner of the sponsored price feed accounts. */
export const PYTH_PUSH_ORACLE_ID = new PublicKey("pythWSnswVUd12oZpeFP8e9CVaEqJg25g1Vtc2biRsT");

export interface BankConfig {
  symbol: string;
  mint: string;
  /** Pyth feed id, hex (with or without 0x). */
  feedId: string;
  /** The `PriceUpdateV2` account; default: the sponsored feed account of `pythShard` (0). */
  oracle?: string;
  pythShard?: number;
  risk: {
    initAssetWeightBps: number; liqEndAssetWeightBps: number; maintAssetWeightBps: number;
    maintLiabWeightBps: number; liqEndLiabWeightBps: number; initLiabWeightBps: number;
    /** Native units, decimal strings (u64). */
    depositCap: string; borrowLimit: string; depositWeightScaleStart: string; borrowWeightScaleStart: string;
  };
  oracleConfig: BankOracleArgs;
  interest: BankInterestArgs;
}

export interface DeployConfig {
  groupNum: number;
  /** Defaults to the deploying wallet. */
  admin?: string;
  quoteMint: string;
  loosenDelaySecs: number;
  /** In token-index order: bank i of the group is `banks[i]`. */
  banks: BankConfig[];
  /**
   * The group's address lookup table (base58), as a first run reported it;
   * without it the deploying wallet's table for the group is looked up, or created.
   */
  lookupTable?: string;
  /** Option series to list (the CLI's `add-option-series` entries): every expiry × strike × kind. */
  optionSeries?: OptionSeriesConfig[];
}

export interface DeployReport {
  group: PublicKey;
  created: string[];
  unchanged: string[];
  updated: string[];
  /** Option markets of `optionSeries` whose expiry cannot be listed now (past, or over 366 days out). */
  skipped: string[];
  /** The group's address lookup table (created or extended by this run unless `lookupTable: false`). */
  lookupTable: PublicKey | null;
  /** The table was created by this run. */
  lookupTableCreated: boolean;
  /** Addresses this run added to the table. */
  lookupTableAdded: number;
}

/** The config disagrees with what is on chain in a way a re-run cannot fix. */
export class DeployMismatchError extends Error {}

/** The sponsored Pyth price feed account of `feedId` on `shard`. */
export function pythFeedAccount(feedIdHex: string, shard = 0): PublicKey {
  const s = Buffer.alloc(2);
  s.writeUInt16LE(shard);
  return PublicKey.findProgramAddressSync([s, feedBytes(feedIdHex)], PYTH_PUSH_ORACLE_ID)[0];
}

function feedBytes(hex: string): Buffer {
  const b = Buffer.from(hex.replace(/^0x/, ""), "hex");
  if (b.length !== 32) throw new Error(`feed id ${hex} is not 32 bytes of hex`);
  return b;
}

function riskArgs(r: BankConfig["risk"]): BankRiskArgs {
  return { ...r, depositCap: new BN(r.depositCap), borrowLimit: new BN(r.borrowLimit),
    depositWeightScaleStart: new BN(r.depositWeightScaleStart), borrowWeightScaleStart: new BN(r.borrowWeightScaleStart) };
}

async function send(provider: Provider, ix: TransactionInstruction): Promise<void> {
  if (!provider.sendAndConfirm) throw new Error("the provider cannot send transactions");
  await provider.sendAndConfirm(new Transaction().add(ix));
}

/** Creates or checks the group and banks of `config`, signing with the provider's wallet (creator, payer, admin). */
export async function deploy(
  provider: Provider,
  config: DeployConfig,
  opts: { update?: boolean; log?: (s: string) => void; lookupTable?: boolean } = {},
): Promise<DeployReport> {
  const log = opts.log ?? (() => undefined);
  const wallet = provider.publicKey;
  if (!wallet) throw new Error("the provider has no wallet");
  const group = groupAddress(wallet, config.groupNum);
  const client = new XmarginClient(provider, group);
  const report: DeployReport = { group, created: [], unchanged: [], updated: [], skipped: [], lookupTable: null,
    lookupTableCreated: false, lookupTableAdded: 0 };
  const admin = config.admin ? new PublicKey(config.admin) : wallet;

  const existing = await client.program.account.group.fetchNullable(group);
  if (!existing) {
    await send(provider, await client.createGroupIx({ creator: wallet, payer: wallet, admin, groupNum: config.groupNum,
      quoteMint: new PublicKey(config.quoteMint), loosenDelaySecs: config.loosenDelaySecs }));
    report.created.push("group");
    log(`created group ${group.toBase58()}`);
  } else {
    if (!existing.quoteMint.equals(new PublicKey(config.quoteMint))) {
      throw new DeployMismatchError(`group ${group.toBase58()} has quote mint ${existing.quoteMint.toBase58()}, config says ${config.quoteMint}`);
    }
    report.unchanged.push("group");
    log(`group ${group.toBase58()} exists`);
  }

  for (const [index, b] of config.banks.entries()) {
    const oracle = b.oracle ? new PublicKey(b.oracle) : pythFeedAccount(b.feedId, b.pythShard ?? 0);
    const address = bankAddress(group, index);
    const bank = await client.program.account.bank.fetchNullable(address);
    if (!bank) {
      const g = await client.fetchGroup();
      if (g.bankCount !== index) {
        throw new DeployMismatchError(`${b.symbol} is bank ${index} in the config, but the group has ${g.bankCount} banks`);
      }
      await send(provider, await client.addBankIx({ admin, payer: wallet, tokenIndex: index, mint: new PublicKey(b.mint),
        oracle, feedId: Array.from(feedBytes(b.feedId)), risk: riskArgs(b.risk), oracleArgs: b.oracleConfig,
        interest: b.interest }));
      report.created.push(b.symbol);
      log(`listed ${b.symbol} as bank ${index} (${address.toBase58()})`);
      continue;
    }
    if (!bank.mint.equals(new PublicKey(b.mint)) || !bank.oracle.equals(oracle)
      || !Buffer.from(bank.feedId).equals(feedBytes(b.feedId))) {
      throw new DeployMismatchError(`bank ${index} holds mint ${bank.mint.toBase58()} / oracle ${bank.oracle.toBase58()}, not ${b.symbol}'s`);
    }
    if (opts.update) {
      await send(provider, await client.updateBankIx({ admin, tokenIndex: index, risk: riskArgs(b.risk),
        oracleArgs: b.oracleConfig, interest: b.interest }));
      report.updated.push(b.symbol);
      log(`re-applied ${b.symbol}'s parameters`);
    } else {
      report.unchanged.push(b.symbol);
      log(`${b.symbol} is bank ${index}`);
    }
  }
  if (config.optionSeries && config.optionSeries.length > 0) {
    const options = await deployOptionSeries(client, { admin, payer: wallet, now: await clusterTime(client),
      series: config.optionSeries, log, send: (ix) => send(provider, ix) });
    report.created.push(...options.created);
    report.unchanged.push(...options.unchanged);
    report.skipped.push(...options.skipped);
  }
  if (opts.lookupTable !== false) {
    await client.loadBanks();
    await client.loadMarkets();
    const sync = await syncGroupLookupTable(provider, client, {
      table: config.lookupTable ? new PublicKey(config.lookupTable) : undefined, log,
    });
    report.lookupTable = sync.table;
    report.lookupTableCreated = sync.created;
    report.lookupTableAdded = sync.added.length;
    if (sync.created) {
      log(`pin it in the config for later runs: "lookupTable": "${sync.table.toBase58()}"`);
    } else if (!sync.created && sync.added.length === 0) {
      log(`lookup table ${sync.table.toBase58()} holds the group's addresses`);
    }
  }
  return report;
}
