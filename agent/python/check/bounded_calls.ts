/**
 * What each built-in and method costs, for the bounded rule (bounded.ts): for every callable a Body may call, how
 * big its result can be, how much it allocates and how much it computes, as a function of its operands' sizes
 * (bounded_size.ts), or why it is outside the rule. A method is judged by its name alone, whatever the receiver's
 * type turns out to be (`x.count(y)` may be str.count or list.count): each row below is the worst of every type
 * that has the name (types/registry.ts).
 *
 * Outside the rule, each for a reason a test names (test/python/inprocess_rule.test.ts):
 * - loops in disguise or results not bounded by their inputs: `range`, `map`, `filter`, `sum` (list + list … is
 *   quadratic), `pow`, `divmod`, `round` (`round(10, -10**6)` builds 10**10**6), `dict.fromkeys` (one value per
 *   key: a product), `str.translate`/`maketrans` (a character may map to any string);
 * - mutation (`append`, `update`, `sort` … every method that changes its receiver): a container changed after
 *   it was shared (`b = [a, a]; a.append(b)`) grows values the rule has already sized;
 * - a result whose size is a number rather than a size (width bombs): `ljust`/`rjust`/`center`/`zfill`/
 *   `expandtabs` and format specs (`'{:>{w}}'`, `'%*s'`, `format(x, spec)`) unless every width and precision is a
 *   literal of at most {@link WIDTH_CAP};
 * - a product of two inputs: `sep.join(xs)` and `s.replace(old, new)` unless `sep`/`new` is a literal (the result
 *   is then at most `len(literal)+1` times the input), a format template that is not a literal;
 * - V8's backward substring search is quadratic (`lastIndexOf`): `rfind`, `rindex`, `rpartition`, `rsplit` need a
 *   literal needle (their cost is then the input times its length);
 * - keyword arguments that take a callable (`key=`): a script as a key runs once per element.
 */
import type { Expr } from "./ast.ts";
import { add, constant, max, type Size, scale, ZERO } from "./bounded_size.ts";

/** A repr can be 10 characters per character (`'\U0010ffff'`), plus brackets and `, ` per element. */
export const REPR = 10;
/** An element (a str of one character from `list(s)`, a tuple of `zip`) costs ~64 bytes; a character 2. */
export const EXPLODE = 32;
/** Unicode's special casing maps one character to at most three (`'ΐ'.upper()`). */
const CASE = 3;
/** Comparisons of a sort: at most log2(n) ≤ 32 passes over the input. */
const SORT = 32;
/** Hashing a str key (SipHash in JavaScript, for CPython's set order) costs ~16 copies of it. */
const HASH = 16;
/** The largest literal width, precision, tab size or padding width a Body may use in-process. */
export const WIDTH_CAP = 1024;
/** A number's text (`bin(int('f'*n, 16))` is 4 characters per hex digit; a float's repr up to ~24). */
const NUMBER_TEXT = 4;
const NUMBER_SLACK = 32;

export interface Operand {
  readonly size: Size;
  readonly expr: Expr;
  /** `*x` or `**x`: an unknown number of arguments. */
  readonly spread: boolean;
  /** The keyword's name, for a keyword argument. */
  readonly keyword?: string;
}

/** A callable's bound: its result's size, what it allocates and what it computes. */
export interface Cost {
  readonly size: Size;
  readonly alloc: Size;
  readonly time: Size;
}

export type CallCost = Cost | { readonly refused: string };

const LINEAR = new Set(
  (
    "strip lstrip rstrip removeprefix removesuffix partition count find index startswith endswith get copy " +
    "keys values items as_integer_ratio conjugate hex bit_count bit_length is_integer isalnum isalpha isascii " +
    "isdecimal isdigit isidentifier islower isnumeric isprintable isspace istitle isupper"
  ).split(" "),
);
const CASED = new Set(["capitalize", "casefold", "lower", "upper", "swapcase", "title"]);
const SET_ALGEBRA = new Set(
  "difference intersection union symmetric_difference isdisjoint issubset issuperset".split(" "),
);
const BACKWARD = new Set(["rfind", "rindex", "rpartition", "rsplit"]);
const PADDING = new Set(["ljust", "rjust", "center", "zfill"]);

