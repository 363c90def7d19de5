/**
 * Derivative markets through the TypeScript client (`XmarginClient` market
 * builders, signed quotes, health accounts with markets, the off-chain
 * estimate with derivative positions) on the in-process SVM: a SOL perpetual
 * listed, block trades that open, add to, reduce and flip a position with
 * realised PnL to the unit, a maker's Ed25519-signed quote taken by the taker
 * alone, PnL settlement limited per window, funding after an hour, and a
 * position liquidation after a price drop; every refusal with its exact error
 * code and the accounts unchanged; every transaction within 1,232 bytes.
 *
 * On the SVM the SOL oracle is set to $156.25 (± 0.10): 0.15625 µUSDC per
 * lamport, exact in binary, so every PnL below is exact to the unit. The
 * trading and quote tests also run against a real validator (SOL there is
 * $150.00, inside the same bands); the ones that move the clock or the
 * price need the SVM.
 *
 * Units: contracts of 0.01 SOL (10^7 lamports); prices in µUSDC per contract
 * (1,562,500 = $156.25 per SOL); PnL in µUSDC.
 */
import assert from "node:assert/strict";
import { after, before, describe, test, type TestContext } from "node:test";
import { BN } from "@anchor-lang/core";
import { Ed25519Program, Keypair, type PublicKey, TransactionInstruction } from "@solana/web3.js";
import { activeDerivativePositions, fixedRaw, marketName, PauseFlags } from "../app/src/accounts.ts";
import { estimateAccountHealth, marketInput, parsePriceUpdate } from "../app/src/estimate.ts";
import * as F from "../app/src/fixed.ts";
import { blendMarkPremium, fundingInput, markSample, predictFundingUpdate, tradePremium } from "../app/src/funding.ts";
import { healthBand, pendingFunding, toQuoteNative } from "../app/src/health.ts";
import { insuranceVaultAddress, marketAddress } from "../app/src/pda.ts";
import {
  ed25519InstructionData, ed25519QuoteInstruction, QUOTE_MESSAGE_LEN, quoteMessage, QuoteSide, type QuoteTerms,
  signQuote, verifyMessage,
} from "../app/src/quote.ts";
import { assertProgramFresh, type Harness, isSvm, makeHarness, PACKET_DATA_SIZE } from "./support/harness.ts";
import { FRESH_PUBLISH_TIME, oracleAddress, TEST_FEEDS } from "./support/pyth.ts";
import {
  errorCode, expectError, replaceAccount, solFutureArgs, solPerpArgs, TOKEN_INDEX, type User, World,
} from "./support/world.ts";

const USDC = 1_000_000n;
const M = 0; // the SOL perpetual's market index
const BANDS = ["healthy", "marginCall", "liquidatable"];
/** $156.25 ± 0.10: 0.15625 µUSDC per lamport, 1,562,500 per contract. */
const SOL_156_25 = { price: 15_625_000_000n, conf: 10_000_000n, exponent: -8, publishTime: FRESH_PUBLISH_TIME };
/** $140.625 ± 0.10 (−10 %): 0.140625 per lamport. */
const SOL_140_625 = { ...SOL_156_25, price: 14_062_500_000n };

let h: Harness;
let w: World;
let alice: User;
let bob: User;
let carol: User; // the quote maker
let frank: User; // a well-funded counterparty
let users: User[];

const big = (v: unknown): bigint => BigInt((v as BN).toString());
const market = () => w.client.market(M);

before(async () => {
  assertProgramFresh();
  h = await makeHarness();
  if (isSvm(h)) h.setOracle("sol", SOL_156_25);
  w = await World.create(h);
  alice = await w.user({ usdc: 1_000n * USDC });
  bob = await w.user({ usdc: 1_000n * USDC });
  carol = await w.user({ usdc: 1_000n * USDC });
  frank = await w.user({ usdc: 10_000n * USDC });
  for (const [u, amount] of [[alice, 1_000n], [bob, 1_000n], [carol, 1_000n], [frank, 10_000n]] as const) {
    await w.deposit(u, "usdc", amount * USDC);
  }
  users = [alice, bob, carol, frank];
});

after(() => {
  if (h && isSvm(h)) h.setOracle("sol", TEST_FEEDS.sol.quote);
});

function svmOnly(t: TestContext): boolean {
  if (isSvm(h)) return false;
  t.skip("needs the SVM's clock and oracles");
  return true;
}

/** A position as `[contracts, quote cost, realised PnL]`. */
async function pos(u: User): Promise<[bigint, bigint, bigint]> {
  const p = await w.position(u, M);
  return [p.baseContracts, p.quoteCost, p.realizedPnl];
}

/**
 * Conservation in the market: every fill moves `realised − cost` by exactly
 * the quote cash flow, funding is zero-sum (its settlement floors each credit,
 * the protocol keeps the dust), and settle_pnl moves PnL between accounts and
 * tokens between their quote balances; so across all accounts
 * `Σ (realised − cost + unsettled funding)` plus the funding dust is zero, to
 * the ulp. And the quote vault holds what the bank owes.
 */
async function assertConserved(): Promise<void> {
  const m = await w.client.fetchMarket(M);
  const cum = fixedRaw(m.cumFunding);
  let sum = fixedRaw(m.fundingDust);
  for (const u of users) {
    const p = await w.position(u, M);
    // Funding not yet settled into the position, exact: −contracts · (cum − snapshot).
    const owed = F.neg(F.mulInt(F.sub(cum, p.fundingSnapshot), p.baseContracts));
    sum += F.fromInt(p.realizedPnl - p.quoteCost) + owed;
  }
  assert.equal(sum, 0n, "Σ (realised − cost + unsettled funding) + funding dust");
  await w.assertVaultInvariant("usdc");
}

