/**
 * `idem inspect` (SPEC 10) reads the journal of a running agent — keys, one key's record and history, the queue
 * (the outbox: inspect_outbox.test.ts) — without taking the data dir or writing anything; `idem forget` says
 * what it removed.
 * The command runs in-process (`inspectCommand.run`) against a real agent process on a real broker.
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { forgetKey, forgottenText } from "../../agent/commands/forget.ts";
import { gatedPlan, makeGate } from "../helpers/gated_plan.ts";
import { inspect, inspectJson } from "../helpers/inspect_command.ts";
import { applicationPlan } from "../helpers/plans.ts";
import { openScene } from "../helpers/scene.ts";

interface KeyRow {
  Key: string;
  State: string;
  Attempts: number;
  FirstSourceID: string;
  LastSourceID: string;
  FinishedAt: string | null;
  ErrorCode: number | null;
  Queued: number;
}

/** Every file and folder under `dir` (relative paths), sorted. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).sort();
}

test("inspect lists the keys and shows one key's record and history while the agent runs, writing nothing", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openScene(t, "inspect-keys");
  const agent = await scene.startAgent();
  const alpha = applicationPlan({ effects: scene.effects, tag: "a", idempotency: { Key: "alpha" } });
  const alphaAgain = applicationPlan({ effects: scene.effects, tag: "a", idempotency: { Key: "alpha" } });
  const beta = applicationPlan({
    effects: scene.effects,
    tag: "b",
    exitCode: 3,
    idempotency: { Key: "beta" },
  });
  for (const plan of [alpha, alphaAgain, beta]) {
    await scene.engine.send(plan);
    await scene.engine.waitForResult(plan.ID);
  }
  const journalFiles = tree(join(scene.dataDir, "journal"));

  const table = await inspect({ "data-dir": scene.dataDir });
  assert.equal(table.code, 0, table.stderr);
  const lines = table.stdout.trimEnd().split("\n");
  assert.match(lines[0] ?? "", /^STATE\s+TRIES\s+CODE\s+POLICY .*LAST PLAN\s+KEY$/);
  assert.equal(lines.length, 3, table.stdout);
  assert.match(
    lines[1] ?? "",
    new RegExp(`^succeeded\\s+1\\s+0\\s+skip-if-identical .*${alpha.ID}\\s+alpha$`),
  );
  assert.match(lines[2] ?? "", /^failed\s+1\s+[1-9]\d*\s+.*\bbeta$/);

  const listing = await inspectJson<{ Keys: KeyRow[]; More: boolean }>({ "data-dir": scene.dataDir });
  assert.equal(listing.More, false);
  assert.deepEqual(
    listing.Keys.map((k) => [k.Key, k.State, k.Attempts, k.FirstSourceID, k.LastSourceID, k.Queued]),
    [
      ["alpha", "succeeded", 1, alpha.ID, alpha.ID, 0],
      ["beta", "failed", 1, beta.ID, beta.ID, 0],
    ],
  );
  assert.equal(listing.Keys[0]?.ErrorCode, 0);
  assert.notEqual(listing.Keys[1]?.ErrorCode, 0);
  assert.ok(listing.Keys.every((k) => k.FinishedAt !== null && !Number.isNaN(Date.parse(k.FinishedAt))));

  const limited = await inspect({ "data-dir": scene.dataDir, limit: "1" });
  assert.equal(limited.stdout.trimEnd().split("\n").length, 2, limited.stdout);
  assert.match(limited.stderr, /raise --limit/);
  const limitedJson = await inspectJson<{ Keys: KeyRow[]; More: boolean }>({
    "data-dir": scene.dataDir,
    limit: "1",
  });
  assert.deepEqual([limitedJson.Keys.length, limitedJson.More], [1, true]);

  // One key: its whole record and its history, oldest first.
  const record = await inspectJson<{
    Key: string;
    Fingerprint: string;
    Result: { ErrorCode: number; RanAs: string; Body: string } | null;
    History: { SourceID: string; Decision: string }[];
  }>({ "data-dir": scene.dataDir }, ["alpha"]);
  assert.equal(record.Key, "alpha");
  assert.match(record.Fingerprint, /^sha256:[0-9a-f]{64}$/);
  assert.equal(record.Result?.RanAs, alpha.ID);
  assert.match(record.Result?.Body ?? "", /ran /);
  assert.deepEqual(
    record.History.map((h) => [h.Decision, h.SourceID]),
    [
      ["run", alpha.ID],
      ["finished", alpha.ID],
      ["replay", alphaAgain.ID],
    ],
  );
  const recordText = await inspect({ "data-dir": scene.dataDir }, ["alpha"]);
  assert.equal(recordText.code, 0, recordText.stderr);
  assert.match(recordText.stdout, /^State:\s+succeeded$/m);
  assert.match(recordText.stdout, new RegExp(`^Result:\\s+code 0, ran as ${alpha.ID} \\(attempt 1\\)$`, "m"));
  assert.match(recordText.stdout, new RegExp(`\\sreplay\\s+-\\s+${alphaAgain.ID}$`, "m"));

  const unknown = await inspect({ "data-dir": scene.dataDir }, ["nope"]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no record for key "nope"/);

  // Nothing was created or taken: the journal's files are the same, and the agent still serves plans.
  assert.deepEqual(tree(join(scene.dataDir, "journal")), journalFiles);
  const gamma = applicationPlan({ effects: scene.effects, tag: "g" });
  await scene.engine.send(gamma);
  assert.equal((await scene.engine.waitForResult(gamma.ID)).ErrorCode, 0);

  // forget is refused while the agent runs; once it stopped, it says what it removed.
  await assert.rejects(forgetKey(scene.dataDir, "beta"), new RegExp(`PID ${agent.pid}\\b`));
  assert.equal((await agent.stop()).code, 0);
  const removed = await forgetKey(scene.dataDir, "beta");
  assert.ok(removed, "beta had a record");
  assert.deepEqual(
    { ...removed, errorCode: removed.errorCode !== 0 },
    {
      key: "beta",
      state: "failed",
      policy: "skip-if-identical",
      attempts: 1,
      lastPlanId: beta.ID,
      errorCode: true,
    },
  );
  assert.match(
    forgottenText(removed),
    new RegExp(`^forgot key "beta": it was failed .*1 attempt.*last plan ${beta.ID}, result code [1-9]`),
  );
  assert.equal(await forgetKey(scene.dataDir, "beta"), undefined);
  assert.equal((await inspect({ "data-dir": scene.dataDir }, ["beta"])).code, 1);
});

test("inspect --queue shows the running plan and the waiting ones in order", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openScene(t, "inspect-queue");
  const agent = await scene.startAgent();
  const gate = makeGate(join(scene.root, "gate"));
  const first = gatedPlan(gate, { effects: scene.effects, tag: "1", idempotency: { Key: "q1" } });
  const second = applicationPlan({ effects: scene.effects, tag: "2", idempotency: { Key: "q2" } });
  const third = applicationPlan({ effects: scene.effects, tag: "3", idempotency: { Key: "q3" } });
  await scene.engine.send(first);
  await agent.waitForLog(new RegExp(`\\bevent=start\\b.*\\bplan=${first.ID}\\b`));
  for (const plan of [second, third]) {
    await scene.engine.send(plan);
    await scene.engine.waitForEvents({ Event: "run", SourceID: plan.ID });
  }

  type Row = { Seq: number; Key: string; SourceID: string; State: string; Since: string | null };
  const queue = await inspectJson<{ Queue: Row[]; More: boolean }>({
    "data-dir": scene.dataDir,
    queue: true,
  });
  assert.deepEqual(
    queue.Queue.map((q) => [q.Key, q.SourceID, q.State]),
    [
      ["q1", first.ID, "running"],
      ["q2", second.ID, "waiting"],
      ["q3", third.ID, "waiting"],
    ],
  );
  assert.equal(queue.More, false);
  const seqs = queue.Queue.map((q) => q.Seq);
  assert.deepEqual(
    seqs,
    [...seqs].sort((a, b) => a - b),
    "in arrival order",
  );
  assert.ok(queue.Queue.every((q) => q.Since !== null && !Number.isNaN(Date.parse(q.Since))));

  const table = await inspect({ "data-dir": scene.dataDir, queue: true, limit: "2" });
  const lines = table.stdout.trimEnd().split("\n");
  assert.match(lines[0] ?? "", /^SEQ\s+STATE\s+SINCE\s+PLAN\s+KEY$/);
  assert.match(lines[1] ?? "", new RegExp(`running .*${first.ID}\\s+q1$`));
  assert.match(lines[2] ?? "", new RegExp(`waiting .*${second.ID}\\s+q2$`));
  assert.equal(lines.length, 3);
  assert.match(table.stderr, /first 2 shown/);

  gate.open();
  for (const plan of [first, second, third]) await scene.engine.waitForResult(plan.ID);
  await agent.stop();
  const empty = await inspectJson<{ Queue: Row[] }>({ "data-dir": scene.dataDir, queue: true });
  assert.deepEqual(empty.Queue, []);
});
