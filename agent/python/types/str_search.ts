/**
 * str methods that look for a substring: `find`/`rfind`/`index`/`rindex`/`count` with CPython's optional
 * `[start:end]` window (start may lie past the end: then nothing is found, not even ''), `startswith`/`endswith`
 * (a str or a tuple of str), `replace` (with `count`; '' matches between every two characters), `partition`,
 * `rpartition`, `removeprefix`, `removesuffix`. Messages are CPython 3.11's (Objects/unicodeobject.c).
 */
import { pyFail } from "../runtime/exceptions.ts";
import { checkStrSize, PyTuple, type PyValue, typeName } from "../runtime/values.ts";
import { type Arg, adjustIndices, sizeArg, sliceBound, strArg } from "./args.ts";
import { codePointWindow, countOf, strLength } from "./text.ts";

type Find = "find" | "rfind" | "index" | "rindex" | "count";

/** `s.find(sub[, start[, end]])` and its siblings. */
export function search(s: string, a: readonly Arg[], name: Find): bigint {
  const start = sliceBound(a[1], true);
  const end = sliceBound(a[2], true);
  const sub = strArg(a[0], "must be str");
  const [lo, hi] = adjustIndices(strLength(s), start, end);
  const subLength = strLength(sub);
  if (hi - lo < subLength) {
    if (name === "count") return 0n;
    if (name === "index" || name === "rindex") throw pyFail("ValueError", "substring not found");
    return -1n;
  }
  const { text, index } = codePointWindow(s, lo, hi);
  if (name === "count") return BigInt(sub === "" ? hi - lo + 1 : countOf(text, sub));
  const at = name === "rfind" || name === "rindex" ? text.lastIndexOf(sub) : text.indexOf(sub);
  if (at >= 0) return BigInt(index(at));
  if (name === "index" || name === "rindex") throw pyFail("ValueError", "substring not found");
  return -1n;
}

/** `s.startswith(prefix[, start[, end]])`, `s.endswith(...)`; a tuple matches when any of its items does. */
export function affixMatch(s: string, a: readonly Arg[], name: "startswith" | "endswith"): boolean {
  const start = sliceBound(a[1], true);
  const end = sliceBound(a[2], true);
  const length = strLength(s);
  const [lo, hi] = adjustIndices(length, start, end);
  const matches = (affix: string): boolean => {
    if (lo > length) return false;
    const { text } = codePointWindow(s, lo, hi);
    if (hi - lo < strLength(affix)) return false;
    return name === "startswith" ? text.startsWith(affix) : text.endsWith(affix);
  };
  const arg = a[0] ?? null;
  if (arg instanceof PyTuple) {
    for (const item of arg.items) {
      if (typeof item !== "string")
        throw pyFail("TypeError", `tuple for ${name} must only contain str, not ${typeName(item)}`);
      if (matches(item)) return true;
    }
    return false;
  }
  if (typeof arg !== "string")
    throw pyFail("TypeError", `${name} first arg must be str or a tuple of str, not ${typeName(arg)}`);
  return matches(arg);
}

/** `s.replace(old, new[, count])`: at most `count` replacements (all when negative), left to right. */
export function replace(s: string, a: readonly Arg[]): string {
  const old = strArg(a[0], "replace() argument 1 must be str", true);
  const by = strArg(a[1], "replace() argument 2 must be str", true);
  const count = a[2] === undefined ? -1 : sizeArg(a[2]);
  const max = count < 0 ? Number.POSITIVE_INFINITY : count;
  if (old === "") {
    const cs = Array.from(s);
    const n = Math.min(max, cs.length + 1);
    checkStrSize(s.length + n * by.length, () => cs.length + n * strLength(by));
    let out = "";
    for (let i = 0; i < cs.length; i++) out += (i < n ? by : "") + cs[i];
    return out + (n > cs.length ? by : "");
  }
  const n = countOf(s, old, max);
  if (n === 0) return s;
  checkStrSize(
    s.length + n * (by.length - old.length),
    () => strLength(s) + n * (strLength(by) - strLength(old)),
  );
  let out = "";
  let from = 0;
  for (let k = 0; k < n; k++) {
    const at = s.indexOf(old, from);
    out += s.slice(from, at) + by;
    from = at + old.length;
  }
  return out + s.slice(from);
}

/** `s.partition(sep)` / `s.rpartition(sep)`: a 3-tuple around the first (last) `sep`. */
export function partition(s: string, arg: Arg, fromRight: boolean): PyTuple {
  const sep = strArg(arg, "must be str");
  if (sep === "") throw pyFail("ValueError", "empty separator");
  const at = fromRight ? s.lastIndexOf(sep) : s.indexOf(sep);
  if (at < 0) return new PyTuple(fromRight ? ["", "", s] : [s, "", ""]);
  return new PyTuple([s.slice(0, at), sep, s.slice(at + sep.length)]);
}

/** `s.removeprefix(prefix)` / `s.removesuffix(suffix)` */
export function removeAffix(s: string, arg: Arg, name: "removeprefix" | "removesuffix"): PyValue {
  const affix = strArg(arg, `${name}() argument must be str`, true);
  if (affix === "") return s;
  if (name === "removeprefix") return s.startsWith(affix) ? s.slice(affix.length) : s;
  return s.endsWith(affix) ? s.slice(0, s.length - affix.length) : s;
}
