/**
 * How to start a Body worker process in each form idem runs in, with its heap limited to `memoryMB` (V8's
 * `--max-old-space-size`, set above the limit: the worker's watchdog ends it at the limit, worker_watchdog.ts).
 * Its last three arguments are always {@link BODY_WORKER_ARG}, `memoryMB` and the agent's PID (the worker ends
 * itself when that process is no longer its parent):
 *
 * - from the sources (`node agent/main.ts`, tests): this runtime runs agent/python/worker/worker_main.ts;
 * - dist/idem.mjs on Node or Deno: the runtime runs the bundle itself with {@link BODY_WORKER_ARG} (agent/main.ts
 *   imports worker_dispatch.ts first, which serves the worker when it sees it); on Node with V8's compile cache
 *   (`NODE_COMPILE_CACHE`) in the agent's private cache folder (`<data dir>/cache/compile`, checked as the native
 *   addon's folder is: nobody else may write to it), written after the first Body (docs/benchmarks.md);
 *   without a usable folder, no cache. Deno (which keeps its own code cache) gets the heap limit through
 *   `--v8-flags` and no permission but `--allow-env` (the bundle's modules read IDEM_* settings as they load):
 *   no files, network or processes;
 * - dist/idem (the single executable): the executable itself with BODY_WORKER_ARG. It starts with the V8 flags
 *   built into the executable (the heap sizes of build.mjs `V8_FLAGS`); `--node-options="..."` as its first
 *   argument (SEA `execArgvExtension: "cli"`) adds the worker's own (build.mjs `WORKER_V8_FLAGS`: V8's compilers
 *   as plain Node has them, as loops in Bodies need them), the agent's stack and the heap limit. The executable
 *   ignores NODE_OPTIONS.
 *
 * The agent's own flags reach no worker in the other forms: a worker is started by `process.execPath` or
 * `Deno.execPath()` with only the flags above, so it runs on the runtime's defaults (optimizing compilers on)
 * whatever the agent was started with (`node --no-turbofan … dist/idem.mjs`, docs/deploy.md).
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { nativeCacheDir } from "../../native/addon.ts";
import { privateDir } from "../../private_files.ts";
import { BODY_WORKER_ARG } from "./worker_protocol.ts";

/** Set by build.mjs in a bundle: "esm" (dist/idem.mjs) or "sea" (dist/idem); absent in the sources. */
declare const __IDEM_TARGET__: string | undefined;
/** Set by build.mjs in a bundle: the executable's Body worker's V8 flags (`WORKER_V8_FLAGS`); [] in dist/idem.mjs. */
declare const __IDEM_WORKER_V8_FLAGS__: string[] | undefined;
/** Set by build.mjs in a bundle: the agent's V8 flags (`V8_FLAGS`), those the docs say to run it with. */
declare const __IDEM_V8_FLAGS__: string[] | undefined;

export interface WorkerCommand {
  file: string;
  args: string[];
  env: Record<string, string | undefined>;
}

interface DenoRuntime {
  execPath(): string;
}

export function workerCommand(memoryMB: number): WorkerCommand {
  const target = typeof __IDEM_TARGET__ === "undefined" ? undefined : __IDEM_TARGET__;
  const heap = `--max-old-space-size=${v8HeapMB(memoryMB)}`;
  const env = { ...process.env };
  if (target === "sea") {
    const flags = typeof __IDEM_WORKER_V8_FLAGS__ === "undefined" ? [] : __IDEM_WORKER_V8_FLAGS__;
    return {
      file: process.execPath,
      args: [
        `--node-options=${[...flags, ...agentStack(), heap].join(" ")}`,
        BODY_WORKER_ARG,
        `${memoryMB}`,
        `${process.pid}`,
      ],
      env,
    };
  }
  const file = target === "esm" ? import.meta.url : new URL("./worker_main.ts", import.meta.url).href;
  const entry = [fileURLToPath(file), BODY_WORKER_ARG, `${memoryMB}`, `${process.pid}`];
  const deno = (globalThis as { Deno?: DenoRuntime }).Deno;
  if (deno) {
    return {
      file: deno.execPath(),
      args: [
        "run",
        "--quiet",
        "--no-prompt",
        "--allow-env",
        `--v8-flags=${[heap, ...agentStack()].join(",")}`,
        ...entry,
      ],
      env,
    };
  }
  const cache = target === "esm" ? compileCacheDir() : null;
  return {
    file: process.execPath,
    args: [heap, ...agentStack(), ...entry],
    env: cache ? { ...env, NODE_COMPILE_CACHE: cache } : env,
  };
}

/**
 * The agent's `--stack-size` (V8's stack limit, KiB) for its worker, so that a Body nested as deep as the compiler
 * allows (docs/murano.md "The Body's Python, exactly": about 3,000 levels) evaluates alike in the agent (a Body
 * bounded by construction) and in a worker (build.mjs `V8_FLAGS` says why it is raised): as given on the agent's
 * command line (`process.execArgv`), else as the bundle's `V8_FLAGS` set it — the executable and a Node started
 * without it raise their own stack at run time (native/v8_settings.ts); Deno shows no flags to the program, and
 * docs/deploy.md says to run it with these.
 */
function agentStack(): string[] {
  const stack = (flags: readonly string[]) => flags.filter((arg) => arg.startsWith("--stack-size="));
  const given = stack(process.execArgv);
  return given.length > 0 ? given : stack(typeof __IDEM_V8_FLAGS__ === "undefined" ? [] : __IDEM_V8_FLAGS__);
}

let compileCache: string | null | undefined;

/** The private folder for the bundle's compile cache, made once; null when it cannot be had (no cache then). */
function compileCacheDir(): string | null {
  if (compileCache !== undefined) return compileCache;
  compileCache = null;
  try {
    const base = nativeCacheDir();
    const dir = join(base, "compile");
    for (const folder of [base, dir]) privateDir(folder, { what: "cache folder", refuseWritable: true });
    compileCache = dir;
  } catch {
    // a worker starts without the cache
  }
  return compileCache;
}

/**
 * V8's heap limit for a worker whose Body may use `memoryMB`: a backstop above the limit, not the limit. When V8
 * reaches its own limit it first spends seconds in garbage collections that free nothing (~10-20 s at 256 MB,
 * measured) before it aborts; the watchdog (worker_entry.ts) ends the worker at `memoryMB` before that.
 */
export function v8HeapMB(memoryMB: number): number {
  const limit = Math.max(16, Math.floor(memoryMB));
  return limit + Math.max(64, Math.floor(limit / 2));
}
