/**
 * The pure built-ins and methods a Body may call beyond the corpus's (max, round, range, zip, str.zfill …):
 * CPython 3 results and `str(exception)` messages (checked against python3 when written), the bounds that keep
 * a Body from exhausting the agent's memory, and the built-ins that stay refused before anything runs.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { IdemError } from "../../agent/errors.ts";
import {
  compileBody,
  evaluateBody,
  type PyValue,
  pyRepr,
  type ScriptCaller,
} from "../../agent/python/mod.ts";
import { pyJson } from "../helpers/json_value.ts";
import { assertLikeCPython, type Call } from "../helpers/python_calls.ts";
import { argument, keyFunction, type Operand, scalar } from "../helpers/value_arbitraries.ts";

const echo: ScriptCaller = (name, commandline) => ({
  exitCode: 0,
  stdout: `${name}:${commandline}`,
  stderr: null,
});

async function run(source: string): Promise<PyValue> {
  const body = source.includes("\n") || source.startsWith("return") ? source : `return ${source}`;
  return evaluateBody(compileBody(body), {
    args: pyJson('{"names": ["b", "A", "c"], "port": "8080"}'),
    scripts: new Set(["deploy"]),
    call: echo,
  });
}

/** Each Python expression and the repr CPython 3.11 gives for it. */
async function assertReprs(cases: Record<string, string>): Promise<void> {
  for (const [source, expected] of Object.entries(cases))
    assert.equal(pyRepr(await run(source)), expected, source);
}

/** Each Python expression and the `str(exception)` CPython 3.11 raises for it (code 1). */
async function assertFailures(cases: Record<string, string>): Promise<void> {
  for (const [source, message] of Object.entries(cases)) {
    await assert.rejects(run(source), (error: unknown) => {
      assert.ok(error instanceof IdemError, `${source}: expected IdemError, got ${String(error)}`);
      assert.equal(error.code, 1, source);
      assert.equal(error.message, message, source);
      return true;
    });
  }
}

test("round rounds half to even on the exact binary value, with ndigits for ints and floats", async () => {
  await assertReprs({
    "round(0.5), round(1.5), round(2.5), round(-2.5)": "(0, 2, 2, -2)",
    "round(2.675, 2), round(0.125, 2), round(0.375, 2)": "(2.67, 0.12, 0.38)",
    "round(-0.4), round(-0.4, 0), round(123.456, -1)": "(0, -0.0, 120.0)",
    "round(25, -1), round(35, -1), round(-25, -1), round(7, 2)": "(20, 40, -20, 7)",
    "round(True), round(1.5, None), round(5e-324, 400)": "(1, 2, 5e-324)",
  });
  await assertFailures({
    "round()": "round() missing required argument 'number' (pos 1)",
    "round('a')": "type str doesn't define __round__ method",
    "round(1.5, 'a')": "'str' object cannot be interpreted as an integer",
    "round(float('inf'))": "cannot convert float infinity to integer",
    "round(1.7e308, -308)": "rounded value too large to represent",
  });
});

test("max and min take one iterable or several arguments, key= and default=", async () => {
  await assertReprs({
    "max(1, 2), min(3, 1, 2), max([1, 3, 2]), max('abc')": "(2, 1, 3, 'c')",
    "max(['a', 'bb', 'c'], key=len), min(args.names, key=str.lower)": "('bb', 'A')",
    "max([], default=5), min([], default=None), max([1, 1.0]), max([1.0, 1])": "(5, None, 1, 1.0)",
    "max({1: 2, 5: 0}), min(range(10, 0, -3)), max(x * 2 for x in [3, 1])": "(5, 1, 6)",
  });
  await assertFailures({
    "max()": "max expected at least 1 argument, got 0",
    "max([])": "max() arg is an empty sequence",
    "min(1)": "'int' object is not iterable",
    "max(1, 2, default=3)": "Cannot specify a default for max() with multiple positional arguments",
    "max(1, 2, foo=1)": "'foo' is an invalid keyword argument for max()",
    "max([1, 'a'])": "'>' not supported between instances of 'str' and 'int'",
    "min(['a', 1])": "'<' not supported between instances of 'int' and 'str'",
  });
});

