/**
 * What a child started by agent/native/posix_spawn.ts sees and how its end is reported, as one JSON-able object:
 * run in the test's own process (posix_spawn) and in a child Node process with `IDEM_SPAWN=child_process`
 * (test/murano/process_start.test.ts), the two must agree with each other and with what libuv's `detached` spawn
 * gives. Real processes, real /proc.
 */
import { startProcess } from "../../agent/native/posix_spawn.ts";

async function run(
  script: string,
  options: { input?: string; cwd?: string; env?: Record<string, string> } = {},
): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  const child = await startProcess({
    file: "/bin/sh",
    args: ["-c", script],
    cwd: options.cwd,
    env: options.env ?? { PATH: "/usr/bin:/bin" },
    stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on("data", (chunk: Buffer) => out.push(chunk));
  child.stderr?.on("data", (chunk: Buffer) => err.push(chunk));
  child.stdin?.end(options.input ?? "");
  const { code, signal } = await child.closed;
  return { code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

/** Runs every probe; the keys say what each shows. */
export async function probe(): Promise<Record<string, unknown>> {
  const started = await startProcess({
    file: "/bin/sh",
    args: ["-c", "exit 0"],
    env: {},
    stdio: ["ignore", "ignore", "ignore"],
  });
  const pid = started.pid;
  await started.closed;
  return {
    exitCode: await run("exit 7"),
    signalDeath: await run("kill -s TERM $$"),
    inputAndOutput: await run("cat; echo to-stderr >&2", { input: "hello\n" }),
    cwd: (await run("pwd", { cwd: "/usr" })).stdout,
    env: (await run("env | sort", { env: { PATH: "/bin:/usr/bin", ONLY: "this" } })).stdout,
    // Its own session and process group (what the agent kills as a group), and stdin from /dev/null.
    session: (
      await run('ps -o pid=,pgid=,sid= -p $$ | awk \'{print ($1==$2 && $2==$3) ? "own" : "shared"}\'')
    ).stdout,
    stdinWithoutInput: (await run("readlink /proc/self/fd/0")).stdout,
    // Nothing of the agent's beyond 0-2: with child_process, the agent's other descriptors are /dev/null in the
    // child (sealed_stdio.ts); with posix_spawn, closed.
    descriptors: (
      await run(
        'for fd in /proc/$$/fd/*; do n=${fd##*/}; [ "$n" -gt 2 ] && readlink "$fd"; done | grep -v "^/dev/null$" | sort -u',
      )
    ).stdout,
    // Every signal at its default action and none blocked (Node ignores SIGPIPE itself).
    signals: (await run("grep -E '^(SigIgn|SigBlk)' /proc/self/status")).stdout,
    pathLookup: await startProcess({
      file: "true",
      args: [],
      env: { PATH: "/nonexistent:/bin" },
      stdio: ["ignore", "ignore", "ignore"],
    })
      .then((child) => child.closed)
      .catch((error: NodeJS.ErrnoException) => error.code),
    missingProgram: await startProcess({
      file: "idem-no-such-program",
      args: [],
      env: { PATH: "/bin:/usr/bin" },
      stdio: ["ignore", "ignore", "ignore"],
    }).then(
      () => "started",
      (error: NodeJS.ErrnoException) => error.code,
    ),
    pidIsNumber: Number.isInteger(pid) && pid > 0,
  };
}
