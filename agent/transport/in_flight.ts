/**
 * Publishing with a typed outcome, so that the outbox can tell a reply the broker refuses from a connection that
 * was lost (SPEC 2: no entry blocks the outbox). What a publish ends with:
 *
 * - the broker's acknowledgement: the callback runs with no error;
 * - {@link PublishRefused}: the broker answered with a PUBACK reason code ≥ 0x80 (MQTT 5), or the reply cannot be
 *   sent as it is — its topic is not a topic name ({@link topicNameProblem}), or the packet is larger than the
 *   Maximum Packet Size of the broker's CONNACK (MQTT.js 5.16 does not check that: it sends the packet, and
 *   mosquitto answers DISCONNECT 0x95 and closes the connection). Those two are `certain`;
 * - {@link PublishLost}: the connection closed before the acknowledgement (a broker that went away, or one that
 *   hangs up on the packet: mosquitto on an oversize packet or a malformed topic; any 3.1.1 broker that refuses).
 *
 * MQTT.js by itself re-sends every unacknowledged QoS 1 packet after a reconnect, in order — a packet the broker
 * hangs up on would be sent again on every reconnect, before anything else. So the client's outgoing store here
 * never re-sends, and a lost publish is removed from MQTT.js: what is sent again, and when, is the outbox's call.
 */
import { ErrorWithReasonCode, type MqttClient, ReasonCodes, Store } from "mqtt";
import { EnvironmentError, ErrorCode, IdemError } from "../errors.ts";
import type { LostConnection } from "./loss.ts";
import type { PublishOptions } from "./port.ts";
import { printableTopic, topicNameProblem } from "./topic.ts";

/** The broker did not take a publish, or would not: sending it again as it is will not help (or not soon). */
export class PublishRefused extends IdemError {
  /** The MQTT 5 reason code: the PUBACK's, or the one the broker would give (0x90 topic, 0x95 too large). */
  readonly reasonCode: number;
  /** Known before sending: the topic is not a topic name, or the packet is over the broker's limit. */
  readonly certain: boolean;

  constructor(message: string, options: { reasonCode: number; certain: boolean; cause?: unknown }) {
    super(ErrorCode.InvalidPlan, message, options.cause === undefined ? {} : { cause: options.cause });
    this.name = "PublishRefused";
    this.reasonCode = options.reasonCode;
    this.certain = options.certain;
  }
}

/** The connection closed (or was not there) before the broker acknowledged a publish: it may or may not have it. */
export class PublishLost extends EnvironmentError {
  /** The closed connection, to ask whether the broker refused this publish (`loss.ts`); none: it did not. */
  readonly connection: LostConnection | undefined;

  constructor(message: string, options: { cause?: unknown; connection?: LostConnection } = {}) {
    super("broker", message, options.cause === undefined ? {} : { cause: options.cause });
    this.name = "PublishLost";
    this.connection = options.connection;
  }
}

/** MQTT.js's outgoing store without its re-sending after a reconnect (see the file's comment). */
export class NoResendStore extends Store {
  override createStream(): ReturnType<Store["createStream"]> {
    return new Store().createStream();
  }
}

interface Pending {
  client: MqttClient;
  done: ((error?: Error) => void) | undefined;
  settled: boolean;
}

/** The QoS 1 publishes handed to MQTT.js clients and not yet answered. */
export class InFlight {
  readonly #pending = new Set<Pending>();

