/**
 * Python 3 operators: arithmetic with int/float semantics (`7/2` is 3.5, `7//2` is 3, `-7//2` is -4),
 * sequence concatenation and repetition, `%` formatting. Comparisons are in compare.ts.
 */
import type { BinaryOp } from "./ast.ts";
import { pyFail } from "./exceptions.ts";
import { percentFormat } from "./format.ts";
import { checkSize, numeric, PyList, PySet, PyTuple, type PyValue, typeName } from "./values.ts";

export function toFloat(n: bigint | number): number {
  if (typeof n === "number") return n;
  const f = Number(n);
  if (!Number.isFinite(f)) throw pyFail("OverflowError", "int too large to convert to float");
  return f;
}

function unsupported(op: string, a: PyValue, b: PyValue): Error {
  const name = op === "**" ? "** or pow()" : op;
  return pyFail(
    "TypeError",
    `unsupported operand type(s) for ${name}: '${typeName(a)}' and '${typeName(b)}'`,
  );
}

export function binaryOp(op: BinaryOp, a: PyValue, b: PyValue): PyValue {
  const x = numeric(a);
  const y = numeric(b);
  if (x !== undefined && y !== undefined) return arithmetic(op, x, y);
  if (op === "+") {
    if (typeof a === "string" && typeof b === "string") {
      checkSize(a.length + b.length, "str");
      return a + b;
    }
    if (a instanceof PyList && b instanceof PyList) {
      checkSize(a.items.length + b.items.length, "list");
      return new PyList(a.items.concat(b.items));
    }
    if (a instanceof PyTuple && b instanceof PyTuple) {
      checkSize(a.items.length + b.items.length, "tuple");
      return new PyTuple(a.items.concat(b.items));
    }
    if (typeof a === "string" || a instanceof PyList || a instanceof PyTuple) {
      throw pyFail(
        "TypeError",
        `can only concatenate ${typeName(a)} (not "${typeName(b)}") to ${typeName(a)}`,
      );
    }
  }
  if (op === "*") {
    if (y !== undefined && typeof y === "bigint") return repeat(a, y, b);
    if (x !== undefined && typeof x === "bigint") return repeat(b, x, a);
    if (isSequence(a) || isSequence(b)) {
      throw pyFail(
        "TypeError",
        `can't multiply sequence by non-int of type '${typeName(isSequence(a) ? b : a)}'`,
      );
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

function repeat(seq: PyValue, times: bigint, other: PyValue): PyValue {
  const empty = typeof seq === "string" ? seq === "" : isSequence(seq) && (seq as PyList).items.length === 0;
  if (times > 0x7fffffffffffffffn || times < -0x8000000000000000n)
    throw pyFail("OverflowError", `cannot fit '${typeName(times)}' into an index-sized integer`);
  const n = times < 0n || empty ? 0n : times;
  if (typeof seq === "string") {
    checkSize(BigInt(seq.length) * n, "str");
    return seq.repeat(Number(n));
  }
  if (seq instanceof PyList || seq instanceof PyTuple) {
    checkSize(BigInt(seq.items.length) * n, typeName(seq));
    const items: PyValue[] = [];
    for (let i = 0n; i < n; i++) for (const item of seq.items) items.push(item);
    return seq instanceof PyList ? new PyList(items) : new PyTuple(items);
  }
  throw unsupported("*", seq, other);
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
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
      if (m === 0) return b < 0 ? -0 : 0;
      return m < 0 !== b < 0 ? m + b : m;
    }
    case "**":
      if (a === 0 && b < 0) throw pyFail("ZeroDivisionError", "0.0 cannot be raised to a negative power");
      if (a < 0 && !Number.isInteger(b)) throw pyFail("ValueError", "complex results are not supported");
      return a ** b;
  }
}
