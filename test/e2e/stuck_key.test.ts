/**
 * A plan that could not even be answered after a bug (SPEC 5.4: its execution failed unexpectedly, and so did the
 * commit that gives it up) stays queued for the next start to decide, and keeps its key busy until then: a later
 * plan of the same key never overtakes it in this process, while plans of other keys go on. The bugs are injected
 * with failpoints (`before-finish:throw`, `give-up:throw`: agent/failpoint.ts); the restart decides all of them.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { readExecutions, waitForEffects } from "../helpers/effects.ts";
import { applicationPlan } from "../helpers/plans.ts";
import { openScene } from "../helpers/scene.ts";

test("a stuck plan keeps its key busy: a later plan of the key waits for the next start, other keys go on", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openScene(t, "stuck-key");
  const agent = await scene.startAgent({
    failpoint: ["before-finish:throw", "give-up:throw"],
    extraArgs: ["--concurrency", "1"],
  });
  const idempotency = { Policy: "always", Key: "stuck" };
  const first = applicationPlan({ effects: scene.effects, tag: "first", idempotency });
  const second = applicationPlan({ effects: scene.effects, tag: "second", idempotency });
  const other = applicationPlan({ effects: scene.effects, tag: "other" });
  for (const plan of [first, second, other]) await scene.engine.send(plan);

  // One slot, entries taken in arrival order: once `other` starts, `second` was passed over.
  await waitForEffects(scene.effects, (e) => e.executions.some((x) => x.args === "other"));
  assert.deepEqual(
    readExecutions(scene.effects).executions.map((e) => e.args),
    ["first", "other"],
    `the plan behind the stuck one did not overtake it:\n${agent.tail()}`,
  );
  await agent.waitForLog(/\bevent=run-stuck\b.*\bkey=stuck\b/);
  assert.equal(scene.engine.resultsFor(first.ID).length, 0, "the stuck plan was not answered");
  assert.equal(scene.engine.resultsFor(second.ID).length, 0, "nor the plan behind it");

  await agent.stop();
  await scene.startAgent();
  for (const plan of [first, second, other]) {
    const [result] = await scene.engine.waitForResults(plan.ID);
    assert.equal(result?.ErrorCode, 0, JSON.stringify(result));
  }
  const runs = readExecutions(scene.effects).executions.map((e) => e.args);
  assert.deepEqual(runs.slice(0, 2), ["first", "other"]);
  // The next start runs the interrupted plans again and the key's plans in their order.
  assert.ok(
    runs.indexOf("second", 2) > runs.indexOf("first", 2) && runs.indexOf("first", 2) >= 2,
    `the key's plans ran in order after the restart: ${runs.join(", ")}`,
  );
});
