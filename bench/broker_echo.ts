/**
 * The broker's own share of a round trip (issue 11's floor): what no agent on that broker can go below. An echo
 * client connected as the agent is (MQTT 3.1.1, persistent session, subscribed at QoS 1 to its plans topic,
 * Nagle off) answers each plan with a result-sized reply at QoS 1; an engine client (as bench/idem_driver.ts)
 * publishes the bench's plan and waits for the reply. Per round trip: two publishes through the broker and the
 * two clients' MQTT handling, nothing else (no journal, no script).
 *
 *   brokerRoundTripMs = median over `n` sequential round trips (after `WARMUP` unmeasured ones), ms
 *
 * The echo's session is removed at the end (a clean reconnect), so the broker keeps nothing of it.
 */
import { connect, type MqttClient } from "mqtt";
import { benchPlan } from "./idem_driver.ts";
import { connectClient, pct } from "./lab.ts";

/** Round trips made before the measured ones: connections and the broker's queues warmed up. */
const WARMUP = 20;
/** The reply's Body, bytes: the reply is then ≈ 540 B, about an idem result for the bench's plan. */
const REPLY_BODY_BYTES = 480;

/** Median round trip through the MQTT broker on 127.0.0.1:`port`, ms. */
export async function measureBrokerRoundTrip(port: number, n = 200): Promise<number> {
  const id = `bench-echo-${Math.random().toString(36).slice(2, 8)}`;
  const plans = `idem/${id}/plans`;
  const results = `idem/${id}/results`;
  const echo = await connectPersistent(port, `idem-${id}`);
  const engine = await connectClient(port, `bench-echo-engine-${id}`, { protocolVersion: 4, noDelay: true });
  try {
    await echo.subscribeAsync(plans, { qos: 1 });
    await engine.subscribeAsync(results, { qos: 1 });
    const body = "x".repeat(REPLY_BODY_BYTES);
    echo.on("message", (_topic, payload) => {
      const plan = JSON.parse(payload.toString("utf8")) as { ID: string };
      echo.publish(results, JSON.stringify({ SourceID: plan.ID, ErrorCode: 0, Body: body }), { qos: 1 });
    });
    let arrived: (() => void) | undefined;
    engine.on("message", () => arrived?.());
    const times: number[] = [];
    for (let i = 0; i < WARMUP + n; i++) {
      const got = new Promise<void>((resolve) => {
        arrived = resolve;
      });
      const sent = performance.now();
      engine.publish(plans, JSON.stringify(benchPlan()), { qos: 1 });
      await got;
      if (i >= WARMUP) times.push(performance.now() - sent);
    }
    return pct(times, 50);
  } finally {
    await engine.endAsync();
    await echo.endAsync();
    // The persistent session goes: a clean session under the same client id replaces it.
    await (await connectPersistent(port, `idem-${id}`, true)).endAsync();
  }
}

/** A client as the agent connects to a 3.1.1 broker: persistent session (`clean` false) unless `clean`. */
function connectPersistent(port: number, clientId: string, clean = false): Promise<MqttClient> {
  const client = connect({
    host: "127.0.0.1",
    port,
    protocolVersion: 4,
    clientId,
    clean,
    reconnectPeriod: 0,
  });
  return new Promise((resolve, reject) => {
    client.once("connect", () => {
      (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
      resolve(client);
    });
    client.once("error", reject);
  });
}
