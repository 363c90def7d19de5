/**
 * The dashboard's demo scenario on a real validator (the tests' `World`: a
 * fresh group with USDC, SOL, BTC and ETH banks on the preloaded test
 * oracles), with one account in each health band:
 *
 * - a lender: 1,000,000 USDC and 1,000 SOL deposited, short 20 SOL-PERP contracts;
 * - healthy: 10 SOL deposited, 300 USDC borrowed, long 20 SOL-PERP contracts
 *   (its wallet also holds 40 SOL and 5,000 USDC: the browser tests' wallet);
 * - margin call and liquidatable: 1 BTC deposited each, 40,000 and 45,000 USDC
 *   borrowed; then the admin tightens BTC's weights (Init 0.6, LiquidationEnd
 *   0.65, Maint 0.7 — a tightening applies at once), which puts the first
 *   below Init and the second below Maint. (A real validator's oracles are
 *   fixed, so the bands come from the weights, not from a price move.)
 * - markets: SOL-PERP (0), a 30-day SOL-FUT (1) without positions, and a
 *   30-day SOL-CALL struck at $165 (2, σ 60 %) with its risk array computed;
 * - an option holder: 1,000 USDC deposited, long 10 SOL-CALL contracts bought
 *   from the lender at the array's model value (accounts holding options are
 *   valued by `compute_health`: the client's estimate does not value them).
 *
 * Run as a script it prints the scenario as JSON (scripts/dashboard):
 *   ANCHOR_PROVIDER_URL=http://127.0.0.1:8899 ANCHOR_WALLET=… node --import tsx app/web/test/scenario.ts [out.json]
 */
import { writeFileSync } from "node:fs";
import { BN } from "@anchor-lang/core";
import type { Keypair, PublicKey } from "@solana/web3.js";
import { type AddOptionMarketArgs, clusterTime, fixedRaw, marketNameBytes } from "../../src/index.ts";
import { type Harness, makeHarness } from "../../../tests/support/harness.ts";
import { defaultRisk, SOL_CONTRACT, solFutureArgs, solPerpArgs, TOKEN_INDEX, type User, World } from "../../../tests/support/world.ts";

export interface Scenario {
  world: World;
  group: PublicKey;
  lender: User;
  healthy: User;
  marginCall: User;
  liquidatable: User;
  optionHolder: User;
}

/** Market indices of the scenario. */
export const MARKETS = { perp: 0, future: 1, call: 2 } as const;
const THIRTY_DAYS = 30n * 86_400n;

/**
 * A SOL call on 0.01 SOL contracts struck at `strike` quote native per contract (the Rust tests'
 * `sol_call_args`): σ 60 % (10 % … 200 %, at most 25 % of itself per change), short options at
 * Derive's rates, longs at the perpetual's.
 */
export function solCallArgs(marketIndex: number, strike: bigint, expiryTs: bigint): AddOptionMarketArgs {
  const perp = solPerpArgs(marketIndex);
  return {
    marketIndex, name: marketNameBytes("SOL-CALL"), isCall: 1, strike: new BN(strike.toString()), expiryTs: new BN(expiryTs.toString()),
    contractSize: new BN(SOL_CONTRACT.toString()), minSize: new BN(1), risk: perp.risk,
    short: { initBaseBps: 1_500, initFloorBps: 1_300, liqEndBps: 1_100, maintBps: 900 },
    volatility: { volatilityBps: 6_000, minVolatilityBps: 1_000, maxVolatilityBps: 20_000, maxChangeBps: 2_500 },
    liquidationFeeBps: perp.liquidationFeeBps, insuranceFeeBps: perp.insuranceFeeBps, minSamples: 5,
  };
}

const USDC = 1_000_000n;
const SOL = 1_000_000_000n;
const BTC = 100_000_000n;

