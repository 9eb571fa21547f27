/**
 * Python values as the Body interpreter sees them. `int` is a bigint (Python ints are unbounded), `float` a
 * number, `str` a string; containers are small classes so that list, tuple, dict and set stay distinct.
 * Dicts keep insertion order, sets CPython's where it is reproducible; both use Python equality for keys (`1`,
 * `1.0` and `True` are one key).
 */

import { BUILTIN_TYPES } from "../check/rules.ts";
import { CLASS_METHODS } from "../types/registry.ts";
import { SetTable } from "../types/set_table.ts";
import { pyFail } from "./exceptions.ts";
import { tupleKey } from "./tuple_key.ts";

export type PyValue =
  | null
  | boolean
  | bigint
  | number
  | string
  | PyComplex
  | PyList
  | PyTuple
  | PyDict
  | PySet
  | PyView
  | PyRange
  | PyIter
  | PyCallable;

export type PyCallable = PyBuiltin | PyMethod | PyScript;

/** A Python complex: two doubles, immutable. Its arithmetic, repr and parsing are in complex.ts and text/. */
export class PyComplex {
  readonly real: number;
  readonly imag: number;
  constructor(real: number, imag: number) {
    this.real = real;
    this.imag = imag;
  }
}

export class PyList {
  items: PyValue[];
  constructor(items: PyValue[] = []) {
    this.items = items;
  }
}

export class PyTuple {
  readonly items: readonly PyValue[];
  constructor(items: readonly PyValue[] = []) {
    this.items = items;
  }
}

/** A dict; `bunch` marks murano-agent's Bunch (the top level of `args`, script results): `d.key` reads `d['key']`. */
export class PyDict {
  readonly entries = new Map<string, { key: PyValue; value: PyValue }>();
  readonly bunch: boolean;
  /**
   * How many times `clear()` emptied it: CPython's `dict.clear` gives the dict a new, empty entry table, which an
   * iterator running over it then reads from its old position (eval/cursor.ts).
   */
  clears = 0;
  constructor(bunch = false) {
    this.bunch = bunch;
  }
  get(key: PyValue): PyValue | undefined {
    return this.entries.get(hashKey(key))?.value;
  }
  set(key: PyValue, value: PyValue): void {
    const k = hashKey(key);
    const old = this.entries.get(k);
    if (old) old.value = value;
    else this.entries.set(k, { key, value });
  }
  delete(key: PyValue): boolean {
    return this.entries.delete(hashKey(key));
  }
  /** `dict.clear()`. */
  clear(): void {
    this.entries.clear();
    this.clears++;
  }
}

/** A set; its entries iterate in CPython's order where that is reproducible (types/set_table.ts). */
export class PySet {
  readonly entries = new SetTable<PyValue>();
  add(value: PyValue): void {
    const k = hashKey(value);
    if (!this.entries.has(k)) this.entries.set(k, value);
  }
  has(value: PyValue): boolean {
    return this.entries.has(hashKey(value));
  }
  /** Removes `value`; whether it was there. */
  delete(value: PyValue): boolean {
    return this.entries.delete(hashKey(value));
  }
}

/** `d.keys()`, `d.values()`, `d.items()`: live views of a dict. */
export class PyView {
  readonly dict: PyDict;
  readonly kind: "keys" | "values" | "items";
  constructor(dict: PyDict, kind: "keys" | "values" | "items") {
    this.dict = dict;
    this.kind = kind;
  }
}

/** `range(start, stop, step)`: an immutable sequence of ints that is never built (`list(range(n))` builds it). */
export class PyRange {
  readonly start: bigint;
  readonly stop: bigint;
  readonly step: bigint;
  /** How many ints it holds. */
  readonly length: bigint;
  constructor(start: bigint, stop: bigint, step: bigint) {
    this.start = start;
    this.stop = stop;
    this.step = step;
    const span = step > 0n ? stop - start : start - stop;
    const by = step > 0n ? step : -step;
    this.length = span > 0n ? (span - 1n) / by + 1n : 0n;
  }
  /** The i-th int, 0 <= i < length. */
  at(i: bigint): bigint {
    return this.start + i * this.step;
  }
}

