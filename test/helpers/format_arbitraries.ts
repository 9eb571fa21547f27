/**
 * fast-check arbitraries of formatting operations: format specs from the mini-language's grammar, mostly
 * fitting the value's type, with a sprinkling of invalid ones; `%` templates whose arguments mostly fit (or
 * mappings), and str.format templates whose fields mostly name existing arguments; valid and broken.
 */
import fc from "fast-check";
import { boolValue, CHARS, floatValue, intValue, rarely, scalar, smallInt, value } from "./format_values.ts";
import type { Op, Value } from "./python_format.ts";

/** A width or precision; `huge` adds 2147483648 (over C's INT_MAX: fine as a precision, not as a width). */
const digits = (max: number, huge = false): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 12, arbitrary: fc.integer({ min: 0, max }).map(String) },
    { weight: 1, arbitrary: fc.constantFrom("0", "00", "05", "٣", "120", "1100", "99999999999999999999") },
    { weight: huge ? 1 : 0, arbitrary: fc.constant("2147483648") },
  );

const TYPES: Record<string, string> = { i: "bcdnoxX%eEfFgG", b: "bcdnoxX%eEfFgG", f: "eEfFgGn%", s: "s" };

/** A format spec from `[[fill]align][sign][z][#][0][width][grouping][.precision][type]` for `v`, or noise. */
export function specFor(v: Value | null): fc.Arbitrary<string> {
  const fitting = (v && TYPES[v.t]) ?? "s";
  const type = fc.oneof(
    { weight: 3, arbitrary: fc.constant("") },
    { weight: 6, arbitrary: fc.constantFrom(...fitting) },
    { weight: 1, arbitrary: fc.constantFrom(..."bcdeEfFgGnosxX%", "y", "é") },
  );
  const grammar = fc
    .record({
      fill: fc.constantFrom(" ", "*", "0", "x", "é", "😀", "<"),
      align: rarely(fc.constantFrom("<", ">", "=", "^"), 1),
      sign: rarely(fc.constantFrom("+", "-", " "), 2),
      z: rarely(fc.constant("z"), 6),
      alt: rarely(fc.constant("#"), 3),
      zero: rarely(fc.constant("0"), 3),
      width: rarely(digits(30), 1),
      grouping: fc.oneof(
        { weight: 12, arbitrary: fc.constant("") },
        { weight: 2, arbitrary: fc.constantFrom(",", "_") },
        { weight: 1, arbitrary: fc.constantFrom(",_", "_,") },
      ),
      precision: rarely(
        digits(25, true).map((d) => `.${d}`),
        1,
      ),
      type,
    })
    .map(
      (r) =>
        (r.align ? r.fill : "") +
        r.align +
        r.sign +
        r.z +
        r.alt +
        r.zero +
        r.width +
        r.grouping +
        r.precision +
        r.type,
    );
  return fc.oneof(
    { weight: 20, arbitrary: grammar },
    { weight: 1, arbitrary: fc.string({ maxLength: 5 }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(".", "5.", ".f", "0=", "=", "__", ",,", "z", "#", ",c", "_n", "{^8"),
    },
  );
}

/** `format(value, spec)`. */
export const formatValueOp: fc.Arbitrary<Op> = scalar.chain((v) =>
  specFor(v).map((spec): Op => ({ op: "format", v, spec })),
);

/** A value a `%` conversion of `type` usually takes. */
function argFor(type: string): fc.Arbitrary<Value> {
  const numbers = fc.oneof(
    { weight: 3, arbitrary: intValue },
    { weight: 3, arbitrary: floatValue },
    { weight: 1, arbitrary: boolValue },
  );
  const fitting = "diuoxX".includes(type)
    ? fc.oneof(intValue, numbers)
    : "eEfFgG".includes(type)
      ? numbers
      : type === "c"
        ? fc.oneof(
            smallInt.map((n): Value => ({ t: "i", v: n < 0n ? -n : n })),
            fc.constantFrom(...CHARS).map((s): Value => ({ t: "s", v: s })),
          )
        : value;
  return fc.oneof({ weight: 8, arbitrary: fitting }, { weight: 1, arbitrary: value });
}

interface Conversion {
  text: string;
  type: string;
  stars: number;
}

/** A `%` conversion (mapping keys only when `keyed`), sometimes malformed. */
function conversion(keyed: boolean): fc.Arbitrary<Conversion> {
  const good = fc
    .record({
      key: keyed
        ? fc.constantFrom("(a)", "(b)", "(a)", "(b)", "(x)", "()", "((a))")
        : rarely(fc.constant("(a)"), 30),
      flags: fc.array(fc.constantFrom("-", "+", " ", "#", "0"), { maxLength: 3 }).map((f) => f.join("")),
      width: rarely(
        fc.oneof(
          { weight: 5, arbitrary: digits(20) },
          { weight: keyed ? 0 : 1, arbitrary: fc.constant("*") },
        ),
        1,
      ),
      precision: rarely(
        fc
          .oneof(
            { weight: 5, arbitrary: digits(20, true) },
            { weight: keyed ? 0 : 1, arbitrary: fc.constant("*") },
            { weight: 1, arbitrary: fc.constant("") },
          )
          .map((p) => `.${p}`),
        2,
      ),
      length: rarely(fc.constantFrom("h", "l", "L"), 10),
      type: fc.oneof(
        { weight: 30, arbitrary: fc.constantFrom(..."sradiuoxXeEfFgGc") },
        { weight: 1, arbitrary: fc.constantFrom("y", "é", "%") },
      ),
    })
    .map((r) => ({
      text: `%${r.key}${r.flags}${r.width}${r.precision}${r.length}${r.type}`,
      type: r.type,
      stars: (r.width === "*" ? 1 : 0) + (r.precision === ".*" ? 1 : 0),
    }));
  const broken = fc
    .constantFrom("%", "%(", "%(a", "%5", "%.", "%%", "%-")
    .map((text) => ({ text, type: "", stars: 0 }));
  return fc.oneof({ weight: 25, arbitrary: good }, { weight: 1, arbitrary: broken });
}

const literal = fc.constantFrom("", "x", " = ", "é", "%%");

/** `template % values`: positional (a tuple of fitting arguments, or a single one) or with a mapping. */
export const percentOp: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .array(fc.tuple(literal, conversion(false)), { minLength: 1, maxLength: 3 })
      .chain((parts) => {
        const args = parts.flatMap(([, c]) => [
          ...Array.from({ length: c.stars }, () => smallInt.map((v): Value => ({ t: "i", v: v % 40n }))),
          argFor(c.type),
        ]);
        const template = parts.map(([l, c]) => l + c.text).join("");
        const exact = fc.tuple(...args);
        const shifted = fc.oneof(
          exact.map((a) => a.slice(1)),
          exact.chain((a) => value.map((x) => [...a, x])),
        );
        return fc
          .oneof({ weight: 8, arbitrary: exact }, { weight: 1, arbitrary: shifted })
          .chain((a) =>
            a.length === 1
              ? fc.constantFrom<Value>({ t: "tu", v: a }, a[0] as Value)
              : fc.constant<Value>({ t: "tu", v: a }),
          )
          .map((v): Op => ({ op: "%", t: template, v }));
      }),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({
        parts: fc.array(fc.tuple(literal, conversion(true)), { minLength: 1, maxLength: 3 }),
        v: fc.array(fc.tuple(fc.constantFrom("a", "b", "b", "(a)", ""), value), { maxLength: 3 }),
        list: rarely(fc.constant("list"), 15),
      })
      .map(({ parts, v, list }): Op => {
        const dict: Value = { t: "d", v: v.map(([k, x]) => [{ t: "s", v: k }, x]) };
        return {
          op: "%",
          t: parts.map(([l, c]) => l + c.text).join(""),
          v: list ? { t: "l", v: v.map(([, x]) => x) } : dict,
        };
      }),
  },
);

