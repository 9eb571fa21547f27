/**
 * More str methods with Python 3 semantics: case (`title`, `capitalize`, `swapcase`, `casefold`), layout
 * (`center`, `ljust`, `rjust`, `zfill`, `expandtabs`), `partition`/`rpartition`, `removeprefix`/`removesuffix`
 * and the Unicode predicates (`isdigit`, `isalpha`, `islower`, …). Widths are bounded by MAX_ITEMS.
 */
import { pyFail } from "./exceptions.ts";
import { type CallArgs, checkSize, indexArg, PyTuple, type PyValue, typeName } from "./values.ts";

export const STR_CASE_METHODS: ReadonlySet<string> = new Set(
  (
    "zfill partition rpartition title capitalize swapcase casefold center ljust rjust expandtabs " +
    "removeprefix removesuffix isdigit isdecimal isnumeric isalpha isalnum isspace islower isupper istitle isascii"
  ).split(" "),
);

/** Characters with Numeric_Type Digit that are not decimal (`'²'.isdigit()`), from CPython 3.11's tables. */
const DIGIT =
  /^[\p{Nd}\u{b2}-\u{b3}\u{b9}\u{1369}-\u{1371}\u{19da}\u{2070}\u{2074}-\u{2079}\u{2080}-\u{2089}\u{2460}-\u{2468}\u{2474}-\u{247c}\u{2488}-\u{2490}\u{24ea}\u{24f5}-\u{24fd}\u{24ff}\u{2776}-\u{277e}\u{2780}-\u{2788}\u{278a}-\u{2792}\u{10a40}-\u{10a43}\u{10e60}-\u{10e68}\u{11052}-\u{1105a}\u{1f100}-\u{1f10a}]+$/u;
/** Numeric characters: category N, plus the CJK ideographs with a numeric value (`'一'.isnumeric()`). */
const NUMERIC =
  /^[\p{N}\u{3405}\u{3483}\u{382a}\u{3b4d}\u{4e00}\u{4e03}\u{4e07}\u{4e09}\u{4e5d}\u{4e8c}\u{4e94}\u{4e96}\u{4ebf}-\u{4ec0}\u{4edf}\u{4ee8}\u{4f0d}\u{4f70}\u{5104}\u{5146}\u{5169}\u{516b}\u{516d}\u{5341}\u{5343}-\u{5345}\u{534c}\u{53c1}-\u{53c4}\u{56db}\u{58f1}\u{58f9}\u{5e7a}\u{5efe}-\u{5eff}\u{5f0c}-\u{5f0e}\u{5f10}\u{62fe}\u{634c}\u{67d2}\u{6f06}\u{7396}\u{767e}\u{8086}\u{842c}\u{8cae}\u{8cb3}\u{8d30}\u{9621}\u{9646}\u{964c}\u{9678}\u{96f6}\u{f96b}\u{f973}\u{f978}\u{f9b2}\u{f9d1}\u{f9d3}\u{f9fd}\u{20001}\u{20064}\u{200e2}\u{20121}\u{2092a}\u{20983}\u{2098c}\u{2099c}\u{20aea}\u{20afd}\u{20b19}\u{22390}\u{22998}\u{23b1b}\u{2626d}\u{2f890}]+$/u;
/** The code points of `str.isspace()`. */
const SPACE: ReadonlySet<number> = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002,
  0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
]);
const UPPER = /[\p{Uppercase}]/u;
const LOWER = /[\p{Lowercase}]/u;
const TITLECASE = /[\p{Lt}]/u;
const CASED = /[\p{Cased}]/u;
const IGNORABLE = /[\p{Case_Ignorable}]/u;

/** Titlecase mappings that differ from "uppercase the first letter, lowercase the rest". */
const TITLE: Readonly<Record<string, string>> = {
  ŉ: "ʼN",
  Ǆ: "ǅ",
  ǅ: "ǅ",
  ǆ: "ǅ",
  Ǉ: "ǈ",
  ǈ: "ǈ",
  ǉ: "ǈ",
  Ǌ: "ǋ",
  ǋ: "ǋ",
  ǌ: "ǋ",
  Ǳ: "ǲ",
  ǲ: "ǲ",
  ǳ: "ǲ",
  "\u1fb2": "\u1fba\u0345",
  "\u1fb3": "\u1fbc",
  "\u1fb4": "\u0386\u0345",
  "\u1fb7": "\u0391\u0342\u0345",
  "\u1fbc": "\u1fbc",
  "\u1fc2": "\u1fca\u0345",
  "\u1fc3": "\u1fcc",
  "\u1fc4": "\u0389\u0345",
  "\u1fc7": "\u0397\u0342\u0345",
  "\u1fcc": "\u1fcc",
  "\u1ff2": "\u1ffa\u0345",
  "\u1ff3": "\u1ffc",
  "\u1ff4": "\u038f\u0345",
  "\u1ff7": "\u03a9\u0342\u0345",
  "\u1ffc": "\u1ffc",
};

