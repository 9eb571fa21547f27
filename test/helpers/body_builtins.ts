/**
 * fast-check arbitraries of built-in calls and comparisons where CPython's answers have corners: conversions of
 * realistic text (`int(' 42 ')`, `int('4_2')`, `int('٣')`, `float('infinity')`, bases 0/2/16/36), rounding
 * (`round(2.5)`, negative ndigits), `min`/`max` with `key=`/`default=`, `enumerate(start=)`, `zip` of three,
 * `str`/`repr` of nested containers with floats, `range` objects, and ordering across types (`[1] < [1, 2]`,
 * `None < 1`: TypeError messages).
 */
import fc from "fast-check";
import type { Level } from "./body_formatting.ts";
import { pyString } from "./body_literals.ts";

const NUMERIC_TEXT = [
  " 42 ",
  "4_2",
  "٣",
  "١٢٣",
  "+7",
  "-0",
  "0x1f",
  "0b101",
  "1e3",
  "1.5",
  " -2.5e-3 ",
  "infinity",
  "-inf",
  "nan",
  "1_000.5",
  "",
  "abc",
  "12" + "3".repeat(40),
  "9".repeat(4301),
  "²",
  "\u00a07\u2003",
];
const numericText = fc.constantFrom(...NUMERIC_TEXT).map((s) => pyString(s));
const small = fc.integer({ min: -3, max: 5 }).map((n) => (n < 0 ? `(${n})` : String(n)));

/** Built-in calls and comparisons over the values of level `l`. */
export function builtinCalls(l: Level): fc.Arbitrary<string> {
  return fc.oneof(
    numericText.map((s) => `int(${s})`),
    numericText.map((s) => `float(${s})`),
    fc
      .tuple(numericText, fc.constantFrom("0", "2", "8", "16", "36", "1", "37"))
      .map(([s, b]) => `int(${s}, ${b})`),
    fc
      .tuple(fc.oneof(l.float, l.int), fc.option(fc.constantFrom("0", "1", "2", "-1", "-2", "None", "17")))
      .map(([x, n]) => (n === null ? `round(${x})` : `round(${x}, ${n})`)),
    fc
      .tuple(
        fc.constantFrom("min", "max"),
        l.list,
        fc.constantFrom("", ", key=str", ", key=len", ", default=0", ", key=abs, default=None"),
      )
      .map(([f, x, k]) => `${f}(${x}${k})`),
    fc.tuple(l.list, small).map(([x, s]) => `list(enumerate(${x}, start=${s}))`),
    fc.tuple(l.list, l.str, l.tuple).map(([a, b, c]) => `list(zip(${a}, ${b}, ${c}))`),
    fc.tuple(fc.constantFrom("str", "repr"), fc.oneof(l.list, l.dict, l.tuple)).map(([f, x]) => `${f}(${x})`),
    fc
      .constantFrom(
        "[1.0, -0.0, 1e16, 1e-5, float('nan'), 0.1 + 0.2]",
        "{'a': (1.5, None, True)}",
        "((),)",
        "[[], {}, '']",
      )
      .map((x) => `str(${x})`),
    fc
      .tuple(small, small, fc.constantFrom("1", "2", "-1"))
      .map(([a, b, c]) => `(repr(range(${a}, ${b}, ${c})), list(range(${a}, ${b}, ${c}))[::-1])`),
    fc
      .tuple(
        fc.oneof(l.list, l.tuple, l.any),
        fc.constantFrom("<", "<=", ">", "=="),
        fc.oneof(l.list, l.tuple, l.any),
      )
      .map(([a, op, b]) => `(${a} ${op} ${b})`),
    fc.tuple(l.list, fc.constantFrom("any", "all", "sum")).map(([x, f]) => `${f}(v for v in ${x} if v)`),
    fc.tuple(l.int, fc.constantFrom("bin", "oct", "hex", "chr", "ascii")).map(([x, f]) => `${f}(-${x})`),
    fc.tuple(fc.oneof(l.float, l.int), fc.oneof(l.float, l.int)).map(([a, b]) => `divmod(${a}, ${b})`),
  );
}
