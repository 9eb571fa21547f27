/**
 * SPEC 3 `ReplyTo` / `replyTopics`: which reply topics a plan may ask for. The pure decision of `address()`:
 * inside the filters → that topic; outside them, an agent's plans/status/events topic (in either spelling a
 * `.`↔`/` rewriting broker routes alike), or not a topic name → refused, answered on `P/A/results`.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { resolveConfig } from "../../agent/config.ts";
import { address, replyScope } from "../../agent/pipeline/validate.ts";

const defaults = replyScope(resolveConfig({ agentId: "vm-1" }));
const narrow = replyScope(
  resolveConfig({ agentId: "vm-1", replyTopics: ["murano/+/results", "idem/vm-1/#"] }),
);

function topicFor(replyTo: unknown, scope = defaults, responseTopic?: string) {
  const plan = replyTo === undefined ? {} : { ReplyTo: replyTo };
  const message = responseTopic === undefined ? {} : { responseTopic };
  return address(plan, "p1", message, scope);
}

describe("with the default replyTopics (idem/+/results, idem/vm-1/#)", () => {
  test("the default scope is SPEC 3's", () => {
    assert.deepEqual(defaults.filters, ["idem/+/results", "idem/vm-1/#"]);
    assert.equal(defaults.defaultTopic, "idem/vm-1/results");
  });
  for (const topic of ["idem/vm-1/results", "idem/vm-2/results", "idem/vm-1/engine/a", "idem/vm-1"]) {
    test(`allows ${topic}`, () => {
      const addressed = topicFor(topic);
      assert.equal(addressed.problem, undefined);
      assert.equal(addressed.target.topic, topic);
    });
  }
  test("no ReplyTo: the default topic", () => {
    assert.deepEqual(topicFor(undefined), { target: { topic: "idem/vm-1/results", sourceId: "p1" } });
  });
  const refused: Array<[string, string, RegExp]> = [
    ["another agent's plans topic", "idem/vm-2/plans", /an agent's plans topic/],
    ["another agent's status topic", "idem/vm-2/status", /an agent's status topic/],
    ["its own plans topic", "idem/vm-1/plans", /an agent's plans topic/],
    ["its own status topic", "idem/vm-1/status", /an agent's status topic/],
    ["its own events topic", "idem/vm-1/events", /an agent's events topic/],
    ["its own control topic", "idem/vm-1/control", /an agent's control topic/],
    ["its answers to operators' control requests", "idem/vm-1/control/replies", /an agent's control topic/],
    ["those of a dotted agent spelt with dots", "idem.web.prod.control.replies", /an agent's control topic/],
    ["another agent's plans topic spelt with dots", "idem.vm-2.plans", /an agent's plans topic/],
    ["a dotted agent's plans topic spelt with slashes", "idem/web/prod/plans", /an agent's plans topic/],
    ["a topic outside the filters", "murano/engine/results", /matches none of the reply topics/],
    ["a deeper results topic", "idem/a/b/results", /matches none/],
    ["a wildcard", "idem/+/results", /wildcard/],
    ["a control character", "idem/vm-1/a\u0001b", /control character/],
    ["a $ topic", "$SYS/broker/x", /reserved for the broker/],
  ];
  for (const [what, topic, reason] of refused) {
    test(`refuses ${what}, answered on the default topic`, () => {
      const addressed = topicFor(topic);
      assert.match(addressed.problem ?? "allowed", reason);
      assert.match(addressed.problem ?? "", /^Cannot answer plan "p1" where it asks as its ReplyTo/);
      assert.deepEqual(addressed.target, { topic: "idem/vm-1/results", sourceId: "p1" });
    });
  }
  test("refuses a ReplyTo that is not a string", () => {
    assert.match(topicFor(42).problem ?? "", /not a string but number/);
  });
  test("an MQTT 5 Response Topic is held to the same filters", () => {
    assert.match(topicFor(undefined, defaults, "idem/vm-2/plans").problem ?? "", /its Response Topic/);
    assert.equal(topicFor(undefined, defaults, "idem/vm-2/results").target.topic, "idem/vm-2/results");
  });
});

describe("with replyTopics murano/+/results and idem/vm-1/#", () => {
  test("another agent's results topic is outside", () => {
    assert.match(topicFor("idem/vm-2/results", narrow).problem ?? "", /matches none/);
  });
  test("an engine's topic inside is allowed", () => {
    assert.equal(topicFor("murano/engine-a/results", narrow).target.topic, "murano/engine-a/results");
  });
  test("the agent's own status stays refused although idem/vm-1/# covers it", () => {
    assert.match(topicFor("idem/vm-1/status", narrow).problem ?? "", /an agent's status topic/);
  });
  test("the default topic is always allowed", () => {
    const only = replyScope(resolveConfig({ agentId: "vm-1", replyTopics: ["murano/#"] }));
    assert.equal(topicFor("idem/vm-1/results", only).problem, undefined);
  });
  test("a filter with a bad wildcard is refused at start", () => {
    assert.throws(
      () => resolveConfig({ agentId: "vm-1", replyTopics: ["idem/#/x"] }),
      /replyTopics.*"idem\/#\/x"/,
    );
  });
});
