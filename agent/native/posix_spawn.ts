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
import { accessSync, constants as fsConstants } from "node:fs";
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
        rc = libc.posix_spawn(pid, file, actions, attr, [file, ...options.args, null], [...env, null]);
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
      const exited = reaper.wait(child);
      const end = (stream: number) => pipes[stream]?.[1];
      const stdin = pipeSocket(end(0), "write");
      const stdout = pipeSocket(end(1), "read");
      const stderr = pipeSocket(end(2), "read");
      const ended = [stdout, stderr].map((stream) =>
        stream === null ? Promise.resolve() : new Promise<void>((done) => stream.once("close", () => done())),
      );
      return {
        pid: child,
        stdin,
        stdout,
        stderr,
        closed: Promise.all([exited, ...ended]).then(([exit]) => exit),
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
  const reap = () => {
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
  process.on("SIGCHLD", reap);
  return {
    wait(pid: number): Promise<Exit> {
      const exit = new Promise<Exit>((done) => waiting.set(pid, done));
      poll ??= setInterval(reap, 1000);
      // It may have exited already (its SIGCHLD came before it was listed here).
      setImmediate(reap);
      return exit;
    },
  };
}

/** The exit of a `waitpid` status: WIFEXITED → the code, WIFSIGNALED → the signal's name. */
function exitOf(status: number): Exit {
  const signal = status & 0x7f;
  if (signal === 0) return { code: (status >> 8) & 0xff, signal: null };
  const name = Object.entries(osConstants.signals).find(([, number]) => number === signal)?.[0];
  return { code: null, signal: (name ?? "SIGKILL") as NodeJS.Signals };
}

/** `file` itself when it has a slash, else the first executable `file` in `path`'s folders (libuv's rule). */
function findProgram(file: string, path: string | undefined): string {
  if (file.includes("/")) return file;
  for (const folder of (path ?? "").split(delimiter)) {
    if (folder === "") continue;
    const candidate = join(folder, file);
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
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
