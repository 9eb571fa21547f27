/**
 * A property test of the compiled evaluator against CPython: fast-check generates loop-heavy Bodies (nested
 * `for` with `else`, `if`/`elif`, `break`/`continue`, `return` inside loops, augmented assignment, unpacking,
 * comprehensions reading and shadowing the Body's names, names read before they are bound) and each must give
 * CPython 3.11's outcome. One python3 process answers the whole sample; a failing Body shrinks (python3 then
 * runs per candidate) and is printed with the seed.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { cpython, idem, type Outcome } from "../helpers/cpython_body.ts";

const RUNS = 300;
const VARS = ["a", "b", "c"] as const;
const PRELUDE = ["a = 1", "b = 2", "c = 0", "i = 0"];

const expr: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
  e: fc.oneof(
    { maxDepth: 3, depthSize: "small" },
    fc.integer({ min: -3, max: 9 }).map(String),
    fc.constantFrom(...VARS, "len(L)", "sum(L)", "i", "True", "None"),
    fc
      .tuple(tie("e"), fc.constantFrom("+", "-", "//", "%", "<", "==", "!=", ">=", "and", "or"), tie("e"))
      .map(([x, op, y]) => `(${x} ${op} ${y})`),
    fc.tuple(tie("e"), tie("e"), tie("e")).map(([x, y, z]) => `(${x} if ${y} else ${z})`),
    tie("e").map((x) => `(not ${x})`),
    fc.tuple(tie("e"), fc.constantFrom("range(4)", "L", "[a, b]")).map(([x, it]) => `[${x} for i in ${it}]`),
    fc.tuple(tie("e"), tie("e")).map(([x, y]) => `(${x} * ${y} if abs(${x}) < 99 else 0)`),
    fc.tuple(tie("e"), tie("e")).map(([x, y]) => `sum(${x} for a in range(3) if ${y})`),
  ),
})).e;

const iterable = fc.oneof(
  fc.integer({ min: 0, max: 5 }).map((n) => `range(${n})`),
  fc.constantFrom("L[:]", "[a, b, c]", "range(a % 4)", "[i for i in range(3)]", "(b, a)"),
);

type Lines = string[];
const indent = (lines: Lines): Lines => lines.map((line) => `    ${line}`);

function statements(depth: number, inLoop: boolean): fc.Arbitrary<Lines> {
  const simple: fc.Arbitrary<Lines>[] = [
    fc.tuple(fc.constantFrom(...VARS), expr).map(([v, e]) => [`${v} = ${e}`]),
    fc
      .tuple(fc.constantFrom(...VARS), fc.constantFrom("+", "-", "//", "%"), expr)
      .map(([v, op, e]) => [`${v} ${op}= ${e}`]),
    fc.tuple(fc.constantFrom(...VARS), fc.integer({ min: -2, max: 3 })).map(([v, k]) => [`${v} *= ${k}`]),
    expr.map((e) => [`L.append(${e})`]),
    fc.constantFrom(
      ["a, b = b, a"],
      ["a, b = L[:2]"],
      ["L += [a]"],
      ["M = L", "M *= 2", "L = L[-4:]"],
      ["return a, b, L"],
    ),
  ];
  if (inLoop) simple.push(fc.constantFrom(["break"], ["continue"]));
  if (depth <= 0) return fc.array(fc.oneof(...simple), { minLength: 1, maxLength: 3 }).map((s) => s.flat());
  const block = statements(depth - 1, inLoop);
  const loopBlock = statements(depth - 1, true);
  const compound: fc.Arbitrary<Lines>[] = [
    fc
      .tuple(fc.constantFrom("i", "a", "b"), iterable, loopBlock, fc.option(block, { nil: undefined }))
      .map(([v, it, body, orelse]) => [
        `for ${v} in ${it}:`,
        ...indent(body),
        ...(orelse ? ["else:", ...indent(orelse)] : []),
      ]),
    fc
      .tuple(
        expr,
        block,
        fc.option(fc.tuple(expr, block), { nil: undefined }),
        fc.option(block, { nil: undefined }),
      )
      .map(([test, body, elif, orelse]) => [
        `if ${test}:`,
        ...indent(body),
        ...(elif ? [`elif ${elif[0]}:`, ...indent(elif[1])] : []),
        ...(orelse ? ["else:", ...indent(orelse)] : []),
      ]),
  ];
  return fc.array(fc.oneof(...simple, ...compound), { minLength: 1, maxLength: 3 }).map((s) => s.flat());
}

/**
 * A Body: `a`, `b`, `c`, `i` are always its locals (the never-taken `if` binds them), mostly all set first (the
 * others are UnboundLocalError until bound), then statements and a return.
 */
