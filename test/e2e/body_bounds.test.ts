/**
 * Bounded evaluation (SPEC 6) end to end, with a real broker and the agent from its sources: a Body that
 * computes forever never holds up the agent (plans are acknowledged and, with concurrency 2, answered meanwhile),
 * its Timeout answers it 101, and a Body beyond `bodyMemoryMB` is code 1 MemoryError while the same agent
 * process goes on serving — from the sources and in the single executable (its Body worker's watchdog, a thread
 * of code eval'd from a string, is what enforces the limit). A Body bounded by construction (agent/python/check/bounded.ts) is evaluated by the
 * agent itself: no worker process exists while its script runs; a Body with a loop gets one.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { BODY_WORKER_ARG } from "../../agent/python/worker/worker_protocol.ts";
import { EXECUTABLE, ensureBuilt } from "../build/runtimes.ts";
import { isAlive, waitForDeath } from "../helpers/effects.ts";
import { applicationPlan } from "../helpers/plans.ts";
import { bodyWorkerOf, childrenOf } from "../helpers/proc_children.ts";
import { openScene } from "../helpers/scene.ts";

const FOREVER = "for x in range(10**12):\n  pass";

/** The command lines of a process's children, space-joined. */
const childCommands = (pid: number): string[] => childrenOf(pid).map((child) => child.argv.join(" "));

