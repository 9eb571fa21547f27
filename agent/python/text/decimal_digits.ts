/**
 * The decimal digits of a double, computed from its exact binary value with bigints: the one digit generator
 * behind every float that the Body prints (repr/str, format specs, `%`, json.dumps). It plays the part of
 * CPython's `_Py_dg_dtoa` (Python/dtoa.c) in its three modes:
 *
 * - mode 0 ({@link shortestDigits}): the fewest digits that read back as the same double, the nearest such
 *   string when several qualify, ties to an even last digit (Steele & White / Burger & Dybvig's free-format
 *   algorithm, with round-half-even reading: a boundary belongs to the double when its mantissa is even);
 * - mode 2 ({@link significantDigits}): `n` significant digits;
 * - mode 3 ({@link fixedDigits}): the digits up to `n` places after the decimal point;
 *
 * both correctly rounded, exact ties to even (`'%.0e' % 25` is `2e+01`, `'%.2f' % 0.125` is `0.12`), for any
 * precision. Like dtoa, trailing zeros are dropped and `decpt` places the decimal point: the value is
 * `0.<digits> × 10**decpt`; zero is `{digits: "0", decpt: 1}`; a value that rounds to nothing in mode 3 is
 * `{digits: "", decpt: -n}`. Inputs are finite and non-negative (callers handle the sign, inf and nan).
 */

export interface Digits {
  /** Decimal digits without leading or trailing zeros ("0" for zero, "" when mode 3 rounds to nothing). */
  readonly digits: string;
  /** Position of the decimal point relative to the first digit. */
  readonly decpt: number;
}

const view = new DataView(new ArrayBuffer(8));
const HIDDEN = 1n << 52n;
const ZERO: Digits = { digits: "0", decpt: 1 };

/** `x` (finite, > 0) as `m × 2**e` with `m` an integer below 2**53. */
function decompose(x: number): { m: bigint; e: number } {
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  const fraction = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  return biased === 0 ? { m: fraction, e: -1074 } : { m: fraction | HIDDEN, e: biased - 1075 };
}

const powers: bigint[] = [1n];
/** 10n ** n, cached. */
function pow10(n: number): bigint {
  if (n > 400) return 10n ** BigInt(n);
  for (let k = powers.length; k <= n; k++) powers.push((powers[k - 1] as bigint) * 10n);
  return powers[n] as bigint;
}

/** `round(m × 2**e × 10**q)`, an exact tie going to the even integer. */
function scaledRound(m: bigint, e: number, q: number): bigint {
  let num = e >= 0 ? m << BigInt(e) : m;
  let den = e >= 0 ? 1n : 1n << BigInt(-e);
  if (q >= 0) num *= pow10(q);
  else den *= pow10(-q);
  const quotient = num / den;
  const twice = (num - quotient * den) * 2n;
  return twice > den || (twice === den && (quotient & 1n) === 1n) ? quotient + 1n : quotient;
}

function trimmed(text: string, decpt: number): Digits {
  let end = text.length;
  while (end > 1 && text.charCodeAt(end - 1) === 48) end--;
  return { digits: end === text.length ? text : text.slice(0, end), decpt };
}

/** A double has at most 1074 decimal places and 767 significant digits: beyond, rounding changes nothing. */
const MAX_PLACES = 1100;
const MAX_SIGNIFICANT = 800;

/** Mode 3: `x` rounded to `n` (>= 0) places after the decimal point. */
export function fixedDigits(x: number, n: number): Digits {
  if (x === 0) return ZERO;
  const { m, e } = decompose(x);
  if (n > MAX_PLACES) return trimmedExact(m, e);
  const rounded = scaledRound(m, e, n);
  if (rounded === 0n) return { digits: "", decpt: -n };
  const text = rounded.toString();
  return trimmed(text, text.length - n);
}

/** Every digit of `m × 2**e` (a finite decimal: `m × 5**-e / 10**-e` when e < 0). */
function trimmedExact(m: bigint, e: number): Digits {
  if (e >= 0) {
    const text = (m << BigInt(e)).toString();
    return trimmed(text, text.length);
  }
  const text = (m * 5n ** BigInt(-e)).toString();
  return trimmed(text, text.length + e);
}

/** Whether `m × 2**e < 10**k`, exactly. */
function belowPow10(m: bigint, e: number, k: number): boolean {
  const left = (e >= 0 ? m << BigInt(e) : m) * (k < 0 ? pow10(-k) : 1n);
  const right = (e < 0 ? 1n << BigInt(-e) : 1n) * (k >= 0 ? pow10(k) : 1n);
  return left < right;
}

/** Mode 2: `x` rounded to `n` (>= 1) significant digits. */
export function significantDigits(x: number, n: number): Digits {
  if (x === 0) return ZERO;
  const { m, e } = decompose(x);
  if (n > MAX_SIGNIFICANT) return trimmedExact(m, e);
  // k: the exponent of the first digit, exactly (Math.log10 errs next to powers of ten: log10(99999.99999999999)
  // is 5), then raised when rounding carries into the next power of ten.
  let k = Math.floor(Math.log10(x));
  while (belowPow10(m, e, k)) k--;
  while (!belowPow10(m, e, k + 1)) k++;
  const low = pow10(n - 1);
  const high = low * 10n;
  for (;;) {
    const rounded = scaledRound(m, e, n - 1 - k);
    if (rounded >= high) k++;
    else if (rounded < low) k--;
    else return trimmed(rounded.toString(), k + 1);
  }
}

