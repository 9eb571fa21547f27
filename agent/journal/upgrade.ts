/**
 * The journal's layout versions (meta "schema") and the upgrade of an older journal at open. Every step is
 * bounded in memory, however many records the journal holds (issue 11: a million records must not be read at
 * once):
 *
 * - 1 → 2: every record gets its revision and the sequence numbers of its queued plans (the key → queue index).
 *   Records are rewritten {@link UPGRADE_BATCH} per transaction; the queue (plans not yet finished, not every
 *   record) is read whole to build the index. Repeating it after a crash gives the same records, so the schema
 *   is raised only once every batch is written.
 * - 2 → 3: the expiry index (`expiry_index.ts`). Only marked here (one small transaction): retention builds it
 *   in bounded batches, so opening an old journal of any size stays fast.
 */
import type { Database, RootDatabase } from "lmdb";
import type { ExpiryIndex } from "./expiry_index.ts";
import { type JournalRecord, upgradeRecord } from "./record_shape.ts";

/** Version of the journal's layout: 2 added record revisions and the key → queue index, 3 the expiry index. */
export const SCHEMA = 3;

/** Records rewritten per transaction by the 1 → 2 upgrade. */
const UPGRADE_BATCH = 1000;

/** What the upgrade reads of a queue entry (the journal's `QueueEntry`). */
interface QueueEntry {
  seq: number;
  key: string;
}

export interface JournalDbs {
  root: RootDatabase;
  records: Database<JournalRecord, string>;
  queue: Database<QueueEntry, number>;
  meta: Database<number | string, string>;
  expiry: ExpiryIndex;
}

/** The journal's schema as stored; a journal that has none is from schema 1 (or new and empty). */
export function storedSchema(meta: Database<number | string, string>): number {
  return Number(meta.get("schema") ?? 1);
}

/** Brings the journal to {@link SCHEMA}; nothing when it is there already. Synchronous (runs at open). */
export function upgradeJournal(dbs: JournalDbs): void {
  const from = storedSchema(dbs.meta);
  if (from >= SCHEMA) return;
  if (from < 2) addRevisionsAndQueueIndex(dbs);
  dbs.root.transactionSync(() => {
    dbs.expiry.startCatchUp();
    void dbs.meta.put("schema", SCHEMA);
  });
}

function addRevisionsAndQueueIndex(dbs: JournalDbs): void {
  const queued = new Map<string, number[]>();
  for (const { value } of dbs.queue.getRange()) {
    queued.set(value.key, [...(queued.get(value.key) ?? []), value.seq]);
  }
  let after: string | undefined;
  for (;;) {
    const start: string | undefined = after;
    const batch: JournalRecord[] = [];
    for (const { key, value } of dbs.records.getRange({
      ...(start === undefined ? {} : { start }),
      limit: UPGRADE_BATCH + 1,
    })) {
      if (key === start) continue;
      batch.push(value);
      if (batch.length >= UPGRADE_BATCH) break;
    }
    if (batch.length === 0) return;
    dbs.root.transactionSync(() => {
      for (const value of batch) {
        void dbs.records.put(value.key, { ...upgradeRecord(value), queued: queued.get(value.key) ?? [] });
      }
    });
    after = batch[batch.length - 1]?.key;
  }
}
