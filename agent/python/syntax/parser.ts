/**
 * The Body checker's entry: parses the Body as CPython 3.11 compiles it inside murano-agent's wrapper
 * (parse_module.ts), runs CPython's compile-time checks (compile_checks.ts), keeps the safe subset
 * (checker.ts) and checks its names. A Body CPython would not compile is IdemError 1 (murano-agent answers
 * code 1 when exec raises) with CPython's message; valid Python outside the subset is IdemError 2. Both give
 * the construct's line and column in the Body. A syntax error anywhere wins over a refusal.
 */
import { ErrorCode, IdemError } from "../../errors.ts";
import type { BodyTree } from "../check/ast.ts";
import { Checker, Refusal } from "../check/checker.ts";
import { CompileError, checkModule } from "../check/compile_checks.ts";
import { checkNames } from "../check/names.ts";
import { isStackOverflow } from "../runtime/engine_limits.ts";
import { BodySyntaxError, type ParsedBody, parseModule } from "./parse_module.ts";

export interface CheckOptions {
  /**
   * The plan's script names. Given, a bare name that is neither a built-in, a script, `args` nor bound by the
   * Body is refused before anything runs (SPEC section 6); omitted (tests of the language alone), bare names
   * are left to run time.
   */
  scripts?: ReadonlySet<string>;
}

/** Parses and checks a Body; throws IdemError(1) for what CPython would not compile, IdemError(2) for a refusal. */
export function parseBody(source: string, options: CheckOptions = {}): BodyTree {
  let parsed: ParsedBody;
  try {
    parsed = parseModule(source);
  } catch (error) {
    if (!(error instanceof BodySyntaxError)) throw error;
    const at = error.position ? ` (line ${error.position.line}, column ${error.position.column})` : "";
    throw new IdemError(ErrorCode.BodyFailed, `Cannot run Body: ${error.message}${at}`, {
      cause: error.errorType,
    });
  }
  const where = (at: number): string => {
    const { line, column } = parsed.position(at);
    return `(line ${line}, column ${column})`;
  };
  try {
    checkModule(parsed.module);
  } catch (error) {
    // The JavaScript stack ending before CPython's own compile limit (only a Body nested close to it).
    if (isStackOverflow(error))
      throw new IdemError(
        ErrorCode.BodyFailed,
        "Cannot run Body: maximum recursion depth exceeded during compilation",
        {
          cause: "RecursionError",
        },
      );
    if (!(error instanceof CompileError)) throw error;
    throw new IdemError(ErrorCode.BodyFailed, `Cannot run Body: ${error.message} ${where(error.at)}`, {
      cause: error.errorType,
    });
  }
  const checker = new Checker(parsed.position);
  let statements: BodyTree["statements"];
  try {
    if (parsed.body === null)
      throw new Refusal(
        "a line of the Body starts at column 0 after a carriage return (\\r), so it would run outside murano-agent's function",
        parsed.text.length,
      );
    statements = checker.statements(parsed.body);
    const first = parsed.refusals[0];
    if (first) throw new Refusal(first.message, first.at);
    checkNames(checker.names, options.scripts);
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    const earlier = parsed.refusals.find((r) => r.at < error.at);
    const chosen = earlier ? new Refusal(earlier.message, earlier.at) : error;
    throw new IdemError(ErrorCode.InvalidPlan, `Cannot run Body: ${chosen.message} ${where(chosen.at)}`);
  }
  return { statements, locals: checker.names.locals };
}
