/**
 * Reading and writing parts of values: attributes (murano's Bunch turns `args.x` into `args['x']`),
 * subscripts and slices, and iteration, with CPython's error messages.
 */
import { iterCursor } from "../eval/cursor.ts";
import { pyRepr } from "../text/repr.ts";
import { dataAttribute } from "../types/attributes.ts";
import { METHOD_TABLES, methodNames, type TypeKey } from "../types/registry.ts";
import { hasAstral } from "../types/text.ts";
import { pyFail } from "./exceptions.ts";
import { rangeItem, rangeSlice } from "./range.ts";
import { indexSized, ssize } from "./ssize.ts";
import {
  checkSize,
  MAX_ITEMS,
  PyBuiltin,
  PyComplex,
  PyDict,
  PyIter,
  PyList,
  PyMethod,
  PyRange,
  PyScript,
  PySet,
  PyTuple,
  type PyValue,
  PyView,
  spliceItems,
  typeName,
} from "./values.ts";

/** The registry row of a value's type (types/registry.ts): a bool has int's methods, a Bunch dict's. */
export function typeKey(v: PyValue): TypeKey | undefined {
  switch (typeof v) {
    case "string":
      return "str";
    case "bigint":
    case "boolean":
      return "int";
    case "number":
      return "float";
  }
  if (v instanceof PyComplex) return "complex";
  if (v instanceof PyList) return "list";
  if (v instanceof PyDict) return "dict";
  if (v instanceof PyTuple) return "tuple";
  if (v instanceof PySet) return "set";
  if (v instanceof PyRange) return "range";
  return undefined;
}

/** Whether `obj.name` is a method (of its type, or of the built-in type `obj` names: `str.lower`). */
function hasMethod(obj: PyValue, name: string): boolean {
  let type = typeKey(obj);
  if (obj instanceof PyBuiltin) {
    const named = obj.name === "bool" ? "int" : obj.name;
    if (Object.hasOwn(METHOD_TABLES, named)) type = named as TypeKey;
  }
  return type !== undefined && methodNames(type).has(name);
}

/** `obj.name` */
export function getAttr(obj: PyValue, name: string): PyValue {
  if (hasMethod(obj, name)) return new PyMethod(obj, name);
  const data = dataAttribute(obj, name);
  if (data !== undefined) return data;
  if (obj instanceof PyDict && obj.bunch) {
    const value = obj.get(name);
    if (value === undefined) throw pyFail("KeyError", pyRepr(name));
    return value;
  }
  if (obj instanceof PyScript && obj.fn === null) return new PyScript(obj.script, name);
  // A built-in class is a type object (`type object 'int'`); a built-in function an object of its type.
  const type = typeName(obj);
  const what = obj instanceof PyBuiltin && type === "type" ? `type object '${obj.name}'` : `'${type}' object`;
  throw pyFail("AttributeError", `${what} has no attribute '${name}'`);
}

/** `obj.name = value`: only a Bunch takes new attributes (as keys). */
export function setAttr(obj: PyValue, name: string, value: PyValue): void {
  if (obj instanceof PyDict && obj.bunch) {
    obj.set(name, value);
    return;
  }
  // A complex's parts are member descriptors (CPython: "readonly attribute"); an int's and a float's getsets.
  if (obj instanceof PyComplex && dataAttribute(obj, name) !== undefined)
    throw pyFail("AttributeError", "readonly attribute");
  if (dataAttribute(obj, name) !== undefined)
    throw pyFail("AttributeError", `attribute '${name}' of '${typeName(obj)}' objects is not writable`);
  const problem = hasMethod(obj, name) ? `attribute '${name}' is read-only` : `has no attribute '${name}'`;
  throw pyFail("AttributeError", `'${typeName(obj)}' object ${problem}`);
}

/** An int usable as an index (bool counts), or undefined. */
export function asIndex(v: PyValue): bigint | undefined {
  if (typeof v === "bigint") return v;
  if (typeof v === "boolean") return v ? 1n : 0n;
  return undefined;
}

/** Python's slice adjustment: the indices a `[lower:upper:step]` selects in a sequence of `length`. */
export function sliceIndices(length: number, lower: PyValue, upper: PyValue, step: PyValue): number[] {
  const [start, stop, st] = sliceBounds(length, lower, upper, step);
  const out: number[] = [];
  for (let i = start; st > 0 ? i < stop : i > stop; i += st) out.push(i);
  return out;
}

