/**
 * The spare work directory (agent/murano/workdir.ts): made while a script runs, taken by the next work directory
 * of the same root and mode (renamed `run-*`, the same folder), removed when the agent stops, and removed
 * uncounted by the start-up removal of leftovers. Real directories under the temp dir.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { createWorkDir, discardSpareWorkDir, prepareSpareWorkDir } from "../../agent/murano/workdir.ts";
import { removeLeftoverWorkDirs } from "../../agent/murano/workdir_removal.ts";

const root = mkdtempSync(join(tmpdir(), "idem-spare-"));
after(() => {
  discardSpareWorkDir();
  rmSync(root, { recursive: true, force: true });
});

const FILES = { f1: { Name: "run.sh", BodyType: "Text" as const, Body: "#!/bin/sh\necho ok\n" } };

function workRoot(name: string): string {
  return join(root, name, "work");
}

test("the next work dir is the spare, renamed run-*; the one after is made afresh", async () => {
  const work = workRoot("take");
  prepareSpareWorkDir(work);
  const [spare] = readdirSync(work);
  assert.match(String(spare), /^spare-/);
  const inode = statSync(join(work, String(spare))).ino;
  assert.equal(statSync(join(work, String(spare))).mode & 0o777, 0o700);

  const first = await createWorkDir(work, FILES);
  assert.equal(statSync(first.path).ino, inode, "the same folder");
  assert.match(first.path, /\/run-[^/]+$/);
  assert.deepEqual(readdirSync(work), [first.path.split("/").pop()], "no spare left");

  const second = await createWorkDir(work, FILES);
  assert.notEqual(statSync(second.path).ino, inode);
  await first.remove();
  await second.remove();
  assert.deepEqual(readdirSync(work), []);
});

test("a spare is only for its own root and mode; a second prepare keeps the one there is", async () => {
  const work = workRoot("mode");
  prepareSpareWorkDir(work);
  prepareSpareWorkDir(work);
  assert.equal(readdirSync(work).filter((n) => n.startsWith("spare-")).length, 1);
  // runAs's mode (0711) does not take the 0700 spare: the spare is replaced by one of that mode.
  prepareSpareWorkDir(work, { owner: { uid: 0, gid: 0 } });
  const spares = readdirSync(work).filter((n) => n.startsWith("spare-"));
  assert.equal(spares.length, 1);
  assert.equal(statSync(join(work, String(spares[0]))).mode & 0o777, 0o711);
  const other = await createWorkDir(workRoot("other"), FILES);
  assert.equal(
    readdirSync(work).filter((n) => n.startsWith("spare-")).length,
    1,
    "another root's left alone",
  );
  await other.remove();
  discardSpareWorkDir();
  assert.deepEqual(readdirSync(work), [], "discarded on the way out");
});

test("a spare removed behind the agent's back: the work dir is made afresh", async () => {
  const work = workRoot("gone");
  prepareSpareWorkDir(work);
  for (const name of readdirSync(work)) rmSync(join(work, name), { recursive: true });
  const dir = await createWorkDir(work, FILES);
  assert.ok(statSync(dir.path).isDirectory());
  await dir.remove();
  assert.deepEqual(readdirSync(work), []);
});

test("start-up removes a spare a killed agent left without counting it as a run's work dir", async () => {
  const work = workRoot("leftover");
  const killedRun = await createWorkDir(work, FILES);
  prepareSpareWorkDir(work);
  // What a killed agent leaves: its run's folder and its spare; this process forgets its own spare.
  const result = await removeLeftoverWorkDirs(work);
  assert.deepEqual(result, { removed: 1, failed: [] });
  assert.deepEqual(readdirSync(work), []);
  assert.equal(killedRun.path.startsWith(work), true);
  discardSpareWorkDir(); // already gone: never throws
});