/** Most items (or characters) one list, tuple, set, dict or str built by a Body may hold: the agent's memory is shared. */
export const MAX_ITEMS = 10_000_000;

/** Throws Python's MemoryError when a Body is about to build a `what` of `size` items beyond MAX_ITEMS. */
export function checkSize(size: number | bigint, what: string): void {
  if (size > MAX_ITEMS) {
    throw pyFail(
      "MemoryError",
      `Cannot build a ${what} of ${size} ${what === "str" ? "characters" : "items"} as a Body may build at most ${MAX_ITEMS}`,
    );
  }
}

/**
 * {@link checkSize} for a str about to be built, given its length in UTF-16 code units (what JavaScript counts:
 * cheap, and never less than its characters) and a way to count its characters (code points, as CPython's `len`):
 * they are counted only when the code units exceed the bound, so a str of astral characters (an emoji is two code
 * units) may hold as many characters as any other, as the documented bound says.
 */
export function checkStrSize(units: number | bigint, characters: () => number | bigint): void {
  if (units > MAX_ITEMS) checkSize(characters(), "str");
}

/** `items.splice(start, count, ...inserts)` without spreading: a spread of 150 000+ items overflows the JS stack. */
export function spliceItems(
  items: PyValue[],
  start: number,
  count: number,
  inserts: readonly PyValue[],
): void {
  const tail = items.slice(start + count);
  items.length = start;
  for (const item of inserts) items.push(item);
  for (const item of tail) items.push(item);
}

/** A one-pass lazy iterator (`map(...)`, a generator expression). */
export class PyIter {
  readonly kind: string;
  readonly source: Iterator<PyValue>;
  constructor(kind: string, source: Iterator<PyValue>) {
    this.kind = kind;
    this.source = source;
  }
}

export class PyBuiltin {
  readonly name: string;
  constructor(name: string) {
    this.name = name;
  }
}

export class PyMethod {
  readonly self: PyValue;
  readonly name: string;
  constructor(self: PyValue, name: string) {
    this.self = self;
    this.name = name;
  }
}

/** A plan script (`deploy`) or one of its functions (`deploy.anything`: murano's FunctionRunner). */
export class PyScript {
  readonly script: string;
  readonly fn: string | null;
  constructor(script: string, fn: string | null = null) {
    this.script = script;
    this.fn = fn;
  }
}

/** Where a name is looked up: a frame, or the Body's globals. */
export interface Scope {
  lookup(name: string): PyValue;
}

/** The Python type name, as CPython's messages spell it. */
export function typeName(v: PyValue): string {
  if (v === null) return "NoneType";
  switch (typeof v) {
    case "boolean":
      return "bool";
    case "bigint":
      return "int";
    case "number":
      return "float";
    case "string":
      return "str";
  }
  if (v instanceof PyComplex) return "complex";
  if (v instanceof PyList) return "list";
  if (v instanceof PyTuple) return "tuple";
  if (v instanceof PyDict) return v.bunch ? "Bunch" : "dict";
  if (v instanceof PySet) return "set";
  if (v instanceof PyView) return `dict_${v.kind}`;
  if (v instanceof PyRange) return "range";
  if (v instanceof PyIter) return v.kind;
  if (v instanceof PyScript) return v.fn === null ? "ScriptRunner" : "FunctionRunner";
  if (v instanceof PyBuiltin) return BUILTIN_TYPES.has(v.name) ? "type" : "builtin_function_or_method";
  // `str.lower` is a method descriptor; `dict.fromkeys` (a class method) is bound to its class.
  if (v instanceof PyMethod && v.self instanceof PyBuiltin && !CLASS_METHODS.has(v.name))
    return "method_descriptor";
  return "builtin_function_or_method";
}

