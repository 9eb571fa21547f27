/**
 * Assignment targets and augmented assignment, compiled. CPython's order: the value first, then each target's
 * own parts (`a[i] = v` evaluates `a`, then `i`); unpacking takes the values (an iterable is read for exactly
 * as many items as there are targets, and one more to see it is exhausted) before binding any target; a
 * starred target (`a, *rest, z = v`: UNPACK_EX) takes a list of what the others leave;
 * `t op= v` evaluates the target's parts once, reads it, evaluates `v`, applies the in-place operator
 * (inplace.ts) and stores the result back.
 */

import type { BinaryOp, Expr, Target } from "../check/ast.ts";
import { getAttr, getItem, setAttr, setItem } from "../runtime/access.ts";
import { pyFail } from "../runtime/exceptions.ts";
import { checkSize, MAX_ITEMS, PyList, PyTuple, type PyValue, typeName } from "../runtime/values.ts";
import { compileKey } from "./compile_expr.ts";
import { inplaceFor } from "./compile_ops.ts";
import { cursorOf } from "./cursor.ts";
import { type Exec, NEXT, type Store } from "./frame.ts";
import type { Compiler, Scope } from "./scope.ts";

/** The `n` values of an unpacking, with CPython 3.11's errors. */
export function unpackValues(value: PyValue, n: number): readonly PyValue[] {
  if (value instanceof PyTuple || value instanceof PyList) {
    const items = value.items;
    if (items.length < n)
      throw pyFail("ValueError", `not enough values to unpack (expected ${n}, got ${items.length})`);
    if (items.length > n) throw pyFail("ValueError", `too many values to unpack (expected ${n})`);
    return value instanceof PyList ? [...items] : items;
  }
  const next = cursorOf(value);
  if (next === null) throw pyFail("TypeError", `cannot unpack non-iterable ${typeName(value)} object`);
  const out: PyValue[] = [];
  for (let i = 0; i < n; i++) {
    const item = next();
    if (item === undefined)
      throw pyFail("ValueError", `not enough values to unpack (expected ${n}, got ${i})`);
    out.push(item);
  }
  if (next() !== undefined) throw pyFail("ValueError", `too many values to unpack (expected ${n})`);
  return out;
}

/**
 * The values of `a, *rest, z = value` (unpack_iterable with a star): `before` items, the list of the rest, and
 * `after` items taken from its end, with CPython 3.11's errors.
 */
export function unpackStarred(value: PyValue, before: number, after: number): PyValue[] {
  const next = cursorOf(value);
  if (next === null) throw pyFail("TypeError", `cannot unpack non-iterable ${typeName(value)} object`);
  const short = (got: number): Error =>
    pyFail("ValueError", `not enough values to unpack (expected at least ${before + after}, got ${got})`);
  const out: PyValue[] = [];
  for (let i = 0; i < before; i++) {
    const item = next();
    if (item === undefined) throw short(i);
    out.push(item);
  }
  const rest: PyValue[] = [];
  for (let item = next(); item !== undefined; item = next()) {
    if (rest.length >= MAX_ITEMS) checkSize(rest.length + 1, "list");
    rest.push(item);
  }
  if (rest.length < after) throw short(before + rest.length);
  const tail = rest.splice(rest.length - after, after);
  out.push(new PyList(rest), ...tail);
  return out;
}

export function compileTarget(c: Compiler, t: Target, scope: Scope): Store {
  switch (t.kind) {
    case "name":
      return scope.store(t.name);
    case "attribute": {
      const object = c.expr(t.object, scope);
      const name = t.name;
      return (f, value) => setAttr(object(f), name, value);
    }
    case "subscript": {
      const object = c.expr(t.object, scope);
      const key = compileKey(c, t.index, scope);
      return (f, value) => {
        const o = object(f);
        const k = key(f);
        if (o instanceof PyList && typeof k === "bigint") {
          const n = Number(k);
          const i = n < 0 ? n + o.items.length : n;
          if (i >= 0 && i < o.items.length) {
            o.items[i] = value;
            return;
          }
        }
        setItem(o, k, value);
      };
    }
    case "unpack": {
      const stores = t.items.map((item) => c.target(item, scope));
      const n = stores.length;
      return (f, value) => {
        const values = unpackValues(value, n);
        for (let i = 0; i < n; i++) (stores[i] as Store)(f, values[i] ?? null);
      };
    }
    case "starUnpack": {
      const stores = [...t.before, t.star, ...t.after].map((item) => c.target(item, scope));
      const [before, after] = [t.before.length, t.after.length];
      return (f, value) => {
        const values = unpackStarred(value, before, after);
        for (let i = 0; i < stores.length; i++) (stores[i] as Store)(f, values[i] ?? null);
      };
    }
  }
}

/** `target op= value` */
export function compileAugAssign(
  c: Compiler,
  s: { target: Target; op: BinaryOp; value: Expr },
  scope: Scope,
): Exec {
  const t = s.target;
  const op = inplaceFor(s.op);
  const value = c.expr(s.value, scope);
  switch (t.kind) {
    case "name": {
      const load = scope.load(t.name);
      const slot = scope.slotOf(t.name);
      if (slot !== undefined)
        return (f) => {
          const current = load(f);
          f.v[slot] = op(current, value(f));
          return NEXT;
        };
      const store = scope.store(t.name);
      return (f) => {
        store(f, op(load(f), value(f)));
        return NEXT;
      };
    }
    case "attribute": {
      const object = c.expr(t.object, scope);
      const name = t.name;
      return (f) => {
        const o = object(f);
        const current = getAttr(o, name);
        setAttr(o, name, op(current, value(f)));
        return NEXT;
      };
    }
    case "subscript": {
      const object = c.expr(t.object, scope);
      const key = compileKey(c, t.index, scope);
      return (f) => {
        const o = object(f);
        const k = key(f);
        const current = getItem(o, k);
        const result = op(current, value(f));
        setItem(o, k, result);
        return NEXT;
      };
    }
    case "unpack":
    case "starUnpack":
      throw pyFail("TypeError", "illegal expression for augmented assignment");
  }
}
