/**
 * The dashboard in a real Chromium (the distribution's package, driven by
 * puppeteer-core) against a real solana-test-validator (scripts/localnet):
 * the built page is served locally, the scenario (test/scenario.ts) puts one
 * account in each health band, and the tests read what the page shows.
 *
 *   scripts/web-test     (starts the validator, builds the page, runs this, stops the validator)
 *
 * Needs ANCHOR_PROVIDER_URL and ANCHOR_WALLET (a funded or airdroppable key),
 * and Chromium (CHROMIUM_PATH, else /usr/bin/chromium).
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import type { Server } from "node:http";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type Browser, launch, type Page } from "puppeteer-core";
import { SYSVAR_CLOCK_PUBKEY } from "@solana/web3.js";
import { XmarginErrorCode } from "../../src/client.ts";
import { activeDerivativePositions, fixedRaw, fixedToNumber } from "../../src/index.ts";
import { computeHealth } from "../../src/view.ts";
import { type Harness, makeHarness, ROOT } from "../../../tests/support/harness.ts";
import type { User } from "../../../tests/support/world.ts";
import { MARKETS, type Scenario, setupScenario } from "./scenario.ts";
import { serveStatic } from "./serve.ts";
import { installTestWallet } from "./testWallet.ts";

const SHOTS = join(ROOT, "docs/screenshots");
const SOL = 1_000_000_000n;

function chromiumPath(): string {
  const found = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
    .find((p) => p && existsSync(p));
  if (!found) throw new Error("no Chromium: apt-get install -y chromium, or set CHROMIUM_PATH");
  return found;
}

let h: Harness;
let s: Scenario;
let server: Server;
let base: string;
let browser: Browser;
const pageErrors: string[] = [];

async function clock(): Promise<bigint> {
  const info = await h.provider.connection.getAccountInfo(SYSVAR_CLOCK_PUBKEY, "confirmed");
  return info!.data.readBigInt64LE(32);
}

function pageUrl(params: Record<string, string> = {}): string {
  const q = new URLSearchParams({ rpc: h.provider.connection.rpcEndpoint, group: s.group.toBase58(), ...params });
  return `${base}?${q}`;
}

async function newPage(width = 1280, height = 900): Promise<Page> {
  const page = await browser.newPage();
  await page.setViewport({ width, height, deviceScaleFactor: 1 });
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") pageErrors.push(m.text()); });
  page.setDefaultTimeout(60_000);
  return page;
}

/** The page's health of the account in view: raw quote native values and the clock it valued them at. */
async function shownHealth(page: Page) {
  await page.waitForSelector('[data-testid="health-init"][data-raw]:not([data-raw=""])');
  // No named helpers inside evaluated functions: the test transform would wrap them in a helper the page lacks.
  return page.evaluate(() => ({
    init: document.querySelector('[data-testid="health-init"]')!.getAttribute("data-raw")!,
    maint: document.querySelector('[data-testid="health-maint"]')!.getAttribute("data-raw")!,
    liqEnd: document.querySelector('[data-testid="health-liqEnd"]')!.getAttribute("data-raw")!,
    band: document.querySelector('[data-testid="band"]')!.getAttribute("data-band"),
    now: document.querySelector('[data-testid="account-now"]')!.getAttribute("data-now"),
    address: document.querySelector('[data-testid="account-address"]')!.textContent,
  }));
}

/** A market as the chain holds it (decoded directly, not through the page's model). */
async function chainMarket(index: number) {
  const client = s.world.client;
  return client.program.account.market.fetch(client.market(index).address);
}

/** Dollars with at most 4 decimals, truncated, trailing zeros dropped, as the page prints a model value (quote native, ≥ 0). */
function dollars4(native: bigint): string {
  const frac = (native % 1_000_000n).toString().padStart(6, "0").slice(0, 4).replace(/0+$/, "");
  return `$${(native / 1_000_000n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",")}${frac ? `.${frac}` : ""}`;
}

