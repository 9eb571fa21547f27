/**
 * The journal's writes: {@link Commits.commit} runs one write callback in one transaction and resolves only once
 * it is fsynced (the environment is opened with overlappingSync off, so "resolved" means "durable"). A commit
 * that cannot become durable rejects with {@link JournalUnavailable} (the environment's fault, SPEC 5.4); whatever
 * the write callback throws is rethrown as it is.
 *
 * Commits issued in the same event-loop turn make one batch, committed when the turn ends (`setImmediate`) in one
 * synchronous LMDB write transaction on the event loop's thread, so one fsync; each is still its own child
 * transaction: one that throws leaves the others' writes alone. Not lmdb-js's asynchronous transactions: each of
 * those hands the batch to lmdb's write thread, which calls back into the event loop to run the callbacks, then
 * commits and signals back — three thread wake-ups per commit, measured at 2.1 ms per awaited commit against
 * 0.9 ms for the same commit made synchronously, and in the agent 5 ms from issue to durable against 2.4 ms
 * (docs/benchmarks.md, "Session 9"). The price: the event loop waits for each batch's fsync (0.3–3 ms measured),
 * and a disk that stops answering stops the agent's event loop with it (docs/reliability.md, "What waits for an
 * fsync").
 *
 * Writes that no guarantee needs durable at once (a script's process group, an acknowledged reply's removal) go
 * through {@link Commits.defer}: they ride in the next commit's batch, whoever issues it, and cost no fsync of
 * their own unless nothing commits within {@link DEFER_MS} (docs/reliability.md, "deferred writes").
 *
 * A {@link BatchFollower} (the runner's starts, pipeline/run.ts) writes at the end of every batch, in the same
 * transaction: a plan's start rides in the commit that made it startable — its decision, or the result of the
 * plan before it — and shares that fsync (issue 11).
 */
import type { Database, RootDatabase } from "lmdb";
import { describe, JournalUnavailable } from "../errors.ts";
import { failpoint } from "../failpoint.ts";
import type { DecodedCache } from "./decoded_cache.ts";
import type { JournalWriter, OutboxEntry, QueueEntry, SeenEntry } from "./entries.ts";
import type { ExpiryIndex } from "./expiry_index.ts";
import type { QueueIndex, Undo } from "./queue_index.ts";
import type { JournalRecord } from "./record_shape.ts";

/**
 * How long a deferred write may wait for a commit to ride in before it is committed on its own, in ms: an
 * operator sees a running script's process group within about this long.
 */
export const DEFER_MS = 1_000;

/** The journal's LMDB tables, as `journal.ts` opened them. */
export interface Tables {
  root: RootDatabase;
  records: Database<JournalRecord, string>;
  queue: Database<QueueEntry, number>;
  outbox: Database<OutboxEntry, number>;
  meta: Database<number | string, string>;
  seen: Database<SeenEntry, string>;
  deliveries: Database<number, string>;
  expiry: ExpiryIndex;
  /** The queue by key, in memory (`queue_index.ts`): changed with the queue, undone with a write that is not kept. */
  queueIndex: QueueIndex;
  /** The reads of records, queue entries and plan IDs, decoded once per stored version (`decoded_cache.ts`). */
  decoded: {
    records: DecodedCache<string, JournalRecord>;
    queue: DecodedCache<number, QueueEntry>;
    seen: DecodedCache<string, SeenEntry>;
  };
}

/**
 * Called at the end of every batch's transaction, after the batch's writes and in a child transaction of its own
 * (reads see those writes): it may write more, and returns what to call once the fate of its writes is known —
 * `true`: durable; `false`: not kept (the batch failed, or its own child transaction could not be committed: the
 * batch's other writes are kept then). Should it throw, its own writes are dropped (the batch's are kept) and it
 * is told nothing: it must undo what it noted before throwing.
 */
export type BatchFollower = (tx: JournalWriter) => ((durable: boolean) => void) | undefined;

/** A write waiting for this turn's batch ({@link Commits.commit}) or for the next commit ({@link Commits.defer}). */
interface Pending {
  write: (tx: JournalWriter) => void;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class Commits {
  readonly #tables: Tables;
  /** The journal's folder, for messages. */
  readonly #path: string;
  #queueSeq: number;
  #outboxSeq: number;
  #deferred: Pending[] = [];
  /** The writes of this turn's batch, committed together at its end. */
  #batch: Pending[] = [];
  #deferTimer: ReturnType<typeof setTimeout> | undefined;
  /** What every write callback gets: one object for the journal's life (it holds no state of a transaction). */
  readonly #writer: JournalWriter;
  #follower: BatchFollower | undefined;
  /**
   * The undos of the queue index's changes made by the write running now (its child transaction's). The index
   * stays the table's only if every queue write goes through the writer inside `#commitBatch`'s child
   * transactions, as all of them do (`queue_index.ts`).
   */
  #undos: Undo[] = [];

  constructor(tables: Tables, path: string) {
    this.#tables = tables;
    this.#path = path;
    this.#queueSeq = lastKey(tables.queue);
    this.#outboxSeq = lastKey(tables.outbox);
    this.#writer = this.#makeWriter();
  }

  /** Sets the one {@link BatchFollower} (undefined: none). */
  follow(follower: BatchFollower | undefined): void {
    this.#follower = follower;
  }

  /** True while deferred writes wait for a commit. */
  get deferring(): boolean {
    return this.#deferred.length > 0;
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
      this.#deferTimer = setTimeout(() => {
        failpoint("deferred-commit");
        this.#flushDeferred();
      }, DEFER_MS);
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

