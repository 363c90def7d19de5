/**
 * `XmarginClient`: typed instruction builders for every instruction, account
 * fetch/decode, and the health accounts each instruction needs, on top of an
 * Anchor `Program<Xmargin>` (any `Provider`: a wallet over JSON-RPC, or the
 * tests' in-process SVM). The group, bank and account builders, the loaders
 * and the health accounts are in `clientCore.ts` (re-exported here); this
 * module adds the derivative-market builders (markets, trades and quotes,
 * funding, PnL, expiry, risk arrays, position liquidation).
 */
import {
  PublicKey,
  SystemProgram,
  SYSVAR_INSTRUCTIONS_PUBKEY,
  type TransactionInstruction,
} from "@solana/web3.js";
import type { MarginAccountData } from "./accounts.ts";
import { insuranceVaultAddress, marketAddress } from "./pda.ts";
import { ed25519QuoteInstruction, QuoteSide, type SignedQuote } from "./quote.ts";
import {
  type AddMarketArgs, type AddOptionMarketArgs, toBN, TOKEN_PROGRAM_ID, type UpdateMarketArgs, type UpdateRiskGridArgs,
  XmarginClientCore,
} from "./clientCore.ts";

export * from "./clientCore.ts";

export class XmarginClient extends XmarginClientCore {
  // ---------------------------------------------------------------- markets (admin)

  /**
   * `add_market` at `args.marketIndex` (must equal the group's market count)
   * on the underlying bank `underlyingTokenIndex`, whose oracle the market uses.
   */
  addMarketIx(p: { admin: PublicKey; payer: PublicKey; underlyingTokenIndex: number; args: AddMarketArgs }): Promise<TransactionInstruction> {
    const bank = this.bank(p.underlyingTokenIndex);
    return this.program.methods
      .addMarket(p.args)
      .accountsStrict({
        group: this.group, admin: p.admin, payer: p.payer, underlyingBank: bank.address, oracle: bank.oracle,
        market: marketAddress(this.group, p.args.marketIndex, this.programId), systemProgram: SystemProgram.programId,
      })
      .instruction();
  }

  /** `add_option_market`: a European call or put on a listed bank's underlying (strike per contract). */
  addOptionMarketIx(p: { admin: PublicKey; payer: PublicKey; underlyingTokenIndex: number; args: AddOptionMarketArgs }): Promise<TransactionInstruction> {
    const bank = this.bank(p.underlyingTokenIndex);
    return this.program.methods
      .addOptionMarket(p.args)
      .accountsStrict({
        group: this.group, admin: p.admin, payer: p.payer, underlyingBank: bank.address, oracle: bank.oracle,
        market: marketAddress(this.group, p.args.marketIndex, this.programId), systemProgram: SystemProgram.programId,
      })
      .instruction();
  }

  /** `set_volatility` (admin): `volatilityBps` 10,000 = 100 %; a raise at once, a lowering after the group's delay. */
  setVolatilityIx(p: { admin: PublicKey; marketIndex: number; volatilityBps: number }): Promise<TransactionInstruction> {
    return this.program.methods
      .setVolatility(p.volatilityBps)
      .accountsStrict({ group: this.group, admin: p.admin, market: marketAddress(this.group, p.marketIndex, this.programId) })
      .instruction();
  }

  /**
   * `update_risk_grid` (admin): the group's scenario grid, risk-array max age
   * and drift, portfolio loss scales and contingencies (bps). A tightening
   * applies at once, a loosening (a wider widest move included) after the
   * group's delay; a new grid makes option arrays stale until `update_risk_array`.
   */
  updateRiskGridIx(p: { admin: PublicKey; args: UpdateRiskGridArgs }): Promise<TransactionInstruction> {
    return this.program.methods.updateRiskGrid(p.args)
      .accountsStrict({ group: this.group, admin: p.admin }).instruction();
  }

  /** Permissionless `update_risk_array` of an option market. */
  async updateRiskArrayIx(marketIndex: number): Promise<TransactionInstruction> {
    const m = await this.marketLoaded(marketIndex);
    return this.program.methods.updateRiskArray()
      .accountsStrict({ group: this.group, market: m.address, oracle: m.oracle }).instruction();
  }

