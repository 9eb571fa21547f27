/**
 * The MQTT session: persistent (MQTT 5 Clean Start 0 + Session Expiry, or 3.1.1 clean session 0 when the
 * broker refuses 5), plans acknowledged only after `onPlan` resolves (its commit is durable), retained status
 * with a Last Will, and publishing that reports the broker's PUBACK.
 *
 * It subscribes to one filter, so every PUBLISH it receives is a plan, whatever topic name the broker delivers it
 * under (`topic.ts`): none is acknowledged without being handed to `onPlan`. A broker that refuses the agent's
 * topics stops the session with `onFatal` (`refusal.ts`) instead of a silent reconnect loop.
 *
 * MQTT.js handles inbound packets one at a time and holds the PUBACK until `handleMessage`'s callback runs;
 * so nothing here ever awaits an outgoing publish while an incoming plan is unacknowledged.
 */
import { readFileSync } from "node:fs";
import mqtt, { type IClientOptions, type MqttClient, type Packet } from "mqtt";
import type { Static } from "typebox";
import type { BrokerSettings } from "../config.ts";
import { describe, type IdemError } from "../errors.ts";
import { failpoint } from "../failpoint.ts";
import type { Logger } from "../log.ts";
import { retry } from "../retry.ts";
import { InFlight, NoResendStore } from "./in_flight.ts";
import type { IncomingMessage, Transport, TransportHandlers } from "./port.ts";
import {
  type ClosedConnection,
  HangUpCounter,
  hungUp,
  isRefusalCode,
  type Stage,
  subscribeRefused,
  type TopicsInUse,
} from "./refusal.ts";
import { route } from "./topic.ts";

