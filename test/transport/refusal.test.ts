/**
 * The pure parts of the transport's decisions: which topic names are the same (RabbitMQ's `.`/`/` rewrite), what
 * a delivered message is, and when closed connections mean a broker that refuses the agent's topics.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { HANG_UPS_BEFORE_FATAL, HangUpCounter, isRefusalCode } from "../../agent/transport/refusal.ts";
import { route, sameTopic } from "../../agent/transport/topic.ts";

test("a topic delivered by RabbitMQ under its rewritten name is the same topic", () => {
  assert.ok(sameTopic("idem/web-1/prod/plans", "idem/web-1.prod/plans"));
  assert.ok(sameTopic("idem.web-1.prod.plans", "idem/web-1.prod/plans"));
  assert.ok(!sameTopic("idem/web-1.prod/results", "idem/web-1.prod/plans"));
  assert.ok(!sameTopic("idem/web-1/prod", "idem/web-1/prod/plans"));
});

test("only the agent's own status topic is status; anything else the session receives is a plan", () => {
  const status = "idem/web-1.prod/status";
  assert.equal(route("idem/web-1/prod/status", status), "status");
  assert.equal(route(status, status), "status");
  assert.equal(route("idem/web-1/prod/plans", status), "plan");
  assert.equal(route("something/else/entirely", status), "plan");
});

test("unexplained hang-ups before any session count; an error, a completed session or a later hang-up reset them", () => {
  const counter = new HangUpCounter();
  const hangUp = { stage: "connect", failed: false } as const;
  for (let i = 1; i < HANG_UPS_BEFORE_FATAL; i++) assert.equal(counter.closed(hangUp), false);
  assert.equal(counter.closed({ stage: "connect", failed: true }), false, "a network error or refused login");
  assert.equal(counter.inARow, 0);
  for (let i = 1; i < HANG_UPS_BEFORE_FATAL; i++) assert.equal(counter.closed(hangUp), false);
  assert.equal(counter.closed({ stage: "subscribe", failed: false }), true);
  counter.forgive();
  assert.equal(counter.inARow, 0);

  counter.ready();
  for (let i = 0; i < HANG_UPS_BEFORE_FATAL * 2; i++) {
    assert.equal(counter.closed(hangUp), false, "a broker that accepted the topics once is restarting");
  }
});

test("a SUBACK refuses at 0x80 and above only", () => {
  assert.ok(isRefusalCode(0x80));
  assert.ok(isRefusalCode(0x87));
  assert.ok(!isRefusalCode(1));
  assert.ok(!isRefusalCode(undefined));
});
