/**
 * Gives the memory glibc's allocator holds free back to the system once the agent has gone quiet: `malloc_trim(0)`
 * (libc.ts) {@link QUIET_MS} after the last commit. glibc keeps freed memory in its arenas (one per thread that
 * allocated: the main thread, V8's and libuv's workers) for reuse; V8's memory reducer does the same for the
 * JavaScript heap (its GC 2 s after going idle, build.mjs V8 flags). Measured on the agent idle after a plan:
 * RssAnon −1.8 MB (docs/benchmarks.md, "Session 6").
 * Without libc's functions (libc.ts: Deno, musl, older glibc) it does nothing.
 */
import { libc } from "./libc.ts";

/**
 * Quiet time after the last commit before the trim, ms: a burst's commits come milliseconds apart, so this is
 * after a burst or between sequential plans of an engine that waits for each result. Measured on the agent 2 s
 * after 500 back-to-back plans: RSS 76.7–77.4 MB with a 1 s wait, 79.5–83.0 MB with 3 s (not yet trimmed).
 */
export const QUIET_MS = 1000;

/** Call {@link QuietTrim.poke} at each commit; the trim runs once the agent has been quiet for QUIET_MS. */
export class QuietTrim {
  #timer: NodeJS.Timeout | undefined;
  readonly #trim: () => unknown;

  /** `trim`: what to run once quiet (tests); default {@link trimNow}. */
  constructor(trim: () => unknown = trimNow) {
    this.#trim = trim;
  }

  poke(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#trim();
    }, QUIET_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/**
 * `malloc_trim(0)`, off the event loop (koffi's worker thread: after a plan that freed much fragmented memory the
 * call took 37 ms for 12 MB and 413 ms for 100 MB, measured); resolves true once done, false when libc's functions
 * are not available.
 */
export function trimNow(): Promise<boolean> {
  const bound = libc();
  if ("reason" in bound) return Promise.resolve(false);
  return new Promise((resolve) => bound.functions.malloc_trim.async(0, () => resolve(true)));
}
