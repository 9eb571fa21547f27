/**
 * JSON-ish texts for differential tests against CPython's `json.loads` (test/helpers/python_json.ts): valid trees
 * with ugly corners (lone surrogates, huge integers, NaN, duplicate and `__proto__` keys), deep nests, mutants.
 */
import fc from "fast-check";

const ws = fc.oneof(
  { arbitrary: fc.constantFrom("", "", "", " ", "\n  ", "\t", "\r\n", " \n\t\r "), weight: 50 },
  { arbitrary: fc.constantFrom("\f", "\v", "\u00a0", "\u2028", "\ufeff"), weight: 1 }, // not JSON whitespace
);
const digits = (minLength: number, maxLength: number) =>
  fc.string({ unit: fc.constantFrom(..."0123456789"), minLength, maxLength });
const hex = (unit: number, upper: boolean) => {
  const h = unit.toString(16).padStart(4, "0");
  return `\\u${upper ? h.toUpperCase() : h}`;
};

const signed = (arbitrary: fc.Arbitrary<string>, weight: number) => ({
  arbitrary: fc
    .tuple(fc.constantFrom("", "-"), fc.integer({ min: 1, max: 9 }), arbitrary)
    .map((p) => p.join("")),
  weight,
});
const integer = fc.oneof(
  {
    arbitrary: fc.constantFrom(
      "0",
      "-0",
      "1",
      "-1",
      "9007199254740992",
      "9007199254740993",
      "-9007199254740993",
    ),
    weight: 20,
  },
  signed(digits(0, 25), 20),
  signed(digits(100, 400), 10),
  { arbitrary: fc.constantFrom("9".repeat(4300), `-${"1".repeat(4300)}`, "9".repeat(4301)), weight: 1 },
);
const float = fc.oneof(
  fc.constantFrom(
    "-0.0",
    "0.0",
    "1.0",
    "1e400",
    "-1e400",
    "1E-400",
    "1.5e308",
    "1e22",
    "1e16",
    "1e15",
    "1e-7",
  ),
  fc.constantFrom("0.0001", "0.00001", "5e-324", "2.2250738585072014e-308", "1.7976931348623157e308", "0.1"),
  fc.constantFrom(
    "NaN",
    "Infinity",
    "-Infinity",
    `${"1".repeat(5000)}.5`,
    "123456789012345678901234567890e-10",
  ),
  fc
    .tuple(
      fc.constantFrom("", "-"),
      fc.oneof(
        fc.constant("0"),
        fc.tuple(fc.integer({ min: 1, max: 9 }), digits(0, 20)).map(([d, r]) => `${d}${r}`),
      ),
      fc.option(digits(1, 20).map((d) => `.${d}`)),
      fc.option(
        fc
          .tuple(fc.constantFrom("e", "E"), fc.constantFrom("", "+", "-"), digits(1, 4))
          .map((p) => p.join("")),
      ),
    )
    .map(([sign, whole, frac, exp]) => `${sign}${whole}${frac ?? (exp === null ? ".0" : "")}${exp ?? ""}`),
);
/** A character that may stand raw in a JSON string: `"`, `\\` and controls replaced. */
const plain = (ch: string) => (ch === '"' || ch === "\\" || ch < " " ? "x" : ch);
const surrogate = fc.integer({ min: 0xd800, max: 0xdfff });
const stringPiece = fc.oneof(
  {
    arbitrary: fc.string({ unit: "grapheme", maxLength: 4 }).map((s) => [...s].map(plain).join("")),
    weight: 10,
  },
  { arbitrary: fc.constantFrom("\u0000", "\u001f", "\t", "\n"), weight: 1 }, // raw controls: refused (strict)
  {
    arbitrary: fc.constantFrom(
      "\\n",
      '\\"',
      "\\\\",
      "\\/",
      "\\b",
      "\\f",
      "\\r",
      "\\t",
      "\u007f",
      "\u2028",
      "😀",
      "\ufffd",
    ),
    weight: 10,
  },
  {
    arbitrary: fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.boolean()).map(([u, up]) => hex(u, up)),
    weight: 10,
  },
  { arbitrary: fc.tuple(surrogate, fc.boolean()).map(([u, up]) => hex(u, up)), weight: 10 },
  {
    arbitrary: fc
      .tuple(fc.integer({ min: 0xd800, max: 0xdbff }), fc.integer({ min: 0xdc00, max: 0xdfff }), fc.boolean())
      .map(([hi, lo, up]) => hex(hi, up) + hex(lo, !up)),
    weight: 10,
  },
);
const string = fc.array(stringPiece, { maxLength: 5 }).map((pieces) => `"${pieces.join("")}"`);
const key = fc.oneof(
  string,
  fc.constantFrom(
    '"__proto__"',
    '"constructor"',
    '"hasOwnProperty"',
    '"toString"',
    '"a"',
    '"b"',
    '"1"',
    '"\\ud800"',
  ),
);

const { value } = fc.letrec<{ value: string; array: string; object: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom("null", "true", "false"),
    integer,
    float,
    string,
    tie("array"),
    tie("object"),
  ),
  array: fc
    .tuple(ws, fc.array(fc.tuple(tie("value"), ws, ws), { maxLength: 5 }))
    .map(([w, items]) => `[${w}${items.map(([v, a, b]) => `${a}${v}${b}`).join(",")}]`),
  object: fc
    .tuple(ws, fc.array(fc.tuple(key, tie("value"), ws, ws, ws), { maxLength: 5 }))
    .map(
      ([w, members]) => `{${w}${members.map(([k, v, a, b, c]) => `${a}${k}${b}:${c}${v}${a}`).join(",")}}`,
    ),
}));

/** `value` inside 1-800 levels of arrays and/or objects. */
const deep = fc
  .tuple(fc.integer({ min: 1, max: 800 }), fc.constantFrom("array", "object", "mixed"), value)
  .map(([levels, shape, inner]) => {
    let text = inner;
    for (let level = 0; level < levels; level++) {
      const array = shape === "array" || (shape === "mixed" && level % 2 === 0);
      text = array ? `[${text}]` : `{"__proto__":${text}}`;
    }
    return text;
  });

/** One random character inserted (often one that matters to JSON) or one deleted: mostly invalid texts. */
const mutated = (base: fc.Arbitrary<string>) =>
  fc
    .tuple(
      base,
      fc.nat(),
      fc.constantFrom(...'{}[],:"\\ -+.eE019aNI\u0000\u001f\u001e\f\t\ufeff/u', "\u00a0"),
      fc.boolean(),
    )
    .map(([text, at, ch, insert]) => {
      const i = at % (text.length + 1);
      return insert ? text.slice(0, i) + ch + text.slice(i) : text.slice(0, i) + text.slice(i + 1);
    })
    .filter((text) => !/\p{Cs}/u.test(text));

/** JSON-ish texts: valid trees with ugly corners, deep nests, and mutants of both. */
export const jsonTexts = fc.oneof(
  { arbitrary: fc.tuple(ws, value, ws).map((p) => p.join("")), weight: 4 },
  { arbitrary: deep, weight: 1 },
  { arbitrary: mutated(value), weight: 3 },
  { arbitrary: mutated(deep), weight: 1 },
);
