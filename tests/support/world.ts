/**
 * A ready market for the TypeScript tests: a fresh group (its own creator, so
 * runs never collide on a long-lived validator) with USDC (token 0, the quote),
 * SOL (1), BTC (2) and ETH (3) banks on the test oracles, users with funded
 * token accounts and margin accounts, and the checks every test repeats
 * (token balances, the vault invariant, exact program errors with no change).
 */
import assert from "node:assert/strict";
import {
  ACCOUNT_SIZE, createInitializeAccount3Instruction, createInitializeMint2Instruction, createMintToInstruction,
  MINT_SIZE, TOKEN_PROGRAM_ID, unpackAccount,
} from "@solana/spl-token";
import { Keypair, PublicKey, SystemProgram, type Signer, TransactionInstruction } from "@solana/web3.js";
import { BN, LangErrorCode } from "@anchor-lang/core";
import {
  type AddMarketArgs, type BankInterestArgs, type BankOracleArgs, type BankRiskArgs, XmarginClient, XmarginErrorCode,
} from "../../app/src/client.ts";
import {
  derivativePosition, type DerivativePositionView, fixedRaw, type HealthView, marketNameBytes, positionNativeBalance,
} from "../../app/src/accounts.ts";
import { estimateAccountHealth } from "../../app/src/estimate.ts";
import { parseEvents } from "../../app/src/events.ts";
import { healthBand, toQuoteNative } from "../../app/src/health.ts";
import { groupAddress } from "../../app/src/pda.ts";
import { type Harness, PACKET_DATA_SIZE, type SendOptions, type Sent, TxFailure } from "./harness.ts";
import { feedIdBytes, oracleAddress, TEST_FEEDS, type TestFeed } from "./pyth.ts";

export type Token = "usdc" | "sol" | "btc" | "eth";
export const TOKENS: Token[] = ["usdc", "sol", "btc", "eth"];
export const TOKEN_INDEX: Record<Token, number> = { usdc: 0, sol: 1, btc: 2, eth: 3 };
export const DECIMALS: Record<Token, number> = { usdc: 6, sol: 9, btc: 8, eth: 8 };

/** Default collateral risk: weights 0.8/0.85/0.9 and 1.1/1.15/1.2, no caps (the Rust tests' defaults). */
export function defaultRisk(): BankRiskArgs {
  return {
    initAssetWeightBps: 8_000, liqEndAssetWeightBps: 8_500, maintAssetWeightBps: 9_000,
    maintLiabWeightBps: 11_000, liqEndLiabWeightBps: 11_500, initLiabWeightBps: 12_000,
    depositCap: u64Max(), borrowLimit: u64Max(), depositWeightScaleStart: bn(0), borrowWeightScaleStart: bn(0),
  };
}

/** Oracle settings: 60 s max age, 2 % max confidence, k = 1. */
export function defaultOracle(_token: Token): BankOracleArgs {
  return { maxOracleAgeSecs: 60, maxConfRatioBps: 200, confMultiplierCenti: 100,
    stablePriceGrowthBpsPerHour: 2_000 };
}

export function defaultInterest(): BankInterestArgs {
  return { zeroUtilRateBps: 0, optimalUtilBps: 8_000, optimalRateBps: 1_000, maxRateBps: 10_000,
    protocolFeeBps: 1_000, liquidationFeeBps: 500 };
}

/** Lamports per contract of the test SOL markets: 0.01 SOL. */
export const SOL_CONTRACT = 10_000_000n;

/**
 * A SOL perpetual (the Rust tests' `sol_perp_args`): 0.01 SOL contracts;
 * Init 10 %, LiquidationEnd 7.5 %, Maint 5 % of notional; positive PnL at
 * 50 / 75 / 90 %, at most 100 USDC in Init; trade band 5 %; settle 20 % a day;
 * liquidation fee 1 %, insurance fee 0.5 %; funding premium capped at 10 % a
 * day over a one-hour TWAP.
 */
