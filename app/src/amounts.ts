/**
 * Token amounts between native units (integers: lamports, micro-USDC) and UI
 * units (decimal strings: "1.5" SOL), exactly: bigint and strings, never
 * floating point.
 */

type Integer = bigint | number | string | { toString(): string };

function toBigInt(v: Integer): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number" && !Number.isSafeInteger(v)) throw new RangeError(`${v} is not a safe integer: pass a bigint`);
  return BigInt(v.toString());
}

function checkDecimals(decimals: number): void {
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > 255) throw new RangeError(`decimals ${decimals} not in 0..255`);
}

/**
 * `native` (an integer, a `BN` or a decimal integer string) in UI units with
 * `decimals`: `toUiAmount(1_500_000_000n, 9)` is `"1.5"`. Trailing zeros are
 * dropped unless `minDecimals` asks for some (`toUiAmount(1_000_000n, 6, { minDecimals: 2 })`
 * is `"1.00"`); negative amounts keep their sign.
 */
export function toUiAmount(native: Integer, decimals: number, opts: { minDecimals?: number } = {}): string {
  checkDecimals(decimals);
  const n = toBigInt(native);
  const sign = n < 0n ? "-" : "";
  const abs = n < 0n ? -n : n;
  const scale = 10n ** BigInt(decimals);
  const whole = (abs / scale).toString();
  let frac = decimals > 0 ? (abs % scale).toString().padStart(decimals, "0") : "";
  const keep = Math.min(opts.minDecimals ?? 0, decimals);
  let end = frac.length;
  while (end > keep && frac[end - 1] === "0") end--;
  frac = frac.slice(0, end);
  return `${sign}${whole}${frac ? `.${frac}` : ""}`;
}

/** How {@link fromUiAmount} treats digits beyond the token's decimals. */
export type UiRounding = "exact" | "floor" | "ceil";

/**
 * A UI amount (`"1.5"`, `"-0.25"`, `"1e-3"`, `".5"`, or a number) in native
 * units with `decimals`: `fromUiAmount("1.5", 9)` is `1_500_000_000n`. More
 * fractional digits than `decimals` throw a `RangeError` unless they are zeros
 * or `rounding` is `"floor"` or `"ceil"` (toward −∞ / +∞).
 */
export function fromUiAmount(ui: string | number, decimals: number, rounding: UiRounding = "exact"): bigint {
  checkDecimals(decimals);
  if (typeof ui === "number" && !Number.isFinite(ui)) throw new RangeError(`${ui} is not a finite amount`);
  const text = (typeof ui === "number" ? ui.toString() : ui).trim().replace(/_/g, "");
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/i.exec(text);
  if (!m || (m[2] === "" && (m[3] ?? "") === "")) throw new RangeError(`"${ui}" is not a decimal amount`);
  const negative = m[1] === "-";
  let digits = `${m[2]}${m[3] ?? ""}`;
  // The amount is digits · 10^(exp − fractional digits); shift so it is digits · 10^−shift in native.
  const exp = m[4] ? Number(m[4]) : 0;
  let fracDigits = (m[3] ?? "").length - exp - decimals; // digits beyond the token's precision (< 0: missing zeros)
  if (fracDigits < 0) {
    digits += "0".repeat(-fracDigits);
    fracDigits = 0;
  }
  const kept = digits.slice(0, digits.length - fracDigits) || "0";
  const dropped = digits.slice(digits.length - fracDigits);
  let native = BigInt(kept);
  if (/[1-9]/.test(dropped)) {
    if (rounding === "exact") throw new RangeError(`"${ui}" has more than ${decimals} decimals`);
    // floor of a negative amount and ceil of a positive one move away from zero.
    if ((rounding === "ceil") !== negative) native += 1n;
  }
  return negative ? -native : native;
}
