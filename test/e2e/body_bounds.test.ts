/**
 * Bounded evaluation (SPEC 6) end to end, with a real broker and the agent from its sources: a Body that
 * computes forever never holds up the agent (plans are acknowledged and, with concurrency 2, answered meanwhile),
 * its Timeout answers it 101, and a Body beyond `bodyMemoryMB` is code 1 MemoryError while the same agent
 * process goes on serving.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { applicationPlan } from "../helpers/plans.ts";
import { openScene } from "../helpers/scene.ts";

const FOREVER = "for x in range(10**12):\n  pass";

test("a Body computing forever holds up nothing: plans are acknowledged and answered meanwhile, then it is 101", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openScene(t, "body-bounds");
  const config = join(scene.root, "agent.json");
  writeFileSync(config, JSON.stringify({ concurrency: 2 }));
  const agent = await scene.startAgent({ extraArgs: ["--config", config] });

  const forever = applicationPlan({ effects: scene.effects, tag: "forever", body: FOREVER, timeout: 6 });
  const sent = Date.now();
  await scene.engine.send(forever);
  await new Promise((resolve) => setTimeout(resolve, 1500)); // the Body is computing now

  // Another key: PUBACKed at once (intake commits it while the Body computes), and run beside it.
  const beside = applicationPlan({ effects: scene.effects, tag: "beside", body: "return sum(range(1000))" });
  const before = Date.now();
  await scene.engine.send(beside);
  assert.ok(Date.now() - before < 1000, `PUBACK after ${Date.now() - before} ms`);
  const answer = await scene.engine.waitForResult(beside.ID, 10_000);
  assert.equal(answer.ErrorCode, 0, JSON.stringify(answer));
  assert.equal(answer.Body, 499500);
  assert.equal(scene.engine.resultsFor(forever.ID).length, 0, "answered while the first Body still computes");

  // A third one while both slots were busy: queued, answered after the Timeout frees a slot.
  const queued = applicationPlan({ effects: scene.effects, tag: "queued" });
  await scene.engine.send(queued);

  const timedOut = await scene.engine.waitForResult(forever.ID, 20_000);
  const elapsed = Date.now() - sent;
  assert.equal(timedOut.ErrorCode, 101, JSON.stringify(timedOut));
  assert.ok(elapsed >= 6000 && elapsed < 6000 + 5000, `answered 101 after ${elapsed} ms`);
  assert.equal((await scene.engine.waitForResult(queued.ID, 20_000)).ErrorCode, 0);
  assert.equal(agent.exited, undefined);
});

test("a Body beyond bodyMemoryMB is code 1 MemoryError and the same agent runs the next plan", {
  timeout: 120_000,
}, async (t) => {
  const scene = await openScene(t, "body-memory");
  const config = join(scene.root, "agent.json");
  writeFileSync(config, JSON.stringify({ bodyMemoryMB: 64 }));
  const agent = await scene.startAgent({ extraArgs: ["--config", config] });

  const hungry = applicationPlan({
    effects: scene.effects,
    tag: "hungry",
    body: "y = [[0]*10**7 for i in range(1000)]",
  });
  await scene.engine.send(hungry);
  const failed = await scene.engine.waitForResult(hungry.ID, 60_000);
  assert.equal(failed.ErrorCode, 1, JSON.stringify(failed));
  assert.deepEqual(failed.Body, {
    Message: "MemoryError: the Body needed more memory than its limit of 64 MB (bodyMemoryMB)",
    AdditionalInfo: null,
  });

  const next = applicationPlan({ effects: scene.effects, tag: "next" });
  await scene.engine.send(next);
  const ran = await scene.engine.waitForResult(next.ID, 30_000);
  assert.equal(ran.ErrorCode, 0, JSON.stringify(ran));
  assert.match(String(ran.Body), /^ran \d+ next payload$/);
  assert.equal(agent.exited, undefined, "the agent survived");
});
