/**
 * The core of `XmarginClient` (split from `client.ts`, which re-exports this
 * module): typed instruction builders for every instruction but the
 * derivative markets', account
 * fetch/decode, and the health accounts each instruction needs, on top of an
 * Anchor `Program<Xmargin>` (any `Provider`: a wallet over JSON-RPC, or the
 * tests' in-process SVM).
 *
 * Health accounts (`programs/xmargin/src/health/accounts.rs`): the banks of the
 * account's token positions in slot order, then their oracles, then the
 * markets of its derivative positions in slot order, then the market oracles
 * no token position brought, each once.
 */
import { BN, Program, type Provider } from "@anchor-lang/core";
import { Buffer } from "buffer";
import {
  type AccountMeta,
  PublicKey,
  SystemProgram,
  type TransactionInstruction,
} from "@solana/web3.js";
import idlJson from "./idl/xmargin.json";
import type { Xmargin } from "./idl/xmargin.ts";
import {
  AccountFlags,
  type BankData,
  type GroupData,
  type HealthView,
  type MarginAccountData,
  MARGIN_ACCOUNT_GROUP_OFFSET,
  MARGIN_ACCOUNT_OWNER_OFFSET,
  type MarketData,
  healthSlots,
  marketSlots,
} from "./accounts.ts";
import {
  bankAddress, bankMintMarkerAddress, bankVaultAddress, groupAddress, insuranceVaultAddress, marginAccountAddress,
  marketAddress,
} from "./pda.ts";

/** SPL Token program (the only token program banks accept). */
export const TOKEN_PROGRAM_ID = new PublicKey("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");

/** The IDL the client was generated from (`scripts/idl` keeps it in step with the program). */
export const XMARGIN_IDL = idlJson as Xmargin;

export type BankRiskArgs = Parameters<Program<Xmargin>["methods"]["addBank"]>[0]["risk"];
export type BankOracleArgs = Parameters<Program<Xmargin>["methods"]["addBank"]>[0]["oracle"];
export type BankInterestArgs = Parameters<Program<Xmargin>["methods"]["addBank"]>[0]["interest"];
export type AddMarketArgs = Parameters<Program<Xmargin>["methods"]["addMarket"]>[0];
export type MarketRiskArgs = AddMarketArgs["risk"];
export type MarketFundingArgs = AddMarketArgs["funding"];
export type AddOptionMarketArgs = Parameters<Program<Xmargin>["methods"]["addOptionMarket"]>[0];
export type UpdateRiskGridArgs = Parameters<Program<Xmargin>["methods"]["updateRiskGrid"]>[0];
export type UpdateMarketArgs = Parameters<Program<Xmargin>["methods"]["updateMarket"]>[0];

/** A listed market: its index, address, oracle (its underlying bank's) and decoded state. */
export interface MarketEntry {
  marketIndex: number;
  address: PublicKey;
  oracle: PublicKey;
  data: MarketData;
}

/** Thrown when an account's position needs a market the client does not know. */
export class UnknownMarketError extends Error {
  constructor(readonly marketIndex: number) {
    super(`no market known for market index ${marketIndex}: call loadMarkets() after new markets are listed`);
  }
}

/** A listed bank: its index, addresses and decoded state. */
export interface BankEntry {
  tokenIndex: number;
  address: PublicKey;
  vault: PublicKey;
  oracle: PublicKey;
  mint: PublicKey;
  data: BankData;
}

/** Thrown when an account's position needs a bank the client does not know. */
export class UnknownBankError extends Error {
  constructor(readonly tokenIndex: number) {
    super(`no bank known for token index ${tokenIndex}: call loadBanks() after new banks are listed`);
  }
}

/** The program's named error codes (`XmarginError`), by name, from the IDL. */
export const XmarginErrorCode: Readonly<Record<string, number>> = Object.fromEntries(
  XMARGIN_IDL.errors.map((e) => [e.name, e.code]),
);

