/**
 * `idem cancel` (SPEC 10, issue 12 item 4) against a real agent process and a real mosquitto: the command runs
 * in-process (`cancelCommand.run`), the agent answers on `P/A/control/replies`. A queued plan is answered 102 and
 * never starts; a running plan's whole process group (a script that ignores TERM and its background child) is
 * killed and answered 102, with the plan that joined it; the records end `failed`; a cancel survives a `kill -9`
 * of the agent between the kill and the finish commit; a signed agent refuses an unsigned cancel.
 */
import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { cancelCommand } from "../../agent/commands/cancel.ts";
import { Journal } from "../../agent/journal/journal.ts";
import { isAlive, readExecutions, waitForEffects } from "../helpers/effects.ts";
import { runCommand } from "../helpers/in_process.ts";
import { applicationPlan, randomId } from "../helpers/plans.ts";
import { openScene, type Scene } from "../helpers/scene.ts";
import { ed25519Key, signedProperties, signFor, trustConfig } from "../helpers/signing.ts";

interface Cancelled {
  code: number;
  out: string;
  err: string;
  answer: { State?: string; Cancelled?: string[]; Key?: string | null; Message?: string };
}

/** `idem cancel` in-process: exit code, what it printed, the agent's answer. */
async function runCancel(
  scene: Scene,
  target: string,
  flags: Record<string, string> = {},
): Promise<Cancelled> {
  const { code, stdout, stderr } = await runCommand(cancelCommand, {
    values: { broker: scene.broker.url, "agent-id": scene.agentId, wait: "15", ...flags },
    positionals: [target],
  });
  return { code, out: stdout, err: stderr, answer: stdout.trim() === "" ? {} : JSON.parse(stdout) };
}

/**
 * A plan whose script ignores TERM (so the group needs the KILL), starts a background child, records both
 * PIDs (`start`, `child` lines) and waits for ever.
 */
function stubbornPlan(effects: string, tag: string) {
  const plan = applicationPlan({ effects, tag, body: "return deploy(args.tag).stdout" });
  const script = [
    "#!/bin/sh",
    `F='${effects}'`,
    "trap '' TERM",
    'echo "start $$ $*" >> "$F"',
    "sleep 300 &",
    'echo "child $! $*" >> "$F"',
    "wait",
    'echo "done $$ $*" >> "$F"',
    "",
  ].join("\n");
  const scripts = plan.Scripts as { deploy: { EntryPoint: string } };
  const files = plan.Files as Record<string, { Body: string; BodyType: string }>;
  files[scripts.deploy.EntryPoint] = {
    ...files[scripts.deploy.EntryPoint],
    Body: script,
    BodyType: "Text",
  } as {
    Body: string;
    BodyType: string;
  };
  return plan;
}

/** The PIDs a stubborn plan's script and its child recorded, once both lines are there. */
async function pidsOf(effects: string, tag: string): Promise<{ script: number; child: number }> {
  const found = await waitForEffects(effects, (e) =>
    e.lines.some((l) => l.startsWith("child ") && l.endsWith(` ${tag}`)),
  );
  const script = found.executions.find((e) => e.args === tag)?.pid;
  const child = Number(
    found.lines.find((l) => l.startsWith("child ") && l.endsWith(` ${tag}`))?.split(" ")[1],
  );
  assert.ok(script && child, `pids of ${tag}:\n${found.lines.join("\n")}`);
  return { script, child };
}

function configFile(scene: Scene, settings: Record<string, unknown>): string {
  const file = join(scene.root, `config-${randomId().slice(0, 6)}.json`);
  writeFileSync(file, JSON.stringify(settings));
  return file;
}

