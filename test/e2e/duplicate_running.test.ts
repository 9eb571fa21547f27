/**
 * Scenario d — a duplicate arrives while the first copy still runs: it joins the running execution and is
 * answered when it ends; nothing runs twice.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { readExecutions, waitForEffects } from "../helpers/effects.ts";
import { gatedPlan, makeGate } from "../helpers/gated_plan.ts";
import { openScene } from "../helpers/scene.ts";

test("a plan re-sent while it runs joins the running execution and both senders are answered", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openScene(t, "duplicate");
  const agent = await scene.startAgent();
  // The first copy runs on a gate, opened once the duplicate has joined it.
  const gate = makeGate(join(scene.root, "gate-duplicate"));
  const template = { effects: scene.effects, tag: "gated" };

  const first = gatedPlan(gate, template);
  await scene.engine.send(first);
  await waitForEffects(scene.effects, (e) => e.executions.length === 1);

  const duplicate = gatedPlan(gate, template);
  const since = agent.mark();
  await scene.engine.send(duplicate);
  await agent.waitForLog(/\bevent=join\b/, { since });
  assert.equal(
    readExecutions(scene.effects).executions[0]?.done,
    false,
    "the duplicate arrived during the run",
  );
  gate.open();

  const [ran] = await scene.engine.waitForResults(first.ID);
  const [joined] = await scene.engine.waitForResults(duplicate.ID);
  await agent.waitForLog(/\bevent=finished\b/);

  const effects = readExecutions(scene.effects);
  assert.equal(effects.executions.length, 1, `one execution:\n${effects.lines.join("\n")}`);
  assert.equal(effects.executions[0]?.done, true);
  assert.equal(ran?.ErrorCode, 0, JSON.stringify(ran));
  assert.equal(ran?.Idem?.Decision, "run");
  assert.equal(joined?.ErrorCode, 0, JSON.stringify(joined));
  assert.equal(joined?.Idem?.Decision, "join");
  assert.equal(joined?.Idem?.RanAs, first.ID);
  assert.deepEqual(joined?.Body, ran?.Body);
  assert.equal(scene.engine.resultsFor(first.ID).length, 1);
  assert.equal(scene.engine.resultsFor(duplicate.ID).length, 1);
});