/** The page's text and data attributes of one derivative-position row. */
async function derivativeRowShown(page: Page, market: string) {
  return page.$eval(`[data-testid="derivatives"] tr[data-market="${market}"]`, (row) => ({
    contracts: row.getAttribute("data-contracts"), quoteCost: row.getAttribute("data-quote-cost"),
    realized: row.getAttribute("data-realized"), funding: row.getAttribute("data-funding"),
    value: row.getAttribute("data-value"), upnl: row.getAttribute("data-upnl"),
    init: row.querySelector('[data-testid^="init-contrib-"]')!.getAttribute("data-raw"),
    maint: row.querySelector('[data-testid^="maint-contrib-"]')!.getAttribute("data-raw"),
    initReason: row.querySelector('[data-testid^="init-contrib-"]')!.getAttribute("data-reason"),
    initText: row.querySelector('[data-testid^="init-contrib-"]')!.textContent,
  }));
}

async function shownBalance(page: Page, symbol: string): Promise<bigint> {
  const v = await page.evaluate((sym) => {
    const row = document.querySelector(`[data-testid="positions"] tr[data-token="${sym}"]`);
    return row ? row.getAttribute("data-balance") : "0";
  }, symbol);
  return BigInt(v ?? "0");
}

async function waitForBalance(page: Page, symbol: string, want: bigint): Promise<void> {
  await page.waitForFunction((sym, w) => {
    const row = document.querySelector(`[data-testid="positions"] tr[data-token="${sym}"]`);
    return row !== null && row.getAttribute("data-balance") === w;
  }, { timeout: 30_000 }, symbol, want.toString());
}

async function act(page: Page, kind: "deposit" | "withdraw" | "borrow" | "repay", symbol: string, amount: string) {
  await page.select('[data-testid="action-token"]', await page.$eval('[data-testid="action-token"]', (el, sym) =>
    Array.from((el as HTMLSelectElement).options).find((o) => o.textContent === sym)!.value, symbol));
  const input = await page.$('[data-testid="action-amount"]');
  await input!.click({ count: 3 });
  await input!.type(amount);
  const seq = await page.evaluate(() => Number(document.querySelector('[data-testid="action-status"]')?.getAttribute("data-seq") ?? "0"));
  await page.click(`[data-testid="action-${kind}"]`);
  await page.waitForFunction((prev) => {
    const el = document.querySelector('[data-testid="action-status"]');
    return el !== null && Number(el.getAttribute("data-seq")) > prev && el.getAttribute("data-state") !== "busy";
  }, { timeout: 60_000 }, seq);
  return page.$eval('[data-testid="action-status"]', (el) => ({
    state: el.getAttribute("data-state"), name: el.getAttribute("data-error-name"), text: el.textContent ?? "",
  }));
}

