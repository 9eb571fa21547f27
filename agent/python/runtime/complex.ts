/**
 * Python's complex arithmetic, exactly as CPython 3.11's Objects/complexobject.c computes it: `+ - *` part by
 * part (`_Py_c_sum`, `_Py_c_diff`, `_Py_c_prod`), `/` by Smith's algorithm (`_Py_c_quot`, ZeroDivisionError
 * "complex division by zero"), `**` by repeated squaring for a small integral exponent (`c_powi`) and by polar
 * form otherwise (`_Py_c_pow`), with `complex_pow`'s errors: ZeroDivisionError "0.0 to a negative or complex
 * power" (C's EDOM) and OverflowError "complex exponentiation" (an infinite part), `abs()` (`_Py_c_abs`:
 * OverflowError "absolute value too large"), and a negative float to a fractional power, which CPython's
 * float_pow hands to complex_pow. An int operand becomes a float first (OverflowError "int too large to convert
 * to float"); `//`, `%` and the bitwise operators are not defined (the caller's TypeError). Comparisons are in compare.ts.
 */
import type { BinaryOp, Literal } from "../check/ast.ts";
import { pyFail } from "./exceptions.ts";
import { intToFloat } from "./int.ts";
import { atan2, cos, exp, hypot, log, sin } from "./libm.ts";
import { PyComplex, type PyValue, typeName } from "./values.ts";

/** A complex's two parts, as C's Py_complex. */
interface Parts {
  real: number;
  imag: number;
}

const ONE: Parts = { real: 1, imag: 0 };

/** `to_complex`: an int, bool, float or complex operand as two doubles, or undefined (NotImplemented). */
export function complexParts(v: PyValue): Parts | undefined {
  if (v instanceof PyComplex) return v;
  if (typeof v === "number") return { real: v, imag: 0 };
  if (typeof v === "bigint") return { real: intToFloat(v), imag: 0 };
  if (typeof v === "boolean") return { real: v ? 1 : 0, imag: 0 };
  return undefined;
}

function prod(a: Parts, b: Parts): Parts {
  return { real: a.real * b.real - a.imag * b.imag, imag: a.real * b.imag + a.imag * b.real };
}

/** `_Py_c_quot`; null for C's EDOM (a zero divisor). */
function quot(a: Parts, b: Parts): Parts | null {
  const absReal = b.real < 0 ? -b.real : b.real;
  const absImag = b.imag < 0 ? -b.imag : b.imag;
  if (absReal >= absImag) {
    if (absReal === 0) return null;
    const ratio = b.imag / b.real;
    const denom = b.real + b.imag * ratio;
    return { real: (a.real + a.imag * ratio) / denom, imag: (a.imag - a.real * ratio) / denom };
  }
  if (absImag >= absReal) {
    const ratio = b.real / b.imag;
    const denom = b.real * ratio + b.imag;
    return { real: (a.real * ratio + a.imag) / denom, imag: (a.imag * ratio - a.real) / denom };
  }
  return { real: Number.NaN, imag: Number.NaN };
}

/** `c_powu`: x**n for 0 <= n <= 100, by squaring. */
function powu(x: Parts, n: number): Parts {
  let r = ONE;
  let p = x;
  for (let mask = 1; n >= mask; mask *= 2) {
    if (n & mask) r = prod(r, p);
    p = prod(p, p);
  }
  return r;
}

/** `_Py_c_pow` (polar form); null for C's EDOM: zero to a negative or complex power, or cos/sin of an infinity. */
function cpow(a: Parts, b: Parts): Parts | null {
  if (b.real === 0 && b.imag === 0) return ONE;
  if (a.real === 0 && a.imag === 0) {
    if (b.imag !== 0 || b.real < 0) return null;
    return { real: 0, imag: 0 };
  }
  const vabs = hypot(a.real, a.imag);
  let len = vabs ** b.real;
  const at = atan2(a.imag, a.real);
  let phase = at * b.real;
  if (b.imag !== 0) {
    len /= exp(at * b.imag);
    phase += b.imag * log(vabs);
  }
  // glibc's cos and sin set errno EDOM for an infinite argument, which complex_pow reports as this error.
  if (phase === Number.POSITIVE_INFINITY || phase === Number.NEGATIVE_INFINITY) return null;
  return { real: len * cos(phase), imag: len * sin(phase) };
}

