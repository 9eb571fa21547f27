/**
 * SPEC 5.5, one owner per data dir: a second `idem run`, `idem forget` or `idem fence` on a data dir an agent
 * runs on exits 2 at once, naming the owner's PID, and touches nothing — no start-up recovery, so the owner's
 * running script is neither killed as an orphan nor recorded as interrupted. The same folder reached by another
 * path (a symbolic link, a bind mount) is the same data dir. The lock dies with its owner, `kill -9` included,
 * and the owner's orphaned scripts do not hold it.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, statSync, symlinkSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { type AgentProcess, makeTempDir, removeDir, runIdem } from "../helpers/agent_process.ts";
import { isAlive, readExecutions, waitForDeath, waitForEffects } from "../helpers/effects.ts";
import { gatedPlan, makeGate } from "../helpers/gated_plan.ts";
import { setAsideFolders } from "../helpers/journal_files.ts";
import { applicationPlan } from "../helpers/plans.ts";
import { openScene } from "../helpers/scene.ts";
import { CAN_MOUNT } from "../helpers/small_disk.ts";

const RECOVERY = /\bevent=(orphans-killed|interrupted)\b/;

/** The refusal a second process must print: the data dir, the owner as `idem run (PID n, since …)`. */
function ownedBy(owner: AgentProcess, dataDir: string): RegExp {
  const dir = dataDir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`Cannot use data dir ${dir}: idem run \\(PID ${owner.pid}, since [^)]+\\) owns it`);
}

test("a second agent on a data dir whose agent runs a run-once-ever plan exits 2 at once; the plan runs once", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openScene(t, "one-owner");
  const first = await scene.startAgent({ generation: 4 });
  // The plan runs (on a gate) until the other processes have been refused: none of them is raced by a sleep.
  const gate = makeGate(join(scene.root, "gate-once"));
  const template = {
    effects: scene.effects,
    tag: "once",
    generation: 4,
    idempotency: { Policy: "run-once-ever", Key: "deploy-once" },
  };
  const plan = gatedPlan(gate, template);
  await scene.engine.send(plan);
  await waitForEffects(scene.effects, (e) => e.executions.length === 1);

  const spawned = performance.now();
  const second = await scene.startAgent({ generation: 4, waitOnline: false });
  const exit = await second.waitForExit(10_000);
  const ms = performance.now() - spawned;
  t.diagnostic(`second agent: spawn to exit ${ms.toFixed(0)} ms`);
  assert.deepEqual(exit, { code: 2, signal: null }, second.tail());
  assert.ok(ms < 5_000, `refused within a second or so, not ${ms} ms`);
  assert.match(second.lines.join("\n"), ownedBy(first, scene.dataDir), second.tail());
  assert.equal(readExecutions(scene.effects).executions[0]?.done, false, "refused while the plan ran");

  // Told to set the journal aside, it does not either: the owner is checked first.
  const reset = await scene.startAgent({ generation: 4, waitOnline: false, extraArgs: ["--reset-journal"] });
  assert.deepEqual(await reset.waitForExit(10_000), { code: 2, signal: null }, reset.tail());
  assert.match(reset.lines.join("\n"), ownedBy(first, scene.dataDir), reset.tail());
  assert.deepEqual(setAsideFolders(scene.dataDir, "reset"), []);

  // The one-shot commands are refused the same way, and change nothing (checked below).
  const forget = await runIdem(["forget", "--data-dir", scene.dataDir, "deploy-once"]);
  t.diagnostic(`idem forget: spawn to exit ${forget.ms.toFixed(0)} ms`);
  assert.equal(forget.code, 2, forget.stderr);
  assert.equal(forget.signal, null);
  assert.match(forget.stderr, ownedBy(first, scene.dataDir));
  const fence = await runIdem(["fence", "--data-dir", scene.dataDir, "--generation", "9"]);
  t.diagnostic(`idem fence: spawn to exit ${fence.ms.toFixed(0)} ms`);
  assert.equal(fence.code, 2, fence.stderr);
  assert.equal(fence.signal, null);
  assert.match(fence.stderr, ownedBy(first, scene.dataDir));

  gate.open();
  const [result, ...more] = await scene.engine.waitForResults(plan.ID);
  assert.equal(result?.ErrorCode, 0, JSON.stringify(result));
  assert.equal(result?.Idem?.Decision, "run");
  assert.equal(more.length, 0, scene.engine.summary());
  await first.waitForLog(/\bevent=finished\b/);
  const effects = readExecutions(scene.effects);
  assert.equal(effects.executions.length, 1, effects.lines.join("\n"));
  assert.equal(effects.executions[0]?.done, true, "the script ran to its end");
  assert.deepEqual(first.matching(RECOVERY), [], first.tail());
  assert.deepEqual(second.matching(RECOVERY), [], second.tail());
  assert.deepEqual(reset.matching(RECOVERY), [], reset.tail());

  // forget changed nothing: the key still has its run, and a re-send is replayed.
  const resent = gatedPlan(gate, template);
  await scene.engine.send(resent);
  const [replayed] = await scene.engine.waitForResults(resent.ID);
  assert.equal(replayed?.Idem?.Decision, "replay", JSON.stringify(replayed));
  assert.equal(readExecutions(scene.effects).executions.length, 1);

  // fence changed nothing: the mark is still the configured 4, not 9.
  assert.equal((await first.stop()).code, 0, first.tail());
  const check = await runIdem(["fence", "--data-dir", scene.dataDir, "--generation", "4"]);
  assert.equal(check.code, 0, check.stderr);
  assert.match(check.stdout, /: 4 -> 4\n$/);
});

