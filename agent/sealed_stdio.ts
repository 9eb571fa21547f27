/**
 * A child of the agent (a script, a Body worker, a helper program) inherits none of the agent's descriptors: only
 * the three it is given. murano-agent starts scripts with Python's `Popen(close_fds=True)`; idem does the same.
 *
 * Why it matters: a descriptor the agent opened without close-on-exec stays open in every child and in whatever
 * the child leaves running (a daemon a script starts). Measured on Linux:
 * - Deno opens the data dir's owner lock (agent/journal/owner.ts, an abstract Unix socket) without
 *   close-on-exec: a child that outlives the agent keeps the lock, and the next agent on that data dir exits 2
 *   ("another process (it did not say which) owns it"), e.g. a Body worker still starting when the agent stops;
 * - lmdb opens the journal's `data.mdb` read-write without close-on-exec, on Node and on Deno: every script (also
 *   one run as another user, `runAs`) could write the journal through it.
 *
 * {@link sealedStdio} is called right before each spawn with the child's stdio (fds 0-2):
 * - on Deno (which lets only `--allow-all` read /proc/self/fd) it sets close-on-exec on every descriptor above 2
 *   through Deno's FFI (`--allow-ffi` is needed by lmdb anyway): libc's `close_range(3, ~0, CLOSE_RANGE_CLOEXEC)`
 *   (glibc 2.34, Linux 5.11), else `fcntl(fd, F_SETFD, FD_CLOEXEC)` for each open one below 4096; the stdio is
 *   returned unchanged (Deno's child_process takes no descriptors beyond 2);
 * - on Node (and the single executable), which has no fcntl, the descriptors above 2 without close-on-exec are
 *   read from /proc/self/fd and /proc/self/fdinfo (flags, octal; O_CLOEXEC is 0o2000000), and the stdio is
 *   returned extended so that each such descriptor N is /dev/null in the child (`stdio[N]`: a descriptor that
 *   Node dup2s there). Without /proc (not Linux) nothing changes.
 */
import { openSync, readdirSync, readFileSync } from "node:fs";

type Stdio = "pipe" | "ignore" | "inherit" | number;

const O_CLOEXEC = 0o2000000;
const F_SETFD = 2;
const FD_CLOEXEC = 1;

type Fcntl = (fd: number, command: number, argument: number) => number;
type CloseRange = (first: number, last: number, flags: number) => number;

interface DenoFfi {
  dlopen(
    path: string,
    symbols: Record<string, { parameters: string[]; result: string; optional?: boolean }>,
  ): { symbols: { fcntl: Fcntl; close_range: CloseRange | null } };
}

/** The stdio to spawn a child with so that it inherits nothing else of this process (see the module's doc). */
export function sealedStdio(stdio: readonly [Stdio, Stdio, Stdio]): Stdio[] {
  const deno = (globalThis as { Deno?: DenoFfi }).Deno;
  if (deno) {
    sealDeno(deno);
    return [...stdio];
  }
  const leaks = leakingDescriptors();
  const sealed: Stdio[] = [...stdio];
  if (leaks.length === 0) return sealed;
  const nothing = devNull();
  for (let fd = 3; fd <= Math.max(...leaks); fd++) sealed[fd] = leaks.includes(fd) ? nothing : "ignore";
  return sealed;
}

/** Descriptors above 2 that a child would inherit (no close-on-exec); empty without /proc. */
export function leakingDescriptors(): number[] {
  let names: string[];
  try {
    names = readdirSync("/proc/self/fd");
  } catch {
    return [];
  }
  const leaks: number[] = [];
  for (const name of names) {
    const fd = Number(name);
    if (!(fd > 2)) continue;
    let info: string;
    try {
      info = readFileSync(`/proc/self/fdinfo/${fd}`, "utf8");
    } catch {
      continue; // closed meanwhile (the descriptor that listed the folder, say)
    }
    const flags = /^flags:\s*([0-7]+)/m.exec(info)?.[1];
    if (flags !== undefined && (Number.parseInt(flags, 8) & O_CLOEXEC) === 0) leaks.push(fd);
  }
  return leaks;
}

let nullFd: number | undefined;

/** One descriptor of /dev/null (close-on-exec: Node opens every file so) kept for the life of the process. */
function devNull(): number {
  nullFd ??= openSync("/dev/null", "r");
  return nullFd;
}

const F_GETFD = 1;
const CLOSE_RANGE_CLOEXEC = 4;
const LIBC = ["libc.so.6", "libc.musl-x86_64.so.1", "libc.musl-aarch64.so.1"];

let libc: { fcntl: Fcntl; close_range: CloseRange | null } | null | undefined;

/** Close-on-exec on every descriptor above 2 of this Deno process; nothing when libc cannot be loaded. */
function sealDeno(deno: DenoFfi): void {
  if (libc === undefined) {
    libc = null;
    for (const path of LIBC) {
      try {
        libc = deno.dlopen(path, {
          fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
          close_range: { parameters: ["u32", "u32", "i32"], result: "i32", optional: true },
        }).symbols;
        break;
      } catch {
        // the next candidate
      }
    }
  }
  if (libc === null) return;
  if (libc.close_range !== null && libc.close_range(3, 0xffffffff, CLOSE_RANGE_CLOEXEC) === 0) return;
  for (let fd = 3; fd < 4096; fd++) {
    const flags = libc.fcntl(fd, F_GETFD, 0);
    if (flags >= 0 && (flags & FD_CLOEXEC) === 0) libc.fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
  }
}
