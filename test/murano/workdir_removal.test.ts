/**
 * A work directory's removal (agent/murano/workdir.ts): synchronous for a small tree, handed to `rm -rf` in a child process
 * beyond SYNC_REMOVAL_ENTRIES entries; links are removed, never followed; a `runAs` user's work dir is emptied with
 * that user's rights. Real directories under the temp dir, a real user (created for the test, as root).
 */
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import {
  existsSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { createWorkDir } from "../../agent/murano/workdir.ts";
import {
  removeLeftoverWorkDirs,
  removeMadeTree,
  removeSmallTree,
  SYNC_REMOVAL_ENTRIES,
} from "../../agent/murano/workdir_removal.ts";

const root = mkdtempSync(join(tmpdir(), "idem-workdir-removal-"));
after(() => rmSync(root, { recursive: true, force: true }));

/** A folder outside the work root that links inside a work dir point at: it must survive every removal. */
const outside = join(root, "outside");
mkdirSync(outside);
writeFileSync(join(outside, "keep.txt"), "keep");

function tree(name: string, files: number): string {
  const dir = join(root, name);
  mkdirSync(join(dir, "run", "deep"), { recursive: true });
  for (let i = 0; i < files; i++) writeFileSync(join(dir, "run", "deep", `f${i}`), `${i}`);
  writeFileSync(join(dir, "script"), "#!/bin/sh\necho ok");
  symlinkSync("../script", join(dir, "run", "run.sh"));
  symlinkSync(outside, join(dir, "run", "outside-dir"));
  symlinkSync(join(outside, "keep.txt"), join(dir, "run", "outside-file"));
  symlinkSync(join(root, "nowhere"), join(dir, "run", "dangling"));
  return dir;
}

test("a small tree is removed at once, its links with it and their targets untouched", () => {
  const dir = tree("small", 10);
  assert.equal(removeSmallTree(dir), true);
  assert.equal(existsSync(dir), false);
  assert.deepEqual(readdirSync(outside), ["keep.txt"]);
});

test("a tree beyond the synchronous budget is left for rm -rf, and WorkDir.remove() removes it all", async () => {
  const work = join(root, "work");
  const workDir = await createWorkDir(work, {});
  const big = join(workDir.path, "checkout");
  mkdirSync(big);
  for (let i = 0; i < SYNC_REMOVAL_ENTRIES + 50; i++) writeFileSync(join(big, `f${i}`), "x");
  symlinkSync(outside, join(workDir.path, "outside-dir"));

  assert.equal(removeSmallTree(join(workDir.path, "checkout")), false, "over the budget");
  assert.ok(existsSync(big), "the rest is still there for the asynchronous removal");
  await workDir.remove();
  assert.equal(existsSync(workDir.path), false);
  assert.deepEqual(readdirSync(work), []);
  assert.deepEqual(readdirSync(outside), ["keep.txt"]);
});

/** A work dir as a one-file script leaves it: its stored file, the script's folder, the entry point's link. */
async function placedWorkDir(name: string) {
  const workDir = await createWorkDir(join(root, name), {
    f1: { Name: "run.sh", BodyType: "Text", Body: "#!/bin/sh\necho ok" },
  });
  await workDir.placeScript("run", { EntryPoint: "f1", Files: [] });
  const made = [
    { folder: false, path: join(workDir.path, "f1") },
    { folder: true, path: join(workDir.path, "run") },
    { folder: false, path: join(workDir.path, "run", "run.sh") },
  ];
  return { workDir, made };
}

test("the tree the agent made is removed entry by entry; anything added or swapped leaves it to the walk", async () => {
  const exact = await placedWorkDir("made-exact");
  assert.equal(removeMadeTree(exact.workDir.path, exact.made), true);
  assert.equal(existsSync(exact.workDir.path), false);

  // A script's output in its folder: the folder is not empty, the fast path stops, remove() still removes it all.
  const added = await placedWorkDir("made-added");
  writeFileSync(join(added.workDir.path, "run", "out.txt"), "x");
  assert.equal(removeMadeTree(added.workDir.path, added.made), false);
  assert.ok(existsSync(join(added.workDir.path, "run", "out.txt")));
  await added.workDir.remove();
  assert.equal(existsSync(added.workDir.path), false);

  // The script's folder swapped for a link out: nothing is unlinked through it.
  const swapped = await placedWorkDir("made-swapped");
  const victim = mkdtempSync(join(root, "victim-made-"));
  writeFileSync(join(victim, "run.sh"), "keep");
  rmSync(join(swapped.workDir.path, "run"), { recursive: true });
  symlinkSync(victim, join(swapped.workDir.path, "run"));
  assert.equal(removeMadeTree(swapped.workDir.path, swapped.made), false);
  assert.deepEqual(readdirSync(victim), ["run.sh"]);
  await swapped.workDir.remove();
  assert.equal(existsSync(swapped.workDir.path), false);
  assert.deepEqual(readdirSync(victim), ["run.sh"], "the link's target is untouched by the walk too");

  // What a script removed itself is not an obstacle to the walk that follows.
  const removed = await placedWorkDir("made-removed");
  rmSync(join(removed.workDir.path, "run", "run.sh"));
  await removed.workDir.remove();
  assert.equal(existsSync(removed.workDir.path), false);
});

test("a missing directory is not an error: remove() resolves", async () => {
  const workDir = await createWorkDir(join(root, "work2"), {});
  rmSync(workDir.path, { recursive: true });
  assert.equal(removeSmallTree(workDir.path), false);
  await workDir.remove();
  assert.equal(existsSync(workDir.path), false);
});

test("leftover work dirs: the run-* folders listed at the call are removed; one made after it is not", async () => {
  const work = join(root, "leftovers");
  for (const name of ["run-a", "run-b/run", "other"]) mkdirSync(join(work, name), { recursive: true });
  writeFileSync(join(work, "run-b", "f"), "x");
  const removing = removeLeftoverWorkDirs(work);
  // The new process's first execution, right after the start listed the folder.
  mkdirSync(join(work, "run-c"));
  assert.deepEqual(await removing, { removed: 2, failed: [] });
  assert.deepEqual(readdirSync(work).sort(), ["other", "run-c"]);
  assert.deepEqual(await removeLeftoverWorkDirs(join(root, "no-such-work-root")), { removed: 0, failed: [] });
});

test("a folder too big to list at once is not listed synchronously: nothing of it goes, WorkDir.remove() removes it all", async (t) => {
  // readdirSync returns a whole listing before the entry budget can stop it (400k entries: 440 ms of blocked
  // event loop); the folder's size tells beforehand (ext4: 60 KiB for 3000 entries).
  const workDir = await createWorkDir(join(root, "work3"), {});
  const flat = join(workDir.path, "flat");
  mkdirSync(flat);
  for (let i = 0; i < 3000; i++) symlinkSync("x", join(flat, `l${i}`));
  if (lstatSync(flat).size <= 16 * 1024) {
    t.skip(`this filesystem reports a folder of 3000 entries as ${lstatSync(flat).size} bytes`);
    await workDir.remove();
    return;
  }
  assert.equal(removeSmallTree(workDir.path), false);
  assert.equal(readdirSync(flat).length, 3000, "not listed, so nothing of it removed synchronously");
  await workDir.remove();
  assert.equal(existsSync(workDir.path), false);
});

const isRoot = process.getuid?.() === 0;

test("a runAs user's folders are emptied with that user's rights: a link out or a root-only folder reaches nothing", {
  skip: isRoot ? false : "needs root to create a user",
}, async (t) => {
  const owner = scriptUser(t);
  const work = join(root, "owned-work");
  const workDir = await createWorkDir(
    work,
    { f1: { Name: "run.sh", BodyType: "Text", Body: "#!/bin/sh" } },
    { owner },
  );
  await workDir.placeScript("run", { EntryPoint: "f1", Files: [] });
  // What a script of that user leaves: its output, and a link to a folder only root may change.
  const victim = mkdtempSync(join(root, "victim-"));
  writeFileSync(join(victim, "keep.txt"), "keep");
  writeFileSync(join(workDir.path, "run", "out.txt"), "x");
  symlinkSync(victim, join(workDir.path, "run", "victim"));
  for (const name of ["out.txt", "victim"]) lchownSync(join(workDir.path, "run", name), owner.uid, owner.gid);
  // A folder the user cannot empty (root's, 0700) in theirs: it stays, so the removal ran with the user's rights.
  mkdirSync(join(workDir.path, "run", "root-only"), { mode: 0o700 });
  writeFileSync(join(workDir.path, "run", "root-only", "f"), "root's");

  await workDir.remove();
  assert.deepEqual(readdirSync(join(workDir.path, "run")), ["root-only"], "the user's files are removed");
  assert.equal(
    existsSync(join(workDir.path, "run", "root-only", "f")),
    true,
    "what the user cannot remove stays",
  );
  assert.deepEqual(readdirSync(victim), ["keep.txt"]);

  // Emptied of what only root could remove, the work dir goes too.
  rmSync(join(workDir.path, "run", "root-only"), { recursive: true });
  await workDir.remove();
  assert.equal(existsSync(workDir.path), false);
});

/** A fresh system user for one test (as root), removed after it. */
function scriptUser(t: { after(fn: () => void): void }): { uid: number; gid: number } {
  const user = `idemw${randomUUID().slice(0, 8)}`;
  execFileSync("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", user]);
  t.after(() => execFileSync("userdel", [user], { stdio: "ignore" }));
  const uid = Number(execFileSync("id", ["-u", user], { encoding: "utf8" }));
  const gid = Number(execFileSync("id", ["-g", user], { encoding: "utf8" }));
  return { uid, gid };
}

