/**
 * Typed fast-check arbitraries of Python expressions as source text, by depth: level 0 holds literals and the
 * Body's variables, each next level combines the one below (arithmetic and bitwise operators on the
 * int/float/bool tower, set/dict/view operators, `*` and `**` unpacking in displays and calls, built-ins,
 * indexing and slicing, comprehensions, conditional expressions, methods, formatting). Types are what the
 * expression most likely evaluates to; a mismatch is fine (both evaluators must raise the same TypeError).
 */
import fc from "fast-check";
import { argsRead, atoms, smallInt } from "./body_atoms.ts";
import { builtinCalls } from "./body_builtins.ts";
import { formatting, type Level } from "./body_formatting.ts";
import { complexLiteral, floatLiteral } from "./body_literals.ts";
import { methodCalls } from "./body_methods.ts";

export type { Level } from "./body_formatting.ts";

const bin = (a: fc.Arbitrary<string>, ops: string[], b: fc.Arbitrary<string>) =>
  fc.tuple(a, fc.constantFrom(...ops), b).map(([x, op, y]) => `(${x} ${op} ${y})`);
const call = (name: string, ...parts: fc.Arbitrary<string>[]) =>
  fc.tuple(...parts).map((a) => `${name}(${a.join(", ")})`);
const ternary = (l: Level, a: fc.Arbitrary<string>) =>
  fc.tuple(a, l.bool, a).map(([x, c, y]) => `(${x} if ${c} else ${y})`);
const slice = fc
  .tuple(fc.option(smallInt), fc.option(smallInt), fc.option(fc.constantFrom("-1", "2", "-2", "3", "0")))
  .map(([a, b, c]) => `[${a ?? ""}:${b ?? ""}${c === null ? "" : `:${c}`}]`);

/** Complex numbers made at run time: `complex()`, a negative base to a fractional power, `abs`, parts. */
const complexes = (num: fc.Arbitrary<string>) =>
  fc.oneof(
    call("complex", num, num),
    call("complex", fc.constantFrom("'1+2j'", "' (-j) '", "'1_0.5-2e3J'", "'nan'", "'1 + 2j'", "'\\u0663j'")),
    bin(
      fc.constantFrom("(-1)", "(-2.5)", "(-8)", "(-0.5)", "(-1e300)", "(-5e-324)"),
      ["**"],
      fc.constantFrom("0.5", "(1/3)", "1.5", "(-0.5)", "0.25", "2.5", "1e300", "(-1e300)", "123456789.125"),
    ),
    bin(fc.oneof(complexLiteral, num), ["+", "-", "*", "/", "**"], complexLiteral),
    fc.tuple(complexLiteral, fc.constantFrom("real", "imag", "conjugate()")).map(([z, a]) => `${z}.${a}`),
    call("abs", complexLiteral),
  );