  /** `update_market`: tightening applies at once, loosening after the group's delay. Unset fields stay. */
  updateMarketIx(p: { admin: PublicKey; marketIndex: number; args: Partial<UpdateMarketArgs> }): Promise<TransactionInstruction> {
    const args: UpdateMarketArgs = {
      risk: p.args.risk ?? null, oracle: p.args.oracle ?? null, liquidationFeeBps: p.args.liquidationFeeBps ?? null,
      insuranceFeeBps: p.args.insuranceFeeBps ?? null, funding: p.args.funding ?? null,
    };
    return this.program.methods
      .updateMarket(args)
      .accountsStrict({ group: this.group, admin: p.admin, market: marketAddress(this.group, p.marketIndex, this.programId) })
      .instruction();
  }

  /** `close_market`: a settled market no account holds a slot in; its rent goes to `rentTo`. */
  closeMarketIx(p: { admin: PublicKey; marketIndex: number; rentTo: PublicKey }): Promise<TransactionInstruction> {
    return this.program.methods
      .closeMarket()
      .accountsStrict({
        group: this.group, admin: p.admin, market: marketAddress(this.group, p.marketIndex, this.programId), rentTo: p.rentTo,
      })
      .instruction();
  }

  // ---------------------------------------------------------------- trading

  /**
   * `trade`: `buyer` buys `size` contracts at `price` (quote native per
   * contract) from `seller`, both signing (owner or delegate). Remaining
   * accounts: each side's health accounts with this market opened, buyer first.
   */
  async tradeIx(p: {
    marketIndex: number; buyer: PublicKey; buyerAuthority: PublicKey; seller: PublicKey; sellerAuthority: PublicKey;
    size: bigint | number; price: bigint | number; buyerData?: MarginAccountData; sellerData?: MarginAccountData;
  }): Promise<TransactionInstruction> {
    const market = await this.marketLoaded(p.marketIndex);
    const buyer = p.buyerData ?? (await this.fetchMarginAccount(p.buyer));
    const seller = p.sellerData ?? (await this.fetchMarginAccount(p.seller));
    return this.program.methods
      .trade({ size: toBN(p.size), price: toBN(p.price) })
      .accountsStrict({
        group: this.group, market: market.address, oracle: market.oracle, buyer: p.buyer,
        buyerAuthority: p.buyerAuthority, seller: p.seller, sellerAuthority: p.sellerAuthority,
      })
      .remainingAccounts([
        ...(await this.healthAccountsLoaded(buyer, [], [p.marketIndex])),
        ...(await this.healthAccountsLoaded(seller, [], [p.marketIndex])),
      ])
      .instruction();
  }

  /**
   * `take_quote` alone: `taker` fills a maker's signed quote. It must follow
   * the quote's Ed25519 instruction (see {@link takeQuoteIxs}). Remaining
   * accounts: the buyer's health accounts then the seller's (the maker buys
   * when `terms.side` is `QuoteSide.makerBuys`), each with this market opened.
   */
  async takeQuoteIx(p: {
    quote: SignedQuote; marketIndex: number; taker: PublicKey; takerAuthority: PublicKey;
    makerData?: MarginAccountData; takerData?: MarginAccountData;
  }): Promise<TransactionInstruction> {
    const market = await this.marketLoaded(p.marketIndex);
    const maker = p.makerData ?? (await this.fetchMarginAccount(p.quote.makerAccount));
    const taker = p.takerData ?? (await this.fetchMarginAccount(p.taker));
    const makerHealth = await this.healthAccountsLoaded(maker, [], [p.marketIndex]);
    const takerHealth = await this.healthAccountsLoaded(taker, [], [p.marketIndex]);
    const makerBuys = p.quote.terms.side === QuoteSide.makerBuys;
    const t = p.quote.terms;
    return this.program.methods
      .takeQuote({ side: t.side, size: toBN(t.size), price: toBN(t.price), expirySlot: toBN(t.expirySlot), nonce: toBN(t.nonce) })
      .accountsStrict({
        group: this.group, market: market.address, oracle: market.oracle, maker: p.quote.makerAccount, taker: p.taker,
        takerAuthority: p.takerAuthority, instructions: SYSVAR_INSTRUCTIONS_PUBKEY,
      })
      .remainingAccounts(makerBuys ? [...makerHealth, ...takerHealth] : [...takerHealth, ...makerHealth])
      .instruction();
  }

