/**
 * dist/idem is self-contained: copied alone into an empty folder and run where no `node` can be executed and
 * the repository's node_modules and dist/ are empty (a private mount namespace with tmpfs over them), it starts,
 * runs a plan, replays a duplicate and loads a policy plugin from disk. A cache folder it cannot write to, or
 * cannot execute from, stops it at start with a message that names the folder and IDEM_CACHE_DIR.
 *
 * Needs root (unshare -m, mount); skipped otherwise.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { makeTempDir, removeDir, startAgent, uniqueAgentId } from "../helpers/agent_process.ts";
import { type MosquittoBroker, startBroker } from "../helpers/broker.ts";
import { readExecutions } from "../helpers/effects.ts";
import { connectEngine, type Engine } from "../helpers/engine.ts";
import { applicationPlan } from "../helpers/plans.ts";
import { EXECUTABLE, ensureBuilt, REPO_ROOT } from "./runtimes.ts";

const skip = isolationUnavailable();

let broker: MosquittoBroker;
let folder: string;
let exe: string;
const engines: Engine[] = [];

before(async () => {
  if (skip) return;
  ensureBuilt({ executable: true });
  broker = await startBroker();
  folder = await makeTempDir("exe");
  exe = join(folder, "idem");
  copyFileSync(EXECUTABLE, exe);
});

after(async () => {
  for (const engine of engines) await engine.close().catch(() => {});
  await broker?.dispose();
  if (folder) await removeDir(folder);
});

/**
 * A shell script for `unshare -m sh -c SCRIPT sh ARGS…`: hides the repository's node_modules and dist/ under
 * empty tmpfs mounts, makes every `node` on PATH unexecutable, mounts `$IDEM_TEST_MOUNT_OPTS` tmpfs on
 * `$IDEM_TEST_MOUNT` if set, checks all that, then execs the arguments from the copy's folder.
 */
function isolated(): string[] {
  const script = `
    set -e
    mount -t tmpfs tmpfs "${REPO_ROOT}node_modules"
    mount -t tmpfs tmpfs "${REPO_ROOT}dist"
    for n in $(which -a node nodejs 2>/dev/null | sort -u); do mount --bind /dev/null "$n"; done
    if [ -n "$IDEM_TEST_MOUNT" ]; then mount -t tmpfs -o "$IDEM_TEST_MOUNT_OPTS" tmpfs "$IDEM_TEST_MOUNT"; fi
    if node --version >/dev/null 2>&1; then echo "isolation failed: node still runs" >&2; exit 97; fi
    if [ -n "$(ls -A "${REPO_ROOT}node_modules")" ]; then echo "isolation failed: node_modules visible" >&2; exit 98; fi
    unset IDEM_LMDB_ADDON
    cd "${folder}"
    exec "$@"`;
  return ["unshare", "-m", "sh", "-c", script, "sh", exe];
}

test("the executable copied alone runs a plan and replays duplicates, also after a restart, without node or node_modules", {
  skip,
}, async () => {
  const agentId = uniqueAgentId("exe");
  const dataDir = join(folder, "data-plan");
  const effects = join(folder, "effects-plan.log");
  const start = () => startAgent({ broker, agentId, dataDir, command: isolated() });
  const engine = await connectEngine(broker, { agentId });
  engines.push(engine);
  let agent = await start();
  try {
    const first = applicationPlan({ effects, tag: "alone" });
    await engine.send(first);
    const ran = await engine.waitForResult(first.ID);
    assert.equal(ran.ErrorCode, 0, JSON.stringify(ran));
    assert.equal(ran.Idem?.Decision, "run");

    const resent = applicationPlan({ effects, tag: "alone" });
    await engine.send(resent);
    const replayed = await engine.waitForResult(resent.ID);
    assert.equal(replayed.Idem?.Decision, "replay", JSON.stringify(replayed));
    assert.equal(replayed.ErrorCode, 0);

    const cached = readdirSync(join(dataDir, "cache"));
    assert.ok(
      cached.some((name) => /^[0-9a-f]{64}\.node$/.test(name)),
      `addon in <data dir>/cache: ${cached}`,
    );

    // A start on a journal that holds records reads their string keys back (start-up recovery, retention):
    // the bundled key codec must decode them (see build.mjs, ordered-binary).
    assert.equal((await agent.stop()).code, 0, agent.lines.slice(-20).join("\n"));
    agent = await start();
    const again = applicationPlan({ effects, tag: "alone" });
    await engine.send(again);
    const replayedAgain = await engine.waitForResult(again.ID);
    assert.equal(replayedAgain.Idem?.Decision, "replay", JSON.stringify(replayedAgain));
    assert.equal(readExecutions(effects).executions.length, 1);
  } finally {
    assert.equal((await agent.stop()).code, 0, agent.lines.slice(-20).join("\n"));
  }
});

