/**
 * The journal: one LMDB environment under the data dir, holding every durable fact of the agent.
 *
 * - `records`: key → JournalRecord (SPEC 5.1)
 * - `queue`:   seq → QueueEntry, plans whose decision was "run", in arrival order, until their execution ends
 * - `outbox`:  seq → OutboxEntry, replies not yet acknowledged by the broker
 * - `seen`:    plan ID → the decision it got and the content it had, so that the same ID sent again is
 *              answered as SPEC 5.2a says
 * - `deliveries`: payload hash → how many times the broker re-delivered it undecided (a crash loop's bound)
 * - `meta`:    the generation high-water mark, the schema version
 *
 * Records change only through the state machine in `record.ts`. All writes of one pipeline step go through
 * {@link Journal.commit}: one transaction, resolved only once it is fsynced (overlappingSync is off so that
 * "resolved" means "durable"). A commit that cannot become durable rejects with {@link JournalUnavailable}
 * (the environment's fault, SPEC 5.4); whatever the write callback throws is rethrown as it is.
 */
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type Database, open, type RootDatabase } from "lmdb";
import { describe, IdemError, JournalUnavailable } from "../errors.ts";
import type { ReplyTarget, StoredResult } from "../mod.ts";
import { prepareNativeAddon } from "../native/lmdb_addon.ts";
import { privateDir, privateFile } from "../private_files.ts";
import { checkJournalFiles } from "./precheck.ts";
import { type JournalRecord, upgradeRecord } from "./record.ts";

/** Makes the journal's files that exist mode 0600 (refused when another user owns them). */
function privateJournalFiles(path: string): void {
  for (const name of ["data.mdb", "lock.mdb"]) {
    const file = join(path, name);
    if (existsSync(file)) privateFile(file, `journal file`);
  }
}

/** Version of the journal's layout: 2 added record revisions and the key → queue index. */
const SCHEMA = 2;

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
  /**
   * Set when the broker would not take the reply (SPEC 2, `transport/outbox.ts`): 1 = replaced by its truncated
   * form on the same topic, 2 = that form moved to the agent's default results topic.
   */
  replaced?: 1 | 2;
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

export class Journal {
  readonly bootId: string = randomUUID();
  readonly path: string;
  readonly #root: RootDatabase;
  readonly #records: Database<JournalRecord, string>;
  readonly #queue: Database<QueueEntry, number>;
  readonly #outbox: Database<OutboxEntry, number>;
  readonly #meta: Database<number | string, string>;
  readonly #seen: Database<SeenEntry, string>;
  readonly #deliveries: Database<number, string>;
  #queueSeq: number;
  #outboxSeq: number;