  /** The two instructions that fill a signed quote, in order: the Ed25519 signature check, then `take_quote`. */
  async takeQuoteIxs(p: Parameters<XmarginClient["takeQuoteIx"]>[0]): Promise<[TransactionInstruction, TransactionInstruction]> {
    return [ed25519QuoteInstruction(p.quote), await this.takeQuoteIx(p)];
  }

  // ---------------------------------------------------------------- market cranks (permissionless)

  /** `update_funding` of a perpetual: at most one hour of funding per call. */
  async updateFundingIx(marketIndex: number): Promise<TransactionInstruction> {
    const m = await this.marketLoaded(marketIndex);
    return this.program.methods.updateFunding()
      .accountsStrict({ group: this.group, market: m.address, oracle: m.oracle }).instruction();
  }

  /** `settle_pnl`: moves PnL of one market from `loser` to `winner` in the quote bank. */
  async settlePnlIx(p: { marketIndex: number; winner: PublicKey; loser: PublicKey }): Promise<TransactionInstruction> {
    const m = await this.marketLoaded(p.marketIndex);
    return this.program.methods.settlePnl()
      .accountsStrict({ group: this.group, market: m.address, oracle: m.oracle, winner: p.winner, loser: p.loser,
        quoteBank: this.quoteBank().address })
      .instruction();
  }

  /**
   * `settle_dust`: the protocol collects its funding rounding (whole units of
   * the market's dust) from `account`'s realised loss into the quote bank's fees.
   */
  async settleDustIx(marketIndex: number, account: PublicKey): Promise<TransactionInstruction> {
    const m = await this.marketLoaded(marketIndex);
    return this.program.methods.settleDust()
      .accountsStrict({ group: this.group, market: m.address, account, quoteBank: this.quoteBank().address })
      .instruction();
  }

  /** `sample_price`: an oracle sample for a dated future's settlement, in the 30 minutes before expiry. */
  async samplePriceIx(marketIndex: number): Promise<TransactionInstruction> {
    const m = await this.marketLoaded(marketIndex);
    return this.program.methods.samplePrice()
      .accountsStrict({ group: this.group, market: m.address, oracle: m.oracle }).instruction();
  }

  /** `settle_expired`: after expiry, turns `account`'s position in the future into realised PnL. */
  async settleExpiredIx(marketIndex: number, account: PublicKey): Promise<TransactionInstruction> {
    const m = await this.marketLoaded(marketIndex);
    return this.program.methods.settleExpired()
      .accountsStrict({ group: this.group, market: m.address, oracle: m.oracle, account }).instruction();
  }

  /**
   * `liquidate_position`: `liqor` takes over up to `maxContracts` of
   * `liqee`'s position in the market at the oracle price less the fees.
   * Remaining accounts: the liquidatee's health accounts with the quote token
   * opened, then the liquidator's with this market opened.
   */
  async liquidatePositionIx(p: {
    marketIndex: number; liqee: PublicKey; liqor: PublicKey; liqorAuthority: PublicKey; maxContracts: bigint | number;
    liqeeData?: MarginAccountData; liqorData?: MarginAccountData;
  }): Promise<TransactionInstruction> {
    const m = await this.marketLoaded(p.marketIndex);
    const quote = this.quoteBank();
    const liqee = p.liqeeData ?? (await this.fetchMarginAccount(p.liqee));
    const liqor = p.liqorData ?? (await this.fetchMarginAccount(p.liqor));
    return this.program.methods
      .liquidatePosition(toBN(p.maxContracts))
      .accountsStrict({
        group: this.group, market: m.address, oracle: m.oracle, liqee: p.liqee, liqor: p.liqor,
        liqorAuthority: p.liqorAuthority, quoteBank: quote.address, vault: quote.vault,
        insuranceVault: insuranceVaultAddress(this.group, this.programId), tokenProgram: TOKEN_PROGRAM_ID,
      })
      .remainingAccounts([
        ...(await this.healthAccountsLoaded(liqee, [quote.tokenIndex])),
        ...(await this.healthAccountsLoaded(liqor, [], [p.marketIndex])),
      ])
      .instruction();
  }

}
