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

/**
 * How many comparisons may be nested (PyObject_RichCompare's `Py_EnterRecursiveCall(" in comparison")`): CPython's
 * recursion limit (1,000) less the frames under a Body's code, as measured in the differential harness
 * (test/helpers/python_body.ts: `a == b` of lists nested 995 deep is True, 996 deep RecursionError; each level is
 * one comparison, the innermost `[] == []` too; a scalar pair is not counted here, CPython counts one that is not
 * the same object). Comparisons inside comprehensions get the same room here (CPython gives a frame less each).
 */
export const MAX_COMPARE_DEPTH = 996;
let depth = 0;

/** Counts one nested comparison (the caller decrements `depth` when done); RecursionError beyond the limit. */
function enter(): void {
  if (depth >= MAX_COMPARE_DEPTH) {
    throw pyFail("RecursionError", "maximum recursion depth exceeded in comparison");
  }
  depth++;
}

/**
 * PyObject_RichCompareBool(a, b, Py_EQ): the same object is equal without being compared. Containers compare
 * their items, and `in`, count, index and remove look items up, this way: `x = []; x.append(x); x == x` is
 * True, and a NaN object is equal to itself in a list (here a NaN has no identity: docs/murano.md).
 */
export function sameOrEqual(a: PyValue, b: PyValue): boolean {
  return identical(a, b) || pyEquals(a, b);
}

/** Python `is`: the same object; CPython has one empty tuple (`() is tuple()`), so every empty tuple is it. */
export function identical(a: PyValue, b: PyValue): boolean {
  return a === b || (a instanceof PyTuple && b instanceof PyTuple && a.items.length + b.items.length === 0);
}

/** Python `==`; RecursionError "maximum recursion depth exceeded in comparison" when nested too deeply. */
export function pyEquals(a: PyValue, b: PyValue): boolean {
  if (typeof a !== "object" || a === null) return equals(a, b);
  enter();
  try {
    return equals(a, b);
  } finally {
    depth--;
  }
}

function equals(a: PyValue, b: PyValue): boolean {
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
    const [x, y] = [a.items, (b as PyList | PyTuple).items];
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) {
      const p = x[i] ?? null;
      const q = y[i] ?? null;
      if (!identical(p, q) && !pyEquals(p, q)) return false;
    }
    return true;
  }
  if (a instanceof PyDict && b instanceof PyDict) {
    if (a.entries.size !== b.entries.size) return false;
    for (const [k, e] of a.entries) {
      const o = b.entries.get(k);
      if (!o || !sameOrEqual(e.value, o.value)) return false;
    }
    return true;
  }
  if (a instanceof PyRange && b instanceof PyRange) return hashKey(a) === hashKey(b);
  if (a instanceof PySet && b instanceof PySet) {
    return a.entries.size === b.entries.size && [...a.entries.keys()].every((k) => b.entries.has(k));
  }
  const sa = setLike(a);
  const sb = sa && setLike(b);
  if (sa && sb) return sa.size === sb.size && within(sa, b);
  return a === b;
}

/**
 * The size and items of a set-like value: a set, or a dict's keys or items view (dictview_richcompare compares
 * those with each other and with sets; a values view is not set-like), else undefined.
 */
function setLike(v: PyValue): { size: number; items: () => Iterable<PyValue> } | undefined {
  if (v instanceof PySet) return { size: v.entries.size, items: () => v.entries.values() };
  if (!(v instanceof PyView) || v.kind === "values") return undefined;
  const entries = v.dict.entries;
  const items =
    v.kind === "keys"
      ? () => [...entries.values()].map((e) => e.key)
      : () => [...entries.values()].map((e) => new PyTuple([e.key, e.value]));
  return { size: entries.size, items };
}

/** set_issubset / all_contained_in: every item of `x` is in `other`. */
function within(x: { items: () => Iterable<PyValue> }, other: PyValue): boolean {
  for (const item of x.items()) if (!contains(other, item)) return false;
  return true;
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
  if (typeof a !== "object" || a === null) return ordered(a, b, op, reflected);
  enter();
  try {
    return ordered(a, b, op, reflected);
  } finally {
    depth--;
  }
}

function ordered(a: PyValue, b: PyValue, op: string, reflected: boolean): boolean {
  const x = numeric(a);
  const y = numeric(b);
  if (x !== undefined && y !== undefined) return x < y;
  if (typeof a === "string" && typeof b === "string") return compareCodePoints(a, b) < 0;
  // Sets and dict views order by inclusion: `a < b` is a proper subset (set_richcompare, dictview_richcompare).
  const sa = setLike(a);
  const sb = sa && setLike(b);
  if (sa && sb) return sa.size < sb.size && within(sa, b);
  if ((a instanceof PyList && b instanceof PyList) || (a instanceof PyTuple && b instanceof PyTuple)) {
    const n = Math.min(a.items.length, b.items.length);
    for (let i = 0; i < n; i++) {
      const p = a.items[i] ?? null;
      const q = b.items[i] ?? null;
      if (!identical(p, q) && !pyEquals(p, q)) return lessThan(p, q, op, reflected);
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
    return container.items.some((v) => sameOrEqual(v, item));
  // set_contains looks a set up as a frozenset (no TypeError), and no set of a Body holds a frozenset.
  if (container instanceof PySet) return item instanceof PySet ? false : container.entries.has(hashKey(item));
  if (container instanceof PyDict) return container.entries.has(hashKey(item));
  if (container instanceof PyRange) return rangeContains(container, item);
  if (container instanceof PyView) {
    const d = container.dict;
    if (container.kind === "keys") return d.entries.has(hashKey(item));
    if (container.kind === "values") return [...d.entries.values()].some((e) => sameOrEqual(e.value, item));
    if (!(item instanceof PyTuple) || item.items.length !== 2) return false;
    const e = d.entries.get(hashKey(item.items[0] ?? null));
    return e !== undefined && sameOrEqual(e.value, item.items[1] ?? null);
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
      return identical(a, b);
    case "is not":
      return !identical(a, b);
  }
}

/** Equal values still need an order (`None <= None` is a TypeError in Python 3). */
function orderable(a: PyValue, b: PyValue, op: string): true {
  lessThan(a, b, op);
  return true;
}
