/**
 * Transactions on the wire (issue 11): the largest transactions the
 * TypeScript client builds — accounts with 16 token positions (withdraw,
 * borrow, liquidate_token, compute_health, the recovery deposit/repay,
 * resolve_bankruptcy with a liquidator) and with 16 token + 16 derivative
 * positions (trade, take_quote, withdraw, compute_health, liquidate_position),
 * and liquidate_position between two 4 + 4 accounts — serialised as v0
 * transactions with the group's address lookup table: each fits 1,232 bytes
 * and 64 account locks (the legacy form does not, for the 16-position ones),
 * and is sent through the table. Also: the table covers every
 * static account of every instruction (a new account fails here until the
 * table or the per-call list below names it), the lookup table's lifecycle
 * (created after the banks, extended after the markets, usable a slot later),
 * `computeHealth` by simulation, and errors and events by name.
 *
 * Banks 4..15 are on oracles of their own beyond the four test feeds
 * (`WIRE_FEEDS` of tests/support/pyth.ts, $1 each, preloaded like the test
 * feeds): the suite runs on both backends, and on a real validator the
 * diagnostics give the compute units and sizes measured over JSON-RPC.
 */
import assert from "node:assert/strict";
import { before, describe, type TestContext, test } from "node:test";
import { type AddressLookupTableAccount, Keypair, PublicKey, type TransactionInstruction } from "@solana/web3.js";
import { BN } from "@anchor-lang/core";
import {
  AccountFlags, activeDerivativePositions, activeTokenPositions, HealthBandCode, type MarginAccountData, marketNameBytes,
} from "../app/src/accounts.ts";
import { XMARGIN_IDL } from "../app/src/client.ts";
import { eventsNamed, parseEvents } from "../app/src/events.ts";
import { groupLookupTableAddresses, missingAddresses, syncGroupLookupTable } from "../app/src/lookupTable.ts";
import { marketAddress } from "../app/src/pda.ts";
import { signQuote, QuoteSide } from "../app/src/quote.ts";
import {
  compareWireStats, MAX_TX_ACCOUNT_LOCKS, PACKET_DATA_SIZE, TransactionTooLargeError, type WireStats,
} from "../app/src/transaction.ts";
import { computeHealth } from "../app/src/view.ts";
import { XmarginProgramError } from "../app/src/errors.ts";
import { assertProgramFresh, type Harness, isSvm, makeHarness, type Sent, TxFailure } from "./support/harness.ts";
import { feedIdBytes, oracleAddress, TEST_FEEDS, type PythQuote, WIRE_FEEDS } from "./support/pyth.ts";
import {
  DECIMALS, defaultInterest, defaultOracle, defaultRisk, expectError, solPerpArgs, TOKEN_INDEX, TOKENS, World,
} from "./support/world.ts";

const USDC = 1_000_000n;
/** Banks 4..15: $1 tokens with 6 decimals on oracles of their own (`WIRE_FEEDS` x4..x15). */
const BANKS = 16;
const MARKETS = 16;
const U64_MAX = (1n << 64n) - 1n;

let h: Harness;
let w: World;
let table: AddressLookupTableAccount;
const extraMints: PublicKey[] = [];
const quotes = new Map<number, PythQuote>(); // token index → its oracle's quote
const decimals = (t: number) => (t < 4 ? DECIMALS[TOKENS[t]] : 6);
const mintOf = (t: number) => (t < 4 ? w.mints[TOKENS[t]] : extraMints[t - 4]);
/** Market m lists on bank (m mod 15) + 1: every bank but the quote's, SOL's twice. */
const underlyingOf = (m: number) => (m % (BANKS - 1)) + 1;
/** 10^7 native units of the underlying per contract. */
const CONTRACT = 10_000_000n;

interface Holder {
  wallet: Keypair;
  account: PublicKey;
  tokenAccounts: Map<number, PublicKey>;
}

/** A margin account depositing `funds` (token index → native), in index order: positions in slot order. */
async function holder(funds: [number, bigint][], extraBalance: [number, bigint][] = []): Promise<Holder> {
  const wallet = await h.newWallet();
  await w.send([await w.client.createAccountIx(wallet.publicKey)], [wallet]);
  const account = w.client.marginAccountAddress(wallet.publicKey);
  const tokenAccounts = new Map<number, PublicKey>();
  for (const [t, amount] of [...funds, ...extraBalance]) {
    if (!tokenAccounts.has(t)) tokenAccounts.set(t, await w.tokenAccount(wallet.publicKey, mintOf(t), amount));
  }
  for (const [t, amount] of funds) {
    await w.send([await w.client.depositIx({ account, tokenIndex: t, amount, tokenAccount: tokenAccounts.get(t)!,
      authority: wallet.publicKey })], [wallet]);
  }
  return { wallet, account, tokenAccounts };
}

