/**
 * Scenario i — the broker crashes (`kill -9`) while a plan is queued for the (offline) agent. A durably
 * configured mosquitto keeps it; after the broker restarts, the plan runs once.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { readExecutions } from "../helpers/effects.ts";
import { applicationPlan } from "../helpers/plans.ts";
import { openScene } from "../helpers/scene.ts";

test("a plan queued in a durable broker that is killed with -9 runs once after the broker restarts", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openScene(t, "broker-crash");
  // Start the agent once so its persistent session and subscription exist, then take it offline.
  const first = await scene.startAgent();
  assert.equal((await first.stop()).code, 0);

  const plan = applicationPlan({ effects: scene.effects, tag: "queued" });
  await scene.engine.send(plan);
  await scene.broker.waitPersisted(plan.ID);
  const crash = await scene.broker.kill9();
  assert.equal(crash.signal, "SIGKILL");
  await scene.broker.restart();

  const agent = await scene.startAgent();
  const [result] = await scene.engine.waitForResults(plan.ID, 1, 30_000);
  await agent.waitForLog(/\bevent=finished\b/);

  assert.equal(result?.ErrorCode, 0, JSON.stringify(result));
  const effects = readExecutions(scene.effects);
  assert.equal(effects.executions.length, 1, `ran once:\n${effects.lines.join("\n")}`);
  assert.equal(scene.engine.distinctResultsFor(plan.ID).length, 1);
});
