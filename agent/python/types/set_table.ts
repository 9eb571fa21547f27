/**
 * The storage of a Python set: membership by key (values.ts hashKey) and CPython 3.11's iteration order.
 * A Body sees a set's order (`list({3, 1, 2})` is `[1, 2, 3]`), and CPython's order is its hash table's slot
 * order, so this table replays Objects/setobject.c (set_add_entry with LINEAR_PROBES 9 and PERTURB_SHIFT 5,
 * set_table_resize, set_insert_clean, set_merge, dummies left by removal, pop's finger) on CPython's hashes,
 * which it derives from the key: ints and bools (`n mod 2**61-1`), floats (`_Py_HashDouble`), complex numbers
 * (`complex_hash`), '' and tuples of those (a tuple's key lists its items' keys or carries its hash: runtime/tuple_key.ts).
 * Strs hash as in CPython under PYTHONHASHSEED=1 (str_hash.ts: CPython randomizes the seed per process, so
 * that is one of its possible behaviours). None's hash (a NaN's, another object's) is its address in 3.11: for
 * those a fixed stand-in (64-bit FNV-1a of the key). So every order that is the same whatever the seed and the
 * addresses (`set([1, '', 'a'])` always iterates '' then 1 first) is CPython's, and the rest is one of
 * CPython's possible orders (docs/murano.md). Keys are strings, values opaque.
 */

import { strHash } from "./str_hash.ts";

const P = (1n << 61n) - 1n;
const U64 = 1n << 64n;
const LINEAR_PROBES = 9;
const MIN_SIZE = 8;
const XXPRIME_1 = 11400714785074694791n;
const XXPRIME_2 = 14029467366897019727n;
const XXPRIME_5 = 2870177450012600261n;

/** A signed hash as CPython's Py_hash_t, mapped to size_t (uint64) as the table uses it. */
function unsigned(h: bigint): bigint {
  return h < 0n ? h + U64 : h;
}

function intHash(n: bigint): bigint {
  let r = (n < 0n ? -n : n) % P;
  if (n < 0n) r = -r;
  return r === -1n ? -2n : r;
}

function modPow(base: bigint, exp: bigint): bigint {
  let result = 1n;
  let b = base % P;
  for (let e = exp; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
  }
  return result;
}

/** `_Py_HashDouble` of a finite non-integral double: numerator times the inverse of 2**k, modulo P. */
function floatHash(x: number): bigint | undefined {
  if (Number.isNaN(x)) return undefined;
  if (!Number.isFinite(x)) return x > 0 ? 314159n : -314159n;
  let k = 0n;
  let m = Math.abs(x);
  while (!Number.isInteger(m)) {
    m *= 2;
    k++;
  }
  const r = (BigInt(m) % P) * modPow(2n, (61n - (k % 61n)) % 61n);
  const h = x < 0 ? -(r % P) : r % P;
  return h === -1n ? -2n : h;
}

/** The item keys of a tuple's inline key `t=<length>:<key><length>:<key>…` (runtime/tuple_key.ts). */
function itemKeys(key: string): string[] {
  const keys: string[] = [];
  for (let at = 2; at < key.length; ) {
    const colon = key.indexOf(":", at);
    const end = colon + 1 + Number(key.slice(at, colon));
    keys.push(key.slice(colon + 1, end));
    at = end;
  }
  return keys;
}

/** `tuplehash` (xxHash-based) of a tuple whose items have the keys `keys`; their tuples' hashes are in the keys. */
export function tupleHash(keys: readonly string[]): bigint {
  let acc = XXPRIME_5;
  for (const key of keys) {
    const lane = signedHashOf(key);
    acc = (acc + unsigned(lane) * XXPRIME_2) % U64;
    acc = ((acc << 31n) | (acc >> 33n)) % U64;
    acc = (acc * XXPRIME_1) % U64;
  }
  acc = (acc + (BigInt(keys.length) ^ (XXPRIME_5 ^ 3527539n))) % U64;
  return acc === U64 - 1n ? 1546275796n : acc >= 1n << 63n ? acc - U64 : acc;
}