/**
 * Mode 0: the shortest digits that read back as `x` (repr). When the gaps to both neighbours are equal (every
 * normal double but a power of two), the answer is the correctly rounded string of the fewest digits that reads back as
 * `x` (the nearest string of n digits is in the interval if any is). The interval is narrower than the spacing
 * of 15-digit decimals, so at most one string of 15 digits or fewer lies in it: if the 15-digit rounding reads
 * back, trimmed, it is the answer; else the 16-digit one if it reads back; else the 17-digit one, which always
 * does. Reading back uses the correctly rounded `Number()` parse.
 */
export function shortestDigits(x: number): Digits {
  if (x === 0) return ZERO;
  if (x < 9007199254740992 && Number.isInteger(x)) {
    // An integer below 2**53 is its own shortest form: its neighbours are at most 1 away.
    const text = BigInt(x).toString();
    return trimmed(text, text.length);
  }
  const { m, e } = decompose(x);
  // Powers of two (unequal gaps) and subnormals (wider gaps) take the general algorithm.
  if (m <= HIDDEN) return freeFormat(m, e);
  const full = significantDigits(x, 17);
  const padded = full.digits.length === 17 ? full.digits : full.digits.padEnd(17, "0");
  for (const n of [15, 16]) {
    const candidate = roundedPrefix(x, padded, full.decpt, n);
    if (Number(`${candidate.digits}e${candidate.decpt - candidate.digits.length}`) === x) return candidate;
  }
  return full;
}

/** `x` rounded to `n` < 17 significant digits, from its 17 correctly rounded digits unless they end in a tie. */
function roundedPrefix(x: number, digits17: string, decpt: number, n: number): Digits {
  const next = digits17.charCodeAt(n) - 48;
  // "5000…": the 17-digit rounding may have made (or hidden) the tie; round the exact value instead.
  if (next === 5 && (n === 16 || Number(digits17.slice(n + 1)) === 0)) return significantDigits(x, n);
  let head = digits17.slice(0, n);
  if (next < 5) return trimmed(head, decpt);
  let i = n - 1;
  while (i >= 0 && head.charCodeAt(i) === 57) i--;
  if (i < 0) return { digits: "1", decpt: decpt + 1 };
  head = head.slice(0, i) + String.fromCharCode(head.charCodeAt(i) + 1);
  return trimmed(head, decpt);
}

/**
 * The shortest digits by Steele & White / Burger & Dybvig's free-format algorithm, exact with bigints: digits are
 * generated until the rest lies within half a gap of either neighbour (a boundary counts when the mantissa is
 * even, as round-half-even reading gives it to `x`); the last digit is the nearer one, a tie going to even.
 */
function freeFormat(m: bigint, e: number): Digits {
  const even = (m & 1n) === 0n;
  // value = r / s, upper half-gap = up / s, lower half-gap = down / s (all scaled by 2 or 4 to stay integral).
  let r: bigint;
  let s: bigint;
  let up: bigint;
  let down: bigint;
  const unequalGaps = m === HIDDEN && e > -1074;
  if (e >= 0) {
    const unit = 1n << BigInt(e);
    r = unequalGaps ? (m * unit) << 2n : (m * unit) << 1n;
    s = unequalGaps ? 4n : 2n;
    up = unequalGaps ? unit << 1n : unit;
    down = unit;
  } else {
    r = unequalGaps ? m << 2n : m << 1n;
    s = 1n << BigInt(unequalGaps ? 2 - e : 1 - e);
    up = unequalGaps ? 2n : 1n;
    down = 1n;
  }
  let k = Math.ceil(Math.log10(Number(m) * 2 ** e));
  if (k >= 0) s *= pow10(k);
  else {
    const scale = pow10(-k);
    r *= scale;
    up *= scale;
    down *= scale;
  }
  const above = (v: bigint, limit: bigint): boolean => (even ? v >= limit : v > limit);
  // Make 10**(k-1) <= high end of the interval < 10**k (the estimate may be one off either way).
  while (above(r + up, s)) {
    s *= 10n;
    k++;
  }
  while (!above((r + up) * 10n, s)) {
    r *= 10n;
    up *= 10n;
    down *= 10n;
    k--;
  }
  let digits = "";
  for (;;) {
    r *= 10n;
    up *= 10n;
    down *= 10n;
    const digit = r / s;
    r -= digit * s;
    const low = even ? r <= down : r < down;
    const high = above(r + up, s);
    if (!low && !high) {
      digits += digit.toString();
      continue;
    }
    let last = digit;
    if (high && (!low || r * 2n > s || (r * 2n === s && (digit & 1n) === 1n))) last = digit + 1n;
    return trimmed(digits + last.toString(), k);
  }
}
