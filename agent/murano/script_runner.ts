/**
 * The process runner: the only module that starts scripts and helper programs (through native/posix_spawn.ts).
 *
 * `runScript` runs a Murano Application script as murano-agent's ApplicationExecutor does —
 * `./"<entry point>" <commandline>` through `/bin/sh -c`, in the entry point's folder, stdin = input — but in its
 * own process group, with capped output capture, and with TERM-then-KILL of the whole group on abort or timeout;
 * without the shell where it would change nothing (`direct_exec.ts`).
 * `runCommand` runs a helper program (git, svn) without a shell for the file downloads.
 */
import type { Readable } from "node:stream";
import { returnCode, type StartedProcess, startProcess } from "../native/posix_spawn.ts";
import { directStart, shellEnd } from "./direct_exec.ts";
import { scriptEnvironment, setprivPath } from "./script_user.ts";

export interface RunScriptOptions {
  /** The script's folder: the directory of the entry point. */
  cwd: string;
  /** File name of the entry point inside `cwd`. */
  entryPoint: string;
  /** Appended verbatim after the entry point (murano-agent: `'"{0}" {1}'.format(name, commandline)`). */
  commandline: string;
  /**
   * The entry point's folder relative to `cwd`, entered by the XX rather than
   * by the agent: with `user`, a folder below `cwd` is that user's, and the agent changing into it before the
   * switch would follow a link the user put there.
   */
  subfolder?: string;
  /** Written to stdin (UTF-8), then stdin is closed; null: stdin is /dev/null. */
  input: string | null;
  /** The whole environment of the script (`script_user.ts`: nothing of the agent's own). */
  env: Record<string, string | undefined>;
  /**
   * Run as this user (`runAs`); default the agent's. Started through setpriv ({@link asUser}): the child changes
   * into `cwd` as the agent, so `cwd` need not be reachable by that user from `/` (the data dir is the agent's).
   */
  user?: RunAsUser;
  /** Keep at most this many bytes of each captured stream; the rest is counted and dropped. */
  outputCapBytes: number;
  /** Capture stdout / stderr (murano `captureStdout` / `captureStderr`, default true); else discard it. */
  captureStdout?: boolean;
  captureStderr?: boolean;
  /** Called with the process group id (= the child's pid) right after the spawn. */
  onSpawn?: (pgid: number) => void;
  /** Aborting kills the process group: TERM, then KILL after `killGraceMs`. */
  signal?: AbortSignal;
  /** Kill the process group after this long (same TERM/KILL sequence); default: no limit. */
  timeoutMs?: number;
  /** Time between TERM and KILL (default 10 000 ms). */
  killGraceMs?: number;
}

export interface ScriptRun {
  /** The exit status; a negative signal number when the script died of a signal (Python's `Popen.poll()`). */
  exitCode: number;
  /** Decoded (UTF-8), newlines normalized, stripped as Python's `str.strip()`; null when empty or not captured. */
  stdout: string | null;
  stderr: string | null;
  /** Bytes dropped beyond `outputCapBytes` (0 when nothing was dropped). */
  droppedBytes: { stdout: number; stderr: number };
  /** Why the group was killed, if it was. */
  killed: "abort" | "timeout" | null;
  pgid: number;
}

