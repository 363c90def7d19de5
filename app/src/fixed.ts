/**
 * I80F48 fixed point on raw `bigint` values, bit-exact with the risk engine's
 * `Fixed` (crates/risk/src/fixed.rs).
 *
 * A raw value is `value · 2^48` held in a signed 128-bit integer. Every lossy
 * operation computes the exact rational result (a `bigint` never overflows)
 * and rounds it once toward −∞ (`"floor"`) or +∞ (`"ceil"`), which is exactly
 * what the Rust code does with its 256-bit intermediates; so the client and
 * the program agree to the last bit. Results the program could not hold
 * (magnitude above `i128::MAX`) throw {@link FixedOverflowError} where Rust
 * returns `RiskError::Overflow`.
 */

/** Number of fractional bits. */
export const FRAC_BITS = 48n;
/** 1.0 (raw). */
export const ONE = 1n << FRAC_BITS;
/** 0.5 (raw). */
export const HALF = 1n << (FRAC_BITS - 1n);
/** 0 (raw). */
export const ZERO = 0n;
/** Smallest positive value, one ulp (`2^-48`). */
export const DELTA = 1n;
/** Largest representable raw value, `i128::MAX` (≈ 6.04e23). */
export const MAX = (1n << 127n) - 1n;
/** Most negative raw value a checked product or quotient yields (`−MAX`: results are symmetric). */
export const MIN = -MAX;
/** `i128::MIN`: reachable by addition/subtraction only, as in Rust's `checked_add`. */
const I128_MIN = -(1n << 127n);
const FRAC_MASK = ONE - 1n;
const U64_MAX = (1n << 64n) - 1n;

/** Rounding direction of a lossy operation: toward −∞ or +∞. */
export type Rounding = "floor" | "ceil";

/** A result does not fit the program's 128-bit fixed point (`RiskError::Overflow`, program error `MathOverflow`). */
export class FixedOverflowError extends Error {
  constructor(readonly operation: string) {
    super(`I80F48 overflow in ${operation}`);
    this.name = "FixedOverflowError";
  }
}

/** Division by zero (`RiskError::DivisionByZero`; the program reports it as `MathOverflow`). */
export class DivisionByZeroError extends Error {
  constructor(readonly operation: string) {
    super(`division by zero in ${operation}`);
    this.name = "DivisionByZeroError";
  }
}

/** `n / d` rounded as asked, for any signs (`bigint` division truncates toward 0). */
export function divRound(n: bigint, d: bigint, rounding: Rounding): bigint {
  if (d === 0n) throw new DivisionByZeroError("divRound");
  if (d < 0n) {
    n = -n;
    d = -d;
  }
  const q = n / d;
  if (n % d === 0n) return q;
  if (rounding === "floor") return n < 0n ? q - 1n : q;
  return n > 0n ? q + 1n : q;
}

/** Rust's `finish`: a product or quotient whose rounded magnitude exceeds `i128::MAX` is an overflow. */
function checked(v: bigint, operation: string): bigint {
  if (v > MAX || v < MIN) throw new FixedOverflowError(operation);
  return v;
}

/** `a · b`, the exact product rounded once (`Fixed::checked_mul`). */
export function mul(a: bigint, b: bigint, rounding: Rounding): bigint {
  return checked(divRound(a * b, ONE, rounding), "mul");
}

/** `a · b` rounded toward −∞ (asset values, signed contributions). */
export function mulFloor(a: bigint, b: bigint): bigint {
  return mul(a, b, "floor");
}

/** `a · b` rounded toward +∞ (liability magnitudes). */
export function mulCeil(a: bigint, b: bigint): bigint {
  return mul(a, b, "ceil");
}

/** `a · n / d` with a single rounding of the exact result (`Fixed::checked_mul_div`). */
export function mulDiv(a: bigint, n: bigint, d: bigint, rounding: Rounding): bigint {
  if (d === 0n) throw new DivisionByZeroError("mulDiv");
  return checked(divRound(a * n, d, rounding), "mulDiv");
}

/** `a / b` rounded once (`Fixed::checked_div`). */
export function div(a: bigint, b: bigint, rounding: Rounding): bigint {
  if (b === 0n) throw new DivisionByZeroError("div");
  return checked(divRound(a << FRAC_BITS, b, rounding), "div");
}

/** `a / d` for a positive integer `d`, rounded once (`Fixed::checked_div_int`). */
export function divInt(a: bigint, d: bigint, rounding: Rounding): bigint {
  if (d <= 0n) throw new DivisionByZeroError("divInt");
  return checked(divRound(a, d, rounding), "divInt");
}