/** `template.format(*args, **kw)` with keywords a, b: fields name existing arguments most of the time. */
export const formatOp: fc.Arbitrary<Op> = fc
  .record({
    args: fc.array(value, { maxLength: 3 }),
    kw: fc.array(fc.tuple(fc.constantFrom("a", "b"), value), { maxLength: 2 }),
  })
  .chain(({ args, kw }) => {
    const names = [...args.map((_, i) => String(i)), ...kw.map(([k]) => k), "0[0]", "a[x]", "1[a]"];
    const field = fc.oneof(
      {
        weight: 12,
        arbitrary: fc
          .record({
            name: fc.oneof(
              { weight: 3, arbitrary: fc.constantFrom(...names) },
              { weight: 1, arbitrary: fc.constantFrom("", "7", "00", "٠", "c") },
            ),
            conversion: rarely(fc.constantFrom("!r", "!s", "!a", "!x", "!"), 4),
            spec: fc.oneof(
              { weight: 3, arbitrary: fc.constant("") },
              { weight: 3, arbitrary: specFor(args[0] ?? null).filter((s) => !/[{}]/.test(s)) },
              { weight: 1, arbitrary: fc.constantFrom("{}", ">{}", "{a}", "{}.{}", "{:{}}") },
            ),
          })
          .map((r) => `{${r.name}${r.conversion}${r.spec === "" ? "" : `:${r.spec}`}}`),
      },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          "{",
          "}",
          "{{",
          "}}",
          "{0",
          "{0!r",
          "{0!rx}",
          "{[}",
          "{0[}",
          "{0]}",
          "{0.}",
          "{0[0]x}",
          "{!r:}",
        ),
      },
    );
    return fc
      .array(fc.oneof(field, fc.constantFrom("", "x", " - ")), { minLength: 1, maxLength: 3 })
      .map((parts): Op => ({ op: "str.format", t: parts.join(""), args, kw }));
  });
