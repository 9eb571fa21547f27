/**
 * What the MQTT session connects with: the MQTT.js options of the agent's persistent session (MQTT 5 Clean
 * Start 0 + Session Expiry, or 3.1.1 clean session 0; the Last Will on the status topic; no reconnecting and no
 * re-sending by MQTT.js itself), and the throw-away probe that asks whether the broker accepts a CONNECT
 * without the Last Will (`refusal.ts`). One node of `broker.urls` per connection (`nodes.ts` picks it).
 */
import { readFileSync } from "node:fs";
import mqtt, { type IClientOptions } from "mqtt";
import type { Static } from "typebox";
import type { BrokerSettings } from "../config.ts";
import { NoResendStore } from "./in_flight.ts";

export interface SessionSettings {
  broker: Static<typeof BrokerSettings>;
  clientId: string;
  /** The Last Will (retained, QoS 1) on the agent's status topic, for the protocol version of the session. */
  will(protocol: 4 | 5): { topic: string; payload: string };
}

/** The Last Will as MQTT.js takes it; made afresh before every attempt, so that it says what is true then. */
export function lastWill(settings: SessionSettings, protocol: 4 | 5): NonNullable<IClientOptions["will"]> {
  const will = settings.will(protocol);
  return { ...will, payload: Buffer.from(will.payload), qos: 1, retain: true };
}

/**
 * The options for one connection to `node` (a URL of `broker.urls`; default `broker.url`, the first): every node
 * gets the same client id, persistent session, Will and credentials, so that a cluster hands the session over.
 */
export function clientOptions(
  settings: SessionSettings,
  protocol: 4 | 5,
  node: string = settings.broker.url,
): IClientOptions {
  const { broker } = settings;
  const url = new URL(node);
  const tls = url.protocol === "mqtts:" || url.protocol === "ssl:";
  const result: IClientOptions = {
    host: url.hostname,
    port: Number(url.port || (tls ? 8883 : 1883)),
    protocol: tls ? "mqtts" : "mqtt",
    protocolVersion: protocol,
    clientId: settings.clientId,
    clean: false,
    keepalive: broker.keepaliveSeconds,
    // The session schedules its own attempts, with backoff (`reconnect.ts`); MQTT.js's fixed period is off.
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    resubscribe: false,
    queueQoSZero: false,
    writeCache: false,
    // Never re-sends unacknowledged publishes by itself after a reconnect: the outbox decides (`in_flight.ts`).
    outgoingStore: new NoResendStore(),
    will: lastWill(settings, protocol),
    rejectUnauthorized: broker.rejectUnauthorized,
  };
  if (protocol === 5) result.properties = { sessionExpiryInterval: broker.sessionExpirySeconds };
  if (broker.username !== undefined) result.username = broker.username;
  if (broker.password !== undefined) result.password = broker.password;
  if (broker.ca) result.ca = readFileSync(broker.ca);
  if (broker.cert) result.cert = readFileSync(broker.cert);
  if (broker.key) result.key = readFileSync(broker.key);
  return result;
}

/**
 * Whether the broker accepts this agent's CONNECT without its Last Will: a throw-away session (client id
 * `<clientId>-probe`, clean, no Will, no subscription) that ends as soon as the CONNACK says yes or no. The
 * agent's own persistent session is not touched.
 */
export function acceptsWithoutWill(
  settings: SessionSettings,
  protocol: 4 | 5,
  node: string = settings.broker.url,
): Promise<boolean> {
  const { will: _will, properties: _properties, ...rest } = clientOptions(settings, protocol, node);
  const probe = mqtt.connect({
    ...rest,
    clientId: `${settings.clientId}-probe`,
    clean: true,
    reconnectPeriod: 0,
  });
  return new Promise((resolve) => {
    let settled = false;
    const done = (accepted: boolean) => {
      if (settled) return;
      settled = true;
      probe.end(true);
      resolve(accepted);
    };
    probe.on("connect", () => done(true));
    probe.on("error", () => done(false));
    probe.on("close", () => done(false));
  });
}
