/**
 * Python's complex numbers in the Body interpreter, against CPython 3.11 (`python3`): every expected answer is
 * python3's, asked at test time — expressions in one batch (test/helpers/number_oracle.ts), whole Bodies through
 * murano-agent's semantics (test/helpers/python_body.ts), and the C library functions through ctypes. The
 * property test generates complex expressions (seed printed; `IDEM_COMPLEX_SEED=…` replays it,
 * `IDEM_COMPLEX_RUNS=…` runs more).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, test } from "node:test";
import fc from "fast-check";
import { atan2, cos, exp, hypot, log, sin } from "../../agent/python/runtime/libm.ts";
import { type BodyCase, sameOutcome, showOutcome } from "../helpers/body_case.ts";
import { COMPLEX_BODIES, COMPLEX_CASES, complexExpression } from "../helpers/complex_cases.ts";
import { idemOutcome } from "../helpers/idem_body.ts";
import { floatSource } from "../helpers/number_arbitraries.ts";
import { type Answer, cpython, cpythonKinds, idem, sameAnswer, show } from "../helpers/number_oracle.ts";
import { PythonBodies } from "../helpers/python_body.ts";

/** A test of one kind of behaviour: each expression gives CPython's value or exception (one python3 run for all). */
const kind = cpythonKinds();

for (const [name, expressions] of Object.entries(COMPLEX_CASES)) kind(name, expressions);

/** The numbers in an answer's text, and the text around them. */
function numbersOf(text: string): { skeleton: string; numbers: number[] } {
  const numbers: number[] = [];
  const skeleton = text.replace(/\d+\.?\d*(?:e[+-]?\d+)?/g, (n) => {
    numbers.push(Number(n));
    return "#";
  });
  return { skeleton, numbers };
}

/**
 * Whether two values differ only in the last digits of their numbers (within 4 ulps): the C library's
 * misrounding that docs/murano.md lists (glibc's hypot, atan2, exp, log, cos, sin against correct rounding).
 */
function lastDigits(ours: Answer, theirs: Answer): boolean {
  if (!("ok" in ours) || !("ok" in theirs)) return false;
  const a = numbersOf(ours.ok);
  const b = numbersOf(theirs.ok);
  return (
    a.skeleton === b.skeleton &&
    a.numbers.every((x, i) => Math.abs(x - (b.numbers[i] as number)) <= 4 * Number.EPSILON * Math.abs(x))
  );
}

test("generated complex expressions give CPython's value or exception (libm's last digit aside)", (t) => {
  const seed = Number(process.env.IDEM_COMPLEX_SEED ?? Date.now() % 2 ** 31);
  const runs = Number(process.env.IDEM_COMPLEX_RUNS ?? 2000);
  t.diagnostic(`seed ${seed} (IDEM_COMPLEX_SEED=${seed} replays it), ${runs} expressions`);
  const expressions = fc.sample(complexExpression, { seed, numRuns: runs });
  const expected = cpython(expressions);
  const wrong: string[] = [];
  let libm = 0;
  expressions.forEach((e, i) => {
    const want = expected[i] as Answer;
    const got = idem(e);
    if (sameAnswer(got, want)) return;
    if (lastDigits(got, want)) libm++;
    else wrong.push(`${e}\n    idem:    ${show(got)}\n    CPython: ${show(want)}`);
  });
  if (libm > 0) t.diagnostic(`${libm} answer(s) differ in the last digit (glibc's rounding)`);
  assert.deepEqual(
    wrong.slice(0, 10),
    [],
    `seed ${seed}: ${wrong.length} of ${runs} disagree:\n${wrong.slice(0, 10).join("\n")}`,
  );
  assert.ok(libm <= runs / 200, `seed ${seed}: ${libm} of ${runs} differ in the last digit`);
});

/** Whole Bodies: statements, json.dumps of the result, Parameters, in murano-agent's semantics. */

const python = new PythonBodies({ hashSeed: 1 });
after(() => python.close());

