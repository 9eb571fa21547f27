/**
 * A backlog decided with shared commits (`agent/pipeline/pending.ts`) decides exactly as a sequential intake: 24
 * plans queued in mosquitto while the agent was down come in one burst, among them a plan ID sent again with
 * other content (303, the first content runs), the same content sent again under another ID (it joins or replays
 * the first), and two plans with one `Idempotency.Key` (the second runs after the first, never beside it).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { readExecutions } from "../helpers/effects.ts";
import { applicationPlan } from "../helpers/plans.ts";
import { openScene } from "../helpers/scene.ts";

test("a burst is decided as one plan after another: 303 for a re-used ID, a join for the same content", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openScene(t, "inbound-backlog");
  const first = await scene.startAgent();
  await first.stop();
  const plans = Array.from({ length: 20 }, (_, i) =>
    applicationPlan({ effects: scene.effects, tag: `b-${i}` }),
  );
  const reused = { ...applicationPlan({ effects: scene.effects, tag: "b-other" }), ID: String(plans[2]?.ID) };
  const twin = applicationPlan({ effects: scene.effects, tag: "b-4" });
  const keyed = [1, 2].map((n) =>
    applicationPlan({
      effects: scene.effects,
      tag: `keyed-${n}`,
      idempotency: { Key: "k", Policy: "always" },
    }),
  );
  const burst = [...plans.slice(0, 10), reused, twin, keyed[0], ...plans.slice(10), keyed[1]];
  for (const plan of burst) await scene.engine.send(plan as object);

  await scene.startAgent();
  // Two answers for the ID, in whichever order the refusal (at intake) and the run (queued third) end.
  const answers = await scene.engine.waitForResults(String(plans[2]?.ID), 2);
  assert.deepEqual(
    answers.map((answer) => answer.ErrorCode).sort((a, b) => a - b),
    [0, 303],
    `the re-used ID is refused, its first content runs:\n${scene.engine.summary()}`,
  );
  const [joined] = await scene.engine.waitForResults(twin.ID);
  assert.ok(["join", "replay"].includes(String(joined?.Idem?.Decision)), JSON.stringify(joined));
  assert.equal(joined?.Idem?.RanAs, plans[4]?.ID);
  for (const plan of [...plans, ...keyed]) {
    const results = await scene.engine.waitForResults(String(plan?.ID));
    assert.ok(
      results.some((r) => r.ErrorCode === 0),
      `${plan?.ID} succeeded:\n${scene.engine.summary()}`,
    );
  }
  const effects = readExecutions(scene.effects);
  assert.equal(effects.executions.length, plans.length + 2, effects.lines.join("\n"));
  // Each send has one answer; the re-used ID has two sends (its 303 and its run, checked above).
  for (const plan of [...plans, twin, ...keyed].filter((p) => p?.ID !== reused.ID)) {
    assert.equal(
      scene.engine.distinctResultsFor(String(plan?.ID)).length,
      1,
      `one result for ${plan?.ID}:\n${scene.engine.summary()}`,
    );
  }
});
