/**
 * fast-check arbitraries of Python literals as source text: ints in every base, floats at every corner, strings
 * in every spelling (quotes, raw, implicit concatenation, \x \u \U and octal escapes; not `\N{…}`, which
 * docs/murano.md lists as refused) with non-ASCII text. Leaf module of the Body generator (body_arbitraries.ts).
 */
import fc from "fast-check";

/** Characters that make string methods, case mappings, escapes and JSON output interesting. */
export const CHARS: readonly string[] = [
  ..."aabbcxyzAZ019 _-.,:=/{}%'\"\\",
  ..."\t\n\r\x00\x7f\x1b\x0b\x0c",
  ..."éÉßΣσςİıǅǆﬁŉÅµÿ日😀\u2028\u00a0\u3000\u0301٣²½Ⅻ\u0345ΐﬀ\u1e9e",
  "\ud800",
];

/** Strings real Bodies handle: hosts, ports, numbers as text, separators, templates. */
const REALISTIC = [
  "",
  "localhost",
  "app-1",
  "8080",
  " 42 ",
  "3.14",
  "-7",
  "1e3",
  "True",
  "a,b,,c",
  "key=value",
  "line1\nline2\r\nline3\n",
  "Hello World",
  "hello world",
  "  padded  ",
  "{0}-{1}",
  "{name}",
  "%s:%d",
  "/etc/app.conf",
  "ǅungla straße",
  "ΣΑΣ",
  "0x1f",
  "١٢٣",
  "\t tab",
];

export const text: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...REALISTIC) },
  { weight: 3, arbitrary: fc.string({ unit: fc.constantFrom(...CHARS), maxLength: 8 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
);

/** Short strings for separators, prefixes, fill characters and dict keys. */
export const shortText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("", " ", ",", "-", "a", "l", "lo", "=", "\n", "ß", "Σ", "ab", "{", "%"),
  fc.string({ unit: fc.constantFrom(...CHARS), maxLength: 3 }),
);

function escapeChar(ch: string, quote: string, mode: number): string {
  const code = ch.codePointAt(0) ?? 0;
  const simple: Record<string, string> = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" };
  if (ch === quote) return `\\${quote}`;
  if (simple[ch] !== undefined) return simple[ch];
  if (code < 0x20 || code === 0x7f) return mode === 2 ? `\\${code.toString(8)}` : `\\x${hex(code, 2)}`;
  if (code >= 0xd800 && code <= 0xdfff) return `\\u${hex(code, 4)}`;
  if (mode === 0 || code < 0x80) return ch;
  if (code < 0x100) return `\\x${hex(code, 2)}`;
  return code < 0x10000 ? `\\u${hex(code, 4)}` : `\\U${hex(code, 8)}`;
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, "0");
}

/** `s` as a Python string literal: quote, escape mode (0 raw non-ASCII, 1 \x/\u/\U, 2 octal). */
export function pyString(s: string, quote: "'" | '"' = "'", mode = 0): string {
  let out = "";
  for (const ch of s) out += escapeChar(ch, quote, mode);
  return `${quote}${out}${quote}`;
}

/** Whether `s` can be a raw literal `r'…'`: no quote, backslash, control character or lone surrogate. */
function rawSafe(s: string): boolean {
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === "'" || ch === "\\" || c < 0x20 || c === 0x7f || (c >= 0xd800 && c <= 0xdfff)) return false;
  }
  return true;
}

/** A string literal in one of Python's spellings (quotes, escapes, raw strings, implicit concatenation). */
export const strLiteral: fc.Arbitrary<string> = fc
  .tuple(text, fc.constantFrom<"'" | '"'>("'", "'", '"'), fc.nat(5))
  .map(([s, quote, form]) => {
    if (form === 3 && rawSafe(s)) return `r'${s}'`;
    const chars = Array.from(s);
    if (form === 4 && chars.length > 1) {
      // Cut between code points: halves of one astral character would be two lone surrogates, which idem's
      // UTF-16 strings join again (a deliberate difference, docs/murano.md).
      const cut = Math.floor(chars.length / 2);
      return `${pyString(chars.slice(0, cut).join(""), quote)} ${pyString(chars.slice(cut).join(""), quote, 1)}`;
    }
    return pyString(s, quote, form > 2 ? 0 : form);
  });

/** An int in Python source: small, machine-size, huge, any base, underscores; negatives parenthesized. */
export const intLiteral: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -12, max: 12 }).map(intText) },
  { weight: 2, arbitrary: fc.integer().map(intText) },
  {
    weight: 2,
    arbitrary: fc.bigInt({ min: -(2n ** 130n), max: 2n ** 130n }).map((n) => intText(n)),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "9007199254740993",
      "2**53",
      "2**63",
      "(-2**63)",
      "2**64",
      "10**20",
      "0x1F",
      "0o17",
      "0b101",
      "1_000_000",
      "00",
      "0xdead_beef",
      "True",
      "False",
    ),
  },
);

function intText(n: number | bigint): string {
  return n < 0 ? `(${n})` : String(n);
}

/** A float in Python source, with its corners: -0.0, subnormals, max, inf, nan, ties, `5.`, `.5`, `1.e5`. */
export const floatLiteral: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      "0.0",
      "(-0.0)",
      "1.5",
      "2.5",
      "0.5",
      "0.1",
      "0.3",
      "1.0",
      "3.14159",
      "1e16",
      "1e22",
      "1e308",
      "1.7976931348623157e308",
      "5e-324",
      "2.2250738585072014e-308",
      "1e-7",
      "123456789.125",
      "9007199254740993.0",
      "0.30000000000000004",
      "1e400",
      "5.",
      ".5",
      "1.e5",
      "1_0.2_5",
      "float('inf')",
      "float('-inf')",
      "float('nan')",
      "(-1.5)",
      "(-2.5)",
    ),
  },
  {
    weight: 2,
    arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => {
      const t = String(Math.abs(x));
      const lit = /[.e]/.test(t) ? t : `${t}.0`;
      return x < 0 || Object.is(x, -0) ? `(-${lit})` : lit;
    }),
  },
);

/**
 * A complex number in Python source: imaginary literals (`2.5J`, `1_0j`, `1e400j`), `a+bj` sums, signed zeros,
 * `complex()` of numbers and of text, infinities and NaNs, and a negative base to a fractional power.
 */
export const complexLiteral: fc.Arbitrary<string> = fc.constantFrom(
  "1j",
  "0j",
  "2.5J",
  "1_0j",
  "1e400j",
  "1e-7j",
  "(1+2j)",
  "(-1-1j)",
  "(-0.0-1j)",
  "(3-0j)",
  "(-1j)",
  "(1.5+0.5j)",
  "(1e308+1e308j)",
  "complex(1, -0.0)",
  "complex(float('nan'), 1)",
  "complex('inf-nanj')",
  "complex('(1.5-2j)')",
  "complex(2**53, 1)",
  "((-1) ** 0.5)",
  "((-8) ** (1/3))",
  "((-2.5) ** 1.5)",
);
