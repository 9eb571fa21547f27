/**
 * fast-check arbitraries of Python values for the formatting tests: ints small, huge (past the 4300-digit limit)
 * and negative; floats near rounding ties, subnormals, powers of two, -0.0, inf, nan; strings with quotes,
 * controls, DEL, non-ASCII, unassigned and astral characters, lone surrogates; containers of them.
 */
import fc from "fast-check";
import type { Value } from "./python_format.ts";

/** `arbitrary` one time in `1 + weight`, else "". */
export const rarely = (arbitrary: fc.Arbitrary<string>, weight = 5): fc.Arbitrary<string> =>
  fc.oneof({ weight, arbitrary: fc.constant("") }, { weight: 1, arbitrary });

export const smallInt = fc.integer({ min: -2000, max: 2000 }).map((n) => BigInt(n));
const int = fc.oneof(
  { weight: 4, arbitrary: smallInt },
  { weight: 2, arbitrary: fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(0n, 65n, 0x10ffffn, 0x110000n, -1n, 2n ** 63n, 10n ** 4300n, -(10n ** 4299n)),
  },
);

const NICE = [
  0,
  0.5,
  1.5,
  2.5,
  0.125,
  0.375,
  1e16,
  1e15,
  1e-5,
  1e-4,
  123.456,
  9.995,
  0.045,
  1e22,
  5e-324,
  2 ** 53,
];
const float = fc.oneof(
  { weight: 3, arbitrary: fc.double() },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.integer({ min: -99999, max: 99999 }), fc.integer({ min: 0, max: 6 }))
      .map(([n, k]) => n / 10 ** k),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 1, max: 6 }))
      .map(([n, k]) => (n + 0.5) / 10 ** k),
  },
  { weight: 1, arbitrary: fc.integer({ min: -1074, max: 1023 }).map((e) => 2 ** e) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      ...NICE,
      ...NICE.map((x) => -x),
      -0,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
    ),
  },
);

export const CHARS = [
  "a",
  "Z",
  " ",
  "'",
  '"',
  "\\",
  "\n",
  "\t",
  "\r",
  "\x00",
  "\x1f",
  "\x7f",
  "\x85",
  "\xa0",
  "\xad",
  "é",
  "€",
  "\u2028",
  "\u0378",
  "\ud800",
  "\udfff",
  "😀",
  "\u{1f6d8}",
  "\u{e0001}",
  "٣",
  "{",
  "}",
  "%",
];
const str = fc.oneof(
  { weight: 3, arbitrary: fc.array(fc.constantFrom(...CHARS), { maxLength: 8 }).map((cs) => cs.join("")) },
  { weight: 2, arbitrary: fc.string({ maxLength: 10 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 6 }) },
);

export const intValue = int.map((v): Value => ({ t: "i", v }));
export const floatValue = float.map((v): Value => ({ t: "f", v }));
const strValue = str.map((v): Value => ({ t: "s", v }));
export const boolValue = fc.boolean().map((v): Value => ({ t: "b", v }));

export const scalar: fc.Arbitrary<Value> = fc.oneof(
  { weight: 4, arbitrary: intValue },
  { weight: 4, arbitrary: floatValue },
  { weight: 3, arbitrary: strValue },
  { weight: 1, arbitrary: boolValue },
  { weight: 1, arbitrary: fc.constant<Value>({ t: "n" }) },
);

/** A key json.dumps may or may not accept; hashable in Python. */
const key: fc.Arbitrary<Value> = fc.oneof(
  { weight: 6, arbitrary: scalar.filter((v) => !(v.t === "f" && Number.isNaN(v.v))) },
  { weight: 1, arbitrary: fc.array(scalar, { maxLength: 2 }).map((v): Value => ({ t: "tu", v })) },
);

/** Scalars and containers nested up to three deep (sets hold only one item: their order is hash order). */
export const value: fc.Arbitrary<Value> = fc.letrec<{ v: Value }>((tie) => ({
  v: fc.oneof(
    { maxDepth: 3, depthIdentifier: "value" },
    { weight: 6, arbitrary: scalar },
    { weight: 1, arbitrary: fc.array(tie("v"), { maxLength: 3 }).map((v): Value => ({ t: "l", v })) },
    { weight: 1, arbitrary: fc.array(tie("v"), { maxLength: 3 }).map((v): Value => ({ t: "tu", v })) },
    {
      weight: 1,
      arbitrary: fc.array(fc.tuple(key, tie("v")), { maxLength: 3 }).map((v): Value => ({ t: "d", v })),
    },
    {
      weight: 1,
      arbitrary: fc
        .array(
          key.filter((k) => k.t !== "tu"),
          { maxLength: 1 },
        )
        .map((v): Value => ({ t: "set", v })),
    },
  ),
})).v;