/** `⌊√n⌋` of a non-negative integer (Newton's iteration from above; exact). */
export function isqrt(n: bigint): bigint {
  if (n < 0n) throw new RangeError("isqrt of a negative number");
  if (n < 2n) return n;
  let x = 1n << ((BigInt(n.toString(2).length) + 1n) / 2n);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/**
 * Checked addition (`Fixed::checked_add`): the result must be in the
 * symmetric range `[−MAX, MAX]` (Rust refuses `i128::MIN` there too).
 */
export function add(a: bigint, b: bigint): bigint {
  const r = a + b;
  if (r > MAX || r < MIN) throw new FixedOverflowError("add");
  return r;
}

/** Checked subtraction (`Fixed::checked_sub`), symmetric range. */
export function sub(a: bigint, b: bigint): bigint {
  const r = a - b;
  if (r > MAX || r < MIN) throw new FixedOverflowError("sub");
  return r;
}

/** Checked negation (`Fixed::checked_neg`: only `i128::MIN` overflows). */
export function neg(a: bigint): bigint {
  if (a === I128_MIN) throw new FixedOverflowError("neg");
  return -a;
}

/** Checked absolute value (`Fixed::checked_abs`). */
export function abs(a: bigint): bigint {
  return a < 0n ? neg(a) : a;
}

/** `a · k` for an integer `k`, exact (`Fixed::checked_mul_int`), symmetric range. */
export function mulInt(a: bigint, k: bigint): bigint {
  const r = a * k;
  if (r > MAX || r < MIN) throw new FixedOverflowError("mulInt");
  return r;
}

/** `max(a, 0)` (`Fixed::positive_part`). */
export function positivePart(a: bigint): bigint {
  return a > 0n ? a : 0n;
}

/** Integer part after rounding, as a checked `i64` (`Fixed::to_i64`). */
export function toI64(a: bigint, rounding: Rounding): bigint {
  const v = toInt(a, rounding);
  if (v < -(1n << 63n) || v >= 1n << 63n) throw new FixedOverflowError("toI64");
  return v;
}

/** Smaller of two raw values. */
export function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

/** Larger of two raw values. */
export function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

/** Exact conversion of an integer (`Fixed::from_i64` / `from_u64` / `checked_from_i128`). */
export function fromInt(v: bigint | number): bigint {
  if (typeof v === "number" && !Number.isSafeInteger(v)) throw new RangeError(`not a safe integer: ${v}`);
  const i = BigInt(v);
  if ((i < 0n ? -i : i) > MAX >> FRAC_BITS) throw new FixedOverflowError("fromInt");
  return i << FRAC_BITS;
}

/** `num / den` rounded as asked, like `Fixed::from_ratio` (configuration constants such as weights). */
export function fromRatio(num: bigint | number, den: bigint | number, rounding: Rounding): bigint {
  return div(fromInt(num), fromInt(den), rounding);
}

/** Largest integer ≤ `a` (raw). */
export function floor(a: bigint): bigint {
  return a & ~FRAC_MASK;
}

/** Integer part after rounding (`Fixed::to_i128`). */
export function toInt(a: bigint, rounding: Rounding): bigint {
  return divRound(a, ONE, rounding);
}

/** Lossy conversion for display only; never feed the result back into risk math. */
export function toNumber(a: bigint): number {
  return Number(a >> FRAC_BITS) + Number(a & FRAC_MASK) / 2 ** 48;
}

/** Exact decimal rendering, truncated to `maxDigits` fraction digits (like Rust's `{:.N}`). */
export function toDecimalString(a: bigint, maxDigits = 48): string {
  const mag = a < 0n ? -a : a;
  let frac = mag & FRAC_MASK;
  let digits = "";
  while (frac !== 0n && digits.length < maxDigits) {
    frac *= 10n;
    digits += (frac >> FRAC_BITS).toString();
    frac &= FRAC_MASK;
  }
  return `${a < 0n ? "-" : ""}${mag >> FRAC_BITS}${digits ? `.${digits}` : ""}`;
}

/**
 * The on-chain `StoredFixed { limbs: [u64; 2] }` (little-endian `[low, high]`)
 * as a signed 128-bit raw value (`Fixed::from_limbs`). Anchor's coder decodes
 * the limbs as `BN`s: pass `BigInt(limb.toString())`.
 */
export function fromStoredFixed(lo: bigint, hi: bigint): bigint {
  if (lo < 0n || lo > U64_MAX || hi < 0n || hi > U64_MAX) throw new RangeError("limbs must be u64");
  return BigInt.asIntN(128, (hi << 64n) | lo);
}

/** Inverse of {@link fromStoredFixed}: `[low, high]` u64 limbs (`Fixed::to_limbs`). */
export function toStoredFixed(a: bigint): [bigint, bigint] {
  const u = BigInt.asUintN(128, a);
  return [u & U64_MAX, u >> 64n];
}
