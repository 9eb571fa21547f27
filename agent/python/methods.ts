/**
 * Methods of dict (and murano's Bunch) and tuple, and the dispatch of a method call to its value's type.
 * Which names exist per type is what `getAttr` offers; rules.ts lists the union the checker accepts.
 */
import { collect, iterate } from "./access.ts";
import { pyEquals } from "./compare.ts";
import { pyFail } from "./exceptions.ts";
import { listMethod, setMethod } from "./list_methods.ts";
import { rangeMethod } from "./range.ts";
import { pyRepr } from "./repr.ts";
import { callStrMethod, STR_METHODS } from "./str_methods.ts";
import {
  type CallArgs,
  type Invoke,
  PyBuiltin,
  PyDict,
  PyList,
  PyRange,
  PySet,
  PyTuple,
  type PyValue,
  PyView,
  typeName,
} from "./values.ts";

const LIST_METHODS: ReadonlySet<string> = new Set([
  "append",
  "extend",
  "insert",
  "pop",
  "remove",
  "index",
  "count",
  "copy",
  "reverse",
  "sort",
  "clear",
]);
const DICT_METHODS: ReadonlySet<string> = new Set([
  "items",
  "keys",
  "values",
  "get",
  "pop",
  "update",
  "setdefault",
  "copy",
  "clear",
  "popitem",
  "fromkeys",
]);
const SET_METHODS: ReadonlySet<string> = new Set([
  "add",
  "discard",
  "remove",
  "pop",
  "update",
  "copy",
  "clear",
]);
/** `dict.fromkeys(...)`: the one class method a Body may call on a built-in type. */
const DICT_CLASS_METHODS: ReadonlySet<string> = new Set(["fromkeys"]);
const TUPLE_METHODS: ReadonlySet<string> = new Set(["index", "count"]);

/** Every method a Body may call (`x.name(...)`): what the checker accepts is exactly what the runtime has. */
export const METHODS: ReadonlySet<string> = new Set([
  ...STR_METHODS,
  ...LIST_METHODS,
  ...DICT_METHODS,
  ...SET_METHODS,
  ...DICT_CLASS_METHODS,
  ...TUPLE_METHODS,
]);
const NONE: ReadonlySet<string> = new Set();

/** The method names a value has. */
export function methodsOf(v: PyValue): ReadonlySet<string> {
  if (typeof v === "string") return STR_METHODS;
  if (v instanceof PyList) return LIST_METHODS;
  if (v instanceof PyDict) return DICT_METHODS;
  if (v instanceof PySet) return SET_METHODS;
  if (v instanceof PyTuple || v instanceof PyRange) return TUPLE_METHODS;
  if (v instanceof PyBuiltin && v.name === "dict") return DICT_CLASS_METHODS;
  if (v instanceof PyBuiltin && v.name === "str") return STR_METHODS; // `key=str.lower`
  return NONE;
}

/** Positional arguments of a method, keywords allowed only for the given parameter names (in order). */
export function expectArgs(
  name: string,
  call: CallArgs,
  keywordNames: readonly string[],
): (PyValue | undefined)[] {
  const out: (PyValue | undefined)[] = [...call.args];
  for (const [key, value] of call.keywords) {
    const at = keywordNames.indexOf(key);
    if (at < 0) throw pyFail("TypeError", `${name}() takes no keyword argument '${key}'`);
    if (out[at] !== undefined)
      throw pyFail("TypeError", `argument for ${name}() given by name ('${key}') and position`);
    out[at] = value;
  }
  return out;
}

export function need(name: string, a: (PyValue | undefined)[], min: number, max: number): void {
  const n = a.length;
  if (n < min || n > max || a.slice(0, min).includes(undefined)) {
    throw pyFail(
      "TypeError",
      `${name}() takes ${min === max ? `exactly ${min}` : `at most ${max}`} argument${max === 1 ? "" : "s"} (${n} given)`,
    );
  }
}

