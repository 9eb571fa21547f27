/**
 * str methods that lay text out or rewrite it character by character: `center`/`ljust`/`rjust` (one fill
 * character, CPython's `left = marg / 2 + (marg & width & 1)`), `zfill` (sign first), `expandtabs`,
 * `translate`/`maketrans` and `format_map`. Widths are bounded by MAX_ITEMS (a MemoryError beyond).
 */
import { getItem } from "../runtime/access.ts";
import { type PyErrorKind, pyFail } from "../runtime/exceptions.ts";
import { checkSize, PyDict, type PyValue, typeName } from "../runtime/values.ts";
import { formatString } from "../text/format.ts";
import { type Arg, cIntArg, sizeArg, strArg } from "./args.ts";
import { strLength } from "./text.ts";

/** `s.center(width, fillchar=' ')`, `ljust`, `rjust` */
export function pad(s: string, a: readonly Arg[], name: "center" | "ljust" | "rjust"): string {
  const width = BigInt(sizeArg(a[0]));
  const fill = a[1] === undefined ? " " : a[1];
  if (typeof fill !== "string")
    throw pyFail("TypeError", `The fill character must be a unicode character, not ${typeName(fill)}`);
  if (strLength(fill) !== 1)
    throw pyFail("TypeError", "The fill character must be exactly one character long");
  const length = BigInt(strLength(s));
  if (width <= length) return s;
  checkSize(width, "str");
  const margin = Number(width - length);
  const left =
    name === "ljust" ? 0 : name === "rjust" ? margin : Math.floor(margin / 2) + (margin & Number(width) & 1);
  return fill.repeat(left) + s + fill.repeat(margin - left);
}

/** `s.zfill(width)`: zeros after a leading sign. */
export function zfill(s: string, arg: Arg): string {
  const width = BigInt(sizeArg(arg));
  const length = strLength(s);
  if (width <= BigInt(length)) return s;
  checkSize(width, "str");
  const zeros = "0".repeat(Number(width) - length);
  const sign = s[0] === "+" || s[0] === "-" ? s[0] : "";
  return sign + zeros + s.slice(sign.length);
}

/** `s.expandtabs(tabsize=8)`: columns restart after `\n` and `\r`; a tab size <= 0 removes tabs. */
export function expandTabs(s: string, a: readonly Arg[]): string {
  const tab = a[0] === undefined ? 8 : cIntArg(a[0]);
  let out = "";
  let column = 0;
  /** Characters in `out` (code points, as CPython counts them; `out.length` counts UTF-16 units). */
  let characters = 0;
  for (const c of s) {
    if (c === "\t") {
      if (tab <= 0) continue;
      const spaces = tab - (column % tab);
      characters += spaces;
      checkSize(characters, "str");
      out += " ".repeat(spaces);
      column += spaces;
    } else {
      out += c;
      characters += 1;
      column = c === "\n" || c === "\r" ? 0 : column + 1;
    }
  }
  return out;
}

const LOOKUP_ERRORS: ReadonlySet<PyErrorKind> = new Set(["KeyError", "IndexError"]);

/** `s.translate(table)`: `table[ord(c)]` is None (drop), an int (a code point) or a str; a LookupError keeps c. */
export function translate(s: string, arg: Arg): string {
  const table = arg ?? null;
  let out = "";
  /** Characters in `out` (code points, as CPython counts them; `out.length` counts UTF-16 units). */
  let characters = 0;
  for (const c of s) {
    let mapped: PyValue;
    try {
      mapped = getItem(table, BigInt(c.codePointAt(0) ?? 0));
    } catch (error) {
      if (error instanceof Error && LOOKUP_ERRORS.has(error.cause as PyErrorKind)) {
        out += c;
        characters += 1;
        continue;
      }
      throw error;
    }
    if (mapped === null) continue;
    if (typeof mapped === "string") {
      out += mapped;
      characters += strLength(mapped);
    } else if (typeof mapped === "bigint" || typeof mapped === "boolean") {
      const cp = typeof mapped === "bigint" ? mapped : mapped ? 1n : 0n;
      if (cp < 0n || cp > 0x10ffffn)
        throw pyFail("ValueError", "character mapping must be in range(0x110000)");
      out += String.fromCodePoint(Number(cp));
      characters += 1;
    } else throw pyFail("TypeError", "character mapping must return integer, None or str");
    checkSize(characters, "str");
  }
  return out;
}

/** `str.maketrans(x[, y[, z]])`: a dict from code points to code points, str or None. */
export function makeTrans(a: readonly Arg[]): PyDict {
  const d = new PyDict();
  const [x = null, y, z] = a;
  if (y === undefined) {
    if (!(x instanceof PyDict) || x.bunch)
      throw pyFail("TypeError", "if you give only one argument to maketrans it must be a dict");
    for (const { key, value } of x.entries.values()) {
      if (typeof key === "string") {
        if (strLength(key) !== 1)
          throw pyFail("ValueError", "string keys in translate table must be of length 1");
        d.set(BigInt(key.codePointAt(0) ?? 0), value);
      } else if (typeof key === "bigint" || typeof key === "boolean") d.set(key, value);
      else throw pyFail("TypeError", "keys in translate table must be strings or integers");
    }
    return d;
  }
  const to = strArg(y, "maketrans() argument 2 must be str", true);
  const drop = z === undefined ? "" : strArg(z, "maketrans() argument 3 must be str", true);
  if (typeof x !== "string")
    throw pyFail("TypeError", "first maketrans argument must be a string if there is a second argument");
  const from = Array.from(x);
  const into = Array.from(to);
  if (from.length !== into.length)
    throw pyFail("ValueError", "the first two maketrans arguments must have equal length");
  from.forEach((c, i) => {
    d.set(BigInt(c.codePointAt(0) ?? 0), BigInt(into[i]?.codePointAt(0) ?? 0));
  });
  for (const c of drop) d.set(BigInt(c.codePointAt(0) ?? 0), null);
  return d;
}

/** The keyword arguments of `format_map`: every name is looked up in the mapping when it is used. */
class MappingKeywords extends Map<string, PyValue> {
  readonly mapping: PyValue;
  constructor(mapping: PyValue) {
    super();
    this.mapping = mapping;
  }
  override get(name: string): PyValue | undefined {
    return getItem(this.mapping, name);
  }
}

/** `s.format_map(mapping)`: `s.format(**mapping)` without copying the mapping. */
export function formatMap(s: string, arg: Arg): string {
  // No positional arguments: a positional field is ValueError when it is reached, as in CPython.
  return formatString(s, null, new MappingKeywords(arg ?? null));
}
