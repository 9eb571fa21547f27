/**
 * SPEC 5.5, the two other ways an agent learns it is superseded:
 * - the same generation twice (a misconfigured clone): the agent started later serves, the earlier one stands
 *   down — on mosquitto, and on the embedded broker (aedes), which publishes the Last Will of the connection it
 *   closes for a new one with the same client id, so that a Will is all either side may see of the other;
 * - a plan for a newer generation reaching a strict agent while no newer agent is connected: the agent stands down
 *   without answering or acknowledging it, and the broker hands that plan to the newer incarnation when it comes.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { readExecutions } from "../helpers/effects.ts";
import {
  BROKER_SETTINGS,
  finishedPlans,
  incarnationArgs,
  supersededLine,
  takeovers,
} from "../helpers/incarnations.ts";
import { applicationPlan } from "../helpers/plans.ts";
import { openScene } from "../helpers/scene.ts";

for (const setting of BROKER_SETTINGS.filter((s) => s.agentProtocol === undefined)) {
  test(`(${setting.label}) two agents with one generation: the one started later serves, the earlier one stands down with exit 3`, {
    timeout: 90_000,
  }, async (t) => {
    const scene = await openScene(t, "clones", setting.scene);
    const first = await scene.startAgent({ generation: 1, ...incarnationArgs(scene, setting, "clone-a") });
    const online = (s: Record<string, unknown>) => s.State === "online";
    const firstBoot = (await scene.engine.waitForStatusMatching(online)).BootId;
    const second = await scene.startAgent({ generation: 1, ...incarnationArgs(scene, setting, "clone-b") });
    const secondBoot = (await scene.engine.waitForStatusMatching((s) => online(s) && s.BootId !== firstBoot))
      .BootId;

    const exit = await first.waitForExit(30_000);
    assert.equal(exit.code, 3, `the earlier agent exits 3\n${first.tail()}`);
    const line = supersededLine(first);
    assert.equal(line.by, "status", first.tail());
    assert.equal(line.byGeneration, "1", first.tail());
    assert.equal(line.byBootId, secondBoot, first.tail());
    assert.ok(Date.parse(line.byStartedAt ?? "") > Date.parse(line.startedAt ?? ""), first.tail());
    assert.match(line.message ?? "", /started later/);

    const plans = ["c-1", "c-2", "c-3"].map((tag) =>
      applicationPlan({ effects: scene.effects, tag, generation: 1 }),
    );
    for (const p of plans) await scene.engine.send(p);
    for (const p of plans) assert.equal((await scene.engine.waitForResult(p.ID)).ErrorCode, 0);
    assert.deepEqual(
      (await finishedPlans(second, plans.length)).sort(),
      plans.map((p) => p.ID).sort(),
      second.tail(),
    );
    assert.equal(readExecutions(scene.effects).executions.length, plans.length);
    const count = takeovers(scene, [first, second]);
    assert.ok(
      count <= 4,
      `at most a handful of session takeovers: ${count}\n${first.tail()}\n${second.tail()}`,
    );
    assert.equal(second.exited, undefined, second.tail());
    assert.equal((await second.stop()).code, 0, second.tail());
  });
}

test("a strict agent stands down for a plan of a newer generation, unanswered, and the newer agent runs it", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openScene(t, "plan-supersedes");
  const vm = (name: string) => ({ dataDir: `${scene.root}/${name}`, extraArgs: ["--instance-id", name] });
  const oldVm = await scene.startAgent({ generation: 1, ...vm("old-vm") });
  const plan = applicationPlan({ effects: scene.effects, tag: "for-generation-2", generation: 2 });
  await scene.engine.send(plan);

  const exit = await oldVm.waitForExit(30_000);
  assert.equal(exit.code, 3, oldVm.tail());
  const line = supersededLine(oldVm);
  assert.equal(line.by, "plan");
  assert.equal(line.plan, plan.ID);
  assert.equal(line.byGeneration, "2");
  const status = await scene.engine.waitForStatusMatching((s) => s.State === "superseded");
  assert.deepEqual(
    { generation: status.Generation, by: status.SupersededBy },
    {
      generation: 1,
      by: { Generation: 2, Plan: plan.ID, Reason: (status.SupersededBy as { Reason: string }).Reason },
    },
  );
  assert.deepEqual(scene.engine.resultsFor(plan.ID), [], "the old agent did not answer the plan");
  assert.equal(readExecutions(scene.effects).executions.length, 0);

  // Left in the session, unacknowledged: the broker hands it to the newer incarnation.
  const newVm = await scene.startAgent({ generation: 2, ...vm("new-vm") });
  const result = await scene.engine.waitForResult(plan.ID);
  assert.equal(result.ErrorCode, 0, JSON.stringify(result));
  assert.deepEqual(await finishedPlans(newVm, 1), [plan.ID], newVm.tail());
  assert.equal(readExecutions(scene.effects).executions.length, 1);
  assert.equal(scene.engine.resultsFor(plan.ID).length, 1, scene.engine.summary());
  assert.equal((await newVm.stop()).code, 0, newVm.tail());
});
