/**
 * `repr()` and `str()` of Python values exactly as CPython 3 prints them: `{'a': 1}`, `['x', 'y']`, `('a',)`,
 * `set()`, `True`, `None`, `2.0`, `1e+16`, and strings quoted and escaped as Python chooses.
 */

import { floatRepr } from "../json/float_repr.ts";
import { BUILTIN_TYPES } from "./rules.ts";
import {
  PyBuiltin,
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
  typeName,
} from "./values.ts";

/** Re-exported for the Body modules that format floats; the formatting itself is a leaf in agent/json. */
export { floatRepr };

/** `str(v)`. */
export function pyStr(v: PyValue): string {
  return typeof v === "string" ? v : pyRepr(v);
}

/** `repr(v)`; a container that contains itself prints `[...]` / `{...}` there, as in Python. */
export function pyRepr(v: PyValue, seen: Set<object> = new Set()): string {
  if (v === null) return "None";
  switch (typeof v) {
    case "boolean":
      return v ? "True" : "False";
    case "bigint":
      return v.toString();
    case "number":
      return floatRepr(v);
    case "string":
      return strRepr(v);
  }
  if (v instanceof PyList || v instanceof PyTuple || v instanceof PyDict || v instanceof PySet) {
    if (seen.has(v)) return v instanceof PyList ? "[...]" : v instanceof PyTuple ? "(...)" : "{...}";
    seen.add(v);
    try {
      return containerRepr(v, seen);
    } finally {
      seen.delete(v);
    }
  }
  if (v instanceof PyView) {
    const inner = [...v.dict.entries.values()].map((e) =>
      v.kind === "keys"
        ? pyRepr(e.key, seen)
        : v.kind === "values"
          ? pyRepr(e.value, seen)
          : `(${pyRepr(e.key, seen)}, ${pyRepr(e.value, seen)})`,
    );
    return `dict_${v.kind}([${inner.join(", ")}])`;
  }
  if (v instanceof PyRange) return `range(${v.start}, ${v.stop}${v.step === 1n ? "" : `, ${v.step}`})`;
  if (v instanceof PyBuiltin)
    return BUILTIN_TYPES.has(v.name) ? `<class '${v.name}'>` : `<built-in function ${v.name}>`;
  if (v instanceof PyMethod && v.self instanceof PyBuiltin)
    return `<method '${v.name}' of '${v.self.name}' objects>`;
  if (v instanceof PyMethod) return `<built-in method ${v.name} of ${typeName(v.self)} object>`;
  if (v instanceof PyScript) return `<muranoagent.script_runner.${typeName(v)} object>`;
  if (v instanceof PyIter)
    return v.kind === "generator" ? "<generator object <genexpr>>" : `<${v.kind} object>`;
  return `<${typeName(v)} object>`;
}

function containerRepr(v: PyList | PyTuple | PyDict | PySet, seen: Set<object>): string {
  if (v instanceof PyDict) {
    const parts = [...v.entries.values()].map((e) => `${pyRepr(e.key, seen)}: ${pyRepr(e.value, seen)}`);
    return `{${parts.join(", ")}}`;
  }
  if (v instanceof PySet) {
    if (v.entries.size === 0) return "set()";
    return `{${[...v.entries.values()].map((x) => pyRepr(x, seen)).join(", ")}}`;
  }
  const items = v.items.map((x) => pyRepr(x, seen));
  if (v instanceof PyList) return `[${items.join(", ")}]`;
  return items.length === 1 ? `(${items[0]},)` : `(${items.join(", ")})`;
}

/** `ascii(v)`: the repr with every non-ASCII character escaped. */
export function pyAscii(v: PyValue): string {
  let out = "";
  for (const ch of pyRepr(v)) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp < 0x80) out += ch;
    else if (cp < 0x100) out += `\\x${cp.toString(16).padStart(2, "0")}`;
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, "0")}`;
    else out += `\\U${cp.toString(16).padStart(8, "0")}`;
  }
  return out;
}

/** Python's str repr: single quotes unless the text has `'` and no `"`; non-printable characters escaped. */
export function strRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === quote || ch === "\\") out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch !== " " && (cp < 0x20 || cp === 0x7f || /[\p{C}\p{Z}]/u.test(ch))) {
      if (cp < 0x100) out += `\\x${cp.toString(16).padStart(2, "0")}`;
      else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, "0")}`;
      else out += `\\U${cp.toString(16).padStart(8, "0")}`;
    } else out += ch;
  }
  return out + quote;
}
