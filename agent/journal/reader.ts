/**
 * Read-only access to a journal that an agent may be writing at the same time (`idem inspect`, SPEC 10: "works
 * while the agent runs").
 *
 * It never takes the data dir's ownership (`owner.ts`) and never writes: the LMDB environment is opened with
 * `readOnly: true` (MDB_RDONLY), as one more LMDB reader. LMDB's MVCC gives every read transaction a consistent
 * snapshot while the agent commits; the reader only registers itself in the lock file's reader table, which LMDB
 * readers always do. The open matches the agent's (`journal.ts`): a folder (not `noSubdir`), the same `maxDbs`
 * and `mapSize`, lmdb-js's default msgpack encoding, no compression or encryption. Nothing is created: a missing
 * data dir or journal is an IdemError(2) naming `--data-dir`, and a database the journal does not have (an older
 * layout) reads as empty.
 *
 * Listings are iterators over LMDB cursors: a caller that prints as it reads never holds the whole journal.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type Database, open, type RootDatabase } from "lmdb";
import { describe, ErrorCode, IdemError } from "../errors.ts";
import { prepareNativeAddon } from "../native/lmdb_addon.ts";
import type { OutboxEntry, QueueEntry, SeenEntry } from "./journal.ts";
import { checkJournalFiles } from "./precheck.ts";
import { type JournalRecord, upgradeRecord } from "./record_shape.ts";
import { journalUnfinished } from "./take.ts";

/** The agent's own open settings (`journal.ts`): a reader must map the environment the same way. */
const MAX_DBS = 8;
const MAP_SIZE = 1024 * 1024 * 1024;

export class JournalReader {
  readonly path: string;
  readonly #root: RootDatabase;
  readonly #records: Database<JournalRecord, string> | undefined;
  readonly #queue: Database<QueueEntry, number> | undefined;
  readonly #outbox: Database<OutboxEntry, number> | undefined;
  readonly #seen: Database<SeenEntry, string> | undefined;
  readonly #meta: Database<number | string, string> | undefined;

  private constructor(path: string) {
    this.path = path;
    this.#root = open({ path, readOnly: true, maxDbs: MAX_DBS, mapSize: MAP_SIZE });
    this.#records = this.#db("records");
    this.#queue = this.#db("queue");
    this.#outbox = this.#db("outbox");
    this.#seen = this.#db("seen");
    this.#meta = this.#db("meta");
  }

  /** A named database, or undefined when this journal has none of that name (lmdb-js: "Database not found"). */
  #db<V, K extends string | number>(name: string): Database<V, K> | undefined {
    try {
      return this.#root.openDB<V, K>({ name });
    } catch (error) {
      if (/not found/i.test(describe(error))) return undefined;
      throw error;
    }
  }

  /**
   * Opens `<dataDir>/journal` for reading. Throws IdemError(2) when the data dir or its journal does not exist
   * (or its making did not finish), when its files are damaged ({@link checkJournalFiles}), or when LMDB cannot
   * open it (for instance its lock file is not writable by this user: run as the agent's user).
   */
  static open(dataDir: string): JournalReader {
    const path = join(dataDir, "journal");
    if (!existsSync(dataDir)) {
      throw new IdemError(
        ErrorCode.InvalidPlan,
        `Cannot find data dir ${dataDir}: give the agent's data dir with --data-dir (or IDEM_DATA_DIR)`,
      );
    }
    if (!existsSync(join(path, "data.mdb")) || journalUnfinished(dataDir)) {
      throw new IdemError(
        ErrorCode.InvalidPlan,
        `Cannot find a journal in ${path}: is --data-dir the agent's data dir? (the agent makes it at its first start)`,
      );
    }
    checkJournalFiles(path);
    // In the single executable the LMDB addon comes from the cache folder the agent already filled.
    prepareNativeAddon({ cacheDir: join(dataDir, "cache") });
    try {
      return new JournalReader(path);
    } catch (cause) {
      throw new IdemError(
        ErrorCode.InvalidPlan,
        `Cannot read the journal in ${path}: ${describe(cause)}. Run as the agent's user, and check --data-dir`,
        { cause },
      );
    }
  }

  /** The generation high-water mark (SPEC 5.3). */
  highWater(): number {
    return Number(this.#meta?.get("generation") ?? 0);
  }

  record(key: string): JournalRecord | undefined {
    const stored = this.#records?.get(key);
    return stored === undefined ? undefined : upgradeRecord(stored);
  }

  /** Every record, in key order, read lazily. */
  *records(): Iterable<JournalRecord> {
    if (!this.#records) return;
    for (const { value } of this.#records.getRange()) yield upgradeRecord(value);
  }

  /** The run queue in arrival order (running plans included: they leave it when they end), read lazily. */
  *queue(): Iterable<QueueEntry> {
    if (!this.#queue) return;
    for (const { value } of this.#queue.getRange()) yield value;
  }

  /** Replies not yet acknowledged by the broker, oldest first, read lazily. */
  *outbox(): Iterable<OutboxEntry> {
    if (!this.#outbox) return;
    for (const { value } of this.#outbox.getRange()) yield value;
  }

  seen(planId: string): SeenEntry | undefined {
    return this.#seen?.get(planId);
  }

  async close(): Promise<void> {
    await this.#root.close();
  }
}
