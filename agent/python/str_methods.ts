/**
 * The str methods a Body may call, with Python 3 semantics (whitespace splitting, `maxsplit`, `strip(chars)`,
 * tuple prefixes for `startswith`, `find` returning -1 and `index` raising).
 */
import { collect } from "./access.ts";
import { pyFail } from "./exceptions.ts";
import { formatString } from "./format.ts";
import { expectArgs } from "./methods.ts";
import { callStrCaseMethod, STR_CASE_METHODS } from "./str_case.ts";
import { type CallArgs, checkSize, PyList, PyTuple, type PyValue, typeName } from "./values.ts";

export const STR_METHODS: ReadonlySet<string> = new Set([
  "format",
  "join",
  "strip",
  "lstrip",
  "rstrip",
  "split",
  "rsplit",
  "splitlines",
  "replace",
  "lower",
  "upper",
  "startswith",
  "endswith",
  "find",
  "rfind",
  "index",
  "rindex",
  "count",
  ...STR_CASE_METHODS,
]);

/** The characters Python's `str.isspace()` accepts (what `split()` and `strip()` remove by default). */
const SPACE: ReadonlySet<string> = new Set([
  ..."\t\n\v\f\r \u001c\u001d\u001e\u001f\u0085\u00a0\u1680\u2028\u2029\u202f\u205f\u3000",
  ...Array.from({ length: 11 }, (_, i) => String.fromCharCode(0x2000 + i)),
]);

/** Line boundaries of `str.splitlines()`. */
const LINE_BREAK: ReadonlySet<string> = new Set([..."\n\r\v\f\u001c\u001d\u001e\u0085\u2028\u2029"]);

function str(v: PyValue | undefined, what: string): string {
  if (typeof v !== "string") throw pyFail("TypeError", `${what} must be str, not ${typeName(v ?? null)}`);
  return v;
}

function optInt(v: PyValue | undefined, fallback: number): number {
  if (v === undefined || v === null) return fallback;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "boolean") return v ? 1 : 0;
  throw pyFail("TypeError", `'${typeName(v)}' object cannot be interpreted as an integer`);
}

function stripChars(
  s: string,
  chars: PyValue | undefined,
  left: boolean,
  right: boolean,
  name: string,
): string {
  const cs = Array.from(s);
  const set = chars === undefined || chars === null ? null : new Set(Array.from(str(chars, `${name} arg`)));
  const strip = (c: string | undefined): boolean => c !== undefined && (set ? set.has(c) : SPACE.has(c));
  let a = 0;
  let b = cs.length;
  while (left && a < b && strip(cs[a])) a++;
  while (right && b > a && strip(cs[b - 1])) b--;
  return cs.slice(a, b).join("");
}

/** Splits at runs of whitespace, at most `max` times (-1: no limit); the rest keeps its own whitespace. */
function splitSpace(cs: string[], max: number): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    while (i < cs.length && SPACE.has(cs[i] ?? "")) i++;
    if (i >= cs.length) return out;
    if (max >= 0 && out.length === max) {
      out.push(cs.slice(i).join(""));
      return out;
    }
    let j = i;
    while (j < cs.length && !SPACE.has(cs[j] ?? "")) j++;
    out.push(cs.slice(i, j).join(""));
    i = j;
  }
}

function split(
  s: string,
  sepArg: PyValue | undefined,
  maxArg: PyValue | undefined,
  fromRight: boolean,
): PyList {
  const max = optInt(maxArg, -1);
  if (sepArg === undefined || sepArg === null) {
    if (!fromRight) return new PyList(splitSpace(Array.from(s), max));
    const reversed = splitSpace(Array.from(s).reverse(), max);
    return new PyList(reversed.map((w) => Array.from(w).reverse().join("")).reverse());
  }
  const sep = str(sepArg, "sep");
  if (sep === "") throw pyFail("ValueError", "empty separator");
  const parts = s.split(sep);
  if (max < 0 || parts.length <= max + 1) return new PyList(parts);
  return fromRight
    ? new PyList([parts.slice(0, parts.length - max).join(sep), ...parts.slice(parts.length - max)])
    : new PyList([...parts.slice(0, max), parts.slice(max).join(sep)]);
}