  #makeWriter(): JournalWriter {
    const { records, queue, outbox, meta, seen, deliveries, expiry, decoded, queueIndex } = this.#tables;
    return {
      // The expiry index changes in the same transaction as what it indexes (`expiry_index.ts`).
      putRecord: (record) => {
        expiry.recordChanged(record.key, record);
        void records.put(record.key, record);
        decoded.records.remember(record.key, record);
      },
      removeRecord: (key) => {
        expiry.recordChanged(key, undefined);
        void records.remove(key);
      },
      enqueue: (entry) => {
        const seq = ++this.#queueSeq;
        const queued = { since: new Date().toISOString(), ...entry, seq };
        queue.put(seq, queued);
        decoded.queue.remember(seq, queued);
        this.#undos.push(queueIndex.add(seq, entry.key));
        return seq;
      },
      dequeue: (seq) => {
        void queue.remove(seq);
        this.#undos.push(queueIndex.remove(seq));
      },
      addOutbox: (entry) => {
        const seq = ++this.#outboxSeq;
        outbox.put(seq, { since: new Date().toISOString(), ...entry, seq });
        return seq;
      },
      setHighWater: (generation) => void meta.put("generation", generation),
      setInstance: (id) => void meta.put("instance", id),
      markSeen: (planId, entry) => {
        expiry.seenChanged(planId, entry);
        void seen.put(planId, entry);
        decoded.seen.remember(planId, entry);
      },
      forgetSeen: (planId) => {
        expiry.seenChanged(planId, undefined);
        void seen.remove(planId);
      },
      clearDeliveries: (hash) => {
        if (deliveries.get(hash) !== undefined) deliveries.remove(hash);
      },
    };
  }

  /**
   * Queues `write` for this turn's batch (committed when the turn ends: `setImmediate`); resolves once the batch
   * is durable, rejects with what `write` threw (its child transaction aborted, the batch's other writes kept) or,
   * when the batch could not be committed, with {@link JournalUnavailable}.
   */
  #transact(write: (tx: JournalWriter) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#batch.push({ write, resolve, reject });
      if (this.#batch.length === 1) setImmediate(() => this.#commitBatch());
    });
  }

  /** Commits this turn's batch now rather than when the turn ends (`Journal.close`); nothing when it is empty. */
  commitPending(): void {
    this.#commitBatch();
  }

  /**
   * Commits the batch in one synchronous write transaction on this thread, each write in a child transaction of
   * its own (one that throws leaves the others' writes alone), then settles each write's promise. lmdb commits a
   * synchronous transaction with its fsync before it returns (overlappingSync off): "resolved" means "durable".
   */
  #commitBatch(): void {
    if (this.#batch.length === 0) return; // committed early (commitPending)
    const batch = this.#batch.splice(0);
    const { root, decoded } = this.#tables;
    const tx = this.#writer;
    const thrown = new Map<Pending, unknown>();
    let settle: ((durable: boolean) => void) | undefined;
    // The queue index's changes of the writes kept so far, one list per write: undone if the batch is not
    // committed.
    const kept: Undo[][] = [];
    // Runs `write` in a child transaction; its queue index changes are kept with it or undone with it. Nothing
    // that can throw comes after the child's commit: a write kept by LMDB keeps its index changes.
    const child = (write: () => void) => {
      const undos: Undo[] = [];
      this.#undos = undos;
      try {
        root.childTransaction(write);
      } catch (error) {
        for (const undo of undos.reverse()) undo();
        throw error;
      } finally {
        this.#undos = [];
      }
      kept.push(undos);
    };
    try {
      root.transactionSync(() => {
        for (const pending of batch) {
          try {
            child(() => pending.write(tx));
          } catch (error) {
            thrown.set(pending, error);
          }
        }
        const follower = this.#follower;
        if (follower === undefined) return;
        let told: ((durable: boolean) => void) | undefined;
        try {
          child(() => {
            told = follower(tx);
          });
          settle = told;
        } catch {
          // Its writes are dropped: when it threw, it undid what it noted (BatchFollower); when it had returned and
          // its child transaction failed to commit, it is told now that nothing of its writes is kept.
          told?.(false);
        }
      });
    } catch (error) {
      for (const undos of kept.reverse()) for (const undo of undos.reverse()) undo();
      // Nothing decoded while this batch was being written outlives it (the bytes would tell, but cheaply sure).
      for (const cache of Object.values(decoded)) cache.clear();
      const failure = commitFailure(error, this.#path);
      for (const pending of batch) {
        if (thrown.has(pending)) pending.reject(thrown.get(pending));
        else failure.then(pending.reject);
      }
      settle?.(false);
      return;
    }
    for (const pending of batch) {
      if (thrown.has(pending)) pending.reject(thrown.get(pending));
      else pending.resolve();
    }
    settle?.(true);
  }
}

/**
 * lmdb rejects a failed commit with a generic error whose `commitError` is a second, rejected promise holding
 * the cause (ENOSPC, say). Unobserved, that promise would crash the process: observe it and say what failed.
 */
export async function commitFailure(error: unknown, path: string): Promise<JournalUnavailable> {
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