test("abs, sum with start, divmod and pow follow Python's numeric rules", async () => {
  await assertReprs({
    "abs(-1), abs(-1.5), abs(True), abs(-0.0)": "(1, 1.5, 1, 0.0)",
    "sum([]), sum([1, 2.5]), sum([True, True]), sum([1, 2], 10), sum([1], start=2)": "(0, 3.5, 2, 13, 3)",
    "sum([[1], [2]], []), sum(x * x for x in range(4))": "([1, 2], 14)",
    "divmod(7, -2), divmod(-7.5, 2), divmod(7, -0.5)": "((-4, -1), (-4.0, 0.5), (-14.0, -0.0))",
    "pow(2, 10), pow(2, -1), pow(3, 4, 5), pow(2, -1, 5)": "(1024, 0.5, 1, 3)",
  });
  await assertFailures({
    "abs('a')": "bad operand type for abs(): 'str'",
    "sum(['a'], '')": "sum() can't sum strings [use ''.join(seq) instead]",
    "sum(['a', 'b'])": "unsupported operand type(s) for +: 'int' and 'str'",
    "divmod(1, 0)": "integer division or modulo by zero",
    "divmod(1.0, 0)": "float divmod()",
    "pow(2, 3, 0)": "pow() 3rd argument cannot be 0",
    "pow(2, -1, 4)": "base is not invertible for the given modulus",
  });
});

test("range is a lazy sequence: negative steps, indexing, slicing, in, len, reversed", async () => {
  await assertReprs({
    "list(range(5)), list(range(2, 10, 3)), list(range(10, 2, -3)), list(range(-5))":
      "([0, 1, 2, 3, 4], [2, 5, 8], [10, 7, 4], [])",
    "range(5), range(1, 5, 2), range(0, 10)[2:8:2], range(0, 10)[::-1]":
      "(range(0, 5), range(1, 5, 2), range(2, 8, 2), range(9, -1, -1))",
    "range(10)[-1], len(range(10, 0, -3)), 3 in range(0, 10, 3), 4 in range(0, 10, 3), 5.0 in range(9)":
      "(9, 4, True, False, True)",
    "range(0) == range(2, 2), list(reversed(range(0, 10, 3))), range(0, 10, 2).index(4)":
      "(True, [9, 6, 3, 0], 2)",
    "range(10**20)[-1], 10**19 in range(10**20)": "(99999999999999999999, True)",
  });
  await assertReprs({
    "total = 0\nfor i in range(3, 0, -1):\n    total = total * 10 + i\nreturn total": "321",
  });
  await assertFailures({
    "range()": "range expected at least 1 argument, got 0",
    "range(1.0)": "'float' object cannot be interpreted as an integer",
    "range(1, 2, 0)": "range() arg 3 must not be zero",
    "range(10)[20]": "range object index out of range",
    "range(3).index(5)": "5 is not in range",
    "len(range(10**20))": "Python int too large to convert to C ssize_t",
  });
});

