/**
 * The oracle of the formatting tests: one python3 process per batch evaluates format(), str.format, `%`,
 * repr/str/ascii and json.dumps of generated values and answers each with its text or its exception
 * (type name and `str(exception)`). Values travel as tagged JSON so ints and floats are exact (ints as hex,
 * which has no digit limit; floats as `float.hex`), strings keep lone surrogates, tuples and sets survive.
 */
import { execFileSync } from "node:child_process";
import { IdemError } from "../../agent/errors.ts";
import {
  MAX_ITEMS,
  PyDict,
  PyList,
  PySet,
  PyTuple,
  type PyValue,
} from "../../agent/python/runtime/values.ts";

/** A generated value: what both sides are given. */
export type Value =
  | { t: "i"; v: bigint }
  | { t: "f"; v: number }
  | { t: "s"; v: string }
  | { t: "b"; v: boolean }
  | { t: "n" }
  | { t: "l" | "tu" | "set"; v: Value[] }
  | { t: "d"; v: [Value, Value][] };

/** One formatting operation; `expr` names what it does in a failure report. */
export type Op =
  | { op: "format"; v: Value; spec: string }
  | { op: "str.format"; t: string; args: Value[]; kw: [string, Value][] }
  | { op: "%"; t: string; v: Value }
  | { op: "repr" | "str" | "ascii" | "json"; v: Value };

/** What an operation gave: its text, or the exception's type and message. */
export type Answer = { ok: string } | { err: [string, string] };

const view = new DataView(new ArrayBuffer(8));

/** `float.hex(x)` spelled for `float.fromhex`, exact for every double. */
function floatHex(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const sign = hi >>> 31 ? "-" : "";
  const biased = (hi >>> 20) & 0x7ff;
  const fraction = ((BigInt(hi & 0xfffff) << 32n) | BigInt(view.getUint32(4))).toString(16).padStart(13, "0");
  return biased === 0 ? `${sign}0x0.${fraction}p-1022` : `${sign}0x1.${fraction}p${biased - 1023}`;
}

function encode(v: Value): unknown {
  switch (v.t) {
    case "i":
      return ["i", v.v.toString(16)];
    case "f":
      return ["f", floatHex(v.v)];
    case "s":
    case "b":
      return [v.t, v.v];
    case "n":
      return ["n"];
    case "d":
      return ["d", v.v.map(([k, x]) => [encode(k), encode(x)])];
    default:
      return [v.t, v.v.map(encode)];
  }
}

/** The same value as the interpreter holds it. */
export function toPy(v: Value): PyValue {
  switch (v.t) {
    case "i":
    case "f":
    case "s":
    case "b":
      return v.v;
    case "n":
      return null;
    case "l":
      return new PyList(v.v.map(toPy));
    case "tu":
      return new PyTuple(v.v.map(toPy));
    case "set": {
      const s = new PySet();
      for (const x of v.v) s.add(toPy(x));
      return s;
    }
    case "d": {
      const d = new PyDict();
      for (const [k, x] of v.v) d.set(toPy(k), toPy(x));
      return d;
    }
  }
}

const ORACLE = String.raw`
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
sys.setrecursionlimit(1000)
def dec(v):
    t = v[0]
    if t == 'i': return int(v[1], 16)
    if t == 'f': return float.fromhex(v[1])
    if t in ('s', 'b'): return v[1]
    if t == 'n': return None
    if t == 'l': return [dec(x) for x in v[1]]
    if t == 'tu': return tuple(dec(x) for x in v[1])
    if t == 'set': return set(dec(x) for x in v[1])
    return {dec(k): dec(x) for k, x in v[1]}
def run(c):
    op = c['op']
    if op == 'format': return format(dec(c['v']), c['spec'])
    if op == 'str.format': return c['t'].format(*[dec(a) for a in c['args']], **{k: dec(x) for k, x in c['kw']})
    if op == '%': return c['t'] % dec(c['v'])
    if op == 'repr': return repr(dec(c['v']))
    if op == 'str': return str(dec(c['v']))
    if op == 'ascii': return ascii(dec(c['v']))
    return json.dumps(dec(c['v']))
out = []
for line in sys.stdin:
    try:
        out.append({'ok': run(json.loads(line))})
    except Exception as e:
        out.append({'err': [type(e).__name__, str(e)]})
sys.stdout.write('\n'.join(json.dumps(o) for o in out) + '\n')
`;

/** CPython 3's answers to `ops`, in order, from one python3 process. */
export function pythonAnswers(ops: readonly Op[]): Answer[] {
  const input = ops
    .map((o) => {
      const wire: Record<string, unknown> = { ...o };
      if ("v" in o) wire.v = encode(o.v);
      if (o.op === "str.format") {
        wire.args = o.args.map(encode);
        wire.kw = o.kw.map(([k, x]) => [k, encode(x)]);
      }
      return JSON.stringify(wire);
    })
    .join("\n");
  const text = execFileSync("python3", ["-c", ORACLE], {
    input: `${input}\n`,
    maxBuffer: 1 << 30,
  }).toString();
  return text
    .trimEnd()
    .split("\n")
    .map((line) => JSON.parse(line) as Answer);
}

/**
 * Whether idem's answer is CPython's. A MemoryError agrees with CPython's, and with any text longer than
 * MAX_ITEMS: idem bounds what a Body may build (a deliberate difference, SPEC 6).
 */
export function sameAnswer(idem: Answer, python: Answer): boolean {
  if ("err" in idem && idem.err[0] === "MemoryError") {
    return "err" in python ? python.err[0] === "MemoryError" : python.ok.length > MAX_ITEMS;
  }
  return JSON.stringify(idem) === JSON.stringify(python);
}

/** What idem gives for one operation: its text, or the Python exception it raised. */
export function idemAnswer(run: () => string): Answer {
  try {
    return { ok: run() };
  } catch (error) {
    if (error instanceof IdemError) return { err: [String(error.cause), error.message] };
    return { err: ["JavaScript", String(error)] };
  }
}

/** A readable Python spelling of a value for failure reports. */
export function show(v: Value): string {
  switch (v.t) {
    case "i":
      return v.v.toString().length > 40 ? `<int of ${v.v.toString().length} digits>` : v.v.toString();
    case "f":
      return Object.is(v.v, -0)
        ? "-0.0"
        : Number.isFinite(v.v)
          ? `float.fromhex('${floatHex(v.v)}')`
          : `float('${v.v}')`;
    case "s":
      return JSON.stringify(v.v);
    case "b":
      return v.v ? "True" : "False";
    case "n":
      return "None";
    case "l":
      return `[${v.v.map(show).join(", ")}]`;
    case "tu":
      return `(${v.v.map(show).join(", ")}${v.v.length === 1 ? "," : ""})`;
    case "set":
      return `{${v.v.map(show).join(", ")}}`;
    case "d":
      return `{${v.v.map(([k, x]) => `${show(k)}: ${show(x)}`).join(", ")}}`;
  }
}