/** Quote native per contract of market `m` at its oracle's price (exact for these quotes). */
function pricePerContract(m: number): bigint {
  const t = underlyingOf(m);
  const q = quotes.get(t)!;
  const e = BigInt(q.exponent) + 6n - BigInt(decimals(t)) + 7n; // quote decimals 6, 10^7 native per contract
  return e >= 0n ? q.price * 10n ** e : q.price / 10n ** -e;
}

const fetchAccount = (a: PublicKey) => w.client.fetchMarginAccount(a);
/** Send as v0 through the group's table (made by the first test: the file runs in order). */
const v0 = () => {
  assert.ok(table, "the group's lookup table is made by the first test of this file");
  return { lookupTables: [table] };
};

// ------------------------------------------------------------------ sizes

interface Row { name: string; legacy: WireStats; v0: WireStats }
const rows: Row[] = [];

/**
 * Wire stats of `ixs` as the client would send them (compute limit and price,
 * the harness's payer as a separate fee payer: one signature and one lock
 * more than a wallet paying for itself), legacy and v0 with the table.
 */
function measure(name: string, ixs: TransactionInstruction[], opts: { legacyFits?: boolean } = {}): Row {
  const s = compareWireStats({ payer: h.payer.publicKey, instructions: ixs, recentBlockhash: PublicKey.default.toBase58(),
    ...v0(), computeUnitLimit: 1_400_000, computeUnitPrice: 1_000 });
  const row = { name, ...s };
  rows.push(row);
  assert.ok(s.v0.size <= PACKET_DATA_SIZE, `${name}: v0 transaction of ${s.v0.size} bytes`);
  assert.ok(s.v0.accountLocks <= MAX_TX_ACCOUNT_LOCKS, `${name}: v0 transaction locks ${s.v0.accountLocks} accounts`);
  if (opts.legacyFits !== undefined) {
    assert.equal(s.legacy.fits, opts.legacyFits, `${name}: legacy ${s.legacy.size} bytes, ${s.legacy.accountLocks} locks`);
  }
  return row;
}

/** Reports a transaction as it landed: its size, locks and compute units on this backend (JSON-RPC on a validator). */
function landed(t: TestContext, name: string, sent: Sent): Sent {
  t.diagnostic(`${name} [${h.mode}]: ${sent.size} bytes, ${sent.accountLocks} locks, ${sent.computeUnits} CU`);
  return sent;
}

// ------------------------------------------------------------------ the group

before(async () => {
  assertProgramFresh();
  h = await makeHarness();
  w = await World.create(h);
  TOKENS.forEach((t) => quotes.set(TOKEN_INDEX[t], TEST_FEEDS[t].quote));
  for (let t = 4; t < BANKS; t++) {
    const name = `x${t}`;
    const { feed, quote } = WIRE_FEEDS[name];
    const oracle = oracleAddress(name);
    if (isSvm(h)) h.setOracleAccount(oracle, feed, quote);
    else assert.ok(await h.getAccount(oracle), `wire oracle ${name} (${oracle.toBase58()}) is not preloaded: `
      + "start the validator with scripts/localnet (Anchor.toml's [[test.validator.account]])");
    quotes.set(t, quote);
    const mint = await w.newMint(6);
    extraMints.push(mint);
    await w.send([await w.client.addBankIx({ admin: w.admin.publicKey, payer: w.admin.publicKey, tokenIndex: t, mint,
      oracle, feedId: feedIdBytes(feed), risk: defaultRisk(), oracleArgs: defaultOracle("usdc"),
      interest: defaultInterest() })], [w.admin]);
  }
  await w.client.loadBanks();
});

