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
 * {@link Journal.commit}: one transaction, resolved only once it is durable; writes that may wait ride in the next
 * commit ({@link Journal.defer}). How: `commits.ts`. The entries' types: `entries.ts`. This file opens the
 * environment and is the read API.
 */
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { open, type RootDatabase } from "lmdb";
import { IdemError } from "../errors.ts";
import { prepareNativeAddon } from "../native/lmdb_addon.ts";
import { privateDir, privateFile } from "../private_files.ts";
import { type BatchFollower, Commits, commitFailure, type Tables } from "./commits.ts";
import { DecodedCache } from "./decoded_cache.ts";
import type { JournalWriter, OutboxEntry, QueueEntry, SeenEntry } from "./entries.ts";
import { ExpiryIndex } from "./expiry_index.ts";
import { checkJournalFiles } from "./precheck.ts";
import { QueueIndex } from "./queue_index.ts";
import { type JournalRecord, upgradeRecord } from "./record_shape.ts";
import { upgradeJournal } from "./upgrade.ts";

// The entries' types live in `entries.ts`; every importer of the journal may take them from here.
export { type BatchFollower, DEFER_MS } from "./commits.ts";
export type { JournalWriter, OutboxEntry, QueueEntry, SeenEntry } from "./entries.ts";

/** Makes the journal's files that exist mode 0600 (refused when another user owns them). */
function privateJournalFiles(path: string): void {
  for (const name of ["data.mdb", "lock.mdb"]) {
    const file = join(path, name);
    if (existsSync(file)) privateFile(file, `journal file`);
  }
}

export class Journal {
  readonly bootId: string = randomUUID();
  readonly path: string;
  readonly #tables: Tables;
  readonly #commits: Commits;

  private constructor(path: string) {
    this.path = path;
    // New journal files are the agent's alone (SPEC 9a): lmdb's native `permissionsMode`, not in its types.
    const privateMode = { permissionsMode: 0o600 };
    const root = open({
      path,
      overlappingSync: false,
      maxDbs: 8,
      mapSize: 1024 * 1024 * 1024,
      ...privateMode,
    });
    try {
      this.#tables = Journal.#openTables(root);
      this.#commits = new Commits(this.#tables, path);
      upgradeJournal(this.#tables);
      this.#tables.queueIndex.load(this.pending());
    } catch (error) {
      // A journal that cannot be opened or upgraded (a newer schema, a damaged table) leaves no environment open:
      // lmdb keeps one per path and process, and a later open in this process (a command's retry, a test) would get
      // this one back.
      void root.close();
      throw error;
    }
  }

  /** Opens every table of `root` in one write transaction. */
  static #openTables(root: RootDatabase): Tables {
    // One write transaction for all of them: lmdb opens (and in a new journal, creates) each database in a
    // synchronous commit of its own otherwise — 7 fdatasyncs of a first start instead of 1 (issue 11, launch).
    return root.transactionSync(() => {
      const records = root.openDB<JournalRecord, string>({ name: "records" });
      const queue = root.openDB<QueueEntry, number>({ name: "queue" });
      const outbox = root.openDB<OutboxEntry, number>({ name: "outbox" });
      const meta = root.openDB<number | string, string>({ name: "meta" });
      const seen = root.openDB<SeenEntry, string>({ name: "seen" });
      const deliveries = root.openDB<number, string>({ name: "deliveries" });
      const decoded = {
        records: new DecodedCache(records),
        queue: new DecodedCache(queue),
        seen: new DecodedCache(seen),
      };
      const expiry = new ExpiryIndex(root, { records, seen, meta }, decoded);
      // Loaded once the journal is upgraded (the constructor), from the queue as it is then.
      const queueIndex = new QueueIndex();
      return { root, records, queue, outbox, meta, seen, deliveries, expiry, decoded, queueIndex };
    });
  }