test("cancel: a queued plan is answered 102 and never starts; a running one's process group dies, 102 with its joiner", {
  timeout: 120_000,
}, async (t) => {
  const scene = await openScene(t, "cancel");
  const agent = await scene.startAgent({
    extraArgs: ["--config", configFile(scene, { killGraceSeconds: 1 })],
  });
  const running = stubbornPlan(scene.effects, "stubborn");
  await scene.engine.send(running);
  const pids = await pidsOf(scene.effects, "stubborn");

  const marker = join(scene.root, "queued-ran");
  const queued = applicationPlan({
    effects: scene.effects,
    tag: "queued",
    body: `return deploy("${marker}").stdout`,
  });
  (queued.Files as Record<string, { Body: string }>)[
    (queued.Scripts as { deploy: { EntryPoint: string } }).deploy.EntryPoint
  ] = { Name: "deploy.sh", BodyType: "Text", Body: `#!/bin/sh\ntouch "$1"\n` } as never;
  let since = agent.mark();
  await scene.engine.send(queued);
  await agent.waitForLog(new RegExp(`event=run\\b.*plan=${queued.ID}`), { since });
  // Same content as the running plan, another ID: it joins the running execution (skip-if-identical).
  const joiner = { ...running, ID: randomId() };
  since = agent.mark();
  await scene.engine.send(joiner);
  await agent.waitForLog(/\bevent=join\b/, { since });

  const first = await runCancel(scene, queued.ID);
  assert.equal(first.code, 0, first.err);
  assert.equal(first.answer.State, "queued");
  assert.deepEqual(first.answer.Cancelled, [queued.ID]);
  const queuedResult = await scene.engine.waitForResult(queued.ID);
  assert.equal(queuedResult.ErrorCode, 102, JSON.stringify(queuedResult));
  assert.match(JSON.stringify(queuedResult.Body), /cancelled/);

  const second = await runCancel(scene, running.ID);
  assert.equal(second.code, 0, second.err);
  assert.equal(second.answer.State, "running");
  const ran = await scene.engine.waitForResult(running.ID);
  const joined = await scene.engine.waitForResult(joiner.ID);
  assert.equal(ran.ErrorCode, 102, JSON.stringify(ran));
  assert.equal(joined.ErrorCode, 102, JSON.stringify(joined));
  assert.equal(joined.Idem?.Decision, "join");
  // The answer comes once the group is gone: the script (TERM ignored: KILLed) and its background child.
  assert.equal(isAlive(pids.script), false, `script ${pids.script} still alive`);
  assert.equal(isAlive(pids.child), false, `background child ${pids.child} still alive`);

  // Plans run in arrival order: once a later plan has run, the cancelled one would have started before it.
  const later = applicationPlan({ effects: scene.effects, tag: "later" });
  await scene.engine.send(later);
  assert.equal((await scene.engine.waitForResult(later.ID)).ErrorCode, 0);
  assert.equal(existsSync(marker), false, "the cancelled queued plan never started");
  assert.equal(readExecutions(scene.effects).executions.filter((e) => e.args === "stubborn").length, 1);

  const unknown = await runCancel(scene, "no-such-plan-or-key");
  assert.equal(unknown.code, 1, unknown.out);
  assert.equal(unknown.answer.State, "not-found");
  const again = await runCancel(scene, running.ID);
  assert.equal(again.code, 1, "a finished plan has nothing left to cancel");

  assert.equal((await agent.stop()).code, 0);
  const journal = Journal.open(scene.dataDir, { create: false });
  try {
    const record = journal.record(ran.Idem?.Key as string);
    assert.equal(record?.state, "failed");
    assert.equal(record?.result?.errorCode, 102);
    assert.equal(journal.record(queuedResult.Idem?.Key as string)?.state, "failed");
    assert.equal(journal.queueLength(), 0);
  } finally {
    await journal.close();
  }
});

test("cancel: an agent killed after the cancel's kill and before the finish commit answers 102 at its next start, never runs it again", {
  timeout: 120_000,
}, async (t) => {
  const scene = await openScene(t, "cancel-crash");
  const config = configFile(scene, { killGraceSeconds: 1 });
  const agent = await scene.startAgent({ extraArgs: ["--config", config], failpoint: "before-finish" });
  const plan = stubbornPlan(scene.effects, "crash");
  await scene.engine.send(plan);
  const pids = await pidsOf(scene.effects, "crash");
  const cancelled = await runCancel(scene, plan.ID);
  assert.equal(cancelled.answer.State, "running", cancelled.out);
  const exit = await agent.exit;
  assert.equal(exit.signal, "SIGKILL", "the failpoint killed the agent before the finish commit");
  assert.equal(scene.engine.resultsFor(plan.ID).length, 0);

  const restarted = await scene.startAgent({ extraArgs: ["--config", config] });
  const result = await scene.engine.waitForResult(plan.ID);
  assert.equal(result.ErrorCode, 102, JSON.stringify(result));
  assert.equal(isAlive(pids.script), false);
  assert.equal(isAlive(pids.child), false);
  assert.equal(readExecutions(scene.effects).executions.length, 1, "never run again");
  assert.equal(restarted.matching(/\bevent=interrupted\b/).length, 0, "not counted as interrupted");
});

test("cancel: an agent with trustedKeys refuses an unsigned cancel and takes a signed one", {
  timeout: 120_000,
}, async (t) => {
  const scene = await openScene(t, "cancel-signed");
  const key = ed25519Key("ops");
  const config = trustConfig(scene.root, [key], { killGraceSeconds: 1 });
  await scene.startAgent({ extraArgs: ["--config", config] });
  const plan = stubbornPlan(scene.effects, "signed");
  const text = JSON.stringify(plan);
  await scene.engine.send(text, signedProperties(signFor(key, scene.engine.topic("plans"), text), key.keyId));
  const pids = await pidsOf(scene.effects, "signed");

  const unsigned = await runCancel(scene, plan.ID);
  assert.equal(unsigned.code, 2, unsigned.out);
  assert.equal(unsigned.answer.State, "refused");
  assert.match(unsigned.answer.Message ?? "", /not authenticated/);
  assert.equal(isAlive(pids.script), true, "nothing cancelled");

  const keyFile = join(scene.root, "ops.key");
  writeFileSync(keyFile, key.privateKey.export({ type: "pkcs8", format: "pem" }) as string, { mode: 0o600 });
  const signed = await runCancel(scene, plan.ID, { sign: keyFile, "key-id": "ops" });
  assert.equal(signed.code, 0, signed.err);
  assert.equal((await scene.engine.waitForResult(plan.ID)).ErrorCode, 102);
  assert.equal(isAlive(pids.script), false);
});
