/**
 * The text of an exact JSON tree (agent/json/parse.ts), iteratively: any depth is safe. Two spellings:
 * the canonical text the fingerprint hashes (SPEC 4) and the plain JSON text `idem send` publishes, which
 * reads back as the same tree (numbers keep their JSON form, objects their key order).
 */
import { floatRepr } from "./float_repr.ts";
import type { JsonObject, JsonValue } from "./parse.ts";

type Frame = { items: JsonValue[]; next: number } | { object: JsonObject; keys: string[]; next: number };

interface WriteOptions {
  /** Object keys sorted by UTF-16 code units (RFC 8785 3.2.3), else in the tree's order. */
  sortKeys: boolean;
  /** The text of a float. */
  float: (x: number) => string;
}

/**
 * `value` as canonical text (SPEC 4): RFC 8785 (JCS) except for numbers and lone surrogates, which keep what
 * Python's `json.loads` made of them. No whitespace; object keys sorted by UTF-16 code units; strings escaped as
 * RFC 8785 3.2.2.2 (ECMAScript `JSON.stringify`: `\"`, `\\`, `\b\f\n\r\t`, other controls as `\u00xx`,
 * everything else literal) with a lone surrogate written `\udxxx` (lower-case hex) instead of being refused, so it
 * never meets U+FFFD; an integer (bigint) by its exact decimal digits; a float (number) by CPython's
 * `repr(float)` (`1.0`, `1e+22`, `-0.0`, `inf`, `nan`), so `1` and `1.0` differ.
 *
 * @throws TypeError for a value that is not a {@link JsonValue} (undefined, a function, a symbol).
 */
export function canonicalJson(value: JsonValue): string {
  return writeJson(value, { sortKeys: true, float: floatRepr });
}

/**
 * `value` as compact JSON text that {@link parseJson} (and Python's `json.loads`) reads back as the same tree:
 * keys in the tree's order, integers by their digits, floats as Python's `json.dumps` writes them (`1.0`,
 * `1e+22`, `NaN`, `Infinity`, `-Infinity`), strings as `JSON.stringify` writes them (lone surrogates as `\udxxx`).
 *
 * @throws TypeError for a value that is not a {@link JsonValue}.
 */
export function stringifyJson(value: JsonValue): string {
  return writeJson(value, { sortKeys: false, float: jsonFloat });
}

function jsonFloat(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "Infinity" : "-Infinity";
  return floatRepr(x);
}

function writeJson(value: JsonValue, options: WriteOptions): string {
  const parts: string[] = [];
  const stack: Frame[] = [];
  const emit = (v: JsonValue): void => {
    if (Array.isArray(v)) {
      parts.push("[");
      stack.push({ items: v, next: 0 });
    } else if (v instanceof Map) {
      parts.push("{");
      const keys = [...v.keys()];
      stack.push({ object: v, keys: options.sortKeys ? keys.sort() : keys, next: 0 });
    } else parts.push(scalarText(v, options));
  };
  emit(value);
  for (let top = stack.at(-1); top !== undefined; top = stack.at(-1)) {
    const index = top.next++;
    if ("items" in top) {
      if (index >= top.items.length) {
        parts.push("]");
        stack.pop();
        continue;
      }
      if (index > 0) parts.push(",");
      emit(top.items[index] as JsonValue);
    } else {
      const key = top.keys[index];
      if (key === undefined) {
        parts.push("}");
        stack.pop();
        continue;
      }
      parts.push(index > 0 ? "," : "", JSON.stringify(key), ":");
      emit(top.object.get(key) as JsonValue);
    }
  }
  return parts.join("");
}

function scalarText(value: JsonValue, options: WriteOptions): string {
  switch (typeof value) {
    case "bigint":
      return value.toString();
    case "number":
      return options.float(value);
    case "string":
      // Well-formed JSON.stringify (ES2019) escapes exactly as JCS does, and lone surrogates as \udxxx.
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    default:
      if (value === null) return "null";
      throw new TypeError(`Cannot write a value of type ${typeof value} as JSON`);
  }
}