/**
 * `PySlice_Unpack` + `PySlice_AdjustIndices`: [start, stop, step, count] of `[lower:upper:step]` over a
 * sequence of `length`, without listing the indices.
 */
export function sliceBounds(
  length: number,
  lower: PyValue,
  upper: PyValue,
  step: PyValue,
): [number, number, number, number] {
  const bound = (v: PyValue): number | null => {
    if (v === null) return null;
    const i = asIndex(v);
    if (i === undefined)
      throw pyFail("TypeError", "slice indices must be integers or None or have an __index__ method");
    return Number(i);
  };
  const st = bound(step) ?? 1;
  if (st === 0) throw pyFail("ValueError", "slice step cannot be zero");
  const clamp = (v: number | null, dflt: number): number => {
    if (v === null) return dflt;
    if (v < 0) return Math.max(v + length, st < 0 ? -1 : 0);
    return Math.min(v, st < 0 ? length - 1 : length);
  };
  const start = clamp(bound(lower), st < 0 ? length - 1 : 0);
  const stop = clamp(bound(upper), st < 0 ? -1 : length);
  const count =
    st > 0
      ? stop > start
        ? Math.ceil((stop - start) / st)
        : 0
      : start > stop
        ? Math.ceil((start - stop) / -st)
        : 0;
  return [start, stop, st, count];
}

/** `s[lower:upper:step]` by code points; a string without astral characters is sliced in place. */
function strSlice(s: string, key: SliceKey): string {
  const astral = hasAstral(s);
  const cs = astral ? Array.from(s) : null;
  const [start, stop, st, count] = sliceBounds(cs ? cs.length : s.length, key.lower, key.upper, key.step);
  if (st === 1 && !cs) return count > 0 ? s.slice(start, stop) : "";
  let out = "";
  for (let k = 0, i = start; k < count; k++, i += st) out += cs ? cs[i] : s[i];
  return out;
}

/** A sequence's items `[lower:upper:step]`. */
function itemsSlice(items: readonly PyValue[], key: SliceKey): PyValue[] {
  const [start, stop, st, count] = sliceBounds(items.length, key.lower, key.upper, key.step);
  if (st === 1) return count > 0 ? items.slice(start, stop) : [];
  const out: PyValue[] = new Array(count);
  for (let k = 0, i = start; k < count; k++, i += st) out[k] = items[i] ?? null;
  return out;
}

/** The key of `obj[lower:upper:step]` (never a value a Body can hold). */
export class SliceKey {
  readonly lower: PyValue;
  readonly upper: PyValue;
  readonly step: PyValue;
  constructor(lower: PyValue, upper: PyValue, step: PyValue) {
    this.lower = lower;
    this.upper = upper;
    this.step = step;
  }
}

function sequenceIndex(obj: PyList | PyTuple | string, key: PyValue, length: number): number {
  const i = asIndex(key);
  const kind = typeName(obj);
  if (i === undefined) {
    const message =
      typeof obj === "string"
        ? `string indices must be integers, not '${typeName(key)}'`
        : `${kind} indices must be integers or slices, not ${typeName(key)}`;
    throw pyFail("TypeError", message);
  }
  const n = indexSized(i, "IndexError") + (i < 0n ? BigInt(length) : 0n);
  if (n < 0n || n >= BigInt(length))
    throw pyFail("IndexError", `${kind === "str" ? "string" : kind} index out of range`);
  return Number(n);
}

/** `obj[key]` or `obj[lower:upper:step]` */
export function getItem(obj: PyValue, key: PyValue | SliceKey): PyValue {
  const slice = isSlice(key) ? key : null;
  if (typeof obj === "string") {
    if (slice) return strSlice(obj, slice);
    if (!hasAstral(obj)) return obj[sequenceIndex(obj, key as PyValue, obj.length)] ?? "";
    const chars = Array.from(obj);
    return chars[sequenceIndex(obj, key as PyValue, chars.length)] ?? "";
  }
  if (obj instanceof PyList || obj instanceof PyTuple) {
    if (slice) {
      const items = itemsSlice(obj.items, slice);
      return obj instanceof PyList ? new PyList(items) : new PyTuple(items);
    }
    return obj.items[sequenceIndex(obj, key as PyValue, obj.items.length)] ?? null;
  }
  if (obj instanceof PyRange)
    return slice ? rangeSlice(obj, slice.lower, slice.upper, slice.step) : rangeItem(obj, key as PyValue);
  if (obj instanceof PyDict) {
    if (slice) throw pyFail("TypeError", "unhashable type: 'slice'");
    const value = obj.get(key as PyValue);
    if (value === undefined) throw pyFail("KeyError", pyRepr(key as PyValue));
    return value;
  }
  if (obj instanceof PyBuiltin && typeName(obj) === "type")
    throw pyFail("TypeError", `type '${obj.name}' is not subscriptable`);
  throw pyFail("TypeError", `'${typeName(obj)}' object is not subscriptable`);
}

