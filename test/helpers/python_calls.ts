/**
 * Differential testing of the interpreter's methods and built-ins against CPython 3.11 without the parser or
 * evaluator: a call is a small tree (`x.strip('a', 'b')`, `list(enumerate(x, 1))`) that idem evaluates through
 * methods.ts / builtins.ts directly and `python3` evaluates as source, one process per batch. Both sides give
 * the call's repr and the receiver's repr afterwards (methods mutate it), or `Type: message` of the exception.
 * Sets holding anything but numbers are printed sorted (a str's hash depends on PYTHONHASHSEED, None's on its address).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { callBuiltin } from "../../agent/python/runtime/builtins.ts";
import { pyFail } from "../../agent/python/runtime/exceptions.ts";
import { callMethod } from "../../agent/python/runtime/methods.ts";
import {
  type CallArgs,
  PyBuiltin,
  PyDict,
  PyIter,
  PyList,
  PyMethod,
  PySet,
  PyTuple,
  type PyValue,
  PyView,
  type Runtime,
  typeName,
} from "../../agent/python/runtime/values.ts";
import { pyRepr } from "../../agent/python/text/repr.ts";

/** A call: `receiver.method(args, keywords)` or a built-in `fn(args, keywords)`; args may be calls. */
export type Call =
  | { kind: "method"; receiver: PyValue; method: string; args: Operand[]; keywords: [string, Operand][] }
  | { kind: "builtin"; fn: string; args: Operand[]; keywords: [string, Operand][] };
export type Operand =
  | { value: PyValue }
  | { call: Call }
  | { builtin: string }
  | { unbound: [string, string] };

/** The items a generated set was built from, in order: its Python source adds them in the same order. */
export const setSources = new WeakMap<PySet, readonly PyValue[]>();

/** Python source of a value the generators make (containers of None, bools, ints, floats, strs). */
export function toPython(v: PyValue): string {
  if (typeof v === "number") {
    if (Number.isNaN(v)) return "float('nan')";
    if (!Number.isFinite(v)) return v > 0 ? "float('inf')" : "float('-inf')";
    return pyRepr(v);
  }
  if (v instanceof PyList) return `[${v.items.map(toPython).join(", ")}]`;
  if (v instanceof PyTuple) return `(${v.items.map(toPython).join(", ")}${v.items.length === 1 ? "," : ""})`;
  if (v instanceof PySet) {
    const items = setSources.get(v) ?? [...v.entries.values()];
    return `S(${items.map(toPython).join(", ")})`;
  }
  if (v instanceof PyDict)
    return `{${[...v.entries.values()].map((e) => `${toPython(e.key)}: ${toPython(e.value)}`).join(", ")}}`;
  return pyRepr(v);
}

function operandSource(o: Operand): string {
  if ("value" in o) return toPython(o.value);
  if ("builtin" in o) return o.builtin;
  if ("unbound" in o) return `${o.unbound[0]}.${o.unbound[1]}`;
  return callSource(o.call, "");
}

/** Python source of the call; the receiver of a method call is the variable `receiverName`. */
export function callSource(c: Call, receiverName = "x"): string {
  const args = [...c.args.map(operandSource), ...c.keywords.map(([k, v]) => `${k}=${operandSource(v)}`)].join(
    ", ",
  );
  if (c.kind === "builtin") return `${c.fn}(${args})`;
  const receiver = receiverName === "" ? `(${toPython(c.receiver)})` : receiverName;
  return `${receiver}.${c.method}(${args})`;
}

const codePointOrder = (a: string, b: string): number => {
  const x = Array.from(a, (c) => c.codePointAt(0) ?? 0);
  const y = Array.from(b, (c) => c.codePointAt(0) ?? 0);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return (x[i] ?? 0) - (y[i] ?? 0);
  return x.length - y.length;
};

/** pyRepr, but a set holding a str lists its items sorted (the Python side does the same). */
export function stableRepr(v: PyValue): string {
  if (v instanceof PyList) return `[${v.items.map(stableRepr).join(", ")}]`;
  if (v instanceof PyTuple)
    return `(${v.items.map(stableRepr).join(", ")}${v.items.length === 1 ? "," : ""})`;
  if (v instanceof PyDict)
    return `{${[...v.entries.values()].map((e) => `${stableRepr(e.key)}: ${stableRepr(e.value)}`).join(", ")}}`;
  if (v instanceof PySet) {
    if (v.entries.size === 0) return "set()";
    const items = [...v.entries.values()];
    const reprs = items.map(stableRepr);
    // A NaN's place in a CPython set follows its address (hash(nan) is id-based since 3.10): order-free then.
    const numeric = (i: PyValue): boolean =>
      typeof i === "bigint" || typeof i === "boolean" || (typeof i === "number" && !Number.isNaN(i));
    if (!items.every(numeric)) reprs.sort(codePointOrder);
    return `{${reprs.join(", ")}}`;
  }
  if (v instanceof PyView) return `${pyRepr(v).split("(")[0]}(${stableRepr(new PyList([...viewItems(v)]))})`;
  return pyRepr(v);
}

