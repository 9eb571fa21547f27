/**
 * The MQTT session: persistent (MQTT 5 Clean Start 0 + Session Expiry, or 3.1.1 clean session 0 when the
 * broker refuses 5), plans acknowledged only after `onPlan` resolves (its commit is durable), retained status
 * with a Last Will, and publishing that reports the broker's PUBACK.
 *
 * MQTT.js handles inbound packets one at a time and holds the PUBACK until `handleMessage`'s callback runs;
 * so nothing here ever awaits an outgoing publish while an incoming plan is unacknowledged.
 */
import { readFileSync } from "node:fs";
import mqtt, { type IClientOptions, type MqttClient, type Packet } from "mqtt";
import type { Static } from "typebox";
import type { BrokerSettings } from "../config.ts";
import { failpoint } from "../failpoint.ts";
import type { Logger } from "../log.ts";
import type { IncomingPlan } from "../pipeline/intake.ts";

export interface TransportOptions {
  broker: Static<typeof BrokerSettings>;
  clientId: string;
  plansTopic: string;
  /** The Last Will (retained, QoS 1), for the protocol version of the session. */
  will(protocol: 4 | 5): { topic: string; payload: string };
  log: Logger;
  /** Resolves once the plan's decision is durable; the message is acknowledged then. */
  onPlan(message: IncomingPlan): Promise<void>;
  /** Called after every (re)connect, once the plans subscription is in place. */
  onReady(protocol: 4 | 5): void;
}

export interface Transport {
  readonly protocol: 4 | 5;
  readonly connected: boolean;
  /** Publishes QoS 1 (or 0); the callback runs on the broker's acknowledgement or an error. */
  publish(
    topic: string,
    payload: string,
    options: { qos: 0 | 1; retain?: boolean; correlationData?: Buffer },
    done?: (error?: Error) => void,
  ): void;
  /** Stops acknowledging plans: those not yet acknowledged stay with the broker for the next session. */
  pause(): void;
  close(): Promise<void>;
}

const NETWORK_ERRORS = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "ETIMEDOUT",
  "EPIPE",
]);

function clientOptions(options: TransportOptions, protocol: 4 | 5): IClientOptions {
  const { broker } = options;
  const will = options.will(protocol);
  const url = new URL(broker.url);
  const tls = url.protocol === "mqtts:" || url.protocol === "ssl:";
  const result: IClientOptions = {
    host: url.hostname,
    port: Number(url.port || (tls ? 8883 : 1883)),
    protocol: tls ? "mqtts" : "mqtt",
    protocolVersion: protocol,
    clientId: options.clientId,
    clean: false,
    keepalive: broker.keepaliveSeconds,
    reconnectPeriod: broker.reconnectSeconds * 1000,
    connectTimeout: 10_000,
    resubscribe: false,
    // A refused login (bad password, not authorized) is retried like a broker that is down.
    reconnectOnConnackError: true,
    queueQoSZero: false,
    writeCache: false,
    will: { ...will, payload: Buffer.from(will.payload), qos: 1, retain: true },
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

export function connectTransport(options: TransportOptions): Transport {
  const { log } = options;
  let protocol: 4 | 5 = options.broker.protocol === 4 ? 4 : 5;
  let protocolSettled = options.broker.protocol !== "auto";
  let paused = false;
  let client: MqttClient = open();

  function open(): MqttClient {
    const c = mqtt.connect(clientOptions(options, protocol));
    let lastError: (Error & { code?: string | number }) | undefined;
    c.handleMessage = (packet: Packet, callback: (error?: Error) => void) => {
      if (packet.cmd !== "publish" || packet.topic !== options.plansTopic) return callback();
      if (paused) return; // never acknowledged: the broker keeps it for the next session
      const message: IncomingPlan = { payload: packet.payload as Uint8Array };
      if (packet.properties?.responseTopic) message.responseTopic = packet.properties.responseTopic;
      if (packet.properties?.correlationData) message.correlationData = packet.properties.correlationData;
      deliver(message, 0).then(() => {
        failpoint("after-commit");
        if (!paused) callback();
      });
    };
    c.on("error", (error: Error & { code?: string | number }) => {
      lastError = error;
      log.warn("broker-error", { broker: options.broker.url, code: error.code, message: error.message });
    });
    c.on("close", () => {
      if (protocolSettled || c.connected) return;
      const code = lastError?.code;
      if (typeof code === "string" && NETWORK_ERRORS.has(code)) return; // broker not there yet: keep trying
      // Fall back only when the broker refuses the version (CONNACK 132, or 1 from a 3.1.1 broker) or hangs up
      // without a CONNACK (RabbitMQ, NATS); a refused password is not a protocol problem: keep trying.
      const refusedVersion = code === undefined || code === 132 || code === 1;
      if (protocol === 5 && refusedVersion) {
        log.warn("protocol-fallback", {
          broker: options.broker.url,
          from: 5,
          to: 4,
          reason: lastError?.message ?? "closed",
        });
        protocol = 4;
        protocolSettled = true;
        c.end(true);
        client = open();
      }
    });
    c.on("connect", (connack) => {
      protocolSettled = true;
      // Small request/response packets: without this a result waits for the broker's delayed ACK (≈ 40 ms).
      (c.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
      log.info("connected", { broker: options.broker.url, protocol, sessionPresent: connack.sessionPresent });
      if (connack.sessionPresent) return options.onReady(protocol);
      c.subscribe(options.plansTopic, { qos: 1 }, (error) => {
        if (error) log.error("subscribe-failed", { topic: options.plansTopic, message: error.message });
        else options.onReady(protocol);
      });
    });
    c.on("offline", () => log.warn("offline", { broker: options.broker.url }));
    return c;
  }

  /** Runs the intake; an unexpected failure (a full disk, say) is retried with backoff, never acknowledged. */
  async function deliver(message: IncomingPlan, attempt: number): Promise<void> {
    try {
      await options.onPlan(message);
    } catch (error) {
      const delay = Math.min(30_000, 500 * 2 ** attempt);
      log.error("intake-failed", {
        message: error instanceof Error ? error.message : String(error),
        retryInMs: delay,
      });
      await new Promise((resolve) => setTimeout(resolve, delay));
      if (!paused) return deliver(message, attempt + 1);
    }
  }

  return {
    get protocol() {
      return protocol;
    },
    get connected() {
      return client.connected;
    },
    publish(topic, payload, publishOptions, done) {
      const properties = publishOptions.correlationData
        ? { correlationData: publishOptions.correlationData }
        : undefined;
      client.publish(
        topic,
        payload,
        {
          qos: publishOptions.qos,
          retain: publishOptions.retain ?? false,
          ...(properties && protocol === 5 ? { properties } : {}),
        },
        (error) => done?.(error ?? undefined),
      );
    },
    pause() {
      paused = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        // Graceful (DISCONNECT: no Last Will); forced after 3 s, as a plan left unacknowledged while pausing
        // blocks a graceful end. That plan stays queued in the broker for the next session.
        const timer = setTimeout(() => client.end(true, {}, () => resolve()), 3000);
        client.end(false, {}, () => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
