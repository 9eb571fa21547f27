/**
 * JSON in and out of Python values with Python's `json` semantics: objects keep key order (a JS object would
 * move `"8080"` before `"2222"`), integers stay exact (bigint), `1.0` stays a float, NaN/Infinity are read
 * and written as Python does, and output is `json.dumps` text (`", "`/`": "` separators, ASCII only).
 */
import { ErrorCode, IdemError } from "../errors.ts";
import { pyFail } from "./exceptions.ts";
import { floatRepr } from "./repr.ts";
import { PyDict, PyList, PySet, PyTuple, type PyValue, typeName } from "./values.ts";

const MAX_DEPTH = 1000;

/** Parses JSON text keeping object key order; throws IdemError(2) when the text is not JSON. */
export function parseJsonOrdered(text: string): PyValue {
  let i = 0;
  const fail = (what: string): never => {
    throw new IdemError(ErrorCode.InvalidPlan, `Cannot parse JSON: ${what} at position ${i}`);
  };
  const space = (): void => {
    while (i < text.length && " \t\n\r".includes(text[i] ?? "x")) i++;
  };
  const literal = (word: string, value: PyValue): PyValue => {
    if (!text.startsWith(word, i)) fail("unexpected character");
    i += word.length;
    return value;
  };
  const string = (): string => {
    i++;
    let out = "";
    for (;;) {
      const ch = text[i];
      if (ch === undefined) return fail("unterminated string");
      if (ch === '"') break;
      if (ch < " ") fail("invalid control character in a string");
      if (ch !== "\\") {
        out += ch;
        i++;
        continue;
      }
      const esc = text[i + 1];
      const simple = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" }[
        esc ?? ""
      ];
      if (simple !== undefined) {
        out += simple;
        i += 2;
      } else if (esc === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
        out += String.fromCharCode(Number.parseInt(text.slice(i + 2, i + 6), 16));
        i += 6;
      } else fail("invalid escape");
    }
    i++;
    return out;
  };
  const value = (depth: number): PyValue => {
    if (depth > MAX_DEPTH) fail("nesting too deep");
    space();
    const ch = text[i];
    if (ch === "{") {
      const d = new PyDict();
      i++;
      space();
      if (text[i] === "}") {
        i++;
        return d;
      }
      for (;;) {
        space();
        if (text[i] !== '"') fail("expected a property name");
        const key = string();
        space();
        if (text[i] !== ":") fail("expected ':'");
        i++;
        d.set(key, value(depth + 1));
        space();
        if (text[i] === ",") i++;
        else if (text[i] === "}") {
          i++;
          return d;
        } else fail("expected ',' or '}'");
      }
    }
    if (ch === "[") {
      const list = new PyList();
      i++;
      space();
      if (text[i] === "]") {
        i++;
        return list;
      }
      for (;;) {
        list.items.push(value(depth + 1));
        space();
        if (text[i] === ",") i++;
        else if (text[i] === "]") {
          i++;
          return list;
        } else fail("expected ',' or ']'");
      }
    }
    if (ch === '"') return string();
    if (ch === "t") return literal("true", true);
    if (ch === "f") return literal("false", false);
    if (ch === "n") return literal("null", null);
    if (ch === "N") return literal("NaN", Number.NaN);
    if (ch === "I") return literal("Infinity", Number.POSITIVE_INFINITY);
    if (text.startsWith("-Infinity", i)) return literal("-Infinity", Number.NEGATIVE_INFINITY);
    const m = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    m.lastIndex = i;
    const num = m.exec(text);
    if (!num) return fail("unexpected character");
    i += num[0].length;
    return num[1] === undefined && num[2] === undefined ? BigInt(num[0]) : Number(num[0]);
  };
  const result = value(0);
  space();
  if (i < text.length) fail("extra data");
  return result;
}

function jsonString(s: string): string {
  let out = '"';
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    const ch = s[k] ?? "";
    if (ch === '"' || ch === "\\") out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\b") out += "\\b";
    else if (ch === "\f") out += "\\f";
    else if (c < 0x20 || c > 0x7e) out += c === 0x7f ? ch : `\\u${c.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}

function jsonFloat(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "Infinity" : "-Infinity";
  return floatRepr(x);
}

function jsonKey(k: PyValue): string {
  if (typeof k === "string") return k;
  if (typeof k === "bigint") return k.toString();
  if (typeof k === "number") return jsonFloat(k);
  if (typeof k === "boolean") return k ? "true" : "false";
  if (k === null) return "null";
  throw pyFail("TypeError", `keys must be str, int, float, bool or None, not ${typeName(k)}`);
}

/** `json.dumps(value)` as murano-agent's result carries it; tuples and sets become arrays. */
export function pyToJson(value: PyValue): string {
  const seen = new Set<object>();
  const dump = (v: PyValue): string => {
    if (v === null) return "null";
    switch (typeof v) {
      case "boolean":
        return v ? "true" : "false";
      case "bigint":
        return v.toString();
      case "number":
        return jsonFloat(v);
      case "string":
        return jsonString(v);
    }
    if (!(v instanceof PyList || v instanceof PyTuple || v instanceof PySet || v instanceof PyDict)) {
      throw pyFail("TypeError", `Object of type ${typeName(v)} is not JSON serializable`);
    }
    if (seen.has(v)) throw pyFail("ValueError", "Circular reference detected");
    seen.add(v);
    let out: string;
    if (v instanceof PyDict) {
      out = `{${[...v.entries.values()].map((e) => `${jsonString(jsonKey(e.key))}: ${dump(e.value)}`).join(", ")}}`;
    } else {
      const items = v instanceof PySet ? [...v.entries.values()] : v.items;
      out = `[${items.map(dump).join(", ")}]`;
    }
    seen.delete(v);
    return out;
  };
  return dump(value);
}
