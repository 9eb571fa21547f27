/**
 * Calls, compiled: `f(a, k=v)` evaluates the callee, the positional arguments, then the keyword values, in
 * source order. With `*` or `**` it is CPython 3.11's CALL_FUNCTION_EX (compile.c compiler_call_helper,
 * ceval.c): positional arguments are spliced as they come (LIST_EXTEND: "Value after * must be an iterable, not
 * int"), except a lone `f(*x)` whose x is checked and read only after the keywords are evaluated
 * (check_args_iterable: "print() argument after * must be an iterable, not int"); keyword runs and `**m` are
 * merged in order (DICT_MERGE: "print() argument after ** must be a mapping, not list", "print() got multiple
 * values for keyword argument 'x'"); a callable then refuses a key that is not a str ("keywords must be
 * strings"). The function is named as _PyObject_FunctionStr names it: `print()`, `str.split()`.
 */
import type { Element, Expr, Keyword } from "../check/ast.ts";
import { collect } from "../runtime/access.ts";
import { pyFail } from "../runtime/exceptions.ts";
import { PyBuiltin, PyDict, PyMethod, PyScript, PyTuple, type PyValue, typeName } from "../runtime/values.ts";
import { pyStr } from "../text/repr.ts";
import { all, elements } from "./compile_display.ts";
import { cursorOf } from "./cursor.ts";
import type { Ev, Frame } from "./frame.ts";
import type { Compiler, Scope } from "./scope.ts";

const NO_KEYWORDS: ReadonlyMap<string, PyValue> = new Map();

/**
 * _PyObject_FunctionStr: `qualname()` of a built-in or method; a ScriptRunner's `__getattr__` answers
 * `__qualname__` with a FunctionRunner, so its module and that object's str; anything else its str.
 */
export function functionStr(fn: PyValue): string {
  if (fn instanceof PyBuiltin) return `${fn.name}()`;
  // A bound method is named after its object's type (`True.bit_length`: bool), a method of a type after the
  // type that defines it (`bool.bit_length`: int).
  if (fn instanceof PyMethod && fn.self instanceof PyBuiltin)
    return `${fn.self.name === "bool" ? "int" : fn.self.name}.${fn.name}()`;
  if (fn instanceof PyMethod) return `${typeName(fn.self)}.${fn.name}()`;
  if (fn instanceof PyScript && fn.fn === null)
    return `muranoagent.script_runner.${pyStr(new PyScript(fn.script, "__qualname__"))}()`;
  return pyStr(fn);
}

/** DICT_MERGE: the entries of `m` into `into`, refusing a non-mapping and a key already there. */
function mergeKeywords(into: PyDict, m: PyValue, fn: PyValue): void {
  if (!(m instanceof PyDict))
    throw pyFail("TypeError", `${functionStr(fn)} argument after ** must be a mapping, not ${typeName(m)}`);
  for (const e of [...m.entries.values()]) {
    if (into.get(e.key) !== undefined)
      throw pyFail(
        "TypeError",
        `${functionStr(fn)} got multiple values for keyword argument '${pyStr(e.key)}'`,
      );
    into.set(e.key, e.value);
  }
}

/** The keywords of `d` for the callee; "keywords must be strings" from a callable (`1(**{1: 2})`: not callable). */
function keywordMap(d: PyDict, fn: PyValue): Map<string, PyValue> {
  const out = new Map<string, PyValue>();
  const callable = fn instanceof PyBuiltin || fn instanceof PyMethod || fn instanceof PyScript;
  for (const e of d.entries.values()) {
    if (typeof e.key !== "string") {
      if (callable) throw pyFail("TypeError", "keywords must be strings");
      return new Map();
    }
    out.set(e.key, e.value);
  }
  return out;
}

/** Keyword runs and `**` mappings, in order: each run's values are evaluated, then merged. */
function compileKeywords(
  c: Compiler,
  keywords: readonly Keyword[],
  scope: Scope,
): (f: Frame, fn: PyValue) => PyDict {
  const steps: ({ names: string[]; values: (f: Frame) => PyValue[] } | { merge: Ev })[] = [];
  let run: Keyword[] = [];
  const close = (): void => {
    if (run.length === 0) return;
    const names = run.map((k) => k.name as string);
    steps.push({
      names,
      values: all(
        c,
        run.map((k) => k.value),
        scope,
      ),
    });
    run = [];
  };
  for (const k of keywords) {
    if (k.name !== null) run.push(k);
    else {
      close();
      steps.push({ merge: c.expr(k.value, scope) });
    }
  }
  close();
  return (f, fn) => {
    const d = new PyDict();
    for (const step of steps) {
      if ("merge" in step) mergeKeywords(d, step.merge(f), fn);
      else {
        const values = step.values(f);
        const run = new PyDict();
        for (const [i, name] of step.names.entries()) run.set(name, values[i] ?? null);
        if (d.entries.size === 0) for (const e of run.entries.values()) d.set(e.key, e.value);
        else mergeKeywords(d, run, fn);
      }
    }
    return d;
  };
}

/** `f(*x, **m)` and its kin (CALL_FUNCTION_EX). */
function compileUnpackingCall(
  c: Compiler,
  callee: Ev,
  args: readonly Element[],
  keywords: readonly Keyword[],
  scope: Scope,
): Ev {
  const [only] = args;
  const lone = args.length === 1 && only?.kind === "starred" ? c.expr(only.value, scope) : null;
  const positional = lone === null ? elements(c, args, scope) : null;
  const named = compileKeywords(c, keywords, scope);
  return (f) => {
    const fn = callee(f);
    const spliced = positional?.(f);
    const late = lone?.(f);
    const d = named(f, fn);
    let values: PyValue[];
    if (spliced !== undefined) values = spliced;
    else {
      if (late instanceof PyTuple) values = [...late.items];
      else {
        if (cursorOf(late ?? null) === null)
          throw pyFail(
            "TypeError",
            `${functionStr(fn)} argument after * must be an iterable, not ${typeName(late ?? null)}`,
          );
        values = collect(late ?? null);
      }
    }
    return f.ctx.invoke(fn, { args: values, keywords: keywordMap(d, fn) });
  };
}

/** A call: the callee, then its arguments in order. */
export function compileCall(c: Compiler, e: Expr & { kind: "call" }, scope: Scope): Ev {
  const callee = c.expr(e.callee, scope);
  if (e.args.some((a) => a.kind === "starred") || e.keywords.some((k) => k.name === null))
    return compileUnpackingCall(c, callee, e.args, e.keywords, scope);
  const args = all(c, e.args as Expr[], scope);
  if (e.keywords.length === 0)
    return (f) => {
      const fn = callee(f);
      return f.ctx.invoke(fn, { args: args(f), keywords: NO_KEYWORDS as Map<string, PyValue> });
    };
  const names = e.keywords.map((k) => k.name as string);
  const values = all(
    c,
    e.keywords.map((k) => k.value),
    scope,
  );
  return (f) => {
    const fn = callee(f);
    const positional = args(f);
    const given = values(f);
    const keywords = new Map<string, PyValue>();
    for (const [i, keyword] of names.entries()) keywords.set(keyword, given[i] ?? null);
    return f.ctx.invoke(fn, { args: positional, keywords });
  };
}
