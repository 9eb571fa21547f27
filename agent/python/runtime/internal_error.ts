/**
 * A fault of the interpreter itself, not of the Body: a JavaScript error that escaped it (a TypeError from a
 * bug, an unexpected exception from a runtime API) or a Body worker that died for no reason the agent knows.
 * It is a bug-kind failure (SPEC 5.4, agent/errors.ts failureKind: neither IdemError nor EnvironmentError):
 * the plan is answered code 1 with a Python-style message, CPython's SystemError ("internal error"), and the
 * JavaScript details go to the agent's log only (`detail`), never into a result.
 */
export class InternalError extends Error {
  /** The result Message of every internal error: no JavaScript text ever reaches a result. */
  static readonly MESSAGE = "SystemError: idem's Body interpreter failed (the agent's log has the details)";

  /** For the log: the JavaScript error's name, message and stack, or the worker's exit status. */
  readonly detail: string;

  constructor(detail: string, message: string = InternalError.MESSAGE, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "InternalError";
    this.detail = detail;
  }

  /** A one-line (plus stack) description of any thrown value, for the log. */
  static describe(error: unknown): string {
    if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
    try {
      return `thrown value: ${String(error)}`;
    } catch {
      return "thrown value that cannot be printed";
    }
  }
}
