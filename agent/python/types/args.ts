/**
 * Binding a method call's arguments to its registry Signature, with the TypeError CPython 3.11 raises for
 * each way of calling it wrong (Objects/methodobject.c, Python/getargs.c: `_PyArg_CheckPositional`,
 * `vgetargs1`, `_PyArg_UnpackKeywords`), and the helpers method implementations share to check types.
 */
import { pyFail } from "../runtime/exceptions.ts";
import { clampSsize, ssize } from "../runtime/ssize.ts";
import { type CallArgs, type Invoke, type PyValue, typeName } from "../runtime/values.ts";
import type { Signature } from "./registry.ts";

/** A bound argument: undefined where an optional parameter was not given. */
export type Arg = PyValue | undefined;

/** What an implementation may need beyond its arguments. */
export interface Context {
  readonly invoke: Invoke;
  /** The keyword arguments, for the `free` signatures that bind their own. */
  readonly keywords: ReadonlyMap<string, PyValue>;
}

/** A method of the values of type T. */
export type Method<T> = (self: T, a: readonly Arg[], ctx: Context) => PyValue;

/** One implementation per registry row S, for values of type T. */
export type MethodTable<T, S> = { readonly [K in keyof S]: Method<T> };

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

/**
 * The arguments of `type.name(...)` in parameter order, or CPython's TypeError. `type` is the method's
 * defining type (`dict` for a Bunch, `int` for a bool: CPython names the descriptor's type).
 */
export function bindArgs(type: string, name: string, sig: Signature, call: CallArgs): Arg[] {
  const n = call.args.length;
  const label = `${type}.${name}()`;
  const fail = (message: string): never => {
    throw pyFail("TypeError", message);
  };
  if (sig.kind === "free") return call.args;
  if (sig.kind === "keywords") return bindKeywords(name, sig, call);
  if (call.keywords.size > 0) fail(`${label} takes no keyword arguments`);
  switch (sig.kind) {
    case "none":
      if (n > 0) fail(`${label} takes no arguments (${n} given)`);
      break;
    case "one":
      if (n !== 1) fail(`${label} takes exactly one argument (${n} given)`);
      break;
    case "clinic":
      if (n < sig.min || n > sig.max) {
        const bound = n < sig.min ? sig.min : sig.max;
        const how = sig.min === sig.max ? "" : n < sig.min ? "at least " : "at most ";
        fail(`${name} expected ${how}${plural(bound, "argument")}, got ${n}`);
      }
      break;
    case "tuple":
      if (n < sig.min || n > sig.max) {
        const bound = n < sig.min ? sig.min : sig.max;
        const how = sig.min === sig.max ? "exactly" : n < sig.min ? "at least" : "at most";
        fail(`${name}() takes ${how} ${plural(bound, "argument")} (${n} given)`);
      }
      break;
  }
  return call.args;
}

/**
 * CPython 3.11's `_PyArg_UnpackKeywords` (Python/getargs.c), the binding of Argument Clinic functions that take
 * keywords: too many arguments in all, then too many or too few positional ones, then each parameter from the
 * keywords (a missing required one named with its position), then a name given twice, then an unknown keyword.
 * Positional-only parameters (`posonly`) have no keyword: `sum(iterable=[])` "takes at least 1 positional
 * argument (0 given)".
 */
