/**
 * The canonical text of an exact JSON tree (SPEC 4): RFC 8785 (JCS) except for numbers and lone surrogates,
 * which keep what Python's `json.loads` made of them. Iterative: any depth is safe.
 */
import { floatRepr } from "./float_repr.ts";
import type { JsonObject, JsonValue } from "./parse.ts";

type Frame = { items: JsonValue[]; next: number } | { object: JsonObject; keys: string[]; next: number };

/**
 * `value` as canonical text: no whitespace; object keys sorted by UTF-16 code units (RFC 8785 3.2.3); strings
 * escaped as RFC 8785 3.2.2.2 (ECMAScript `JSON.stringify`: `\"`, `\\`, `\b\f\n\r\t`, other controls as
 * `\u00xx`, everything else literal) with a lone surrogate written `\udxxx` (lower-case hex) instead of being
 * refused, so it never meets U+FFFD; an integer (bigint) by its exact decimal digits; a float (number) by
 * CPython's `repr(float)` (`1.0`, `1e+22`, `-0.0`, `inf`, `nan`), so `1` and `1.0` differ.
 *
 * @throws TypeError for a value that is not a {@link JsonValue} (undefined, a function, a symbol).
 */
export function canonicalJson(value: JsonValue): string {
  const parts: string[] = [];
  const stack: Frame[] = [];
  const emit = (v: JsonValue): void => {
    if (Array.isArray(v)) {
      parts.push("[");
      stack.push({ items: v, next: 0 });
    } else if (v !== null && typeof v === "object") {
      parts.push("{");
      stack.push({ object: v, keys: Object.keys(v).sort(), next: 0 });
    } else parts.push(scalarText(v));
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
      emit(top.object[key] as JsonValue);
    }
  }
  return parts.join("");
}

function scalarText(value: JsonValue): string {
  switch (typeof value) {
    case "bigint":
      return value.toString();
    case "number":
      return floatRepr(value);
    case "string":
      // Well-formed JSON.stringify (ES2019) escapes exactly as JCS does, and lone surrogates as \udxxx.
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    default:
      if (value === null) return "null";
      throw new TypeError(`Cannot canonicalize a value of type ${typeof value}: it is not JSON`);
  }
}