export function solPerpArgs(marketIndex: number): AddMarketArgs {
  return {
    marketIndex, kind: 0, name: marketNameBytes("SOL-PERP"), contractSize: bn(SOL_CONTRACT), minSize: bn(1),
    expiryTs: bn(0),
    risk: {
      initRateBps: 1_000, maintRateBps: 500, liqEndRateBps: 750, pnlInitWeightBps: 5_000, pnlLiqEndWeightBps: 7_500,
      pnlMaintWeightBps: 9_000, priceBandBps: 500, settleFractionBps: 2_000, initPnlCap: bn(100_000_000),
      openInterestCap: bn(1_000_000_000), sizePremiumPpm: 0,
    },
    funding: { maxFundingPremiumBps: 1_000, twapWindowSecs: 3_600, markDepth: bn(1) },
    liquidationFeeBps: 100, insuranceFeeBps: 50, minSamples: 0,
  };
}

/** A SOL dated future expiring at `expiryTs`, otherwise as {@link solPerpArgs} (settlement needs 5 samples). */
export function solFutureArgs(marketIndex: number, expiryTs: bigint): AddMarketArgs {
  return { ...solPerpArgs(marketIndex), kind: 1, name: marketNameBytes("SOL-FUT"), expiryTs: bn(expiryTs), minSamples: 5 };
}

function bn(v: bigint | number): BN {
  return new BN(v.toString());
}
function u64Max(): BN {
  return bn((1n << 64n) - 1n);
}

export interface User {
  wallet: Keypair;
  account: PublicKey;
  tokenAccounts: Record<Token, PublicKey>;
}

export class World {
  private constructor(
    readonly h: Harness,
    readonly client: XmarginClient,
    readonly admin: Keypair,
    readonly mints: Record<Token, PublicKey>,
  ) {}

  /** A new SPL Token mint with `decimals` (the payer is its authority). */
  async newMint(decimals: number): Promise<PublicKey> {
    const mint = Keypair.generate();
    const rent = await this.h.provider.connection.getMinimumBalanceForRentExemption(MINT_SIZE);
    await this.h.send([
      SystemProgram.createAccount({ fromPubkey: this.h.payer.publicKey, newAccountPubkey: mint.publicKey,
        space: MINT_SIZE, lamports: rent, programId: TOKEN_PROGRAM_ID }),
      createInitializeMint2Instruction(mint.publicKey, decimals, this.h.payer.publicKey, null),
    ], [mint]);
    return mint.publicKey;
  }

  /** A new group with the four banks. */
  static async create(h: Harness, opts: { loosenDelaySecs?: number } = {}): Promise<World> {
    const admin = await h.newWallet(100);
    const mints = {} as Record<Token, PublicKey>;
    const ixs: TransactionInstruction[] = [];
    const signers: Signer[] = [];
    const rent = await h.provider.connection.getMinimumBalanceForRentExemption(MINT_SIZE);
    for (const t of TOKENS) {
      const mint = Keypair.generate();
      mints[t] = mint.publicKey;
      ixs.push(
        SystemProgram.createAccount({ fromPubkey: h.payer.publicKey, newAccountPubkey: mint.publicKey, space: MINT_SIZE,
          lamports: rent, programId: TOKEN_PROGRAM_ID }),
        createInitializeMint2Instruction(mint.publicKey, DECIMALS[t], h.payer.publicKey, null),
      );
      signers.push(mint);
    }
    await h.send(ixs, signers);
    const group = groupAddress(admin.publicKey, 0);
    const client = new XmarginClient(h.provider, group);
    await h.send([await client.createGroupIx({ creator: admin.publicKey, payer: admin.publicKey,
      admin: admin.publicKey, groupNum: 0, quoteMint: mints.usdc, loosenDelaySecs: opts.loosenDelaySecs ?? 3_600 })], [admin]);
    const w = new World(h, client, admin, mints);
    for (const t of TOKENS) {
      const risk = defaultRisk();
      if (t === "usdc") {
        Object.assign(risk, { initAssetWeightBps: 10_000, liqEndAssetWeightBps: 10_000, maintAssetWeightBps: 10_000,
          maintLiabWeightBps: 10_000, liqEndLiabWeightBps: 10_000, initLiabWeightBps: 10_000 });
      }
      await w.addBank(t, risk);
    }
    await client.loadBanks();
    return w;
  }

