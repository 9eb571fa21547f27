/**
 * Python's int arithmetic (CPython 3.11 Objects/longobject.c) on bigints: floor division and modulo (the
 * remainder takes the divisor's sign), true division correctly rounded for ints of any size
 * (`long_true_divide`), int → float conversion correctly rounded (half to even) or OverflowError "int too
 * large to convert to float", `**` (a negative exponent gives a float), and `pow(b, e, m)`.
 *
 * CPython computes any int that fits its memory; a Body's memory is bounded (SPEC 6), so an int result of
 * more than MAX_INT_BITS bits is refused with MemoryError before it is computed (`2 ** (10 ** 10)`, `1 << 10 ** 10`).
 * The bitwise operators (long_and, long_or, long_xor, long_lshift, long_rshift) act on the infinite two's
 * complement, as JavaScript's bigint operators do.
 */
import { pyFail } from "./exceptions.ts";
import { floatPow } from "./float.ts";

/** The largest int a Body may build: 2**26 bits (8 MiB, about 20 million decimal digits). */
export const MAX_INT_BITS = 2 ** 26;
/**
 * Factors below this magnitude (2**1024) multiply without a size check: the product has at most 2048 bits. A
 * bound near MAX_INT_BITS / 2 would be a 4 MB bigint held by every agent from its start (issue 11: idle RSS).
 */
const SMALL = 1n << 1024n;

/** `bits`: the result's size, a bigint where it is beyond a number's range (`2 ** 10**400`). */
function tooLarge(bits: number | bigint): Error {
  const size = typeof bits === "bigint" ? bits : Math.ceil(bits);
  return pyFail(
    "MemoryError",
    `Cannot build an int of ${size} bits as a Body may build at most ${MAX_INT_BITS}`,
  );
}

function abs(n: bigint): bigint {
  return n < 0n ? -n : n;
}

/** The number of bits of |n| (0 for 0), as `int.bit_length()`. */
export function bitLength(n: bigint): number {
  const a = abs(n);
  if (a === 0n) return 0;
  const hex = a.toString(16);
  return (hex.length - 1) * 4 + Number.parseInt(hex[0] ?? "0", 16).toString(2).length;
}

/** `float(n)`: JavaScript's Number(bigint) rounds half to even, as PyLong_AsDouble does; beyond 2**1024 it overflows. */
export function intToFloat(n: bigint): number {
  const f = Number(n);
  if (!Number.isFinite(f)) throw pyFail("OverflowError", "int too large to convert to float");
  return f;
}

/** `x * 2**e` without intermediate underflow (C's ldexp; the result is exactly representable). */
function ldexp(x: number, e: number): number {
  if (e >= -1022) return x * 2 ** e;
  const half = Math.trunc(e / 2);
  return x * 2 ** half * 2 ** (e - half);
}

/** `a / b` of two ints, correctly rounded: CPython's long_true_divide. */
export function intTrueDivide(a: bigint, b: bigint): number {
  if (b === 0n) throw pyFail("ZeroDivisionError", "division by zero");
  const SAFE = 1n << 53n;
  if (a <= SAFE && a >= -SAFE && b <= SAFE && b >= -SAFE) return Number(a) / Number(b);
  const negate = a < 0n !== b < 0n;
  const x = abs(a);
  const y = abs(b);
  const signed = (r: number): number => (negate ? -r : r);
  if (x === 0n) return signed(0);
  const diff = bitLength(x) - bitLength(y);
  const overflow = (): Error => pyFail("OverflowError", "integer division result too large for a float");
  if (diff > 1024) throw overflow();
  if (diff < -1021 - 53 - 1) return signed(0);
  // Scale so that the quotient has 55 or 56 significant bits (fewer when the result is subnormal).
  const shift = Math.max(diff, -1021) - 53 - 2;
  let inexact = false;
  let num = x;
  if (shift <= 0) num <<= BigInt(-shift);
  else {
    const dropped = num & ((1n << BigInt(shift)) - 1n);
    inexact = dropped !== 0n;
    num >>= BigInt(shift);
  }
  let q = num / y;
  if (num % y !== 0n) inexact = true;
  const qBits = bitLength(q);
  const extra = Math.max(qBits, -1021 - shift) - 53;
  // Round half to even on the `extra` low bits, the remainder counting as a sticky bit.
  const mask = 1n << BigInt(extra - 1);
  const low = (q & ((1n << BigInt(extra + 1)) - 1n)) | (inexact ? 1n : 0n);
  q &= ~((mask << 1n) - 1n);
  if ((low & mask) !== 0n && (low & (3n * mask - 1n)) !== 0n) q += mask << 1n;
  const dx = Number(q);
  if (shift + qBits >= 1024 && (shift + qBits > 1024 || dx === 2 ** qBits)) throw overflow();
  return signed(ldexp(dx, shift));
}

/** `a // b` (b is not zero). */
export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/** `a % b` (b is not zero): the sign of the divisor. */
function modulo(a: bigint, b: bigint): bigint {
  const r = a % b;
  return r !== 0n && r < 0n !== b < 0n ? r + b : r;
}

