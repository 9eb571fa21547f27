/**
 * The format-spec mini-language's grammar, parsed as CPython 3.11's `parse_internal_render_format_spec`
 * (Python/formatter_unicode.c) does: `[[fill]align][sign][z][#][0][width][grouping][.precision][type]`, widths
 * and precisions in any Unicode decimal digits, the `0` shorthand (fill `0`, and `=` alignment for numbers),
 * and the checks made before the value's type matters (the separator against the presentation type, both
 * separators, a missing precision, trailing characters).
 */
import { pyFail } from "../runtime/exceptions.ts";
import { type PyValue, typeName } from "../runtime/values.ts";
import { DECIMAL, has } from "../types/unicode.ts";
import { type Grouping, NO_GROUPING, type NumberLayout } from "./number_layout.ts";

/** A parsed spec (CPython's InternalFormatSpec); `type` is the presentation letter or the type's default. */
export interface FormatSpec extends NumberLayout {
  readonly noNegZero: boolean;
  readonly alternate: boolean;
  /** -1 when absent. */
  readonly precision: number;
  readonly type: string;
}

const SSIZE_MAX = 2n ** 63n - 1n;

/** CPython's `get_integer`: Unicode decimal digits; null when there are none at `i`. */
function readInteger(spec: string[], i: number): { value: number; end: number } | null {
  let end = i;
  let value = 0n;
  while (end < spec.length) {
    const digit = decimalValue(spec[end] as string);
    if (digit < 0) break;
    value = value * 10n + BigInt(digit);
    if (value > SSIZE_MAX) throw pyFail("ValueError", "Too many decimal digits in format string");
    end++;
  }
  return end === i ? null : { value: Number(value), end };
}

/** The value of a Unicode decimal digit (`Py_UNICODE_TODECIMAL`), -1 for any other character. */
export function decimalValue(ch: string): number {
  const cp = ch.codePointAt(0) ?? 0;
  if (cp < 128) return cp >= 48 && cp <= 57 ? cp - 48 : -1;
  if (!has(cp, DECIMAL)) return -1;
  // Decimal digits come in runs of 0..9 (some runs adjoin): count from the start of the run.
  let start = cp;
  while (has(start - 1, DECIMAL)) start--;
  return (cp - start) % 10;
}

function isAlign(ch: string | undefined): ch is "<" | ">" | "=" | "^" {
  return ch === "<" || ch === ">" || ch === "=" || ch === "^";
}

/** Parses `spec` for a value whose default presentation is `defaultType` ("" for float) and alignment `defaultAlign`. */
export function parseSpec(
  spec: string,
  value: PyValue,
  defaultType: string,
  defaultAlign: "<" | ">",
): FormatSpec {
  const c = Array.from(spec);
  let i = 0;
  let fill = " ";
  let align: FormatSpec["align"] = defaultAlign;
  let fillGiven = false;
  let alignGiven = false;
  if (c.length >= 2 && isAlign(c[1])) {
    fill = c[0] as string;
    align = c[1];
    fillGiven = alignGiven = true;
    i = 2;
  } else if (isAlign(c[0])) {
    align = c[0];
    alignGiven = true;
    i = 1;
  }
  let sign = "";
  if (c[i] === "+" || c[i] === "-" || c[i] === " ") sign = c[i++] as string;
  const noNegZero = c[i] === "z";
  if (noNegZero) i++;
  const alternate = c[i] === "#";
  if (alternate) i++;
  if (!fillGiven && c[i] === "0") {
    fill = "0";
    if (!alignGiven && defaultAlign === ">") align = "=";
    i++;
  }
  const width = readInteger(c, i);
  if (width) i = width.end;
  let separator = "";
  if (c[i] === ",") {
    separator = ",";
    i++;
  }
  if (c[i] === "_") {
    if (separator) throw pyFail("ValueError", "Cannot specify both ',' and '_'.");
    separator = "_";
    i++;
  }
  if (c[i] === "," && separator === "_") throw pyFail("ValueError", "Cannot specify both ',' and '_'.");
  let precision = -1;
  if (c[i] === ".") {
    const digits = readInteger(c, i + 1);
    if (!digits) throw pyFail("ValueError", "Format specifier missing precision");
    precision = digits.value;
    i = digits.end;
  }
  if (c.length - i > 1) {
    throw pyFail("ValueError", `Invalid format specifier '${spec}' for object of type '${typeName(value)}'`);
  }
  const type = c.length - i === 1 ? (c[i] as string) : defaultType;
  let grouping: Grouping = NO_GROUPING;
  if (separator) {
    if ("defgEFG%".includes(type)) grouping = { separator, size: 3 };
    else if ("boxX".includes(type) && type !== "" && separator === "_") grouping = { separator, size: 4 };
    else throw pyFail("ValueError", `Cannot specify '${separator}' with ${codeText(type)}.`);
  }
  return {
    fill,
    align,
    sign,
    noNegZero,
    alternate,
    width: width ? width.value : -1,
    grouping,
    precision,
    type,
  };
}

/** A presentation letter as CPython's messages quote it: `'x'`, or `'\xe9'` outside printable ASCII. */
export function codeText(type: string): string {
  const cp = type.codePointAt(0) ?? 0;
  return cp > 32 && cp < 128 ? `'${type}'` : `'\\x${cp.toString(16)}'`;
}
