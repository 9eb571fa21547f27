import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, before, test } from "node:test";
import { isDeepStrictEqual } from "node:util";
import { parseJson } from "../../agent/json/parse.ts";
import { executePlan } from "../../agent/murano/execute.ts";
import type { ExecuteOptions, ExecutionOutcome } from "../../agent/murano/types.ts";
import { validatePlan } from "../../agent/murano/validate.ts";
import { BODY_WORKER_ARG } from "../../agent/python/worker/worker_protocol.ts";
import { CORPUS_CASES } from "../helpers/corpus.ts";
import { childrenOf } from "../helpers/proc_children.ts";
import { type CorpusCase, deviationFor } from "./corpus_deviations.ts";

let root: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), "idem-execute-"));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

interface PlanSpec {
  body: string;
  /** Entry point source; named `deploy.sh` unless `entryName` says otherwise. */
  script: string;
  entryName?: string;
  options?: Record<string, unknown>;
  files?: Record<string, { Name: string; BodyType: "Text" | "Base64"; Body: string }>;
  parameters?: Record<string, unknown>;
}

function makePlan(spec: PlanSpec): Record<string, unknown> {
  const files = spec.files ?? {};
  return {
    FormatVersion: "2.1.0",
    ID: "plan-1",
    Body: spec.body,
    Parameters: spec.parameters ?? {},
    Scripts: {
      deploy: {
        Type: "Application",
        EntryPoint: "entry",
        Files: Object.keys(files),
        Options: spec.options ?? { captureStdout: true, captureStderr: true },
      },
    },
    Files: { entry: { Name: spec.entryName ?? "deploy.sh", BodyType: "Text", Body: spec.script }, ...files },
  };
}

interface Run {
  outcome: ExecutionOutcome;
  body: unknown;
  pgids: number[];
  workRoot: string;
}

async function run(plan: Record<string, unknown>, options: Partial<ExecuteOptions> = {}): Promise<Run> {
  const typed = validatePlan(plan);
  const workRoot = await mkdtemp(join(root, "work-"));
  const pgids: number[] = [];
  const parsed = parseJson(JSON.stringify(plan));
  assert.ok(parsed.ok && parsed.value instanceof Map);
  const outcome = await executePlan(
    { plan: typed, exact: parsed.value },
    {
      workRoot,
      timeoutMs: 20_000,
      killGraceMs: 1000,
      bodyMemoryMB: 128,
      outputCapBytes: 1024 * 1024,
      env: { IDEM_EXECUTION: "test" },
      onSpawn: (pgid) => pgids.push(pgid),
      ...options,
    },
  );
  return { outcome, body: JSON.parse(outcome.body), pgids, workRoot };
}

function groupIsGone(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}

const sh = (lines: string) => `#!/bin/sh\n${lines}\n`;

test("a Text and a Base64 binary file are written byte-exact", async () => {
  const binary = Buffer.from([0x00, 0x8b, 0xff, 0xfe, 0x0d, 0x0a, 0x80, 0x1f]);
  const out = join(root, "copied");
  const plan = makePlan({
    body: `return deploy('${out}')`,
    script: sh('cp lib/blob.bin "$1.bin" && cp notes.txt "$1.txt"'),
    files: {
      blob: { Name: "lib/blob.bin", BodyType: "Base64", Body: `${binary.toString("base64")}\n` },
      notes: { Name: "notes.txt", BodyType: "Text", Body: "héllo\r\nwörld ✓\n" },
    },
  });
  const { outcome } = await run(plan);
  assert.equal(outcome.errorCode, 0, outcome.body);
  assert.deepEqual(await readFile(`${out}.bin`), binary);
  assert.equal(await readFile(`${out}.txt`, "utf8"), "héllo\r\nwörld ✓\n");
});

test("a script runs in its entry point's folder with its commandline, input and the agent's env", async () => {
  const plan = makePlan({
    body: "r = deploy('--name {0}'.format(args.name), input='line one\\n')\nreturn r.stdout",
    entryName: "scripts/deploy.sh",
    script: sh('. ./common.sh\necho "$(basename "$PWD") $GREETING $1 $2 $IDEM_EXECUTION"\ncat'),
    files: { common: { Name: "scripts/common.sh", BodyType: "Text", Body: "GREETING=hi\n" } },
    parameters: { name: "web-1" },
  });
  const { outcome } = await run(plan);
  assert.deepEqual(outcome, { errorCode: 0, body: JSON.stringify("scripts hi --name web-1 test\nline one") });
});