/** Python's titlecase of one character. */
function titleChar(c: string): string {
  const mapped = TITLE[c];
  if (mapped !== undefined) return mapped;
  const cp = c.codePointAt(0) ?? 0;
  if ((cp >= 0x10d0 && cp <= 0x10fa) || (cp >= 0x10fd && cp <= 0x10ff)) return c; // Georgian Mkhedruli
  if (cp >= 0x1f80 && cp <= 0x1faf) return String.fromCodePoint(cp | 0x08); // Greek with ypogegrammeni
  const upper = Array.from(c.toUpperCase());
  return (upper[0] ?? "") + upper.slice(1).join("").toLowerCase();
}

/** Python's casefold of one character. */
function foldChar(c: string): string {
  const cp = c.codePointAt(0) ?? 0;
  if (c === "ı" || (cp >= 0x13a0 && cp <= 0x13f5)) return c; // Cherokee folds to its uppercase
  if (cp >= 0x13f8 && cp <= 0x13fd) return String.fromCodePoint(cp - 8);
  if (cp >= 0xab70 && cp <= 0xabbf) return String.fromCodePoint(cp - 0xab70 + 0x13a0);
  if (c === "ẞ") return "ss";
  return c.toUpperCase().toLowerCase();
}

function title(s: string): string {
  return s.replace(/\p{Cased}+/gu, (word) => {
    const [first = ""] = Array.from(word);
    const lower = word.toLowerCase();
    const firstLower = first.toLowerCase();
    const rest = lower.startsWith(firstLower) ? lower.slice(firstLower.length) : word.slice(first.length);
    return titleChar(first) + rest;
  });
}

function isTitle(s: string): boolean {
  let previousCased = false;
  let cased = false;
  for (const c of s) {
    if (UPPER.test(c) || TITLECASE.test(c)) {
      if (previousCased) return false;
      previousCased = cased = true;
    } else if (LOWER.test(c)) {
      if (!previousCased) return false;
      previousCased = cased = true;
    } else previousCased = false;
  }
  return cased;
}

/** `islower()` / `isupper()`: some cased character, none of the other case (nor titlecase). */
function isCase(s: string, wanted: RegExp, other: RegExp): boolean {
  let cased = false;
  for (const c of s) {
    if (other.test(c) || TITLECASE.test(c)) return false;
    if (wanted.test(c)) cased = true;
  }
  return cased;
}

function argCount(name: string, call: CallArgs, min: number, max: number): (PyValue | undefined)[] {
  if (call.keywords.size > 0) throw pyFail("TypeError", `str.${name}() takes no keyword arguments`);
  const n = call.args.length;
  if (n >= min && n <= max) return call.args;
  if (max === 0) throw pyFail("TypeError", `str.${name}() takes no arguments (${n} given)`);
  if (min === max) throw pyFail("TypeError", `str.${name}() takes exactly one argument (${n} given)`);
  const bound = n < min ? `least ${min} argument` : `most ${max} arguments`;
  throw pyFail("TypeError", `${name} expected at ${bound}, got ${n}`);
}

function strArg(v: PyValue | undefined, message: string): string {
  if (typeof v !== "string") throw pyFail("TypeError", `${message}, not ${typeName(v ?? null)}`);
  return v;
}

/** `center`, `ljust`, `rjust`: padding to `width` code points with one fill character. */
function pad(s: string, name: string, a: (PyValue | undefined)[]): string {
  const width = indexArg(a[0] ?? null);
  const fill = a[1] === undefined ? " " : a[1];
  if (typeof fill !== "string")
    throw pyFail("TypeError", `The fill character must be a unicode character, not ${typeName(fill)}`);
  if (Array.from(fill).length !== 1)
    throw pyFail("TypeError", "The fill character must be exactly one character long");
  const length = BigInt(Array.from(s).length);
  if (width <= length) return s;
  checkSize(width, "str");
  const margin = Number(width - length);
  const left =
    name === "ljust" ? 0 : name === "rjust" ? margin : Math.floor(margin / 2) + (margin & Number(width) & 1);
  return fill.repeat(left) + s + fill.repeat(margin - left);
}

function zfill(s: string, widthArg: PyValue): string {
  const width = indexArg(widthArg);
  const chars = Array.from(s);
  if (width <= BigInt(chars.length)) return s;
  checkSize(width, "str");
  const zeros = "0".repeat(Number(width) - chars.length);
  const sign = chars[0] === "+" || chars[0] === "-" ? (chars[0] ?? "") : "";
  return sign + zeros + s.slice(sign.length);
}

