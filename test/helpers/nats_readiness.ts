/**
 * Whether a node of a NATS 2.9 cluster (`nats_cluster.ts`) serves MQTT sessions now, asked the three ways a test
 * needs, each answering `undefined` when ready or a reason (for the failure message) when not:
 *
 * - {@link metaLeaderOf}: the JetStream meta leader the node sees (`GET /jsz`, `meta_cluster.leader`);
 * - {@link serverHealth}: `GET /healthz?js-server-only=true` — the server accepts connections, JetStream is on, it
 *   has contact with the meta leader and is current with it. Not the plain `/healthz`, which also wants every
 *   stream and consumer replica on the node current: a node that rejoins after `kill -9` answered 503
 *   "JetStream consumer '$G > $MQTT_msgs > …' is not current" for 45 s and more (measured with 2.9.10: the idle
 *   consumers of MQTT sessions do not catch up until they get traffic), while it served MQTT sessions after
 *   0.7 s. `js-server-only` ("do not check further accounts, streams and consumers") is in 2.9's `HealthzOptions`;
 * - {@link mqttRoundTrip}: what a test needs of the node itself — a clean MQTT 3.1.1 session on it is accepted, a
 *   QoS 1 subscription is granted, and a QoS 1 message published through another node reaches it (routes and
 *   the JetStream-backed MQTT streams work).
 */
import { randomUUID } from "node:crypto";
import { connect, type MqttClient } from "mqtt";

/** What the checks need of a node: its loopback ports. */
export interface NodeAddress {
  readonly name: string;
  readonly host: string;
  readonly ports: { readonly mqtt: number; readonly monitor: number };
}

/** How long one MQTT round trip may take before it counts as not ready (it is tried again), ms. */
const ROUND_TRIP_MS = 10_000;

/** The JetStream meta leader `node` sees, or undefined when it sees none (or cannot be asked). */
export async function metaLeaderOf(node: NodeAddress): Promise<string | undefined> {
  try {
    const response = await fetch(`http://${node.host}:${node.ports.monitor}/jsz`);
    const body = (await response.json()) as { meta_cluster?: { leader?: string } };
    return body.meta_cluster?.leader || undefined;
  } catch {
    return undefined;
  }
}

/** `/healthz?js-server-only=true` of `node`: undefined when 200, else its status and answer. */
export async function serverHealth(node: NodeAddress): Promise<string | undefined> {
  try {
    const response = await fetch(`http://${node.host}:${node.ports.monitor}/healthz?js-server-only=true`);
    const text = await response.text();
    return response.ok
      ? undefined
      : `/healthz?js-server-only=true answered ${response.status} ${text.trim()}`;
  } catch (error) {
    return `/healthz cannot be asked: ${(error as Error).message}`;
  }
}

/**
 * A QoS 1 message published through `via` (another running node, or `node` itself) reaches a clean session
 * subscribed on `node`: undefined when it did within {@link ROUND_TRIP_MS}, else what went wrong.
 */
export async function mqttRoundTrip(node: NodeAddress, via: NodeAddress): Promise<string | undefined> {
  const topic = `idem-probe/${randomUUID()}`;
  const clients: MqttClient[] = [];
  const open = (target: NodeAddress, role: string) => {
    const client = connect({
      host: target.host,
      port: target.ports.mqtt,
      protocolVersion: 4,
      clean: true,
      clientId: `probe-${role}-${randomUUID().slice(0, 8)}`,
      reconnectPeriod: 0,
      connectTimeout: ROUND_TRIP_MS,
    });
    clients.push(client);
    return new Promise<MqttClient>((resolve, reject) => {
      client.once("connect", () => resolve(client));
      // Listeners stay on: MQTT.js may report more than one error, and an unheard one would throw.
      client.on("error", reject);
      client.on("close", () =>
        reject(new Error(`${target.name} closed the ${role} session before its CONNACK`)),
      );
    });
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no round trip within ${ROUND_TRIP_MS} ms`)), ROUND_TRIP_MS);
  });
  const trip = async () => {
    const subscriber = await open(node, "subscriber");
    const granted = await subscriber.subscribeAsync(topic, { qos: 1 });
    if (granted[0]?.qos !== 1)
      throw new Error(`the QoS 1 subscription was granted ${JSON.stringify(granted)}`);
    const arrived = new Promise<void>((resolve) => subscriber.once("message", () => resolve()));
    const publisher = via === node ? subscriber : await open(via, "publisher");
    await publisher.publishAsync(topic, "ready?", { qos: 1 });
    await arrived;
  };
  try {
    await Promise.race([trip(), timeout]);
    return undefined;
  } catch (error) {
    return `MQTT round trip through ${via.name} to a subscriber on ${node.name}: ${(error as Error).message}`;
  } finally {
    clearTimeout(timer);
    for (const client of clients) client.end(true);
  }
}

/**
 * What `node` says of the JetStream consumers of the MQTT message stream (`/jsz?consumers=true`), one line each:
 * name, leader, delivered and acknowledged stream sequences, pending, awaiting acknowledgement, redelivered. For a
 * failure message: whether a message the broker acknowledged is still to be delivered, or was skipped.
 */
export async function mqttConsumers(node: NodeAddress): Promise<string> {
  interface Consumer {
    name: string;
    cluster?: { leader?: string };
    delivered?: { stream_seq?: number };
    ack_floor?: { stream_seq?: number };
    num_pending?: number;
    num_ack_pending?: number;
    num_redelivered?: number;
  }
  interface Stream {
    name: string;
    state?: { messages?: number; last_seq?: number };
    consumer_detail?: Consumer[];
  }
  try {
    const response = await fetch(`http://${node.host}:${node.ports.monitor}/jsz?consumers=true`);
    const body = (await response.json()) as {
      account_details?: { stream_detail?: Stream[] }[];
    };
    const streams = (body.account_details ?? []).flatMap((a) => a.stream_detail ?? []);
    return streams
      .filter((s) => s.name.startsWith("$MQTT_msgs"))
      .flatMap((s) => [
        `stream ${s.name}: messages ${s.state?.messages} last ${s.state?.last_seq}`,
        ...(s.consumer_detail ?? []).map(
          (c) =>
            `  consumer ${c.name} leader ${c.cluster?.leader}: delivered ${c.delivered?.stream_seq} acked ${c.ack_floor?.stream_seq} ` +
            `pending ${c.num_pending} ack-pending ${c.num_ack_pending} redelivered ${c.num_redelivered}`,
        ),
      ])
      .join("\n");
  } catch (error) {
    return `(no answer: ${(error as Error).message})`;
  }
}
