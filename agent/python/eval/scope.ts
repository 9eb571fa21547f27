/**
 * Name resolution at compile time, as CPython's symbol table makes it for murano-agent's wrapper: the Body is
 * the body of a function, so every name it binds anywhere (assignment, augmented assignment, `for` target) is a
 * local of that function, and reading it before it is bound is an UnboundLocalError. A comprehension is a
 * function of its own: its loop targets are its locals; the names it reads that an enclosing scope binds are
 * free variables (read before bound: NameError "cannot access free variable"). Every other name is a global:
 * a plan script, then `args`, then a supported built-in, else NameError "name 'x' is not defined" when read.
 * Each name resolves to a slot once, so the compiled code never looks a name up by its text.
 */
import type { Expr, Stmt, Target } from "../check/ast.ts";
import { BUILTINS } from "../check/rules.ts";
import { pyFail } from "../runtime/exceptions.ts";
import { PyBuiltin, PyDict, PyScript, type PyValue } from "../runtime/values.ts";
import { type Ev, type Frame, type Store, unboundFree, unboundLocal, undefinedName } from "./frame.ts";

/**
 * CPython's compiler stops at a nesting of about 3,000 syntax nodes ("maximum recursion depth exceeded
 * during compilation": 3 x the recursion limit of 1,000, less what the calling frames use). 2,990 is what
 * python3 gives a Body wrapped as murano-agent wraps it, run from a shallow stack: `return 1+1+…` compiles
 * with 2,989 terms and fails with 2,990.
 */
export const MAX_NESTING = 2990;

/** The compilers of the node kinds, passed to each compile_*.ts module so that none imports another. */
export interface Compiler {
  expr(e: Expr, scope: Scope): Ev;
  target(t: Target, scope: Scope): Store;
  comprehension(e: Expr & { kind: "comprehension" | "dictComprehension" }, scope: Scope): Ev;
}

/** What all the scopes of one program share: its global names and the nesting depth being compiled. */
export class ProgramNames {
  readonly globals: string[] = [];
  private readonly globalSlots = new Map<string, number>();
  private depth = 0;
  globalSlot(name: string): number {
    let slot = this.globalSlots.get(name);
    if (slot === undefined) {
      slot = this.globals.length;
      this.globals.push(name);
      this.globalSlots.set(name, slot);
    }
    return slot;
  }
  /** Enters one syntax node; throws CPython's RecursionError beyond MAX_NESTING. */
  enter(): void {
    if (++this.depth > MAX_NESTING)
      throw pyFail("RecursionError", "maximum recursion depth exceeded during compilation");
  }
  leave(): void {
    this.depth--;
  }
}

export class Scope {
  readonly parent: Scope | null;
  readonly program: ProgramNames;
  private readonly slots = new Map<string, number>();
  constructor(parent: Scope | null, program: ProgramNames, names: Iterable<string>) {
    this.parent = parent;
    this.program = program;
    for (const name of names) if (!this.slots.has(name)) this.slots.set(name, this.slots.size);
  }
  /** How many locals a frame of this scope holds. */
  get size(): number {
    return this.slots.size;
  }

  /** The code reading `name` here. */
  load(name: string): Ev {
    const own = this.slots.get(name);
    if (own !== undefined)
      return (f) => {
        const value = f.v[own];
        if (value === undefined) throw unboundLocal(name);
        return value;
      };
    let depth = 1;
    for (let s = this.parent; s; s = s.parent, depth++) {
      const slot = s.slots.get(name);
      if (slot === undefined) continue;
      const up = depth;
      return (f) => {
        let frame = f as Frame;
        for (let i = 0; i < up; i++) frame = frame.up as Frame;
        const value = frame.v[slot];
        if (value === undefined) throw unboundFree(name);
        return value;
      };
    }
    const g = this.program.globalSlot(name);
    return (f) => {
      const value = f.ctx.globals[g];
      if (value === undefined) throw undefinedName(name);
      return value;
    };
  }

  /** The code binding `name` here (a target always binds a local of the scope it is in). */
  store(name: string): Store {
    const slot = this.slots.get(name);
    if (slot === undefined) throw new Error(`Cannot bind ${name} as the scope does not own it`);
    return (f, value) => {
      f.v[slot] = value;
    };
  }

  /** The local slot of `name`, or undefined when it is not a local of this scope. */
  slotOf(name: string): number | undefined {
    return this.slots.get(name);
  }
}

/** The names a target binds. */
export function targetNames(t: Target, out: Set<string>): Set<string> {
  switch (t.kind) {
    case "name":
      out.add(t.name);
      break;
    case "unpack":
      for (const item of t.items) targetNames(item, out);
      break;
    case "starUnpack":
      for (const item of [...t.before, t.star, ...t.after]) targetNames(item, out);
      break;
    case "attribute":
    case "subscript":
      break;
  }
  return out;
}

/** The names the statements bind in their own scope (not inside comprehensions): the Body's locals. */
export function boundNames(statements: readonly Stmt[], out = new Set<string>()): Set<string> {
  for (const s of statements) {
    switch (s.kind) {
      case "assign":
        for (const t of s.targets) targetNames(t, out);
        break;
      case "augassign":
        targetNames(s.target, out);
        break;
      case "for":
        targetNames(s.target, out);
        boundNames(s.body, out);
        boundNames(s.otherwise, out);
        break;
      case "if":
        for (const branch of s.branches) boundNames(branch.body, out);
        boundNames(s.otherwise, out);
        break;
    }
  }
  return out;
}

/** The value of each global name for one evaluation: murano-agent's module globals, then the built-ins. */
export function resolveGlobals(
  names: readonly string[],
  args: PyDict,
  scripts: ReadonlySet<string>,
): (PyValue | undefined)[] {
  return names.map((name) => {
    if (scripts.has(name)) return new PyScript(name);
    if (name === "args") return args;
    if (BUILTINS.has(name)) return new PyBuiltin(name);
    return undefined;
  });
}

/** murano-agent's `args`: a Bunch holding the plan's Parameters (a Bunch of nothing when they are not a dict). */
export function argsBunch(parameters: PyValue): PyDict {
  const args = new PyDict(true);
  if (parameters instanceof PyDict) for (const e of parameters.entries.values()) args.set(e.key, e.value);
  return args;
}
