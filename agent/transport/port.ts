/**
 * The transport port: what the agent needs from a message session, whatever carries it. The MQTT session
 * (`mqtt.ts`) implements it; the pipeline sees only these types and never imports the adapter.
 */
import type { IdemError } from "../errors.ts";

/** One message the session received: a plan for this agent, or a status on its own status topic. */
export interface IncomingMessage {
  payload: Uint8Array;
  /** The topic name the broker delivered it under (RabbitMQ swaps `.` and `/`: not always the one subscribed). */
  topic: string;
  /** MQTT 5 Response Topic. */
  responseTopic?: string;
  /** MQTT 5 Correlation Data. */
  correlationData?: Uint8Array;
  /** MQTT 5 User Properties (`Signature`, `KeyId`: SPEC 9a); a name given more than once has an array. */
  userProperties?: Record<string, string | string[]>;
  /** The broker's redelivery flag (MQTT DUP): it sent this message before without getting our acknowledgement. */
  dup: boolean;
  /**
   * Aborted when the session that delivered the message is gone: its acknowledgement can no longer be sent, and
   * the broker will deliver it again to the next session, so whoever is still retrying it should let go.
   */
  signal?: AbortSignal;
  /**
   * Set by the session (`inbound.ts`): the handler calls it once the message's decision is handed to the journal
   * (its commit issued, not necessarily durable yet), so that the session hands over the next message while this
   * one's commit is in flight (decisions of a backlog share a commit). Not called: the next message waits until
   * this one is settled. Idempotent.
   */
  taken?: () => void;
  /** Set by the session: settles once the handler is done with the message (decided and durable, or let go). */
  settled?: Promise<void>;
}

export interface PublishOptions {
  qos: 0 | 1;
  /** Default false. */
  retain?: boolean;
  /** Echoed to the engine (MQTT 5 only; dropped on 3.1.1). */
  correlationData?: Uint8Array;
}

/** What the session calls back. */
export interface TransportHandlers {
  /** Resolves once the plan's decision is durable; the message is acknowledged then, never before. */
  onPlan(message: IncomingMessage): Promise<void>;
  /**
   * An operator request on the agent's control topic (`pipeline/control.ts`); acknowledged once it resolves, like
   * a plan. Given together with the transport's `controlTopic`.
   */
  onControl?(message: IncomingMessage): Promise<void>;
  /** Called after every (re)connect, once the subscriptions are in place. */
  onReady(protocol: 4 | 5): void;
  /**
   * A message on the agent's own status topic (`P/A/status`, retained: SPEC 5.5 compares incarnations by it).
   * When given, the session subscribes to that topic on every connect (a persistent session does not send the
   * retained status again otherwise). Nothing waits for it: it is acknowledged when this returns.
   */
  onStatus?(message: IncomingMessage): void;
  /**
   * The broker ended a session of ours the way a session takeover does — MQTT 5 DISCONNECT 0x8E, or an
   * established session closed without an error while nothing of ours was in flight: another client with this
   * client id may be connected. Not proof (a broker that stops closes sessions too); the session backs off.
   */
  onTakenOver?(): void;
  /**
   * The session cannot work and retrying will not change that (the broker refuses the agent's topics): the
   * transport has stopped. The error is an {@link IdemError} with code 2, its message says what to change.
   */
  onFatal(error: IdemError): void;
}

export interface Transport {
  readonly protocol: 4 | 5;
  readonly connected: boolean;
  /**
   * The broker node the session is on, or tries next while offline (`mqtt://host:port`, one of `broker.urls`,
   * printable: no credentials). The retained status says it as `"Broker"`.
   */
  readonly broker: string;
  /**
   * Publishes QoS 1 (or 0); the callback runs once: on the broker's acknowledgement, or with `PublishRefused`
   * (the broker will not take it as it is) or `PublishLost` (no acknowledgement before the connection closed);
   * see `in_flight.ts`. A lost publish is never re-sent by the transport itself.
   */
  publish(topic: string, payload: string, options: PublishOptions, done?: (error?: Error) => void): void;
  /** Stops acknowledging plans: those not yet acknowledged stay with the broker for the next session. */
  pause(): void;
  /**
   * Leaves the session for good (SPEC 5.5, superseded): publishes `status` retained (QoS 1, but nothing waits for
   * its acknowledgement, which a plan held unacknowledged would block; the broker takes it before the DISCONNECT
   * that follows on the same connection), then disconnects gracefully — no Last Will — and never reconnects. A
   * plan held unacknowledged stays in the session for the next client with this client id.
   */
  leave(status: { topic: string; payload: string }): Promise<void>;
  close(): Promise<void>;
}
