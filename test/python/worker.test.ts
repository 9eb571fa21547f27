/**
 * The Body worker (agent/python/worker/worker.ts): a real child process evaluates the Body while this event loop stays
 * free; script calls are brokered back here; an abort kills it at once; a heap beyond the limit is a MemoryError,
 * never a dead agent; errors come back of the type they left with; a worker never outlives its agent.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import fc from "fast-check";
import { EnvironmentError, IdemError } from "../../agent/errors.ts";
import { type JsonValue, parseJson } from "../../agent/json/parse.ts";
import type { ScriptOutcome } from "../../agent/python/eval/script.ts";
import { type BoundedOptions, evaluateBounded, InternalError } from "../../agent/python/mod.ts";
import { encodeFrame, FrameReader, type ToWorker } from "../../agent/python/worker/worker_protocol.ts";
import { paramsJson } from "../helpers/body_params.ts";
import { PythonBodies } from "../helpers/python_body.ts";

const LIMITS = { memoryMB: 128 };
const noScripts: BoundedOptions["call"] = () => Promise.reject(new Error("no script expected"));

/** The plan's Parameters as the agent's one parse reads them (agent/json/parse.ts). */
function parametersOf(planText: string): JsonValue {
  const parsed = parseJson(planText);
  assert.ok(parsed.ok && parsed.value instanceof Map, planText);
  return parsed.value.get("Parameters") ?? null;
}

function bounded(
  source: string,
  options: Partial<BoundedOptions> & { planText?: string; scripts?: string[] } = {},
) {
  return evaluateBounded(
    { source, parameters: parametersOf(options.planText ?? "{}"), scripts: options.scripts ?? [] },
    {
      call: options.call ?? noScripts,
      limits: options.limits ?? LIMITS,
      ...(options.signal ? { signal: options.signal } : {}),
    },
  );
}

/** Whether a process exists (a zombie counts as gone: it runs nothing). */
function running(pid: number): boolean {
  try {
    return !/^State:\s+[ZX]/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
}

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return condition();
}

test("a Body's value comes back as json.dumps text, args exact and in the plan's key order", async () => {
  const planText = '{"ID": "p", "Parameters": {"b": 9007199254740993, "a": 1.0, "2": "x", "1": "y"}}';
  const json = await bounded("return [args.b + 1, args.a, list(args.keys())]", { planText });
  assert.equal(json, '[9007199254740994, 1.0, ["b", "a", "2", "1"]]');
});