describe("the group's address lookup table", () => {
  test("created after the banks, extended after the markets, usable from the next slot", async () => {
    const created = await syncGroupLookupTable(h.provider, w.client);
    assert.ok(created.created);
    assert.equal(created.account.state.addresses.length, 7 + 3 * BANKS, "group, insurance vault, 5 programs, 3 per bank");
    assert.ok(created.account.state.addresses[0].equals(w.client.group), "the group first");
    const again = await syncGroupLookupTable(h.provider, w.client);
    assert.ok(!again.created && again.added.length === 0 && again.table.equals(created.table), "a second run changes nothing");

    for (let m = 0; m < MARKETS; m++) {
      await w.send([await w.client.addMarketIx({ admin: w.admin.publicKey, payer: w.admin.publicKey,
        underlyingTokenIndex: underlyingOf(m),
        args: { ...solPerpArgs(m), name: marketNameBytes(`M${m}`), contractSize: new BN(CONTRACT.toString()) } })], [w.admin]);
    }
    await w.client.loadMarkets();
    const extended = await syncGroupLookupTable(h.provider, w.client, { table: created.table });
    assert.equal(extended.added.length, MARKETS, "one address per market: their oracles are the banks'");
    assert.deepEqual(missingAddresses(extended.account, groupLookupTableAddresses(w.client)), []);
    table = extended.account;

    // Addresses added in this slot cannot be loaded yet (on the SVM, whose slot stands still
    // until told; a validator's may have moved on already); from the next slot they can.
    const ix = await w.client.updateFundingIx(0);
    if (isSvm(h)) await assert.rejects(w.send([ix], [], v0()), TxFailure);
    await h.nextSlot();
    await expectError(h, "FundingNotDue", [], () => w.send([ix], [], v0()));
  });
});

describe("16 token positions", () => {
  let carol: Holder; // 15 deposits, then a borrow: 16 positions
  let dave: Holder; // the liquidator: 16 deposits
  const X4 = 4;
  const X15 = 15;

  before(async () => {
    await holder([[X15, 10_000n * USDC]]); // a lender: the X15 carol borrows
    // 100 X4 of collateral, 1,000 native units of every other token but X15.
    const funds: [number, bigint][] = [];
    for (let t = 0; t < BANKS - 1; t++) funds.push([t, t === X4 ? 100n * USDC : 1_000n]);
    carol = await holder(funds, [[X15, 0n]]);
    dave = await holder(Array.from({ length: BANKS }, (_, t): [number, bigint] => [t, t === 0 ? 1_000n * USDC : t === X15 ? 100n * USDC : 1_000n]));
  });

  test("borrow, withdraw, compute_health and liquidate_token fit only as v0 transactions", async (t) => {
    let data = await fetchAccount(carol.account);
    assert.equal(activeTokenPositions(data).length, 15);
    // Borrowing X15 opens the 16th position: 16 banks and 16 oracles.
    const borrow = await w.client.withdrawIx({ account: carol.account, tokenIndex: X15, amount: 60n * USDC,
      tokenAccount: carol.tokenAccounts.get(X15)!, authority: carol.wallet.publicKey, accountData: data });
    assert.equal(borrow.keys.length - 7, 32);
    measure("borrow (withdraw opening the 16th position)", [borrow], { legacyFits: false });
    landed(t, "borrow opening the 16th position", await w.send([borrow], [carol.wallet], v0()));
    data = await fetchAccount(carol.account);
    assert.equal(activeTokenPositions(data).length, 16);

    const withdraw = await w.client.withdrawIx({ account: carol.account, tokenIndex: 1, amount: 100n,
      tokenAccount: carol.tokenAccounts.get(1)!, authority: carol.wallet.publicKey, accountData: data });
    measure("withdraw, 16 token positions", [withdraw], { legacyFits: false });
    landed(t, "withdraw, 16 token positions", await w.send([withdraw], [carol.wallet], v0()));

    const health = await w.client.computeHealthIx(carol.account);
    measure("compute_health, 16 token positions", [health], { legacyFits: false });
    const sent = landed(t, "compute_health, 16 token positions", await w.send([health], [], v0()));
    const onChain = w.client.decodeHealthView(sent.returnData!);
    // The view call simulates the same instruction: the same answer, nothing sent.
    const view = await computeHealth(w.client, carol.account, { lookupTables: [table] });
    assert.equal(view.init, BigInt(onChain.init.toString()));
    assert.equal(view.maint, BigInt(onChain.maint.toString()));
    assert.equal(view.liquidationEnd, BigInt(onChain.liquidationEnd.toString()));
    assert.equal(view.bandName, "healthy");
    // Without the table the view cannot be sent either.
    await assert.rejects(computeHealth(w.client, carol.account), TransactionTooLargeError);

    // X4's weights tightened (at once): carol's Maint health falls below zero.
    await w.send([await w.client.updateBankIx({ admin: w.admin.publicKey, tokenIndex: X4,
      risk: { ...defaultRisk(), initAssetWeightBps: 5_000, liqEndAssetWeightBps: 5_500, maintAssetWeightBps: 6_000 } })],
    [w.admin]);
    await w.client.loadBanks();
    assert.equal((await computeHealth(w.client, carol.account, { lookupTables: [table] })).band, HealthBandCode.liquidatable);

    const liquidate = await w.client.liquidateTokenIx({ liqee: carol.account, liqor: dave.account,
      liqorAuthority: dave.wallet.publicKey, assetTokenIndex: X4, liabTokenIndex: X15, maxLiabTransfer: U64_MAX });
    measure("liquidate_token, 16 + 16 token positions", [liquidate], { legacyFits: false });
    const liq = landed(t, "liquidate_token, 16 + 16 token positions", await w.send([liquidate], [dave.wallet], v0()));
    const [ev] = eventsNamed(w.client, liq.logs, "TokenLiquidated");
    assert.ok(ev && ev.liqee.equals(carol.account) && BigInt(ev.liabTransferred.toString()) > 0n);
    assert.ok(parseEvents(w.client, liq.logs).some((e) => e.name === "tokenLiquidated"));
    // A second attempt fails by name.
    await expectError(h, "NotLiquidatable", [carol.account, dave.account], () => w.send([liquidate], [dave.wallet], v0()));

    // The flag a liquidation leaves is cleared by a deposit or repay given the health accounts.
    data = await fetchAccount(carol.account);
    assert.ok((data.flags & AccountFlags.beingLiquidated) !== 0, "being liquidated");
    const repay = await w.client.repayIx({ account: carol.account, tokenIndex: X15, amount: 1n,
      tokenAccount: carol.tokenAccounts.get(X15)!, authority: carol.wallet.publicKey, accountData: data });
    const deposit = await w.client.depositIx({ account: carol.account, tokenIndex: 1, amount: 1n,
      tokenAccount: carol.tokenAccounts.get(1)!, authority: carol.wallet.publicKey, accountData: data });
    assert.ok(repay.keys.length > 16 && deposit.keys.length > 16, "with the health accounts");
    measure("deposit clearing a liquidation, 16 token positions", [deposit], { legacyFits: false });
    measure("repay clearing a liquidation, 16 token positions", [repay], { legacyFits: false });
    const bankruptcy = await w.client.resolveBankruptcyWithLiquidatorIx({ liqee: carol.account, liabTokenIndex: X15,
      quoteTokenIndex: 0, liqor: dave.account, liqorAuthority: dave.wallet.publicKey });
    measure("resolve_bankruptcy with a 16-position liquidator", [bankruptcy], { legacyFits: false });
  });
});

