/**
 * Scenario c — a VM re-created under the same name inherits its predecessor's queue: plans addressed to the
 * dropped instance (an older generation) must not run on the new one.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { applicationPlan, openScene, readExecutions } from "../helpers/engine.ts";

test("a re-created VM runs only the plans of its generation from the old queue", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openScene(t, "recreated");

  // The old instance: generation 1. Starting it once creates its persistent session and subscription.
  const old = await scene.startAgent({ generation: 1, dataDir: join(scene.root, "old-vm") });
  const stopped = await old.stop();
  assert.equal(stopped.code, 0, `SIGTERM stops the agent cleanly\n${old.tail()}`);

  // While nobody listens, the engine queues plans for both generations.
  const plan = (generation: number, tag: string) =>
    applicationPlan({ effects: scene.effects, tag, generation });
  const queued = [plan(1, "g1-a"), plan(2, "g2-a"), plan(1, "g1-b"), plan(2, "g2-b"), plan(1, "g1-c")];
  for (const p of queued) await scene.engine.send(p);
  const stale = queued.filter((p) => p.Generation === 1);
  const current = queued.filter((p) => p.Generation === 2);

  // The new instance: empty disk, generation 2, same agent id.
  const fresh = await scene.startAgent({ generation: 2, dataDir: join(scene.root, "new-vm") });
  for (const p of queued) await scene.engine.waitForResults(p.ID);
  await scene.engine.waitForEvents({ Event: "stale" }, 3);
  await fresh.waitForLog(/\bevent=finished\b/, { count: 2 });
  await fresh.waitForLog(/\bevent=stale\b/, { count: 3 });

  const effects = readExecutions(scene.effects);
  assert.deepEqual(
    effects.executions.map((e) => e.args).sort(),
    ["g2-a", "g2-b"],
    `only the generation-2 plans ran:\n${effects.lines.join("\n")}`,
  );
  for (const p of current) {
    const [result, ...more] = scene.engine.resultsFor(p.ID);
    assert.equal(more.length, 0);
    assert.equal(result?.ErrorCode, 0, JSON.stringify(result));
    assert.equal(result?.Idem?.Decision, "run");
    assert.equal(result?.Idem?.Generation, 2);
  }
  for (const p of stale) {
    const [result, ...more] = scene.engine.resultsFor(p.ID);
    assert.equal(more.length, 0);
    assert.equal(result?.ErrorCode, 301, JSON.stringify(result));
    assert.equal(result?.Idem?.Decision, "stale");
    assert.equal(
      scene.engine.eventsMatching({ Event: "stale", SourceID: p.ID }).length,
      1,
      `stale event for ${p.ID}`,
    );
  }
});
