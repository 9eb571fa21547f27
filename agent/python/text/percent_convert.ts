/**
 * One `%` conversion rendered, as CPython 3.11's `unicode_format_arg_format` and `unicode_format_arg_output`
 * (Objects/unicodeobject.c) do it: the argument converted by type (`s r a` text, `d i u o x X` ints with
 * `mainformatlong`, `e E f F g G` floats through PyOS_double_to_string, `c` one character), then cut to the
 * precision (text), signed, given its `#` prefix and padded to the width.
 */
import { pyFail } from "../runtime/exceptions.ts";
import { floatToInt } from "../runtime/float.ts";
import { checkSize, type PyValue, typeName } from "../runtime/values.ts";
import { hasAstral, strLength } from "../types/text.ts";
import { doubleToString, type FloatCode } from "./float_text.ts";
import { intDecimal, pyAscii, pyRepr, pyStr } from "./repr.ts";

const INT_MAX = 2147483647;

/** A parsed conversion: its flags, width and precision (-1 when absent) and type letter. */
export interface Conversion {
  ljust: boolean;
  sign: boolean;
  blank: boolean;
  alt: boolean;
  zero: boolean;
  width: number;
  precision: number;
  type: string;
}

/** `v` converted by `c`; `index` gives the type letter's position for the "unsupported format character" error. */
export function convert(v: PyValue, c: Conversion, index: () => number): string {
  switch (c.type) {
    case "s":
      return output(pyStr(v), c, false);
    case "r":
      return output(pyRepr(v), c, false);
    case "a":
      return output(pyAscii(v), c, false);
    case "i":
    case "d":
    case "u":
    case "o":
    case "x":
    case "X":
      return output(formatLong(v, c), c, true);
    case "e":
    case "E":
    case "f":
    case "F":
    case "g":
    case "G":
      return output(
        doubleToString(realNumber(v), c.type as FloatCode, c.precision < 0 ? 6 : c.precision, { alt: c.alt }),
        c,
        true,
      );
    case "c":
      return output(formatChar(v), c, false);
  }
  const cp = c.type.codePointAt(0) ?? 0;
  const shown = cp >= 31 && cp <= 126 ? c.type : "?";
  throw pyFail(
    "ValueError",
    `unsupported format character '${shown}' (0x${cp.toString(16)}) at index ${index()}`,
  );
}

/** `PyFloat_AsDouble`: a float, or an int converted (correctly rounded; OverflowError beyond the float range). */
function realNumber(v: PyValue): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint" || typeof v === "boolean") {
    const x = typeof v === "boolean" ? (v ? 1 : 0) : Number(v);
    if (!Number.isFinite(x)) throw pyFail("OverflowError", "int too large to convert to float");
    return x;
  }
  throw pyFail("TypeError", `must be real number, not ${typeName(v)}`);
}

/** `mainformatlong` + `_PyUnicode_FormatLong`: sign, `0x`/`0o` prefix with `#`, digits zero-filled to precision. */
function formatLong(v: PyValue, c: Conversion): string {
  let n: bigint;
  if (typeof v === "bigint") n = v;
  else if (typeof v === "boolean") n = v ? 1n : 0n;
  else if (typeof v === "number" && !"oxX".includes(c.type)) {
    n = floatToInt(v);
  } else {
    const what = "oxX".includes(c.type) ? "an integer" : "a real number";
    throw pyFail("TypeError", `%${c.type} format: ${what} is required, not ${typeName(v)}`);
  }
  if (c.precision > INT_MAX - 3) throw pyFail("OverflowError", "precision too large");
  const negative = n < 0n;
  const abs = negative ? -n : n;
  let digits =
    c.type === "o" ? abs.toString(8) : c.type === "x" || c.type === "X" ? abs.toString(16) : intDecimal(abs);
  if (c.precision > digits.length) {
    checkSize(c.precision, "str");
    digits = "0".repeat(c.precision - digits.length) + digits;
  }
  const prefix =
    c.alt && c.type !== "d" && c.type !== "i" && c.type !== "u" ? `0${c.type === "o" ? "o" : "x"}` : "";
  const text = (negative ? "-" : "") + prefix + digits;
  return c.type === "X" ? text.toUpperCase() : text;
}

/** `formatchar`: a one-character str, or an int code point below 0x110000. */
function formatChar(v: PyValue): string {
  if (typeof v === "string") {
    if (v.length === 0 || v.length > 2 || strLength(v) !== 1)
      throw pyFail("TypeError", "%c requires int or char");
    return v;
  }
  if (typeof v !== "bigint" && typeof v !== "boolean") throw pyFail("TypeError", "%c requires int or char");
  const n = typeof v === "boolean" ? (v ? 1n : 0n) : v;
  if (n < 0n || n > 0x10ffffn) throw pyFail("OverflowError", "%c arg not in range(0x110000)");
  return String.fromCodePoint(Number(n));
}

/** `unicode_format_arg_output`: precision cut (s, r, a), sign, `#` prefix and padding to the width. */
function output(text: string, c: Conversion, numeric: boolean): string {
  const fill = numeric && c.zero ? "0" : " ";
  const chars = hasAstral(text) ? Array.from(text) : null;
  let length = chars ? chars.length : text.length;
  if (
    (c.width === -1 || c.width <= length) &&
    (c.precision === -1 || c.precision >= length) &&
    !c.sign &&
    !c.blank
  ) {
    return text;
  }
  if ("sra".includes(c.type) && c.precision >= 0 && length > c.precision) length = c.precision;
  let at = 0;
  let sign = "";
  let signed = numeric;
  if (signed) {
    if (text[0] === "-" || text[0] === "+") {
      sign = text[0];
      length--;
      at++;
    } else if (c.sign) sign = "+";
    else if (c.blank) sign = " ";
    else signed = false;
  }
  let width = Math.max(c.width, length);
  checkSize(width, "str");
  let out = "";
  if (signed) {
    if (fill !== " ") out += sign;
    if (width > length) width--;
  }
  const prefixed = c.alt && (c.type === "x" || c.type === "X" || c.type === "o");
  if (prefixed) {
    if (fill !== " ") {
      out += `0${c.type}`;
      at += 2;
    }
    width = Math.max(0, width - 2);
    length -= 2;
  }
  if (width > length && !c.ljust) {
    out += fill.repeat(width - length);
    width = length;
  }
  if (fill === " ") {
    if (signed) out += sign;
    if (prefixed) {
      out += `0${c.type}`;
      at += 2;
    }
  }
  if (length > 0) out += chars ? chars.slice(at, at + length).join("") : text.slice(at, at + length);
  if (width > length) out += " ".repeat(width - length);
  return out;
}