describe("16 token + 16 derivative positions", () => {
  let alice: Holder;
  let bob: Holder;

  before(async () => {
    const funds = Array.from({ length: BANKS }, (_, t): [number, bigint] => [t, t === 0 ? 100_000n * USDC : 1_000n]);
    alice = await holder(funds);
    bob = await holder(funds);
    // One contract of every market, alice long, bob short: 16 positions each.
    for (let m = 0; m < MARKETS; m++) {
      await w.send([await w.client.tradeIx({ marketIndex: m, buyer: alice.account, buyerAuthority: alice.wallet.publicKey,
        seller: bob.account, sellerAuthority: bob.wallet.publicKey, size: 1n, price: pricePerContract(m) })],
      [alice.wallet, bob.wallet], v0());
    }
  });

  test("trade, take_quote, withdraw, compute_health and liquidate_position fit as v0 transactions", async (t) => {
    const a = await fetchAccount(alice.account);
    assert.equal(activeTokenPositions(a).length, 16);
    assert.equal(activeDerivativePositions(a).length, 16);
    assert.equal(w.client.healthAccounts(a).length, 48, "16 banks, 16 oracles, 16 markets (their oracles are the banks')");

    const trade = await w.client.tradeIx({ marketIndex: 0, buyer: alice.account, buyerAuthority: alice.wallet.publicKey,
      seller: bob.account, sellerAuthority: bob.wallet.publicKey, size: 1n, price: pricePerContract(0) });
    measure("trade, 16 + 16 positions on both sides", [trade], { legacyFits: false });
    landed(t, "trade, 16 + 16 positions on both sides", await w.send([trade], [alice.wallet, bob.wallet], v0()));

    const quote = signQuote(bob.wallet, { group: w.client.group, market: marketAddress(w.client.group, 1), makerAccount: bob.account,
      terms: { side: QuoteSide.makerSells, size: 1n, price: pricePerContract(1), expirySlot: (await h.slot()) + 100n, nonce: 1n } });
    const take = await w.client.takeQuoteIxs({ quote, marketIndex: 1, taker: alice.account, takerAuthority: alice.wallet.publicKey });
    measure("take_quote + Ed25519, 16 + 16 positions on both sides", take, { legacyFits: false });
    landed(t, "take_quote + Ed25519, 16 + 16 positions on both sides", await w.send(take, [alice.wallet], v0()));

    const withdraw = await w.client.withdrawIx({ account: alice.account, tokenIndex: 0, amount: 1n * USDC,
      tokenAccount: alice.tokenAccounts.get(0)!, authority: alice.wallet.publicKey });
    measure("withdraw, 16 + 16 positions", [withdraw], { legacyFits: false });
    landed(t, "withdraw, 16 + 16 positions", await w.send([withdraw], [alice.wallet], v0()));

    const health = await w.client.computeHealthIx(alice.account);
    measure("compute_health, 16 + 16 positions", [health], { legacyFits: false });
    const sent = landed(t, "compute_health, 16 + 16 positions", await w.send([health], [], v0()));
    const view = await computeHealth(w.client, alice.account, { lookupTables: [table] });
    assert.equal(view.init, BigInt(w.client.decodeHealthView(sent.returnData!).init.toString()));
    t.diagnostic(`compute_health 16 + 16: ${view.unitsConsumed} CU (simulated)`);

    const liquidate = await w.client.liquidatePositionIx({ marketIndex: 0, liqee: alice.account, liqor: bob.account,
      liqorAuthority: bob.wallet.publicKey, maxContracts: 1n });
    measure("liquidate_position, 16 + 16 positions on both sides", [liquidate], { legacyFits: false });
    await expectError(h, "NotLiquidatable", [alice.account, bob.account], () => w.send([liquidate], [bob.wallet], v0()));
  });
});

