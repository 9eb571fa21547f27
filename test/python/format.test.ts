/**
 * Text output is CPython 3.11's: format specs, str.format, `%` formatting, repr/str/ascii and json.dumps are
 * compared with python3 on thousands of generated cases per run (one python3 process per batch; the seed is
 * printed, FORMAT_SEED=n replays it), plus the known faults of issue 10 as named cases.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { floatRepr as canonicalFloatRepr } from "../../agent/json/float_repr.ts";
import { compile, evaluate, type PyValue } from "../../agent/python/mod.ts";
import { formatString } from "../../agent/python/text/format.ts";
import { formatValue } from "../../agent/python/text/format_spec.ts";
import { pyToJson } from "../../agent/python/text/json.ts";
import { percentFormat } from "../../agent/python/text/percent.ts";
import { floatRepr, pyAscii, pyRepr, pyStr } from "../../agent/python/text/repr.ts";
import { formatOp, formatValueOp, percentOp } from "../helpers/format_arbitraries.ts";
import { value } from "../helpers/format_values.ts";
import {
  type Answer,
  idemAnswer,
  type Op,
  pythonAnswers,
  sameAnswer,
  show,
  toPy,
} from "../helpers/python_format.ts";

const seed = Number(process.env.FORMAT_SEED ?? Date.now() % 2 ** 31);
console.log(`format tests: FORMAT_SEED=${seed}`);

function idem(o: Op): Answer {
  return idemAnswer(() => {
    switch (o.op) {
      case "format":
        return formatValue(toPy(o.v), o.spec);
      case "str.format":
        return formatString(o.t, o.args.map(toPy), new Map(o.kw.map(([k, x]) => [k, toPy(x)])));
      case "%":
        return percentFormat(o.t, toPy(o.v));
      case "repr":
        return pyRepr(toPy(o.v));
      case "str":
        return pyStr(toPy(o.v));
      case "ascii":
        return pyAscii(toPy(o.v));
      case "json":
        return pyToJson(toPy(o.v));
    }
  });
}

function describe(o: Op): string {
  switch (o.op) {
    case "format":
      return `format(${show(o.v)}, ${JSON.stringify(o.spec)})`;
    case "str.format":
      return `${JSON.stringify(o.t)}.format(${[...o.args.map(show), ...o.kw.map(([k, x]) => `${k}=${show(x)}`)].join(", ")})`;
    case "%":
      return `${JSON.stringify(o.t)} % ${show(o.v)}`;
    default:
      return `${o.op}(${show(o.v)})`;
  }
}

/** Runs `count` generated operations through idem and python3; fails listing the first disagreements. */
function compareWithPython(arbitrary: fc.Arbitrary<Op>, count: number, offset: number): void {
  const ops = fc.sample(arbitrary, { numRuns: count, seed: seed + offset });
  const expected = pythonAnswers(ops);
  const failures: string[] = [];
  ops.forEach((o, i) => {
    const got = idem(o);
    if (!sameAnswer(got, expected[i] as Answer))
      failures.push(
        `${describe(o)}\n    python: ${JSON.stringify(expected[i])}\n    idem:   ${JSON.stringify(got)}`,
      );
  });
  assert.equal(
    failures.length,
    0,
    `seed ${seed}: ${failures.length} of ${count} differ:\n${failures.slice(0, 12).join("\n")}`,
  );
}

test("format(value, spec) is CPython's for generated values and specs", () => {
  compareWithPython(formatValueOp, 3000, 1);
});

test("str.format fields, conversions, nested specs and their errors are CPython's", () => {
  compareWithPython(formatOp, 2000, 2);
});

test("% formatting with tuples, single values and mappings is CPython's", () => {
  compareWithPython(percentOp, 3000, 3);
});

test("repr, str and ascii of generated values are CPython's", () => {
  const op = fc.record({ op: fc.constantFrom("repr" as const, "str" as const, "ascii" as const), v: value });
  compareWithPython(op, 2000, 4);
});

test("json.dumps of generated result values is CPython's (sets and bad keys fail as in murano-agent)", () => {
  compareWithPython(fc.record({ op: fc.constant("json" as const), v: value }), 2000, 5);
});