async function untilStarted(effects: string, tag: string): Promise<void> {
  const started = () => existsSync(effects) && readFileSync(effects, "utf8").includes(` ${tag}\n`);
  const end = Date.now() + 30_000;
  while (!started()) {
    if (Date.now() > end) throw new Error(`the script of plan ${tag} did not start within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test("a bounded Body runs in the agent's process; a Body with a loop in a worker process", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openScene(t, "body-inprocess");
  const agent = await scene.startAgent();
  const isWorker = (command: string) =>
    command.includes("worker_main.ts") || command.split(" ").includes(BODY_WORKER_ARG);

  const bounded = applicationPlan({ effects: scene.effects, tag: "bounded", sleepSeconds: 2 });
  await scene.engine.send(bounded);
  await untilStarted(scene.effects, "bounded");
  const whileBounded = childCommands(agent.pid);
  assert.ok(
    whileBounded.some((c) => c.includes("deploy.sh")),
    whileBounded.join("\n"),
  );
  assert.deepEqual(whileBounded.filter(isWorker), [], "a worker process for a bounded Body");
  const first = await scene.engine.waitForResult(bounded.ID, 20_000);
  assert.equal(first.ErrorCode, 0, JSON.stringify(first));
  assert.match(String(first.Body), /^ran \d+ bounded payload$/);

  const looping = applicationPlan({
    effects: scene.effects,
    tag: "looping",
    sleepSeconds: 2,
    body: "n = 0\nfor x in [1, 2]:\n  n = n + x\nreturn deploy(args.tag).stdout + ' ' + str(n)",
  });
  await scene.engine.send(looping);
  await untilStarted(scene.effects, "looping");
  assert.equal(
    childCommands(agent.pid).filter(isWorker).length,
    1,
    "no worker process for a Body with a loop",
  );
  const second = await scene.engine.waitForResult(looping.ID, 20_000);
  assert.equal(second.ErrorCode, 0, JSON.stringify(second));
  assert.match(String(second.Body), /^ran \d+ looping payload 3$/);
});

test("a Body computing forever holds up nothing: plans are acknowledged and answered meanwhile, then it is 101", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openScene(t, "body-bounds");
  const config = join(scene.root, "agent.json");
  writeFileSync(config, JSON.stringify({ concurrency: 2 }));
  const agent = await scene.startAgent({ extraArgs: ["--config", config] });

  const forever = applicationPlan({ effects: scene.effects, tag: "forever", body: FOREVER, timeout: 6 });
  const sent = Date.now();
  await scene.engine.send(forever);
  await agent.waitForLog(new RegExp(`\\bevent=start plan=${forever.ID}\\b`)); // the Body is computing now

  // Another key: PUBACKed at once (intake commits it while the Body computes), and run beside it.
  const beside = applicationPlan({ effects: scene.effects, tag: "beside", body: "return sum(range(1000))" });
  const before = Date.now();
  await scene.engine.send(beside);
  // Well within the first Body's 6 s: acknowledged while it computes, not after it (a loaded machine and the test
  // broker's fsync on every change may take their time).
  assert.ok(Date.now() - before < 3000, `PUBACK after ${Date.now() - before} ms`);
  const answer = await scene.engine.waitForResult(beside.ID, 10_000);
  assert.equal(answer.ErrorCode, 0, JSON.stringify(answer));
  assert.equal(answer.Body, 499500);
  assert.equal(scene.engine.resultsFor(forever.ID).length, 0, "answered while the first Body still computes");

  // A third one while both slots were busy: queued, answered after the Timeout frees a slot.
  const queued = applicationPlan({ effects: scene.effects, tag: "queued" });
  await scene.engine.send(queued);

  const timedOut = await scene.engine.waitForResult(forever.ID, 20_000);
  const elapsed = Date.now() - sent;
  assert.equal(timedOut.ErrorCode, 101, JSON.stringify(timedOut));
  assert.ok(elapsed >= 6000 && elapsed < 6000 + 5000, `answered 101 after ${elapsed} ms`);
  assert.equal((await scene.engine.waitForResult(queued.ID, 20_000)).ErrorCode, 0);
  assert.equal(agent.exited, undefined);
});

for (const runtime of ["sources", "executable"] as const) {
  test(`a Body beyond bodyMemoryMB is code 1 MemoryError and the same agent runs the next plan (${runtime})`, {
    timeout: 120_000,
  }, async (t) => {
    if (runtime === "executable") ensureBuilt({ executable: true });
    const scene = await openScene(t, `body-memory-${runtime}`);
    const config = join(scene.root, "agent.json");
    writeFileSync(config, JSON.stringify({ bodyMemoryMB: 64 }));
    const agent = await scene.startAgent({
      extraArgs: ["--config", config],
      ...(runtime === "executable" ? { command: [EXECUTABLE] } : {}),
    });

    const hungry = applicationPlan({
      effects: scene.effects,
      tag: "hungry",
      body: "y = [[0]*10**7 for i in range(1000)]",
    });
    await scene.engine.send(hungry);
    const failed = await scene.engine.waitForResult(hungry.ID, 60_000);
    assert.equal(failed.ErrorCode, 1, JSON.stringify(failed));
    assert.deepEqual(failed.Body, {
      Message: "MemoryError: the Body needed more memory than its limit of 64 MB (bodyMemoryMB)",
      AdditionalInfo: null,
    });

    const next = applicationPlan({ effects: scene.effects, tag: "next" });
    await scene.engine.send(next);
    const ran = await scene.engine.waitForResult(next.ID, 30_000);
    assert.equal(ran.ErrorCode, 0, JSON.stringify(ran));
    assert.match(String(ran.Body), /^ran \d+ next payload$/);
    assert.equal(agent.exited, undefined, "the agent survived");
  });
}

test("(executable) a Body worker computing forever ends by itself when its agent is killed -9 (its watchdog)", {
  timeout: 60_000,
}, async (t) => {
  ensureBuilt({ executable: true });
  const scene = await openScene(t, "body-watchdog");
  const agent = await scene.startAgent({ command: [EXECUTABLE] });
  const forever = applicationPlan({
    effects: scene.effects,
    tag: "forever",
    body: "n = 0\nfor i in range(10**15):\n  n += 1\nreturn n",
  });
  await scene.engine.send(forever);
  await agent.waitForLog(/\bevent=start\b/);
  // The worker is spawned for the Body right after the start is logged: observed, not waited for blindly.
  const deadline = Date.now() + 10_000;
  let worker = bodyWorkerOf(agent.pid)?.pid;
  while (worker === undefined && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    worker = bodyWorkerOf(agent.pid)?.pid;
  }
  assert.ok(worker !== undefined, "no Body worker came up for a Body with a loop");
  const pid = worker;
  t.after(() => {
    if (isAlive(pid)) process.kill(pid, "SIGKILL");
  });
  await agent.kill9();
  assert.ok(await waitForDeath(pid, 5_000), "the Body worker outlived its agent");
});