function expandTabs(s: string, call: CallArgs): string {
  let size: PyValue | undefined = call.args[0];
  if (call.args.length > 1)
    throw pyFail("TypeError", `expandtabs() takes at most 1 argument (${call.args.length} given)`);
  for (const [key, value] of call.keywords) {
    if (key !== "tabsize" || size !== undefined)
      throw pyFail("TypeError", `'${key}' is an invalid keyword argument for expandtabs()`);
    size = value;
  }
  const tab = size === undefined ? 8n : indexArg(size);
  let out = "";
  let column = 0n;
  for (const c of s) {
    if (c === "\t") {
      if (tab <= 0n) continue;
      const spaces = tab - (column % tab);
      checkSize(BigInt(out.length) + spaces, "str");
      out += " ".repeat(Number(spaces));
      column += spaces;
    } else {
      out += c;
      column = c === "\n" || c === "\r" ? 0n : column + 1n;
    }
  }
  return out;
}

function partition(s: string, sepArg: PyValue | undefined, fromRight: boolean): PyTuple {
  const sep = strArg(sepArg, "must be str");
  if (sep === "") throw pyFail("ValueError", "empty separator");
  const at = fromRight ? s.lastIndexOf(sep) : s.indexOf(sep);
  if (at < 0) return new PyTuple(fromRight ? ["", "", s] : [s, "", ""]);
  return new PyTuple([s.slice(0, at), sep, s.slice(at + sep.length)]);
}

/** Whether the capital sigma at `i` ends a word (Unicode's Final_Sigma, as CPython's lower() applies it). */
function finalSigma(chars: readonly string[], i: number): boolean {
  const cased = (step: number): boolean => {
    for (let j = i + step; j >= 0 && j < chars.length; j += step) {
      const c = chars[j] ?? "";
      if (!IGNORABLE.test(c)) return CASED.test(c);
    }
    return false;
  };
  return cased(-1) && !cased(1);
}

function swapCase(s: string): string {
  const chars = Array.from(s);
  return chars
    .map((c, i) => {
      if (c === "\u03a3") return finalSigma(chars, i) ? "\u03c2" : "\u03c3";
      return UPPER.test(c) ? c.toLowerCase() : LOWER.test(c) ? c.toUpperCase() : c;
    })
    .join("");
}

/** Calls one of STR_CASE_METHODS on `s`. */
export function callStrCaseMethod(s: string, name: string, call: CallArgs): PyValue {
  if (name === "expandtabs") return expandTabs(s, call);
  if (name.startsWith("is") || ["title", "capitalize", "swapcase", "casefold"].includes(name)) {
    argCount(name, call, 0, 0);
  }
  switch (name) {
    case "isdigit":
      return DIGIT.test(s);
    case "isdecimal":
      return /^\p{Nd}+$/u.test(s);
    case "isnumeric":
      return NUMERIC.test(s);
    case "isalpha":
      return /^\p{L}+$/u.test(s);
    case "isalnum":
      return /^[\p{L}\p{N}]+$/u.test(s);
    case "isspace":
      return s !== "" && Array.from(s).every((c) => SPACE.has(c.codePointAt(0) ?? 0));
    case "islower":
      return isCase(s, LOWER, UPPER);
    case "isupper":
      return isCase(s, UPPER, LOWER);
    case "istitle":
      return isTitle(s);
    case "isascii":
      return Array.from(s).every((c) => (c.codePointAt(0) ?? 0) < 0x80);
    case "title":
      return title(s);
    case "capitalize": {
      const [first] = Array.from(s);
      return first === undefined ? "" : titleChar(first) + s.slice(first.length).toLowerCase();
    }
    case "swapcase":
      return swapCase(s);
    case "casefold":
      return Array.from(s, foldChar).join("");
    case "center":
    case "ljust":
    case "rjust":
      return pad(s, name, argCount(name, call, 1, 2));
    case "zfill":
      return zfill(s, argCount(name, call, 1, 1)[0] ?? null);
    case "partition":
    case "rpartition":
      return partition(s, argCount(name, call, 1, 1)[0], name === "rpartition");
    case "removeprefix":
    case "removesuffix": {
      const affix = strArg(argCount(name, call, 1, 1)[0], `${name}() argument must be str`);
      if (affix === "") return s;
      if (name === "removeprefix") return s.startsWith(affix) ? s.slice(affix.length) : s;
      return s.endsWith(affix) ? s.slice(0, s.length - affix.length) : s;
    }
  }
  throw pyFail("AttributeError", `'str' object has no attribute '${name}'`);
}
