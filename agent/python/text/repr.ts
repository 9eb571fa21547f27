/**
 * `repr()`, `str()` and `ascii()` of Python values exactly as CPython 3.11 prints them: `{'a': 1}`,
 * `['x', 'y']`, `('a',)`, `set()`, `True`, `None`, `2.0`, `1e+16`, `-0.0`, `(1+2j)`, `dict_keys([1])`, `range(0, 3)`,
 * strings quoted and escaped as `unicode_repr` does (Objects/unicodeobject.c), a container inside itself as
 * `[...]`/`{...}`/`(...)`. Ints obey CPython's 4300-digit limit for decimal text; nesting deeper than
 * CPython's recursion limit is its RecursionError, never a JavaScript stack overflow.
 */

import { BUILTIN_TYPES } from "../check/rules.ts";
import { pyFail } from "../runtime/exceptions.ts";
import {
  PyBuiltin,
  PyComplex,
  PyDict,
  PyIter,
  PyList,
  PyMethod,
  PyRange,
  PyScript,
  PySet,
  PyTuple,
  type PyValue,
  PyView,
  typeName,
} from "../runtime/values.ts";
import { has, PRINTABLE } from "../types/unicode.ts";
import { floatRepr } from "./float_text.ts";
import { complexRepr } from "./format_complex.ts";

export { floatRepr };

/** CPython's default `sys.get_int_max_str_digits()`. */
export const MAX_STR_DIGITS = 4300;
/** Containers nested deeper than this are CPython's RecursionError (its limit is 1000 frames, some in use). */
export const MAX_REPR_DEPTH = 990;
const TOO_MANY_DIGITS = 10n ** BigInt(MAX_STR_DIGITS);

/**
 * The decimal digits of an int (with `-`), or CPython's ValueError "Exceeds the limit (4300 digits) for integer
 * string conversion; …" beyond 4300 digits (checked before converting, so a huge int costs nothing).
 */
export function intDecimal(n: bigint): string {
  if (n >= TOO_MANY_DIGITS || n <= -TOO_MANY_DIGITS) {
    throw pyFail(
      "ValueError",
      `Exceeds the limit (${MAX_STR_DIGITS} digits) for integer string conversion; use sys.set_int_max_str_digits() to increase the limit`,
    );
  }
  return n.toString();
}

/** `str(v)`. */
export function pyStr(v: PyValue): string {
  return typeof v === "string" ? v : pyRepr(v);
}

/** `repr(v)`. */
export function pyRepr(v: PyValue): string {
  return typeof v === "object" && v !== null ? reprIn(v, new Set()) : reprIn(v, NO_CONTAINERS);
}

const NO_CONTAINERS: Set<object> = new Set();

/** `repr(v)` inside the containers in `seen` (the ones being printed, outermost first). */
function reprIn(v: PyValue, seen: Set<object>): string {
  if (v === null) return "None";
  switch (typeof v) {
    case "boolean":
      return v ? "True" : "False";
    case "bigint":
      return intDecimal(v);
    case "number":
      return floatRepr(v);
    case "string":
      return strRepr(v);
  }
  if (v instanceof PyComplex) return complexRepr(v);
  if (
    v instanceof PyList ||
    v instanceof PyTuple ||
    v instanceof PyDict ||
    v instanceof PySet ||
    v instanceof PyView
  ) {
    if (seen.has(v)) {
      return v instanceof PyList
        ? "[...]"
        : v instanceof PyTuple
          ? "(...)"
          : v instanceof PyView
            ? "..."
            : "{...}";
    }
    if (seen.size >= MAX_REPR_DEPTH) {
      throw pyFail("RecursionError", "maximum recursion depth exceeded while getting the repr of an object");
    }
    seen.add(v);
    try {
      return containerRepr(v, seen);
    } finally {
      seen.delete(v);
    }
  }
  if (v instanceof PyRange) {
    const step = v.step === 1n ? "" : `, ${intDecimal(v.step)}`;
    return `range(${intDecimal(v.start)}, ${intDecimal(v.stop)}${step})`;
  }
  if (v instanceof PyBuiltin)
    return BUILTIN_TYPES.has(v.name) ? `<class '${v.name}'>` : `<built-in function ${v.name}>`;
  if (v instanceof PyMethod && v.self instanceof PyBuiltin)
    return `<method '${v.name}' of '${v.self.name}' objects>`;
  if (v instanceof PyMethod) return `<built-in method ${v.name} of ${typeName(v.self)} object>`;
  if (v instanceof PyScript) return `<muranoagent.script_runner.${typeName(v)} object>`;
  if (v instanceof PyIter)
    return v.kind === "generator" ? "<generator object <genexpr>>" : `<${v.kind} object>`;
  return `<${typeName(v)} object>`;
}

