/**
 * In-process evaluation of a Body that is bounded by construction (check/bounded.ts): on the agent's own event
 * loop, with no worker process, no serialisation and no brokered calls. Answers exactly as the worker would
 * (worker.ts): the same return text, the same error types (every error passes through the worker protocol's
 * encoding, so a bug-kind error is an InternalError in both), the same abort behaviour.
 *
 * The interpreter is synchronous and a script runs asynchronously, so a Body is run by **replay**: it runs from
 * its start until its first script call that has no outcome yet, which stops the run (a private sentinel thrown
 * from the call); the script runs (the agent's event loop is free meanwhile); the Body then runs again from its
 * start, the calls so far answered from their recorded outcomes, until the next new call or its end. A Body of
 * the rule has no loops, no mutation of shared values and no source of nondeterminism (no clock, no random, no
 * I/O but script calls; set and dict order are CPython's, fixed), so every replay takes the same path and makes
 * the same calls; a replay that asks for a different call than recorded is a bug (InternalError). The rule
 * counts the replays in its computing bound (calls + 1 runs).
 *
 * Aborting `signal` (the plan's Timeout, a cancel, a drain) rejects at once with its reason, as the worker's
 * kill does; a script that is running is the caller's to stop (execute.ts aborts its process group). The Body
 * itself cannot spin: between script calls it runs for a bounded time.
 */
import type { JsonValue } from "../../json/parse.ts";
import type { ScriptOutcome } from "../eval/script.ts";
import { InternalError } from "../runtime/internal_error.ts";
import type { PyValue } from "../runtime/values.ts";
import { fromJson, pyToJson } from "../text/json.ts";
import { decodeError, encodeError } from "./worker_protocol.ts";

export interface InProcessOptions {
  /** The plan's Parameters as its one parse read them (null when absent): the Body's `args`. */
  parameters: JsonValue;
  /** The plan's script names. */
  scripts: ReadonlySet<string>;
  /** Runs a script; what it throws (rejects with) is thrown inside the Body, as from the worker. */
  call(name: string, commandline: string, input: string | null): Promise<ScriptOutcome>;
  signal?: AbortSignal;
}

/** mod.ts's `evaluate` (passed in: mod.ts imports this module). */
export type Evaluate<P> = (
  program: P,
  options: {
    args: PyValue;
    scripts: ReadonlySet<string>;
    call: (name: string, commandline: string, input: string | null) => ScriptOutcome;
    signal?: AbortSignal;
  },
) => PyValue;

interface Call {
  name: string;
  commandline: string;
  input: string | null;
}

/** Stops a run at a script call without an outcome yet; never seen outside this module. */
const SUSPEND = new Error("Body suspended at a script call");

/**
 * Evaluates `program` here. Resolves with its return value as json.dumps text; rejects with what the Body raised
 * (IdemError, EnvironmentError from `call`, InternalError) or the reason of an abort.
 */
export async function evaluateInProcess<P>(
  program: P,
  evaluate: Evaluate<P>,
  options: InProcessOptions,
): Promise<string> {
  const { signal } = options;
  const answered: { call: Call; outcome: ScriptOutcome }[] = [];
  for (;;) {
    if (signal?.aborted) throw signal.reason;
    let next: Call | null = null;
    let index = 0;
    const call = (name: string, commandline: string, input: string | null): ScriptOutcome => {
      const seen = answered[index++];
      if (seen === undefined) {
        next = { name, commandline, input };
        throw SUSPEND;
      }
      const c = seen.call;
      if (c.name !== name || c.commandline !== commandline || c.input !== input) {
        throw new InternalError(`Body replay diverged at script call ${index}: ${c.name} then ${name}`);
      }
      return seen.outcome;
    };
    try {
      const value = evaluate(program, {
        args: fromJson(options.parameters),
        scripts: options.scripts,
        call,
        ...(signal ? { signal } : {}),
      });
      return pyToJson(value);
    } catch (error) {
      if (signal?.aborted && error === signal.reason) throw error;
      if (error !== SUSPEND) throw decodeError(encodeError(error));
    }
    const pending = next as Call | null;
    if (pending === null) throw new InternalError("Body suspended without a script call");
    const outcome = await untilAborted(
      options.call(pending.name, pending.commandline, pending.input),
      signal,
    ).catch((error: unknown) => {
      if (signal?.aborted && error === signal.reason) throw error;
      throw decodeError(encodeError(error));
    });
    answered.push({ call: pending, outcome });
  }
}

/** `promise`, or the signal's reason as soon as it aborts (the promise's own end is then ignored). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
