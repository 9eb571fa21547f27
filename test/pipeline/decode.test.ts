import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type JsonObject, parseJson } from "../../agent/json/parse.ts";
import { type Decoded, decode, decodeQueued } from "../../agent/pipeline/decode.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const options = { maxPlanBytes: 4 * 1024 * 1024 };

function plan(text: string, extra: { maxPlanDepth?: number } = {}): Extract<Decoded, { kind: "plan" }> {
  const decoded = decode(bytes(text), { ...options, ...extra });
  if (decoded.kind !== "plan") assert.fail(`expected a plan, got ${JSON.stringify(decoded)}`);
  return decoded;
}

function refused(text: string, extra: { maxPlanBytes?: number; maxPlanDepth?: number } = {}) {
  const decoded = decode(bytes(text), { ...options, ...extra });
  if (decoded.kind !== "refused") assert.fail(`expected a refusal, got ${decoded.kind}`);
  return decoded;
}

/** `{"ID": "p1", "Parameters": [[…[]…]]}`: depth `levels + 1` (the plan object counts). */
const nested = (levels: number) => `{"ID": "p1", "Parameters": ${"[".repeat(levels)}${"]".repeat(levels)}}`;

describe("decode", () => {
  test("gives the exact tree (bigint integers) and the plain view (numbers), with the depth", () => {
    const decoded = plan('{"ID": "p1", "Parameters": {"n": 12345678901234567890, "f": 1.0, "o": {}}}');
    assert.equal(decoded.planId, "p1");
    assert.equal(decoded.depth, 3);
    assert.equal((decoded.exact.get("Parameters") as JsonObject).get("n"), 12345678901234567890n);
    assert.equal((decoded.plan.Parameters as Record<string, unknown>).n, 12345678901234567000);
    assert.equal((decoded.plan.Parameters as Record<string, unknown>).f, 1);
  });

  test("takes what Python's json.loads takes: NaN, Infinity, 1e400, a lone surrogate in a value", () => {
    const decoded = plan(
      '{"ID": "p1", "Parameters": {"a": NaN, "b": -Infinity, "c": 1e400, "d": "\\udc00"}}',
    );
    const parameters = decoded.plan.Parameters as Record<string, unknown>;
    assert.ok(Number.isNaN(parameters.a));
    assert.deepEqual([parameters.b, parameters.c, parameters.d], [-Infinity, Infinity, "\udc00"]);
  });

  test("refuses a plan nested deeper than maxPlanDepth with code 2 and its ID (default 200)", () => {
    assert.equal(plan(nested(199)).depth, 200);
    const deeper = refused(nested(200));
    assert.deepEqual([deeper.code, deeper.planId], [2, "p1"]);
    assert.equal(deeper.message, 'Cannot take plan "p1" as its nesting depth 201 exceeds maxPlanDepth (200)');
    assert.equal(plan(nested(9), { maxPlanDepth: 10 }).depth, 10);
    assert.match(refused(nested(10), { maxPlanDepth: 10 }).message, /depth 11 exceeds maxPlanDepth \(10\)/);
  });

  test("refuses a plan nested 10,000 levels deep without throwing", () => {
    const decoded = refused(nested(10_000));
    assert.equal(decoded.code, 2);
    assert.match(decoded.message, /nesting depth 10001/);
  });

  test("refuses an ID that is not well-formed Unicode with code 2, keeping the ID to answer", () => {
    const decoded = refused('{"ID": "p\\ud800"}');
    assert.deepEqual([decoded.code, decoded.planId], [2, "p\ud800"]);
    assert.match(decoded.message, /ID is not well-formed Unicode/);
    assert.equal(plan('{"ID": "p\\ud83d\\ude00"}').planId, "p😀");
  });

  test("refuses a payload over maxPlanBytes with code 2", () => {
    const decoded = refused(`{"ID": "p1", "Body": "${"x".repeat(2000)}"}`, { maxPlanBytes: 1024 });
    assert.equal(decoded.code, 2);
    assert.match(decoded.message, /exceed maxPlanBytes \(1024\)/);
  });

  const unanswerable: Array<[string, Uint8Array, RegExp]> = [
    ["not UTF-8", Uint8Array.of(0x7b, 0xff, 0x7d), /^Cannot decode a payload of 3 bytes as UTF-8 text$/],
    [
      "not JSON",
      bytes('{"ID": "p1",}'),
      /^Cannot parse the payload as JSON: Expecting property name .* at position 12$/,
    ],
    ["an array", bytes("[1]"), /a plan that is an array/],
    ["an integer", bytes("7"), /a plan that is number/],
    ["without an ID", bytes('{"Name": "x"}'), /without an ID/],
    ["with an ID only in __proto__", bytes('{"__proto__": {"ID": "p1"}}'), /without an ID/],
    ["with an empty ID", bytes('{"ID": ""}'), /without an ID/],
    ["with a numeric ID", bytes('{"ID": 1}'), /without an ID/],
    ["with an ID of 256 characters", bytes(`{"ID": "${"i".repeat(256)}"}`), /without an ID/],
  ];
  for (const [what, payload, message] of unanswerable) {
    test(`cannot answer a payload ${what}`, () => {
      const decoded = decode(payload, options);
      assert.equal(decoded.kind, "unanswerable");
      assert.match((decoded as { message: string }).message, message);
    });
  }

  test("keeps __proto__ an ordinary key and leaves Object.prototype alone", () => {
    const decoded = plan('{"ID": "p1", "__proto__": {"polluted": 1}, "Parameters": {"constructor": 2}}');
    assert.deepEqual(Object.keys(decoded.plan), ["ID", "__proto__", "Parameters"]);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(plan(`{"ID": "${"i".repeat(255)}"}`).planId.length, 255);
  });

  test("keeps the payload's key order in the exact tree, integer-like keys included", () => {
    const decoded = plan('{"ID": "p1", "Parameters": {"8080": "http", "2222": "ssh", "b": 1, "a": 2}}');
    assert.deepEqual([...(decoded.exact.get("Parameters") as JsonObject).keys()], ["8080", "2222", "b", "a"]);
    assert.deepEqual([...decoded.exact.keys()], ["ID", "Parameters"]);
  });
});