/**
 * The client's state, fetch/decode, health accounts and the group, bank and
 * account instruction builders; {@link XmarginClient} (`client.ts`) adds the
 * derivative-market builders.
 */
export class XmarginClientCore {
  readonly program: Program<Xmargin>;
  /** Banks by token index, as last loaded by `loadBanks`. */
  readonly banks = new Map<number, BankEntry>();
  /** Markets by market index, as last loaded by `loadMarkets` (closed markets are absent). */
  readonly markets = new Map<number, MarketEntry>();
  /** The group's quote mint, as last read by `loadBanks`. */
  private quoteMint: PublicKey | null = null;

  constructor(
    provider: Provider,
    readonly group: PublicKey,
    programId?: PublicKey,
  ) {
    const idl = programId ? { ...XMARGIN_IDL, address: programId.toBase58() } : XMARGIN_IDL;
    this.program = new Program<Xmargin>(idl, provider);
  }

  get programId(): PublicKey {
    return this.program.programId;
  }

  // ---------------------------------------------------------------- fetch / decode

  fetchGroup(): Promise<GroupData> {
    return this.program.account.group.fetch(this.group);
  }

  fetchMarginAccount(address: PublicKey): Promise<MarginAccountData> {
    return this.program.account.marginAccount.fetch(address);
  }

  fetchMarginAccountOrNull(address: PublicKey): Promise<MarginAccountData | null> {
    return this.program.account.marginAccount.fetchNullable(address);
  }

  /** Margin account `accountNum` of `owner` in this group. */
  marginAccountAddress(owner: PublicKey, accountNum = 0): PublicKey {
    return marginAccountAddress(this.group, owner, accountNum, this.programId);
  }

  /** Every margin account of the group (of `owner` if given), by `getProgramAccounts` with memcmp filters. */
  async marginAccounts(owner?: PublicKey): Promise<{ address: PublicKey; data: MarginAccountData }[]> {
    const filters = [{ memcmp: { offset: MARGIN_ACCOUNT_GROUP_OFFSET, bytes: this.group.toBase58() } }];
    if (owner) filters.push({ memcmp: { offset: MARGIN_ACCOUNT_OWNER_OFFSET, bytes: owner.toBase58() } });
    const all = await this.program.account.marginAccount.all(filters);
    return all.map((a) => ({ address: a.publicKey, data: a.account }));
  }

  /** Loads every bank of the group (`group.bankCount`), replacing the cached ones. */
  async loadBanks(): Promise<Map<number, BankEntry>> {
    const group = await this.fetchGroup();
    const addresses = Array.from({ length: group.bankCount }, (_, i) => bankAddress(this.group, i, this.programId));
    const datas = await this.program.account.bank.fetchMultiple(addresses);
    this.quoteMint = group.quoteMint;
    this.banks.clear();
    datas.forEach((data, i) => {
      if (!data) throw new UnknownBankError(i);
      this.banks.set(i, {
        tokenIndex: i, address: addresses[i], vault: data.vault, oracle: data.oracle, mint: data.mint, data,
      });
    });
    return this.banks;
  }

  bank(tokenIndex: number): BankEntry {
    const b = this.banks.get(tokenIndex);
    if (!b) throw new UnknownBankError(tokenIndex);
    return b;
  }

  /** The bank of the group's quote token (PnL and insurance fees settle in it). */
  quoteBank(): BankEntry {
    for (const b of this.banks.values()) if (this.quoteMint && b.mint.equals(this.quoteMint)) return b;
    throw new Error("the quote token's bank is not loaded: call loadBanks()");
  }

  fetchMarket(marketIndex: number): Promise<MarketData> {
    return this.program.account.market.fetch(marketAddress(this.group, marketIndex, this.programId));
  }