test("zip, enumerate, reversed and filter are lazy iterators; any and all stop at the deciding item", async () => {
  await assertReprs({
    "list(zip([1, 2], 'abc')), dict(zip(['a', 'b'], range(2))), list(zip())":
      "([(1, 'a'), (2, 'b')], {'a': 0, 'b': 1}, [])",
    "list(enumerate('ab')), list(enumerate('ab', start=1)), dict(enumerate('ab'))":
      "([(0, 'a'), (1, 'b')], [(1, 'a'), (2, 'b')], {0: 'a', 1: 'b'})",
    "list(reversed([1, 2])), ''.join(reversed('abc')), list(reversed({1: 2, 3: 4}))":
      "([2, 1], 'cba', [3, 1])",
    "list(filter(None, [0, 1, '', 'a'])), list(filter(str.isdigit, ['1', 'a']))": "([1, 'a'], ['1'])",
    "any([]), all([]), any([0, 'x']), all(x < 3 for x in range(10**12))": "(False, True, True, False)",
  });
  await assertReprs({
    "out = []\nfor i, name in enumerate(args.names, 1):\n    out.append('%d=%s' % (i, name))\nreturn out":
      "['1=b', '2=A', '3=c']",
  });
  await assertFailures({
    "zip(1)": "'int' object is not iterable",
    "list(zip([1, 2], [2], strict=True))": "zip() argument 2 is shorter than argument 1",
    "reversed({1})": "'set' object is not reversible",
    "any(1)": "'int' object is not iterable",
  });
});

test("isinstance checks the built-in types (bool is an int, args is a dict); repr, chr, ord, hex", async () => {
  await assertReprs({
    "isinstance(True, int), isinstance(1, bool), isinstance(1.0, (int, float)), isinstance(args, dict)":
      "(True, False, True, True)",
    "isinstance([], (tuple, (list, dict))), isinstance(None, ()), isinstance(range(1), range)":
      "(True, False, True)",
    "repr('a'), repr([1, None]), chr(65), ord('é'), hex(-255), bin(5), oct(8)":
      "(\"'a'\", '[1, None]', 'A', 233, '-0xff', '0b101', '0o10')",
    "format(3.14159, '.2f'), ascii('é'), repr(max), repr(zip)":
      "('3.14', \"'\\\\xe9'\", '<built-in function max>', \"<class 'zip'>\")",
  });
  await assertFailures({
    "isinstance(1, 1)": "isinstance() arg 2 must be a type, a tuple of types, or a union",
    "isinstance(1, len)": "isinstance() arg 2 must be a type, a tuple of types, or a union",
    "chr(-1)": "chr() arg not in range(0x110000)",
    "ord('ab')": "ord() expected a character, but string of length 2 found",
  });
});

test("str layout methods pad, split at a separator and strip affixes as Python does", async () => {
  await assertReprs({
    "'42'.zfill(5), '-42'.zfill(5), '+7'.zfill(3), 'abc'.zfill(2)": "('00042', '-0042', '+07', 'abc')",
    "'a'.center(4, '*'), 'ab'.center(5), 'a'.ljust(3) + '|', 'a'.rjust(3, '0')":
      "('*a**', '  ab ', 'a  |', '00a')",
    "'a\\tbc\\td'.expandtabs(4), '12\\t3\\n\\t4'.expandtabs(), 'a\\tb'.expandtabs(tabsize=0)":
      "('a   bc  d', '12      3\\n        4', 'ab')",
    "'k=v=w'.partition('='), 'k=v=w'.rpartition('='), 'kv'.partition('='), 'kv'.rpartition('=')":
      "(('k', '=', 'v=w'), ('k=v', '=', 'w'), ('kv', '', ''), ('', '', 'kv'))",
    "'v1.2'.removeprefix('v'), 'app.tar.gz'.removesuffix('.gz'), 'x'.removeprefix('y'), 'abcb'.rindex('b')":
      "('1.2', 'app.tar', 'x', 3)",
  });
  await assertFailures({
    "'a'.center(3, 'ab')": "The fill character must be exactly one character long",
    "'a'.zfill('3')": "'str' object cannot be interpreted as an integer",
    "'a'.partition('')": "empty separator",
    "'a'.partition(1)": "must be str, not int",
    "'a'.removeprefix(1)": "removeprefix() argument must be str, not int",
    "'a'.center(width=3)": "str.center() takes no keyword arguments",
    "'a'.title(1)": "str.title() takes no arguments (1 given)",
  });
});