test("Bodies with complex numbers answer as murano-agent's CPython does", async () => {
  const bodies: BodyCase[] = COMPLEX_BODIES.map((body) => ({
    topic: "complex",
    body,
    params: '{"n": 2.25, "s": "1-2.5j"}',
    scripts: [],
  }));
  const expected = await python.run(bodies);
  const wrong = bodies.flatMap((c, i) => {
    const ours = idemOutcome(c);
    const theirs = expected[i];
    if (theirs === undefined || sameOutcome(ours, theirs)) return [];
    return [`${c.body}\n    idem:    ${showOutcome(ours)}\n    CPython: ${showOutcome(theirs)}`];
  });
  assert.deepEqual(wrong, [], wrong.join("\n"));
});

const LIBM = `
import ctypes, json, sys
libm = ctypes.CDLL("libm.so.6")
for f in ["hypot", "atan2", "exp", "log", "cos", "sin"]:
    getattr(libm, f).restype = ctypes.c_double
    getattr(libm, f).argtypes = [ctypes.c_double] * (2 if f in ("hypot", "atan2") else 1)
for line in sys.stdin:
    f, *xs = json.loads(line)
    print(float.hex(getattr(libm, f)(*(float(x) for x in xs))))
`;

test("hypot, atan2, exp, log, cos and sin are within an ulp of glibc's and equal to it for 99% of arguments", (t) => {
  const seed = Number(process.env.IDEM_COMPLEX_SEED ?? Date.now() % 2 ** 31);
  t.diagnostic(`seed ${seed}`);
  const finite = fc.oneof(
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.double({ min: -10, max: 10, noNaN: true }),
    fc
      .tuple(fc.integer({ min: -400, max: 400 }), fc.constantFrom(2, 3, 7))
      .map(([n, d]) => (n / d) * Math.PI),
  );
  const calls = fc.sample(
    fc.oneof(
      fc.tuple(fc.constantFrom("hypot", "atan2"), finite, finite).map(([f, a, b]) => [f, a, b] as const),
      fc.tuple(fc.constantFrom("cos", "sin"), finite).map(([f, a]) => [f, a] as const),
      fc
        .tuple(fc.constant("exp"), fc.double({ min: -745, max: 710, noNaN: true }))
        .map(([f, a]) => [f, a] as const),
      fc
        .tuple(fc.constant("log"), fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }))
        .map(([f, a]) => [f, a] as const),
    ),
    { seed, numRuns: 3000 },
  );
  // JSON's shortest digits read back exactly; -0.0 goes as text, which Python's float() reads.
  const input = calls
    .map(([f, ...xs]) => `${JSON.stringify([f, ...xs.map((x) => (Object.is(x, -0) ? "-0.0" : x))])}\n`)
    .join("");
  const run = spawnSync("python3", ["-c", LIBM], { input, encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
  const glibc = run.stdout.trim().split("\n").map(fromHex);
  const ours = { hypot, atan2, exp, log, cos, sin } as Record<string, (...xs: number[]) => number>;
  let differ = 0;
  calls.forEach(([f, ...xs], i) => {
    const want = glibc[i] as number;
    const got = (ours[f] as (...xs: number[]) => number)(...xs);
    if (Object.is(got, want) || (Number.isNaN(got) && Number.isNaN(want))) return;
    differ++;
    assert.ok(Math.abs(got - want) <= ulp(want), `${f}(${xs.map(floatSource)}): ${got} vs glibc's ${want}`);
  });
  assert.ok(differ <= calls.length / 100, `seed ${seed}: ${differ} of ${calls.length} differ from glibc`);
});

function ulp(x: number): number {
  const a = Math.abs(x);
  if (a < 2 ** -1022) return 2 ** -1074;
  return 2 ** (Math.floor(Math.log2(a)) - 52) * 1.0000001;
}

/** Python's float.hex text as a number. */
function fromHex(text: string): number {
  if (text === "inf" || text === "-inf") return text === "inf" ? Infinity : -Infinity;
  if (text === "nan") return Number.NaN;
  const m = /^(-?)0x([01])\.?([0-9a-f]*)p([+-]\d+)$/.exec(text);
  if (m === null) throw new Error(`not float.hex text: ${text}`);
  const fraction = BigInt(`0x${(m[3] ?? "").padEnd(13, "0")}`);
  const mantissa = (BigInt(m[2] ?? "0") << 52n) | fraction;
  let e = Number(m[4]) - 52;
  let v = Number(mantissa);
  while (e < -1000) {
    v *= 2 ** -1000;
    e += 1000;
  }
  v *= 2 ** e;
  return m[1] === "-" ? -v : v;
}
