/**
 * fast-check arbitraries of Python numeric expressions (source text) for the numbers property test: ints small,
 * large and huge (beyond floats, beyond 4300 digits), floats of every kind (-0.0, inf, nan, subnormals, ties,
 * the largest), bools, combined by `+ - * / // % **`, unary signs, comparisons (chained too), and the numeric
 * built-ins `int() float() round() abs() divmod() pow() bool() sum() max() min()`, plus `int(text, base)`
 * and `float(text)` of generated text (Unicode digits and spaces, underscores, prefixes, signs).
 *
 * Complex numbers too: imaginary literals, `complex()`, and any expression to a fractional power (a negative
 * base gives a complex), which then meets every operator and built-in above.
 *
 * Kept finite for CPython too: exponents are small (a huge int to a huge power would run for minutes).
 */
import fc from "fast-check";

/** A double as Python source: `1.0`, `(-2.5)`, `1e+300`, `float('nan')`. */
export function floatSource(x: number): string {
  if (Number.isNaN(x)) return "float('nan')";
  if (!Number.isFinite(x)) return x > 0 ? "float('inf')" : "float('-inf')";
  if (Object.is(x, -0)) return "(-0.0)";
  const text = String(Math.abs(x));
  const literal = /[.e]/.test(text) ? text : `${text}.0`;
  return x < 0 ? `(-${literal})` : literal;
}

function intSource(n: bigint): string {
  return n < 0n ? `(${n})` : `${n}`;
}

const smallInt = fc.integer({ min: -20, max: 20 }).map((n) => intSource(BigInt(n)));
const wideInt = fc.bigInt({ min: -(1n << 80n), max: 1n << 80n }).map(intSource);
const nearFloatLimits = fc
  .tuple(fc.constantFrom(53, 54, 64, 1023, 1024), fc.integer({ min: -3, max: 3 }), fc.boolean())
  .map(([k, c, neg]) => `(${neg ? "-" : ""}2**${k}${c < 0 ? c : `+${c}`})`);
const hugeInt = fc
  .tuple(fc.constantFrom(2, 3, 7, 10), fc.integer({ min: 40, max: 1400 }), fc.integer({ min: -9, max: 9 }))
  .map(([b, k, c]) => `(${b}**${k}${c < 0 ? c : `+${c}`})`);
const beyondDigits = fc.constantFrom("(10**4299)", "(10**4300)", "(-10**4300+1)", "(2**14300)");
const int = fc.oneof(
  { weight: 4, arbitrary: smallInt },
  { weight: 2, arbitrary: wideInt },
  { weight: 1, arbitrary: nearFloatLimits },
  { weight: 1, arbitrary: hugeInt },
  { weight: 1, arbitrary: beyondDigits },
  { weight: 1, arbitrary: fc.constantFrom("9007199254740993", "(-9007199254740993)", "0", "1", "(-1)") },
);

const interestingFloat = fc.constantFrom(
  0.1,
  0.5,
  1.5,
  2.5,
  -2.5,
  0.25,
  1e16,
  2 ** 53,
  2 ** 63,
  5e-324,
  2.2250738585072014e-308,
  1.7976931348623157e308,
  0.30000000000000004,
  1e-5,
  123.456,
  2.675,
  1e22,
  1e23,
  -0,
  0,
  3,
  7,
  -7,
);
const ratio = fc
  .tuple(fc.integer({ min: -100, max: 100 }), fc.constantFrom(1, 2, 4, 8, 10, 3))
  .map(([n, d]) => n / d);
const float = fc
  .oneof(
    { weight: 3, arbitrary: fc.double() },
    { weight: 3, arbitrary: interestingFloat },
    { weight: 3, arbitrary: ratio },
    { weight: 1, arbitrary: fc.double({ min: -1e-300, max: 1e-300 }) },
  )
  .map(floatSource);

const bool = fc.constantFrom("True", "False");
const complex = fc.oneof(
  fc.tuple(float, float).map(([re, im]) => `complex(${re}, ${im})`),
  float.filter((x) => !x.includes("(")).map((x) => `${x}j`),
  fc.constantFrom("1j", "(-1j)", "(1+2j)", "(-0.0-0j)", "1e400j", "(1e308+1e308j)", "complex('nan-infj')"),
);
/** A number; now and then None, for the TypeErrors of every operator and built-in. */
export const numberLeaf = fc.oneof(
  { weight: 8, arbitrary: int },
  { weight: 8, arbitrary: float },
  { weight: 2, arbitrary: complex },
  { weight: 2, arbitrary: bool },
  { weight: 1, arbitrary: fc.constant("None") },
);

const intExponent = fc.oneof(
  fc.integer({ min: -6, max: 12 }).map((n) => intSource(BigInt(n))),
  fc.constantFrom("True", "False", "2.0", "(-1.0)", "0.0", "(-1075)", "53", "(-2.0)"),
);
const fracExponent = fc.constantFrom(
  "0.5",
  "(-0.5)",
  "1.5",
  "(1/3)",
  "float('inf')",
  "float('-inf')",
  "float('nan')",
  "1e300",
  "(-1e300)",
);