/** The SOL oracle's price per contract (0.01 SOL) in µUSDC. */
async function oraclePerContract(): Promise<bigint> {
  const reading = parsePriceUpdate(oracleAddress("sol"), await h.getAccount(oracleAddress("sol")),
    market().data.feedId);
  const e = reading.exponent + 4; // 10^-9 SOL per lamport, 10^6 µUSDC, 10^7 lamports per contract
  return e >= 0 ? reading.price * 10n ** BigInt(e) : reading.price / 10n ** BigInt(-e);
}

const activeSlots = (a: Parameters<typeof activeDerivativePositions>[0]) => activeDerivativePositions(a).length;

/** Within two units of a round number worked by hand (ulps of an inexact confidence). */
function near(got: bigint, worked: bigint): void {
  assert.ok(got - worked <= 2n && worked - got <= 2n, `${got} vs ${worked} worked by hand`);
}

async function assertEstimateMatches(u: User, label: string): Promise<void> {
  const { view } = await w.health(u.account);
  const est = await estimateAccountHealth(w.client, u.account);
  assert.equal(toQuoteNative(est.init), big(view.init), `${label}: Init`);
  assert.equal(toQuoteNative(est.maint), big(view.maint), `${label}: Maint`);
  assert.equal(toQuoteNative(est.liqEnd), big(view.liquidationEnd), `${label}: LiquidationEnd`);
  assert.equal(healthBand(est), BANDS[view.band], `${label}: band`);
}

function tradeIx(buyer: User, seller: User, size: bigint, price: bigint) {
  return w.client.tradeIx({ marketIndex: M, buyer: buyer.account, buyerAuthority: buyer.wallet.publicKey,
    seller: seller.account, sellerAuthority: seller.wallet.publicKey, size, price });
}

describe("mark premium: the engine's worked numbers (xmargin_risk::perp_funding)", () => {
  test("size-weighted, oracle-relative, binary-exact", () => {
    // A trade at 130 against an oracle of 128: +1/64; depth 1,024 contracts.
    const p = tradePremium(F.fromInt(130), F.fromInt(128));
    assert.equal(p, F.fromRatio(1n, 64n, "floor"));
    assert.equal(tradePremium(F.fromInt(120), F.fromInt(128)), F.fromRatio(-1n, 16n, "floor"));
    assert.equal(blendMarkPremium(0n, p, 1n, 1_024n), F.fromRatio(1n, 65_536n, "floor"), "1 contract: 1/1024 of the way");
    assert.equal(blendMarkPremium(0n, p, 256n, 1_024n), F.fromRatio(1n, 256n, "floor"), "a quarter");
    assert.equal(blendMarkPremium(0n, p, 5_000n, 1_024n), p, "depth or more: all of it");
    const back = blendMarkPremium(p, F.fromRatio(-1n, 16n, "floor"), 512n, 1_024n);
    assert.equal(back, F.fromRatio(-3n, 128n, "floor"));
    assert.equal(markSample(F.fromInt(128), back), F.fromInt(125));
    assert.throws(() => blendMarkPremium(0n, p, 1n, 0n), /zero mark depth/);
  });
});

