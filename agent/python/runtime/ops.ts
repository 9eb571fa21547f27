/**
 * Python 3 binary operators: numbers (bool is an int; int.ts for two ints, float.ts when either is a float,
 * complex.ts when either is a complex),
 * the bitwise operators of ints and bools, sequence concatenation and repetition, `%` formatting, and the
 * `| & ^ -` of sets, dicts and dict views (container_ops.ts). Comparisons are in compare.ts.
 */
import type { BinaryOp, BitwiseOp } from "../check/ast.ts";
import { percentFormat } from "../text/format.ts";
import { strLength } from "../types/text.ts";
import { complexBinary, complexPow, isComplexPower } from "./complex.ts";
import { containerOp } from "./container_ops.ts";
import { pyFail } from "./exceptions.ts";
import { floatBinary } from "./float.ts";
import { intBinary, intToFloat } from "./int.ts";
import { indexSized } from "./ssize.ts";
import {
  checkSize,
  checkStrSize,
  numeric,
  PyComplex,
  PyList,
  PyTuple,
  type PyValue,
  typeName,
} from "./values.ts";

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
  if (x !== undefined && y !== undefined) {
    if (isBitwise(op)) return bitwise(op, a, b, x, y, inplace);
    return arithmetic(op, x, y);
  }
  if (a instanceof PyComplex || b instanceof PyComplex) {
    const z = complexBinary(op, a, b);
    if (z !== undefined) return z;
  }
  if (op === "+") {
    if (typeof a === "string" && typeof b === "string") {
      checkStrSize(a.length + b.length, () => strLength(a) + strLength(b));
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
  const container = containerOp(op, a, b);
  if (container !== undefined) return container;
  throw unsupported(op, a, b, inplace);
}

function isBitwise(op: BinaryOp): op is BitwiseOp {
  return op === "|" || op === "&" || op === "^" || op === "<<" || op === ">>";
}

/** `a op b` of two numbers: ints only (a float is a TypeError); `|`, `&`, `^` of two bools is a bool (bool_or …). */
function bitwise(
  op: BitwiseOp,
  a: PyValue,
  b: PyValue,
  x: bigint | number,
  y: bigint | number,
  inplace: boolean,
) {
  if (typeof x !== "bigint" || typeof y !== "bigint") throw unsupported(op, a, b, inplace);
  if (typeof a === "boolean" && typeof b === "boolean") {
    if (op === "|") return a || b;
    if (op === "&") return a && b;
    if (op === "^") return a !== b;
  }
  return intBinary(op, x, y);
}

function isSequence(v: PyValue): boolean {
  return typeof v === "string" || v instanceof PyList || v instanceof PyTuple;
}

function repeat(seq: PyValue, times: bigint, other: PyValue, inplace: boolean): PyValue {
  const empty = typeof seq === "string" ? seq === "" : isSequence(seq) && (seq as PyList).items.length === 0;
  indexSized(times, "OverflowError");
  const n = times < 0n || empty ? 0n : times;
  if (typeof seq === "string") {
    checkStrSize(BigInt(seq.length) * n, () => BigInt(strLength(seq)) * n);
    return seq.repeat(Number(n));
  }
  if (seq instanceof PyList || seq instanceof PyTuple) {
    checkSize(BigInt(seq.items.length) * n, typeName(seq));
    return seq instanceof PyList
      ? new PyList(repeatItems(seq.items, Number(n)))
      : new PyTuple(repeatItems(seq.items, Number(n)));
  }
  throw unsupported("*", seq, other, inplace);
}

/** `times` copies of `items` in one array of the final size (`[0] * 10**7` in milliseconds, as CPython). */
function repeatItems(items: readonly PyValue[], times: number): PyValue[] {
  const size = items.length;
  if (size === 1) return new Array<PyValue>(times).fill(items[0] ?? null);
  const out = new Array<PyValue>(size * times);
  for (let copy = 0, at = 0; copy < times; copy++)
    for (let k = 0; k < size; k++) out[at++] = items[k] ?? null;
  return out;
}

/**
 * Arithmetic of two numbers: int.ts for two ints, else float.ts on both converted (OverflowError for a huge int);
 * a negative float to a fractional power is complex, as CPython's float_pow hands it to complex_pow.
 */
function arithmetic(op: Exclude<BinaryOp, BitwiseOp>, x: bigint | number, y: bigint | number): PyValue {
  if (typeof x === "bigint" && typeof y === "bigint") return intBinary(op, x, y);
  const a = toFloat(x);
  const b = toFloat(y);
  if (op === "**" && isComplexPower(a, b)) return complexPow({ real: a, imag: 0 }, { real: b, imag: 0 });
  return floatBinary(op, a, b);
}