  /** Loads every market of the group (`group.marketCount`), replacing the cached ones; closed markets are skipped. */
  async loadMarkets(): Promise<Map<number, MarketEntry>> {
    const group = await this.fetchGroup();
    const addresses = Array.from({ length: group.marketCount }, (_, i) => marketAddress(this.group, i, this.programId));
    const datas = addresses.length > 0 ? await this.program.account.market.fetchMultiple(addresses) : [];
    this.markets.clear();
    datas.forEach((data, i) => {
      if (data) this.markets.set(i, { marketIndex: i, address: addresses[i], oracle: data.oracle, data });
    });
    return this.markets;
  }

  market(marketIndex: number): MarketEntry {
    const m = this.markets.get(marketIndex);
    if (!m) throw new UnknownMarketError(marketIndex);
    return m;
  }

  /**
   * Health accounts for `account` after opening the token positions
   * `opening` and the derivative positions `openingMarkets` (each in its
   * first free slot): the banks of its token positions in slot order, their
   * oracles, the markets of its derivative positions in slot order, then the
   * oracles of those markets no token position brought, each once. The
   * remaining accounts of every instruction that checks health.
   */
  healthAccounts(account: MarginAccountData | null, opening: number[] = [], openingMarkets: number[] = []): AccountMeta[] {
    const banks = healthSlots(account, opening).map((t) => this.bank(t));
    const markets = marketSlots(account, openingMarkets).map((m) => this.market(m));
    const meta = (pubkey: PublicKey): AccountMeta => ({ pubkey, isSigner: false, isWritable: false });
    const oracles = banks.map((b) => b.oracle);
    const extra: PublicKey[] = [];
    for (const m of markets) {
      if (![...oracles, ...extra].some((o) => o.equals(m.oracle))) extra.push(m.oracle);
    }
    return [
      ...banks.map((b) => meta(b.address)),
      ...oracles.map(meta),
      ...markets.map((m) => meta(m.address)),
      ...extra.map(meta),
    ];
  }

  /** {@link healthAccounts}, loading the markets first if the account holds one the client does not know. */
  async healthAccountsLoaded(
    account: MarginAccountData | null,
    opening: number[] = [],
    openingMarkets: number[] = [],
  ): Promise<AccountMeta[]> {
    if (marketSlots(account, openingMarkets).some((m) => !this.markets.has(m))) await this.loadMarkets();
    return this.healthAccounts(account, opening, openingMarkets);
  }

  // ---------------------------------------------------------------- admin

  /** `create_group`: the group PDA of `creator`/`groupNum` and its insurance vault. */
  createGroupIx(p: {
    creator: PublicKey; payer: PublicKey; admin: PublicKey; groupNum: number; quoteMint: PublicKey;
    loosenDelaySecs: number;
  }): Promise<TransactionInstruction> {
    const group = groupAddress(p.creator, p.groupNum, this.programId);
    return this.program.methods
      .createGroup({ groupNum: p.groupNum, admin: p.admin, loosenDelaySecs: p.loosenDelaySecs })
      .accountsStrict({
        payer: p.payer, creator: p.creator, group, quoteMint: p.quoteMint,
        insuranceVault: insuranceVaultAddress(group, this.programId), tokenProgram: TOKEN_PROGRAM_ID,
        systemProgram: SystemProgram.programId,
      })
      .instruction();
  }

  /** `add_bank` at `tokenIndex` (must equal the group's bank count). */
  addBankIx(p: {
    admin: PublicKey; payer: PublicKey; tokenIndex: number; mint: PublicKey; oracle: PublicKey;
    feedId: number[]; risk: BankRiskArgs; oracleArgs: BankOracleArgs; interest: BankInterestArgs;
  }): Promise<TransactionInstruction> {
    const bank = bankAddress(this.group, p.tokenIndex, this.programId);
    return this.program.methods
      .addBank({ tokenIndex: p.tokenIndex, feedId: p.feedId, risk: p.risk, oracle: p.oracleArgs, interest: p.interest })
      .accountsStrict({
        group: this.group, admin: p.admin, payer: p.payer, mint: p.mint, bank,
        vault: bankVaultAddress(bank, this.programId), oracle: p.oracle, tokenProgram: TOKEN_PROGRAM_ID,
        systemProgram: SystemProgram.programId, mintMarker: bankMintMarkerAddress(this.group, p.mint, this.programId),
      })
      .instruction();
  }

