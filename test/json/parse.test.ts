import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MessageChannel, receiveMessageOnPort } from "node:worker_threads";
import fc from "fast-check";
import { type JsonObject, type JsonValue, parseJson } from "../../agent/json/parse.ts";
import { toPlain } from "../../agent/json/plain.ts";
import { canonicalJson, stringifyJson } from "../../agent/json/write.ts";
import { jsonTexts } from "../helpers/json_texts.ts";
import { pythonSameJson, pythonVerdicts } from "../helpers/python_json.ts";

const PROTO = "__proto__";
const PROTOTYPE_NAMES = Object.getOwnPropertyNames(Object.prototype).sort();

function parsed(text: string): { value: JsonValue; depth: number } {
  const outcome = parseJson(text);
  if (!outcome.ok) assert.fail(`expected ${JSON.stringify(text.slice(0, 80))} to parse: ${outcome.message}`);
  return outcome;
}

/** Our verdict in the reference's terms: what was refused (Python's message), where in code points. */
function ours(text: string) {
  const outcome = parseJson(text);
  if (outcome.ok) return { ok: true, canonical: canonicalJson(outcome.value), depth: outcome.depth };
  // CPython's own message, which may end in "at" already ("Unterminated string starting at").
  const what = /^Cannot parse the payload as JSON: (.*?)(?: at)? position \d+$/s.exec(outcome.message)?.[1];
  return { ok: false, message: what, position: [...text.slice(0, outcome.position)].length, depth: 0 };
}

describe("parseJson against CPython's json.loads", () => {
  test("accepts and refuses what json.loads does, with the same canonical value, error and position", () => {
    let compared = 0;
    const batch = fc.array(jsonTexts, { minLength: 100, maxLength: 100 });
    fc.assert(
      fc.property(batch, (texts) => {
        const verdicts = pythonVerdicts(texts);
        texts.forEach((text, n) => {
          const mine = ours(text);
          const python = verdicts[n];
          if (mine.depth >= 900) return; // Python raises RecursionError near 1000; we leave depth to the caller
          const shown = `text ${JSON.stringify(text.length > 300 ? `${text.slice(0, 300)}…` : text)}`;
          assert.notEqual(python?.ok, "recursion", `${shown}: python recursed at depth ${mine.depth}`);
          if (python?.ok === false && python.position === null) {
            assert.equal(mine.ok, false, `${shown}: python refused it (${python.message})`);
            assert.match(python.message, /^Exceeds the limit/);
            assert.match(
              mine.message ?? "",
              /^Exceeds the limit \(4300 digits\) for integer string conversion/,
            );
          } else if (python?.ok === false) {
            assert.deepEqual(
              { ok: mine.ok, message: mine.message, position: mine.position },
              { ok: false, message: python.message.replace(/ at$/, ""), position: python.position },
              shown,
            );
          } else assert.deepEqual({ ok: mine.ok, canonical: mine.canonical }, python, shown);
          compared++;
        });
      }),
      { numRuns: 25 },
    );
    assert.ok(compared >= 2000, `only ${compared} texts compared`);
  });
});

