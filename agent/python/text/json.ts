/**
 * JSON in and out of Python values with Python's `json` semantics. In: the exact tree of the plan's one parse
 * (agent/json/parse.ts: objects keep key order, integers are exact bigints, `1.0` stays a float, NaN/Infinity
 * as Python reads them) becomes Python values. Out: `json.dumps` text (`", "`/`": "` separators, ASCII only).
 */
import type { JsonObject, JsonValue } from "../../json/parse.ts";
import { pyFail } from "../runtime/exceptions.ts";
import { PyDict, PyList, PyTuple, type PyValue, typeName } from "../runtime/values.ts";
import { floatRepr, intDecimal } from "./repr.ts";

/**
 * The Python value `json.loads` makes of a JSON text, from that text's exact tree: an object is a dict with the
 * text's key order (a duplicate key keeps its first place and its last value, as parseJson left it), an array a
 * list, an integer an int, a float a float, a string a str (lone surrogates kept), true/false/null
 * True/False/None. Iterative: any depth is safe. The tree may have crossed a structured clone (a worker's
 * message): it reads only Maps, arrays and scalars. A new value; the tree is not changed. Never throws.
 */
export function fromJson(value: JsonValue): PyValue {
  const pending: Array<{ list: PyList; items: JsonValue[] } | { dict: PyDict; fields: JsonObject }> = [];
  const convert = (v: JsonValue): PyValue => {
    if (Array.isArray(v)) {
      const list = new PyList();
      pending.push({ list, items: v });
      return list;
    }
    if (v instanceof Map) {
      const dict = new PyDict();
      pending.push({ dict, fields: v });
      return dict;
    }
    return v;
  };
  const top = convert(value);
  for (let job = pending.pop(); job !== undefined; job = pending.pop()) {
    if ("list" in job) for (const item of job.items) job.list.items.push(convert(item));
    else for (const [key, item] of job.fields) job.dict.set(key, convert(item));
  }
  return top;
}

/** CPython's JSON recursion check (`Py_EnterRecursiveCall`) in murano-agent's call stack: deeper nesting fails. */
const MAX_JSON_DEPTH = 985;

/**
 * A str as `json.dumps` writes it (ensure_ascii, `_json.c` `ascii_escape_unicode`): `\"`, `\\`, `\b\f\n\r\t`,
 * every other character outside printable ASCII (controls, DEL, non-ASCII) as `\uxxxx` (lower-case hex; a
 * character beyond the BMP as its surrogate pair, a lone surrogate as itself escaped).
 */
function jsonString(s: string): string {
  if (/^[\x20\x21\x23-\x5b\x5d-\x7e]*$/.test(s)) return `"${s}"`;
  let out = '"';
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += "\\\\";
    else if (c >= 0x20 && c < 0x7f) out += s[k];
    else if (c === 0x0a) out += "\\n";
    else if (c === 0x0d) out += "\\r";
    else if (c === 0x09) out += "\\t";
    else if (c === 0x08) out += "\\b";
    else if (c === 0x0c) out += "\\f";
    else out += `\\u${c.toString(16).padStart(4, "0")}`;
  }
  return `${out}"`;
}

/** A float as json.dumps writes it: its repr, or `NaN`, `Infinity`, `-Infinity` (allow_nan). */
function jsonFloat(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "Infinity" : "-Infinity";
  return floatRepr(x);
}

/** A dict key as json.dumps converts it: str as is, float/int by repr, True/False/None as `true`/`false`/`null`. */
function jsonKey(k: PyValue): string {
  if (typeof k === "string") return k;
  if (typeof k === "number") return jsonFloat(k);
  if (typeof k === "boolean") return k ? "true" : "false";
  if (k === null) return "null";
  if (typeof k === "bigint") return intDecimal(k);
  throw pyFail("TypeError", `keys must be str, int, float, bool or None, not ${typeName(k)}`);
}

/**
 * `json.dumps(value)` with its defaults, which is what murano-agent writes for a result Body: `", "` and `": "`
 * separators, ASCII only, keys in insertion order, tuples as arrays. Anything else that is not a dict, list,
 * str, int, float, bool or None — a set, a dict view, a range, an iterator, a function — is TypeError "Object of
 * type set is not JSON serializable" (murano-agent then answers ErrorCode 1 with that message). A container
 * inside itself is ValueError "Circular reference detected"; ints obey the 4300-digit limit.
 */
export function pyToJson(value: PyValue): string {
  const open = new Set<object>();
  const dump = (v: PyValue): string => {
    if (v === null) return "null";
    switch (typeof v) {
      case "boolean":
        return v ? "true" : "false";
      case "bigint":
        return intDecimal(v);
      case "number":
        return jsonFloat(v);
      case "string":
        return jsonString(v);
    }
    if (!(v instanceof PyList || v instanceof PyTuple || v instanceof PyDict)) {
      throw pyFail("TypeError", `Object of type ${typeName(v)} is not JSON serializable`);
    }
    if (open.has(v)) throw pyFail("ValueError", "Circular reference detected");
    if (open.size >= MAX_JSON_DEPTH) {
      throw pyFail("RecursionError", "maximum recursion depth exceeded while encoding a JSON object");
    }
    open.add(v);
    const parts: string[] = [];
    if (v instanceof PyDict) {
      for (const e of v.entries.values()) parts.push(`${jsonString(jsonKey(e.key))}: ${dump(e.value)}`);
    } else for (const item of v.items) parts.push(dump(item));
    open.delete(v);
    return v instanceof PyDict ? `{${parts.join(", ")}}` : `[${parts.join(", ")}]`;
  };
  return dump(value);
}
