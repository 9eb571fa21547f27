/**
 * Python 3 operators: arithmetic with int/float semantics (`7/2` is 3.5, `7//2` is 3, `-7//2` is -4),
 * sequence concatenation and repetition, `%` formatting, equality, ordering and membership.
 */
import type { BinaryOp, CompareOp } from "./body_ast.ts";
import { pyFail } from "./body_fail.ts";
import { percentFormat } from "./body_format.ts";
import { PyDict, PyList, PySet, PyTuple, type PyValue, PyView, hashKey, numeric, typeName } from "./body_values.ts";

/** Longest list or string a Body may build, so that a runaway repetition fails instead of exhausting memory. */
const MAX_ITEMS = 50_000_000;

export function toFloat(n: bigint | number): number {
  if (typeof n === "number") return n;
  const f = Number(n);
  if (!Number.isFinite(f)) throw pyFail("OverflowError", "int too large to convert to float");
  return f;
}

function unsupported(op: string, a: PyValue, b: PyValue): Error {
  return pyFail("TypeError", `unsupported operand type(s) for ${op}: '${typeName(a)}' and '${typeName(b)}'`);
}

export function binaryOp(op: BinaryOp, a: PyValue, b: PyValue): PyValue {
  const x = numeric(a);
  const y = numeric(b);
  if (x !== undefined && y !== undefined) return arithmetic(op, x, y);
  if (op === "+") {
    if (typeof a === "string" && typeof b === "string") return checkSize(a.length + b.length) && a + b;
    if (a instanceof PyList && b instanceof PyList) return new PyList([...a.items, ...b.items]);
    if (a instanceof PyTuple && b instanceof PyTuple) return new PyTuple([...a.items, ...b.items]);
    if (typeof a === "string" || a instanceof PyList || a instanceof PyTuple) {
      throw pyFail("TypeError", `can only concatenate ${typeName(a)} (not "${typeName(b)}") to ${typeName(a)}`);
    }
  }
  if (op === "*") {
    if (y !== undefined && typeof y === "bigint") return repeat(a, y, b);
    if (x !== undefined && typeof x === "bigint") return repeat(b, x, a);
    if (isSequence(a) || isSequence(b)) {
      throw pyFail("TypeError", `can't multiply sequence by non-int of type '${typeName(isSequence(a) ? b : a)}'`);
    }
  }
  if (op === "%" && typeof a === "string") return percentFormat(a, b);
  if (op === "-" && a instanceof PySet && b instanceof PySet) {
    const out = new PySet();
    for (const v of a.entries.values()) if (!b.has(v)) out.add(v);
    return out;
  }
  throw unsupported(op, a, b);
}

function isSequence(v: PyValue): boolean {
  return typeof v === "string" || v instanceof PyList || v instanceof PyTuple;
}

function checkSize(n: number): true {
  if (n > MAX_ITEMS) throw pyFail("MemoryError", "");
  return true;
}

function repeat(seq: PyValue, times: bigint, other: PyValue): PyValue {
  const n = times < 0n ? 0 : Number(times);
  if (typeof seq === "string") return checkSize(seq.length * n) && seq.repeat(n);
  if (seq instanceof PyList || seq instanceof PyTuple) {
    checkSize(seq.items.length * n);
    const items: PyValue[] = [];
    for (let i = 0; i < n; i++) items.push(...seq.items);
    return seq instanceof PyList ? new PyList(items) : new PyTuple(items);
  }
  throw unsupported("*", seq, other);
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q;
}

function arithmetic(op: BinaryOp, x: bigint | number, y: bigint | number): PyValue {
  if (typeof x === "bigint" && typeof y === "bigint") {
    switch (op) {
      case "+":
        return x + y;
      case "-":
        return x - y;
      case "*":
        return x * y;
      case "/":
        if (y === 0n) throw pyFail("ZeroDivisionError", "division by zero");
        return toFloat(x) / toFloat(y);
      case "//":
        if (y === 0n) throw pyFail("ZeroDivisionError", "integer division or modulo by zero");
        return floorDiv(x, y);
      case "%":
        if (y === 0n) throw pyFail("ZeroDivisionError", "integer modulo by zero");
        return x - floorDiv(x, y) * y;
      case "**": {
        if (y < 0n) return arithmetic("**", toFloat(x), toFloat(y));
        const bits = x === 0n || x === 1n || x === -1n ? 0 : x.toString(2).length * Number(y);
        if (bits > 10_000_000) throw pyFail("MemoryError", "");
        return x ** y;
      }
    }
  }
  const a = toFloat(x);
  const b = toFloat(y);
  switch (op) {
    case "+":
      return a + b;
    case "-":
      return a - b;
    case "*":
      return a * b;
    case "/":
      if (b === 0) throw pyFail("ZeroDivisionError", "float division by zero");
      return a / b;
    case "//":
      if (b === 0) throw pyFail("ZeroDivisionError", "float floor division by zero");
      return Math.floor(a / b);
    case "%": {
      if (b === 0) throw pyFail("ZeroDivisionError", "float modulo");
      const m = a % b;
      return m !== 0 && m < 0 !== b < 0 ? m + b : m;
    }
    case "**":
      if (a === 0 && b < 0) throw pyFail("ZeroDivisionError", "0.0 cannot be raised to a negative power");
      if (a < 0 && !Number.isInteger(b)) throw pyFail("ValueError", "complex results are not supported");
      return a ** b;
  }
}

/** Python `==`. */
export function pyEquals(a: PyValue, b: PyValue): boolean {
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
    return a.items.length === other.items.length && a.items.every((v, i) => pyEquals(v, other.items[i] ?? null));
  }
  if (a instanceof PyDict && b instanceof PyDict) {
    if (a.entries.size !== b.entries.size) return false;
    for (const [k, e] of a.entries) {
      const o = b.entries.get(k);
      if (!o || !pyEquals(e.value, o.value)) return false;
    }
    return true;
  }
  if (a instanceof PySet && b instanceof PySet) {
    return a.entries.size === b.entries.size && [...a.entries.keys()].every((k) => b.entries.has(k));
  }
  return a === b;
}

/** Python `<`, as `sorted()` uses it. */
export function lessThan(a: PyValue, b: PyValue, op = "<"): boolean {
  const x = numeric(a);
  const y = numeric(b);
  if (x !== undefined && y !== undefined) return x < y;
  if (typeof a === "string" && typeof b === "string") return compareCodePoints(a, b) < 0;
  if ((a instanceof PyList && b instanceof PyList) || (a instanceof PyTuple && b instanceof PyTuple)) {
    const n = Math.min(a.items.length, b.items.length);
    for (let i = 0; i < n; i++) {
      const p = a.items[i] ?? null;
      const q = b.items[i] ?? null;
      if (!pyEquals(p, q)) return lessThan(p, q, op);
    }
    return a.items.length < b.items.length;
  }
  throw pyFail("TypeError", `'${op}' not supported between instances of '${typeName(a)}' and '${typeName(b)}'`);
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
  if (container instanceof PyList || container instanceof PyTuple) return container.items.some((v) => pyEquals(v, item));
  if (container instanceof PyDict || container instanceof PySet) return container.entries.has(hashKey(item));
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
      return lessThan(b, a, op);
    case "<=":
      return pyEquals(a, b) ? orderable(a, b, op) : lessThan(a, b, op);
    case ">=":
      return pyEquals(a, b) ? orderable(a, b, op) : lessThan(b, a, op);
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
