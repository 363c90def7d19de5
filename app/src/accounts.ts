/**
 * Decoded account types (from the IDL) and the views the client needs on them:
 * fixed-point fields as `bigint`, active positions in slot order, and the
 * health-account order the program expects (see `programs/xmargin/src/health/`).
 */
import type { BN, IdlAccounts, IdlTypes } from "@anchor-lang/core";
import { Buffer } from "buffer";
import type { Xmargin } from "./idl/xmargin.ts";

export type GroupData = IdlAccounts<Xmargin>["group"];
export type BankData = IdlAccounts<Xmargin>["bank"];
export type MarginAccountData = IdlAccounts<Xmargin>["marginAccount"];
export type MarketData = IdlAccounts<Xmargin>["market"];
export type HealthView = IdlTypes<Xmargin>["healthView"];
export type DerivativePositionData = MarginAccountData["derivatives"][number];

/** Token positions per margin account (`MAX_TOKEN_POSITIONS`). */
export const MAX_TOKEN_POSITIONS = 16;
/** Derivative positions per margin account (`MAX_DERIVATIVE_POSITIONS`). */
export const MAX_DERIVATIVE_POSITIONS = 16;

/** Bits of `MarginAccount.flags`. */
export const AccountFlags = { beingLiquidated: 1, bankrupt: 2, portfolioMode: 4 } as const;
/** `set_margin_mode`'s argument. */
export const MarginMode = { linear: 0, portfolio: 1 } as const;

/** Bits of `Group.pauseFlags`. */
export const PauseFlags = { deposits: 1, withdrawals: 2, liquidations: 4, trading: 8, all: 15 } as const;

/** Health bands of `compute_health` (`HealthView.band`). */
export const HealthBandCode = { healthy: 0, marginCall: 1, liquidatable: 2 } as const;

/** Byte offset of `MarginAccount.group` (after the discriminator): a `getProgramAccounts` memcmp filter. */
export const MARGIN_ACCOUNT_GROUP_OFFSET = 8;
/** Byte offset of `MarginAccount.owner`. */
export const MARGIN_ACCOUNT_OWNER_OFFSET = 40;

/**
 * A stored I80F48 (`StoredFixed`, two little-endian u64 limbs of an i128) as
 * its raw signed 128-bit value: `value = raw / 2^48`.
 */
export function fixedRaw(stored: { limbs: BN[] }): bigint {
  const lo = BigInt(stored.limbs[0].toString());
  const hi = BigInt(stored.limbs[1].toString());
  return BigInt.asIntN(128, (hi << 64n) | lo);
}

/** A raw I80F48 as a JS number (display only: loses precision beyond 2^53). */
export function fixedToNumber(raw: bigint): number {
  return Number(raw) / 2 ** 48;
}

export interface TokenPositionView {
  slot: number;
  tokenIndex: number;
  /** Raw I80F48 shares: positive deposit shares, negative borrow shares. */
  shares: bigint;
}

/** Active token positions in slot order (the order health accounts follow). */
export function activeTokenPositions(account: MarginAccountData): TokenPositionView[] {
  const out: TokenPositionView[] = [];
  account.tokens.forEach((p, slot) => {
    if (p.inUse !== 0) out.push({ slot, tokenIndex: p.tokenIndex, shares: fixedRaw(p.shares) });
  });
  return out;
}

/**
 * Token indices of the account's positions in slot order after opening
 * `opening` (each in the first free slot if not active yet): the program opens
 * an instruction's own positions before reading health accounts.
 */
export function healthSlots(account: MarginAccountData | null, opening: number[] = []): number[] {
  const slots: (number | null)[] = account
    ? account.tokens.map((p) => (p.inUse !== 0 ? p.tokenIndex : null))
    : new Array<number | null>(MAX_TOKEN_POSITIONS).fill(null);
  for (const t of opening) {
    if (slots.includes(t)) continue;
    const free = slots.indexOf(null);
    if (free >= 0) slots[free] = t;
  }
  return slots.filter((s): s is number => s !== null);
}

/** Native balance of a position, rounded down as the program does (`shares · index`). */
export function positionNativeBalance(bank: BankData, shares: bigint): bigint {
  const index = shares < 0n ? fixedRaw(bank.borrowIndex) : fixedRaw(bank.depositIndex);
  return (shares * index) >> 96n; // raw·raw = value·2^96; >> floors toward −∞
}

export interface DerivativePositionView {
  slot: number;
  marketIndex: number;
  /** Signed contracts, long > 0. */
  baseContracts: bigint;
  /** Quote native paid for the open base (> 0 long, < 0 short). */
  quoteCost: bigint;
  /** Realised PnL not yet settled into the quote bank (quote native). */
  realizedPnl: bigint;
  /** Raw I80F48 `Market::cum_funding` at the last funding settlement. */
  fundingSnapshot: bigint;
}

const big = (v: { toString(): string }): bigint => BigInt(v.toString());

/** Active derivative positions in slot order (the order health accounts list their markets in). */
export function activeDerivativePositions(account: MarginAccountData): DerivativePositionView[] {
  const out: DerivativePositionView[] = [];
  account.derivatives.forEach((p, slot) => {
    if (p.inUse !== 0) {
      out.push({ slot, marketIndex: p.marketIndex, baseContracts: big(p.baseContracts), quoteCost: big(p.quoteCost),
        realizedPnl: big(p.realizedPnl), fundingSnapshot: fixedRaw(p.fundingSnapshot) });
    }
  });
  return out;
}

/** The account's position in `marketIndex`, if any. */
export function derivativePosition(account: MarginAccountData, marketIndex: number): DerivativePositionView | undefined {
  return activeDerivativePositions(account).find((p) => p.marketIndex === marketIndex);
}

/**
 * Market indices of the account's derivative positions in slot order after
 * opening `opening` (each in the first free slot if not active yet): trade,
 * take_quote and liquidate_position open their market's slot before reading
 * health accounts.
 */
export function marketSlots(account: MarginAccountData | null, opening: number[] = []): number[] {
  const slots: (number | null)[] = account
    ? account.derivatives.map((p) => (p.inUse !== 0 ? p.marketIndex : null))
    : new Array<number | null>(MAX_DERIVATIVE_POSITIONS).fill(null);
  for (const m of opening) {
    if (slots.includes(m)) continue;
    const free = slots.indexOf(null);
    if (free >= 0) slots[free] = m;
  }
  return slots.filter((s): s is number => s !== null);
}

/** `Market::name` as a string (UTF-8, zero padded). */
export function marketName(market: MarketData): string {
  const bytes = Uint8Array.from(market.name);
  const end = bytes.indexOf(0);
  return Buffer.from(end < 0 ? bytes : bytes.subarray(0, end)).toString("utf8");
}

/** `name` as the program stores it: UTF-8, zero padded to 16 bytes. */
export function marketNameBytes(name: string): number[] {
  const b = Buffer.from(name, "utf8");
  if (b.length > 16) throw new RangeError(`market name "${name}" longer than 16 bytes`);
  return Array.from(Buffer.concat([b, Buffer.alloc(16 - b.length)]));
}
