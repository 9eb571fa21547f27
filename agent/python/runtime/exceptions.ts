/**
 * Run-time and compile-time failures of a Body. A run-time failure is what CPython would raise inside
 * murano-agent: the result Message is `str(exception)` (a KeyError prints its key's repr), code 1. At compile
 * time a syntax error is code 1 too (as in murano-agent) and a refused construct code 2.
 */
import { ErrorCode, IdemError } from "../../errors.ts";

/** The Python exception a run-time failure stands for, kept for tests and logs (the Message is only its text). */
export type PyErrorKind =
  | "AttributeError"
  | "IndexError"
  | "KeyError"
  | "MemoryError"
  | "NameError"
  | "OverflowError"
  | "RecursionError"
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

/** Valid Python outside the safe subset: IdemError(2) naming the construct and its position. */
export function refuse(what: string, pos: SourcePos): IdemError {
  return new IdemError(
    ErrorCode.InvalidPlan,
    `Cannot run Body: ${what} (line ${pos.line}, column ${pos.column})`,
  );
}

/**
 * A Body that is not valid Python 3: IdemError(1) naming the problem and its position. murano-agent reports a
 * syntax error with ErrorCode 1 (CPython's compile() fails when the plan runs); idem keeps that code but finds
 * the error before anything runs.
 */
export function syntaxFail(what: string, pos: SourcePos): IdemError {
  return new IdemError(
    ErrorCode.BodyFailed,
    `Cannot run Body: ${what} (line ${pos.line}, column ${pos.column})`,
    { cause: "SyntaxError" },
  );
}