export interface TransportOptions extends TransportHandlers {
  broker: Static<typeof BrokerSettings>;
  /** For messages: an agent id with `.` is what some brokers refuse in topic names. */
  agentId: string;
  clientId: string;
  plansTopic: string;
  /** The Last Will (retained, QoS 1) on the agent's status topic, for the protocol version of the session. */
  will(protocol: 4 | 5): { topic: string; payload: string };
  log: Logger;
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
    // Never re-sends unacknowledged publishes by itself after a reconnect: the outbox decides (`in_flight.ts`).
    outgoingStore: new NoResendStore(),
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

/**
 * Whether the broker accepts this agent's CONNECT without its Last Will: a throw-away session (client id
 * `<clientId>-probe`, clean, no Will, no subscription) that ends as soon as the CONNACK says yes or no. The
 * agent's own persistent session is not touched.
 */
function acceptsWithoutWill(options: TransportOptions, protocol: 4 | 5): Promise<boolean> {
  const { will: _will, properties: _properties, ...rest } = clientOptions(options, protocol);
  const probe = mqtt.connect({
    ...rest,
    clientId: `${options.clientId}-probe`,
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

export function connectTransport(options: TransportOptions): Transport {
  const { log } = options;
  let protocol: 4 | 5 = options.broker.protocol === 4 ? 4 : 5;
  let protocolSettled = options.broker.protocol !== "auto";
  let paused = false;
  let fatal: IdemError | undefined;
  let closing = false;
  let probing = false;
  const hangUps = new HangUpCounter();
  const topics: TopicsInUse = {
    broker: options.broker.url,
    agentId: options.agentId,
    plansTopic: options.plansTopic,
    statusTopic: options.will(protocol).topic,
  };
  // QoS 1 publishes waiting for the broker: reported refused or lost, never re-sent by MQTT.js (`in_flight.ts`).
  const inFlight = new InFlight();
  let client: MqttClient = open();

  /** Stops for good: no reconnect; the agent decides what follows (`idem run` exits 2). */
  function stop(c: MqttClient, error: IdemError): void {
    if (fatal) return;
    fatal = error;
    c.end(true);
    options.onFatal(error);
  }

  function open(): MqttClient {
    const c = mqtt.connect(clientOptions(options, protocol));
    c.on("close", () => inFlight.lost(c));
    let lastError: (Error & { code?: string | number }) | undefined;
    // How far the current connection got; reset when it closes (MQTT.js reconnects with the same client).
    let stage: Stage = "connect";
    c.handleMessage = (packet: Packet, callback: (error?: Error) => void) => {
      if (packet.cmd !== "publish") return callback();
      if (paused) return; // never acknowledged: the broker keeps it for the next session
      const message: IncomingMessage = {
        payload: packet.payload as Uint8Array,
        topic: packet.topic,
        dup: packet.dup,
      };
      if (packet.properties?.responseTopic) message.responseTopic = packet.properties.responseTopic;
      if (packet.properties?.correlationData) message.correlationData = packet.properties.correlationData;
      if (route(message.topic, topics.statusTopic) === "status") {
        // The agent's own retained presence: nothing subscribes to it yet, and it is never a plan.
        log.debug("status-received", { topic: message.topic });
        return callback();
      }
      if (message.topic !== options.plansTopic) {
        log.debug("plan-topic-rewritten", { topic: message.topic, subscribed: options.plansTopic });
      }
      deliver(message).then(() => {
        failpoint("after-commit");
        if (!paused) callback();
      });
    };
    c.on("error", (error: Error & { code?: string | number }) => {
      lastError = error;
      log.warn("broker-error", { broker: options.broker.url, code: error.code, message: error.message });
    });
    c.on("close", () => {
      const ended: ClosedConnection = { stage, failed: lastError !== undefined };
      const error = lastError;
      stage = "connect";
      lastError = undefined;
      if (fatal || closing || c !== client) return;
      if (!protocolSettled) return fallBack(c, error);
      if (!hangUps.closed(ended) || probing) return;
      const times = hangUps.inARow;
      if (ended.stage === "subscribe") return stop(c, hungUp(topics, "subscribe", times));
      // Closed before any CONNACK: refusing the Last Will's topic (NATS 2.9) or hanging up on everyone (a load
      // balancer with no broker behind it)? Ask with a CONNECT that has no Will; MQTT.js keeps retrying meanwhile.
      probing = true;
      acceptsWithoutWill(options, protocol).then((accepted) => {
        probing = false;
        if (fatal || closing || c !== client) return;
        if (accepted) return stop(c, hungUp(topics, "connect", times));
        hangUps.forgive();
        log.warn("broker-hangs-up", {
          broker: options.broker.url,
          times,
          message: "the broker closes every CONNECT, also one without the Last Will: retrying",
        });
      });
    });
    c.on("connect", (connack) => {
      protocolSettled = true;
      // Small request/response packets: without this a result waits for the broker's delayed ACK (≈ 40 ms).
      (c.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
      log.info("connected", { broker: options.broker.url, protocol, sessionPresent: connack.sessionPresent });
      const ready = () => {
        stage = "ready";
        hangUps.ready();
        options.onReady(protocol);
      };
      if (connack.sessionPresent) return ready();
      stage = "subscribe";
      c.subscribe(options.plansTopic, { qos: 1 }, (error, _granted, suback) => {
        // Decided by the SUBACK's own return code (one filter, one code), not by the error's text.
        const code = suback?.granted[0];
        if (isRefusalCode(code)) return stop(c, subscribeRefused(topics, code));
        // Otherwise the connection was lost before the SUBACK: the close that follows is counted.
        if (error) log.error("subscribe-failed", { topic: options.plansTopic, message: error.message });
        else ready();
      });
    });
    c.on("offline", () => log.warn("offline", { broker: options.broker.url }));
    return c;
  }

  /**
   * In `auto` mode, a connection closed before any CONNACK: falls back to 3.1.1 when the broker refuses 5
   * (CONNACK 132, or 1 from a 3.1.1 broker) or hangs up without a CONNACK (RabbitMQ, NATS). A broker that is
   * not there yet, or refuses the password, is not a protocol problem: keep trying 5.
   */
  function fallBack(c: MqttClient, error: (Error & { code?: string | number }) | undefined): void {
    const code = error?.code;
    if (typeof code === "string" && NETWORK_ERRORS.has(code)) return;
    const refusedVersion = code === undefined || code === 132 || code === 1;
    if (protocol !== 5 || !refusedVersion) return;
    log.warn("protocol-fallback", {
      broker: options.broker.url,
      from: 5,
      to: 4,
      reason: error?.message ?? "closed",
    });
    protocol = 4;
    protocolSettled = true;
    c.end(true);
    client = open();
  }

  /**
   * Hands a plan to `onPlan` (the agent's guard, which never rejects: it retries or answers by itself). Should a
   * handler reject anyway, the plan is handed over again with backoff, never acknowledged undecided.
   */
  function deliver(message: IncomingMessage): Promise<void> {
    return retry(() => options.onPlan(message), {
      isRetriable: () => !paused,
      onRetry: (error, attempt, delayMs) =>
        log.error("intake-failed", { attempt, retryInMs: delayMs, message: describe(error) }),
    }).catch(() => {});
  }

  return {
    get protocol() {
      return protocol;
    },
    get connected() {
      return client.connected;
    },
    publish(topic, payload, publishOptions, done) {
      inFlight.publish(client, protocol, { topic, payload, options: publishOptions }, done);
    },
    pause() {
      paused = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
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