test("stdout and stderr are captured and stripped; empty or uncaptured output is null", async () => {
  const plan = makePlan({
    body: "r = deploy()\nreturn [r.exitCode, r.stdout, r.stderr]",
    script: sh("printf '  out put \\n\\n'\nprintf '\\terr\\n' >&2"),
  });
  assert.deepEqual((await run(plan)).body, [0, "out put", "err"]);

  const quiet = makePlan({
    body: "r = deploy()\nreturn [r.stdout, r.stderr]",
    script: sh("echo visible\necho '   ' >&2"),
    options: { captureStdout: false, captureStderr: true },
  });
  assert.deepEqual((await run(quiet)).body, [null, null]);
});

test("a non-zero exit with verifyExitcode fails the plan with code 100 and the script's output", async () => {
  const plan = makePlan({
    body: "deploy('a b')\nreturn 'unreached'",
    script: sh('echo "got $*"\necho oops >&2\nexit 3'),
  });
  const { outcome } = await run(plan);
  assert.equal(outcome.errorCode, 100);
  assert.equal(
    outcome.body,
    '{"Message":"Script deploy returned error code","AdditionalInfo":{"exitCode":3,"stdout":"got a b","stderr":"oops"}}',
  );
});

test("with verifyExitcode false a non-zero exit is returned to the Body", async () => {
  const plan = makePlan({
    body: "return deploy().exitCode == 0",
    script: sh("exit 3"),
    options: { captureStdout: true, captureStderr: true, verifyExitcode: false },
  });
  assert.deepEqual((await run(plan)).outcome, { errorCode: 0, body: "false" });
});

test("a script killed by a signal reports what /bin/sh -c reports for it, as murano-agent does", async () => {
  const plan = makePlan({
    body: "return deploy().exitCode",
    script: sh("kill -9 $$"),
    options: { verifyExitcode: false },
  });
  assert.deepEqual((await run(plan)).outcome, { errorCode: 0, body: "137" });
});

test("a timed-out script's AdditionalInfo reports the negative signal number of the killed shell", async () => {
  const plan = makePlan({ body: "return deploy()", script: sh("echo started\nsleep 300") });
  const { outcome, body } = await run(plan, { timeoutMs: 300, killGraceMs: 2000 });
  assert.equal(outcome.errorCode, 101);
  assert.deepEqual((body as { AdditionalInfo: unknown }).AdditionalInfo, {
    exitCode: -15,
    stdout: "started",
    stderr: null,
  });
});

test("the Timeout kills the whole process group, TERM first", async () => {
  const pidFile = join(root, "bg-term.pid");
  const plan = makePlan({ body: "return deploy()", script: sh(`sleep 300 &\necho $! > ${pidFile}\nwait`) });
  const started = Date.now();
  const { outcome, body, pgids } = await run(plan, { timeoutMs: 500, killGraceMs: 5000 });
  assert.ok(Date.now() - started < 4000, "TERM was enough: no wait for the KILL");
  assert.equal(outcome.errorCode, 101);
  assert.match(
    (body as { Message: string }).Message,
    /ran past its timeout of 0\.5 s; script deploy was killed/,
  );
  assert.equal(pgids.length, 1);
  assert.ok(groupIsGone(pgids[0] as number), "no process of the script's group is left");
  assert.throws(() => process.kill(Number(readFileSync(pidFile, "utf8")), 0), { code: "ESRCH" });
});

test("a Timeout beyond setTimeout's 24.8-day limit does not expire at once", async () => {
  const plan = makePlan({ body: "return deploy().stdout", script: sh("sleep 0.2; echo done") });
  const { outcome } = await run(plan, { timeoutMs: 30 * 24 * 3600 * 1000 });
  assert.deepEqual(outcome, { errorCode: 0, body: '"done"' });
});

test("a process group that ignores TERM is killed with KILL after the grace period", async () => {
  const plan = makePlan({ body: "return deploy()", script: sh("trap '' TERM\nsleep 300 &\nsleep 300") });
  const { outcome, pgids } = await run(plan, { timeoutMs: 300, killGraceMs: 300 });
  assert.equal(outcome.errorCode, 101);
  assert.ok(groupIsGone(pgids[0] as number));
});