  private constructor(path: string) {
    this.path = path;
    // New journal files are the agent's alone (SPEC 9a): lmdb's native `permissionsMode`, not in its types.
    const privateMode = { permissionsMode: 0o600 };
    this.#root = open({
      path,
      overlappingSync: false,
      maxDbs: 8,
      mapSize: 1024 * 1024 * 1024,
      ...privateMode,
    });
    this.#records = this.#root.openDB({ name: "records" });
    this.#queue = this.#root.openDB({ name: "queue" });
    this.#outbox = this.#root.openDB({ name: "outbox" });
    this.#meta = this.#root.openDB({ name: "meta" });
    this.#seen = this.#root.openDB({ name: "seen" });
    this.#deliveries = this.#root.openDB({ name: "deliveries" });
    this.#queueSeq = lastKey(this.#queue);
    this.#outboxSeq = lastKey(this.#outbox);
    if (Number(this.#meta.get("schema") ?? 1) < SCHEMA) this.#upgrade();
  }

  /** Schema 1 → 2: every record gets its revision and the sequence numbers of its queued plans. */
  #upgrade(): void {
    const queued = new Map<string, number[]>();
    for (const { value } of this.#queue.getRange()) {
      queued.set(value.key, [...(queued.get(value.key) ?? []), value.seq]);
    }
    this.#root.transactionSync(() => {
      for (const { value } of this.#records.getRange()) {
        this.#records.putSync(value.key, { ...upgradeRecord(value), queued: queued.get(value.key) ?? [] });
      }
      this.#meta.putSync("schema", SCHEMA);
    });
  }

  /**
   * Opens the journal under `<dataDir>/journal`, creating it unless `create` is false (then a missing journal is
   * an IdemError(2)). Its files are checked before LMDB maps them ({@link checkJournalFiles}). The caller owns
   * the data dir (`owner.ts`).
   */
  static open(dataDir: string, options: { create?: boolean } = {}): Journal {
    const path = join(dataDir, "journal");
    if (options.create === false && !existsSync(join(path, "data.mdb"))) {
      throw new IdemError(2, `Cannot find a journal in ${path}: is --data-dir the agent's data dir?`);
    }
    checkJournalFiles(path);
    // In the single executable the LMDB addon is unpacked into a cache folder first (IDEM_CACHE_DIR wins).
    prepareNativeAddon({ cacheDir: join(dataDir, "cache") });
    // Folder 0700, files 0600, whatever the umask and whoever made them before (`private_files.ts`).
    privateDir(path, { what: "journal folder" });
    privateJournalFiles(path);
    try {
      const journal = new Journal(path);
      try {
        privateJournalFiles(path);
      } catch (error) {
        void journal.close();
        throw error;
      }
      return journal;
    } catch (cause) {
      if (cause instanceof IdemError) throw cause;
      throw new IdemError(
        2,
        `Cannot open the journal in ${path}: ${(cause as Error).message}. Check that the data dir is writable and not used by another agent`,
        { cause },
      );
    }
  }

  record(key: string): JournalRecord | undefined {
    const stored = this.#records.get(key);
    return stored === undefined ? undefined : upgradeRecord(stored);
  }

  *records(): Iterable<JournalRecord> {
    for (const { value } of this.#records.getRange()) yield upgradeRecord(value);
  }

  /** The queue entry `seq`, if it is still queued. */
  queueEntry(seq: number): QueueEntry | undefined {
    return this.#queue.get(seq);
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

  /** The queue in arrival order, read lazily: stop early and the rest is never decoded. */
  *pending(): Iterable<QueueEntry> {
    for (const { value } of this.#queue.getRange()) yield value;
  }

  /** Replies not yet acknowledged, oldest first; from `afterSeq` on when given. */
  outbox(afterSeq = 0): OutboxEntry[] {
    return [...this.#outbox.getRange({ start: afterSeq + 1 })].map(({ value }) => value);
  }

  /** The outbox entry `seq`, if it is still waiting for the broker's acknowledgement. */
  outboxEntry(seq: number): OutboxEntry | undefined {
    return this.#outbox.get(seq);
  }

  seen(planId: string): SeenEntry | undefined {
    return this.#seen.get(planId);
  }

  *seenEntries(): Iterable<{ planId: string; entry: SeenEntry }> {
    for (const { key, value } of this.#seen.getRange()) yield { planId: key, entry: value };
  }

  /** How many times the payload with this hash was re-delivered without being decided. */
  deliveries(hash: string): number {
    return this.#deliveries.get(hash) ?? 0;
  }

  /** Counts one more re-delivery of an undecided payload, durably; resolves with the new count. */
  async countDelivery(hash: string): Promise<number> {
    let count = 0;
    await this.commit(() => {
      count = this.deliveries(hash) + 1;
      this.#deliveries.put(hash, count);
    });
    return count;
  }

  /** The identity of the VM this journal belongs to (`identity.ts`); undefined in a journal from before it. */
  instance(): string | undefined {
    const id = this.#meta.get("instance");
    return typeof id === "string" ? id : undefined;
  }

  highWater(): number {
    return Number(this.#meta.get("generation") ?? 0);
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
      setInstance: (id) => void this.#meta.put("instance", id),
      markSeen: (planId, entry) => void this.#seen.put(planId, entry),
      forgetSeen: (planId) => void this.#seen.remove(planId),
      clearDeliveries: (hash) => {
        if (this.#deliveries.get(hash) !== undefined) this.#deliveries.remove(hash);
      },
    };
    // Transaction callbacks run one after another, so sequence numbers taken inside them never clash. A child
    // transaction, so that a callback that throws leaves nothing behind (a plain one would keep its writes).
    let thrown: { error: unknown } | undefined;
    try {
      await this.#root.childTransaction(() => {
        try {
          write(tx);
        } catch (error) {
          thrown = { error };
          throw error;
        }
      });
    } catch (error) {
      if (thrown) throw thrown.error;
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

  /**
   * Replaces the outbox entry `seq` (same place in the outbox) with `entry`, in one durable commit; false when
   * `seq` is no longer there (acknowledged meanwhile), and then nothing is written.
   */
  async replaceOutbox(seq: number, entry: Omit<OutboxEntry, "seq">): Promise<boolean> {
    try {
      return await this.#root.transaction(() => {
        if (this.#outbox.get(seq) === undefined) return false;
        this.#outbox.put(seq, { ...entry, seq });
        return true;
      });
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
async function commitFailure(error: unknown, path: string): Promise<JournalUnavailable> {
  const pending = (error as { commitError?: Promise<unknown> } | null)?.commitError;
  let cause: unknown = error;
  if (pending && typeof pending.then === "function") {
    cause = await pending.then(
      () => error,
      (inner: unknown) => inner,
    );
  }
  const code = (cause as { code?: unknown } | null)?.code;
  const errno = typeof code === "string" ? code : undefined;
  return new JournalUnavailable(`Cannot commit to the journal in ${path}: ${describe(cause)}`, {
    cause,
    ...(errno === undefined ? {} : { errno }),
  });
}

function lastKey(db: Database<unknown, number>): number {
  for (const key of db.getKeys({ reverse: true, limit: 1 })) return key;
  return 0;
}