  /** `withdraw_fees`: the admin takes `amount` of bank `tokenIndex`'s collected fees to `destination`. */
  withdrawFeesIx(p: { admin: PublicKey; tokenIndex: number; destination: PublicKey; amount: BN }): Promise<TransactionInstruction> {
    const bank = bankAddress(this.group, p.tokenIndex, this.programId);
    return this.program.methods
      .withdrawFees(p.amount)
      .accountsStrict({
        group: this.group, admin: p.admin, bank, vault: bankVaultAddress(bank, this.programId),
        destination: p.destination, tokenProgram: TOKEN_PROGRAM_ID,
      })
      .instruction();
  }

  /** `update_bank`: tightening applies at once, loosening after the group's delay. */
  updateBankIx(p: {
    admin: PublicKey; tokenIndex: number; risk?: BankRiskArgs; oracleArgs?: BankOracleArgs;
    interest?: BankInterestArgs;
  }): Promise<TransactionInstruction> {
    return this.program.methods
      .updateBank({ risk: p.risk ?? null, oracle: p.oracleArgs ?? null, interest: p.interest ?? null })
      .accountsStrict({ group: this.group, admin: p.admin, bank: bankAddress(this.group, p.tokenIndex, this.programId) })
      .instruction();
  }

  setPauseIx(admin: PublicKey, flags: number): Promise<TransactionInstruction> {
    return this.program.methods.setPause(flags).accountsStrict({ group: this.group, admin }).instruction();
  }

  // ---------------------------------------------------------------- wallet

  createAccountIx(owner: PublicKey, accountNum = 0, payer = owner): Promise<TransactionInstruction> {
    return this.program.methods
      .createAccount(accountNum)
      .accountsStrict({
        group: this.group, owner, payer, account: this.marginAccountAddress(owner, accountNum),
        systemProgram: SystemProgram.programId,
      })
      .instruction();
  }

  closeAccountIx(account: PublicKey, owner: PublicKey, rentReceiver = owner): Promise<TransactionInstruction> {
    return this.program.methods.closeAccount().accountsStrict({ account, owner, rentReceiver }).instruction();
  }

  /** Sets the account's delegate (`PublicKey.default` removes it). */
  setDelegateIx(account: PublicKey, owner: PublicKey, delegate: PublicKey): Promise<TransactionInstruction> {
    return this.program.methods.setDelegate(delegate).accountsStrict({ account, owner }).instruction();
  }

  private payInAccounts(p: PayIn) {
    const bank = this.bank(p.tokenIndex);
    return {
      group: this.group, account: p.account, bank: bank.address, vault: bank.vault, tokenAccount: p.tokenAccount,
      authority: p.authority, tokenProgram: TOKEN_PROGRAM_ID,
    };
  }

  /** `deposit`: repays the account's debt in the bank first, deposits the rest. No oracle needed. */
  async depositIx(p: PayIn & RecoveryOption): Promise<TransactionInstruction> {
    return this.program.methods.deposit(toBN(p.amount)).accountsStrict(this.payInAccounts(p))
      .remainingAccounts(await this.recoveryAccounts(p)).instruction();
  }

  /** `repay`: repays up to `amount` of the account's debt in the bank, never deposits. */
  async repayIx(p: PayIn & RecoveryOption): Promise<TransactionInstruction> {
    return this.program.methods.repay(toBN(p.amount)).accountsStrict(this.payInAccounts(p))
      .remainingAccounts(await this.recoveryAccounts(p)).instruction();
  }

