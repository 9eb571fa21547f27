/**
 * The built-in functions a Body may call (rules.ts BUILTINS), with Python 3 conversions:
 * `int('3')`, `int(2.7)`, `float('1e3')`, `str(2.0)` is `'2.0'`, `len()` counts code points; `isinstance`
 * with the built-in types, `repr`, `chr`/`ord`, `bin`/`oct`/`hex`. Numeric and iteration built-ins are in
 * builtins_math.ts and builtins_iter.ts.
 */
import { collect, iterate } from "./access.ts";
import { callIterBuiltin, ITER_BUILTINS } from "./builtins_iter.ts";
import { callMathBuiltin, MATH_BUILTINS } from "./builtins_math.ts";
import { pyFail } from "./exceptions.ts";
import { formatValue } from "./format_spec.ts";
import { sortItems } from "./list_methods.ts";
import { expectArgs, updateDict } from "./methods.ts";
import { toFloat } from "./ops.ts";
import { pyAscii, pyRepr, pyStr } from "./repr.ts";
import {
  type CallArgs,
  indexArg,
  PyBuiltin,
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

function arity(name: string, args: (PyValue | undefined)[], max: number, min = 0): void {
  if (args.length > max || args.length < min) {
    const count = max === 1 ? "one argument" : `${max} arguments`;
    const expected = max === min ? `exactly ${count}` : `at most ${count}`;
    throw pyFail("TypeError", `${name}() takes ${expected} (${args.length} given)`);
  }
}

/** `int(text, base)`: Python's literal rules (sign, surrounding whitespace, `_` between digits, base prefixes). */
function parseIntLiteral(text: string, base: number): bigint {
  const fail = (): Error =>
    pyFail("ValueError", `invalid literal for int() with base ${base}: ${pyRepr(text)}`);
  const m = /^\s*([+-]?)(0[xXoObB])?([0-9a-zA-Z_]+)\s*$/u.exec(text);
  if (!m || (base !== 0 && (base < 2 || base > 36))) throw fail();
  const [, sign = "", prefix, body = ""] = m;
  let radix = base;
  if (prefix) {
    const p = { x: 16, o: 8, b: 2 }[prefix[1]?.toLowerCase() as "x" | "o" | "b"];
    if (base !== 0 && base !== p) throw fail();
    radix = p;
  } else if (base === 0) radix = /^0+$/.test(body.replace(/_/g, "")) || !body.startsWith("0") ? 10 : -1;
  if (radix < 2 || /^_|_$|__/.test(body) || (prefix === undefined && body.startsWith("_"))) throw fail();
  let n = 0n;
  for (const ch of body.replace(/_/g, "")) {
    const d = Number.parseInt(ch, 36);
    if (Number.isNaN(d) || d >= radix) throw fail();
    n = n * BigInt(radix) + BigInt(d);
  }
  return sign === "-" ? -n : n;
}

function toInt(v: PyValue, base: PyValue | undefined): bigint {
  if (base !== undefined) {
    if (typeof v !== "string") throw pyFail("TypeError", "int() can't convert non-string with explicit base");
    if (typeof base !== "bigint")
      throw pyFail("TypeError", `'${typeName(base)}' object cannot be interpreted as an integer`);
    return parseIntLiteral(v, Number(base));
  }
  if (typeof v === "bigint") return v;
  if (typeof v === "boolean") return v ? 1n : 0n;
  if (typeof v === "number") {
    if (Number.isNaN(v)) throw pyFail("ValueError", "cannot convert float NaN to integer");
    if (!Number.isFinite(v)) throw pyFail("OverflowError", "cannot convert float infinity to integer");
    return BigInt(Math.trunc(v));
  }
  if (typeof v === "string") return parseIntLiteral(v, 10);
  throw pyFail(
    "TypeError",
    `int() argument must be a string, a bytes-like object or a real number, not '${typeName(v)}'`,
  );
}

function toFloatValue(v: PyValue): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return toFloat(v);
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "string") {
    const t = v.trim();
    const special = /^([+-]?)(inf|infinity|nan)$/i.exec(t);
    if (special)
      return special[2]?.toLowerCase() === "nan" ? Number.NaN : special[1] === "-" ? -Infinity : Infinity;
    const digits = "\\d(?:_?\\d)*";
    const re = new RegExp(`^[+-]?(?:${digits}(?:\\.(?:${digits})?)?|\\.${digits})(?:[eE][+-]?${digits})?$`);
    if (!re.test(t)) throw pyFail("ValueError", `could not convert string to float: ${pyRepr(v)}`);
    return Number(t.replace(/_/g, ""));
  }
  throw pyFail("TypeError", `float() argument must be a string or a real number, not '${typeName(v)}'`);
}

