/**
 * Copies of an exact JSON tree (agent/json/parse.ts), made iteratively so that any depth is safe: the plain view
 * the validation and policy stages read, and the exact copy the fingerprint normalizes.
 */
import type { JsonObject, JsonValue } from "./parse.ts";

/** A JSON object as the plain view holds it: a null-prototype object, so `__proto__` is an ordinary key. */
export type PlainObject = { [key: string]: unknown };

/**
 * The plain view of an exact tree: each integer (bigint) becomes the nearest JS number (`2**53+1` → `2**53`,
 * beyond ±1.8e308 → ±Infinity); floats, strings, booleans and null are kept; each object (a Map) becomes a new
 * null-prototype object with the same keys (in JS order: integer-like keys first), each array a new array.
 * The plain view is for reading fields (validation, policies); what needs exact numbers or the key order reads
 * the exact tree. A new tree: the input is not changed. Never throws.
 */
export function toPlain(value: JsonValue): unknown {
  return mapTree(value, (scalar) => (typeof scalar === "bigint" ? Number(scalar) : scalar));
}

/** {@link toPlain} of an object: its plain view is an object. */
export function toPlainObject(value: JsonObject): PlainObject {
  return toPlain(value) as PlainObject;
}

/** A deep copy of an exact tree (bigints kept, key order kept); the input is not changed. */
export function copyJson<T extends JsonValue>(value: T): T {
  return mapTree(value, (scalar) => scalar, true) as T;
}

type Container = unknown[] | PlainObject | JsonObject;

/** Copies `root`, mapping its scalars; objects become Maps when `maps`, else null-prototype objects. */
function mapTree(root: JsonValue, scalar: (value: JsonValue) => unknown, maps = false): unknown {
  const pending: Array<[JsonValue[] | JsonObject, Container]> = [];
  const copyOf = (value: JsonValue): unknown => {
    if (value === null || typeof value !== "object") return scalar(value);
    const copy: Container = Array.isArray(value) ? [] : maps ? new Map() : Object.create(null);
    pending.push([value, copy]);
    return copy;
  };
  const top = copyOf(root);
  for (let job = pending.pop(); job !== undefined; job = pending.pop()) {
    const [source, target] = job;
    if (Array.isArray(source)) {
      const items = target as unknown[];
      for (const item of source) items.push(copyOf(item));
    } else if (target instanceof Map) {
      for (const [key, item] of source) target.set(key, copyOf(item) as JsonValue);
    } else {
      const fields = target as PlainObject;
      for (const [key, item] of source) fields[key] = copyOf(item);
    }
  }
  return top;
}
