/**
 * Retention: records in a terminal state are removed `retentionDays` after their last change, except
 * `run-once-ever` records (kept until an operator forgets them); remembered plan IDs likewise.
 */
import type { Journal } from "./journal.ts";

const TERMINAL = new Set(["succeeded", "failed", "interrupted"]);

/** Removes what has expired; resolves with the number of records removed. */
export async function prune(
  journal: Journal,
  options: { retentionDays: number; now?: Date },
): Promise<number> {
  const cutoff = (options.now ?? new Date()).getTime() - options.retentionDays * 86_400_000;
  const queuedKeys = new Set(journal.queued().map((e) => e.key));
  const records = [...journal.records()].filter(
    (r) =>
      TERMINAL.has(r.state) &&
      r.policy !== "run-once-ever" &&
      !queuedKeys.has(r.key) &&
      Date.parse(r.updatedAt) < cutoff,
  );
  const seen = [...journal.seenEntries()].filter(({ entry }) => Date.parse(entry.time) < cutoff);
  if (records.length === 0 && seen.length === 0) return 0;
  await journal.commit((tx) => {
    for (const record of records) tx.removeRecord(record.key);
    for (const { planId } of seen) tx.forgetSeen(planId);
  });
  return records.length;
}
