/**
 * Scenarios a (engine failover), c (re-created VM) and d (duplicate while running) of the end-to-end suite,
 * run again against the single executable and against the bundle on Deno. The scenario files are the same;
 * only the command that starts the agent changes (`IDEM_AGENT_COMMAND`, read by test/helpers/agent_process.ts).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { BUNDLE, DENO_PERMISSIONS, denoBinary, EXECUTABLE, ensureBuilt, REPO_ROOT } from "./runtimes.ts";

const SCENARIOS = [
  "test/e2e/failover_replay.test.ts",
  "test/e2e/recreated_vm.test.ts",
  "test/e2e/duplicate_running.test.ts",
];

const RUNTIMES: Array<[string, string[]]> = [
  ["the single executable", [EXECUTABLE]],
  ["the bundle on Deno", [denoBinary(), "run", ...DENO_PERMISSIONS, BUNDLE]],
];

function runScenarios(command: string[]): Promise<{ code: number | null; output: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, IDEM_AGENT_COMMAND: JSON.stringify(command) };
  delete env.NODE_TEST_CONTEXT; // a nested runner of its own, not a child reporting to this one
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--test", "--test-concurrency=1", "--test-reporter=spec", ...SCENARIOS],
      {
        cwd: REPO_ROOT,
        env,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, output }));
  });
}

for (const [name, command] of RUNTIMES) {
  test(`scenarios a, c and d pass against ${name}`, { timeout: 300_000 }, async () => {
    ensureBuilt({ executable: true });
    const { code, output } = await runScenarios(command);
    const passed = output.split("\n").filter((line) => line.startsWith("✔"));
    console.log(`${name}:\n${passed.map((line) => `  ${line}`).join("\n")}`);
    assert.equal(code, 0, output);
    assert.match(output, /ℹ fail 0/);
    assert.ok(passed.length >= 5, `expected the scenarios' tests to run:\n${output}`);
  });
}
