/**
 * The operators of compiled code, chosen once per operator at compile time. Each takes a fast path only where
 * its result is certainly what ops.ts / compare.ts would return (two ints of modest size, two floats for
 * `+ - *`, two ints or two floats for an ordering, two ints or two strs for `==`) and otherwise calls them, so
 * the semantics, messages and limits stay in one place.
 */
import type { BinaryOp, CompareOp } from "../check/ast.ts";
import { compare } from "../runtime/compare.ts";
import { complexNegative } from "../runtime/complex.ts";
import { pyFail } from "../runtime/exceptions.ts";
import { binaryOp } from "../runtime/ops.ts";
import { numeric, PyComplex, type PyValue, typeName } from "../runtime/values.ts";
import { inplaceOp } from "./inplace.ts";

export type Binary = (a: PyValue, b: PyValue) => PyValue;
export type Comparison = (a: PyValue, b: PyValue) => boolean;

/** Ints below 2**64 in size: their product (under 2**128) needs no size check. */
const SMALL = 1n << 64n;

const add: Binary = (a, b) => {
  if (typeof a === "bigint" && typeof b === "bigint") return a + b;
  if (typeof a === "number" && typeof b === "number") return a + b;
  return binaryOp("+", a, b);
};

const sub: Binary = (a, b) => {
  if (typeof a === "bigint" && typeof b === "bigint") return a - b;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return binaryOp("-", a, b);
};

const mul: Binary = (a, b) => {
  if (typeof a === "bigint" && typeof b === "bigint" && a < SMALL && a > -SMALL && b < SMALL && b > -SMALL)
    return a * b;
  if (typeof a === "number" && typeof b === "number") return a * b;
  return binaryOp("*", a, b);
};

/** `a % b`, `a // b` of ints with b > 0: JavaScript truncates, Python floors (the sign of the divisor). */
const mod: Binary = (a, b) => {
  if (typeof a === "bigint" && typeof b === "bigint" && b > 0n) {
    const r = a % b;
    return r < 0n ? r + b : r;
  }
  return binaryOp("%", a, b);
};

const floorDiv: Binary = (a, b) => {
  if (typeof a === "bigint" && typeof b === "bigint" && b > 0n) {
    const q = a / b;
    return a < 0n && q * b !== a ? q - 1n : q;
  }
  return binaryOp("//", a, b);
};

/** The code of binary operator `op`. */
export function binaryFor(op: BinaryOp): Binary {
  switch (op) {
    case "+":
      return add;
    case "-":
      return sub;
    case "*":
      return mul;
    case "%":
      return mod;
    case "//":
      return floorDiv;
    default:
      return (a, b) => binaryOp(op, a, b);
  }
}

/** The code of augmented assignment `op=`: the int fast path of `+`/`-`, else the in-place protocol. */
export function inplaceFor(op: BinaryOp): Binary {
  if (op === "+")
    return (a, b) => (typeof a === "bigint" && typeof b === "bigint" ? a + b : inplaceOp("+", a, b));
  if (op === "-")
    return (a, b) => (typeof a === "bigint" && typeof b === "bigint" ? a - b : inplaceOp("-", a, b));
  return (a, b) => inplaceOp(op, a, b);
}

/** The code of comparison `op` (one link of a chain). */
export function comparisonFor(op: CompareOp): Comparison {
  switch (op) {
    case "<":
      return (a, b) => (sameNumbers(a, b) ? (a as number) < (b as number) : compare(op, a, b));
    case "<=":
      return (a, b) => (sameNumbers(a, b) ? (a as number) <= (b as number) : compare(op, a, b));
    case ">":
      return (a, b) => (sameNumbers(a, b) ? (a as number) > (b as number) : compare(op, a, b));
    case ">=":
      return (a, b) => (sameNumbers(a, b) ? (a as number) >= (b as number) : compare(op, a, b));
    case "==":
      return (a, b) => (sameScalars(a, b) ? a === b : compare(op, a, b));
    case "!=":
      return (a, b) => (sameScalars(a, b) ? a !== b : compare(op, a, b));
    default:
      return (a, b) => compare(op, a, b);
  }
}

/** Two ints or two floats: JavaScript orders them as Python does (NaN compares false). */
function sameNumbers(a: PyValue, b: PyValue): boolean {
  const t = typeof a;
  return (t === "bigint" || t === "number") && t === typeof b;
}

/** Two ints or two strs: equal exactly when JavaScript's === says so. */
function sameScalars(a: PyValue, b: PyValue): boolean {
  const t = typeof a;
  return (t === "bigint" || t === "string") && t === typeof b;
}

/** Unary `-`, `+` and `~` (`not` is truthiness): `~` takes ints only, and of a bool gives an int (`~True` is -2). */
export function unaryFor(op: "-" | "+" | "~"): (v: PyValue) => PyValue {
  if (op === "~")
    return (v) => {
      if (typeof v === "bigint") return ~v;
      if (typeof v === "boolean") return v ? -2n : -1n;
      throw pyFail("TypeError", `bad operand type for unary ~: '${typeName(v)}'`);
    };
  return (v) => {
    if (typeof v === "bigint" || typeof v === "number") return op === "-" ? -v : v;
    if (v instanceof PyComplex) return op === "-" ? complexNegative(v) : v;
    const n = numeric(v);
    if (n === undefined) throw pyFail("TypeError", `bad operand type for unary ${op}: '${typeName(v)}'`);
    return op === "-" ? -n : n;
  };
}
