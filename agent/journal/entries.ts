/**
 * What the journal's tables hold besides records (`record_shape.ts`): queue entries, outbox entries, the plan IDs
 * seen (SPEC 5.2a), and the writer a commit's callback gets (`commits.ts`). Types only.
 */
import type { ReplyTarget, StoredResult } from "../mod.ts";
import type { JournalRecord } from "./record_shape.ts";

/** A plan waiting for (or in) execution. */
export interface QueueEntry {
  seq: number;
  key: string;
  planId: string;
  /** The plan exactly as received, so that a restart can run it again. */
  planText: string;
  reply: ReplyTarget;
  fingerprint: string;
  policy: string;
  generation: number | null;
  timeoutSeconds: number | null;
  /** When it was queued (ISO 8601); absent in entries written before `idem inspect` existed. */
  since?: string;
}

/** A reply waiting for the broker's PUBACK. */
export interface OutboxEntry {
  seq: number;
  topic: string;
  payload: string;
  /** MQTT 5 correlation data, base64. */
  correlationData?: string;
  /**
   * Set when the broker would not take the reply (SPEC 2, `transport/outbox.ts`): 1 = replaced by its truncated
   * form on the same topic, 2 = that form moved to the agent's default results topic.
   */
  replaced?: 1 | 2;
  /** When the reply was first written (ISO 8601; a replacement keeps it); absent in older entries. */
  since?: string;
}

/** What a plan ID was decided as (kept for the retention period). */
export interface SeenEntry {
  key: string | null;
  decision: string;
  time: string;
  /** The plan's fingerprint, when it got that far (SPEC 5.2a: same ID, other content → 303). */
  fingerprint?: string | null;
  /** The result of this plan's own execution, kept so that the same ID sent again is answered with it. */
  result?: StoredResult;
  /** The plan whose execution answered this one (it joined it, or got its result replayed). */
  ranAs?: string;
}

/**
 * The writes of one commit (`commits.ts`). A record, queue entry or plan ID put is kept as the decoded form of
 * what was stored (`decoded_cache.ts`): it and everything nested in it become deep-frozen; build a new value to
 * change one, as `record.ts` does.
 */
export interface JournalWriter {
  putRecord(record: JournalRecord): void;
  removeRecord(key: string): void;
  enqueue(entry: Omit<QueueEntry, "seq">): number;
  dequeue(seq: number): void;
  addOutbox(entry: Omit<OutboxEntry, "seq">): number;
  setHighWater(generation: number): void;
  setInstance(id: string): void;
  markSeen(planId: string, entry: SeenEntry): void;
  forgetSeen(planId: string): void;
  /** Forgets the re-delivery count of a payload once it is decided. */
  clearDeliveries(hash: string): void;
}
