/**
 * Bitwise operators and `*`/`**` unpacking against CPython 3.11 (`python3`, one process per batch): each Body's
 * outcome — the result's repr or the exception's `Type: message` — must be CPython's. The tables cover the
 * operators on ints, bools, sets, dicts and dict views (in-place forms mutate), starred items in displays and
 * calls, `**` in dict displays and calls, starred assignment targets, the errors' exact words and the order in
 * which CPython evaluates and checks. Property tests (fast-check, seed printed) compare random int operands and
 * the iteration order of set results.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { IdemError } from "../../agent/errors.ts";
import * as python from "../../agent/python/mod.ts";
import { cpython, idem } from "../helpers/cpython_body.ts";

const TABLES: Record<string, string[]> = {
  "bitwise operators on ints and bools": [
    "return 1 | 2, 5 & 3, 5 ^ 1, 1 << 70, -5 >> 1, ~5, ~-1, -5 & 3, -5 | 2, -5 ^ 7",
    "return True | False, True & True, False ^ False, True ^ 1, True & 3, True << True, False >> 1, ~True, ~False",
    "return (1 << 200) >> 190, (-1) >> 10 ** 30, 1 >> 10 ** 30, 0 << 10 ** 30, 7 >> 0, 7 << 0",
    "return 1 << -1",
    "return 0 << -1",
    "return 1 >> -5",
    "return 1 << (1 << 100)",
    "return 1 << 10 ** 19",
    "return 1.5 | 1",
    "return 1 << 1.0",
    "return True | 1.5",
    "return 1 | 'a'",
    "return 'a' ^ 'b'",
    "return [1] & [1]",
    "return None >> 1",
    "return ~'a'",
    "return ~None",
    "return ~1.5",
    "return ~[1]",
    "x = 6\nx |= 1\nx &= 5\nx ^= 3\nx <<= 2\nx >>= 1\nreturn x",
    "x = True\nx |= False\ny = True\ny <<= 1\nreturn x, y",
    "x = 1\nx |= 'a'",
    "x = 1.0\nx >>= 1",
    "x = 'a'\nx &= 1",
  ],
  "set operators build new sets, in-place forms change the set": [
    "return {1, 2} | {3}, {1, 2} & {2}, {1, 2} ^ {2, 3}, {1, 2} - {1}",
    "return list({100, 3, 57, 8} | {9, 1000, 17, 64}), list({1, 9, 17, 25, 33} & {33, 25, 17}), list({5, 13, 21} ^ {29, 13})",
    "a = {1, 2}\nb = a\na |= {3}\na &= {1, 3, 5}\na ^= {7}\na -= {1}\nreturn b, a is b",
    "a = {1}\nb = a\na |= a\na ^= a\nreturn b",
    "a = {1}\na |= [2]",
    "a = {1}\na &= (1,)",
    "a = {1}\na -= 1",
    "return {1} | [2]",
    "return {1} - [1]",
    "return {1} ^ 'a'",
    "return [1] | {1}",
    "a = set()\nfor i in range(40):\n    a |= {i * 7 % 23}\nreturn list(a), list(a & set(range(0, 40, 3)))",
  ],
  "dict | and |=": [
    "return {'a': 1} | {'b': 2, 'a': 3}",
    "return args | {'x': 1}, isinstance(args | {}, dict)",
    "d = {'a': 1}\ne = d\nd |= [('b', 2)]\nd |= {'c': 3}\nd |= (('a', 9),)\nreturn e",
    "d = {}\nd |= [1]",
    "d = {}\nd |= [(1, 2, 3)]",
    "d = {}\nd |= 1",
    "return {} | []",
    "return {} | None",
    "return [] | {}",
    "d = {1: 'a'}\nd |= {True: 'b'}\nreturn d",
  ],
  "dict views are sets for | & ^ -": [
    "d = {'a': 1, 'b': 2}\nreturn sorted(d.keys() | {'c'}), d.keys() & ['a', 'z'], d.keys() - {'a'}, sorted(['x'] | d.keys())",
    "d = {1: 'a', 9: 'b', 17: 'c'}\nreturn list(d.keys() | {33}), list(d.keys() & {17, 9}), list({17, 9, 4} & d.keys())",
    "d = {'a': 1, 'b': 2}\ne = {'a': 1, 'b': 3, 'c': 4}\nreturn sorted(d.items() ^ e.items()), d.items() & e.items(), sorted(d.keys() ^ e.keys())",
    "d = {'a': 1}\nreturn d.items() - {('a', 1)}, d.items() | [('b', 2)] == {('a', 1), ('b', 2)}",
    "d = {1: 2}\nreturn d | d.keys()",
    "return 1 | {}.keys()",
    "return {}.keys() | 1",
    "return {}.keys() & 1",
    "return {}.values() | {1}",
    "return {1} - {}.values()",
    "return {'a': 1}.items() & [[]]",
    "d = {'a': 1}\nk = d.keys()\nk |= {'b'}\nreturn sorted(k), d",
  ],
  "starred items in list, tuple and set displays": [
    "return [*[1, 2], *'ab', 3], (*range(3), 9), {*[1, 2], 3, *(4,)}",
    "a = [1, 2]\nreturn *a, 3",
    "return [*{'x': 1, 'y': 2}, *{'z': 0}.items()]",
    "return [*(i * i for i in range(4))]",
    "return [*1]",
    "return (*1,)",
    "return [*None]",
    "return [1, *args]",
    "return {*1}",
    "return {*None}",
    "return {[], *(1 / 0,)}",
    "return {*[1], [], 1 / 0}",
    "return {*[[]]}",
    "return list({*range(40, 0, -3)}), list({5, 3, *[9, 1]})",
    "d = {(1, 2): 'x'}\nreturn d[*[1, 2]]",
  ],
  "** in dict displays": [
    "return {**{'a': 1}, 'b': 2, **{'a': 3}}",
    "return {**args}, {**{'b': 1}, 'a': 2, **{'b': 3}}",
    "return {1: 'a', **{True: 'b'}}",
    "return {**1}",
    "return {**[]}",
    "return {**None}",
    "return {**{}.items()}",
    "return {[]: 1, **1}",
    "return {**1, []: 1}",
    "return {**{'a': 1}, []: 1}",
  ],
  "* and ** in calls": [
    "return max(*[1, 5, 2]), sorted(*[[3, 1]], **{'reverse': True}), dict(**{'a': 1}, b=2)",
    "return 'a,b'.split(*[',']), 'a b'.split(**{'sep': ' '}), str.split('a b', *[' ']), '{} {a}'.format(*[1], **{'a': 2})",
    "return int(*['12'], **{'base': 16}), range(*[1, 5, 2]), list(zip(*[[1, 2], [3, 4]])), 'x'.join(*['ab'], *[])",
    "return '{port}'.format(**args)",
    "return max(*1)",
    "return max(1, *1)",
    "return max(*[1], *None)",
    "return len(*1)",
    "return str(*1)",
    "return dict.fromkeys(*1)",
    "return True.bit_length(*1)",
    "return bool.bit_length(*1)",
    "return [].append(*1)",
    "return args.get(*1)",
    "return 'a'.upper(**[])",
    "x = 1\nreturn x(*[])",
    "x = 1\nreturn x(*1)",
    "x = [1, 2]\nreturn x(**{})",
    "x = 1\nreturn x(**{1: 2})",
    "return dict(**{'a': 1}, a=2)",
    "return dict(a=1, **{'a': 2})",
    "return dict(**{'a': 1}, **{'a': 2})",
    "return dict(**{1: 2})",
    "return dict(**{1: 2}, **{1: 3})",
    "return dict(**{(1, 'a'): 2}, **{(1, 'a'): 3})",
    "return dict(**{'a': 1}, **{1: 3})",
    "return dict(**[])",
    "return dict(**None)",
    "return len(**{'a': 1})",
    "return max(*[], default=3)",
  ],
  "evaluation order of unpacking calls": [
    // A lone `*x` is read after the keywords are evaluated; spliced ones as they come.
    "y = [3, 1]\nreturn max(*y, key=y.append(9))",
    "y = [3, 1]\nreturn max(0, *y, key=y.append(9))",
    "return max(*1, key=1 / 0)",
    "return max(0, *1, key=1 / 0)",
    "return dict(**{'a': 1}, **{'a': 2}, b=1 / 0)",
    "return dict(**1, b=1 / 0)",
    "return dict(a=1 / 0, **1)",
    "return dict(**{'a': 1}, a=1 / 0)",
    "x = 1\nreturn x(*1, **1)",
  ],
  "starred assignment targets": [
    "a, *b = [1, 2, 3]\nreturn a, b",
    "*a, b = 'xyz'\nreturn a, b",
    "[a, *b] = range(3)\nreturn a, b",
    "a, *(b, c) = 1, 2, 3\nreturn a, b, c",
    "x = [0]\na, *x[0] = 1, 2, 3\nreturn x",
    "a, *b, c = range(10)\nreturn a, b, c",
    "a, *b, c = 1, 2\nreturn a, b, c",
    "*a, = []\nreturn a",
    "a, *b = {'x': 1, 'y': 2}\nreturn a, b",
    "a, *b = (i for i in range(3))\nreturn a, b",
    "a, *b = {3, 1, 2}\nreturn a, b",
    "a, *b = x = [1]\nreturn a, b, x",
    "out = []\nfor a, *b in [[1, 2, 3], [4]]:\n    out.append((a, b))\nreturn out",
    "return [b for a, *b in [(1, 2), (3,)]], {a: b for *b, a in ['xy', 'z']}",
    "a, *b = []",
    "a, *b, c = [1]",
    "a, *b, c, d = [1, 2]",
    "a, *b = 1",
    "a, *b = None",
    "a, *b = args",
    "for a, *b in [1]:\n    pass",
    "a, *b, c = (x for x in [1])",
  ],
};

/** CPython's SyntaxErrors for unpacking out of place: idem answers code 1 with the same words. */
const SYNTAX_ERRORS = [
  "a, *b, *c = 1, 2",
  "*a = [1]",
  "for *a in [[1]]:\n    pass",
  "a, *b += [1]",
  "return max(**{'a': 1}, *[1])",
  "return [*a for a in [[1]]]",
  "return {**a for a in [{}]}",
  "*a",
  "x = *[1]",
  "return *[1]",
  "return (*[1])",
];

