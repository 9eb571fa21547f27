import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { connect, type MqttClient } from "mqtt";
import { type MosquittoBroker, startBroker } from "./broker.ts";

let broker: MosquittoBroker;
const clients: MqttClient[] = [];

before(async () => {
  broker = await startBroker();
});

after(async () => {
  for (const client of clients) await client.endAsync(true).catch(() => {});
  await broker?.dispose();
});

function subscriber(clientId: string, onMessage: (payload: string) => void = () => {}): Promise<MqttClient> {
  const client = connect({
    host: broker.host,
    port: broker.port,
    protocolVersion: 5,
    clientId,
    clean: false,
    properties: { sessionExpiryInterval: 3600 },
    reconnectPeriod: 100,
  });
  clients.push(client);
  client.on("message", (_topic, payload) => onMessage(payload.toString()));
  return new Promise((resolve, reject) => {
    client.once("connect", () => resolve(client));
    client.once("error", reject);
  });
}

test("the test broker runs on its own free port, not the system's 1883", () => {
  assert.notEqual(broker.port, 1883);
  assert.ok(broker.pid !== undefined);
});

test("a QoS 1 message queued for a persistent session survives kill -9 of the broker", async () => {
  const sub = await subscriber("helper-sub");
  await sub.subscribeAsync("helper/queue", { qos: 1 });
  await sub.endAsync();

  const marker = `queued-${Date.now()}`;
  const pub = connect({ host: broker.host, port: broker.port, protocolVersion: 5, reconnectPeriod: 0 });
  clients.push(pub);
  await new Promise((resolve) => pub.once("connect", resolve));
  await pub.publishAsync("helper/queue", marker, { qos: 1 });
  await pub.endAsync();
  await broker.waitPersisted(marker);

  const killed = await broker.kill9();
  assert.equal(killed.signal, "SIGKILL");
  await broker.restart();

  const received = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error("The queued message was not delivered after restart")),
      10_000,
    );
    void subscriber("helper-sub", (payload) => {
      clearTimeout(timer);
      resolve(payload);
    });
  });
  assert.equal(received, marker);
});

test("stop() ends the broker by its PID with a clean exit", async () => {
  const exit = await broker.stop();
  assert.equal(broker.running, false);
  assert.ok(exit.code === 0 || exit.signal === "SIGTERM", JSON.stringify(exit));
  await broker.restart();
  assert.equal(broker.running, true);
});
