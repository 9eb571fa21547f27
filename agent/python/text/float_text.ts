/**
 * A float as text, exactly as CPython 3.11's `PyOS_double_to_string` writes it (Python/pystrtod.c,
 * `format_float_short`): the `repr`, and the `e`/`f`/`g` renderings that format specs and `%` formatting pad
 * and group afterwards. The digits come from decimal_digits.ts (exact, round-half-even), never from
 * JavaScript's number formatting.
 */

import { checkSize } from "../runtime/values.ts";
import { type Digits, fixedDigits, shortestDigits, significantDigits } from "./decimal_digits.ts";

/** A presentation letter PyOS_double_to_string takes: `r` is repr. */
export type FloatCode = "e" | "E" | "f" | "F" | "g" | "G" | "r";

export interface FloatFlags {
  /** `Py_DTSF_SIGN`: `+` before a non-negative number. */
  sign?: boolean;
  /** `Py_DTSF_ADD_DOT_0`: an integral result keeps `.0` (repr, and format's no-type presentation). */
  addDot0?: boolean;
  /** `Py_DTSF_ALT`: the `#` flag — keep the decimal point and, for `g`, the trailing zeros. */
  alt?: boolean;
  /** `Py_DTSF_NO_NEG_0`: the `z` flag — a value that rounds to zero loses its minus sign. */
  noNegZero?: boolean;
}

/**
 * `x` written as `code` with `precision` (digits after the point for e/f, significant digits for g; ignored for
 * r). Infinities and NaN are `inf`/`nan` (`INF`/`NAN` for upper-case codes); NaN never gets a minus sign.
 * Throws MemoryError when the text would be longer than a Body may build (`'%.2000000000f' % 1`).
 */
export function doubleToString(
  x: number,
  code: FloatCode,
  precision: number,
  flags: FloatFlags = {},
): string {
  const upper = code === "E" || code === "F" || code === "G";
  const kind = code.toLowerCase() as "e" | "f" | "g" | "r";
  let negative = x < 0 || Object.is(x, -0);
  if (!Number.isFinite(x)) {
    const sign = negative && !Number.isNaN(x) ? "-" : flags.sign ? "+" : "";
    const text = Number.isNaN(x) ? "nan" : "inf";
    return sign + (upper ? text.toUpperCase() : text);
  }
  const abs = Math.abs(x);
  let p = precision;
  let found: Digits;
  if (kind === "e") {
    p++;
    found = significantDigits(abs, p);
  } else if (kind === "f") found = fixedDigits(abs, p);
  else if (kind === "g") {
    if (p === 0) p = 1;
    found = significantDigits(abs, p);
  } else found = shortestDigits(abs);
  const { digits } = found;
  let decpt = found.decpt;
  if (flags.noNegZero && negative && (digits === "" || digits === "0")) negative = false;

  // The output is a slice [start, end) of the digits padded with zeros on both sides; see format_float_short.
  let end = digits.length;
  let useExp = false;
  if (kind === "e") {
    useExp = true;
    end = p;
  } else if (kind === "f") end = decpt + p;
  else if (kind === "g") {
    if (decpt <= -4 || decpt > (flags.addDot0 ? p - 1 : p)) useExp = true;
    if (flags.alt) end = p;
  } else if (decpt <= -4 || decpt > 16) useExp = true;
  let exp = 0;
  if (useExp) {
    exp = decpt - 1;
    decpt = 1;
  }
  const start = decpt <= 0 ? decpt - 1 : 0;
  if (!useExp && flags.addDot0) end = end > decpt ? end : decpt + 1;
  else end = Math.max(end, decpt);

  checkSize(end - start, "str");
  let out = negative ? "-" : flags.sign ? "+" : "";
  if (decpt <= 0) out += `${"0".repeat(decpt - start)}.${"0".repeat(-decpt)}${digits}`;
  else if (decpt <= digits.length) out += `${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
  else out += digits;
  if (digits.length < decpt) out += `${"0".repeat(decpt - digits.length)}.${"0".repeat(end - decpt)}`;
  else out += "0".repeat(end - digits.length);
  if (out.endsWith(".") && !flags.alt) out = out.slice(0, -1);
  if (useExp) {
    const magnitude = Math.abs(exp);
    out += `${upper ? "E" : "e"}${exp < 0 ? "-" : "+"}${magnitude < 10 ? "0" : ""}${magnitude}`;
  }
  return out;
}

/** `repr(x)` / `str(x)` for a float: `1.0`, `0.1`, `1e+16`, `1e-05`, `-0.0`, `inf`, `nan`. Never throws. */
export function floatRepr(x: number): string {
  return doubleToString(x, "r", 0, { addDot0: true });
}