function length(v: PyValue): bigint {
  if (typeof v === "string") return BigInt(Array.from(v).length);
  if (v instanceof PyList || v instanceof PyTuple) return BigInt(v.items.length);
  if (v instanceof PyDict || v instanceof PySet) return BigInt(v.entries.size);
  if (v instanceof PyView) return BigInt(v.dict.entries.size);
  if (v instanceof PyRange) {
    if (v.length > 0x7fffffffffffffffn)
      throw pyFail("OverflowError", "Python int too large to convert to C ssize_t");
    return v.length;
  }
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
  if (MATH_BUILTINS.has(name)) return callMathBuiltin(name, call, rt);
  if (ITER_BUILTINS.has(name)) return callIterBuiltin(name, call, rt);
  const invoke = rt.invoke;
  const noKeywords = (): void => {
    const [first] = call.keywords.keys();
    if (first !== undefined) throw pyFail("TypeError", `${name}() takes no keyword arguments`);
  };
  const a = call.args;
  switch (name) {
    case "int": {
      const args = expectArgs(name, call, ["x", "base"]);
      arity(name, args, 2);
      return args[0] === undefined ? 0n : toInt(args[0], args[1]);
    }
    case "float":
      noKeywords();
      arity(name, a, 1);
      return a[0] === undefined ? 0 : toFloatValue(a[0]);
    case "str":
      noKeywords();
      arity(name, a, 1);
      return a[0] === undefined ? "" : pyStr(a[0]);
    case "bool":
      noKeywords();
      arity(name, a, 1);
      return a[0] === undefined ? false : truthy(a[0]);
    case "len":
      noKeywords();
      arity(name, a, 1, 1);
      return length(a[0] ?? null);
    case "list":
    case "tuple":
    case "set": {
      noKeywords();
      arity(name, a, 1);
      const items = a[0] === undefined ? [] : collect(a[0]);
      if (name === "list") return new PyList(items);
      if (name === "tuple") return new PyTuple(items);
      const set = new PySet();
      for (const item of items) set.add(item);
      return set;
    }
    case "dict": {
      arity(name, a, 1);
      const d = new PyDict();
      updateDict(d, a[0], call.keywords);
      return d;
    }
    case "sorted": {
      arity(name, a, 1, 1);
      const options = expectArgs(name, { args: [], keywords: call.keywords }, ["key", "reverse"]);
      const items = collect(a[0] ?? null);
      sortItems(items, options[0] ?? null, truthy(options[1] ?? false), invoke);
      return new PyList(items);
    }
    case "map": {
      noKeywords();
      if (a.length < 2) throw pyFail("TypeError", "map() must have at least two arguments.");
      const [fn = null, ...sources] = a;
      const iterators = sources.map((s) => iterate(s));
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
      const spec = a[1] ?? "";
      if (typeof spec !== "string")
        throw pyFail("TypeError", `format() argument 2 must be str, not ${typeName(spec)}`);
      return formatValue(a[0] ?? null, spec);
    }
  }
  throw pyFail("NameError", `name '${name}' is not defined`);
}
