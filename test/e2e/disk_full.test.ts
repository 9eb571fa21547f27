/**
 * A full disk: the journal cannot commit a plan's decision. The agent must neither crash nor acknowledge the
 * plan; it retries, and once there is space again the plan runs once and its sender is answered.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { closeSync, openSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { makeTempDir, removeDir } from "../helpers/agent_process.ts";
import { applicationPlan, openScene, readExecutions } from "../helpers/engine.ts";

const root = process.getuid?.() === 0;

/** Writes zeros to `file` until the file system says ENOSPC. */
function fill(file: string): void {
  const fd = openSync(file, "w");
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
  } finally {
    closeSync(fd);
  }
}

test("with its disk full the agent keeps running, holds the plan unacknowledged, and runs it once space is back", {
  timeout: 90_000,
  skip: root ? false : "mounting a small tmpfs needs root (CI runs as root)",
}, async (t) => {
  // A folder of its own (not inside the scene's, which is removed while the mount may still be busy).
  const disk = await makeTempDir("disk-full-tmpfs");
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=6m", "tmpfs", disk]);
  t.after(async () => {
    execFileSync("umount", ["-l", disk]);
    await removeDir(disk);
  });
  const scene = await openScene(t, "disk-full");

  const agent = await scene.startAgent({ dataDir: join(disk, "data") });
  const filler = join(disk, "filler");
  fill(filler);

  // 200 KB of parameters: the journal must grow its file to record this plan, and cannot.
  const plan = applicationPlan({
    effects: scene.effects,
    tag: "full",
    parameters: { pad: "x".repeat(200_000) },
  });
  const since = agent.mark();
  await scene.engine.send(plan);
  await agent.waitForLog(/\bevent=intake-failed\b.*No space left on device/, { since });
  await agent.waitForLog(/\bevent=intake-failed\b/, { since, count: 2 }); // retried, still alive
  assert.equal(agent.exited, undefined, "the agent is still running");
  assert.equal(scene.engine.resultsFor(plan.ID).length, 0, "no answer while nothing is durable");
  assert.equal(readExecutions(scene.effects).executions.length, 0, "nothing ran");

  unlinkSync(filler);
  const [result] = await scene.engine.waitForResults(plan.ID);
  assert.equal(result?.ErrorCode, 0, JSON.stringify(result));
  assert.equal(result?.Idem?.Decision, "run");
  assert.equal(readExecutions(scene.effects).executions.length, 1, "the plan ran once");
  assert.equal(agent.exited, undefined, "the agent is still running");
});