/** The stand-in for a hash CPython randomizes or takes from an address: 64-bit FNV-1a of the key, signed. */
function standInHash(key: string): bigint {
  // In two 32-bit halves (exact in doubles): h * 0x100000001b3 = h * 0x1b3 + (h << 40) modulo 2**64.
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  for (let i = 0; i < key.length; i++) {
    const x = (lo ^ key.charCodeAt(i)) >>> 0;
    const low = x * 0x1b3;
    const carry = Math.floor(low / 0x100000000);
    hi = (hi * 0x1b3 + carry + ((x << 8) >>> 0)) % 0x100000000;
    lo = low % 0x100000000;
  }
  const h = (BigInt(hi) << 32n) | BigInt(lo);
  const signed = h >= 1n << 63n ? h - U64 : h;
  return signed === -1n ? -2n : signed;
}

/** `complex_hash`: hash(real) + 1000003 * hash(imag), wrapping as an unsigned 64-bit sum; -1 becomes -2. */
function complexHash(parts: string): bigint | undefined {
  const [re, im] = parts.split(",").map((p) => floatHash(Number(p)));
  if (re === undefined || im === undefined) return undefined;
  const combined = (unsigned(re) + 1000003n * unsigned(im)) % U64;
  if (combined === U64 - 1n) return -2n;
  return combined >= 1n << 63n ? combined - U64 : combined;
}

/** CPython's `hash()` of the value a hashKey stands for (a stand-in where CPython's is not reproducible). */
function signedHashOf(key: string): bigint {
  switch (key[0]) {
    case "i":
      return intHash(BigInt(key.slice(1)));
    case "f":
      return floatHash(Number(key.slice(1))) ?? standInHash(key);
    case "s":
      return strHash(key.slice(1));
    case "t":
      return key[1] === "=" ? tupleHash(itemKeys(key)) : BigInt(key.slice(1, key.indexOf("#")));
    case "c":
      return complexHash(key.slice(1)) ?? standInHash(key);
  }
  return standInHash(key);
}

/** A set's entries: Map-like (size, has, get, set, delete, clear, keys, values, iteration) in CPython's order. */
export class SetTable<V> implements Iterable<[string, V]> {
  private readonly map = new Map<string, V>();
  private slots: (string | null | undefined)[] = new Array(MIN_SIZE);
  private hashes: bigint[] = new Array(MIN_SIZE);
  private readonly slotOf = new Map<string, number>();
  private fill = 0;
  private finger = 0;

  get size(): number {
    return this.map.size;
  }
  has(key: string): boolean {
    return this.map.has(key);
  }
  get(key: string): V | undefined {
    return this.map.get(key);
  }

  set(key: string, value: V): this {
    if (this.map.has(key)) return this;
    this.map.set(key, value);
    this.addEntry(key, unsigned(signedHashOf(key)));
    return this;
  }

  delete(key: string): boolean {
    if (!this.map.delete(key)) return false;
    const at = this.slotOf.get(key);
    if (at !== undefined) {
      this.slots[at] = null;
      this.slotOf.delete(key);
    }
    return true;
  }

  clear(): void {
    this.map.clear();
    this.reset(MIN_SIZE);
  }

  /** `set.pop()`: the first entry from the finger on, as CPython takes it; undefined when empty. */
  pop(): [string, V] | undefined {
    if (this.map.size === 0) return undefined;
    const n = this.slots.length;
    let i = this.finger % n;
    while (typeof this.slots[i] !== "string") i = (i + 1) % n;
    const key = this.slots[i] as string;
    this.finger = i + 1;
    const value = this.map.get(key) as V;
    this.delete(key);
    return [key, value];
  }

  /** Room for `count` more entries at once, as set.update makes before adding a dict's keys. */
  reserve(count: number): void {
    if ((this.fill + count) * 5 >= (this.slots.length - 1) * 3) this.resize((this.map.size + count) * 2);
  }

  /** Adds every entry of `other` as CPython's set_merge does (`set(s)`, `s.copy()`, `s.update(t)`). */
  merge(other: SetTable<V>): void {
    if (other === this || other.size === 0) return;
    this.reserve(other.size);
    const mask = this.slots.length - 1;
    if (this.fill === 0 && other.slots.length === this.slots.length && other.fill === other.size) {
      this.slots = [...other.slots];
      this.hashes = [...other.hashes];
      for (const [k, at] of other.slotOf) this.slotOf.set(k, at);
      for (const [k, v] of other.map) this.map.set(k, v);
      this.fill = other.fill;
      return;
    }
    const empty = this.fill === 0;
    for (let i = 0; i < other.slots.length; i++) {
      const key = other.slots[i];
      if (typeof key !== "string") continue;
      const value = other.map.get(key) as V;
      if (!empty) this.set(key, value);
      else {
        this.map.set(key, value);
        this.insertClean(key, other.hashes[i] ?? 0n, mask);
        this.fill++;
      }
    }
  }

