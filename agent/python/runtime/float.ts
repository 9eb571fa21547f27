/**
 * Python's float arithmetic, exactly as CPython 3.11's Objects/floatobject.c computes it, and the one checked
 * float → int conversion. JavaScript's `+ - * /` and `%` (which is C's `fmod`) are IEEE-754 like C's, so they
 * are used as they are; floor division and modulo follow `_float_div_mod` (fmod-based: `1 // 0.1` is 9.0, the
 * remainder takes the divisor's sign, zeros keep theirs), and `**` follows `float_pow` (its special cases
 * before C's `pow`, OverflowError "(34, 'Numerical result out of range')" where C's pow overflows).
 */
import { pyFail } from "./exceptions.ts";
import { InternalError } from "./internal_error.ts";

/**
 * `int(x)` of a float (CPython's `PyLong_FromDouble`): truncates toward zero, exactly. ValueError "cannot
 * convert float NaN to integer", OverflowError "cannot convert float infinity to integer". Every float → int
 * path (int(), round(), `%d`) goes through here.
 */
export function floatToInt(x: number): bigint {
  if (Number.isNaN(x)) throw pyFail("ValueError", "cannot convert float NaN to integer");
  if (!Number.isFinite(x)) throw pyFail("OverflowError", "cannot convert float infinity to integer");
  return BigInt(Math.trunc(x));
}

/** C's `copysign(0.0, y)`. */
function signedZero(y: number): number {
  return y < 0 || Object.is(y, -0) ? -0 : 0;
}

/** `_float_div_mod`: floor quotient and remainder (`wx` is not zero). NaN is true in C's `if`, as here. */
function divMod(vx: number, wx: number): [number, number] {
  let mod = vx % wx;
  let div = (vx - mod) / wx;
  if (mod !== 0) {
    if (wx < 0 !== mod < 0) {
      mod += wx;
      div -= 1;
    }
  } else mod = signedZero(wx);
  let floordiv: number;
  if (div !== 0) {
    floordiv = Math.floor(div);
    if (div - floordiv > 0.5) floordiv += 1;
  } else floordiv = signedZero(vx / wx);
  return [floordiv, mod];
}

/** `float_rem`: the remainder with the divisor's sign. */
function remainder(vx: number, wx: number): number {
  const mod = vx % wx;
  if (mod === 0) return signedZero(wx);
  return wx < 0 !== mod < 0 ? mod + wx : mod;
}

/** `fmod(fabs(x), 2.0) == 1.0` */
function isOddInteger(x: number): boolean {
  return Math.abs(x) % 2 === 1;
}

/** `float_pow` without a modulus. */
export function floatPow(iv: number, iw: number): number {
  if (iw === 0) return 1;
  if (Number.isNaN(iv)) return iv;
  if (Number.isNaN(iw)) return iv === 1 ? 1 : iw;
  if (!Number.isFinite(iw)) {
    const v = Math.abs(iv);
    if (v === 1) return 1;
    return iw > 0 === v > 1 ? Infinity : 0;
  }
  if (!Number.isFinite(iv)) {
    const odd = isOddInteger(iw);
    if (iw > 0) return odd ? iv : Math.abs(iv);
    return odd ? signedZero(iv) : 0;
  }
  if (iv === 0) {
    if (iw < 0) throw pyFail("ZeroDivisionError", "0.0 cannot be raised to a negative power");
    return isOddInteger(iw) ? iv : 0;
  }
  let negate = false;
  let base = iv;
  if (iv < 0) {
    // CPython's float_pow hands a fractional power to complex_pow: ops.ts does (complex.ts isComplexPower).
    if (iw !== Math.floor(iw)) throw new InternalError(`floatPow(${iv}, ${iw}) has a complex result`);
    base = -iv;
    negate = isOddInteger(iw);
  }
  if (base === 1) return negate ? -1 : 1;
  const ix = base ** iw;
  if (!Number.isFinite(ix)) throw pyFail("OverflowError", "(34, 'Numerical result out of range')");
  return negate ? -ix : ix;
}

export type FloatOp = "+" | "-" | "*" | "/" | "//" | "%" | "**";

/** `a op b` for two floats (an int operand was converted by the caller). */
export function floatBinary(op: FloatOp, a: number, b: number): number {
  switch (op) {
    case "+":
      return a + b;
    case "-":
      return a - b;
    case "*":
      return a * b;
    case "/":
      if (b === 0) throw pyFail("ZeroDivisionError", "float division by zero");
      return a / b;
    case "//":
      if (b === 0) throw pyFail("ZeroDivisionError", "float floor division by zero");
      return divMod(a, b)[0];
    case "%":
      if (b === 0) throw pyFail("ZeroDivisionError", "float modulo");
      return remainder(a, b);
    case "**":
      return floatPow(a, b);
  }
}

/** `divmod(a, b)` of two floats: ZeroDivisionError "float divmod()". */
export function floatDivmod(a: number, b: number): [number, number] {
  if (b === 0) throw pyFail("ZeroDivisionError", "float divmod()");
  return divMod(a, b);
}

/** C's `round`: half away from zero. */
function cRound(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** `round(x)` of a float, still a float: half to even (float___round___impl without ndigits). */
export function roundHalfEven(x: number): number {
  const rounded = cRound(x);
  return Math.abs(x - rounded) === 0.5 ? 2 * cRound(x / 2) : rounded;
}