describe("liquidate_position between 4 + 4 accounts", () => {
  test("fits as a v0 transaction and runs through the table", async () => {
    const funds: [number, bigint][] = [[0, 10_000n * USDC], [1, 1_000n], [2, 1_000n], [3, 1_000n]];
    const [erin, frank] = [await holder(funds), await holder(funds)];
    for (let m = 0; m < 4; m++) {
      await w.send([await w.client.tradeIx({ marketIndex: m, buyer: erin.account, buyerAuthority: erin.wallet.publicKey,
        seller: frank.account, sellerAuthority: frank.wallet.publicKey, size: 1n, price: pricePerContract(m) })],
      [erin.wallet, frank.wallet], v0());
    }
    const e = await fetchAccount(erin.account);
    assert.equal(activeTokenPositions(e).length, 4);
    assert.equal(activeDerivativePositions(e).length, 4);
    const liquidate = await w.client.liquidatePositionIx({ marketIndex: 0, liqee: erin.account, liqor: frank.account,
      liqorAuthority: frank.wallet.publicKey, maxContracts: 1n });
    measure("liquidate_position, 4 + 4 positions on both sides", [liquidate]);
    await expectError(h, "NotLiquidatable", [erin.account, frank.account], () => w.send([liquidate], [frank.wallet], v0()));
  });
});

describe("sizes", () => {
  test("the table of measured sizes", (t) => {
    const fmt = (s: WireStats) => `${String(s.size).padStart(5)} B ${String(s.accountLocks).padStart(3)} locks${s.fits ? "" : " ✗"}`;
    for (const r of rows) t.diagnostic(`${r.name.padEnd(58)} legacy ${fmt(r.legacy)} | v0 ${fmt(r.v0)}`);
    assert.equal(rows.length, 13, "every measured transaction");
  });
});

// ------------------------------------------------------------------ the table covers every static account

/**
 * Accounts of each instruction that differ per call (users, signers, token
 * accounts) and so are not in the group's table; `"*"` for the instructions
 * that list what the table is extended with afterwards. Every other account of
 * every instruction, and every health account, must be in the table. A new
 * instruction, or a new account of one, fails below until it is named here or
 * added to `groupLookupTableAddresses`.
 */