/** Runs one script to its end (or until it is killed) and resolves with what it produced. */
export async function runScript(options: RunScriptOptions): Promise<ScriptRun> {
  const run = `./"${options.entryPoint}" ${options.commandline}`;
  const command = options.subfolder ? `cd -P -- ${shellQuote(options.subfolder)} && ${run}` : run;
  const captureStdout = options.captureStdout ?? true;
  const captureStderr = options.captureStderr ?? true;
  if (options.signal?.aborted)
    throw new Error("Cannot start the script as its execution was already aborted");
  const stdio = [
    options.input === null ? "ignore" : "pipe",
    captureStdout ? "pipe" : "ignore",
    captureStderr ? "pipe" : "ignore",
  ] as const;
  // Without the shell when it would change nothing (`direct_exec.ts`); the shell's own run when that start fails.
  const direct =
    options.user === undefined && options.subfolder === undefined ? directStart(options) : undefined;
  const started =
    direct && (await startProcess({ ...direct, cwd: options.cwd, stdio }).catch(() => undefined));
  const [file, ...args] = asUser(["/bin/sh", "-c", command], options.user);
  const child = started ?? (await startProcess({ file, args, cwd: options.cwd, env: options.env, stdio }));
  const pgid = child.pid;
  try {
    options.onSpawn?.(pgid);
  } catch (error) {
    process.kill(-pgid, "SIGKILL");
    throw error;
  }
  const stdout = capture(child.stdout, options.outputCapBytes);
  const stderr = capture(child.stderr, options.outputCapBytes);
  child.stdin?.end(options.input ?? "", "utf8");
  let killed: ScriptRun["killed"] = null;
  // Whether the group was killed while the started process had not exited (a shell would then die of it).
  let killedAlive = false;
  const stopper = groupStopper(child, pgid, options.killGraceMs ?? 10_000);
  const kill = (why: "abort" | "timeout") => {
    if (killed !== null) return;
    killed = why;
    killedAlive = !child.ended();
    stopper.start();
  };
  const onAbort = () => kill("abort");
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) onAbort(); // aborted since the start (from onSpawn, say): the listener came late
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => kill("timeout"), Math.min(options.timeoutMs, 2 ** 31 - 1));
  try {
    const exit = await child.closed;
    if (killed !== null) await stopper.gone;
    const end = started ? shellEnd(exit, killedAlive) : { exitCode: returnCode(exit) };
    if (end.stderr !== undefined) stderr.write(Buffer.from(end.stderr));
    return {
      exitCode: end.exitCode,
      stdout: captureStdout ? stdout.text() : null,
      stderr: captureStderr ? stderr.text() : null,
      droppedBytes: { stdout: stdout.dropped(), stderr: stderr.dropped() },
      killed,
      pgid,
    };
  } finally {
    if (timer) clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
    stopper.stop();
  }
}

/**
 * TERM to the group now, KILL after the grace. `gone` resolves once no process of the group is left (zombies
 * included: they still count until init reaps them), so that a caller told "killed" can rely on it.
 */
function groupStopper(child: StartedProcess, pgid: number, graceMs: number) {
  const timers: NodeJS.Timeout[] = [];
  const signalGroup = (signal: NodeJS.Signals | 0) => {
    try {
      process.kill(-pgid, signal);
      return true;
    } catch {
      return false; // ESRCH: the group is gone
    }
  };
  let markGone: () => void = () => {};
  const gone = new Promise<void>((resolve) => {
    markGone = resolve;
  });
  return {
    gone,
    start() {
      signalGroup("SIGTERM");
      const poll = setInterval(() => {
        if (signalGroup(0)) return;
        clearInterval(poll);
        markGone();
        // A grandchild that left the group (setsid) may still hold a pipe open: do not wait for it.
        timers.push(setTimeout(() => child.destroyStdio(), 200));
      }, 20);
      timers.push(poll);
      timers.push(
        setTimeout(
          () => {
            signalGroup("SIGKILL");
            // Give up waiting if the group cannot be reaped (it is KILLed; only init can clear zombies).
            timers.push(setTimeout(markGone, 5000));
          },
          Math.min(graceMs, 2 ** 31 - 1),
        ),
      );
    },
    stop() {
      for (const timer of timers) clearTimeout(timer);
    },
  };
}

/** `text` as one word for /bin/sh: single-quoted, each `'` as `'\''`. */
function shellQuote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

/** A uid and gid that a process is to run as (`runAs`, script_user.ts). */
export interface RunAsUser {
  uid: number;
  gid: number;
}

/**
 * The argv that runs `argv` as `user` (unchanged without one): setpriv, started as the agent, switches uid, gid
 * and groups (none) and execs `argv`. Never Node's spawn `uid`/`gid`: those switch in the child before its exec,
 * which libuv waits for synchronously, so a process of that user could stop (SIGSTOP) the child there and freeze
 * the agent's event loop for good; a process of the agent (root) cannot be stopped by that user. Throws when
 * setpriv is missing (script_user.ts refuses such a `runAs` at start).
 */
