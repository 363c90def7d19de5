/**
 * Deploys a group and its banks from a JSON config, idempotently (see
 * app/src/deploy.ts). Two ways to run it:
 *
 *   anchor migrate                       (Anchor calls the exported function with its provider)
 *   npm run migrate -- <config.json> [--update]
 *                                        (ANCHOR_PROVIDER_URL, ANCHOR_WALLET from the environment)
 *
 * The config file defaults to $XMARGIN_DEPLOY_CONFIG or migrations/config.json.
 * After the banks it creates the group's address lookup table (or extends it
 * with new banks and markets) and prints its address: put it in the config's
 * `lookupTable` to pin it, and hand it to clients for v0 transactions.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { AnchorProvider, type Provider, Wallet } from "@anchor-lang/core";
import { Connection, Keypair } from "@solana/web3.js";
import { type DeployConfig, type DeployReport, deploy } from "../app/src/deploy.ts";

function loadConfig(path?: string): DeployConfig {
  const file = path ?? process.env.XMARGIN_DEPLOY_CONFIG ?? join(__dirname, "config.json");
  return JSON.parse(readFileSync(file, "utf8")) as DeployConfig;
}

/** The report's one-line summary: the group, what changed, and its lookup table. */
function summary(r: DeployReport): string {
  const table = r.lookupTable
    ? `; lookup table ${r.lookupTable.toBase58()} (${r.lookupTableCreated ? "created" : `${r.lookupTableAdded} addresses added`})`
    : "";
  return `group ${r.group.toBase58()}: created [${r.created.join(", ")}], updated [${r.updated.join(", ")}], `
    + `unchanged [${r.unchanged.join(", ")}]${table}`;
}

async function migrate(provider: Provider): Promise<void> {
  const report = await deploy(provider, loadConfig(), { log: (s) => console.log(s) });
  console.log(summary(report));
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const url = process.env.ANCHOR_PROVIDER_URL ?? "http://127.0.0.1:8899";
  const walletPath = (process.env.ANCHOR_WALLET ?? "~/.config/solana/id.json").replace(/^~/, process.env.HOME ?? "~");
  const payer = Keypair.fromSecretKey(Uint8Array.from(JSON.parse(readFileSync(walletPath, "utf8")) as number[]));
  const provider = new AnchorProvider(new Connection(url, "confirmed"), new Wallet(payer), { commitment: "confirmed" });
  const config = loadConfig(args.find((a) => !a.startsWith("--")));
  deploy(provider, config, { update: args.includes("--update"), log: (s) => console.log(s) })
    .then((r) => console.log(summary(r)))
    .catch((e: unknown) => {
      console.error(e instanceof Error ? e.message : e);
      process.exit(1);
    });
}

module.exports = migrate;
