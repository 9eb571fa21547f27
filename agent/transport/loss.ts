/**
 * Whose fault a reply lost with its connection is: the reply's (the broker hung up on that packet: a strike in
 * `outbox.ts`) or not (the node went away, stopped answering, is shutting down or lost its quorum: no strike).
 * SPEC 2 "No entry blocks the outbox"; docs/reliability.md "No reply blocks the outbox" (issue 13: a healthy
 * result was truncated after its RabbitMQ node was killed three times while it was in flight).
 *
 * The socket cannot tell the two apart. Measured with mosquitto 2.0.11 and MQTT.js 5.16: a broker hanging up on
 * an oversize packet (3.1.1) and a broker killed with `kill -9` while a publish waits in its socket both end in
 * `read ECONNRESET` (unread data makes the kernel answer RST); a malformed topic (3.1.1) and a `kill -9` of an
 * idle broker both end in a plain FIN. What tells is whether the node is still there: a broker that refuses a
 * packet closes that one connection and takes the next at once; a node that crashed, froze or lost its quorum
 * does not.
 *
 * Rule, first match wins ({@link judgeEnd}, then {@link LostConnection.verdict}):
 * 1. the agent ended the connection itself (stop, close, leave) → not the reply's;
 * 2. MQTT.js's keepalive timed out (no PINGRESP: the broker stopped answering) → not the reply's;
 * 3. a socket error of the network (ETIMEDOUT, EHOSTUNREACH, ENETUNREACH, ENETDOWN) → not the reply's;
 * 4. an MQTT 5 DISCONNECT whose reason code blames a packet ({@link PACKET_REFUSALS}) → the reply's;
 * 5. an MQTT 5 DISCONNECT that says the server goes or sends the client away ({@link SERVER_LEAVES}) → not;
 * 6. otherwise (closed by the broker, with or without ECONNRESET/EPIPE) the node is asked at once: a throw-away
 *    CONNECT to the same node (the transport's probe, client id `<clientId>-probe`). A CONNACK → the reply's;
 *    refused, closed or timed out (10 s) → not the reply's.
 *
 * Only a reply alone in flight is judged (several lost together become suspects, each sent alone later), so the
 * probe costs one connection per such loss. A broker that hangs up on a packet in a cluster behind one load
 * balancer address looks like rule 6's CONNACK whichever node took the probe: still the reply's.
 */

/** The verdict on one lost reply. */
export interface LossVerdict {
  /** True: the broker refused this reply (a strike). False: the connection ended for another reason. */
  reply: boolean;
  /** For the log line's `reason=`. */
  why: string;
}

/** How the connection ended, as the transport saw it. */
export interface ConnectionEnd {
  /** The agent ended it (its own stop, close or leave), not the broker. */
  byAgent: boolean;
  /** MQTT.js gave up waiting for a PINGRESP. */
  keepaliveTimedOut: boolean;
  /** The `code` of the error reported on the connection before it closed (`ECONNRESET`, a CONNACK code …). */
  errorCode?: string | number | undefined;
  /** The reason code of the broker's DISCONNECT (MQTT 5), if it sent one. */
  disconnectReason?: number | undefined;
}

/** DISCONNECT reason codes that blame a packet the client sent (MQTT 5.0, 3.14.2.1). */
export const PACKET_REFUSALS: ReadonlyMap<number, string> = new Map([
  [0x81, "Malformed Packet"],
  [0x82, "Protocol Error"],
  [0x87, "Not authorized"],
  [0x90, "Topic Name invalid"],
  [0x95, "Packet too large"],
  [0x99, "Payload format invalid"],
  [0x9a, "Retain not supported"],
  [0x9b, "QoS not supported"],
]);

/** DISCONNECT reason codes that say the server goes away or sends the client elsewhere (MQTT 5.0, 3.14.2.1). */
export const SERVER_LEAVES: ReadonlyMap<number, string> = new Map([
  [0x89, "Server busy"],
  [0x8b, "Server shutting down"],
  [0x8d, "Keep Alive timeout"],
  [0x8e, "Session taken over"],
  [0x9c, "Use another server"],
  [0x9d, "Server moved"],
  [0x9f, "Connection rate exceeded"],
  [0xa0, "Maximum connect time"],
]);

/** Socket errors of the network path, not of the broker's choosing. */
const NETWORK_FAILURES = new Set(["ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENETDOWN"]);

/** The verdict that follows from how the connection ended alone (rules 1–5), or undefined: ask the node. Pure. */
export function judgeEnd(end: ConnectionEnd): LossVerdict | undefined {
  if (end.byAgent) return { reply: false, why: "the agent ended the connection" };
  if (end.keepaliveTimedOut) {
    return {
      reply: false,
      why: "the broker stopped answering (keepalive timeout), it did not refuse the reply",
    };
  }
  if (typeof end.errorCode === "string" && NETWORK_FAILURES.has(end.errorCode)) {
    return {
      reply: false,
      why: `the network failed (${end.errorCode}), the broker did not refuse the reply`,
    };
  }
  const reason = end.disconnectReason;
  if (reason !== undefined && PACKET_REFUSALS.has(reason)) {
    return { reply: true, why: `the broker sent DISCONNECT ${hex(reason)} (${PACKET_REFUSALS.get(reason)})` };
  }
  if (reason !== undefined && SERVER_LEAVES.has(reason)) {
    return { reply: false, why: `the broker sent DISCONNECT ${hex(reason)} (${SERVER_LEAVES.get(reason)})` };
  }
  return undefined;
}

/** One closed connection's answer to "was it the reply?", the node asked at most once, on first need. */
export class LostConnection {
  readonly #end: ConnectionEnd;
  readonly #nodeUp: () => Promise<boolean>;
  #verdict: Promise<LossVerdict> | undefined;

  /** `nodeUp`: whether the node the connection was on takes a new connection now (CONNACK). */
  constructor(end: ConnectionEnd, nodeUp: () => Promise<boolean>) {
    this.#end = end;
    this.#nodeUp = nodeUp;
  }

  /** Never rejects: a probe that throws counts as a node that is not up. */
  verdict(): Promise<LossVerdict> {
    this.#verdict ??= this.#judge();
    return this.#verdict;
  }

  async #judge(): Promise<LossVerdict> {
    const known = judgeEnd(this.#end);
    if (known) return known;
    const up = await this.#nodeUp().catch(() => false);
    return up
      ? {
          reply: true,
          why: "the broker closed the connection while this reply was the only one in flight, and took a new connection at once",
        }
      : {
          reply: false,
          why: "the connection closed and the node took no new connection: it went away, it did not refuse the reply",
        };
  }
}

const hex = (code: number) => `0x${code.toString(16).padStart(2, "0")}`;
