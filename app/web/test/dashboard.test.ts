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
import { computeHealth } from "../../src/view.ts";
import { type Harness, makeHarness, ROOT } from "../../../tests/support/harness.ts";
import type { User } from "../../../tests/support/world.ts";
import { type Scenario, setupScenario } from "./scenario.ts";
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
    // Deposits: the lender's 1,000,000 USDC (no interest accrued: the deposit index starts at 1).
    assert.match(await page.$eval('[data-testid="deposits-USDC"]', (el) => el.textContent ?? ""), /^1,000,000(\.\d+)?$/);
    assert.match(await page.$eval('[data-testid="oi-SOL-PERP"]', (el) => el.textContent ?? ""), /^20 \(0\.2 SOL\)$/);
    await page.waitForSelector('[data-testid="accounts"] tbody tr');
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="accounts"] tbody tr').length === n, {}, 4);
    const band = (u: User) => page.$eval(`[data-testid="accounts"] tr[data-account="${u.account.toBase58()}"] .band`,
      (el) => el.className.replace("band ", ""));
    assert.equal(await band(s.healthy), "healthy");
    assert.equal(await band(s.marginCall), "marginCall");
    assert.equal(await band(s.liquidatable), "liquidatable");
    assert.equal(await page.$eval('[data-testid="live"]', (el) => el.textContent), "● live");
    await page.screenshot({ path: join(SHOTS, "group.png"), fullPage: true });
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
        await page.screenshot({ path: join(SHOTS, "account.png"), fullPage: true });
      }
      if (which === "liquidatable") {
        await page.setViewport({ width: 375, height: 812, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
        await page.waitForSelector('[data-testid="health-chart"]');
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow} px at 375 px`);
        await page.screenshot({ path: join(SHOTS, "account-phone.png"), fullPage: true });
      }
      await page.close();
    });
  }

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