test("the executable loads an ESM policy plugin from disk that imports idem and a file of its own", {
  skip,
}, async () => {
  const plugins = join(folder, "plugins");
  // Every file at the top of a plugin folder is a plugin: helpers go in a subfolder.
  mkdirSync(join(plugins, "lib"), { recursive: true });
  writeFileSync(
    join(plugins, "lib", "reason.mjs"),
    'export const reason = (key) => "Key " + JSON.stringify(key) + " is frozen";\n',
  );
  writeFileSync(
    join(plugins, "frozen.mjs"),
    [
      'import { definePolicy, ErrorCode } from "idem";',
      'import { reason } from "./lib/reason.mjs";',
      "export default definePolicy({",
      '  name: "frozen",',
      '  decide: ({ key }) => ({ kind: "reject", code: ErrorCode.IdempotencyConflict, message: reason(key) }),',
      "});",
      "",
    ].join("\n"),
  );
  const agentId = uniqueAgentId("exe-plugin");
  const effects = join(folder, "effects-plugin.log");
  const agent = await startAgent({
    broker,
    agentId,
    dataDir: join(folder, "data-plugin"),
    plugins: [plugins],
    command: isolated(),
  });
  try {
    const engine = await connectEngine(broker, { agentId });
    engines.push(engine);
    const plan = applicationPlan({ effects, idempotency: { Policy: "frozen", Key: "k1" } });
    await engine.send(plan);
    const result = await engine.waitForResult(plan.ID);
    assert.equal(result.ErrorCode, 303, JSON.stringify(result));
    assert.equal(result.Idem?.Decision, "reject");
    assert.match(JSON.stringify(result), /is frozen/);
    assert.equal(existsSync(effects), false);
  } finally {
    await agent.stop();
  }
});

for (const [what, options] of [
  ["read-only", "ro"],
  ["noexec", "noexec"],
] as const) {
  test(`a ${what} cache folder stops the executable at start with a message naming it`, {
    skip,
  }, async () => {
    const cache = join(folder, `cache-${options}`);
    mkdirSync(cache, { recursive: true });
    const agent = await startAgent({
      broker,
      agentId: uniqueAgentId(`exe-${options}`),
      dataDir: join(folder, `data-${options}`),
      command: isolated(),
      env: { IDEM_CACHE_DIR: cache, IDEM_TEST_MOUNT: cache, IDEM_TEST_MOUNT_OPTS: options },
      waitOnline: false,
    });
    const exit = await agent.waitForExit();
    const log = agent.lines.join("\n");
    assert.equal(exit.signal, null, log);
    assert.notEqual(exit.code, 0, log);
    assert.ok(exit.code !== 97 && exit.code !== 98, log);
    assert.ok(log.includes(cache), `names ${cache}:\n${log}`);
    assert.ok(log.includes("IDEM_CACHE_DIR"), `says what to set:\n${log}`);
    assert.doesNotMatch(log, /^\s+at .+:\d+:\d+\)?$/m, "no stack trace");
    assert.equal(agent.matching(/\bevent=online\b/).length, 0);
  });
}

/** Why the isolation cannot be built here, or false. */
function isolationUnavailable(): string | false {
  if (process.platform !== "linux") return "Linux only (mount namespaces)";
  if (process.getuid?.() !== 0) return "needs root for unshare -m and mount";
  try {
    execFileSync("unshare", ["-m", "true"], { stdio: "ignore" });
  } catch {
    return "unshare -m is not permitted here";
  }
  return false;
}
