/**
 * Scenario b — run-once-ever: a command that must never run twice (it appends a line to a file) is sent
 * again and again with fresh IDs; it runs once and every send is answered.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { readExecutions } from "../helpers/effects.ts";
import { applicationPlan } from "../helpers/plans.ts";
import { openScene } from "../helpers/scene.ts";

const runOnce = { Policy: "run-once-ever" };

test("a run-once-ever plan sent five times with fresh IDs runs once and answers five times", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openScene(t, "run-once");
  const agent = await scene.startAgent();
  const template = { effects: scene.effects, tag: "append-line", idempotency: runOnce };

  const results = [];
  for (let send = 0; send < 5; send++) {
    const plan = applicationPlan(template);
    await scene.engine.send(plan);
    const [result] = await scene.engine.waitForResults(plan.ID);
    results.push(result);
  }
  await agent.waitForLog(/\bevent=replay\b/, { count: 4 });

  const effects = readExecutions(scene.effects);
  assert.equal(effects.executions.length, 1, `one line:\n${effects.lines.join("\n")}`);
  assert.equal(results.length, 5);
  const [first, ...others] = results;
  assert.equal(first?.ErrorCode, 0, JSON.stringify(first));
  assert.equal(first?.Idem?.Decision, "run");
  assert.equal(first?.Idem?.Policy, "run-once-ever");
  for (const result of others) {
    assert.equal(result?.ErrorCode, 0, JSON.stringify(result));
    assert.equal(result?.Idem?.Replayed, true);
    assert.equal(result?.Idem?.RanAs, first?.SourceID);
    assert.deepEqual(result?.Body, first?.Body);
  }
  assert.equal(scene.engine.results.length, 5, "one result per send");
});

test("a run-once-ever plan sent five times at once runs once and answers five times", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openScene(t, "run-once-burst");
  const agent = await scene.startAgent();
  const template = { effects: scene.effects, tag: "append-burst", idempotency: runOnce, sleepSeconds: 1 };

  const plans = Array.from({ length: 5 }, () => applicationPlan(template));
  await Promise.all(plans.map((plan) => scene.engine.send(plan)));
  for (const plan of plans) await scene.engine.waitForResults(plan.ID);
  await agent.waitForLog(/\bevent=(run|replay|join)\b/, { count: 5 });
  await agent.waitForLog(/\bevent=finished\b/);

  const effects = readExecutions(scene.effects);
  assert.equal(effects.executions.length, 1, `one line:\n${effects.lines.join("\n")}`);
  const bodies = new Set<string>();
  for (const plan of plans) {
    const results = scene.engine.distinctResultsFor(plan.ID);
    assert.equal(results.length, 1, `one result for ${plan.ID}`);
    assert.equal(results[0]?.ErrorCode, 0, JSON.stringify(results[0]));
    assert.equal(
      results[0]?.Idem?.RanAs,
      plans[0]?.ID,
      "the first plan executed, the others joined or replayed",
    );
    bodies.add(JSON.stringify(results[0]?.Body));
  }
  assert.equal(bodies.size, 1, "every sender sees the same Body");
});
