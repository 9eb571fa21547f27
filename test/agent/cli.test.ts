/**
 * SPEC 10 command line, issue 12 item 2: `idem COMMAND --help` / `-h` prints that command's usage and exits 0 for
 * every command; `idem --help` is self-contained; usage errors name the flag and exit 2; importing agent/cli.ts
 * runs nothing (agent/main.ts does). In-process through `main`, and one real child process for the import.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { COMMANDS } from "../../agent/cli.ts";
import { REPO_ROOT } from "../helpers/agent_process.ts";
import { idem } from "../helpers/in_process.ts";

test("every command answers --help and -h with its own usage, exit 0, wherever the flag stands", async () => {
  assert.ok(COMMANDS.length >= 6);
  for (const command of COMMANDS) {
    for (const args of [
      [command.name, "--help"],
      [command.name, "-h"],
      [command.name, "--data-dir", "/x", "--help"],
    ]) {
      const outcome = await idem(args);
      assert.equal(outcome.code, 0, `idem ${args.join(" ")}: ${outcome.stderr}`);
      assert.equal(outcome.stderr, "");
      assert.match(outcome.stdout, new RegExp(`^Usage: idem ${command.name}\\b`), args.join(" "));
    }
  }
});

test("idem --help lists every command and points to nothing that is not beside the executable", async () => {
  const outcome = await idem(["--help"]);
  assert.equal(outcome.code, 0);
  for (const command of COMMANDS) assert.match(outcome.stdout, new RegExp(`idem ${command.name} `));
  assert.match(outcome.stdout, /idem COMMAND --help/);
  // Docs are named only as being in the source repository.
  for (const line of outcome.stdout.split("\n").filter((l) => /README|docs\//.test(l))) {
    assert.match(line, /in the source repository/, line);
  }
});

test("an unknown option names it and the command's help, exit 2 (no Node wording)", async () => {
  const outcome = await idem(["forget", "--datadir", "/x", "key"]);
  assert.equal(outcome.code, 2);
  assert.match(outcome.stderr, /^idem forget: unknown option --datadir .*see idem forget --help/);
  const fence = await idem(["fence", "--generation", "-1"]);
  assert.equal(fence.code, 2);
  assert.match(fence.stderr, /Cannot use --generation -1: give a whole number >= 0/);
  assert.doesNotMatch(fence.stderr, /ambiguous/);
  const unknown = await idem(["launch"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "launch"/);
});

test("send's usage errors name the flag: --options not an object, no --agent-id", async () => {
  const options = await idem(["send", "--agent-id", "vm-1", "--options", "[1,2]", "plan.json"]);
  assert.equal(options.code, 2);
  assert.match(options.stderr, /Cannot use --options \[1,2\]: give one JSON object/);
  const notJson = await idem(["send", "--agent-id", "vm-1", "--options", "{window: 1}", "plan.json"]);
  assert.equal(notJson.code, 2);
  assert.match(notJson.stderr, /Cannot use --options as JSON/);
  const noAgent = await idem(["send", "plan.json"]);
  assert.equal(noAgent.code, 2);
  assert.match(noAgent.stderr, /without --agent-id ID \(or IDEM_AGENT_ID\)/);
  const wait = await idem(["send", "--agent-id", "vm-1", "--wait", "soon", "plan.json"]);
  assert.equal(wait.code, 2);
  assert.match(wait.stderr, /Cannot use --wait soon: give seconds >= 0/);
});

test("importing agent/cli.ts runs nothing; agent/main.ts is the entry", () => {
  const imported = spawnSync(
    process.execPath,
    ["-e", 'import("./agent/cli.ts").then(() => console.log("imported"))'],
    {
      cwd: REPO_ROOT,
      encoding: "utf8",
    },
  );
  assert.equal(imported.status, 0, imported.stderr);
  assert.equal(imported.stdout, "imported\n");
  const entry = spawnSync(process.execPath, ["agent/main.ts", "--version"], {
    cwd: REPO_ROOT,
    encoding: "utf8",
  });
  assert.equal(entry.status, 0, entry.stderr);
  assert.match(entry.stdout, /^idem \d+\.\d+\.\d+/);
});
