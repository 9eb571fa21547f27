/**
 * Which expressions CPython 3.11 turns into constants before compiling (Python/ast_opt.c), and the frozenset
 * constant a set display of them becomes. A Body sees this only through the iteration order of sets: CPython
 * builds `{27, 0, 3}` (three or more constant items, compile.c starunpack_helper) and the iterable of
 * `for x in {…}` / a comprehension over `{…}` (ast_opt.c fold_iter, any number of items) as a frozenset
 * constant, which compile.c merge_consts_recursive builds a SECOND time from the first one's iteration order;
 * the display then merges it into a new set (`list({27, 0, 3})` is `[0, 27, 3]`, `set([27, 0, 3])` gives
 * `[0, 3, 27]`).
 *
 * Folding follows ast_opt.c: literals; tuples of constants; unary `- + ~ not` and the binary operators on
 * constants, except where its safe_multiply / safe_power / safe_lshift / safe_mod decline (results over 128
 * bits, 4096 characters, 256 items; `%` on a str) or the operation raises (then it stays an expression and
 * raises at run time); a constant subscripted by a constant. Evaluating a constant has no effect, so the value
 * computed here is the one the Body would compute.
 */
import type { Element } from "../check/ast.ts";
import { getItem } from "../runtime/access.ts";
import { literalValue } from "../runtime/complex.ts";
import { bitLength } from "../runtime/int.ts";
import { binaryOp } from "../runtime/ops.ts";
import { PySet, PyTuple, type PyValue, truthy } from "../runtime/values.ts";
import { unaryFor } from "./compile_ops.ts";

const MAX_INT_SIZE = 128;
const MAX_COLLECTION_SIZE = 256;
const MAX_STR_SIZE = 4096;
const MAX_TOTAL_ITEMS = 1024;
const LONG_MAX = (1n << 63n) - 1n;

/** PyLong_Check: bool is an int. */
function asInt(v: PyValue): bigint | undefined {
  if (typeof v === "bigint") return v;
  if (typeof v === "boolean") return v ? 1n : 0n;
  return undefined;
}

/** ast_opt.c check_complexity: what is left of `limit` after counting the items of nested tuples. */
function complexity(v: PyValue, limit: number): number {
  if (!(v instanceof PyTuple)) return limit;
  let left = limit - v.items.length;
  for (let i = 0; left >= 0 && i < v.items.length; i++) left = complexity(v.items[i] ?? null, left);
  return left;
}

/** ast_opt.c safe_multiply: whether CPython folds `v * w`. */
function multiplies(v: PyValue, w: PyValue): boolean {
  const a = asInt(v);
  const b = asInt(w);
  if (a !== undefined && b !== undefined)
    return a === 0n || b === 0n || bitLength(a) + bitLength(b) <= MAX_INT_SIZE;
  if (a === undefined && b !== undefined) return multiplies(w, v);
  if (a === undefined) return true;
  const size = w instanceof PyTuple ? w.items.length : typeof w === "string" ? Array.from(w).length : -1;
  if (size <= 0) return true;
  if (a > LONG_MAX || a < -LONG_MAX - 1n) return false;
  const n = Number(a);
  const max = w instanceof PyTuple ? MAX_COLLECTION_SIZE : MAX_STR_SIZE;
  if (n < 0 || n > Math.floor(max / size)) return false;
  return !(w instanceof PyTuple && n > 0 && complexity(w, Math.floor(MAX_TOTAL_ITEMS / n)) < 0);
}

/** safe_power, safe_lshift and safe_mod; the other operators always fold (when they do not raise). */
function folds(op: string, v: PyValue, w: PyValue): boolean {
  const a = asInt(v);
  const b = asInt(w);
  switch (op) {
    case "*":
      return multiplies(v, w);
    case "**":
      if (a === undefined || b === undefined || a === 0n || b <= 0n) return true;
      return b < 1n << 64n && BigInt(bitLength(a)) <= BigInt(MAX_INT_SIZE) / b;
    case "<<":
      if (a === undefined || b === undefined || a === 0n || b === 0n) return true;
      return b > 0n && b <= BigInt(MAX_INT_SIZE) && bitLength(a) <= MAX_INT_SIZE - Number(b);
    case "%":
      return typeof v !== "string";
  }
  return true;
}

function unary(op: "-" | "+" | "~" | "not", v: PyValue): PyValue | undefined {
  if (op === "not") return !truthy(v);
  if (op !== "~") return unaryFor(op)(v);
  const n = asInt(v);
  return n === undefined ? undefined : -n - 1n;
}

/** The constant CPython's AST optimizer makes of `e`, or undefined when it leaves an expression. */
export function foldConstant(e: Element): PyValue | undefined {
  try {
    switch (e.kind) {
      case "literal":
        return literalValue(e.value);
      case "tuple": {
        const items = e.items.map(foldConstant);
        return items.every((v) => v !== undefined) ? new PyTuple(items as PyValue[]) : undefined;
      }
      case "unary": {
        const v = foldConstant(e.operand);
        return v === undefined ? undefined : unary(e.op, v);
      }
      case "binary": {
        const v = foldConstant(e.left);
        const w = v === undefined ? undefined : foldConstant(e.right);
        if (v === undefined || w === undefined || !folds(e.op, v, w)) return undefined;
        return binaryOp(e.op, v, w);
      }
      case "subscript": {
        const v = foldConstant(e.object);
        const i = v === undefined || e.index.kind === "slice" ? undefined : foldConstant(e.index);
        return v === undefined || i === undefined ? undefined : getItem(v, i);
      }
    }
  } catch {
    // make_const: an operation that raises is left to raise at run time.
  }
  return undefined;
}

/** The constant items of a set display, or undefined when one of them is not a constant (or is starred). */
export function constantItems(items: readonly Element[]): PyValue[] | undefined {
  const out: PyValue[] = [];
  for (const item of items) {
    const v = foldConstant(item);
    if (v === undefined) return undefined;
    out.push(v);
  }
  return out;
}

/**
 * The frozenset constant of `items` as a code object holds it: `frozenset(items)`, rebuilt by
 * merge_consts_recursive from its own iteration order. Never handed to the Body itself (a frozenset is immutable;
 * the display copies it into a new set, a `for` only iterates it).
 */
export function frozenConstant(items: readonly PyValue[]): PySet {
  const first = new PySet();
  for (const item of items) first.add(item);
  const merged = new PySet();
  for (const item of first.entries.values()) merged.add(item);
  return merged;
}