function* viewItems(v: PyView): Generator<PyValue> {
  for (const e of v.dict.entries.values())
    yield v.kind === "keys" ? e.key : v.kind === "values" ? e.value : new PyTuple([e.key, e.value]);
}

const runtime: Runtime = {
  invoke: (fn, args) => invoke(fn, { args, keywords: new Map() }),
  tick: () => {},
};

function invoke(fn: PyValue, call: CallArgs): PyValue {
  if (fn instanceof PyBuiltin) return callBuiltin(fn.name, call, runtime);
  if (fn instanceof PyMethod) return callMethod(fn.self, fn.name, call, runtime.invoke);
  throw pyFail("TypeError", `'${typeName(fn)}' object is not callable`);
}

function operandValue(o: Operand): PyValue {
  if ("value" in o) return o.value;
  if ("builtin" in o) return new PyBuiltin(o.builtin);
  if ("unbound" in o) return new PyMethod(new PyBuiltin(o.unbound[0]), o.unbound[1]);
  return evaluateCall(o.call);
}

function evaluateCall(c: Call): PyValue {
  const call: CallArgs = {
    args: c.args.map(operandValue),
    keywords: new Map(c.keywords.map(([k, v]) => [k, operandValue(v)])),
  };
  if (c.kind === "builtin") return callBuiltin(c.fn, call, runtime);
  return callMethod(c.receiver, c.method, call, runtime.invoke);
}

/** idem's outcome of a call: `result | receiver after` reprs, or `Type: message`. */
export function idemOutcome(c: Call): string {
  try {
    const result = evaluateCall(c);
    const shown = result instanceof PyIter ? `<${result.kind}>` : stableRepr(result);
    return c.kind === "method" ? `${shown} | ${stableRepr(c.receiver)}` : shown;
  } catch (error) {
    const kind = error instanceof Error && typeof error.cause === "string" ? error.cause : "JavaScript";
    return `${kind}: ${error instanceof Error ? error.message : String(error)}`;
  }
}

const REFERENCE = String.raw`
import json, sys
def S(*items):
    s = set()
    for x in items: s.add(x)
    return s
def rep(v):
    if isinstance(v, list): return '[' + ', '.join(rep(x) for x in v) + ']'
    if isinstance(v, tuple): return '(' + ', '.join(rep(x) for x in v) + (',' if len(v) == 1 else '') + ')'
    if isinstance(v, dict): return '{' + ', '.join(rep(k) + ': ' + rep(x) for k, x in v.items()) + '}'
    if isinstance(v, set):
        if not v: return 'set()'
        r = [rep(x) for x in v]
        # A NaN's hash is its address (3.10+): the order of a set holding one is the run's, not CPython's.
        if not all(isinstance(x, (int, float)) and x == x for x in v): r.sort()
        return '{' + ', '.join(r) + '}'
    if type(v).__name__ in ('dict_keys', 'dict_values', 'dict_items'): return type(v).__name__ + '(' + rep(list(v)) + ')'
    if type(v).__name__ in ('map', 'filter', 'zip', 'enumerate', 'reversed', 'list_reverseiterator', 'range_iterator'): return '<' + type(v).__name__ + '>'
    return repr(v)
for line in sys.stdin:
    case = json.loads(line)
    try:
        x = eval(case['receiver']) if case['receiver'] is not None else None
        r = eval(case['call'], {'x': x, 'S': S})
        out = rep(r) + (' | ' + rep(x) if case['receiver'] is not None else '')
    except Exception as e:
        out = type(e).__name__ + ': ' + str(e)
    print(json.dumps(out))
`;

/** CPython's outcomes of the calls, in order (one python3 process). */
export function pythonOutcomes(calls: readonly Call[]): string[] {
  const input = calls
    .map((c) =>
      JSON.stringify({
        receiver: c.kind === "method" ? toPython(c.receiver) : null,
        call: callSource(c),
      }),
    )
    .join("\n");
  const run = spawnSync("python3", ["-c", REFERENCE], {
    input: `${input}\n`,
    encoding: "utf8",
    maxBuffer: 1 << 28,
    env: { ...process.env, PYTHONIOENCODING: "utf-8" },
  });
  if (run.status !== 0) throw new Error(`python3 failed: ${run.stderr}`);
  return run.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as string);
}

/** Compares idem with python3 on each call; python3 first, as idem's methods mutate their receivers. */
export function assertLikeCPython(calls: Call[]): void {
  const expected = pythonOutcomes(calls);
  const failures: string[] = [];
  calls.forEach((c, i) => {
    const source = JSON.stringify(c, (_, v) => (typeof v === "bigint" ? `${v}n` : v));
    const got = idemOutcome(c);
    if (got !== expected[i]) failures.push(`${source}\n  idem:    ${got}\n  CPython: ${expected[i]}`);
  });
  assert.equal(
    failures.length,
    0,
    `${failures.length} of ${calls.length} differ:\n${failures.slice(0, 15).join("\n")}`,
  );
}