test("aborting the execution kills the running script and ends it", async () => {
  const controller = new AbortController();
  const plan = makePlan({ body: "return deploy()", script: sh("sleep 300") });
  const pending = run(plan, {
    signal: controller.signal,
    onSpawn: () => setTimeout(() => controller.abort(), 100),
  });
  const { outcome } = await pending;
  assert.equal(outcome.errorCode, 1);
  assert.match(outcome.body, /execution was aborted/);
});

test("a Body computing forever is answered 101 at its Timeout, and its work dir is removed", async () => {
  const plan = makePlan({ body: "deploy()\nfor x in range(10**12):\n  pass", script: sh("echo started") });
  const started = Date.now();
  const { outcome, body, pgids, workRoot } = await run(plan, { timeoutMs: 1500 });
  const elapsed = Date.now() - started;
  assert.equal(outcome.errorCode, 101, outcome.body);
  assert.equal(
    (body as { Message: string }).Message,
    "Cannot finish the plan as it ran past its timeout of 1.5 s",
  );
  assert.ok(elapsed >= 1500 && elapsed < 6000, `answered after ${elapsed} ms`);
  assert.equal(pgids.length, 1, "the script before the loop ran");
  assert.deepEqual(await readdir(workRoot), []);
});

test("aborting while the Body computes ends the execution at once", async () => {
  const controller = new AbortController();
  const plan = makePlan({ body: "return sum(range(10**15))", script: sh("true") });
  setTimeout(() => controller.abort(new Error("the agent is stopping")), 300);
  const started = Date.now();
  const { outcome } = await run(plan, { signal: controller.signal });
  assert.equal(outcome.errorCode, 1);
  assert.match(outcome.body, /execution was aborted: the agent is stopping/);
  assert.ok(Date.now() - started < 2500);
});

test("a Body beyond bodyMemoryMB is code 1 MemoryError, and the next plan runs", async () => {
  const hungry = makePlan({ body: "y = [[0]*10**7 for i in range(1000)]", script: sh("true") });
  const { outcome, body } = await run(hungry, { bodyMemoryMB: 64 });
  assert.equal(outcome.errorCode, 1);
  assert.deepEqual(body, {
    Message: "MemoryError: the Body needed more memory than its limit of 64 MB (bodyMemoryMB)",
    AdditionalInfo: null,
  });
  const next = makePlan({ body: "return deploy().stdout", script: sh("echo fine") });
  assert.deepEqual((await run(next, { bodyMemoryMB: 64 })).outcome, { errorCode: 0, body: '"fine"' });
});

test("captured output is capped and the truncation is noted", async () => {
  const plan = makePlan({
    body: "return deploy().stdout",
    script: sh("i=0; while [ $i -lt 2000 ]; do echo 0123456789; i=$((i+1)); done"),
  });
  const { body } = await run(plan, { outputCapBytes: 1100 });
  const text = body as string;
  assert.ok(text.startsWith("0123456789\n0123456789"));
  assert.match(text, /\n\[idem: output truncated, 20900 more bytes not captured\]$/);
  assert.ok(text.length < 1200);
});

test("a refused Body writes and executes nothing", async () => {
  const marker = join(root, "never");
  const plan = makePlan({ body: "import os\nreturn deploy()", script: sh(`touch ${marker}`) });
  const { outcome, pgids, workRoot } = await run(plan);
  assert.equal(outcome.errorCode, 2);
  assert.deepEqual(pgids, []);
  assert.deepEqual(await readdir(workRoot), []);
  await assert.rejects(readFile(marker), { code: "ENOENT" });
});

test("the work directory is removed after the execution", async () => {
  const plan = makePlan({ body: "return deploy().stdout", script: sh("pwd") });
  const { body, workRoot } = await run(plan);
  assert.match(body as string, new RegExp(`^${workRoot}/run-[^/]+/deploy$`));
  assert.deepEqual(await readdir(workRoot), []);
});