const PIECES = [
  "0",
  "1",
  "7",
  "9",
  "42",
  "_",
  "-",
  "+",
  ".",
  "e",
  "E",
  "x",
  "0x",
  "0o",
  "0b",
  "a",
  "f",
  "z",
  " ",
  "\t",
  "\n",
  "\x1c",
  "\xa0",
  "\u2003",
  "\u0663",
  "\uff11",
  "\u{1d7d9}",
  "inf",
  "nan",
  "Infinity",
  "\u0661\u0662",
  "\xe9",
  "\x00",
  "\u00b2",
  "\ufeff",
  "1e5",
  "0_0",
];
/** A Python string literal with every character outside printable ASCII escaped. */
export function strSource(text: string): string {
  let out = "'";
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === "'" || ch === "\\") out += `\\${ch}`;
    else if (cp >= 0x20 && cp < 0x7f) out += ch;
    else if (cp < 0x100) out += `\\x${cp.toString(16).padStart(2, "0")}`;
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, "0")}`;
    else out += `\\U${cp.toString(16).padStart(8, "0")}`;
  }
  return `${out}'`;
}
const numberText = fc
  .array(fc.constantFrom(...PIECES), { minLength: 0, maxLength: 6 })
  .map((p) => strSource(p.join("")));
const base = fc.constantFrom(
  "0",
  "2",
  "8",
  "10",
  "16",
  "36",
  "7",
  "4",
  "32",
  "1",
  "37",
  "(-1)",
  "True",
  "None",
);
const textConversion = fc.oneof(
  numberText.map((s) => `int(${s})`),
  fc.tuple(numberText, base).map(([s, b]) => `int(${s}, ${b})`),
  numberText.map((s) => `float(${s})`),
);

const BINARY = ["+", "-", "*", "/", "//", "%"] as const;
const COMPARE = ["<", "<=", "==", "!=", ">", ">="] as const;

/** Numeric expressions, up to three operators deep. */
const expression: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => {
  const e = tie("e");
  return {
    e: fc.oneof(
      { maxDepth: 3, depthIdentifier: "number" },
      { weight: 6, arbitrary: numberLeaf },
      {
        weight: 6,
        arbitrary: fc.tuple(e, fc.constantFrom(...BINARY), e).map(([a, op, b]) => `(${a} ${op} ${b})`),
      },
      { weight: 1, arbitrary: fc.tuple(e, intExponent).map(([a, x]) => `(${a} ** ${x})`) },
      { weight: 1, arbitrary: fc.tuple(e, fracExponent).map(([a, x]) => `(abs(${a}) ** ${x})`) },
      { weight: 1, arbitrary: fc.tuple(e, fracExponent).map(([a, x]) => `(${a} ** ${x})`) },
      { weight: 1, arbitrary: fc.tuple(fc.constantFrom("-", "+"), e).map(([op, a]) => `(${op}${a})`) },
      {
        weight: 2,
        arbitrary: fc.tuple(e, fc.constantFrom(...COMPARE), e).map(([a, op, b]) => `(${a} ${op} ${b})`),
      },
      {
        weight: 1,
        arbitrary: fc
          .tuple(e, fc.constantFrom(...COMPARE), e, fc.constantFrom(...COMPARE), e)
          .map(([a, p, b, q, c]) => `(${a} ${p} ${b} ${q} ${c})`),
      },
      {
        weight: 3,
        arbitrary: fc.oneof(
          fc
            .tuple(fc.constantFrom("int", "float", "complex", "round", "abs", "bool"), e)
            .map(([f, a]) => `${f}(${a})`),
          fc.tuple(e, e).map(([a, b]) => `complex(${a}, ${b})`),
          fc.tuple(e, fc.integer({ min: -4, max: 6 })).map(([a, n]) => `round(${a}, ${n})`),
          fc.tuple(e, intExponent).map(([a, x]) => `pow(${a}, ${x})`),
          fc.tuple(int, fc.integer({ min: -3, max: 200 }), int).map(([a, x, m]) => `pow(${a}, ${x}, ${m})`),
          fc.tuple(e, e, e).map(([a, b, c]) => `sum([${a}, ${b}, ${c}])`),
          fc.tuple(fc.constantFrom("max", "min"), e, e).map(([f, a, b]) => `${f}(${a}, ${b})`),
        ),
      },
      { weight: 1, arbitrary: textConversion },
    ),
  };
}).e;

/**
 * What the property test evaluates: an expression, or `divmod` of two (only at the top: a tuple inside
 * arithmetic would test sequence repetition, and its MemoryError wording, rather than numbers).
 */
export const numberExpression: fc.Arbitrary<string> = fc.oneof(
  { weight: 9, arbitrary: expression },
  { weight: 1, arbitrary: fc.tuple(expression, expression).map(([a, b]) => `divmod(${a}, ${b})`) },
);
