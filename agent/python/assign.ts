/**
 * Assignment: names, `obj.attr` (a Bunch takes new keys), `obj[key]` and slices, tuple unpacking, and
 * augmented assignment (`+=` on a list extends it in place, as in Python).
 */
import { collect, getAttr, getItem, isIterable, SliceKey, setAttr, setItem } from "./access.ts";
import type { BinaryOp, Expr, Target } from "./ast.ts";
import type { Interpreter } from "./evaluator.ts";
import { pyFail } from "./exceptions.ts";
import { binaryOp } from "./ops.ts";
import type { Frame } from "./scope.ts";
import { checkSize, PyList, type PyValue, spliceItems, typeName } from "./values.ts";

export function assign(interp: Interpreter, t: Target, value: PyValue, frame: Frame): void {
  switch (t.kind) {
    case "name":
      frame.vars.set(t.name, value);
      return;
    case "attribute":
      setAttr(interp.eval(t.object, frame), t.name, value);
      return;
    case "subscript": {
      const object = interp.eval(t.object, frame);
      const key = interp.key(t.index, frame);
      setItem(object, key, value, key instanceof SliceKey ? collect(value) : null);
      return;
    }
    case "unpack": {
      if (!isIterable(value)) {
        throw pyFail("TypeError", `cannot unpack non-iterable ${typeName(value)} object`);
      }
      const items = collect(value);
      const n = t.items.length;
      if (items.length < n)
        throw pyFail("ValueError", `not enough values to unpack (expected ${n}, got ${items.length})`);
      if (items.length > n) throw pyFail("ValueError", `too many values to unpack (expected ${n})`);
      for (let i = 0; i < n; i++) {
        const target = t.items[i];
        if (target) assign(interp, target, items[i] ?? null, frame);
      }
    }
  }
}

export function augmentedAssign(
  interp: Interpreter,
  t: Target,
  op: BinaryOp,
  valueExpr: Expr,
  frame: Frame,
): void {
  if (t.kind === "unpack") throw pyFail("TypeError", "illegal expression for augmented assignment");
  const object = t.kind === "name" ? null : interp.eval(t.object, frame);
  const key = t.kind === "subscript" ? interp.key(t.index, frame) : null;
  const current =
    t.kind === "name"
      ? frame.lookup(t.name)
      : t.kind === "attribute"
        ? getAttr(object, t.name)
        : getItem(object, key ?? null);
  const value = interp.eval(valueExpr, frame);
  let result: PyValue;
  if (op === "+" && current instanceof PyList) {
    const added = collect(value);
    checkSize(current.items.length + added.length, "list");
    spliceItems(current.items, current.items.length, 0, added);
    result = current;
  } else result = binaryOp(op, current, value);
  if (t.kind === "name") frame.vars.set(t.name, result);
  else if (t.kind === "attribute") setAttr(object, t.name, result);
  else setItem(object, key ?? null, result, null);
}
