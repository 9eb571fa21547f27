/**
 * The Plan checker generated ahead of time (agent/murano/plan_check.generated.ts, from tools/plan_check_code.ts): the
 * checked-in file must be what the generator writes now (else the schema changed and the checker did not), and it
 * must say what TypeBox's own `Value.Check` of the schema says, on plans, near-plans and any JSON.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import fc from "fast-check";
import { Value } from "typebox/value";
import { parseJson } from "../../agent/json/parse.ts";
import { toPlain } from "../../agent/json/plain.ts";
import { Plan } from "../../agent/murano/plan.ts";
import * as generated from "../../agent/murano/plan_check.generated.ts";
import { planCheckModule } from "../../tools/plan_check_code.ts";

test("agent/murano/plan_check.generated.ts is the one generated from the schema (else: npm run gen:plan-check)", () => {
  const checkedIn = readFileSync(
    new URL("../../agent/murano/plan_check.generated.ts", import.meta.url),
    "utf8",
  );
  assert.ok(
    checkedIn === planCheckModule(),
    "agent/murano/plan_check.generated.ts differs from the Plan schema's checker: run `npm run gen:plan-check` and commit the file",
  );
});

const { Check } = generated;

test("the generated checker exports Check alone: nothing in the process can change what a plan is checked against", () => {
  assert.deepEqual(Object.keys(generated), ["Check"]);
});

/** A value of `valid` or, one time in twenty, any JSON: near-misses of each field. */
function field<T>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> {
  return fc.oneof({ arbitrary: valid, weight: 19 }, { arbitrary: fc.jsonValue({ maxDepth: 2 }), weight: 1 });
}

/** One of `good` mostly, one of `bad` (a near-miss of the schema) one time in five. */
function near<T>(good: readonly T[], bad: readonly T[]): fc.Arbitrary<T> {
  return fc.oneof(
    { arbitrary: fc.constantFrom(...good), weight: 4 },
    { arbitrary: fc.constantFrom(...bad), weight: 1 },
  );
}

/** Keys as plans have them, and the awkward ones (a line break: the schema's `additionalProperties` case). */
const key = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom("a\nb", "__proto__", "constructor", ""));

function dictionary<T>(value: fc.Arbitrary<T>): fc.Arbitrary<unknown> {
  return field(fc.dictionary(key, value, { maxKeys: 3 }));
}

const contentFile = fc.record({
  Name: field(fc.string()),
  BodyType: field(near(["Text", "Base64"], ["text", ""])),
  Body: field(fc.string()),
});
const downloadable = fc.record({
  Name: field(fc.string()),
  Type: field(near(["Downloadable"], ["Text", "downloadable"])),
  URL: field(fc.string()),
});
const script = fc.record(
  {
    Type: field(near(["Application"], ["Chef", "Puppet"])),
    EntryPoint: field(fc.string()),
    Files: field(
      fc.oneof(fc.constant(null), fc.array(fc.oneof(fc.string(), dictionary(fc.string())), { maxLength: 3 })),
    ),
    Options: field(
      fc.oneof(
        fc.constant(null),
        fc.record({ captureStdout: fc.jsonValue(), verifyExitcode: fc.jsonValue() }, { requiredKeys: [] }),
      ),
    ),
  },
  { requiredKeys: ["Type", "EntryPoint"] },
);
const number = near(
  [1, 2, 3, 2_000_000, 600],
  [0, -1, 0.5, 1.5, 2_000_001, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2],
);
const planLike = fc.record(
  {
    FormatVersion: field(fc.oneof(fc.constant(null), fc.constantFrom("2.0.0", "2.1.0", "x"))),
    ID: field(fc.string({ minLength: 1, maxLength: 4 })),
    Name: fc.jsonValue({ maxDepth: 1 }),
    ReplyTo: field(fc.oneof(fc.constant(null), fc.string())),
    Parameters: field(
      fc.oneof(fc.constant(null), fc.dictionary(key, fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 })),
    ),
    Body: field(fc.string()),
    Scripts: dictionary(script),
    Files: dictionary(fc.oneof(contentFile, downloadable)),
    Options: dictionary(fc.jsonValue({ maxDepth: 1 })),
    Generation: field(number),
    Idempotency: field(
      fc.record(
        {
          Policy: field(fc.string()),
          Key: field(fc.string({ maxLength: 3 })),
          Options: dictionary(fc.jsonValue()),
        },
        { requiredKeys: [] },
      ),
    ),
    Timeout: field(number),
  },
  { requiredKeys: ["ID", "Body", "Scripts", "Files"] },
);

test("the generated checker says what Value.Check says, on plan-like values and any JSON (property)", () => {
  let valid = 0;
  let total = 0;
  fc.assert(
    fc.property(
      fc.oneof({ arbitrary: planLike, weight: 4 }, { arbitrary: fc.jsonValue(), weight: 1 }),
      (value) => {
        // The agent checks the plain view of a parse (agent/json/plain.ts: objects without a prototype).
        const parsed = parseJson(JSON.stringify(value));
        assert.ok(parsed.ok);
        for (const candidate of [value, toPlain(parsed.value)]) {
          const expected = Value.Check(Plan, candidate);
          assert.equal(
            Check(candidate),
            expected,
            `Value.Check says ${expected} of ${JSON.stringify(candidate)}`,
          );
          total++;
          if (expected) valid++;
        }
      },
    ),
    { numRuns: 2000 },
  );
  // Both verdicts were exercised, not only refusals.
  assert.ok(valid > total / 10, `only ${valid} of ${total} values were plans`);
  assert.ok(valid < total, "every value was a plan");
});

test("the generated checker accepts the corpus plans that Value.Check accepts, and only those", () => {
  const dir = new URL("../../../shared/murano-corpus/cases/", import.meta.url);
  let plans = 0;
  for (const name of readdirSync(dir).filter((n) => n.endsWith(".json"))) {
    const text = readFileSync(join(dir.pathname, name), "utf8");
    const parsed = parseJson(text);
    if (!parsed.ok) continue;
    const root = toPlain(parsed.value) as { plan?: unknown };
    const plan = root.plan ?? root;
    assert.equal(Check(plan), Value.Check(Plan, plan), name);
    if (Check(plan)) plans++;
  }
  assert.ok(plans > 100, `only ${plans} corpus plans pass the schema`);
});
