/**
 * Broker node rotation (pure, `agent/transport/nodes.ts`): the first node first, the next one after every lost
 * connection or failed attempt, round robin, one node staying put; and the reconnect schedule growing its step
 * once per round of nodes (`reconnect.ts`).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { BrokerNodes } from "../../agent/transport/nodes.ts";
import { ReconnectSchedule } from "../../agent/transport/reconnect.ts";

const urls = ["mqtt://10.0.0.1:1883", "mqtt://10.0.0.2:1883", "mqtts://10.0.0.3:8883"];

test("the session starts on the first node and moves to the next one after each end, round robin", () => {
  const nodes = new BrokerNodes(urls);
  assert.equal(nodes.count, 3);
  assert.deepEqual(nodes.current, { url: urls[0], printable: urls[0], index: 0, moved: false });
  const visited = Array.from({ length: 4 }, () => nodes.after());
  assert.deepEqual(
    visited.map((node) => [node.index, node.moved]),
    [
      [1, true],
      [2, true],
      [0, true],
      [1, true],
    ],
  );
  assert.equal(nodes.current.url, urls[1]);
});

test("with one node every attempt goes to it, and nothing says it moved", () => {
  const nodes = new BrokerNodes(["mqtt://127.0.0.1:1883"]);
  for (let i = 0; i < 3; i++) assert.deepEqual(nodes.after(), { ...nodes.current, moved: false });
});

test("a node named with a user prints without it; no nodes at all is refused with what to give", () => {
  const nodes = new BrokerNodes(["mqtt://agent@broker-1:1883", "mqtt://agent@broker-2:1883"]);
  assert.equal(nodes.after().printable, "mqtt://***@broker-2:1883");
  assert.throws(() => new BrokerNodes([]), /broker\.urls is empty: give one URL at least/);
});

test("with three nodes the reconnect delay doubles once per round of three failures", () => {
  const schedule = new ReconnectSchedule({ firstMs: 1000, maxMs: 60_000, random: () => 0.5, nodes: 3 });
  const delays = Array.from({ length: 9 }, () => schedule.next({ publishesLost: false }).delayMs);
  assert.deepEqual(delays, [1000, 1000, 1000, 2000, 2000, 2000, 4000, 4000, 4000]);
});
