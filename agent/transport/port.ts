/**
 * The transport port: what the agent needs from a message session, whatever carries it. The MQTT session
 * (`mqtt.ts`) implements it; the pipeline sees only these types and never imports the adapter.
 */
import type { IdemError } from "../errors.ts";

/** One message the session received: a plan for this agent (or, later, its own retained status). */
export interface IncomingMessage {
  payload: Uint8Array;
  /** The topic name the broker delivered it under (RabbitMQ swaps `.` and `/`: not always the one subscribed). */
  topic: string;
  /** MQTT 5 Response Topic. */
  responseTopic?: string;
  /** MQTT 5 Correlation Data. */
  correlationData?: Uint8Array;
  /** The broker's redelivery flag (MQTT DUP): it sent this message before without getting our acknowledgement. */
  dup: boolean;
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
  /** Called after every (re)connect, once the plans subscription is in place. */
  onReady(protocol: 4 | 5): void;
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
   * Publishes QoS 1 (or 0); the callback runs once: on the broker's acknowledgement, or with `PublishRefused`
   * (the broker will not take it as it is) or `PublishLost` (no acknowledgement before the connection closed);
   * see `in_flight.ts`. A lost publish is never re-sent by the transport itself.
   */
  publish(topic: string, payload: string, options: PublishOptions, done?: (error?: Error) => void): void;
  /** Stops acknowledging plans: those not yet acknowledged stay with the broker for the next session. */
  pause(): void;
  close(): Promise<void>;
}