describe("a SOL perpetual through the TypeScript client", () => {
  test("add_market lists SOL-PERP on the SOL bank's oracle; bad listings refused", async () => {
    const admin = w.admin.publicKey;
    const args = { ...solPerpArgs(M), risk: { ...solPerpArgs(M).risk, settleFractionBps: 200 } };
    await expectError(h, "WrongMarketIndex", [w.client.group], async () =>
      w.send([await w.client.addMarketIx({ admin, payer: admin, underlyingTokenIndex: TOKEN_INDEX.sol,
        args: { ...args, marketIndex: 1 } })], [w.admin]));
    await expectError(h, "InvalidMarketConfig", [w.client.group], async () =>
      w.send([await w.client.addMarketIx({ admin, payer: admin, underlyingTokenIndex: TOKEN_INDEX.sol,
        args: { ...args, risk: { ...args.risk, maintRateBps: 0 } } })], [w.admin]));
    const sent = await w.addMarket(args);
    assert.ok(sent.size <= PACKET_DATA_SIZE);
    const m = market();
    assert.ok(m.address.equals(marketAddress(w.client.group, M)));
    assert.ok(m.oracle.equals(oracleAddress("sol")));
    assert.equal(marketName(m.data), "SOL-PERP");
    assert.equal(m.data.underlyingTokenIndex, TOKEN_INDEX.sol);
    assert.equal(big(m.data.contractSize), 10_000_000n);
    assert.equal(big(m.data.openInterest), 0n);
    if (isSvm(h)) assert.equal(fixedRaw(m.data.stablePrice), F.fromRatio(15_625n, 100_000n, "floor")); // 0.15625 exactly
    assert.equal((await w.client.fetchGroup()).marketCount, 1);
  });

  test("block trades: open, add, reduce, flip — realised PnL to the unit", async () => {
    // 1. Open: alice buys 100 contracts (1 SOL) from bob at $150.00 (1,500,000 per contract).
    let sent = await w.trade(M, alice, bob, 100n, 1_500_000n);
    assert.deepEqual(await pos(alice), [100n, 150_000_000n, 0n]);
    assert.deepEqual(await pos(bob), [-100n, -150_000_000n, 0n]);
    // 2. Add: 3 more at $151.00: cost 150,000,000 + 4,530,000.
    await w.trade(M, alice, bob, 3n, 1_510_000n);
    assert.deepEqual(await pos(alice), [103n, 154_530_000n, 0n]);
    // 3. Reduce: alice sells 40 at $153.00. The closed part's cost is ⌈154,530,000 · 40 / 103⌉ =
    //    ⌈60,011,650.49⌉ = 60,011,651, so alice realises 40 · 1,530,000 − 60,011,651 = +1,188,349.
    //    Bob (short) removes ⌈−60,011,650.49⌉ = −60,011,650 and realises −61,200,000 + 60,011,650
    //    = −1,188,350: both rounded down, the unit between them is nobody's.
    sent = await w.trade(M, bob, alice, 40n, 1_530_000n);
    let ev = w.event(sent, "traded");
    assert.equal(big(ev.sellerRealized), 1_188_349n);
    assert.equal(big(ev.buyerRealized), -1_188_350n);
    assert.equal(big(ev.openInterest), 63n);
    assert.deepEqual(await pos(alice), [63n, 94_518_349n, 1_188_349n]);
    assert.deepEqual(await pos(bob), [-63n, -94_518_350n, -1_188_350n]);
    // 4. Flip: alice sells 100 at $149.00: closes her 63 (all of their cost, exactly):
    //    63 · 1,490,000 − 94,518,349 = −648,349, then opens 37 short at 1,490,000 (cost −55,130,000).
    //    Round trip of the 103 closed: sold 61,200,000 + 93,870,000, bought 154,530,000: +540,000.
    sent = await w.trade(M, bob, alice, 100n, 1_490_000n);
    ev = w.event(sent, "traded");
    assert.equal(big(ev.sellerRealized), -648_349n);
    assert.equal(big(ev.buyerRealized), 648_350n);
    assert.equal(big(ev.sellerBaseAfter), -37n);
    assert.equal(ev.quoteNonce, null);
    assert.deepEqual(await pos(alice), [-37n, -55_130_000n, 540_000n]);
    assert.deepEqual(await pos(bob), [37n, 55_130_000n, -540_000n]);
    assert.equal(big((await w.client.fetchMarket(M)).openInterest), 37n); // bob's 37 long
    await assertConserved();
    for (const u of [alice, bob]) await assertEstimateMatches(u, "after the flip");
  });

  test("trade refusals: exact errors, nothing changed", async () => {
    const watched = [market().address, alice.account, bob.account, frank.account];
    const refuse = (name: string, ixs: () => Promise<TransactionInstruction[]>, signers = [alice.wallet, bob.wallet]) =>
      expectError(h, name, watched, async () => w.send(await ixs(), signers));
    // The band is ±5 % around the oracle ($156.25 on the SVM, $150 on a validator): $170 is outside both.
    await refuse("PriceOutsideBand", async () => [await tradeIx(alice, bob, 1n, 1_700_000n)]);
    await refuse("TradeSizeTooSmall", async () => [await tradeIx(alice, bob, 0n, 1_500_000n)]);
    await refuse("ZeroAmount", async () => [await tradeIx(alice, bob, 1n, 0n)]);
    await refuse("SelfTrade", async () => [await tradeIx(alice, alice, 1n, 1_500_000n)], [alice.wallet]);
    // The seller's authority not signing (the account meta downgraded): Anchor's AccountNotSigner.
    await refuse("AccountNotSigner", async () => {
      const ix = await tradeIx(alice, bob, 1n, 1_500_000n);
      const keys = ix.keys.map((k) => (k.pubkey.equals(bob.wallet.publicKey) ? { ...k, isSigner: false } : k));
      return [new TransactionInstruction({ programId: ix.programId, keys, data: ix.data })];
    }, [alice.wallet]);
    // A stranger signing for the seller.
    const stranger = Keypair.generate();
    await refuse("UnauthorizedOwner", async () => [await w.client.tradeIx({ marketIndex: M, buyer: alice.account,
      buyerAuthority: alice.wallet.publicKey, seller: bob.account, sellerAuthority: stranger.publicKey, size: 1n,
      price: 1_500_000n })], [alice.wallet, stranger]);
    await refuse("WrongOracle", async () =>
      [replaceAccount(w.client, await tradeIx(alice, bob, 1n, 1_500_000n), "trade", "oracle", oracleAddress("btc"))]);
    // No health accounts at all.
    await refuse("HealthAccountMismatch", async () => {
      const ix = await tradeIx(alice, bob, 1n, 1_500_000n);
      return [new TransactionInstruction({ programId: ix.programId, keys: ix.keys.slice(0, 7), data: ix.data })];
    });
    // Open interest 37 + 1,000,000,000 beyond the cap of 10^9 contracts a side.
    await refuse("OpenInterestCapExceeded", async () => [await tradeIx(frank, alice, 1_000_000_000n, 1_500_000n)],
      [alice.wallet, frank.wallet]);
    // 10,000 contracts (100 SOL, $15,625 notional) need $1,562 of Init margin; alice has ~$1,000.
    await refuse("TradeHealthTooLow", async () => [await tradeIx(alice, frank, 10_000n, 1_500_000n)],
      [alice.wallet, frank.wallet]);
    await w.send([await w.client.setPauseIx(w.admin.publicKey, PauseFlags.trading)], [w.admin]);
    try {
      await refuse("GroupPaused", async () => [await tradeIx(alice, bob, 1n, 1_500_000n)]);
    } finally {
      await w.send([await w.client.setPauseIx(w.admin.publicKey, 0)], [w.admin]);
    }
  });

  /** carol's quote: she sells `size` at `price`, good until `expirySlot`. */
  async function carolQuote(terms: Partial<QuoteTerms> = {}, signer = carol.wallet) {
    const t: QuoteTerms = { side: QuoteSide.makerSells, size: 10n, price: 1_562_500n,
      expirySlot: (await h.slot()) + 1_000n, nonce: 1n, ...terms };
    return signQuote(signer, { group: w.client.group, market: market().address, makerAccount: carol.account, terms: t });
  }

  test("take_quote: alice fills carol's Ed25519-signed quote alone", async () => {
    const quote = await carolQuote();
    const message = quoteMessage(quote.group, quote.market, quote.makerAccount, quote.terms);
    assert.equal(message.length, QUOTE_MESSAGE_LEN);
    assert.equal(message.subarray(0, 16).toString(), "xmargin-quote-v1");
    assert.ok(verifyMessage(carol.wallet.publicKey, message, quote.signature));
    // The precompile data built by hand is web3.js's own layout.
    const web3 = Ed25519Program.createInstructionWithPublicKey({ publicKey: carol.wallet.publicKey.toBytes(), message,
      signature: quote.signature });
    assert.deepEqual(ed25519QuoteInstruction(quote).data, web3.data);
    assert.deepEqual(ed25519InstructionData(quote.signer, quote.signature, message), web3.data);

    // alice (short 37 at 1,490,000) buys 10 at $156.25: closes 10 of 37, removing ⌈−55,130,000 · 10 / 37⌉
    // = −14,900,000: realises −15,625,000 + 14,900,000 = −725,000. Carol opens 10 short (−15,625,000).
    const ixs = await w.client.takeQuoteIxs({ quote, marketIndex: M, taker: alice.account,
      takerAuthority: alice.wallet.publicKey });
    const sent = await w.sendFitting(ixs, [alice.wallet]); // carol does not sign the transaction
    const ev = w.event(sent, "traded");
    assert.equal(big(ev.quoteNonce), 1n);
    assert.equal(big(ev.buyerRealized), -725_000n);
    assert.ok((ev.seller as PublicKey).equals(carol.account));
    assert.deepEqual(await pos(alice), [-27n, -40_230_000n, -185_000n]);
    assert.deepEqual(await pos(carol), [-10n, -15_625_000n, 0n]);
    const maker = await w.client.fetchMarginAccount(carol.account);
    assert.equal(big(maker.quoteNonceBase), 0n);
    assert.equal(big(maker.quoteNonceBits[0]), 1n << 1n); // nonce 1 spent
    assert.equal(big((await w.client.fetchMarket(M)).openInterest), 37n); // bob long 37 = alice 27 + carol 10 short
    await assertConserved();
    await assertEstimateMatches(carol, "maker after the quote");

    // The same signed quote again: spent.
    const watched = [market().address, alice.account, carol.account];
    await expectError(h, "QuoteNonceUsed", watched, async () =>
      w.send(await w.client.takeQuoteIxs({ quote, marketIndex: M, taker: alice.account,
        takerAuthority: alice.wallet.publicKey }), [alice.wallet]));
  });

  test("take_quote refusals: expired, wrongly signed, altered, unsigned — nothing changed", async () => {
    const watched = [market().address, alice.account, carol.account];
    const take = async (quote: Awaited<ReturnType<typeof carolQuote>>, ed25519 = true) => {
      const [sig, ix] = await w.client.takeQuoteIxs({ quote, marketIndex: M, taker: alice.account,
        takerAuthority: alice.wallet.publicKey });
      return w.send(ed25519 ? [sig, ix] : [ix], [alice.wallet]);
    };
    if (isSvm(h)) h.advanceSlots(10n);
    const slot = await h.slot();
    await expectError(h, "QuoteExpired", watched, async () => take(await carolQuote({ nonce: 2n, expirySlot: slot - 1n })));
    // Signed by a key that is neither carol's owner nor her delegate.
    const mallory = Keypair.generate();
    await expectError(h, "QuoteSignatureInvalid", watched, async () => take(await carolQuote({ nonce: 3n }, mallory)));
    // Terms changed after signing (a better price for the taker): the precompile checks the signed
    // message, take_quote the terms it was given; they differ.
    const signed = await carolQuote({ nonce: 4n });
    const altered = { ...signed, terms: { ...signed.terms, price: 1_500_000n } };
    await expectError(h, "QuoteSignatureInvalid", watched, async () => {
      const [, ix] = await w.client.takeQuoteIxs({ quote: altered, marketIndex: M, taker: alice.account,
        takerAuthority: alice.wallet.publicKey });
      return w.send([ed25519QuoteInstruction(signed), ix], [alice.wallet]);
    });
    await expectError(h, "QuoteSignatureInvalid", watched, async () => take(await carolQuote({ nonce: 5n }), false));
    // A self-fill: carol taking her own quote.
    await expectError(h, "SelfTrade", watched, async () => {
      const quote = await carolQuote({ nonce: 6n });
      return w.send(await w.client.takeQuoteIxs({ quote, marketIndex: M, taker: carol.account,
        takerAuthority: carol.wallet.publicKey }), [carol.wallet]);
    });
    // None of the refused nonces was spent: nonce 5, signed properly, still fills.
    await w.sendFitting(await w.client.takeQuoteIxs({ quote: await carolQuote({ nonce: 5n, size: 1n }), marketIndex: M,
      taker: alice.account, takerAuthority: alice.wallet.publicKey }), [alice.wallet]);
    // alice buys 1 more at 1,562,500 against her short: ⌈−40,230,000 / 27⌉ = −1,490,000, realises −72,500;
    // carol goes to 11 short. Undo it so the numbers below stay round: carol buys it back from alice.
    assert.deepEqual(await pos(alice), [-26n, -38_740_000n, -257_500n]);
    await w.trade(M, carol, alice, 1n, 1_562_500n);
    // alice sells 1 at 1,562,500 adding to her short: cost −38,740,000 − 1,562,500; carol closes 1 of 11 at cost.
    assert.deepEqual(await pos(alice), [-27n, -40_302_500n, -257_500n]);
    assert.deepEqual(await pos(carol), [-10n, -15_625_000n, 0n]);
    await assertConserved();
  });

  test("settle_pnl: bob's profit from alice, limited to 2 % of |base| · stable a day", async (t) => {
    if (svmOnly(t)) return;
    // At $156.25 (1,562,500 per contract): alice −27 · 1,562,500 + 40,302,500 − 257,500 = −2,142,500;
    // bob 37 · 1,562,500 − 55,130,000 − 540,000 = +2,142,500 (realised −540,000, unrealised +2,682,500).
    // Bob's unrealised profit settles up to ⌊0.02 · 3.7e8 lamports · 0.15625⌋ = 1,156,249 per 24 h
    // (2 % stored rounded down); his realised PnL is a loss, so 1,156,249 moves.
    const [aliceUsdc, bobUsdc] = [await w.nativeBalance(alice.account, "usdc"), await w.nativeBalance(bob.account, "usdc")];
    const sent = await w.sendFitting([await w.client.settlePnlIx({ marketIndex: M, winner: bob.account,
      loser: alice.account })]);
    const ev = w.event(sent, "pnlSettled");
    assert.equal(big(ev.amount), 1_156_249n);
    assert.equal(big(ev.fromUnrealized), 1_156_249n);
    assert.equal(big(ev.loserBorrowed), 0n);
    assert.deepEqual(await pos(bob), [37n, 55_130_000n, -540_000n - 1_156_249n]);
    assert.deepEqual(await pos(alice), [-27n, -40_302_500n, -257_500n + 1_156_249n]);
    assert.equal(await w.nativeBalance(bob.account, "usdc"), bobUsdc + 1_156_249n);
    assert.equal(await w.nativeBalance(alice.account, "usdc"), aliceUsdc - 1_156_249n);
    await assertConserved();
    // The window is used up: nothing more settles today.
    await expectError(h, "NoPnlToSettle", [market().address, alice.account, bob.account, w.client.quoteBank().address],
      async () => w.send([await w.client.settlePnlIx({ marketIndex: M, winner: bob.account, loser: alice.account })]));
    for (const u of [alice, bob]) await assertEstimateMatches(u, "after settle_pnl");
  });

  test("update_funding after an hour: longs pay shorts, settled lazily, rounded to the protocol", async (t) => {
    if (svmOnly(t) || !isSvm(h)) return;
    // No funding update has run since listing, so the premium of every trade so far stands, each moved
    // toward by size / open interest: the fills below the oracle left it at −3.2054 % (read below).
    // Half an hour later bob buys 10 more from carol at $160.00 (+2.4 % over $156.25): the half hour
    // folds at 0.15625 · (1 − 3.2054 %), so the mark TWAP halves its way there: 0.153746; the premium
    // moves 10/47 of the way to +2.4 %: −3.2054 % + 5.6054 % · 10/47 = −2.0128 %.
    h.warp(1_800n);
    const p0 = fixedRaw((await w.client.fetchMarket(M)).markPremium);
    assert.equal(F.toDecimalString(p0, 6), "-0.032053");
    await w.trade(M, bob, carol, 10n, 1_600_000n);
    assert.deepEqual(await pos(bob), [47n, 71_130_000n, -1_696_249n]);
    assert.deepEqual(await pos(carol), [-20n, -31_625_000n, 0n]);
    const oracle = F.fromRatio(15_625n, 100_000n, "floor");
    const p1 = blendMarkPremium(p0, tradePremium(F.fromRatio(16n, 100n, "floor"), oracle), 10n, 47n);
    assert.equal(fixedRaw((await w.client.fetchMarket(M)).markPremium), p1, "the client's blend, bit for bit");
    // Another half hour: update_funding folds 1,800 s at 0.15625 · (1 − 2.0128 %) = 0.153105:
    // mark = 0.153746 + (0.153105 − 0.153746) / 2 = 0.153425, oracle TWAP 0.15625; premium
    // −0.002825 / 0.15625 = −1.808 % a day (cap 10 %), −0.0753 % an hour; one hour at 1,562,500 per
    // contract: −1,176.91 µUSDC per contract on the index: shorts pay longs.
    h.warp(1_800n);
    const before = await w.client.fetchMarket(M);
    const now = await h.now();
    const predicted = predictFundingUpdate(fundingInput(before), oracle, now);
    const sent = await w.sendFitting([await w.client.updateFundingIx(M)]);
    const m = await w.client.fetchMarket(M);
    assert.equal(fixedRaw(m.markTwap), predicted.markTwap, "mark TWAP = the client's prediction, bit for bit");
    assert.equal(fixedRaw(m.oracleTwap), predicted.oracleTwap);
    assert.equal(fixedRaw(m.lastFundingRate), predicted.rate);
    assert.equal(fixedRaw(m.cumFunding), predicted.cumFunding);
    assert.equal(fixedRaw(m.markPremium), 0n, "the update resets the premium");
    assert.equal(big(w.event(sent, "fundingUpdated").appliedSecs), 3_600n);
    assert.equal(F.toDecimalString(fixedRaw(m.markTwap), 6), "0.153425");
    const perContract = fixedRaw(m.cumFunding);
    assert.equal(F.toDecimalString(perContract, 6), "-1176.906069");
    // Lazily settled: alice (27 short) pays ⌊−27 · 1,176.906⌋ = −31,777; bob (47 long) gets
    // ⌊55,314.59⌋ = 55,314; carol (20 short) pays ⌊−23,538.12⌋ = −23,539. Σ = −2: the dust is the protocol's.
    const owed = async (u: User) => {
      const p = await w.position(u, M);
      return pendingFunding(marketInput(m), p.baseContracts, p.fundingSnapshot);
    };
    assert.deepEqual([await owed(alice), await owed(bob), await owed(carol)], [-31_777n, 55_314n, -23_539n]);
    // The estimate counts the unsettled funding exactly as compute_health does.
    for (const u of [alice, bob, carol]) await assertEstimateMatches(u, "unsettled funding");
    await expectError(h, "FundingNotDue", [market().address], async () =>
      w.send([await w.client.updateFundingIx(M)]));
  });

  test("settle_pnl after funding: carol's funding and profit from alice", async (t) => {
    if (svmOnly(t)) return;
    // Funding settles into both positions first: carol realised 0 − 23,539, alice 898,749 − 31,777.
    // carol: −20 · 1,562,500 + 31,625,000 − 23,539 = +351,461 (unrealised 375,000 less the funding she
    // paid, within her ⌊0.02 · 2e8 · 0.15625⌋ = 624,999 window); alice: −42,187,500 + 40,302,500 + 866,972
    // = −1,018,028.
    const sent = await w.sendFitting([await w.client.settlePnlIx({ marketIndex: M, winner: carol.account,
      loser: alice.account })]);
    const ev = w.event(sent, "pnlSettled");
    assert.equal(big(ev.amount), 351_461n);
    assert.equal(big(ev.fromUnrealized), 351_461n);
    assert.deepEqual(await pos(carol), [-20n, -31_625_000n, -23_539n - 351_461n]);
    assert.deepEqual(await pos(alice), [-27n, -40_302_500n, 898_749n - 31_777n + 351_461n]);
    await assertConserved();
  });

  test("liquidate_position: a 5 SOL long on 100 USDC after SOL falls 10 %", async (t) => {
    if (svmOnly(t) || !isSvm(h)) return;
    const dave = await w.user({ usdc: 100n * USDC });
    await w.deposit(dave, "usdc", 100n * USDC);
    const erin = await w.user({ usdc: 1_000n * USDC });
    await w.deposit(erin, "usdc", 1_000n * USDC);
    users.push(dave, erin);
    // dave buys 500 contracts (5 SOL) from frank at $156.25: Init ≈ 100 − 0.50 (conf) − 78.18 (10 % of
    // notional at the liability price) ≈ +21.3 USDC.
    await w.trade(M, dave, frank, 500n, 1_562_500n);
    const liquidate = async (maxContracts: bigint) => w.client.liquidatePositionIx({ marketIndex: M,
      liqee: dave.account, liqor: erin.account, liqorAuthority: erin.wallet.publicKey, maxContracts });
    const watched = [market().address, dave.account, erin.account, w.client.quoteBank().address];
    await expectError(h, "NotLiquidatable", watched, async () => w.send([await liquidate(1_000n)], [erin.wallet]));

    h.setOracle("sol", SOL_140_625);
    // At $140.625 ± 0.10: dave's PnL at the Maint price 0.140525 is 702,625,000 − 781,250,000 = −78,625,000;
    // Maint requirement 5 % of 5e9 · 0.140725 = 35,181,250: Maint = 100 − 78.63 − 35.18 = −13.81 USDC.
    // LiquidationEnd (7.5 %: 52,771,875) = −31,396,875.
    const { view } = await w.health(dave.account);
    assert.equal(view.band, 2, "liquidatable");
    // A unit lower than the round numbers: the confidence 0.10 is not exact in binary, its scaled ulp rounds up.
    near(big(view.maint), -13_806_250n);
    near(big(view.liquidationEnd), -31_396_875n);
    await assertEstimateMatches(dave, "liquidatable");
    // A spike 10 % from the stable price cannot be cashed out.
    await expectError(h, "OracleFarFromStable", [market().address, bob.account, alice.account], async () =>
      w.send([await w.client.settlePnlIx({ marketIndex: M, winner: alice.account, loser: bob.account })]));
    // A zero cap, and dave liquidating himself: refused.
    await expectError(h, "ZeroAmount", watched, async () => w.send([await liquidate(0n)], [erin.wallet]));
    await expectError(h, "SelfLiquidation", watched, async () => w.send([await w.client.liquidatePositionIx({
      marketIndex: M, liqee: dave.account, liqor: dave.account, liqorAuthority: dave.wallet.publicKey,
      maxContracts: 1_000n })], [dave.wallet]));

    // Bonus 1.5 % (dave's equity 21.875 / debts 78.125 does not cap it). Sizing at
    // 0.140625 · 0.985 = 0.138515625: each lamport closed gains 0.138515625 − 0.140525 (the LiquidationEnd
    // mark) + 0.010554375 (requirement released) = 0.008545, so 31,396,876 / 0.008545 = 3.674e9 lamports:
    // 368 contracts (rounded up). erin pays the oracle less the 1 % liquidation fee:
    // ⌊0.140625 · 0.99 · 10^7⌋ = 1,392,187 per contract; dave pays the 0.5 % insurance fee on
    // 368 · 10^7 · 0.140625 = 517,500,000 of notional: ⌈2,587,500⁻⌉ = 2,587,500.
    const insurance = insuranceVaultAddress(w.client.group);
    const fundBefore = await w.tokenBalance(insurance);
    const sent = await w.sendFitting([await liquidate(1_000n)], [erin.wallet]);
    const ev = w.event(sent, "positionLiquidated");
    assert.equal(big(ev.contracts), 368n);
    assert.equal(big(ev.price), 1_392_187n);
    assert.equal(big(ev.insuranceFee), 2_587_500n);
    assert.equal(await w.tokenBalance(insurance), fundBefore + 2_587_500n);
    // dave sold 368 of 500: removed 781,250,000 · 368 / 500 = 575,000,000; realised 368 · 1,392,187 − 575,000,000.
    assert.deepEqual(await pos(dave), [132n, 206_250_000n, 368n * 1_392_187n - 575_000_000n]);
    assert.deepEqual(await pos(erin), [368n, 368n * 1_392_187n, 0n]);
    assert.equal(await w.nativeBalance(dave.account, "usdc"), 100n * USDC - 2_587_500n);
    // LiquidationEnd reaches 0 and at most one contract beyond (0.008545 · 10^7 = 85,450).
    const after = await w.health(dave.account);
    assert.equal(big(ev.liqeeLiqEndAfter), big(after.view.liquidationEnd));
    assert.ok(big(after.view.liquidationEnd) >= 0n && big(after.view.liquidationEnd) < 85_450n,
      `LiquidationEnd after ${big(after.view.liquidationEnd)}`);
    assert.ok(big(ev.liqorInitAfter) >= 0n);
    for (const u of [dave, erin]) await assertEstimateMatches(u, "after liquidate_position");
    await assertConserved();
    // dave is back at LiquidationEnd ≥ 0: no second step.
    await expectError(h, "NotLiquidatable", watched, async () => w.send([await liquidate(1_000n)], [erin.wallet]));
  });

  test("transaction sizes: a trade and a taken quote between accounts holding every bank and the market", async (t) => {
    // Both sides hold USDC, SOL, BTC and ETH and the perpetual: each lists 4 banks, 4 oracles and the
    // market (its oracle, SOL's, listed once), and the two lists share every key.
    const funds = { usdc: 1_000n * USDC, sol: 1_000_000_000n, btc: 1_000_000n, eth: 10_000_000n };
    const [gina, hank] = [await w.user(funds), await w.user(funds)];
    for (const u of [gina, hank]) for (const tk of ["usdc", "sol", "btc", "eth"] as const) await w.deposit(u, tk, funds[tk]);
    users.push(gina, hank);
    const price = await oraclePerContract();
    const trade = await w.trade(M, gina, hank, 2n, price);
    const health = w.client.healthAccounts(await w.client.fetchMarginAccount(gina.account));
    assert.equal(health.length, 4 + 4 + 1, "banks, oracles, the market; SOL's oracle once");
    const quote = signQuote(hank.wallet, { group: w.client.group, market: market().address, makerAccount: hank.account,
      terms: { side: QuoteSide.makerBuys, size: 1n, price, expirySlot: (await h.slot()) + 1_000n, nonce: 7n } });
    const taken = await w.sendFitting(await w.client.takeQuoteIxs({ quote, marketIndex: M, taker: gina.account,
      takerAuthority: gina.wallet.publicKey }), [gina.wallet]);
    t.diagnostic(`trade ${trade.size} bytes, take_quote with its Ed25519 instruction ${taken.size} bytes (limit ${PACKET_DATA_SIZE})`);
    assert.ok(trade.size <= PACKET_DATA_SIZE && taken.size <= PACKET_DATA_SIZE);
    assert.equal(errorCode("QuoteSignatureInvalid"), w.client.program.idl.errors.find((e) => e.name === "quoteSignatureInvalid")?.code);
    await assertConserved();
  });
});