/** The cost of `receiver.name(args)` whatever the receiver's type. */
export function methodCost(name: string, receiver: Operand, args: readonly Operand[]): CallCost {
  const all = add(receiver.size, ...args.map((x) => x.size));
  if (LINEAR.has(name)) return linear(all);
  if (CASED.has(name)) return { size: scale(all, CASE), alloc: scale(all, CASE), time: scale(all, CASE) };
  if (SET_ALGEBRA.has(name)) return { size: all, alloc: all, time: scale(all, HASH) };
  if (name === "split" || name === "splitlines" || BACKWARD.has(name)) {
    let time = all;
    if (BACKWARD.has(name)) {
      const needle = args.find((x) => x.keyword === undefined || x.keyword === "sep");
      const length = needle === undefined ? 0 : literalLength(needle);
      if (length === null) return { refused: `.${name}() with a needle that is not a literal` };
      time = scale(all, length + 1);
    }
    const exploding = name !== "rpartition";
    return { size: all, alloc: exploding ? scale(all, EXPLODE) : all, time };
  }
  if (PADDING.has(name) || name === "expandtabs") {
    const width = args.find((x) => x.keyword === undefined || x.keyword === "tabsize");
    const value = width === undefined ? (name === "expandtabs" ? 8 : null) : intLiteral(width.expr);
    if (value === null || value > WIDTH_CAP) {
      return { refused: `.${name}() with a width that is not a literal of at most ${WIDTH_CAP}` };
    }
    const grown = name === "expandtabs" ? scale(all, Math.max(value, 1)) : add(all, constant(value));
    return linear(grown);
  }
  if (name === "replace") {
    const length = args[1] === undefined ? null : literalLength(args[1]);
    if (length === null) return { refused: ".replace() with a replacement that is not a literal" };
    return linear(add(scale(all, length + 1), constant(length)));
  }
  if (name === "join") {
    const length = literalLength(receiver);
    if (length === null) return { refused: ".join() on a separator that is not a literal" };
    return linear(scale(all, length + 1));
  }
  if (name === "format" || name === "format_map") {
    if (receiver.expr.kind !== "literal" || typeof receiver.expr.value !== "string") {
      return { refused: `.${name}() on a template that is not a literal` };
    }
    const fields = formatFields(receiver.expr.value);
    if (typeof fields === "string") return { refused: fields };
    // Each field formats one argument (or a part of it): at most the largest argument's repr, plus its width.
    const widest = args.reduce((m, x) => max(m, x.size), ZERO);
    return linear(add(receiver.size, scale(widest, fields.count * REPR), constant(fields.slack)));
  }
  return { refused: `.${name}() (it changes its receiver, or its result is not bounded by its inputs)` };
}

const SMALL = new Set(["len", "bool", "isinstance", "ord", "chr"]);
const SAME = new Set(["abs", "int", "float", "complex", "min", "max", "any", "all"]);
const CONTAINERS = new Set(["list", "tuple", "set", "dict", "sorted", "enumerate", "zip", "reversed"]);
/** The keyword arguments each built-in may take in-process (none takes a callable). */
const KEYWORDS: Readonly<Record<string, readonly string[]>> = {
  int: ["base"],
  min: ["default"],
  max: ["default"],
  sorted: ["reverse"],
  enumerate: ["start"],
};

