/**
 * `concurrency` > 1: plans of different keys run at the same time, but two executions of one key never do
 * (under `always`, a repeat of a running key runs after it).
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { readExecutions, waitForEffects } from "../helpers/effects.ts";
import { gatedPlan, makeGate } from "../helpers/gated_plan.ts";
import { applicationPlan } from "../helpers/plans.ts";
import { openScene } from "../helpers/scene.ts";

test("with concurrency 2, different keys run side by side and one key's executions never overlap", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openScene(t, "concurrency");
  const config = join(scene.root, "agent.json");
  writeFileSync(config, JSON.stringify({ concurrency: 2 }));
  await scene.startAgent({ extraArgs: ["--config", config] });

  // Two keys, each a script that waits on one gate: both must be running before it opens.
  const apart = join(scene.root, "apart.log");
  const gate = makeGate(join(scene.root, "gate-apart"));
  const a = gatedPlan(gate, { effects: apart, tag: "a" });
  const b = gatedPlan(gate, { effects: apart, tag: "b" });
  // One key sent twice under `always`: both run, one after the other.
  const same = join(scene.root, "same.log");
  const always = { Policy: "always" };
  const c1 = applicationPlan({
    effects: same,
    tag: "c",
    sleepSeconds: 1,
    checkOverlap: true,
    idempotency: always,
  });
  const c2 = applicationPlan({
    effects: same,
    tag: "c",
    sleepSeconds: 1,
    checkOverlap: true,
    idempotency: always,
  });
  for (const plan of [a, b, c1, c2]) await scene.engine.send(plan);
  const both = await waitForEffects(apart, (e) => e.executions.length === 2, 30_000);
  assert.ok(
    both.executions.every((execution) => !execution.done),
    `a and b run at the same time:\n${both.lines.join("\n")}`,
  );
  gate.open();
  for (const plan of [a, b, c1, c2]) {
    const [result] = await scene.engine.waitForResults(plan.ID, 1, 30_000);
    assert.equal(result?.ErrorCode, 0, JSON.stringify(result));
    assert.equal(result?.Idem?.Decision, "run");
  }

  const different = readExecutions(apart);
  assert.equal(different.executions.length, 2, different.lines.join("\n"));
  const repeated = readExecutions(same);
  assert.equal(repeated.executions.length, 2, repeated.lines.join("\n"));
  assert.deepEqual(repeated.overlaps, [], `one key never runs twice at once:\n${repeated.lines.join("\n")}`);
});