/** `obj[key] = value` */
export function setItem(obj: PyValue, key: PyValue | SliceKey, value: PyValue): void {
  if (obj instanceof PyDict) {
    // A slice is a dict key like any other in CPython 3.11, and slices are unhashable there (3.12 changed that).
    if (isSlice(key)) throw pyFail("TypeError", "unhashable type: 'slice'");
    obj.set(key, value);
    return;
  }
  if (obj instanceof PyList) {
    if (isSlice(key)) {
      // CPython's list_ass_slice: the value becomes a sequence only once the target is known to be a list.
      const simple = key.step === null || key.step === 1n;
      const items = replacementItems(value, simple);
      const indices = sliceIndices(obj.items.length, key.lower, key.upper, key.step);
      if (simple) {
        const length = obj.items.length;
        const start = sliceIndices(length, key.lower, null, null)[0] ?? length;
        const stop = key.upper === null ? length : sliceIndices(length, null, key.upper, null).length;
        spliceItems(obj.items, start, Math.max(0, stop - start), items);
        return;
      }
      if (items.length !== indices.length) {
        throw pyFail(
          "ValueError",
          `attempt to assign sequence of size ${items.length} to extended slice of size ${indices.length}`,
        );
      }
      indices.forEach((i, k) => {
        obj.items[i] = items[k] ?? null;
      });
      return;
    }
    const i = asIndex(key);
    if (i === undefined)
      throw pyFail("TypeError", `list indices must be integers or slices, not ${typeName(key)}`);
    const n = indexSized(i, "IndexError") + (i < 0n ? BigInt(obj.items.length) : 0n);
    if (n < 0n || n >= BigInt(obj.items.length))
      throw pyFail("IndexError", "list assignment index out of range");
    obj.items[Number(n)] = value;
    return;
  }
  throw pyFail("TypeError", `'${typeName(obj)}' object does not support item assignment`);
}

/** The items a slice assignment puts in, with CPython's TypeError when the value is not iterable. */
function replacementItems(value: PyValue, simple: boolean): PyValue[] {
  if (!isIterable(value))
    throw pyFail(
      "TypeError",
      simple ? "can only assign an iterable" : "must assign iterable to extended slice",
    );
  return collect(value);
}

function isSlice(key: PyValue | SliceKey): key is SliceKey {
  return key instanceof SliceKey;
}

/** Whether `for` can iterate the value. */
export function isIterable(v: PyValue): boolean {
  return (
    typeof v === "string" ||
    v instanceof PyList ||
    v instanceof PyTuple ||
    v instanceof PyDict ||
    v instanceof PySet ||
    v instanceof PyView ||
    v instanceof PyRange ||
    v instanceof PyIter
  );
}

/** Iterates a value as Python's `for` does: cursor.ts has the rules (lists read live, dicts and sets checked at every step). */
export function* iterate(v: PyValue): Generator<PyValue> {
  const next = iterCursor(v);
  for (let item = next(); item !== undefined; item = next()) yield item;
}

/** All items of an iterable, in order; at most MAX_ITEMS of them (a MemoryError beyond). */
export function collect(v: PyValue): PyValue[] {
  if (v instanceof PyList || v instanceof PyTuple) return [...v.items];
  if (v instanceof PyRange) {
    // CPython sizes the list by the range's length first (its length hint: PyLong_AsSsize_t).
    checkSize(ssize(v.length), "list");
    return Array.from({ length: Number(v.length) }, (_, i) => v.at(BigInt(i)));
  }
  const out: PyValue[] = [];
  const next = iterCursor(v);
  for (let item = next(); item !== undefined; item = next()) {
    if (out.length >= MAX_ITEMS) checkSize(out.length + 1, "list");
    out.push(item);
  }
  return out;
}
