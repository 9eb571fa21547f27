import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, readlink, rm, stat } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { IdemError } from "../../agent/errors.ts";
import { download, isGitRepository } from "../../agent/murano/download.ts";
import { runCommand } from "../../agent/murano/script_runner.ts";
import { createWorkDir } from "../../agent/murano/workdir.ts";

let server: Server;
let base: string;
let root: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), "idem-download-"));
  server = createServer((request, response) => {
    if (request.url?.startsWith("/files/")) {
      response.writeHead(200, { "content-type": "application/octet-stream" });
      response.end(Buffer.from([0x1f, 0x8b, 0x00, 0xff, 0x0a]));
    } else {
      response.writeHead(404).end("not here");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(root, { recursive: true, force: true });
});

async function freshFolder(): Promise<string> {
  const folder = await mkdtemp(join(root, "f-"));
  return folder;
}

async function rejection(work: Promise<unknown>): Promise<IdemError> {
  try {
    await work;
  } catch (error) {
    assert.ok(error instanceof IdemError);
    return error;
  }
  assert.fail("expected a rejection");
}

test("an HTTP file is saved byte-exact under the URL's last segment, query string included", async () => {
  const folder = await freshFolder();
  await download(`${base}/files/app.tgz?v=1`, folder);
  assert.deepEqual(await readFile(join(folder, "app.tgz?v=1")), Buffer.from([0x1f, 0x8b, 0x00, 0xff, 0x0a]));
});

test("an HTTP error answer fails the download with code 1 naming the URL", async () => {
  const url = `${base}/missing/file.txt`;
  const error = await rejection(download(url, await freshFolder()));
  assert.equal(error.code, 1);
  assert.equal(error.message, `Cannot download the file ${url}: the server answered 404 Not Found`);
});

test("a URL without a scheme is not valid, as in murano-agent", async () => {
  const error = await rejection(download("example.org/file", await freshFolder()));
  assert.equal(error.code, 1);
  assert.equal(error.message, "Provided URL is not valid example.org/file");
});

test("git URLs are recognised by murano-agent's rules", () => {
  assert.ok(isGitRepository("git://h/r"));
  assert.ok(isGitRepository("git+https://h/r"));
  assert.ok(isGitRepository("https://github.com/x/y.git"));
  assert.ok(!isGitRepository("https://github.com/x/y"));
});

test("a git URL is cloned into the folder", async () => {
  const repo = join(root, "cookbook.git");
  await mkdir(repo);
  const git = (...args: string[]) =>
    runCommand(["git", "-C", repo, "-c", "user.name=t", "-c", "user.email=t@t", ...args]);
  assert.equal((await git("init", "-q")).exitCode, 0);
  await import("node:fs/promises").then((fs) => fs.writeFile(join(repo, "metadata.rb"), "name 'cookbook'\n"));
  await git("add", ".");
  assert.equal((await git("commit", "-q", "-m", "init")).exitCode, 0);

  const folder = await freshFolder();
  await download(`file://${repo}`, folder);
  assert.equal(await readFile(join(folder, "metadata.rb"), "utf8"), "name 'cookbook'\n");
});

test("a git URL that cannot be cloned fails with code 1 naming the URL", async () => {
  const url = `file://${root}/no-such-repo.git`;
  const error = await rejection(download(url, await freshFolder()));
  assert.equal(error.code, 1);
  assert.ok(error.message.startsWith(`Cannot clone the git repository ${url}: `), error.message);
});

test("without git on the VM a git URL fails with code 1 naming the URL", async () => {
  const path = process.env.PATH;
  process.env.PATH = await freshFolder();
  try {
    const error = await rejection(download("git://example.invalid/repo.git", await freshFolder()));
    assert.equal(error.code, 1);
    assert.equal(
      error.message,
      "Cannot clone the git repository git://example.invalid/repo.git: git is not installed",
    );
  } finally {
    process.env.PATH = path;
  }
});

test("a Downloadable file appears in the script's folder under its Name, as a folder holding the download", async () => {
  const workDir = await createWorkDir(join(root, "work"), {
    e1: { Name: "run.sh", BodyType: "Text", Body: "#!/bin/sh\nls\n" },
    d1: { Name: "assets", Type: "Downloadable", URL: `${base}/files/blob.bin` },
  });
  try {
    const placed = await workDir.placeScript("deploy", { EntryPoint: "e1", Files: ["d1"] });
    assert.equal(placed.cwd, join(workDir.path, "deploy"));
    assert.equal(placed.entryPoint, "run.sh");
    // Relative links: a script running as another user (runAs) cannot reach the work dir from / (SPEC 9a).
    assert.equal(await readlink(join(placed.cwd, "assets")), join("..", "d1"));
    assert.equal((await readFile(join(placed.cwd, "assets", "blob.bin"))).length, 5);
    assert.equal((await stat(join(placed.cwd, "run.sh"))).mode & 0o777, 0o500);
  } finally {
    await workDir.remove();
  }
  await assert.rejects(stat(workDir.path), { code: "ENOENT" });
});
