/**
 * The Murano Body interpreter: a safe subset of Python 3 run without Python on the VM (SPEC section 6).
 *
 * `compileBody` checks the WHOLE Body before anything runs. It refuses everything outside the subset with
 * IdemError 2 (construct, line and column): import, open, with, def, class, try, while, lambda, dunder names
 * and attributes, Python built-ins outside the subset, unknown methods, Python 2 calls such as
 * `dict.iteritems()`. A Body that is not valid Python 3 at all (a syntax error) is IdemError 1, the code
 * murano-agent gives it, with the problem, line and column. `evaluateBody` runs it with murano-agent's semantics: the Body is a function body,
 * `args` is a Bunch of the plan's Parameters (`args.x` is `args['x']`; nested dicts are plain dicts), each
 * plan script is a callable `name(commandline='', input=None)` returning a Bunch `{exitCode, stdout, stderr}`.
 * A Python exception becomes IdemError(1) whose message is what CPython's `str(exception)` prints.
 */
import { ErrorCode, IdemError } from "../errors.ts";
import type { BodyTree } from "./ast.ts";
import { Interpreter } from "./evaluator.ts";
import { parseBody } from "./parser.ts";
import { Frame, Globals } from "./scope.ts";
import type { ScriptCaller } from "./script.ts";
import type { PyValue } from "./values.ts";

export { parseJsonOrdered, pyToJson } from "./json.ts";
export { pyRepr, pyStr } from "./repr.ts";
export type { ScriptCaller, ScriptOutcome } from "./script.ts";
export type { PyValue } from "./values.ts";

/** A Body that passed every check; opaque outside the interpreter. */
export interface CompiledBody {
  readonly source: string;
  /** @internal */
  readonly tree: BodyTree;
}

export interface EvaluateOptions {
  /** The plan's Parameters (from parseJsonOrdered); the Body sees them as `args`. */
  args: PyValue;
  /** The plan's script names: each one is a callable in the Body. */
  scripts: ReadonlySet<string>;
  /** Runs a script. An IdemError it throws (code 100 for verifyExitcode) ends the Body unchanged. */
  call: ScriptCaller;
  /** Stops the Body at its next step (the interpreter yields every few thousand steps); throws the reason. */
  signal?: AbortSignal;
}

/**
 * Parses with @lezer/python and checks the whole Body before anything runs. Throws IdemError(2) for an
 * unsupported construct, e.g. `Cannot run Body: "import" is not supported (line 1, column 1)`, and
 * IdemError(1) for a syntax error, e.g. `Cannot run Body: "(" was never closed (line 2, column 14)`.
 */
export function compileBody(source: string): CompiledBody {
  try {
    return { source, tree: parseBody(source) };
  } catch (error) {
    if (error instanceof IdemError) throw error;
    if (error instanceof RangeError) {
      throw new IdemError(ErrorCode.InvalidPlan, "Cannot run Body: it is nested too deeply", {
        cause: error,
      });
    }
    // A checker bug must not wedge the intake (it retries unexpected errors): the plan is refused instead.
    const reason = error instanceof Error ? error.message : String(error);
    throw new IdemError(ErrorCode.InvalidPlan, `Cannot run Body as idem cannot check it: ${reason}`, {
      cause: error,
    });
  }
}

/**
 * Runs a compiled Body and returns its return value (None without `return`). Python exceptions throw
 * IdemError(1) with CPython's message; errors thrown by `call` propagate unchanged.
 */
export function evaluateBody(body: CompiledBody, options: EvaluateOptions): PyValue {
  const globals = new Globals(options.args, options.scripts);
  const frame = new Frame(globals, body.tree.locals);
  const interpreter = new Interpreter(options.call, options.signal);
  try {
    return interpreter.run(body.tree.statements, frame);
  } catch (error) {
    // A JS stack overflow is Python's RecursionError (a very deep expression).
    if (error instanceof RangeError && /call stack/i.test(error.message)) {
      throw new IdemError(ErrorCode.BodyFailed, "maximum recursion depth exceeded", { cause: error });
    }
    throw error;
  }
}
