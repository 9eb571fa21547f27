/**
 * `fromJson`: the Body's `args` come from the plan's one parse (agent/json/parse.ts), never from a second parser.
 * The Python values must be what CPython's `json.loads` makes of the same text: types (int/float/bool/None),
 * exact integers, floats, strings with lone surrogates, and every dict's key order.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { MessageChannel, receiveMessageOnPort } from "node:worker_threads";
import fc from "fast-check";
import { floatRepr } from "../../agent/json/float_repr.ts";
import { type JsonValue, parseJson } from "../../agent/json/parse.ts";
import { PyDict, PyList, type PyValue } from "../../agent/python/runtime/values.ts";
import { fromJson } from "../../agent/python/text/json.ts";
import { jsonTexts } from "../helpers/json_texts.ts";

/** A typed, order-keeping text of a Python value: `int:1`, `float:1.0`, `str:"a"`, `{k:v,...}` in dict order. */
function shape(value: PyValue): string {
  if (value instanceof PyDict) {
    return `{${[...value.entries.values()].map((e) => `${shape(e.key)}:${shape(e.value)}`).join(",")}}`;
  }
  if (value instanceof PyList) return `[${value.items.map(shape).join(",")}]`;
  if (value === null) return "NoneType:None";
  if (typeof value === "boolean") return `bool:${value ? "True" : "False"}`;
  if (typeof value === "bigint") return `int:${value}`;
  if (typeof value === "number") return `float:${floatRepr(value)}`;
  if (typeof value === "string") return `str:${JSON.stringify(value)}`;
  return assert.fail(`fromJson made a ${typeof value}`);
}

const ORACLE = String.raw`
import json, sys
sys.setrecursionlimit(10000)
def esc(s):
    short = {'"': '\\"', '\\': '\\\\', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t'}
    return '"' + ''.join(short.get(ch) or ('\\u%04x' % ord(ch) if ord(ch) < 0x20 or 0xd800 <= ord(ch) <= 0xdfff else ch) for ch in s) + '"'
def shape(v):
    if isinstance(v, dict): return '{' + ','.join(shape(k) + ':' + shape(x) for k, x in v.items()) + '}'
    if isinstance(v, list): return '[' + ','.join(shape(x) for x in v) + ']'
    if isinstance(v, str): return 'str:' + esc(v)
    return type(v).__name__ + ':' + repr(v)
for line in sys.stdin.buffer:
    print(json.dumps(shape(json.loads(json.loads(line.decode('utf-8'))))))
`;

function pythonShapes(texts: readonly string[]): string[] {
  const input = texts.map((t) => `${JSON.stringify(t)}\n`).join("");
  const run = spawnSync("python3", ["-c", ORACLE], { input, encoding: "utf8", maxBuffer: 1 << 26 });
  if (run.status !== 0) throw new Error(`python3 failed (${run.status}): ${run.stderr}`);
  return run.stdout
    .trimEnd()
    .split("\n")
    .map((line) => JSON.parse(line) as string);
}

function exact(text: string): JsonValue {
  const parsed = parseJson(text);
  if (!parsed.ok) assert.fail(parsed.message);
  return parsed.value;
}

test("gives what json.loads gives: types, exact ints, floats, surrogates and each dict's key order", (t) => {
  const seed = Number(process.env.IDEM_SEED ?? Date.now() % 2 ** 31);
  t.diagnostic(`seed ${seed} (IDEM_SEED=${seed} repeats this run)`);
  let compared = 0;
  fc.assert(
    fc.property(fc.array(jsonTexts, { minLength: 100, maxLength: 100 }), (candidates) => {
      const texts = candidates.filter((text) => {
        const parsed = parseJson(text);
        return parsed.ok && parsed.depth < 500;
      });
      const python = pythonShapes(texts);
      texts.forEach((text, n) => {
        assert.equal(shape(fromJson(exact(text))), python[n], JSON.stringify(text.slice(0, 300)));
        compared++;
      });
    }),
    { seed, numRuns: 10, endOnFailure: true },
  );
  assert.ok(compared >= 300, `only ${compared} texts compared`);
});

test("keeps integer-like keys in the text's order, where a JS object would sort them", () => {
  // python3: json.loads('{"8080": 1, "2222": 2.0, "big": 12345678901234567890}') keeps this order and types.
  const args = fromJson(exact('{"8080": 1, "2222": 2.0, "big": 12345678901234567890, "l": [true, null]}'));
  assert.equal(
    shape(args),
    '{str:"8080":int:1,str:"2222":float:2.0,str:"big":int:12345678901234567890,str:"l":[bool:True,NoneType:None]}',
  );
});

test("keeps the first position and the last value of a repeated key, as json.loads does", () => {
  // python3: json.loads('{"a": 1, "b": 2, "a": 3}') == {'a': 3, 'b': 2}, in that order.
  assert.equal(shape(fromJson(exact('{"a": 1, "b": 2, "a": 3}'))), '{str:"a":int:3,str:"b":int:2}');
});

test("reads a tree that crossed a structured clone (a worker's message) as the original", () => {
  const tree = exact(
    '{"2": {"__proto__": [1, 1.0, -0.0, NaN, 1e400]}, "1": "\\udc00", "0": 123456789012345678901}',
  );
  const channel = new MessageChannel();
  channel.port1.postMessage(tree);
  const received = receiveMessageOnPort(channel.port2)?.message as JsonValue;
  channel.port1.close();
  assert.equal(shape(fromJson(received)), shape(fromJson(tree)));
  assert.match(
    shape(fromJson(received)),
    /^\{str:"2":\{str:"__proto__":\[int:1,float:1\.0,float:-0\.0,float:nan,float:inf\]\}/,
  );
});

test("converts 100,000 nested lists without growing the stack", () => {
  let value = fromJson(exact(`${"[".repeat(100_000)}7${"]".repeat(100_000)}`));
  for (let level = 0; level < 100_000; level++) value = (value as PyList).items[0] ?? null;
  assert.equal(value, 7n);
});
