/** Display formatting (exact for native amounts: bigint arithmetic, truncated toward zero). */

/** `native` in UI units with at most `maxFrac` fraction digits (truncated), thousands separated. */
export function amount(native: bigint, decimals: number, maxFrac = 4): string {
  const neg = native < 0n;
  const abs = neg ? -native : native;
  const scale = 10n ** BigInt(decimals);
  const whole = (abs / scale).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  let frac = decimals > 0 ? (abs % scale).toString().padStart(decimals, "0").slice(0, maxFrac) : "";
  frac = frac.replace(/0+$/, "");
  return `${neg ? "-" : ""}${whole}${frac ? `.${frac}` : ""}`;
}

/** Quote native as dollars with 2 decimals, rounded down (like `compute_health`'s units). */
export function usd(native: bigint, quoteDecimals: number): string {
  const scale = 10n ** BigInt(quoteDecimals);
  const cents = native >= 0n ? (native * 100n) / scale : -((-native * 100n + scale - 1n) / scale);
  const neg = cents < 0n;
  const abs = neg ? -cents : cents;
  const whole = (abs / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${neg ? "−" : ""}$${whole}.${(abs % 100n).toString().padStart(2, "0")}`;
}

export function price(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return "—";
  const digits = v >= 10 ? 2 : v >= 1 ? 4 : 6;
  return `$${v.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: digits })}`;
}

export function pct(v: number, digits = 2): string {
  return Number.isFinite(v) ? `${(v * 100).toFixed(digits)}%` : "—";
}

export function age(secs: number | null): string {
  if (secs === null) return "—";
  if (secs < 120) return `${secs} s`;
  if (secs < 7200) return `${Math.floor(secs / 60)} min`;
  return `${Math.floor(secs / 3600)} h`;
}

export function short(key: { toBase58(): string } | string): string {
  const s = typeof key === "string" ? key : key.toBase58();
  return `${s.slice(0, 4)}…${s.slice(-4)}`;
}

/** `u64::MAX` caps read as "none". */
export function cap(native: bigint, decimals: number): string {
  return native >= (1n << 64n) - 1n ? "none" : amount(native, decimals, 2);
}

export const BAND_LABEL = { healthy: "Healthy", marginCall: "Margin call", liquidatable: "Liquidatable" } as const;
