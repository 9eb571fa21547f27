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
 *
 * Commits issued in the same event-loop turn share one LMDB write batch, so one fsync (lmdb-js batches them;
 * measured: two `commit()`s in one turn, or one turn and a few microtasks apart, make one `fdatasync`). Each is
 * still its own child transaction: one that throws leaves the others' writes alone.
 *
 * Writes that no guarantee needs durable at once (a script's process group, an acknowledged reply's removal)
 * go through {@link Journal.defer}: they ride in the next commit's batch, whoever issues it, and cost no fsync
 * of their own unless nothing commits within {@link DEFER_MS} (docs/reliability.md, "deferred writes").
 */
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type Database, open, type RootDatabase } from "lmdb";
import { describe, IdemError, JournalUnavailable } from "../errors.ts";
import type { ReplyTarget, StoredResult } from "../mod.ts";
import { prepareNativeAddon } from "../native/lmdb_addon.ts";
import { privateDir, privateFile } from "../private_files.ts";
import { ExpiryIndex } from "./expiry_index.ts";
import { checkJournalFiles } from "./precheck.ts";
import { type JournalRecord, upgradeRecord } from "./record.ts";
import { upgradeJournal } from "./upgrade.ts";

/** Makes the journal's files that exist mode 0600 (refused when another user owns them). */
function privateJournalFiles(path: string): void {
  for (const name of ["data.mdb", "lock.mdb"]) {
    const file = join(path, name);
    if (existsSync(file)) privateFile(file, `journal file`);
  }
}

/**
 * How long a deferred write may wait for a commit to ride in before it is committed on its own, in ms: an
 * operator sees a running script's process group within about this long.
 */
export const DEFER_MS = 1_000;

/** A write waiting for the next commit ({@link Journal.defer}). */
interface Deferred {
  write: (tx: JournalWriter) => void;
  resolve: () => void;
  reject: (error: unknown) => void;
}

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
  readonly #expiry: ExpiryIndex;
  #queueSeq: number;
  #outboxSeq: number;
  #deferred: Deferred[] = [];
  #deferTimer: ReturnType<typeof setTimeout> | undefined;

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
    const dbs = { records: this.#records, seen: this.#seen, meta: this.#meta };
    this.#expiry = new ExpiryIndex(this.#root, dbs);
    upgradeJournal({ ...dbs, root: this.#root, queue: this.#queue, expiry: this.#expiry });
  }

  /** What expires when (`expiry_index.ts`): retention's reads and, inside a commit, its repairs. */
  get expiry(): ExpiryIndex {
    return this.#expiry;
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
    return this.#queue.getKeysCount();
  }

  /** How many replies wait for the broker's acknowledgement (keys only: no payload is decoded). */
  outboxLength(): number {
    return this.#outbox.getKeysCount();
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

  /**
   * Runs `write` in one transaction and resolves once it is durable on disk; a throw aborts all of it. Writes
   * deferred before ({@link defer}) are committed in the same batch, ahead of it, in a transaction of their own.
   */
  async commit(write: (tx: JournalWriter) => void): Promise<void> {
    this.#flushDeferred();
    return this.#transact(write);
  }

  /**
   * Queues `write` (run inside a transaction, like {@link commit}'s) for the next commit's batch, or a commit of
   * its own after {@link DEFER_MS} when none comes: nothing waits for its fsync. Deferred writes are applied in
   * the order they were deferred, before any write committed after them. Resolves once durable; rejects with
   * what the write threw (then none of the deferred writes of that batch are kept) or {@link JournalUnavailable}.
   * For writes whose loss in a crash is harmless by design (docs/reliability.md lists them).
   */
  defer(write: (tx: JournalWriter) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#deferred.push({ write, resolve, reject });
      if (this.#deferTimer !== undefined) return;
      this.#deferTimer = setTimeout(() => this.#flushDeferred(), DEFER_MS);
      this.#deferTimer.unref();
    });
  }

  /** Commits the deferred writes now, in one transaction of the current batch (not awaited here). */
  #flushDeferred(): void {
    clearTimeout(this.#deferTimer);
    this.#deferTimer = undefined;
    if (this.#deferred.length === 0) return;
    const taken = this.#deferred.splice(0);
    this.#transact((tx) => {
      for (const { write } of taken) write(tx);
    }).then(
      () => {
        for (const { resolve } of taken) resolve();
      },
      (error: unknown) => {
        for (const { reject } of taken) reject(error);
      },
    );
  }

  async #transact(write: (tx: JournalWriter) => void): Promise<void> {
    const tx: JournalWriter = {
      // The expiry index changes in the same transaction as what it indexes (`expiry_index.ts`).
      putRecord: (record) => {
        this.#expiry.recordChanged(record.key, record);
        void this.#records.put(record.key, record);
      },
      removeRecord: (key) => {
        this.#expiry.recordChanged(key, undefined);
        void this.#records.remove(key);
      },
      enqueue: (entry) => {
        const seq = ++this.#queueSeq;
        this.#queue.put(seq, { since: new Date().toISOString(), ...entry, seq });
        return seq;
      },
      dequeue: (seq) => void this.#queue.remove(seq),
      addOutbox: (entry) => {
        const seq = ++this.#outboxSeq;
        this.#outbox.put(seq, { since: new Date().toISOString(), ...entry, seq });
        return seq;
      },
      setHighWater: (generation) => void this.#meta.put("generation", generation),
      setInstance: (id) => void this.#meta.put("instance", id),
      markSeen: (planId, entry) => {
        this.#expiry.seenChanged(planId, entry);
        void this.#seen.put(planId, entry);
      },
      forgetSeen: (planId) => {
        this.#expiry.seenChanged(planId, undefined);
        void this.#seen.remove(planId);
      },
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

  /**
   * Removes an acknowledged reply in the next commit's batch ({@link defer}): losing the removal (a crash, a full
   * disk) only means a re-send, and results are at-least-once (SPEC 5.2a). Resolves once the removal is durable.
   */
  removeOutboxLater(seq: number): Promise<void> {
    return this.defer(() => void this.#outbox.remove(seq));
  }

  /** Removes an acknowledged reply, in a commit of its own. Losing it (a crash, a full disk) only means a re-send. */
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

  /** Commits what is deferred (best effort: it need not be durable), then closes the environment. */
  async close(): Promise<void> {
    const pending = this.#deferred.length > 0 ? this.commit(() => {}).catch(() => {}) : undefined;
    await pending;
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
