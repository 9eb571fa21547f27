/**
 * Retention (SPEC 5.1): records in a terminal state are removed `retentionDays` after their last change, except
 * `run-once-ever` records (kept until an operator forgets them); remembered plan IDs likewise.
 *
 * A pass reads only what has expired, through the expiry index (`expiry_index.ts`), in batches of `batchSize`
 * entries: each batch is one synchronous read of at most `batchSize` keys and records, and one commit that
 * removes them; between batches the event loop is free (a `setImmediate` turn), so plans keep being decided
 * while a large pass runs. Memory is one batch, whatever the journal holds. A record is removed only if it did
 * not change since its batch was read (same `revision`) and still expires (checked again inside the commit).
 * A journal upgraded from schema 2 has its index completed first, in batches of the same size.
 *
 * Measured (bench/journal_scale.ts, docs/benchmarks.md "Journal at scale"): with a million records, 1% expired,
 * a pass reads those 10,000 (1.7 s at load 14), not a million (a streamed scan: 12.5 s); a commit callback of
 * 250 entries took at most ~20 ms at load 10, hence the defaults below.
 */
import type { Logger } from "../log.ts";
import type { ExpiryEntry } from "./expiry_index.ts";
import type { Journal, JournalWriter } from "./journal.ts";
import { expired } from "./record_shape.ts";

/** Entries read (and at most removed) per transaction, by default. */
export const RETENTION_BATCH = 250;
/**
 * Work per commit callback, ms, by default: a batch stops removing once it has spent this long, so that no
 * stretch of the event loop exceeds a few tens of ms on a slow or busy machine (issue 11: ≤ 50 ms).
 */
export const RETENTION_BUDGET_MS = 15;

export interface PruneOptions {
  /** Records and plan IDs unchanged for this many days go (0: every terminal one). */
  retentionDays: number;
  /** The clock; default now. */
  now?: Date;
  /** Entries per batch (per read and per commit). Default {@link RETENTION_BATCH}. */
  batchSize?: number;
  /** Work per commit, ms: the batch's removals stop there, the next batch goes on. Default {@link RETENTION_BUDGET_MS}. */
  budgetMs?: number;
  /** Stops the pass between two batches (what was committed stays); the pass then resolves. */
  signal?: AbortSignal;
}

/** What one pass removed. */
export interface Pruned {
  records: number;
  seen: number;
  /** Batches committed (catch-up of an upgraded journal's index included). */
  batches: number;
}

/**
 * Removes what has expired, batch by batch; resolves with the number of records removed (see
 * {@link pruneDetailed} for the rest). Rejects with what the journal's commit rejects with
 * (`JournalUnavailable`); what earlier batches removed stays removed.
 */
export async function prune(journal: Journal, options: PruneOptions): Promise<number> {
  return (await pruneDetailed(journal, options)).records;
}

export async function pruneDetailed(journal: Journal, options: PruneOptions): Promise<Pruned> {
  const batchSize = options.batchSize ?? RETENTION_BATCH;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`Cannot prune the journal with batch size ${batchSize}: give a positive integer`);
  }
  const budgetMs = options.budgetMs ?? RETENTION_BUDGET_MS;
  const cutoff = (options.now ?? new Date()).getTime() - options.retentionDays * 86_400_000;
  const pruned: Pruned = { records: 0, seen: 0, batches: 0 };

  // An upgraded journal: index what was written before the upgrade (bounded batches, like the rest).
  while (!journal.expiry.complete && !options.signal?.aborted) {
    await journal.commit(() => void journal.expiry.catchUp(batchSize));
    pruned.batches++;
    await nextTurn();
  }

  let after: ExpiryEntry | undefined;
  while (!options.signal?.aborted) {
    const due = journal.expiry.due(cutoff, { limit: batchSize, ...(after ? { after } : {}) });
    if (due.length === 0) return pruned;
    // Read now, checked again in the commit: what changed meanwhile (a plan of the key arrived) stays.
    const revisions = due.map((entry) => (entry.kind === 0 ? journal.record(entry.id)?.revision : undefined));
    let done = { records: 0, seen: 0, entries: 0 };
    await journal.commit((tx) => {
      done = removeDue(journal, tx, { due, revisions, cutoff, budgetMs });
    });
    after = due[done.entries - 1];
    pruned.records += done.records;
    pruned.seen += done.seen;
    pruned.batches++;
    await nextTurn();
  }
  return pruned;
}

/**
 * Inside the batch's commit: removes what is still expired, in order, until `budgetMs` of work is spent (at
 * least one entry, so a pass always advances). Returns how many entries were looked at and what went.
 */
function removeDue(
  journal: Journal,
  tx: JournalWriter,
  batch: { due: ExpiryEntry[]; revisions: (number | undefined)[]; cutoff: number; budgetMs: number },
): { records: number; seen: number; entries: number } {
  const { due, revisions, cutoff, budgetMs } = batch;
  const started = performance.now();
  const done = { records: 0, seen: 0, entries: 0 };
  for (const [i, entry] of due.entries()) {
    if (i > 0 && performance.now() - started > budgetMs) break;
    done.entries++;
    if (entry.kind === 0) {
      const current = journal.record(entry.id);
      if (current && current.revision === revisions[i] && expired(current, cutoff)) {
        tx.removeRecord(entry.id);
        done.records++;
        continue;
      }
    } else {
      const remembered = journal.seen(entry.id);
      if (remembered && Date.parse(remembered.time) < cutoff) {
        tx.forgetSeen(entry.id);
        done.seen++;
        continue;
      }
    }
    // Not removed: drop the entry if the index no longer agrees with what it names.
    journal.expiry.repair(entry);
  }
  return done;
}

/** Lets every callback already waiting run (timers, I/O) before the next batch. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A retention pass now and then every `everyMs`, one at a time, until stopped. */
export interface RetentionSchedule {
  /** Stops the schedule; resolves once a running pass has stopped (between two batches). */
  stop(): Promise<void>;
}

/**
 * Runs {@link pruneDetailed} at once (without delaying the caller: start-up does not wait for it) and every
 * `everyMs` (default one hour); logs `event=pruned` when something went, `prune-failed` when a pass failed.
 * The timer is not unref'd: it also keeps the agent alive while no socket is open.
 */
export function scheduleRetention(
  journal: Journal,
  options: { retentionDays: number; log: Logger; everyMs?: number; batchSize?: number },
): RetentionSchedule {
  const abort = new AbortController();
  let running: Promise<void> | undefined;
  const pass = () => {
    if (running || abort.signal.aborted) return;
    const { retentionDays, batchSize } = options;
    running = pruneDetailed(journal, {
      retentionDays,
      signal: abort.signal,
      ...(batchSize === undefined ? {} : { batchSize }),
    })
      .then(
        (done) => {
          if (done.records + done.seen > 0)
            options.log.info("pruned", { records: done.records, seen: done.seen, batches: done.batches });
        },
        (error: unknown) => options.log.warn("prune-failed", { message: String(error) }),
      )
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(pass, options.everyMs ?? 3600_000);
  setImmediate(pass);
  return {
    async stop() {
      clearInterval(timer);
      abort.abort();
      await running;
    },
  };
}
