/**
 * The agent's events (SPEC 8, `P/A/events`, QoS 0): each one is logged (at warn when an operator should look: a
 * non-zero ErrorCode, a refused or unauthenticated plan, an interruption, a journal set aside), counted by the
 * metrics, and published with its `Time`. Events that happen while there is no session (start-up recovery, a
 * broker outage) are held, the newest {@link MAX_HELD_EVENTS} of them, and published once the session is up.
 * No string field is longer than {@link MAX_EVENT_FIELD} characters: an event never outgrows a broker's packet
 * limit.
 */
import type { LogFields, Logger } from "./log.ts";
import type { MetricsSink } from "./metrics/sink.ts";
import type { AgentEvent } from "./pipeline/context.ts";
import type { Transport } from "./transport/port.ts";

/** Events held while there is no session, at most. */
const MAX_HELD_EVENTS = 1000;
/** Longest string field of an event, in characters. */
const MAX_EVENT_FIELD = 1000;
/** Events logged at warn whatever their ErrorCode. */
const WARNINGS = ["invalid", "unauthenticated", "interrupted", "journal-set-aside"];

export interface EventsOptions {
  log: Logger;
  /** The events topic, `P/A/events`. */
  topic: string;
  /** Counts every event; absent when metrics are off. */
  metrics: MetricsSink | undefined;
  /** The session, once there is one. */
  transport(): Transport | undefined;
}

export class AgentEvents {
  readonly #options: EventsOptions;
  /** Payloads held while there is no session, oldest first. */
  readonly #held: string[] = [];

  constructor(options: EventsOptions) {
    this.#options = options;
  }

  /** Logs, counts and publishes `raw` (or holds it until the session is up). */
  emit(raw: AgentEvent): void {
    const { log, metrics, topic } = this.#options;
    const event = boundedEvent(raw);
    const fields: LogFields = { plan: event.SourceID, key: event.Key, generation: event.Generation };
    for (const [name, value] of Object.entries(event)) {
      if (["Event", "SourceID", "Key", "Generation"].includes(name)) continue;
      if (value === null || ["string", "number", "boolean"].includes(typeof value)) {
        fields[name.toLowerCase()] = value as string | number | boolean | null;
      }
    }
    // A plan answered with a non-zero ErrorCode (a failed run, a refusal) is for an operator to look at.
    const failed = typeof event.ErrorCode === "number" && event.ErrorCode !== 0;
    (failed || WARNINGS.includes(event.Event) ? log.warn : log.info)(event.Event, fields);
    metrics?.event(event);
    const payload = JSON.stringify({ ...event, Time: new Date().toISOString() });
    const transport = this.#options.transport();
    if (transport?.connected) transport.publish(topic, payload, { qos: 0 });
    else if (this.#held.push(payload) > MAX_HELD_EVENTS) this.#held.shift();
  }

  /** The session is up: publishes the events held meanwhile, in order. */
  release(transport: Transport): void {
    for (const payload of this.#held.splice(0)) transport.publish(this.#options.topic, payload, { qos: 0 });
  }
}

/** The event with every long string field cut to {@link MAX_EVENT_FIELD} characters (and marked so). */
function boundedEvent(event: AgentEvent): AgentEvent {
  const bounded: AgentEvent = { ...event };
  for (const [name, value] of Object.entries(event)) {
    if (typeof value === "string" && value.length > MAX_EVENT_FIELD) {
      bounded[name] =
        `${value.slice(0, MAX_EVENT_FIELD)}… [${value.length - MAX_EVENT_FIELD} more characters]`;
    }
  }
  return bounded;
}
