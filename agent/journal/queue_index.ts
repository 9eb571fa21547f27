/**
 * The run queue by key, in memory: which key each queued seq belongs to, and each key's seqs in arrival order, so
 * that the runner looks at one entry per key — its head, the only one of the key that may start — instead of
 * reading every queued entry at every commit. Reading them all made a backlog of one key quadratic: 1,500 plans of
 * one key cost 164 ms of CPU per plan at the backlog's start against 5 ms (issue 11, docs/benchmarks.md "Session
 * 14"), and more with `concurrency` above 1.
 *
 * Loaded from the queue table when the journal opens; changed only by the journal's writer (`commits.ts`), in the
 * transaction that changes the table, so that a read inside that transaction (the runner's batch follower) sees
 * its writes. Each change returns its undo: a write that throws (its child transaction aborted) or a batch that
 * is not committed is undone, newest first, and the index is again what the table holds.
 */

/** Restores the index as it was before one change. */
export type Undo = () => void;

export class QueueIndex {
  /** Queued seq → its key. */
  readonly #keyOf = new Map<number, string>();
  /** Key → its queued seqs, ascending (the head first). */
  readonly #byKey = new Map<string, number[]>();
  /** Every key's head, ascending: a new key's is the highest seq yet, appended. */
  readonly #heads: number[] = [];

  /** Makes the index that of `entries` (the queue table's, in any order), whatever it held. */
  load(entries: Iterable<{ seq: number; key: string }>): void {
    this.#keyOf.clear();
    this.#byKey.clear();
    this.#heads.length = 0;
    for (const { seq, key } of entries) this.#insert(seq, key);
  }

  /** The key of queued `seq`; undefined when it is not queued. */
  keyOf(seq: number): string | undefined {
    return this.#keyOf.get(seq);
  }

  /**
   * The first queued seq of every key, ascending (arrival order), read lazily: stop early and the rest costs
   * nothing; each step finds the next head above the last one given, so changes meanwhile are taken as they are.
   */
  *heads(): Generator<number> {
    let last = Number.NEGATIVE_INFINITY;
    for (;;) {
      const at = firstAbove(this.#heads, last);
      if (at === this.#heads.length) return;
      last = this.#heads[at] as number;
      yield last;
    }
  }

  /** `seq` of `key` was queued. */
  add(seq: number, key: string): Undo {
    this.#insert(seq, key);
    return () => this.#delete(seq);
  }

  /** `seq` left the queue (nothing when it was not queued). */
  remove(seq: number): Undo {
    const key = this.#keyOf.get(seq);
    if (key === undefined) return () => {};
    this.#delete(seq);
    return () => this.#insert(seq, key);
  }

  #insert(seq: number, key: string): void {
    this.#keyOf.set(seq, key);
    const seqs = this.#byKey.get(key);
    if (seqs === undefined) {
      this.#byKey.set(key, [seq]);
      insertSorted(this.#heads, seq);
      return;
    }
    // New seqs are the highest (appended); an undone removal puts one back in its place.
    const at = firstAbove(seqs, seq);
    seqs.splice(at, 0, seq);
    if (at === 0) {
      removeSorted(this.#heads, seqs[1] as number);
      insertSorted(this.#heads, seq);
    }
  }

  #delete(seq: number): void {
    const key = this.#keyOf.get(seq);
    if (key === undefined) return;
    this.#keyOf.delete(seq);
    const seqs = this.#byKey.get(key) as number[];
    const at = seqs.indexOf(seq);
    seqs.splice(at, 1);
    if (at !== 0) return;
    removeSorted(this.#heads, seq);
    if (seqs.length === 0) this.#byKey.delete(key);
    else insertSorted(this.#heads, seqs[0] as number);
  }
}

/** The index of the first element of ascending `values` above `value` (`values.length` when none). */
function firstAbove(values: readonly number[], value: number): number {
  let low = 0;
  let high = values.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((values[middle] as number) <= value) low = middle + 1;
    else high = middle;
  }
  return low;
}

function insertSorted(values: number[], value: number): void {
  if (values.length === 0 || (values[values.length - 1] as number) < value) values.push(value);
  else values.splice(firstAbove(values, value), 0, value);
}

function removeSorted(values: number[], value: number): void {
  const at = firstAbove(values, value) - 1;
  if (at >= 0 && values[at] === value) values.splice(at, 1);
}
