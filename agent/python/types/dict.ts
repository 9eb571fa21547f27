/**
 * The methods of dict (registry.ts DICT; murano's Bunch is a dict and has them too) and the update rule
 * `dict(...)` shares: a mapping is merged; anything else must iterate pairs ("dictionary update sequence
 * element #0 has length 1; 2 is required"); keyword arguments come last. CPython 3.11's Objects/dictobject.c.
 */
import { collect, isIterable, iterate } from "../runtime/access.ts";
import { pyFail } from "../runtime/exceptions.ts";
import { PyDict, PyTuple, type PyValue, PyView } from "../runtime/values.ts";
import { pyRepr } from "../text/repr.ts";
import type { Arg, MethodTable } from "./args.ts";
import type { DICT } from "./registry.ts";

/** Merges a mapping or an iterable of pairs, then keywords, into `d` (`dict(...)`, `d.update(...)`). */
export function updateDict(
  d: PyDict,
  name: string,
  args: readonly PyValue[],
  keywords: ReadonlyMap<string, PyValue>,
): void {
  if (args.length > 1) throw pyFail("TypeError", `${name} expected at most 1 argument, got ${args.length}`);
  const source = args[0];
  if (source instanceof PyDict) {
    for (const e of [...source.entries.values()]) d.set(e.key, e.value);
  } else if (source !== undefined) {
    let i = 0;
    for (const pair of iterate(source)) {
      if (!isIterable(pair))
        throw pyFail("TypeError", `cannot convert dictionary update sequence element #${i} to a sequence`);
      const kv = collect(pair);
      if (kv.length !== 2) {
        throw pyFail(
          "ValueError",
          `dictionary update sequence element #${i} has length ${kv.length}; 2 is required`,
        );
      }
      d.set(kv[0] ?? null, kv[1] ?? null);
      i++;
    }
  }
  for (const [k, v] of keywords) d.set(k, v);
}

/** `dict.fromkeys(iterable, value=None)`: every key maps to the same value. */
export function fromKeys(a: readonly Arg[]): PyDict {
  const d = new PyDict();
  for (const key of iterate(a[0] ?? null)) d.set(key, a[1] ?? null);
  return d;
}

export const DICT_METHODS: MethodTable<PyDict, typeof DICT> = {
  clear: (d) => {
    d.clear();
    return null;
  },
  copy: (d) => {
    const copy = new PyDict();
    for (const e of d.entries.values()) copy.set(e.key, e.value);
    return copy;
  },
  fromkeys: (_, a) => fromKeys(a),
  // A present None is an answer (`{'a': None}.get('a', 5)` is None): only a missing key (undefined) takes the default.
  get: (d, a) => {
    const value = d.get(a[0] ?? null);
    return value === undefined ? (a[1] ?? null) : value;
  },
  items: (d) => new PyView(d, "items"),
  keys: (d) => new PyView(d, "keys"),
  pop: (d, a) => {
    const key = a[0] ?? null;
    // CPython answers an empty dict before hashing the key: `{}.pop([], 1)` is 1.
    const value = d.entries.size === 0 ? undefined : d.get(key);
    if (value === undefined) {
      if (a[1] === undefined) throw pyFail("KeyError", pyRepr(key));
      return a[1];
    }
    d.delete(key);
    return value;
  },
  popitem: (d) => {
    let last: string | undefined;
    for (const k of d.entries.keys()) last = k;
    const entry = last === undefined ? undefined : d.entries.get(last);
    if (last === undefined || entry === undefined)
      throw pyFail("KeyError", "'popitem(): dictionary is empty'");
    d.entries.delete(last);
    return new PyTuple([entry.key, entry.value]);
  },
  setdefault: (d, a) => {
    const key = a[0] ?? null;
    const value = d.get(key);
    if (value !== undefined) return value;
    d.set(key, a[1] ?? null);
    return a[1] ?? null;
  },
  update: (d, a, ctx) => {
    updateDict(
      d,
      "update",
      a.map((v) => v ?? null),
      ctx.keywords,
    );
    return null;
  },
  values: (d) => new PyView(d, "values"),
};