/** Updates a dict from a mapping or an iterable of pairs, then from keyword arguments (dict() and dict.update). */
export function updateDict(
  d: PyDict,
  source: PyValue | undefined,
  keywords: Map<string, PyValue>,
): void {
  if (source instanceof PyDict) for (const e of source.entries.values()) d.set(e.key, e.value);
  else if (source !== undefined) {
    let i = 0;
    for (const pair of iterate(source)) {
      const kv =
        pair instanceof PyList || pair instanceof PyTuple || typeof pair === "string"
          ? collect(pair)
          : null;
      if (kv === null)
        throw pyFail("TypeError", `cannot convert dictionary update sequence element #${i} to a sequence`);
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

/** A method without parameters (`d.clear()`): CPython's message when it is given some. */
export function noArguments(label: string, a: (PyValue | undefined)[]): void {
  if (a.length > 0) throw pyFail("TypeError", `${label}() takes no arguments (${a.length} given)`);
}

/** `dict.fromkeys(iterable, value=None)`: every key maps to the same value. */
function fromKeys(call: CallArgs): PyDict {
  const a = call.args;
  if (call.keywords.size > 0) throw pyFail("TypeError", "dict.fromkeys() takes no keyword arguments");
  if (a.length === 0 || a.length > 2) {
    const bound = a.length === 0 ? "least 1 argument" : "most 2 arguments";
    throw pyFail("TypeError", `fromkeys expected at ${bound}, got ${a.length}`);
  }
  const d = new PyDict();
  for (const key of collect(a[0] ?? null)) d.set(key, a[1] ?? null);
  return d;
}

export function indexOf(items: readonly PyValue[], x: PyValue): number {
  return items.findIndex((item) => pyEquals(item, x));
}

/** `self.name(*args, **keywords)` */
export function callMethod(
  self: PyValue,
  name: string,
  call: CallArgs,
  invoke: Invoke,
): PyValue {
  if (typeof self === "string") return callStrMethod(self, name, call);
  if (name === "fromkeys" && (self instanceof PyDict || self instanceof PyBuiltin)) return fromKeys(call);
  if (self instanceof PyBuiltin && self.name === "str") {
    const [text, ...rest] = call.args;
    if (text === undefined) throw pyFail("TypeError", `unbound method str.${name}() needs an argument`);
    if (typeof text !== "string") {
      throw pyFail(
        "TypeError",
        `descriptor '${name}' for 'str' objects doesn't apply to a '${typeName(text)}' object`,
      );
    }
    return callStrMethod(text, name, { args: rest, keywords: call.keywords });
  }
  const label = `${typeName(self)}.${name}`;
  const keywordsTaken = self instanceof PyDict && name === "update";
  const a = keywordsTaken
    ? [...call.args]
    : expectArgs(label, call, name === "sort" ? ["key", "reverse"] : []);
  if (self instanceof PyList || self instanceof PyTuple) {
    const items = self.items;
    switch (name) {
      case "index": {
        need(name, a, 1, 3);
        const at = indexOf(items, a[0] ?? null);
        if (at < 0)
          throw pyFail(
            "ValueError",
            self instanceof PyList
              ? `${pyRepr(a[0] ?? null)} is not in list`
              : "tuple.index(x): x not in tuple",
          );
        return BigInt(at);
      }
      case "count":
        need(name, a, 1, 1);
        return BigInt(items.filter((item) => pyEquals(item, a[0] ?? null)).length);
    }
  }
  if (self instanceof PyRange) return rangeMethod(self, name, a);
  if (self instanceof PyList) return listMethod(self, name, a, invoke);
  if (self instanceof PyDict) {
    switch (name) {
      case "items":
      case "keys":
      case "values":
        need(name, a, 0, 0);
        return new PyView(self, name);
      case "get":
        need(name, a, 1, 2);
        return self.get(a[0] ?? null) ?? a[1] ?? null;
      case "pop": {
        need(name, a, 1, 2);
        const value = self.get(a[0] ?? null);
        if (value === undefined) {
          if (a[1] === undefined) throw pyFail("KeyError", pyRepr(a[0] ?? null));
          return a[1];
        }
        self.delete(a[0] ?? null);
        return value;
      }
      case "setdefault": {
        need(name, a, 1, 2);
        const value = self.get(a[0] ?? null);
        if (value !== undefined) return value;
        self.set(a[0] ?? null, a[1] ?? null);
        return a[1] ?? null;
      }
      case "update":
        need(name, a, 0, 1);
        updateDict(self, a[0], call.keywords);
        return null;
      case "copy": {
        noArguments(label, a);
        const copy = new PyDict();
        for (const e of self.entries.values()) copy.set(e.key, e.value);
        return copy;
      }
      case "clear":
        noArguments(label, a);
        self.entries.clear();
        return null;
      case "popitem": {
        noArguments(label, a);
        const last = [...self.entries.keys()].pop();
        const entry = last === undefined ? undefined : self.entries.get(last);
        if (last === undefined || entry === undefined)
          throw pyFail("KeyError", "'popitem(): dictionary is empty'");
        self.entries.delete(last);
        return new PyTuple([entry.key, entry.value]);
      }
    }
  }
  if (self instanceof PySet) return setMethod(self, name, a);
  throw pyFail("AttributeError", `'${typeName(self)}' object has no attribute '${name}'`);
}