describe("parseJson", () => {
  test("parses 10,000 nested arrays and objects without growing the stack, and reports the depth", () => {
    const arrays = `${"[".repeat(10_000)}1${"]".repeat(10_000)}`;
    assert.equal(parsed(arrays).depth, 10_000);
    const objects = `${'{"a":'.repeat(10_000)}[]${"}".repeat(10_000)}`;
    assert.equal(parsed(objects).depth, 10_001);
    assert.equal(parsed("1").depth, 0);
    assert.equal(parsed("[{}, [[]]]").depth, 3);
    assert.equal(canonicalJson(parsed(arrays).value).length, arrays.length);
  });

  test("keeps integers exact as bigint and floats as numbers, as Python's int and float", () => {
    const value = parsed("[1, 1.0, -0, -0.0, 9007199254740993, 1e400, -1E-400, NaN, -Infinity]").value;
    assert.deepEqual(value, [1n, 1, 0n, -0, 9007199254740993n, Infinity, -0, Number.NaN, -Infinity]);
    assert.equal(canonicalJson(value), "[1,1.0,0,-0.0,9007199254740993,inf,-0.0,nan,-inf]");
  });

  test("keeps a lone surrogate escape as a lone surrogate and joins an escaped pair", () => {
    assert.equal(parsed('"\\udc00"').value, "\udc00");
    assert.equal(parsed('"\\ud83d\\ude00"').value, "😀");
    assert.equal(parsed('"\\ud83d\\u0041"').value, "\ud83dA");
    assert.equal(canonicalJson(parsed('"\\uDC00\\ufffd"').value), '"\\udc00\uFFFD"');
  });

  test("makes __proto__ and constructor ordinary keys and never touches Object.prototype", () => {
    const text = '{"__proto__": {"hasOwnProperty": 1, "polluted": true}, "constructor": {"prototype": 2}}';
    const value = parsed(text).value as JsonObject;
    assert.deepEqual([...value.keys()], ["__proto__", "constructor"]);
    assert.equal((value.get(PROTO) as JsonObject).get("polluted"), true);
    const plain = toPlain(value) as Record<string, Record<string, unknown>>;
    assert.equal(Object.getPrototypeOf(plain), null);
    assert.deepEqual(Object.keys(plain), ["__proto__", "constructor"]);
    assert.equal(plain[PROTO]?.hasOwnProperty, 1);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), PROTOTYPE_NAMES);
  });

  test("lets the last duplicate key win at the first one's position", () => {
    const value = parsed('{"a": 1, "b": 2, "a": 3}').value as JsonObject;
    assert.deepEqual(
      [...value],
      [
        ["a", 3n],
        ["b", 2n],
      ],
    );
  });

  test("keeps the text's key order, integer-like keys included, as Python's dict does", () => {
    // python3 -c 'import json; print(list(json.loads("{\"2\":0,\"b\":0,\"1\":0,\"a\":0,\"10\":0}")))'
    // → ['2', 'b', '1', 'a', '10'] (a JS object would put "1", "2", "10" first)
    const value = parsed('{"2": 0, "b": 0, "1": 0, "a": 0, "10": 0}').value as JsonObject;
    assert.deepEqual([...value.keys()], ["2", "b", "1", "a", "10"]);
    assert.equal(stringifyJson(value), '{"2":0,"b":0,"1":0,"a":0,"10":0}');
  });

  test("survives a structured clone (a worker's message) with its order, bigints, -0.0, NaN and surrogates", () => {
    const text =
      '{"2": [1, 1.0, -0.0, NaN, 12345678901234567890, "\\udc00"], "1": {"__proto__": {"x": null}}}';
    const value = parsed(text).value;
    const channel = new MessageChannel();
    channel.port1.postMessage(value);
    const received = receiveMessageOnPort(channel.port2)?.message as JsonValue;
    channel.port1.close();
    assert.equal(stringifyJson(received), stringifyJson(value));
    assert.equal(canonicalJson(received), canonicalJson(value));
    assert.ok(received instanceof Map && received.get("1") instanceof Map);
  });

  const refused: Array<[string, string, number]> = [
    ["", "Expecting value", 0],
    ["[1,]", "Expecting value", 3],
    ['{"a":1,}', "Expecting property name enclosed in double quotes", 7],
    ["1.", "Extra data", 1],
    ["\ufeff{}", "Unexpected UTF-8 BOM (decode using utf-8-sig)", 0],
    [" \f1", "Expecting value", 1],
    ['"a\u001fb"', "Invalid control character", 2],
    ['"\\x"', "Invalid \\escape", 1],
    ['"\\ud83d\\uZZZZ"', "Invalid \\uXXXX escape", 8],
    ['["abc', "Unterminated string starting", 1],
    ["-NaN", "Expecting value", 0],
    ['"\\u0041', "Invalid \\uXXXX escape", 2],
    ['{"a" 1}', "Expecting ':' delimiter", 5],
    ["[1 2]", "Expecting ',' delimiter", 3],
  ];
  for (const [text, what, position] of refused) {
    test(`refuses ${JSON.stringify(text)}: ${what} at position ${position}`, () => {
      assert.deepEqual(parseJson(text), {
        ok: false,
        message: `Cannot parse the payload as JSON: ${what} at position ${position}`,
        reason: `${what} at position ${position}`,
        position,
      });
    });
  }

  test("refuses an integer of more than 4300 digits, as Python's int() does, but not such a float", () => {
    assert.equal(parsed("9".repeat(4300)).value, BigInt("9".repeat(4300)));
    assert.match(
      (parseJson(`[${"9".repeat(4301)}]`) as { message: string }).message,
      /4301 digits at position 1$/,
    );
    assert.equal(parsed(`${"9".repeat(4301)}.0`).value, Number.POSITIVE_INFINITY);
  });

  test("toPlain turns integers into numbers without recursion and leaves its input alone", () => {
    const deep = parsed(`${"[".repeat(10_000)}7${"]".repeat(10_000)}`).value;
    let node = toPlain(deep);
    for (let level = 0; level < 10_000; level++) node = (node as unknown[])[0];
    assert.equal(node, 7);
    const value = parsed('{"n": 12345678901234567890, "f": 1.5}').value as JsonObject;
    assert.deepEqual({ ...(toPlain(value) as object) }, { n: 12345678901234567000, f: 1.5 });
    assert.equal(value.get("n"), 12345678901234567890n);
  });
});

describe("stringifyJson", () => {
  test("writes what Python's json.loads reads back as the same values in the same order", () => {
    let compared = 0;
    const batch = fc.array(jsonTexts, { minLength: 100, maxLength: 100 });
    fc.assert(
      fc.property(batch, (texts) => {
        const pairs: Array<[string, string]> = [];
        for (const text of texts) {
          const outcome = parseJson(text);
          if (outcome.ok && outcome.depth < 900) pairs.push([text, stringifyJson(outcome.value)]);
        }
        pythonSameJson(pairs).forEach((same, n) => {
          const [text, ours] = pairs[n] ?? ["", ""];
          assert.equal(
            same,
            true,
            `${JSON.stringify(text.slice(0, 300))} was written ${JSON.stringify(ours)}`,
          );
          compared++;
        });
      }),
      { numRuns: 10, endOnFailure: true },
    );
    assert.ok(compared >= 300, `only ${compared} texts compared`);
  });
});
