/**
 * What a child started by agent/native/posix_spawn.ts sees and how its end is reported, as one JSON-able object:
 * run in the test's own process (posix_spawn) and in a child Node process with `IDEM_SPAWN=child_process`
 * (test/murano/process_start.test.ts), the two must agree with each other and with what libuv's `detached` spawn
 * gives. Real processes, real /proc.
 */
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type StartedProcess, startProcess } from "../../agent/native/posix_spawn.ts";

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

/**
 * The shell's own descriptors above 2, as the sorted set of their targets (one line each), listed by `ls` as a
 * plain command of the shell: never from inside a pipeline or a command substitution, whose pipe the shell holds
 * while it runs them (a listing of /proc/$$/fd made then shows it). Throws unless the listing names 0, 1 and 2
 * and nothing was said on stderr: a probe that could not look would find nothing.
 */
async function descriptorsAbove2(): Promise<string> {
  const listing = await run("ls -l /proc/$$/fd/; exit 0");
  const entries = [...listing.stdout.matchAll(/ (\d+) -> (.*)$/gm)].map(
    (m) => [Number(m[1]), m[2] as string] as const,
  );
  const numbers = new Set(entries.map(([fd]) => fd));
  if (listing.stderr !== "" || ![0, 1, 2].every((fd) => numbers.has(fd))) {
    throw new Error(`Cannot list the shell's descriptors: ${JSON.stringify(listing)}`);
  }
  return [...new Set(entries.filter(([fd]) => fd > 2).map(([, target]) => target))].sort().join("\n");
}

/**
 * True when this process holds the file named by `IDEM_PROBE_CANARY` open without close-on-exec (a descriptor
 * any child would inherit unless its start closes it).
 */
function canaryInherited(): boolean {
  const path = process.env.IDEM_PROBE_CANARY;
  if (path === undefined) return false;
  return readdirSync("/proc/self/fd").some((fd) => {
    try {
      const flags = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, "utf8"))?.[1];
      return (
        readlinkSync(`/proc/self/fd/${fd}`) === path && (Number.parseInt(flags ?? "0", 8) & 0o2000000) === 0
      );
    } catch {
      return false; // the listing's own descriptor, closed since
    }
  });
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
    // child (sealed_stdio.ts); with posix_spawn, closed. The targets of the descriptors above 2, sorted, one each.
    descriptors: await descriptorsAbove2(),
    // The probing process holds a descriptor a child would inherit (the test opens an LMDB journal there first:
    // lmdb opens data.mdb without close-on-exec): without it, `descriptors` would have nothing to find.
    canary: canaryInherited(),
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
    // A NUL byte would end a C string early: refused, never cut.
    nulRefused: await startProcess({
      file: "/bin/sh",
      args: ["-c", "echo a\0; echo injected"],
      env: {},
      stdio: ["ignore", "ignore", "ignore"],
    }).then(
      () => "started",
      (error: NodeJS.ErrnoException) => error.code,
    ),
    // argv[0] as given (execvp), not the path it was found at.
    argv0: await startProcess({
      file: "sh",
      args: ["-c", 'printf %s "$0"'],
      env: { PATH: "/usr/bin:/bin" },
      stdio: ["ignore", "pipe", "ignore"],
    }).then(read),
    // A program without a `#!` line runs with /bin/sh (execvp's fallback).
    noShebang: await startProcess({
      file: NO_SHEBANG,
      args: ["x"],
      env: { PATH: "/usr/bin:/bin" },
      stdio: ["ignore", "pipe", "ignore"],
    }).then(read),
    // Output nobody reads does not keep the end from coming.
    unreadOutput: await startProcess({
      file: "/bin/sh",
      args: ["-c", "echo unread"],
      env: {},
      stdio: ["ignore", "pipe", "pipe"],
    }).then((child) => child.closed),
  };
}

/** A script without a `#!` line (made once, readable and executable by all). */
const NO_SHEBANG = join(mkdtempSync(join(tmpdir(), "idem-probe-")), "no-shebang");
writeFileSync(NO_SHEBANG, 'printf "no shebang %s" "$1"\n', { mode: 0o755 });

/** What the started child printed on stdout. */
async function read(child: StartedProcess): Promise<string> {
  const out: Buffer[] = [];
  child.stdout?.on("data", (chunk: Buffer) => out.push(chunk));
  await child.closed;
  return Buffer.concat(out).toString();
}
