/**
 * The numeric built-ins with CPython 3 semantics: `abs`, `round` (half to even on the exact binary value,
 * `round(x, n)`), `divmod`, `pow` (with a modulus), `sum` (with `start`) and `max`/`min` (one iterable or
 * several arguments, `key=`, `default=`).
 */

import { iterCursor } from "../eval/cursor.ts";
import { bindArgs } from "../types/args.ts";
import { iterate } from "./access.ts";
import { compare } from "./compare.ts";
import { complexAbs, complexModPow } from "./complex.ts";
import { pyFail } from "./exceptions.ts";
import { floatDivmod, floatToInt, roundHalfEven } from "./float.ts";
import { bitLength, intDivmod, modPow } from "./int.ts";
import { binaryOp, toFloat } from "./ops.ts";
import {
  type CallArgs,
  indexArg,
  numeric,
  PyComplex,
  PyTuple,
  type PyValue,
  type Runtime,
  typeName,
} from "./values.ts";

export const MATH_BUILTINS: ReadonlySet<string> = new Set([
  "abs",
  "round",
  "divmod",
  "pow",
  "sum",
  "max",
  "min",
]);

function noKeywords(name: string, call: CallArgs): void {
  const [first] = call.keywords.keys();
  if (first !== undefined) throw pyFail("TypeError", `${name}() takes no keyword arguments`);
}

/** Argument Clinic signatures (bltinmodule.c): `round(number, ndigits=None)`, `sum(iterable, /, start=0)`,
 * `pow(base, exp, mod=None)`, bound as CPython's `_PyArg_UnpackKeywords` binds them (types/args.ts). */
const SIGNATURES = {
  round: { kind: "keywords", names: ["number", "ndigits"], positional: 2, required: 1 },
  sum: { kind: "keywords", names: ["iterable", "start"], positional: 2, required: 1, posonly: 1 },
  pow: { kind: "keywords", names: ["base", "exp", "mod"], positional: 3, required: 2 },
  /** min/max's keywords after their positional count is checked (`|$OO:min`). */
  extreme: { kind: "keywords", names: ["key", "default"], positional: 0, required: 0 },
} as const;

function bind(name: "round" | "sum" | "pow", call: CallArgs): (PyValue | undefined)[] {
  return bindArgs(name, name, SIGNATURES[name], call);
}

/** Rounds half to even: q + 1 when the remainder is more than half of `den`, or exactly half and q is odd. */
function halfEven(q: bigint, r: bigint, den: bigint): bigint {
  return 2n * r > den || (2n * r === den && (q & 1n) === 1n) ? q + 1n : q;
}

/** `round(i, n)` for an int and a negative n: the nearest multiple of 10**-n, ties to even. */
function roundInt(i: bigint, n: bigint): bigint {
  if (n >= 0n) return i;
  // |i| < 2**bits <= 10**-n / 2 rounds to 0: decided without computing 10**-n (CPython would, for any n).
  if (-n > BigInt(Math.ceil((bitLength(i) + 1) * Math.log10(2)))) return 0n;
  const p = 10n ** -n;
  const sign = i < 0n ? -1n : 1n;
  const a = i * sign;
  return halfEven(a / p, a % p, p) * p * sign;
}

/** The exact value of a finite double as mantissa * 2**exponent. */
function decompose(x: number): { mantissa: bigint; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  return biased === 0
    ? { mantissa: fraction, exponent: -1074 }
    : { mantissa: fraction | (1n << 52n), exponent: biased - 1075 };
}

/** `round(x, n)` for a float: CPython rounds the exact binary value to n decimals, ties to even. */
function roundFloat(x: number, n: bigint): number {
  if (!Number.isFinite(x) || x === 0 || n > 323n) return x;
  if (n < -308n) return 0 * x;
  const { mantissa, exponent } = decompose(x);
  let num = exponent >= 0 ? mantissa << BigInt(exponent) : mantissa;
  let den = exponent >= 0 ? 1n : 1n << BigInt(-exponent);
  if (n >= 0n) num *= 10n ** n;
  else den *= 10n ** -n;
  const q = halfEven(num / den, num % den, den);
  const rounded = Number(`${q}e${-n}`);
  if (!Number.isFinite(rounded)) throw pyFail("OverflowError", "rounded value too large to represent");
  return x < 0 ? -rounded : rounded;
}

