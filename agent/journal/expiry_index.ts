/**
 * The journal's expiry index (`byExpiry`, schema 3): what retention may remove, ordered by when it expires, so
 * that a retention pass reads only what has expired instead of every record (SPEC 5.1 retention; issue 11: with
 * a million records a whole-journal read took 19.6 s and 3.8 GB).
 *
 * Key `[timeMs, kind, id]` (lmdb ordered-binary array: time first, so a range up to `[cutoff]` is exactly what
 * is older than the cutoff), value the id itself (keys cannot hold a NUL char; the value can). `kind` 0 is a
 * record (`id` = its key), present only while the record may expire at all ({@link recordExpiry}); kind 1 is a
 * remembered plan ID (`id` = the plan ID, time = its `time`).
 *
 * The index is maintained in the same transaction as what it indexes: the journal's writer calls
 * {@link ExpiryIndex.recordChanged} / {@link ExpiryIndex.seenChanged} before each write. A journal upgraded from
 * schema 2 has no index yet: {@link ExpiryIndex.startCatchUp} marks it, and retention completes it in bounded
 * batches ({@link ExpiryIndex.catchUp}) — start-up never reads every record.
 */
import type { Database, RootDatabase } from "lmdb";
import type { DecodedReads } from "./decoded_cache.ts";
import { expired, type JournalRecord } from "./record_shape.ts";

/** What the index reads of a remembered plan ID (the journal's `SeenEntry`). */
interface SeenEntry {
  time: string;
}

/** 0: a record, 1: a remembered plan ID. */
export type ExpiryKind = 0 | 1;

/** One index entry: what expires, and when (ms since the epoch). */
export interface ExpiryEntry {
  timeMs: number;
  kind: ExpiryKind;
  id: string;
}

type IndexKey = [number, ExpiryKind, string];

/** Meta keys of the catch-up cursors: the last key indexed so far ("" before the first); absent = complete. */
const CURSOR: Record<ExpiryKind, string> = { 0: "expiryCatchUp:records", 1: "expiryCatchUp:seen" };

/**
 * When `record` expires (ms), or undefined when retention never removes it as it is now: the rule is
 * {@link expired}'s (terminal, nothing queued, not run-once-ever), one source for both.
 */
export function recordExpiry(record: JournalRecord): number | undefined {
  return expired(record, Number.POSITIVE_INFINITY) ? Date.parse(record.updatedAt) : undefined;
}

/** When a remembered plan ID expires (ms), or undefined when its time cannot be read (then it is kept). */
export function seenExpiry(entry: SeenEntry): number | undefined {
  const time = Date.parse(entry.time);
  return Number.isNaN(time) ? undefined : time;
}

export class ExpiryIndex {
  readonly #db: Database<string, IndexKey>;
  readonly #records: Database<JournalRecord, string>;
  readonly #seen: Database<SeenEntry, string>;
  /** Single reads go through the journal's decoded values (`decoded_cache.ts`); ranges through the databases. */
  readonly #reads: { records: DecodedReads<string, JournalRecord>; seen: DecodedReads<string, SeenEntry> };
  readonly #meta: Database<number | string, string>;

  constructor(
    root: RootDatabase,
    dbs: {
      records: Database<JournalRecord, string>;
      seen: Database<SeenEntry, string>;
      meta: Database<number | string, string>;
    },
    reads: { records: DecodedReads<string, JournalRecord>; seen: DecodedReads<string, SeenEntry> } = dbs,
  ) {
    this.#db = root.openDB({ name: "byExpiry" });
    this.#records = dbs.records;
    this.#seen = dbs.seen;
    this.#reads = reads;
    this.#meta = dbs.meta;
  }

  /** Inside a write transaction, before record `key` is written as `next` (undefined: removed). */
  recordChanged(key: string, next: JournalRecord | undefined): void {
    const before = this.#reads.records.get(key);
    this.#move(0, key, before && recordExpiry(before), next && recordExpiry(next));
  }

  /** Inside a write transaction, before plan ID `planId` is remembered as `next` (undefined: forgotten). */
  seenChanged(planId: string, next: SeenEntry | undefined): void {
    const before = this.#reads.seen.get(planId);
    this.#move(1, planId, before && seenExpiry(before), next && seenExpiry(next));
  }

