/**
 * The inbound path (`agent/transport/inbound.ts`) against a scripted MQTT 5 server (mqtt-packet, MQTT.js's own
 * codec, over real TCP) that sends a burst of QoS 1 PUBLISH packets in one write and records every PUBACK:
 * the next message is handed over once the previous one says `taken`, before its decision is durable; each PUBACK
 * waits for its handler and they go out in arrival order (MQTT 5 §4.6 [MQTT-4.6.0-2]); a message that never says
 * `taken` holds the next back; at most `MAX_UNACKED` are held (MQTT.js stops reading); and nothing of a closed
 * connection is acknowledged on the next one.
 *
 * "Not yet" is checked without timers: after a round trip through the server (a QoS 0 publish of the client that
 * the server reports), or by the order in which events happened.
 */
import assert from "node:assert/strict";
import { createServer, type Socket } from "node:net";
import { test } from "node:test";
import * as packets from "mqtt-packet";
import { createLogger } from "../../agent/log.ts";
import { MAX_UNACKED } from "../../agent/transport/inbound.ts";
import { connectTransport } from "../../agent/transport/mqtt.ts";
import type { IncomingMessage, Transport } from "../../agent/transport/port.ts";

const V5 = { protocolVersion: 5 } as const;
const PLANS = "idem/vm-1/plans";

interface Handed {
  message: IncomingMessage;
  resolve(): void;
}