const body: fc.Arbitrary<string> = fc
  .tuple(
    fc.oneof({ weight: 4, arbitrary: fc.constant(PRELUDE) }, { weight: 1, arbitrary: fc.subarray(PRELUDE) }),
    statements(2, false),
  )
  .map(([prelude, lines]) =>
    ["L = [1, 2]", "if L == 0:", "    a = b = c = i = 0", ...prelude, ...lines, "return a, b, c, L"].join(
      "\n",
    ),
  );

test("generated loop-heavy Bodies give CPython's outcome", () => {
  const seed = Number(process.env.IDEM_SEED ?? Date.now() % 2 ** 31);
  console.log(`control-flow property seed: ${seed} (IDEM_SEED=${seed} reproduces it)`);
  const sample = fc.sample(body, { seed, numRuns: RUNS });
  const known = new Map<string, Outcome>();
  for (const [i, outcome] of cpython(sample).entries()) known.set(sample[i] as string, outcome);
  const reference = (source: string): Outcome => {
    let outcome = known.get(source);
    if (outcome === undefined) {
      outcome = cpython([source])[0] as Outcome;
      known.set(source, outcome);
    }
    return outcome;
  };
  fc.assert(
    fc.property(body, (source) => {
      assert.equal(idem(source), reference(source), `Body:\n${source}`);
    }),
    { seed, numRuns: RUNS },
  );
});

/** Each Body gives CPython's outcome (one python3 run for all). */
function assertAsCPython(bodies: readonly string[]): void {
  for (const [i, outcome] of cpython([...bodies]).entries()) {
    const source = bodies[i] as string;
    assert.equal(idem(source), outcome, `Body:\n${source}`);
  }
}

test("a dict changed while a loop reads it ends as CPython 3.11's iterator does: size check, keys changed, cleared and refilled", () => {
  const bodies = [
    "d = {'a': 1}\nfor k in d:\n    d.clear()\n    d['b'] = 2\nreturn d",
    "d = {'a': 1, 'b': 2}\nout = []\nfor k in d:\n    out.append(k)\n    d.clear()\n    d['x'] = 1\n    d['y'] = 2\nreturn out",
    "d = {'a': 1, 'b': 2}\nout = []\nfor k, v in d.items():\n    out.append(k)\n    d.clear()\n    d.update({'c': 3, 'e': 4})\nreturn out, d",
    "d = {'a': 1}\nfor k in d:\n    d.pop('a')\n    d['b'] = 2\nreturn d",
    "d = {'a': 1}\nfor k in d:\n    d['b'] = 2\nreturn d",
    "d = {'a': 1, 'b': 2}\nout = []\nfor v in d.values():\n    out.append(v)\n    d.clear()\nreturn out",
  ];
  assertAsCPython(bodies);
});

test("a set changed while a loop reads it goes on from its slot in the live table, as CPython 3.11's iterator does", () => {
  const bodies = [
    "s = {1, 2}\nout = []\nfor x in s:\n    out.append(x)\n    s.clear()\n    s.add(5)\n    s.add(6)\nreturn out, sorted(s)",
    "s = {1, 2, 3}\nout = []\nfor x in s:\n    out.append(x)\n    if len(out) > 9:\n        break\n    s.discard(x)\n    s.add(x + 8)\nreturn out",
    "s = {1}\nout = []\nfor x in s:\n    out.append(x)\n    s.add(2)\nreturn out",
    "s = {4, 1}\nout = []\nfor x in s:\n    out.append(x)\n    s.discard(4)\n    s.add(12)\nreturn out, sorted(s)",
  ];
  assertAsCPython(bodies);
});
