/**
 * The numeric constructors `int(x=0, /, base=10)` and `float(x=0, /)` with CPython 3.11's argument checks
 * and messages (Objects/longobject.c `long_new_impl`, Objects/floatobject.c `float_new_impl`): text is read
 * by number_text.ts, a float becomes an int through float.ts `floatToInt`, an int a float through int.ts
 * `intToFloat`.
 */

import { strRepr } from "../text/repr.ts";
import { bindArgs } from "../types/args.ts";
import { pyFail } from "./exceptions.ts";
import { floatToInt } from "./float.ts";
import { intToFloat } from "./int.ts";
import { parseFloatText, parseIntText } from "./number_text.ts";
import { type CallArgs, type PyValue, typeName } from "./values.ts";

/** `%.200R`: the repr cut to 200 characters, as CPython's int() message prints the text. */
function shortRepr(text: string): string {
  const repr = strRepr(text);
  return repr.length <= 200 ? repr : Array.from(repr).slice(0, 200).join("");
}

/** `base` as PyNumber_AsSsize_t reads it (clipped), or TypeError. */
function baseOf(base: PyValue): number {
  if (typeof base === "boolean") return base ? 1 : 0;
  if (typeof base !== "bigint")
    throw pyFail("TypeError", `'${typeName(base)}' object cannot be interpreted as an integer`);
  return base > 37n ? 37 : base < -1n ? -1 : Number(base);
}

/** `int(x)` without a base (PyNumber_Long). */
export function toInt(v: PyValue): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "boolean") return v ? 1n : 0n;
  if (typeof v === "number") return floatToInt(v);
  if (typeof v === "string") return textToInt(v, 10);
  throw pyFail(
    "TypeError",
    `int() argument must be a string, a bytes-like object or a real number, not '${typeName(v)}'`,
  );
}

function textToInt(text: string, base: number): bigint {
  const n = parseIntText(text, base);
  if (n === undefined)
    throw pyFail("ValueError", `invalid literal for int() with base ${base}: ${shortRepr(text)}`);
  return n;
}

/** `int(x=0, /, base=10)` (Objects/longobject.c long_new, Argument Clinic). */
const INT_SIGNATURE = {
  kind: "keywords",
  names: ["x", "base"],
  positional: 2,
  required: 0,
  posonly: 1,
} as const;

/** The built-in `int(...)`. */
export function intCall(call: CallArgs): bigint {
  const [x, baseArg] = bindArgs("int", "int", INT_SIGNATURE, call);
  if (x === undefined) {
    if (baseArg !== undefined) throw pyFail("TypeError", "int() missing string argument");
    return 0n;
  }
  if (baseArg === undefined) return toInt(x);
  const base = baseOf(baseArg);
  if ((base !== 0 && base < 2) || base > 36)
    throw pyFail("ValueError", "int() base must be >= 2 and <= 36, or 0");
  if (typeof x !== "string") throw pyFail("TypeError", "int() can't convert non-string with explicit base");
  return textToInt(x, base);
}

/** `float(x)` (PyNumber_Float). */
export function toFloatValue(v: PyValue): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return intToFloat(v);
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "string") {
    const x = parseFloatText(v);
    if (x === undefined) throw pyFail("ValueError", `could not convert string to float: ${strRepr(v)}`);
    return x;
  }
  throw pyFail("TypeError", `float() argument must be a string or a real number, not '${typeName(v)}'`);
}

/** The built-in `float(...)`. */
export function floatCall(call: CallArgs): number {
  if (call.keywords.size > 0) throw pyFail("TypeError", "float() takes no keyword arguments");
  if (call.args.length > 1)
    throw pyFail("TypeError", `float expected at most 1 argument, got ${call.args.length}`);
  const x = call.args[0];
  return x === undefined ? 0 : toFloatValue(x);
}
