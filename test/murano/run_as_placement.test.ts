/**
 * Placing a `runAs` script's files (agent/murano/workdir.ts, download.ts, script_runner.ts) while processes of that
 * user run — the scripts of the plan that ran before, and whatever they left: the agent (root) never writes, chmods,
 * enters or reads through a name the user controls, and git reads no configuration the user can write. Without
 * `runAs`, murano-agent's behaviour. Real users (created for the test, as root), real git over HTTP, real processes.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import {
  chmodSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCommand, runScript } from "../../agent/murano/script_runner.ts";
import { createWorkDir } from "../../agent/murano/workdir.ts";

const isRoot = process.getuid?.() === 0;
const needsRoot = { skip: isRoot ? false : "needs root to create a user" };
const root = mkdtempSync(join(tmpdir(), "idem-run-as-placement-"));
let gitBase = "";
let closeServer: () => Promise<void> = async () => {};

before(async () => {
  // A bare repository served over git's "dumb" HTTP protocol: plain files.
  const work = join(root, "repo-work");
  execFileSync("git", ["init", "--quiet", work]);
  writeFileSync(join(work, "README"), "readme");
  const git = ["-c", "user.name=idem", "-c", "user.email=idem@localhost", "-C", work];
  execFileSync("git", [...git, "add", "README"]);
  execFileSync("git", [...git, "commit", "--quiet", "-m", "one"]);
  const served = join(root, "served");
  mkdirSync(served);
  execFileSync("git", ["clone", "--quiet", "--bare", work, join(served, "later.git")]);
  execFileSync("git", ["-C", join(served, "later.git"), "update-server-info"]);
  const server = createServer((request, response) => {
    const path = join(served, decodeURIComponent(new URL(request.url ?? "/", "http://x").pathname));
    try {
      const body = readFileSync(path);
      response.writeHead(200).end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  gitBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  closeServer = () => new Promise((resolve) => server.close(() => resolve()));
});

after(async () => {
  await closeServer();
  rmSync(root, { recursive: true, force: true });
});

/** A fresh system user with a home of its own, removed after the test. */
function scriptUser(t: { after(fn: () => void): void }): { uid: number; gid: number; home: string } {
  const user = `idemp${randomUUID().slice(0, 8)}`;
  const home = join(root, `home-${user}`);
  execFileSync("useradd", ["--system", "--create-home", "--home-dir", home, "--shell", "/bin/sh", user]);
  t.after(() => execFileSync("userdel", ["--remove", user], { stdio: "ignore" }));
  chmodSync(root, 0o755); // the home folder is below it
  const uid = Number(execFileSync("id", ["-u", user], { encoding: "utf8" }));
  const gid = Number(execFileSync("id", ["-g", user], { encoding: "utf8" }));
  return { uid, gid, home };
}

