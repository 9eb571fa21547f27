/**
 * SPEC 5.5 and 5.4, a full disk at start. The data dir is on a small tmpfs of its own, full (or all but a few
 * pages) before the agent's first start: `idem run` must exit 2 by itself with a message that says the disk is
 * full — never die by a signal (LMDB writing to a mapped sparse lock file dies by SIGBUS; one that cannot write
 * its header pages by SIGSEGV). Once there is space, the next start makes the journal and the queued plan runs
 * once. Another VM's journal found on a full disk is not set aside before a new one can be made.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { readExecutions } from "../helpers/effects.ts";
import { setAsideFolders } from "../helpers/journal_files.ts";
import { applicationPlan } from "../helpers/plans.ts";
import { openScene } from "../helpers/scene.ts";
import { CAN_MOUNT, mountSmallDisk } from "../helpers/small_disk.ts";

const NO_SPACE = /Cannot create the journal in \S+: no space left on the disk/;
const skip = CAN_MOUNT ? false : "mounting a tmpfs needs root";

test("a full disk before the first start is exit 2 saying so, never a signal; with space the plan runs once", {
  timeout: 90_000,
  skip,
}, async (t) => {
  const scene = await openScene(t, "full-at-start");
  const disk = await mountSmallDisk(t, { sizeBytes: 2 * 1024 * 1024 });
  const dataDir = join(disk.dir, "data");
  // A first start elsewhere makes the agent's session, which keeps the plan while the agent cannot start.
  const elsewhere = await scene.startAgent();
  assert.equal((await elsewhere.stop()).code, 0);
  const plan = applicationPlan({ effects: scene.effects, tag: "queued" });
  await scene.engine.send(plan);

  // Full, and all but a few pages (where LMDB used to die by SIGBUS, then by SIGSEGV).
  for (const leaveBytes of [0, 16_384, 20_480, 32_768, 512 * 1024]) {
    disk.free();
    disk.fill({ leaveBytes });
    const refused = await scene.startAgent({ dataDir, waitOnline: false });
    const exit = await refused.waitForExit();
    assert.deepEqual(exit, { code: 2, signal: null }, `${leaveBytes} bytes free\n${refused.tail()}`);
    assert.match(refused.lines.join("\n"), NO_SPACE, refused.tail());
  }
  assert.equal(readExecutions(scene.effects).executions.length, 0);
  assert.deepEqual(scene.engine.resultsFor(plan.ID), []);

  disk.free();
  const agent = await scene.startAgent({ dataDir });
  const [result, ...more] = await scene.engine.waitForResults(plan.ID);
  assert.equal(result?.ErrorCode, 0, JSON.stringify(result));
  assert.equal(more.length, 0, scene.engine.summary());
  await agent.waitForLog(/\bevent=finished\b/);
  assert.equal(readExecutions(scene.effects).executions.length, 1);
});

test("another VM's journal on a full disk is kept in place until a new journal can be made", {
  timeout: 90_000,
  skip,
}, async (t) => {
  const scene = await openScene(t, "full-clone");
  const disk = await mountSmallDisk(t, { sizeBytes: 2 * 1024 * 1024 });
  const dataDir = join(disk.dir, "data");
  const original = await scene.startAgent({ dataDir, extraArgs: ["--instance-id", "vm-a"] });
  assert.equal((await original.stop()).code, 0);

  disk.fill();
  const refused = await scene.startAgent({
    dataDir,
    extraArgs: ["--instance-id", "vm-b"],
    waitOnline: false,
  });
  assert.deepEqual(await refused.waitForExit(), { code: 2, signal: null }, refused.tail());
  assert.match(refused.lines.join("\n"), NO_SPACE, refused.tail());
  assert.deepEqual(setAsideFolders(dataDir, "other-instance"), [], "not set aside, the warning not lost");

  disk.free();
  const clone = await scene.startAgent({ dataDir, extraArgs: ["--instance-id", "vm-b"] });
  await clone.waitForLog(/level=warn event=journal-set-aside .*reason=other-instance .*instance=vm-a/);
  assert.equal(setAsideFolders(dataDir, "other-instance").length, 1);
});
