/**
 * List, set and dict comprehensions and generator expressions. Their loop variables live in their own scope
 * (Python 3); a generator expression is lazy, the others are built at once.
 */
import { collect, iterate } from "./access.ts";
import { assign } from "./assign.ts";
import type { Expr } from "./ast.ts";
import type { Interpreter } from "./evaluator.ts";
import { Frame } from "./scope.ts";
import { PyDict, PyIter, PyList, PySet, PyTuple, type PyValue, truthy } from "./values.ts";

export function comprehension(
  interp: Interpreter,
  e: Expr & { kind: "comprehension" | "dictComprehension" },
  outer: Frame,
): PyValue {
  const frame = new Frame(outer);
  const first = e.loops[0];
  const firstIterable = first ? interp.eval(first.iterable, outer) : null;
  const produce = function* (level: number): Generator<PyValue> {
    const loop = e.loops[level];
    if (!loop) {
      if (e.kind === "dictComprehension")
        yield new PyTuple([interp.eval(e.key, frame), interp.eval(e.value, frame)]);
      else yield interp.eval(e.element, frame);
      return;
    }
    const source = level === 0 ? firstIterable : interp.eval(loop.iterable, frame);
    for (const item of iterate(source)) {
      interp.tick();
      assign(interp, loop.target, item, frame);
      let keep = true;
      for (const c of loop.conditions) if (keep && !truthy(interp.eval(c, frame))) keep = false;
      if (keep) yield* produce(level + 1);
    }
  };
  const items = produce(0);
  if (e.kind === "comprehension" && e.result === "generator") return new PyIter("generator", items);
  const values = collect(new PyIter("generator", items));
  if (e.kind === "dictComprehension") {
    const d = new PyDict();
    for (const pair of values)
      if (pair instanceof PyTuple) d.set(pair.items[0] ?? null, pair.items[1] ?? null);
    return d;
  }
  if (e.result === "list") return new PyList(values);
  const set = new PySet();
  for (const v of values) set.add(v);
  return set;
}
