/**
 * Runs a checked Body synchronously: compiles its tree into closures once (compile.ts; the result is kept per
 * tree), resolves its global names for this evaluation (murano-agent's module globals: the plan's scripts,
 * `args`; then the built-ins) and runs it in a fresh frame. Every loop iteration and comprehension item is a
 * step; every few thousand steps a checkpoint stops the Body when the signal has aborted (throwing its reason)
 * or when the caller's own checkpoint throws.
 */
import type { BodyTree } from "../check/ast.ts";
import { callBuiltin } from "../runtime/builtins.ts";
import { pyFail } from "../runtime/exceptions.ts";
import { callMethod } from "../runtime/methods.ts";
import { type CallArgs, PyBuiltin, PyMethod, PyScript, type PyValue, typeName } from "../runtime/values.ts";
import { type CompiledProgram, compileProgram } from "./compile.ts";
import { Context, Frame, RETURN } from "./frame.ts";
import { argsBunch, resolveGlobals } from "./scope.ts";
import { invokeScript, type ScriptCaller } from "./script.ts";

export interface RunOptions {
  /** The plan's Parameters; the Body sees them as `args`. */
  args: PyValue;
  /** The plan's script names: each one is a callable in the Body. */
  scripts: ReadonlySet<string>;
  /** Runs a script; what it throws ends the Body unchanged. */
  call: ScriptCaller;
  /** Checked at every checkpoint: once aborted, the Body stops with `signal.reason` thrown. */
  signal?: AbortSignal | undefined;
  /** Runs at every checkpoint (every few thousand steps); what it throws ends the Body unchanged. */
  checkpoint?: (() => void) | undefined;
}

const compiled = new WeakMap<BodyTree, CompiledProgram>();
const NO_KEYWORDS: ReadonlyMap<string, PyValue> = new Map();

/** Calls any Python callable of the subset. */
function callValue(ctx: Context, fn: PyValue, call: CallArgs | PyValue[], caller: ScriptCaller): PyValue {
  const c: CallArgs = Array.isArray(call)
    ? { args: call, keywords: NO_KEYWORDS as Map<string, PyValue> }
    : call;
  if (fn instanceof PyBuiltin) return callBuiltin(fn.name, c, ctx);
  if (fn instanceof PyMethod) return callMethod(fn.self, fn.name, c, ctx.invoke);
  if (fn instanceof PyScript) return invokeScript(fn, c, caller);
  throw pyFail("TypeError", `'${typeName(fn)}' object is not callable`);
}

/** The compiled form of a tree (compiled at its first evaluation; a RecursionError when nested too deeply). */
export function programOf(tree: BodyTree): CompiledProgram {
  let program = compiled.get(tree);
  if (!program) {
    program = compileProgram(tree);
    compiled.set(tree, program);
  }
  return program;
}

/** Runs the Body of `tree`; returns its return value (None without `return`). */
export function runBody(tree: BodyTree, options: RunOptions): PyValue {
  const program = programOf(tree);
  const globals = resolveGlobals(program.globals, argsBunch(options.args), options.scripts);
  const { signal, checkpoint, call } = options;
  const ctx: Context = new Context(
    globals,
    (fn, c) => callValue(ctx, fn, c, call),
    () => {
      if (signal?.aborted) throw signal.reason;
      checkpoint?.();
    },
  );
  const flow = program.run(new Frame(program.size, null, ctx));
  return flow === RETURN ? ctx.result : null;
}
