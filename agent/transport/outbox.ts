/**
 * The outbox publisher: every reply is first committed to the journal's outbox, then published QoS 1; the
 * entry leaves the outbox only when the broker acknowledges it. `flush()` runs after each commit and after
 * every (re)connect; entries already handed to MQTT.js are not handed over twice.
 */
import { failpoint } from "../failpoint.ts";
import type { Journal } from "../journal/journal.ts";
import type { Logger } from "../log.ts";
import type { Transport } from "./port.ts";

export class Outbox {
  readonly #journal: Journal;
  readonly #log: Logger;
  readonly #inflight = new Set<number>();
  #transport: Transport | undefined;
  /** The highest outbox sequence handed to MQTT.js by this process. */
  #handed = 0;
  #idle: Array<() => void> = [];

  constructor(journal: Journal, log: Logger) {
    this.#journal = journal;
    this.#log = log;
  }

  attach(transport: Transport): void {
    this.#transport = transport;
  }

  get pending(): number {
    return this.#inflight.size;
  }

  /**
   * Hands unacknowledged replies to MQTT.js: after a commit only the new ones (cheap), after a (re)connect
   * (`everything`) all that are not already in flight.
   */
  flush(options: { everything?: boolean } = {}): void {
    const transport = this.#transport;
    if (!transport) return;
    const entries = this.#journal.outbox(options.everything ? 0 : this.#handed);
    for (const entry of entries) {
      this.#handed = Math.max(this.#handed, entry.seq);
      if (this.#inflight.has(entry.seq)) continue;
      this.#inflight.add(entry.seq);
      const correlationData =
        entry.correlationData === undefined ? undefined : Buffer.from(entry.correlationData, "base64");
      transport.publish(
        entry.topic,
        entry.payload,
        { qos: 1, ...(correlationData ? { correlationData } : {}) },
        (error) => {
          if (error) {
            this.#log.warn("publish-failed", { topic: entry.topic, seq: entry.seq, message: error.message });
            this.#settled(entry.seq);
            return;
          }
          failpoint("after-publish");
          this.#log.debug("published", { topic: entry.topic, seq: entry.seq });
          // Stays in flight until its removal is committed, or a flush in between would publish it again.
          this.#journal.removeOutbox(entry.seq).then(
            () => this.#settled(entry.seq),
            () => this.#settled(entry.seq),
          );
        },
      );
    }
  }

  #settled(seq: number): void {
    this.#inflight.delete(seq);
    if (this.#inflight.size === 0) for (const resolve of this.#idle.splice(0)) resolve();
  }

  /** Resolves when nothing handed to MQTT.js is waiting for an acknowledgement, or after `timeoutMs`. */
  settle(timeoutMs: number): Promise<void> {
    if (this.#inflight.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#idle.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
