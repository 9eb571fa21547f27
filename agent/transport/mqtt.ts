/**
 * The MQTT session: persistent (MQTT 5 Clean Start 0 + Session Expiry, or 3.1.1 clean session 0 when the
 * broker refuses 5), plans acknowledged only after `onPlan` resolves (its commit is durable), retained status
 * with a Last Will, and publishing that reports the broker's PUBACK.
 *
 * It subscribes to the plans filter and, when the agent compares incarnations (`onStatus`, SPEC 5.5), to the
 * agent's own status topic, again on every connect (a persistent session does not re-send retained messages
 * otherwise), and to the control topic (`controlTopic`, operator requests: `onControl`) on every connect. A PUBLISH
 * on the status topic goes to `onStatus`, one on the control topic to `onControl`; every other one is a plan,
 * whatever topic name the broker delivers it under (`topic.ts`), and none is acknowledged without being handed
 * to its handler. A broker
 * that refuses the agent's topics stops the session with `onFatal` (`refusal.ts`) instead of a silent reconnect
 * loop.
 *
 * Several broker nodes (`broker.urls`, one clustered broker): the session starts on the first, and each lost
 * connection or failed attempt moves the next attempt to the next node (`nodes.ts`), same client id and persistent
 * session, a new MQTT.js client per node; `broker` says which node it is on. A node that keeps closing the
 * connection right after its CONNACK is diagnosed in the log (`flapping.ts`) and backed off, not looped on; so is
 * a broker that takes connections and never answers a CONNECT on any node (a cluster without quorum).
 *
 * Reconnecting is the session's own, with backoff and jitter (`reconnect.ts`), never MQTT.js's fixed period. A
 * session lost the way a takeover loses it (MQTT 5 DISCONNECT 0x8E; or closed by the broker, no error, nothing of
 * ours in flight) is reported with `onTakenOver` and backed off like any other loss: the statuses decide who
 * serves, never a reconnect battle.
 *
 * Inbound messages go through `inbound.ts`: handed over one at a time, the next as soon as the previous one's
 * commit is issued, each PUBACK sent (in arrival order) once its handler resolved, at most `MAX_UNACKED` held.
 * While that bound is reached MQTT.js reads nothing, PUBACKs of our own publishes included: nothing here ever
 * awaits an outgoing publish while an incoming plan is unacknowledged.
 */
import mqtt, { type MqttClient, type Packet } from "mqtt";
import type { Static } from "typebox";
import type { BrokerSettings } from "../config.ts";
import { describe, type IdemError } from "../errors.ts";
import { failpoint } from "../failpoint.ts";
import type { Logger } from "../log.ts";
import { retry } from "../retry.ts";
import { FlapDetector, flappingAdvice, hungUpBeforeConnack, noSessionAdvice } from "./flapping.ts";
import { InFlight, NoResendStore } from "./in_flight.ts";
import { ACK_LATER, Inbound, sendPuback } from "./inbound.ts";
import { LostConnection } from "./loss.ts";
import { acceptsWithoutWill, clientOptions, lastWill } from "./mqtt_connect.ts";
import { BrokerNodes } from "./nodes.ts";
import type { IncomingMessage, Transport, TransportHandlers } from "./port.ts";
import { ReconnectSchedule } from "./reconnect.ts";
import { HangUpCounter, hungUp, type Stage, subscribeRefused, type TopicsInUse } from "./refusal.ts";
import { subscribe } from "./subscribe.ts";
import { route } from "./topic.ts";

export interface TransportOptions extends TransportHandlers {
  broker: Static<typeof BrokerSettings>;
  /** For messages: an agent id with `.` is what some brokers refuse in topic names. */
  agentId: string;
  clientId: string;
  plansTopic: string;
  /** `P/A/control`: subscribed on every connect (QoS 1); its messages go to `onControl`. Default: none. */
  controlTopic?: string;
  /** The Last Will (retained, QoS 1) on the agent's status topic, for the protocol version of the session. */
  will(protocol: 4 | 5): { topic: string; payload: string };
  log: Logger;
}

/** MQTT 5 DISCONNECT reason code "Session taken over". */
const SESSION_TAKEN_OVER = 0x8e;

