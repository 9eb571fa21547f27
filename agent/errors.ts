/**
 * The failure model (SPEC 5.4). Every failure is one of three kinds, told apart by its type, never by its
 * message text:
 *
 * - **the plan's own fault** ({@link IdemError}): deterministic, it would fail the same way again. It carries
 *   the result ErrorCode (SPEC 7) the plan is answered with at once.
 * - **the environment's fault** ({@link EnvironmentError}): transient (a full disk, an I/O error, a broker that
 *   is gone). Retried with bounded backoff and jitter ({@link ../retry.ts}), never answered as the plan's fault.
 * - **a bug**: anything else. Counted, logged with the plan ID, and after a bounded number of attempts the plan
 *   is answered with code 2 so that it cannot stop the others.
 */

/** Result ErrorCodes (SPEC section 7). Stable: engines branch on them. */
export const ErrorCode = {
  Ok: 0,
  BodyFailed: 1,
  InvalidPlan: 2,
  UnsupportedFormat: 9,
  ScriptFailed: 100,
  Timeout: 101,
  Cancelled: 102,
  StaleGeneration: 301,
  FutureGeneration: 302,
  IdempotencyConflict: 303,
  OutcomeUnknown: 304,
  PolicyError: 305,
  Unauthenticated: 306,
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * The plan's own fault: a stable result `code` (SPEC 7), a message that names the failed action and the
 * state, optional `info` (the result Body's AdditionalInfo) and the `cause`. Also used for usage and
 * configuration errors of the command line (code 2: exit status 2).
 */
export class IdemError extends Error {
  readonly code: number;
  readonly info: unknown;

  constructor(code: number, message: string, options: { cause?: unknown; info?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "IdemError";
    this.code = code;
    this.info = options.info ?? null;
  }
}

/** What an environment failure was about: where to look when it persists. */
export type Resource = "journal" | "broker" | "disk" | "network";

/**
 * The environment's fault: transient, so the step that failed is retried with backoff, without losing the
 * plan or its result and without running it twice.
 */
export class EnvironmentError extends Error {
  readonly resource: Resource;

  constructor(resource: Resource, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "EnvironmentError";
    this.resource = resource;
  }
}

/**
 * errno codes of a local resource running out (disk, quota, descriptors, memory, processes): transient, the
 * environment's fault. Read from the error's `code` (its type, in Node's terms), never from its message.
 */
const EXHAUSTED = new Set(["ENOSPC", "EDQUOT", "EIO", "EMFILE", "ENFILE", "ENOMEM", "EAGAIN"]);

/** The environment failure `error` stands for, when it is a local resource running out; else undefined. */
export function resourceExhausted(error: unknown, doing: string): EnvironmentError | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string" || !EXHAUSTED.has(code)) return undefined;
  return new EnvironmentError("disk", `Cannot ${doing}: ${describe(error)}`, { cause: error });
}

/** A journal commit that did not become durable (ENOSPC, EIO, a map full): nothing of it was written. */
export class JournalUnavailable extends EnvironmentError {
  /** The errno-style code of the cause when there is one (`ENOSPC`, `EIO`, `MDB_MAP_FULL` …). */
  readonly errno: string | undefined;

  constructor(message: string, options: { cause?: unknown; errno?: string } = {}) {
    super("journal", message, options.cause === undefined ? {} : { cause: options.cause });
    this.name = "JournalUnavailable";
    this.errno = options.errno;
  }
}

/** Thrown by `retry` when it gives up: `attempts` tries, the last failure as `cause`. */
export class RetryError extends Error {
  readonly attempts: number;

  constructor(attempts: number, cause: unknown) {
    super(`Cannot complete the step after ${attempts} attempts: ${describe(cause)}`, { cause });
    this.name = "RetryError";
    this.attempts = attempts;
  }
}

export type FailureKind = "plan" | "environment" | "bug";

/** The kind of a failure (SPEC 5.4), by its type; a retry that gave up is of the kind of its last failure. */
export function failureKind(error: unknown): FailureKind {
  if (error instanceof RetryError) return failureKind(error.cause);
  if (error instanceof IdemError) return "plan";
  if (error instanceof EnvironmentError) return "environment";
  return "bug";
}

/** True for the environment's failures: the only ones worth retrying. */
export const isEnvironmentFailure = (error: unknown): boolean => error instanceof EnvironmentError;

/** A one-line description of any thrown value, for logs. */
export function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  try {
    return String(error);
  } catch {
    return Object.prototype.toString.call(error);
  }
}