export async function setupScenario(h: Harness, log: (s: string) => void = () => {}): Promise<Scenario> {
  const w = await World.create(h);
  log(`group ${w.client.group.toBase58()}`);
  const lender = await w.user({ usdc: 2_000_000n * USDC, sol: 2_000n * SOL });
  await w.deposit(lender, "usdc", 1_000_000n * USDC);
  await w.deposit(lender, "sol", 1_000n * SOL);
  const healthy = await w.user({ usdc: 5_000n * USDC, sol: 50n * SOL });
  await w.deposit(healthy, "sol", 10n * SOL);
  await w.withdraw(healthy, "usdc", 300n * USDC);
  const marginCall = await w.user({ btc: BTC });
  await w.deposit(marginCall, "btc", BTC);
  await w.withdraw(marginCall, "usdc", 40_000n * USDC);
  const liquidatable = await w.user({ btc: BTC });
  await w.deposit(liquidatable, "btc", BTC);
  await w.withdraw(liquidatable, "usdc", 45_000n * USDC);
  log("accounts funded");
  // A SOL perpetual with open interest: the healthy account long 20 contracts (0.2 SOL) against the lender.
  await w.addMarket(solPerpArgs(0));
  await w.trade(0, healthy, lender, 20n, 1_500_000n);
  try {
    await w.send([await w.client.updateFundingIx(0)]);
  } catch {
    // Not due yet: the market shows no funding update.
  }
  // A dated future (no positions) and a call with its risk array; the option holder buys 10 calls at the model value.
  const now = await clusterTime(w.client);
  await w.addMarket(solFutureArgs(MARKETS.future, now + THIRTY_DAYS));
  await w.send([await w.client.addOptionMarketIx({ admin: w.admin.publicKey, payer: w.admin.publicKey,
    underlyingTokenIndex: TOKEN_INDEX.sol, args: solCallArgs(MARKETS.call, 1_650_000n, now + THIRTY_DAYS) })], [w.admin]);
  await w.client.loadMarkets();
  await w.send([await w.client.updateRiskArrayIx(MARKETS.call)]);
  const call = await w.client.program.account.market.fetch(w.client.market(MARKETS.call).address);
  const modelPerContract = (fixedRaw(call.riskArray.value) * SOL_CONTRACT) >> 48n;
  const optionHolder = await w.user({ usdc: 2_000n * USDC });
  await w.deposit(optionHolder, "usdc", 1_000n * USDC);
  await w.trade(MARKETS.call, optionHolder, lender, 10n, modelPerContract);
  log(`markets listed; 10 SOL-CALL bought at ${modelPerContract} quote native per contract`);
  // Tighten BTC: Init 0.6, LiquidationEnd 0.65, Maint 0.7 (liability weights unchanged).
  const risk = { ...defaultRisk(), initAssetWeightBps: 6_000, liqEndAssetWeightBps: 6_500, maintAssetWeightBps: 7_000 };
  await w.send([await w.client.updateBankIx({ admin: w.admin.publicKey, tokenIndex: TOKEN_INDEX.btc, risk })], [w.admin]);
  await w.client.loadBanks();
  log("BTC weights tightened");
  return { world: w, group: w.client.group, lender, healthy, marginCall, liquidatable, optionHolder };
}

/** The scenario as JSON: addresses, and the healthy wallet's secret key (a throwaway localnet key). */
export function scenarioJson(s: Scenario): string {
  const user = (u: User) => ({ owner: u.wallet.publicKey.toBase58(), account: u.account.toBase58() });
  return JSON.stringify({
    group: s.group.toBase58(), lender: user(s.lender), healthy: user(s.healthy), marginCall: user(s.marginCall),
    liquidatable: user(s.liquidatable), optionHolder: user(s.optionHolder), healthyWalletSecretKey: Array.from((s.healthy.wallet as Keypair).secretKey),
  }, null, 2);
}

const isMain = process.argv[1] !== undefined && /scenario\.ts$/.test(process.argv[1]);
if (isMain) {
  makeHarness()
    .then((h) => setupScenario(h, (s) => console.error(`scenario: ${s}`)))
    .then((s) => {
      const json = scenarioJson(s);
      if (process.argv[2]) writeFileSync(process.argv[2], json + "\n");
      else console.log(json);
      process.exit(0);
    })
    .catch((e: unknown) => {
      console.error(e instanceof Error ? e.stack ?? e.message : e);
      process.exit(1);
    });
}
