/**
 * Issue 9 item 3, SPEC 6 / 9a: scripts get a clean environment — PATH, HOME, LANG, the agent's IDEM_* marks and
 * the config's `environment`, nothing else of the agent's (its cloud credentials and broker password stay with
 * it) — and, with `runAs`, run as that user in a work dir that user owns (mode 0700). An agent that is not root
 * refuses a `runAs` other than itself at start.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { executableForAnyUser, startAgent } from "../helpers/agent_process.ts";
import { isAlive, waitForDeath, waitForEffects } from "../helpers/effects.ts";
import { applicationPlan } from "../helpers/plans.ts";
import { openScene } from "../helpers/scene.ts";

const isRoot = process.getuid?.() === 0;

/**
 * Removes a test user. Registered after the scene (whose cleanup kills the agents and their scripts first); a
 * userdel that fails (a process of the user still alive) must not hide the test's own result.
 */
function removeUser(user: string): void {
  try {
    execFileSync("userdel", [user], { stdio: "ignore" });
  } catch {
    // left for the machine's next cleanup; the test's assertions said what went wrong
  }
}

/** A Murano plan whose one script is `source`; the Body returns its stdout. */
function shellPlan(source: string): Record<string, unknown> & { ID: string } {
  return {
    FormatVersion: "2.1.0",
    ID: randomUUID().replaceAll("-", ""),
    Body: "return show().stdout",
    Scripts: { show: { Type: "Application", EntryPoint: "f1", Files: [], Options: {} } },
    Files: { f1: { Name: "show.sh", BodyType: "Text", Body: `#!/bin/sh\n${source}\n` } },
  };
}

/** `NAME=value` lines of `env` → a map (values without newlines here). */
function parseEnv(text: string): Map<string, string> {
  const env = new Map<string, string>();
  for (const line of text.split("\n")) {
    const at = line.indexOf("=");
    if (at > 0) env.set(line.slice(0, at), line.slice(at + 1));
  }
  return env;
}

/** What /bin/sh itself adds to a script's environment. */
const SHELL_MADE = ["PWD", "SHLVL", "_", "OLDPWD"];
const AGENT_SECRETS = {
  AWS_SECRET_ACCESS_KEY: "aws-secret-for-the-test",
  IDEM_BROKER_USERNAME: "idem-agent",
  IDEM_BROKER_PASSWORD: "broker-password-for-the-test",
  IDEM_TEST_AGENT_ONLY: "agent-only",
};

test("a script sees PATH, HOME, LANG, the IDEM_* marks and the config's environment, none of the agent's own variables", {
  timeout: 60_000,
}, async (t) => {
  const scene = await openScene(t, "script-env");
  const config = join(scene.root, "agent.json");
  const environment = { HTTP_PROXY: "http://proxy.example:3128", IDEM_TEST_FROM_CONFIG: "yes" };
  writeFileSync(config, JSON.stringify({ environment }));
  await scene.startAgent({ extraArgs: ["--config", config], env: AGENT_SECRETS });

  const plan = shellPlan("env");
  await scene.engine.send(plan);
  const result = await scene.engine.waitForResult(plan.ID);
  assert.equal(result.ErrorCode, 0, JSON.stringify(result));
  const env = parseEnv(String(result.Body));
  const allowed = new Set([
    "PATH",
    "HOME",
    "LANG",
    "IDEM_JOURNAL",
    "IDEM_EXECUTION",
    ...Object.keys(environment),
  ]);
  const extra = [...env.keys()].filter((name) => !allowed.has(name) && !SHELL_MADE.includes(name));
  assert.deepEqual(extra, [], `only SPEC 6's variables:\n${result.Body}`);
  for (const [name, value] of Object.entries(AGENT_SECRETS)) {
    assert.equal(env.has(name), false, `${name} is the agent's, not the script's`);
    assert.ok(!String(result.Body).includes(value), `the value of ${name} is nowhere`);
  }
  for (const [name, value] of Object.entries(environment)) assert.equal(env.get(name), value, name);
  assert.equal(env.get("IDEM_JOURNAL"), join(scene.dataDir, "journal"), "the reaper's mark");
  assert.match(env.get("IDEM_EXECUTION") ?? "", /^\d+$/);
  for (const name of ["PATH", "HOME", "LANG"]) assert.ok(env.get(name), `${name} is set`);
});

