/**
 * The compiled evaluator gives CPython 3.11's outcome (inside murano-agent's function wrapper) for evaluation
 * order, control flow, scopes, assignment and iteration. Every expected value is python3's, computed at test
 * time (test/helpers/cpython_body.ts).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { IdemError } from "../../agent/errors.ts";
import type { Expr } from "../../agent/python/check/ast.ts";
import { runBody } from "../../agent/python/eval/evaluator.ts";
import * as python from "../../agent/python/mod.ts";
import { cpython, idem } from "../helpers/cpython_body.ts";

/** Asserts idem's outcome of every Body is CPython's. */
function sameAsCPython(sources: readonly string[]): void {
  const expected = cpython(sources);
  for (const [i, source] of sources.entries()) assert.equal(idem(source), expected[i], `Body:\n${source}`);
}

test("operands, call arguments, dict displays and assignment targets are evaluated in CPython's order", () => {
  sameAsCPython([
    "log = []\nd = {log.append(1) or 'a': log.append(2) or 1, log.append(3) or 'b': log.append(4)}\nreturn d, log",
    "log = []\nr = sorted([log.append('a') or 3, log.append('b') or 1], reverse=log.append('c') or True)\nreturn r, log",
    "log = []\na = [0, 0]\n(log.append('o') or a)[log.append('k') or 1] = log.append('v') or 5\nreturn a, log",
    "log = []\nx = y = log.append(1) or [1]\nx.append(2)\nreturn y, log",
    "a, b = 1, 2\na, b = b, a\nreturn a, b",
    "log = []\nr = [log.append(i) or i for i in range(3)] + [log.append('x')]\nreturn r, log",
  ]);
});

test("a dict or set display hashes its keys after evaluating all its items, in CPython's chunks", () => {
  const pairs = (n: number, bad: number) =>
    Array.from({ length: n }, (_, i) => `${i === bad ? "[]" : `'k${i}'`}: ${i === n - 1 ? "1 // 0" : "1"}`);
  const items = (n: number) =>
    Array.from({ length: n }, (_, i) => (i === 0 ? "[]" : i === n - 1 ? "1 // 0" : `${i}`));
  sameAsCPython([
    ...[2, 15, 16, 17, 20, 33, 34].map((n) => `return {${pairs(n, 0).join(", ")}}`),
    ...[18, 20, 35, 40].map((n) => `return {${pairs(n, n - 2).join(", ")}}`),
    ...[2, 30, 31].map((n) => `return {${items(n).join(", ")}}`),
  ]);
});

test("chained comparisons evaluate each operand once; and/or short-circuit and return an operand", () => {
  sameAsCPython([
    "log = []\nr = (log.append(1) or 1) < (log.append(2) or 2) < (log.append(3) or 0) < (log.append(4) or 9)\nreturn r, log",
    "return (0 or '' or [] or 'x', 1 and 2 and 0 and 3, [] and 1 // 0, 1 or 1 // 0, None or 0, not [])",
    "return 1 < 2 == 2.0 < 3 != 4, 1 < 2 > 3, 'a' < 'b' <= 'b', [1] < [1, 0], 1 == True, 2 != 2.0",
    `return ${Array.from({ length: 3000 }, () => "1").join(" and ")}`,
    `return ${Array.from({ length: 3000 }, (_, i) => `${i % 7 === 6 ? 1 : 0}`).join(" or ")}`,
  ]);
});

test("for-else, break and continue follow Python: else runs only when the loop was not broken", () => {
  sameAsCPython([
    "out = []\nfor i in range(5):\n    if i == 1:\n        continue\n    if i == 3:\n        break\n    out.append(i)\nelse:\n    out.append('else')\nreturn out",
    "out = []\nfor i in range(3):\n    out.append(i)\nelse:\n    out.append('else')\nfor j in []:\n    pass\nelse:\n    out.append('empty')\nreturn out",
    "out = []\nfor i in range(3):\n    for j in range(3):\n        if j == i:\n            break\n        out.append((i, j))\n    else:\n        out.append('inner else')\nreturn out",
    "for i in range(10):\n    for j in range(10):\n        if i * j == 12:\n            return i, j\nreturn None",
    "n = 0\nfor i in range(100):\n    if i % 2:\n        continue\n    n += i\nreturn n, i",
    "l = [1]\nfor x in l:\n    if len(l) < 5:\n        l.append(x + 1)\nreturn l",
  ]);
});