const bodies = Object.values(TABLES).flat();
let answers: Map<string, string> | undefined;
/** CPython's outcome of every table Body, computed once (one python3 run). */
function expected(body: string): string {
  if (answers === undefined) {
    const out = cpython(bodies, '{"port": 8080, "name": "web"}');
    answers = new Map(bodies.map((b, i) => [b, out[i] ?? ""]));
  }
  return answers.get(body) ?? "";
}

/** A MemoryError is compared by type: CPython's has no message, idem's names its documented limit. */
const typeOfMemoryError = (outcome: string): string =>
  outcome.startsWith("MemoryError:") ? "MemoryError" : outcome;

for (const [behaviour, table] of Object.entries(TABLES)) {
  test(behaviour, () => {
    for (const body of table)
      assert.equal(
        typeOfMemoryError(idem(body, '{"port": 8080, "name": "web"}')),
        typeOfMemoryError(expected(body)),
        `Body:\n${body}`,
      );
  });
}

test("unpacking out of place is CPython's SyntaxError, before anything runs", () => {
  const out = cpython(SYNTAX_ERRORS);
  SYNTAX_ERRORS.forEach((body, i) => {
    const words = /^SyntaxError: (.*) \(<body>, line \d+\)$/.exec(out[i] ?? "")?.[1];
    assert.ok(words, `CPython compiles ${body}: ${out[i]}`);
    assert.throws(
      () => python.compile(body),
      (e: unknown) => e instanceof IdemError && e.code === 1 && e.message.includes(words),
      body,
    );
  });
});

