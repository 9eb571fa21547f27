/**
 * The built-in functions a Body may call (rules.ts BUILTINS), with Python 3 conversions: `int()` and `float()`
 * (convert.ts), `complex()` (complex_new.ts), `str(2.0)` is `'2.0'`, `len()` counts code points; `isinstance` with the built-in types, `repr`,
 * `chr`/`ord`, `bin`/`oct`/`hex`. Numeric and iteration built-ins are in builtins_math.ts and builtins_iter.ts.
 */

import { formatValue } from "../text/format_spec.ts";
import { intDecimal, pyAscii, pyRepr, pyStr } from "../text/repr.ts";
import { bindArgs, cIntArg, strArg } from "../types/args.ts";
import { updateDict } from "../types/dict.ts";
import { LIST } from "../types/registry.ts";
import { toSet } from "../types/set.ts";
import { sortItems } from "../types/sort.ts";
import { collect, isIterable, iterate } from "./access.ts";
import { callIterBuiltin, ITER_BUILTINS } from "./builtins_iter.ts";
import { callMathBuiltin, MATH_BUILTINS } from "./builtins_math.ts";
import { complexCall } from "./complex_new.ts";
import { floatCall, intCall } from "./convert.ts";
import { pyFail } from "./exceptions.ts";
import { ssize } from "./ssize.ts";
import {
  type CallArgs,
  indexArg,
  PyBuiltin,
  PyComplex,
  PyDict,
  PyIter,
  PyList,
  PyRange,
  PySet,
  PyTuple,
  type PyValue,
  PyView,
  type Runtime,
  truthy,
  typeName,
} from "./values.ts";

/** `list(x)`, `tuple(x)`, `set(x)`: "list() takes no keyword arguments", "list expected at most 1 argument, got 2". */
function container(name: "list" | "tuple" | "set", call: CallArgs): PyValue {
  if (call.keywords.size > 0) throw pyFail("TypeError", `${name}() takes no keyword arguments`);
  if (call.args.length > 1)
    throw pyFail("TypeError", `${name} expected at most 1 argument, got ${call.args.length}`);
  if (name === "set") return call.args[0] === undefined ? new PySet() : toSet(call.args[0]);
  const items = call.args[0] === undefined ? [] : collect(call.args[0]);
  return name === "list" ? new PyList(items) : new PyTuple(items);
}

/** `str(object='')`; `str(bytes, encoding, errors)` decodes, and a Body has no bytes. */
function toStr(call: CallArgs): string {
  const signature = {
    kind: "keywords",
    names: ["object", "encoding", "errors"],
    positional: 3,
    required: 0,
  } as const;
  const [object, encoding, errors] = bindArgs("str", "str", signature, call);
  if (encoding === undefined && errors === undefined) return object === undefined ? "" : pyStr(object);
  if (encoding !== undefined) strArg(encoding, "str() argument 'encoding' must be str", true);
  if (errors !== undefined) strArg(errors, "str() argument 'errors' must be str", true);
  const value = object === undefined ? "" : object;
  if (typeof value === "string") throw pyFail("TypeError", "decoding str is not supported");
  throw pyFail("TypeError", `decoding to str: need a bytes-like object, ${typeName(value)} found`);
}

/** `sorted(iterable, /, *, key=None, reverse=False)`: the keywords are list.sort's. */
function sorted(call: CallArgs, invoke: Runtime["invoke"]): PyList {
  if (call.args.length !== 1)
    throw pyFail("TypeError", `sorted expected 1 argument, got ${call.args.length}`);
  const items = collect(call.args[0] ?? null);
  const [key = null, reverse] = bindArgs("list", "sort", LIST.sort, { args: [], keywords: call.keywords });
  sortItems(items, key, reverse === undefined ? false : cIntArg(reverse) !== 0, invoke);
  return new PyList(items);
}

function arity(name: string, args: (PyValue | undefined)[], max: number, min = 0): void {
  if (args.length > max || args.length < min) {
    const count = max === 1 ? "one argument" : `${max} arguments`;
    const expected = max === min ? `exactly ${count}` : `at most ${count}`;
    throw pyFail("TypeError", `${name}() takes ${expected} (${args.length} given)`);
  }
}

function length(v: PyValue): bigint {
  if (typeof v === "string") return BigInt(Array.from(v).length);
  if (v instanceof PyList || v instanceof PyTuple) return BigInt(v.items.length);
  if (v instanceof PyDict || v instanceof PySet) return BigInt(v.entries.size);
  if (v instanceof PyView) return BigInt(v.dict.entries.size);
  if (v instanceof PyRange) return ssize(v.length);
  throw pyFail("TypeError", `object of type '${typeName(v)}' has no len()`);
}

/** Whether `v` is an instance of the built-in class `cls` (bool is an int; murano's Bunch is a dict). */
function isInstance(v: PyValue, cls: PyValue): boolean {
  if (cls instanceof PyTuple) return cls.items.some((c) => isInstance(v, c));
  if (!(cls instanceof PyBuiltin) || typeName(cls) !== "type")
    throw pyFail("TypeError", "isinstance() arg 2 must be a type, a tuple of types, or a union");
  switch (cls.name) {
    case "int":
      return typeof v === "bigint" || typeof v === "boolean";
    case "bool":
      return typeof v === "boolean";
    case "float":
      return typeof v === "number";
    case "complex":
      return v instanceof PyComplex;
    case "str":
      return typeof v === "string";
    case "list":
      return v instanceof PyList;
    case "tuple":
      return v instanceof PyTuple;
    case "dict":
      return v instanceof PyDict;
    case "set":
      return v instanceof PySet;
    case "range":
      return v instanceof PyRange;
  }
  return v instanceof PyIter && v.kind === cls.name;
}

