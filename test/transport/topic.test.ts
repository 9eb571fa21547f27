/**
 * SPEC 3 `ReplyTo`: which strings are topic names the agent may publish to. The pure rules, then a real
 * mosquitto: every name `topicNameProblem` accepts is published and received under exactly that name, and the
 * control characters it refuses are what makes mosquitto drop the publisher's connection.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { connect, type MqttClient } from "mqtt";
import { MAX_TOPIC_BYTES, printableTopic, route, topicNameProblem } from "../../agent/transport/topic.ts";
import { type MosquittoBroker, startBroker } from "../helpers/broker.ts";

describe("topicNameProblem", () => {
  const accepted = [
    "idem/vm-1/results",
    "a",
    "/",
    "a//b",
    "/leading/and/trailing/",
    "a b",
    "caf\u00e9/\u4e2d\u6587/\u{1f600}",
    "a\u00a0b",
    "a\ufffdb",
    "\ufeffbom",
    "a\ue000b",
    "x".repeat(MAX_TOPIC_BYTES),
    "\u00e9".repeat(MAX_TOPIC_BYTES / 2),
    "a$b",
  ];
  for (const topic of accepted) {
    test(`accepts ${JSON.stringify(printableTopic(topic)).slice(0, 60)}`, () => {
      assert.equal(topicNameProblem(topic), undefined);
    });
  }

  const refused: Array<[string, string, RegExp]> = [
    ["the empty string", "", /empty/],
    ["1025 bytes", "x".repeat(MAX_TOPIC_BYTES + 1), /1025 bytes/],
    ["1024 characters of two bytes each", "\u00e9".repeat(MAX_TOPIC_BYTES), /2048 bytes/],
    ["the single-level wildcard", "a/+/b", /wildcard "\+"/],
    ["a + inside a level", "a+b", /wildcard "\+"/],
    ["the multi-level wildcard", "a/#", /wildcard "#"/],
    ["U+0000", "a\u0000b", /U\+0000/],
    ["U+0001", "a\u0001b", /control character U\+0001 at index 1/],
    ["U+001F", "a\u001fb", /U\+001F/],
    ["U+007F", "a\u007fb", /U\+007F/],
    ["U+0080", "a\u0080b", /U\+0080/],
    ["U+009F", "a\u009fb", /U\+009F/],
    ["U+FFFE", "a\ufffeb", /noncharacter U\+FFFE/],
    ["U+FFFF", "a\uffffb", /noncharacter U\+FFFF/],
    ["U+FDD0", "a\ufdd0b", /noncharacter U\+FDD0/],
    ["U+1FFFE", "a\u{1fffe}b", /noncharacter U\+1FFFE/],
    ["U+10FFFF", "a\u{10ffff}b", /noncharacter U\+10FFFF/],
    ["a lone high surrogate", "a\ud800b", /lone surrogate \(U\+D800\)/],
    ["a lone high surrogate at the end", "ab\udbff", /lone surrogate/],
    ["a lone low surrogate", "a\udc00b", /lone surrogate \(U\+DC00\)/],
    ["a leading $", "$SYS/x", /reserved for the broker/],
  ];
  for (const [what, topic, reason] of refused) {
    test(`refuses ${what}`, () => {
      const problem = topicNameProblem(topic);
      assert.ok(problem !== undefined, `refused: ${JSON.stringify(topic).slice(0, 40)}`);
      assert.match(problem, reason);
    });
  }

  test("an accepted name is well-formed UTF-16, has no wildcard and survives UTF-8 unchanged (property)", () => {
    fc.assert(
      fc.property(topicArbitrary(), (topic) => {
        if (topicNameProblem(topic) !== undefined) return;
        assert.equal(Buffer.from(topic, "utf8").toString("utf8"), topic);
        assert.ok(topic.isWellFormed());
        for (const char of topic) {
          const point = char.codePointAt(0) ?? 0;
          assert.ok(char !== "+" && char !== "#" && !(point <= 0x1f || (point >= 0x7f && point <= 0x9f)));
        }
        assert.ok(topic.length > 0 && Buffer.byteLength(topic) <= MAX_TOPIC_BYTES);
      }),
      { numRuns: 2000 },
    );
  });

  test("printableTopic writes control characters and lone surrogates as escapes", () => {
    assert.equal(printableTopic("a\u0001b\u009f\ud800/ok\u00e9"), "a\\u0001b\\u009f\\ud800/ok\u00e9");
  });

  test("route tells the agent's own status topic (also with . and / swapped) from plans", () => {
    assert.equal(route("idem/vm.1/status", "idem/vm.1/status"), "status");
    assert.equal(route("idem.vm/1.status", "idem/vm.1/status"), "status");
    assert.equal(route("idem/vm.1/plans", "idem/vm.1/status"), "plan");
  });
});

describe("topic names against a real mosquitto", () => {
  let broker: MosquittoBroker;
  let subscriber: MqttClient;
  const received: string[] = [];
  const waiters = new Set<() => void>();

  before(async () => {
    broker = await startBroker({ durable: false });
    subscriber = await client(broker, 5, "topic-subscriber");
    subscriber.on("message", (topic) => {
      received.push(topic);
      for (const waiter of [...waiters]) waiter();
    });
    await subscriber.subscribeAsync("#", { qos: 1 });
  });
  after(async () => {
    await subscriber?.endAsync(true);
    await broker?.dispose();
  });

  function waitReceived(topic: string, timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!received.includes(topic)) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        const near = received.slice(-3).map((t) => JSON.stringify(printableTopic(t)));
        reject(new Error(`${JSON.stringify(printableTopic(topic))} was not received intact (last: ${near})`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  }

  for (const protocol of [5, 4] as const) {
    test(`every name it accepts is published and received intact (MQTT ${protocol}, property)`, async () => {
      const publisher = await client(broker, protocol, `topic-publisher-${protocol}`);
      try {
        await fc.assert(
          fc.asyncProperty(topicArbitrary(), async (topic) => {
            fc.pre(topicNameProblem(topic) === undefined);
            await publisher.publishAsync(topic, "x", { qos: 1 });
            await waitReceived(topic);
          }),
          { numRuns: 150 },
        );
      } finally {
        await publisher.endAsync(true);
      }
    });
  }

  test("the control characters it refuses make mosquitto drop the publisher's connection (property)", async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.integer({ min: 0x01, max: 0x1f }), fc.integer({ min: 0x7f, max: 0x9f })),
        fc.constantFrom(5, 4),
        async (point, protocol) => {
          const topic = `a/${String.fromCharCode(point)}/b`;
          assert.ok(topicNameProblem(topic) !== undefined, "refused");
          const publisher = await client(broker, protocol, `topic-bad-${++n}`);
          const closed = new Promise<string>((resolve) => publisher.once("close", () => resolve("closed")));
          publisher.publish(topic, "x", { qos: 1 });
          const outcome = await Promise.race([
            closed,
            new Promise<string>((resolve) => setTimeout(() => resolve("still connected after 5 s"), 5000)),
          ]);
          await publisher.endAsync(true);
          assert.equal(outcome, "closed", `U+${point.toString(16)} over MQTT ${protocol}`);
        },
      ),
      { numRuns: 12 },
    );
  });
});

/** Topic-like strings: mostly valid characters, with now and then one that is not (a wildcard, a control …). */
function topicArbitrary(): fc.Arbitrary<string> {
  const valid = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(..."abcxyz019/-_. ~:@!") },
    { weight: 2, arbitrary: fc.integer({ min: 0xa0, max: 0xd7ff }).map((p) => String.fromCodePoint(p)) },
    { weight: 1, arbitrary: fc.integer({ min: 0xe000, max: 0xfffd }).map((p) => String.fromCodePoint(p)) },
    { weight: 1, arbitrary: fc.integer({ min: 0x10000, max: 0x10fffd }).map((p) => String.fromCodePoint(p)) },
  );
  const invalid = fc.oneof(
    fc.constantFrom("+", "#", "\u0000", "\ufffe", "\uffff", "$"),
    fc.integer({ min: 0x01, max: 0x1f }).map((p) => String.fromCharCode(p)),
    fc.integer({ min: 0x7f, max: 0x9f }).map((p) => String.fromCharCode(p)),
    fc.integer({ min: 0xd800, max: 0xdfff }).map((p) => String.fromCharCode(p)),
    fc.integer({ min: 0xfdd0, max: 0xfdef }).map((p) => String.fromCharCode(p)),
  );
  return fc
    .array(fc.oneof({ weight: 30, arbitrary: valid }, { weight: 1, arbitrary: invalid }), {
      minLength: 0,
      maxLength: 40,
    })
    .map((parts) => parts.join(""));
}

function client(broker: MosquittoBroker, protocol: 4 | 5, clientId: string): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = connect({
      host: broker.host,
      port: broker.port,
      protocolVersion: protocol,
      clientId,
      reconnectPeriod: 0,
    });
    c.once("connect", () => resolve(c));
    c.once("error", reject);
  });
}
