/**
 * SPEC 4: the fingerprint canonicalizes numbers as values of their JSON kind, from the plan's one parse. Through
 * the real intake (real policies, a real LMDB journal): a plan whose Body would answer differently is never taken
 * for one already sent (`{"x": 1.0}` after `{"x": 1}`, `2**53+1` after `2**53`, `-0.0` after `0`, `-1e400`
 * after `1e400`), while spellings of one Python value are. Property: fingerprint equality ⇔ equality of the
 * normalized plans as Python values, with python3 (`json.loads`, then a repr that keeps types) as the oracle.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import type { AgentEvent, PipelineContext } from "../../agent/pipeline/context.ts";
import { decode } from "../../agent/pipeline/decode.ts";
import { fingerprint } from "../../agent/pipeline/fingerprint.ts";
import { takeMessage } from "../../agent/pipeline/guard.ts";
import { type IntakeScene, intakeScene } from "../helpers/intake_scene.ts";

let scene: IntakeScene;
let ctx: PipelineContext;
let events: AgentEvent[];

before(async () => {
  scene = await intakeScene("fingerprint-numbers");
  ({ ctx, events } = scene);
});
after(() => scene.close());

let sent = 0;
/** Sends a plan whose parameter `name` is the JSON text `x` through intake; its one event. */
async function send(name: string, x: string): Promise<AgentEvent> {
  const id = `plan-${++sent}`;
  const text = `{"ID": "${id}", "Parameters": {"${name}": ${x}}, "Body": "return args.${name}", "Scripts": {}, "Files": {}}`;
  const before = events.length;
  await takeMessage({ payload: new TextEncoder().encode(text), topic: "idem/vm-1/plans", dup: false }, ctx);
  const happened = events.slice(before);
  assert.equal(happened.length, 1, JSON.stringify(happened));
  return happened[0] as AgentEvent;
}

describe("fingerprint numbers through the real intake (default policy skip-if-identical)", () => {
  // python3: json.loads gives 1 vs 1.0, 9007199254740992 vs 9007199254740993, 0 vs -0.0, inf vs -inf, 1e308 vs
  // inf, 1 vs True: values a Body tells apart (repr, type, `x / 0.0 < 0`...).
  const different: Array<[string, string]> = [
    ["1", "1.0"],
    ["9007199254740992", "9007199254740993"],
    ["0", "-0.0"],
    ["0.0", "-0.0"],
    ["1e400", "-1e400"],
    ["1e308", "1e400"],
    ["1", "true"],
    ["-Infinity", "NaN"],
  ];
  for (const [first, second] of different) {
    test(`a plan with ${second} after one with ${first} is run under its own key, not joined or replayed`, async () => {
      const name = `p${sent}`;
      const a = await send(name, first);
      const b = await send(name, second);
      assert.deepEqual([a.Event, b.Event], ["run", "run"]);
      assert.notEqual(b.Key, a.Key);
    });
  }

  // python3: json.loads('1e400') == float('inf'), json.loads('-0') == 0 (an int), '1.00' and '1E0' are 1.0.
  const same: Array<[string, string]> = [
    ["1e400", "Infinity"],
    ["-1e400", "-Infinity"],
    ["-0", "0"],
    ["1.0", "1.00"],
    ["1E2", "100.0"],
    ["9007199254740993.0", "9007199254740992.0"],
  ];
  for (const [first, second] of same) {
    test(`a plan with ${second} after one with ${first} is the same plan (joined under the same key)`, async () => {
      const name = `p${sent}`;
      const a = await send(name, first);
      const b = await send(name, second);
      assert.deepEqual([a.Event, b.Event], ["run", "join"]);
      assert.equal(b.Key, a.Key);
    });
  }
});

/** Spellings of one JSON value each (python3 reads every spelling in a class as the same value and type). */
const LEAVES: string[][] = [
  ["1"],
  ["1.0", "1.00", "1E0", "10e-1"],
  ["0", "-0"],
  ["0.0", "0e5"],
  ["-0.0", "-0e0", "-0.00"],
  ["1e400", "Infinity", "1E999"],
  ["-1e400", "-Infinity"],
  ["NaN"],
  ["9007199254740992"],
  ["9007199254740993"],
  ["9007199254740992.0", "9007199254740993.0", "9.007199254740992e15"],
  ["100"],
  ["100.0", "1e2", "1E+2"],
  ["0.1", "0.10", "1e-1"],
  ["12345678901234567890123"],
  ["true"],
  ["false"],
  ["null"],
  ['"1"'],
  ['"a"', '"\\u0061"'],
  ['"\\udc00"', '"\\uDC00"'],
  ['"\\ufffd"', '"\ufffd"'],
];
const KEYS = ['"a"', '"\\u0061"', '"b"', '"2"', '"1"', '"__proto__"'];