  /** Takes over `other`'s entries and layout (CPython's set_swap_bodies, for `intersection_update`). */
  assign(other: SetTable<V>): void {
    this.map.clear();
    for (const [k, v] of other.map) this.map.set(k, v);
    this.slots = [...other.slots];
    this.hashes = [...other.hashes];
    this.slotOf.clear();
    for (const [k, at] of other.slotOf) this.slotOf.set(k, at);
    this.fill = other.fill;
  }

  /** After removals (`difference_update`): CPython resizes when more than a quarter of the slots are dummies. */
  compact(): void {
    if (this.fill - this.map.size <= Math.floor((this.slots.length - 1) / 4)) return;
    this.resize(this.map.size > 50000 ? this.map.size * 2 : this.map.size * 4);
  }

  /**
   * The first entry in slot `from` or after, and its slot: CPython's set iterator reads the live table from its
   * position (setiter_iternext), so an item added meanwhile in a later slot is visited and a removed one is not.
   */
  entryFrom(from: number): { at: number; value: V } | undefined {
    for (let at = from; at < this.slots.length; at++) {
      const key = this.slots[at];
      if (typeof key === "string") return { at, value: this.map.get(key) as V };
    }
    return undefined;
  }

  *keys(): IterableIterator<string> {
    for (const [k] of this) yield k;
  }
  *values(): IterableIterator<V> {
    for (const [, v] of this) yield v;
  }
  *entries(): IterableIterator<[string, V]> {
    yield* this;
  }
  *[Symbol.iterator](): Iterator<[string, V]> {
    for (const key of this.slots) if (typeof key === "string") yield [key, this.map.get(key) as V];
  }

  private reset(size: number): void {
    this.slots = new Array(size);
    this.hashes = new Array(size);
    this.slotOf.clear();
    this.fill = 0;
  }

  private place(key: string, hash: bigint, at: number): void {
    this.slots[at] = key;
    this.hashes[at] = hash;
    this.slotOf.set(key, at);
  }

  /**
   * set_add_entry for a key known to be absent: the LAST dummy on its probe path before an unused slot (CPython
   * overwrites `freeslot` at every dummy), else that unused slot.
   */
  private addEntry(key: string, hash: bigint): void {
    const mask = this.slots.length - 1;
    let perturb = hash;
    let i = Number(hash & BigInt(mask));
    let free = -1;
    for (;;) {
      const probes = i + LINEAR_PROBES <= mask ? LINEAR_PROBES : 0;
      for (let j = i; j <= i + probes; j++) {
        const slot = this.slots[j];
        if (slot === undefined) {
          if (free >= 0) {
            this.place(key, hash, free);
            return;
          }
          this.place(key, hash, j);
          this.fill++;
          if (this.fill * 5 >= mask * 3)
            this.resize(this.map.size > 50000 ? this.map.size * 2 : this.map.size * 4);
          return;
        }
        if (slot === null) free = j;
      }
      perturb >>= 5n;
      i = Number((BigInt(i) * 5n + 1n + perturb) & BigInt(mask));
    }
  }

  private insertClean(key: string, hash: bigint, mask: number): void {
    let perturb = hash;
    let i = Number(hash & BigInt(mask));
    for (;;) {
      const probes = i + LINEAR_PROBES <= mask ? LINEAR_PROBES : 0;
      for (let j = i; j <= i + probes; j++) {
        if (this.slots[j] === undefined) {
          this.place(key, hash, j);
          return;
        }
      }
      perturb >>= 5n;
      i = Number((BigInt(i) * 5n + 1n + perturb) & BigInt(mask));
    }
  }

  private resize(minUsed: number): void {
    let size = MIN_SIZE;
    while (size <= minUsed) size <<= 1;
    const oldSlots = this.slots;
    const oldHashes = this.hashes;
    this.reset(size);
    for (let i = 0; i < oldSlots.length; i++) {
      const key = oldSlots[i];
      if (typeof key === "string") this.insertClean(key, oldHashes[i] ?? 0n, size - 1);
    }
    this.fill = this.map.size;
  }
}
