/**
 * `computeHealth`: the program's own valuation of an account, by simulating
 * the read-only `compute_health` instruction (nothing is sent, no signature is
 * needed) and decoding its return data (`HealthView`: Init, Maint and
 * LiquidationEnd health in quote native units, rounded down, and the band).
 */
import type { AddressLookupTableAccount, PublicKey } from "@solana/web3.js";
import { Buffer } from "buffer";
import { HealthBandCode, type MarginAccountData } from "./accounts.ts";
import type { XmarginClient } from "./client.ts";
import { parseProgramError, XmarginProgramError } from "./errors.ts";
import { buildV0Transaction, HEAP_FRAME_BYTES, MAX_COMPUTE_UNIT_LIMIT } from "./transaction.ts";

/** `compute_health`'s answer. */
export interface ComputedHealth {
  /** Quote native units (rounded down). */
  init: bigint;
  maint: bigint;
  liquidationEnd: bigint;
  /** `HealthBandCode`: 0 healthy, 1 margin call, 2 liquidatable. */
  band: number;
  bandName: keyof typeof HealthBandCode;
  unitsConsumed: number | null;
  logs: string[];
}

/**
 * Simulates `compute_health` of `account` at the cluster's current slot. The
 * fee payer only has to exist (default: the provider's wallet); pass the
 * group's lookup table for accounts with many positions (16 token positions
 * do not fit a legacy transaction). A program error throws `XmarginProgramError`.
 */
export async function computeHealth(
  client: XmarginClient,
  account: PublicKey,
  opts: { payer?: PublicKey; lookupTables?: AddressLookupTableAccount[]; accountData?: MarginAccountData } = {},
): Promise<ComputedHealth> {
  const connection = client.program.provider.connection;
  const payer = opts.payer ?? client.program.provider.publicKey;
  if (!payer) throw new Error("computeHealth needs a fee payer: the provider has no wallet");
  const ix = await client.computeHealthIx(account, opts.accountData);
  const { blockhash } = await connection.getLatestBlockhash();
  const tx = buildV0Transaction({ payer, instructions: [ix], recentBlockhash: blockhash, lookupTables: opts.lookupTables,
    computeUnitLimit: MAX_COMPUTE_UNIT_LIMIT, heapFrameBytes: HEAP_FRAME_BYTES });
  const sim = await connection.simulateTransaction(tx, { sigVerify: false, replaceRecentBlockhash: true, commitment: "confirmed" });
  const logs = sim.value.logs ?? [];
  if (sim.value.err) {
    const info = parseProgramError(sim.value.err, logs, client.programId);
    if (info) throw new XmarginProgramError(info, logs, sim.value.err);
    throw new Error(`compute_health simulation failed: ${JSON.stringify(sim.value.err)}\n  ${logs.join("\n  ")}`);
  }
  const rd = sim.value.returnData;
  if (!rd || rd.programId !== client.programId.toBase58()) throw new Error("compute_health returned no data");
  const view = client.decodeHealthView(Buffer.from(rd.data[0], "base64"));
  const band = view.band;
  const bandName = (Object.keys(HealthBandCode) as (keyof typeof HealthBandCode)[]).find((k) => HealthBandCode[k] === band);
  if (!bandName) throw new Error(`unknown health band ${band}`);
  return { init: BigInt(view.init.toString()), maint: BigInt(view.maint.toString()),
    liquidationEnd: BigInt(view.liquidationEnd.toString()), band, bandName, unitsConsumed: sim.value.unitsConsumed ?? null, logs };
}
