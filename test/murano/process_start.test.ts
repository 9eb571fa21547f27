/**
 * agent/native/posix_spawn.ts: a child started with libc's posix_spawn (through koffi) is set up as Node's
 * `detached` spawn sets one up, and its end is reported the same way — checked differentially: the same probes
 * (test/helpers/process_probe.ts) run in a child Node process with `IDEM_SPAWN=posix_spawn` and in one with
 * `IDEM_SPAWN=child_process`, each holding an LMDB environment open as the agent does (a descriptor without
 * close-on-exec that no script may inherit), and both must give what libuv gives. Real processes.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { returnCode, spawnMethod, startProcess } from "../../agent/native/posix_spawn.ts";

const PROBE = join(import.meta.dirname, "../helpers/process_probe.ts");
const REPO = join(import.meta.dirname, "../..");

/**
 * The probes run in a child Node process with `IDEM_SPAWN=<method>` that first opens an LMDB environment, as the
 * agent opens its journal: lmdb opens `data.mdb` without close-on-exec (the canary; Node itself marks the
 * descriptors it inherits close-on-exec, so a careless open in native code is how an agent leaks one). A child the
 * probes start must not see it.
 */
function probeWith(method: "posix_spawn" | "child_process"): Record<string, unknown> {
  const dir = mkdtempSync(join(tmpdir(), "idem-probe-"));
  try {
    const text = execFileSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const { open } = await import("lmdb");
         open({ path: ${JSON.stringify(dir)} }).putSync("canary", 1);
         const { probe } = await import(${JSON.stringify(PROBE)});
         const { spawnMethod } = await import(${JSON.stringify(join(import.meta.dirname, "../../agent/native/posix_spawn.ts"))});
         process.stdout.write(JSON.stringify({ method: spawnMethod().method, probes: await probe() }));`,
      ],
      {
        cwd: REPO,
        env: { ...process.env, IDEM_SPAWN: method, IDEM_PROBE_CANARY: join(dir, "data.mdb") },
        encoding: "utf8",
      },
    );
    const { method: used, probes } = JSON.parse(text) as { method: string; probes: Record<string, unknown> };
    assert.equal(used, method);
    return probes;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
    env: `ONLY=this\nPATH=/bin:/usr/bin\nPWD=${REPO.replace(/\/$/, "")}\n`,
    session: "own\n",
    stdinWithoutInput: "/dev/null\n",
    descriptors: "",
    canary: true,
    signals: "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n",
    pathLookup: { code: 0, signal: null },
    missingProgram: "ENOENT",
    pidIsNumber: true,
    nulRefused: "ERR_INVALID_ARG_VALUE",
    argv0: "sh",
    noShebang: "no shebang x",
    unreadOutput: { code: 0, signal: null },
  };
  const posix = probeWith("posix_spawn");
  const fallback = probeWith("child_process");
  // The fallback gives the child /dev/null for every descriptor of the agent's above 2 (sealed_stdio.ts).
  assert.deepEqual(fallback, { ...expected, descriptors: "/dev/null" }, "child_process.spawn");
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
