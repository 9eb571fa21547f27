/**
 * The outbox publisher: every reply is first committed to the journal's outbox, then published QoS 1; the
 * entry leaves the outbox only when the broker acknowledges it (its removal is a deferred write: it rides in the
 * journal's next commit, without an fsync of its own — at once while {@link Outbox.settle} waits; a crash before
 * that re-sends the reply). `flush()` runs after each commit and after
 * every (re)connect; entries already handed to MQTT.js are not handed over twice.
 *
 * No entry blocks the outbox (SPEC 2). A reply the broker will not take shows up as a refusal
 * ({@link PublishRefused}) or as a connection lost while it was in flight ({@link PublishLost}: mosquitto hangs
 * up on an oversize packet or a malformed topic, and so does any 3.1.1 broker that refuses a publish).
 * - A connection lost with several replies in flight makes them all *suspects*: they are sent again one at a
 *   time, each only when nothing else is in flight, until each is acknowledged or proven bad. Healthy replies
 *   go out as usual in between (never while a suspect is in flight).
 * - A reply refused, or in flight alone when the broker hung up (not when the node went away: `loss.ts`), gets
 *   a *strike*. Strikes are kept in memory: a restart counts afresh, and the bound still ends it (the first loss
 *   after a restart makes suspects, isolation then finds the culprit again).
 * - After `maxStrikes` strikes (at once when the refusal is certain) the entry is replaced durably, in one
 *   commit, by its truncated form (same SourceID, ErrorCode and Idem facts, the Body replaced by
 *   `{Message, AdditionalInfo: {Truncated: true, Bytes}}`) on the same topic; when that is refused as well, by
 *   the same on the agent's default results topic; when even that is refused, it is dropped with an error log.
 */
import { describe, failureKind } from "../errors.ts";
import { failpoint } from "../failpoint.ts";
import type { Journal, OutboxEntry } from "../journal/journal.ts";
import type { LogFields, Logger } from "../log.ts";
import { replacementPayload } from "../pipeline/reply.ts";
import { backoff, retry } from "../retry.ts";
import { PublishLost, PublishRefused } from "./in_flight.ts";
import type { Transport } from "./port.ts";
import { printableTopic, topicNameProblem } from "./topic.ts";

export interface OutboxOptions {
  log: Logger;
  /** The agent's default results topic (`P/A/results`): where a reply goes when its own topic is refused. */
  defaultTopic: string;
  /** Strikes (refusals, or losses while alone in flight) before a reply is replaced. Default 3. */
  maxStrikes?: number;
  /** Delay before a refused reply is sent again, doubling with each strike, in ms. Default 500. */
  retryDelayMs?: number;
  /** A reply left the outbox (acknowledged, or dropped): the status shows its depth. Default: nothing. */
  onChange?: () => void;
}

interface Flight {
  entry: OutboxEntry;
  suspect: boolean;
  /** Acknowledged by the broker, its removal not yet committed: it holds back no suspect. */
  answered?: boolean;
}

export class Outbox {
  readonly #journal: Journal;
  readonly #log: Logger;
  readonly #defaultTopic: string;
  readonly #maxStrikes: number;
  readonly #retryDelayMs: number;
  readonly #onChange: () => void;
  #transport: Transport | undefined;
  /** The highest outbox sequence read by a flush: later flushes after a commit read only what follows. */
  #handed = 0;
  /** Handed to MQTT.js and not answered yet, or acknowledged and its removal not yet committed. */
  readonly #inflight = new Map<number, Flight>();
  /** In flight when the connection was lost: sent again one at a time. */
  readonly #suspects = new Set<number>();
  readonly #strikes = new Map<number, number>();
  /** Not to be sent now: waiting out the delay after a refusal, or being replaced. */
  readonly #held = new Set<number>();
  /** Read before (seq ≤ #handed) and to be sent again at the next chance. */
  readonly #again = new Set<number>();
  /** Reported lost by one connection's close, gathered until the end of the current turn. */
  #lost: Array<{ entry: OutboxEntry; error: PublishLost }> = [];
  #idle: Array<() => void> = [];