const NETWORK_ERRORS = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "ETIMEDOUT",
  "EPIPE",
]);

type BrokerError = Error & { code?: string | number };

export function connectTransport(options: TransportOptions): Transport {
  const { log } = options;
  const nodes = new BrokerNodes(options.broker.urls ?? [options.broker.url]);
  // What log lines and messages name the current node by: never a password (config.ts refuses one in a URL anyway).
  let broker = nodes.current.printable;
  let protocol: 4 | 5 = options.broker.protocol === 4 ? 4 : 5;
  let protocolSettled = options.broker.protocol !== "auto";
  let paused = false;
  let fatal: IdemError | undefined;
  // Set by close() and leave(): no reconnecting after that.
  let closing = false;
  let leaving: Promise<void> | undefined;
  let probing = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  const hangUps = new HangUpCounter();
  const flaps = new FlapDetector(nodes.count);
  const topics: TopicsInUse = {
    broker,
    agentId: options.agentId,
    plansTopic: options.plansTopic,
    statusTopic: options.will(protocol).topic,
  };
  const schedule = new ReconnectSchedule({
    firstMs: options.broker.reconnectSeconds * 1000,
    maxMs: (options.broker.reconnectMaxSeconds ?? 60) * 1000,
    nodes: nodes.count,
  });
  // QoS 1 publishes waiting for the broker: reported refused or lost, never re-sent by MQTT.js (`in_flight.ts`).
  const inFlight = new InFlight();
  let client: MqttClient = open();

  /** Stops for good: no reconnect; the agent decides what follows (`idem run` exits 2). */
  function stop(c: MqttClient, error: IdemError): void {
    if (fatal) return;
    fatal = error;
    clearTimeout(retryTimer);
    c.end(true);
    options.onFatal(error);
  }

  const current = (c: MqttClient) => c === client && !fatal && !closing;

  function open(): MqttClient {
    const node = nodes.current;
    const c = mqtt.connect(clientOptions(options, protocol, node.url));
    /** Aborted when the current connection closes (see IncomingMessage.signal). */
    let connection = new AbortController();
    // How far the current connection got, and how it ended; reset when it closes (the client is reused).
    let stage: Stage = "connect";
    let connackAt: number | undefined;
    let sessionPresent = false;
    let lastError: BrokerError | undefined;
    let errorLogged = false;
    let readySince: number | undefined;
    let takenOver = false;
    let disconnectReason: number | undefined;
    let keepaliveTimedOut = false;
    // A keepalive timeout is the broker falling silent, not refusing a reply (`loss.ts`): MQTT.js's own hook says it.
    const onKeepaliveTimeout = c.onKeepaliveTimeout.bind(c);
    c.onKeepaliveTimeout = () => {
      keepaliveTimedOut = true;
      onKeepaliveTimeout();
    };
    // Each connection has its own: PUBACKs belong to the connection that delivered the messages (`inbound.ts`).
    const inboundFor = () =>
      new Inbound({ acknowledge: (messageId) => sendPuback(c, messageId), paused: () => paused });
    let inbound = inboundFor();
    c.handleMessage = (packet: Packet, callback: (error?: Error) => void) => {
      if (packet.cmd !== "publish") return callback();
      const message: IncomingMessage = {
        payload: packet.payload as Uint8Array,
        topic: packet.topic,
        dup: packet.dup,
        signal: connection.signal,
      };
      const kind = route(message.topic, topics.statusTopic, options.controlTopic);
      if (paused) {
        // A plan (or a control request) is never acknowledged now: the broker keeps it for the next session. MQTT.js
        // must still read on — the PUBACK of the agent's own offline status and its echo on the status topic come
        // after it, and a DISCONNECT waits for them (else the 3 s force and the Last Will). A status is still read.
        if (kind === "status") {
          statusReceived(message);
          return callback();
        }
        return callback(ACK_LATER);
      }
      if (packet.properties?.responseTopic) message.responseTopic = packet.properties.responseTopic;
      if (packet.properties?.correlationData) message.correlationData = packet.properties.correlationData;
      if (packet.properties?.userProperties) message.userProperties = packet.properties.userProperties;
      if (kind === "plan" && message.topic !== options.plansTopic) {
        log.debug("plan-topic-rewritten", { topic: message.topic, subscribed: options.plansTopic });
      }
      const messageId = packet.qos === 1 ? packet.messageId : undefined;
      const handle = (taken: () => void): Promise<void> => {
        if (kind === "status") {
          statusReceived(message);
          return Promise.resolve();
        }
        message.taken = taken;
        // Known to the handler from its first step on (it may issue its commit before `deliver` returns).
        const { promise, resolve } = Promise.withResolvers<void>();
        message.settled = promise;
        deliver(message, kind === "control" ? options.onControl : undefined).then(resolve);
        return promise.then(() => failpoint("after-commit"));
      };
      inbound.receive(messageId, handle, () => callback(ACK_LATER));
    };
    c.on("error", (error: BrokerError) => {
      lastError = error;
      // While connected an error is rare and worth a line; between attempts the close that follows logs it.
      if (c.connected) {
        errorLogged = true;
        log.warn("broker-error", { broker, code: error.code, message: error.message });
      }
    });
    c.on("disconnect", (packet) => {
      disconnectReason = packet.reasonCode;
      if (packet.reasonCode === SESSION_TAKEN_OVER) {
        takenOver = true;
        log.warn("session-taken-over", {
          broker,
          clientId: options.clientId,
          message: "the broker gave this session to another client with the same client id: backing off",
        });
      } else log.debug("broker-disconnect", { broker, reasonCode: packet.reasonCode });
    });
    c.on("close", () => {
      // Whoever still retries a message of this connection lets go: the broker re-delivers it to the next one.
      connection.abort();
      connection = new AbortController();
      inbound.close();
      inbound = inboundFor();
      // The outbox asks it when a reply was lost alone: did the broker refuse that reply, or did the node go away?
      const ending = new LostConnection(
        { byAgent: !current(c), keepaliveTimedOut, errorCode: lastError?.code, disconnectReason },
        () => acceptsWithoutWill(options, protocol, node.url),
      );
      const lost = inFlight.lost(c, ending);
      const ended = { stage, failed: lastError !== undefined, readySince, takenOver, error: lastError };
      const logged = errorLogged;
      const hungUp = current(c) && hungUpBeforeConnack(lastError?.code);
      const flap = flaps.closed({ node: node.printable, connackAt, hungUp });
      // A session present means the broker took the plans subscription before: a hang-up while the status one is
      // pending refuses no topic of ours (a broker closing on a delivery: RabbitMQ, `flapping.ts`).
      const refusable = sessionPresent ? { ...ended, stage: "ready" as Stage } : ended;
      connackAt = undefined;
      sessionPresent = false;
      stage = "connect";
      lastError = undefined;
      errorLogged = false;
      readySince = undefined;
      takenOver = false;
      disconnectReason = undefined;
      keepaliveTimedOut = false;
      if (!current(c)) return;
      // Closed by the broker without a word while nothing of ours was in flight: what a takeover looks like on
      // 3.1.1 (and on MQTT 5 from brokers that send no DISCONNECT 0x8E, mosquitto 2.0 among them).
      const kicked = ended.takenOver || (ended.readySince !== undefined && !ended.failed && lost === 0);
      if (kicked) options.onTakenOver?.();
      if (!protocolSettled && fallBack(c, ended.error)) return;
      if (protocolSettled) diagnose(c, refusable);
      if (!current(c)) return;
      if (flap.report) {
        log.error("broker-flapping", {
          broker,
          times: flap.inARow,
          livedMs: flap.livedMs,
          message: flappingAdvice(flap.inARow, nodes.count),
        });
      }
      if (flap.noSession) {
        log.error("broker-no-session", {
          broker,
          attempts: flap.noSession.attempts,
          message: noSessionAdvice(flap.noSession),
        });
      }
      const next = schedule.next({
        ...(ended.readySince === undefined ? {} : { readySince: ended.readySince }),
        // A diagnosed flapping node is backed off even when replies were in flight: no hot loop (`flapping.ts`).
        publishesLost: lost > 0 && !ended.takenOver && !flap.backOff,
      });
      const target = nodes.after();
      const level = next.log ? log.warn : log.debug;
      if (ended.error && !logged) {
        level("broker-error", { broker, code: ended.error.code, message: ended.error.message });
      }
      const reason = why(ended, kicked, lost);
      level("offline", {
        broker,
        attempt: next.attempt,
        retryInMs: next.delayMs,
        ...(target.moved ? { next: target.printable } : {}),
        reason,
      });
      if (target.moved) {
        // Leaving a node the session was on is worth a line always; cycling through nodes that are down, per step.
        const moveLevel = ended.readySince !== undefined || flap.flapping ? log.warn : level;
        moveLevel("broker-node", {
          from: broker,
          to: target.printable,
          node: target.index + 1,
          of: nodes.count,
          reason: flap.flapping ? "the node keeps closing the connection right after accepting it" : reason,
        });
        broker = target.printable;
        topics.broker = broker;
      }
      clearTimeout(retryTimer);
      retryTimer = setTimeout(() => {
        retryTimer = undefined;
        if (!current(c)) return;
        log.debug("connecting", { broker, attempt: next.attempt });
        if (target.moved) {
          // Another node: a client of its own (host, port and TLS are the node's), the same session settings.
          c.end(true);
          client = open();
          return;
        }
        c.options.will = lastWill(options, protocol);
        c.reconnect({ outgoingStore: new NoResendStore() });
      }, next.delayMs);
    });
    c.on("connect", (connack) => {
      protocolSettled = true;
      connackAt = Date.now();
      sessionPresent = connack.sessionPresent;
      // Small request/response packets: without this a result waits for the broker's delayed ACK (≈ 40 ms).
      (c.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
      log.info("connected", { broker, protocol, sessionPresent: connack.sessionPresent });
      stage = "subscribe";
      subscribe(
        c,
        {
          plansTopic: options.plansTopic,
          ...(options.onStatus ? { statusTopic: topics.statusTopic } : {}),
          ...(options.controlTopic ? { controlTopic: options.controlTopic } : {}),
          sessionPresent: connack.sessionPresent,
          log,
          current: () => current(c) && c.connected,
        },
        {
          ready() {
            stage = "ready";
            readySince = Date.now();
            hangUps.ready();
            options.onReady(protocol);
          },
          plansRefused: (code) => stop(c, subscribeRefused(topics, code)),
        },
      );
    });
    return c;
  }

  function statusReceived(message: IncomingMessage): void {
    try {
      options.onStatus?.(message);
    } catch (error) {
      log.error("status-failed", { topic: message.topic, message: describe(error) });
    }
  }

  /**
   * Counts hang-ups before any session completed: a broker that refuses the agent's topics stops the session
   * (`refusal.ts`). Closed before any CONNACK: refusing the Last Will's topic (NATS 2.9) or hanging up on everyone
   * (a load balancer with no broker behind it)? A CONNECT without the Will tells; attempts go on meanwhile.
   */
  function diagnose(c: MqttClient, ended: { stage: Stage; failed: boolean }): void {
    if (!hangUps.closed(ended) || probing) return;
    const times = hangUps.inARow;
    if (ended.stage === "subscribe") {
      stop(c, hungUp(topics, "subscribe", times));
      return;
    }
    probing = true;
    acceptsWithoutWill(options, protocol, nodes.current.url).then((accepted) => {
      probing = false;
      if (!current(c)) return;
      if (accepted) return stop(c, hungUp(topics, "connect", times));
      hangUps.forgive();
      log.warn("broker-hangs-up", {
        broker,
        times,
        message:
          "the broker closes every CONNECT, also one without the Last Will: a load balancer with no broker behind it, " +
          "or a clustered broker without quorum (NATS JetStream, RabbitMQ quorum queues)? Check its logs; retrying",
      });
    });
  }

  /**
   * In `auto` mode, a connection closed before any CONNACK: falls back to 3.1.1 (true) when the broker refuses 5
   * (CONNACK 132, or 1 from a 3.1.1 broker) or hangs up without a CONNACK (RabbitMQ, NATS). A broker that is
   * not there yet, or refuses the password, is not a protocol problem: keep trying 5 (false).
   */
  function fallBack(c: MqttClient, error: BrokerError | undefined): boolean {
    const code = error?.code;
    if (typeof code === "string" && NETWORK_ERRORS.has(code)) return false;
    const refusedVersion = code === undefined || code === 132 || code === 1;
    if (protocol !== 5 || !refusedVersion) return false;
    log.warn("protocol-fallback", { broker, from: 5, to: 4, reason: error?.message ?? "closed" });
    protocol = 4;
    protocolSettled = true;
    c.end(true);
    client = open();
    return true;
  }

  /**
   * Hands a plan to `onPlan` (the agent's guard, which never rejects: it retries or answers by itself), or a
   * control request to `handler` (`onControl`). Should a handler reject, the message is handed over again with
   * backoff, never acknowledged undecided.
   */
  function deliver(
    message: IncomingMessage,
    handler: ((message: IncomingMessage) => Promise<void>) | undefined,
  ): Promise<void> {
    return retry(() => (handler ?? options.onPlan)(message), {
      isRetriable: () => !paused && !message.signal?.aborted,
      ...(message.signal ? { signal: message.signal } : {}),
      onRetry: (error, attempt, delayMs) =>
        log.error("intake-failed", { attempt, retryInMs: delayMs, message: describe(error) }),
    }).catch(() => {});
  }

  /** Ends the connection gracefully (DISCONNECT: no Last Will), forced after 3 s. */
  function end(c: MqttClient): Promise<void> {
    return new Promise<void>((resolve) => {
      if (!c.connected) return void c.end(true, {}, () => resolve());
      const timer = setTimeout(() => {
        c.stream.destroy();
        resolve();
      }, 3000);
      c.end(false, {}, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  return {
    get protocol() {
      return protocol;
    },
    get connected() {
      return client.connected && !closing;
    },
    get broker() {
      return broker;
    },
    publish(topic, payload, publishOptions, done) {
      inFlight.publish(client, protocol, { topic, payload, options: publishOptions }, done);
    },
    pause() {
      paused = true;
    },
    leave(status) {
      if (leaving) return leaving;
      paused = true;
      closing = true;
      clearTimeout(retryTimer);
      const c = client;
      if (c.connected) {
        // QoS 1 like every status before it: a broker keeps the order of one client's messages on a topic only
        // within one QoS (aedes delivered a QoS 0 status before an earlier QoS 1 one). Written, never waited for.
        c.publish(status.topic, status.payload, { qos: 1, retain: true });
        // Nothing may wait for an acknowledgement that a plan held unacknowledged blocks: replies in flight are
        // reported lost (they stay in the outbox); that status and a SUBSCRIBE waiting for its SUBACK are dropped
        // from MQTT.js's books, so that the DISCONNECT goes out now.
        inFlight.lost(c);
        for (const id of Object.keys(c.outgoing)) c.removeOutgoingMessage(Number(id));
      }
      leaving = end(c);
      return leaving;
    },
    close() {
      if (leaving) return leaving;
      closing = true;
      clearTimeout(retryTimer);
      // A plan left unacknowledged while pausing blocks a graceful end (its SUBACKs and PUBACKs wait behind it):
      // forced after 3 s; that plan stays queued in the broker for the next session.
      leaving = end(client);
      return leaving;
    },
  };
}

/** Why a connection ended, for the `offline` line. */
function why(
  ended: { readySince?: number | undefined; takenOver: boolean; error?: BrokerError | undefined },
  kicked: boolean,
  lost: number,
): string {
  if (ended.takenOver) return "session taken over (DISCONNECT 0x8E)";
  if (ended.error) return ended.error.message;
  if (ended.readySince === undefined) return "closed by the broker before the session was ready";
  const after = `${((Date.now() - ended.readySince) / 1000).toFixed(1)} s`;
  if (kicked) {
    return `closed by the broker after ${after}: another client with this client id, or a broker stopping`;
  }
  return `closed by the broker after ${after} with ${lost} publish(es) in flight`;
}