  /**
   * Up to `limit` entries that expired before `cutoffMs`, oldest first, starting after `after` (the last entry
   * of the previous batch, so that a pass visits each entry once). A synchronous read of at most `limit` keys.
   */
  due(cutoffMs: number, options: { limit: number; after?: ExpiryEntry }): ExpiryEntry[] {
    const { after, limit } = options;
    const start = after ? keyOf(after) : undefined;
    const entries: ExpiryEntry[] = [];
    const range = this.#db.getRange({
      ...(start ? { start } : {}),
      end: [cutoffMs],
      limit: limit + (start ? 1 : 0),
    });
    for (const { key, value } of range) {
      const entry: ExpiryEntry = { timeMs: key[0], kind: key[1], id: value };
      if (after && sameEntry(entry, after)) continue;
      if (entries.push(entry) >= limit) break;
    }
    return entries;
  }

  /** Inside a write transaction: removes `entry` when the index no longer agrees with what it names. */
  repair(entry: ExpiryEntry): void {
    const current = entry.kind === 0 ? this.#reads.records.get(entry.id) : this.#reads.seen.get(entry.id);
    const time =
      current === undefined
        ? undefined
        : entry.kind === 0
          ? recordExpiry(current as JournalRecord)
          : seenExpiry(current as SeenEntry);
    if (time === entry.timeMs) return;
    void this.#db.remove(keyOf(entry));
    if (time !== undefined) void this.#db.put([time, entry.kind, entry.id], entry.id);
  }

  /** True when every record and plan ID written before the upgrade to schema 3 is indexed. */
  get complete(): boolean {
    return this.#meta.get(CURSOR[0]) === undefined && this.#meta.get(CURSOR[1]) === undefined;
  }

  /**
   * Inside the upgrade's write transaction: what exists now is to be indexed by {@link catchUp} (nothing to do
   * in a new, empty journal).
   */
  startCatchUp(): void {
    if (!isEmpty(this.#records)) void this.#meta.put(CURSOR[0], "");
    if (!isEmpty(this.#seen)) void this.#meta.put(CURSOR[1], "");
  }

  /**
   * Inside a write transaction: indexes up to `limit` more of what {@link startCatchUp} left unindexed (records
   * first, then plan IDs); returns true once nothing is left. Reads at most `limit + 1` entries.
   */
  catchUp(limit: number): boolean {
    for (const kind of [0, 1] as const) {
      const cursor = this.#meta.get(CURSOR[kind]);
      if (typeof cursor !== "string") continue;
      const db: Database<JournalRecord | SeenEntry, string> = kind === 0 ? this.#records : this.#seen;
      let last: string | undefined;
      let count = 0;
      for (const { key, value } of db.getRange({ start: cursor, limit: limit + 1 })) {
        if (key === cursor) continue;
        const time = kind === 0 ? recordExpiry(value as JournalRecord) : seenExpiry(value as SeenEntry);
        if (time !== undefined) void this.#db.put([time, kind, key], key);
        last = key;
        if (++count >= limit) break;
      }
      if (last === undefined) void this.#meta.remove(CURSOR[kind]);
      else void this.#meta.put(CURSOR[kind], last);
      return false;
    }
    return true;
  }

  /** How many entries the index holds (keys only). */
  size(): number {
    return this.#db.getKeysCount();
  }

  #move(kind: ExpiryKind, id: string, before: number | undefined, after: number | undefined): void {
    if (before === after) return;
    if (before !== undefined) void this.#db.remove([before, kind, id]);
    if (after !== undefined) void this.#db.put([after, kind, id], id);
  }
}

function keyOf(entry: ExpiryEntry): IndexKey {
  return [entry.timeMs, entry.kind, entry.id];
}

function sameEntry(a: ExpiryEntry, b: ExpiryEntry): boolean {
  return a.timeMs === b.timeMs && a.kind === b.kind && a.id === b.id;
}

function isEmpty(db: Database<unknown, string>): boolean {
  for (const _ of db.getKeys({ limit: 1 })) return false;
  return true;
}