/** `bin()`, `oct()`, `hex()`: `-0x1f`. */
function radix(name: string, v: PyValue): string {
  const i = indexArg(v);
  const base = name === "bin" ? 2 : name === "oct" ? 8 : 16;
  const digits = (i < 0n ? -i : i).toString(base);
  return `${i < 0n ? "-" : ""}0${name === "hex" ? "x" : name[0]}${digits}`;
}

function oneArgument(name: string, call: CallArgs): PyValue {
  if (call.keywords.size > 0) throw pyFail("TypeError", `${name}() takes no keyword arguments`);
  if (call.args.length !== 1)
    throw pyFail("TypeError", `${name}() takes exactly one argument (${call.args.length} given)`);
  return call.args[0] ?? null;
}

/** Calls the built-in `name`. */
export function callBuiltin(name: string, call: CallArgs, rt: Runtime): PyValue {
  // The common shape, one positional argument: `str(i)` and `len(x)` need no binding and no closure.
  if (call.args.length === 1 && call.keywords.size === 0) {
    const x = call.args[0] ?? null;
    if (name === "str") return typeof x === "bigint" ? intDecimal(x) : pyStr(x);
    if (name === "len") return length(x);
  }
  if (MATH_BUILTINS.has(name)) return callMathBuiltin(name, call, rt);
  if (ITER_BUILTINS.has(name)) return callIterBuiltin(name, call, rt);
  const invoke = rt.invoke;
  const noKeywords = (): void => {
    const [first] = call.keywords.keys();
    if (first !== undefined) throw pyFail("TypeError", `${name}() takes no keyword arguments`);
  };
  const a = call.args;
  switch (name) {
    case "int":
      return intCall(call);
    case "float":
      return floatCall(call);
    case "complex":
      return complexCall(call);
    case "str":
      return toStr(call);
    case "bool":
      noKeywords();
      if (a.length > 1) throw pyFail("TypeError", `bool expected at most 1 argument, got ${a.length}`);
      return a[0] === undefined ? false : truthy(a[0]);
    case "len":
      noKeywords();
      arity(name, a, 1, 1);
      return length(a[0] ?? null);
    case "list":
    case "tuple":
    case "set":
      return container(name, call);
    case "dict": {
      const d = new PyDict();
      updateDict(d, "dict", a, call.keywords);
      return d;
    }
    case "sorted":
      return sorted(call, invoke);
    case "map": {
      noKeywords();
      if (a.length < 2) throw pyFail("TypeError", "map() must have at least two arguments.");
      const [fn = null, ...sources] = a;
      const iterators = sources.map((s) => {
        if (!isIterable(s)) throw pyFail("TypeError", `'${typeName(s)}' object is not iterable`);
        return iterate(s);
      });
      function* mapped(): Generator<PyValue> {
        for (;;) {
          const values: PyValue[] = [];
          for (const it of iterators) {
            const next = it.next();
            if (next.done) return;
            values.push(next.value);
          }
          yield invoke(fn, values);
        }
      }
      return new PyIter("map", mapped());
    }
    case "isinstance":
      noKeywords();
      if (a.length !== 2) throw pyFail("TypeError", `isinstance expected 2 arguments, got ${a.length}`);
      return isInstance(a[0] ?? null, a[1] ?? null);
    case "repr":
      return pyRepr(oneArgument(name, call));
    case "ascii":
      return pyAscii(oneArgument(name, call));
    case "bin":
    case "oct":
    case "hex":
      return radix(name, oneArgument(name, call));
    case "chr": {
      const i = indexArg(oneArgument(name, call));
      if (i > 0x7fffffffn || i < -0x80000000n)
        throw pyFail("OverflowError", "Python int too large to convert to C int");
      if (i < 0n || i > 0x10ffffn) throw pyFail("ValueError", "chr() arg not in range(0x110000)");
      return String.fromCodePoint(Number(i));
    }
    case "ord": {
      const c = oneArgument(name, call);
      if (typeof c !== "string")
        throw pyFail("TypeError", `ord() expected string of length 1, but ${typeName(c)} found`);
      const chars = Array.from(c);
      if (chars.length !== 1)
        throw pyFail("TypeError", `ord() expected a character, but string of length ${chars.length} found`);
      return BigInt(c.codePointAt(0) ?? 0);
    }
    case "format": {
      noKeywords();
      if (a.length === 0 || a.length > 2)
        throw pyFail(
          "TypeError",
          `format expected at ${a.length ? "most 2" : "least 1"} argument${a.length ? "s" : ""}, got ${a.length}`,
        );
      const spec = a[1] === undefined ? "" : strArg(a[1], "format() argument 2 must be str", true);
      return formatValue(a[0] ?? null, spec);
    }
  }
  throw pyFail("NameError", `name '${name}' is not defined`);
}
