/**
 * The retained status (SPEC 8) says what runs, since when, how many plans wait and how many results are not yet
 * delivered, refreshed as that changes — read by an engine subscribed to the real broker's retained status topic.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { connectEngine } from "../helpers/engine.ts";
import { gatedPlan, makeGate } from "../helpers/gated_plan.ts";
import { applicationPlan } from "../helpers/plans.ts";
import { openScene } from "../helpers/scene.ts";

interface Running {
  Key: string;
  SourceID: string;
  Since: string;
}

test("the status shows the running plan and the queue while they last, then Running null and nothing queued", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openScene(t, "status");
  const agent = await scene.startAgent();
  const online = await scene.engine.waitForStatusMatching((s) => s.State === "online");
  assert.deepEqual([online.Running, online.Queued, online.Outbox], [null, 0, 0], JSON.stringify(online));

  const gate = makeGate(join(scene.root, "gate"));
  const first = gatedPlan(gate, { effects: scene.effects, tag: "1", idempotency: { Key: "s1" } });
  const second = applicationPlan({ effects: scene.effects, tag: "2", idempotency: { Key: "s2" } });
  const third = applicationPlan({ effects: scene.effects, tag: "3", idempotency: { Key: "s3" } });
  await scene.engine.send(first);
  // Each change is published: first the run alone, then the plans that queue behind it.
  await scene.engine.waitForStatusMatching(
    (s) => (s.Running as Running | null)?.SourceID === first.ID && s.Queued === 0,
  );
  for (const plan of [second, third]) await scene.engine.send(plan);

  const busy = await scene.engine.waitForStatusMatching(
    (s) => (s.Running as Running | null)?.SourceID === first.ID && s.Queued === 2,
  );
  const running = busy.Running as Running;
  assert.equal(running.Key, "s1");
  assert.ok(!Number.isNaN(Date.parse(running.Since)), `Since is a time: ${running.Since}`);
  assert.equal(busy.State, "online");
  assert.equal(busy.Outbox, 0);
  // Refreshes keep the session's Since: it says since when the agent is online, not when the status was sent.
  assert.equal(busy.Since, online.Since);

  // A late subscriber gets the same from the retained message.
  const late = await connectEngine(scene.broker, { agentId: scene.agentId });
  t.after(() => late.close());
  const retained = await late.waitForStatusMatching((s) => s.State === "online");
  assert.deepEqual(
    [(retained.Running as Running | null)?.SourceID, retained.Queued],
    [first.ID, 2],
    JSON.stringify(retained),
  );

  gate.open();
  for (const plan of [first, second, third]) {
    assert.equal((await scene.engine.waitForResult(plan.ID)).ErrorCode, 0);
  }
  const afterBusy = scene.engine.statuses.indexOf(busy);
  const idle = await scene.engine.waitForStatusMatching(
    (s) =>
      scene.engine.statuses.indexOf(s) > afterBusy && s.Running === null && s.Queued === 0 && s.Outbox === 0,
  );
  assert.equal(idle.State, "online");
  // The offline status of a clean stop runs nothing.
  assert.equal((await agent.stop()).code, 0);
  const offline = await scene.engine.waitForStatus("offline");
  assert.deepEqual([offline.Running, offline.Queued, offline.Outbox], [null, 0, 0], JSON.stringify(offline));
});
