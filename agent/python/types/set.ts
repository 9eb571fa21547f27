/**
 * The methods of set (registry.ts SET), following CPython 3.11's Objects/setobject.c step by step: which
 * operand is iterated, whether a result starts as a copy (set_merge) or empty, the shortcuts taken by size
 * (`set_difference` copies when the set is over 4 times the other's size, `difference_update` intersects
 * first when the other is over 8 times larger) and the resize after removals. These decide the result's
 * slot layout, hence its iteration order (types/set_table.ts). KeyError for `remove` and `pop`.
 */
import { iterate } from "../runtime/access.ts";
import { pyFail } from "../runtime/exceptions.ts";
import { hashKey, PyDict, PySet, type PyValue } from "../runtime/values.ts";
import { pyRepr } from "../text/repr.ts";
import type { Arg, MethodTable } from "./args.ts";
import type { SET } from "./registry.ts";

/**
 * CPython's set_update_internal: a set is merged, an exact dict's keys added after one resize, anything else
 * (murano's Bunch is a dict subclass) item by item.
 */
export function updateSet(s: PySet, v: PyValue): void {
  if (v instanceof PySet) s.entries.merge(v.entries);
  else if (v instanceof PyDict && !v.bunch) {
    s.entries.reserve(v.entries.size);
    for (const e of [...v.entries.values()]) s.add(e.key);
  } else for (const item of iterate(v)) s.add(item);
}

/** `set(v)`: a new set of the items of `v`. */
export function toSet(v: PyValue): PySet {
  const out = new PySet();
  updateSet(out, v);
  return out;
}

const copy = (s: PySet): PySet => toSet(s);

/** set_intersection: CPython iterates the smaller set (or the non-set operand) and adds what the other has. */
export function intersect(s: PySet, other: PyValue): PySet {
  if (other === s) return copy(s);
  const out = new PySet();
  if (other instanceof PySet) {
    const [big, small] = other.entries.size > s.entries.size ? [other, s] : [s, other];
    for (const item of [...small.entries.values()]) if (big.has(item)) out.add(item);
    return out;
  }
  for (const item of iterate(other)) if (s.has(item)) out.add(item);
  return out;
}

/** set_difference_update_internal: removes the items of `other` from `s`. */
export function differenceUpdate(s: PySet, other: PyValue): void {
  if (other === s) {
    s.entries.clear();
    return;
  }
  if (other instanceof PySet) {
    const from = other.entries.size >> 3 > s.entries.size ? intersect(s, other) : other;
    for (const item of [...from.entries.values()]) s.delete(item);
  } else for (const item of [...iterate(other)]) s.delete(item);
  s.entries.compact();
}

/** set_difference: `s - other`. */
export function difference(s: PySet, other: PyValue): PySet {
  const size = other instanceof PySet || other instanceof PyDict ? other.entries.size : -1;
  if (size < 0 || s.entries.size >> 2 > size) {
    const out = copy(s);
    differenceUpdate(out, other);
    return out;
  }
  const out = new PySet();
  const key = (item: PyValue): string => hashKey(item);
  for (const item of [...s.entries.values()])
    if (!(other as PySet | PyDict).entries.has(key(item))) out.add(item);
  return out;
}

/** set_symmetric_difference_update: each item of `other` (as a set) removed from `s` if there, else added. */
export function symmetricUpdate(s: PySet, other: PyValue): void {
  if (other === s) {
    s.entries.clear();
    return;
  }
  const items =
    other instanceof PyDict
      ? [...iterate(other)]
      : [...(other instanceof PySet ? other : toSet(other)).entries.values()];
  for (const item of items) if (!s.delete(item)) s.add(item);
}

function intersection(s: PySet, a: readonly Arg[]): PySet {
  if (a.length === 0) return copy(s);
  return a.reduce<PySet>((acc, other) => intersect(acc, other ?? null), s);
}

export const SET_METHODS: MethodTable<PySet, typeof SET> = {
  add: (s, a) => {
    s.add(a[0] ?? null);
    return null;
  },
  clear: (s) => {
    s.entries.clear();
    return null;
  },
  copy,
  difference: (s, a) => {
    if (a.length === 0) return copy(s);
    const out = difference(s, a[0] ?? null);
    for (const other of a.slice(1)) differenceUpdate(out, other ?? null);
    return out;
  },
  difference_update: (s, a) => {
    for (const other of a) differenceUpdate(s, other ?? null);
    return null;
  },
  discard: (s, a) => {
    // A set argument is looked up as a frozenset, which no set of a Body holds.
    if (!(a[0] instanceof PySet)) s.delete(a[0] ?? null);
    return null;
  },
  intersection,
  intersection_update: (s, a) => {
    s.entries.assign(intersection(s, a).entries);
    return null;
  },
  isdisjoint: (s, a) => {
    for (const item of iterate(a[0] ?? null)) if (s.has(item)) return false;
    return true;
  },
  issubset: (s, a) => {
    const other = a[0] instanceof PySet ? a[0] : toSet(a[0] ?? null);
    return [...s.entries.values()].every((item) => other.has(item));
  },
  issuperset: (s, a) => {
    for (const item of iterate(a[0] ?? null)) if (!s.has(item)) return false;
    return true;
  },
  pop: (s) => {
    const entry = s.entries.pop();
    if (entry === undefined) throw pyFail("KeyError", "'pop from an empty set'");
    return entry[1];
  },
  remove: (s, a) => {
    if (a[0] instanceof PySet || !s.delete(a[0] ?? null)) throw pyFail("KeyError", pyRepr(a[0] ?? null));
    return null;
  },
  symmetric_difference: (s, a) => {
    const out = toSet(a[0] ?? null);
    symmetricUpdate(out, s);
    return out;
  },
  symmetric_difference_update: (s, a) => {
    symmetricUpdate(s, a[0] ?? null);
    return null;
  },
  union: (s, a) => {
    const out = copy(s);
    for (const other of a) updateSet(out, other ?? null);
    return out;
  },
  update: (s, a) => {
    for (const other of a) updateSet(s, other ?? null);
    return null;
  },
};
