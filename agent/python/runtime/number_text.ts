/**
 * Numbers read from text by `int(s, base)` and `float(s)`, as CPython 3.11 reads them:
 *
 * - the text is first made ASCII (Objects/unicodeobject.c `_PyUnicode_TransformDecimalAndSpaceToASCII`): a
 *   non-ASCII whitespace character (`str.isspace`) becomes a space, a Unicode decimal digit (category Nd, e.g.
 *   `'٣'`, `'１'`, `'𝟙'`) its ASCII digit, any other non-ASCII character `?`; ASCII stays as it is, so only
 *   ` \t\n\v\f\r` count as surrounding whitespace (`int('\x1c1')` is refused, `int('\xa01')` is 1);
 * - `int`: Objects/longobject.c `PyLong_FromString` (sign, base prefixes and base 0, one `_` between digits or
 *   after a prefix, `0_7` refused with base 0) with the integer string conversion limit: more than 4300
 *   digits in a base that is not a power of two is ValueError "Exceeds the limit (4300 digits) for integer
 *   string conversion: value has N digits; …", checked before any digit is converted;
 * - `float`: Objects/floatobject.c `PyFloat_FromString` (`_` only between digits, `inf`/`infinity`/`nan` in
 *   any case with a sign, no hex, overflow to ±inf).
 *
 * Both answer `undefined` for text that is not a number; the caller words the ValueError. The Unicode
 * properties are CPython 3.11's (types/unicode.ts, Unicode 14), not JavaScript's.
 */

import { DECIMAL, has, SPACE } from "../types/unicode.ts";
import { pyFail } from "./exceptions.ts";

/** CPython's default `sys.get_int_max_str_digits()`. */
export const MAX_STR_DIGITS = 4300;

/** The value of a Unicode decimal digit: Nd digits come in runs of ten from 0 to 9 (Unicode's stability policy). */
function decimalValue(cp: number): number {
  let zero = cp;
  while (has(zero - 1, DECIMAL)) zero--;
  return (cp - zero) % 10;
}

/** `_PyUnicode_TransformDecimalAndSpaceToASCII`. */
export function asciiNumberText(text: string): string {
  if (!/[^\0-\x7f]/.test(text)) return text;
  let out = "";
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp < 128) out += ch;
    else if (has(cp, SPACE)) out += " ";
    else if (has(cp, DECIMAL)) out += String(decimalValue(cp));
    else out += "?";
  }
  return out;
}

/** `Py_ISSPACE`: ASCII whitespace only. */
function isSpace(c: string | undefined): boolean {
  return c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\v" || c === "\f";
}

/** `_PyLong_DigitValue`: 0-9, a-z and A-Z as 0..35, anything else 37. */
function digitValue(c: string | undefined): number {
  if (c === undefined) return 37;
  const code = c.charCodeAt(0);
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 122) return code - 87;
  if (code >= 65 && code <= 90) return code - 55;
  return 37;
}

const PREFIXES: Record<string, number> = { x: 16, X: 16, o: 8, O: 8, b: 2, B: 2 };

/**
 * `int(text, base)` for a valid base (0 or 2..36): the int, or undefined when the text is not an int literal
 * in that base. Throws the digit-limit ValueError.
 */
export function parseIntText(text: string, base: number): bigint | undefined {
  const s = asciiNumberText(text);
  let i = 0;
  while (isSpace(s[i])) i++;
  const negative = s[i] === "-";
  if (s[i] === "+" || s[i] === "-") i++;
  let radix = base;
  let zeroOnly = false;
  if (radix === 0) {
    if (s[i] !== "0") radix = 10;
    else if (PREFIXES[s[i + 1] ?? ""] !== undefined) radix = PREFIXES[s[i + 1] ?? ""] ?? 10;
    else {
      // An old C-style octal literal ("017") is refused, but it may still be zero ("00", "0_0").
      zeroOnly = true;
      radix = 10;
    }
  }
  if (s[i] === "0" && PREFIXES[s[i + 1] ?? ""] === radix) {
    i += 2;
    if (s[i] === "_") i++;
  }
  if (s[i] === "_") return undefined;
  const start = i;
  let digits = 0;
  let clean = "";
  for (let prev = ""; digitValue(s[i]) < radix || s[i] === "_"; i++) {
    const c = s[i] ?? "";
    if (c === "_" && prev === "_") return undefined;
    if (c !== "_") {
      digits++;
      clean += c;
    }
    prev = c;
  }
  if (s[i - 1] === "_" && i > start) return undefined;
  if ((radix & (radix - 1)) !== 0 && digits > MAX_STR_DIGITS) {
    throw pyFail(
      "ValueError",
      `Exceeds the limit (${MAX_STR_DIGITS} digits) for integer string conversion: value has ${digits} digits; use sys.set_int_max_str_digits() to increase the limit`,
    );
  }
  if (digits === 0) return undefined;
  const value = digitsValue(clean, radix);
  if (zeroOnly && value !== 0n) return undefined;
  while (isSpace(s[i])) i++;
  if (i !== s.length) return undefined;
  return negative ? -value : value;
}

/** The value of validated digits: JavaScript's exact conversions for bases 2, 8, 10, 16, else Horner's rule. */
function digitsValue(digits: string, radix: number): bigint {
  if (radix === 10) return BigInt(digits);
  const prefix = radix === 16 ? "0x" : radix === 8 ? "0o" : radix === 2 ? "0b" : "";
  if (prefix) return BigInt(prefix + digits);
  if ((radix & (radix - 1)) === 0) {
    // Bases 4 and 32 have no digit limit: read them as binary, bits per digit.
    const width = Math.log2(radix);
    let bits = "";
    for (const c of digits) bits += digitValue(c).toString(2).padStart(width, "0");
    return BigInt(`0b${bits}`);
  }
  const big = BigInt(radix);
  let n = 0n;
  for (const c of digits) n = n * big + BigInt(digitValue(c));
  return n;
}

const FLOAT_TEXT = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity|nan)$/i;

/** `float(text)`: the float, or undefined when the text is not a float literal. */
export function parseFloatText(text: string): number | undefined {
  let s = asciiNumberText(text);
  if (s.includes("_")) {
    // _Py_string_to_number_with_underscores_or_error: an underscore only between two ASCII digits.
    if (/(?:^|[^0-9])_|_(?:[^0-9]|$)/.test(s)) return undefined;
    s = s.replace(/_/g, "");
  }
  let from = 0;
  let to = s.length;
  while (from < to && isSpace(s[from])) from++;
  while (to > from && isSpace(s[to - 1])) to--;
  const t = s.slice(from, to);
  if (!FLOAT_TEXT.test(t)) return undefined;
  const word = t.replace(/^[+-]/, "").toLowerCase();
  if (word === "nan") return Number.NaN;
  if (word.startsWith("inf")) return t.startsWith("-") ? -Infinity : Infinity;
  // JavaScript reads decimal text correctly rounded, as dtoa.c's strtod does; overflow is ±Infinity.
  return Number(t);
}
