/**
 * V8's stack limit of the agent's main thread, raised at run time rather than with `--stack-size` on the command
 * line. Why the agent wants a larger stack: build.mjs `V8_FLAGS` (a Body nested as deep as compile() allows must
 * give CPython's result, and unoptimized frames are large). Why not the flag: any V8 flag but the heap sizes makes
 * V8 refuse the code caches made without it — Node's built-in one (each built-in module the start loads is then
 * compiled from source) and the executable's own — ≈ 35 ms of every start (docs/benchmarks.md, "Session 10").
 *
 * How: V8's public `v8::Isolate::SetStackLimit(uintptr_t)` (the embedder's way to set the limit of the thread
 * that runs the isolate), called through koffi on the current isolate (`v8::Isolate::GetCurrent()`), both
 * exported by the node binary for native addons. The limit is an address: `kb` KiB below the start of the main
 * thread's stack (`/proc/self/stat` field 28, `startstack`: where `argc` is, below the arguments and environment
 * the kernel placed at the top), as V8 computes it from the flag at its start (from the stack position then, a few
 * KiB lower). Raised only when the stack may really grow that far: `RLIMIT_STACK` (`/proc/self/limits`) counts from
 * the top of the `[stack]` mapping (`/proc/self/maps`), so the arguments and environment above `startstack`, then
 * `kb`, then {@link GUARD_KB} must fit in it — a limit below the stack the kernel would ever map would be a crash
 * (SIGSEGV) where V8 otherwise throws a RangeError (CPython: RecursionError).
 *
 * Main thread only (checked: the calling thread's id is the process id), once per process; Linux with glibc only
 * (what /proc says, `gettid`); never called on Deno (native/v8_settings.ts: its `--v8-flags=` carries
 * `--stack-size`, docs/deploy.md).
 */
import { readFileSync } from "node:fs";
import { koffiModule } from "./libc.ts";

/** Stack kept beyond the limit for what runs without checking it (native frames, signal handlers), KiB. */
export const GUARD_KB = 256;

/**
 * What {@link raiseStackLimit} did. `rlimit`: the stack's rlimit could not hold the larger stack (raise `ulimit -s`);
 * `unavailable`: the call could not be made here (no koffi, no such symbol, a /proc without the fields, not the
 * main thread).
 */
export type StackRaise =
  | { raised: true; kb: number }
  | { raised: false; why: "rlimit" | "unavailable"; reason: string };

/**
 * Sets V8's stack limit of this (main) thread to `kb` KiB below the start of its stack.
 * @returns whether it did, or why not (no koffi, a stack rlimit too small, a /proc without the fields).
 */
export function raiseStackLimit(kb: number): StackRaise {
  const unavailable = (reason: string): StackRaise => ({ raised: false, why: "unavailable", reason });
  if (process.platform !== "linux") return unavailable(`not Linux (${process.platform})`);
  try {
    const start = stackStart();
    const top = stackTop(start);
    const soft = stackRlimit();
    const needed = top - start + BigInt((kb + GUARD_KB) * 1024);
    if (soft !== undefined && BigInt(soft) < needed) {
      return {
        raised: false,
        why: "rlimit",
        reason: `the stack's rlimit is ${Math.floor(soft / 1024)} KiB, below the ${needed / 1024n} KiB a ${kb} KiB stack needs here`,
      };
    }
    const self = koffiModule().load(null);
    const gettid = self.func("int gettid()") as unknown as () => number;
    if (gettid() !== process.pid) return unavailable("not the main thread");
    const current = self.func("void *_ZN2v87Isolate10GetCurrentEv()") as unknown as () => unknown;
    const setLimit = self.func(
      "void _ZN2v87Isolate13SetStackLimitEm(void *isolate, uintptr_t limit)",
    ) as unknown as (isolate: unknown, limit: bigint) => void;
    const isolate = current();
    if (isolate === null || isolate === undefined) return unavailable("no current V8 isolate");
    setLimit(isolate, start - BigInt(kb) * 1024n);
    return { raised: true, kb };
  } catch (error) {
    return unavailable((error as Error).message.split("\n")[0] ?? String(error));
  }
}

/** The address where the main thread's stack starts (its highest used address at exec: `startstack`). */
function stackStart(): bigint {
  const stat = readFileSync("/proc/self/stat", "utf8");
  // Fields after the command's closing parenthesis start with field 3 (state); startstack is field 28.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const value = fields[28 - 3];
  if (value === undefined || !/^\d+$/.test(value) || value === "0")
    throw new Error("/proc/self/stat shows no start of the stack");
  return BigInt(value);
}

/** The end (top) of the `[stack]` mapping, which must hold `start`; the rlimit counts from there. */
function stackTop(start: bigint): bigint {
  const maps = readFileSync("/proc/self/maps", "utf8");
  const match = /^([0-9a-f]+)-([0-9a-f]+) [^\n]*\[stack\]$/m.exec(maps);
  if (!match) throw new Error("/proc/self/maps shows no [stack] mapping");
  const [low, high] = [BigInt(`0x${match[1]}`), BigInt(`0x${match[2]}`)];
  if (start < low || start >= high) throw new Error("the start of the stack is outside the [stack] mapping");
  return high;
}

/** The soft `RLIMIT_STACK` in bytes; undefined when unlimited. */
function stackRlimit(): number | undefined {
  const limits = readFileSync("/proc/self/limits", "utf8");
  const match = /^Max stack size\s+(\S+)/m.exec(limits);
  if (!match) throw new Error("/proc/self/limits shows no stack limit");
  return match[1] === "unlimited" ? undefined : Number(match[1]);
}
