/**
 * Ints too large for an index or a size, against python3 run as murano-agent runs a Body: CPython converts
 * them to a C Py_ssize_t in one of two ways (runtime/ssize.ts) — a subscript says IndexError "cannot fit
 * 'int' into an index-sized integer", a repetition OverflowError with the same words, a size argument or a
 * length OverflowError "Python int too large to convert to C ssize_t" — while slice bounds are clamped. Also
 * the type name of built-in functions in attribute errors.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { type BodyCase, type Outcome, sameOutcome } from "../helpers/body_case.ts";
import { idemOutcome } from "../helpers/idem_body.ts";
import { PythonBodies } from "../helpers/python_body.ts";

/** Asserts idem answers each Body (Parameters `{"n": …}` unused by most) exactly as python3 does. */
async function sameAsCPython(bodies: string[]): Promise<void> {
  const cases: BodyCase[] = bodies.map((body) => ({ topic: "indexes", body, params: "{}", scripts: [] }));
  const python = new PythonBodies();
  try {
    const expected = await python.run(cases);
    cases.forEach((c, k) => {
      const want = expected[k] as Outcome;
      const got = idemOutcome(c);
      assert.ok(
        sameOutcome(got, want),
        `${c.body}\nidem: ${JSON.stringify(got)}\npython3: ${JSON.stringify(want)}`,
      );
    });
  } finally {
    python.close();
  }
}

const HUGE = ["10**30", "-10**30", "2**63", "2**63-1", "-2**63", "-2**63-1"];

test("a subscript beyond Py_ssize_t is CPython's IndexError for str, list and tuple, read or assigned", async () => {
  const bodies: string[] = [];
  for (const n of HUGE)
    bodies.push(
      `return [1, 2][${n}]`,
      `return 'ab'[${n}]`,
      `return 'a\\U0001F600'[${n}]`,
      `return (1, 2)[${n}]`,
      `l = [1, 2]\nl[${n}] = 3\nreturn l`,
      `return range(5)[${n}]`,
      `return range(10**40)[${n}]`,
    );
  await sameAsCPython(bodies);
});

test("a repetition count beyond Py_ssize_t is CPython's OverflowError; slice bounds are clamped", async () => {
  const bodies: string[] = [];
  for (const n of HUGE)
    bodies.push(
      `return [] * ${n}`,
      `return '' * ${n}`,
      `return ${n} * ()`,
      `l = []\nl *= ${n}\nreturn l`,
      `return [1, 2, 3][${n}:]`,
      `return 'abc'[:${n}:${n}]`,
      `l = [1, 2]\nl[${n}:] = [3]\nreturn l`,
      `return list(range(10)[${n}::-1])`,
    );
  await sameAsCPython(bodies);
});

test("a size or length beyond Py_ssize_t is CPython's OverflowError 'too large to convert to C ssize_t'", async () => {
  await sameAsCPython([
    "return len(range(10**30))",
    "return list(range(10**30))",
    "return tuple(range(2**63))",
    "return sorted(range(-10**30, 0))",
    "return [*range(10**30)]",
    "l = [1]\nl.extend(range(10**30))",
    "l = [1]\nl[:] = range(10**30)",
    "return ''.join(range(10**30))",
    "return [1, 2].pop(10**30)",
    "return 'ab'.center(10**30)",
    "return 'ab'.split('a', 10**30)",
    "return len(range(2**63 - 1))",
  ]);
});

test("built-in functions and methods are named by their type in attribute errors", async () => {
  await sameAsCPython([
    "return len.foo",
    "return '{0.foo}'.format(len)",
    "return '{0.foo}'.format(sorted)",
    "return int.foo",
    "return '{0.foo}'.format(str)",
    "return 'a'.lower.foo",
    "return str.lower.foo",
    "return '{0.real.foo}'.format(1)",
  ]);
});

test("generated subscripts and repetitions around the Py_ssize_t limits match python3 (fast-check)", async () => {
  const limit = 2n ** 63n;
  const near = fc.oneof(
    fc.bigInt({ min: -limit - 5n, max: -limit + 5n }),
    fc.bigInt({ min: limit - 5n, max: limit + 5n }),
    fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }),
    fc.bigInt({ min: -4n, max: 4n }),
  );
  const body = fc
    .tuple(near, fc.constantFrom("[1, 2, 3][N]", "'abc'[N]", "(1, 2)[N]", "[] * N", "'' * N", "range(3)[N]"))
    .map(([n, shape]) => `return ${shape.replace("N", `(${n})`)}`);
  const seed = Number(process.env.INDEXES_SEED ?? Date.now() % 2 ** 31);
  console.log(`indexes seed: ${seed} (INDEXES_SEED=${seed} to replay)`);
  await sameAsCPython(fc.sample(body, { seed, numRuns: 300 }));
});

test("a slice on a receiver without slicing is CPython's error for reading and for assigning", async () => {
  await sameAsCPython([
    "d = {}\nd[1:2] = [1]\nreturn d",
    "d = {'a': 1}\nreturn d[1:2]",
    "d = {}\nd[::2] += [1]\nreturn d",
    "t = (1, 2)\nt[0:1] = [3]\nreturn t",
    "s = 'ab'\ns[0:1] = 'c'\nreturn s",
    "r = range(3)\nr[1:2] = [1]\nreturn r",
    "x = 5\nx[0:1] = 2\nreturn x",
    "return {1}[0:1]",
    "return 5[0:1]",
  ]);
});

test("a slice assignment of a value that is not iterable is CPython's TypeError, simple or extended", async () => {
  await sameAsCPython([
    "l = [1]\nl[0:1] = 2\nreturn l",
    "l = [1, 2]\nl[::2] = 2\nreturn l",
    "l = [1, 2]\nl[::2] = [1, 2, 3]\nreturn l",
    "l = [1, 2]\nl[0:1] = 'ab'\nreturn l",
    "l = [1, 2]\nl[1:] += 3\nreturn l",
  ]);
});
