/**
 * SPEC 6 and 10 — the agent's life cycle around signals and timeouts, against a real mosquitto:
 * - SIGTERM with nothing running: exit 0, and the retained status says offline (published by the agent itself,
 *   not its Last Will).
 * - SIGTERM while a plan runs: the plan finishes within the drain grace, its sender gets the result, exit 0; a
 *   plan that arrives during the drain is left with the broker and runs after the restart.
 * - Drain grace expiry: the running script's process group is killed, the agent exits 0 quickly, and the next
 *   start decides the interrupted plan again (skip-if-identical: runs once more; run-once-ever: 304).
 * - Plan Timeout: the whole process group (background children included, even one that ignores TERM) is
 *   killed, the result is 101, and the next plan is served normally.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parseLogfmt } from "../helpers/agent_process.ts";
import { isAlive, readExecutions, waitForEffects } from "../helpers/effects.ts";
import { connectEngine } from "../helpers/engine.ts";
import { applicationPlan, type MuranoPlan } from "../helpers/plans.ts";
import { openScene } from "../helpers/scene.ts";

/** Writes `settings` as a JSON config file in `dir` and returns the `--config` arguments for it. */
function configArgs(dir: string, name: string, settings: Record<string, unknown>): string[] {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(settings));
  return ["--config", file];
}

/** PIDs of the live (not zombie) processes whose process group is `pgid`. */
function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) === pgid && fields[0] !== "Z" && fields[0] !== "X") members.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return members;
}

/** The process group of `pid` (from /proc), or undefined when it is gone. */
function groupOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
  } catch {
    return undefined;
  }
}