const PER_CALL_ACCOUNTS: Record<string, string[] | "*"> = {
  accrue_interest: [],
  add_bank: "*",
  add_market: "*",
  add_option_market: "*",
  close_account: ["account", "owner", "rent_receiver"],
  close_market: ["admin", "rent_to"],
  compute_health: ["account"],
  create_account: ["owner", "payer", "account"],
  create_group: "*",
  deposit: ["account", "token_account", "authority"],
  liquidate_position: ["liqee", "liqor", "liqor_authority"],
  liquidate_token: ["liqee", "liqor", "liqor_authority"],
  repay: ["account", "token_account", "authority"],
  resolve_bankruptcy: ["liqee", "liqor", "liqor_authority"],
  sample_price: [],
  set_delegate: ["account", "owner"],
  set_margin_mode: ["account", "authority"],
  set_pause: ["admin"],
  set_volatility: ["admin"],
  settle_dust: ["account"],
  settle_expired: ["account"],
  settle_pnl: ["winner", "loser"],
  take_quote: ["maker", "taker", "taker_authority"],
  trade: ["buyer", "buyer_authority", "seller", "seller_authority"],
  update_bank: ["admin"],
  update_funding: [],
  update_market: ["admin"],
  update_risk_array: [],
  update_risk_grid: ["admin"],
  withdraw: ["account", "token_account", "authority"],
  withdraw_fees: ["admin", "destination"],
};

