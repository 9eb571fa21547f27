/**
 * How to start a Body worker process in each form idem runs in, with its heap limited to `memoryMB` (V8's
 * `--max-old-space-size`). Its last two arguments are always {@link BODY_WORKER_ARG} and the agent's PID (the
 * worker ends itself when that process is no longer its parent):
 *
 * - from the sources (`node agent/cli.ts`, tests): this runtime runs agent/python/worker/worker_main.ts;
 * - dist/idem.mjs on Node or Deno: the runtime runs the bundle itself with {@link BODY_WORKER_ARG} (agent/cli.ts
 *   serves the worker when it sees it); Deno gets the heap limit through `--v8-flags` and no permission but
 *   `--allow-env` (the bundle's modules read IDEM_* settings as they load): no files, network or processes;
 * - dist/idem (the single executable): the executable itself with BODY_WORKER_ARG, the heap limit through
 *   NODE_OPTIONS (a SEA reads no Node options from its command line).
 */
import { fileURLToPath } from "node:url";
import { BODY_WORKER_ARG } from "./worker_protocol.ts";

/** Set by build.mjs in a bundle: "esm" (dist/idem.mjs) or "sea" (dist/idem); absent in the sources. */
declare const __IDEM_TARGET__: string | undefined;

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
  const heap = `--max-old-space-size=${Math.max(16, Math.floor(memoryMB))}`;
  const env = { ...process.env };
  if (target === "sea") {
    return {
      file: process.execPath,
      args: [BODY_WORKER_ARG, `${process.pid}`],
      env: { ...env, NODE_OPTIONS: heap },
    };
  }
  const file = target === "esm" ? import.meta.url : new URL("./worker_main.ts", import.meta.url).href;
  const entry = [fileURLToPath(file), BODY_WORKER_ARG, `${process.pid}`];
  const deno = (globalThis as { Deno?: DenoRuntime }).Deno;
  if (deno) {
    return {
      file: deno.execPath(),
      args: ["run", "--quiet", "--no-prompt", "--allow-env", `--v8-flags=${heap}`, ...entry],
      env,
    };
  }
  return { file: process.execPath, args: [heap, ...entry], env };
}
