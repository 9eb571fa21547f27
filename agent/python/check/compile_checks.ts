/**
 * The SyntaxErrors CPython 3.11 raises after parsing (Python/symtable.c, Python/compile.c, Python/ast_opt.c),
 * for the whole module murano-agent compiles: `break`/`continue` outside a loop, `return`/`yield` outside a
 * function, `await` and `async` outside `async def`, starred expressions out of place, repeated keyword
 * arguments, duplicate parameters, `global`/`nonlocal` misuse, `import *`, `__future__`, `__debug__`, bare
 * `except:` not last, 20 nested blocks, walrus in comprehensions, unreachable match cases, and the
 * compiler's recursion limit (RecursionError). Throws CompileError on the first, in CPython's visiting order.
 */

import type { Arguments, Comprehension, PExpr, PStmt } from "../syntax/syntax.ts";
import { nestedBlocks, patternNames } from "./compile_rules.ts";
import {
  asyncGeneratorReturns,
  COMPREHENSION_NAMES,
  CompileError,
  checkDepth,
  collectNames,
  irrefutable,
  MAX_COMPILE_DEPTH,
  newScope,
  type Scope,
} from "./compile_scope.ts";

export { CompileError, MAX_COMPILE_DEPTH } from "./compile_scope.ts";

const fail = (message: string, at: number): CompileError => new CompileError(message, at);

