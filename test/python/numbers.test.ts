/**
 * CPython 3.11's int/float/bool tower in the Body interpreter. Every expected answer comes from python3 at test
 * time (test/helpers/number_oracle.ts, one process per batch): each test lists one kind of behaviour, and the
 * property test generates thousands of mixed expressions (seed printed; `IDEM_NUMBERS_SEED=…` replays it,
 * `IDEM_NUMBERS_RUNS=…` runs more).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { numberExpression } from "../helpers/number_arbitraries.ts";
import { NUMBER_CASES } from "../helpers/number_cases.ts";
import { cpythonKinds, disagreements, idem, show } from "../helpers/number_oracle.ts";

/** A test of one kind of behaviour: its expressions all give CPython's answer (one python3 run for all). */
const kind = cpythonKinds();

for (const [name, expressions] of Object.entries(NUMBER_CASES)) kind(name, expressions);

test("int('9' * 600000) is refused at once, before converting a digit", () => {
  const started = performance.now();
  const answer = idem("int('9' * 600000) % 7");
  assert.match(show(answer), /^ValueError: Exceeds the limit \(4300 digits\).*value has 600000 digits/);
  assert.ok(performance.now() - started < 1000, "took longer than a second");
});

test("an int too large for a Body's memory is MemoryError before it is computed", () => {
  for (const expression of ["2 ** (10**10)", "(10**4000) ** 100000", "(2**40000000) * (2**40000000)"]) {
    const started = performance.now();
    assert.match(show(idem(expression)), /^MemoryError: Cannot build an int of \d+ bits/, expression);
    assert.ok(performance.now() - started < 2000, `${expression} took too long`);
  }
});

// The oracle answers an int power beyond the bound MemoryError without computing it (number_oracle.ts): CPython
// would compute for minutes. At the bound itself (2 ** 67108863 has 67108864 bits) both compute it.
kind("an int power beyond a Body's bound is MemoryError, at the bound it is computed", [
  "5 ** (5 ** 25)",
  "(10**400) ** (10**400)",
  "2 ** 67108865",
  "2 ** 67108864",
  "(-3) ** 10**9",
  "(2 ** 67108863).bit_length()",
  "(-2) ** 67108863 < 0",
]);

kind("a negative float to a fractional power is a complex number, as CPython's float_pow makes it", [
  "(-2.0) ** 0.5",
  "pow(-8, 1/3)",
  "(-1) ** 0.5",
  "(-113) ** 123456789.125",
  "(-1e300) ** 0.5",
]);

test("generated numeric expressions give CPython's value or exception", (t) => {
  const seed = Number(process.env.IDEM_NUMBERS_SEED ?? Date.now() % 2 ** 31);
  const runs = Number(process.env.IDEM_NUMBERS_RUNS ?? 3000);
  t.diagnostic(`seed ${seed} (IDEM_NUMBERS_SEED=${seed} replays it), ${runs} expressions`);
  const expressions = fc.sample(numberExpression, { seed, numRuns: runs });
  const wrong = disagreements(expressions);
  assert.deepEqual(
    wrong.slice(0, 15),
    [],
    `seed ${seed}: ${wrong.length} of ${runs} disagree; the first:\n${wrong.slice(0, 15).join("\n")}`,
  );
});
