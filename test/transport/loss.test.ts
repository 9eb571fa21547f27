/**
 * Whose fault a reply lost with its connection is (pure rules of `agent/transport/loss.ts`): the agent's own
 * close, a keepalive timeout, a network error and a DISCONNECT that says the server goes away are never the
 * reply's; a DISCONNECT that blames a packet is, without asking the node; anything else asks the node once, and
 * only a node that takes a new connection at once makes it the reply's. The end-to-end side (a broker killed
 * three times with the reply in flight) is test/transport/outbox_broker_crash.test.ts.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type ConnectionEnd,
  judgeEnd,
  LostConnection,
  PACKET_REFUSALS,
  SERVER_LEAVES,
} from "../../agent/transport/loss.ts";

const closedByBroker: ConnectionEnd = { byAgent: false, keepaliveTimedOut: false };

test("the agent's own close, a keepalive timeout and a network error are never the reply's", () => {
  // Each of them wins over a DISCONNECT that would otherwise blame the packet.
  const blaming = { ...closedByBroker, disconnectReason: 0x95 };
  assert.equal(judgeEnd({ ...blaming, byAgent: true })?.reply, false);
  assert.equal(judgeEnd({ ...blaming, keepaliveTimedOut: true })?.reply, false);
  for (const errorCode of ["ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENETDOWN"]) {
    assert.equal(judgeEnd({ ...blaming, errorCode })?.reply, false, errorCode);
  }
});

test("a DISCONNECT reason code decides by itself: a packet refused is the reply's, a server leaving is not", () => {
  for (const [code, name] of PACKET_REFUSALS) {
    const verdict = judgeEnd({ ...closedByBroker, disconnectReason: code });
    assert.equal(verdict?.reply, true, name);
    assert.match(verdict?.why ?? "", new RegExp(`DISCONNECT 0x${code.toString(16)} \\(${name}\\)`));
  }
  for (const [code, name] of SERVER_LEAVES) {
    assert.equal(judgeEnd({ ...closedByBroker, disconnectReason: code })?.reply, false, name);
  }
});

test("a plain close, a reset, or a DISCONNECT that blames nothing in particular asks the node", () => {
  assert.equal(judgeEnd(closedByBroker), undefined);
  assert.equal(judgeEnd({ ...closedByBroker, errorCode: "ECONNRESET" }), undefined);
  assert.equal(judgeEnd({ ...closedByBroker, errorCode: "EPIPE" }), undefined);
  assert.equal(judgeEnd({ ...closedByBroker, disconnectReason: 0x80 }), undefined);
});

test("asked, a node that takes a new connection makes it the reply's; one that does not, or a probe that throws, does not", async () => {
  const up = new LostConnection({ ...closedByBroker, errorCode: "ECONNRESET" }, async () => true);
  assert.equal((await up.verdict()).reply, true);
  const down = new LostConnection(closedByBroker, async () => false);
  assert.equal((await down.verdict()).reply, false);
  const broken = new LostConnection(closedByBroker, () => Promise.reject(new Error("probe failed")));
  assert.equal((await broken.verdict()).reply, false);
});

test("the node is asked at most once per connection, and only when the end does not decide", async () => {
  let asked = 0;
  const nodeUp = async () => {
    asked += 1;
    return true;
  };
  const connection = new LostConnection(closedByBroker, nodeUp);
  const [first, second] = await Promise.all([connection.verdict(), connection.verdict()]);
  assert.equal(first, second);
  assert.equal(asked, 1);
  const decided = new LostConnection({ ...closedByBroker, keepaliveTimedOut: true }, nodeUp);
  assert.equal((await decided.verdict()).reply, false);
  assert.equal(asked, 1, "a keepalive timeout needs no probe");
});