/** Python truthiness. */
export function truthy(v: PyValue): boolean {
  if (v === null) return false;
  switch (typeof v) {
    case "boolean":
      return v;
    case "bigint":
      return v !== 0n;
    case "number":
      return v !== 0;
    case "string":
      return v.length > 0;
  }
  if (v instanceof PyComplex) return v.real !== 0 || v.imag !== 0;
  if (v instanceof PyList || v instanceof PyTuple) return v.items.length > 0;
  if (v instanceof PyDict || v instanceof PySet) return v.entries.size > 0;
  if (v instanceof PyView) return v.dict.entries.size > 0;
  if (v instanceof PyRange) return v.length > 0n;
  return true;
}

/**
 * A string that is equal for Python-equal hashable values; throws TypeError for unhashable ones. SetTable
 * derives CPython's hash from it (`i<int>`, `f<float>`, `c<real>,<imag>`, `s<str>`, `t=…` or `t<hash>#…`): keep the
 * forms. A complex with a zero imaginary part is its real part's key (`1+0j == 1`). A tuple's key is short
 * whatever its depth (tuple_key.ts): computing it is linear in the tuple's objects.
 */
export function hashKey(v: PyValue): string {
  return v instanceof PyTuple ? tupleKey(v, isTuple, scalarKey) : scalarKey(v);
}

function isTuple(v: unknown): v is PyTuple {
  return v instanceof PyTuple;
}

/** hashKey of anything but a tuple. */
function scalarKey(v: PyValue): string {
  if (v === null) return "N";
  switch (typeof v) {
    case "boolean":
      return v ? "i1" : "i0";
    case "bigint":
      return `i${v}`;
    case "number":
      return Number.isInteger(v) ? `i${BigInt(v)}` : `f${v}`;
    case "string":
      return `s${v}`;
  }
  // `${-0}` is "0": the zeros are one key, as they are equal.
  if (v instanceof PyComplex) return v.imag === 0 ? hashKey(v.real) : `c${v.real},${v.imag}`;
  // Equal ranges hash alike (range(0) == range(3, 3)): length, first item, step.
  if (v instanceof PyRange)
    return `r${v.length},${v.length > 0n ? v.start : ""},${v.length > 1n ? v.step : ""}`;
  if (v instanceof PyList || v instanceof PyDict || v instanceof PySet || v instanceof PyView) {
    throw pyFail("TypeError", `unhashable type: '${typeName(v)}'`);
  }
  return `o${typeName(v)}:${identity(v)}`;
}

const identities = new WeakMap<object, number>();
let nextIdentity = 1;
function identity(v: object): number {
  let id = identities.get(v);
  if (id === undefined) {
    id = nextIdentity++;
    identities.set(v, id);
  }
  return id;
}

/** A number as int or float, or undefined when `v` is not numeric (bool counts as int, as in Python). */
export function numeric(v: PyValue): bigint | number | undefined {
  if (typeof v === "boolean") return v ? 1n : 0n;
  if (typeof v === "bigint" || typeof v === "number") return v;
  return undefined;
}

/** An int argument (bool counts), as CPython's `__index__` takes it. */
export function indexArg(v: PyValue): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "boolean") return v ? 1n : 0n;
  throw pyFail("TypeError", `'${typeName(v)}' object cannot be interpreted as an integer`);
}

/** Calls a Python callable (a built-in as a sort key or given to `map`). */
export type Invoke = (fn: PyValue, args: PyValue[]) => PyValue;

/** What a built-in needs from the interpreter: calling callables, and a step (yields, honours an abort). */
export interface Runtime {
  readonly invoke: Invoke;
  tick(): void;
}

/** Arguments of a built-in or method call: positional values and keyword arguments in call order. */
export interface CallArgs {
  args: PyValue[];
  keywords: Map<string, PyValue>;
}
