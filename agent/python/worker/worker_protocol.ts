/**
 * What crosses between the agent and its Body worker (a child process, see worker.ts): one JSON object per line,
 * agent → worker on the worker's stdin, worker → agent on its stdout.
 *
 *   agent  {t: "evaluate", source, planText, scripts}      worker compiles and runs the Body
 *   worker {t: "call", name, commandline, input}           a script call: the worker blocks until the answer
 *   agent  {t: "return", outcome} | {t: "raise", error}    the script's outcome, or why it failed
 *   worker {t: "done", json} | {t: "fail", error}          the Body's return value as json.dumps text, or why not
 *
 * Errors cross as data and come back as the same types (SPEC 5.4 decides by type): an IdemError keeps its code,
 * message, info and Python exception name; an EnvironmentError stays one (the runner retries a plan whose
 * environment failed before any script started); anything else is an {@link InternalError}.
 */
import { EnvironmentError, IdemError, type Resource } from "../../errors.ts";
import type { ScriptOutcome } from "../eval/script.ts";
import { InternalError } from "../runtime/internal_error.ts";

/** The command line argument that makes the agent's own executable (a bundle, the SEA) a Body worker. */
export const BODY_WORKER_ARG = "__idem-body-worker";

/** An error as data. `python` is the Python exception's name when the IdemError stands for one. */
export type WireError =
  | { kind: "idem"; code: number; message: string; info: unknown; python: string | null }
  | { kind: "environment"; resource: Resource; message: string }
  | { kind: "internal"; message: string; detail: string };

export interface EvaluateRequest {
  t: "evaluate";
  /** The Body's source (already checked by the agent: a refused Body never reaches a worker). */
  source: string;
  /** The plan's JSON text: the worker takes `args` from its Parameters with the plan's one parser. */
  planText: string;
  /** The plan's script names: each is a callable in the Body. */
  scripts: string[];
}

export type ToWorker =
  | EvaluateRequest
  | { t: "return"; outcome: ScriptOutcome }
  | { t: "raise"; error: WireError };

export type FromWorker =
  | { t: "call"; name: string; commandline: string; input: string | null }
  | { t: "done"; json: string }
  | { t: "fail"; error: WireError };

/** The data form of any thrown value; never throws. */
export function encodeError(error: unknown): WireError {
  if (error instanceof IdemError) {
    const python = typeof error.cause === "string" ? error.cause : null;
    return { kind: "idem", code: error.code, message: error.message, info: error.info, python };
  }
  if (error instanceof EnvironmentError) {
    return { kind: "environment", resource: error.resource, message: error.message };
  }
  if (error instanceof InternalError)
    return { kind: "internal", message: error.message, detail: error.detail };
  return { kind: "internal", message: InternalError.MESSAGE, detail: InternalError.describe(error) };
}

/** The error a {@link WireError} stands for, of the type it was made from. */
export function decodeError(wire: WireError): Error {
  switch (wire.kind) {
    case "idem":
      return new IdemError(wire.code, wire.message, {
        info: wire.info,
        ...(wire.python === null ? {} : { cause: wire.python }),
      });
    case "environment":
      return new EnvironmentError(wire.resource, wire.message);
    case "internal":
      return new InternalError(wire.detail, wire.message);
  }
}
