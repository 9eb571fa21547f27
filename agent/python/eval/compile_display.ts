/**
 * Displays and f-strings, compiled: `[a, b]`, `(a, b)`, `{a, b}`, `{k: v}`, `f'{x!r:>{w}}'`. Items are evaluated
 * left to right (a dict display's key before its value). CPython's compiler builds a display of up to 30 stack
 * items at once (STACK_USE_GUIDELINE): all its items are evaluated before the first is hashed into the set or
 * dict; a bigger one is filled item by item. Which comes first shows when a key is unhashable and a later item
 * raises or calls a script.
 */
import type { Expr, FormatField } from "../check/ast.ts";
import { PyDict, PyList, PySet, PyTuple, type PyValue } from "../runtime/values.ts";
import { formatValue } from "../text/format_spec.ts";
import { pyAscii, pyRepr, pyStr } from "../text/repr.ts";
import { setDisplay } from "../types/set.ts";
import type { Ev, Frame } from "./frame.ts";
import type { Compiler, Scope } from "./scope.ts";

const STACK_USE_GUIDELINE = 30;

/** The values of `items`, evaluated in order. */
export function all(c: Compiler, items: readonly Expr[], scope: Scope): (f: Frame) => PyValue[] {
  const evs = items.map((e) => c.expr(e, scope));
  return (f) => {
    const out: PyValue[] = [];
    for (const ev of evs) out.push(ev(f));
    return out;
  };
}

export function listDisplay(c: Compiler, e: Expr & { kind: "list" }, scope: Scope): Ev {
  const items = all(c, e.items, scope);
  return (f) => new PyList(items(f));
}

export function tupleDisplay(c: Compiler, e: Expr & { kind: "tuple" }, scope: Scope): Ev {
  const items = all(c, e.items, scope);
  return (f) => new PyTuple(items(f));
}

/** A set display; one of constants only is laid out as CPython's frozenset constant is (types/set.ts). */
export function setDisplayOf(c: Compiler, e: Expr & { kind: "set" }, scope: Scope): Ev {
  const items = all(c, e.items, scope);
  if (e.items.every((item) => item.kind === "literal")) return (f) => setDisplay(items(f), true);
  if (e.items.length > STACK_USE_GUIDELINE) {
    const each = e.items.map((item) => c.expr(item, scope));
    return (f) => {
      const set = new PySet();
      for (const item of each) set.add(item(f));
      return set;
    };
  }
  return (f) => {
    const set = new PySet();
    for (const item of items(f)) set.add(item);
    return set;
  };
}

/**
 * A dict display, in CPython 3.11's chunks (compiler_dict): each run of 17 pairs is filled pair by pair; what is
 * left at the end is built at once when it has at most 15 pairs, else pair by pair too.
 */
export function dictDisplay(c: Compiler, e: Expr & { kind: "dict" }, scope: Scope): Ev {
  const pairs = e.entries.map((entry) => [c.expr(entry.key, scope), c.expr(entry.value, scope)] as const);
  const chunks: { pairs: (typeof pairs)[number][]; atOnce: boolean }[] = [];
  let start = 0;
  for (let i = 0; i < pairs.length; i++) {
    if ((i - start) * 2 > STACK_USE_GUIDELINE) {
      chunks.push({ pairs: pairs.slice(start, i + 1), atOnce: false });
      start = i + 1;
    }
  }
  const rest = pairs.slice(start);
  if (rest.length > 0) chunks.push({ pairs: rest, atOnce: rest.length * 2 <= STACK_USE_GUIDELINE });
  return (f) => {
    const d = new PyDict();
    for (const chunk of chunks) {
      if (!chunk.atOnce) {
        for (const [key, value] of chunk.pairs) {
          const k = key(f);
          d.set(k, value(f));
        }
        continue;
      }
      const values: PyValue[] = [];
      for (const [key, value] of chunk.pairs) values.push(key(f), value(f));
      for (let i = 0; i < values.length; i += 2) d.set(values[i] ?? null, values[i + 1] ?? null);
    }
    return d;
  };
}

function parts(c: Compiler, fields: readonly (string | FormatField)[], scope: Scope): (f: Frame) => string {
  const compiled = fields.map((part) => {
    if (typeof part === "string") return () => part;
    const value = c.expr(part.expr, scope);
    const spec = parts(c, part.spec, scope);
    const { conversion } = part;
    const convert =
      conversion === "s" ? pyStr : conversion === "r" ? pyRepr : conversion === "a" ? pyAscii : null;
    // FORMAT_VALUE converts after the spec's own fields are evaluated.
    return (f: Frame) => {
      const v = value(f);
      const s = spec(f);
      return formatValue(convert ? convert(v) : v, s);
    };
  });
  return (f) => {
    let out = "";
    for (const part of compiled) out += part(f);
    return out;
  };
}

/** `f'…{expr!conv:spec}…'`: each field's value, converted, then formatted with its (evaluated) spec. */
export function fstring(c: Compiler, e: Expr & { kind: "fstring" }, scope: Scope): Ev {
  return parts(c, e.parts, scope);
}