test("augmented assignment evaluates its target once and mutates lists and sets in place", () => {
  sameAsCPython([
    "log = []\na = [0, 0]\n(log.append('o') or a)[log.append('k') or 1] += log.append('v') or 5\nreturn a, log",
    "a = [1, 2]\nb = a\na *= 0\nreturn b",
    "a = [1, 2]\nb = a\na *= 2\nreturn b, a is b",
    "a = [1]\nb = a\na += (2, 3)\na += 'xy'\nreturn b",
    "a = {1, 2}\nb = a\na -= {1, 5}\nreturn b",
    "t = (1,)\nu = t\nt += (2,)\nreturn t, u",
    "s = 'ab'\ns *= 2\nn = 7\nn //= 2\nn **= 3\nf = 1.5\nf %= 1\nreturn s, n, f",
    "d = {'a': 1}\nd['a'] += 1\nd['b'] = d.get('b', 0) - 1\nreturn d",
    "a = [1, 2]\na *= 2.0",
    "x = 1\nx += 'a'",
    "x = None\nx **= 2",
    "x = 2\nx //= 'a'",
    "a = [1]\na += 5",
    "a = [1]\na *= 10 ** 20",
    "a = {1}\na -= [1]",
    "a = [1]\na -= [1]",
    "t = ([1],)\nt[0] += [2]",
    "x = 'a'\nx += 1",
    "y = x\nx += 1",
  ]);
});

test("comprehensions have their own scope: the first iterable is read outside, targets do not leak", () => {
  sameAsCPython([
    "i = 5\nx = [i for i in range(3)]\nreturn i, x",
    "x = [1, 2]\nreturn [x for x in x]",
    "return [x for x in x]\nx = 1",
    "y = [x for i in range(3)]\nx = 1",
    "return [j for i in range(3) for j in range(j)]",
    "return [[i * j for j in range(i)] for i in range(4)], [(i, j) for i in range(3) for j in range(i) if (i + j) % 2]",
    "return {k: v for k, v in zip('abc', range(3)) if v}, {i % 3 for i in range(10)}, sorted(x for x in [3, 1, 2])",
    "n = 10\nreturn [i for i in range(n) if i % 2 if i % 3], sum(i * n for i in range(n))",
    "d = {str(i): i for i in range(5)}\nreturn {v: k for k, v in d.items()}",
  ]);
});

test("generator expressions are lazy, one-shot, and raise when resumed from inside themselves", () => {
  sameAsCPython([
    "g = (1 // 0 for i in range(3))\nreturn 1",
    "g = (i for i in 5)",
    "g = (i for i in range(3))\nreturn list(g), list(g)",
    "g = None\ng = (list(g) for _ in range(1))\nreturn list(g)",
    "g = (i for i in range(3) if i)\nh = (x * 2 for x in g)\nreturn list(zip(h, 'ab'))",
    "return ','.join(str(i) for i in range(12))",
  ]);
});

test("generators and comprehensions nest up to CPython's recursion limit, then RecursionError", () => {
  const chain = (n: number) => `g = range(3)\nfor i in range(${n}):\n    g = (x for x in g)\nreturn list(g)`;
  sameAsCPython([
    chain(900),
    chain(5000),
    "g = range(3)\nfor i in range(2000):\n    g = (x for x in g)\nreturn sum(1 for _ in range(3))",
  ]);
  assert.equal(idem(chain(997)), "[0, 1, 2]");
  assert.equal(idem(chain(998)), "RecursionError: maximum recursion depth exceeded");
});

test("unpacking takes exactly as many values as targets, with CPython's errors", () => {
  sameAsCPython([
    "a, b = 1,",
    "a, b = [1, 2, 3]",
    "a, b = 5",
    "a, b, c = 'ab'",
    "for a, b in [(1, 2, 3)]:\n    pass",
    "a, b = (i for i in range(10 ** 9))",
    "a, b = {1: 2, 3: 4}\nreturn a, b",
    "a, (b, c) = 1, (2, 3)\n[d, e] = 'xy'\nreturn a, b, c, d, e",
    "l = [1, 2]\nl[0], l[1] = l\nreturn l",
    "a = [0, 0]\ni, a[i] = 1, 5\nreturn a",
  ]);
});