/** A JSON value as a function of a spelling choice: two spellings of one value come from one template. */
type Template = (pick: (choices: string[]) => string) => string;
const leaf = fc.integer({ min: 0, max: LEAVES.length - 1 }).map(
  (n): Template =>
    (pick) =>
      pick(LEAVES[n] ?? []),
);
const { value } = fc.letrec<{ value: Template }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc.array(tie("value"), { maxLength: 3 }).map(
      (items): Template =>
        (pick) =>
          `[${items.map((t) => t(pick)).join(", ")}]`,
    ),
    fc.array(fc.tuple(fc.constantFrom(...KEYS), tie("value")), { maxLength: 3 }).map(
      (entries): Template =>
        (pick) =>
          `{${entries.map(([k, t]) => `${k}: ${t(pick)}`).join(", ")}}`,
    ),
  ),
}));
/** Envelope fields (removed by normalization, SPEC 4 step 1), different on every send. */
const envelope = fc
  .record(
    {
      Stamp: fc.integer(),
      Generation: fc.nat({ max: 9 }),
      Timeout: fc.double({ min: 1, max: 99, noNaN: true }),
    },
    { requiredKeys: [] },
  )
  .map((fields) =>
    Object.entries(fields)
      .map(([k, v]) => `, "${k}": ${JSON.stringify(v)}`)
      .join(""),
  );
let planIds = 0;
/** Spelling choices: one number per leaf, in order (cycled when a plan has more leaves). */
const choices = fc.array(fc.nat({ max: 11 }), { minLength: 1, maxLength: 24 });
const plans = fc
  .tuple(value, value, envelope, envelope, choices, choices)
  .map(([parameters, extra, env1, env2, picks1, picks2]) => {
    const spell = (env: string, picks: number[], id: number): string => {
      let next = 0;
      const pick = (spellings: string[]) =>
        spellings[(picks[next++ % picks.length] ?? 0) % spellings.length] ?? "";
      return `{"ID": "p${id}", "Parameters": ${parameters(pick)}, "Extra": ${extra(pick)}, "Body": "return 1"${env}}`;
    };
    return [spell(env1, picks1, ++planIds), spell(env2, picks2, ++planIds)] as const;
  });
const ORACLE = `
import json, sys
sys.setrecursionlimit(10000)
ENVELOPE = ("ID", "Stamp", "Action", "ReplyTo", "Generation", "Idempotency", "Timeout")
def c(v):
    if isinstance(v, dict): return '{' + ','.join(repr(k) + ':' + c(v[k]) for k in sorted(v)) + '}'
    if isinstance(v, list): return '[' + ','.join(c(x) for x in v) + ']'
    return type(v).__name__ + ':' + repr(v)
for line in sys.stdin:
    plan = json.loads(json.loads(line))
    for key in ENVELOPE: plan.pop(key, None)
    print(json.dumps(c(plan)))
`;

/** python3's typed canonical repr of each normalized plan. */
function pythonValues(texts: readonly string[]): string[] {
  const input = texts.map((t) => `${JSON.stringify(t)}\n`).join("");
  const run = spawnSync("python3", ["-c", ORACLE], { input, encoding: "utf8", maxBuffer: 1 << 26 });
  if (run.status !== 0) throw new Error(`python3 failed (${run.status}): ${run.stderr}`);
  return run.stdout
    .trimEnd()
    .split("\n")
    .map((line) => JSON.parse(line) as string);
}

function fingerprintOf(text: string): string {
  const decoded = decode(new TextEncoder().encode(text), { maxPlanBytes: 1 << 20 });
  if (decoded.kind !== "plan") assert.fail(`${text}: ${decoded.kind}`);
  return fingerprint(decoded.exact);
}

test("fingerprints are equal exactly when the normalized plans are equal Python values (python3 oracle)", (t) => {
  const seed = Number(process.env.IDEM_SEED ?? Date.now() % 2 ** 31);
  t.diagnostic(`seed ${seed} (IDEM_SEED=${seed} repeats this run)`);
  let equalPairs = 0;
  let pairs = 0;
  fc.assert(
    fc.property(fc.array(plans, { minLength: 40, maxLength: 40 }), (batch) => {
      const texts = batch.flat();
      const python = pythonValues(texts);
      const prints = texts.map(fingerprintOf);
      for (let i = 0; i < texts.length; i++) {
        for (let j = i + 1; j < texts.length; j++) {
          const same = python[i] === python[j];
          if (same) equalPairs++;
          pairs++;
          assert.equal(
            prints[i] === prints[j],
            same,
            `${texts[i]}\n${texts[j]}\npython: ${python[i]} / ${python[j]}`,
          );
        }
      }
    }),
    { seed, numRuns: 15, endOnFailure: true },
  );
  assert.ok(
    equalPairs >= 200,
    `only ${equalPairs} of ${pairs} pairs were equal values: the test lost its reach`,
  );
});
