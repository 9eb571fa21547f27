/**
 * Scenario f — crash at the seams: the agent `kill -9`s itself (failpoint) at each point between receiving a
 * plan and acknowledging it, and between committing a result and publishing it. After a restart without the
 * failpoint, the plan has exactly one execution, its sender exactly one final result, and a re-send by the
 * engine is answered without a second execution.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { Journal } from "../../agent/journal/journal.ts";
import type { JournalRecord } from "../../agent/journal/record.ts";
import type { Failpoint } from "../helpers/agent_process.ts";
import { isAlive, readExecutions, waitForDeath, waitForEffects } from "../helpers/effects.ts";
import { gatedPlan, makeGate } from "../helpers/gated_plan.ts";
import { applicationPlan } from "../helpers/plans.ts";
import { openScene } from "../helpers/scene.ts";

const seams: { point: Failpoint; meaning: string; policy?: string }[] = [
  { point: "before-commit", meaning: "plan decided, nothing durable" },
  { point: "after-commit", meaning: "decision durable, no PUBACK yet" },
  // Started in its decision's commit (skip-if-identical) or with a commit of its own after the PUBACK
  // (run-once-ever): docs/reliability.md, "What waits for an fsync".
  { point: "after-ack", meaning: "PUBACK sent, start durable, nothing spawned" },
  { point: "after-ack", meaning: "PUBACK sent, execution not started", policy: "run-once-ever" },
  { point: "after-running", meaning: "record running durable, script not spawned" },
  { point: "after-result-commit", meaning: "result and outbox durable, nothing published" },
  { point: "after-publish", meaning: "result published and acked, outbox entry not removed" },
];

for (const { point, meaning, policy } of seams) {
  test(`a crash at ${point} (${meaning}${policy ? `, ${policy}` : ""}) leaves one execution and one final result`, {
    timeout: 90_000,
  }, async (t) => {
    const scene = await openScene(t, `seam-${point}${policy ? `-${policy}` : ""}`);
    const crashing = await scene.startAgent({ failpoint: point });
    const template = {
      effects: scene.effects,
      tag: point,
      ...(policy ? { idempotency: { Policy: policy } } : {}),
    };
    const plan = applicationPlan(template);
    await scene.engine.send(plan);
    const crash = await crashing.waitForExit();
    assert.equal(crash.signal, "SIGKILL", `the agent killed itself at ${point}\n${crashing.tail()}`);

    const agent = await scene.startAgent();
    const [result] = await scene.engine.waitForResults(plan.ID);
    assert.equal(result?.ErrorCode, 0, JSON.stringify(result));

    // The engine, having waited long enough, re-sends: answered, not executed again.
    const resent = applicationPlan(template);
    const since = agent.mark();
    await scene.engine.send(resent);
    const [answer] = await scene.engine.waitForResults(resent.ID);
    await agent.waitForLog(/\bevent=(replay|join)\b/, { since });
    assert.equal(answer?.ErrorCode, 0, JSON.stringify(answer));
    assert.ok(["replay", "join"].includes(String(answer?.Idem?.Decision)), JSON.stringify(answer));
    assert.equal(answer?.Idem?.RanAs, plan.ID);

    const effects = readExecutions(scene.effects);
    assert.equal(effects.executions.length, 1, `exactly one execution:\n${effects.lines.join("\n")}`);
    assert.equal(effects.executions[0]?.done, true);
    // A re-sent outbox entry is the same result (same result ID): one final result per sender.
    const finals = scene.engine.distinctResultsFor(plan.ID);
    assert.equal(finals.length, 1, `one final result for the plan:\n${scene.engine.summary()}`);
    const copies = new Set(scene.engine.resultsFor(plan.ID).map((r) => JSON.stringify(r)));
    assert.equal(copies.size, 1, "re-sent copies of a result are identical");
    assert.equal(scene.engine.distinctResultsFor(resent.ID).length, 1);
    assert.equal(finals[0]?.Idem?.RanAs, plan.ID);
  });
}

for (const point of ["after-result-commit", "after-publish"] as const) {
  test(`a crash at ${point} after a duplicate joined the run answers both senders once`, {
    timeout: 90_000,
  }, async (t) => {
    const scene = await openScene(t, `seam-join-${point}`);
    const crashing = await scene.startAgent({ failpoint: point });
    // The run waits on a gate until the duplicate has joined it (never a race with a sleep).
    const gate = makeGate(join(scene.root, `gate-${point}`));
    const template = { effects: scene.effects, tag: `join-${point}` };
    const plan = gatedPlan(gate, template);
    await scene.engine.send(plan);
    await waitForEffects(scene.effects, (e) => e.executions.length === 1);
    const duplicate = gatedPlan(gate, template);
    await scene.engine.send(duplicate);
    await crashing.waitForLog(/\bevent=join\b/);
    gate.open();
    const crash = await crashing.waitForExit();
    assert.equal(crash.signal, "SIGKILL", `the agent killed itself at ${point}\n${crashing.tail()}`);

    const agent = await scene.startAgent();
    const [ran] = await scene.engine.waitForResults(plan.ID);
    const [joined] = await scene.engine.waitForResults(duplicate.ID);
    assert.equal(agent.exited, undefined);

    const effects = readExecutions(scene.effects);
    assert.equal(effects.executions.length, 1, `exactly one execution:\n${effects.lines.join("\n")}`);
    assert.equal(ran?.ErrorCode, 0, JSON.stringify(ran));
    assert.equal(joined?.ErrorCode, 0, JSON.stringify(joined));
    assert.equal(joined?.Idem?.RanAs, plan.ID);
    assert.deepEqual(joined?.Body, ran?.Body);
    for (const sourceId of [plan.ID, duplicate.ID]) {
      assert.equal(scene.engine.distinctResultsFor(sourceId).length, 1, `one final result for ${sourceId}`);
    }
  });
}

// Seams of the deferred and shared commits (docs/reliability.md, "deferred writes").

test("a crash right after a spawn, before its process group is durable (after-spawn), still finds and kills the orphan", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openScene(t, "seam-after-spawn");
  const crashing = await scene.startAgent({ failpoint: "after-spawn" });
  const template = {
    effects: scene.effects,
    tag: "after-spawn",
    sleepSeconds: 60,
    idempotency: { Policy: "run-once-ever" },
  };
  const plan = applicationPlan(template);
  await scene.engine.send(plan);
  const crash = await crashing.waitForExit();
  assert.equal(crash.signal, "SIGKILL", `the agent killed itself at after-spawn\n${crashing.tail()}`);
  // The script was spawned in its own process group: it outlives the agent, whose record has no pgid for it.
  const { executions } = await waitForEffects(scene.effects, (e) => e.executions.length === 1);
  const orphan = executions[0]?.pid ?? 0;
  assert.ok(isAlive(orphan), "the script outlived the agent");

  await scene.startAgent();
  assert.ok(await waitForDeath(orphan), "start-up recovery found the orphan by its IDEM_JOURNAL mark");
  const [answer] = await scene.engine.waitForResults(plan.ID);
  assert.equal(
    answer?.ErrorCode,
    304,
    `run-once-ever, interrupted: never run again\n${JSON.stringify(answer)}`,
  );
  const effects = readExecutions(scene.effects);
  assert.equal(effects.executions.length, 1, `not started again:\n${effects.lines.join("\n")}`);
  assert.equal(scene.engine.distinctResultsFor(plan.ID).length, 1);
});

test("a crash after one commit held a plan's result and the next plan's start runs each once and answers both", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openScene(t, "seam-shared-commit");
  const crashing = await scene.startAgent({ failpoint: "after-result-commit" });
  const gate = makeGate(join(scene.root, "gate-shared"));
  const first = gatedPlan(gate, { effects: scene.effects, tag: "shared-1" });
  const second = applicationPlan({ effects: scene.effects, tag: "shared-2" });
  await scene.engine.send(first);
  await waitForEffects(scene.effects, (e) => e.executions.length === 1);
  // The second is queued while the first runs (on its gate): its start goes into the batch of the first one's result.
  const since = crashing.mark();
  await scene.engine.send(second);
  await crashing.waitForLog(/\bevent=run\b/, { since });
  gate.open();
  const crash = await crashing.waitForExit();
  assert.equal(crash.signal, "SIGKILL", `the agent killed itself at after-result-commit\n${crashing.tail()}`);
  assert.equal(readExecutions(scene.effects).executions.length, 1, "the second had not been spawned");

  await scene.startAgent();
  const [ran] = await scene.engine.waitForResults(first.ID);
  const [next] = await scene.engine.waitForResults(second.ID);
  assert.equal(ran?.ErrorCode, 0, JSON.stringify(ran));
  assert.equal(next?.ErrorCode, 0, JSON.stringify(next));
  // Its `running` was durable with the first one's result, so the restart found it interrupted (never spawned)
  // and its policy ran it: attempt 2, one execution.
  assert.equal(next?.Idem?.Attempt, 2, JSON.stringify(next));
  const effects = readExecutions(scene.effects);
  assert.equal(effects.executions.length, 2, `each plan ran once:\n${effects.lines.join("\n")}`);
  assert.ok(
    effects.executions.every((e) => e.done),
    effects.lines.join("\n"),
  );
  for (const plan of [first, second]) {
    assert.equal(scene.engine.distinctResultsFor(plan.ID).length, 1, `one final result for ${plan.ID}`);
  }
});

// A plan that starts at once: its start rides in its decision's commit when its policy runs an interrupted plan
// again (docs/reliability.md, "What waits for an fsync"); a run-once-ever plan keeps a start commit of its own.

const foldCases = [
  { policy: "skip-if-identical", state: "running", attempts: 1, attempt: 2 },
  { policy: "run-once-ever", state: "accepted", attempts: 0, attempt: 1 },
] as const;

for (const { policy, state, attempts, attempt } of foldCases) {
  test(`a crash right after the decision of a ${policy} plan that starts at once finds it ${state}, and it runs once`, {
    timeout: 90_000,
  }, async (t) => {
    const scene = await openScene(t, `seam-fold-${policy}`);
    const crashing = await scene.startAgent({ failpoint: "after-commit" });
    const plan = applicationPlan({
      effects: scene.effects,
      tag: `fold-${policy}`,
      idempotency: { Policy: policy },
    });
    await scene.engine.send(plan);
    const crash = await crashing.waitForExit();
    assert.equal(crash.signal, "SIGKILL", `the agent killed itself at after-commit\n${crashing.tail()}`);

    // What the decision's commit made durable, read before anything recovers it.
    const journal = Journal.open(scene.dataDir, { create: false });
    let records: JournalRecord[];
    try {
      records = [...journal.records()];
      assert.equal(journal.queueLength(), 1, "the plan is queued");
    } finally {
      await journal.close();
    }
    assert.equal(records.length, 1, JSON.stringify(records));
    assert.equal(records[0]?.state, state, JSON.stringify(records[0]));
    assert.equal(records[0]?.attempts, attempts, JSON.stringify(records[0]));

    await scene.startAgent();
    const [result] = await scene.engine.waitForResults(plan.ID);
    assert.equal(result?.ErrorCode, 0, JSON.stringify(result));
    // Started in the decision's commit: interrupted (never spawned), and its policy ran it again.
    assert.equal(result?.Idem?.Attempt, attempt, JSON.stringify(result));
    const effects = readExecutions(scene.effects);
    assert.equal(effects.executions.length, 1, `one execution:\n${effects.lines.join("\n")}`);
    assert.equal(scene.engine.distinctResultsFor(plan.ID).length, 1);
  });
}

// Seams of a backlog's shared decision commits (docs/reliability.md, "Decisions of a backlog share a commit").

const batchSeams: { point: Failpoint; meaning: string }[] = [
  { point: "before-batch-commit", meaning: "several plans decided, their commits issued, not all durable" },
  { point: "after-batch-commit", meaning: "one commit made several decisions durable, none acknowledged" },
];

for (const { point, meaning } of batchSeams) {
  test(`a crash at ${point} (${meaning}) loses no plan, runs none twice, answers every one`, {
    timeout: 120_000,
  }, async (t) => {
    const scene = await openScene(t, `seam-${point}`);
    // A first start makes the persistent session; the backlog then waits in the broker and comes in a burst.
    const first = await scene.startAgent();
    await first.stop();
    const plans = Array.from({ length: 16 }, (_, i) =>
      applicationPlan({ effects: scene.effects, tag: `${point}-${i}` }),
    );
    // A plan ID sent twice with other content, and the same content twice under two IDs, inside the burst.
    const reused = {
      ...applicationPlan({ effects: scene.effects, tag: `${point}-reused` }),
      ID: plans[3]?.ID,
    };
    const twin = applicationPlan({ effects: scene.effects, tag: `${point}-5` });
    for (const plan of [...plans.slice(0, 8), reused, twin, ...plans.slice(8)]) await scene.engine.send(plan);

    const crashing = await scene.startAgent({ failpoint: point, waitOnline: false });
    const crash = await crashing.waitForExit();
    assert.equal(crash.signal, "SIGKILL", `the agent killed itself at ${point}\n${crashing.tail()}`);
    assert.ok(
      crashing.lines.some((line) => line.includes(`event=failpoint name=${point}`)),
      crashing.tail(),
    );
    // What the crash left, read before anything recovers it: the keys that were `running`.
    const journal = Journal.open(scene.dataDir, { create: false });
    let runningAtCrash: Set<string>;
    try {
      runningAtCrash = new Set([...journal.records()].filter((r) => r.state === "running").map((r) => r.key));
    } finally {
      await journal.close();
    }

    await scene.startAgent();
    const reusedId = String(plans[3]?.ID);
    for (const plan of plans) {
      const results = await scene.engine.waitForResults(plan.ID, plan.ID === reusedId ? 2 : 1);
      assert.ok(
        results.some((r) => r.ErrorCode === 0),
        `${plan.ID} ran and succeeded:\n${scene.engine.summary()}`,
      );
    }
    const [again] = await scene.engine.waitForResults(twin.ID);
    assert.equal(again?.ErrorCode, 0, JSON.stringify(again));
    assert.ok(["join", "replay"].includes(String(again?.Idem?.Decision)), JSON.stringify(again));
    assert.equal(again?.Idem?.RanAs, plans[5]?.ID, "the same content joined the first one");
    // The re-used ID: its first content ran; the second send got 303 (checked among its results).
    // A 303 whose commit was durable but not acknowledged is answered again after the re-delivery: replies are
    // at-least-once (docs/reliability.md); the run's result is one.
    const codes = scene.engine.distinctResultsFor(reusedId).map((r) => r.ErrorCode);
    assert.equal(codes.filter((code) => code === 0).length, 1, `one run:\n${scene.engine.summary()}`);
    assert.ok(
      codes.length >= 2 && codes.every((code) => code === 0 || code === 303),
      `the other content under the re-used ID got 303:\n${scene.engine.summary()}`,
    );
    // A plan starts as soon as its decision is durable, so the first of the burst may be running when the agent
    // dies at a later batch: that run is interrupted, and its policy (skip-if-identical) runs it again, attempt 2.
    // That is the only second run there may be: a plan runs at most as often as its final result's attempt says,
    // and none twice unless its first run's result was not yet durable when the agent died.
    const effects = readExecutions(scene.effects);
    for (const [i, plan] of plans.entries()) {
      const runs = effects.executions.filter((e) => e.args === `${point}-${i}`);
      const final = scene.engine.distinctResultsFor(plan.ID).find((r) => r.ErrorCode === 0);
      const attempt = Number(final?.Idem?.Attempt);
      assert.ok(
        runs.length >= 1 && runs.length <= attempt,
        `${plan.ID}: ${runs.length} runs, attempt ${attempt}`,
      );
      if (runs.length > 1) {
        assert.equal(attempt, 2, `a second run only after an interruption:\n${effects.lines.join("\n")}`);
        assert.ok(
          runningAtCrash.has(String(final?.Idem?.Key)),
          `${plan.ID} ran twice but was not running at the crash`,
        );
      }
      if (plan.ID !== reusedId) {
        assert.equal(scene.engine.distinctResultsFor(plan.ID).length, 1, `one final result for ${plan.ID}`);
      }
    }
    const reran = plans.filter(
      (_, i) => effects.executions.filter((e) => e.args === `${point}-${i}`).length > 1,
    );
    assert.ok(reran.length <= 1, `only a plan running at the crash runs again:\n${effects.lines.join("\n")}`);
  });
}
