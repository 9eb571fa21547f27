/**
 * Decoded values of one LMDB database, reused while the bytes stored under their key are the same.
 *
 * A plan reads its record about nine times (intake, the runner's checks, the expiry index before each write) and
 * its queue entry twice; decoding them again each time was 10% of the agent's CPU per plan (issue 11, a CPU
 * profile of 600 plans). A read here still asks LMDB for the stored bytes — in the caller's transaction or the
 * current read snapshot, exactly as `Database.get` does — and decodes only when they differ from the bytes of the
 * cached value: no invalidation rule to keep, a write (committed, aborted or in the current transaction) changes
 * the bytes, and what a read returns is what `get` would decode — or, after {@link DecodedCache.remember}, the
 * writer's own object, the same for the plain data the journal holds.
 *
 * A write tells the cache what it put ({@link DecodedCache.remember}): the read after a commit is then a hit too.
 * The values are shared between readers, so they are deep-frozen: a caller that changes one throws a TypeError
 * (strict mode) instead of corrupting the next reader's copy. Bounded: at most {@link MAX_BYTES} of stored bytes
 * per database, least recently used first out; a value larger than {@link MAX_VALUE_BYTES} is never kept.
 */
import type { Database, Key } from "lmdb";

/** What a cached read offers: `Database.get`'s shape. */
export interface DecodedReads<K extends Key, V> {
  get(key: K): V | undefined;
}

/** Stored bytes kept per database, at most: a plan's working set is a few KB; this holds hundreds of them. */
const MAX_BYTES = 512 * 1024;
/** A value stored in more bytes than this is decoded on every read, never kept. */
const MAX_VALUE_BYTES = 64 * 1024;

interface Cached<V> {
  bytes: Uint8Array;
  value: V;
}

export class DecodedCache<K extends Key, V> implements DecodedReads<K, V> {
  readonly #db: Database<V, K>;
  /** Insertion order is recency: a hit moves its entry to the end. */
  readonly #entries = new Map<K, Cached<V>>();
  #bytes = 0;

  constructor(db: Database<V, K>) {
    this.#db = db;
  }

  /** The value stored under `key` (in the caller's write transaction, if any), deep-frozen; undefined if none. */
  get(key: K): V | undefined {
    // A copy (getBinaryFast's buffer is LMDB's shared one, its length patched, and overwritten by the next read).
    const stored = this.#db.getBinary(key);
    const cached = this.#entries.get(key);
    if (stored === undefined) {
      if (cached) this.#drop(key, cached);
      return undefined;
    }
    if (cached !== undefined && Buffer.compare(cached.bytes, stored) === 0) {
      this.#entries.delete(key);
      this.#entries.set(key, cached);
      return cached.value;
    }
    if (cached) this.#drop(key, cached);
    const value = this.#db.get(key);
    if (value !== undefined) this.#keep(key, stored, value);
    return value;
  }

  /**
   * Inside the write transaction that just put `value` under `key`: keeps it as the decoded form of the bytes now
   * stored, so that the reads after the commit need not decode what was just encoded. `value` is deep-frozen: the
   * writer must not change it afterwards. Should the transaction not commit, the stored bytes tell (see above).
   */
  remember(key: K, value: V): void {
    const cached = this.#entries.get(key);
    if (cached) this.#drop(key, cached);
    const stored = this.#db.getBinary(key);
    if (stored !== undefined) this.#keep(key, stored, value);
  }

  /** Forgets every value (after a failed commit, so that nothing decoded under it outlives it). */
  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }

  #keep(key: K, bytes: Uint8Array, value: V): void {
    deepFreeze(value);
    if (bytes.length > MAX_VALUE_BYTES) return;
    this.#entries.set(key, { bytes, value });
    this.#bytes += bytes.length;
    for (const [oldest, entry] of this.#entries) {
      if (this.#bytes <= MAX_BYTES) break;
      this.#drop(oldest, entry);
    }
  }

  #drop(key: K, cached: Cached<V>): void {
    this.#entries.delete(key);
    this.#bytes -= cached.bytes.length;
  }
}

/** Freezes `value` and every object and array in it (typed arrays and Buffers are left as they are). */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== "object" || value === null || Object.isFrozen(value) || ArrayBuffer.isView(value))
    return value;
  Object.freeze(value);
  for (const inner of Object.values(value)) deepFreeze(inner);
  return value;
}