test("with runAs, a script runs as that user, in a folder it owns (0700) of a work dir it cannot change, with that user's HOME", {
  timeout: 60_000,
  skip: isRoot ? false : "needs root to create a user and to switch to it",
}, async (t) => {
  const scene = await openScene(t, "script-run-as");
  const user = `idemt${randomUUID().slice(0, 8)}`;
  execFileSync("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", user]);
  t.after(() => removeUser(user));
  const [, , uid, gid, , home] = execFileSync("getent", ["passwd", user], { encoding: "utf8" })
    .trim()
    .split(":");
  const config = join(scene.root, "agent.json");
  writeFileSync(config, JSON.stringify({ runAs: { user } }));
  const agent = await scene.startAgent({ extraArgs: ["--config", config] });
  assert.equal(agent.matching(/\bevent=run-as\b/).length, 1, agent.tail());

  const plan = shellPlan(
    [
      'echo "uid=$(id -u) gid=$(id -g) home=$HOME"',
      'echo "folder=$(stat -c "%u %a" .)"',
      'echo "workdir=$(stat -c "%u %a" ..)"',
      'if touch out && touch ../out 2>/dev/null; then echo "work dir writable"; else echo "work dir closed"; fi',
      // A shell resolves its folder's absolute path (dash's cd, $(pwd)): the path to it must be passable.
      'mkdir made && cd made && cd .. && ls "$(pwd)/out" >/dev/null && echo "cd and absolute paths work"',
      'if ls ../.. >/dev/null 2>&1; then echo "work root listable"; else echo "work root closed"; fi',
    ].join("\n"),
  );
  await scene.engine.send(plan);
  const result = await scene.engine.waitForResult(plan.ID);
  assert.equal(result.ErrorCode, 0, JSON.stringify(result));
  assert.deepEqual(String(result.Body).split("\n"), [
    `uid=${uid} gid=${gid} home=${home}`,
    `folder=${uid} 700`,
    "workdir=0 711",
    "work dir closed",
    "cd and absolute paths work",
    "work root closed",
  ]);
  // Emptied with the user's rights (workdir.ts removeAsOwner), then removed, once the result is out and at the
  // latest on the way out: nothing left in the work root.
  assert.equal((await agent.stop()).code, 0, agent.tail());
  assert.deepEqual(readdirSync(join(scene.dataDir, "work")), []);
  // Passable, not listable, for the scripts' user; the journal stays the agent's alone.
  const modes = ["", "work", "journal"].map((path) =>
    (statSync(join(scene.dataDir, path)).mode & 0o777).toString(8),
  );
  assert.deepEqual(modes, ["711", "711", "700"]);
});

test("a runAs script orphaned by kill -9 of the agent is still found by its IDEM_JOURNAL mark and killed at start", {
  timeout: 60_000,
  skip: isRoot ? false : "needs root to create a user and to switch to it",
}, async (t) => {
  const scene = await openScene(t, "script-run-as-orphan");
  const user = `idemt${randomUUID().slice(0, 8)}`;
  execFileSync("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", user]);
  t.after(() => removeUser(user));
  const config = join(scene.root, "agent.json");
  writeFileSync(config, JSON.stringify({ runAs: { user } }));
  const first = await scene.startAgent({ extraArgs: ["--config", config] });
  await scene.engine.send(applicationPlan({ effects: scene.effects, tag: "orphan", sleepSeconds: 60 }));
  const { executions } = await waitForEffects(scene.effects, (e) => e.executions.length === 1);
  const orphan = executions[0]?.pid ?? 0;
  const uid = execFileSync("id", ["-u", user], { encoding: "utf8" }).trim();
  // The real uid from /proc/PID/status: the owner of /proc/PID itself is root while a process is not dumpable.
  const realUid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${orphan}/status`, "utf8"))?.[1];
  assert.equal(realUid, uid, "the script runs as the runAs user");

  await first.kill9();
  assert.ok(isAlive(orphan), "the script outlived the agent");
  await scene.startAgent({ extraArgs: ["--config", config] });
  assert.ok(await waitForDeath(orphan), "start-up recovery killed it");
});

test("an agent that is not root refuses a runAs other than itself at start, saying why", {
  timeout: 60_000,
  skip: isRoot ? false : "needs root to start the agent as another user (runuser)",
}, async (t) => {
  const scene = await openScene(t, "script-run-as-refused");
  const config = join(scene.root, "agent.json");
  writeFileSync(config, JSON.stringify({ runAs: { user: "root" } }));
  const agent = await startAgent({
    broker: scene.broker,
    agentId: scene.agentId,
    dataDir: scene.dataDir,
    extraArgs: ["--config", config],
    command: ["runuser", "-u", "nobody", "--", ...executableForAnyUser()],
    waitOnline: false,
  });
  scene.agents.push(agent);
  const exit = await agent.waitForExit();
  assert.equal(exit.code, 2, agent.tail());
  const log = agent.lines.join("\n");
  assert.match(
    log,
    /Cannot run scripts as user "root" \(uid 0, gid 0\) as the agent itself runs as uid 65534/,
  );
  assert.match(log, /start the agent as root, or leave runAs out/);
});