  /** Publishes on `client` (of MQTT `protocol`); `done` runs once, with no error or one of the kinds above. */
  publish(
    client: MqttClient,
    protocol: 4 | 5,
    message: { topic: string; payload: string; options: PublishOptions },
    done?: (error?: Error) => void,
  ): void {
    const { topic, payload, options } = message;
    const refusal = precheck(client, protocol, message);
    if (refusal) {
      queueMicrotask(() => done?.(refusal));
      return;
    }
    const correlationData = options.correlationData && Buffer.from(options.correlationData);
    const publishOptions = {
      qos: options.qos,
      retain: options.retain ?? false,
      ...(correlationData && protocol === 5 ? { properties: { correlationData } } : {}),
    };
    if (options.qos === 0) {
      client.publish(topic, payload, publishOptions, (error) => done?.(error ?? undefined));
      return;
    }
    if (!client.connected) {
      const lost = new PublishLost(`Cannot publish to "${printableTopic(topic)}" as there is no session`);
      queueMicrotask(() => done?.(lost));
      return;
    }
    const pending: Pending = { client, done, settled: false };
    this.#pending.add(pending);
    client.publish(topic, payload, publishOptions, (error) => {
      if (pending.settled) return; // already reported lost
      pending.settled = true;
      this.#pending.delete(pending);
      if (!error) return done?.();
      if (error instanceof ErrorWithReasonCode && typeof error.code === "number" && error.code >= 0x80) {
        const reason = `${ReasonCodes[error.code as keyof typeof ReasonCodes] ?? "refused"} (${hex(error.code)})`;
        return done?.(
          new PublishRefused(`The broker refused the publish to "${printableTopic(topic)}": ${reason}`, {
            reasonCode: error.code,
            certain: false,
            cause: error,
          }),
        );
      }
      done?.(
        new PublishLost(`Cannot publish to "${printableTopic(topic)}" as the session ended`, {
          cause: error,
        }),
      );
    });
  }

  /**
   * The connection of `client` closed: every publish still waiting on it is reported {@link PublishLost} (all of
   * them, one after another, before anything else runs) and removed from MQTT.js, which would re-send it.
   * `connection` says how it ended (none: the agent ended it). Returns how many there were.
   */
  lost(client: MqttClient, connection?: LostConnection): number {
    let count = 0;
    for (const pending of [...this.#pending]) {
      if (pending.client !== client) continue;
      count += 1;
      pending.settled = true;
      this.#pending.delete(pending);
      pending.done?.(
        new PublishLost("The connection to the broker closed before it acknowledged the publish", {
          ...(connection ? { connection } : {}),
        }),
      );
    }
    for (const [id, outgoing] of Object.entries(client.outgoing)) {
      if (outgoing.cmd === "publish") client.removeOutgoingMessage(Number(id));
    }
    return count;
  }
}

/** Why the broker cannot take this publish, known before sending it. */
function precheck(
  client: MqttClient,
  protocol: 4 | 5,
  message: { topic: string; payload: string; options: PublishOptions },
): PublishRefused | undefined {
  const problem = topicNameProblem(message.topic);
  if (problem !== undefined) {
    return new PublishRefused(`Cannot publish to "${printableTopic(message.topic)}" as ${problem}`, {
      reasonCode: 0x90,
      certain: true,
    });
  }
  const limit = protocol === 5 ? client.serverProperties?.maximumPacketSize : undefined;
  const bytes = publishPacketBytes(protocol, message);
  if (limit !== undefined && bytes > limit) {
    return new PublishRefused(
      `Cannot publish to "${printableTopic(message.topic)}" as the packet of ${bytes} bytes is over the broker's Maximum Packet Size (${limit})`,
      { reasonCode: 0x95, certain: true },
    );
  }
  return undefined;
}

/** The size of the PUBLISH packet MQTT.js writes for this message (fixed header included). */
export function publishPacketBytes(
  protocol: 4 | 5,
  message: { topic: string; payload: string; options: PublishOptions },
): number {
  const { options } = message;
  const correlation = protocol === 5 && options.correlationData ? 3 + options.correlationData.length : 0;
  const remaining =
    2 +
    Buffer.byteLength(message.topic) +
    (options.qos > 0 ? 2 : 0) +
    (protocol === 5 ? varintBytes(correlation) + correlation : 0) +
    Buffer.byteLength(message.payload);
  return 1 + varintBytes(remaining) + remaining;
}

function varintBytes(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : 4;
}

const hex = (code: number) => `0x${code.toString(16).padStart(2, "0")}`;