describe("decode with an earlier stage's parse", () => {
  test("takes the given text and parse instead of reading the payload again", () => {
    const text = '{"ID": "p2", "Parameters": {"n": 1.0}}';
    const parsed = { text, outcome: parseJson(text) };
    const decoded = decode(bytes('{"ID": "p1"}'), { ...options, parsed });
    assert.equal(decoded.kind, "plan");
    assert.equal(decoded.kind === "plan" && decoded.planId, "p2");
    assert.equal(decoded.kind === "plan" && decoded.text, text);
  });
});

describe("decodeQueued", () => {
  const queued = JSON.stringify({
    ID: "p1",
    Parameters: { n: 1 },
    Body: "return args.n",
    Scripts: {},
    Files: {},
    Idempotency: { Key: "k" },
  });

  test("reads a journaled plan once: its typed view and its exact tree", () => {
    const read = decodeQueued(queued.replace('"n":1', '"n":1.0'));
    assert.ok(read !== undefined);
    assert.equal(read.plan.Body, "return args.n");
    assert.equal(read.plan.Idempotency?.Key, "k");
    assert.equal((read.exact.get("Parameters") as JsonObject).get("n"), 1);
    const exact = decodeQueued(queued)?.exact.get("Parameters");
    assert.ok(exact instanceof Map);
    assert.equal(exact.get("n"), 1n);
  });

  test("gives nothing for a text that is not a plan of the wire schema's shape", () => {
    for (const text of ["", "[]", '{"ID": "p1"}', queued.replace('"Scripts":{}', '"Scripts":[]')]) {
      assert.equal(decodeQueued(text), undefined, text);
    }
  });
});