function round(call: CallArgs): PyValue {
  const [x = null, ndigits] = bind("round", call);
  const value = numeric(x);
  if (value === undefined) throw pyFail("TypeError", `type ${typeName(x)} doesn't define __round__ method`);
  const n = ndigits === undefined || ndigits === null ? null : indexArg(ndigits);
  if (typeof value === "bigint") return n === null ? value : roundInt(value, n);
  if (n !== null) return roundFloat(value, n);
  return floatToInt(roundHalfEven(value));
}

function divmod(a: PyValue, b: PyValue): PyTuple {
  const x = numeric(a);
  const y = numeric(b);
  if (x === undefined || y === undefined) {
    throw pyFail(
      "TypeError",
      `unsupported operand type(s) for divmod(): '${typeName(a)}' and '${typeName(b)}'`,
    );
  }
  if (typeof x === "bigint" && typeof y === "bigint") return new PyTuple(intDivmod(x, y));
  return new PyTuple(floatDivmod(toFloat(x), toFloat(y)));
}

/** `max(...)` / `min(...)`: the first of the largest (smallest) items, as CPython compares `item > best`. */
function extreme(name: "max" | "min", call: CallArgs, rt: Runtime): PyValue {
  // bltinmodule.c min_max: the positional count first, then `|$OO` keywords (key, default).
  const a = call.args;
  if (a.length === 0) throw pyFail("TypeError", `${name} expected at least 1 argument, got 0`);
  bindArgs(name, name, SIGNATURES.extreme, { args: [], keywords: call.keywords });
  const dflt = call.keywords.get("default");
  if (a.length > 1 && dflt !== undefined) {
    throw pyFail("TypeError", `Cannot specify a default for ${name}() with multiple positional arguments`);
  }
  const keyFn = call.keywords.get("key") ?? null;
  const op = name === "max" ? ">" : "<";
  let best: { item: PyValue; key: PyValue } | null = null;
  for (const item of a.length === 1 ? iterate(a[0] ?? null) : iterate(new PyTuple(a))) {
    rt.tick();
    const key = keyFn === null ? item : rt.invoke(keyFn, [item]);
    if (best === null || compare(op, key, best.key)) best = { item, key };
  }
  if (best !== null) return best.item;
  if (dflt !== undefined) return dflt;
  throw pyFail("ValueError", `${name}() arg is an empty sequence`);
}

function sum(call: CallArgs, rt: Runtime): PyValue {
  const [iterable = null, start] = bind("sum", call);
  // builtin_sum_impl takes the iterator before it looks at `start`.
  const next = iterCursor(iterable);
  if (typeof start === "string")
    throw pyFail("TypeError", "sum() can't sum strings [use ''.join(seq) instead]");
  let total: PyValue = start === undefined ? 0n : start;
  for (let item = next(); item !== undefined; item = next()) {
    rt.tick();
    total = binaryOp("+", total, item);
  }
  return total;
}

/** Calls one of MATH_BUILTINS. */
export function callMathBuiltin(name: string, call: CallArgs, rt: Runtime): PyValue {
  const a = call.args;
  switch (name) {
    case "abs": {
      noKeywords(name, call);
      if (a.length !== 1) throw pyFail("TypeError", `abs() takes exactly one argument (${a.length} given)`);
      if (a[0] instanceof PyComplex) return complexAbs(a[0]);
      const n = numeric(a[0] ?? null);
      if (n === undefined)
        throw pyFail("TypeError", `bad operand type for abs(): '${typeName(a[0] ?? null)}'`);
      return n < 0 ? -n : typeof n === "number" ? Math.abs(n) : n;
    }
    case "round":
      return round(call);
    case "divmod":
      noKeywords(name, call);
      if (a.length !== 2) throw pyFail("TypeError", `divmod expected 2 arguments, got ${a.length}`);
      return divmod(a[0] ?? null, a[1] ?? null);
    case "pow": {
      const [base = null, exp = null, mod] = bind(name, call);
      if (mod === undefined || mod === null) return binaryOp("**", base, exp);
      const [b, e, m] = [numeric(base), numeric(exp), numeric(mod)];
      if (typeof b === "bigint" && typeof e === "bigint" && typeof m === "bigint") return modPow(b, e, m);
      // ternary_op's other slots: float's TypeError, complex's ValueError, else "unsupported operand type(s)".
      return complexModPow(base, exp, mod);
    }
    case "sum":
      return sum(call, rt);
    case "max":
    case "min":
      return extreme(name, call, rt);
  }
  throw pyFail("NameError", `name '${name}' is not defined`);
}