function combine(l: Level): Level {
  const methods = methodCalls(l);
  const num = fc.oneof(l.int, l.float, l.bool);
  const int = fc.oneof(
    { weight: 8, arbitrary: l.int },
    { weight: 4, arbitrary: bin(l.int, ["+", "-", "*", "//", "%"], l.int) },
    { weight: 1, arbitrary: bin(l.int, ["**"], smallInt) },
    { weight: 1, arbitrary: l.int.map((x) => `(-${x})`) },
    { weight: 2, arbitrary: bin(l.int, ["|", "&", "^"], fc.oneof(l.int, l.bool)) },
    { weight: 1, arbitrary: bin(l.int, ["<<", ">>"], smallInt) },
    { weight: 1, arbitrary: l.int.map((x) => `(~${x})`) },
    {
      weight: 1,
      arbitrary: call(
        "max",
        l.list.map((x) => `*${x}`),
      ),
    },
    { weight: 1, arbitrary: call("abs", l.int) },
    { weight: 2, arbitrary: call("int", fc.oneof(l.float, l.str, l.bool)) },
    { weight: 1, arbitrary: call("int", l.str, fc.constantFrom("0", "2", "8", "16", "36", "10")) },
    { weight: 1, arbitrary: call("round", l.float) },
    { weight: 2, arbitrary: call("len", fc.oneof(l.str, l.list, l.dict, l.tuple, l.set)) },
    { weight: 1, arbitrary: call("sum", l.list) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(call("divmod", l.int, l.int), fc.constantFrom("0", "1"))
        .map(([d, i]) => `${d}[${i}]`),
    },
    { weight: 1, arbitrary: call("pow", l.int, smallInt, l.int) },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.constantFrom("max", "min"), l.int, l.int).map(([f, a, b]) => `${f}(${a}, ${b})`),
    },
    { weight: 1, arbitrary: call("ord", l.str) },
    { weight: 2, arbitrary: fc.tuple(l.list, smallInt).map(([x, i]) => `${x}[${i}]`) },
    {
      weight: 1,
      arbitrary: fc.tuple(l.dict, fc.constantFrom("'a'", "'port'", "1")).map(([x, k]) => `${x}[${k}]`),
    },
    { weight: 2, arbitrary: methods.int },
    { weight: 1, arbitrary: ternary(l, l.int) },
  );
  const float = fc.oneof(
    { weight: 6, arbitrary: l.float },
    { weight: 4, arbitrary: bin(num, ["+", "-", "*", "/", "//", "%"], num) },
    { weight: 1, arbitrary: bin(num, ["**"], fc.oneof(smallInt, floatLiteral)) },
    { weight: 2, arbitrary: call("float", fc.oneof(l.int, l.str)) },
    { weight: 1, arbitrary: call("abs", l.float) },
    { weight: 2, arbitrary: call("round", l.float, smallInt) },
    {
      weight: 1,
      arbitrary: fc.tuple(call("divmod", num, num), fc.constantFrom("0", "1")).map(([d, i]) => `${d}[${i}]`),
    },
    { weight: 1, arbitrary: call("pow", num, fc.oneof(smallInt, floatLiteral)) },
    { weight: 1, arbitrary: complexes(num) },
    { weight: 1, arbitrary: call("sum", l.list, l.float) },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.constantFrom("max", "min"), num, num).map(([f, a, b]) => `${f}(${a}, ${b})`),
    },
    { weight: 1, arbitrary: l.float.map((x) => `(-${x})`) },
    { weight: 1, arbitrary: ternary(l, l.float) },
  );
  const str = fc.oneof(
    { weight: 8, arbitrary: l.str },
    { weight: 2, arbitrary: bin(l.str, ["+"], l.str) },
    { weight: 1, arbitrary: bin(l.str, ["*"], smallInt) },
    { weight: 2, arbitrary: fc.tuple(l.str, smallInt).map(([x, i]) => `${x}[${i}]`) },
    { weight: 2, arbitrary: fc.tuple(l.str, slice).map(([x, s]) => `${x}${s}`) },
    {
      weight: 3,
      arbitrary: fc.tuple(fc.constantFrom("str", "repr", "ascii"), l.any).map(([f, v]) => `${f}(${v})`),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.constantFrom("hex", "oct", "bin", "chr"), l.int).map(([f, v]) => `${f}(${v})`),
    },
    { weight: 6, arbitrary: formatting(l) },
    { weight: 6, arbitrary: methods.str },
    { weight: 1, arbitrary: ternary(l, l.str) },
  );
  const cmp = ["==", "!=", "<", "<=", ">", ">="];
  const bool = fc.oneof(
    { weight: 4, arbitrary: l.bool },
    { weight: 3, arbitrary: bin(num, cmp, num) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(num, fc.constantFrom(...cmp), num, fc.constantFrom(...cmp), num)
        .map((p) => `(${p.join(" ")})`),
    },
    { weight: 1, arbitrary: bin(l.str, cmp, l.str) },
    { weight: 1, arbitrary: bin(l.any, ["==", "!="], l.any) },
    // `is` only against None: identity of other values is CPython's memory layout, not the language.
    {
      weight: 1,
      arbitrary: fc.tuple(l.any, fc.constantFrom("is", "is not")).map(([a, op]) => `(${a} ${op} None)`),
    },
    { weight: 2, arbitrary: bin(l.str, ["in", "not in"], l.str) },
    {
      weight: 1,
      arbitrary: bin(fc.oneof(l.int, l.str), ["in", "not in"], fc.oneof(l.list, l.dict, l.tuple, l.set)),
    },
    { weight: 1, arbitrary: l.bool.map((b) => `(not ${b})`) },
    { weight: 1, arbitrary: bin(l.bool, ["|", "&", "^"], l.bool) },
    { weight: 2, arbitrary: bin(l.bool, ["and", "or"], fc.oneof(l.bool, l.any)) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(l.any, fc.constantFrom("int", "str", "float", "bool", "(int, float)", "list", "dict", "tuple"))
        .map(([v, t]) => `isinstance(${v}, ${t})`),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom("bool", "any", "all"), fc.oneof(l.any, l.list))
        .map(([f, v]) => `${f}(${v})`),
    },
    { weight: 3, arbitrary: methods.bool },
  );
  const list = fc.oneof(
    { weight: 6, arbitrary: l.list },
    { weight: 1, arbitrary: fc.array(l.any, { maxLength: 4 }).map((xs) => `[${xs.join(", ")}]`) },
    { weight: 1, arbitrary: bin(l.list, ["+"], l.list) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(l.list, fc.oneof(l.list, l.str, l.tuple, l.set, l.dict, l.int), l.any)
        .map(([a, b, c]) => `[*${a}, ${c}, *${b}]`),
    },
    { weight: 1, arbitrary: bin(l.list, ["*"], smallInt) },
    { weight: 2, arbitrary: fc.tuple(l.list, slice).map(([x, s]) => `${x}${s}`) },
    {
      weight: 1,
      arbitrary: call(
        "list",
        fc.oneof(
          l.str,
          l.tuple,
          l.dict,
          call("range", smallInt, fc.integer({ min: -5, max: 30 }).map(String), smallInt),
        ),
      ),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          l.list,
          fc.constantFrom("", ", reverse=True", ", key=str", ", key=abs", ", key=len", ", key=str.lower"),
        )
        .map(([x, k]) => `sorted(${x}${k})`),
    },
    { weight: 1, arbitrary: call("sorted", fc.oneof(l.set, l.dict, l.str)) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          fc.constantFrom("v", "v * 2", "str(v)", "(v, i)", "[v]"),
          l.list,
          fc.constantFrom("", " if v", " if i % 2", " if v != 1"),
        )
        .map(([e, x, c]) => `[${e} for i, v in enumerate(${x})${c}]`),
    },
    { weight: 1, arbitrary: fc.tuple(l.list, l.list).map(([a, b]) => `[a + b for a in ${a} for b in ${b}]`) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom("zip", "enumerate", "reversed", "map(str, ", "filter(None, "), l.list, l.list)
        .map(([f, a, b]) =>
          f === "zip" ? `list(zip(${a}, ${b}))` : f.endsWith(" ") ? `list(${f}${a}))` : `list(${f}(${a}))`,
        ),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(l.dict, fc.constantFrom("keys", "values", "items"))
        .map(([x, m]) => `list(${x}.${m}())`),
    },
    { weight: 4, arbitrary: methods.list },
  );
  const dict = fc.oneof(
    { weight: 6, arbitrary: l.dict },
    {
      weight: 1,
      arbitrary: fc
        .array(fc.tuple(l.str, l.any), { maxLength: 3 })
        .map((kv) => `{${kv.map(([k, v]) => `${k}: ${v}`).join(", ")}}`),
    },
    { weight: 1, arbitrary: fc.tuple(l.list, l.list).map(([a, b]) => `dict(zip(${a}, ${b}))`) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(l.list, fc.constantFrom("v", "i", "str(v)"))
        .map(([x, e]) => `{str(v): ${e} for i, v in enumerate(${x})}`),
    },
    { weight: 1, arbitrary: fc.tuple(l.list, l.any).map(([x, v]) => `dict.fromkeys(${x}, ${v})`) },
    { weight: 1, arbitrary: fc.tuple(l.dict, l.int).map(([x, v]) => `dict(${x}, port=${v})`) },
    { weight: 1, arbitrary: fc.tuple(l.dict, l.dict).map(([a, b]) => `{**${a}, **${b}}`) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(l.dict, l.any, fc.oneof(l.dict, l.list))
        .map(([a, v, b]) => `{**${a}, 'port': ${v}, **${b}}`),
    },
    { weight: 1, arbitrary: bin(l.dict, ["|"], fc.oneof(l.dict, l.list)) },
    { weight: 1, arbitrary: fc.tuple(l.dict, l.int).map(([x, v]) => `dict(**${x}, port=${v})`) },
    { weight: 1, arbitrary: fc.constantFrom("args", "args.cfg", "dict(args)", "args.nested") },
  );
  const tuple = fc.oneof(
    { weight: 4, arbitrary: l.tuple },
    { weight: 2, arbitrary: fc.tuple(l.any, l.any).map(([a, b]) => `(${a}, ${b})`) },
    { weight: 1, arbitrary: call("tuple", l.list) },
    {
      weight: 1,
      arbitrary: fc.tuple(l.any, fc.oneof(l.list, l.str, l.set)).map(([a, b]) => `(${a}, *${b})`),
    },
    { weight: 1, arbitrary: call("divmod", num, num) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(l.str, l.str, fc.constantFrom("partition", "rpartition"))
        .map(([x, y, m]) => `${x}.${m}(${y})`),
    },
  );
  const set = fc.oneof(
    { weight: 4, arbitrary: l.set },
    { weight: 1, arbitrary: call("set", fc.oneof(l.list, l.str)) },
    { weight: 1, arbitrary: bin(l.set, ["-", "|", "&", "^"], l.set) },
    { weight: 1, arbitrary: fc.tuple(l.list, l.int).map(([a, b]) => `{*${a}, ${b}}`) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          l.dict,
          fc.constantFrom("keys", "items"),
          fc.constantFrom("|", "&", "^", "-"),
          fc.oneof(l.set, l.list),
        )
        .map(([d, view, op, x]) => `(${d}.${view}() ${op} ${x})`),
    },
  );
  const any = fc.oneof(int, float, str, bool, list, dict, tuple, argsRead, builtinCalls(l));
  return { int, float, str, bool, list, dict, tuple, set, any };
}

/** Expressions up to `depth` levels of combination (0: atoms). */
export function expressions(depth: number): Level {
  let level = atoms();
  for (let i = 0; i < depth; i++) level = combine(level);
  return level;
}