function bindKeywords(name: string, sig: Extract<Signature, { kind: "keywords" }>, call: CallArgs): Arg[] {
  const fn = `${name}()`;
  const n = call.args.length;
  const total = n + call.keywords.size;
  const max = sig.names.length;
  const maxpos = sig.positional;
  const posonly = sig.posonly ?? 0;
  const minposonly = Math.min(posonly, sig.required);
  const fail = (message: string): never => {
    throw pyFail("TypeError", message);
  };
  if (total > max) {
    const what = n === 0 ? "keyword argument" : "argument";
    fail(`${fn} takes at most ${plural(max, what)} (${total} given)`);
  }
  if (n > maxpos) {
    const how = sig.required < maxpos ? "at most" : "exactly";
    fail(
      maxpos === 0
        ? `${fn} takes no positional arguments`
        : `${fn} takes ${how} ${plural(maxpos, "positional argument")} (${n} given)`,
    );
  }
  if (n < minposonly) {
    const how = minposonly < maxpos ? "at least" : "exactly";
    fail(`${fn} takes ${how} ${plural(minposonly, "positional argument")} (${n} given)`);
  }
  const out: Arg[] = [...call.args];
  let left = call.keywords.size;
  for (let i = Math.max(n, posonly); i < max; i++) {
    if (left === 0 && i >= sig.required) break;
    const value = left > 0 ? call.keywords.get(sig.names[i] ?? "") : undefined;
    if (value !== undefined) left--;
    else if (i < sig.required) fail(`${fn} missing required argument '${sig.names[i]}' (pos ${i + 1})`);
    out[i] = value;
  }
  if (left > 0) {
    for (let i = posonly; i < n; i++) {
      if (call.keywords.has(sig.names[i] ?? ""))
        fail(`argument for ${fn} given by name ('${sig.names[i]}') and position (${i + 1})`);
    }
    for (const key of call.keywords.keys()) {
      if (!sig.names.slice(posonly).includes(key)) fail(`'${key}' is an invalid keyword argument for ${fn}`);
    }
  }
  while (out.length > 0 && out[out.length - 1] === undefined) out.pop();
  return out;
}

/** An int argument as CPython's `__index__` takes it (bool counts): "'float' object cannot be interpreted as an integer". */
export function intArg(v: Arg): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "boolean") return v ? 1n : 0n;
  throw pyFail("TypeError", `'${typeName(v ?? null)}' object cannot be interpreted as an integer`);
}

/** A `Py_ssize_t` argument: "Python int too large to convert to C ssize_t" beyond 64 bits. */
export function sizeArg(v: Arg): number {
  return Number(ssize(intArg(v)));
}

/** A C `int` argument (`_PyLong_AsInt`: `keepends`, `reverse`, `tabsize`). */
export function cIntArg(v: Arg): number {
  const i = intArg(v);
  if (i > 2147483647n || i < -2147483648n)
    throw pyFail("OverflowError", "Python int too large to convert to C int");
  return Number(i);
}

/** An int clamped to Py_ssize_t, as slice indices are (`_PyEval_SliceIndex`). */
function clampedIndex(v: bigint | boolean): number {
  return Number(clampSsize(typeof v === "boolean" ? (v ? 1n : 0n) : v));
}

/**
 * A str argument; `message` is CPython's text before ", not <type>". Argument Clinic's checks
 * (`_PyArg_BadArgument`, `clinic`) name None "None", the others its type "NoneType".
 */
export function strArg(v: Arg, message: string, clinic = false): string {
  if (typeof v === "string") return v;
  const what = clinic && (v ?? null) === null ? "None" : typeName(v ?? null);
  throw pyFail("TypeError", `${message}, not ${what}`);
}

/**
 * A slice bound of str/list/tuple find-like methods: None (str only) or an int, clamped to Py_ssize_t.
 * "slice indices must be integers or None or have an __index__ method" (str); lists and tuples say the same
 * without "or None" and refuse None.
 */
export function sliceBound(v: Arg, allowNone: boolean): number | undefined {
  if (v === undefined || (allowNone && v === null)) return undefined;
  if (typeof v === "bigint" || typeof v === "boolean") return clampedIndex(v);
  throw pyFail(
    "TypeError",
    `slice indices must be integers${allowNone ? " or None" : ""} or have an __index__ method`,
  );
}

/** A start/stop of list/tuple `index` (`_PyEval_SliceIndexNotNone`), adjusted to 0..length. */
export function indexBound(v: Arg, fallback: number, length: number): number {
  if (v === undefined) return fallback;
  const i = sliceBound(v, false) ?? fallback;
  return i < 0 ? Math.max(0, i + length) : Math.min(i, length);
}

/** `[start:end]` of a sequence of `length`, as CPython's ADJUST_INDICES: both within 0..length. */
export function adjustIndices(
  length: number,
  start: number | undefined,
  end: number | undefined,
): [number, number] {
  let a = start ?? 0;
  let b = end ?? length;
  if (b > length) b = length;
  else if (b < 0) b = Math.max(0, b + length);
  if (a < 0) a = Math.max(0, a + length);
  return [a, b];
}