test("str case methods and predicates use Unicode as CPython does", async () => {
  await assertReprs({
    "\"they're bill's\".title(), 'hello WORLD'.capitalize(), 'ǆemal'.title(), 'ß'.title()":
      "(\"They'Re Bill'S\", 'Hello world', 'ǅemal', 'Ss')",
    "'aBc'.swapcase(), 'ΣΑΣ'.swapcase(), 'Straße'.casefold(), 'ﬁne'.casefold()":
      "('AbC', 'σας', 'strasse', 'fine')",
    "'42'.isdigit(), '²'.isdigit(), '²'.isdecimal(), '一'.isnumeric(), ''.isdigit()":
      "(True, True, False, True, False)",
    "'abé'.isalpha(), 'ab1'.isalnum(), ' \\t\\u3000'.isspace(), 'a1'.islower(), 'A1'.isupper()":
      "(True, True, True, True, True)",
    "'Title Case'.istitle(), 'Not title'.istitle(), 'é'.isascii(), ''.isascii()":
      "(True, False, False, True)",
    "args.port.isdigit() and int(args.port) > 1024": "True",
  });
});

test("dict.fromkeys, dict.popitem and clear on dicts, lists and sets", async () => {
  await assertReprs({
    "dict.fromkeys(['a', 'b'], 0), {}.fromkeys('ab'), dict.fromkeys(range(2))":
      "({'a': 0, 'b': 0}, {'a': None, 'b': None}, {0: None, 1: None})",
    "d = {1: 2, 3: 4}\nx = d.popitem()\nreturn x, d": "((3, 4), {1: 2})",
    "d = {1: 2}\nl = [1]\ns = {1}\nr = d.clear(), l.clear(), s.clear()\nreturn r, d, l, s":
      "((None, None, None), {}, [], set())",
  });
  await assertFailures({
    "{}.popitem()": "'popitem(): dictionary is empty'",
    "dict.fromkeys()": "fromkeys expected at least 1 argument, got 0",
    "[].clear(1)": "list.clear() takes no arguments (1 given)",
  });
});

test("a Body cannot build a str, list or tuple of more than 10 million items (repetition, range, padding, format, join, replace): MemoryError, code 1", async () => {
  const limit = (what: string, size: string, unit = "items"): string =>
    `Cannot build a ${what} of ${size} ${unit} as a Body may build at most 10000000`;
  await assertFailures({
    "'a' * 10000001": limit("str", "10000001", "characters"),
    "[1, 2] * 5000001": limit("list", "10000002"),
    "(1,) * 10**12": limit("tuple", "1000000000000"),
    "list(range(10**12))": limit("list", "1000000000000"),
    "sorted(range(10000001))": limit("list", "10000001"),
    "'x'.ljust(10**9)": limit("str", "1000000000", "characters"),
    "'\\t'.expandtabs(10**9)": limit("str", "1000000000", "characters"),
    "l = [0] * 6000000\nl.extend(l)": limit("list", "12000000"),
    "l = [0] * 6000000\nl += l": limit("list", "12000000"),
    "[] * 10**30": "cannot fit 'int' into an index-sized integer",
    "'{:>100000000}'.format(1)": limit("str", "100000000", "characters"),
    "'%100000000d' % 1": limit("str", "100000000", "characters"),
    "('y' * 5000000).join(['a', 'b', 'c'])": limit("str", "10000003", "characters"),
    "('y' * 6000000).replace('y', 'yy')": limit("str", "12000000", "characters"),
    // Characters are code points, as CPython's len counts them: an emoji is one (two UTF-16 units in JavaScript).
    "'\\U0001F600' * 10000001": limit("str", "10000001", "characters"),
    "'\\U0001F600' * 6000000 + 'a' * 4000001": limit("str", "10000001", "characters"),
  });
  // A str of astral characters may hold as many characters as any other: 6 million emoji are 12 million UTF-16
  // units, within the bound of 10 million characters (CPython builds each of these).
  await assertReprs({
    "len('\\U0001F600' * 6000000)": "6000000",
    "len('\\U0001F600' * 6000000 + 'a' * 4000000)": "10000000",
    "len(''.join(['\\U0001F600' * 5000000, '\\U0001F600' * 5000000]))": "10000000",
    "len(('\\U0001F600' * 3000000 + 'y' * 3000000).replace('y', '\\U0001F600'))": "6000000",
    "len(('\\U0001F600' * 6000000 + '\\t').expandtabs(1))": "6000001",
  });
  await assertReprs({
    "len(list(range(200000))), len(sorted(range(200000), reverse=True))": "(200000, 200000)",
    "l = list(range(200000))\nl.extend(l)\nl += l\nl[1:2] = range(200000)\nreturn len(l)": "999999",
  });
});

