/**
 * @xmargin/client — TypeScript client for the xmargin cross-margin program.
 *
 * - `XmarginClient` (client.ts: the derivative-market builders; clientCore.ts: state, loaders,
 *   health accounts in the program's order, the group, bank and account builders): typed
 *   instruction builders for every instruction, account fetch/decode.
 * - pda.ts: the program's PDAs. accounts.ts: decoded account types and views.
 * - quote.ts: maker-signed quotes (message, Ed25519 signature and precompile instruction).
 * - health.ts / fixed.ts: the health estimate (token positions, the sum), bit-exact with the program;
 *   derivativeHealth.ts: perpetual and future positions in it (re-exported by health.ts).
 * - funding.ts: the next funding update of a perpetual, bit-exact with `update_funding`.
 *   estimate.ts: that estimate on live accounts.
 * - deploy.ts: idempotent group and bank deployment from a config, with the group's lookup table;
 *   deployOptions.ts: the config's option series (every expiry × strike × kind, with first risk arrays).
 * - lookupTable.ts: the group's address lookup table (addresses, create, extend, find).
 * - transaction.ts: v0 transactions with lookup tables and a compute budget; wire size and account locks.
 * - view.ts: `computeHealth`, the program's valuation by simulating `compute_health`.
 * - errors.ts: program errors by name (the IDL's and Anchor's). events.ts: events from transaction logs.
 * - amounts.ts: native ↔ UI amounts, exact. limits.ts: max withdraw and max borrow (the engine's closed form).
 *   liquidationPrice.ts: the price of a token at which the account becomes liquidatable (the engine's search).
 * - marketView.ts: a market's state at a clock, volatility in force, risk-array header and freshness (display).
 * - optionHealth.ts: option positions in the health estimate, from the market's risk array (bit-exact),
 *   a settled market's as realised PnL.
 * - portfolioHealth.ts: the estimate in portfolio margin mode (books per underlying, bit-exact);
 *   riskGrid.ts: the group's scenario grid and portfolio parameters (`groupRiskGrid` decodes them).
 * - idl/: the IDL and its TypeScript type, generated from the program (scripts/idl).
 */
export * from "./accounts.ts";
export * from "./amounts.ts";
export * from "./client.ts";
export * from "./deploy.ts";
export * from "./deployOptions.ts";
export * from "./errors.ts";
export * from "./estimate.ts";
export * from "./events.ts";
export * from "./funding.ts";
export * from "./health.ts";
export * from "./limits.ts";
export * from "./liquidationPrice.ts";
export * from "./lookupTable.ts";
export * from "./optionHealth.ts";
export * from "./portfolioHealth.ts";
export * from "./riskGrid.ts";
export * from "./marketView.ts";
export * from "./pda.ts";
export * from "./quote.ts";
export * from "./transaction.ts";
export * from "./view.ts";
export * as fixed from "./fixed.ts";
export type { Xmargin } from "./idl/xmargin.ts";