// libuv waits synchronously for a child's exec: a child that switched to the user before it (Node's spawn uid/gid)
// could be stopped there by any process of that user and freeze the agent. Started through setpriv, it switches
// after the exec; find, stopped once it is the user's, is killed at the removal's bound.
test("a leftover process of the runAs user that stops every process of that user neither freezes the agent nor holds the removal forever", {
  skip: isRoot ? false : "needs root to create a user",
}, async (t) => {
  const owner = scriptUser(t);
  const workDir = await createWorkDir(join(root, "stopped-work"), {}, { owner });
  const folder = join(workDir.path, "many");
  mkdirSync(folder);
  for (let i = 0; i < 3000; i++) writeFileSync(join(folder, `f${i}`), "x");
  execFileSync("chown", ["-R", `${owner.uid}:${owner.gid}`, folder]);
  // What a script may leave behind: a process of its user that stops every other process of that user.
  const leftover = spawn("/bin/sh", ["-c", "echo ready; while :; do kill -s STOP -- -1; done"], {
    cwd: folder,
    ...owner,
    stdio: ["ignore", "pipe", "ignore"],
  });
  const leftoverExited = once(leftover, "exit");
  // The agent's side in a process of its own (it may freeze): it ticks while its event loop runs.
  const agent = spawn(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      `let ticks = 0;
       setInterval(() => ticks++, 20);
       const { removeAsOwner } = await import(${JSON.stringify(join(import.meta.dirname, "../../agent/murano/workdir_removal.ts"))});
       const gone = await removeAsOwner(${JSON.stringify(folder)}, ${JSON.stringify(owner)}, { timeoutMs: 1500 });
       process.stdout.write(JSON.stringify({ gone, ticked: ticks > 0 }));
       process.exit(0);`,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let printed = "";
  agent.stdout.on("data", (chunk: Buffer) => {
    printed += chunk;
  });
  const agentExited = once(agent, "exit");
  let outcome: string;
  try {
    await once(leftover.stdout, "data");
    let bound: NodeJS.Timeout | undefined;
    outcome = await Promise.race([
      agentExited.then(() => printed),
      new Promise<string>((resolve) => {
        bound = setTimeout(() => resolve("no end after 20 s: the agent froze"), 20_000);
      }),
    ]);
    clearTimeout(bound);
  } finally {
    leftover.kill("SIGKILL");
    agent.kill("SIGKILL");
    await Promise.all([leftoverExited, agentExited]);
    // The user's stopped processes, by pid.
    for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
      const stat = lstatSync(`/proc/${pid}`, { throwIfNoEntry: false });
      if (stat?.uid === owner.uid) process.kill(Number(pid), "SIGKILL");
    }
  }
  // find was stopped (it may have removed some files first): the removal ends at its bound, the folder stays.
  assert.deepEqual(JSON.parse(outcome), { gone: false, ticked: true });
  assert.equal(existsSync(folder), true);
  await workDir.remove();
  assert.equal(existsSync(workDir.path), false, "removed once nothing stops the user's find");
});
