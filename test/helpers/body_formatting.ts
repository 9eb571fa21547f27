/**
 * fast-check arbitraries of Python formatting as source text: format specs (the whole mini-language, typed to the
 * value most of the time, wild now and then), `str.format` fields with conversions, indexes and keywords,
 * `format()`, f-strings with specs, conversions and `=`, and `%`-formatting with flags, `*` widths and mappings.
 */
import fc from "fast-check";
import { pyString } from "./body_literals.ts";

/** The expressions of one depth, by type (see body_expressions.ts). */
export interface Level {
  int: fc.Arbitrary<string>;
  float: fc.Arbitrary<string>;
  str: fc.Arbitrary<string>;
  bool: fc.Arbitrary<string>;
  list: fc.Arbitrary<string>;
  dict: fc.Arbitrary<string>;
  tuple: fc.Arbitrary<string>;
  set: fc.Arbitrary<string>;
  any: fc.Arbitrary<string>;
}

const opt = <T>(a: fc.Arbitrary<T>, none: T): fc.Arbitrary<T> =>
  fc.oneof({ weight: 2, arbitrary: fc.constant(none) }, { weight: 1, arbitrary: a });

const fill = fc.constantFrom("", "", "*", "0", " ", "x", "é", "{", "=", "<");
const align = fc.constantFrom("", "<", ">", "^", "=");
const width = opt(
  fc.oneof(fc.integer({ min: 0, max: 12 }).map(String), fc.constantFrom("0", "00", "20")),
  "",
);
const precision = opt(
  fc.oneof(fc.integer({ min: 0, max: 8 }), fc.constantFrom(0, 12, 17, 20, 25, 60, 120)).map((p) => `.${p}`),
  "",
);

function spec(types: readonly string[]): fc.Arbitrary<string> {
  return fc
    .record({
      fill,
      align,
      sign: opt(fc.constantFrom("+", "-", " "), ""),
      z: opt(fc.constant("z"), ""),
      alt: opt(fc.constant("#"), ""),
      zero: opt(fc.constant("0"), ""),
      width,
      group: opt(fc.constantFrom(",", "_"), ""),
      precision,
      type: fc.constantFrom(...types),
    })
    .map((p) => {
      const head = p.align === "" ? "" : `${p.fill}${p.align}`;
      return `${head}${p.sign}${p.z}${p.alt}${p.zero}${p.width}${p.group}${p.precision}${p.type}`;
    });
}

const intSpec = spec(["", "d", "b", "o", "x", "X", "c", "n", "e", "f", "g", "%", "E", "G"]);
const floatSpec = spec(["", "e", "E", "f", "F", "g", "G", "%", "n"]);
const strSpec = spec(["", "s"]);
const wildSpec = fc.oneof(
  spec(["", "s", "d", "x", "f", "r", "y", "c"]),
  fc.string({ unit: fc.constantFrom(..."<>^=+- #0,_.123sdfxz%"), maxLength: 6 }),
);

/** A value with a spec that fits it (most of the time) or a wild one. */
function valueAndSpec(l: Level): fc.Arbitrary<[string, string]> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.tuple(l.int, intSpec) },
    { weight: 3, arbitrary: fc.tuple(l.float, floatSpec) },
    { weight: 2, arbitrary: fc.tuple(l.str, strSpec) },
    { weight: 1, arbitrary: fc.tuple(l.bool, intSpec) },
    { weight: 1, arbitrary: fc.tuple(l.any, wildSpec) },
  );
}

const conversion = opt(fc.constantFrom("!r", "!s", "!a"), "");
const VARS = ["n", "m", "x", "s", "w", "xs", "d", "ok", "tp"];
/** Expressions an f-string may hold without quotes or backslashes (Python 3.11). */
const fInner = fc.oneof(
  fc.constantFrom(...VARS),
  fc.integer({ min: -5, max: 1000 }).map(String),
  fc.constantFrom("1.5", "0.1", "1e22", "n + 1", "x * 2", "len(s)", "args", "1, 2", "-n", "n // 3"),
);

const pctFlags = fc
  .uniqueArray(fc.constantFrom("-", "+", " ", "0", "#"), { maxLength: 2 })
  .map((f) => f.join(""));

/** `%` directives for a value of each kind; `*` widths take an extra int. */
function percent(l: Level): fc.Arbitrary<string> {
  const directive = (conv: string[]) =>
    fc
      .tuple(
        pctFlags,
        opt(fc.integer({ min: 0, max: 12 }).map(String), ""),
        precision,
        fc.constantFrom(...conv),
      )
      .map(([f, w, p, c]) => `%${f}${w}${p}${c}`);
  const one = fc.oneof(
    fc.tuple(directive(["d", "i", "u", "x", "X", "o", "e", "f", "g", "c", "s", "r"]), l.int),
    fc.tuple(directive(["f", "F", "e", "E", "g", "G", "d", "s", "r", "a"]), l.float),
    fc.tuple(directive(["s", "r", "a", "c"]), l.str),
    fc.tuple(directive(["s", "r", "d"]), l.any),
  );
  return fc.oneof(
    one.map(([d, v]) => `(${pyString(`<${d}>`)} % ${v})`),
    fc
      .tuple(one, one, fc.constantFrom(" ", "%%", ", "))
      .map(([[d1, v1], [d2, v2], sep]) => `(${pyString(`${d1}${sep}${d2}`)} % (${v1}, ${v2}))`),
    fc
      .tuple(fc.constantFrom("a", "b", "port"), l.dict, directive(["s", "r", "d"]))
      .map(([k, dict, d]) => `(${pyString(`%(${k})${d.slice(1)}`)} % ${dict})`),
    fc.tuple(fc.integer({ min: -3, max: 9 }), l.int).map(([w, v]) => `('%*d|' % (${w}, ${v}))`),
    l.any.map((v) => `('%s' % ${v})`),
  );
}

/** String expressions that format values: str.format, format(), f-strings and %. */
export function formatting(l: Level): fc.Arbitrary<string> {
  const vs = valueAndSpec(l);
  return fc.oneof(
    vs.map(([v, s]) => `format(${v}, ${pyString(s)})`),
    fc.tuple(vs, conversion).map(([[v, s], c]) => `${pyString(`{${c}:${s}}`)}.format(${v})`),
    fc
      .tuple(vs, vs, fc.boolean())
      .map(([[v1, s1], [v2, s2], named]) =>
        named
          ? `${pyString(`{a:${s1}}-{b!r:${s2}}`)}.format(a=${v1}, b=${v2})`
          : `${pyString(`[{1:${s2}}|{0:${s1}}|{1}]`)}.format(${v1}, ${v2})`,
      ),
    fc.tuple(l.any, l.any).map(([a, b]) => `'{} and {}'.format(${a}, ${b})`),
    l.list.map((v) => `'{0[0]}/{0[-1]}'.format(${v})`),
    l.dict.map((v) => `'{0[a]}'.format(${v})`),
    fc
      .tuple(fInner, conversion, opt(fc.oneof(intSpec, floatSpec, strSpec), ""), fc.boolean())
      .map(([e, c, s, eq]) => `f'<{${e}${eq ? "=" : ""}${c}${s === "" ? "" : `:${s}`}}>'`),
    fc.tuple(fInner, fInner).map(([a, b]) => `f"{${a}} {${b}!r:>{n % 9 if n > 0 else 3}}"`),
    percent(l),
  );
}
