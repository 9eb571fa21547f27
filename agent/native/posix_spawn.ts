/**
 * Starts a child process: with libc's `posix_spawn` (through koffi's FFI) where it can, else with Node's
 * `child_process.spawn`. The caller sees one shape, {@link StartedProcess}, either way.
 *
 * Why: libuv starts every child with `fork()`, which copies the agent's page tables and write-protects all its
 * memory; the agent then pays a page fault for each page it writes afterwards. glibc's `posix_spawn` is
 * `clone(CLONE_VM | CLONE_VFORK)`: no copy, no faults. Measured on this project's 2-core VMs (docs/benchmarks.md,
 * "Spawning scripts"): Node's spawn of `/bin/true` 5.3–6.9 ms of the agent's CPU, posix_spawn 0.6 ms; Python's
 * `subprocess` (murano-agent) takes the same vfork path.
 *
 * The child is set up as libuv sets up one started with `detached: true` and the stdio given: a new session (its
 * own process group, pgid = pid), every signal at its default action and none blocked, stdin/stdout/stderr each a
 * pipe to the agent or /dev/null, `cwd`, exactly `env`, and no other descriptor of the agent's: every descriptor
 * above 2 is closed in the child (`posix_spawn_file_actions_addclosefrom_np`; murano-agent's `close_fds=True`),
 * whichever lacked close-on-exec (lmdb's `data.mdb` does: sealed_stdio.ts).
 *
 * Used when: Node (not Deno), Linux, the koffi addon loads (native/addon.ts: the executable carries it) and libc
 * has `posix_spawn_file_actions_addchdir_np` and `..._addclosefrom_np` (glibc ≥ 2.34: Debian 12, Ubuntu 22.04,
 * RHEL 9). Elsewhere (RHEL 8's glibc 2.28, musl, Deno), and with `IDEM_SPAWN=child_process` in the agent's
 * environment (diagnosis), `child_process.spawn` with sealed_stdio.ts.
 *
 * Exit statuses: libuv reaps only its own children, so this module reaps its own: on SIGCHLD, `waitpid(pid,
 * WNOHANG)` for each child it started (never `waitpid(-1)`, which would steal libuv's), and once a second while any
 * is running (a held reference: the agent's event loop stays up while a child runs, and a lost signal costs at
 * most a second).
 */
