/**
 * A plan that could not even be answered after a bug (SPEC 5.4: its execution failed unexpectedly, and so did the
 * commit that gives it up) stays queued for the next start to decide, and keeps its key busy until then: a later
 * plan of the same key never overtakes it in this process, while plans of other keys go on; `idem cancel` of the
 * stuck plan answers it 102 and frees the key. The bugs are injected with failpoints (`before-finish:throw`,
 * `give-up:throw`: agent/failpoint.ts, armed for every plan); the restart decides what is left.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { cancelCommand } from "../../agent/commands/cancel.ts";
import { readExecutions, waitForEffects } from "../helpers/effects.ts";
import { runCommand } from "../helpers/in_process.ts";
import { applicationPlan } from "../helpers/plans.ts";
import { openScene } from "../helpers/scene.ts";

test("a stuck plan keeps its key busy until it is cancelled; other keys go on; the next start decides the rest", {
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
  const runs = () => readExecutions(scene.effects).executions.map((e) => e.args);

  // One slot, entries taken in arrival order: once `other` starts, `second` was passed over.
  await waitForEffects(scene.effects, (e) => e.executions.some((x) => x.args === "other"));
  assert.deepEqual(
    runs(),
    ["first", "other"],
    `the plan behind the stuck one did not overtake it:\n${agent.tail()}`,
  );
  await agent.waitForLog(new RegExp(`\\bevent=run-stuck\\b.*\\bplan=${first.ID}\\b`));

  // The operator's way out: the stuck plan is still queued, so a cancel answers it and frees its key.
  const cancelled = await runCommand(cancelCommand, {
    values: { broker: scene.broker.url, "agent-id": scene.agentId, wait: "15" },
    positionals: [first.ID],
  });
  assert.equal(cancelled.code, 0, cancelled.stderr);
  assert.equal(JSON.parse(cancelled.stdout).State, "queued", cancelled.stdout);
  const [answer] = await scene.engine.waitForResults(first.ID);
  assert.equal(answer?.ErrorCode, 102, JSON.stringify(answer));
  await waitForEffects(scene.effects, (e) => e.executions.some((x) => x.args === "second"));
  assert.deepEqual(runs(), ["first", "other", "second"]);

  // `other` and `second` got stuck too (the failpoints hold for every plan): the next start runs them again.
  await agent.waitForLog(new RegExp(`\\bevent=run-stuck\\b.*\\bplan=${second.ID}\\b`));
  await agent.stop();
  await scene.startAgent();
  for (const plan of [other, second]) {
    const [result] = await scene.engine.waitForResults(plan.ID);
    assert.equal(result?.ErrorCode, 0, JSON.stringify(result));
  }
  assert.deepEqual(runs().slice(3).sort(), ["other", "second"], "each interrupted plan ran once more");
  assert.equal(
    scene.engine.resultsFor(first.ID).length,
    1,
    "the cancelled plan was answered once, never run again",
  );
});