/** `a * b`, refused beyond MAX_INT_BITS. */
function multiply(a: bigint, b: bigint): bigint {
  if (a < SMALL && a > -SMALL && b < SMALL && b > -SMALL) return a * b;
  const bits = a === 0n || b === 0n ? 0 : bitLength(a) + bitLength(b) - 1;
  if (bits > MAX_INT_BITS) throw tooLarge(bits);
  return a * b;
}

/** log2(|n|) for n ≠ 0, from its leading 53 bits. */
function log2(n: bigint): number {
  const bits = bitLength(n);
  if (bits <= 1000) return Math.log2(Number(abs(n)));
  return bits - 53 + Math.log2(Number(abs(n) >> BigInt(bits - 53)));
}

/** `x ** y` for y >= 0, refused beyond MAX_INT_BITS. */
function power(x: bigint, y: bigint): bigint {
  if (y === 0n || x === 1n) return 1n;
  if (x === 0n) return 0n;
  if (x === -1n) return y % 2n === 0n ? 1n : -1n;
  // y · log2|x| in bigints (log2 to 1/1024), + 1: an exponent of 10**400 gives no Infinity.
  if (y > BigInt(MAX_INT_BITS)) throw tooLarge((y * BigInt(Math.floor(log2(x) * 1024))) / 1024n + 1n);
  // The result's bit length: floor(y · log2|x|) + 1 (2 ** 67108864 has 67108865 bits).
  const bits = Math.floor(Number(y) * log2(x)) + 1;
  if (bits > MAX_INT_BITS) throw tooLarge(bits);
  return x ** y;
}

export type IntOp = "+" | "-" | "*" | "/" | "//" | "%" | "**" | "|" | "&" | "^" | "<<" | ">>";

/** CPython's largest int, in 30-bit digits (MAX_LONG_DIGITS on a 64-bit build): beyond, "too many digits". */
const MAX_LONG_DIGITS = ((1n << 63n) - 1n - 24n) / 4n;

/** `a << b` (long_lshift): ValueError for a negative count, OverflowError past CPython's int size, else bounded. */
function shiftLeft(a: bigint, b: bigint): bigint {
  if (b < 0n) throw pyFail("ValueError", "negative shift count");
  if (a === 0n) return 0n;
  const clip = (1n << 63n) / 4n;
  const wordShift = b / 30n < clip ? b / 30n : clip;
  const digits = BigInt(Math.ceil(bitLength(a) / 30)) + wordShift + (b % 30n === 0n ? 0n : 1n);
  if (digits > MAX_LONG_DIGITS) throw pyFail("OverflowError", "too many digits in integer");
  const bits = bitLength(a) + Number(b);
  if (bits > MAX_INT_BITS) throw tooLarge(bits);
  return a << b;
}

/** `a >> b` (long_rshift): floors, so a count past the int's size leaves 0 or -1. */
function shiftRight(a: bigint, b: bigint): bigint {
  if (b < 0n) throw pyFail("ValueError", "negative shift count");
  if (b >= BigInt(bitLength(a))) return a < 0n ? -1n : 0n;
  return a >> b;
}

/** `a op b` for two ints; `/` and a negative `**` give floats. */
export function intBinary(op: IntOp, a: bigint, b: bigint): bigint | number {
  switch (op) {
    case "+":
      return a + b;
    case "-":
      return a - b;
    case "*":
      return multiply(a, b);
    case "/":
      return intTrueDivide(a, b);
    case "//":
      if (b === 0n) throw pyFail("ZeroDivisionError", "integer division or modulo by zero");
      return floorDiv(a, b);
    case "%":
      if (b === 0n) throw pyFail("ZeroDivisionError", "integer modulo by zero");
      return modulo(a, b);
    case "**":
      // long_pow: a negative exponent without a modulus is float_pow of the converted operands.
      return b < 0n ? floatPow(intToFloat(a), intToFloat(b)) : power(a, b);
    case "|":
      return a | b;
    case "&":
      return a & b;
    case "^":
      return a ^ b;
    case "<<":
      return shiftLeft(a, b);
    case ">>":
      return shiftRight(a, b);
  }
}

/** `divmod(a, b)` of two ints. */
export function intDivmod(a: bigint, b: bigint): [bigint, bigint] {
  if (b === 0n) throw pyFail("ZeroDivisionError", "integer division or modulo by zero");
  return [floorDiv(a, b), modulo(a, b)];
}

/** The inverse of `a` modulo `m` (m > 0), or ValueError. */
function inverse(a: bigint, m: bigint): bigint {
  let [r0, r1, s0, s1] = [m, a, 0n, 1n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1, s0, s1] = [r1, r0 - q * r1, s1, s0 - q * s1];
  }
  if (r0 !== 1n) throw pyFail("ValueError", "base is not invertible for the given modulus");
  return modulo(s0, m);
}

/** `pow(base, exp, mod)` of ints (long_pow with a modulus): the result takes the modulus's sign. */
export function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  if (mod === 0n) throw pyFail("ValueError", "pow() 3rd argument cannot be 0");
  const m = abs(mod);
  let b = modulo(base, m);
  let e = exp;
  if (e < 0n) {
    b = inverse(b, m);
    e = -e;
  }
  let result = 1n % m;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return mod < 0n && result !== 0n ? result + mod : result;
}
