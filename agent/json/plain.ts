/**
 * Copies of an exact JSON tree (agent/json/parse.ts), made iteratively so that any depth is safe: the plain view
 * the validation and policy stages read, and the exact copy the fingerprint normalizes.
 */
import type { JsonObject, JsonValue } from "./parse.ts";

/**
 * The plain view of an exact tree: each integer (bigint) becomes the nearest JS number (`2**53+1` → `2**53`,
 * beyond ±1.8e308 → ±Infinity); floats, strings, booleans and null are kept; objects are new null-prototype
 * objects with the same keys, arrays new arrays. A new tree: the input is not changed. Never throws.
 */
export function toPlain(value: JsonValue): unknown {
  return mapTree(value, (scalar) => (typeof scalar === "bigint" ? Number(scalar) : scalar));
}

/** A deep copy of an exact tree (bigints kept), with null-prototype objects; the input is not changed. */
export function copyJson<T extends JsonValue>(value: T): T {
  return mapTree(value, (scalar) => scalar) as T;
}

type Container = unknown[] | Record<string, unknown>;

function mapTree(root: JsonValue, scalar: (value: JsonValue) => unknown): unknown {
  const copyOf = (value: JsonValue, pending: Array<[JsonValue[] | JsonObject, Container]>): unknown => {
    if (value === null || typeof value !== "object") return scalar(value);
    const copy: Container = Array.isArray(value) ? [] : Object.create(null);
    pending.push([value, copy]);
    return copy;
  };
  const pending: Array<[JsonValue[] | JsonObject, Container]> = [];
  const top = copyOf(root, pending);
  for (let job = pending.pop(); job !== undefined; job = pending.pop()) {
    const [source, target] = job;
    if (Array.isArray(source)) {
      const items = target as unknown[];
      for (const item of source) items.push(copyOf(item, pending));
    } else {
      const fields = target as Record<string, unknown>;
      for (const key of Object.keys(source)) fields[key] = copyOf(source[key] as JsonValue, pending);
    }
  }
  return top;
}
