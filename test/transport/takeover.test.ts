/**
 * MQTT 5's DISCONNECT 0x8E "Session taken over", which none of the brokers at hand sends (mosquitto 2.0.11 just
 * closes the connection): a scripted MQTT 5 server (mqtt-packet, MQTT.js's own codec) that takes the session away
 * each time it is ready. The session must report the takeover, subscribe to its status topic on every connect,
 * and come back after longer and longer delays — never a reconnect battle.
 */
import assert from "node:assert/strict";
import { createServer, type Socket } from "node:net";
import { test } from "node:test";
import * as packets from "mqtt-packet";
import { createLogger } from "../../agent/log.ts";
import { connectTransport } from "../../agent/transport/mqtt.ts";
import type { Transport } from "../../agent/transport/port.ts";

const V5 = { protocolVersion: 5 } as const;

test("DISCONNECT 0x8E is reported as a takeover and backed off, with the status subscribed again on every connect", {
  timeout: 60_000,
}, async (t) => {
  const connects: number[] = [];
  const subscriptions: string[][] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    const parser = packets.parser(V5);
    const send = (packet: packets.Packet) => socket.write(packets.generate(packet, V5));
    parser.on("packet", (packet) => {
      if (packet.cmd === "connect") {
        connects.push(Date.now());
        send({ cmd: "connack", reasonCode: 0, sessionPresent: connects.length > 1 });
      } else if (packet.cmd === "subscribe") {
        subscriptions.push(packet.subscriptions.map((s) => s.topic));
        send({
          cmd: "suback",
          messageId: packet.messageId as number,
          granted: packet.subscriptions.map((s) => s.qos),
        });
      } else if (packet.cmd === "publish" && packet.qos === 1) {
        send({ cmd: "puback", messageId: packet.messageId as number, reasonCode: 0 });
      }
    });
    socket.on("data", (data) => parser.parse(data));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === "object");

  const lines: string[] = [];
  let takenOver = 0;
  let ready = 0;
  let transport: Transport | undefined;
  t.after(async () => {
    await transport?.close();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  const readies: Array<() => void> = [];
  transport = connectTransport({
    broker: {
      url: `mqtt://127.0.0.1:${address.port}`,
      protocol: 5,
      rejectUnauthorized: true,
      keepaliveSeconds: 30,
      sessionExpirySeconds: 3600,
      reconnectSeconds: 0.2,
    },
    agentId: "vm-1",
    clientId: "idem-vm-1",
    plansTopic: "idem/vm-1/plans",
    will: () => ({ topic: "idem/vm-1/status", payload: "{}" }),
    log: createLogger({ level: "debug", write: (line) => void lines.push(line) }),
    onPlan: async () => {},
    onReady: () => {
      ready++;
      readies.shift()?.();
    },
    onFatal: (error) => lines.push(`fatal ${error.message}`),
    onStatus: () => {},
    onTakenOver: () => void takenOver++,
  });
  const nextReady = () => new Promise<void>((resolve) => readies.push(resolve));

  // Four sessions, each taken over as soon as it is ready.
  for (let round = 1; round <= 4; round++) {
    await (ready >= round ? Promise.resolve() : nextReady());
    const [socket] = sockets;
    socket?.end(packets.generate({ cmd: "disconnect", reasonCode: 0x8e }, V5));
  }
  await nextReady();

  assert.equal(takenOver, 4, lines.join("\n"));
  assert.equal(lines.filter((line) => /level=warn event=session-taken-over\b/.test(line)).length, 4);
  assert.ok(
    lines.some((line) => /event=offline .*reason="session taken over/.test(line)),
    lines.join("\n"),
  );
  assert.deepEqual(
    subscriptions.map((topics) => topics.join(",")),
    ["idem/vm-1/status", "idem/vm-1/plans", ...Array(4).fill("idem/vm-1/status")],
    "status then plans on a new session; the status again on every connect of a present one",
  );
  const gaps = connects.slice(1).map((at, i) => at - (connects[i] as number));
  // 0.2 s, 0.4 s, 0.8 s, 1.6 s, each ±50 %, plus each session's own setup (the first one's is the longest: it
  // subscribes to both topics): the fourth (≥ 0.8 s) always longer than the first (≤ 0.3 s + setup).
  assert.ok((gaps[0] as number) >= 90, `backed off from the first takeover: ${gaps.join(", ")}`);
  assert.ok((gaps[3] as number) >= 790 && (gaps[3] as number) > (gaps[0] as number), gaps.join());
  assert.ok(!lines.some((line) => line.startsWith("fatal")), lines.join("\n"));
});
