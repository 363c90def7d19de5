/**
 * A keypair-backed Wallet Standard wallet for the page under test only: the
 * wallet object is injected before the page's scripts run
 * (`evaluateOnNewDocument`) and registers itself through the standard's
 * window events (`wallet-standard:register-wallet` / `wallet-standard:app-ready`,
 * what `@wallet-standard/wallet`'s `registerWallet` does); its
 * `solana:signTransaction` calls back into Node (`exposeFunction`), where the
 * keypair signs. Nothing of it ships with the dashboard.
 */
import { type Keypair, VersionedTransaction } from "@solana/web3.js";
import type { Page } from "puppeteer-core";

export interface TestWallet {
  /** Transactions the wallet signed (base64, as signed). */
  signed: string[];
}

/** Registers the wallet in every document `page` loads from now on. */
export async function installTestWallet(page: Page, keypair: Keypair, name = "Test Wallet"): Promise<TestWallet> {
  const state: TestWallet = { signed: [] };
  await page.exposeFunction("__xmarginTestWalletSign", (b64: string): string => {
    const tx = VersionedTransaction.deserialize(Buffer.from(b64, "base64"));
    tx.sign([keypair]);
    const out = Buffer.from(tx.serialize()).toString("base64");
    state.signed.push(out);
    return out;
  });
  // A string, not a function: the test runner's transform would add helpers the page does not have.
  await page.evaluateOnNewDocument(`(${WALLET_SOURCE})(${JSON.stringify(keypair.publicKey.toBase58())}, ${
    JSON.stringify(Array.from(keypair.publicKey.toBytes()))}, ${JSON.stringify(name)})`);
  return state;
}

/** The wallet as page JavaScript (plain ES2020, no imports). */
const WALLET_SOURCE = String.raw`function (address, publicKey, walletName) {
  var toB64 = function (b) { var s = ""; for (var i = 0; i < b.length; i++) s += String.fromCharCode(b[i]); return btoa(s); };
  var fromB64 = function (s) { return Uint8Array.from(atob(s), function (c) { return c.charCodeAt(0); }); };
  var chains = ["solana:localnet", "solana:devnet", "solana:testnet", "solana:mainnet"];
  var account = { address: address, publicKey: new Uint8Array(publicKey), chains: chains,
    features: ["solana:signTransaction"], label: walletName };
  var connected = false;
  var listeners = new Set();
  var emit = function () { listeners.forEach(function (l) { l({ accounts: connected ? [account] : [] }); }); };
  var wallet = {
    version: "1.0.0",
    name: walletName,
    icon: "data:image/svg+xml;base64," + btoa('<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16"><rect width="16" height="16" rx="4" fill="#3b5bdb"/></svg>'),
    chains: chains,
    get accounts() { return connected ? [account] : []; },
    features: {
      "standard:connect": { version: "1.0.0", connect: async function () { connected = true; emit(); return { accounts: [account] }; } },
      "standard:disconnect": { version: "1.0.0", disconnect: async function () { connected = false; emit(); } },
      "standard:events": { version: "1.0.0", on: function (_event, l) { listeners.add(l); return function () { listeners.delete(l); }; } },
      "solana:signTransaction": {
        version: "1.0.0",
        supportedTransactionVersions: ["legacy", 0],
        signTransaction: function () {
          var inputs = Array.prototype.slice.call(arguments);
          return Promise.all(inputs.map(async function (i) {
            var signed = await window.__xmarginTestWalletSign(toB64(i.transaction));
            return { signedTransaction: fromB64(signed) };
          }));
        },
      },
    },
  };
  var callback = function (api) { api.register(wallet); };
  window.addEventListener("wallet-standard:app-ready", function (e) { callback(e.detail); });
  try { window.dispatchEvent(new CustomEvent("wallet-standard:register-wallet", { detail: callback })); }
  catch (error) { console.error("test wallet not registered", error); }
}`;