describe("a SOL dated future through expiry (SVM clock)", () => {
  const FUT = 0;
  let fw: World;
  let long: User;
  let short: User;
  let expiry: bigint;
  const fut = () => fw.client.market(FUT);
  const fpos = async (u: User): Promise<[bigint, bigint, bigint]> => {
    const p = await fw.position(u, FUT);
    return [p.baseContracts, p.quoteCost, p.realizedPnl];
  };

  before(async () => {
    if (!isSvm(h)) return;
    h.setOracle("sol", SOL_156_25);
    fw = await World.create(h);
    long = await fw.user({ usdc: 1_000n * USDC });
    short = await fw.user({ usdc: 1_000n * USDC });
    for (const u of [long, short]) await fw.deposit(u, "usdc", 1_000n * USDC);
    expiry = (await h.now()) + 7_200n;
  });

  test("update_market tightens at once and loosens after the delay; a future lists, trades and samples", async (t) => {
    if (svmOnly(t) || !isSvm(h)) return;
    await fw.addMarket(solFutureArgs(FUT, expiry));
    const admin = fw.admin.publicKey;
    const risk = { ...solFutureArgs(FUT, expiry).risk, initRateBps: 1_200, initPnlCap: new BN(200_000_000) };
    // Init 10 % → 12 % tightens (now); the Init PnL cap 100 → 200 USDC loosens (after the group's hour).
    await fw.sendFitting([await fw.client.updateMarketIx({ admin, marketIndex: FUT, args: { risk } })], [fw.admin]);
    const m = await fw.client.fetchMarket(FUT);
    assert.equal(fixedRaw(m.risk.initRate), F.fromRatio(1_200n, 10_000n, "floor"));
    assert.equal(big(m.risk.initPnlCap), 100_000_000n);
    assert.equal(big(m.pendingRisk.initPnlCap), 200_000_000n);
    assert.equal(big(m.pendingRiskActivationTs), (await h.now()) + 3_600n);
    await expectError(h, "UnauthorizedAdmin", [fut().address], async () =>
      fw.send([await fw.client.updateMarketIx({ admin: long.wallet.publicKey, marketIndex: FUT, args: { risk } })],
        [long.wallet]));

    // long buys 100 contracts (1 SOL) at $156.25 from short.
    await fw.trade(FUT, long, short, 100n, 1_562_500n);
    // Sampling opens 30 minutes before expiry.
    await expectError(h, "SampleOutsideWindow", [fut().address], async () => fw.send([await fw.client.samplePriceIx(FUT)]));
    await expectError(h, "WrongMarketKind", [fut().address], async () => fw.send([await fw.client.updateFundingIx(FUT)]));
    // In the window SOL trades at $164.0625 (0.1640625 per lamport, exact): five samples five minutes
    // apart, each standing for 300 s (1,500 s covered: the mean needs 900).
    h.warp(expiry - 1_500n - (await h.now()));
    for (let i = 0; i < 5; i++) {
      h.setOracle("sol", { ...SOL_156_25, price: 16_406_250_000n });
      const sent = await fw.sendFitting([await fw.client.samplePriceIx(FUT)]);
      assert.equal(fw.event(sent, "priceSampled").sampleCount, i + 1);
      assert.equal(big(fw.event(sent, "priceSampled").sampleSecs), BigInt(300 * (i + 1)));
      if (i < 4) h.warp(300n);
    }
    await expectError(h, "MarketNotSettled", [fut().address, long.account], async () =>
      fw.send([await fw.client.settleExpiredIx(FUT, long.account)]));
  });

  test("settle_expired at the samples' mean, settle_pnl without a window, close_market", async (t) => {
    if (svmOnly(t) || !isSvm(h)) return;
    h.warp(expiry - (await h.now()));
    await expectError(h, "MarketExpired", [fut().address, long.account, short.account], async () =>
      fw.send([await fw.client.tradeIx({ marketIndex: FUT, buyer: long.account, buyerAuthority: long.wallet.publicKey,
        seller: short.account, sellerAuthority: short.wallet.publicKey, size: 1n, price: 1_640_625n })],
        [long.wallet, short.wallet]));
    // The settlement price is the time-weighted mean of the five samples: 0.1640625 exactly.
    // long: ⌊10^9 · 0.1640625⌋ − 156,250,000 = +7,812,500; short the opposite.
    let sent = await fw.sendFitting([await fw.client.settleExpiredIx(FUT, long.account)]);
    const settledEv = fw.event(sent, "marketSettled");
    assert.equal(settledEv.fallback, false);
    assert.equal(fixedRaw(settledEv.settlementPrice as { limbs: BN[] }), F.fromRatio(1_640_625n, 10_000_000n, "floor"));
    assert.equal(big(fw.event(sent, "positionSettled").realized), 7_812_500n);
    await fw.sendFitting([await fw.client.settleExpiredIx(FUT, short.account)]);
    assert.deepEqual(await fpos(long), [0n, 0n, 7_812_500n]);
    assert.deepEqual(await fpos(short), [0n, 0n, -7_812_500n]);
    assert.equal(big((await fw.client.fetchMarket(FUT)).openInterest), 0n);
    // Both slots still hold PnL: the market cannot close yet.
    const closeIx = () => fw.client.closeMarketIx({ admin: fw.admin.publicKey, marketIndex: FUT, rentTo: fw.admin.publicKey });
    await expectError(h, "MarketNotEmpty", [fut().address], async () => fw.send([await closeIx()], [fw.admin]));
    // A settled future's PnL settles in full, no window.
    sent = await fw.sendFitting([await fw.client.settlePnlIx({ marketIndex: FUT, winner: long.account, loser: short.account })]);
    assert.equal(big(fw.event(sent, "pnlSettled").amount), 7_812_500n);
    assert.equal(await fw.nativeBalance(long.account, "usdc"), 1_000n * USDC + 7_812_500n);
    assert.equal(await fw.nativeBalance(short.account, "usdc"), 1_000n * USDC - 7_812_500n);
    assert.equal(activeSlots(await fw.client.fetchMarginAccount(long.account)), 0, "the position slot is freed");
    await fw.sendFitting([await closeIx()], [fw.admin]);
    assert.equal(await h.getAccount(fut().address), null);
    await fw.assertVaultInvariant("usdc");
    h.setOracle("sol", TEST_FEEDS.sol.quote);
  });
});