/** Code-point window `[start:end]` of `s` as UTF-16 offsets, plus the code-point offset of its start. */
function window(
  s: string,
  start: PyValue | undefined,
  end: PyValue | undefined,
): { text: string; offset: number } {
  const cs = Array.from(s);
  const norm = (v: PyValue | undefined, d: number): number => {
    const n = optInt(v, d);
    return n < 0 ? Math.max(0, n + cs.length) : Math.min(n, cs.length);
  };
  const a = norm(start, 0);
  const b = norm(end, cs.length);
  return { text: b > a ? cs.slice(a, b).join("") : "", offset: a };
}

function splitLines(s: string, keepEnds: boolean): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i] ?? "";
    if (!LINE_BREAK.has(c)) continue;
    const end = c === "\r" && s[i + 1] === "\n" ? i + 2 : i + 1;
    out.push(s.slice(start, keepEnds ? end : i));
    start = end;
    i = end - 1;
  }
  if (start < s.length) out.push(s.slice(start));
  return out;
}

function codePointIndex(text: string, utf16: number): number {
  return Array.from(text.slice(0, utf16)).length;
}

export function callStrMethod(s: string, name: string, call: CallArgs): PyValue {
  if (name === "format") return formatString(s, call.args, call.keywords);
  if (STR_CASE_METHODS.has(name)) return callStrCaseMethod(s, name, call);
  const a = expectArgs(
    `str.${name}`,
    call,
    name === "split" || name === "rsplit" ? ["sep", "maxsplit"] : name === "splitlines" ? ["keepends"] : [],
  );
  switch (name) {
    case "join": {
      const arg = a[0] ?? null;
      let items: PyValue[];
      try {
        items = collect(arg);
      } catch (error) {
        // CPython's str.join says so itself for a non-iterable argument.
        const notIterable = `'${typeName(arg)}' object is not iterable`;
        throw error instanceof Error && error.message === notIterable
          ? pyFail("TypeError", "can only join an iterable")
          : error;
      }
      let size = s.length * Math.max(0, items.length - 1);
      const parts = items.map((item, i) => {
        if (typeof item !== "string")
          throw pyFail("TypeError", `sequence item ${i}: expected str instance, ${typeName(item)} found`);
        size += item.length;
        return item;
      });
      checkSize(size, "str");
      return parts.join(s);
    }
    case "strip":
      return stripChars(s, a[0], true, true, name);
    case "lstrip":
      return stripChars(s, a[0], true, false, name);
    case "rstrip":
      return stripChars(s, a[0], false, true, name);
    case "split":
    case "rsplit":
      return split(s, a[0], a[1], name === "rsplit");
    case "splitlines":
      return new PyList(splitLines(s, a[0] !== undefined && a[0] !== false && a[0] !== 0n));
    case "replace": {
      const old = str(a[0], "replace() argument 1");
      const by = str(a[1], "replace() argument 2");
      let count = optInt(a[2], -1);
      const found = old === "" ? Array.from(s).length + 1 : s.split(old).length - 1;
      const replaced = count < 0 ? found : Math.min(count, found);
      checkSize(s.length + replaced * (by.length - old.length), "str");
      if (old === "")
        return (
          by +
          Array.from(s)
            .map((c) => c + by)
            .join("")
        );
      if (count < 0) return s.split(old).join(by);
      const parts = s.split(old);
      let out = parts[0] ?? "";
      for (let i = 1; i < parts.length; i++) out += (count-- > 0 ? by : old) + (parts[i] ?? "");
      return out;
    }
    case "lower":
      return s.toLowerCase();
    case "upper":
      return s.toUpperCase();
    case "startswith":
    case "endswith": {
      const { text } = window(s, a[1], a[2]);
      const prefixes = a[0] instanceof PyTuple ? a[0].items : [a[0]];
      return prefixes.some((p) => {
        const t = str(p ?? undefined, `${name} first arg`);
        return name === "startswith" ? text.startsWith(t) : text.endsWith(t);
      });
    }
    case "find":
    case "rfind":
    case "index":
    case "rindex":
    case "count": {
      const sub = str(a[0], "must be str, not");
      const { text, offset } = window(s, a[1], a[2]);
      if (name === "count")
        return BigInt(sub === "" ? Array.from(text).length + 1 : text.split(sub).length - 1);
      const at = name === "rfind" || name === "rindex" ? text.lastIndexOf(sub) : text.indexOf(sub);
      if (at < 0 && (name === "index" || name === "rindex"))
        throw pyFail("ValueError", "substring not found");
      return BigInt(at < 0 ? -1 : offset + codePointIndex(text, at));
    }
  }
  throw pyFail("AttributeError", `'str' object has no attribute '${name}'`);
}