/** Runs `command` with sh as `owner` in `cwd`; true when it succeeded. */
function asUser(owner: { uid: number; gid: number }, cwd: string, command: string): boolean {
  try {
    execFileSync("/bin/sh", ["-c", command], { cwd, uid: owner.uid, gid: owner.gid, stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

test(
  "a runAs script cannot make the agent (root) write, chmod or place through names it prepared",
  needsRoot,
  async (t) => {
    const owner = scriptUser(t);
    const files = {
      f1: { Name: "one.sh", BodyType: "Text", Body: "#!/bin/sh" },
      f2: { Name: "two.sh", BodyType: "Text", Body: "written by the agent" },
      f3: { Name: "lib/helper.sh", BodyType: "Text", Body: "helper" },
      f4: { Name: "checkout", Type: "Downloadable", URL: `${gitBase}/later.git` },
    } as const;
    const workDir = await createWorkDir(join(root, "planted-work"), files, { owner });
    const one = await workDir.placeScript("one", { EntryPoint: "f1", Files: [] });
    const victim = mkdtempSync(join(root, "victim-"));
    writeFileSync(join(victim, "keep"), "keep", { mode: 0o644 });
    // Script "one", as its user in its folder, prepares every name the agent uses later: where f2 and f4 are stored,
    // where script "two"'s folder goes; and swaps its own entry point for a link to root's file.
    const made = [
      `ln -s '${join(victim, "f2")}' ../f2`,
      `ln -s '${victim}' ../f4`,
      `ln -s '${victim}' ../two`,
      "mkdir ../two",
    ].map((command) => asUser(owner, one.cwd, command));
    assert.deepEqual(made, [false, false, false, false], "the work dir is the agent's: nothing new in it");
    assert.equal(asUser(owner, one.cwd, `ln -sf '${join(victim, "keep")}' one.sh`), true);
    const two = await workDir.placeScript("two", { EntryPoint: "f2", Files: ["f3", "f4"] });
    await workDir.placeScript("one", { EntryPoint: "f1", Files: [] });
    assert.deepEqual(
      { files: readdirSync(victim), mode: (lstatSync(join(victim, "keep")).mode & 0o777).toString(8) },
      { files: ["keep"], mode: "644" },
    );
    // Script "two"'s folder, its links and the checkout are the user's.
    for (const path of [
      two.cwd,
      join(two.cwd, "lib"),
      join(two.cwd, "checkout"),
      join(workDir.path, "f4", "README"),
    ]) {
      assert.equal(lstatSync(path).uid, owner.uid, path);
    }
    assert.equal(lstatSync(workDir.path).uid, process.getuid?.());
    await workDir.remove();
    assert.equal(existsSync(workDir.path), false);
  },
);

test(
  "git (run by the agent) reads no configuration the runAs user wrote, and clones nothing local",
  needsRoot,
  async (t) => {
    const owner = scriptUser(t);
    // What a script of the plan could have left in its user's home: a hook that git would run as root.
    const marker = join(root, `hooked-${randomUUID()}`);
    mkdirSync(join(owner.home, "hooks"));
    writeFileSync(join(owner.home, "hooks", "post-checkout"), `#!/bin/sh\nid -u > '${marker}'\n`, {
      mode: 0o755,
    });
    writeFileSync(join(owner.home, ".gitconfig"), `[core]\n\thooksPath = ${join(owner.home, "hooks")}\n`);
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: owner.home, LANG: "C.UTF-8" };
    // A repository only root may read, on this machine.
    const secret = join(mkdtempSync(join(root, "root-only-")), "secret.git");
    execFileSync("git", ["clone", "--quiet", "--bare", join(root, "repo-work"), secret]);
    const files = {
      run: { Name: "run.sh", BodyType: "Text", Body: "#!/bin/sh" },
      remote: { Name: "remote", Type: "Downloadable", URL: `${gitBase}/later.git` },
      local: { Name: "local", Type: "Downloadable", URL: `file://${secret}` },
      path: { Name: "path", Type: "Downloadable", URL: `/${secret}` },
    } as const;
    const workDir = await createWorkDir(join(root, "config-work"), files, { owner, env });
    await workDir.placeScript("s-remote", { EntryPoint: "run", Files: ["remote"] });
    assert.equal(existsSync(join(workDir.path, "remote", "README")), true, "cloned");
    assert.equal(existsSync(marker), false, "the user's hook did not run");
    for (const id of ["local", "path"]) {
      const error = await workDir.placeScript(`s-${id}`, { EntryPoint: "run", Files: [id] }).then(
        () => null,
        (e: Error & { code?: number }) => e,
      );
      assert.match(
        error?.message ?? "cloned",
        /Cannot clone the git repository .*: transport 'file' not allowed/,
      );
      assert.equal(error?.code, 1);
    }
    await workDir.remove();

    // Without runAs the scripts run as the agent: its git configuration and local clones are murano-agent's.
    const own = await createWorkDir(join(root, "own-work"), files, {});
    await own.placeScript("s-local", { EntryPoint: "run", Files: ["local"] });
    assert.equal(existsSync(join(own.path, "local", "README")), true);
    await own.remove();
  },
);

test(
  "a runAs entry point in a folder of its Name is entered by the script's shell, not by the agent",
  needsRoot,
  async (t) => {
    const owner = scriptUser(t);
    const files = {
      f1: { Name: "sub/run.sh", BodyType: "Text", Body: "#!/bin/sh\npwd -P\ncat secret.txt 2>&1\n" },
    } as const;
    const workDir = await createWorkDir(join(root, "sub-work"), files, { owner, env: {} });
    const placed = await workDir.placeScript("s", { EntryPoint: "f1", Files: [] });
    assert.deepEqual(placed, { cwd: join(workDir.path, "s"), subfolder: "sub", entryPoint: "run.sh" });
    const run = () =>
      runScript({
        cwd: placed.cwd,
        ...(placed.subfolder ? { subfolder: placed.subfolder } : {}),
        entryPoint: placed.entryPoint,
        commandline: "",
        input: null,
        env: { PATH: "/usr/bin:/bin" },
        user: owner,
        outputCapBytes: 4096,
      });
    const first = await run();
    assert.equal(first.stdout?.split("\n")[0], join(workDir.path, "s", "sub"), JSON.stringify(first));
    // A process of the user swaps the folder for a link to one only root may enter.
    const locked = mkdtempSync(join(root, "locked-"));
    mkdirSync(join(locked, "open"));
    writeFileSync(join(locked, "open", "secret.txt"), "TOPSECRET");
    assert.equal(asUser(owner, placed.cwd, `mv sub sub.old && ln -s '${join(locked, "open")}' sub`), true);
    await workDir.placeScript("s", { EntryPoint: "f1", Files: [] }).catch(() => {});
    const second = await run();
    assert.doesNotMatch(`${second.stdout} ${second.stderr}`, /TOPSECRET/);
    assert.notEqual(second.exitCode, 0, "the user cannot enter the root-only folder");
    await workDir.remove();
  },
);

test(
  "the entry point is made r-x------ before each run: a file of the user's in its place, never another's",
  needsRoot,
  async (t) => {
    const owner = scriptUser(t);
    const files = { f1: { Name: "run.sh", BodyType: "Text", Body: "#!/bin/sh\necho stored" } } as const;
    const workDir = await createWorkDir(join(root, "chmod-work"), files, { owner, env: {} });
    const placed = await workDir.placeScript("s", { EntryPoint: "f1", Files: [] });
    const entry = join(placed.cwd, placed.entryPoint);
    // The script replaces its link with a file of its own (0644): made executable for the next run.
    assert.equal(
      asUser(owner, placed.cwd, "rm run.sh && printf '#!/bin/sh\\necho mine' > run.sh && chmod 644 run.sh"),
      true,
    );
    await workDir.placeScript("s", { EntryPoint: "f1", Files: [] });
    assert.equal(statSync(entry).mode & 0o777, 0o500);
    // A hard link to a file of root's in its place (as root could leave one): not changed.
    const rootFile = join(mkdtempSync(join(root, "rootfile-")), "conf");
    writeFileSync(rootFile, "root's", { mode: 0o644 });
    unlinkSync(entry);
    linkSync(rootFile, entry);
    await workDir.placeScript("s", { EntryPoint: "f1", Files: [] });
    assert.equal(statSync(rootFile).mode & 0o777, 0o644);
    await workDir.remove();
  },
);

test("without runAs, a script that replaced its entry point's link with a file runs that file next (murano-agent)", async () => {
  const files = { f1: { Name: "run.sh", BodyType: "Text", Body: "#!/bin/sh\necho stored" } } as const;
  const workDir = await createWorkDir(join(root, "plain-work"), files, {});
  const placed = await workDir.placeScript("s", { EntryPoint: "f1", Files: [] });
  const entry = join(placed.cwd, placed.entryPoint);
  unlinkSync(entry);
  writeFileSync(entry, "#!/bin/sh\necho replaced", { mode: 0o644 });
  await workDir.placeScript("s", { EntryPoint: "f1", Files: [] });
  const run = await runScript({
    ...placed,
    commandline: "",
    input: null,
    env: { PATH: "/usr/bin:/bin" },
    outputCapBytes: 4096,
  });
  assert.deepEqual({ code: run.exitCode, out: run.stdout }, { code: 0, out: "replaced" });
  await workDir.remove();
});

test("a helper run without output ends with its exit, whatever its children hold", async () => {
  const pidFile = join(root, "sleeper.pid");
  const result = await runCommand(["/bin/sh", "-c", `sleep 60 & echo $! > '${pidFile}'`], { output: false });
  try {
    assert.equal(result.exitCode, 0);
  } finally {
    process.kill(Number(readFileSync(pidFile, "utf8")), "SIGKILL");
  }
});