function containerRepr(v: PyList | PyTuple | PyDict | PySet | PyView, seen: Set<object>): string {
  const parts: string[] = [];
  if (v instanceof PyDict) {
    for (const e of v.entries.values()) parts.push(`${reprIn(e.key, seen)}: ${reprIn(e.value, seen)}`);
    return `{${parts.join(", ")}}`;
  }
  if (v instanceof PyView) {
    for (const e of v.dict.entries.values()) {
      if (v.kind === "keys") parts.push(reprIn(e.key, seen));
      else if (v.kind === "values") parts.push(reprIn(e.value, seen));
      else parts.push(`(${reprIn(e.key, seen)}, ${reprIn(e.value, seen)})`);
    }
    return `dict_${v.kind}([${parts.join(", ")}])`;
  }
  if (v instanceof PySet) {
    if (v.entries.size === 0) return "set()";
    for (const x of v.entries.values()) parts.push(reprIn(x, seen));
    return `{${parts.join(", ")}}`;
  }
  for (const x of v.items) parts.push(reprIn(x, seen));
  if (v instanceof PyList) return `[${parts.join(", ")}]`;
  return parts.length === 1 ? `(${parts[0]},)` : `(${parts.join(", ")})`;
}

/** `\xhh`, `\uhhhh` or `\Uhhhhhhhh`, the shortest that holds the code point. */
function hexEscape(cp: number): string {
  if (cp < 0x100) return `\\x${cp.toString(16).padStart(2, "0")}`;
  if (cp < 0x10000) return `\\u${cp.toString(16).padStart(4, "0")}`;
  return `\\U${cp.toString(16).padStart(8, "0")}`;
}

/** `ascii(v)`: the repr with every non-ASCII character escaped. */
export function pyAscii(v: PyValue): string {
  const text = pyRepr(v);
  if (!/[^\0-\x7f]/.test(text)) return text;
  let out = "";
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    out += cp < 0x80 ? ch : hexEscape(cp);
  }
  return out;
}

/** Printable ASCII other than `'` and `\`: such a string is its own repr between single quotes. */
const PLAIN = /^[\x20-\x26\x28-\x5b\x5d-\x7e]*$/;

/**
 * Python's str repr: single quotes unless the text has `'` and no `"`; the quote and `\` escaped; `\t\n\r`;
 * other controls and DEL as `\xhh`; a non-ASCII character as itself when `str.isprintable` (Unicode 14, CPython
 * 3.11's database), else `\xhh`/`\uhhhh`/`\Uhhhhhhhh`.
 */
export function strRepr(s: string): string {
  if (PLAIN.test(s)) return `'${s}'`;
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === quote || ch === "\\") out += `\\${ch}`;
    else if (ch === "\t") out += "\\t";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (cp < 0x20 || cp === 0x7f) out += hexEscape(cp);
    else if (cp < 0x7f || has(cp, PRINTABLE)) out += ch;
    else out += hexEscape(cp);
  }
  return out + quote;
}