describe("dashboard in Chromium against solana-test-validator", { timeout: 600_000 }, () => {
  before(async () => {
    h = await makeHarness();
    assert.equal(h.mode, "rpc", "the browser tests need a real validator: run scripts/web-test");
    s = await setupScenario(h, (m) => console.log(`# scenario: ${m}`));
    ({ url: base, server } = await serveStatic(join(__dirname, "../dist")));
    browser = await launch({ executablePath: chromiumPath(), headless: true,
      args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"] });
    mkdirSync(SHOTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    server?.close();
  });

  test("group view: every bank with its oracle, the SOL perpetual's open interest, the accounts by band", async () => {
    const page = await newPage();
    await page.goto(pageUrl(), { waitUntil: "domcontentloaded" });
    await page.waitForSelector('[data-testid="banks"] tbody tr[data-token="ETH"]');
    const banks = await page.$$eval('[data-testid="banks"] tbody tr', (rows) => rows.map((r) => r.getAttribute("data-token")));
    assert.deepEqual(banks, ["USDC", "SOL", "BTC", "ETH"]);
    // The preloaded test oracles: SOL 150, BTC 60,000 (tests/support/pyth.ts).
    assert.equal(await page.$eval('[data-testid="oracle-SOL"]', (el) => el.textContent), "$150.00");
    assert.equal(await page.$eval('[data-testid="oracle-BTC"]', (el) => el.textContent), "$60,000.00");
    // Deposits: the lender's 1,000,000 USDC and the option holder's 1,000 (no interest accrued: the deposit index starts at 1).
    assert.match(await page.$eval('[data-testid="deposits-USDC"]', (el) => el.textContent ?? ""), /^1,001,000(\.\d+)?$/);
    assert.match(await page.$eval('[data-testid="oi-SOL-PERP"]', (el) => el.textContent ?? ""), /^20 \(0\.2 SOL\)$/);
    await page.waitForSelector('[data-testid="accounts"] tbody tr');
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="accounts"] tbody tr').length === n, {}, 5);
    const band = (u: User) => page.$eval(`[data-testid="accounts"] tr[data-account="${u.account.toBase58()}"] .band`,
      (el) => el.className.replace("band ", ""));
    assert.equal(await band(s.healthy), "healthy");
    assert.equal(await band(s.marginCall), "marginCall");
    assert.equal(await band(s.liquidatable), "liquidatable");
    assert.equal(await band(s.optionHolder), "healthy", "an account holding options: compute_health's band");
    assert.equal(await page.$eval('[data-testid="live"]', (el) => el.textContent), "● live");
    await page.screenshot({ path: join(SHOTS, "group.png"), fullPage: true });
    await page.close();
  });

  test("markets table: every market with what the chain holds (kind, terms, open interest, funding, volatility, model value, array)", async () => {
    const page = await newPage();
    await page.goto(pageUrl(), { waitUntil: "domcontentloaded" });
    await page.waitForSelector('[data-testid="markets"] tr[data-market="SOL-CALL"]');
    const rows = await page.$$eval('[data-testid="markets"] tbody tr', (trs) => trs.map((r) => [r.getAttribute("data-market"), r.getAttribute("data-state")]));
    assert.deepEqual(rows, [["SOL-PERP", "active"], ["SOL-FUT", "active"], ["SOL-CALL", "active"]]);
    const text = (id: string) => page.$eval(`[data-testid="${id}"]`, (el) => el.textContent ?? "");
    const attr = (id: string, a: string) => page.$eval(`[data-testid="${id}"]`, (el, n) => el.getAttribute(n), a);
    const date = (ts: { toString(): string }) => new Date(Number(ts.toString()) * 1000).toISOString().slice(0, 10);
    for (const [name, index] of [["SOL-PERP", MARKETS.perp], ["SOL-FUT", MARKETS.future], ["SOL-CALL", MARKETS.call]] as const) {
      const m = await chainMarket(index);
      assert.equal(await attr(`oi-${name}`, "data-oi"), m.openInterest.toString(), `${name} open interest`);
      assert.equal(await text(`market-oracle-${name}`), "$150.00");
      assert.equal(await text(`stable-${name}`), `$${(fixedToNumber(fixedRaw(m.stablePrice)) * 10 ** (m.underlyingDecimals - 6))
        .toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`, `${name} stable price`);
      if (index === MARKETS.perp) {
        assert.equal(Number(await attr(`funding-${name}`, "data-rate")), fixedToNumber(fixedRaw(m.lastFundingRate)));
        assert.equal(await attr(`funding-ts-${name}`, "data-ts"), m.lastFundingTs.toString());
        assert.equal(await text(`kind-${name}`), "perp");
      }
      if (index === MARKETS.future) assert.equal(await text(`kind-${name}`), `future · ${date(m.expiryTs)}`);
      if (index === MARKETS.call) {
        assert.equal(await text(`kind-${name}`), `call $165.00 · ${date(m.expiryTs)}`);
        assert.equal(await text(`vol-${name}`), "60.0%");
        const perContract = (fixedRaw(m.riskArray.value) * BigInt(m.contractSize.toString())) >> 48n;
        assert.equal(await attr(`model-${name}`, "data-per-contract"), perContract.toString());
        assert.equal(await text(`model-${name}`), `${dollars4(perContract)} /ct`);
        assert.equal(await attr(`array-${name}`, "data-computed-at"), m.riskArray.computedAt.toString());
        assert.equal(await attr(`array-${name}`, "data-freshness"), "fresh", "computed moments ago at the oracle's price");
        assert.match(await text(`array-${name}`), /^fresh · \d+ (s|min)$/);
      }
    }
    // Phone width: the page itself never scrolls sideways (wide tables scroll inside their cards).
    await page.setViewport({ width: 390, height: 844, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    await page.waitForSelector('[data-testid="markets"]');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the group view scrolls sideways by ${overflow} px at 390 px`);
    await page.screenshot({ path: join(SHOTS, "group-phone.png"), fullPage: true });
    await page.close();
  });

  for (const which of ["healthy", "marginCall", "liquidatable"] as const) {
    test(`account view of the ${which} account shows compute_health's Init, Maint, LiquidationEnd and band`, async () => {
      const page = await newPage();
      const account = s[which].account;
      let compared = false;
      // The page values the account at the cluster's clock; compute_health runs at the slot it is simulated in.
      // Compare when both read the same second (the debt projection moves with the clock).
      for (let attempt = 0; attempt < 10 && !compared; attempt++) {
        await page.goto(pageUrl({ account: account.toBase58() }), { waitUntil: "domcontentloaded" });
        const shown = await shownHealth(page);
        assert.equal(shown.address, account.toBase58());
        const before = await clock();
        const onChain = await computeHealth(s.world.client, account);
        const afterClock = await clock();
        if (BigInt(shown.now!) !== before || before !== afterClock) continue;
        assert.equal(shown.init, onChain.init.toString(), "Init health");
        assert.equal(shown.maint, onChain.maint.toString(), "Maint health");
        assert.equal(shown.liqEnd, onChain.liquidationEnd.toString(), "LiquidationEnd health");
        assert.equal(shown.band, onChain.bandName);
        assert.equal(onChain.bandName, which, `the scenario puts this account in ${which}`);
        console.log(`# ${which}: page = compute_health at cluster time ${before} (attempt ${attempt + 1}): `
          + `init ${shown.init}, maint ${shown.maint}, liqEnd ${shown.liqEnd}`);
        compared = true;
      }
      assert.ok(compared, "page and compute_health never read the same clock second in 10 tries");
      // Limits and liquidation prices are shown per token; the chart is drawn.
      await page.waitForSelector('[data-testid="health-chart"] path.chart-line');
      const liq = await page.$eval('[data-testid="liq-price-BTC"]', (el) => el.textContent ?? "");
      if (which === "liquidatable") assert.equal(liq, "$60,000.00", "a liquidatable account's liquidation price is the current price");
      else if (which === "marginCall") assert.match(liq, /^\$5\d,\d{3}\.\d{2}$/, "BTC liquidation price below 60,000");
      if (which === "marginCall") {
        assert.equal(await page.$eval('[data-testid="max-borrow-USDC"]', (el) => el.textContent), "0", "no borrowing below Init");
      }
      if (which === "healthy") {
        // The perpetual position as the chain holds it, and every contribution adding up to the health shown.
        const data = await s.world.client.fetchMarginAccount(account);
        const [pos] = activeDerivativePositions(data);
        const market = await chainMarket(MARKETS.perp);
        const row = await derivativeRowShown(page, "SOL-PERP");
        assert.equal(row.contracts, pos.baseContracts.toString());
        assert.equal(row.contracts, "20");
        assert.equal(row.quoteCost, pos.quoteCost.toString());
        assert.equal(row.realized, pos.realizedPnl.toString());
        // Pending funding: ⌊−contracts · (cum_funding − snapshot)⌋ (0 while no funding update has run).
        const owed = -((fixedRaw(market.cumFunding) - pos.fundingSnapshot) * pos.baseContracts);
        assert.equal(row.funding, (owed >> 48n).toString());
        assert.equal(BigInt(row.upnl!), BigInt(row.value!) - pos.quoteCost);
        const tokenRaw = await page.$$eval('[data-testid="positions"] tbody tr', (trs) => trs.map((r) =>
          [r.getAttribute("data-init-raw"), r.getAttribute("data-maint-raw")]));
        const sum = (k: 0 | 1, d: string) => (tokenRaw.reduce((acc, r) => acc + BigInt(r[k]!), 0n) + BigInt(d)) >> 48n;
        const shown = await shownHealth(page);
        assert.equal(sum(0, row.init!).toString(), shown.init, "token and perpetual Init contributions add up to Init health");
        assert.equal(sum(1, row.maint!).toString(), shown.maint, "and Maint");
        await page.screenshot({ path: join(SHOTS, "account.png"), fullPage: true });
      }
      if (which === "liquidatable") {
        await page.setViewport({ width: 390, height: 844, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
        await page.waitForSelector('[data-testid="health-chart"]');
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow} px at 390 px`);
        await page.screenshot({ path: join(SHOTS, "account-phone.png"), fullPage: true });
      }
      await page.close();
    });
  }

  test("an account holding options: the call's row from the chain, health equal to compute_health, contributions or the reason", async () => {
    const page = await newPage();
    const account = s.optionHolder.account;
    let compared = false;
    for (let attempt = 0; attempt < 10 && !compared; attempt++) {
      await page.goto(pageUrl({ account: account.toBase58() }), { waitUntil: "domcontentloaded" });
      const shown = await shownHealth(page);
      const before = await clock();
      const onChain = await computeHealth(s.world.client, account);
      if (BigInt(shown.now!) !== before || before !== (await clock())) continue;
      assert.equal(shown.init, onChain.init.toString(), "Init health");
      assert.equal(shown.maint, onChain.maint.toString(), "Maint health");
      assert.equal(shown.band, onChain.bandName);
      compared = true;
    }
    assert.ok(compared, "page and compute_health never read the same clock second in 10 tries");
    const [pos] = activeDerivativePositions(await s.world.client.fetchMarginAccount(account));
    const market = await chainMarket(MARKETS.call);
    const row = await derivativeRowShown(page, "SOL-CALL");
    assert.equal(row.contracts, pos.baseContracts.toString());
    assert.equal(row.contracts, "10");
    assert.equal(row.quoteCost, pos.quoteCost.toString());
    // Valued at the risk array's model value: contracts · contract size · value per underlying native unit, to the nearest unit.
    const value = (pos.baseContracts * BigInt(market.contractSize.toString()) * fixedRaw(market.riskArray.value) + (1n << 47n)) >> 48n;
    assert.equal(row.value, value.toString());
    assert.equal(row.upnl, (value - pos.quoteCost).toString());
    const source = await page.$eval('[data-testid="health-source"]', (el) => el.getAttribute("data-source"));
    if (source === "compute_health") {
      // The client's estimate cannot value the option: "—" and the reason, footnoted.
      assert.equal(row.init, null, "no Init contribution for an option the estimate cannot value");
      assert.match(row.initText ?? "", /^— \*$/);
      assert.ok((row.initReason ?? "").length > 0);
      assert.equal(await page.$eval('[data-testid="contribution-reason"]', (el) => el.textContent ?? ""), `* ${row.initReason}`);
    } else {
      // The estimate values options: token and option contributions add up to the health shown.
      assert.equal(source, "estimate");
      const tokenRaw = await page.$$eval('[data-testid="positions"] tbody tr', (trs) => trs.map((r) =>
        [r.getAttribute("data-init-raw"), r.getAttribute("data-maint-raw")]));
      const shown = await shownHealth(page);
      assert.equal(((tokenRaw.reduce((acc, r) => acc + BigInt(r[0]!), 0n) + BigInt(row.init!)) >> 48n).toString(), shown.init);
      assert.equal(((tokenRaw.reduce((acc, r) => acc + BigInt(r[1]!), 0n) + BigInt(row.maint!)) >> 48n).toString(), shown.maint);
    }
    console.log(`# option holder valued by ${source}`);
    await page.screenshot({ path: join(SHOTS, "account-options.png"), fullPage: true });
    await page.setViewport({ width: 390, height: 844, deviceScaleFactor: 1, isMobile: true, hasTouch: true });
    await page.waitForSelector('[data-testid="derivatives"]');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the account view with derivative positions scrolls sideways by ${overflow} px at 390 px`);
    await page.close();
  });

  test("a Wallet Standard test wallet deposits and withdraws SOL and the balances change", async () => {
    const page = await newPage();
    const wallet = await installTestWallet(page, s.healthy.wallet);
    await page.goto(pageUrl(), { waitUntil: "domcontentloaded" });
    await page.waitForSelector('[data-testid="connect-wallet"]');
    await page.click('[data-testid="connect-wallet"]');
    await page.waitForSelector('[data-testid="actions"]');
    assert.equal(await page.$eval('[data-testid="account-address"]', (el) => el.textContent), s.healthy.account.toBase58());
    const before = await shownBalance(page, "SOL");
    assert.equal(before, await s.world.nativeBalance(s.healthy.account, "sol"));
    const walletBefore = await s.world.tokenBalance(s.healthy.tokenAccounts.sol);

    const dep = await act(page, "deposit", "SOL", "1.5");
    assert.equal(dep.state, "ok", dep.text);
    await waitForBalance(page, "SOL", before + 3n * SOL / 2n);
    assert.equal(await s.world.nativeBalance(s.healthy.account, "sol"), before + 3n * SOL / 2n);
    assert.equal(await s.world.tokenBalance(s.healthy.tokenAccounts.sol), walletBefore - 3n * SOL / 2n);

    const wd = await act(page, "withdraw", "SOL", "1.5");
    assert.equal(wd.state, "ok", wd.text);
    await waitForBalance(page, "SOL", before);
    assert.equal(await s.world.nativeBalance(s.healthy.account, "sol"), before);
    assert.equal(await s.world.tokenBalance(s.healthy.tokenAccounts.sol), walletBefore);
    assert.equal(wallet.signed.length, 2, "the wallet signed the deposit and the withdraw");
    await page.close();
  });

  test("the test wallet borrows and repays USDC: the debt grows by the borrow and shrinks by the repay", async () => {
    const page = await newPage();
    const wallet = await installTestWallet(page, s.healthy.wallet);
    await page.goto(pageUrl(), { waitUntil: "domcontentloaded" });
    await page.waitForSelector('[data-testid="connect-wallet"]');
    await page.click('[data-testid="connect-wallet"]');
    await page.waitForSelector('[data-testid="actions"]');
    const USDC = 1_000_000n;
    const debt0 = await s.world.nativeBalance(s.healthy.account, "usdc");
    const wallet0 = await s.world.tokenBalance(s.healthy.tokenAccounts.usdc);
    assert.ok(debt0 < 0n, "the healthy account borrows USDC");
    const borrow = await act(page, "borrow", "USDC", "25");
    assert.equal(borrow.state, "ok", borrow.text);
    // Interest accrues meanwhile: the debt is at least 25 USDC larger, by less than a cent more.
    const debt1 = await s.world.nativeBalance(s.healthy.account, "usdc");
    assert.ok(debt1 <= debt0 - 25n * USDC && debt1 > debt0 - 25n * USDC - 10_000n, `debt ${debt0} → ${debt1}`);
    assert.equal(await s.world.tokenBalance(s.healthy.tokenAccounts.usdc), wallet0 + 25n * USDC);
    await page.waitForFunction((limit) => {
      const row = document.querySelector('[data-testid="positions"] tr[data-token="USDC"]');
      return row !== null && BigInt(row.getAttribute("data-balance") ?? "0") <= BigInt(limit);
    }, { timeout: 30_000 }, (debt0 - 25n * USDC).toString());
    const repay = await act(page, "repay", "USDC", "25");
    assert.equal(repay.state, "ok", repay.text);
    const debt2 = await s.world.nativeBalance(s.healthy.account, "usdc");
    assert.ok(debt2 <= debt0 && debt2 > debt0 - 10_000n, `debt ${debt0} → ${debt2} after the repay`);
    assert.equal(await s.world.tokenBalance(s.healthy.tokenAccounts.usdc), wallet0);
    await page.waitForFunction((limit) => {
      const row = document.querySelector('[data-testid="positions"] tr[data-token="USDC"]');
      return row !== null && BigInt(row.getAttribute("data-balance") ?? "0") > BigInt(limit);
    }, { timeout: 30_000 }, (debt0 - 10n * USDC).toString());
    assert.equal(wallet.signed.length, 2);
    await page.close();
  });

  test("a failing withdraw shows the program error by name and signs nothing", async () => {
    const page = await newPage();
    const wallet = await installTestWallet(page, s.healthy.wallet);
    await page.goto(pageUrl(), { waitUntil: "domcontentloaded" });
    await page.waitForSelector('[data-testid="connect-wallet"]');
    await page.click('[data-testid="connect-wallet"]');
    await page.waitForSelector('[data-testid="actions"]');
    const before = await s.world.nativeBalance(s.healthy.account, "sol");
    // The whole SOL deposit while 300 USDC are borrowed: Init health would go below 0.
    const res = await act(page, "withdraw", "SOL", (Number(before) / 1e9).toString());
    assert.equal(res.state, "error");
    assert.equal(res.name, "HealthTooLow", res.text);
    assert.match(res.text, new RegExp(`HealthTooLow \\(${XmarginErrorCode.HealthTooLow}\\)`));
    assert.equal(await s.world.nativeBalance(s.healthy.account, "sol"), before);
    assert.equal(wallet.signed.length, 0, "the failure is caught by simulation before the wallet signs");
    await page.close();
  });

  test("live: a deposit made elsewhere appears through the account subscription, without a reload", async () => {
    const page = await newPage();
    await page.goto(pageUrl({ account: s.healthy.account.toBase58() }), { waitUntil: "domcontentloaded" });
    await shownHealth(page);
    const before = await shownBalance(page, "SOL");
    await s.world.deposit(s.healthy, "sol", SOL / 4n);
    await waitForBalance(page, "SOL", before + SOL / 4n);
    await page.close();
  });

  test("an unreachable RPC shows an error, read-only without a wallet", async () => {
    const page = await newPage(375, 812);
    await page.goto(`${base}?rpc=${encodeURIComponent("http://127.0.0.1:59999")}`, { waitUntil: "domcontentloaded" });
    await page.waitForSelector('[data-testid="rpc-error"]');
    assert.match(await page.$eval('[data-testid="rpc-error"]', (el) => el.textContent ?? ""), /Cannot reach http:\/\/127\.0\.0\.1:59999/);
    assert.match(await page.$eval('[data-testid="wallet"]', (el) => el.textContent ?? ""), /No Wallet Standard wallet/);
    await page.close();
  });

  test("no uncaught errors in the page", () => {
    const unexpected = pageErrors.filter((e) => !/127\.0\.0\.1:59999|ERR_CONNECTION_REFUSED|Failed to load resource|ws error|WebSocket/i.test(e));
    assert.deepEqual(unexpected, []);
  });
});