  addBankIx(t: Token, risk: BankRiskArgs, oracle = oracleAddress(t), feed: TestFeed = t): Promise<TransactionInstruction> {
    return this.client.addBankIx({ admin: this.admin.publicKey, payer: this.admin.publicKey, tokenIndex: TOKEN_INDEX[t],
      mint: this.mints[t], oracle, feedId: feedIdBytes(TEST_FEEDS[feed].feed), risk, oracleArgs: defaultOracle(t),
      interest: defaultInterest() });
  }

  private async addBank(t: Token, risk: BankRiskArgs): Promise<void> {
    await this.send([await this.addBankIx(t, risk)], [this.admin]);
  }

  send(ixs: TransactionInstruction[], signers: Signer[] = [], opts: SendOptions = {}): Promise<Sent> {
    return this.h.send(ixs, signers, opts);
  }

  /** A token account of `owner` for `token` (or any mint of the payer's), holding `amount` native units. */
  async tokenAccount(owner: PublicKey, token: Token | PublicKey, amount: bigint): Promise<PublicKey> {
    const mint = token instanceof PublicKey ? token : this.mints[token];
    const acc = Keypair.generate();
    const rent = await this.h.provider.connection.getMinimumBalanceForRentExemption(ACCOUNT_SIZE);
    const ixs = [
      SystemProgram.createAccount({ fromPubkey: this.h.payer.publicKey, newAccountPubkey: acc.publicKey,
        space: ACCOUNT_SIZE, lamports: rent, programId: TOKEN_PROGRAM_ID }),
      createInitializeAccount3Instruction(acc.publicKey, mint, owner),
    ];
    if (amount > 0n) ixs.push(createMintToInstruction(mint, acc.publicKey, this.h.payer.publicKey, amount));
    await this.send(ixs, [acc]);
    return acc.publicKey;
  }

  /** A wallet with a margin account (number 0) and token accounts funded with `funds` (native units). */
  async user(funds: Partial<Record<Token, bigint>> = {}): Promise<User> {
    const wallet = await this.h.newWallet();
    const tokenAccounts = {} as Record<Token, PublicKey>;
    for (const t of TOKENS) tokenAccounts[t] = await this.tokenAccount(wallet.publicKey, t, funds[t] ?? 0n);
    await this.send([await this.client.createAccountIx(wallet.publicKey)], [wallet]);
    return { wallet, account: this.client.marginAccountAddress(wallet.publicKey), tokenAccounts };
  }

  async deposit(u: User, t: Token, amount: bigint): Promise<Sent> {
    const sent = await this.send([await this.client.depositIx({ account: u.account, tokenIndex: TOKEN_INDEX[t], amount,
      tokenAccount: u.tokenAccounts[t], authority: u.wallet.publicKey })], [u.wallet]);
    await this.assertVaultInvariant(t);
    return sent;
  }

  async withdraw(u: User, t: Token, amount: bigint): Promise<Sent> {
    const sent = await this.send([await this.client.withdrawIx({ account: u.account, tokenIndex: TOKEN_INDEX[t], amount,
      tokenAccount: u.tokenAccounts[t], authority: u.wallet.publicKey })], [u.wallet]);
    await this.assertVaultInvariant(t);
    return sent;
  }

  async repay(u: User, t: Token, amount: bigint, opts: { clearLiquidation?: boolean } = {}): Promise<Sent> {
    const sent = await this.send([await this.client.repayIx({ account: u.account, tokenIndex: TOKEN_INDEX[t], amount,
      tokenAccount: u.tokenAccounts[t], authority: u.wallet.publicKey, ...opts })], [u.wallet]);
    await this.assertVaultInvariant(t);
    return sent;
  }

