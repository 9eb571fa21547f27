/**
 * `idem inspect --outbox` shows results the broker has not acknowledged, read from a running agent's journal; and
 * `inspect` without a journal is a usage error that creates nothing.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { IdemError } from "../../agent/errors.ts";
import { makeTempDir, removeDir } from "../helpers/agent_process.ts";
import { gatedPlan, makeGate } from "../helpers/gated_plan.ts";
import { inspect, inspectJson } from "../helpers/inspect_command.ts";
import { openScene } from "../helpers/scene.ts";

test("inspect --outbox shows a result the broker has not taken yet, and not once it has", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openScene(t, "inspect-outbox");
  const agent = await scene.startAgent();
  const gate = makeGate(join(scene.root, "gate"));
  const plan = gatedPlan(gate, { effects: scene.effects, tag: "o" });
  await scene.engine.send(plan);
  await agent.waitForLog(new RegExp(`\\bevent=start\\b.*\\bplan=${plan.ID}\\b`));
  await scene.broker.stop();
  const since = agent.mark();
  gate.open();
  await agent.waitForLog(new RegExp(`\\bevent=finished\\b.*\\bplan=${plan.ID}\\b`), { since });

  type Row = { Seq: number; Topic: string; SourceID: string | null; Since: string | null; Bytes: number };
  const outbox = await inspectJson<{ Outbox: Row[]; More: boolean }>({
    "data-dir": scene.dataDir,
    outbox: true,
  });
  assert.equal(outbox.Outbox.length, 1, JSON.stringify(outbox));
  const [row] = outbox.Outbox;
  assert.equal(row?.SourceID, plan.ID);
  assert.equal(row?.Topic, scene.engine.topic("results"));
  assert.ok((row?.Bytes ?? 0) > 100, `a whole result: ${row?.Bytes} bytes`);
  assert.ok(row?.Since && !Number.isNaN(Date.parse(row.Since)));
  const table = await inspect({ "data-dir": scene.dataDir, outbox: true });
  assert.match(table.stdout, /^SEQ\s+SINCE\s+BYTES\s+PLAN\s+TOPIC\n/);
  assert.match(table.stdout, new RegExp(`${plan.ID}\\s+${scene.engine.topic("results")}\\n$`));

  // The broker is back: the online status of the new session counts the result in the outbox, then it is
  // delivered and the refreshed status shows an empty outbox.
  const earlier = new Set(scene.engine.statuses);
  await scene.broker.start();
  await scene.engine.waitForResult(plan.ID, 30_000);
  const back = await scene.engine.waitForStatusMatching(
    (s) => !earlier.has(s) && s.State === "online",
    30_000,
  );
  assert.equal(back.Outbox, 1, JSON.stringify(back));
  await scene.engine.waitForStatusMatching((s) => !earlier.has(s) && s !== back && s.Outbox === 0, 30_000);
  await agent.stop();
  const empty = await inspectJson<{ Outbox: Row[] }>({ "data-dir": scene.dataDir, outbox: true });
  assert.deepEqual(empty.Outbox, []);
});

test("inspect without a journal is a usage error naming --data-dir, and creates nothing", async (t) => {
  const root = await makeTempDir("inspect-nothing");
  t.after(() => removeDir(root));
  const missing = join(root, "no-such-dir");
  await assert.rejects(
    inspect({ "data-dir": missing }),
    (error: unknown) => error instanceof IdemError && error.code === 2 && /--data-dir/.test(error.message),
  );
  assert.equal(existsSync(missing), false);
  const empty = join(root, "empty");
  mkdirSync(empty);
  await assert.rejects(
    inspect({ "data-dir": empty, queue: true }),
    (error: unknown) => error instanceof IdemError && error.code === 2 && /--data-dir/.test(error.message),
  );
  assert.deepEqual(readdirSync(empty), []);
  await assert.rejects(
    inspect({ "data-dir": empty, queue: true }, ["k"]),
    (error: unknown) =>
      error instanceof IdemError && error.code === 2 && /one of KEY, --queue/.test(error.message),
  );
  await assert.rejects(
    inspect({ "data-dir": empty, limit: "0" }),
    (error: unknown) => error instanceof IdemError && error.code === 2 && /--limit 0/.test(error.message),
  );
});
