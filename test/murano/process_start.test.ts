/**
 * agent/native/posix_spawn.ts: a child started with libc's posix_spawn (through koffi) is set up as Node's
 * `detached` spawn sets one up, and its end is reported the same way — checked differentially: the same probes
 * (test/helpers/process_probe.ts) run here with posix_spawn and in a child Node process with
 * `IDEM_SPAWN=child_process`, and both must give what libuv gives. Real processes.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { returnCode, spawnMethod, startProcess } from "../../agent/native/posix_spawn.ts";
import { probe } from "../helpers/process_probe.ts";

const PROBE = join(import.meta.dirname, "../helpers/process_probe.ts");

function probeWithChildProcess(): Record<string, unknown> {
  const text = execFileSync(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      `const { probe } = await import(${JSON.stringify(PROBE)});
       const { spawnMethod } = await import(${JSON.stringify(join(import.meta.dirname, "../../agent/native/posix_spawn.ts"))});
       process.stdout.write(JSON.stringify({ method: spawnMethod().method, probes: await probe() }));`,
    ],
    { env: { ...process.env, IDEM_SPAWN: "child_process" }, encoding: "utf8" },
  );
  const { method, probes } = JSON.parse(text) as { method: string; probes: Record<string, unknown> };
  assert.equal(method, "child_process");
  return probes;
}

test("on this machine (Node, glibc ≥ 2.34) children are started with posix_spawn", () => {
  assert.deepEqual(spawnMethod(), { method: "posix_spawn" });
});

test("posix_spawn and child_process.spawn start a child alike and report its end alike", async () => {
  const expected = {
    exitCode: { code: 7, signal: null, stdout: "", stderr: "" },
    signalDeath: { code: null, signal: "SIGTERM", stdout: "", stderr: "" },
    inputAndOutput: { code: 0, signal: null, stdout: "hello\n", stderr: "to-stderr\n" },
    cwd: "/usr\n",
    // PWD is the shell's own (the agent's folder: no cwd given).
    env: `ONLY=this\nPATH=/bin:/usr/bin\nPWD=${process.cwd()}\n`,
    session: "own\n",
    stdinWithoutInput: "/dev/null\n",
    descriptors: "",
    signals: "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n",
    pathLookup: { code: 0, signal: null },
    missingProgram: "ENOENT",
    pidIsNumber: true,
    nulRefused: "ERR_INVALID_ARG_VALUE",
    argv0: "sh",
    noShebang: "no shebang x",
    unreadOutput: { code: 0, signal: null },
  };
  const posix = await probe();
  const fallback = probeWithChildProcess();
  assert.deepEqual(fallback, expected, "child_process.spawn");
  // glibc's posix_spawn leaves its two internal signals (32, 33: thread cancellation and set*id) ignored in the
  // child, on purpose (sigfillset cannot name them); a program that uses threads sets its own handlers for them at
  // start, and a shell never sees them.
  assert.deepEqual(
    posix,
    { ...expected, signals: "SigBlk:\t0000000000000000\nSigIgn:\t0000000180000000\n" },
    "posix_spawn",
  );
});

test("a death by a real-time signal (no name) is reported with its number, as Python's returncode", async () => {
  const child = await startProcess({
    file: "/bin/sh",
    args: ["-c", "kill -s 36 $$"],
    env: {},
    stdio: ["ignore", "ignore", "ignore"],
  });
  assert.equal(returnCode(await child.closed), -36);
});