test("floats print as CPython's repr and format them at any precision, ties to even", () => {
  const x = fc.oneof(
    fc.double(),
    fc.integer({ min: -1074, max: 1023 }).map((e) => 2 ** e),
  );
  const codes = fc.constantFrom("e", "f", "g", "E", "%", "", "", "n");
  // Every flag that changes the layout around the digits: the no-type presentation with a precision switches
  // to exponent notation at repr's bounds (`'{:+0.17}'.format(1e-7)` is '+9.9999999999999995e-08').
  const flags = fc.tuple(
    fc.constantFrom("", "+", " ", "-"),
    fc.constantFrom("", "", "z"),
    fc.constantFrom("", "#"),
    fc.constantFrom("", "0"),
    fc.constantFrom("", "", "1", "12", "30"),
    fc.constantFrom("", "", ",", "_"),
  );
  const op = fc.record({
    op: fc.constant("format" as const),
    v: x.map((v) => ({ t: "f" as const, v })),
    spec: fc
      .tuple(flags, fc.integer({ min: 0, max: 40 }), codes)
      .map(([f, p, c]) => `${f.join("")}.${p}${c === "n" && f[5] !== "" ? "g" : c}`),
  });
  compareWithPython(op, 3000, 6);
});

test("the fingerprint's float repr (agent/json) and the Body's agree on every double", () => {
  fc.assert(
    fc.property(fc.double(), (x) => canonicalFloatRepr(x) === floatRepr(x)),
    { seed, numRuns: 20000 },
  );
});

test("the known formatting faults of issue 10 give CPython's answers", () => {
  const cases: [() => string, string][] = [
    [
      () => formatString("{:.120f}", [0.1], new Map()),
      `0.${"1000000000000000055511151231257827021181583404541015625".padEnd(120, "0")}`,
    ],
    [() => formatString("{:#.0f}", [1.0], new Map()), "1."],
    [() => formatString("{:.0e}", [25n], new Map()), "2e+01"],
    [() => formatString("{:<05}", [1n], new Map()), "10000"],
    [() => formatValue(1.0, "#.0g"), "1."],
    [() => formatValue(1e16, "#"), "1.e+16"],
    [() => formatValue(1234n, "08,"), "0,001,234"],
    [() => formatValue(-0.0001, "z.2f"), "0.00"],
    [() => percentFormat("%.200f", 0.5), `0.5${"0".repeat(199)}`],
    [() => pyToJson("\x7f\u00e9😀"), '"\\u007f\\u00e9\\ud83d\\ude00"'],
  ];
  for (const [run, expected] of cases) assert.equal(run(), expected);
  const none = toPy({ t: "d", v: [[{ t: "s", v: "stdout" }, { t: "n" }]] });
  assert.equal(percentFormat("%(stdout)s", none), "None");
  assert.deepEqual(
    idemAnswer(() => percentFormat("%c", 1114112n)),
    { err: ["OverflowError", "%c arg not in range(0x110000)"] },
  );
  assert.deepEqual(
    idemAnswer(() => percentFormat("%d", Number.POSITIVE_INFINITY)),
    {
      err: ["OverflowError", "cannot convert float infinity to integer"],
    },
  );
});

test("a precision or width beyond what a Body may build is a MemoryError, not a hang", () => {
  for (const run of [
    () => percentFormat("%.2000000000f", 1.5),
    () => formatValue(1n, "999999999"),
    () => formatValue(0.5, "#.900000000g"),
  ]) {
    assert.equal(
      Object.hasOwn(idemAnswer(run), "err") && (idemAnswer(run) as { err: string[] }).err[0],
      "MemoryError",
    );
  }
  assert.equal(formatValue(0.1, ".100000000g"), "0.1000000000000000055511151231257827021181583404541015625");
});

function runBody(source: string): PyValue {
  return evaluate(compile(source), {
    args: null,
    scripts: new Set(["quiet"]),
    call: () => ({ exitCode: 0, stdout: null, stderr: null }),
  });
}

test("f-strings and a script result format through the same engine as in CPython", () => {
  // Expected values checked with python3 3.11.
  const result = runBody(
    "x = 0.1\nr = quiet()\nreturn f'{x:.3f}', f'{25:.0e}', f'{1:<05}', f'{-0.0:z}', f'{1234567:_}', '{0[a]!r:>6}'.format({'a': 'é'}), '%(stdout)s' % r",
  );
  assert.equal(pyToJson(result), `["0.100", "2e+01", "10000", "0.0", "1_234_567", "   '\\u00e9'", "None"]`);
});

test("nesting deeper than CPython's recursion limit is its RecursionError in repr and json.dumps", () => {
  const nested = runBody("a = []\nfor i in range(5000):\n    a = [a]\nreturn a");
  assert.deepEqual(
    idemAnswer(() => pyRepr(nested)),
    {
      err: ["RecursionError", "maximum recursion depth exceeded while getting the repr of an object"],
    },
  );
  assert.deepEqual(
    idemAnswer(() => pyToJson(nested)),
    {
      err: ["RecursionError", "maximum recursion depth exceeded while encoding a JSON object"],
    },
  );
});