describe("the lookup table covers every static account", () => {
  test("every instruction's accounts are in the table or per-call", async () => {
    const [u, v] = [await holder([[0, 1_000n * USDC], [1, 1_000n]]), await holder([[0, 1_000n * USDC], [2, 1_000n]])];
    const d: MarginAccountData = await fetchAccount(u.account);
    const liquidating = { ...d, flags: d.flags | AccountFlags.beingLiquidated };
    const c = w.client;
    const admin = w.admin.publicKey;
    const quote = signQuote(v.wallet, { group: c.group, market: marketAddress(c.group, 0), makerAccount: v.account,
      terms: { side: QuoteSide.makerBuys, size: 1n, price: 1n, expirySlot: 1n, nonce: 9n } });
    const pay = { account: u.account, tokenIndex: 1, amount: 1n, tokenAccount: u.tokenAccounts.get(1)!, authority: u.wallet.publicKey };
    const built: Record<string, () => Promise<TransactionInstruction[]>> = {
      accrue_interest: async () => [await c.accrueInterestIx(1)],
      close_account: async () => [await c.closeAccountIx(u.account, u.wallet.publicKey)],
      close_market: async () => [await c.closeMarketIx({ admin, marketIndex: 0, rentTo: admin })],
      compute_health: async () => [await c.computeHealthIx(u.account)],
      create_account: async () => [await c.createAccountIx(u.wallet.publicKey, 1)],
      deposit: async () => [await c.depositIx({ ...pay, accountData: liquidating })],
      liquidate_position: async () => [await c.liquidatePositionIx({ marketIndex: 0, liqee: u.account, liqor: v.account,
        liqorAuthority: v.wallet.publicKey, maxContracts: 1n })],
      liquidate_token: async () => [await c.liquidateTokenIx({ liqee: u.account, liqor: v.account, liqorAuthority: v.wallet.publicKey,
        assetTokenIndex: 1, liabTokenIndex: 0, maxLiabTransfer: 1n })],
      repay: async () => [await c.repayIx({ ...pay, accountData: liquidating })],
      resolve_bankruptcy: async () => [await c.resolveBankruptcyIx(u.account, 0), await c.resolveBankruptcyWithLiquidatorIx({
        liqee: u.account, liabTokenIndex: 1, quoteTokenIndex: 0, liqor: v.account, liqorAuthority: v.wallet.publicKey })],
      sample_price: async () => [await c.samplePriceIx(0)],
      set_delegate: async () => [await c.setDelegateIx(u.account, u.wallet.publicKey, v.wallet.publicKey)],
      set_margin_mode: async () => [await c.setMarginModeIx({ account: u.account, authority: u.wallet.publicKey, mode: 1 })],
      set_pause: async () => [await c.setPauseIx(admin, 0)],
      set_volatility: async () => [await c.setVolatilityIx({ admin, marketIndex: 0, volatilityBps: 6_000 })],
      settle_dust: async () => [await c.settleDustIx(0, u.account)],
      settle_expired: async () => [await c.settleExpiredIx(0, u.account)],
      settle_pnl: async () => [await c.settlePnlIx({ marketIndex: 0, winner: u.account, loser: v.account })],
      take_quote: async () => (await c.takeQuoteIxs({ quote, marketIndex: 0, taker: u.account, takerAuthority: u.wallet.publicKey })).slice(1),
      trade: async () => [await c.tradeIx({ marketIndex: 0, buyer: u.account, buyerAuthority: u.wallet.publicKey, seller: v.account,
        sellerAuthority: v.wallet.publicKey, size: 1n, price: 1n })],
      update_bank: async () => [await c.updateBankIx({ admin, tokenIndex: 1 })],
      update_funding: async () => [await c.updateFundingIx(0)],
      update_market: async () => [await c.updateMarketIx({ admin, marketIndex: 0, args: {} })],
      update_risk_array: async () => [await c.updateRiskArrayIx(0)],
      update_risk_grid: async () => [await c.updateRiskGridIx({ admin, args: {
        priceShocksBps: [-1_500, -750, 0, 750, 1_500], volShocksBps: [-1_000, 0, 1_000],
        shockScaleBps: [12_500, 11_000, 10_000], floorBps: [100, 75, 50], maxAgeSecs: 600, maxDriftBps: 200 } })],
      withdraw: async () => [await c.withdrawIx(pay)],
      withdraw_fees: async () => [await c.withdrawFeesIx({ admin, tokenIndex: 1, destination: u.tokenAccounts.get(1)!, amount: new BN(1) })],
    };
    const inTable = new Set(table.state.addresses.map((k) => k.toBase58()));
    for (const ix of XMARGIN_IDL.instructions) {
      const perCall = PER_CALL_ACCOUNTS[ix.name];
      assert.ok(perCall, `instruction ${ix.name} is new: say which of its accounts are per call in PER_CALL_ACCOUNTS`);
      for (const a of ix.accounts) {
        if (perCall !== "*") {
          assert.ok(!("accounts" in a), `${ix.name}.${a.name}: nested accounts`);
        }
      }
      if (perCall === "*") continue;
      for (const name of perCall) {
        assert.ok(ix.accounts.some((a) => a.name === name), `${ix.name} has no account ${name}: PER_CALL_ACCOUNTS is stale`);
      }
      const build = built[ix.name];
      assert.ok(build, `no builder for ${ix.name} in this test`);
      for (const i of await build()) {
        i.keys.forEach((k, n) => {
          const def = ix.accounts[n];
          if (def && perCall.includes(def.name)) return;
          const what = def ? `account ${def.name}` : `remaining account ${n - ix.accounts.length}`;
          assert.ok(inTable.has(k.pubkey.toBase58()), `${ix.name} ${what} (${k.pubkey.toBase58()}) is not in the group's `
            + "lookup table: add it to groupLookupTableAddresses (app/src/lookupTable.ts) or to PER_CALL_ACCOUNTS here");
        });
      }
    }
  });
});

describe("errors by name", () => {
  test("a failed transaction's custom error decodes to the IDL's name and message", async () => {
    const stranger = await h.newWallet();
    const ix = await w.client.setPauseIx(stranger.publicKey, 0);
    const failure = await w.send([ix], [stranger], v0()).then(() => null, (e: unknown) => e);
    assert.ok(failure instanceof TxFailure, "the stranger cannot pause the group");
    assert.deepEqual({ ...failure.programError, program: failure.programError?.program?.toBase58() }, {
      code: 6000, name: "UnauthorizedAdmin", message: "the signer is not the group admin", source: "xmargin",
      program: w.client.programId.toBase58(), instructionIndex: 1,
    });
    assert.match(failure.message, /^UnauthorizedAdmin \(6000\): the signer is not the group admin in instruction 1/);

    // A view call's failure throws an XmarginProgramError: health accounts of another account.
    const [g, k] = [await holder([[0, 10n * USDC]]), await holder([[1, 1_000n]])];
    await assert.rejects(computeHealth(w.client, g.account, { accountData: await fetchAccount(k.account), lookupTables: [table] }),
      (e: unknown) => e instanceof XmarginProgramError && e.errorName === "HealthAccountMismatch" && e.code >= 6000);
  });
});
