/**
 * Python 3 binary operators: numbers (bool is an int; int.ts for two ints, float.ts when either is a float),
 * sequence concatenation and repetition, `%` formatting, set difference. Comparisons are in compare.ts.
 */
import type { BinaryOp } from "../check/ast.ts";
import { percentFormat } from "../text/format.ts";
import { pyFail } from "./exceptions.ts";
import { floatBinary } from "./float.ts";
import { intBinary, intToFloat } from "./int.ts";
import { checkSize, numeric, PyList, PySet, PyTuple, type PyValue, typeName } from "./values.ts";

/** A number as a float, as CPython's float operations convert an int operand (OverflowError beyond 2**1024). */
export function toFloat(n: bigint | number): number {
  return typeof n === "number" ? n : intToFloat(n);
}

/** `inplace`: the operator of an augmented assignment, which CPython's message spells `+=`. */
function unsupported(op: string, a: PyValue, b: PyValue, inplace = false): Error {
  const name = inplace ? `${op}=` : op === "**" ? "** or pow()" : op;
  return pyFail(
    "TypeError",
    `unsupported operand type(s) for ${name}: '${typeName(a)}' and '${typeName(b)}'`,
  );
}

export function binaryOp(op: BinaryOp, a: PyValue, b: PyValue, inplace = false): PyValue {
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
    if (typeof y === "bigint" && isSequence(a)) return repeat(a, y, b, inplace);
    if (typeof x === "bigint" && isSequence(b)) return repeat(b, x, a, inplace);
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
  throw unsupported(op, a, b, inplace);
}

function isSequence(v: PyValue): boolean {
  return typeof v === "string" || v instanceof PyList || v instanceof PyTuple;
}

function repeat(seq: PyValue, times: bigint, other: PyValue, inplace: boolean): PyValue {
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
  throw unsupported("*", seq, other, inplace);
}

/** Arithmetic of two numbers: int.ts for two ints, else float.ts on both converted (OverflowError for a huge int). */
function arithmetic(op: BinaryOp, x: bigint | number, y: bigint | number): PyValue {
  if (typeof x === "bigint" && typeof y === "bigint") return intBinary(op, x, y);
  return floatBinary(op, toFloat(x), toFloat(y));
}
