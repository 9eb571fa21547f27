/**
 * A bug in intake (SPEC 5.4): a message whose intake throws unexpectedly is answered with code 2 after a
 * bounded number of attempts, and one that crashes the agent every time it is taken is answered once the
 * broker has re-delivered it a bounded number of times (counted durably). Either way the agent goes on
 * serving. The faults are injected with failpoints (`agent/failpoint.ts`); the crashes are real `kill -9`s.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Failpoint } from "../helpers/agent_process.ts";
import { readExecutions } from "../helpers/effects.ts";
import { applicationPlan } from "../helpers/plans.ts";
import { openScene } from "../helpers/scene.ts";

test("a plan whose intake throws every time is answered with code 2 and the agent keeps serving", {
  timeout: 60_000,
}, async (t) => {
  const scene = await openScene(t, "intake-bug");
  const agent = await scene.startAgent({ failpoint: "intake-throw:throw" as Failpoint });
  const plan = applicationPlan({ effects: scene.effects, tag: "bug" });
  await scene.engine.send(plan);
  const [result] = await scene.engine.waitForResults(plan.ID);
  assert.equal(result?.ErrorCode, 2, JSON.stringify(result));
  assert.match(String((result?.Body as { Message?: string } | undefined)?.Message), /failed on it 3 times/);
  assert.equal(agent.matching(/\bevent=intake-retry\b/).length, 2, "two retries, then the answer");
  assert.equal(agent.exited, undefined, "the agent keeps running");

  await agent.stop();
  await scene.startAgent();
  const next = applicationPlan({ effects: scene.effects, tag: "after-bug" });
  await scene.engine.send(next);
  const [served] = await scene.engine.waitForResults(next.ID);
  assert.equal(served?.ErrorCode, 0);
  assert.deepEqual(
    readExecutions(scene.effects).executions.map((e) => e.args),
    ["after-bug"],
  );
});

test("a plan that kills the agent each time it is taken is answered after a bounded number of deliveries", {
  timeout: 120_000,
}, async (t) => {
  const scene = await openScene(t, "crash-loop");
  const plan = applicationPlan({ effects: scene.effects, tag: "loop" });
  const crashing = { failpoint: "intake-throw" as Failpoint };
  let agent = await scene.startAgent(crashing);
  await scene.engine.send(plan);
  // From now on the plan waits in the session: a new process may meet it before it logs `online`.
  const restart = { ...crashing, waitOnline: false };
  let crashes = 0;
  for (;;) {
    const exit = await Promise.race([
      agent.waitForExit(30_000),
      scene.engine.waitForResults(plan.ID, 1, 30_000).then(() => undefined),
    ]);
    if (exit === undefined) break;
    assert.equal(exit.signal, "SIGKILL", "killed by the failpoint");
    crashes++;
    assert.ok(crashes <= 5, `answered after a bounded number of crashes (${crashes} so far)`);
    agent = await scene.startAgent(restart);
  }
  assert.ok(crashes >= 2, `the agent crashed on it more than once (${crashes})`);
  const [result] = scene.engine.resultsFor(plan.ID);
  assert.equal(result?.ErrorCode, 2, JSON.stringify(result));
  assert.match(
    String((result?.Body as { Message?: string } | undefined)?.Message),
    /delivered \d+ times without a decision/,
  );

  await agent.kill9();
  await scene.startAgent();
  const next = applicationPlan({ effects: scene.effects, tag: "after-loop" });
  await scene.engine.send(next);
  const [served] = await scene.engine.waitForResults(next.ID);
  assert.equal(served?.ErrorCode, 0);
  assert.deepEqual(
    readExecutions(scene.effects).executions.map((e) => e.args),
    ["after-loop"],
    "the crashing plan never ran",
  );
});
