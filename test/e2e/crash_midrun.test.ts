/**
 * Scenario e — the agent is killed (`kill -9`) while a plan's script runs. The script's process group
 * outlives the agent. After the restart a run-once-ever plan is never started again (its outcome is unknown:
 * code 304), and a skip-if-identical plan runs again once — only after the orphaned first run is dead.
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { isAlive, readExecutions, waitForDeath, waitForEffects } from "../helpers/effects.ts";
import { applicationPlan } from "../helpers/plans.ts";
import { openScene } from "../helpers/scene.ts";

test("a run-once-ever plan interrupted by kill -9 is answered 304 and never started again", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openScene(t, "midrun-once");
  const first = await scene.startAgent();
  const template = {
    effects: scene.effects,
    tag: "once",
    sleepSeconds: 60,
    checkOverlap: true,
    idempotency: { Policy: "run-once-ever" },
  };
  const plan = applicationPlan(template);
  await scene.engine.send(plan);
  const { executions } = await waitForEffects(scene.effects, (e) => e.executions.length === 1);
  const orphan = executions[0]?.pid ?? 0;

  const killed = await first.kill9();
  assert.equal(killed.signal, "SIGKILL");
  assert.ok(isAlive(orphan), "the script outlived the agent, as on a real VM");

  const second = await scene.startAgent();
  assert.ok(await waitForDeath(orphan), "the orphaned script is killed by start-up recovery");
  const [answer] = await scene.engine.waitForResults(plan.ID);
  assert.equal(answer?.ErrorCode, 304, JSON.stringify(answer));

  // An engine that lost track re-sends the plan: still 304, still not started.
  const resent = applicationPlan(template);
  const since = second.mark();
  await scene.engine.send(resent);
  const [again] = await scene.engine.waitForResults(resent.ID);
  await second.waitForLog(/\bevent=reject\b/, { since });
  assert.equal(again?.ErrorCode, 304, JSON.stringify(again));
  assert.equal(again?.Idem?.Decision, "reject");

  const effects = readExecutions(scene.effects);
  assert.equal(effects.executions.length, 1, `not started again:\n${effects.lines.join("\n")}`);
  assert.equal(effects.executions[0]?.done, false, "the interrupted run never completed");
  assert.equal(
    scene.engine.distinctResultsFor(plan.ID).length,
    1,
    "one final result for the original sender",
  );
  // SPEC 8: every decision is an event, the interruption found at start-up included.
  await scene.engine.waitForEvents({ Event: "interrupted", SourceID: plan.ID }, 1, 5_000);
  // The killed run's work dir (its plan's files) is removed by the next start, once its orphan is dead.
  await second.waitForLog(/\bevent=work-dirs-removed count=1\b/);
  assert.deepEqual(readdirSync(join(scene.dataDir, "work")), []);
});

test("a skip-if-identical plan interrupted by kill -9 runs again once, after its orphan is dead, and succeeds", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openScene(t, "midrun-skip");
  const first = await scene.startAgent();
  const plan = applicationPlan({
    effects: scene.effects,
    tag: "again",
    sleepSeconds: 60,
    sleepFirstRunOnly: true,
    checkOverlap: true,
    idempotency: { Policy: "skip-if-identical" },
  });
  await scene.engine.send(plan);
  const { executions } = await waitForEffects(scene.effects, (e) => e.executions.length === 1);
  const orphan = executions[0]?.pid ?? 0;

  await first.kill9();
  assert.ok(isAlive(orphan), "the script outlived the agent, as on a real VM");

  const second = await scene.startAgent();
  const [answer] = await scene.engine.waitForResults(plan.ID);
  await second.waitForLog(/\bevent=finished\b/);

  const effects = readExecutions(scene.effects);
  assert.deepEqual(effects.overlaps, [], "the second run never started while the first was alive");
  assert.equal(isAlive(orphan), false, "the orphan is dead");
  assert.equal(effects.executions.length, 2, `runs again exactly once:\n${effects.lines.join("\n")}`);
  assert.equal(answer?.ErrorCode, 0, JSON.stringify(answer));
  assert.equal(answer?.Idem?.Decision, "run");
  assert.equal(answer?.Idem?.Attempt, 2, "the second execution of the key");
  assert.equal(effects.executions[0]?.done, false, "the orphan was killed, not left to finish");
  assert.equal(effects.executions[1]?.done, true);
  assert.equal(answer?.Body, `ran ${effects.executions[1]?.pid} again payload`);
  assert.equal(scene.engine.distinctResultsFor(plan.ID).length, 1, "one final result for the sender");
  await scene.engine.waitForEvents({ Event: "interrupted", SourceID: plan.ID }, 1, 5_000);
});

test("the retained presence says online after start and offline after kill -9 (Last Will)", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openScene(t, "presence");
  const agent = await scene.startAgent({ generation: 4 });
  const online = await scene.engine.waitForStatus("online");
  assert.equal(online.AgentID, scene.agentId);
  assert.equal(online.Generation, 4);
  assert.equal(online.Protocol, 5);
  assert.ok(
    Array.isArray(online.Policies) && online.Policies.includes("run-once-ever"),
    JSON.stringify(online),
  );
  await agent.kill9();
  const offline = await scene.engine.waitForStatus("offline");
  assert.equal(offline.AgentID, scene.agentId);
});
