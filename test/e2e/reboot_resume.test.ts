/**
 * Reboot-and-resume (issue 12 item 5): a script exiting 194 asks "reboot now, run me again after", 195 "reboot
 * now, I am done" (`agent/murano/reboot.ts`). A real agent process, a real mosquitto, a fake `rebootCommand` (a
 * script that appends to a marker file) and a real restart of the agent: SIGTERM, then a new start with
 * another boot id through the test-only seam `IDEM_TEST_BOOT_ID`.
 */
import assert from "node:assert/strict";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { readExecutions } from "../helpers/effects.ts";
import { applicationPlan, type MuranoPlan } from "../helpers/plans.ts";
import { openScene, type Scene } from "../helpers/scene.ts";

/** A config whose rebootCommand appends a line to `marker` (or is `command` as given). */
function rebootConfig(scene: Scene, command?: string[]): { config: string; marker: string } {
  const marker = join(scene.root, "reboots.log");
  const fake = join(scene.root, "fake-reboot.sh");
  writeFileSync(fake, '#!/bin/sh\necho "reboot $*" >> "$1"\n');
  chmodSync(fake, 0o755);
  const config = join(scene.root, "config.json");
  writeFileSync(config, JSON.stringify({ rebootCommand: command ?? [fake, marker] }));
  return { config, marker };
}

function reboots(marker: string): number {
  return existsSync(marker) ? readFileSync(marker, "utf8").split("\n").filter(Boolean).length : 0;
}

/** A plan whose script records each run (`start` lines) and exits `first` on its first run, 0 after. */
function plan(scene: Scene, first: number): MuranoPlan {
  const built = applicationPlan({
    effects: scene.effects,
    tag: `exit-${first}`,
    body: "return deploy(args.tag).stdout",
  });
  const script = [
    "#!/bin/sh",
    `F='${scene.effects}'`,
    'echo "start $$ $*" >> "$F"',
    `if [ "$(grep -c '^start ' "$F")" -le 1 ]; then echo "before the reboot"; exit ${first}; fi`,
    'echo "after the reboot"',
    "",
  ].join("\n");
  const scripts = built.Scripts as { deploy: { EntryPoint: string } };
  (built.Files as Record<string, unknown>)[scripts.deploy.EntryPoint] = {
    Name: "deploy.sh",
    BodyType: "Text",
    Body: script,
  };
  return built;
}

const boot = (id: string) => ({ env: { IDEM_TEST_BOOT_ID: id } });

test("exit 194: the agent reboots, and after the restart in a new boot runs the plan again and answers once", {
  timeout: 120_000,
}, async (t) => {
  const scene = await openScene(t, "reboot-rerun");
  const { config, marker } = rebootConfig(scene);
  const extraArgs = ["--config", config];
  const before = await scene.startAgent({ extraArgs, ...boot("boot-a") });
  const sent = plan(scene, 194);
  await scene.engine.send(sent);
  await before.waitForLog(/\bevent=reboot-waiting\b/);
  assert.equal(reboots(marker), 1, "rebootCommand ran once");
  assert.equal(scene.engine.resultsFor(sent.ID).length, 0, "no answer before the reboot");
  assert.equal((await before.stop()).code, 0, "the shutdown's SIGTERM stops the agent cleanly");

  const after = await scene.startAgent({ extraArgs, ...boot("boot-b") });
  const result = await scene.engine.waitForResult(sent.ID);
  assert.equal(result.ErrorCode, 0, JSON.stringify(result));
  assert.equal(result.Body, "after the reboot");
  assert.equal(result.Idem?.Attempt, 2);
  await after.waitForLog(/\bevent=finished\b/);
  assert.equal(readExecutions(scene.effects).executions.length, 2, "run exactly twice");
  assert.equal(reboots(marker), 1);
  assert.equal(after.matching(/\bevent=interrupted\b/).length, 0, "never counted as interrupted");
  assert.equal(scene.engine.distinctResultsFor(sent.ID).length, 1, "answered once");
});

test("exit 195: the plan is answered 0 after the reboot with its output, run once; a restart in the same boot reboots again", {
  timeout: 120_000,
}, async (t) => {
  const scene = await openScene(t, "reboot-done");
  const { config, marker } = rebootConfig(scene);
  const extraArgs = ["--config", config];
  const first = await scene.startAgent({ extraArgs, ...boot("boot-a") });
  const sent = plan(scene, 195);
  await scene.engine.send(sent);
  await first.waitForLog(/\bevent=reboot-waiting\b/);
  await first.kill9();

  // Same boot id: the reboot did not happen (the agent merely restarted): the command runs again.
  const same = await scene.startAgent({ extraArgs, ...boot("boot-a") });
  await same.waitForLog(/\bevent=reboot-waiting\b/);
  assert.equal(reboots(marker), 2);
  assert.equal(scene.engine.resultsFor(sent.ID).length, 0);
  await same.stop();

  await scene.startAgent({ extraArgs, ...boot("boot-b") });
  const result = await scene.engine.waitForResult(sent.ID);
  assert.equal(result.ErrorCode, 0, JSON.stringify(result));
  assert.deepEqual(result.Body, { exitCode: 195, stdout: "before the reboot", stderr: null });
  assert.equal(readExecutions(scene.effects).executions.length, 1, "run once");
  assert.equal(scene.engine.distinctResultsFor(sent.ID).length, 1);
});

test("a reboot command that fails is answered 100 at once, naming the command and its status", {
  timeout: 60_000,
}, async (t) => {
  const scene = await openScene(t, "reboot-fails");
  const { config } = rebootConfig(scene, ["/bin/sh", "-c", "echo no permission >&2; exit 4"]);
  await scene.startAgent({ extraArgs: ["--config", config] });
  const sent = plan(scene, 194);
  await scene.engine.send(sent);
  const result = await scene.engine.waitForResult(sent.ID);
  assert.equal(result.ErrorCode, 100, JSON.stringify(result));
  const body = result.Body as { Message: string; AdditionalInfo: { exitCode: number } };
  assert.match(body.Message, /rebootCommand .* exited with status 4: no permission/);
  assert.equal(body.AdditionalInfo.exitCode, 194);
});

test("a plan that asks for a reboot at every run is answered 100 after 3 reboots, not looped", {
  timeout: 180_000,
}, async (t) => {
  const scene = await openScene(t, "reboot-loop");
  const { config, marker } = rebootConfig(scene);
  const extraArgs = ["--config", config];
  const sent = plan(scene, 194);
  // Every run asks again: the script exits 194 whatever the count.
  const scripts = sent.Scripts as { deploy: { EntryPoint: string } };
  (sent.Files as Record<string, { Body: string }>)[scripts.deploy.EntryPoint] = {
    Name: "deploy.sh",
    BodyType: "Text",
    Body: `#!/bin/sh\necho "start $$ $*" >> '${scene.effects}'\nexit 194\n`,
  } as never;
  for (let n = 1; n <= 3; n++) {
    const agent = await scene.startAgent({ extraArgs, ...boot(`boot-${n}`) });
    if (n === 1) await scene.engine.send(sent);
    await agent.waitForLog(/\bevent=reboot-waiting\b/);
    await agent.stop();
  }
  await scene.startAgent({ extraArgs, ...boot("boot-4") });
  const result = await scene.engine.waitForResult(sent.ID);
  assert.equal(result.ErrorCode, 100, JSON.stringify(result));
  assert.match((result.Body as { Message: string }).Message, /asked for a reboot 4 times/);
  assert.equal(reboots(marker), 3);
  assert.equal(readExecutions(scene.effects).executions.length, 4);
});
