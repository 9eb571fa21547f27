/**
 * The Murano Body interpreter: a safe subset of Python 3 run without Python on the VM (SPEC section 6). Its one
 * public face:
 *
 * - `compile(source)` checks the WHOLE Body before anything runs. It refuses everything outside the subset with
 *   IdemError 2 (construct, line and column): import, open, with, def, class, try, while, lambda, dunder names
 *   and attributes, Python built-ins outside the subset, unknown methods, Python 2 calls such as
 *   `dict.iteritems()`. A Body that is not valid Python 3 (a syntax error) is IdemError 1, the code murano-agent
 *   gives it, with the problem, line and column.
 * - `evaluate(program, {args, scripts, call})` runs it here, synchronously, with murano-agent's semantics: the
 *   Body is a function body, `args` a Bunch of the plan's Parameters (`args.x` is `args['x']`), each plan script
 *   a callable `name(commandline='', input=None)` returning a Bunch `{exitCode, stdout, stderr}`. A Python
 *   exception is IdemError(1) whose message is CPython's `str(exception)`. Tests, the differential suite and
 *   the Body worker use it; the agent itself never does (it would block its event loop).
 * - `evaluateBounded(request, {call, limits, signal})` (worker.ts) is what the agent uses: the same evaluation
 *   in a separate worker process, within a memory limit, stopped at once by the plan's Timeout or an abort.
 * - `toJson` (json.dumps of a result Body), `repr`, `fromJson` (a plan's parsed JSON as Python values).
 */
import { EnvironmentError, ErrorCode, IdemError } from "../errors.ts";
import { parseJson } from "../json/parse.ts";
import type { BodyTree } from "./check/ast.ts";
import { runBody } from "./eval/evaluator.ts";
import type { ScriptCaller } from "./eval/script.ts";
import { engineLimit, isStackOverflow } from "./runtime/engine_limits.ts";
import { pyFail } from "./runtime/exceptions.ts";
import { InternalError } from "./runtime/internal_error.ts";
import type { PyValue } from "./runtime/values.ts";
import { type CheckOptions, parseBody } from "./syntax/parser.ts";
import { fromJson } from "./text/json.ts";

export type { ScriptCaller, ScriptOutcome } from "./eval/script.ts";
export { InternalError } from "./runtime/internal_error.ts";
export type { PyValue } from "./runtime/values.ts";
export type { CheckOptions } from "./syntax/parser.ts";
export { fromJson, pyToJson, pyToJson as toJson } from "./text/json.ts";
export { pyRepr, pyRepr as repr, pyStr } from "./text/repr.ts";
export { type BodyLimits, type BoundedOptions, evaluateBounded } from "./worker/worker.ts";

/** The Message of a MemoryError for a value beyond what the JavaScript engine can hold. */
export const ENGINE_MEMORY_MESSAGE =
  "MemoryError: the Body built a value larger than the interpreter can hold";

/** A Body that passed every check; opaque outside the interpreter. */
export interface Program {
  readonly source: string;
  /** @internal */
  readonly tree: BodyTree;
}

/** @deprecated the old name of {@link Program}. */
export type CompiledBody = Program;

export interface EvaluateOptions {
  /** The plan's Parameters as Python values (see {@link argsOf}); the Body sees them as `args`. */
  args: PyValue;
  /** The plan's script names: each one is a callable in the Body. */
  scripts: ReadonlySet<string>;
  /** Runs a script, synchronously. What it throws ends the Body unchanged (code 100 for verifyExitcode). */
  call: ScriptCaller;
  /** Checked every few thousand steps; once aborted, the Body stops with `signal.reason` thrown unchanged. */
  signal?: AbortSignal;
  /** Runs every few thousand steps (a deadline, a step budget …); what it throws ends the Body unchanged. */
  checkpoint?: () => void;
}

/**
 * Checks the whole Body before anything runs. Throws IdemError(2) for an unsupported construct, e.g.
 * `Cannot run Body: "import" is not supported (line 1, column 1)`, and IdemError(1) for a syntax error, e.g.
 * `Cannot run Body: "(" was never closed (line 2, column 14)`. A checker fault refuses the plan with code 2
 * (intake must not retry it forever) without any JavaScript text. With `options.scripts` (the plan's script
 * names) an unknown name is refused too (SPEC 6).
 */
export function compile(source: string, options: CheckOptions = {}): Program {
  try {
    return { source, tree: parseBody(source, options) };
  } catch (error) {
    if (error instanceof IdemError) throw error;
    if (isStackOverflow(error)) {
      throw new IdemError(ErrorCode.InvalidPlan, "Cannot run Body: it is nested too deeply", {
        cause: error,
      });
    }
    throw new IdemError(ErrorCode.InvalidPlan, "Cannot run Body as idem's checker failed on it", {
      cause: new InternalError(InternalError.describe(error), InternalError.MESSAGE, { cause: error }),
    });
  }
}

/**
 * Runs a checked Body here and returns its return value (None without `return`). Throws: IdemError(1) for a
 * Python exception, with CPython's message; IdemError(1) for the engine's limits (runtime/engine_limits.ts): the
 * JavaScript stack running out is CPython's RecursionError "maximum recursion depth exceeded", a string, int or
 * list beyond what the engine can hold is MemoryError; what `call` or `checkpoint` throws, and the signal's
 * reason, unchanged; an {@link InternalError} (bug kind) for any other JavaScript error (any other RangeError
 * too), its text kept out of the message.
 */
export function evaluate(program: Program, options: EvaluateOptions): PyValue {
  // What the caller's own functions throw is theirs: kept apart from the interpreter's faults by identity.
  const theirs = new WeakSet<object>();
  const own =
    <A extends unknown[], R>(fn: (...a: A) => R) =>
    (...a: A): R => {
      try {
        return fn(...a);
      } catch (error) {
        if (error !== null && typeof error === "object") theirs.add(error);
        throw error;
      }
    };
  const { checkpoint } = options;
  try {
    return runBody(program.tree, {
      ...options,
      call: own(options.call),
      ...(checkpoint ? { checkpoint: own(checkpoint) } : {}),
    });
  } catch (error) {
    if (error instanceof IdemError || error instanceof EnvironmentError || error instanceof InternalError) {
      throw error;
    }
    if (error !== null && typeof error === "object" && theirs.has(error)) throw error;
    if (options.signal?.aborted && error === options.signal.reason) throw error;
    const limit = engineLimit(error);
    if (limit === "stack") throw pyFail("RecursionError", "maximum recursion depth exceeded");
    if (limit === "memory") throw pyFail("MemoryError", ENGINE_MEMORY_MESSAGE);
    throw new InternalError(InternalError.describe(error), InternalError.MESSAGE, { cause: error });
  }
}

/** The plan's Parameters as the Body's `args` (None when absent), from the plan's one parser. */
export function argsOf(planText: string): PyValue {
  const parsed = parseJson(planText);
  if (!parsed.ok) throw new IdemError(ErrorCode.InvalidPlan, parsed.message);
  const parameters = parsed.value instanceof Map ? parsed.value.get("Parameters") : undefined;
  return parameters === undefined ? null : fromJson(parameters);
}

/** @deprecated the old name of {@link compile}. */
export const compileBody = compile;
/** @deprecated the old name of {@link evaluate}. */
export const evaluateBody = evaluate;
