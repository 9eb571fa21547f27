/**
 * List, set and dict comprehensions and generator expressions. Their loop variables live in their own scope
 * (Python 3); a generator expression is lazy, the others are built at once.
 */
import { collect, iterate } from "./body_access.ts";
import { assign } from "./body_assign.ts";
import type { Expr } from "./body_ast.ts";
import type { Interpreter } from "./body_eval.ts";
import { Frame } from "./body_scope.ts";
import { PyDict, PyIter, PyList, PySet, PyTuple, type PyValue, truthy } from "./body_values.ts";

export async function comprehension(
  interp: Interpreter,
  e: Expr & { kind: "comprehension" | "dictComprehension" },
  outer: Frame,
): Promise<PyValue> {
  const frame = new Frame(outer);
  const first = e.loops[0];
  const firstIterable = first ? await interp.eval(first.iterable, outer) : null;
  const produce = async function* (level: number): AsyncGenerator<PyValue> {
    const loop = e.loops[level];
    if (!loop) {
      if (e.kind === "dictComprehension")
        yield new PyTuple([await interp.eval(e.key, frame), await interp.eval(e.value, frame)]);
      else yield await interp.eval(e.element, frame);
      return;
    }
    const source = level === 0 ? firstIterable : await interp.eval(loop.iterable, frame);
    for await (const item of iterate(source)) {
      await interp.tick();
      await assign(interp, loop.target, item, frame);
      let keep = true;
      for (const c of loop.conditions) if (keep && !truthy(await interp.eval(c, frame))) keep = false;
      if (keep) yield* produce(level + 1);
    }
  };
  const items = produce(0);
  if (e.kind === "comprehension" && e.result === "generator") return new PyIter("generator", items);
  const values = await collect(new PyIter("generator", items));
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