  constructor(journal: Journal, options: OutboxOptions) {
    this.#journal = journal;
    this.#log = options.log;
    this.#defaultTopic = options.defaultTopic;
    this.#maxStrikes = options.maxStrikes ?? 3;
    this.#retryDelayMs = options.retryDelayMs ?? 500;
    this.#onChange = options.onChange ?? (() => {});
  }

  attach(transport: Transport): void {
    this.#transport = transport;
  }

  get pending(): number {
    return this.#inflight.size;
  }

  /**
   * Hands unacknowledged replies to MQTT.js: after a commit only the new ones (cheap), after a (re)connect
   * (`everything`) all that are not already in flight. Suspects go one at a time, when nothing else is in flight.
   */
  flush(options: { everything?: boolean } = {}): void {
    const transport = this.#transport;
    if (!transport?.connected) return; // the next connect flushes everything
    // One suspect alone: wait for its acknowledgement (not for its removal commit, a deferred write of ≤ 1 s).
    if ([...this.#inflight.values()].some((flight) => flight.suspect && !flight.answered)) return;
    // While a suspect waits for its turn, nothing more is handed over until what is in flight is answered.
    const suspectWaiting = [...this.#suspects].some((seq) => !this.#held.has(seq));
    if (!(suspectWaiting && this.#unanswered() > 0)) {
      for (const entry of this.#journal.outbox(options.everything ? 0 : this.#handed)) {
        this.#handed = Math.max(this.#handed, entry.seq);
        this.#again.delete(entry.seq);
        if (!this.#busy(entry.seq)) this.#send(transport, entry, false);
      }
      for (const seq of [...this.#again]) {
        this.#again.delete(seq);
        const entry = this.#busy(seq) ? undefined : this.#journal.outboxEntry(seq);
        if (entry) this.#send(transport, entry, false);
      }
    }
    if (this.#unanswered() === 0) this.#sendSuspect(transport);
  }

  /** Handed to MQTT.js and not acknowledged yet. */
  #unanswered(): number {
    let count = 0;
    for (const flight of this.#inflight.values()) if (!flight.answered) count += 1;
    return count;
  }

  /**
   * Resolves when nothing handed to MQTT.js is waiting for its acknowledgement or its removal commit, or after
   * `timeoutMs`. Meanwhile the removals go out at once instead of riding in a later commit (a deferred write waits
   * up to 1 s: a stop took a second longer than its work).
   */
  settle(timeoutMs: number): Promise<void> {
    if (this.#inflight.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const settled = () => {
        clearTimeout(timer);
        resolve();
      };
      // A settle that gives up is no longer waiting: the removals go back to riding in later commits.
      const timer = setTimeout(() => {
        this.#idle = this.#idle.filter((waiting) => waiting !== settled);
        resolve();
      }, timeoutMs);
      this.#idle.push(settled);
      this.#hurry();
    });
  }

  /** Commits the deferred removals now, while a {@link settle} waits (journal.ts `commitDeferred`). */
  #hurry(): void {
    void this.#journal.commitDeferred();
  }

  #busy(seq: number): boolean {
    return this.#inflight.has(seq) || this.#suspects.has(seq) || this.#held.has(seq);
  }

  /** The suspect with the fewest strikes (then the oldest), alone. */
  #sendSuspect(transport: Transport): void {
    const candidates = [...this.#suspects]
      .filter((seq) => !this.#held.has(seq))
      .sort((a, b) => (this.#strikes.get(a) ?? 0) - (this.#strikes.get(b) ?? 0) || a - b);
    for (const seq of candidates) {
      const entry = this.#journal.outboxEntry(seq);
      if (entry === undefined) {
        this.#forget(seq);
        continue;
      }
      this.#send(transport, entry, true);
      return;
    }
  }

  #send(transport: Transport, entry: OutboxEntry, suspect: boolean): void {
    this.#inflight.set(entry.seq, { entry, suspect });
    const correlationData =
      entry.correlationData === undefined ? undefined : Buffer.from(entry.correlationData, "base64");
    transport.publish(
      entry.topic,
      entry.payload,
      { qos: 1, ...(correlationData ? { correlationData } : {}) },
      (error) => this.#answered(entry, error),
    );
  }

  #answered(entry: OutboxEntry, error: Error | undefined): void {
    const { seq } = entry;
    if (error === undefined) {
      failpoint("after-publish");
      this.#log.debug("published", {
        topic: printableTopic(entry.topic),
        seq,
        plan: sourceIdOf(entry.payload),
      });
      if (this.#strikes.has(seq)) this.#log.info("reply-delivered", this.#fields(entry));
      // Proven good: the next suspect goes now. A node killed with 70 replies in flight drained them at one a
      // second while each suspect waited for its removal commit (issue 13, test/transport/outbox_isolation).
      const flight = this.#inflight.get(seq);
      if (flight) flight.answered = true;
      this.#suspects.delete(seq);
      // Stays in flight until its removal is committed, or a flush in between would publish it again. The
      // removal rides in the next commit (journal.defer): losing it in a crash only re-sends the reply.
      this.#journal.removeOutboxLater(seq).then(
        () => this.#done(seq),
        (failure: unknown) => {
          this.#log.warn("outbox-remove-failed", { seq, message: describe(failure) });
          this.#done(seq);
        },
      );
      if (this.#idle.length > 0) this.#hurry();
      if (this.#suspects.size > 0) this.flush();
      return;
    }
    this.#inflight.delete(seq);
    if (error instanceof PublishLost) {
      // Every publish of the closed connection is reported in the same turn: count them all, then judge.
      if (this.#lost.push({ entry, error }) === 1) queueMicrotask(() => this.#judgeLoss());
    } else {
      // Refused on a live connection: whatever it is, it did not make the broker hang up.
      this.#suspects.delete(seq);
      const certain = error instanceof PublishRefused && error.certain;
      this.#strike(entry, describe(error), certain);
    }
    this.#settled();
    this.flush();
  }

  /** Removes an acknowledged entry's bookkeeping. */
  #done(seq: number): void {
    this.#inflight.delete(seq);
    this.#forget(seq);
    this.#settled();
    this.flush();
    this.#onChange();
  }

  #judgeLoss(): void {
    const lost = this.#lost.splice(0);
    for (const { entry } of lost) this.#suspects.add(entry.seq);
    const [alone] = lost;
    if (lost.length === 1 && alone) {
      this.#judgeAlone(alone.entry, alone.error);
    } else {
      this.#log.warn("outbox-isolating", { suspects: this.#suspects.size, lost: lost.length });
    }
  }

  /**
   * A reply lost alone with its connection: a strike only when the broker refused it, not when the node went away
   * (`loss.ts` asks the node). Held, not sent again, until judged: its strikes stay in order.
   */
  #judgeAlone(entry: OutboxEntry, error: PublishLost): void {
    const { seq } = entry;
    this.#held.add(seq);
    const verdict = error.connection?.verdict() ?? Promise.resolve({ reply: false, why: error.message });
    void verdict.then(({ reply, why }) => {
      this.#held.delete(seq);
      if (reply) this.#strike(entry, why, false);
      else this.#log.info("reply-lost", { ...this.#fields(entry), counted: false, reason: why });
      this.flush();
    });
  }

  #strike(entry: OutboxEntry, reason: string, certain: boolean): void {
    const { seq } = entry;
    const strikes = certain ? this.#maxStrikes : (this.#strikes.get(seq) ?? 0) + 1;
    this.#strikes.set(seq, strikes);
    this.#log.warn("reply-refused", {
      ...this.#fields(entry),
      strike: strikes,
      of: this.#maxStrikes,
      reason,
    });
    if (strikes >= this.#maxStrikes) {
      this.#replace(seq, reason).catch((error: unknown) =>
        this.#log.error("reply-replace-failed", { seq, kind: failureKind(error), message: describe(error) }),
      );
      return;
    }
    if (this.#suspects.has(seq)) return; // tried again alone, after the reconnect
    this.#held.add(seq);
    const delay = backoff(strikes, { minTimeout: this.#retryDelayMs });
    setTimeout(() => {
      this.#held.delete(seq);
      this.#again.add(seq);
      this.flush();
    }, delay).unref();
  }

  /** Replaces entry `seq` by the next reply of the chain (see the file's comment), or drops it at its end. */
  async #replace(seq: number, reason: string): Promise<void> {
    this.#held.add(seq);
    try {
      const entry = this.#journal.outboxEntry(seq);
      if (entry === undefined) return this.#forget(seq);
      const next = this.#successor(entry, reason);
      if (next === undefined) {
        await retry(() => this.#journal.removeOutbox(seq), { maxAttempts: 5 });
        this.#log.error("reply-dropped", { ...this.#fields(entry), reason });
        this.#onChange();
        return this.#forget(seq);
      }
      await retry(() => this.#journal.replaceOutbox(seq, next), { maxAttempts: 5 });
      this.#strikes.delete(seq);
      this.#log.warn("reply-replaced", {
        ...this.#fields(entry),
        reason,
        stage: next.replaced,
        to: printableTopic(next.topic),
        replacementBytes: Buffer.byteLength(next.payload),
      });
      if (!this.#suspects.has(seq)) this.#again.add(seq);
    } catch (error) {
      // The entry stays as it was, struck out: the next refusal tries the replacement again.
      this.#log.error("reply-replace-failed", { seq, kind: failureKind(error), message: describe(error) });
      if (!this.#suspects.has(seq)) this.#again.add(seq);
    } finally {
      this.#held.delete(seq);
      this.flush();
    }
  }

  /** What replaces `entry`: its truncated form on its topic, then on the default topic; undefined: drop it. */
  #successor(entry: OutboxEntry, reason: string): Omit<OutboxEntry, "seq"> | undefined {
    const stage = entry.replaced ?? 0;
    const { seq: _, ...rest } = entry;
    const truncated = () => (stage === 0 ? replacementPayload(entry.payload, { reason }) : entry.payload);
    // A topic that is no topic name is refused again whatever is sent to it: straight to the default topic.
    if (stage === 0 && topicNameProblem(entry.topic) === undefined) {
      const payload = truncated();
      return payload === undefined ? undefined : { ...rest, payload, replaced: 1 };
    }
    if (stage < 2 && entry.topic !== this.#defaultTopic) {
      const payload = truncated();
      return payload === undefined ? undefined : { ...rest, topic: this.#defaultTopic, payload, replaced: 2 };
    }
    return undefined;
  }

  #forget(seq: number): void {
    this.#strikes.delete(seq);
    this.#suspects.delete(seq);
    this.#again.delete(seq);
  }

  #settled(): void {
    if (this.#inflight.size === 0) for (const resolve of this.#idle.splice(0)) resolve();
  }

  /** What an operator greps a reply by: its outbox seq, SourceID (`plan`), topic and size. */
  #fields(entry: OutboxEntry): LogFields {
    return {
      seq: entry.seq,
      plan: sourceIdOf(entry.payload),
      topic: printableTopic(entry.topic),
      bytes: Buffer.byteLength(entry.payload),
      ...(entry.replaced ? { replaced: entry.replaced } : {}),
    };
  }
}

/** The SourceID of a result message, read from its head (no full parse of a large payload). */
function sourceIdOf(payload: string): string | undefined {
  return /"SourceID":"((?:[^"\\]|\\.)*)"/.exec(payload.slice(0, 512))?.[1];
}
