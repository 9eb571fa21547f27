/**
 * The iteration built-ins with CPython 3 semantics: `range` (a lazy sequence, negative steps), the lazy
 * iterators `zip` (with `strict=`), `enumerate` (with `start=`), `reversed` and `filter`, and `any`/`all`.
 */
import { isIterable, iterate } from "./access.ts";
import { pyFail } from "./exceptions.ts";
import {
  type CallArgs,
  indexArg,
  PyDict,
  PyIter,
  PyList,
  PyRange,
  PyTuple,
  type PyValue,
  PyView,
  type Runtime,
  truthy,
  typeName,
} from "./values.ts";

export const ITER_BUILTINS: ReadonlySet<string> = new Set([
  "range",
  "zip",
  "enumerate",
  "reversed",
  "filter",
  "any",
  "all",
]);

/** An iterator over `v`, failing now (as CPython's `iter()` does) when `v` is not iterable. */
function iteratorOf(v: PyValue): Generator<PyValue> {
  if (!isIterable(v)) throw pyFail("TypeError", `'${typeName(v)}' object is not iterable`);
  return iterate(v);
}

function range(call: CallArgs): PyRange {
  if (call.keywords.size > 0) throw pyFail("TypeError", "range() takes no keyword arguments");
  const a = call.args;
  if (a.length === 0) throw pyFail("TypeError", "range expected at least 1 argument, got 0");
  if (a.length > 3) throw pyFail("TypeError", `range expected at most 3 arguments, got ${a.length}`);
  const [x, y, z] = a.map((v) => indexArg(v));
  if (y === undefined) return new PyRange(0n, x ?? 0n, 1n);
  const step = z ?? 1n;
  if (step === 0n) throw pyFail("ValueError", "range() arg 3 must not be zero");
  return new PyRange(x ?? 0n, y, step);
}

function zip(call: CallArgs): PyIter {
  let strict = false;
  if (call.keywords.size > 1)
    throw pyFail("TypeError", `zip() takes at most 1 keyword argument (${call.keywords.size} given)`);
  for (const [key, value] of call.keywords) {
    if (key !== "strict") throw pyFail("TypeError", `'${key}' is an invalid keyword argument for zip()`);
    strict = truthy(value);
  }
  const iterators = call.args.map(iteratorOf);
  function* zipped(): Generator<PyValue> {
    if (iterators.length === 0) return;
    for (;;) {
      const values: PyValue[] = [];
      for (const [i, it] of iterators.entries()) {
        const next = it.next();
        if (!next.done) {
          values.push(next.value);
          continue;
        }
        if (strict && i > 0) throw unequal(i + 1, "shorter");
        if (strict && i === 0) {
          for (const [j, other] of iterators.entries())
            if (j > 0 && !other.next().done) throw unequal(j + 1, "longer");
        }
        return;
      }
      yield new PyTuple(values);
    }
  }
  return new PyIter("zip", zipped());
}

function unequal(argument: number, how: string): Error {
  const before = argument === 2 ? "argument 1" : `arguments 1-${argument - 1}`;
  return pyFail("ValueError", `zip() argument ${argument} is ${how} than ${before}`);
}

function enumerate(call: CallArgs): PyIter {
  const given = call.args.length + call.keywords.size;
  if (given > 2) throw pyFail("TypeError", `enumerate() takes at most 2 arguments (${given} given)`);
  let [iterable, start] = call.args;
  for (const [key, value] of call.keywords) {
    if (key === "iterable" && iterable === undefined) iterable = value;
    else if (key === "start" && start === undefined) start = value;
    else throw pyFail("TypeError", `'${key}' is an invalid keyword argument for enumerate()`);
  }
  if (iterable === undefined) {
    // CPython 3.11 names a keyword it got rather than the missing argument when there is one.
    const [given] = call.keywords.keys();
    if (given !== undefined)
      throw pyFail("TypeError", `'${given}' is an invalid keyword argument for enumerate()`);
    throw pyFail("TypeError", "enumerate() missing required argument 'iterable'");
  }
  let i = start === undefined ? 0n : indexArg(start);
  const it = iteratorOf(iterable);
  function* numbered(): Generator<PyValue> {
    for (const item of it) yield new PyTuple([i++, item]);
  }
  return new PyIter("enumerate", numbered());
}

/** `reversed(seq)`: sequences, dicts and dict views (Python 3.8+); a snapshot of the items taken now. */
function reversed(call: CallArgs): PyIter {
  if (call.keywords.size > 0) throw pyFail("TypeError", "reversed() takes no keyword arguments");
  if (call.args.length !== 1)
    throw pyFail("TypeError", `reversed expected 1 argument, got ${call.args.length}`);
  const v = call.args[0] ?? null;
  if (v instanceof PyRange) {
    const r = new PyRange(v.at(v.length - 1n), v.start - v.step, -v.step);
    return new PyIter("range_iterator", iterate(r));
  }
  let items: PyValue[];
  if (v instanceof PyList || v instanceof PyTuple) items = [...v.items];
  else if (typeof v === "string") items = Array.from(v);
  else if (v instanceof PyDict || v instanceof PyView) {
    const entries = [...(v instanceof PyView ? v.dict : v).entries.values()];
    const kind = v instanceof PyView ? v.kind : "keys";
    items = entries.map((e) =>
      kind === "keys" ? e.key : kind === "values" ? e.value : new PyTuple([e.key, e.value]),
    );
  } else throw pyFail("TypeError", `'${typeName(v)}' object is not reversible`);
  items.reverse();
  function* backwards(): Generator<PyValue> {
    yield* items;
  }
  return new PyIter(v instanceof PyList ? "list_reverseiterator" : "reversed", backwards());
}

function filter(call: CallArgs, rt: Runtime): PyIter {
  if (call.keywords.size > 0) throw pyFail("TypeError", "filter() takes no keyword arguments");
  if (call.args.length !== 2)
    throw pyFail("TypeError", `filter expected 2 arguments, got ${call.args.length}`);
  const [fn = null, source = null] = call.args;
  const it = iteratorOf(source);
  function* kept(): Generator<PyValue> {
    for (const item of it) if (truthy(fn === null ? item : rt.invoke(fn, [item]))) yield item;
  }
  return new PyIter("filter", kept());
}

/** `any(iterable)` / `all(iterable)`, stopping at the first item that decides. */
function anyAll(name: "any" | "all", call: CallArgs, rt: Runtime): boolean {
  if (call.keywords.size > 0) throw pyFail("TypeError", `${name}() takes no keyword arguments`);
  if (call.args.length !== 1)
    throw pyFail("TypeError", `${name}() takes exactly one argument (${call.args.length} given)`);
  const wanted = name === "any";
  for (const item of iteratorOf(call.args[0] ?? null)) {
    rt.tick();
    if (truthy(item) === wanted) return wanted;
  }
  return !wanted;
}

/** Calls one of ITER_BUILTINS. */
export function callIterBuiltin(name: string, call: CallArgs, rt: Runtime): PyValue {
  switch (name) {
    case "range":
      return range(call);
    case "zip":
      return zip(call);
    case "enumerate":
      return enumerate(call);
    case "reversed":
      return reversed(call);
    case "filter":
      return filter(call, rt);
    case "any":
    case "all":
      return anyAll(name, call, rt);
  }
  throw pyFail("NameError", `name '${name}' is not defined`);
}
