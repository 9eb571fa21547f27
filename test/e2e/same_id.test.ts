/**
 * A plan ID sent again (SPEC 5.2a): an engine that lost a result re-sends the plan with the same ID. It is
 * answered every time — from the stored result, or by joining the running execution — and the same ID with
 * other content is refused with 303. Nothing runs twice.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { readExecutions } from "../helpers/effects.ts";
import { gatedPlan, makeGate } from "../helpers/gated_plan.ts";
import { applicationPlan } from "../helpers/plans.ts";
import { openScene, type Scene } from "../helpers/scene.ts";

describe("the same plan ID sent again", { timeout: 120_000 }, () => {
  let scene: Scene;
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const cleanup of cleanups) await cleanup();
  });
  before(async () => {
    scene = await openScene({ after: (cleanup) => cleanups.push(cleanup) }, "same-id");
    await scene.startAgent();
  });

  const runs = (tag: string) => readExecutions(scene.effects).executions.filter((e) => e.args === tag).length;

  test("same ID, same content: the stored result is replayed, nothing runs again", async () => {
    const plan = applicationPlan({ effects: scene.effects, tag: "again" });
    await scene.engine.send(plan);
    const [first] = await scene.engine.waitForResults(plan.ID);
    assert.equal(first?.ErrorCode, 0);
    await scene.engine.send(plan);
    const [, second] = await scene.engine.waitForResults(plan.ID, 2);
    assert.equal(second?.ErrorCode, 0);
    assert.equal(second?.Idem?.Decision, "replay");
    assert.equal(second?.Idem?.Replayed, true);
    assert.deepEqual(second?.Body, first?.Body);
    assert.equal(runs("again"), 1, "the script ran once");
  });

  test("same ID, other content: refused with 303, nothing runs", async () => {
    const plan = applicationPlan({ effects: scene.effects, tag: "first-content" });
    await scene.engine.send(plan);
    await scene.engine.waitForResults(plan.ID);
    const changed = { ...plan, Parameters: { ...(plan.Parameters as object), tag: "second-content" } };
    await scene.engine.send(changed);
    const [, second] = await scene.engine.waitForResults(plan.ID, 2);
    assert.equal(second?.ErrorCode, 303, JSON.stringify(second));
    assert.match(
      String((second?.Body as { Message?: string } | undefined)?.Message),
      /plan ID reused with different content/,
    );
    assert.equal(runs("second-content"), 0);
    // The first content stays the ID's: sending it again is still a replay.
    await scene.engine.send(plan);
    const [, , third] = await scene.engine.waitForResults(plan.ID, 3);
    assert.equal(third?.Idem?.Decision, "replay");
  });

  test("while it runs: same content joins, other content is refused with 303", async () => {
    // The run waits on a gate, opened once the conflicting send is answered: "while it runs" is never a race.
    const gate = makeGate(join(scene.root, "gate-slow"));
    const plan = gatedPlan(gate, { effects: scene.effects, tag: "slow" });
    const since = scene.agents[0]?.mark() ?? 0;
    await scene.engine.send(plan);
    await scene.agents[0]?.waitForLog(/\bevent=start\b/, { since });
    await scene.engine.send(plan);
    const changed = { ...plan, Parameters: { ...(plan.Parameters as object), tag: "slow-other" } };
    await scene.engine.send(changed);
    const [refusal] = await scene.engine.waitForResults(plan.ID, 1);
    assert.equal(refusal?.ErrorCode, 303, "the conflicting send is answered at once, before the run ends");
    gate.open();
    const results = await scene.engine.waitForResults(plan.ID, 3);
    const decisions = results.map((r) => r.Idem?.Decision).sort();
    assert.deepEqual(decisions, ["join", "reject", "run"]);
    for (const r of results.filter((r) => r.ErrorCode !== 303)) assert.equal(r.ErrorCode, 0);
    assert.equal(runs("slow"), 1, "the script ran once");
    assert.equal(runs("slow-other"), 0);
  });

  test("same ID after its key ran other content: its own result is replayed, nothing runs again", async () => {
    const key = `k-${Date.now()}`;
    const first = applicationPlan({ effects: scene.effects, tag: "keyed-1", idempotency: { Key: key } });
    await scene.engine.send(first);
    const [ran] = await scene.engine.waitForResults(first.ID);
    const other = applicationPlan({ effects: scene.effects, tag: "keyed-2", idempotency: { Key: key } });
    await scene.engine.send(other);
    await scene.engine.waitForResults(other.ID);
    // The engine lost the first result and re-sends the first plan (a Murano engine gives fresh file ids).
    const again = {
      ...applicationPlan({ effects: scene.effects, tag: "keyed-1", idempotency: { Key: key } }),
      ID: first.ID,
    };
    await scene.engine.send(again);
    const [, replayed] = await scene.engine.waitForResults(first.ID, 2);
    assert.equal(replayed?.Idem?.Decision, "replay", JSON.stringify(replayed));
    assert.deepEqual(replayed?.Body, ran?.Body, "the first plan's own result, not the key's latest");
    assert.equal(runs("keyed-1"), 1);
    // Same ID and content under another explicit key (Idempotency is not content): the same plan, replayed.
    const rekeyed = { ...first, Idempotency: { Key: `${key}-other` } };
    await scene.engine.send(rekeyed);
    const [, , third] = await scene.engine.waitForResults(first.ID, 3);
    assert.equal(third?.Idem?.Decision, "replay");
    assert.equal(runs("keyed-1"), 1);
  });

  test("an explicit key shaped like a fingerprint is refused; an ID of 255 emoji is usable", async () => {
    const squatter = applicationPlan({
      effects: scene.effects,
      tag: "squat",
      idempotency: { Key: `sha256:${"a".repeat(64)}` },
    });
    await scene.engine.send(squatter);
    const [refused] = await scene.engine.waitForResults(squatter.ID);
    assert.equal(refused?.ErrorCode, 2);
    assert.equal(runs("squat"), 0);
    const emoji = { ...applicationPlan({ effects: scene.effects, tag: "emoji" }), ID: "😀".repeat(255) };
    await scene.engine.send(emoji);
    const [answered] = await scene.engine.waitForResults(emoji.ID);
    assert.equal(answered?.ErrorCode, 0, JSON.stringify(answered));
  });
});