/** Resolves once group `pgid` has at least `count` live processes; fails after `timeoutMs`. */
async function waitGroupSize(pgid: number, count: number, timeoutMs = 5_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const members = groupMembers(pgid);
    if (members.length >= count) return members;
    if (Date.now() > deadline)
      throw new Error(`Process group ${pgid} has ${members.length} live processes, not ${count}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test("SIGTERM with nothing running: exit code 0 and the agent itself publishes the retained offline status", {
  timeout: 60_000,
}, async (t) => {
  const scene = await openScene(t, "sigterm-idle");
  const agent = await scene.startAgent();
  const online = await scene.engine.waitForStatus("online");

  const exit = await agent.stop();
  assert.deepEqual(exit, { code: 0, signal: null }, agent.tail());
  assert.equal(agent.matching(/\bevent=stopped\b/).length, 1, agent.tail());

  // Retained: an engine that connects after the agent is gone reads it.
  const late = await connectEngine(scene.broker, { agentId: scene.agentId });
  t.after(() => late.close());
  const offline = await late.waitForStatus("offline");
  assert.equal(offline.AgentID, scene.agentId);
  assert.equal(offline.Protocol, 5);
  // A clean disconnect sends no Last Will; the Will's form was built before the session was up.
  assert.ok(
    Date.parse(String(offline.Since)) >= Date.parse(String(online.Since)),
    `the offline status is the one published at stop: ${JSON.stringify({ online, offline })}\n${agent.tail()}`,
  );
});

test("SIGTERM while a plan runs: the plan finishes within the drain grace, its sender gets the result, exit code 0", {
  timeout: 60_000,
}, async (t) => {
  const scene = await openScene(t, "sigterm-drain");
  const agent = await scene.startAgent();
  const plan = applicationPlan({ effects: scene.effects, tag: "drain", sleepSeconds: 2 });
  await scene.engine.send(plan);
  await waitForEffects(scene.effects, (e) => e.executions.length === 1);

  const exit = await agent.stop();
  assert.deepEqual(exit, { code: 0, signal: null }, agent.tail());
  const stopping = parseLogfmt(agent.matching(/\bevent=stopping\b/)[0] ?? "");
  assert.equal(stopping.running, "1", "SIGTERM came while the plan ran");

  const result = await scene.engine.waitForResult(plan.ID);
  assert.equal(result.ErrorCode, 0, JSON.stringify(result));
  assert.equal(result.Idem?.Decision, "run");
  const effects = readExecutions(scene.effects);
  assert.equal(effects.executions.length, 1, effects.lines.join("\n"));
  assert.equal(effects.executions[0]?.done, true, "the script ran to its end");
  assert.deepEqual(agent.matching(/\bevent=interrupted\b/), [], agent.tail());
  assert.equal((await scene.engine.waitForStatus("offline")).AgentID, scene.agentId);
});

test("a plan that arrives during the drain is left with the broker and runs after the restart", {
  timeout: 60_000,
}, async (t) => {
  const scene = await openScene(t, "drain-arrival");
  const agent = await scene.startAgent();
  const running = applicationPlan({ effects: scene.effects, tag: "first", sleepSeconds: 2 });
  await scene.engine.send(running);
  await waitForEffects(scene.effects, (e) => e.executions.length === 1);

  const since = agent.mark();
  const stopped = agent.stop();
  await agent.waitForLog(/\bevent=stopping\b/, { since });
  const late = applicationPlan({ effects: scene.effects, tag: "late" });
  await scene.engine.send(late);
  const exit = await stopped;
  assert.deepEqual(exit, { code: 0, signal: null }, agent.tail());
  assert.equal((await scene.engine.waitForResult(running.ID)).ErrorCode, 0);
  assert.deepEqual(
    readExecutions(scene.effects).executions.map((e) => e.args),
    ["first"],
    "the late plan was not taken",
  );

  await scene.startAgent();
  const result = await scene.engine.waitForResult(late.ID);
  assert.equal(result.ErrorCode, 0, JSON.stringify(result));
  assert.equal(result.Idem?.Decision, "run");
  const effects = readExecutions(scene.effects);
  assert.deepEqual(
    effects.executions.map((e) => e.args),
    ["first", "late"],
    effects.lines.join("\n"),
  );
  assert.equal(scene.engine.distinctResultsFor(running.ID).length, 1, "the first plan ran once, one result");
});

for (const { policy, rerun } of [
  { policy: "skip-if-identical", rerun: true },
  { policy: "run-once-ever", rerun: false },
] as const) {
  test(`drain grace expiry (${policy}): the script's group is killed, exit 0 within seconds, and the next start ${rerun ? "runs the plan again once" : "answers 304"}`, {
    timeout: 90_000,
  }, async (t) => {
    const scene = await openScene(t, `grace-${policy}`);
    const config = configArgs(scene.root, "agent", { drainGraceSeconds: 1 });
    const agent = await scene.startAgent({ extraArgs: config });
    const plan = applicationPlan({
      effects: scene.effects,
      tag: "long",
      sleepSeconds: 30,
      sleepFirstRunOnly: true,
      checkOverlap: true,
      idempotency: { Policy: policy },
    });
    await scene.engine.send(plan);
    const { executions } = await waitForEffects(scene.effects, (e) => e.executions.length === 1);
    const script = executions[0]?.pid ?? 0;
    const pgid = groupOf(script) ?? 0;
    assert.notEqual(pgid, groupOf(process.pid), "the script runs in a process group of its own");
    await waitGroupSize(pgid, 2); // the script and its `sleep 30`

    const sigterm = Date.now();
    const exit = await agent.stop();
    const elapsed = Date.now() - sigterm;
    assert.deepEqual(exit, { code: 0, signal: null }, agent.tail());
    assert.ok(elapsed < 8_000, `exit ${elapsed} ms after SIGTERM with drainGraceSeconds 1\n${agent.tail()}`);
    assert.equal(isAlive(script), false, "the script is dead");
    assert.deepEqual(groupMembers(pgid), [], "every process of the script's group is dead");
    assert.equal(agent.matching(/\bevent=interrupted\b/).length, 1, agent.tail());
    assert.equal(scene.engine.resultsFor(plan.ID).length, 0, "no result yet: the outcome is not known");
    assert.equal(readExecutions(scene.effects).executions[0]?.done, false);

    const second = await scene.startAgent({ extraArgs: config });
    const answer = await scene.engine.waitForResult(plan.ID);
    if (rerun) await second.waitForLog(/\bevent=finished\b/);
    const effects = readExecutions(scene.effects);
    if (rerun) {
      assert.equal(answer.ErrorCode, 0, JSON.stringify(answer));
      assert.equal(answer.Idem?.Decision, "run");
      assert.equal(answer.Idem?.Attempt, 2, "the second execution of the key");
      assert.equal(effects.executions.length, 2, `runs again exactly once:\n${effects.lines.join("\n")}`);
      assert.equal(effects.executions[1]?.done, true);
      assert.deepEqual(effects.overlaps, [], "the re-run never overlapped the killed first run");
    } else {
      assert.equal(answer.ErrorCode, 304, JSON.stringify(answer));
      assert.equal(effects.executions.length, 1, `not started again:\n${effects.lines.join("\n")}`);
    }
    assert.equal(scene.engine.distinctResultsFor(plan.ID).length, 1, "one final result for the sender");
  });
}