/** `complex_pow` without a modulus. */
export function complexPow(a: Parts, b: Parts): PyComplex {
  let p: Parts | null;
  if (b.imag === 0 && b.real === Math.floor(b.real) && Math.abs(b.real) <= 100) {
    const n = b.real;
    if (n > 0) p = powu(a, n);
    else p = quot(ONE, powu(a, -n));
  } else p = cpow(a, b);
  if (p === null) throw pyFail("ZeroDivisionError", "0.0 to a negative or complex power");
  // _Py_ADJUST_ERANGE2: an infinite part is ERANGE (C's pow overflowing also gives one).
  if (!isInfinite(p.real) && !isInfinite(p.imag)) return new PyComplex(p.real, p.imag);
  throw pyFail("OverflowError", "complex exponentiation");
}

function isInfinite(x: number): boolean {
  return x === Number.POSITIVE_INFINITY || x === Number.NEGATIVE_INFINITY;
}

/**
 * `a op b` when either is a complex and the other a number; undefined when CPython's complex slot answers
 * NotImplemented (a non-number operand, `//`, `%`), so that the caller raises its TypeError.
 */
export function complexBinary(op: BinaryOp, a: PyValue, b: PyValue): PyComplex | undefined {
  if (op === "//" || op === "%") return undefined;
  const x = complexParts(a);
  if (x === undefined) return undefined;
  const y = complexParts(b);
  if (y === undefined) return undefined;
  switch (op) {
    case "+":
      return new PyComplex(x.real + y.real, x.imag + y.imag);
    case "-":
      return new PyComplex(x.real - y.real, x.imag - y.imag);
    case "*": {
      const p = prod(x, y);
      return new PyComplex(p.real, p.imag);
    }
    case "/": {
      const q = quot(x, y);
      if (q === null) throw pyFail("ZeroDivisionError", "complex division by zero");
      return new PyComplex(q.real, q.imag);
    }
    case "**":
      return complexPow(x, y);
    default:
      return undefined;
  }
}

/**
 * Whether float_pow hands `iv ** iw` to complex_pow: a finite negative base to a finite non-integral power
 * (float_pow's earlier special cases take every other base and exponent).
 */
export function isComplexPower(iv: number, iw: number): boolean {
  return iv < 0 && iv !== Number.NEGATIVE_INFINITY && Number.isFinite(iw) && iw !== Math.floor(iw);
}

type PowSlot = "int" | "float" | "complex";

function powSlot(v: PyValue): PowSlot | undefined {
  if (typeof v === "bigint" || typeof v === "boolean") return "int";
  if (typeof v === "number") return "float";
  return v instanceof PyComplex ? "complex" : undefined;
}

/**
 * `pow(base, exp, mod)` when one of them is a complex: CPython's ternary_op tries the `nb_power` of each
 * operand's type in turn (base, exp, mod; each type once): int's answers NotImplemented unless all three are
 * ints (it cannot be here), float's raises TypeError "pow() 3rd argument not allowed unless all arguments are
 * integers", complex's ValueError "complex modulo" once base and exp are numbers; else TypeError.
 */
export function complexModPow(base: PyValue, exp: PyValue, mod: PyValue): never {
  const tried = new Set<PowSlot>();
  for (const v of [base, exp, mod]) {
    const slot = powSlot(v);
    if (slot === undefined || tried.has(slot)) continue;
    tried.add(slot);
    if (slot === "float")
      throw pyFail("TypeError", "pow() 3rd argument not allowed unless all arguments are integers");
    if (slot === "complex" && complexParts(base) !== undefined && complexParts(exp) !== undefined)
      throw pyFail("ValueError", "complex modulo");
  }
  throw pyFail(
    "TypeError",
    `unsupported operand type(s) for ** or pow(): '${typeName(base)}', '${typeName(exp)}', '${typeName(mod)}'`,
  );
}

/** The value of a checked tree's literal: an imaginary literal `2j` is the complex `0+2j`. */
export function literalValue(literal: Literal): PyValue {
  return typeof literal === "object" && literal !== null ? new PyComplex(0, literal.imag) : literal;
}

/** `-z` */
export function complexNegative(z: PyComplex): PyComplex {
  return new PyComplex(-z.real, -z.imag);
}

/** `abs(z)` (`complex_abs`): an infinite part wins over a NaN; a finite z too large is OverflowError. */
export function complexAbs(z: PyComplex): number {
  if (!Number.isFinite(z.real) || !Number.isFinite(z.imag)) {
    if (isInfinite(z.real)) return Math.abs(z.real);
    if (isInfinite(z.imag)) return Math.abs(z.imag);
    return Number.NaN;
  }
  const result = hypot(z.real, z.imag);
  if (!Number.isFinite(result)) throw pyFail("OverflowError", "absolute value too large");
  return result;
}
