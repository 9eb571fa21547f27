/**
 * Scenario g — the broker goes away while a plan runs. The result is kept in the agent's durable outbox and
 * reaches the reply topic once the broker is back, also when the agent is restarted in between.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { readExecutions, waitForEffects } from "../helpers/effects.ts";
import { applicationPlan } from "../helpers/plans.ts";
import { openScene } from "../helpers/scene.ts";

test("a result produced while the broker is down reaches the reply topic once it is back", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openScene(t, "broker-gone");
  // The reply topic is outside the default replyTopics (idem/+/results, idem/<agent>/#).
  const agent = await scene.startAgent({ extraArgs: ["--reply-topic", "murano/results/+"] });
  const replyTo = `murano/results/${scene.agentId}`;
  await scene.engine.addReplyTopic(replyTo);

  const plan = applicationPlan({ effects: scene.effects, tag: "while-down", sleepSeconds: 2, replyTo });
  await scene.engine.send(plan);
  await waitForEffects(scene.effects, (e) => e.executions.length === 1);
  const since = agent.mark();
  await scene.broker.stop();
  await agent.waitForLog(/\bevent=finished\b/, { since });
  assert.equal(scene.engine.resultsFor(plan.ID).length, 0, "nothing could be published");

  await scene.broker.restart();
  const [result] = await scene.engine.waitForResults(plan.ID, 1, 30_000);
  assert.equal(result?.ErrorCode, 0, JSON.stringify(result));
  const received = scene.engine.results.filter((r) => r.result.SourceID === plan.ID);
  for (const r of received) assert.equal(r.topic, replyTo, "the plan's ReplyTo is honoured");
  assert.equal(scene.engine.distinctResultsFor(plan.ID).length, 1);
  assert.equal(readExecutions(scene.effects).executions.length, 1);
});

test("a result produced while the broker is down survives an agent restart and is delivered when the broker is back", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openScene(t, "broker-gone-restart");
  const first = await scene.startAgent();

  const plan = applicationPlan({ effects: scene.effects, tag: "outbox", sleepSeconds: 2 });
  await scene.engine.send(plan);
  await waitForEffects(scene.effects, (e) => e.executions.length === 1);
  const since = first.mark();
  await scene.broker.stop();
  await first.waitForLog(/\bevent=finished\b/, { since });
  const stopped = await first.stop();

  // Restarted while the broker is still down: it cannot be online yet.
  const second = await scene.startAgent({ waitOnline: false });
  await scene.broker.restart();
  await second.waitForLog(/\bevent=online\b/, { timeoutMs: 30_000 });
  const [result] = await scene.engine.waitForResults(plan.ID, 1, 30_000);

  assert.equal(stopped.code, 0, `SIGTERM with the broker down still exits 0\n${first.tail()}`);
  assert.equal(result?.ErrorCode, 0, JSON.stringify(result));
  assert.equal(result?.Idem?.Decision, "run");
  assert.equal(scene.engine.distinctResultsFor(plan.ID).length, 1);
  const effects = readExecutions(scene.effects);
  assert.equal(effects.executions.length, 1, `one execution:\n${effects.lines.join("\n")}`);
});
