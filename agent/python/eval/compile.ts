/**
 * Turns a checked Body tree (ast.ts) into closures, once: every statement and expression becomes a function of
 * a Frame, names become slots (scope.ts), operators their fast-path functions (compile_ops.ts). Statements
 * return how control leaves them (frame.ts Flow): `for` runs `else` only when its loop was not broken, `break`
 * and `continue` end the innermost loop's current pass, `return` leaves the Body with its value in the context.
 * A tree nested more deeply than CPython compiles is its RecursionError "maximum recursion depth exceeded during
 * compilation", before anything runs.
 */

import type { BodyTree, Expr, Stmt } from "../check/ast.ts";
import { truthy } from "../runtime/values.ts";
import { compileAugAssign, compileTarget } from "./assign.ts";
import { iterableOf } from "./compile_display.ts";
import { EXPRESSIONS } from "./compile_expr.ts";
import { compileComprehension } from "./comprehension.ts";
import { iterCursor } from "./cursor.ts";
import { BREAK, CONTINUE, type Ev, type Exec, NEXT, RETURN, type Store } from "./frame.ts";
import { boundNames, type Compiler, ProgramNames, Scope } from "./scope.ts";

/** A compiled Body: its code, the size of its frame and the global names it reads (by global slot). */
export interface CompiledProgram {
  readonly run: Exec;
  readonly size: number;
  readonly globals: readonly string[];
}

function block(c: Compiler, statements: readonly Stmt[], scope: Scope): Exec {
  const list = statements.map((s) => {
    scope.program.enter();
    const exec = statement(c, s, scope);
    scope.program.leave();
    return exec;
  });
  const [only] = list;
  if (list.length === 0) return () => NEXT;
  if (list.length === 1 && only) return only;
  const n = list.length;
  return (f) => {
    for (let i = 0; i < n; i++) {
      const flow = (list[i] as Exec)(f);
      if (flow !== NEXT) return flow;
    }
    return NEXT;
  };
}

function forLoop(c: Compiler, s: Stmt & { kind: "for" }, scope: Scope): Exec {
  const iterable = iterableOf(c, s.iterable, scope);
  const store: Store = c.target(s.target, scope);
  const body = block(c, s.body, scope);
  const otherwise = s.otherwise.length > 0 ? block(c, s.otherwise, scope) : null;
  return (f) => {
    const next = iterCursor(iterable(f));
    const ctx = f.ctx;
    for (let item = next(); item !== undefined; item = next()) {
      ctx.tick();
      store(f, item);
      const flow = body(f);
      if (flow === BREAK) return NEXT;
      if (flow === RETURN) return RETURN;
    }
    return otherwise ? otherwise(f) : NEXT;
  };
}

function ifStatement(c: Compiler, s: Stmt & { kind: "if" }, scope: Scope): Exec {
  const tests = s.branches.map((branch) => c.expr(branch.test, scope));
  const bodies = s.branches.map((branch) => block(c, branch.body, scope));
  const otherwise = block(c, s.otherwise, scope);
  const [test, body] = [tests[0], bodies[0]];
  if (tests.length === 1 && test && body) return (f) => (truthy(test(f)) ? body(f) : otherwise(f));
  const n = tests.length;
  return (f) => {
    for (let i = 0; i < n; i++) if (truthy((tests[i] as Ev)(f))) return (bodies[i] as Exec)(f);
    return otherwise(f);
  };
}

function statement(c: Compiler, s: Stmt, scope: Scope): Exec {
  switch (s.kind) {
    case "expr": {
      const e = c.expr(s.expr, scope);
      return (f) => {
        e(f);
        return NEXT;
      };
    }
    case "assign": {
      const value = c.expr(s.value, scope);
      const stores = s.targets.map((t) => c.target(t, scope));
      const [only] = stores;
      if (stores.length === 1 && only)
        return (f) => {
          only(f, value(f));
          return NEXT;
        };
      return (f) => {
        const v = value(f);
        for (const store of stores) store(f, v);
        return NEXT;
      };
    }
    case "augassign":
      return compileAugAssign(c, s, scope);
    case "if":
      return ifStatement(c, s, scope);
    case "for":
      return forLoop(c, s, scope);
    case "return": {
      if (s.value === null)
        return (f) => {
          f.ctx.result = null;
          return RETURN;
        };
      const value = c.expr(s.value, scope);
      return (f) => {
        f.ctx.result = value(f);
        return RETURN;
      };
    }
    case "pass":
      return () => NEXT;
    case "break":
      return () => BREAK;
    case "continue":
      return () => CONTINUE;
  }
}

/** Compiles a checked Body; throws RecursionError (IdemError 1) when it is nested too deeply. */
export function compileProgram(tree: BodyTree): CompiledProgram {
  const program = new ProgramNames();
  const scope = new Scope(null, program, boundNames(tree.statements));
  const c: Compiler = {
    expr(e, s) {
      program.enter();
      const ev = (EXPRESSIONS[e.kind] as (c: Compiler, e: Expr, s: Scope) => Ev)(c, e, s);
      program.leave();
      return ev;
    },
    target(t, s) {
      program.enter();
      const store = compileTarget(c, t, s);
      program.leave();
      return store;
    },
    comprehension: (e, s) => compileComprehension(c, e, s),
  };
  return { run: block(c, tree.statements, scope), size: scope.size, globals: program.globals };
}
