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
 * - on Node (and the single executable), which has no fcntl, every descriptor above 2 that is open now (listed in
 *   /proc/self/fd, checked open with fstat) is made /dev/null in the child: the stdio is returned extended so
 *   that `stdio[N]` is one descriptor of /dev/null, which Node dup2s onto N in the child before it execs. A
 *   child thus holds nothing of the agent's (its fds above 2 are /dev/null, as many as the agent had open),
 *   whichever of them lacked close-on-exec. Without /proc (not Linux) nothing changes.
 *
 * Why not only the ones without close-on-exec (as before): telling them apart read /proc/self/fdinfo/N for every
 * descriptor, 0.25-0.7 ms before every spawn (measured, ~50 descriptors; the agent's CPU profile); the listing and
 * an fstat each cost ~0.07 ms, and leave no window for a descriptor whose flags changed since a cached look.
 */

import { fstatSync, openSync, readdirSync, readFileSync } from "node:fs";

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
  const open = openDescriptors();
  const sealed: Stdio[] = [...stdio];
  if (open.length === 0) return sealed;
  const nothing = devNull();
  const highest = Math.max(...open);
  for (let fd = 3; fd <= highest; fd++) sealed[fd] = "ignore";
  for (const fd of open) sealed[fd] = nothing;
  return sealed;
}

/** This process's descriptors above 2 that are open now; empty without /proc. */
export function openDescriptors(): number[] {
  let names: string[];
  try {
    names = readdirSync("/proc/self/fd");
  } catch {
    return [];
  }
  const open: number[] = [];
  for (const name of names) {
    const fd = Number(name);
    if (!(fd > 2)) continue;
    try {
      fstatSync(fd);
      open.push(fd);
    } catch {
      // closed meanwhile (the descriptor that listed the folder)
    }
  }
  return open;
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
