/**
 * Expressions compiled to closures `(frame) => value`, once per program: one small compiler per node kind in
 * EXPRESSIONS (small, so that compiling a tree nested 3,000 deep fits the stack of a cold isolate). Evaluation
 * order is CPython's: left operand before right, callee before arguments (positional, then keywords in call
 * order; `*`/`**` unpacking in compile_call.ts), each operand of a chained comparison once and left to right,
 * `and`/`or` returning the operand that decided. A chain of one boolean operator (`a and b and c`) is one flat
 * node, as in CPython's AST, so even a long chain adds one level of nesting. Displays and f-strings are in
 * compile_display.ts.
 */

import type { Expr } from "../check/ast.ts";
import { getAttr, getItem, SliceKey } from "../runtime/access.ts";
import { literalValue } from "../runtime/complex.ts";
import { pyFail } from "../runtime/exceptions.ts";
import { PyList, PyTuple, type PyValue, truthy } from "../runtime/values.ts";
import { compileCall } from "./compile_call.ts";
import { dictDisplay, fstring, listDisplay, setDisplayOf, tupleDisplay } from "./compile_display.ts";
import { binaryFor, comparisonFor, unaryFor } from "./compile_ops.ts";
import type { Ev, Frame } from "./frame.ts";
import type { Compiler, Scope } from "./scope.ts";

type Kind = Expr["kind"];
type ExprCompiler<K extends Kind> = (c: Compiler, e: Expr & { kind: K }, scope: Scope) => Ev;

/** The key of a subscript: a value, or the bounds of a slice. */
export function compileKey(c: Compiler, index: Expr, scope: Scope): (f: Frame) => PyValue | SliceKey {
  if (index.kind !== "slice") return c.expr(index, scope);
  const part = (e: Expr | null): Ev => (e ? c.expr(e, scope) : () => null);
  const [lower, upper, step] = [part(index.lower), part(index.upper), part(index.step)];
  return (f) => new SliceKey(lower(f), upper(f), step(f));
}

/** `items[i]` of a list or tuple with an int index in range, else undefined (getItem then decides). */
function fastIndex(o: PyValue, k: PyValue | SliceKey): PyValue | undefined {
  if (typeof k !== "bigint" || !(o instanceof PyList || o instanceof PyTuple)) return undefined;
  const n = Number(k);
  return o.items[n < 0 ? n + o.items.length : n];
}

/** `a and b and c` (or `or`): the operands of a chain of one operator, in order, without recursion. */
function chainOperands(e: Expr & { kind: "logical" }): Expr[] {
  const out: Expr[] = [];
  const pending: Expr[] = [e];
  while (pending.length > 0) {
    const next = pending.pop() as Expr;
    if (next.kind === "logical" && next.op === e.op) pending.push(next.right, next.left);
    else out.push(next);
  }
  return out;
}

/** A constant; an imaginary literal is one complex, as CPython's code object holds one constant. */
const literal: ExprCompiler<"literal"> = (_c, e) => {
  const value = literalValue(e.value);
  return () => value;
};

const name: ExprCompiler<"name"> = (_c, e, scope) => scope.load(e.name);

const attribute: ExprCompiler<"attribute"> = (c, e, scope) => {
  const object = c.expr(e.object, scope);
  const attr = e.name;
  return (f) => getAttr(object(f), attr);
};

const subscript: ExprCompiler<"subscript"> = (c, e, scope) => {
  const object = c.expr(e.object, scope);
  const key = compileKey(c, e.index, scope);
  return (f) => {
    const o = object(f);
    const k = key(f);
    return fastIndex(o, k) ?? getItem(o, k);
  };
};

const slice: ExprCompiler<"slice"> = () => () => {
  throw pyFail("TypeError", "a slice inside a tuple index is not supported");
};

const call: ExprCompiler<"call"> = (c, e, scope) => compileCall(c, e, scope);

/**
 * `a + b + c …` nests to the left as deep as it is long: its left spine is walked iteratively (each node still
 * counts one level of nesting), so only right operands recurse.
 */
const binary: ExprCompiler<"binary"> = (c, e, scope) => {
  const spine = [e];
  let bottom = e.left;
  while (bottom.kind === "binary") {
    scope.program.enter();
    spine.push(bottom);
    bottom = bottom.left;
  }
  let ev = c.expr(bottom, scope);
  for (let i = spine.length - 1; i >= 0; i--) {
    const node = spine[i] as Expr & { kind: "binary" };
    const left = ev;
    const right = c.expr(node.right, scope);
    const op = binaryFor(node.op);
    ev = (f) => op(left(f), right(f));
    if (i > 0) scope.program.leave();
  }
  return ev;
};

const unary: ExprCompiler<"unary"> = (c, e, scope) => {
  const operand = c.expr(e.operand, scope);
  if (e.op === "not") return (f) => !truthy(operand(f));
  const op = unaryFor(e.op);
  return (f) => op(operand(f));
};

const logical: ExprCompiler<"logical"> = (c, e, scope) => {
  const operands = chainOperands(e).map((x) => c.expr(x, scope));
  const last = operands.pop() as Ev;
  const stopWhen = e.op === "or";
  return (f) => {
    for (const operand of operands) {
      const v = operand(f);
      if (truthy(v) === stopWhen) return v;
    }
    return last(f);
  };
};

const comparison: ExprCompiler<"compare"> = (c, e, scope) => {
  const first = c.expr(e.first, scope);
  const links = e.rest.map((link) => ({ test: comparisonFor(link.op), right: c.expr(link.right, scope) }));
  const [only] = links;
  if (only && links.length === 1) return (f) => only.test(first(f), only.right(f));
  return (f) => {
    let left = first(f);
    for (const link of links) {
      const right = link.right(f);
      if (!link.test(left, right)) return false;
      left = right;
    }
    return true;
  };
};

const conditional: ExprCompiler<"conditional"> = (c, e, scope) => {
  const test = c.expr(e.test, scope);
  const whenTrue = c.expr(e.whenTrue, scope);
  const whenFalse = c.expr(e.whenFalse, scope);
  return (f) => (truthy(test(f)) ? whenTrue(f) : whenFalse(f));
};

const comprehension: ExprCompiler<"comprehension" | "dictComprehension"> = (c, e, scope) =>
  c.comprehension(e, scope);

/** The compiler of each expression kind. */
export const EXPRESSIONS: { readonly [K in Kind]: ExprCompiler<K> } = {
  literal,
  name,
  attribute,
  subscript,
  slice,
  call,
  binary,
  unary,
  logical,
  compare: comparison,
  conditional,
  list: listDisplay,
  tuple: tupleDisplay,
  set: setDisplayOf,
  dict: dictDisplay,
  comprehension,
  dictComprehension: comprehension,
  fstring,
};
