/**
 * The journal: one LMDB environment under the data dir, holding every durable fact of the agent.
 *
 * - `records`: key → JournalRecord (SPEC 5.1)
 * - `queue`:   seq → QueueEntry, plans whose decision was "run", in arrival order, until their execution ends
 * - `outbox`:  seq → OutboxEntry, replies not yet acknowledged by the broker
 * - `seen`:    plan ID → the decision it got, so a redelivered message is recognised and not decided twice
 * - `meta`:    the generation high-water mark
 *
 * All writes of one pipeline step go through {@link Journal.commit}: one transaction, resolved only once it is
 * fsynced (overlappingSync is off so that "resolved" means "durable").
 */
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Database, open, type RootDatabase } from "lmdb";
import { IdemError } from "../errors.ts";
import type { JournalRecord, ReplyTarget } from "../mod.ts";
import { prepareNativeAddon } from "../native/lmdb_addon.ts";

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
}

/** A reply waiting for the broker's PUBACK. */
export interface OutboxEntry {
  seq: number;
  topic: string;
  payload: string;
  /** MQTT 5 correlation data, base64. */
  correlationData?: string;
}

/** What a plan ID was decided as (kept for the retention period). */
export interface SeenEntry {
  key: string | null;
  decision: string;
  time: string;
}

export interface JournalWriter {
  putRecord(record: JournalRecord): void;
  removeRecord(key: string): void;
  enqueue(entry: Omit<QueueEntry, "seq">): number;
  dequeue(seq: number): void;
  addOutbox(entry: Omit<OutboxEntry, "seq">): number;
  setHighWater(generation: number): void;
  markSeen(planId: string, entry: SeenEntry): void;
  forgetSeen(planId: string): void;
}

export class Journal {
  readonly bootId: string = randomUUID();
  readonly path: string;
  readonly #root: RootDatabase;
  readonly #records: Database<JournalRecord, string>;
  readonly #queue: Database<QueueEntry, number>;
  readonly #outbox: Database<OutboxEntry, number>;
  readonly #meta: Database<number, string>;
  readonly #seen: Database<SeenEntry, string>;
  #queueSeq: number;
  #outboxSeq: number;

  private constructor(path: string) {
    this.path = path;
    this.#root = open({ path, overlappingSync: false, maxDbs: 8, mapSize: 1024 * 1024 * 1024 });
    this.#records = this.#root.openDB({ name: "records" });
    this.#queue = this.#root.openDB({ name: "queue" });
    this.#outbox = this.#root.openDB({ name: "outbox" });
    this.#meta = this.#root.openDB({ name: "meta" });
    this.#seen = this.#root.openDB({ name: "seen" });
    this.#queueSeq = lastKey(this.#queue);
    this.#outboxSeq = lastKey(this.#outbox);
  }

  /** Opens (creating if needed) the journal under `<dataDir>/journal`. */
  static open(dataDir: string): Journal {
    // In the single executable the LMDB addon is unpacked into a cache folder first (IDEM_CACHE_DIR wins).
    prepareNativeAddon({ cacheDir: join(dataDir, "cache") });
    const path = join(dataDir, "journal");
    try {
      mkdirSync(path, { recursive: true });
      return new Journal(path);
    } catch (cause) {
      throw new IdemError(
        2,
        `Cannot open the journal in ${path}: ${(cause as Error).message}. Check that the data dir is writable and not used by another agent`,
        { cause },
      );
    }
  }

  record(key: string): JournalRecord | undefined {
    return this.#records.get(key);
  }

  *records(): Iterable<JournalRecord> {
    for (const { value } of this.#records.getRange()) yield value;
  }

  queued(): QueueEntry[] {
    return [...this.pending()];
  }

  /** How many plans are queued (keys only: no plan is decoded). */
  queueLength(): number {
    let count = 0;
    for (const _ of this.#queue.getKeys()) count++;
    return count;
  }

  /** True when a plan of `key` other than `exceptSeq` is queued. Stops at the first one found. */
  hasQueued(key: string, exceptSeq: number): boolean {
    for (const entry of this.pending()) if (entry.key === key && entry.seq !== exceptSeq) return true;
    return false;
  }

  /** The queue in arrival order, read lazily: stop early and the rest is never decoded. */
  *pending(): Iterable<QueueEntry> {
    for (const { value } of this.#queue.getRange()) yield value;
  }

  /** Replies not yet acknowledged, oldest first; from `afterSeq` on when given. */
  outbox(afterSeq = 0): OutboxEntry[] {
    return [...this.#outbox.getRange({ start: afterSeq + 1 })].map(({ value }) => value);
  }

  seen(planId: string): SeenEntry | undefined {
    return this.#seen.get(planId);
  }

  *seenEntries(): Iterable<{ planId: string; entry: SeenEntry }> {
    for (const { key, value } of this.#seen.getRange()) yield { planId: key, entry: value };
  }

  highWater(): number {
    return this.#meta.get("generation") ?? 0;
  }

  /** Runs `write` in one transaction and resolves once it is durable on disk; a throw aborts all of it. */
  async commit(write: (tx: JournalWriter) => void): Promise<void> {
    const tx: JournalWriter = {
      putRecord: (record) => void this.#records.put(record.key, record),
      removeRecord: (key) => void this.#records.remove(key),
      enqueue: (entry) => {
        const seq = ++this.#queueSeq;
        this.#queue.put(seq, { ...entry, seq });
        return seq;
      },
      dequeue: (seq) => void this.#queue.remove(seq),
      addOutbox: (entry) => {
        const seq = ++this.#outboxSeq;
        this.#outbox.put(seq, { ...entry, seq });
        return seq;
      },
      setHighWater: (generation) => void this.#meta.put("generation", generation),
      markSeen: (planId, entry) => void this.#seen.put(planId, entry),
      forgetSeen: (planId) => void this.#seen.remove(planId),
    };
    // Transaction callbacks run one after another, so sequence numbers taken inside them never clash. A child
    // transaction, so that a callback that throws leaves nothing behind (a plain one would keep its writes).
    try {
      await this.#root.childTransaction(() => write(tx));
    } catch (error) {
      throw await commitFailure(error, this.path);
    }
  }

  /** Removes an acknowledged reply. Losing it (a crash, a full disk) only means a re-send. */
  async removeOutbox(seq: number): Promise<boolean> {
    try {
      return await this.#outbox.remove(seq);
    } catch (error) {
      throw await commitFailure(error, this.path);
    }
  }

  async close(): Promise<void> {
    await this.#root.close();
  }
}

/**
 * lmdb rejects a failed commit with a generic error whose `commitError` is a second, rejected promise holding
 * the cause (ENOSPC, say). Unobserved, that promise would crash the process: observe it and say what failed.
 */
async function commitFailure(error: unknown, path: string): Promise<Error> {
  const pending = (error as { commitError?: Promise<unknown> } | null)?.commitError;
  let cause: unknown = error;
  if (pending && typeof pending.then === "function") {
    cause = await pending.then(
      () => error,
      (inner: unknown) => inner,
    );
  }
  const message = cause instanceof Error ? cause.message : String(cause);
  return new Error(`Cannot commit to the journal in ${path}: ${message}`, { cause });
}

function lastKey(db: Database<unknown, number>): number {
  for (const key of db.getKeys({ reverse: true, limit: 1 })) return key;
  return 0;
}
