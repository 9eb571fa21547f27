/**
 * SPEC 5.5, the journal knows its VM. A data dir with history (a run, a run-once-ever key, generation
 * high-water 5) is copied as a disk image would carry it. Started under another instance id, the copy is a new
 * VM: its old journal is set aside (renamed, kept byte for byte), a warning is logged and published, and the new
 * VM's plans run as on a fresh VM. Under the same instance id (the original, or a restored copy), the journal is
 * kept and fences and replays as before.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { type AgentProcess, uniqueAgentId } from "../helpers/agent_process.ts";
import { readExecutions } from "../helpers/effects.ts";
import { connectEngine, type Engine } from "../helpers/engine.ts";
import { copyDataDir, dataFile, setAsideFolders } from "../helpers/journal_files.ts";
import { applicationPlan, type PlanOptions } from "../helpers/plans.ts";
import { openScene } from "../helpers/scene.ts";

const SET_ASIDE = /level=warn event=journal-set-aside\b/;

/** Sends a plan and resolves with its one result. */
async function answer(engine: Engine, options: PlanOptions) {
  const plan = applicationPlan(options);
  await engine.send(plan);
  return await engine.waitForResult(plan.ID);
}

function ranWith(effects: string, tag: string): number {
  return readExecutions(effects).executions.filter((e) => e.args === tag).length;
}

test("a copied data dir started as another VM sets the old journal aside and runs its plans afresh", {
  timeout: 120_000,
}, async (t) => {
  const scene = await openScene(t, "clone");
  const once = {
    effects: scene.effects,
    tag: "once",
    generation: 5,
    idempotency: { Policy: "run-once-ever" },
  };
  const gen1 = { effects: scene.effects, tag: "gen1", generation: 1 };

  // The original VM: adopts generation 5, runs a run-once-ever plan.
  const original = await scene.startAgent({ extraArgs: ["--instance-id", "vm-original"] });
  assert.equal((await answer(scene.engine, { ...once, tag: "g5", idempotency: {} })).ErrorCode, 0);
  assert.equal((await answer(scene.engine, once)).Idem?.Decision, "run");
  assert.equal((await original.stop()).code, 0, original.tail());
  const history = readFileSync(dataFile(scene.dataDir));

  // Its disk, cloned into a new VM with its own name and instance id.
  const cloneDir = join(scene.root, "clone-data");
  copyDataDir(scene.dataDir, cloneDir);
  const cloneId = uniqueAgentId("clone");
  const cloneEngine = await connectEngine(scene.broker, { agentId: cloneId });
  t.after(() => cloneEngine.close());
  const startClone = async (): Promise<AgentProcess> =>
    await scene.startAgent({ agentId: cloneId, dataDir: cloneDir, extraArgs: ["--instance-id", "vm-clone"] });
  const clone = await startClone();

  const [aside, ...more] = setAsideFolders(cloneDir, "other-instance");
  assert.ok(aside !== undefined && more.length === 0, "one journal.other-instance.<time> folder");
  assert.ok(readFileSync(join(aside, "data.mdb")).equals(history), "the old journal is kept as it was");
  const [line] = await clone.waitForLog(SET_ASIDE);
  assert.match(line ?? "", new RegExp(`reason=other-instance path=${aside} instance=vm-original`));
  const [event] = await cloneEngine.waitForEvents({ Event: "journal-set-aside" });
  assert.equal(event?.Reason, "other-instance", JSON.stringify(event));
  assert.equal(event?.Path, aside);
  assert.equal(event?.Instance, "vm-original");

  // A new VM: generation 1 is not stale, and the run-once-ever plan the original ran runs here too.
  const fresh = await answer(cloneEngine, gen1);
  assert.equal(fresh.ErrorCode, 0, JSON.stringify(fresh));
  assert.equal(fresh.Idem?.Decision, "run");
  assert.equal((await answer(cloneEngine, once)).Idem?.Decision, "run");
  assert.equal(ranWith(scene.effects, "once"), 2, "once on each VM");
  assert.equal(ranWith(scene.effects, "gen1"), 1);

  // The clone's journal is its own now: a restart keeps it.
  assert.equal((await clone.stop()).code, 0, clone.tail());
  const again = await startClone();
  assert.equal(setAsideFolders(cloneDir, "other-instance").length, 1, "not set aside a second time");
  assert.deepEqual(again.matching(SET_ASIDE), []);
  assert.equal((await answer(cloneEngine, once)).Idem?.Decision, "replay");
  assert.equal(cloneEngine.eventsMatching({ Event: "journal-set-aside" }).length, 1);

  // The original VM again, its identity from the environment this time: its journal is kept.
  const back = await scene.startAgent({ env: { IDEM_INSTANCE_ID: "vm-original" } });
  assert.deepEqual(setAsideFolders(scene.dataDir, "other-instance"), []);
  assert.deepEqual(back.matching(SET_ASIDE), []);
  const stale = await answer(scene.engine, gen1);
  assert.equal(stale.ErrorCode, 301, `generation 1 is below the kept high-water 5: ${JSON.stringify(stale)}`);
  assert.equal((await answer(scene.engine, once)).Idem?.Decision, "replay");
  assert.equal(ranWith(scene.effects, "once"), 2);
  assert.equal(ranWith(scene.effects, "gen1"), 1);
});

test("a copied data dir started under the same instance id keeps its journal", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openScene(t, "clone-same");
  const once = { effects: scene.effects, tag: "once", idempotency: { Policy: "run-once-ever" } };
  const original = await scene.startAgent({ extraArgs: ["--instance-id", "vm-same"] });
  assert.equal((await answer(scene.engine, once)).Idem?.Decision, "run");
  assert.equal((await original.stop()).code, 0, original.tail());

  // A restored backup, say: another folder, the same VM.
  const copy = join(scene.root, "restored");
  copyDataDir(scene.dataDir, copy);
  const restored = await scene.startAgent({ dataDir: copy, extraArgs: ["--instance-id", "vm-same"] });
  assert.deepEqual(setAsideFolders(copy, "other-instance"), []);
  assert.deepEqual(restored.matching(SET_ASIDE), []);
  assert.equal((await answer(scene.engine, once)).Idem?.Decision, "replay");
  assert.equal(ranWith(scene.effects, "once"), 1);
});