/** Checks the module (the wrapper function and its `try`); throws CompileError. */
export function checkModule(module: PStmt[]): void {
  checkDepth(module);
  const scopes: Scope[] = [newScope("class")]; // the module scope behaves like a class body here
  const top = (): Scope => scopes[scopes.length - 1] as Scope;
  let depth = 0;
  const enter = (at: number): void => {
    if (++depth > MAX_COMPILE_DEPTH)
      throw new CompileError("maximum recursion depth exceeded during compilation", at, "RecursionError");
  };

  const bind = (name: string, at: number, del = false): void => {
    if (name === "__debug__") throw fail(del ? "cannot delete __debug__" : "cannot assign to __debug__", at);
    top().bound.add(name);
  };

  const target = (e: PExpr, del = false): void => {
    enter(e.at);
    if (e.t === "Name") bind(e.id, e.at, del);
    else if (e.t === "Starred") throw fail("starred assignment target must be in a list or tuple", e.at);
    else if (e.t === "Tuple" || e.t === "List") {
      const stars = e.elts.filter((x) => x.t === "Starred");
      if (stars.length > 1) throw fail("multiple starred expressions in assignment", e.at);
      const before = e.elts.findIndex((x) => x.t === "Starred");
      if (before >= 256) throw fail("too many expressions in star-unpacking assignment", e.at);
      for (const x of e.elts) target(x.t === "Starred" ? x.value : x, del);
    } else if (e.t === "Attribute") expr(e.value);
    else if (e.t === "Subscript") {
      expr(e.value);
      expr(e.slice);
    }
    depth--;
  };

  const args = (a: Arguments): void => {
    for (const d of [...a.defaults, ...a.kwDefaults]) if (d) expr(d);
    for (const arg of [
      ...a.posonly,
      ...a.args,
      ...(a.vararg ? [a.vararg] : []),
      ...a.kwonly,
      ...(a.kwarg ? [a.kwarg] : []),
    ])
      if (arg.annotation) expr(arg.annotation.t === "Starred" ? arg.annotation.value : arg.annotation);
  };

  const params = (a: Arguments, scope: Scope): void => {
    for (const arg of [
      ...a.posonly,
      ...a.args,
      ...(a.vararg ? [a.vararg] : []),
      ...a.kwonly,
      ...(a.kwarg ? [a.kwarg] : []),
    ]) {
      if (arg.name === "__debug__") throw fail("cannot assign to __debug__", arg.at);
      if (scope.params.has(arg.name))
        throw fail(`duplicate argument '${arg.name}' in function definition`, arg.at);
      scope.params.add(arg.name);
      scope.bound.add(arg.name);
    }
  };

  const comprehension = (kind: string, gens: Comprehension[], elements: PExpr[], at: number): void => {
    const [first] = gens;
    if (!first) return;
    const outer = top();
    outer.iterExpr++;
    expr(first.iter); // evaluated in the enclosing scope
    outer.iterExpr--;
    const scope = newScope("comprehension", top().isAsync, top());
    scope.comprehensionKind = kind;
    scope.iterVars = new Set();
    scopes.push(scope);
    let isAsync = false;
    gens.forEach((g, k) => {
      if (k > 0) {
        scope.iterExpr++;
        expr(g.iter);
        scope.iterExpr--;
      }
      target(g.target);
      collectNames(g.target, scope.iterVars as Set<string>);
      for (const c of g.ifs) expr(c);
      if (g.isAsync) isAsync = true;
    });
    for (const e of elements) expr(e);
    scopes.pop();
    const awaits = scope.hasAwait === true;
    if ((isAsync || awaits) && kind !== "generator expression" && !top().isAsync)
      throw fail("asynchronous comprehension outside of an asynchronous function", at);
  };

  /** Kept small: the common, possibly deep, node kinds here; the rest in `other` (stack use per level). */
  const expr = (e: PExpr): void => {
    if (++depth > MAX_COMPILE_DEPTH)
      throw new CompileError("maximum recursion depth exceeded during compilation", e.at, "RecursionError");
    switch (e.t) {
      case "Name":
        top().used.add(e.id);
        break;
      case "Constant":
        break;
      case "Attribute":
        expr(e.value);
        break;
      case "Subscript":
        expr(e.value);
        expr(e.slice);
        break;
      case "BinOp":
        expr(e.left);
        expr(e.right);
        break;
      case "UnaryOp":
        expr(e.operand);
        break;
      case "IfExp":
        expr(e.test);
        expr(e.body);
        expr(e.orelse);
        break;
      case "Call":
        call(e);
        break;
      case "Lambda":
        lambda(e);
        break;
      default:
        other(e);
    }
    depth--;
  };

  const call = (e: PExpr & { t: "Call" }): void => {
    expr(e.func);
    for (const a of e.args) elementOrStar(a);
    const seen = new Set<string>();
    for (const k of e.keywords) {
      if (k.arg !== null) {
        if (k.arg === "__debug__") throw fail("cannot assign to __debug__", k.at);
        if (seen.has(k.arg)) throw fail(`keyword argument repeated: ${k.arg}`, k.at);
        seen.add(k.arg);
      }
      expr(k.value);
    }
  };

  const lambda = (e: PExpr & { t: "Lambda" }): void => {
    args(e.args);
    const scope = newScope("lambda", false, top());
    params(e.args, scope);
    scopes.push(scope);
    expr(e.body);
    scopes.pop();
  };

  const other = (e: PExpr): void => {
    const s = top();
    switch (e.t) {
      case "JoinedStr":
        for (const part of e.parts) if (typeof part !== "string") formatted(part);
        break;
      case "Slice":
        for (const x of [e.lower, e.upper, e.step]) if (x) expr(x);
        break;
      case "Starred":
        throw fail("can't use starred expression here", e.at);
      case "BoolOp":
        for (const v of e.values) expr(v);
        break;
      case "Compare":
        expr(e.left);
        for (const c of e.comparators) expr(c);
        break;
      case "NamedExpr":
        namedExpr(e);
        break;
      case "List":
      case "Tuple":
      case "Set":
        for (const x of e.elts) elementOrStar(x);
        break;
      case "Dict":
        e.keys.forEach((k, i) => {
          if (k) expr(k);
          expr(e.values[i] as PExpr);
        });
        break;
      case "ListComp":
      case "SetComp":
      case "GeneratorExp":
        comprehension(COMPREHENSION_NAMES[e.t], e.generators, [e.elt], e.at);
        break;
      case "DictComp":
        comprehension("dict comprehension", e.generators, [e.key, e.value], e.at);
        break;
      case "Await":
        if (s.kind === "comprehension") s.hasAwait = true;
        else if (s.kind === "class") throw fail("'await' outside function", e.at);
        else if (!s.isAsync) throw fail("'await' outside async function", e.at);
        expr(e.value);
        break;
      case "Yield":
      case "YieldFrom":
        yieldHere(e.at, e.t === "YieldFrom");
        if (e.value) expr(e.value);
        break;
    }
  };

  const elementOrStar = (x: PExpr): void => {
    if (x.t === "Starred") {
      enter(x.at);
      expr(x.value);
      depth--;
    } else expr(x);
  };

  const formatted = (f: {
    value: PExpr;
    spec: (string | { value: PExpr; spec: unknown })[] | null;
  }): void => {
    expr(f.value);
    for (const part of f.spec ?? []) if (typeof part !== "string") formatted(part as typeof f);
  };

  const yieldHere = (at: number, from: boolean): void => {
    const s = top();
    if (s.kind === "comprehension") throw fail(`'yield' inside ${s.comprehensionKind}`, at);
    if (s.kind === "class") throw fail("'yield' outside function", at);
    if (from && s.isAsync) throw fail("'yield from' inside async function", at);
    s.hasYield = true;
  };

  const namedExpr = (e: PExpr & { t: "NamedExpr" }): void => {
    const name = e.target.t === "Name" ? e.target.id : "";
    if (name === "__debug__") throw fail("cannot assign to __debug__", e.target.at);
    expr(e.value);
    if (top().iterExpr > 0)
      throw fail("assignment expression cannot be used in a comprehension iterable expression", e.at);
    let k = scopes.length - 1;
    while (k > 0 && scopes[k]?.kind === "comprehension") {
      const c = scopes[k] as Scope;
      if (c.iterVars?.has(name))
        throw fail(`assignment expression cannot rebind comprehension iteration variable '${name}'`, e.at);
      k--;
    }
    if (k < scopes.length - 1 && scopes[k]?.kind === "class")
      throw fail("assignment expression within a comprehension cannot be used in a class body", e.at);
    (scopes[k] as Scope).bound.add(name);
  };

  const body = (stmts: PStmt[]): void => {
    for (const st of stmts) stmt(st);
  };

  const stmt = (st: PStmt): void => {
    enter(st.at);
    const s = top();
    switch (st.t) {
      case "FunctionDef":
      case "ClassDef": {
        if (st.name === "__debug__") throw fail("cannot assign to __debug__", st.at);
        for (const d of st.decorators) expr(d);
        if (st.t === "FunctionDef") {
          args(st.args);
          if (st.returns) expr(st.returns);
        } else {
          for (const b of st.bases) elementOrStar(b);
          expr({
            t: "Call",
            func: { t: "Name", id: st.name, at: st.at },
            args: [],
            keywords: st.keywords,
            at: st.at,
          });
        }
        s.bound.add(st.name);
        const scope = newScope(
          st.t === "FunctionDef" ? "function" : "class",
          st.t === "FunctionDef" && st.isAsync,
          s,
        );
        if (st.t === "FunctionDef") params(st.args, scope);
        scopes.push(scope);
        const saved = depth;
        body(st.body);
        depth = saved;
        scopes.pop();
        checkNonlocals(scope, st.at);
        if (st.t === "FunctionDef" && st.isAsync && scope.hasYield) asyncGeneratorReturns(st.body);
        break;
      }
      case "Return":
        if (s.kind === "class") throw fail("'return' outside function", st.at);
        if (s.exceptStar > 0)
          throw fail("'break', 'continue' and 'return' cannot appear in an except* block", st.at);
        if (st.value) expr(st.value);
        break;
      case "Delete":
        for (const t of st.targets) target(t, true);
        break;
      case "Assign":
        expr(st.value);
        for (const t of st.targets) target(t);
        break;
      case "AugAssign":
        expr(st.value);
        target(st.target);
        break;
      case "AnnAssign":
        if (st.target.t === "Name" && s.declared.has(st.target.id))
          throw fail(`annotated name '${st.target.id}' can't be ${s.declared.get(st.target.id)}`, st.at);
        if (st.value) expr(st.value);
        target(st.target);
        expr(st.annotation);
        break;
      case "For":
      case "While":
      case "If": {
        if (st.t === "For") {
          if (st.isAsync && !s.isAsync) throw fail("'async for' outside async function", st.at);
          expr(st.iter);
          target(st.target);
        } else expr(st.test);
        const loop = st.t !== "If";
        if (loop) nested(st.at, 1);
        s.loops += loop ? 1 : 0;
        body(st.body);
        s.loops -= loop ? 1 : 0;
        if (loop) s.blocks--;
        body(st.orelse);
        break;
      }
      case "With":
        if (st.isAsync && !s.isAsync) throw fail("'async with' outside async function", st.at);
        for (const item of st.items) {
          expr(item.context);
          if (item.vars) target(item.vars);
        }
        nested(st.at, st.items.length);
        body(st.body);
        s.blocks -= st.items.length;
        break;
      case "Match":
        expr(st.subject);
        st.cases.forEach((c, k) => {
          const names = patternNames(c.pattern, fail);
          if (k < st.cases.length - 1 && c.guard === null && irrefutable(c.pattern))
            throw fail(
              c.pattern.t === "MatchAs" && c.pattern.name
                ? `name capture '${c.pattern.name}' makes remaining patterns unreachable`
                : "wildcard makes remaining patterns unreachable",
              c.pattern.at,
            );
          for (const n of names) bind(n, c.pattern.at);
          if (c.guard) expr(c.guard);
          body(c.body);
        });
        break;
      case "Raise":
        if (st.exc) expr(st.exc);
        if (st.cause) expr(st.cause);
        break;
      case "Try": {
        const cost = nestedBlocks(st);
        nested(st.at, cost);
        body(st.body);
        st.handlers.forEach((h, k) => {
          if (h.type === null && k < st.handlers.length - 1)
            throw fail("default 'except:' must be last", h.at);
          if (h.type) expr(h.type);
          if (h.name) bind(h.name, h.at);
          if (st.star) s.exceptStar++;
          const loops = s.loops;
          if (st.star) s.loops = 0;
          body(h.body);
          s.loops = loops;
          if (st.star) s.exceptStar--;
        });
        body(st.orelse);
        body(st.finalbody);
        s.blocks -= cost;
        break;
      }
      case "Assert":
        expr(st.test);
        if (st.msg) expr(st.msg);
        break;
      case "Import":
      case "ImportFrom":
        if (st.t === "ImportFrom" && st.module === "__future__" && st.level === 0)
          throw fail("from __future__ imports must occur at the beginning of the file", st.at);
        for (const a of st.names) {
          if (a.name === "*") {
            if (s.kind !== "class" || scopes.length > 1)
              throw fail("import * only allowed at module level", a.at);
            continue;
          }
          bind(a.asname ?? (a.name.split(".")[0] as string), a.at);
        }
        break;
      case "Global":
      case "Nonlocal":
        declare(s, st);
        break;
      case "Expr":
        expr(st.value);
        break;
      case "Break":
      case "Continue":
        if (s.exceptStar > 0 && s.loops === 0)
          throw fail("'break', 'continue' and 'return' cannot appear in an except* block", st.at);
        if (s.loops === 0)
          throw fail(st.t === "Break" ? "'break' outside loop" : "'continue' not properly in loop", st.at);
        break;
      case "Pass":
        break;
    }
    depth--;
  };

  const nested = (at: number, cost: number): void => {
    top().blocks += cost;
    if (top().blocks > 20) throw fail("too many statically nested blocks", at);
  };

  const declare = (s: Scope, st: PStmt & { t: "Global" | "Nonlocal" }): void => {
    const kind = st.t === "Global" ? "global" : "nonlocal";
    for (const name of st.names) {
      if (s.params.has(name)) throw fail(`name '${name}' is parameter and ${kind}`, st.at);
      const other = s.declared.get(name);
      if (other && other !== kind) throw fail(`name '${name}' is nonlocal and global`, st.at);
      if (s.bound.has(name)) throw fail(`name '${name}' is assigned to before ${kind} declaration`, st.at);
      if (s.used.has(name)) throw fail(`name '${name}' is used prior to ${kind} declaration`, st.at);
      s.declared.set(name, kind);
    }
  };

  /** A nonlocal name must be bound in an enclosing function (the Body's own function counts). */
  const checkNonlocals = (scope: Scope, at: number): void => {
    for (const [name, kind] of scope.declared) {
      if (kind !== "nonlocal") continue;
      const found = scopes
        .slice(1)
        .some(
          (o) =>
            o.kind === "function" &&
            (o.bound.has(name) || o.params.has(name)) &&
            o.declared.get(name) !== "global",
        );
      if (!found) throw fail(`no binding for nonlocal '${name}' found`, at);
    }
  };

  body(module);
}
