/**
 * SPEC 5.3 and 5.5, adopt mode (no configured generation): a plan raises the generation high-water mark by at
 * most `maxGenerationStep` (default 1000); one beyond is answered 302, naming the setting and `idem fence`, and
 * leaves the mark where it was. `idem fence --generation N` sets the mark by hand, down as well as up, on a
 * stopped agent's journal only: a data dir that is missing or holds no journal is refused, and none is made.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { runIdem } from "../helpers/agent_process.ts";
import { readExecutions } from "../helpers/effects.ts";
import type { Engine } from "../helpers/engine.ts";
import { applicationPlan } from "../helpers/plans.ts";
import { openScene } from "../helpers/scene.ts";

/** Sends a plan of generation `generation` (script tag `tag`) and resolves with its one result. */
async function send(engine: Engine, effects: string, tag: string, generation: number) {
  const plan = applicationPlan({ effects, tag, generation });
  await engine.send(plan);
  return await engine.waitForResult(plan.ID);
}

test("adopt mode: a plan far above the mark is refused 302, names the way out, and leaves the mark", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openScene(t, "adopt");
  const run = (tag: string, generation: number) => send(scene.engine, scene.effects, tag, generation);
  const agent = await scene.startAgent();

  const adopted = await run("g5", 5);
  assert.equal(adopted.ErrorCode, 0, JSON.stringify(adopted));
  assert.equal(adopted.Idem?.Generation, 5);

  const huge = await run("huge", Number.MAX_SAFE_INTEGER);
  assert.equal(huge.ErrorCode, 302, JSON.stringify(huge));
  const message = JSON.stringify(huge.Body);
  assert.match(message, /maxGenerationStep \(1000\)/);
  assert.match(message, /idem fence --generation 9007199254740991/);
  await scene.engine.waitForEvents({ Event: "future", SourceID: huge.SourceID });

  // The mark stayed at 5: generation 6 is adopted and runs. From 6, 1006 is within the step; from 1006, 2007 is not.
  const next = await run("g6", 6);
  assert.equal(next.ErrorCode, 0, JSON.stringify(next));
  assert.equal(next.Idem?.Generation, 6);
  assert.equal((await run("g1006", 1006)).ErrorCode, 0);
  assert.equal((await run("g2007", 2007)).ErrorCode, 302);
  assert.equal((await run("g3", 3)).ErrorCode, 301, "below the mark: stale");
  assert.equal((await agent.stop()).code, 0, agent.tail());

  // Where the mark is now, read back by setting it to the same value.
  const read = await runIdem(["fence", "--data-dir", scene.dataDir, "--generation", "1006"]);
  assert.match(read.stdout, /: 1006 -> 1006\n$/, read.stderr);
  const ran = readExecutions(scene.effects).executions.map((e) => e.args);
  assert.deepEqual(ran, ["g5", "g6", "g1006"], "what was refused never ran");
});

test("idem fence lowers the mark a plan raised by mistake; the agent then runs the VM's real generation", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openScene(t, "fence-down");
  const run = (tag: string, generation: number) => send(scene.engine, scene.effects, tag, generation);
  const agent = await scene.startAgent();
  assert.equal((await run("g50", 50)).ErrorCode, 0, "the mistake: generation 50 adopted");
  assert.equal((await run("g3", 3)).ErrorCode, 301);
  assert.equal((await agent.stop()).code, 0, agent.tail());

  const lowered = await runIdem(["fence", "--data-dir", scene.dataDir, "--generation", "2"]);
  assert.equal(lowered.code, 0, lowered.stderr);
  assert.match(lowered.stdout, /: 50 -> 2\n$/);

  const again = await scene.startAgent();
  const three = await run("g3", 3);
  assert.equal(three.ErrorCode, 0, `generation 3 runs once the mark is 2: ${JSON.stringify(three)}`);
  assert.equal(three.Idem?.Generation, 3);
  assert.equal((await run("g2", 2)).ErrorCode, 301, "and the mark followed the plan to 3");
  assert.equal((await again.stop()).code, 0, again.tail());

  const raised = await runIdem(["fence", "--data-dir", scene.dataDir, "--generation", "40"]);
  assert.equal(raised.code, 0, raised.stderr);
  assert.match(raised.stdout, /: 3 -> 40\n$/);
  assert.deepEqual(
    readExecutions(scene.effects).executions.map((e) => e.args),
    ["g50", "g3"],
  );
});

test("idem fence refuses a data dir that is missing or holds no journal, and makes none", {
  timeout: 30_000,
}, async (t) => {
  const scene = await openScene(t, "fence-nothing");
  const missing = join(scene.root, "missing");
  const none = await runIdem(["fence", "--data-dir", missing, "--generation", "3"]);
  assert.deepEqual([none.code, none.signal], [2, null], none.stderr);
  assert.match(none.stderr, /Cannot find data dir .*missing/);
  assert.equal(existsSync(missing), false, "no data dir made");

  const empty = join(scene.root, "empty");
  mkdirSync(empty);
  const nothing = await runIdem(["fence", "--data-dir", empty, "--generation", "3"]);
  assert.deepEqual([nothing.code, nothing.signal], [2, null], nothing.stderr);
  assert.match(nothing.stderr, /Cannot find a journal in .*empty\/journal/);
  assert.deepEqual(readdirSync(empty), [], "no journal made");

  // A generation no plan could carry is refused before anything is looked at.
  const agent = await scene.startAgent();
  assert.equal((await agent.stop()).code, 0);
  for (const generation of ["9007199254740992", "99999999999999999999", "1.5", "x"]) {
    const wrong = await runIdem(["fence", "--data-dir", scene.dataDir, "--generation", generation]);
    assert.deepEqual([wrong.code, wrong.signal], [2, null], `${generation}: ${wrong.stderr}`);
    assert.match(wrong.stderr, /Cannot (fence|use --generation)/);
  }
  const kept = await runIdem(["fence", "--data-dir", scene.dataDir, "--generation", "0"]);
  assert.match(kept.stdout, /: 0 -> 0\n$/, "the mark is untouched");
});
