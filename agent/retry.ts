/**
 * The one retry helper (the shape of deno std `async/retry.ts`): bounded exponential backoff with jitter,
 * and an `isRetriable` predicate that decides by the error's type (SPEC 5.4). Whatever is retried in the
 * agent — a journal commit, an intake, a publish — goes through here.
 */
import { isEnvironmentFailure, RetryError } from "./errors.ts";

export interface RetryOptions {
  /** Tries in all, the first included (default Infinity: until it succeeds or a non-retriable error). */
  maxAttempts?: number;
  /** Delay before the second try, ms (default 500). */
  minTimeout?: number;
  /** Cap of any delay, ms (default 30,000). */
  maxTimeout?: number;
  /** Growth of the delay per try (default 2). */
  multiplier?: number;
  /** Fraction of each delay that is random, 0–1 (default 0.5: a delay d becomes d × [0.5, 1]). */
  jitter?: number;
  /** Whether a failure is worth another try (default: environment failures only). */
  isRetriable?: (error: unknown) => boolean;
  /** Called before each wait, for logs. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Stops waiting: the last error is thrown. */
  signal?: AbortSignal;
}

/** The delay before try `attempt + 1` (attempt counts from 1), without jitter. */
export function backoff(attempt: number, options: RetryOptions = {}): number {
  const { minTimeout = 500, maxTimeout = 30_000, multiplier = 2 } = options;
  return Math.min(maxTimeout, minTimeout * multiplier ** (attempt - 1));
}

/**
 * Calls `fn` until it resolves. A non-retriable error is thrown as it is; a retriable one is retried after
 * the backoff; when `maxAttempts` tries failed, {@link RetryError} is thrown with the last error as cause.
 */
export async function retry<T>(
  fn: (attempt: number) => Promise<T> | T,
  options: RetryOptions = {},
): Promise<T> {
  const {
    maxAttempts = Number.POSITIVE_INFINITY,
    jitter = 0.5,
    isRetriable = isEnvironmentFailure,
  } = options;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (!isRetriable(error)) throw error;
      if (attempt >= maxAttempts) throw new RetryError(attempt, error);
      if (options.signal?.aborted) throw error;
      const delay = Math.round(backoff(attempt, options) * (1 - jitter * Math.random()));
      options.onRetry?.(error, attempt, delay);
      await sleep(delay, options.signal);
    }
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
