/**
 * Python's format-spec mini-language: `format(value, spec)`, the part after `:` in `'{0:>8.2f}'` and in an
 * f-string field. A port of CPython 3.11's Python/formatter_unicode.c: the spec is parsed once
 * (format_spec_parse.ts, with the value type's default presentation and alignment), then str, int (and bool)
 * and float format it (complex: format_complex.ts); any other value accepts only the empty spec (`object.__format__`).
 * Errors are CPython's, e.g. ValueError "Unknown format code 'd' for object of type 'float'",
 * "Sign not allowed in string format specifier", "Format specifier missing precision",
 * "Cannot specify ',' with 's'.", OverflowError "%c arg not in range(0x110000)".
 */
import { pyFail } from "../runtime/exceptions.ts";
import { PyComplex, type PyValue, typeName } from "../runtime/values.ts";
import { doubleToString, type FloatCode } from "./float_text.ts";
import { formatComplex } from "./format_complex.ts";
import { codeText, type FormatSpec, parseSpec } from "./format_spec_parse.ts";
import { layoutNumber, padText } from "./number_layout.ts";
import { intDecimal, pyStr } from "./repr.ts";

/** `float(n)` (PyNumber_Float of an int): correctly rounded, OverflowError beyond the float range. */
function intToFloat(n: bigint): number {
  const x = Number(n);
  if (!Number.isFinite(x)) throw pyFail("OverflowError", "int too large to convert to float");
  return x;
}

const INT_MAX = 2147483647;

function unknownCode(type: string, value: PyValue): Error {
  return pyFail(
    "ValueError",
    `Unknown format code ${codeText(type)} for object of type '${typeName(value)}'`,
  );
}

/** `format(value, spec)`. */
export function formatValue(value: PyValue, spec: string): string {
  if (spec === "") return pyStr(value);
  if (typeof value === "string") return formatStr(value, parseSpec(spec, value, "s", "<"));
  if (typeof value === "bigint" || typeof value === "boolean") {
    const s = parseSpec(spec, value, "d", ">");
    const n = typeof value === "bigint" ? value : value ? 1n : 0n;
    if ("bcdoxXn".includes(s.type)) return formatInt(n, s);
    if ("eEfFgG%".includes(s.type)) return formatFloat(intToFloat(n), s);
    throw unknownCode(s.type, value);
  }
  if (typeof value === "number") {
    const s = parseSpec(spec, value, "", ">");
    if (s.type === "" || "eEfFgGn%".includes(s.type)) return formatFloat(value, s);
    throw unknownCode(s.type, value);
  }
  if (value instanceof PyComplex) return formatComplex(value, spec);
  throw pyFail("TypeError", `unsupported format string passed to ${typeName(value)}.__format__`);
}

function formatStr(value: string, s: FormatSpec): string {
  if (s.type !== "s") throw unknownCode(s.type, value);
  if (s.sign === " ") throw pyFail("ValueError", "Space not allowed in string format specifier");
  if (s.sign) throw pyFail("ValueError", "Sign not allowed in string format specifier");
  if (s.noNegZero)
    throw pyFail("ValueError", "Negative zero coercion (z) not allowed in string format specifier");
  if (s.alternate) throw pyFail("ValueError", "Alternate form (#) not allowed in string format specifier");
  if (s.align === "=") throw pyFail("ValueError", "'=' alignment not allowed in string format specifier");
  let text = value;
  if (s.precision >= 0 && s.precision < text.length) {
    const chars = Array.from(text);
    if (chars.length > s.precision) text = chars.slice(0, s.precision).join("");
  }
  return padText(text, s.width, s.align, s.fill);
}

const BASES: Record<string, { base: number; prefix: string }> = {
  b: { base: 2, prefix: "0b" },
  o: { base: 8, prefix: "0o" },
  x: { base: 16, prefix: "0x" },
  X: { base: 16, prefix: "0X" },
};

/** An int formatted with presentation b, c, d, n, o, x or X (CPython's `format_long_internal`). */
export function formatInt(n: bigint, s: FormatSpec): string {
  if (s.precision !== -1) throw pyFail("ValueError", "Precision not allowed in integer format specifier");
  if (s.noNegZero)
    throw pyFail("ValueError", "Negative zero coercion (z) not allowed in integer format specifier");
  if (s.type === "c") {
    if (s.sign) throw pyFail("ValueError", "Sign not allowed with integer format specifier 'c'");
    if (s.alternate)
      throw pyFail("ValueError", "Alternate form (#) not allowed with integer format specifier 'c'");
    if (n > 9223372036854775807n || n < -9223372036854775808n)
      throw pyFail("OverflowError", "Python int too large to convert to C long");
    if (n < 0n || n > 0x10ffffn) throw pyFail("OverflowError", "%c arg not in range(0x110000)");
    const ch = String.fromCodePoint(Number(n));
    return layoutNumber({ negative: false, prefix: "", digits: "", decimal: false, remainder: ch }, s);
  }
  const negative = n < 0n;
  const abs = negative ? -n : n;
  const radix = BASES[s.type];
  let digits = radix ? abs.toString(radix.base) : intDecimal(abs);
  if (s.type === "X") digits = digits.toUpperCase();
  const prefix = radix && s.alternate ? radix.prefix : "";
  return layoutNumber({ negative, prefix, digits, decimal: false, remainder: "" }, s);
}

/** A float formatted with presentation e, E, f, F, g, G, n, % or none (CPython's `format_float_internal`). */
export function formatFloat(x: number, s: FormatSpec): string {
  if (s.precision > INT_MAX) throw pyFail("ValueError", "precision too big");
  let code: FloatCode;
  let value = x;
  let precision = s.precision;
  let percent = false;
  if (s.type === "") {
    code = precision < 0 ? "r" : "g";
    if (precision < 0) precision = 0;
  } else {
    code = (s.type === "n" ? "g" : s.type === "%" ? "f" : s.type) as FloatCode;
    if (precision < 0) precision = 6;
  }
  if (s.type === "%") {
    value *= 100;
    percent = true;
  }
  const text = doubleToString(value, code, precision, {
    alt: s.alternate,
    noNegZero: s.noNegZero,
    addDot0: s.type === "",
  });
  const negative = text.startsWith("-");
  const body = negative ? text.slice(1) : text;
  let end = 0;
  while (end < body.length && body.charCodeAt(end) >= 48 && body.charCodeAt(end) <= 57) end++;
  const decimal = body[end] === ".";
  const remainder = body.slice(decimal ? end + 1 : end) + (percent ? "%" : "");
  return layoutNumber({ negative, prefix: "", digits: body.slice(0, end), decimal, remainder }, s);
}
