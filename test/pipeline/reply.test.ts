/**
 * SPEC 2 and 7: the result message, its cap (`maxResultBytes`) and the replacement of a reply the broker will
 * not take — same SourceID, ErrorCode and Idem facts, the Body replaced by {Message, AdditionalInfo: {Truncated,
 * Bytes}}.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { type ResultFacts, replacementPayload, resultPayload } from "../../agent/pipeline/reply.ts";

const facts: ResultFacts = {
  agentId: "vm-1",
  generation: 3,
  key: "sha256:ab",
  fingerprint: "sha256:ab",
  policy: "skip-if-identical",
  decision: "run",
  attempt: 1,
  ranAs: "p1",
  replayed: false,
};

type Result = Record<string, unknown> & {
  Body: unknown;
  Idem: Record<string, unknown>;
};

const parse = (payload: string) => JSON.parse(payload) as Result;

describe("resultPayload", () => {
  test("keeps the Body's JSON text as it is (a dict's key order, 1.0)", () => {
    const payload = resultPayload({ sourceId: "p1", errorCode: 0, body: '{"b": 1.0, "8080": 2}', facts });
    assert.ok(payload.includes('"Body":{"b": 1.0, "8080": 2},'), payload);
    const result = parse(payload);
    assert.equal(result.SourceID, "p1");
    assert.equal(result.Idem.AgentID, "vm-1");
    assert.match(String(result.ID), /^[0-9a-f]{32}$/);
  });

  test("under maxBytes the result is untouched", () => {
    const body = JSON.stringify("x".repeat(500));
    const payload = resultPayload({ sourceId: "p1", errorCode: 0, body, facts, maxBytes: 1024 });
    assert.equal(parse(payload).Body, "x".repeat(500));
    assert.ok(Buffer.byteLength(payload) <= 1024);
  });

  test("over maxBytes the Body is replaced, keeping SourceID, ErrorCode, Time and the Idem facts", () => {
    const body = JSON.stringify("\u00e9".repeat(3000)); // 6002 bytes of UTF-8, 3002 characters
    const time = "2026-11-30T00:00:00.000Z";
    const payload = resultPayload({ sourceId: "p1", errorCode: 100, body, time, facts, maxBytes: 4096 });
    assert.ok(Buffer.byteLength(payload) <= 4096, `${Buffer.byteLength(payload)} bytes`);
    const result = parse(payload);
    assert.equal(result.SourceID, "p1");
    assert.equal(result.ErrorCode, 100);
    assert.equal(result.Time, time);
    assert.equal(result.Action, "Execution:Result");
    assert.deepEqual(result.Idem, parse(resultPayload({ sourceId: "p1", errorCode: 100, body, facts })).Idem);
    const replaced = result.Body as { Message: string; AdditionalInfo: Record<string, unknown> };
    assert.deepEqual(replaced.AdditionalInfo, { Truncated: true, Bytes: 6002 });
    assert.match(replaced.Message, /truncated/);
    assert.match(replaced.Message, /6002 bytes/);
    assert.match(replaced.Message, /maxResultBytes \(4096\)/);
  });

  test("the cap counts the whole message, not only the Body", () => {
    const body = JSON.stringify("x".repeat(700)); // fits alone, not with the rest of the message
    const result = parse(resultPayload({ sourceId: "p1", errorCode: 0, body, facts, maxBytes: 1024 }));
    assert.deepEqual((result.Body as { AdditionalInfo: unknown }).AdditionalInfo, {
      Truncated: true,
      Bytes: 702,
    });
  });

  test("any capped result is at most maxBytes and says the Body's size (property)", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", maxLength: 3000 }),
        fc.integer({ min: 1024, max: 4096 }),
        (text, max) => {
          const body = JSON.stringify(text);
          const payload = resultPayload({ sourceId: "p", errorCode: 1, body, facts, maxBytes: max });
          assert.ok(Buffer.byteLength(payload) <= max);
          const result = parse(payload);
          if (typeof result.Body === "string") assert.equal(result.Body, text);
          else
            assert.equal(
              (result.Body as { AdditionalInfo: { Bytes: number } }).AdditionalInfo.Bytes,
              Buffer.byteLength(body),
            );
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("replacementPayload", () => {
  test("keeps SourceID, ErrorCode, Time and Idem, gives a fresh ID and the exact size of the Body it drops", () => {
    const body = '{"z": 1.0, "a": [1, 2, 3], "s": "\u00e9\u00e9"}';
    const original = resultPayload({ sourceId: "plan-7", errorCode: 1, body, facts });
    const payload = replacementPayload(original, { reason: "Packet too large (0x95)" });
    assert.ok(payload !== undefined);
    const before = parse(original);
    const after = parse(payload);
    assert.notEqual(after.ID, before.ID);
    assert.equal(after.SourceID, "plan-7");
    assert.equal(after.ErrorCode, 1);
    assert.equal(after.Time, before.Time);
    assert.deepEqual(after.Idem, before.Idem);
    const replaced = after.Body as { Message: string; AdditionalInfo: Record<string, unknown> };
    assert.deepEqual(replaced.AdditionalInfo, { Truncated: true, Bytes: Buffer.byteLength(body) });
    assert.match(replaced.Message, /Packet too large \(0x95\)/);
  });

  test("a reply that was capped already keeps the size of the original Body", () => {
    const body = JSON.stringify("x".repeat(5000));
    const capped = resultPayload({ sourceId: "p1", errorCode: 0, body, facts, maxBytes: 2048 });
    const payload = replacementPayload(capped, { reason: "refused" });
    assert.ok(payload !== undefined);
    assert.deepEqual((parse(payload).Body as { AdditionalInfo: unknown }).AdditionalInfo, {
      Truncated: true,
      Bytes: 5002,
    });
  });

  test("the Body's size is exact for any Body text (property)", () => {
    fc.assert(
      fc.property(fc.json(), (body) => {
        const payload = replacementPayload(resultPayload({ sourceId: "p", errorCode: 0, body, facts }), {
          reason: "r",
        });
        assert.ok(payload !== undefined);
        const info = (parse(payload).Body as { AdditionalInfo: { Bytes: number } }).AdditionalInfo;
        // fc.json() may itself be a truncated Body: then its own Bytes is kept, by design.
        const own = (JSON.parse(body) as { AdditionalInfo?: { Truncated?: unknown; Bytes?: unknown } } | null)
          ?.AdditionalInfo;
        if (own?.Truncated === true && typeof own.Bytes === "number") return;
        assert.equal(info.Bytes, Buffer.byteLength(body));
      }),
      { numRuns: 300 },
    );
  });

  test("a payload that is no result message has no replacement", () => {
    assert.equal(replacementPayload("not json", { reason: "r" }), undefined);
    assert.equal(replacementPayload('{"ID": "x"}', { reason: "r" }), undefined);
    assert.equal(replacementPayload("null", { reason: "r" }), undefined);
  });
});
