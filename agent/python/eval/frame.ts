/**
 * What compiled Body code runs on: a Frame per scope (the Body's function locals, or one comprehension's) and
 * the Context of one evaluation (globals, the return value, the step counter, how to call a callable).
 * compile.ts turns the checked tree into closures of these shapes once; evaluator.ts runs them. A leaf: the
 * closures' types live here so that every compile_*.ts file can name them without importing each other.
 */
import { pyFail } from "../runtime/exceptions.ts";
import type { CallArgs, PyValue, Runtime } from "../runtime/values.ts";

/** An expression: evaluates in a frame to a value. */
export type Ev = (f: Frame) => PyValue;
/** A statement: runs in a frame, returns how control leaves it (a Flow). */
export type Exec = (f: Frame) => Flow;
/** An assignment target: stores a value (evaluating the target's own parts first, as CPython does). */
export type Store = (f: Frame, value: PyValue) => void;

/** How control leaves a statement: on to the next one, or by break, continue or return (value in ctx.result). */
export type Flow = 0 | 1 | 2 | 3;
export const NEXT = 0;
export const BREAK = 1;
export const CONTINUE = 2;
export const RETURN = 3;

/**
 * How many comprehension and generator frames may be active at once: CPython's recursion limit (1,000) less
 * the frames under them (the Body's function and murano-agent's exec; 3 from a shallow python3 harness, where a
 * chain of 997 generator expressions runs and one of 998 is RecursionError "maximum recursion depth exceeded").
 */
export const MAX_FRAMES = 997;

/** Steps between two checkpoints (abort signal, limits): a loop iteration or a comprehension item is a step. */
export const STEPS_PER_CHECK = 4096;

/**
 * One evaluation of a Body. `globals` holds, per global slot of the program (scope.ts), the value of that name
 * (a script runner, `args` or a built-in) or undefined for a name that is not defined.
 */
export class Context implements Runtime {
  result: PyValue = null;
  budget = STEPS_PER_CHECK;
  /** Comprehension and generator frames active now. */
  private frames = 0;
  readonly globals: (PyValue | undefined)[];
  readonly invoke: (fn: PyValue, call: CallArgs | PyValue[]) => PyValue;
  private readonly checkpoint: () => void;
  constructor(
    globals: (PyValue | undefined)[],
    invoke: (fn: PyValue, call: CallArgs | PyValue[]) => PyValue,
    checkpoint: () => void,
  ) {
    this.globals = globals;
    this.invoke = invoke;
    this.checkpoint = checkpoint;
  }
  /** A comprehension or generator frame starts running; RecursionError beyond MAX_FRAMES. */
  enter(): void {
    if (this.frames >= MAX_FRAMES) throw pyFail("RecursionError", "maximum recursion depth exceeded");
    this.frames++;
  }
  leave(): void {
    this.frames--;
  }
  /** One step: every STEPS_PER_CHECK steps the checkpoint runs (it throws to stop the Body). */
  tick(): void {
    if (--this.budget > 0) return;
    this.budget = STEPS_PER_CHECK;
    this.checkpoint();
  }
}

/** The locals of one scope, by slot (undefined: not bound yet), and the scope it is nested in. */
export class Frame {
  readonly v: (PyValue | undefined)[];
  readonly up: Frame | null;
  readonly ctx: Context;
  constructor(size: number, up: Frame | null, ctx: Context) {
    this.v = new Array<PyValue | undefined>(size).fill(undefined);
    this.up = up;
    this.ctx = ctx;
  }
}

/** Reading a local of the running scope before it is bound (CPython 3.11's message). */
export function unboundLocal(name: string): Error {
  return pyFail(
    "UnboundLocalError",
    `cannot access local variable '${name}' where it is not associated with a value`,
  );
}

/** Reading a local of an enclosing scope (from a comprehension) before it is bound. */
export function unboundFree(name: string): Error {
  return pyFail(
    "NameError",
    `cannot access free variable '${name}' where it is not associated with a value in enclosing scope`,
  );
}

/** A global name that is neither a script, `args` nor a built-in. */
export function undefinedName(name: string): Error {
  return pyFail("NameError", `name '${name}' is not defined`);
}