/**
 * A plan whose script records its PID and process group (`group PGID`), starts a background `sleep 30` and a
 * background `sleep 30` that ignores TERM (both PIDs recorded as `child PID` lines), then sleeps 30 s itself.
 */
function hungPlan(effects: string, timeout: number): MuranoPlan {
  const plan = applicationPlan({ effects, tag: "hung", timeout });
  const file = effects.replaceAll("'", "'\\''");
  const script = [
    "#!/bin/sh",
    `F='${file}'`,
    'echo "start $$ $*" >> "$F"',
    "sleep 30 &",
    'echo "child $!" >> "$F"',
    "(trap '' TERM; exec sleep 30) &",
    'echo "child $!" >> "$F"',
    'echo "group $(cut -d\' \' -f5 /proc/$$/stat)" >> "$F"',
    'echo "spawned $$" >> "$F"',
    "sleep 30",
    'echo "done $$ $*" >> "$F"',
    "",
  ].join("\n");
  for (const entry of Object.values(
    plan.Files as Record<string, { Name: string; BodyType: string; Body: string }>,
  )) {
    if (entry.Name !== "deploy.sh") continue;
    entry.Body = entry.BodyType === "Text" ? script : Buffer.from(script, "utf8").toString("base64");
  }
  return plan;
}

test("a plan past its Timeout gets 101, its whole process group is killed, and the next plan is served normally", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openScene(t, "timeout");
  // TERM, then KILL after 1 s for the child that ignores TERM (default 10 s).
  const agent = await scene.startAgent({
    extraArgs: configArgs(scene.root, "agent", { killGraceSeconds: 1 }),
  });
  // 3 s: time for the script to start its children and say so, on a loaded machine too.
  const hung = hungPlan(scene.effects, 3);
  const next = applicationPlan({ effects: scene.effects, tag: "next" });
  const sent = Date.now();
  await scene.engine.send(hung);
  await scene.engine.send(next); // queued behind the hung plan

  const timedOut = await scene.engine.waitForResult(hung.ID);
  assert.equal(timedOut.ErrorCode, 101, JSON.stringify(timedOut));
  const lines = readExecutions(scene.effects).lines;
  assert.ok(
    lines.some((line) => line.startsWith("spawned ")),
    `the script got to start its children:\n${lines.join("\n")}`,
  );
  const script = readExecutions(scene.effects).executions[0]?.pid ?? 0;
  const group = lines.find((line) => line.startsWith("group "));
  const pgid = Number(group?.split(" ")[1]);
  assert.ok(pgid > 1 && pgid !== groupOf(process.pid), `the script's own process group: ${group}`);
  const children = lines
    .filter((line) => line.startsWith("child "))
    .map((line) => Number(line.split(" ")[1]));
  assert.equal(children.length, 2, lines.join("\n"));
  for (const pid of [script, ...children])
    assert.equal(isAlive(pid), false, `PID ${pid} of the timed-out plan is dead`);
  assert.deepEqual(groupMembers(pgid), [], `no process of the script's group ${pgid} is left`);

  const served = await scene.engine.waitForResult(next.ID);
  const elapsed = Date.now() - sent;
  assert.equal(served.ErrorCode, 0, JSON.stringify(served));
  assert.equal(served.Idem?.Decision, "run");
  assert.ok(elapsed < 20_000, `the next plan did not wait for the hung script's 30 s (${elapsed} ms)`);
  const effects = readExecutions(scene.effects);
  assert.deepEqual(
    effects.executions.map((e) => [e.args, e.done]),
    [
      ["hung", false],
      ["next", true],
    ],
    effects.lines.join("\n"),
  );
  assert.equal(agent.exited, undefined, "the agent runs on");
});