  /**
   * The health accounts a deposit or repay passes when the account is being
   * liquidated (read from `accountData` or fetched when `clearLiquidation` is
   * set), so the program can see it back at LiquidationEnd ≥ 0 and clear the
   * flag; none otherwise (paying in never needs a price).
   */
  private async recoveryAccounts(p: PayIn & RecoveryOption): Promise<AccountMeta[]> {
    if (p.clearLiquidation !== true && p.accountData === undefined) return [];
    const data = p.accountData ?? (await this.fetchMarginAccount(p.account));
    if ((data.flags & AccountFlags.beingLiquidated) === 0) return [];
    return this.healthAccountsLoaded(data, [p.tokenIndex]);
  }

  /**
   * `withdraw` (a borrow beyond the deposit). Reads the account to list its
   * health accounts with this bank's position opened.
   */
  async withdrawIx(p: PayIn & { accountData?: MarginAccountData }): Promise<TransactionInstruction> {
    const data = p.accountData ?? (await this.fetchMarginAccount(p.account));
    return this.program.methods
      .withdraw(toBN(p.amount))
      .accountsStrict(this.payInAccounts(p))
      .remainingAccounts(await this.healthAccountsLoaded(data, [p.tokenIndex]))
      .instruction();
  }

  // ---------------------------------------------------------------- keepers

  /**
   * `liquidate_token`: the liquidator account takes over up to `maxLiabTransfer`
   * native units of `liabTokenIndex` debt for `assetTokenIndex` collateral at a bonus.
   */
  async liquidateTokenIx(p: {
    liqee: PublicKey; liqor: PublicKey; liqorAuthority: PublicKey; assetTokenIndex: number;
    liabTokenIndex: number; maxLiabTransfer: bigint | number; liqeeData?: MarginAccountData;
    liqorData?: MarginAccountData;
  }): Promise<TransactionInstruction> {
    const liqee = p.liqeeData ?? (await this.fetchMarginAccount(p.liqee));
    const liqor = p.liqorData ?? (await this.fetchMarginAccount(p.liqor));
    return this.program.methods
      .liquidateToken(toBN(p.maxLiabTransfer))
      .accountsStrict({
        group: this.group, liqee: p.liqee, liqor: p.liqor, liqorAuthority: p.liqorAuthority,
        assetBank: this.bank(p.assetTokenIndex).address, liabBank: this.bank(p.liabTokenIndex).address,
      })
      .remainingAccounts([
        ...(await this.healthAccountsLoaded(liqee)),
        ...(await this.healthAccountsLoaded(liqor, [p.assetTokenIndex, p.liabTokenIndex])),
      ])
      .instruction();
  }

  /**
   * `resolve_bankruptcy` of a bankrupt account's debt in `liabTokenIndex`: quote-token
   * debt is repaid by the insurance fund, any debt is socialised once the fund is
   * empty. A debt in another token while the fund holds tokens needs a liquidator:
   * see `resolveBankruptcyWithLiquidatorIx`.
   */
  resolveBankruptcyIx(liqee: PublicKey, liabTokenIndex: number): Promise<TransactionInstruction> {
    const bank = this.bank(liabTokenIndex);
    return this.program.methods
      .resolveBankruptcy()
      .accountsStrict({
        group: this.group, liqee, liabBank: bank.address, vault: bank.vault,
        insuranceVault: insuranceVaultAddress(this.group, this.programId), tokenProgram: TOKEN_PROGRAM_ID,
        liqor: null, liqorAuthority: null, quoteBank: null, quoteVault: null, liabOracle: null, quoteOracle: null,
      })
      .instruction();
  }

