/**
 * printf-style `%` formatting of str (`template % values`): a port of CPython 3.11's `PyUnicode_Format`
 * (Objects/unicodeobject.c). A conversion is `%[(key)][flags][width][.precision][h|l|L]type` with flags
 * `-+ #0`, `*` width/precision taken from the arguments, types `s r a c d i u o x X e E f F g G %`.
 * `values` is a tuple of arguments, or one argument; a mapping (dict, list, range: anything subscriptable but a
 * tuple or str) also serves `%(key)` lookups and never makes "not all arguments converted". Errors are
 * CPython's: "not enough arguments for format string", "%d format: a real number is required, not str",
 * "unsupported format character 'y' (0x79) at index 1", OverflowError "%c arg not in range(0x110000)", ….
 */
import { getItem } from "../runtime/access.ts";
import { pyFail } from "../runtime/exceptions.ts";
import { PyDict, PyList, PyRange, PyTuple, type PyValue } from "../runtime/values.ts";
import { hasAstral } from "../types/text.ts";
import { type Conversion, convert } from "./percent_convert.ts";

const SSIZE_MAX = 9223372036854775807n;
const INT_MAX = 2147483647;

/** `template % values` */
export function percentFormat(template: string, values: PyValue): string {
  const tuple = values instanceof PyTuple ? values.items : null;
  const mapping =
    values instanceof PyDict || values instanceof PyList || values instanceof PyRange ? values : null;
  let args: PyValue = values;
  let argLength = tuple ? tuple.length : -1;
  let argIndex = tuple ? 0 : -2;
  const nextArg = (): PyValue => {
    if (argIndex < argLength) {
      const at = argIndex++;
      return argLength < 0 ? args : (tuple?.[at] ?? null);
    }
    throw pyFail("TypeError", "not enough arguments for format string");
  };
  const incomplete = (): Error => pyFail("ValueError", "incomplete format");
  let out = "";
  let pos = 0;
  const end = template.length;
  while (pos < end) {
    const percent = template.indexOf("%", pos);
    if (percent < 0) {
      out += template.slice(pos);
      break;
    }
    out += template.slice(pos, percent);
    pos = percent + 1;
    if (template[pos] === "%") {
      out += "%";
      pos++;
      continue;
    }
    if (template[pos] === "(") {
      if (mapping === null) throw pyFail("TypeError", "format requires a mapping");
      let depth = 1;
      const start = ++pos;
      while (depth > 0 && pos < end) {
        const ch = template[pos++];
        if (ch === ")") depth--;
        else if (ch === "(") depth++;
      }
      if (depth > 0) throw pyFail("ValueError", "incomplete format key");
      args = getItem(mapping, template.slice(start, pos - 1));
      argLength = -1;
      argIndex = -2;
    }
    const c: Conversion = {
      ljust: false,
      sign: false,
      blank: false,
      alt: false,
      zero: false,
      width: -1,
      precision: -1,
      type: "",
    };
    for (; pos < end; pos++) {
      const ch = template[pos];
      if (ch === "-") c.ljust = true;
      else if (ch === "+") c.sign = true;
      else if (ch === " ") c.blank = true;
      else if (ch === "#") c.alt = true;
      else if (ch === "0") c.zero = true;
      else break;
    }
    if (pos >= end) throw incomplete();
    if (template[pos] === "*") {
      const w = starArgument(nextArg(), SSIZE_MAX, "ssize_t");
      c.width = w < 0 ? -w : w;
      if (w < 0) c.ljust = true;
      pos++;
    } else if (isDigit(template, pos)) {
      const { value, next } = readNumber(template, pos, SSIZE_MAX, "width too big");
      c.width = value;
      pos = next;
    }
    if (template[pos] === ".") {
      pos++;
      c.precision = 0;
      if (template[pos] === "*") {
        c.precision = Math.max(0, starArgument(nextArg(), BigInt(INT_MAX), "int"));
        pos++;
      } else if (isDigit(template, pos)) {
        const { value, next } = readNumber(template, pos, BigInt(INT_MAX), "precision too big");
        c.precision = value;
        pos = next;
      }
    }
    if (pos < end && "hlL".includes(template[pos] as string)) pos++;
    if (pos >= end) throw incomplete();
    const typeAt = pos;
    c.type = String.fromCodePoint(template.codePointAt(pos) ?? 0);
    pos += c.type.length;
    out += convert(nextArg(), c, () => codePointIndex(template, typeAt));
  }
  if (argIndex < argLength && mapping === null) {
    throw pyFail("TypeError", "not all arguments converted during string formatting");
  }
  return out;
}

function isDigit(t: string, i: number): boolean {
  const code = t.charCodeAt(i);
  return code >= 48 && code <= 57;
}

function readNumber(t: string, start: number, max: bigint, tooBig: string): { value: number; next: number } {
  let value = 0n;
  let i = start;
  while (isDigit(t, i)) {
    value = value * 10n + BigInt(t.charCodeAt(i) - 48);
    if (value > max) throw pyFail("ValueError", tooBig);
    i++;
  }
  return { value: Number(value), next: i };
}

/** A `*` width or precision: an int (bool counts) that fits a C `ssize_t` / `int`. */
function starArgument(v: PyValue, max: bigint, cType: string): number {
  if (typeof v !== "bigint" && typeof v !== "boolean") throw pyFail("TypeError", "* wants int");
  const n = typeof v === "boolean" ? (v ? 1n : 0n) : v;
  if (n > max || n < -max - 1n)
    throw pyFail("OverflowError", `Python int too large to convert to C ${cType}`);
  return Number(n);
}

function codePointIndex(t: string, utf16: number): number {
  const before = t.slice(0, utf16);
  return hasAstral(before) ? Array.from(before).length : utf16;
}
