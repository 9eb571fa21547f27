/**
 * The C library functions CPython's complex arithmetic calls — hypot, atan2, exp, log, cos, sin — correctly
 * rounded (round half to even of the exact value), computed in BigInt fixed point with 256 fraction bits.
 * CPython calls the platform's libm; glibc's are correctly rounded in all but about 0.1% of arguments, while
 * JavaScript's Math (fdlibm) differs from glibc in 3–25% of them, so correct rounding is the closest a
 * portable evaluator gets (docs/murano.md lists the rest as a difference). Special values follow C99 Annex F.
 * `pow` is not here: JavaScript's `**` already gives glibc's results.
 */

/** Fraction bits of the fixed-point working values. */
const F = 256;
const ONE = 1n << BigInt(F);

/** A finite non-zero double as `sign * m * 2**e` (m a positive integer of at most 53 bits). */
function decompose(x: number): { m: bigint; e: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const raw = view.getBigUint64(0);
  const biased = Number((raw >> 52n) & 0x7ffn);
  const fraction = raw & 0xfffffffffffffn;
  return biased === 0 ? { m: fraction, e: -1074 } : { m: fraction | (1n << 52n), e: biased - 1075 };
}

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** `x * 2**e` for an exactly representable result (C's ldexp), without intermediate overflow or underflow. */
function ldexp(x: number, e: number): number {
  let r = x;
  let k = e;
  while (k > 1000) {
    r *= 2 ** 1000;
    k -= 1000;
  }
  while (k < -1000) {
    r *= 2 ** -1000;
    k += 1000;
  }
  return r * 2 ** k;
}

/** The double nearest `m * 2**e` (ties to even; `sticky`: the true value is a little more than that). */
function toDouble(m: bigint, e: number, sticky = false): number {
  if (m < 0n) return -toDouble(-m, e, sticky);
  if (m === 0n) return 0;
  const bits = bitLength(m);
  const shift = Math.max(bits - 53, -1074 - e);
  if (shift <= 0) return ldexp(Number(m), e);
  const half = 1n << BigInt(shift - 1);
  const rest = m & ((half << 1n) - 1n);
  let q = m >> BigInt(shift);
  if (rest > half || (rest === half && (sticky || (q & 1n) === 1n))) q += 1n;
  const exponent = e + shift + bitLength(q) - 1;
  return exponent > 1023 ? Number.POSITIVE_INFINITY : ldexp(Number(q), e + shift);
}

/** `floor(sqrt(n))` by Newton's method. */
function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(bitLength(n) / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/** `atan(1/q) * 2**bits` for an integer q > 1 (Machin's series). */
function atanInverse(q: bigint, bits: number): bigint {
  const scale = 1n << BigInt(bits + 8);
  let term = scale / q;
  let sum = term;
  const q2 = q * q;
  for (let k = 3n; term !== 0n; k += 2n) {
    term /= q2;
    sum += (k & 2n ? -term : term) / k;
  }
  return sum >> 8n;
}

/** π/2 with enough bits to reduce any double (2**1024) by it and keep F bits: 16 atan(1/5) - 4 atan(1/239), halved. */
const W = F + 1100;
const HALF_PI_W = (16n * atanInverse(5n, W) - 4n * atanInverse(239n, W)) >> 1n;
const HALF_PI = HALF_PI_W >> BigInt(W - F);
const PI = HALF_PI * 2n;
/** ln 2 = 2 atanh(1/3), with 16 more bits (exp multiplies it by up to 1100). */
const LN2_BITS = F + 16;
const LN2_EXTRA = atanhSeries((1n << BigInt(LN2_BITS)) / 3n, LN2_BITS) * 2n;
const LN2 = LN2_EXTRA >> 16n;

/** `atanh(s)` for fixed-point |s| < 0.5 with `bits` fraction bits: s + s³/3 + s⁵/5 … */
function atanhSeries(s: bigint, bits: number): bigint {
  const b = BigInt(bits);
  const unit = 1n << b;
  const s2 = (s * s) / unit;
  let power = s;
  let sum = s;
  // Division truncates toward zero, so a negative power reaches 0 (a shift would stop at -1).
  for (let k = 3n; power !== 0n; k += 2n) {
    power = (power * s2) / unit;
    sum += power / k;
  }
  return sum;
}

/** sin and cos of fixed-point |r| <= π/4 (Taylor series). */
function sinCosSeries(r: bigint): [bigint, bigint] {
  const r2 = (r * r) >> BigInt(F);
  let s = r;
  let sin = r;
  for (let n = 2n; s !== 0n; n += 2n) {
    s = -((s * r2) >> BigInt(F)) / (n * (n + 1n));
    sin += s;
  }
  let c = ONE;
  let cos = ONE;
  for (let n = 1n; c !== 0n; n += 2n) {
    c = -((c * r2) >> BigInt(F)) / (n * (n + 1n));
    cos += c;
  }
  return [sin, cos];
}

/** sin(x) and cos(x) of a finite |x| >= 2**-26 as fixed point: x reduced by π/2, then the series. */
function sinCos(x: number): [bigint, bigint] {
  const { m, e } = decompose(Math.abs(x));
  const xw = m << BigInt(e + W);
  const k = (xw + (HALF_PI_W >> 1n)) / HALF_PI_W;
  const r = (xw - k * HALF_PI_W) >> BigInt(W - F);
  const [s, c] = sinCosSeries(r);
  const quadrant = Number(k & 3n);
  const sin = [s, c, -s, -c][quadrant] as bigint;
  const cos = [c, -s, -c, s][quadrant] as bigint;
  return [x < 0 ? -sin : sin, cos];
}

export function sin(x: number): number {
  if (!Number.isFinite(x)) return Number.NaN;
  if (Math.abs(x) < 2 ** -26) return x;
  return toDouble(sinCos(x)[0], -F);
}

export function cos(x: number): number {
  if (!Number.isFinite(x)) return Number.NaN;
  if (Math.abs(x) < 2 ** -27) return 1;
  return toDouble(sinCos(x)[1], -F);
}

export function exp(x: number): number {
  if (Number.isNaN(x)) return x;
  if (x > 710) return Number.POSITIVE_INFINITY;
  if (x < -746) return 0;
  if (Math.abs(x) < 2 ** -54) return 1;
  const { m, e } = decompose(Math.abs(x));
  const xf = (x < 0 ? -m : m) << BigInt(e + LN2_BITS);
  const k = xf >= 0n ? (xf + LN2_EXTRA / 2n) / LN2_EXTRA : -((-xf + LN2_EXTRA / 2n) / LN2_EXTRA);
  const r = (xf - k * LN2_EXTRA) >> 16n;
  let term = ONE;
  let sum = ONE;
  for (let n = 1n; term !== 0n; n++) {
    term = ((term * r) >> BigInt(F)) / n;
    sum += term;
  }
  return toDouble(sum, Number(k) - F);
}

export function log(x: number): number {
  if (Number.isNaN(x) || x < 0) return Number.NaN;
  if (x === 0) return Number.NEGATIVE_INFINITY;
  if (x === Number.POSITIVE_INFINITY || x === 1) return x === 1 ? 0 : x;
  const { m, e } = decompose(x);
  // x = f * 2**k with f in [1/√2, √2): log x = k ln 2 + 2 atanh((f - 1) / (f + 1)).
  const bits = bitLength(m);
  let k = e + bits - 1;
  let f = m << BigInt(F - bits + 1);
  if (f * f > 2n * ONE * ONE) {
    f >>= 1n;
    k += 1;
  }
  const s = ((f - ONE) << BigInt(F)) / (f + ONE);
  return toDouble(BigInt(k) * LN2 + 2n * atanhSeries(s, F), -F);
}

/** `atan(t)` for fixed-point 0 <= t <= 1: halved three times (atan t = 2 atan(t / (1 + √(1 + t²)))), then the series. */
function atanFixed(t: bigint): bigint {
  let u = t;
  for (let i = 0; i < 3; i++) u = (u << BigInt(F)) / (ONE + isqrt(ONE * ONE + u * u));
  const u2 = (u * u) >> BigInt(F);
  let power = u;
  let sum = u;
  for (let k = 3n; power !== 0n; k += 2n) {
    power = -((power * u2) >> BigInt(F));
    sum += power / k;
  }
  return sum << 3n;
}

export function atan2(y: number, x: number): number {
  if (Number.isNaN(x) || Number.isNaN(y)) return Number.NaN;
  const negative = y < 0 || Object.is(y, -0);
  const signed = (v: number): number => (negative ? -v : v);
  const west = x < 0 || Object.is(x, -0);
  if (y === 0) return signed(west ? Math.PI : 0);
  if (x === 0) return signed(Math.PI / 2);
  if (!Number.isFinite(y)) {
    if (!Number.isFinite(x)) return signed(west ? (3 * Math.PI) / 4 : Math.PI / 4);
    return signed(Math.PI / 2);
  }
  if (!Number.isFinite(x)) return signed(west ? Math.PI : 0);
  const a = decompose(Math.abs(y));
  const b = decompose(Math.abs(x));
  // The angle of |y| / |x| in the first quadrant, as fixed point.
  const gap = a.e + bitLength(a.m) - (b.e + bitLength(b.m));
  let angle: bigint;
  if (gap < -40 && !west) {
    // atan t = t - t³/3 with t < 2**-39, in relative precision: t = T * 2**-fraction.
    const shift = F + 60;
    const T = (a.m << BigInt(shift)) / b.m;
    const fraction = shift - (a.e - b.e);
    return signed(toDouble(T - ((T ** 3n) >> BigInt(2 * fraction)) / 3n, -fraction));
  }
  const ym = a.m << BigInt(Math.max(0, a.e - b.e));
  const xm = b.m << BigInt(Math.max(0, b.e - a.e));
  if (ym <= xm) angle = atanFixed((ym << BigInt(F)) / xm);
  else angle = HALF_PI - atanFixed((xm << BigInt(F)) / ym);
  return signed(toDouble(west ? PI - angle : angle, -F));
}

/** `hypot(x, y)`: √(x² + y²) of the exact squares, correctly rounded; an infinity wins over a NaN. */
export function hypot(x: number, y: number): number {
  if (!Number.isFinite(x) || !Number.isFinite(y)) {
    if (Math.abs(x) === Number.POSITIVE_INFINITY || Math.abs(y) === Number.POSITIVE_INFINITY)
      return Number.POSITIVE_INFINITY;
    return Number.NaN;
  }
  if (x === 0 || y === 0) return Math.abs(x === 0 ? y : x);
  const a = decompose(Math.abs(x));
  const b = decompose(Math.abs(y));
  const ea = a.e + bitLength(a.m);
  const eb = b.e + bitLength(b.m);
  // The smaller one adds less than 2**-120 relatively: the result rounds to the larger one.
  if (ea - eb > 62) return Math.abs(x);
  if (eb - ea > 62) return Math.abs(y);
  const e = Math.min(a.e, b.e);
  const sum = (a.m << BigInt(a.e - e)) ** 2n + (b.m << BigInt(b.e - e)) ** 2n;
  const guard = 64;
  const scaled = sum << BigInt(2 * guard);
  const root = isqrt(scaled);
  return toDouble(root, e - guard, root * root !== scaled);
}
