/**
 * Iteration for compiled loops and comprehensions without a generator per item: a Cursor is a function that
 * returns the next item, or undefined when the iterable is exhausted (no PyValue is undefined). The rules are
 * CPython 3.11's iterator objects:
 * - a list is read live by index (items appended during the loop are visited); once exhausted, it stays so;
 * - a str yields its code points; a range computes its ints;
 * - a dict (or a view of it) walks its entries in insertion order, live (after a `clear()`, from its position in
 *   the new entries, as CPython reads its new table): a next step after the dict changed
 *   size is RuntimeError "dictionary changed size during iteration" (dictiter_iternextkey's di_used check); an
 *   entry found after as many items as the dict had is "dictionary keys changed during iteration" (its di->len
 *   check: a key deleted and another added meanwhile);
 * - a set yields its items in its table's order, live from its slot position (types/set_table.ts: an item added
 *   meanwhile in a later slot is visited); a next step after it changed size is
 *   RuntimeError "Set changed size during iteration" (setiter_iternext);
 * - an iterator (a generator expression, `map`, `zip` …) is advanced.
 * access.ts `iterate` is this module's cursors as a generator, so every iteration follows these rules.
 */
import { pyFail } from "../runtime/exceptions.ts";
import {
  PyDict,
  PyIter,
  PyList,
  PyRange,
  PySet,
  PyTuple,
  type PyValue,
  PyView,
  typeName,
} from "../runtime/values.ts";

export type Cursor = () => PyValue | undefined;

type Entry = { key: PyValue; value: PyValue };

function rangeCursor(r: PyRange): Cursor {
  let left = r.length;
  let next = r.start;
  const step = r.step;
  if (left <= BigInt(Number.MAX_SAFE_INTEGER)) {
    let n = Number(left);
    return () => {
      if (n <= 0) return undefined;
      n--;
      const value = next;
      next += step;
      return value;
    };
  }
  return () => {
    if (left <= 0n) return undefined;
    left--;
    const value = next;
    next += step;
    return value;
  };
}

function listCursor(list: PyList): Cursor {
  let i = 0;
  return () => {
    if (i < 0) return undefined;
    const items = list.items;
    if (i < items.length) return items[i++];
    i = -1;
    return undefined;
  };
}

function itemsCursor(items: readonly PyValue[]): Cursor {
  let i = 0;
  return () => (i < items.length ? items[i++] : undefined);
}

function strCursor(s: string): Cursor {
  let i = 0;
  return () => {
    if (i >= s.length) return undefined;
    const code = s.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < s.length) {
      const low = s.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        i += 2;
        return s.slice(i - 2, i);
      }
    }
    return s[i++];
  };
}

function dictCursor(d: PyDict, kind: "keys" | "values" | "items"): Cursor {
  const entries = d.entries as Map<string, Entry>;
  const used = entries.size;
  let left = used;
  let it = entries.values();
  /** Entries stepped over (CPython's di_pos), and the table they were read from (its `clears`). */
  let position = 0;
  let table = d.clears;
  let done = false;
  return () => {
    if (done) return undefined;
    if (entries.size !== used) {
      done = true;
      throw pyFail("RuntimeError", "dictionary changed size during iteration");
    }
    if (d.clears !== table) {
      // Cleared and filled again to its size: CPython's iterator goes on at its position in the new table.
      table = d.clears;
      it = entries.values();
      for (let i = 0; i < position; i++) it.next();
    }
    position++;
    const next = it.next();
    if (next.done) {
      done = true;
      return undefined;
    }
    if (left === 0) {
      done = true;
      throw pyFail("RuntimeError", "dictionary keys changed during iteration");
    }
    left--;
    const e = next.value;
    return kind === "keys" ? e.key : kind === "values" ? e.value : new PyTuple([e.key, e.value]);
  };
}

function setCursor(set: PySet): Cursor {
  const used = set.entries.size;
  let position = 0;
  let done = false;
  let changed = false;
  return () => {
    // CPython makes the error sticky (si_used = -1): every later step raises it again.
    if (changed || set.entries.size !== used) {
      changed = true;
      throw pyFail("RuntimeError", "Set changed size during iteration");
    }
    if (done) return undefined;
    const next = set.entries.entryFrom(position);
    if (next === undefined) {
      done = true;
      return undefined;
    }
    position = next.at + 1;
    return next.value;
  };
}

function iteratorCursor(source: Iterator<PyValue>): Cursor {
  return () => {
    const next = source.next();
    return next.done ? undefined : next.value;
  };
}

/** A cursor over `v`, or null when `v` is not iterable (the caller words the TypeError). */
export function cursorOf(v: PyValue): Cursor | null {
  if (v instanceof PyRange) return rangeCursor(v);
  if (v instanceof PyList) return listCursor(v);
  if (v instanceof PyTuple) return itemsCursor(v.items);
  if (typeof v === "string") return strCursor(v);
  if (v instanceof PyIter) return iteratorCursor(v.source);
  if (v instanceof PyDict) return dictCursor(v, "keys");
  if (v instanceof PyView) return dictCursor(v.dict, v.kind);
  if (v instanceof PySet) return setCursor(v);
  return null;
}

/** A cursor over `v`; TypeError "'int' object is not iterable" (CPython's `iter()`) when it is not iterable. */
export function iterCursor(v: PyValue): Cursor {
  const cursor = cursorOf(v);
  if (cursor === null) throw pyFail("TypeError", `'${typeName(v)}' object is not iterable`);
  return cursor;
}
