/**
 * A Body sees a set's iteration order, and CPython's is its hash table's (types/set_table.ts): generated Bodies
 * build sets of ints, floats, bools, strs and tuples of them every way a Body can — displays of constants (after
 * CPython's folding: `{-3, 2**3, (1, 2)}` is a frozenset constant, eval/fold.ts), displays of variables,
 * set(), comprehensions, loops over a display (ast_opt.c fold_iter) — then add, discard, pop, update and
 * combine them across resizes, printing `list(s)` after every step. python3 runs the same Bodies in one process
 * with PYTHONHASHSEED=1 (the str hashes idem uses);
 * the answers must be equal. The seed is printed (SET_ORDER_SEED=n replays it).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import fc from "fast-check";
import { compile, evaluate, toJson } from "../../agent/python/mod.ts";

const seed = Number(process.env.SET_ORDER_SEED ?? Date.now() % 2 ** 31);
console.log(`set order: SET_ORDER_SEED=${seed}`);

/** Numbers whose hashes collide in small tables (multiples of 8 and 32), huge ints near 2**61 - 1, floats. */
const atom: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -20, max: 100 }).map(String) },
  { weight: 3, arbitrary: fc.integer({ min: -6, max: 40 }).map((k) => String(k * 8)) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 12 }).map((k) => String(k * 32 + 5)) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom("2**61 - 1", "2**61", "2**64", "-2**63", "10**20"),
        fc.integer({ min: -3, max: 3 }),
      )
      .map(([big, k]) => `(${big} + ${k})`),
  },
  { weight: 1, arbitrary: fc.integer({ min: -40, max: 40 }).map((k) => `${k / 4}`) },
  { weight: 1, arbitrary: fc.constantFrom("True", "False", "0.1", "-0.0", "1e300", "float('inf')") },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: -3, max: 9 }), fc.integer({ min: 0, max: 9 }))
      .map(([a, b]) => `(${a}, ${b})`),
  },
);
const atoms = (max: number): fc.Arbitrary<string[]> => fc.array(atom, { maxLength: max });

/**
 * Strs, hashed as CPython does under PYTHONHASHSEED=1 (types/str_hash.ts), with the numbers. Not in displays
 * of constants: CPython may lay such a frozenset constant out once more when its code object interns an
 * identifier-like str that the interpreter had already interned elsewhere (docs/murano.md).
 */
const strAtom: fc.Arbitrary<string> = fc.oneof(
  atom,
  fc.constantFrom(
    "''",
    "'a'",
    "'b'",
    "'port'",
    "'localhost'",
    "'a b'",
    "'é'",
    "'日本'",
    "'😀'",
    "'\\ud800'",
    "('x', 1)",
  ),
);
const strAtoms = (max: number): fc.Arbitrary<string[]> => fc.array(strAtom, { maxLength: max });

/** An expression that makes a new set. */
const maker: fc.Arbitrary<string> = fc.oneof(
  atoms(24)
    .filter((a) => a.length > 0)
    .map((a) => `{${a.join(", ")}}`),
  atoms(8).map((a) => `{v, ${[...a, "0"].join(", ")}}`),
  strAtoms(40).map((a) => `set([${a.join(", ")}])`),
  atoms(30).map((a) => `{x for x in [${a.join(", ")}]}`),
  atoms(12)
    .filter((a) => a.length > 0)
    .map((a) => `set([x for x in {${a.join(", ")}}])`),
  fc.integer({ min: 0, max: 70 }).map((n) => `set(range(${n}))`),
  fc.tuple(atoms(10), atoms(6)).map(([a, b]) => `set([${a.join(", ")}]) - set([${b.join(", ")}])`),
);

/** A statement on the set `s` (and the Body's `out`). */
const step: fc.Arbitrary<string> = fc.oneof(
  strAtom.map((a) => `s.add(${a})`),
  atom.map((a) => `s.discard(${a})`),
  atom.map((a) => `if ${a} in s: s.remove(${a})`),
  fc.constant("if s: out.append(s.pop())"),
  strAtoms(20).map((a) => `s.update([${a.join(", ")}])`),
  maker.map((m) => `s.update(${m})`),
  maker.map((m) => `s = s.union(${m})`),
  maker.map((m) => `s = s.intersection(${m})`),
  maker.map((m) => `s.intersection_update(${m})`),
  maker.map((m) => `s.difference_update(${m})`),
  maker.map((m) => `s = s.difference(${m})`),
  maker.map((m) => `s.symmetric_difference_update(${m})`),
  maker.map((m) => `s = ${m}.symmetric_difference(s)`),
  fc.constant("s = s.copy()"),
  fc.constant("s = set(s)"),
  fc.constant("out.append([x for x in s])"),
  atoms(6).map((a) => `for x in {${[...a, "1"].join(", ")}}: out.append(x)`),
  fc.integer({ min: 0, max: 60 }).map((n) => `for x in range(${n}): s.add(x * 7)`),
  fc.integer({ min: 0, max: 60 }).map((n) => `for x in range(${n}): s.discard(x)`),
);

const body: fc.Arbitrary<string> = fc
  .tuple(atom, maker, fc.array(step, { minLength: 1, maxLength: 8 }))
  .map(([v, m, steps]) =>
    [
      `v = ${v}`,
      "out = []",
      `s = ${m}`,
      ...steps.flatMap((st) => [st, "out.append(list(s))"]),
      "return out",
    ].join("\n"),
  );

const ORACLE = String.raw`
import json, sys
for line in sys.stdin:
    src = json.loads(line)
    ns = {}
    try:
        exec("def f():\n" + "\n".join("    " + l for l in src.split("\n")), ns)
        print(json.dumps({"ok": json.dumps(ns["f"]())}))
    except Exception as e:
        print(json.dumps({"error": type(e).__name__ + ": " + str(e)}))
`;

function idem(src: string): { ok: string } | { error: string } {
  try {
    const value = evaluate(compile(src), {
      args: null,
      scripts: new Set(),
      call: () => assert.fail("no script"),
    });
    return { ok: toJson(value) };
  } catch (error) {
    return { error: String((error as { cause?: unknown }).cause ?? "") + ": " + (error as Error).message };
  }
}

test("sets iterate in CPython's order however they are built and changed", () => {
  const bodies = fc.sample(body, { seed, numRuns: 600 });
  const run = spawnSync("python3", ["-c", ORACLE], {
    input: bodies.map((b) => JSON.stringify(b)).join("\n"),
    encoding: "utf8",
    maxBuffer: 1 << 28,
    env: { ...process.env, PYTHONHASHSEED: "1" },
  });
  const expected = run.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { ok?: string; error?: string });
  assert.equal(expected.length, bodies.length, run.stderr);
  const failures: string[] = [];
  bodies.forEach((src, i) => {
    const want = expected[i] as { ok?: string; error?: string };
    const got = idem(src);
    const same =
      "ok" in got
        ? got.ok === want.ok
        : want.error !== undefined && got.error.endsWith(want.error.replace(/^\w+: /, ""));
    if (!same) failures.push(`${src}\n  python: ${JSON.stringify(want)}\n  idem:   ${JSON.stringify(got)}`);
  });
  assert.equal(
    failures.length,
    0,
    `SET_ORDER_SEED=${seed}: ${failures.length} differ:\n${failures.slice(0, 4).join("\n")}`,
  );
});
