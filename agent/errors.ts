/** Result ErrorCodes (SPEC section 7). Stable: engines branch on them. */
export const ErrorCode = {
  Ok: 0,
  BodyFailed: 1,
  InvalidPlan: 2,
  UnsupportedFormat: 9,
  ScriptFailed: 100,
  Timeout: 101,
  StaleGeneration: 301,
  FutureGeneration: 302,
  IdempotencyConflict: 303,
  OutcomeUnknown: 304,
  PolicyError: 305,
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * The one error class of the agent: a stable result `code`, a message that names the failed action and the
 * state, optional `info` (the result Body's AdditionalInfo) and the `cause`.
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
