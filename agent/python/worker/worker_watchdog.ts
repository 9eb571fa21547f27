/**
 * The Body worker's watchdog: a thread of the worker process (node:worker_threads, its own event loop, so it runs
 * while the main thread computes or collects garbage) that polls every {@link POLL_MS} ms and kills the whole
 * process with SIGKILL when
 *
 * - its parent is no longer the agent (`agentPid`): the agent is gone, maybe before this worker even started;
 * - the process's resident memory has grown by more than `memoryMB` since the watchdog started (the worker's own
 *   code and data, measured once, are not the Body's). worker.ts answers a worker killed by a signal it did not
 *   send as MemoryError. Without the watchdog, V8 answers a full heap only after seconds of garbage collections
 *   that free nothing (measured at 256 MB: ~10-15 s; see docs/benchmarks.md); V8's own limit stays, set above
 *   this one (worker_command.ts `v8HeapMB`), as a backstop.
 *
 * Resident memory (process.memoryUsage.rss(): the whole process, every thread) is what the machine pays; it counts
 * every allocation of the Body whatever its shape (one big list, many small objects, strings).
 */
import { Worker } from "node:worker_threads";

/** How often the watchdog looks, in ms. */
export const POLL_MS = 20;

export interface WatchdogOptions {
  agentPid: number;
  /** How much the process may grow, in MB; not a positive number: no memory watch. */
  memoryMB: number;
}

const CODE = `
  const { workerData } = require("node:worker_threads");
  const { agentPid, ceiling } = workerData;
  setInterval(() => {
    if (process.ppid !== agentPid || process.memoryUsage.rss() > ceiling) process.kill(process.pid, "SIGKILL");
  }, workerData.pollMs);`;

/** Starts the watchdog thread; it does not keep the process alive by itself. */
export function watchWorker(options: WatchdogOptions): void {
  const base = process.memoryUsage.rss();
  const ceiling = options.memoryMB > 0 ? base + options.memoryMB * 1024 * 1024 : Number.POSITIVE_INFINITY;
  const watchdog = new Worker(CODE, {
    eval: true,
    workerData: { agentPid: options.agentPid, ceiling, pollMs: POLL_MS },
  });
  watchdog.unref();
}