  async tokenBalance(tokenAccount: PublicKey): Promise<bigint> {
    const info = await this.h.getAccount(tokenAccount);
    assert.ok(info, `token account ${tokenAccount.toBase58()} missing`);
    return unpackAccount(tokenAccount, info).amount;
  }

  /** The account's native balance in a bank (deposit > 0, borrow < 0), floored like the program. */
  async nativeBalance(account: PublicKey, t: Token): Promise<bigint> {
    const data = await this.client.fetchMarginAccount(account);
    const p = data.tokens.find((x) => x.inUse !== 0 && x.tokenIndex === TOKEN_INDEX[t]);
    if (!p) return 0n;
    const bank = await this.client.program.account.bank.fetch(this.client.bank(TOKEN_INDEX[t]).address);
    return positionNativeBalance(bank, fixedRaw(p.shares));
  }

  /** Lists a market on `underlying`'s bank (admin) and reloads the client's markets. */
  async addMarket(args: AddMarketArgs, underlying: Token = "sol"): Promise<Sent> {
    const sent = await this.send([await this.client.addMarketIx({ admin: this.admin.publicKey, payer: this.admin.publicKey,
      underlyingTokenIndex: TOKEN_INDEX[underlying], args })], [this.admin]);
    await this.client.loadMarkets();
    return sent;
  }

  /** A block trade: `buyer` buys `size` contracts at `price` (quote native per contract) from `seller`. */
  async trade(market: number, buyer: User, seller: User, size: bigint, price: bigint): Promise<Sent> {
    const ix = await this.client.tradeIx({ marketIndex: market, buyer: buyer.account, buyerAuthority: buyer.wallet.publicKey,
      seller: seller.account, sellerAuthority: seller.wallet.publicKey, size, price });
    return this.sendFitting([ix], [buyer.wallet, seller.wallet]);
  }

  /** Sends and asserts the transaction fits a packet (1,232 bytes). */
  async sendFitting(ixs: TransactionInstruction[], signers: Signer[] = [], opts: SendOptions = {}): Promise<Sent> {
    const sent = await this.send(ixs, signers, opts);
    assert.ok(sent.size <= PACKET_DATA_SIZE, `transaction of ${sent.size} bytes exceeds ${PACKET_DATA_SIZE}`);
    return sent;
  }

  /** The user's position in `market` (zeros when none). */
  async position(u: User, market: number): Promise<DerivativePositionView> {
    const data = await this.client.fetchMarginAccount(u.account);
    return derivativePosition(data, market) ?? { slot: -1, marketIndex: market, baseContracts: 0n, quoteCost: 0n,
      realizedPnl: 0n, fundingSnapshot: 0n };
  }

  /** The program's events in a transaction's logs, by name. */
  events(sent: Sent): { name: string; data: Record<string, unknown> }[] {
    return parseEvents(this.client, sent.logs).map((e) => ({ name: e.name, data: e.data as Record<string, unknown> }));
  }

  /** The one event named `name` in a transaction's logs. */
  event(sent: Sent, name: string): Record<string, unknown> {
    const found = this.events(sent).filter((e) => e.name.toLowerCase() === name.toLowerCase());
    assert.equal(found.length, 1, `expected one ${name} event, got ${found.length}`);
    return found[0].data;
  }

  /** `compute_health` on-chain, decoded from its return data. */
  async health(account: PublicKey): Promise<{ view: HealthView; sent: Sent }> {
    const sent = await this.send([await this.client.computeHealthIx(account)]);
    assert.ok(sent.returnData, "compute_health returns data");
    return { view: this.client.decodeHealthView(sent.returnData), sent };
  }

  /** The client estimate (`estimateAccountHealth`) equals `compute_health`: each health type and the band. */
  async assertEstimateMatches(account: PublicKey, label: string): Promise<void> {
    const { view } = await this.health(account);
    const est = await estimateAccountHealth(this.client, account);
    const n = (v: BN) => BigInt(v.toString());
    assert.equal(toQuoteNative(est.init), n(view.init), `${label}: Init`);
    assert.equal(toQuoteNative(est.maint), n(view.maint), `${label}: Maint`);
    assert.equal(toQuoteNative(est.liqEnd), n(view.liquidationEnd), `${label}: LiquidationEnd`);
    assert.equal(healthBand(est), HEALTH_BANDS[view.band], `${label}: band`);
  }