  /** What expires when (`expiry_index.ts`): retention's reads and, inside a commit, its repairs. */
  get expiry(): ExpiryIndex {
    return this.#tables.expiry;
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

  /** Key `key`'s record; its nested values are shared with other readers and frozen (`decoded_cache.ts`). */
  record(key: string): JournalRecord | undefined {
    const stored = this.#tables.decoded.records.get(key);
    return stored === undefined ? undefined : upgradeRecord(stored);
  }

  *records(): Iterable<JournalRecord> {
    for (const { value } of this.#tables.records.getRange()) yield upgradeRecord(value);
  }

  /** The queue entry `seq`, if it is still queued (frozen, shared: `decoded_cache.ts`). */
  queueEntry(seq: number): QueueEntry | undefined {
    return this.#tables.decoded.queue.get(seq);
  }

  queued(): QueueEntry[] {
    return [...this.pending()];
  }

  /** How many plans are queued (keys only: no plan is decoded). */
  queueLength(): number {
    return this.#tables.queue.getKeysCount();
  }

  /** How many replies wait for the broker's acknowledgement (keys only: no payload is decoded). */
  outboxLength(): number {
    return this.#tables.outbox.getKeysCount();
  }

  /**
   * The first queued seq of each key, in arrival order, read lazily: the only entry of its key that may start
   * (`run.ts`). From the queue index (`queue_index.ts`): no entry is read, and inside a commit the commit's own
   * writes count.
   */
  queueHeads(): Iterable<number> {
    return this.#tables.queueIndex.heads();
  }

  /** The queue in arrival order, read lazily: stop early and the rest is never decoded. */
  *pending(): Iterable<QueueEntry> {
    for (const { value } of this.#tables.queue.getRange()) yield value;
  }

  /** Replies not yet acknowledged, oldest first; from `afterSeq` on when given. */
  outbox(afterSeq = 0): OutboxEntry[] {
    return [...this.#tables.outbox.getRange({ start: afterSeq + 1 })].map(({ value }) => value);
  }

  /** The outbox entry `seq`, if it is still waiting for the broker's acknowledgement. */
  outboxEntry(seq: number): OutboxEntry | undefined {
    return this.#tables.outbox.get(seq);
  }

  /** What plan ID `planId` was decided as (frozen, shared: `decoded_cache.ts`). */
  seen(planId: string): SeenEntry | undefined {
    return this.#tables.decoded.seen.get(planId);
  }

  *seenEntries(): Iterable<{ planId: string; entry: SeenEntry }> {
    for (const { key, value } of this.#tables.seen.getRange()) yield { planId: key, entry: value };
  }

  /** How many times the payload with this hash was re-delivered without being decided. */
  deliveries(hash: string): number {
    return this.#tables.deliveries.get(hash) ?? 0;
  }

  /** Counts one more re-delivery of an undecided payload, durably; resolves with the new count. */
  async countDelivery(hash: string): Promise<number> {
    let count = 0;
    await this.commit(() => {
      count = this.deliveries(hash) + 1;
      this.#tables.deliveries.put(hash, count);
    });
    return count;
  }

  /** The identity of the VM this journal belongs to (`identity.ts`); undefined in a journal from before it. */
  instance(): string | undefined {
    const id = this.#tables.meta.get("instance");
    return typeof id === "string" ? id : undefined;
  }

  highWater(): number {
    return Number(this.#tables.meta.get("generation") ?? 0);
  }

  /**
   * Runs `write` in one transaction; resolves once it is durable, after the writes deferred before it
   * (`commits.ts`). @throws JournalUnavailable when it cannot become durable, or what `write` threw.
   */
  commit(write: (tx: JournalWriter) => void): Promise<void> {
    return this.#commits.commit(write);
  }

  /**
   * Has `follower` write at the end of every commit's transaction and hear whether it became durable
   * (`commits.ts` {@link BatchFollower}: the runner's starts ride in the commit that made them possible). One
   * follower at a time; undefined removes it.
   */
  followBatches(follower: BatchFollower | undefined): void {
    this.#commits.follow(follower);
  }

  /**
   * Queues `write` for the next commit's batch, or a commit of its own within `DEFER_MS` (`commits.ts`): for
   * writes whose loss in a crash is harmless by design (docs/reliability.md lists them). Resolves once durable.
   */
  defer(write: (tx: JournalWriter) => void): Promise<void> {
    return this.#commits.defer(write);
  }

  /**
   * Removes an acknowledged reply in the next commit's batch ({@link defer}): losing the removal (a crash, a full
   * disk) only means a re-send, and results are at-least-once (SPEC 5.2a). Resolves once the removal is durable.
   */
  removeOutboxLater(seq: number): Promise<void> {
    return this.defer(() => void this.#tables.outbox.remove(seq));
  }

  /** Removes an acknowledged reply, in a commit of its own. Losing it (a crash, a full disk) only means a re-send. */
  async removeOutbox(seq: number): Promise<boolean> {
    try {
      return await this.#tables.outbox.remove(seq);
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
      return await this.#tables.root.transaction(() => {
        if (this.#tables.outbox.get(seq) === undefined) return false;
        this.#tables.outbox.put(seq, { ...entry, seq });
        return true;
      });
    } catch (error) {
      throw await commitFailure(error, this.path);
    }
  }

  /**
   * Commits the deferred writes now, if any ({@link defer}); resolves at once when there are none. Each deferred
   * write's own promise says whether it became durable; this one never rejects.
   */
  async commitDeferred(): Promise<void> {
    if (this.#commits.deferring) await this.commit(() => {}).catch(() => {});
  }

  /**
   * Commits what is deferred (best effort: it need not be durable) and the batch of this turn's commits, then closes
   * the environment.
   */
  async close(): Promise<void> {
    await this.commitDeferred();
    this.#commits.commitPending();
    await this.#tables.root.close();
  }
}
