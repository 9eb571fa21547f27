/**
 * The broker's own share of a round trip (issue 11's floor): what no agent on that broker can go below. An echo
 * client connected as the agent is (MQTT 3.1.1, persistent session, subscribed at QoS 1 to its plans topic,
 * Nagle off) answers each plan with a result-sized reply at QoS 1; an engine client (as bench/idem_driver.ts)
 * publishes the bench's plan and waits for the reply with that plan's ID. Per round trip: two publishes through
 * the broker and the two clients' MQTT handling, nothing else (no journal, no script).
 *
 *   brokerRoundTripMs = median over `n` sequential round trips (after `WARMUP` unmeasured ones), ms
 *
 * Rejects, saying why, when a client cannot connect or a reply does not come within {@link REPLY_TIMEOUT_MS}.
 * The echo's persistent session is replaced by a clean one at the end, so the broker keeps no queue of it.
 */
import type { MqttClient } from "mqtt";
import { benchPlan } from "./idem_driver.ts";
import { connectClient, pct } from "./lab.ts";

/** Round trips made before the measured ones: connections and the broker's queues warmed up. */
const WARMUP = 20;
/** The reply's Body, bytes: the reply is then ≈ 550 B, about an idem result for the bench's plan. */
const REPLY_BODY_BYTES = 480;
/** How long a reply may take before the measurement gives up, ms (a round trip takes about one). */
const REPLY_TIMEOUT_MS = 10_000;

/** Median round trip through the MQTT broker on 127.0.0.1:`port`, ms. */
export async function measureBrokerRoundTrip(port: number, n = 200): Promise<number> {
  const id = `bench-echo-${Math.random().toString(36).slice(2, 8)}`;
  const plans = `idem/${id}/plans`;
  const results = `idem/${id}/results`;
  const opened: MqttClient[] = [];
  try {
    const echo = await connectClient(port, `idem-${id}`, { protocolVersion: 4, noDelay: true, clean: false });
    opened.push(echo);
    // After the CONNACK a lost connection shows as a reply that does not come (REPLY_TIMEOUT_MS).
    echo.on("error", () => {});
    const engine = await connectClient(port, `bench-echo-engine-${id}`, {
      protocolVersion: 4,
      noDelay: true,
    });
    opened.push(engine);
    engine.on("error", () => {});
    await echo.subscribeAsync(plans, { qos: 1 });
    await engine.subscribeAsync(results, { qos: 1 });
    const body = "x".repeat(REPLY_BODY_BYTES);
    echo.on("message", (_topic, payload) => {
      const plan = JSON.parse(payload.toString("utf8")) as { ID: string };
      echo.publish(results, JSON.stringify({ SourceID: plan.ID, ErrorCode: 0, Body: body }), { qos: 1 });
    });
    let awaited: { id: string; arrived: () => void } | undefined;
    engine.on("message", (_topic, payload) => {
      const reply = JSON.parse(payload.toString("utf8")) as { SourceID: string };
      if (reply.SourceID === awaited?.id) awaited.arrived();
    });
    const times: number[] = [];
    for (let i = 0; i < WARMUP + n; i++) {
      const plan = benchPlan();
      const text = JSON.stringify(plan);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const got = new Promise<void>((resolve, reject) => {
        awaited = { id: plan.ID, arrived: resolve };
        timer = setTimeout(
          () => reject(new Error(`No echo through the broker on port ${port} within ${REPLY_TIMEOUT_MS} ms`)),
          REPLY_TIMEOUT_MS,
        );
      });
      const sent = performance.now();
      engine.publish(plans, text, { qos: 1 });
      await got.finally(() => clearTimeout(timer));
      if (i >= WARMUP) times.push(performance.now() - sent);
    }
    return pct(times, 50);
  } finally {
    for (const client of opened) await client.endAsync(true).catch(() => {});
    // The echo's persistent session goes: a clean session under the same client id replaces it.
    await connectClient(port, `idem-${id}`, { protocolVersion: 4 })
      .then((clean) => clean.endAsync())
      .catch(() => {});
  }
}
