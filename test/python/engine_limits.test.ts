/**
 * The engine's limits inside the interpreter (agent/python/runtime/engine_limits.ts, agent/python/mod.ts): only
 * the JavaScript stack running out is CPython's RecursionError; a string, BigInt or array beyond what V8 holds is
 * MemoryError; every other RangeError (an argument out of range inside the interpreter) is a bug, never either.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { IdemError } from "../../agent/errors.ts";
import { compile, evaluate } from "../../agent/python/mod.ts";
import { engineLimit, isStackOverflow } from "../../agent/python/runtime/engine_limits.ts";

function thrown(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  assert.fail("nothing was thrown");
}

function recurse(depth: number): number {
  return recurse(depth + 1) + 1;
}

test("the JavaScript stack running out is the stack limit, and only it", () => {
  assert.equal(engineLimit(thrown(() => recurse(0))), "stack");
  assert.ok(isStackOverflow(thrown(() => recurse(0))));
  assert.ok(!isStackOverflow(thrown(() => "x".repeat(2 ** 31))));
});

test("a string, BigInt or array beyond what the engine holds is the memory limit", () => {
  const huge = "x".repeat(2 ** 28);
  assert.equal(engineLimit(thrown(() => huge + huge + huge)), "memory");
  assert.equal(engineLimit(thrown(() => 2n ** (2n ** 33n))), "memory");
  assert.equal(engineLimit(thrown(() => new Array(2 ** 32))), "memory");
  const items: number[] = [];
  assert.equal(engineLimit(thrown(() => items.push(...new Array(2 ** 24)))), "stack"); // a spread too long
});

test("other RangeErrors (arguments out of range) are no engine limit: the interpreter's bugs", () => {
  for (const action of [
    () => (0.1).toFixed(120),
    () => String.fromCodePoint(0x110000),
    () => BigInt(1.5),
    () => BigInt(Number.POSITIVE_INFINITY),
    () => "x".repeat(-1),
    () => 1n / 0n,
    () => new Date(Number.NaN).toISOString(),
  ]) {
    const error = thrown(action);
    assert.ok(error instanceof RangeError);
    assert.equal(engineLimit(error), null, String(error));
  }
  assert.equal(engineLimit(new TypeError("Maximum call stack size exceeded")), null);
});

test("a Body that runs the JavaScript stack out is code 1 RecursionError", () => {
  // CPython 3.11: RecursionError "maximum recursion depth exceeded in comparison" (python3, checked).
  const source = "x = []\ny = []\nfor i in range(10**5):\n  x = [x]\n  y = [y]\nreturn x == y";
  const program = compile(source, { scripts: new Set() });
  const error = thrown(() =>
    evaluate(program, { args: null, scripts: new Set(), call: () => assert.fail() }),
  );
  assert.ok(error instanceof IdemError, String(error));
  assert.equal(error.code, 1);
  assert.equal(error.cause, "RecursionError");
  assert.match(error.message, /^maximum recursion depth exceeded/);
});

test("the limits are learned on the first question, not at load: a start does not run the stack out", () => {
  // The main thread's stack, as the kernel has grown it (VmStk, kB), in a fresh Node with the executable's
  // --stack-size (build.mjs V8_FLAGS): after the import, then after the first RangeError asked about.
  const module = new URL("../../agent/python/runtime/engine_limits.ts", import.meta.url).href;
  const script = `
    import { readFileSync } from "node:fs";
    const stack = () => Number(/^VmStk:\\s+(\\d+) kB/m.exec(readFileSync("/proc/self/status", "utf8"))[1]);
    const { engineLimit } = await import(${JSON.stringify(module)});
    const loaded = stack();
    const limit = engineLimit(new RangeError("not a limit"));
    console.log(JSON.stringify({ loaded, limit, asked: stack() }));`;
  const out = execFileSync(process.execPath, ["--stack-size=1500", "--input-type=module", "-e", script], {
    encoding: "utf8",
  });
  const { loaded, limit, asked } = JSON.parse(out) as { loaded: number; limit: null; asked: number };
  assert.equal(limit, null);
  assert.ok(loaded < 512, `the stack grew to ${loaded} kB at load`);
  assert.ok(asked > 1000, `the stack grew only to ${asked} kB when asked: the limits were not learned`);
});
