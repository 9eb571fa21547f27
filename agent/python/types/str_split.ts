/**
 * str methods that cut a string up or put one together: `split`/`rsplit` (runs of whitespace when `sep` is
 * None, `maxsplit` counted from the left or right), `splitlines` (CPython's ten line boundaries, `\r\n` as
 * one), `strip`/`lstrip`/`rstrip` (whitespace or a set of characters) and `join`. CPython 3.11's
 * Objects/stringlib/split.h algorithms and messages.
 */
import { collect, isIterable } from "../runtime/access.ts";
import { pyFail } from "../runtime/exceptions.ts";
import { checkStrSize, PyList, type PyValue, typeName } from "../runtime/values.ts";
import { type Arg, cIntArg, sizeArg } from "./args.ts";
import { chars, isLineBreak, isSpace, strLength } from "./text.ts";

function maxSplit(v: Arg): number {
  const n = v === undefined ? -1 : sizeArg(v);
  return n < 0 ? Number.POSITIVE_INFINITY : n;
}

/** Whitespace never is a surrogate, so UTF-16 offsets work here. */
function splitWhitespace(s: string, max: number): string[] {
  const out: string[] = [];
  let i = 0;
  while (out.length < max) {
    while (i < s.length && isSpace(s[i] ?? "")) i++;
    if (i === s.length) return out;
    const j = i;
    while (i < s.length && !isSpace(s[i] ?? "")) i++;
    out.push(s.slice(j, i));
  }
  while (i < s.length && isSpace(s[i] ?? "")) i++;
  if (i < s.length) out.push(s.slice(i));
  return out;
}

function rsplitWhitespace(s: string, max: number): string[] {
  const out: string[] = [];
  let i = s.length;
  while (out.length < max) {
    while (i > 0 && isSpace(s[i - 1] ?? "")) i--;
    if (i === 0) return out.reverse();
    const j = i;
    while (i > 0 && !isSpace(s[i - 1] ?? "")) i--;
    out.push(s.slice(i, j));
  }
  while (i > 0 && isSpace(s[i - 1] ?? "")) i--;
  if (i > 0) out.push(s.slice(0, i));
  return out.reverse();
}

/** `s.split(sep=None, maxsplit=-1)` / `s.rsplit(...)` */
export function split(s: string, a: readonly Arg[], fromRight: boolean): PyList {
  const max = maxSplit(a[1]);
  const sepArg = a[0] ?? null;
  if (sepArg !== null && typeof sepArg !== "string")
    throw pyFail("TypeError", `must be str or None, not ${typeName(sepArg)}`);
  if (sepArg === null) return new PyList(fromRight ? rsplitWhitespace(s, max) : splitWhitespace(s, max));
  const sep = sepArg;
  if (sep === "") throw pyFail("ValueError", "empty separator");
  const parts = s.split(sep);
  if (parts.length - 1 <= max) return new PyList(parts);
  const keep = parts.length - max;
  return fromRight
    ? new PyList([parts.slice(0, keep).join(sep), ...parts.slice(keep)])
    : new PyList([...parts.slice(0, max), parts.slice(max).join(sep)]);
}

/** `s.splitlines(keepends=False)` */
export function splitLines(s: string, a: readonly Arg[]): PyList {
  const keepEnds = a[0] !== undefined && cIntArg(a[0]) !== 0;
  const out: PyValue[] = [];
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i] ?? "";
    if (!isLineBreak(c)) continue;
    const end = c === "\r" && s[i + 1] === "\n" ? i + 2 : i + 1;
    out.push(s.slice(start, keepEnds ? end : i));
    start = end;
    i = end - 1;
  }
  if (start < s.length) out.push(s.slice(start));
  return new PyList(out);
}

/** `s.strip(chars=None)`, `lstrip`, `rstrip`: "strip arg must be None or str". */
export function strip(s: string, arg: Arg, name: "strip" | "lstrip" | "rstrip"): string {
  const charsArg = arg ?? null;
  if (charsArg !== null && typeof charsArg !== "string")
    throw pyFail("TypeError", `${name} arg must be None or str`);
  const set = charsArg === null ? null : new Set(chars(charsArg));
  const cs = set === null || !/[\ud800-\udfff]/.test(s) ? null : chars(s);
  const at = (i: number): string => (cs ? (cs[i] ?? "") : (s[i] ?? ""));
  const strips = (c: string): boolean => (set ? set.has(c) : isSpace(c));
  let lo = 0;
  let hi = cs ? cs.length : s.length;
  if (name !== "rstrip") while (lo < hi && strips(at(lo))) lo++;
  if (name !== "lstrip") while (hi > lo && strips(at(hi - 1))) hi--;
  return cs ? cs.slice(lo, hi).join("") : s.slice(lo, hi);
}

/** `s.join(iterable)`: every item a str ("sequence item 1: expected str instance, int found"). */
export function join(s: string, arg: Arg): string {
  const iterable = arg ?? null;
  if (!isIterable(iterable)) throw pyFail("TypeError", "can only join an iterable");
  const items = collect(iterable);
  let size = s.length * Math.max(0, items.length - 1);
  items.forEach((item, i) => {
    if (typeof item !== "string")
      throw pyFail("TypeError", `sequence item ${i}: expected str instance, ${typeName(item)} found`);
    size += item.length;
  });
  checkStrSize(
    size,
    () =>
      strLength(s) * Math.max(0, items.length - 1) +
      (items as string[]).reduce((n, item) => n + strLength(item), 0),
  );
  return (items as string[]).join(s);
}
