/**
 * Displays and f-strings, compiled: `[a, *b]`, `(a, b)`, `{a, *b}`, `{k: v, **m}`, `f'{x!r:>{w}}'`. Items are
 * evaluated left to right (a dict display's key before its value). CPython's compiler builds a display of up to
 * 30 stack items at once (STACK_USE_GUIDELINE): all its items are evaluated before the first is hashed into the
 * set or dict; a bigger one is filled item by item. Which comes first shows when a key is unhashable and a later
 * item raises or calls a script. With a starred item (compile.c starunpack_helper) the items before the first
 * star are built at once and each later one is added as soon as it is evaluated; `*x` splices the items of x
 * (LIST_EXTEND: "Value after * must be an iterable, not int"; SET_UPDATE: "'int' object is not iterable"), and
 * `**m` merges a dict (DICT_UPDATE: "'list' object is not a mapping").
 */
import type { Element, Expr, FormatField } from "../check/ast.ts";
import { collect } from "../runtime/access.ts";
import { pyFail } from "../runtime/exceptions.ts";
import { checkSize, PyDict, PyList, PySet, PyTuple, type PyValue, typeName } from "../runtime/values.ts";
import { formatValue } from "../text/format_spec.ts";
import { pyAscii, pyRepr, pyStr } from "../text/repr.ts";
import { updateSet } from "../types/set.ts";
import { cursorOf } from "./cursor.ts";
import { constantItems, frozenConstant } from "./fold.ts";
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

/** Whether no item is starred (then they are plain expressions). */
function plain(items: readonly Element[]): items is Expr[] {
  return items.every((item) => item.kind !== "starred");
}

/** Each item's code, and whether it is starred. */
function eachElement(c: Compiler, items: readonly Element[], scope: Scope): { star: boolean; ev: Ev }[] {
  return items.map((e) =>
    e.kind === "starred" ? { star: true, ev: c.expr(e.value, scope) } : { star: false, ev: c.expr(e, scope) },
  );
}

/** LIST_EXTEND: appends the items of `v` to `out` (at most MAX_ITEMS in all). */
export function extendItems(out: PyValue[], v: PyValue): void {
  if (cursorOf(v) === null)
    throw pyFail("TypeError", `Value after * must be an iterable, not ${typeName(v)}`);
  const items = collect(v);
  checkSize(out.length + items.length, "list");
  for (const item of items) out.push(item);
}

/** The values of `items`, evaluated in order, each starred one's items spliced in. */
export function elements(c: Compiler, items: readonly Element[], scope: Scope): (f: Frame) => PyValue[] {
  if (plain(items)) return all(c, items, scope);
  const evs = eachElement(c, items, scope);
  return (f) => {
    const out: PyValue[] = [];
    for (const { star, ev } of evs) {
      if (star) extendItems(out, ev(f));
      else out.push(ev(f));
    }
    return out;
  };
}

export function listDisplay(c: Compiler, e: Expr & { kind: "list" }, scope: Scope): Ev {
  const items = elements(c, e.items, scope);
  return (f) => new PyList(items(f));
}

export function tupleDisplay(c: Compiler, e: Expr & { kind: "tuple" }, scope: Scope): Ev {
  const items = elements(c, e.items, scope);
  return (f) => new PyTuple(items(f));
}

/**
 * A set display with a starred item: the items before the first star are evaluated, then added (in a big
 * display each is added at once); each later item is added, or its iterable merged (SET_UPDATE), in turn.
 */
function starredSet(c: Compiler, items: readonly Element[], scope: Scope): Ev {
  const head = items.length > STACK_USE_GUIDELINE ? 0 : items.findIndex((item) => item.kind === "starred");
  const before = all(c, items.slice(0, head) as Expr[], scope);
  const rest = eachElement(c, items.slice(head), scope);
  return (f) => {
    const set = new PySet();
    for (const item of before(f)) set.add(item);
    for (const { star, ev } of rest) {
      if (star) {
        updateSet(set, ev(f));
        checkSize(set.entries.size, "set");
      } else set.add(ev(f));
    }
    return set;
  };
}

/**
 * A set display. One of three or more constants (after CPython's folding, fold.ts) is its frozenset constant
 * merged into a new set, which lays the items out (so orders them) differently from adding them one by one.
 */
export function setDisplayOf(c: Compiler, e: Expr & { kind: "set" }, scope: Scope): Ev {
  if (!plain(e.items)) return starredSet(c, e.items, scope);
  const constants = e.items.length > 2 ? constantItems(e.items) : undefined;
  if (constants !== undefined) {
    const frozen = frozenConstant(constants);
    return () => {
      const set = new PySet();
      set.entries.merge(frozen.entries);
      return set;
    };
  }
  const items = all(c, e.items, scope);
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
 * The iterable of a `for` or of a comprehension's loop. CPython's optimizer makes a set display of constants
 * there (any number of them) its frozenset constant (ast_opt.c fold_iter), which is what the loop iterates.
 */
export function iterableOf(c: Compiler, e: Expr, scope: Scope): Ev {
  const constants = e.kind === "set" ? constantItems(e.items) : undefined;
  if (constants === undefined) return c.expr(e, scope);
  const frozen = frozenConstant(constants);
  return () => frozen;
}

type Pair = readonly [Ev, Ev];
/** A run of `key: value` pairs built at once or pair by pair, or one `**mapping` merged. */
type DictStep = { pairs: Pair[]; atOnce: boolean } | { merge: Ev };

/**
 * A dict display, in CPython 3.11's chunks (compiler_dict, compiler_subdict): a run of pairs ends after its
 * 17th pair and before each `**`; a run of at most 15 pairs is built at once, a longer one pair by pair; `**m`
 * merges m's entries (DICT_UPDATE) when it is reached.
 */
export function dictDisplay(c: Compiler, e: Expr & { kind: "dict" }, scope: Scope): Ev {
  const steps: DictStep[] = [];
  let run: Pair[] = [];
  const close = (): void => {
    if (run.length > 0) steps.push({ pairs: run, atOnce: run.length * 2 <= STACK_USE_GUIDELINE });
    run = [];
  };
  for (const entry of e.entries) {
    if (entry.key === null) {
      close();
      steps.push({ merge: c.expr(entry.value, scope) });
      continue;
    }
    run.push([c.expr(entry.key, scope), c.expr(entry.value, scope)]);
    if ((run.length - 1) * 2 > STACK_USE_GUIDELINE) close();
  }
  close();
  return (f) => {
    const d = new PyDict();
    for (const step of steps) {
      if ("merge" in step) {
        const m = step.merge(f);
        if (!(m instanceof PyDict)) throw pyFail("TypeError", `'${typeName(m)}' object is not a mapping`);
        for (const entry of [...m.entries.values()]) d.set(entry.key, entry.value);
      } else if (step.atOnce) {
        const values: PyValue[] = [];
        for (const [key, value] of step.pairs) values.push(key(f), value(f));
        for (let i = 0; i < values.length; i += 2) d.set(values[i] ?? null, values[i + 1] ?? null);
      } else {
        for (const [key, value] of step.pairs) {
          const k = key(f);
          d.set(k, value(f));
        }
      }
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
