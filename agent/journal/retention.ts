/**
 * Retention: records in a terminal state are removed `retentionDays` after their last change, except
 * `run-once-ever` records (kept until an operator forgets them); remembered plan IDs likewise.
 */
import type { Journal } from "./journal.ts";
import { expired } from "./record.ts";

/** Removes what has expired; resolves with the number of records removed. */
export async function prune(
  journal: Journal,
  options: { retentionDays: number; now?: Date },
): Promise<number> {
  const cutoff = (options.now ?? new Date()).getTime() - options.retentionDays * 86_400_000;
  const records = [...journal.records()].filter((r) => expired(r, cutoff));
  const seen = [...journal.seenEntries()].filter(({ entry }) => Date.parse(entry.time) < cutoff);
  if (records.length === 0 && seen.length === 0) return 0;
  await journal.commit((tx) => {
    for (const record of records) {
      // Removed only if it did not change since it was read (a plan of the key may have arrived).
      if (journal.record(record.key)?.revision === record.revision) tx.removeRecord(record.key);
    }
    for (const { planId } of seen) tx.forgetSeen(planId);
  });
  return records.length;
}