import { spawn } from "node:child_process";
import { accessSync, constants as fsConstants, readFileSync, statSync } from "node:fs";
import { Socket } from "node:net";
import { constants as osConstants } from "node:os";
import { delimiter, join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { sealedStdio } from "../sealed_stdio.ts";
import { type LibcFunctions, libc } from "./libc.ts";

export type StdioKind = "pipe" | "ignore";

export interface StartOptions {
  /** The program: a path, or a name looked up in `env.PATH` (as libuv does). */
  file: string;
  /** argv[1..]; argv[0] is `file`. */
  args: readonly string[];
  cwd?: string | undefined;
  /** The child's whole environment (undefined values are left out). */
  env: Readonly<Record<string, string | undefined>>;
  /** stdin, stdout, stderr: a pipe to the agent, or /dev/null. */
  stdio: readonly [StdioKind, StdioKind, StdioKind];
}

export interface Exit {
  /** The exit status; null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The signal's number (a real-time signal has no name), when a signal ended it and the number is known. */
  signalNumber?: number;
  /** A signal ended it and it dumped core (WCOREDUMP); posix_spawn only (Node's spawn does not say). */
  coreDumped?: boolean;
}

/**
 * What a caller reports for `exit`: the status, or minus the signal's number (Python's `Popen.returncode`); -1 when
 * neither is known (an exit status taken by another `waitpid`: never in the agent).
 */
export function returnCode(exit: Exit): number {
  if (exit.code !== null) return exit.code;
  const signal = exit.signalNumber ?? (exit.signal ? osConstants.signals[exit.signal] : undefined);
  return signal === undefined ? -1 : -signal;
}

/** A child process and the agent's ends of its pipes. */
export interface StartedProcess {
  /** Also its process group id (a new session). */
  readonly pid: number;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  /** Resolves once the process has exited and its stdout and stderr have ended (Node's `close`). */
  readonly closed: Promise<Exit>;
  /**
   * Whether the process itself has exited, now: reaped, or a zombie not yet reaped (the agent reaps on its event
   * loop, a turn or more after the exit). Whatever holds its pipes.
   */
  ended(): boolean;
  /** Closes the agent's ends of the pipes (a grandchild that holds them must not keep `closed` waiting). */
  destroyStdio(): void;
}

/** How children are started in this process: "posix_spawn", else "child_process" (and why). */
export function spawnMethod(): { method: "posix_spawn" | "child_process"; reason?: string } {
  const spawner = posixSpawner();
  return "reason" in spawner
    ? { method: "child_process", reason: spawner.reason }
    : { method: "posix_spawn" };
}

/**
 * Starts the process. Rejects with an error like Node's spawn error (`code: "ENOENT"`, `syscall: "spawn <file>"`)
 * when it cannot be started.
 */
export function startProcess(options: StartOptions): Promise<StartedProcess> {
  const spawner = posixSpawner();
  if ("start" in spawner) {
    try {
      return Promise.resolve(spawner.start(options));
    } catch (error) {
      return Promise.reject(error);
    }
  }
  return startWithChildProcess(options);
}

function startWithChildProcess(options: StartOptions): Promise<StartedProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(options.file, [...options.args], {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: sealedStdio([...options.stdio]),
    });
    const closed = new Promise<Exit>((done) => child.once("close", (code, signal) => done({ code, signal })));
    child.stdin?.on("error", () => {}); // EPIPE from a child that does not read its input
    child.once("error", reject);
    child.once("spawn", () => {
      child.off("error", reject);
      child.on("error", () => {}); // after the start: a failed kill, say; the exit still comes
      resolve({
        pid: child.pid as number,
        stdin: child.stdin,
        stdout: child.stdout,
        stderr: child.stderr,
        closed,
        ended: () => child.exitCode !== null || child.signalCode !== null || isZombie(child.pid as number),
        destroyStdio() {
          child.stdout?.destroy();
          child.stderr?.destroy();
          child.stdin?.destroy();
        },
      });
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// posix_spawn through koffi

type Spawner = { start(options: StartOptions): StartedProcess } | { reason: string };

let spawner: Spawner | undefined;

function posixSpawner(): Spawner {
  spawner ??= makePosixSpawner();
  return spawner;
}

const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = 0x80;
const O_CLOEXEC = 0o2000000;
const WNOHANG = 1;
/** glibc x86-64/aarch64: posix_spawn_file_actions_t is 80 bytes, posix_spawnattr_t 336, sigset_t 128. */
const FILE_ACTIONS_BYTES = 256;
const ATTR_BYTES = 1024;
const SIGSET_BYTES = 256;

function makePosixSpawner(): Spawner {
  if (process.env.IDEM_SPAWN === "child_process") return { reason: "IDEM_SPAWN=child_process" };
  const bound = libc();
  if ("reason" in bound) return bound;
  const { functions: lib, errno } = bound;
  return spawnerWith(lib, errno);
}

function spawnerWith(libc: LibcFunctions, errno: () => number): Spawner {
  const all = Buffer.alloc(SIGSET_BYTES);
  const none = Buffer.alloc(SIGSET_BYTES);
  libc.sigfillset(all);
  libc.sigemptyset(none);
  const reaper = childReaper(libc);
  return {
    start(options) {
      refuseNul(options);
      const file = findProgram(options.file, options.env.PATH);
      // [child's end, agent's end] of each stream's pipe; null: /dev/null.
      const pipes: Array<[number, number] | null> = [null, null, null];
      const closeAll = (which: 0 | 1) => {
        for (const pipe of pipes) if (pipe) libc.close(pipe[which]);
      };
      for (let stream = 0; stream < 3; stream++) {
        if (options.stdio[stream] !== "pipe") continue;
        const fds = [0, 0];
        if (libc.pipe2(fds, O_CLOEXEC) !== 0) {
          const code = errno();
          closeAll(0);
          closeAll(1);
          throw Object.assign(spawnError(code, file), { syscall: "pipe2" });
        }
        const [read, write] = fds as [number, number];
        pipes[stream] = stream === 0 ? [read, write] : [write, read];
      }
      const actions = Buffer.alloc(FILE_ACTIONS_BYTES);
      const attr = Buffer.alloc(ATTR_BYTES);
      libc.fa_init(actions);
      libc.attr_init(attr);
      const pid = [0];
      let rc: number;
      try {
        for (let stream = 0; stream < 3; stream++) {
          const pipe = pipes[stream];
          if (pipe) libc.fa_adddup2(actions, pipe[0], stream);
          else libc.fa_addopen(actions, stream, "/dev/null", stream === 0 ? 0 : 1, 0);
        }
        libc.fa_addclosefrom(actions, 3);
        if (options.cwd !== undefined) libc.fa_addchdir(actions, options.cwd);
        libc.attr_setsigdefault(attr, all);
        libc.attr_setsigmask(attr, none);
        libc.attr_setflags(attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
        const env = Object.entries(options.env)
          .filter(([, value]) => value !== undefined)
          .map(([name, value]) => `${name}=${value}`);
        // argv[0] as given, as execvp and libuv pass it.
        rc = libc.posix_spawn(
          pid,
          file,
          actions,
          attr,
          [options.file, ...options.args, null],
          [...env, null],
        );
        if (rc === osConstants.errno.ENOEXEC) {
          // No `#!` line: run it with /bin/sh, as execvp does (a `rebootCommand` script, say).
          const argv = ["/bin/sh", file, ...options.args, null];
          rc = libc.posix_spawn(pid, "/bin/sh", actions, attr, argv, [...env, null]);
        }
      } catch (error) {
        closeAll(1); // a bad argument (koffi refused it): none of the agent's ends stays open
        throw error;
      } finally {
        libc.fa_destroy(actions);
        libc.attr_destroy(attr);
        closeAll(0);
      }
      if (rc !== 0) {
        closeAll(1);
        throw spawnError(rc, file);
      }
      const child = pid[0] as number;
      let reaped = false;
      const exited = reaper.wait(child).then((exit) => {
        reaped = true;
        return exit;
      });
      const end = (stream: number) => pipes[stream]?.[1];
      const stdin = pipeSocket(end(0), "write");
      const stdout = pipeSocket(end(1), "read");
      const stderr = pipeSocket(end(2), "read");
      const ended = [stdout, stderr].map((stream) =>
        stream === null ? Promise.resolve() : new Promise<void>((done) => stream.once("close", () => done())),
      );
      // As Node's ChildProcess: once the child is gone its input is closed, and output nobody reads is drained, so
      // that `closed` comes.
      void exited.then(() => {
        stdin?.destroy();
        stdout?.resume();
        stderr?.resume();
      });
      return {
        pid: child,
        stdin,
        stdout,
        stderr,
        closed: Promise.all([exited, ...ended]).then(([exit]) => exit),
        ended: () => reaped || isZombie(child),
        destroyStdio() {
          stdin?.destroy();
          stdout?.destroy();
          stderr?.destroy();
        },
      };
    },
  };
}

/** The agent's end of a pipe as a stream (libuv makes it non-blocking); null for no pipe. */
function pipeSocket(fd: number | undefined, direction: "read" | "write"): Socket | null {
  if (fd === undefined) return null;
  const socket = new Socket({ fd, readable: direction === "read", writable: direction === "write" });
  socket.on("error", () => {}); // EPIPE from a child that does not read its input; the exit tells the rest
  return socket;
}

/** Waits for the exit of children this module started (see the module comment). */
function childReaper(libc: LibcFunctions) {
  const waiting = new Map<number, (exit: Exit) => void>();
  let poll: NodeJS.Timeout | undefined;
  // One pass per loop turn, however many SIGCHLDs and starts asked for one: a pass calls waitpid for every child
  // still running, so a pass per signal would cost the square of the children running (200 at once: 168 ms).
  let queued = false;
  const schedule = () => {
    if (queued) return;
    queued = true;
    setImmediate(reap);
  };
  const reap = () => {
    queued = false;
    for (const [pid, done] of waiting) {
      const status = [0];
      const got = libc.waitpid(pid, status, WNOHANG);
      if (got === 0) continue;
      waiting.delete(pid);
      // -1: not our child any more (ECHILD: reaped elsewhere); no status to give.
      done(got === pid ? exitOf(status[0] as number) : { code: null, signal: null });
    }
    if (waiting.size === 0 && poll !== undefined) {
      clearInterval(poll);
      poll = undefined;
    }
  };
  process.on("SIGCHLD", schedule);
  return {
    wait(pid: number): Promise<Exit> {
      const exit = new Promise<Exit>((done) => waiting.set(pid, done));
      poll ??= setInterval(schedule, 1000);
      // It may have exited already (its SIGCHLD came before it was listed here).
      schedule();
      return exit;
    },
  };
}

/**
 * The exit of a `waitpid` status: WIFEXITED → the code, WIFSIGNALED → the signal (its name when it has one) and
 * WCOREDUMP.
 */
function exitOf(status: number): Exit {
  const signal = status & 0x7f;
  if (signal === 0) return { code: (status >> 8) & 0xff, signal: null };
  const name = Object.entries(osConstants.signals).find(([, number]) => number === signal)?.[0];
  const exit: Exit = { code: null, signal: (name ?? null) as NodeJS.Signals | null, signalNumber: signal };
  return (status & 0x80) === 0 ? exit : { ...exit, coreDumped: true };
}

/** Whether `pid` has exited and waits to be reaped (state Z in /proc/PID/stat); false when that cannot be read. */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return stat.charAt(stat.lastIndexOf(")") + 2) === "Z";
  } catch {
    return false;
  }
}

/** Node's refusal of a NUL byte in a program, argument, folder or environment entry (C strings end there). */
function refuseNul(options: StartOptions): void {
  const texts = [
    options.file,
    ...options.args,
    options.cwd ?? "",
    ...Object.entries(options.env).flatMap(([name, value]) => [name, value ?? ""]),
  ];
  if (texts.some((text) => text.includes("\0"))) {
    throw Object.assign(
      new TypeError(`The arguments of spawn ${options.file} must be strings without null bytes`),
      { code: "ERR_INVALID_ARG_VALUE" },
    );
  }
}

/**
 * `file` itself when it has a slash, else the first executable regular file `file` in `path`'s folders
 * (execvp's rule; without PATH, libuv's default `/usr/bin:/bin`).
 */
function findProgram(file: string, path: string | undefined): string {
  if (file.includes("/")) return file;
  for (const folder of (path ?? "/usr/bin:/bin").split(delimiter)) {
    if (folder === "") continue;
    const candidate = join(folder, file);
    try {
      accessSync(candidate, fsConstants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // the next folder
    }
  }
  throw spawnError(osConstants.errno.ENOENT, file);
}

/** An error like Node's spawn errors: `spawn git ENOENT`, with `code`, `errno`, `syscall` and `path`. */
function spawnError(errno: number, file: string): Error {
  const code = Object.entries(osConstants.errno).find(([, number]) => number === errno)?.[0] ?? `E${errno}`;
  return Object.assign(new Error(`spawn ${file} ${code}`), {
    code,
    errno: -errno,
    syscall: `spawn ${file}`,
    path: file,
  });
}