  /**
   * `resolve_bankruptcy` of a debt in another token than the quote token: the
   * `liqor` account takes over what the insurance fund pays for, receiving fund
   * quote tokens at oracle price plus the bank's liquidation fee (it must keep
   * Init health ≥ 0); the rest is socialised.
   */
  async resolveBankruptcyWithLiquidatorIx(p: {
    liqee: PublicKey; liabTokenIndex: number; quoteTokenIndex: number; liqor: PublicKey; liqorAuthority: PublicKey;
    liqorData?: MarginAccountData;
  }): Promise<TransactionInstruction> {
    const liab = this.bank(p.liabTokenIndex);
    const quote = this.bank(p.quoteTokenIndex);
    const liqor = p.liqorData ?? (await this.fetchMarginAccount(p.liqor));
    return this.program.methods
      .resolveBankruptcy()
      .accountsStrict({
        group: this.group, liqee: p.liqee, liabBank: liab.address, vault: liab.vault,
        insuranceVault: insuranceVaultAddress(this.group, this.programId), tokenProgram: TOKEN_PROGRAM_ID,
        liqor: p.liqor, liqorAuthority: p.liqorAuthority, quoteBank: quote.address, quoteVault: quote.vault,
        liabOracle: liab.oracle, quoteOracle: quote.oracle,
      })
      .remainingAccounts(await this.healthAccountsLoaded(liqor, [p.quoteTokenIndex, p.liabTokenIndex]))
      .instruction();
  }

  accrueInterestIx(tokenIndex: number): Promise<TransactionInstruction> {
    const bank = this.bank(tokenIndex);
    return this.program.methods
      .accrueInterest()
      .accountsStrict({ group: this.group, bank: bank.address, oracle: bank.oracle })
      .instruction();
  }

  /** Read-only `compute_health`; its return data decodes with `decodeHealthView`. */
  async computeHealthIx(account: PublicKey, accountData?: MarginAccountData): Promise<TransactionInstruction> {
    const data = accountData ?? (await this.fetchMarginAccount(account));
    return this.program.methods
      .computeHealth()
      .accountsStrict({ group: this.group, account })
      .remainingAccounts(await this.healthAccountsLoaded(data))
      .instruction();
  }

  /**
   * `set_margin_mode`: `MarginMode.linear` (0) or `MarginMode.portfolio` (1), signed by the
   * owner or delegate; the program checks Init health ≥ 0 in the new mode.
   */
  async setMarginModeIx(p: {
    account: PublicKey; authority: PublicKey; mode: number; accountData?: MarginAccountData;
  }): Promise<TransactionInstruction> {
    const data = p.accountData ?? (await this.fetchMarginAccount(p.account));
    return this.program.methods
      .setMarginMode(p.mode)
      .accountsStrict({ group: this.group, account: p.account, authority: p.authority })
      .remainingAccounts(await this.healthAccountsLoaded(data))
      .instruction();
  }

  /** Decodes `compute_health`'s return data. */
  decodeHealthView(returnData: Uint8Array): HealthView {
    return this.program.coder.types.decode("healthView", Buffer.from(returnData));
  }

  /** The market entry, loading the group's markets first if it is not cached. */
  protected async marketLoaded(marketIndex: number): Promise<MarketEntry> {
    if (!this.markets.has(marketIndex)) await this.loadMarkets();
    return this.market(marketIndex);
  }
}

/** Accounts of a token movement into or out of a margin account. */
/** How a deposit or repay may clear `BEING_LIQUIDATED` (see `recoveryAccounts`). */
export interface RecoveryOption {
  /** Fetch the account and pass its health accounts if it is being liquidated. */
  clearLiquidation?: boolean;
  /** The account as already fetched (no fetch; health accounts if it is being liquidated). */
  accountData?: MarginAccountData;
}

export interface PayIn {
  account: PublicKey;
  tokenIndex: number;
  /** Native units. */
  amount: bigint | number;
  /** SPL token account of the bank's mint (source or destination). */
  tokenAccount: PublicKey;
  /** Owner or delegate of the margin account (and of `tokenAccount` when paying in). */
  authority: PublicKey;
}

/** @internal A `bigint | number` as Anchor's `BN`. */
export function toBN(v: bigint | number): BN {
  return new BN(v.toString());
}
