/**
 * What a Body can do with a `range` (PyRange in values.ts) without building it: index and slice it
 * (a slice is a range again), test membership arithmetically, and its `index`/`count` methods.
 */

import { pyRepr } from "../text/repr.ts";
import { pyFail } from "./exceptions.ts";
import { numeric, PyRange, type PyValue, typeName } from "./values.ts";

function asInt(v: PyValue): bigint | undefined {
  if (typeof v === "bigint") return v;
  if (typeof v === "boolean") return v ? 1n : 0n;
  return undefined;
}

/** `r[key]` */
export function rangeItem(r: PyRange, key: PyValue): bigint {
  const i = asInt(key);
  if (i === undefined)
    throw pyFail("TypeError", `range indices must be integers or slices, not ${typeName(key)}`);
  const n = i < 0n ? i + r.length : i;
  if (n < 0n || n >= r.length) throw pyFail("IndexError", "range object index out of range");
  return r.at(n);
}

/** `r[lower:upper:step]`: CPython's slice.indices() on the range's length, as a range again. */
export function rangeSlice(r: PyRange, lower: PyValue, upper: PyValue, stepValue: PyValue): PyRange {
  const bound = (v: PyValue): bigint | null => {
    if (v === null) return null;
    const i = asInt(v);
    if (i === undefined)
      throw pyFail("TypeError", "slice indices must be integers or None or have an __index__ method");
    return i;
  };
  const step = bound(stepValue) ?? 1n;
  if (step === 0n) throw pyFail("ValueError", "slice step cannot be zero");
  const n = r.length;
  const low = step < 0n ? -1n : 0n;
  const high = step < 0n ? n - 1n : n;
  const clamp = (v: bigint | null, dflt: bigint): bigint => {
    if (v === null) return dflt;
    if (v < 0n) return v + n < low ? low : v + n;
    return v > high ? high : v;
  };
  const start = clamp(bound(lower), step < 0n ? n - 1n : 0n);
  const stop = clamp(bound(upper), step < 0n ? -1n : n);
  return new PyRange(r.at(start), r.at(stop), r.step * step);
}

/** The position of `item` in `r` (an int equal to it), or -1. */
function position(r: PyRange, item: PyValue): bigint {
  const n = numeric(item);
  if (n === undefined || (typeof n === "number" && !Number.isInteger(n))) return -1n;
  const offset = BigInt(n) - r.start;
  if (offset % r.step !== 0n) return -1n;
  const k = offset / r.step;
  return k >= 0n && k < r.length ? k : -1n;
}

/** `item in r`, in constant time. */
export function rangeContains(r: PyRange, item: PyValue): boolean {
  return position(r, item) >= 0n;
}

/** `r.index(x)` and `r.count(x)`. */
export function rangeMethod(r: PyRange, name: string, a: (PyValue | undefined)[]): bigint {
  if (a.length !== 1)
    throw pyFail("TypeError", `range.${name}() takes exactly one argument (${a.length} given)`);
  const x = a[0] ?? null;
  const at = position(r, x);
  if (name === "count") return at >= 0n ? 1n : 0n;
  if (at >= 0n) return at;
  const message =
    typeof x === "bigint" || typeof x === "boolean"
      ? `${pyRepr(x)} is not in range`
      : "sequence.index(x): x not in sequence";
  throw pyFail("ValueError", message);
}