  /**
   * Vault invariant: vault = Σ deposits − Σ borrows + protocol fees, never below,
   * at most a few native units above (rounding favours the vault).
   */
  async assertVaultInvariant(t: Token): Promise<void> {
    const entry = this.client.bank(TOKEN_INDEX[t]);
    const bank = await this.client.program.account.bank.fetch(entry.address);
    // In raw I80F48 (value · 2^48), rounded as the program's `native_totals`: deposits down, borrows up.
    const deposits = (fixedRaw(bank.depositShares) * fixedRaw(bank.depositIndex)) >> 48n;
    const borrows = -((-(fixedRaw(bank.borrowShares) * fixedRaw(bank.borrowIndex))) >> 48n);
    const owed = deposits - borrows + fixedRaw(bank.collectedFees);
    const vault = (await this.tokenBalance(entry.vault)) << 48n;
    assert.ok(vault >= owed, `${t} vault ${vault >> 48n} below deposits − borrows + fees = ${Number(owed) / 2 ** 48}`);
    assert.ok(vault - owed <= 16n << 48n, `${t} vault ${vault >> 48n} more than 16 native above ${Number(owed) / 2 ** 48}`);
  }
}

/** A program error by name: ours (`XmarginError`) or Anchor's (`LangErrorCode`). */
/** `HealthView.band` codes by name, as `healthBand` returns them. */
export const HEALTH_BANDS = ["healthy", "marginCall", "liquidatable"];

export function errorCode(name: string): number {
  const ours = XmarginErrorCode[name];
  if (ours !== undefined) return ours;
  const lang = (LangErrorCode as unknown as Record<string, number>)[name];
  if (lang !== undefined) return lang;
  throw new Error(`no error named ${name}`);
}

/**
 * Runs `act`, expects it to fail with the program error `name`, and checks
 * that none of `watched` changed (data or lamports).
 */
export async function expectError(h: Harness, name: string, watched: PublicKey[], act: () => Promise<unknown>): Promise<TxFailure> {
  const before = await Promise.all(watched.map((k) => h.getAccount(k)));
  let failure: TxFailure | null = null;
  try {
    await act();
  } catch (e) {
    if (!(e instanceof TxFailure)) throw e;
    failure = e;
  }
  assert.ok(failure, `expected ${name}, but the transaction succeeded`);
  assert.equal(failure.customCode, errorCode(name), `expected ${name} (${errorCode(name)}), got:\n${failure.message}`);
  assert.equal(failure.programError?.name, name, `the client names error ${errorCode(name)} ${name}`);
  const after = await Promise.all(watched.map((k) => h.getAccount(k)));
  watched.forEach((k, i) => {
    assert.equal(after[i]?.lamports, before[i]?.lamports, `${k.toBase58()} lamports changed`);
    assert.ok(Buffer.compare(after[i]?.data ?? Buffer.alloc(0), before[i]?.data ?? Buffer.alloc(0)) === 0,
      `${k.toBase58()} data changed`);
  });
  return failure;
}

/** `ix` with its account `name` (as named in the IDL) replaced by `key`: for wrong-account tests. */
export function replaceAccount(client: XmarginClient, ix: TransactionInstruction, instruction: string, name: string, key: PublicKey): TransactionInstruction {
  const def = client.program.idl.instructions.find((i) => i.name === instruction);
  assert.ok(def, `no instruction ${instruction}`);
  const index = def.accounts.findIndex((a) => a.name === name);
  assert.ok(index >= 0, `${instruction} has no account ${name}`);
  const keys = ix.keys.map((k, i) => (i === index ? { ...k, pubkey: key } : k));
  return new TransactionInstruction({ programId: ix.programId, keys, data: ix.data });
}