function asUser(argv: readonly [string, ...string[]], user: RunAsUser | undefined): [string, ...string[]] {
  if (user === undefined) return [...argv];
  const setpriv = setprivPath();
  if (setpriv === undefined) throw new Error("Cannot switch to the runAs user as setpriv is not installed");
  return [setpriv, `--reuid=${user.uid}`, `--regid=${user.gid}`, "--clear-groups", "--", ...argv];
}

/** Keeps the first `cap` bytes of a stream and counts the rest. */
function capture(stream: Readable | null, cap: number) {
  const chunks: Buffer[] = [];
  let kept = 0;
  let dropped = 0;
  const write = (chunk: Buffer) => {
    const room = cap - kept;
    if (room >= chunk.length) {
      chunks.push(chunk);
      kept += chunk.length;
    } else {
      if (room > 0) chunks.push(chunk.subarray(0, room));
      kept += Math.max(room, 0);
      dropped += chunk.length - Math.max(room, 0);
    }
  };
  stream?.on("data", write);
  stream?.on("error", () => {});
  return {
    /** Adds bytes after the stream's own (what the shell would have written to the same pipe). */
    write(chunk: Buffer) {
      if (stream !== null) write(chunk);
    },
    dropped: () => dropped,
    text(): string | null {
      const decoded = new TextDecoder("utf-8").decode(Buffer.concat(chunks));
      // Python's universal newlines (murano-agent reads the pipes in text mode), then str.strip().
      let text = pyStrip(decoded.replace(/\r\n?/g, "\n"));
      if (dropped > 0) text += `\n[idem: output truncated, ${dropped} more bytes not captured]`;
      return text === "" ? null : text;
    },
  };
}

const PY_WHITESPACE =
  " \t\n\v\f\r\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000";

/** Python's `str.strip()` (its whitespace set differs from JavaScript's `trim()`). */
export function pyStrip(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && PY_WHITESPACE.includes(text.charAt(start))) start++;
  while (end > start && PY_WHITESPACE.includes(text.charAt(end - 1))) end--;
  return text.slice(start, end);
}

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a program (no shell) in its own process group and resolves with its exit code and output (each capped at
 * 64 KiB). Rejects with the spawn error (`code: "ENOENT"` when the program is not installed). Aborting kills
 * the group at once, and so does `timeoutMs` running out (the exit code is then -9, SIGKILL).
 */
export async function runCommand(
  argv: readonly [string, ...string[]],
  options: {
    cwd?: string;
    /** The whole environment of the program; default PATH, HOME and LANG only (never the agent's own). */
    env?: Record<string, string | undefined>;
    signal?: AbortSignal;
    /** Run as this user; default the agent's. Started in `cwd` as the agent, then switched ({@link asUser}). */
    user?: RunAsUser;
    /** Kill the group after this many ms (default: no limit). */
    timeoutMs?: number;
    /**
     * False: stdout and stderr go to /dev/null (the result's are empty) and the run ends with the program's exit,
     * not with the pipes' end — which a process the program started (or one that attached to it) could hold.
     */
    output?: boolean;
  } = {},
): Promise<CommandResult> {
  const [program, ...args] = asUser(argv, options.user);
  const piped = options.output !== false;
  const child = await startProcess({
    file: program,
    args,
    cwd: options.cwd,
    env: options.env ?? scriptEnvironment({}),
    stdio: ["ignore", piped ? "pipe" : "ignore", piped ? "pipe" : "ignore"],
  });
  const stdout = capture(child.stdout, 64 * 1024);
  const stderr = capture(child.stderr, 64 * 1024);
  const onAbort = () => {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
  };
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(onAbort, Math.min(options.timeoutMs, 2 ** 31 - 1));
  try {
    return {
      exitCode: returnCode(await child.closed),
      stdout: stdout.text() ?? "",
      stderr: stderr.text() ?? "",
    };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
  }
}