/** The cost of the built-in `name(args)`. */
export function builtinCost(name: string, args: readonly Operand[]): CallCost {
  const allowed = KEYWORDS[name] ?? [];
  const keyword = args.find((x) => x.keyword !== undefined && !allowed.includes(x.keyword));
  if (keyword !== undefined && name !== "dict") return { refused: `${name}() with ${keyword.keyword}=` };
  const all = add(...args.map((x) => x.size));
  if (SMALL.has(name)) return { size: constant(NUMBER_SLACK), alloc: ZERO, time: all };
  if (SAME.has(name)) return linear(add(all, constant(NUMBER_SLACK)));
  if (name === "str" || name === "repr" || name === "ascii") {
    return linear(add(scale(all, REPR), constant(NUMBER_SLACK)));
  }
  if (name === "bin" || name === "oct" || name === "hex") {
    return linear(add(scale(all, NUMBER_TEXT), constant(NUMBER_SLACK)));
  }
  if (name === "format") {
    const spec = args[1];
    if (spec !== undefined) {
      if (spec.expr.kind !== "literal" || typeof spec.expr.value !== "string") {
        return { refused: "format() with a spec that is not a literal" };
      }
      const problem = specProblem(spec.expr.value);
      if (problem !== null) return { refused: problem };
    }
    return linear(add(scale(all, REPR), constant(2 * WIDTH_CAP)));
  }
  if (CONTAINERS.has(name)) {
    const factor = name === "sorted" ? SORT : name === "set" || name === "dict" ? HASH : 1;
    return { size: all, alloc: scale(all, EXPLODE), time: scale(all, factor) };
  }
  return { refused: `${name}() (a loop in disguise, or a result not bounded by its inputs)` };
}

function linear(size: Size): Cost {
  return { size, alloc: size, time: size };
}

/** The length of a str literal operand, or null when it is not one. */
function literalLength(operand: Operand): number | null {
  const e = operand.expr;
  return !operand.spread && e.kind === "literal" && typeof e.value === "string" ? e.value.length : null;
}

function intLiteral(e: Expr): number | null {
  return e.kind === "literal" && typeof e.value === "bigint" ? Number(e.value) : null;
}

/** Why a literal format spec is outside the rule (a width or precision above the cap), or null. */
export function specProblem(spec: string): string | null {
  for (const digits of spec.matchAll(/\d+/g)) {
    if (Number(digits[0]) > WIDTH_CAP) return `a format width or precision above ${WIDTH_CAP}`;
  }
  return null;
}

/**
 * The replacement fields of a literal `str.format` template: how many, and the characters their specs may add
 * (each literal width or precision, and a number's own text), or why it is outside the rule: a nested field in
 * a spec (`'{:>{}}'`: the width comes from an argument) or a width above the cap. A malformed template is
 * CPython's ValueError at run time, which costs nothing: its fields so far are counted.
 */
export function formatFields(template: string): { count: number; slack: number } | string {
  let count = 0;
  let slack = 0;
  let i = 0;
  while (i < template.length) {
    const c = template[i++];
    if ((c === "{" || c === "}") && template[i] === c) {
      i++;
      continue;
    }
    if (c !== "{") continue;
    const end = template.indexOf("}", i);
    if (end < 0) break;
    const field = template.slice(i, end);
    if (field.includes("{")) return "a format field nested in a spec (a width from an argument)";
    const colon = field.indexOf(":");
    const spec = colon < 0 ? "" : field.slice(colon + 1);
    const problem = specProblem(spec);
    if (problem !== null) return problem;
    count++;
    slack += specSlack(spec);
    i = end + 1;
  }
  return { count, slack };
}

/** What a literal spec may add to a field: its widths and precisions, and a number's own text. */
export function specSlack(spec: string): number {
  let slack = NUMBER_SLACK + 320; // a float's digits before the point (1e308), a sign, separators
  for (const digits of spec.matchAll(/\d+/g)) slack += Number(digits[0]);
  return slack;
}

/** The conversions of a literal `%` template (as {@link formatFields}), or why it is outside the rule (`*`, a big width). */
export function percentFields(template: string): { count: number; slack: number } | string {
  let count = 0;
  let slack = 0;
  for (const m of template.matchAll(/%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d*))?[hlL]?(.)?/gs)) {
    if (m[3] === "%") continue;
    for (const n of [m[1], m[2]]) {
      if (n === "*") return "a % conversion with a width or precision from an argument (*)";
      if (n !== undefined && n !== "" && Number(n) > WIDTH_CAP)
        return `a % width or precision above ${WIDTH_CAP}`;
    }
    count++;
    slack += specSlack(`${m[1] ?? ""}.${m[2] ?? ""}`);
  }
  return { count, slack };
}
