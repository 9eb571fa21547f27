/**
 * Python 3 comparisons: `==` across int, float, bool and complex, containers compared item by item, ordering
 * (`None < 1` is a TypeError), chained comparisons, `in` / `not in` and `is`.
 */
import type { CompareOp } from "../check/ast.ts";
import { pyFail } from "./exceptions.ts";
import { rangeContains } from "./range.ts";
import {
  hashKey,
  numeric,
  PyComplex,
  PyDict,
  PyList,
  PyRange,
  PySet,
  PyTuple,
  type PyValue,
  PyView,
  typeName,
} from "./values.ts";

/** Python `==`. */
export function pyEquals(a: PyValue, b: PyValue): boolean {
  if (a instanceof PyComplex) return complexEquals(a, b);
  if (b instanceof PyComplex) return complexEquals(b, a);
  const x = numeric(a);
  const y = numeric(b);
  if (x !== undefined || y !== undefined) {
    if (x === undefined || y === undefined) return false;
    if (typeof x === typeof y) return x === y;
    const f = typeof x === "number" ? x : (y as number);
    const i = typeof x === "bigint" ? x : (y as bigint);
    return Number.isInteger(f) && BigInt(f) === i;
  }
  if (a instanceof PyList || a instanceof PyTuple) {
    if (a.constructor !== b?.constructor) return false;
    const other = b as PyList | PyTuple;
    return (
      a.items.length === other.items.length && a.items.every((v, i) => pyEquals(v, other.items[i] ?? null))
    );
  }
  if (a instanceof PyDict && b instanceof PyDict) {
    if (a.entries.size !== b.entries.size) return false;
    for (const [k, e] of a.entries) {
      const o = b.entries.get(k);
      if (!o || !pyEquals(e.value, o.value)) return false;
    }
    return true;
  }
  if (a instanceof PyRange && b instanceof PyRange) return hashKey(a) === hashKey(b);
  if (a instanceof PySet && b instanceof PySet) {
    return a.entries.size === b.entries.size && [...a.entries.keys()].every((k) => b.entries.has(k));
  }
  return a === b;
}

/**
 * `complex_richcompare`'s `==`: with an int (or bool), the real part compared as a float with the int exactly
 * when the imaginary part is 0; with a float or a complex, part by part; anything else is not equal.
 */
function complexEquals(z: PyComplex, other: PyValue): boolean {
  if (typeof other === "bigint" || typeof other === "boolean") return z.imag === 0 && pyEquals(z.real, other);
  if (typeof other === "number") return z.real === other && z.imag === 0;
  if (other instanceof PyComplex) return z.real === other.real && z.imag === other.imag;
  return false;
}

/**
 * Python `<`, as `sorted()` uses it. `reflected`: the caller evaluates `b > a` as `a < b`, so an error names
 * the operands in the caller's order, as CPython does.
 */
export function lessThan(a: PyValue, b: PyValue, op = "<", reflected = false): boolean {
  const x = numeric(a);
  const y = numeric(b);
  if (x !== undefined && y !== undefined) return x < y;
  if (typeof a === "string" && typeof b === "string") return compareCodePoints(a, b) < 0;
  if ((a instanceof PyList && b instanceof PyList) || (a instanceof PyTuple && b instanceof PyTuple)) {
    const n = Math.min(a.items.length, b.items.length);
    for (let i = 0; i < n; i++) {
      const p = a.items[i] ?? null;
      const q = b.items[i] ?? null;
      if (!pyEquals(p, q)) return lessThan(p, q, op, reflected);
    }
    return a.items.length < b.items.length;
  }
  const [left, right] = reflected ? [b, a] : [a, b];
  throw pyFail(
    "TypeError",
    `'${op}' not supported between instances of '${typeName(left)}' and '${typeName(right)}'`,
  );
}

function compareCodePoints(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i]?.codePointAt(0) ?? 0) - (y[i]?.codePointAt(0) ?? 0);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** Python `item in container`. */
export function contains(container: PyValue, item: PyValue): boolean {
  if (typeof container === "string") {
    if (typeof item !== "string") {
      throw pyFail("TypeError", `'in <string>' requires string as left operand, not ${typeName(item)}`);
    }
    return container.includes(item);
  }
  if (container instanceof PyList || container instanceof PyTuple)
    return container.items.some((v) => pyEquals(v, item));
  // set_contains looks a set up as a frozenset (no TypeError), and no set of a Body holds a frozenset.
  if (container instanceof PySet) return item instanceof PySet ? false : container.entries.has(hashKey(item));
  if (container instanceof PyDict) return container.entries.has(hashKey(item));
  if (container instanceof PyRange) return rangeContains(container, item);
  if (container instanceof PyView) {
    const d = container.dict;
    if (container.kind === "keys") return d.entries.has(hashKey(item));
    if (container.kind === "values") return [...d.entries.values()].some((e) => pyEquals(e.value, item));
    if (!(item instanceof PyTuple) || item.items.length !== 2) return false;
    const e = d.entries.get(hashKey(item.items[0] ?? null));
    return e !== undefined && pyEquals(e.value, item.items[1] ?? null);
  }
  throw pyFail("TypeError", `argument of type '${typeName(container)}' is not iterable`);
}

/** One comparison of a (possibly chained) comparison. */
export function compare(op: CompareOp, a: PyValue, b: PyValue): boolean {
  switch (op) {
    case "==":
      return pyEquals(a, b);
    case "!=":
      return !pyEquals(a, b);
    case "<":
      return lessThan(a, b, op);
    case ">":
      return lessThan(b, a, op, true);
    case "<=":
      return pyEquals(a, b) ? orderable(a, b, op) : lessThan(a, b, op);
    case ">=":
      return pyEquals(a, b) ? orderable(a, b, op) : lessThan(b, a, op, true);
    case "in":
      return contains(b, a);
    case "not in":
      return !contains(b, a);
    case "is":
      return a === b;
    case "is not":
      return a !== b;
  }
}

/** Equal values still need an order (`None <= None` is a TypeError in Python 3). */
function orderable(a: PyValue, b: PyValue, op: string): true {
  lessThan(a, b, op);
  return true;
}