test("reading a local before it is bound is UnboundLocalError; a comprehension reading one is NameError", () => {
  sameAsCPython([
    "return x\nx = 1",
    "if False:\n    x = 1\nreturn x",
    "for i in range(0):\n    pass\nreturn i",
    "x = x + 1",
    "args = args\nreturn args",
    "y = [x for i in range(3)]\nx = 1",
    "return args, len('abc')",
  ]);
});

test("changing a dict or set while iterating it is CPython's RuntimeError, checked at every step", () => {
  sameAsCPython([
    "d = {1: 1}\nfor k in d:\n    d[2] = 2",
    "d = {1: 1, 2: 2}\nfor k in d:\n    d.pop(k)\n    d[k + 10] = 1",
    "d = {1: 1}\nfor k in d:\n    d[k] = 5\nreturn d",
    "s = {1}\nfor k in s:\n    s.add(2)",
    "d = {1: 1}\nfor k, v in d.items():\n    d[3] = 3",
    "d = {1: 1}\nfor i, k in enumerate(d):\n    d[2] = 2",
    "d = {1: 1, 2: 2}\nreturn [d.setdefault(k + 10, 0) for k in d]",
  ]);
});

test("a tree nested beyond CPython's compiler limit is its RecursionError, never a JavaScript stack overflow", () => {
  const chain = (n: number, op: string) => Array.from({ length: n }, () => "1").join(op);
  const sources = [
    `return ${chain(2900, "+")}`,
    `return ${chain(3100, "+")}`,
    `return ${"-".repeat(2900)}1`,
    `return ${"-".repeat(3100)}1`,
    `x = ' a '\nreturn x${".strip()".repeat(1400)}`,
    `x = ' a '\nreturn x${".strip()".repeat(1600)}`,
  ];
  const expected = cpython(sources);
  for (const [i, source] of sources.entries()) {
    const outcome = idem(source);
    const want = expected[i] ?? "";
    // A compile-time error keeps idem's form for errors found before anything runs: "Cannot run Body: … (line, column)".
    if (want.startsWith("RecursionError: ")) {
      assert.match(
        outcome,
        /^RecursionError: (Cannot run Body: )?maximum recursion depth exceeded during compilation/,
      );
    } else assert.equal(outcome, want);
  }
});

test("the compiler's nesting limit is 2,990 levels: a Body statement and 2,989 nested nodes compile", () => {
  const sum = (n: number): Expr => {
    let e: Expr = { kind: "literal", value: 1n };
    for (let i = 1; i < n; i++)
      e = { kind: "binary", op: "+", left: e, right: { kind: "literal", value: 1n } };
    return e;
  };
  const run = (n: number) =>
    runBody(
      { statements: [{ kind: "return", value: sum(n) }], locals: new Set() },
      { args: null, scripts: new Set(), call: () => assert.fail("no script runs") },
    );
  assert.equal(run(2989), 2989n);
  assert.throws(
    () => run(2990),
    (error) =>
      error instanceof IdemError &&
      error.code === 1 &&
      error.cause === "RecursionError" &&
      error.message === "maximum recursion depth exceeded during compilation",
  );
});

test("a long loop, comprehension or sum stops at its next checkpoint: the aborted signal's reason, or the checkpoint's error", () => {
  const reason = new Error("plan timed out");
  const controller = new AbortController();
  controller.abort(reason);
  const stop = new Error("stop");
  for (const source of [
    "for x in range(10 ** 12):\n    pass",
    "return [x for x in range(10 ** 12)]",
    "return sum(x for x in range(10 ** 12))",
  ]) {
    const program = python.compile(source);
    const options = { args: null, scripts: new Set<string>(), call: () => assert.fail("no script runs") };
    assert.throws(
      () => python.evaluate(program, { ...options, signal: controller.signal }),
      (e) => e === reason,
    );
    let checks = 0;
    const checkpoint = () => {
      if (++checks === 3) throw stop;
    };
    assert.throws(
      () => python.evaluate(program, { ...options, checkpoint }),
      (e) => e === stop,
    );
    assert.equal(checks, 3);
  }
});
