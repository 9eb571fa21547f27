import assert from "node:assert/strict";
import { test } from "node:test";
import { IdemError } from "../../agent/errors.ts";
import { compileBody, evaluateBody, pyRepr, pyToJson } from "../../agent/python/mod.ts";
import { pyJson } from "../helpers/json_value.ts";

async function value(expression: string): Promise<string> {
  const result = await evaluateBody(compileBody(`return ${expression}`), {
    args: pyJson('{"n": null, "t": true, "f": 2.5}'),
    scripts: new Set(),
    call: () => assert.fail("no script is called here"),
  });
  assert.equal(typeof result, "string", `${expression} should give a str`);
  return result as string;
}

const formats: [string, string][] = [
  ["'{0} {1}'.format('a', 'b')", "a b"],
  ["'{} {}'.format('a', 'b')", "a b"],
  ["'{name}-{0}'.format(1, name='x')", "x-1"],
  ["'{0[key]} {0[0]}'.format({'key': 'v', 0: 'zero'})", "v zero"],
  ["'{0.t}'.format(args)", "True"],
  ["'{} {} {}'.format(None, True, 2.0)", "None True 2.0"],
  ["'{!r}'.format('a')", "'a'"],
  ["'{:>5}|{:<5}|{:^6}'.format('ab', 'cd', 'ef')", "   ab|cd   |  ef  "],
  ["'{:05d} {:+d} {:,} {:#x}'.format(42, 42, 1234567, 255)", "00042 +42 1,234,567 0xff"],
  [
    "'{:08.3f} {:.2e} {:.3g} {:%}'.format(3.14159, 0.000123, 0.000012345, 0.25)",
    "0003.142 1.23e-04 1.23e-05 25.000000%",
  ],
  ["'{:.0f} {:.0f}'.format(2.5, 3.5)", "2 4"],
  ["'{:{}}|'.format('x', 3)", "x  |"],
  ["'{{literal}} {}'.format(1)", "{literal} 1"],
  ["'%s and %r' % ('a', 'b')", "a and 'b'"],
  [
    "'%5.2f|%-4s|%05d|%x|%(k)s' % (3.14159, 'ab', 42, 255, {'k': 1})[:4] if False else '%5.2f|%-4s|%05d|%x' % (3.14159, 'ab', 42, 255)",
    " 3.14|ab  |00042|ff",
  ],
  ["'%(k)s' % {'k': [1]}", "[1]"],
  ["f'{args.f} {args.t!r:>6}'", "2.5   True"],
];

for (const [expression, expected] of formats) {
  test(`formats ${expression} as Python does`, async () => assert.equal(await value(expression), expected));
}

const reprs: [string, string][] = [
  ["str([1, 'x', None, True, 2.0, 1e16, 1e-05])", "[1, 'x', None, True, 2.0, 1e+16, 1e-05]"],
  ["str({'a': [1, {'b': ('c',)}], 'e': ()})", "{'a': [1, {'b': ('c',)}], 'e': ()}"],
  ["str((set(), {1}))", "(set(), {1})"],
  [
    "str(\"it's\") + str(['it\\'s', 'say \"hi\"', 'both \\' \"'])",
    "it's[\"it's\", 'say \"hi\"', 'both \\' \"']",
  ],
  ["str(['tab\\t', 'nl\\n', '\\x00', 'é'])", "['tab\\t', 'nl\\n', '\\x00', 'é']"],
  ["str({'a': 1}.items())", "dict_items([('a', 1)])"],
];

for (const [expression, expected] of reprs) {
  test(`repr of ${expression} matches CPython`, async () => assert.equal(await value(expression), expected));
}

test("a list that contains itself prints [...] as in Python", async () => {
  const result = await evaluateBody(compileBody("x = []\nx.append(x)\nreturn x"), {
    args: null,
    scripts: new Set(),
    call: () => assert.fail("no script"),
  });
  assert.equal(pyRepr(result), "[[...]]");
});

test("JSON output is json.dumps text: tuples as arrays, floats and non-ASCII as Python writes them", async () => {
  const result = await evaluateBody(
    compileBody("return {'t': (1, 2), 'f': [2.0, 1e16, float('inf')], 1: 'é', None: True}"),
    { args: null, scripts: new Set(), call: () => assert.fail("no script") },
  );
  assert.equal(pyToJson(result), '{"t": [1, 2], "f": [2.0, 1e+16, Infinity], "1": "\\u00e9", "null": true}');
  // murano-agent's json.dumps of the result fails on a set: code 1 with json's message.
  const set = await evaluateBody(compileBody("return {'s': {3}}"), {
    args: null,
    scripts: new Set(),
    call: () => assert.fail("no script"),
  });
  assert.throws(
    () => pyToJson(set),
    (error: unknown) =>
      error instanceof IdemError && error.message === "Object of type set is not JSON serializable",
  );
});

test("a value JSON cannot hold fails with code 1 like json.dumps", async () => {
  const result = await evaluateBody(compileBody("return {(1, 2): 'x'}"), {
    args: null,
    scripts: new Set(),
    call: () => assert.fail("no script"),
  });
  assert.throws(
    () => pyToJson(result),
    (error: unknown) =>
      error instanceof IdemError &&
      error.code === 1 &&
      error.message === "keys must be str, int, float, bool or None, not tuple",
  );
});