test("side effects and introspection stay refused before anything runs (code 2)", async () => {
  for (const name of [
    "print",
    "open",
    "eval",
    "exec",
    "getattr",
    "setattr",
    "globals",
    "vars",
    "type",
    "hash",
  ]) {
    assert.throws(
      () => compileBody(`deploy()\n${name}(args)`),
      (error: unknown) =>
        error instanceof IdemError &&
        error.code === 2 &&
        error.message === `Cannot run Body: "${name}" is not supported (line 2, column 1)`,
      name,
    );
  }
});

// ---- generated built-in calls against python3 (fast-check; the seed is printed) ----------------------------

const ITERATORS = new Set(["enumerate", "zip", "reversed", "filter", "map"]);
const builtinCall: fc.Arbitrary<Call> = fc
  .record({
    fn: fc.constantFrom(
      ...(
        "len sorted list tuple set dict str isinstance enumerate zip reversed filter map any all repr ascii " +
        "min max sum bool abs round divmod pow int float chr ord bin oct hex format range"
      ).split(" "),
    ),
    args: fc.array(
      fc.oneof(
        { weight: 6, arbitrary: argument.map((value) => ({ value }) as Operand) },
        { weight: 1, arbitrary: keyFunction },
        {
          weight: 1,
          arbitrary: fc.constantFrom<Operand>({ builtin: "int" }, { builtin: "str" }, { builtin: "list" }),
        },
      ),
      { maxLength: 3 },
    ),
    keywords: fc.oneof(
      { weight: 6, arbitrary: fc.constant([] as [string, Operand][]) },
      {
        weight: 1,
        arbitrary: fc.uniqueArray(
          fc.tuple(
            fc.constantFrom(
              "key",
              "reverse",
              "start",
              "strict",
              "default",
              "x",
              "iterable",
              "base",
              "ndigits",
              "exp",
              "mod",
              "object",
            ),
            fc.oneof(
              keyFunction,
              scalar.map((value) => ({ value }) as Operand),
            ),
          ),
          { maxLength: 2, selector: (kv) => kv[0] },
        ),
      },
    ),
  })
  // `pow(2**70, 2**64)` and `round(1, -2**64)` would keep CPython busy for ever (idem refuses such an int at
  // once, or answers without computing 10**2**64: documented limits).
  .filter(
    ({ fn, args, keywords }) =>
      (fn !== "pow" && fn !== "round") ||
      ![...args, ...(keywords as [string, Operand][]).map((kv) => kv[1])].some(hugeInt),
  )
  .map(({ fn, args, keywords }): Call => {
    const inner: Call = { kind: "builtin", fn, args, keywords };
    return ITERATORS.has(fn) ? { kind: "builtin", fn: "list", args: [{ call: inner }], keywords: [] } : inner;
  });

function hugeInt(o: Operand): boolean {
  return "value" in o && typeof o.value === "bigint" && (o.value > 4096n || o.value < -4096n);
}

test("2,000 generated built-in calls give CPython's result or exception", () => {
  const seed = Number(process.env.BUILTINS_SEED ?? Date.now() % 2 ** 31);
  console.log(`built-ins differential seed: ${seed} (BUILTINS_SEED=${seed} to replay)`);
  assertLikeCPython(fc.sample(builtinCall, { seed, numRuns: 2000 }));
});
