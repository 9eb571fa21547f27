/**
 * Run-time and compile-time failures of a Body. A run-time failure is what CPython would raise inside
 * murano-agent: the result Message is `str(exception)` (a KeyError prints its key's repr), code 1.
 */
import { ErrorCode, IdemError } from "../errors.ts";

/** The Python exception a run-time failure stands for, kept for tests and logs (the Message is only its text). */
export type PyErrorKind =
  | "AttributeError"
  | "IndexError"
  | "KeyError"
  | "MemoryError"
  | "NameError"
  | "OverflowError"
  | "RuntimeError"
  | "TypeError"
  | "UnboundLocalError"
  | "ValueError"
  | "ZeroDivisionError";

/** A Python exception raised while the Body runs: IdemError(1) whose message is `str(exception)`. */
export function pyFail(kind: PyErrorKind, message: string): IdemError {
  return new IdemError(ErrorCode.BodyFailed, message, { cause: kind });
}

/** Where a construct sits in the Body, 1-based. */
export interface SourcePos {
  line: number;
  column: number;
}

/** A Body that must not run at all: IdemError(2) naming the construct and its position. */
export function refuse(what: string, pos: SourcePos): IdemError {
  return new IdemError(
    ErrorCode.InvalidPlan,
    `Cannot run Body: ${what} (line ${pos.line}, column ${pos.column})`,
  );
}