test("frames carry the Parameters tree exactly: key order, big ints, 1.0 vs 1, -0.0, NaN, any chunking", () => {
  const parameters = parametersOf(
    '{"Parameters": {"b": 9007199254740993, "a": 1.0, "i": 1, "z": -0.0, "n": NaN, "2": [1e400, -Infinity],' +
      ' "1": {"__proto__": "\\ud800", "big": -100000000000000000000000}}}',
  );
  const request: ToWorker = { t: "evaluate", source: "return args", parameters, scripts: ["deploy"] };
  const bytes = Buffer.concat([
    encodeFrame(request),
    encodeFrame({ t: "raise", error: { kind: "internal", message: "m", detail: "d" } }),
  ]);
  fc.assert(
    fc.property(fc.uniqueArray(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 8 }), (cuts) => {
      const reader = new FrameReader<ToWorker>();
      const messages: ToWorker[] = [];
      let from = 0;
      for (const cut of [...cuts.sort((x, y) => x - y), bytes.length]) {
        messages.push(...reader.push(bytes.subarray(from, cut)));
        from = cut;
      }
      assert.equal(messages.length, 2);
      const [first] = messages;
      assert.ok(first?.t === "evaluate");
      assert.ok(first.parameters instanceof Map);
      assert.deepEqual([...first.parameters.keys()], ["b", "a", "i", "z", "n", "2", "1"]);
      assert.equal(first.parameters.get("b"), 9007199254740993n);
      assert.equal(first.parameters.get("a"), 1); // a float: a number, not a bigint
      assert.equal(first.parameters.get("i"), 1n);
      assert.ok(Object.is(first.parameters.get("z"), -0));
      assert.ok(Number.isNaN(first.parameters.get("n")));
      assert.deepEqual(first.parameters.get("2"), [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
      const inner = first.parameters.get("1");
      assert.ok(inner instanceof Map);
      assert.deepEqual(
        [...inner],
        [
          ["__proto__", "\ud800"],
          ["big", -100000000000000000000000n],
        ],
      );
    }),
  );
});

test("args in the worker are CPython's json.loads of the plan's Parameters (property, vs python3)", async () => {
  const python = new PythonBodies();
  try {
    const seed = Date.now();
    console.log(`fast-check seed ${seed}`);
    await fc.assert(
      fc.asyncProperty(paramsJson, async (params) => {
        const [expected] = await python.run([{ topic: "args", body: "return args", params, scripts: [] }]);
        assert.ok(expected?.kind === "ok", JSON.stringify(expected));
        const json = await bounded("return args", { planText: `{"Parameters": ${params}}` });
        assert.equal(json, expected.json, params);
      }),
      { seed, numRuns: 150 },
    );
  } finally {
    python.close();
  }
});

test("script calls are brokered to the agent, which runs them and answers, in the Body's order", async () => {
  const calls: string[] = [];
  const call: BoundedOptions["call"] = async (name, commandline, input) => {
    calls.push(`${name} ${commandline} ${input}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
    return { exitCode: 0, stdout: `out of ${commandline}`, stderr: null } satisfies ScriptOutcome;
  };
  const source =
    "r = deploy('a', input='in')\ns = deploy(commandline=r.stdout)\nreturn [r.stdout, s['stdout'], s.exitCode]";
  const json = await bounded(source, { call, scripts: ["deploy"] });
  assert.equal(json, '["out of a", "out of out of a", 0]');
  assert.deepEqual(calls, ["deploy a in", "deploy out of a null"]);
});

test("errors cross back with their type: a script's IdemError, an EnvironmentError, a Python exception", async () => {
  const info = { exitCode: 3, stdout: "x", stderr: null };
  const failing: BoundedOptions["call"] = () =>
    Promise.reject(new IdemError(100, "Script deploy returned error code", { info }));
  await assert.rejects(bounded("deploy()\nreturn 1", { call: failing, scripts: ["deploy"] }), (error) => {
    assert.ok(error instanceof IdemError);
    assert.equal(error.code, 100);
    assert.deepEqual(error.info, info);
    return true;
  });
  const diskFull: BoundedOptions["call"] = () =>
    Promise.reject(new EnvironmentError("disk", "Cannot place: ENOSPC"));
  await assert.rejects(bounded("return deploy()", { call: diskFull, scripts: ["deploy"] }), (error) => {
    assert.ok(error instanceof EnvironmentError, String(error));
    assert.equal(error.resource, "disk");
    return true;
  });
  await assert.rejects(bounded("return {'a': 1}['b']"), (error) => {
    assert.ok(error instanceof IdemError);
    assert.equal(error.code, 1);
    assert.equal(error.message, "'b'");
    assert.equal(error.cause, "KeyError");
    return true;
  });
});

test("a JavaScript error inside the evaluation is an InternalError whose message has no JavaScript text", async () => {
  const buggy: BoundedOptions["call"] = () =>
    Promise.reject(new TypeError("Cannot read properties of undefined"));
  await assert.rejects(bounded("return deploy()", { call: buggy, scripts: ["deploy"] }), (error) => {
    assert.ok(error instanceof InternalError, String(error));
    assert.equal(error.message, InternalError.MESSAGE);
    assert.match(error.detail, /TypeError: Cannot read properties of undefined/);
    return true;
  });
});

test("while a Body computes, the agent's event loop keeps running", async () => {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 20);
  const started = Date.now();
  try {
    await bounded("n = 0\nfor i in range(3 * 10**6):\n  n += i\nreturn n");
  } finally {
    clearInterval(timer);
  }
  const elapsed = Date.now() - started;
  assert.ok(ticks >= Math.floor(elapsed / 20 / 4), `${ticks} ticks in ${elapsed} ms`);
});

test("aborting kills a Body that computes forever at once, and the next Body runs", async () => {
  for (const source of ["for x in range(10**12):\n  pass", "return sum(range(10**14))"]) {
    const controller = new AbortController();
    const reason = new Error("plan timed out");
    setTimeout(() => controller.abort(reason), 300);
    const started = Date.now();
    await assert.rejects(bounded(source, { signal: controller.signal }), (error) => error === reason);
    assert.ok(Date.now() - started < 2000, `stopped after ${Date.now() - started} ms`);
  }
  assert.equal(await bounded("return 'next'"), '"next"');
});

test("a Body beyond its memory limit is code 1 MemoryError, answered promptly, and the next Body runs", async () => {
  for (const source of [
    "y = [[0]*10**7 for i in range(1000)]",
    "y = []\nfor i in range(10**9):\n  y.append(i)",
  ]) {
    const started = Date.now();
    await assert.rejects(bounded(source, { limits: { memoryMB: 64 } }), (error) => {
      assert.ok(error instanceof IdemError, String(error));
      assert.equal(error.code, 1);
      assert.equal(error.cause, "MemoryError");
      assert.match(error.message, /^MemoryError: .*64 MB \(bodyMemoryMB\)$/);
      return true;
    });
    // The watchdog answers at the limit; V8's own limit answered after seconds of futile garbage collection.
    const elapsed = Date.now() - started;
    console.log(`MemoryError after ${elapsed} ms: ${source.split("\n")[0]}`);
    // Includes a cold worker's start (this limit is not the spare worker's): generous for a loaded machine.
    assert.ok(elapsed < 15_000, `MemoryError after ${elapsed} ms`);
  }
  assert.equal(await bounded("return len([0]*10**6)", { limits: { memoryMB: 64 } }), "1000000");
});

test("a worker computing forever dies with its agent (kill -9)", { timeout: 30_000 }, async () => {
  const worker = new URL("../../agent/python/worker/worker.ts", import.meta.url).href;
  const script = `import(${JSON.stringify(worker)}).then((m) => m.evaluateBounded(
    { source: "for x in range(10**12):\\n  pass", parameters: null, scripts: [] },
    { call: async () => { throw new Error(); }, limits: { memoryMB: 64 } }))`;
  const agent = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: "ignore" });
  const pid = agent.pid as number;
  const children = () =>
    readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  assert.ok(await until(() => running(pid) && children().length > 0, 10_000), "the worker started");
  const [child] = children();
  assert.ok(child !== undefined && running(child));
  agent.kill("SIGKILL");
  assert.ok(await until(() => !running(child), 5000), `worker ${child} outlived its agent`);
});