test("five agents started at once on a new data dir: one owns it, four exit 2 naming it", {
  timeout: 60_000,
}, async (t) => {
  const scene = await openScene(t, "one-owner-race");
  const agents = await Promise.all(
    Array.from({ length: 5 }, () => scene.startAgent({ generation: 1, waitOnline: false })),
  );
  const outcomes = await Promise.all(
    agents.map((agent) =>
      agent.waitForLog(/\bevent=online\b/).then(
        () => "online",
        () => "exited",
      ),
    ),
  );
  const owners = agents.filter((_, i) => outcomes[i] === "online");
  assert.equal(owners.length, 1, agents.map((agent) => agent.tail(3)).join("\n"));
  const owner = owners[0] as AgentProcess;
  for (const other of agents.filter((agent) => agent !== owner)) {
    assert.deepEqual(other.exited, { code: 2, signal: null }, other.tail());
    assert.match(other.lines.join("\n"), ownedBy(owner, scene.dataDir), other.tail());
  }
  const plan = applicationPlan({ effects: scene.effects, tag: "after-race", generation: 1 });
  await scene.engine.send(plan);
  assert.equal((await scene.engine.waitForResult(plan.ID)).ErrorCode, 0);
});

test("the same data dir by a symbolic link or a bind mount has the same owner", {
  timeout: 60_000,
}, async (t) => {
  const scene = await openScene(t, "one-owner-paths");
  const first = await scene.startAgent();
  const link = join(scene.root, "link");
  symlinkSync(scene.dataDir, link);
  const paths = [link, `${scene.dataDir}/./`];
  if (CAN_MOUNT) {
    // Outside the scene's folder, which is removed while the mount may still be there.
    const bound = await makeTempDir("bound");
    execFileSync("mount", ["--bind", scene.dataDir, bound]);
    t.after(async () => {
      execFileSync("umount", ["-l", bound]);
      await removeDir(bound);
    });
    paths.push(bound);
  } else {
    t.diagnostic("not root: the bind mount case is skipped");
  }
  for (const dataDir of paths) {
    const other = await scene.startAgent({ dataDir, waitOnline: false });
    const exit = await other.waitForExit(10_000);
    assert.deepEqual(exit, { code: 2, signal: null }, `${dataDir}\n${other.tail()}`);
    assert.match(other.lines.join("\n"), new RegExp(`idem run \\(PID ${first.pid}, since`), other.tail());
  }
  assert.deepEqual(first.matching(RECOVERY), []);
});

test("the lock dies with its owner: after kill -9 the next agent starts at once and kills the orphan", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openScene(t, "one-owner-kill");
  const first = await scene.startAgent();
  const plan = applicationPlan({
    effects: scene.effects,
    tag: "long",
    sleepSeconds: 60,
    sleepFirstRunOnly: true,
  });
  await scene.engine.send(plan);
  const { executions } = await waitForEffects(scene.effects, (e) => e.executions.length === 1);
  const orphan = executions[0]?.pid ?? 0;
  assert.equal((await first.kill9()).signal, "SIGKILL");
  assert.ok(isAlive(orphan), "the script outlived the agent");

  // The orphan inherited nothing that holds the data dir: the next agent owns it and cleans up.
  const next = await scene.startAgent();
  await next.waitForLog(/\bevent=orphans-killed\b/);
  assert.ok(await waitForDeath(orphan), "the orphan is killed by the new owner");
  const [result] = await scene.engine.waitForResults(plan.ID);
  assert.equal(result?.ErrorCode, 0, JSON.stringify(result));
  assert.equal(result?.Idem?.Attempt, 2, JSON.stringify(result));
});

test("a process that binds the lock's name from what any user can see does not keep the agent out", {
  timeout: 60_000,
}, async (t) => {
  const scene = await openScene(t, "owner-squat");
  mkdirSync(scene.dataDir, { recursive: true, mode: 0o700 });
  // What a local user can learn of the data dir: its device and inode (stat works on a 0700 folder's path).
  const { dev, ino } = statSync(scene.dataDir, { bigint: true });
  const guess = `\0idem-data-dir-${createHash("sha256").update(`${dev}:${ino}`).digest("hex").slice(0, 32)}`;
  const squatter = createServer((socket) => socket.end('{"pid":1,"command":"run","since":"1970-01-01"}\n'));
  await new Promise<void>((resolve) => squatter.listen(guess, resolve));
  t.after(() => new Promise<void>((resolve) => squatter.close(() => resolve())));

  const agent = await scene.startAgent();
  assert.equal(agent.exited, undefined, "the agent started beside the squatter");
  const secret = statSync(join(scene.dataDir, "owner.secret"));
  assert.equal(secret.mode & 0o777, 0o600, "the lock's secret is readable by the agent's user alone");
});
