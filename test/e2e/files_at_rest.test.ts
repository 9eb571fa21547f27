/**
 * Issue 9 item 4, SPEC 9a: the journal (plan parameters, script output) and the scripts' work dirs are the agent's
 * alone, whatever the umask: data dir, journal dir, work root and work dirs 0700, journal files 0600 — also when
 * they were made open by an earlier version (fixed at start), and another local user cannot read them. A data
 * dir that belongs to another user is refused at start.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { waitForEffects } from "../helpers/effects.ts";
import { openScene } from "../helpers/scene.ts";

const isRoot = process.getuid?.() === 0;
/** The agent from the sources, started under `umask 022` (the usual default that made the journal 0644). */
const UMASK_022 = ["/bin/sh", "-c", 'umask 022; exec "$@"', "sh", process.execPath, "agent/main.ts"];

const modeOf = (path: string) => (statSync(path).mode & 0o7777).toString(8).padStart(4, "0");

test("under umask 022 the data dir, journal and work dirs are private, and earlier open modes are fixed at start", {
  timeout: 60_000,
}, async (t) => {
  const scene = await openScene(t, "files-at-rest");
  const { dataDir, effects } = scene;
  mkdirSync(dataDir, { mode: 0o755 });
  chmodSync(dataDir, 0o755); // as an earlier version (or an operator) left it
  const journal = join(dataDir, "journal");
  const files = [join(journal, "data.mdb"), join(journal, "lock.mdb")];

  const expectPrivate = () => {
    assert.equal(modeOf(dataDir), "0700", "data dir");
    assert.equal(modeOf(journal), "0700", "journal dir");
    for (const file of files) assert.equal(modeOf(file), "0600", file);
    for (const path of [dataDir, journal, ...files])
      assert.equal(statSync(path).uid, process.getuid?.(), path);
  };
  let agent = await scene.startAgent({ command: UMASK_022 });
  expectPrivate();
  if (isRoot) {
    const read = spawnSync("runuser", ["-u", "nobody", "--", "cat", files[0] as string]);
    assert.notEqual(read.status, 0, "nobody cannot read the journal");
    assert.match(String(read.stderr), /Permission denied/);
  }

  // A work dir, observed while its script runs: the script notes its folder, then waits for the release file.
  const where = join(scene.root, "workdir.txt");
  const release = join(scene.root, "release");
  const script = [
    "#!/bin/sh",
    `pwd > '${where}'`,
    `echo "start $$ observed" >> '${effects}'`,
    `while [ ! -e '${release}' ]; do sleep 0.05; done`,
  ].join("\n");
  const plan = {
    FormatVersion: "2.1.0",
    ID: randomUUID().replaceAll("-", ""),
    Body: "return observe().exitCode",
    Scripts: { observe: { Type: "Application", EntryPoint: "f1", Files: [], Options: {} } },
    Files: { f1: { Name: "observe.sh", BodyType: "Text", Body: script } },
  };
  await scene.engine.send(plan);
  await waitForEffects(effects, (e) => e.executions.length === 1);
  const workDir = dirname(readFileSync(where, "utf8").trim());
  assert.equal(dirname(workDir), join(dataDir, "work"));
  assert.equal(modeOf(workDir), "0700", "work dir");
  assert.equal(modeOf(join(dataDir, "work")), "0700", "work root");
  writeFileSync(release, "");
  const result = await scene.engine.waitForResult(plan.ID);
  assert.equal(result.ErrorCode, 0, JSON.stringify(result));

  // Open modes left by an earlier version are made private again at the next start.
  assert.equal((await agent.stop()).code, 0, agent.tail());
  // Removed once the result is out, at the latest on the way out (docs/beyond_spec.md).
  assert.equal(existsSync(workDir), false, "the work dir is removed afterwards");
  for (const path of [dataDir, journal, join(dataDir, "work")]) chmodSync(path, 0o755);
  for (const file of files) chmodSync(file, 0o644);
  agent = await scene.startAgent({ command: UMASK_022 });
  expectPrivate();
  assert.equal((await agent.stop()).code, 0, agent.tail());
});

test("a data dir that belongs to another user is refused at start, saying whose it is", {
  timeout: 60_000,
  skip: isRoot ? false : "needs root to give a folder to another user",
}, async (t) => {
  const scene = await openScene(t, "files-other-owner");
  mkdirSync(scene.dataDir, { mode: 0o700 });
  const nobody = Number(execFileSync("id", ["-u", "nobody"], { encoding: "utf8" }).trim());
  chownSync(scene.dataDir, nobody, nobody);
  const agent = await scene.startAgent({ waitOnline: false });
  const exit = await agent.waitForExit();
  assert.equal(exit.code, 2, agent.tail());
  assert.match(
    agent.lines.join("\n"),
    new RegExp(`Cannot use the data dir ${scene.dataDir} as it belongs to uid ${nobody} \\(nobody\\)`),
  );
  assert.equal(existsSync(join(scene.dataDir, "journal")), false, "nothing was made in it");
});