test("the matrix operator stays outside the subset (code 2)", () => {
  for (const body of ["x = 1 @ 2", "x = [1]\nx @= 2"])
    assert.throws(
      () => python.compile(body),
      (e: unknown) => e instanceof IdemError && e.code === 2 && e.message.includes('"@'),
    );
});

const seed = Date.now() % 1_000_000;
console.log(`unpacking.test.ts fast-check seed: ${seed}`);

/** Ints around the interesting sizes (small, 2**30, 2**64, big), negatives, bools. */
const operand = fc.oneof(
  fc.integer({ min: -70, max: 70 }).map(String),
  fc.bigInt({ min: -(1n << 130n), max: 1n << 130n }).map((n) => `(${n})`),
  fc.constantFrom("True", "False"),
);

test("bitwise operators on random ints and bools agree with CPython", () => {
  const shift = fc.oneof(fc.integer({ min: -2, max: 140 }).map(String), fc.constantFrom("True", "False"));
  const expr = fc.oneof(
    fc.tuple(operand, fc.constantFrom("|", "&", "^"), operand).map(([a, op, b]) => `${a} ${op} ${b}`),
    fc.tuple(operand, fc.constantFrom("<<", ">>"), shift).map(([a, op, b]) => `${a} ${op} ${b}`),
    fc.tuple(fc.constantFrom("~", "~~", "-~"), operand).map(([op, a]) => `${op}${a}`),
  );
  const cases = fc.sample(fc.array(expr, { minLength: 1, maxLength: 4 }), { numRuns: 300, seed });
  const sources = cases.map((xs) => `return ${xs.map((x) => `(${x})`).join(", ")},`);
  const out = cpython(sources);
  sources.forEach((body, i) => {
    assert.equal(idem(body), out[i], `seed ${seed}, Body:\n${body}`);
  });
});

test("set operators on random int sets give CPython's items in CPython's order", () => {
  const set = fc
    .uniqueArray(fc.integer({ min: -40, max: 200 }), { maxLength: 12 })
    .map((xs) => `{${xs.join(", ")}}`);
  const body = fc
    .tuple(set, set, fc.constantFrom("|", "&", "^", "-"), fc.boolean())
    .map(([a, b, op, inplace]) =>
      inplace
        ? `a = set(${a})\nb = a\na ${op}= ${b}\nreturn list(b), a is b`
        : `return list(${a} ${op} ${b})`,
    );
  const sources = fc.sample(body, { numRuns: 300, seed });
  const out = cpython(sources);
  sources.forEach((source, i) => {
    assert.equal(idem(source), out[i], `seed ${seed}, Body:\n${source}`);
  });
});