test("an error raised by the Body is code 1 with the Python message", async () => {
  const plan = makePlan({ body: "return args.missing", script: sh("true") });
  const { outcome, body } = await run(plan);
  assert.equal(outcome.errorCode, 1);
  assert.deepEqual(Object.keys(body as object), ["Message", "AdditionalInfo"]);
});

test("corpus plans in the Application subset get murano-agent's exact ErrorCode and Body", async () => {
  const dir = CORPUS_CASES;
  const mismatches: string[] = [];
  let checked = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".json"))) {
    const c = JSON.parse(readFileSync(join(dir, file), "utf8")) as CorpusCase;
    if (c.compare !== "exact" || !["single-call", "simple", "control-flow"].includes(c.class)) continue;
    if (deviationFor(c)) continue; // a deliberate deviation (lambda): conformance.test.ts checks its answer
    const plan = { ID: c.message_id, ...c.plan };
    const { outcome, body } = await run(plan);
    checked++;
    if (outcome.errorCode !== c.expected.ErrorCode || !isDeepStrictEqual(body, c.expected.Body)) {
      mismatches.push(`${file}: ${outcome.errorCode} ${outcome.body.slice(0, 200)}`);
    }
  }
  assert.ok(checked >= 190, `checked ${checked} cases`);
  assert.deepEqual(mismatches, []);
});

test("a stop while a script's files are cloned removes the work dir only once the clone has ended", async (t) => {
  // A git URL on a server that answers git's first request with a few bytes and then holds it: the clone is in
  // flight when the execution is stopped.
  let requested: () => void = () => {};
  const inFlight = new Promise<void>((resolve) => {
    requested = resolve;
  });
  let reached = false;
  const server = createServer((_request, response) => {
    reached = true;
    response.writeHead(200, { "content-type": "application/x-git-upload-pack-advertisement" });
    response.write("001e# service=git-upload-pack\n");
    requested();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  t.after(() => server.closeAllConnections());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cookbook.git`;
  const plan = makePlan({ body: "return deploy().stdout", script: sh("echo never") });
  (plan.Files as Record<string, unknown>).cookbook = { Type: "Downloadable", URL: url, Name: "cookbook" };
  (plan.Scripts as { deploy: { Files: string[] } }).deploy.Files = ["cookbook"];
  const abort = new AbortController();
  void inFlight.then(() => abort.abort());
  // When the work dir's removal is handed over, git (killed by the stop) must have exited: a clone still
  // writing could leave files behind in a removed work dir.
  let gitAtHandover: string[] | undefined;
  const { outcome } = await run(plan, {
    signal: abort.signal,
    deferRemoval: (remove) => {
      // git alive, or exited and not yet reaped (a zombie: no command line); a Body worker of an earlier test is
      // the only other child this process may have.
      gitAtHandover = childrenOf(process.pid)
        .filter((child) => child.argv.length === 0 || basename(child.argv[0] ?? "").startsWith("git"))
        .map((child) => `${child.pid} ${child.argv.join(" ") || "(exited, not reaped)"}`);
      void remove();
    },
  });
  // The clone was under way when the stop came (git reached the server), and the stop ended the execution.
  assert.ok(reached, "git never reached the server: the stop did not come mid-clone");
  assert.match(JSON.parse(outcome.body).Message, /aborted/);
  assert.deepEqual(
    gitAtHandover,
    [],
    "git was still running (or not yet reaped) when the work dir's removal was handed over",
  );
});

test("a Body whose worker dies while its script runs: the script's process group is killed before the answer", async () => {
  // A loop sends the Body to the worker (docs/murano.md); the worker is killed from outside while the script runs.
  const plan = makePlan({
    body: "for i in range(1):\n  r = deploy()\nreturn r.stdout",
    script: sh("sleep 30"),
  });
  const pgids: number[] = [];
  const { outcome } = await run(plan, {
    onSpawn: (pgid) => {
      pgids.push(pgid);
      const worker = childrenOf(process.pid).find((child) => child.argv.includes(BODY_WORKER_ARG));
      assert.ok(worker, "the Body runs in a worker");
      process.kill(worker.pid, "SIGKILL");
    },
  });
  assert.notEqual(outcome.errorCode, 0, outcome.body);
  const [pgid] = pgids;
  assert.ok(pgid !== undefined, "the script was started");
  assert.ok(groupIsGone(pgid), "the script still runs after the plan was answered");
});
