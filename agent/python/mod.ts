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
 * - `evaluatePlanBody(run, {call, limits, signal, outputCapBytes})` is what the agent uses: a Body bounded by
 *   construction (check/bounded.ts: no loops, no mutation, only operations linear in their operands, sizes that
 *   fit the budgets for this plan's inputs) is evaluated here, in-process (worker/in_process.ts); any other Body
 *   by `evaluateBounded` (worker.ts) in a separate worker process, within a memory limit, stopped at once by
 *   the plan's Timeout or an abort. Both answer alike.
 * - `toJson` (json.dumps of a result Body), `repr`, `fromJson` (a plan's parsed JSON as Python values).
 */
import { EnvironmentError, ErrorCode, IdemError } from "../errors.ts";
import type { JsonValue } from "../json/parse.ts";
import { parseJson } from "../json/parse.ts";
import type { BodyTree } from "./check/ast.ts";
import { type Boundedness, boundOf } from "./check/bounded.ts";
import { fitsInProcess, parameterUnits } from "./check/bounded_budget.ts";
import { runBody } from "./eval/evaluator.ts";
import type { ScriptCaller } from "./eval/script.ts";
import { engineLimit, isStackOverflow } from "./runtime/engine_limits.ts";
import { pyFail } from "./runtime/exceptions.ts";
import { InternalError } from "./runtime/internal_error.ts";
import type { PyValue } from "./runtime/values.ts";
import { type CheckOptions, parseBody } from "./syntax/parser.ts";
import { fromJson } from "./text/json.ts";
import { evaluateInProcess } from "./worker/in_process.ts";
import { type BoundedOptions, evaluateBounded } from "./worker/worker.ts";

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
  const key = cacheKey(source, options);
  const cached = key === null ? undefined : programs.get(key);
  if (cached !== undefined) return cached;
  try {
    const program = { source, tree: parseBody(source, options) };
    if (key !== null) remember(key, program);
    return program;
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

/**
 * Programs compiled lately, so that intake's check (pipeline/validate.ts) and the run share one compile: at most
 * {@link CACHE_CHARS} characters of source, Bodies above {@link CACHE_BODY_CHARS} not kept. A Program is
 * immutable (the evaluator keeps its compiled closures per tree).
 */
const programs = new Map<string, Program>();
const CACHE_CHARS = 1 << 20;
const CACHE_BODY_CHARS = 64 * 1024;
let cachedChars = 0;

function cacheKey(source: string, options: CheckOptions): string | null {
  if (source.length > CACHE_BODY_CHARS) return null;
  const scripts = options.scripts === undefined ? "\u0001" : [...options.scripts].sort().join("\u0000");
  return `${scripts}\u0002${source}`;
}

function remember(key: string, program: Program): void {
  programs.set(key, program);
  cachedChars += key.length;
  for (const [old] of programs) {
    if (cachedChars <= CACHE_CHARS) break;
    programs.delete(old);
    cachedChars -= old.length;
  }
}

/** A checked Body with what it runs on. */
export interface BodyRun {
  program: Program;
  /** The plan's Parameters as its one parse read them (null when absent): the Body's `args`. */
  parameters: JsonValue;
  /** The plan's script names. */
  scripts: ReadonlySet<string>;
}

const bounds = new WeakMap<BodyTree, Boundedness>();
/** `IDEM_BODY_WORKER=always`: every Body in a worker, as before the rule (comparisons, docs/benchmarks.md). */
const WORKER_ALWAYS = process.env.IDEM_BODY_WORKER === "always";

/** Whether `run` is evaluated in-process (check/bounded.ts): bounded by construction, within budget for its inputs. */
export function runsInProcess(run: BodyRun, outputCapBytes: number): boolean {
  if (WORKER_ALWAYS) return false;
  let boundedness = bounds.get(run.program.tree);
  if (boundedness === undefined) {
    boundedness = boundOf(run.program.tree, run.scripts);
    bounds.set(run.program.tree, boundedness);
  }
  return (
    boundedness.bounded &&
    fitsInProcess(boundedness.bound, { parameterUnits: parameterUnits(run.parameters), outputCapBytes })
  );
}

/**
 * Evaluates a plan's Body as the agent does: in-process when {@link runsInProcess}, else in a worker process
 * (`evaluateBounded`). Resolves with its return value as json.dumps text; rejects as `evaluateBounded` does.
 */
export function evaluatePlanBody(
  run: BodyRun,
  options: BoundedOptions & { outputCapBytes: number },
): Promise<string> {
  if (runsInProcess(run, options.outputCapBytes)) {
    return evaluateInProcess(run.program, evaluate, {
      parameters: run.parameters,
      scripts: run.scripts,
      call: options.call,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }
  const request = { source: run.program.source, parameters: run.parameters, scripts: [...run.scripts] };
  return evaluateBounded(request, options);
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