/** A scripted server and a transport connected to it; `handedOver` fills as the transport calls `onPlan`. */
async function rig(t: { after(fn: () => Promise<void>): void }, options: { take: boolean }) {
  const pubacks: number[][] = []; // per connection
  const pings: Array<() => void> = [];
  const ackWaiters: Array<() => void> = [];
  const connections: Socket[] = [];
  const sessions: Array<() => void> = [];
  const server = createServer((socket) => {
    const acks: number[] = [];
    pubacks.push(acks);
    connections.push(socket);
    const parser = packets.parser(V5);
    parser.on("packet", (packet) => {
      if (packet.cmd === "connect") {
        socket.write(packets.generate({ cmd: "connack", reasonCode: 0, sessionPresent: false }, V5));
      } else if (packet.cmd === "subscribe") {
        const granted = packet.subscriptions.map((s) => s.qos);
        socket.write(packets.generate({ cmd: "suback", messageId: packet.messageId as number, granted }, V5));
      } else if (packet.cmd === "puback") {
        acks.push(packet.messageId as number);
        for (const waiter of ackWaiters.splice(0)) waiter();
      } else if (packet.cmd === "publish" && packet.topic === "ping") {
        pings.shift()?.();
      }
    });
    socket.on("data", (data) => parser.parse(data));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === "object");
  const handedOver: Handed[] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const lines: string[] = [];
  const transport: Transport = connectTransport({
    broker: {
      url: `mqtt://127.0.0.1:${address.port}`,
      protocol: 5,
      rejectUnauthorized: true,
      keepaliveSeconds: 30,
      sessionExpirySeconds: 3600,
      reconnectSeconds: 0.1,
    },
    agentId: "vm-1",
    clientId: "idem-vm-1",
    plansTopic: PLANS,
    will: () => ({ topic: "idem/vm-1/status", payload: "{}" }),
    log: createLogger({ level: "debug", write: (line) => void lines.push(line) }),
    onPlan: (message) => {
      const { promise, resolve } = Promise.withResolvers<void>();
      handedOver.push({ message, resolve });
      if (options.take) message.taken?.();
      for (const waiter of [...waiters]) {
        if (handedOver.length >= waiter.count) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
      return promise;
    },
    onReady: () => sessions.shift()?.(),
    onFatal: (error) => lines.push(`fatal ${error.message}`),
  });
  t.after(async () => {
    for (const socket of connections) socket.destroy();
    await transport.close();
    await new Promise((resolve) => server.close(resolve));
  });
  return {
    transport,
    pubacks,
    handedOver,
    lines,
    /** Resolves once the session is ready on the next connection. */
    ready: () => new Promise<void>((resolve) => sessions.push(resolve)),
    /** Resolves once `count` messages were handed over. */
    handed: (count: number) =>
      handedOver.length >= count
        ? Promise.resolve()
        : new Promise<void>((resolve) => waiters.push({ count, resolve })),
    /** A round trip: the client publishes (QoS 0), the server reports it. */
    roundTrip: () => {
      const { promise, resolve } = Promise.withResolvers<void>();
      pings.push(resolve);
      transport.publish("ping", "", { qos: 0 });
      return promise;
    },
    /** The server drops the last connection (no DISCONNECT). */
    drop: () => connections.at(-1)?.destroy(),
    /** The server sends `ids` as QoS 1 PUBLISH packets on the last connection, in one write. */
    burst: (ids: number[], dup = false) => {
      const socket = connections.at(-1) as Socket;
      const bytes = ids.map((messageId) =>
        packets.generate(
          {
            cmd: "publish",
            topic: PLANS,
            payload: `plan ${messageId}`,
            qos: 1,
            messageId,
            dup,
            retain: false,
          },
          V5,
        ),
      );
      socket.write(Buffer.concat(bytes));
    },
    /** Resolves once the last connection received `count` PUBACKs. */
    acked: async (count: number) => {
      const acks = pubacks.at(-1) as number[];
      while (acks.length < count) await new Promise<void>((resolve) => ackWaiters.push(resolve));
      return [...acks];
    },
  };
}

test("the next message is handed over before the previous one is durable; PUBACKs follow each handler, in arrival order", {
  timeout: 30_000,
}, async (t) => {
  const r = await rig(t, { take: true });
  await r.ready();
  r.burst([1, 2, 3, 4, 5]);
  await r.handed(5);
  await r.roundTrip();
  assert.deepEqual(r.pubacks.at(-1), [], "nothing acknowledged before its handler resolved");
  const resolve = (id: number) => r.handedOver[id - 1]?.resolve();
  resolve(3);
  resolve(1);
  assert.deepEqual(await r.acked(1), [1], "3 waits for 2 (arrival order)");
  resolve(5);
  resolve(2);
  assert.deepEqual(await r.acked(3), [1, 2, 3]);
  await r.roundTrip();
  assert.deepEqual(r.pubacks.at(-1), [1, 2, 3], "5 waits for 4");
  resolve(4);
  assert.deepEqual(await r.acked(5), [1, 2, 3, 4, 5]);
});

test("a message that never says taken holds the next one back until it is settled", {
  timeout: 30_000,
}, async (t) => {
  const r = await rig(t, { take: false });
  await r.ready();
  r.burst([1, 2]);
  await r.handed(1);
  await r.roundTrip();
  assert.equal(r.handedOver.length, 1, "the second waits for the first");
  r.handedOver[0]?.resolve();
  await r.handed(2);
  assert.deepEqual(await r.acked(1), [1]);
  r.handedOver[1]?.resolve();
  assert.deepEqual(await r.acked(2), [1, 2]);
});

test(`at most ${MAX_UNACKED} messages are held unacknowledged: MQTT.js stops reading until the oldest is acknowledged`, {
  timeout: 30_000,
}, async (t) => {
  const r = await rig(t, { take: true });
  await r.ready();
  const ids = Array.from({ length: MAX_UNACKED + 6 }, (_, i) => i + 1);
  r.burst(ids);
  await r.handed(MAX_UNACKED);
  await r.roundTrip();
  assert.equal(r.handedOver.length, MAX_UNACKED, "the rest stay unread");
  r.handedOver[0]?.resolve();
  await r.handed(MAX_UNACKED + 1);
  assert.deepEqual(await r.acked(1), [1]);
  for (const handed of r.handedOver) handed.resolve();
  await r.handed(ids.length);
  for (const handed of r.handedOver) handed.resolve();
  assert.deepEqual(await r.acked(ids.length), ids);
});

test("messages of a closed connection are never acknowledged on the next one; their re-deliveries are", {
  timeout: 30_000,
}, async (t) => {
  const r = await rig(t, { take: true });
  await r.ready();
  r.burst([1, 2, 3]);
  await r.handed(3);
  r.handedOver[0]?.resolve();
  assert.deepEqual(await r.acked(1), [1]);
  // The broker goes away with 2 and 3 unacknowledged; their handlers end once the next connection is up.
  const old = r.handedOver.slice(1);
  for (const handed of old) assert.equal(handed.message.signal?.aborted, false);
  const again = r.ready();
  r.drop();
  await again;
  for (const handed of old) assert.equal(handed.message.signal?.aborted, true, "let go of");
  for (const handed of old) handed.resolve();
  await r.roundTrip();
  assert.equal(r.pubacks.length, 2, "a second connection");
  assert.deepEqual(r.pubacks.at(-1), [], "nothing of the old connection is acknowledged on this one");
  r.burst([2, 3], true);
  await r.handed(5);
  assert.equal(r.handedOver[3]?.message.dup, true);
  for (const handed of r.handedOver.slice(3)) handed.resolve();
  assert.deepEqual(await r.acked(2), [2, 3]);
});
